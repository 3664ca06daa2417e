/**
 * softfloat unit tests with expected values derived from the SDM (Vol. 1 4.8-4.9, 8.1.5.2, 8.2.2,
 * 8.5, 11.5.2, Table 4-7) and IEEE 754. softfloat-diff.test.ts also diffs the masked responses and
 * the x87 unmasked O/U/P responses against the host; the SSE unmasked responses are checked only here.
 */
import { describe, expect, it } from 'vitest';
import * as S from '../../../src/cpu/fpu/softfloat.js';

const F = { one: 0x3f800000, two: 0x40000000, max: 0x7f7fffff, minN: 0x00800000, half: 0x3f000000, inf: 0x7f800000, qnan: 0x7fc00000 };
const INDEF32 = 0xffc00000;

function env(p: Partial<S.FpEnv> = {}): S.FpEnv {
  const e = new S.FpEnv();
  Object.assign(e, p);
  return e;
}
/** f80 of a double (exact), as [lo, hi, se]. */
function x(v: number): [number, number, number] {
  const e = env();
  S.f80FromDouble(e, v);
  return [e.lo, e.hi, e.se];
}
const r80 = (e: S.FpEnv): [number, number, number] => [e.lo >>> 0, e.hi >>> 0, e.se];
const d64 = (e: S.FpEnv): number => { const b = new Uint32Array([e.lo, e.hi]); return new Float64Array(b.buffer)[0]!; };
function b64(v: number): [number, number] { const f = new Float64Array([v]); const u = new Uint32Array(f.buffer); return [u[0]!, u[1]!]; }

describe('division by zero and invalid operations (SDM Vol. 1 4.9.1.2, 4.9.1.3)', () => {
  it('1/0 raises ZE only and returns +inf in every format', () => {
    let e = env();
    expect(S.f32Div(e, F.one, 0) >>> 0).toBe(F.inf);
    expect(e.flags).toBe(S.FE_DIVZERO);
    e = env();
    S.f64Div(e, ...b64(1), 0, 0x80000000);
    expect([e.lo, e.hi]).toEqual([0, 0xfff00000]); // 1 / -0 = -inf
    expect(e.flags).toBe(S.FE_DIVZERO);
    e = env({ x87: true });
    S.f80Div(e, ...x(-3), ...x(0));
    expect(r80(e)).toEqual([0, 0x80000000, 0xffff]);
    expect(e.flags).toBe(S.FE_DIVZERO);
  });
  it('0/0, inf-inf, 0*inf, inf/inf and sqrt(-1) give IE and the real indefinite', () => {
    const e = env();
    expect(S.f32Div(e, 0, 0) >>> 0).toBe(INDEF32);
    expect(S.f32Sub(e, F.inf, F.inf) >>> 0).toBe(INDEF32);
    expect(S.f32Mul(e, 0, F.inf) >>> 0).toBe(INDEF32);
    expect(S.f32Div(e, F.inf, F.inf) >>> 0).toBe(INDEF32);
    expect(S.f32Sqrt(e, 0xbf800000) >>> 0).toBe(INDEF32);
    expect(e.flags).toBe(S.FE_INVALID);
    const e2 = env();
    S.f64Sqrt(e2, 0, 0xbff00000);
    expect([e2.lo, e2.hi]).toEqual([0, 0xfff80000]);
    const e3 = env({ x87: true });
    S.f80Sub(e3, 0, 0x80000000, 0x7fff, 0, 0x80000000, 0x7fff);
    expect(r80(e3)).toEqual([0, 0xc0000000, 0xffff]);
  });
  it('sqrt(-0) is -0 with no exception (IEEE 754 5.4.1)', () => {
    const e = env();
    expect(S.f32Sqrt(e, 0x80000000) >>> 0).toBe(0x80000000);
    S.f64Sqrt(e, 0, 0x80000000);
    expect(e.hi >>> 0).toBe(0x80000000);
    expect(e.flags).toBe(0);
  });
});

describe('overflow (SDM Vol. 1 4.9.1.4, Table 4-10)', () => {
  const cases: [number, number, number][] = [
    // rc, sign of operand, expected f32 result of max * 2
    [S.RC_NEAREST, 0, F.inf], [S.RC_ZERO, 0, F.max], [S.RC_UP, 0, F.inf], [S.RC_DOWN, 0, F.max],
    [S.RC_NEAREST, 1, 0xff800000], [S.RC_ZERO, 1, 0xff7fffff], [S.RC_UP, 1, 0xff7fffff], [S.RC_DOWN, 1, 0xff800000],
  ];
  for (const [rc, sign, want] of cases) {
    it(`masked: max*2 with RC=${rc}, sign ${sign} gives ${want.toString(16)} with OE|PE`, () => {
      const e = env({ rc });
      expect(S.f32Mul(e, (F.max | (sign << 31)) >>> 0, F.two) >>> 0).toBe(want);
      expect(e.flags).toBe(S.FE_OVERFLOW | S.FE_INEXACT);
    });
  }
  it('x87 unmasked OE: the result is re-biased by -24576 (SDM 8.5.4), no PE when exact', () => {
    const e = env({ x87: true, masks: 0x3f & ~S.FE_OVERFLOW });
    S.f80Mul(e, 0, 0x80000000, 0x7ffe, ...x(4)); // 2^16383 * 4 = 2^16385
    expect(r80(e)).toEqual([0, 0x80000000, 16385 + 16383 - 24576]);
    expect(e.flags).toBe(S.FE_OVERFLOW);
  });
  it('x87 masked OE with PC=24 rounds to the largest 24-bit significand toward zero', () => {
    const e = env({ x87: true, prec: 24, rc: S.RC_ZERO });
    S.f80Mul(e, 0xffffffff, 0xffffffff, 0x7ffe, ...x(2));
    expect(r80(e)).toEqual([0, 0xffffff00, 0x7ffe]);
    expect(e.flags).toBe(S.FE_OVERFLOW | S.FE_INEXACT);
  });
});

describe('underflow (SDM Vol. 1 4.9.1.5; tininess after rounding, as the host shows)', () => {
  it('masked: smallest normal * 0.5 is an exact denormal, so no UE and no PE', () => {
    const e = env();
    expect(S.f32Mul(e, F.minN, F.half) >>> 0).toBe(0x00400000);
    expect(e.flags).toBe(0);
  });
  it('unmasked SSE: the same exact tiny result raises UE', () => {
    const e = env({ masks: 0x3f & ~S.FE_UNDERFLOW });
    S.f32Mul(e, F.minN, F.half);
    expect(e.flags).toBe(S.FE_UNDERFLOW);
  });
  it('unmasked SSE: UE alone when the significand is exact, UE|PE when it needs rounding (host behaviour)', () => {
    const um = { masks: 0x3f & ~S.FE_UNDERFLOW };
    const a = env(um);
    S.f32Mul(a, 0x0d8ccccd, 0x1b800000); // 1.1 * 2^-100 * 2^-72: 24-bit significand, below 2^-126
    expect(a.flags).toBe(S.FE_UNDERFLOW);
    const b = env(um);
    S.f32Mul(b, 0x0d8ccccd, 0x1bc00000); // * 1.5: the product needs 25 bits
    expect(b.flags).toBe(S.FE_UNDERFLOW | S.FE_INEXACT);
  });
  it('x87 store with unmasked OE writes nothing and reports OE alone (no PE, C1 = 0)', () => {
    const e = env({ x87: true, masks: 0x3f & ~S.FE_OVERFLOW });
    S.f80ToF32(e, 0x12345678, 0xffffffff, 0x4100); // 2^257 * 1.99..: overflows binary32, inexact
    expect(e.flags).toBe(S.FE_OVERFLOW);
    expect(e.c1).toBe(0);
  });
  it('masked: a tiny inexact result raises UE|PE', () => {
    const e = env();
    expect(S.f32Mul(e, 0x00800001, F.half) >>> 0).toBe(0x00400000); // tie to even
    expect(e.flags).toBe(S.FE_UNDERFLOW | S.FE_INEXACT);
  });
  it('a value that rounds up to the smallest normal is not tiny after rounding (PE only)', () => {
    // (2 - 2^-53) * 2^-1023 = (1 - 2^-54) * 2^-1022: RNE rounds to 2^-1022 even with an unbounded exponent.
    const e = env();
    S.f80ToF64(e, 0xfffffc00, 0xffffffff, 0x3c00);
    expect([e.lo, e.hi]).toEqual([0, 0x00100000]);
    expect(e.flags).toBe(S.FE_INEXACT);
    const z = env({ rc: S.RC_ZERO });
    S.f80ToF64(z, 0xfffffc00, 0xffffffff, 0x3c00);
    expect([z.lo, z.hi]).toEqual([0xffffffff, 0x000fffff]);
    expect(z.flags).toBe(S.FE_UNDERFLOW | S.FE_INEXACT);
  });
  it('x87 unmasked UE: the result is re-biased by +24576 (SDM 8.5.5)', () => {
    const e = env({ x87: true, masks: 0x3f & ~S.FE_UNDERFLOW });
    S.f80Mul(e, 0, 0x80000000, 1, ...x(0.5)); // 2^-16382 * 0.5 = 2^-16383
    expect(r80(e)).toEqual([0, 0x80000000, -16383 + 16383 + 24576]);
    expect(e.flags).toBe(S.FE_UNDERFLOW);
  });
  it('FTZ flushes a tiny result to a signed zero with UE|PE when UE is masked (SDM 10.2.3.3)', () => {
    const e = env({ ftz: true });
    expect(S.f32Mul(e, 0x80800000, F.half) >>> 0).toBe(0x80000000);
    expect(e.flags).toBe(S.FE_UNDERFLOW | S.FE_INEXACT);
  });
  it('DAZ reads a denormal operand as zero without DE (SDM 10.2.3.4)', () => {
    const e = env({ daz: true });
    expect(S.f32Add(e, 0x00000001, 0x80000000) >>> 0).toBe(0);
    expect(e.flags).toBe(0);
    const n = env();
    expect(S.f32Add(n, 0x00000001, 0x80000000) >>> 0).toBe(1);
    expect(n.flags).toBe(S.FE_DENORMAL);
  });
});

describe('NaN propagation (SDM Vol. 1 Table 4-7)', () => {
  const snan = 0x7f800001, qnan = 0x7fc00002;
  it('SSE: the first operand wins, quieted, IE when either is an SNaN', () => {
    const e = env();
    expect(S.f32Add(e, snan, qnan) >>> 0).toBe(0x7fc00001);
    expect(e.flags).toBe(S.FE_INVALID);
    const e2 = env();
    expect(S.f32Add(e2, qnan, snan) >>> 0).toBe(qnan);
    expect(e2.flags).toBe(S.FE_INVALID);
    expect(S.f32Mul(env(), F.one, snan) >>> 0).toBe(0x7fc00001);
  });
  it('x87: a QNaN wins over an SNaN; of two QNaNs the larger significand', () => {
    const e = env({ x87: true });
    S.f80Add(e, 1, 0x80000000, 0x7fff, 5, 0xc0000000, 0xffff); // SNaN + QNaN
    expect(r80(e)).toEqual([5, 0xc0000000, 0xffff]);
    expect(e.flags).toBe(S.FE_INVALID);
    const e2 = env({ x87: true });
    S.f80Mul(e2, 0, 0xc0000001, 0x7fff, 0, 0xc0000002, 0xffff);
    expect(r80(e2)).toEqual([0, 0xc0000002, 0xffff]);
    expect(e2.flags).toBe(0);
    const e3 = env({ x87: true });
    S.f80Sub(e3, 9, 0x80000000, 0x7fff, 3, 0x80000000, 0xffff); // two SNaNs: larger, quieted
    expect(r80(e3)).toEqual([9, 0xc0000000, 0x7fff]);
    expect(e3.flags).toBe(S.FE_INVALID);
  });
});

describe('x87 extended format (SDM Vol. 1 8.1.5.2, 8.2.2)', () => {
  it('a pseudo-denormal is a valid denormal operand: DE, value 2^-16382', () => {
    const e = env({ x87: true });
    S.f80Add(e, 0, 0x80000000, 0, ...x(0));
    expect(r80(e)).toEqual([0, 0x80000000, 1]);
    expect(e.flags).toBe(S.FE_DENORMAL);
  });
  it('unnormals, pseudo-infinities and pseudo-NaNs are invalid operands', () => {
    for (const [hi, se] of [[0x40000000, 0x3fff], [0, 0x7fff], [0x40000000, 0x7fff]] as const) {
      const e = env({ x87: true });
      S.f80Add(e, 0, hi, se, ...x(1));
      expect(r80(e)).toEqual([0, 0xc0000000, 0xffff]);
      expect(e.flags).toBe(S.FE_INVALID);
      expect(S.f80Class(0, hi, se)).toBe(S.CLS_UNSUPPORTED);
    }
  });
  it('precision control 24 rounds the significand but keeps the 15-bit exponent range', () => {
    const e = env({ x87: true, prec: 24 });
    S.f80Div(e, ...x(1), ...x(3));
    expect(r80(e)).toEqual([0, 0xaaaaab00, 0x3ffd]);
    expect(e.flags).toBe(S.FE_INEXACT);
    expect(e.c1).toBe(1);
    const t = env({ x87: true, prec: 24 });
    S.f80Mul(t, ...x(2 ** -200), ...x(2 ** -200)); // 2^-400: far below binary32, normal in f80
    expect(r80(t)).toEqual([0, 0x80000000, 16383 - 400]);
    expect(t.flags).toBe(0);
  });
  it('C1 records a rounding up in magnitude', () => {
    const up = env({ x87: true, rc: S.RC_UP });
    S.f80Div(up, ...x(1), ...x(3));
    expect(up.c1).toBe(1);
    const dn = env({ x87: true, rc: S.RC_DOWN });
    S.f80Div(dn, ...x(1), ...x(3));
    expect(dn.c1).toBe(0);
  });
});

describe('integer conversions (SDM Vol. 1 4.8.3.7, Vol. 2 CVTSD2SI/FIST)', () => {
  it('NaN and out-of-range values give IE and the integer indefinite', () => {
    const e = env();
    S.f32ToInt(e, F.qnan, 32, false);
    expect(e.lo >>> 0).toBe(0x80000000);
    S.f64ToInt(e, ...b64(2 ** 31), 32, true);
    expect(e.lo >>> 0).toBe(0x80000000);
    S.f64ToInt(e, ...b64(2 ** 63), 64, true);
    expect([e.lo, e.hi >>> 0]).toEqual([0, 0x80000000]);
    S.f80ToInt(e, ...x(40000), 16, false);
    expect(e.lo).toBe(0x8000);
    expect(e.flags).toBe(S.FE_INVALID);
  });
  it('-2^31 and -2^63 are in range', () => {
    const e = env();
    S.f64ToInt(e, ...b64(-(2 ** 31)), 32, false);
    expect(e.lo >>> 0).toBe(0x80000000);
    S.f64ToInt(e, ...b64(-(2 ** 63)), 64, false);
    expect([e.lo, e.hi >>> 0]).toEqual([0, 0x80000000]);
    expect(e.flags).toBe(0);
  });
  it('rounds by RC (ties to even) or truncates, PE when inexact', () => {
    const e = env();
    for (const [v, want] of [[0.5, 0], [1.5, 2], [2.5, 2], [-2.5, -2], [-0.75, -1]] as const) {
      S.f64ToInt(e, ...b64(v), 32, false);
      expect(e.lo | 0).toBe(want);
    }
    S.f64ToInt(e, ...b64(-2.75), 32, true);
    expect(e.lo | 0).toBe(-2);
    const d = env({ rc: S.RC_DOWN });
    S.f64ToInt(d, ...b64(2.5), 64, false);
    expect([d.lo, d.hi]).toEqual([2, 0]);
    expect(d.flags).toBe(S.FE_INEXACT);
  });
  it('int64 -> binary32 rounds 2^63-1 to 2^63 with PE; int32 -> f80 is exact', () => {
    const e = env();
    expect(S.i64ToF32(e, 0xffffffff, 0x7fffffff) >>> 0).toBe(0x5f000000);
    expect(e.flags).toBe(S.FE_INEXACT);
    const x8 = env();
    S.i32ToF80(x8, -2147483648);
    expect(r80(x8)).toEqual([0, 0x80000000, 0xc01e]);
    expect(x8.flags).toBe(0);
  });
});

describe('round to integral, FPREM/FPREM1, FSCALE (SDM Vol. 2)', () => {
  it('ROUNDSD with precision suppressed raises no PE', () => {
    const e = env();
    S.f64RoundInt(e, ...b64(2.5), S.RC_NEAREST, true);
    expect(d64(e)).toBe(2);
    expect(e.flags).toBe(0);
    S.f64RoundInt(e, ...b64(-0.3), S.RC_UP, false);
    expect([e.lo, e.hi >>> 0]).toEqual([0, 0x80000000]); // -0
    expect(e.flags).toBe(S.FE_INEXACT);
  });
  it('FPREM truncates the quotient, FPREM1 rounds it to nearest; q holds its low bits', () => {
    const e = env({ x87: true });
    S.f80Rem(e, ...x(5), ...x(3), false);
    expect(S.f80ToDouble(e.lo, e.hi, e.se)).toBe(2);
    expect([e.q, e.partial]).toEqual([1, 0]);
    S.f80Rem(e, ...x(5), ...x(3), true);
    expect(S.f80ToDouble(e.lo, e.hi, e.se)).toBe(-1);
    expect([e.q, e.partial]).toEqual([2, 0]);
    S.f80Rem(e, ...x(2 ** 100), ...x(3), false); // exponent difference >= 64: partial
    expect(e.partial).toBe(1);
  });
  it('FSCALE multiplies by 2^trunc(ST1)', () => {
    const e = env({ x87: true });
    S.f80Scale(e, ...x(1.5), ...x(3.9));
    expect(S.f80ToDouble(e.lo, e.hi, e.se)).toBe(12);
    S.f80Scale(e, ...x(1), ...x(-2.5));
    expect(S.f80ToDouble(e.lo, e.hi, e.se)).toBe(0.25);
    expect(e.flags).toBe(0);
  });
  it('f80RoundPack rounds an unbounded value at e.prec; f80FromDouble/f80ToDouble round-trip', () => {
    const e = env({ x87: true, prec: 53 });
    S.f80RoundPack(e, 0, 0, 0xffffffff, 0xffffffff, 1); // just below 2: rounds up to 2.0
    expect(r80(e)).toEqual([0, 0x80000000, 0x4000]);
    expect(e.flags).toBe(S.FE_INEXACT);
    for (const v of [0, -0, 1, Math.PI, 5e-324, -1.7976931348623157e308, Infinity]) {
      expect(Object.is(S.f80ToDouble(...x(v)), v)).toBe(true);
    }
  });
});

describe('compares (SDM Vol. 2 COMISS/UCOMISS, FCOM/FUCOM)', () => {
  it('orders values, -0 == +0, and NaNs unordered with IE per quiet/signalling', () => {
    const e = env();
    expect(S.f32Cmp(e, F.one, F.two, false)).toBe(S.CMP_LT);
    expect(S.f32Cmp(e, 0x80000000, 0, false)).toBe(S.CMP_EQ);
    expect(S.f32Cmp(e, 0xff800000, 0xff7fffff, false)).toBe(S.CMP_LT);
    expect(e.flags).toBe(0);
    expect(S.f32Cmp(e, F.qnan, F.one, true)).toBe(S.CMP_UN);
    expect(e.flags).toBe(0);
    expect(S.f32Cmp(e, F.qnan, F.one, false)).toBe(S.CMP_UN);
    expect(e.flags).toBe(S.FE_INVALID);
    const q = env();
    expect(S.f64Cmp(q, 1, 0x7ff00000, 0, 0, true)).toBe(S.CMP_UN); // SNaN, quiet compare
    expect(q.flags).toBe(S.FE_INVALID);
  });
});
