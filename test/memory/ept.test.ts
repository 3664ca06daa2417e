import { describe, expect, it } from 'vitest';
import {
  ACCESS_FETCH,
  ACCESS_READ,
  ACCESS_WRITE,
  MEMTYPE_UC,
  MEMTYPE_WB,
  MEMTYPE_WC,
  MEMTYPE_WP,
  MEMTYPE_WT,
  MEMTYPE_UC_MINUS,
  combineMemoryType,
} from '../../src/arch/ept.js';
import {
  EPT_ACCESS_LINEAR,
  EPT_ACCESS_TABLE,
  Ept,
  EptTranslation,
  TRANSLATE_EPT_MISCONFIG,
  TRANSLATE_EPT_VIOLATION,
  TRANSLATE_OK,
  type EptOptions,
} from '../../src/memory/ept.js';
import { HostMemory } from '../../src/memory/host.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../src/util/errors.js';

const MiB = 1 << 20;
const GiB = 2 ** 30;
const RWX = { perms: 7, memoryType: MEMTYPE_WB, ignorePat: true };

function setup(opts: EptOptions = {}, segSize = 4 * MiB) {
  const host = new HostMemory({ chunkSize: 2 * MiB });
  const seg = host.createSegment('ram', segSize);
  const ept = new Ept(host, opts);
  return { host, seg, ept, out: new EptTranslation() };
}

describe('EPT entry format (SDM 29.3.2)', () => {
  it('a 4 KiB leaf holds R/W/X in bits 2:0, memory type in 5:3, ignore-PAT in 6 and the host frame in 51:12', () => {
    const { seg, ept } = setup({}, 8 * MiB);
    ept.map(0x5000, seg.hostBase + 0x3000, 0x1000, { perms: 5, memoryType: MEMTYPE_WT, ignorePat: true });
    const e = ept.readEntry(0x5000, 1);
    expect(e & 7n).toBe(5n); // R and X
    expect((e >> 3n) & 7n).toBe(4n); // WT
    expect((e >> 6n) & 1n).toBe(1n);
    expect((e >> 7n) & 1n).toBe(0n);
    expect(e >> 12n).toBe(BigInt((seg.hostBase + 0x3000) / 4096));
    // Non-leaf entries grant R/W/X and point at the next table.
    expect(ept.readEntry(0x5000, 4) & 7n).toBe(7n);
    expect(ept.readEntry(0x5000, 2) & 0x80n).toBe(0n);
  });

  it('aligned ranges use 2 MiB and 1 GiB leaves with bit 7 set', () => {
    const { seg, ept, out } = setup({}, 2 * GiB);
    ept.map(GiB, seg.hostBase, GiB, RWX);
    ept.map(0x200000, seg.hostBase + GiB, 0x200000, RWX);
    expect(ept.readEntry(GiB, 3) & 0x80n).toBe(0x80n);
    expect(ept.readEntry(0x200000, 2) & 0x80n).toBe(0x80n);
    expect(ept.translate(GiB + 0x12345, ACCESS_READ, out)).toBe(TRANSLATE_OK);
    expect(out.level).toBe(3);
    expect(out.pageShift).toBe(30);
    expect(out.hpa).toBe(seg.hostBase + 0x12345);
    expect(ept.translate(0x3fffff, ACCESS_READ, out)).toBe(TRANSLATE_OK);
    expect(out.level).toBe(2);
    expect(out.hpa).toBe(seg.hostBase + GiB + 0x1fffff);
  });

  it('translate returns the chunk id and offset of the host page and allocates the chunk', () => {
    const { host, seg, ept, out } = setup();
    ept.map(0, seg.hostBase, 4 * MiB, RWX);
    expect(host.allocatedBytes).toBe(0);
    expect(ept.translate(0x200123, ACCESS_WRITE, out)).toBe(TRANSLATE_OK);
    expect(out.chunk).toBe(seg.hostBase / (2 * MiB) + 1);
    expect(out.offset).toBe(0x123);
    expect(host.allocatedBytes).toBe(2 * MiB);
    host.write32(out.chunk, out.offset, 0xdeadbeef);
    expect(host.chunks[out.chunk]![0x123]).toBe(0xef);
  });
});

describe('EPT violations (SDM 28.2.1 Table 28-7)', () => {
  it('an access to a not-present GPA reports the access type with no permissions', () => {
    const { ept, out } = setup();
    expect(ept.translate(0x1234000, ACCESS_WRITE | EPT_ACCESS_LINEAR, out)).toBe(TRANSLATE_EPT_VIOLATION);
    // bit 1 write, bits 3-5 zero, bit 7 linear valid, bit 8 final translation
    expect(out.qualification).toBe(0x2 | 0x80 | 0x100);
    expect(out.gpa).toBe(0x1234000);
  });

  it('a write to a read/execute page reports bit 1 and permissions R and X in bits 3 and 5', () => {
    const { seg, ept, out } = setup();
    ept.map(0, seg.hostBase, 0x1000, { perms: 5, memoryType: MEMTYPE_WB, ignorePat: true });
    expect(ept.translate(0x10, ACCESS_WRITE, out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(out.qualification).toBe(0x2 | 0x8 | 0x20);
  });

  it('a fetch from a non-executable page reports bit 2 and R|W', () => {
    const { seg, ept, out } = setup();
    ept.map(0, seg.hostBase, 0x1000, { perms: 3, memoryType: MEMTYPE_WB, ignorePat: true });
    expect(ept.translate(0, ACCESS_FETCH | EPT_ACCESS_LINEAR, out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(out.qualification).toBe(0x4 | 0x8 | 0x10 | 0x180);
  });

  it('a guest paging-structure access is linear-valid but not final (bit 7 set, bit 8 clear)', () => {
    const { ept, out } = setup({ adMode: 'off' });
    expect(ept.translate(0x7000, ACCESS_READ | EPT_ACCESS_TABLE, out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(out.qualification).toBe(0x1 | 0x80);
  });

  it('with EPT A/D enabled, a paging-structure access is treated as a write and sets bits 0 and 1 (SDM 29.3.5)', () => {
    const { seg, ept, out } = setup({ adMode: 'hardware' });
    ept.map(0, seg.hostBase, 0x1000, { perms: 5, memoryType: MEMTYPE_WB, ignorePat: true });
    expect(ept.translate(0x0, ACCESS_READ | EPT_ACCESS_TABLE, out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(out.qualification).toBe(0x3 | 0x8 | 0x20 | 0x80);
    // the same read without A/D is allowed
    const off = setup({ adMode: 'off' });
    off.ept.map(0, off.seg.hostBase, 0x1000, { perms: 5, memoryType: MEMTYPE_WB, ignorePat: true });
    expect(off.ept.translate(0, ACCESS_READ | EPT_ACCESS_TABLE, off.out)).toBe(TRANSLATE_OK);
  });

  it('permissions are the AND over all levels', () => {
    const { seg, ept, out } = setup();
    ept.map(0, seg.hostBase, 0x1000, RWX);
    const pml4e = ept.readEntry(0, 4);
    ept.pokeEntry(0, 4, pml4e & ~2n); // clear W at the top level
    expect(ept.translate(0, ACCESS_WRITE, out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(out.qualification & 0x38).toBe(0x8 | 0x20);
  });
});

describe('EPT misconfigurations (SDM 29.3.3.1)', () => {
  function leafCase(mutate: (e: bigint) => bigint, level = 1): number {
    const { seg, ept, out } = setup({}, 4 * MiB);
    ept.map(level === 2 ? 0x200000 : 0x1000, seg.hostBase + (level === 2 ? 0x200000 : 0x1000), level === 2 ? 0x200000 : 0x1000, RWX);
    const gpa = level === 2 ? 0x200000 : 0x1000;
    ept.pokeEntry(gpa, level, mutate(ept.readEntry(gpa, level)));
    return ept.translate(gpa, ACCESS_READ, out);
  }
  it('write without read is a misconfiguration', () => {
    expect(leafCase((e) => (e & ~7n) | 2n)).toBe(TRANSLATE_EPT_MISCONFIG);
  });
  it('execute-only is allowed (we report execute-only support)', () => {
    const { seg, ept, out } = setup();
    ept.map(0, seg.hostBase, 0x1000, { perms: 4, memoryType: MEMTYPE_WB, ignorePat: true });
    expect(ept.translate(0, ACCESS_FETCH, out)).toBe(TRANSLATE_OK);
    expect(ept.translate(0, ACCESS_READ, out)).toBe(TRANSLATE_EPT_VIOLATION);
  });
  it.each([2n, 3n, 7n])('leaf memory type %s is a misconfiguration', (mt) => {
    expect(leafCase((e) => (e & ~0x38n) | (mt << 3n))).toBe(TRANSLATE_EPT_MISCONFIG);
  });
  it.each([0n, 1n, 4n, 5n, 6n])('leaf memory type %s is valid', (mt) => {
    expect(leafCase((e) => (e & ~0x38n) | (mt << 3n))).toBe(TRANSLATE_OK);
  });
  it('a host address bit above MAXPHYADDR (bit 51) is reserved', () => {
    expect(leafCase((e) => e | (1n << 51n))).toBe(TRANSLATE_EPT_MISCONFIG);
  });
  it('bits 20:12 of a 2 MiB leaf are reserved', () => {
    expect(leafCase((e) => e | (1n << 12n), 2)).toBe(TRANSLATE_EPT_MISCONFIG);
  });
  it('bit 7 of a PML4E is reserved', () => {
    const { seg, ept, out } = setup();
    ept.map(0, seg.hostBase, 0x1000, RWX);
    ept.pokeEntry(0, 4, ept.readEntry(0, 4) | 0x80n);
    expect(ept.translate(0, ACCESS_READ, out)).toBe(TRANSLATE_EPT_MISCONFIG);
  });
  it('bits 6:3 of a non-leaf PDE are reserved', () => {
    const { seg, ept, out } = setup();
    ept.map(0, seg.hostBase, 0x1000, RWX);
    ept.pokeEntry(0, 2, ept.readEntry(0, 2) | 0x30n);
    expect(ept.translate(0, ACCESS_READ, out)).toBe(TRANSLATE_EPT_MISCONFIG);
  });
  it('bit 7 of the PTE is ignored', () => {
    expect(leafCase((e) => e | 0x80n)).toBe(TRANSLATE_OK);
  });
  it('software-available bits 62:52 are ignored', () => {
    expect(leafCase((e) => e | (0x7ffn << 52n))).toBe(TRANSLATE_OK);
  });
});

describe('EPT accessed and dirty flags', () => {
  it('hardware mode sets A (bit 8) on every level used and D (bit 9) on a written leaf (SDM 29.3.5)', () => {
    const { seg, ept, out } = setup({ adMode: 'hardware' });
    ept.map(0, seg.hostBase, 0x2000, RWX);
    expect(ept.readEntry(0, 1) & 0x300n).toBe(0n);
    ept.translate(0, ACCESS_READ, out);
    for (const l of [4, 3, 2, 1]) expect(ept.readEntry(0, l) & 0x100n).toBe(0x100n);
    expect(ept.readEntry(0, 1) & 0x200n).toBe(0n);
    ept.translate(0x1000, ACCESS_WRITE, out);
    expect(ept.readEntry(0x1000, 1) & 0x300n).toBe(0x300n);
    expect(ept.readEntry(0x1000, 2) & 0x200n).toBe(0n); // dirty only on the leaf
  });

  it('off mode sets no flags', () => {
    const { seg, ept, out } = setup({ adMode: 'off' });
    ept.map(0, seg.hostBase, 0x1000, RWX);
    ept.translate(0, ACCESS_WRITE, out);
    expect(ept.readEntry(0, 1) & 0x300n).toBe(0n);
  });

  it('emulated mode (bhyve): bits 52/53 hold the allowed R/W; the first read and first write fault and are resolved', () => {
    const { seg, ept, out } = setup({ adMode: 'emulated' });
    ept.map(0, seg.hostBase, 0x1000, { perms: 3, memoryType: MEMTYPE_WB, ignorePat: true });
    const e = ept.readEntry(0, 1);
    expect(e & 7n).toBe(0n);
    expect((e >> 52n) & 3n).toBe(3n);
    expect(ept.translate(0, ACCESS_READ, out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(out.emulatedAD).toBe(1);
    expect(ept.resolveEmulatedAD(0, false)).toBe(true);
    expect(ept.translate(0, ACCESS_READ, out)).toBe(TRANSLATE_OK);
    expect(ept.readEntry(0, 1) & 3n).toBe(1n); // R now means "accessed"
    expect(ept.translate(0, ACCESS_WRITE, out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(out.emulatedAD).toBe(1);
    expect(ept.resolveEmulatedAD(0, true)).toBe(true);
    expect(ept.translate(0, ACCESS_WRITE, out)).toBe(TRANSLATE_OK);
    expect(ept.readEntry(0, 1) & 3n).toBe(3n);
    expect(ept.adFaults).toBe(2);
  });

  it('emulated mode: a write to a read-only page is a genuine violation, not resolvable', () => {
    const { seg, ept, out } = setup({ adMode: 'emulated' });
    ept.map(0, seg.hostBase, 0x1000, { perms: 1, memoryType: MEMTYPE_WB, ignorePat: true });
    expect(ept.translate(0, ACCESS_WRITE, out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(out.emulatedAD).toBe(0);
    expect(ept.resolveEmulatedAD(0, true)).toBe(false);
    expect(ept.adFaults).toBe(0);
  });

  it.each(['hardware', 'emulated'] as const)('dirty log harvest reports written pages and clears them (%s)', (adMode) => {
    const { seg, ept, out } = setup({ adMode });
    ept.map(0, seg.hostBase, 0x10000, { perms: 3, memoryType: MEMTYPE_WB, ignorePat: true });
    for (const g of [0x0000, 0x3000, 0x9000]) {
      if (ept.translate(g, ACCESS_WRITE, out) !== TRANSLATE_OK) {
        ept.resolveEmulatedAD(g, true);
        expect(ept.translate(g, ACCESS_WRITE, out)).toBe(TRANSLATE_OK);
      }
    }
    const bm = new Uint8Array(2);
    const gen = ept.generation;
    ept.harvestDirty(0, 0x10000, bm);
    expect([...bm]).toEqual([0b0000_1001, 0b0000_0010]);
    expect(ept.generation).toBeGreaterThan(gen);
    const again = new Uint8Array(2);
    ept.harvestDirty(0, 0x10000, again);
    expect([...again]).toEqual([0, 0]);
  });
});

describe('EPT tree maintenance', () => {
  it('unmap and protect split a 2 MiB leaf and bump the generation', () => {
    const { seg, ept, out } = setup();
    ept.map(0x200000, seg.hostBase, 0x200000, RWX);
    const g0 = ept.generation;
    ept.unmap(0x201000, 0x1000);
    expect(ept.generation).toBe(g0 + 1);
    expect(ept.translate(0x201000, ACCESS_READ, out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(ept.translate(0x202000, ACCESS_READ, out)).toBe(TRANSLATE_OK);
    expect(out.hpa).toBe(seg.hostBase + 0x2000);
    expect(out.level).toBe(1);
    ept.protect(0x300000, 0x1000, 1);
    expect(ept.translate(0x300000, ACCESS_WRITE, out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(ept.translate(0x301000, ACCESS_WRITE, out)).toBe(TRANSLATE_OK);
  });

  it('unmapping everything frees the tables', () => {
    const { seg, ept } = setup();
    ept.map(0x1000, seg.hostBase, 0x3000, RWX);
    expect(ept.tablePages).toBe(4);
    ept.unmap(0x1000, 0x3000);
    expect(ept.tablePages).toBe(1);
  });

  it('rejects bad input and changes nothing', () => {
    const { seg, ept } = setup();
    ept.map(0, seg.hostBase, 0x2000, RWX);
    const gen = ept.generation;
    expect(() => ept.map(0x1000, seg.hostBase, 0x2000, RWX)).toThrow(ConflictError);
    expect(() => ept.map(0x10001, seg.hostBase, 0x1000, RWX)).toThrow(InvalidArgumentError);
    expect(() => ept.map(0x10000, seg.hostBase, 0x1800, RWX)).toThrow(/multiple of 0x1000/);
    expect(() => ept.map(0x10000, seg.hostBase, 0x1000, { perms: 2, memoryType: 6, ignorePat: true })).toThrow(/write requires read/);
    expect(() => ept.map(0x10000, seg.hostBase, 0x1000, { perms: 7, memoryType: 3, ignorePat: true })).toThrow(/memory type 3/);
    expect(() => ept.unmap(0x1000, 0x2000)).toThrow(NotFoundError);
    expect(ept.isMapped(0x1000, 0x1000)).toBe(true);
    expect(ept.isMapped(0x2000, 0x1000)).toBe(false);
    expect(ept.generation).toBe(gen);
  });

  it('a 1 GiB leaf where the configuration forbids it is rejected, and a poked one is a misconfiguration', () => {
    const { seg, ept, out } = setup({ allow1GiB: false }, 2 * GiB);
    expect(() => ept.checkPageSize(GiB)).toThrow(/1 GiB/);
    ept.map(0, seg.hostBase, GiB, RWX);
    expect(ept.readEntry(0, 3) & 0x80n).toBe(0n);
    expect(ept.readEntry(0, 2) & 0x80n).toBe(0x80n);
    ept.pokeEntry(GiB, 3, BigInt(seg.hostBase) | 0x87n | (6n << 3n));
    expect(ept.translate(GiB, ACCESS_READ, out)).toBe(TRANSLATE_EPT_MISCONFIG);
  });
});

describe('NPT format through the same walker', () => {
  it('leaves are ordinary PTEs: P, RW, US, NX; A and D are set by the walk', () => {
    const { seg, ept, out } = setup({ format: 'npt' });
    ept.map(0, seg.hostBase, 0x1000, { perms: 3, memoryType: MEMTYPE_WB, ignorePat: false });
    const e = ept.readEntry(0, 1);
    expect(e & 7n).toBe(7n); // P RW US
    expect(e >> 63n).toBe(1n); // NX
    expect(ept.translate(0, ACCESS_WRITE, out)).toBe(TRANSLATE_OK);
    expect(ept.readEntry(0, 1) & 0x60n).toBe(0x60n);
    expect(ept.translate(0, ACCESS_FETCH, out)).toBe(TRANSLATE_EPT_VIOLATION);
    // #NPF EXITINFO1: P (protection), US, ID (fetch); bit 32 final translation
    expect(out.npfCodeLo).toBe(0x1 | 0x4 | 0x10);
    expect(out.npfCodeHi).toBe(1);
  });

  it('memory type comes from PCD/PWT with the reset PAT', () => {
    const { seg, ept, out } = setup({ format: 'npt' });
    ept.map(0, seg.hostBase, 0x1000, { perms: 1, memoryType: MEMTYPE_UC, ignorePat: false });
    ept.translate(0, ACCESS_READ, out);
    expect(out.memoryType).toBe(MEMTYPE_UC);
  });

  it('rejects emulated A/D for NPT', () => {
    expect(() => setup({ format: 'npt', adMode: 'emulated' })).toThrow(InvalidArgumentError);
  });
});

describe('effective memory type (SDM Vol. 3A Table 12-7, EPT type in the MTRR role)', () => {
  const table: [number, number, number][] = [
    [MEMTYPE_UC, MEMTYPE_WB, MEMTYPE_UC],
    [MEMTYPE_UC, MEMTYPE_WC, MEMTYPE_WC],
    [MEMTYPE_WC, MEMTYPE_UC_MINUS, MEMTYPE_WC],
    [MEMTYPE_WC, MEMTYPE_WT, MEMTYPE_UC],
    [MEMTYPE_WC, MEMTYPE_WB, MEMTYPE_WC],
    [MEMTYPE_WT, MEMTYPE_UC_MINUS, MEMTYPE_UC],
    [MEMTYPE_WT, MEMTYPE_WB, MEMTYPE_WT],
    [MEMTYPE_WT, MEMTYPE_WP, MEMTYPE_WP],
    [MEMTYPE_WB, MEMTYPE_UC_MINUS, MEMTYPE_UC],
    [MEMTYPE_WB, MEMTYPE_WP, MEMTYPE_WP],
    [MEMTYPE_WB, MEMTYPE_WB, MEMTYPE_WB],
    [MEMTYPE_WP, MEMTYPE_UC_MINUS, MEMTYPE_WC],
    [MEMTYPE_WP, MEMTYPE_WT, MEMTYPE_WT],
    [MEMTYPE_WP, MEMTYPE_WB, MEMTYPE_WP],
    [MEMTYPE_WP, MEMTYPE_UC, MEMTYPE_UC],
  ];
  it.each(table)('EPT type %i with PAT type %i is %i', (ept, pat, eff) => {
    expect(combineMemoryType(ept, pat)).toBe(eff);
  });
});
