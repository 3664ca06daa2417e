/**
 * REP MOVS / REP STOS done in page-sized runs (vcpu.ts bulkString) must leave exactly the state the
 * SDM's element-by-element definition gives (Vol. 2 MOVS/STOS/REP: DEST <- SRC per element, rSI/rDI
 * step by the element size, rCX counts down; a fault or the end of the budget leaves the registers
 * at the next element with RIP on the instruction). Each case runs the instruction and compares with
 * a reference model of that definition over the same memory.
 */
import { describe, expect, it } from 'vitest';
import { CODE_BASE, makeCpu } from './harness.js';
import { S_RIP } from '../../src/cpu/state.js';

const MEM = 0x400000;

interface Case { mode: 16 | 32 | 64; op: 'movs' | 'stos'; size: 1 | 2 | 4 | 8; src: number; dst: number; count: number; budget?: number; a16?: boolean }

function bytesOf(c: Case): number[] {
  const w = c.size === 1 ? [] : c.size === 2 ? (c.mode === 16 ? [] : [0x66]) : c.size === 4 ? (c.mode === 16 ? [0x66] : []) : [0x48];
  const a = c.a16 && c.mode !== 16 ? [0x67] : [];
  const opc = c.op === 'movs' ? (c.size === 1 ? 0xa4 : 0xa5) : (c.size === 1 ? 0xaa : 0xab);
  return [...a, 0xf3, ...w, opc, 0xf4];
}

/** The SDM's element loop over a copy of memory; returns the expected memory and registers. */
function model(mem: Uint8Array, c: Case, rax: bigint, steps: number): { mem: Uint8Array; si: number; di: number; cx: number } {
  const m = mem.slice();
  let si = c.src, di = c.dst, cx = c.count;
  for (let k = 0; k < steps && cx > 0; k++) {
    // one element: read whole, then written whole
    const el = Array.from({ length: c.size }, (_, b) => (c.op === 'movs' ? m[si + b]! : Number((rax >> BigInt(8 * b)) & 0xffn)));
    for (let b = 0; b < c.size; b++) m[di + b] = el[b]!;
    if (c.op === 'movs') si += c.size;
    di += c.size;
    cx--;
  }
  return { mem: m, si, di, cx };
}

function run(c: Case): void {
  const code = bytesOf(c);
  const mc = makeCpu(c.mode, code, MEM);
  const u = mc.cpu.state.u32;
  for (let k = 0x100000; k < 0x110000; k++) mc.mem[k] = (k * 7 + (k >> 8)) & 0xff;
  const rax = 0x8877665544332211n;
  u[0] = Number(rax & 0xffffffffn); u[1] = c.mode === 64 ? Number(rax >> 32n) : 0;
  u[12] = c.src; u[14] = c.dst; u[2] = c.count;
  const before = mc.mem.slice();
  const steps = c.budget ?? c.count;
  const e = mc.cpu.run({ maxInstructions: c.budget ?? c.count + 10 });
  const want = model(before, c, c.mode === 64 ? rax : rax & 0xffffffffn, steps);
  expect(Buffer.compare(Buffer.from(mc.mem), Buffer.from(want.mem))).toBe(0);
  expect([u[12], u[14], u[2]]).toEqual([c.op === 'movs' ? want.si : c.src, want.di, want.cx]);
  if (want.cx === 0) expect(e.reason).toBe('hlt');
  else { expect(e.reason).toBe('budget'); expect(u[S_RIP]).toBe(CODE_BASE); }
}

describe('REP MOVS/STOS in bulk give the element-by-element result', () => {
  for (const size of [1, 2, 4, 8] as const) {
    it(`REP MOVS size ${size}: across page boundaries, unaligned`, () => run({ mode: 64, op: 'movs', size, src: 0x100ffd, dst: 0x107ff3, count: 3000 }));
    it(`REP STOS size ${size}: across page boundaries, unaligned`, () => run({ mode: 64, op: 'stos', size, src: 0, dst: 0x100ff7, count: 2500 }));
  }
  it('forward overlap (destination inside the source) repeats the pattern as single moves do', () => {
    run({ mode: 64, op: 'movs', size: 1, src: 0x101000, dst: 0x101003, count: 5000 });
    run({ mode: 64, op: 'movs', size: 4, src: 0x101000, dst: 0x101002, count: 1500 });
  });
  it('backward overlap (destination below the source) equals a block move', () => {
    run({ mode: 64, op: 'movs', size: 2, src: 0x101005, dst: 0x101000, count: 4000 });
  });
  it('the budget ends a REP mid-page: registers at the next element, RIP on the instruction', () => {
    run({ mode: 64, op: 'movs', size: 4, src: 0x100000, dst: 0x104000, count: 3000, budget: 1234 });
    run({ mode: 64, op: 'stos', size: 1, src: 0, dst: 0x104000, count: 9000, budget: 4097 });
  });
  it('32-bit and 16-bit modes (flat segments), including 16-bit addressing in 32-bit code', () => {
    run({ mode: 32, op: 'movs', size: 4, src: 0x100010, dst: 0x105000, count: 2000 });
    run({ mode: 16, op: 'stos', size: 2, src: 0, dst: 0x8000, count: 3000 });
  });
  it('a destination page without RAM stops the REP at its first element there (registers at that element)', () => {
    const code = [0xf3, 0xa4, 0xf4]; // rep movsb
    const mc = makeCpu(64, code, MEM);
    const u = mc.cpu.state.u32;
    u[12] = 0x100000; u[14] = MEM - 0x800; u[2] = 0x1000;
    const e = mc.cpu.run({ maxInstructions: 0x2000 });
    expect(e.reason).not.toBe('hlt');
    // 0x800 bytes fit below the end of RAM; the next element has no RAM behind it
    expect([u[12], u[14], u[2]]).toEqual([0x100800, MEM, 0x800]);
    expect(u[S_RIP]).toBe(CODE_BASE);
  });
});
