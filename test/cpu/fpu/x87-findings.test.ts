/**
 * x87 behaviour settled by helper D's host-CPU differential test (/work/notes/fpu-diff-findings.md,
 * X1..X8), each checked against the SDM text: exception priority (Vol. 1 8.7), the x87 NaN rules
 * (Vol. 1 Table 4-7), condition codes of the instruction pages, masked stack-fault responses (8.5.1.1),
 * ES/B as a summary of unmasked pending flags (8.1.3.1). Expected values are derived from that text.
 */
import { describe, expect, it } from 'vitest';
import { makeCpu, type Machine } from '../harness.js';
import { DATA, FLD1, FLDZ, FNINIT, HLT, INDEF, M, rd16, st, top, wr32 } from './x87-harness.js';
import { FPR_STRIDE, S_FCW, S_FPR, S_FSW, S_FTW } from '../../../src/cpu/state.js';

const FLD80 = (addr: number): number[] => M(0xdb, 5, addr); // FLD m80fp: raw, never an exception
const FLDCW = (addr: number): number[] => M(0xd9, 5, addr);

function run(code: number[], setup?: (m: Machine) => void) {
  const m = makeCpu(32, code);
  setup?.(m);
  const exit = m.cpu.run({ maxInstructions: 1000 });
  expect(exit.reason).toBe('hlt');
  return { m, u: m.cpu.state.u32 };
}
function wr80(m: Machine, a: number, hi: number, lo: number, se: number): void {
  wr32(m, a, lo); wr32(m, a + 4, hi); m.mem[a + 8] = se & 0xff; m.mem[a + 9] = se >>> 8;
}
function wr16(m: Machine, a: number, v: number): void { m.mem[a] = v & 0xff; m.mem[a + 1] = v >>> 8; }
const IE = 1, DE = 2, ZE = 4, UE = 0x10, PE = 0x20, SF = 0x40, ES = 0x80, C1 = 0x200, C2 = 0x400, B = 0x8000;
const A80 = DATA + 0x40, ACW = DATA + 0x60;

/** Sets FCW, FSW (with TOP), the abridged tags and physical registers [p, sig hi, sig lo, sign/exp]. */
function state(m: Machine, fcw: number, fsw: number, ftw: number, regs: number[][] = []): void {
  const v = m.cpu.state.u32;
  v[S_FCW] = fcw; v[S_FSW] = fsw; v[S_FTW] = ftw;
  for (const [p, hi, lo, se] of regs) {
    const o = S_FPR + p! * FPR_STRIDE;
    v[o] = lo!; v[o + 1] = hi!; v[o + 2] = se!;
  }
}
const phys = (u: Uint32Array, p: number): number[] => [u[S_FPR + p * FPR_STRIDE + 1]!, u[S_FPR + p * FPR_STRIDE]!, u[S_FPR + p * FPR_STRIDE + 2]!];

describe('X1: a denormal m32fp/m64fp operand ranks below NaN operands, invalid operations and #Z (SDM Vol. 1 8.7)', () => {
  const QNAN = [0xc1234567, 0x89abcdef, 0x7fff];

  it('FADD m32fp of a QNaN ST(0) and a denormal m32fp: no DE, the QNaN is the result', () => {
    const { u } = run([...FNINIT, ...FLD80(A80), ...M(0xd8, 0), ...HLT], (m) => { wr80(m, A80, QNAN[0]!, QNAN[1]!, QNAN[2]!); wr32(m, DATA, 1); });
    expect(u[S_FSW]! & 0x3f).toBe(0);
    expect(st(u, 0)).toEqual(QNAN);
  });

  it('FMUL m32fp with DM unmasked and a QNaN ST(0): no exception at all, the QNaN stays', () => {
    const { u } = run([...FNINIT, ...FLDCW(ACW), ...FLD80(A80), ...M(0xd8, 1), ...HLT], (m) => {
      wr16(m, ACW, 0x037d); wr80(m, A80, QNAN[0]!, QNAN[1]!, QNAN[2]!); wr32(m, DATA, 0x80000005);
    });
    expect(u[S_FSW]! & (0xff | B)).toBe(0);
    expect(st(u, 0)).toEqual(QNAN);
  });

  it('FCOM m64fp of an unsupported ST(0) and a denormal m64fp: IE only, unordered', () => {
    const { u } = run([...FNINIT, ...FLD80(A80), ...M(0xdc, 2), ...HLT], (m) => { wr80(m, A80, 0x5f72ab47, 0x56e8158b, 0x7fff); wr32(m, DATA, 1); wr32(m, DATA + 4, 0); });
    expect(u[S_FSW]! & 0x3f).toBe(IE);
    expect(u[S_FSW]! & 0x4500).toBe(0x4500);
  });

  it('FDIVR m32fp of a denormal by a zero ST(0): ZE only (priority 3 over 4), -inf for a negative denormal', () => {
    const { u } = run([...FNINIT, ...FLDZ, ...M(0xd8, 7), ...HLT], (m) => wr32(m, DATA, 0x80000001));
    expect(u[S_FSW]! & 0x3f).toBe(ZE);
    expect(st(u, 0)).toEqual([0x80000000, 0, 0xffff]);
  });

  it('a denormal m32fp with a normal ST(0) still raises DE; unmasked, nothing is stored and only DE is set', () => {
    let r = run([...FNINIT, ...FLD1, ...M(0xd8, 0), ...HLT], (m) => wr32(m, DATA, 1));
    expect(r.u[S_FSW]! & 0x3f).toBe(DE | PE);
    r = run([...FNINIT, ...FLDCW(ACW), ...FLD1, ...M(0xd8, 0), ...HLT], (m) => { wr16(m, ACW, 0x037d); wr32(m, DATA, 1); });
    expect(r.u[S_FSW]! & (0xff | B)).toBe(DE | ES | B);
    expect(st(r.u, 0)).toEqual([0x80000000, 0, 0x3fff]);
  });

  it('FYL2X of a negative denormal: IE only (log of a negative, priority 3), the indefinite after the pop', () => {
    const { u } = run([...FNINIT, ...FLD1, ...FLD80(A80), 0xd9, 0xf1, ...HLT], (m) => wr80(m, A80, 0x12345678, 0x9abcdef0, 0x8000));
    expect(u[S_FSW]! & 0x3f).toBe(IE);
    expect(top(u)).toBe(7);
    expect(st(u, 0)).toEqual(INDEF);
  });

  it('FLD m32fp keeps its own conversion exceptions: SNaN -> IE and quieted, denormal -> DE', () => {
    let r = run([...FNINIT, ...M(0xd9, 0), ...HLT], (m) => wr32(m, DATA, 0x7f800001));
    expect(r.u[S_FSW]! & 0x3f).toBe(IE);
    expect(st(r.u, 0)).toEqual([0xc0000100, 0, 0x7fff]);
    r = run([...FNINIT, ...M(0xd9, 0), ...HLT], (m) => wr32(m, DATA, 0x00400000));
    expect(r.u[S_FSW]! & 0x3f).toBe(DE);
    expect(st(r.u, 0)).toEqual([0x80000000, 0, 0x3fff - 127]);
  });
});

describe('X8: the NaN an x87 operation returns with an m32fp/m64fp NaN operand (SDM Vol. 1 Table 4-7)', () => {
  // m32 SNaN 7FA00001H extends to significand A0000100_00000000H (quiet bit 0)
  it('two SNaNs: the larger significand, quieted (the register one here), IE', () => {
    const { u } = run([...FNINIT, ...FLD80(A80), ...M(0xd8, 0), ...HLT], (m) => { wr80(m, A80, 0xb0000000, 0, 0xffff); wr32(m, DATA, 0x7fa00001); });
    expect(u[S_FSW]! & 0x3f).toBe(IE);
    expect(st(u, 0)).toEqual([0xf0000000, 0, 0xffff]);
  });
  it('two SNaNs: the larger significand (the memory one here), quieted, with its sign', () => {
    const { u } = run([...FNINIT, ...FLD80(A80), ...M(0xd8, 0), ...HLT], (m) => { wr80(m, A80, 0xa0000000, 0, 0xffff); wr32(m, DATA, 0x7fa00001); });
    expect(st(u, 0)).toEqual([0xe0000100, 0, 0x7fff]);
  });
  it('a QNaN ST(0) and an SNaN m64fp: the QNaN, IE (the SNaN is an invalid operand)', () => {
    const { u } = run([...FNINIT, ...FLD80(A80), ...M(0xdc, 6), ...HLT], (m) => { wr80(m, A80, 0xc0000000, 0x6d8925b4, 0x7fff); wr32(m, DATA, 0xffffffff); wr32(m, DATA + 4, 0xfff7ffff); });
    expect(u[S_FSW]! & 0x3f).toBe(IE);
    expect(st(u, 0)).toEqual([0xc0000000, 0x6d8925b4, 0x7fff]);
  });
  it('an SNaN ST(0) and a QNaN m32fp: the QNaN m32fp extended, IE', () => {
    const { u } = run([...FNINIT, ...FLD80(A80), ...M(0xd8, 4), ...HLT], (m) => { wr80(m, A80, 0xbfffffff, 0xffffffff, 0x7fff); wr32(m, DATA, 0xffc00001); });
    expect(u[S_FSW]! & 0x3f).toBe(IE);
    expect(st(u, 0)).toEqual([0xc0000100, 0, 0xffff]);
  });
});

describe('X7: unmasked OE/UE with a memory destination', () => {
  it('FST m64fp of 2^-16382 with UE unmasked: UE only, nothing stored, C1 = 0 (SDM Vol. 1 8.5.5)', () => {
    const { m, u } = run([...M(0xdd, 2), ...HLT], (mm) => {
      const v = mm.cpu.state.u32;
      v[S_FCW] = 0x036f; v[S_FSW] = C1 | (7 << 11); v[S_FTW] = 0x80; // ST(0) = R7, C1 = 1 before
      const o = S_FPR + 7 * FPR_STRIDE;
      v[o] = 0; v[o + 1] = 0x80000000; v[o + 2] = 0x0001;
      wr32(mm, DATA, 0x11111111); wr32(mm, DATA + 4, 0x22222222);
    });
    expect(u[S_FSW]! & 0x3f).toBe(UE);
    expect(u[S_FSW]! & C1).toBe(0);
    expect([m.mem[DATA], m.mem[DATA + 7]]).toEqual([0x11, 0x22]);
  });
});


describe('X2-X4: stack faults (SDM Vol. 1 8.5.1.1 and the instruction pages)', () => {
  it('FSIN/FCOS/FSINCOS/FPTAN of an empty ST(0): C2 = 0 ("set to 1 if outside range; otherwise 0"), C1 = 0', () => {
    for (const op of [0xfe, 0xff, 0xfb, 0xf2]) {
      const { u } = run([0xd9, op, ...HLT], (m) => state(m, 0x037f, C2 | C1 | (1 << 11), 0x00));
      expect(u[S_FSW]! & (C2 | C1 | 0x7f)).toBe(IE | SF);
    }
  });
  it('FSINCOS with ST(7) full: stack overflow, C2 = 0, C1 = 1, both results the indefinite', () => {
    const { u } = run([0xd9, 0xfb, ...HLT], (m) => state(m, 0x037f, C2 | (1 << 11), 0xff, [[1, 0x80000000, 0, 0x3fff]]));
    expect(u[S_FSW]! & (C2 | C1 | 0x7f)).toBe(C1 | IE | SF);
    expect([top(u), ...st(u, 0), ...st(u, 1)]).toEqual([0, ...INDEF, ...INDEF]);
  });
  it('FPREM/FPREM1 with an empty ST(1): C2 = 0 (reduction complete), ST(0) the indefinite', () => {
    for (const op of [0xf8, 0xf5]) {
      const { u } = run([0xd9, op, ...HLT], (m) => state(m, 0x037f, C2 | (3 << 11), 0x08, [[3, 0x80000000, 0, 0x3fff]]));
      expect(u[S_FSW]! & (C2 | C1 | 0x7f)).toBe(IE | SF);
      expect(st(u, 0)).toEqual(INDEF);
    }
  });
  it('FLD ST(1) with ST(1) empty and ST(7) full: reported as the underflow (the source is read first), C1 = 0', () => {
    // TOP = 5: ST(1) = R6 empty, the push target R4 full
    const { u } = run([0xd9, 0xc1, ...HLT], (m) => state(m, 0x037f, 5 << 11, 0xbd, [[4, 0x80000000, 0, 0x3fff]]));
    expect(u[S_FSW]! & (C1 | 0x7f)).toBe(IE | SF);
    expect(top(u)).toBe(4);
    expect(st(u, 0)).toEqual(INDEF);
  });
  it('FXTRACT of an empty ST(0) (masked #IS): both results the indefinite and the stack pushed, even over a full ST(7)', () => {
    const { u } = run([0xd9, 0xf4, ...HLT], (m) => state(m, 0x037f, 0, 0xfe, [[7, 0x80000000, 0, 0x3fff]]));
    expect(u[S_FSW]! & (C1 | 0x7f)).toBe(IE | SF);
    expect(top(u)).toBe(7);
    expect([...phys(u, 0), ...phys(u, 7)]).toEqual([...INDEF, ...INDEF]);
  });
});

describe('X5: sin/tan of tiny arguments are inexact (and tiny: UE)', () => {
  // sin x = x - x^3/6 + ..., tan x = x + x^3/3 + ...: for |x| < 2^-40 the result rounds to x or its
  // neighbour by RC, never exactly x (SDM Vol. 1 4.9.1.6 precision, 4.9.1.5 underflow, C1 = round-up)
  const x = [0xc0000000, 0x00000001, 0x3fc0]; // 1.5 * 2^-63 + 2^-126: low significand bits set
  it('FSIN: RC nearest and up give x (rounded up in magnitude from x - x^3/6: C1 = 1), RC down x - 1 ulp (C1 = 0)', () => {
    const sin = (rc: number) => run([0xd9, 0xfe, ...HLT], (m) => state(m, 0x037f | (rc << 10), 7 << 11, 0x80, [[7, x[0]!, x[1]!, x[2]!]])).u;
    let u = sin(0);
    expect([u[S_FSW]! & (C1 | 0x3f), ...st(u, 0)]).toEqual([PE | C1, ...x]);
    u = sin(1);
    expect([u[S_FSW]! & (C1 | 0x3f), ...st(u, 0)]).toEqual([PE, x[0], 0, x[2]]);
    u = sin(2);
    expect([u[S_FSW]! & (C1 | 0x3f), ...st(u, 0)]).toEqual([PE | C1, ...x]);
  });
  it('FPTAN, RC up: x + 1 ulp with C1 = 1, then 1.0 pushed', () => {
    const { u } = run([0xd9, 0xf2, ...HLT], (m) => state(m, 0x0b7f, 7 << 11, 0x80, [[7, x[0]!, x[1]!, x[2]!]]));
    expect(u[S_FSW]! & (C1 | 0x3f)).toBe(PE | C1);
    expect([...st(u, 0), ...st(u, 1)]).toEqual([0x80000000, 0, 0x3fff, x[0], 2, x[2]]);
  });
  it('FSIN of a denormal: DE, UE and PE (tiny and inexact), the denormal itself under RC nearest (C1 = 1)', () => {
    const d = [0x496eb11f, 0xfa4c9a7e, 0x0000];
    const { u } = run([0xd9, 0xfe, ...HLT], (m) => state(m, 0x037f, 7 << 11, 0x80, [[7, d[0]!, d[1]!, d[2]!]]));
    expect(u[S_FSW]! & (C1 | 0x3f)).toBe(DE | UE | PE | C1);
    expect(st(u, 0)).toEqual(d);
  });
});

describe('X6: ES/B follow the masks (SDM Vol. 1 8.1.3.1 "set when any unmasked exception flag is set")', () => {
  it('FNSTENV stores FSW with ES/B, then masks all exceptions: ES and B read 0', () => {
    const { m, u } = run([...M(0xd9, 6), ...HLT], (mm) => state(mm, 0x0372, 0x8084 | (2 << 11), 0));
    expect(rd16(m, DATA + 4)).toBe(0x8084 | (2 << 11));
    expect(u[S_FCW]! & 0x3f).toBe(0x3f);
    expect(u[S_FSW]).toBe(ZE | (2 << 11));
  });
});
