/**
 * simd-fp.ts: SSE/SSE2/SSE3/SSE4.1 floating point and MXCSR, instruction by instruction.
 * Expected values: IEEE 754 results (the host's binary64 arithmetic, rounded to binary32 with
 * Math.fround where single precision — double rounding is innocuous for +,-,*,/,sqrt) and the SDM's
 * instruction pages / Vol. 1 11.5 for flags, NaN selection and exception behaviour.
 */
import { describe, expect, it } from 'vitest';
import { C_FAULT, C_NEXT } from '../../../src/cpu/fpu/cpu.js';
import { CF, PF, ZF, OF, SF, AF, S_RFLAGS } from '../../../src/cpu/state.js';
import { materialize } from '../../../src/cpu/flags.js';
import {
  FakeCpu, f32, f64, fromF32, fromF64, IE, DE, ZE, OE, UE, PE, IM, ZM, PM, OM, UM, DAZ, FTZ,
  MXCSR_DEFAULT, QNAN32, SNAN32, INDEF32,
} from './simd-fp-fake.js';

const XMM0_XMM1 = 'c1';

describe('packed/scalar single arithmetic', () => {
  it('ADDPS adds four lanes, rounding to nearest', () => {
    const c = new FakeCpu();
    c.setXmmF32(0, 1, 0.1, 1e30, -3);
    c.setXmmF32(1, 2, 0.2, 1e30, 3);
    expect(c.run('0f58' + XMM0_XMM1)).toBe(C_NEXT);
    expect(c.xmm(0)).toEqual([f32(3), f32(Math.fround(0.1) + Math.fround(0.2)), f32(Math.fround(1e30) * 2), f32(0)]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | PE); // 0.1 + 0.2 is inexact in binary32
  });

  it('ADDSS writes only the low lane and reads 4 bytes of memory', () => {
    const c = new FakeCpu();
    c.setXmm(0, f32(1.5), 0x11111111, 0x22222222, 0x33333333);
    c.poke32f(0x100, 2.25);
    expect(c.run('f30f5800', 0x100)).toBe(C_NEXT);
    expect(c.xmm(0)).toEqual([f32(3.75), 0x11111111, 0x22222222, 0x33333333]);
    expect(c.reads).toEqual([[0x100, 4]]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT);
  });

  it('DIVSS by zero with ZE masked gives +inf and sets ZE', () => {
    const c = new FakeCpu();
    c.setXmmF32(0, 1, 7, 8, 9);
    c.setXmmF32(1, 0);
    expect(c.run('f30f5e' + XMM0_XMM1)).toBe(C_NEXT);
    expect(c.xmm(0)).toEqual([0x7f800000, f32(7), f32(8), f32(9)]);
    expect(c.mxcsr).toBe(0x1f84);
  });

  it('DIVSS by zero with ZE unmasked: #UD without CR4.OSXMMEXCPT, #XM with it; MXCSR 1D84, destination kept', () => {
    // exc_simd.asm: MXCSR 1F80 with ZM cleared = 1D80, plus ZE (bit 2) = 1D84 (SDM Vol. 1 11.5.3.2)
    for (const [os, vec] of [[false, 6], [true, 19]] as const) {
      const c = new FakeCpu();
      c.osxmmexcpt = os;
      c.mxcsr = MXCSR_DEFAULT & ~ZM;
      c.setXmmF32(0, 1, 7);
      c.setXmmF32(1, 0);
      expect(c.run('f30f5e' + XMM0_XMM1)).toBe(C_FAULT);
      expect(c.vector).toBe(vec);
      expect(c.err).toBe(-1);
      expect(c.mxcsr).toBe(0x1d84);
      expect(c.xmm(0)).toEqual([f32(1), f32(7), 0, 0]);
    }
  });

  it('an unmasked pre-computation exception in one lane suppresses every post-computation flag (11.5.3)', () => {
    const c = new FakeCpu();
    c.osxmmexcpt = true;
    c.mxcsr = MXCSR_DEFAULT & ~IM;
    c.setXmmF32(0, Infinity, 1.1, 2, 3);
    c.setXmmF32(1, 0, 1.1, 2, 3); // lane 0: inf * 0 -> IE; lane 1 inexact (PE masked)
    const before = c.xmm(0);
    expect(c.run('0f59' + XMM0_XMM1)).toBe(C_FAULT);
    expect(c.vector).toBe(19);
    expect(c.mxcsr).toBe((MXCSR_DEFAULT & ~IM) | IE);
    expect(c.xmm(0)).toEqual(before);
  });

  it('a masked pre-computation flag is still recorded with an unmasked post-computation exception', () => {
    const c = new FakeCpu();
    c.osxmmexcpt = true;
    c.mxcsr = MXCSR_DEFAULT & ~PM;
    c.setXmmF32(0, 0, 1, 4, 4);
    c.setXmmF32(1, 0, 3, 2, 2); // lane 0: 0/0 -> IE (masked); lane 1: 1/3 inexact (unmasked)
    expect(c.run('0f5e' + XMM0_XMM1)).toBe(C_FAULT);
    expect(c.vector).toBe(19);
    expect(c.mxcsr).toBe((MXCSR_DEFAULT & ~PM) | IE | PE);
    expect(c.xmm(0)).toEqual([0, f32(1), f32(4), f32(4)]);
  });

  it('masked invalid operations return the QNaN real indefinite; a QNaN operand propagates quietly', () => {
    const c = new FakeCpu();
    c.setXmm(0, 0x7f800000, QNAN32 | 5, SNAN32 | 3, f32(1));
    c.setXmm(1, 0xff800000, f32(1), f32(1), SNAN32);
    expect(c.run('0f58' + XMM0_XMM1)).toBe(C_NEXT);
    // inf + -inf -> indefinite; QNaN + 1 -> the QNaN; SNaN + 1 -> quieted SNaN; 1 + SNaN -> quieted SNaN
    expect(c.xmm(0)).toEqual([INDEF32, QNAN32 | 5, (SNAN32 | 3 | 0x400000) >>> 0, (SNAN32 | 0x400000) >>> 0]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | IE);
  });

  it('overflow masked gives inf with OE|PE; unmasked OE faults with OE|PE recorded', () => {
    const c = new FakeCpu();
    c.setXmmF32(0, 3e38);
    c.setXmmF32(1, 10);
    expect(c.run('f30f59' + XMM0_XMM1)).toBe(C_NEXT);
    expect(c.xmm(0)[0]).toBe(0x7f800000);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | OE | PE);

    const u = new FakeCpu();
    u.osxmmexcpt = true;
    u.mxcsr = MXCSR_DEFAULT & ~OM;
    u.setXmmF32(0, 3e38);
    u.setXmmF32(1, 10);
    expect(u.run('f30f59' + XMM0_XMM1)).toBe(C_FAULT);
    expect(u.vector).toBe(19);
    // OE, and PE only when the product is inexact with an unbounded exponent (Vol. 1 11.5.2.4 / 4.9.1.4)
    const p = Math.fround(3e38) * 10 / 2 ** 10; // exact in binary64; in binary32 range after the scaling
    expect(u.mxcsr & 0x3f).toBe(Math.fround(p) === p ? OE : OE | PE);
    expect(u.xmm(0)[0]).toBe(f32(3e38));
  });

  it('DAZ reads denormal operands as zero without DE; without DAZ they set DE', () => {
    const den = 0x00000001; // smallest positive binary32 denormal
    const c = new FakeCpu();
    c.setXmm(0, den);
    c.setXmm(1, 0);
    c.run('f30f58' + XMM0_XMM1);
    expect(c.xmm(0)[0]).toBe(den);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | DE);

    const z = new FakeCpu();
    z.mxcsr = MXCSR_DEFAULT | DAZ;
    z.setXmm(0, den);
    z.setXmm(1, 0);
    z.run('f30f58' + XMM0_XMM1);
    expect(z.xmm(0)[0]).toBe(0);
    expect(z.mxcsr).toBe(MXCSR_DEFAULT | DAZ);
  });

  it('FTZ flushes a tiny result to zero with UE|PE; without FTZ the result is denormal', () => {
    const c = new FakeCpu();
    c.setXmmF32(0, 1e-20);
    c.setXmmF32(1, 1e-20);
    c.run('f30f59' + XMM0_XMM1);
    expect(c.xmm(0)[0]).toBe(f32(Math.fround(1e-20) * Math.fround(1e-20)));
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | UE | PE);

    const z = new FakeCpu();
    z.mxcsr = MXCSR_DEFAULT | FTZ;
    z.setXmmF32(0, -1e-20);
    z.setXmmF32(1, 1e-20);
    z.run('f30f59' + XMM0_XMM1);
    expect(z.xmm(0)[0]).toBe(0x80000000);
    expect(z.mxcsr).toBe(MXCSR_DEFAULT | FTZ | UE | PE);
  });

  it('unmasked OE/UE: PE only when the unbounded-exponent result is inexact (host-probed)', () => {
    // MULSS 2^100 * 2^100, OM clear: the host reports OE alone (MXCSR 1B80 -> 1B88)
    const o = new FakeCpu();
    o.osxmmexcpt = true;
    o.mxcsr = MXCSR_DEFAULT & ~OM;
    o.setXmmF32(0, 2 ** 100);
    o.setXmmF32(1, 2 ** 100);
    expect(o.run('f30f59' + XMM0_XMM1)).toBe(C_FAULT);
    expect(o.mxcsr).toBe((MXCSR_DEFAULT & ~OM) | OE);
    // MULSD 1.5*2^-600 * 1.5*2^-474 = 2.25*2^-1074: exact with an unbounded exponent, inexact as a
    // denormal; UM clear: UE alone (1780 -> 1790); all masked: UE|PE and the denormal 2 (1FB0)
    const u = new FakeCpu();
    u.osxmmexcpt = true;
    u.mxcsr = MXCSR_DEFAULT & ~UM;
    u.setXmmF64(0, 1.5 * 2 ** -600);
    u.setXmmF64(1, 1.5 * 2 ** -474);
    expect(u.run('f20f59' + XMM0_XMM1)).toBe(C_FAULT);
    expect(u.mxcsr).toBe((MXCSR_DEFAULT & ~UM) | UE);
    const m = new FakeCpu();
    m.setXmmF64(0, 1.5 * 2 ** -600);
    m.setXmmF64(1, 1.5 * 2 ** -474);
    expect(m.run('f20f59' + XMM0_XMM1)).toBe(C_NEXT);
    expect(m.xmm(0).slice(0, 2)).toEqual([2, 0]);
    expect(m.mxcsr).toBe(MXCSR_DEFAULT | UE | PE);
  });

  it('unmasked underflow is reported for an exact tiny result (Vol. 1 11.5.2.5)', () => {
    const c = new FakeCpu();
    c.osxmmexcpt = true;
    c.mxcsr = MXCSR_DEFAULT & ~UM;
    c.setXmmF32(0, 2 ** -100);
    c.setXmmF32(1, 2 ** -29);
    expect(c.run('f30f59' + XMM0_XMM1)).toBe(C_FAULT); // 2^-129: tiny, exact, from normal operands
    expect(c.mxcsr & 0x3f).toBe(UE);
  });
});

describe('double arithmetic and square roots', () => {
  it('ADDPD/MULPD/SUBSD/DIVSD round to nearest double', () => {
    const c = new FakeCpu();
    c.setXmmF64(0, 0.1, 3);
    c.setXmmF64(1, 0.2, 1 / 3);
    c.run('660f58' + XMM0_XMM1);
    expect(c.xmm(0)).toEqual([...f64(0.1 + 0.2), ...f64(3 + 1 / 3)]);
    c.setXmmF64(0, 10, 5);
    c.setXmmF64(1, 4, 7);
    c.run('f20f5e' + XMM0_XMM1);
    expect(c.xmm(0)).toEqual([...f64(2.5), ...f64(5)]);
  });

  it('SQRTSS/SQRTPD: correctly rounded roots; sqrt(-1) is the indefinite with IE', () => {
    const c = new FakeCpu();
    c.setXmm(0, 0, 0xdead, 0xbeef, 0xf00d);
    c.setXmmF32(1, 2);
    c.run('f30f51' + XMM0_XMM1);
    expect(c.xmm(0)).toEqual([f32(Math.sqrt(2)), 0xdead, 0xbeef, 0xf00d]);
    c.setXmmF64(1, -1, 9);
    c.run('660f51' + XMM0_XMM1);
    expect(c.xmm(0)).toEqual([0, 0xfff80000, ...f64(3)]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | PE | IE);
  });

  it('SQRTSD from memory reads 8 bytes and keeps the upper quadword', () => {
    const c = new FakeCpu();
    c.setXmm(2, 1, 2, 3, 4);
    c.poke64f(0x208, 16);
    c.run('f20f5110', 0x208);
    expect(c.xmm(2)).toEqual([...f64(4), 3, 4]);
    expect(c.reads).toEqual([[0x208, 8]]);
  });
});

describe('MIN/MAX', () => {
  it('return the second operand for a NaN in either operand (IE even for QNaN) and for two zeros', () => {
    const c = new FakeCpu();
    c.setXmm(0, QNAN32, f32(1), f32(0), f32(-0));
    c.setXmm(1, f32(1), QNAN32, f32(-0), f32(0));
    c.run('0f5d' + XMM0_XMM1); // MINPS
    expect(c.xmm(0)).toEqual([f32(1), QNAN32, f32(-0), f32(0)]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | IE);

    const d = new FakeCpu();
    d.setXmm(0, f32(-0), f32(3), f32(-5), SNAN32);
    d.setXmm(1, f32(0), f32(2), f32(-4), f32(7));
    d.run('0f5f' + XMM0_XMM1); // MAXPS
    expect(d.xmm(0)).toEqual([f32(0), f32(3), f32(-4), f32(7)]);
    expect(d.mxcsr).toBe(MXCSR_DEFAULT | IE);
  });

  it('MINSD/MAXSD pick by value and leave the upper quadword', () => {
    const c = new FakeCpu();
    c.setXmm(0, ...f64(-2), 0x55, 0x66);
    c.setXmmF64(1, 1.5);
    c.run('f20f5f' + XMM0_XMM1);
    expect(c.xmm(0)).toEqual([...f64(1.5), 0x55, 0x66]);
    c.run('f20f5d' + XMM0_XMM1);
    expect(c.xmm(0)).toEqual([...f64(1.5), 0x55, 0x66]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT);
  });
});

describe('compares', () => {
  const ONES = 0xffffffff;
  it('CMPPS predicates 0-7 against a QNaN: only LT/LE/NLT/NLE signal IE', () => {
    // [EQ, LT, LE, UNORD, NEQ, NLT, NLE, ORD] on unordered operands (Vol. 2 CMPPS Table 3-1)
    const expected = [0, 0, 0, ONES, ONES, ONES, ONES, 0];
    const signals = [false, true, true, false, false, true, true, false];
    for (let p = 0; p < 8; p++) {
      const c = new FakeCpu();
      c.setXmm(0, QNAN32, f32(1), f32(1), f32(2));
      c.setXmm(1, f32(1), QNAN32, f32(1), f32(1));
      c.run('0fc2' + XMM0_XMM1 + p.toString(16).padStart(2, '0'));
      expect(c.xmm(0)[0]).toBe(expected[p]);
      expect(c.xmm(0)[1]).toBe(expected[p]);
      expect(c.mxcsr & IE).toBe(signals[p] ? IE : 0);
    }
  });

  it('CMPPS predicate table on less, equal, greater and unordered lanes (Vol. 2 Table 3-1)', () => {
    const table = [
      [0, ONES, 0, 0], [ONES, 0, 0, 0], [ONES, ONES, 0, 0], [0, 0, 0, ONES],
      [ONES, 0, ONES, ONES], [0, ONES, ONES, ONES], [0, 0, ONES, ONES], [ONES, ONES, ONES, 0],
    ];
    for (let p = 0; p < 8; p++) {
      const c = new FakeCpu();
      c.setXmm(0, f32(1), f32(2), f32(3), QNAN32);
      c.setXmm(1, f32(2), f32(2), f32(1), f32(1));
      c.run('0fc2' + XMM0_XMM1 + '0' + p);
      expect(c.xmm(0)).toEqual(table[p]);
    }
  });

  it('CMPPS on ordered values, imm8 bits 7:3 ignored', () => {
    const c = new FakeCpu();
    c.setXmmF32(0, 1, 2, 3, -0);
    c.setXmmF32(1, 2, 2, 1, 0);
    c.run('0fc2' + XMM0_XMM1 + 'fa'); // predicate 2 (LE)
    expect(c.xmm(0)).toEqual([ONES, ONES, 0, ONES]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT);
  });

  it('CMPSD/CMPPD quiet predicates signal IE for an SNaN only', () => {
    const c = new FakeCpu();
    c.setXmm(0, 0, 0x7ff40000, 0x77, 0x88);
    c.setXmmF64(1, 1);
    c.run('f20fc2' + XMM0_XMM1 + '00'); // CMPEQSD with an SNaN
    expect(c.xmm(0)).toEqual([0, 0, 0x77, 0x88]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | IE);
    const d = new FakeCpu();
    d.setXmmF64(0, 1, 5);
    d.setXmmF64(1, 1, 4);
    d.run('660fc2' + XMM0_XMM1 + '06'); // CMPNLEPD
    expect(d.xmm(0)).toEqual([0, 0, ONES, ONES]);
  });

  it('COMISS/UCOMISS set ZF/PF/CF and clear OF/SF/AF; COMISS signals on QNaN, UCOMISS does not', () => {
    const cases: Array<[number, number, number]> = [
      [1, 2, CF], [2, 1, 0], [2, 2, ZF], [-0, 0, ZF],
    ];
    for (const [a, b, fl] of cases) {
      const c = new FakeCpu();
      c.u[S_RFLAGS] = 0x2 | OF | SF | AF | ZF | PF | CF;
      c.setXmmF32(0, a);
      c.setXmmF32(1, b);
      c.run('0f2f' + XMM0_XMM1);
      materialize(c.u);
      expect(c.u[S_RFLAGS]! & (ZF | PF | CF | OF | SF | AF)).toBe(fl);
    }
    const q = new FakeCpu();
    q.setXmm(0, QNAN32);
    q.setXmmF32(1, 1);
    q.run('0f2e' + XMM0_XMM1);
    materialize(q.u);
    expect(q.u[S_RFLAGS]! & (ZF | PF | CF)).toBe(ZF | PF | CF);
    expect(q.mxcsr).toBe(MXCSR_DEFAULT);
    q.run('0f2f' + XMM0_XMM1);
    expect(q.mxcsr).toBe(MXCSR_DEFAULT | IE);
  });

  it('COMISD with IE unmasked faults and leaves RFLAGS', () => {
    const c = new FakeCpu();
    c.osxmmexcpt = true;
    c.mxcsr = MXCSR_DEFAULT & ~IM;
    c.u[S_RFLAGS] = 0x2;
    c.setXmm(0, 0, 0x7ff80000);
    c.setXmmF64(1, 1);
    expect(c.run('660f2f' + XMM0_XMM1)).toBe(C_FAULT);
    expect(c.vector).toBe(19);
    materialize(c.u);
    expect(c.u[S_RFLAGS]).toBe(0x2);
  });
});

describe('conversions', () => {
  it('CVTTSS2SI out of range gives 0x80000000 with IE; truncates in range', () => {
    const c = new FakeCpu();
    c.setXmmF32(1, 3e9);
    c.run('f30f2cc1'); // cvttss2si eax, xmm1
    expect(c.gpr(0)).toEqual([0x80000000, 0]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | IE);
    c.setXmmF32(1, -2.75);
    c.run('f30f2cc1');
    expect(c.gpr(0)).toEqual([(-2 >>> 0), 0]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | IE | PE);
  });

  it('CVTSD2SI rounds by MXCSR.RC', () => {
    // 2.5 / -2.5 under nearest, down, up, toward zero (Vol. 1 4.8.4)
    const want = [[2, -2], [2, -3], [3, -2], [2, -2]];
    for (let rc = 0; rc < 4; rc++) {
      const c = new FakeCpu();
      c.mxcsr = MXCSR_DEFAULT | (rc << 13);
      c.setXmmF64(1, 2.5);
      c.run('f20f2dc1');
      expect(c.gpr(0)[0] | 0).toBe(want[rc]![0]);
      c.setXmmF64(1, -2.5);
      c.run('f20f2dc1');
      expect(c.gpr(0)[0] | 0).toBe(want[rc]![1]);
      expect(c.mxcsr & 0x3f).toBe(PE);
    }
  });

  it('CVTSD2SI with REX.W writes 64 bits; NaN gives the 64-bit indefinite', () => {
    const c = new FakeCpu();
    c.setXmmF64(1, -(2 ** 40) - 3);
    c.run('f2480f2dc1');
    expect(c.gpr(0)).toEqual([(-3 >>> 0), 0xfffffeff]);
    c.setXmm(1, 0, 0x7ff80000);
    c.run('f2480f2dc1');
    expect(c.gpr(0)).toEqual([0, 0x80000000]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | IE);
  });

  it('CVTSI2SS/CVTSI2SD from 32- and 64-bit integers', () => {
    const c = new FakeCpu();
    c.setXmm(0, 0, 0x11, 0x22, 0x33);
    c.setGpr(0, 16777217); // 2^24 + 1: not representable in binary32
    c.run('f30f2ac0');
    expect(c.xmm(0)).toEqual([f32(16777216), 0x11, 0x22, 0x33]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | PE);
    c.setGpr(0, 0xffffffff, 0xffffffff); // -1 as int64
    c.run('f2480f2ac0');
    expect(c.xmm(0)).toEqual([...f64(-1), 0x22, 0x33]);
    c.setGpr(0, -7);
    c.run('f20f2ac0');
    expect(c.xmm(0)).toEqual([...f64(-7), 0x22, 0x33]);
  });

  it('CVTPS2PD/CVTPD2PS/CVTSS2SD/CVTSD2SS', () => {
    const c = new FakeCpu();
    c.setXmmF32(1, 0.1, -2, 99, 99);
    c.run('0f5ac1'); // cvtps2pd xmm0, xmm1
    expect(c.xmm(0)).toEqual([...f64(Math.fround(0.1)), ...f64(-2)]);
    c.setXmmF64(1, 1e300, 0.1);
    c.run('660f5ac1'); // cvtpd2ps: overflow lane 0
    expect(c.xmm(0)).toEqual([0x7f800000, f32(0.1), 0, 0]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | OE | PE);
    c.setXmm(0, 1, 2, 3, 4);
    c.setXmmF32(1, 1.5);
    c.run('f30f5ac1');
    expect(c.xmm(0)).toEqual([...f64(1.5), 3, 4]);
    c.setXmmF64(1, 1 / 3);
    c.run('f20f5ac1');
    expect(c.xmm(0)).toEqual([f32(1 / 3), f64(1.5)[1], 3, 4]);
  });

  it('CVTDQ2PS/CVTPS2DQ/CVTTPS2DQ/CVTPD2DQ/CVTTPD2DQ/CVTDQ2PD', () => {
    const c = new FakeCpu();
    c.setXmm(1, 1, -1 >>> 0, 16777217, 0x80000000);
    c.run('0f5bc1');
    expect(c.xmm(0)).toEqual([f32(1), f32(-1), f32(16777216), f32(-(2 ** 31))]);
    c.setXmmF32(1, 1.5, -1.5, 2.5, 1e10);
    c.mxcsr = MXCSR_DEFAULT;
    c.run('660f5bc1');
    expect(c.xmm(0)).toEqual([2, -2 >>> 0, 2, 0x80000000]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | PE | IE);
    c.run('f30f5bc1');
    expect(c.xmm(0)).toEqual([1, -1 >>> 0, 2, 0x80000000]);
    c.setXmmF64(1, -1.5, 7.5);
    c.setXmm(0, 9, 9, 9, 9);
    c.run('f20fe6c1');
    expect(c.xmm(0)).toEqual([-2 >>> 0, 8, 0, 0]);
    c.run('660fe6c1');
    expect(c.xmm(0)).toEqual([-1 >>> 0, 7, 0, 0]);
    c.setXmm(1, -5 >>> 0, 6, 77, 77);
    c.run('f30fe6c1');
    expect(c.xmm(0)).toEqual([...f64(-5), ...f64(6)]);
  });

  it('MMX forms: CVTPI2PS keeps the upper lanes; CVTPS2PI/CVTTPD2PI write an MMX register', () => {
    const c = new FakeCpu();
    c.setXmm(0, 0, 0, 0xaa, 0xbb);
    c.setMm(1, 3, -4 >>> 0);
    c.run('0f2ac1'); // cvtpi2ps xmm0, mm1
    expect(c.xmm(0)).toEqual([f32(3), f32(-4), 0xaa, 0xbb]);
    c.setXmmF32(1, 2.5, -7.5);
    c.run('0f2dc1'); // cvtps2pi mm0, xmm1
    expect(c.mm(0)).toEqual([2, -8 >>> 0]);
    c.setXmmF64(1, -3.9, 1e20);
    c.run('660f2cc1'); // cvttpd2pi mm0, xmm1
    expect(c.mm(0)).toEqual([-3 >>> 0, 0x80000000]);
    c.setMm(2, 10, 0x80000000);
    c.run('660f2ac2'); // cvtpi2pd xmm0, mm2
    expect(c.xmm(0)).toEqual([...f64(10), ...f64(-(2 ** 31))]);
  });
});

describe('SSE4.1 ROUND and DP', () => {
  it('ROUNDSD imm8 modes: bits 1:0 rounding, bit 2 MXCSR.RC, bit 3 no PE', () => {
    const want = [2, 2, 3, 2]; // 2.5 nearest-even, floor, ceil, trunc
    const wantNeg = [-2, -3, -2, -2];
    for (let mode = 0; mode < 4; mode++) {
      const c = new FakeCpu();
      c.setXmmF64(1, 2.5);
      c.run('660f3a0bc1' + mode.toString(16).padStart(2, '0'));
      expect(fromF64(c.xmm(0)[0]!, c.xmm(0)[1]!)).toBe(want[mode]);
      expect(c.mxcsr).toBe(MXCSR_DEFAULT | PE);
      c.setXmmF64(1, -2.5);
      c.run('660f3a0bc1' + (mode | 8).toString(16).padStart(2, '0'));
      expect(fromF64(c.xmm(0)[0]!, c.xmm(0)[1]!)).toBe(wantNeg[mode]);
      expect(c.mxcsr).toBe(MXCSR_DEFAULT | PE); // imm bit 3: no new PE
    }
    const r = new FakeCpu();
    r.mxcsr = MXCSR_DEFAULT | (1 << 13); // RC = down
    r.setXmmF64(1, 2.5);
    r.run('660f3a0bc1' + '0c'); // use MXCSR.RC, suppress PE
    expect(fromF64(r.xmm(0)[0]!, r.xmm(0)[1]!)).toBe(2);
    expect(r.mxcsr).toBe(MXCSR_DEFAULT | (1 << 13));
  });

  it('ROUNDPS rounds four lanes; SNaN signals IE', () => {
    const c = new FakeCpu();
    c.setXmm(1, f32(-0.5), f32(1.5), SNAN32, f32(1e20));
    c.run('660f3a08c1' + '02'); // ceil
    expect(c.xmm(0)).toEqual([f32(-0), f32(2), (SNAN32 | 0x400000) >>> 0, f32(1e20)]);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT | IE | PE);
  });

  it('DPPS multiplies the imm8[7:4] lanes and broadcasts to imm8[3:0]', () => {
    const c = new FakeCpu();
    c.setXmmF32(0, 1, 2, 3, 4);
    c.setXmmF32(1, 5, 6, 7, 8);
    c.run('660f3a40c1f1');
    expect(c.xmm(0)).toEqual([f32(70), 0, 0, 0]);
    c.setXmmF32(0, 1, 2, 3, 4);
    c.run('660f3a40c13f');
    expect(c.xmm(0)).toEqual([f32(17), f32(17), f32(17), f32(17)]);
  });

  it('DPPS stops after the products when they raise an unmasked exception (no DE from the adds)', () => {
    const c = new FakeCpu();
    c.osxmmexcpt = true;
    c.mxcsr = MXCSR_DEFAULT & ~PM;
    c.setXmmF32(0, 1.1 * 2 ** -70, 0, 0, 0);
    c.setXmmF32(1, 2 ** -70, 0, 0, 0); // product ~2^-140: a denormal, inexact -> UE|PE
    expect(c.run('660f3a40c1f1')).toBe(C_FAULT);
    expect(c.mxcsr & 0x3f).toBe(UE | PE);
    // all masked: the denormal product reaches the adds, which report DE (SDM: flags of every step)
    const m = new FakeCpu();
    m.setXmmF32(0, 1.1 * 2 ** -70, 0, 0, 0);
    m.setXmmF32(1, 2 ** -70, 0, 0, 0);
    expect(m.run('660f3a40c1f1')).toBe(C_NEXT);
    expect(m.mxcsr & 0x3f).toBe(UE | PE | DE);
  });

  it('DPPS: a denormal product faulting in the adds (DM clear) keeps the products\' UE|PE', () => {
    // host CPU probe: MXCSR 1C00, products lane 1 only (1.1*2^-70 * 2^-70) -> 1C32, #XM
    const c = new FakeCpu();
    c.osxmmexcpt = true;
    c.mxcsr = 0x1c00;
    c.setXmmF32(0, 0, 1.1 * 2 ** -70, 0, 0);
    c.setXmmF32(1, 0, 2 ** -70, 0, 0);
    expect(c.run('660f3a40c12f')).toBe(C_FAULT);
    expect(c.mxcsr).toBe(0x1c32);
    expect(c.xmm(0)).toEqual([0, f32(1.1 * 2 ** -70), 0, 0]);
  });

  it('DPPD', () => {
    const c = new FakeCpu();
    c.setXmmF64(0, 1.5, 2);
    c.setXmmF64(1, 4, 0.25);
    c.run('660f3a41c132');
    expect(c.xmm(0)).toEqual([0, 0, ...f64(6.5)]);
  });
});

describe('SSE3 horizontal and alternating', () => {
  it('HADDPS/HSUBPS pair adjacent lanes of the destination, then the source', () => {
    const c = new FakeCpu();
    c.setXmmF32(0, 1, 2, 3, 4);
    c.setXmmF32(1, 10, 20, 30, 40);
    c.run('f20f7cc1');
    expect(c.xmm(0)).toEqual([f32(3), f32(7), f32(30), f32(70)]);
    c.setXmmF32(0, 1, 2, 3, 5);
    c.run('f20f7dc1');
    expect(c.xmm(0)).toEqual([f32(-1), f32(-2), f32(-10), f32(-10)]);
  });

  it('HADDPD/HSUBPD/ADDSUBPS/ADDSUBPD', () => {
    const c = new FakeCpu();
    c.setXmmF64(0, 1, 2);
    c.setXmmF64(1, 10, 30);
    c.run('660f7cc1');
    expect(c.xmm(0)).toEqual([...f64(3), ...f64(40)]);
    c.run('660f7dc1');
    expect(c.xmm(0)).toEqual([...f64(-37), ...f64(-20)]);
    c.setXmmF32(0, 1, 1, 1, 1);
    c.setXmmF32(1, 0.5, 0.5, 2, 2);
    c.run('f20fd0c1');
    expect(c.xmm(0)).toEqual([f32(0.5), f32(1.5), f32(-1), f32(3)]);
    c.setXmmF64(0, 1, 1);
    c.setXmmF64(1, 4, 4);
    c.run('660fd0c1');
    expect(c.xmm(0)).toEqual([...f64(-3), ...f64(5)]);
  });
});

describe('reciprocal estimates', () => {
  it('RCPPS/RSQRTPS stay within 1.5*2^-12 relative error over a sweep and raise nothing', () => {
    const c = new FakeCpu();
    c.mxcsr = 0; // every exception unmasked: these instructions never signal
    c.osxmmexcpt = true;
    const bound = 1.5 * 2 ** -12;
    for (let k = 0; k < 600; k++) {
      const x = Math.fround(2 ** (k / 12 - 25) * (1 + ((k * 7919) % 1000) / 1000));
      c.setXmmF32(1, x, x * 3, x / 7, x + 1);
      expect(c.run('0f53c1')).toBe(C_NEXT);
      const r = c.xmm(0).map(fromF32);
      [x, x * 3, x / 7, x + 1].forEach((v, j) => {
        const exact = 1 / Math.fround(v);
        expect(Math.abs(r[j]! - exact) / exact).toBeLessThanOrEqual(bound);
      });
      expect(c.run('0f52c1')).toBe(C_NEXT);
      const s = c.xmm(0).map(fromF32);
      [x, x * 3, x / 7, x + 1].forEach((v, j) => {
        const exact = 1 / Math.sqrt(Math.fround(v));
        expect(Math.abs(s[j]! - exact) / exact).toBeLessThanOrEqual(bound);
      });
    }
    expect(c.mxcsr).toBe(0);
  });

  it('special operands (Vol. 2 RCPPS/RSQRTPS)', () => {
    const c = new FakeCpu();
    c.setXmm(1, 0, 0x80000000, 0x00000005, 0x7f800000);
    c.run('0f53c1');
    expect(c.xmm(0)).toEqual([0x7f800000, 0xff800000, 0x7f800000, 0]);
    c.setXmm(1, f32(-1), 0xff800000, 0x80000003, QNAN32 | 1);
    c.run('0f52c1');
    expect(c.xmm(0)).toEqual([INDEF32, INDEF32, 0xff800000, QNAN32 | 1]);
    c.setXmm(1, f32(2 ** 127), f32(4), SNAN32, 0);
    c.run('0f53c1');
    expect(c.xmm(0)).toEqual([0, f32(0.25), (SNAN32 | 0x400000) >>> 0, 0x7f800000]); // 2^-127 is tiny -> 0
    c.run('0f52c1');
    expect(c.xmm(0)[1]).toBe(f32(0.5));
    expect(c.mxcsr).toBe(MXCSR_DEFAULT);
  });
});

describe('LDMXCSR/STMXCSR', () => {
  it('round-trips MXCSR through memory', () => {
    const c = new FakeCpu();
    c.poke32(0x40, 0xffff);
    expect(c.run('0fae10', 0x40)).toBe(C_NEXT);
    expect(c.mxcsr).toBe(0xffff);
    c.mxcsr = 0x1d84;
    expect(c.run('0fae18', 0x80)).toBe(C_NEXT);
    expect(c.peek32(0x80)).toBe(0x1d84);
  });

  it('LDMXCSR with a reserved bit set is #GP(0) and changes nothing', () => {
    const c = new FakeCpu();
    c.poke32(0x40, 0x10000 | 0x1f80);
    expect(c.run('0fae10', 0x40)).toBe(C_FAULT);
    expect(c.vector).toBe(13);
    expect(c.err).toBe(0);
    expect(c.mxcsr).toBe(MXCSR_DEFAULT);
  });

  it('LDMXCSR of a set flag with its mask clear raises nothing (Vol. 1 10.2.3.1)', () => {
    const c = new FakeCpu();
    c.poke32(0x40, (MXCSR_DEFAULT & ~ZM) | ZE);
    expect(c.run('0fae10', 0x40)).toBe(C_NEXT);
    expect(c.vector).toBe(-1);
  });
});

describe('memory operands', () => {
  it('a packed form reads all 16 bytes; a fault leaves the destination', () => {
    const c = new FakeCpu();
    c.setXmmF32(0, 1, 1, 1, 1);
    for (let k = 0; k < 4; k++) c.poke32f(0x300 + 4 * k, k);
    c.run('0f5800', 0x300);
    expect(c.xmm(0)).toEqual([f32(1), f32(2), f32(3), f32(4)]);
    expect(c.run('0f5800', 0xfff8)).toBe(C_FAULT); // second half beyond the fake's memory -> #PF
    expect(c.vector).toBe(14);
    expect(c.xmm(0)).toEqual([f32(1), f32(2), f32(3), f32(4)]);
  });
});

void OE; void UE; void PM; void OM; void DE;
