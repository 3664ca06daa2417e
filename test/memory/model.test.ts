/**
 * Randomized model test: 10,000 random map/unmap/protect/remap/alias operations on a GuestMemory,
 * checked against a plain reference model (guest page number -> host page and permissions). After
 * every step, random EPT walks must agree with the model; bad operations must throw and change nothing.
 */
import { describe, expect, it } from 'vitest';
import { ACCESS_READ } from '../../src/arch/ept.js';
import { EPT_ACCESS_PROBE, EptTranslation, TRANSLATE_EPT_VIOLATION, TRANSLATE_OK, type NestedFormat } from '../../src/memory/ept.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { ConflictError, NotFoundError } from '../../src/util/errors.js';

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PAGE = 4096;
const SPACE_PAGES = 64 * 512; // 128 MiB of GPA space: many 2 MiB blocks, some 1 GiB-free
const PERMS = [1, 3, 4, 5, 7];

function runModel(format: NestedFormat, ops: number, seed: number) {
  const rand = rng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const gm = new GuestMemory({ format, adMode: 'hardware', chunkSize: 1 << 20 });
  const segs = [gm.createSegment('ram', 32 << 20), gm.createSegment('rom', 4 << 20, { kind: 'devmem' })];
  const model = new Map<number, { host: number; perms: number }>();
  const out = new EptTranslation();
  const counts = { map: 0, unmap: 0, protect: 0, remap: 0, alias: 0, rejected: 0 };
  const permsOf = (p: number) => (format === 'npt' ? p | 1 : p); // NPT: present implies readable

  const check = (gfn: number) => {
    const gpa = gfn * PAGE + int(PAGE);
    const st = gm.ept.translate(gpa, ACCESS_READ | EPT_ACCESS_PROBE, out);
    const m = model.get(gfn);
    // Plain comparisons first (expect() per walk would dominate the run time); expect on mismatch.
    let ok: boolean;
    if (m === undefined) ok = st === TRANSLATE_EPT_VIOLATION && (out.qualification & 0x38) === 0;
    else if ((permsOf(m.perms) & 1) === 0) ok = st === TRANSLATE_EPT_VIOLATION && ((out.qualification >> 3) & 7) === permsOf(m.perms);
    else ok = st === TRANSLATE_OK && out.hpa === m.host * PAGE + (gpa % PAGE) && out.perms === permsOf(m.perms);
    if (!ok) {
      expect({ gpa, st, hpa: out.hpa, perms: out.perms, qual: out.qualification }).toEqual({
        gpa,
        st: m === undefined || (permsOf(m.perms) & 1) === 0 ? TRANSLATE_EPT_VIOLATION : TRANSLATE_OK,
        hpa: m === undefined || (permsOf(m.perms) & 1) === 0 ? 0 : m.host * PAGE + (gpa % PAGE),
        perms: m === undefined ? 0 : permsOf(m.perms),
        qual: m === undefined ? 1 : (permsOf(m.perms) & 1) === 0 ? 1 | (permsOf(m.perms) << 3) : 0,
      });
    }
  };
  const randomRange = (): [number, number] => {
    const big = rand() < 0.3;
    const align = big ? 512 : 1;
    const start = int(SPACE_PAGES / align) * align;
    const len = big ? (1 + int(3)) * 512 : 1 + int(rand() < 0.5 ? 8 : 600);
    return [start, Math.min(len, SPACE_PAGES - start)];
  };
  const free = (start: number, len: number) => {
    for (let p = start; p < start + len; p++) if (model.has(p)) return false;
    return true;
  };

  for (let step = 0; step < ops; step++) {
    const kind = int(10);
    const mappings = gm.mappings;
    if (kind < 3 || mappings.length === 0) {
      // map (sometimes 2 MiB-aligned on both sides so large leaves appear)
      const [start, len] = randomRange();
      const seg = segs[int(2)]!;
      const segPages = seg.size / PAGE;
      const l = Math.min(len, segPages);
      let off = int(segPages - l + 1);
      if (start % 512 === 0 && l >= 512) off -= off % 512;
      const perms = PERMS[int(PERMS.length)]!;
      if (free(start, l)) {
        gm.map(start * PAGE, seg, off * PAGE, l * PAGE, { prot: perms });
        for (let i = 0; i < l; i++) model.set(start + i, { host: seg.hostBase / PAGE + off + i, perms });
        counts.map++;
      } else {
        const gen = gm.generation;
        expect(() => gm.map(start * PAGE, seg, off * PAGE, l * PAGE, { prot: perms })).toThrow(ConflictError);
        expect(gm.generation).toBe(gen);
        counts.rejected++;
      }
    } else if (kind < 5) {
      // unmap a random sub-range of one mapping, or a range that is not fully mapped
      const m = mappings[int(mappings.length)]!;
      const mp = m.gpa / PAGE;
      const a = mp + int(m.size / PAGE);
      const len = 1 + int(mp + m.size / PAGE - a);
      if (rand() < 0.1) {
        const [s, l] = randomRange();
        let full = true;
        for (let p = s; p < s + l; p++) if (!model.has(p)) full = false;
        if (!full) {
          expect(() => gm.unmap(s * PAGE, l * PAGE)).toThrow(NotFoundError);
          counts.rejected++;
          continue;
        }
      }
      gm.unmap(a * PAGE, len * PAGE);
      for (let p = a; p < a + len; p++) model.delete(p);
      counts.unmap++;
    } else if (kind < 7) {
      const m = mappings[int(mappings.length)]!;
      const mp = m.gpa / PAGE;
      const a = mp + int(m.size / PAGE);
      const len = 1 + int(mp + m.size / PAGE - a);
      const perms = PERMS[int(PERMS.length)]!;
      gm.protect(a * PAGE, len * PAGE, perms);
      for (let p = a; p < a + len; p++) model.get(p)!.perms = perms;
      counts.protect++;
    } else if (kind < 9) {
      // remap (move) a whole mapping
      const m = mappings[int(mappings.length)]!;
      const pages = m.size / PAGE;
      const to = int(SPACE_PAGES - pages + 1);
      const from = m.gpa / PAGE;
      let ok = true;
      for (let p = to; p < to + pages; p++) if (model.has(p) && (p < from || p >= from + pages)) ok = false;
      if (ok) {
        gm.remap(m.gpa, to * PAGE);
        const saved: { host: number; perms: number }[] = [];
        for (let i = 0; i < pages; i++) {
          saved.push(model.get(from + i)!);
          model.delete(from + i);
        }
        for (let i = 0; i < pages; i++) model.set(to + i, saved[i]!);
        counts.remap++;
      } else {
        expect(() => gm.remap(m.gpa, to * PAGE)).toThrow(ConflictError);
        counts.rejected++;
      }
    } else {
      // alias: map the host pages of an existing mapping at a second GPA range
      const m = mappings[int(mappings.length)]!;
      const pages = m.size / PAGE;
      const to = int(SPACE_PAGES - pages + 1);
      if (free(to, pages)) {
        gm.map(to * PAGE, m.segment, m.segmentOffset, m.size, { prot: 'r' });
        const host0 = (m.segment.hostBase + m.segmentOffset) / PAGE;
        for (let i = 0; i < pages; i++) model.set(to + i, { host: host0 + i, perms: 1 });
        counts.alias++;
      } else counts.rejected++;
    }
    for (let k = 0; k < 6; k++) check(int(SPACE_PAGES));
    // Also probe one page inside the model, where bugs hide.
    const ms = gm.mappings;
    if (ms.length > 0) {
      const m = ms[int(ms.length)]!;
      check(m.gpa / PAGE + int(m.size / PAGE));
    }
  }
  for (let p = 0; p < SPACE_PAGES; p += 7) check(p);
  return counts;
}

describe('randomized model test of the guest-physical space', () => {
  it('10,000 random operations on EPT agree with the reference model', () => {
    const counts = runModel('ept', 10_000, 0x5eed);
    // every operation kind was exercised
    for (const k of ['map', 'unmap', 'protect', 'remap', 'alias', 'rejected'] as const) expect(counts[k]).toBeGreaterThan(50);
  });
  it('2,000 random operations on NPT agree with the reference model', () => {
    runModel('npt', 2_000, 0xbeef);
  });
});
