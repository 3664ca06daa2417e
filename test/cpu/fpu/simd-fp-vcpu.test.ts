/**
 * simd-fp.ts through the real interpreter (the dispatcher's checks, memory through the soft TLB, lazy
 * RFLAGS, the MMX transition): the SDM behaviours that need the whole path, e.g. the
 * fixtures/system/exc_simd.asm sequence (unmasked divide-by-zero -> #UD / #XM, MXCSR 1D84H).
 */
import { describe, expect, it } from 'vitest';
import { S_CR4, S_FSW, S_FTW, S_FPR, S_MXCSR } from '../../../src/cpu/state.js';
import { machine, go, setXmm, xmm, mm, setGpr, gpr, gprHi, DATA } from './simd-harness.js';

const OSXMMEXCPT = 1 << 10;
const F32 = new Float32Array(1), U32 = new Uint32Array(F32.buffer);
const f32 = (x: number): number => { F32[0] = x; return U32[0]!; };
const F64 = new Float64Array(1), U64 = new Uint32Array(F64.buffer);
const f64 = (x: number): number[] => { F64[0] = x; return [U64[0]!, U64[1]!]; };

function poke32(mem: Uint8Array, a: number, v: number): void {
  new DataView(mem.buffer, mem.byteOffset).setUint32(a, v >>> 0, true);
}
function peek32(mem: Uint8Array, a: number): number {
  return new DataView(mem.buffer, mem.byteOffset).getUint32(a, true);
}

describe('SIMD floating point on the vCPU', () => {
  // ldmxcsr [eax] ; divss xmm0, xmm1 ; hlt  (exc_simd.asm's divss_noxmmexcpt / divss_xm sites)
  const DIV = '0f ae 10  f3 0f 5e c1';
  it('unmasked divide-by-zero: #UD with CR4.OSXMMEXCPT = 0, #XM with it; MXCSR 1D84H; XMM0 kept', () => {
    for (const [os, vec] of [[0, 6], [OSXMMEXCPT, 19]] as const) {
      const mc = machine(32, DIV);
      mc.cpu.state.u32[S_CR4] |= os;
      poke32(mc.mem, DATA, 0x1f80 & ~(1 << 9));
      setGpr(mc, 0, DATA);
      setXmm(mc, 0, [f32(1), 0, 0, 0]);
      setXmm(mc, 1, [0, 0, 0, 0]);
      const r = go(mc);
      expect(r.end).toBe(`exception:${vec}`);
      expect(r.errorCode ?? 0).toBe(0);
      expect(r.ripLo).toBe(0x1003); // the DIVSS itself (a fault)
      expect(mc.cpu.state.u32[S_MXCSR]).toBe(0x1d84);
      expect(xmm(mc, 0)).toEqual([f32(1), 0, 0, 0]);
    }
  });

  it('ADDPS from an aligned m128; a misaligned m128 is #GP(0)', () => {
    const mc = machine(64, '0f 58 00'); // addps xmm0, [rax]
    for (let k = 0; k < 4; k++) poke32(mc.mem, DATA + 4 * k, f32(k + 0.5));
    setGpr(mc, 0, DATA);
    setXmm(mc, 0, [f32(1), f32(1), f32(1), f32(1)]);
    expect(go(mc).end).toBe('hlt');
    expect(xmm(mc, 0)).toEqual([f32(1.5), f32(2.5), f32(3.5), f32(4.5)]);
    const bad = machine(64, '0f 58 00');
    setGpr(bad, 0, DATA + 4);
    const r = go(bad);
    expect(r.end).toBe('exception:13');
    expect(r.errorCode).toBe(0);
  });

  it('COMISS sets the flags that SETcc then reads', () => {
    // comiss xmm0, xmm1 ; seta al ; setb bl ; sete cl ; setp dl
    const mc = machine(64, '0f 2f c1  0f 97 c0  0f 92 c3  0f 94 c1  0f 9a c2');
    for (const [a, b, want] of [[1, 2, [0, 1, 0, 0]], [3, 2, [1, 0, 0, 0]], [2, 2, [0, 0, 1, 0]], [NaN, 2, [0, 1, 1, 1]]] as const) {
      const m2 = machine(64, '0f 2f c1  0f 97 c0  0f 92 c3  0f 94 c1  0f 9a c2');
      setXmm(m2, 0, [f32(a), 0, 0, 0]);
      setXmm(m2, 1, [f32(b), 0, 0, 0]);
      for (const n of [0, 1, 2, 3]) setGpr(m2, n, 0xff);
      expect(go(m2).end).toBe('hlt');
      expect([gpr(m2, 0) & 0xff, gpr(m2, 3) & 0xff, gpr(m2, 1) & 0xff, gpr(m2, 2) & 0xff]).toEqual(want);
    }
    void mc;
  });

  it('CVTTSD2SI with REX.W writes RAX; CVTSS2SI eax zero-extends in 64-bit mode', () => {
    // cvttsd2si rax, xmm1 ; cvtss2si ecx, xmm2
    const mc = machine(64, 'f2 48 0f 2c c1  f3 0f 2d ca');
    setXmm(mc, 1, [...f64(-(2 ** 33) - 0.75), 0, 0]);
    setXmm(mc, 2, [f32(-2.5), 0, 0, 0]);
    setGpr(mc, 1, 0x12345678, 0x9abcdef0);
    expect(go(mc).end).toBe('hlt');
    expect([gpr(mc, 0), gprHi(mc, 0)]).toEqual([0, 0xfffffffe]);
    expect([gpr(mc, 1), gprHi(mc, 1)]).toEqual([-2 >>> 0, 0]);
    expect(mc.cpu.state.u32[S_MXCSR]).toBe(0x1f80 | 0x20);
  });

  it('CVTPS2PI enters MMX state (TOP = 0, all tags valid, MM0 exponent word all ones)', () => {
    const mc = machine(32, '0f 2d c1'); // cvtps2pi mm0, xmm1
    mc.cpu.state.u32[S_FSW] = 5 << 11;
    setXmm(mc, 1, [f32(7.5), f32(-1), 0, 0]);
    expect(go(mc).end).toBe('hlt');
    expect(mm(mc, 0)).toEqual([8, -1 >>> 0]);
    expect(mc.cpu.state.u32[S_FTW]).toBe(0xff);
    expect((mc.cpu.state.u32[S_FSW]! >> 11) & 7).toBe(0);
    expect(mc.cpu.state.u32[S_FPR + 2]).toBe(0xffff);
  });

  it('CVTPS2PI enters MMX state even when it raises #XM (as the host CPU does)', () => {
    const mc = machine(32, '0f 2d c1'); // cvtps2pi mm0, xmm1
    mc.cpu.state.u32[S_CR4] |= OSXMMEXCPT;
    mc.cpu.state.u32[S_MXCSR] = 0x1f80 & ~(1 << 12); // PE unmasked
    mc.cpu.state.u32[S_FSW] = 5 << 11;
    setXmm(mc, 1, [f32(7.5), 0, 0, 0]);
    expect(go(mc).end).toBe('exception:19');
    expect(mc.cpu.state.u32[S_FTW]).toBe(0xff);
    expect((mc.cpu.state.u32[S_FSW]! >> 11) & 7).toBe(0);
    expect(mc.cpu.state.u32[S_MXCSR]! & 0x3f).toBe(0x20);
    expect(mm(mc, 0)).toEqual([0, 0]);
  });

  it('CVTPI2PS from memory does not touch the x87 state (Vol. 2 CVTPI2PS)', () => {
    const mc = machine(32, '0f 2a 00'); // cvtpi2ps xmm0, [eax]
    poke32(mc.mem, DATA, 3);
    poke32(mc.mem, DATA + 4, -4);
    setGpr(mc, 0, DATA);
    mc.cpu.state.u32[S_FSW] = 5 << 11;
    expect(go(mc).end).toBe('hlt');
    expect(xmm(mc, 0).slice(0, 2)).toEqual([f32(3), f32(-4)]);
    expect(mc.cpu.state.u32[S_FTW]).toBe(0);
    expect((mc.cpu.state.u32[S_FSW]! >> 11) & 7).toBe(5);
  });

  it('STMXCSR stores 32 bits; LDMXCSR of a reserved bit is #GP(0)', () => {
    const mc = machine(32, '0f ae 18'); // stmxcsr [eax]
    setGpr(mc, 0, DATA);
    poke32(mc.mem, DATA, 0xdeadbeef);
    expect(go(mc).end).toBe('hlt');
    expect(peek32(mc.mem, DATA)).toBe(0x1f80);
    const l = machine(32, '0f ae 10');
    setGpr(l, 0, DATA);
    poke32(l.mem, DATA, 0x20000);
    const r = go(l);
    expect(r.end).toBe('exception:13');
    expect(l.cpu.state.u32[S_MXCSR]).toBe(0x1f80);
  });
});
