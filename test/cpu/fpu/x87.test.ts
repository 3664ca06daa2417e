/**
 * The x87 unit through the real interpreter (SDM Vol. 1 ch. 8, Vol. 2 F* pages, Vol. 3A 2.5/6.15).
 * Guest code is hand-encoded (SDM Vol. 2 Appendix A.5 x87 opcode map); expected values come from
 * the SDM's definitions (layouts, class codes, flag rules, constants).
 */
import { describe, expect, it } from 'vitest';
import { makeCpu, CODE_BASE, type Machine } from '../harness.js';
import { DATA, FLD1, FLDZ, FNINIT, HLT, INDEF, M, le32, rd16, st, top, wr32 } from './x87-harness.js';
import { getFlags } from '../../../src/cpu/flags.js';
import {
  CF, PF, ZF, S_CR0, S_CR4, S_FCW, S_FDP, S_FDS, S_FIP, S_FOP, S_FPR, S_FSW, S_FTW, S_MXCSR, S_XMM, FPR_STRIDE,
  S_FCS,
} from '../../../src/cpu/state.js';

const FXAM = [0xd9, 0xe5];

function run(mode: 16 | 32 | 64, code: number[], setup?: (m: Machine) => void) {
  const m = makeCpu(mode, code);
  setup?.(m);
  const exit = m.cpu.run({ maxInstructions: 1000 });
  return { m, exit, u: m.cpu.state.u32 };
}
function rd32(m: Machine, a: number): number { return (rd16(m, a) | (rd16(m, a + 2) << 16)) >>> 0; }
const ONE = [0x80000000, 0, 0x3fff];

describe('x87 register stack and control', () => {
  it('FNINIT sets FCW 037FH, FSW 0, all tags empty (SDM Vol. 2 FINIT)', () => {
    const { u, exit } = run(32, [...FNINIT, ...M(0xd9, 7), ...M(0xdd, 7, DATA + 2), ...HLT], (m) => {
      m.cpu.state.u32[S_FSW] = 0xffff; m.cpu.state.u32[S_FTW] = 0xff;
    });
    expect(exit.reason).toBe('hlt');
    expect([u[S_FCW], u[S_FSW], u[S_FTW]]).toEqual([0x37f, 0, 0]);
  });

  it('FLD1/FLDZ push: TOP decrements, tags set; FXAM classes (SDM Vol. 2 FXAM Table)', () => {
    const { u } = run(32, [...FNINIT, ...FLD1, ...FXAM, 0xdf, 0xe0, 0x89, 0xc3, ...FLDZ, ...FXAM, ...HLT]);
    // FXAM of +1.0 (normal: C2 = 1) was captured in BX through FNSTSW AX; MOV EBX, EAX
    expect(u[6]! & 0x4700).toBe(0x0400);
    expect(top(u)).toBe(6);
    expect(u[S_FTW]).toBe(0xc0);
    expect(u[S_FSW]! & 0x4700).toBe(0x4000); // zero: C3
    expect(st(u, 1)).toEqual(ONE);
  });

  it('FXAM: empty 101, NaN 001, infinity 011 with C1 = sign, denormal 110, unsupported 000', () => {
    const cases: [number[], number][] = [
      [[0, 0, 0], -1],
      [[0xc0000000, 0, 0x7fff], 0x0100],
      [[0x80000000, 0, 0xffff], 0x0700],
      [[0x00000001, 0, 0x0000], 0x4400],
      [[0x40000000, 0, 0x3fff], 0x0000],
    ];
    for (const [[hi, lo, se], cc] of cases) {
      const code = cc < 0 ? [...FNINIT, ...FXAM, ...HLT] : [...FNINIT, ...M(0xdb, 5), ...FXAM, ...HLT];
      const { u } = run(32, code, (m) => { wr32(m, DATA, lo!); wr32(m, DATA + 4, hi!); m.mem[DATA + 8] = se! & 0xff; m.mem[DATA + 9] = se! >> 8; });
      expect(u[S_FSW]! & 0x4700).toBe(cc < 0 ? 0x4100 : cc);
    }
  });

  it('stack overflow: IE + SF, C1 = 1, masked response pushes the real indefinite', () => {
    const code = [...FNINIT];
    for (let k = 0; k < 9; k++) code.push(...FLD1);
    const { u } = run(32, [...code, ...HLT]);
    expect(u[S_FSW]).toBe(0x3800 | 0x200 | 0x40 | 0x1);
    expect(st(u, 0)).toEqual(INDEF);
    expect(st(u, 1)).toEqual(ONE);
  });

  it('stack underflow: IE + SF, C1 = 0; masked: indefinite result; unmasked: ES/B, nothing written', () => {
    let r = run(32, [...FNINIT, ...FLD1, 0xd8, 0xc1, ...HLT]); // fadd st0, st1 (st1 empty)
    expect(r.u[S_FSW]).toBe(0x3800 | 0x41);
    expect(st(r.u, 0)).toEqual(INDEF);
    r = run(32, [...FNINIT, ...M(0xd9, 5), ...FLD1, 0xd8, 0xc1, ...HLT], (m) => { m.mem[DATA] = 0x7e; m.mem[DATA + 1] = 0x03; });
    expect(r.u[S_FSW]).toBe(0x3800 | 0x8000 | 0x80 | 0x41);
    expect(st(r.u, 0)).toEqual(ONE);
  });

  it('FXCH, FCHS, FABS, FINCSTP/FDECSTP, FFREE', () => {
    const { u } = run(32, [...FNINIT, ...FLD1, ...FLDZ, 0xd9, 0xc9, 0xd9, 0xe0, ...HLT]); // fxch st1; fchs
    expect(st(u, 0)).toEqual([0x80000000, 0, 0xbfff]);
    expect(st(u, 1)).toEqual([0, 0, 0]);
    const r2 = run(32, [...FNINIT, ...FLD1, 0xd9, 0xe0, 0xd9, 0xe1, 0xd9, 0xf7, 0xdd, 0xc7, ...HLT]); // fchs fabs fincstp ffree st7
    expect(top(r2.u)).toBe(0);
    expect(r2.u[S_FTW]).toBe(0); // ST(7) after FINCSTP is R7, freed
    const p7 = S_FPR + 7 * FPR_STRIDE;
    expect([r2.u[p7 + 1], r2.u[p7 + 2]]).toEqual([0x80000000, 0x3fff]);
  });

  it('FLDPI/FLDL2T/FLDLG2 round their 66-bit constants per RC (SDM Vol. 1 8.3.8)', () => {
    const cw = (rc: number) => (m: Machine) => { m.mem[DATA] = 0x7f; m.mem[DATA + 1] = 0x03 | (rc << 2); };
    const pi = (rc: number) => st(run(32, [...FNINIT, ...M(0xd9, 5), 0xd9, 0xeb, ...HLT], cw(rc)).u, 0);
    expect(pi(0)).toEqual([0xc90fdaa2, 0x2168c235, 0x4000]);
    expect(pi(1)).toEqual([0xc90fdaa2, 0x2168c234, 0x4000]);
    expect(pi(2)).toEqual([0xc90fdaa2, 0x2168c235, 0x4000]);
    expect(pi(3)).toEqual([0xc90fdaa2, 0x2168c234, 0x4000]);
    const l2t = (rc: number) => st(run(32, [...FNINIT, ...M(0xd9, 5), 0xd9, 0xe9, ...HLT], cw(rc)).u, 0);
    expect(l2t(0)).toEqual([0xd49a784b, 0xcd1b8afe, 0x4000]);
    expect(l2t(2)).toEqual([0xd49a784b, 0xcd1b8aff, 0x4000]);
    const lg2 = st(run(32, [...FNINIT, 0xd9, 0xec, ...HLT]).u, 0);
    expect(lg2).toEqual([0x9a209a84, 0xfbcff799, 0x3ffd]);
  });

  it('records FIP/FCS, FOP (11 bits) and FDP/FDS for non-control instructions only (SDM Vol. 1 8.1.8-8.1.10)', () => {
    // fninit; fld dword [DATA]; fnstcw [DATA+8]
    const { u } = run(32, [...FNINIT, ...M(0xd9, 0), ...M(0xd9, 7, DATA + 8), ...HLT]);
    expect(u[S_FIP]).toBe(CODE_BASE + 2);
    expect(u[S_FCS]).toBe(8);
    expect(u[S_FOP]).toBe(0x105);
    expect(u[S_FDP]).toBe(DATA);
    expect(u[S_FDS]).toBe(16);
  });
});

describe('x87 arithmetic and comparisons', () => {
  it('FADD/FSUBR ST(i),ST(0)/FDIVP: operand order of the DC/DE forms (SDM Vol. 2 FSUBR, FDIVP)', () => {
    // 1, 1+1=2 (fadd st0,st0), fld1 -> st0=1 st1=2; fsubr st1,st0: st1 = st0 - st1 = -1
    const { u } = run(32, [...FNINIT, ...FLD1, 0xd8, 0xc0, ...FLD1, 0xdc, 0xe1, ...HLT]);
    expect(st(u, 1)).toEqual([0x80000000, 0, 0xbfff]);
    // fld1; fld1; fadd st0,st0 (2); fdivp st1,st0: st1 = st1 / st0 = 0.5, pop
    const r = run(32, [...FNINIT, ...FLD1, ...FLD1, 0xd8, 0xc0, 0xde, 0xf9, ...HLT]);
    expect(top(r.u)).toBe(7);
    expect(st(r.u, 0)).toEqual([0x80000000, 0, 0x3ffe]);
  });

  it('unmasked ZE leaves the destination and sets ES/B; #MF at the next waiting instruction (NE = 1)', () => {
    const { u, exit } = run(32, [...FNINIT, ...M(0xd9, 5), ...FLDZ, ...FLD1, 0xd8, 0xf1, 0xdf, 0xe0, ...FLD1, ...HLT], (m) => {
      m.mem[DATA] = 0x7b; m.mem[DATA + 1] = 0x03; // FCW 037BH: ZE unmasked
      m.cpu.state.u32[S_CR0] |= 0x20;
    });
    expect(exit.reason === 'exception' && exit.vector).toBe(16);
    expect(u[0]! & 0xffff).toBe(0xb084); // fnstsw ax before the fault (the fixture exc_fpu's value)
    expect(st(u, 0)).toEqual(ONE);
    expect(exit.reason === 'exception' && exit.ripLo).toBe(CODE_BASE + 2 + 6 + 2 + 2 + 2 + 2);
  });

  it('with CR0.NE = 0 a pending exception signals FERR# and the waiting instruction goes on', () => {
    let ferr = 0;
    const { exit, u } = run(32, [...FNINIT, ...M(0xd9, 5), ...FLDZ, ...FLD1, 0xd8, 0xf1, 0x9b, ...FLD1, ...HLT], (m) => {
      m.mem[DATA] = 0x7b; m.mem[DATA + 1] = 0x03;
      m.cpu.onFerr = () => { ferr++; };
    });
    expect(exit.reason).toBe('hlt');
    expect(ferr).toBe(2); // FWAIT and FLD1
    expect(top(u)).toBe(5);
  });

  it('FCOMI/FUCOMIP set ZF PF CF and clear OF SF AF (SDM Vol. 2 FCOMI Table)', () => {
    const flags = (code: number[]) => getFlags(run(32, [...FNINIT, ...code, 0xdb, 0xf1, ...HLT]).u) & (ZF | PF | CF | 0x880 | 0x10);
    expect(flags([...FLD1, ...FLDZ])).toBe(CF); // 0 < 1
    expect(flags([...FLDZ, ...FLD1])).toBe(0); // 1 > 0
    expect(flags([...FLD1, ...FLD1])).toBe(ZF);
    // 0/0 = indefinite (IE masked): unordered
    expect(flags([...FLD1, ...FLDZ, ...FLDZ, 0xde, 0xf9])).toBe(ZF | PF | CF);
    const r = run(32, [...FNINIT, ...FLD1, ...FLD1, 0xdf, 0xe9, ...HLT]); // fucomip pops
    expect(top(r.u)).toBe(7);
  });

  it('FCOM/FCOMPP condition codes: > 000, < 001, = 100 (C3 C2 C0)', () => {
    const cc = (code: number[]) => run(32, [...FNINIT, ...code, 0xde, 0xd9, ...HLT]).u[S_FSW]! & 0x4500;
    expect(cc([...FLDZ, ...FLD1])).toBe(0);
    expect(cc([...FLD1, ...FLDZ])).toBe(0x100);
    expect(cc([...FLD1, ...FLD1])).toBe(0x4000);
  });

  it('FIST overflow stores the integer indefinite with IE; FISTP m16 of 1.5 rounds to even (SDM Vol. 2 FIST)', () => {
    // fld qword [DATA] (1e10); fistp dword [DATA+16]
    const r = run(32, [...FNINIT, ...M(0xdd, 0), ...M(0xdb, 3, DATA + 16), ...HLT], (m) => {
      wr32(m, DATA, 0); wr32(m, DATA + 4, 0x4202a05f); // 1e10 = 4202A05F_20000000
      wr32(m, DATA, 0x20000000);
    });
    expect(rd32(r.m, DATA + 16)).toBe(0x80000000);
    expect(r.u[S_FSW]! & 0x3f).toBe(1);
    expect(top(r.u)).toBe(0);
    // 1.5 -> 2 (RN), inexact (PE), C1 = 1 (rounded up)
    const h = run(32, [...FNINIT, ...FLD1, ...FLD1, ...M(0xd8, 6, DATA), 0xd8, 0xc1, ...M(0xdf, 3, DATA + 16), ...HLT], (m) => {
      wr32(m, DATA, 0x40000000); // 2.0f: fdiv -> 0.5, fadd st0,st1 -> 1.5
    });
    expect(rd16(h.m, DATA + 16)).toBe(2);
    expect(h.u[S_FSW]! & 0x23f).toBe(0x220);
  });

  it('FBSTP of 10^18 - 1 and of -7, FBLD back (SDM Vol. 2 FBSTP/FBLD)', () => {
    const bcd = [0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x00];
    // fbld [DATA]; fbstp [DATA+16]
    const r = run(32, [...FNINIT, ...M(0xdf, 4), ...M(0xdf, 6, DATA + 16), ...HLT], (m) => { m.mem.set(bcd, DATA); });
    expect([...r.m.mem.subarray(DATA + 16, DATA + 26)]).toEqual(bcd);
    expect(r.u[S_FSW]! & 0x3f).toBe(0);
    // 10^18-1 = 0DE0B6B3A763FFFF exactly: significand DE0B6B3A763FFFF << 4, exponent 3FFF+59
    const l = run(32, [...FNINIT, ...M(0xdf, 4), ...HLT], (m) => { m.mem.set(bcd, DATA); });
    expect(st(l.u, 0)).toEqual([0xde0b6b3a, 0x763ffff0, 0x3fff + 59]);
    // -7: fld1 ... build 7 = 8 - 1? simpler: fild m16 -7, fbstp
    const n = run(32, [...FNINIT, ...M(0xdf, 0), ...M(0xdf, 6, DATA + 16), ...HLT], (m) => { m.mem[DATA] = 0xf9; m.mem[DATA + 1] = 0xff; });
    expect([...n.m.mem.subarray(DATA + 16, DATA + 26)]).toEqual([7, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    // 10^18 (out of range): IE, BCD indefinite FFFF C000 0000 0000 0000
    const o = run(32, [...FNINIT, ...M(0xdf, 5), ...M(0xdf, 6, DATA + 16), ...HLT], (m) => { wr32(m, DATA, 0xa7640000); wr32(m, DATA + 4, 0x0de0b6b3); });
    expect([...o.m.mem.subarray(DATA + 16, DATA + 26)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]);
    expect(o.u[S_FSW]! & 1).toBe(1);
  });

  it('FPREM: 7 rem 2 = 1 with quotient 3 in C0/C3/C1 (SDM Vol. 2 FPREM)', () => {
    const r = run(32, [...FNINIT, ...M(0xdf, 0, DATA), ...M(0xdf, 0, DATA + 2), 0xd9, 0xf8, ...HLT], (m) => {
      m.mem[DATA] = 2; m.mem[DATA + 2] = 7;
    });
    expect(st(r.u, 0)).toEqual(ONE);
    expect(r.u[S_FSW]! & 0x4700).toBe(0x4200); // q = 3: C0 = 0, C3 = 1, C1 = 1, C2 = 0
  });

  it('FCMOVB moves when CF = 1', () => {
    // stc; fld1; fldz; fcmovb st0, st1
    const r = run(32, [...FNINIT, 0xf9, ...FLD1, ...FLDZ, 0xda, 0xc1, ...HLT]);
    expect(st(r.u, 0)).toEqual(ONE);
  });
});

describe('x87 availability (SDM Vol. 3A Table 2-2, 6.15)', () => {
  it('#NM when CR0.TS or CR0.EM; WAIT only when TS and MP', () => {
    expect(run(32, [...FLD1], (m) => { m.cpu.state.u32[S_CR0] |= 8; }).exit).toMatchObject({ reason: 'exception', vector: 7 });
    expect(run(32, [...FLD1], (m) => { m.cpu.state.u32[S_CR0] |= 4; }).exit).toMatchObject({ reason: 'exception', vector: 7 });
    expect(run(32, [0x9b, ...HLT], (m) => { m.cpu.state.u32[S_CR0] |= 8 | 2; }).exit).toMatchObject({ reason: 'exception', vector: 7 });
    expect(run(32, [0x9b, ...HLT], (m) => { m.cpu.state.u32[S_CR0] |= 8; }).exit.reason).toBe('hlt');
    expect(run(32, [0x9b, ...HLT], (m) => { m.cpu.state.u32[S_CR0] |= 4; }).exit.reason).toBe('hlt');
  });

  it('non-waiting FNSTSW/FNCLEX run with an exception pending, FNCLEX clears ES and B', () => {
    const { u, exit } = run(32, [...FNINIT, ...M(0xd9, 5), ...FLDZ, ...FLD1, 0xd8, 0xf1, 0xdf, 0xe0, 0xdb, 0xe2, ...FLD1, ...HLT], (m) => {
      m.mem[DATA] = 0x7b; m.mem[DATA + 1] = 0x03;
      m.cpu.state.u32[S_CR0] |= 0x20;
    });
    expect(exit.reason).toBe('hlt');
    expect(u[0]! & 0xffff).toBe(0xb084);
    expect(u[S_FSW]! & 0xff).toBe(0);
  });
});

describe('x87 state images', () => {
  it('FNSTENV 32-bit protected-mode layout (SDM Vol. 1 Figure 8-9), then all exceptions masked', () => {
    // fninit; fld1; fld dword [DATA+0x40]; fnstenv [DATA]
    const { m, u } = run(32, [...FNINIT, ...FLD1, ...M(0xd9, 0, DATA + 0x40), ...M(0xd9, 6), ...HLT], (mm) => {
      wr32(mm, DATA + 0x40, 0); // +0.0f
    });
    expect(rd32(m, DATA) & 0xffff).toBe(0x37f);
    expect(rd32(m, DATA + 4) & 0xffff).toBe(0x3000); // TOP = 6
    // tags: R7 valid (1.0) 00, R6 zero 01, others empty 11
    expect(rd32(m, DATA + 8) & 0xffff).toBe(0x1fff);
    expect(rd32(m, DATA + 12)).toBe(CODE_BASE + 4);
    expect(rd32(m, DATA + 16)).toBe((8 | (0x105 << 16)) >>> 0);
    expect(rd32(m, DATA + 20)).toBe(DATA + 0x40);
    expect(rd32(m, DATA + 24) & 0xffff).toBe(16);
    expect(u[S_FCW]).toBe(0x37f);
  });

  it('FNSTENV 16-bit real-mode layout: 20-bit linear pointers (Figure 8-12)', () => {
    // real mode, CS = 0: fninit; fld1; fnstenv [0x2000] (16-bit addressing: d9 36 disp16)
    const { m } = run(16, [...FNINIT, ...FLD1, 0xd9, 0x36, 0x00, 0x20, ...HLT]);
    expect(rd16(m, DATA)).toBe(0x37f);
    expect(rd16(m, DATA + 2)).toBe(0x3800);
    expect(rd16(m, DATA + 4)).toBe(0x3fff);
    expect(rd16(m, DATA + 6)).toBe(CODE_BASE + 2);
    expect(rd16(m, DATA + 8)).toBe(0x1e8); // IP 19:16 = 0, FOP D9 E8 -> 1E8H
  });

  it('FNSAVE stores environment + ST(0..7) and re-initialises; FRSTOR restores (SDM Vol. 2 FSAVE)', () => {
    const { m, u } = run(32, [...FNINIT, ...FLD1, ...FLDZ, ...M(0xdd, 6), ...HLT]);
    expect([u[S_FCW], u[S_FSW], u[S_FTW]]).toEqual([0x37f, 0, 0]);
    expect(rd16(m, DATA + 28 + 8)).toBe(0); // ST(0) = +0
    expect(rd32(m, DATA + 38 + 4)).toBe(0x80000000); // ST(1) = 1.0
    expect(rd16(m, DATA + 38 + 8)).toBe(0x3fff);
    const r = run(32, [...M(0xdd, 4), ...HLT], (mm) => { mm.mem.set(m.mem.subarray(DATA, DATA + 108), DATA); });
    expect(top(r.u)).toBe(6);
    expect(r.u[S_FTW]).toBe(0xc0);
    expect(st(r.u, 1)).toEqual(ONE);
  });

  it('FXSAVE layout: abridged tags, MXCSR, MXCSR_MASK FFFFH, ST(i) at 32+16i, XMM at 160 (Table 10-2)', () => {
    const { m } = run(32, [...FNINIT, ...FLD1, 0x0f, 0xae, 0x05, ...le32(DATA), ...HLT], (mm) => {
      const u = mm.cpu.state.u32;
      u[S_CR4] |= 0x200;
      u[S_XMM + 4 * 7 + 3] = 0xdeadbeef;
      u[S_XMM + 4 * 8] = 0x12345678;
      mm.mem.fill(0xaa, DATA, DATA + 512);
    });
    expect(rd16(m, DATA)).toBe(0x37f);
    expect(rd16(m, DATA + 2)).toBe(0x3800);
    expect(m.mem[DATA + 4]).toBe(0x80);
    expect(m.mem[DATA + 5]).toBe(0);
    expect(rd16(m, DATA + 6)).toBe(0x1e8);
    expect(rd32(m, DATA + 8)).toBe(CODE_BASE + 2);
    expect(rd32(m, DATA + 24)).toBe(0x1f80);
    expect(rd32(m, DATA + 28)).toBe(0xffff);
    expect(rd32(m, DATA + 36)).toBe(0x80000000);
    expect(rd16(m, DATA + 40)).toBe(0x3fff);
    expect(rd32(m, DATA + 160 + 7 * 16 + 12)).toBe(0xdeadbeef);
    expect(rd32(m, DATA + 288)).toBe(0xaaaaaaaa); // XMM8 area untouched outside 64-bit mode
  });

  it('FXSAVE64 saves XMM8-15 and 64-bit FIP; FXRSTOR round-trips; misaligned or reserved MXCSR -> #GP(0)', () => {
    const code64 = [...FLD1, 0x48, 0x0f, 0xae, 0x04, 0x25, ...le32(DATA), ...HLT]; // fxsave64 [DATA] (SIB, no base)
    const { m } = run(64, code64, (mm) => { mm.cpu.state.u32[S_XMM + 4 * 15 + 1] = 0x55667788; });
    expect(rd32(m, DATA + 160 + 15 * 16 + 4)).toBe(0x55667788);
    expect(rd32(m, DATA + 8)).toBe(CODE_BASE); // FIP of the FLD1
    expect(rd32(m, DATA + 12)).toBe(0);
    expect(rd32(m, DATA + 16)).toBe(0); // FDP: 64 bits, no memory operand yet
    const mis = run(32, [0x0f, 0xae, 0x05, ...le32(DATA + 8), ...HLT]);
    expect(mis.exit).toMatchObject({ reason: 'exception', vector: 13 });
    const bad = run(32, [0x0f, 0xae, 0x0d, ...le32(DATA), ...HLT], (mm) => { wr32(mm, DATA + 24, 0x10000); });
    expect(bad.exit).toMatchObject({ reason: 'exception', vector: 13 });
    const ok = run(32, [0x0f, 0xae, 0x0d, ...le32(DATA), ...HLT], (mm) => {
      wr32(mm, DATA, 0x3000037f); mm.mem[DATA + 4] = 0x40; wr32(mm, DATA + 24, 0x1fc0);
      wr32(mm, DATA + 32 + 4, 0x80000000); mm.mem[DATA + 40] = 0xff; mm.mem[DATA + 41] = 0x3f;
      wr32(mm, DATA + 160, 0xcafef00d);
    });
    expect(ok.exit.reason).toBe('hlt');
    expect(top(ok.u)).toBe(6);
    expect(ok.u[S_FTW]).toBe(0x40);
    expect(st(ok.u, 0)).toEqual(ONE);
    expect(ok.u[S_MXCSR]).toBe(0x1fc0);
    expect(ok.u[S_XMM]).toBe(0xcafef00d);
  });
});
