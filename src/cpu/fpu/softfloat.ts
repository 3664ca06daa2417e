/**
 * IEEE 754 arithmetic for binary32, binary64 and the x87 double-extended format (80-bit), bit-exact
 * with x86 processors: every rounding mode, x87 precision control, the six exception flags (masked
 * and unmasked responses), C1, SSE DAZ/FTZ and the x87 / SSE NaN rules. Diffed against the host CPU
 * by test/cpu/fpu/softfloat-diff.test.ts (oracle/fpu); docs/fpu.md "softfloat" lists the rules the
 * SDM leaves open and what the host does there.
 *
 * Spec: Intel SDM Vol. 1 4.2 (formats), 4.8 (real numbers, NaNs, 4.8.3.4 real indefinite),
 * 4.8.4 (rounding), 4.9 (exceptions; 4.9.1.5 underflow), Table 4-7 (NaN propagation), 8.1.5.2
 * (precision control), 8.2.2 (unsupported double-extended encodings), 8.5 (x87 exception responses,
 * 8.5.4/8.5.5 the re-biased result of unmasked overflow/underflow), 10.2.3.3 / 11.5.2 (FTZ, DAZ).
 * IEEE 754-2008 for the rest. Tininess is detected after rounding (as the host does).
 *
 * Internal form: a value is sign, an unbounded unbiased exponent and a significand normalised into
 * 96 bits held in three uint32 limbs W.r2:W.r1:W.r0 (bit 95 = the integer bit), value = 1.f * 2^exp. The
 * least significant bit of W.r0 is a sticky ("jam") bit: it is OR-ed with everything shifted out, and
 * since every precision keeps at most 64 bits, W.r0 only ever holds bits below the rounding point.
 * One routine (roundPack) rounds that to 24/53/64 significand bits in the binary32, binary64 or
 * extended exponent range. No BigInt, no allocation: one module-level scratch object (W).
 */

export const FE_INVALID = 1, FE_DENORMAL = 2, FE_DIVZERO = 4, FE_OVERFLOW = 8, FE_UNDERFLOW = 16, FE_INEXACT = 32;
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;
export const CMP_LT = 0, CMP_EQ = 1, CMP_GT = 2, CMP_UN = 3;
export const CLS_ZERO = 0, CLS_SUBNORMAL = 1, CLS_NORMAL = 2, CLS_INF = 3, CLS_QNAN = 4, CLS_SNAN = 5, CLS_UNSUPPORTED = 6;

/** Floating-point environment of one operation, and its result. */
export class FpEnv {
  /** Rounding control (x87 FCW.RC / MXCSR.RC): RC_*. */
  rc = 0;
  /** f80 arithmetic only: x87 precision control as significand bits, 24 | 53 | 64. */
  prec = 64;
  /** Exception masks in FE_* order (FCW bits 5:0 / MXCSR bits 12:7 >> 7); a set bit = masked. */
  masks = 0x3f;
  /** SSE: denormal operands read as zero (no DE). */
  daz = false;
  /** SSE: tiny results flush to zero when UE is masked (sets UE|PE). */
  ftz = false;
  /** NaN propagation: true = x87 rules, false = SSE rules (SDM Vol. 1 Table 4-7). */
  x87 = false;
  /** Sticky OR of raised FE_* bits; callers clear it before an operation. */
  flags = 0;
  /** x87: 1 when the last rounding rounded the magnitude up (FSW.C1), else 0. */
  c1 = 0;
  /** Result: f32 bits in lo; f64 lo/hi; f80 significand lo/hi + sign/exponent word in se. */
  lo = 0;
  hi = 0;
  se = 0;
  /** f80Rem: low three bits of the quotient (C0/C3/C1). */
  q = 0;
  /** f80Rem: 1 when the reduction is incomplete (C2). */
  partial = 0;
}

// ---- formats -------------------------------------------------------------------------------------
// Exponent-range codes for roundPack.
const R32 = 0, R64 = 1, R80 = 2;
const EMIN = [-126, -1022, -16382];
const EMAX = [127, 1023, 16383];
const BIAS = [127, 1023, 16383];
/** x87 re-bias of an unmasked overflow / underflow result (SDM Vol. 1 8.5.4, 8.5.5). */
const REBIAS = 24576;

const TWO32 = 0x1_0000_0000;

// ---- scratch registers -----------------------------------------------------------------------------
/**
 * Scratch registers of the current operation. Fields of one object rather than module variables:
 * V8 keeps double-valued fields (uint32 values >= 2^31) in place, where a module variable would box
 * a new heap number on every store. Initialised with doubles so the field representation never changes.
 */
class Scratch {
  // Unpacked operand (unpack32/64/80): sign, exponent, 64-bit significand.
  uS = 0.5; uE = 0.5; uH = 0.5; uL = 0.5;
  // Working significand (96 bits) for roundPack.
  r2 = 0.5; r1 = 0.5; r0 = 0.5;
  /**
   * A denormal operand seen by denormals2 / the unary operations, not yet reported: the host reports
   * DE only when the operation goes on to compute (an invalid operation or a division by zero
   * reports IE / ZE alone), so deStops raises it on the computing paths.
   */
  pendDE = 0.5;
  // The two staged operands of a binary operation: class, sign, exponent, significand.
  aC = 0.5; aS = 0.5; aE = 0.5; aH = 0.5; aL = 0.5;
  bC = 0.5; bS = 0.5; bE = 0.5; bH = 0.5; bL = 0.5;
  // abs64 output.
  nHi = 0.5; nLo = 0.5;
}
const W = new Scratch();

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

/** Unpacks binary32 bits; returns the class. Subnormals are normalised (W.uE below -126). */
function unpack32(a: number): number {
  const exp = (a >>> 23) & 0xff, frac = a & 0x7fffff;
  W.uS = a >>> 31;
  W.uL = 0;
  if (exp === 0xff) {
    if (frac === 0) return CLS_INF;
    return (frac & 0x400000) !== 0 ? CLS_QNAN : CLS_SNAN;
  }
  if (exp === 0) {
    if (frac === 0) return CLS_ZERO;
    const lz = Math.clz32(frac);
    W.uH = (frac << lz) >>> 0;
    W.uE = -118 - lz;
    return CLS_SUBNORMAL;
  }
  W.uH = ((0x800000 | frac) << 8) >>> 0;
  W.uE = exp - 127;
  return CLS_NORMAL;
}

function unpack64(lo: number, hi: number): number {
  const exp = (hi >>> 20) & 0x7ff, fh = hi & 0xfffff;
  W.uS = hi >>> 31;
  if (exp === 0x7ff) {
    if ((fh | lo) === 0) return CLS_INF;
    return (fh & 0x80000) !== 0 ? CLS_QNAN : CLS_SNAN;
  }
  if (exp === 0) {
    if ((fh | lo) === 0) return CLS_ZERO;
    if (fh !== 0) {
      const lz = Math.clz32(fh); // >= 12
      W.uH = ((fh << lz) | (lo >>> (32 - lz))) >>> 0;
      W.uL = (lo << lz) >>> 0;
      W.uE = -1011 - lz;
    } else {
      const lz = Math.clz32(lo);
      W.uH = (lo << lz) >>> 0;
      W.uL = 0;
      W.uE = -1043 - lz;
    }
    return CLS_SUBNORMAL;
  }
  W.uH = (((0x100000 | fh) << 11) | (lo >>> 21)) >>> 0;
  W.uL = (lo << 11) >>> 0;
  W.uE = exp - 1023;
  return CLS_NORMAL;
}

/** Unpacks an f80; pseudo-denormals (exp 0, J = 1) are denormals with exponent -16382 (SDM 8.2.2). */
function unpack80(lo: number, hi: number, se: number): number {
  const exp = se & 0x7fff;
  W.uS = (se >>> 15) & 1;
  if (exp === 0x7fff) {
    if ((hi & 0x80000000) === 0) return CLS_UNSUPPORTED;
    if (((hi & 0x7fffffff) | lo) === 0) return CLS_INF;
    return (hi & 0x40000000) !== 0 ? CLS_QNAN : CLS_SNAN;
  }
  if (exp === 0) {
    if ((hi | lo) === 0) return CLS_ZERO;
    const lz = clz64(hi, lo);
    if (lz === 0) { W.uH = hi >>> 0; W.uL = lo >>> 0; }
    else if (lz < 32) { W.uH = ((hi << lz) | (lo >>> (32 - lz))) >>> 0; W.uL = (lo << lz) >>> 0; }
    else { W.uH = (lo << (lz - 32)) >>> 0; W.uL = 0; }
    W.uE = -16382 - lz;
    return CLS_SUBNORMAL;
  }
  if ((hi & 0x80000000) === 0) return CLS_UNSUPPORTED;
  W.uH = hi >>> 0;
  W.uL = lo >>> 0;
  W.uE = exp - 16383;
  return CLS_NORMAL;
}

export function f32Class(a: number): number { return unpack32(a >>> 0); }
export function f64Class(lo: number, hi: number): number { return unpack64(lo >>> 0, hi >>> 0); }
export function f80Class(lo: number, hi: number, se: number): number { return unpack80(lo >>> 0, hi >>> 0, se & 0xffff); }

// ---- NaNs ----------------------------------------------------------------------------------------
// Real indefinite (SDM Vol. 1 4.8.3.7): sign 1, quiet bit, rest 0.
const F32_INDEF = 0xffc00000;
const F64_INDEF_HI = 0xfff80000;
const F80_INDEF_HI = 0xc0000000, F80_INDEF_SE = 0xffff;

function setIndef(e: FpEnv, r: number): void {
  W.pendDE = 0;
  e.flags |= FE_INVALID;
  e.c1 = 0;
  if (r === R32) { e.lo = F32_INDEF; e.hi = 0; e.se = 0; }
  else if (r === R64) { e.lo = 0; e.hi = F64_INDEF_HI; e.se = 0; }
  else { e.lo = 0; e.hi = F80_INDEF_HI; e.se = F80_INDEF_SE; }
}

function isNan(c: number): boolean { return c === CLS_QNAN || c === CLS_SNAN; }

/**
 * Two-operand NaN result (SDM Vol. 1 Table 4-7), at least one of a/b a NaN. SSE: the first source
 * operand that is a NaN, quieted. x87: a QNaN over an SNaN; two of the same kind: the larger
 * significand (equal: the positive one); quieted.
 * nanFromA decides whether the result comes from operand a: `cmp` orders the two significands without
 * their quiet bits (> 0: a's is larger), `aPositive` breaks a tie. Raises IE for an SNaN operand.
 */
function nanFromA(e: FpEnv, ca: number, cb: number, cmp: number, aPositive: boolean): boolean {
  if (ca === CLS_SNAN || cb === CLS_SNAN) e.flags |= FE_INVALID;
  e.c1 = 0;
  if (!isNan(cb)) return true;
  if (!isNan(ca)) return false;
  if (!e.x87) return true;
  if (ca !== cb) return ca === CLS_QNAN;
  return cmp !== 0 ? cmp > 0 : aPositive;
}

/** Orders two 64-bit significands given as (hi, lo) uint32 halves: -1, 0 or 1. */
function cmp2(ahi: number, alo: number, bhi: number, blo: number): number {
  return ahi !== bhi ? (ahi > bhi ? 1 : -1) : alo !== blo ? (alo > blo ? 1 : -1) : 0;
}

function nan2_32(e: FpEnv, a: number, ca: number, b: number, cb: number): number {
  const ma = a & 0x3fffff, mb = b & 0x3fffff;
  const r = nanFromA(e, ca, cb, ma > mb ? 1 : mb > ma ? -1 : 0, (a >>> 31) === 0) ? a : b;
  return (e.lo = (r | 0x400000) >>> 0);
}

function nan2_64(e: FpEnv, alo: number, ahi: number, ca: number, blo: number, bhi: number, cb: number): void {
  const useA = nanFromA(e, ca, cb, cmp2(ahi & 0x7ffff, alo >>> 0, bhi & 0x7ffff, blo >>> 0), (ahi >>> 31) === 0);
  e.se = 0;
  if (useA) { e.lo = alo; e.hi = (ahi | 0x80000) >>> 0; }
  else { e.lo = blo; e.hi = (bhi | 0x80000) >>> 0; }
}

function nan2_80(e: FpEnv, alo: number, ahi: number, ase: number, ca: number,
                 blo: number, bhi: number, bse: number, cb: number): void {
  const useA = nanFromA(e, ca, cb, cmp2(ahi & 0x3fffffff, alo >>> 0, bhi & 0x3fffffff, blo >>> 0), (ase & 0x8000) === 0);
  if (useA) { e.lo = alo; e.hi = (ahi | 0x40000000) >>> 0; e.se = ase; }
  else { e.lo = blo; e.hi = (bhi | 0x40000000) >>> 0; e.se = bse; }
}

// ---- rounding --------------------------------------------------------------------------------------

/** Rounding decision at `p` bits for the current W.r2:W.r1:W.r0; returns 2 = inexact+up, 1 = inexact, 0 = exact. */
function roundDecision(p: number, sign: number, rc: number): number {
  let lsb: number, rb: number, st: number;
  if (p === 64) { lsb = W.r1 & 1; rb = W.r0 >>> 31; st = W.r0 & 0x7fffffff; }
  else if (p === 53) { lsb = (W.r1 >>> 11) & 1; rb = (W.r1 >>> 10) & 1; st = (W.r1 & 0x3ff) | W.r0; }
  else { lsb = (W.r2 >>> 8) & 1; rb = (W.r2 >>> 7) & 1; st = (W.r2 & 0x7f) | W.r1 | W.r0; }
  if ((rb | st) === 0) return 0;
  let up: boolean;
  switch (rc) {
    case RC_NEAREST: up = rb !== 0 && (st !== 0 || lsb !== 0); break;
    case RC_DOWN: up = sign !== 0; break;
    case RC_UP: up = sign === 0; break;
    default: up = false;
  }
  return up ? 2 : 1;
}

/** True when the top p bits of W.r2:W.r1 are all ones (rounding up would carry out of the significand). */
function topOnes(p: number): boolean {
  if (p === 64) return W.r2 === 0xffffffff && W.r1 === 0xffffffff;
  if (p === 53) return W.r2 === 0xffffffff && (W.r1 >>> 11) === 0x1fffff;
  return (W.r2 >>> 8) === 0xffffff;
}

/** Truncates W.r2:W.r1:W.r0 to p bits and adds one unit in the last place if `up`; returns the carry out. */
function applyRound(p: number, up: boolean): boolean {
  W.r0 = 0;
  if (p === 64) {
    if (!up) return false;
    W.r1 += 1;
    if (W.r1 < TWO32) return false;
    W.r1 = 0;
    W.r2 += 1;
  } else if (p === 53) {
    W.r1 = (W.r1 & 0xfffff800) >>> 0;
    if (!up) return false;
    W.r1 += 0x800;
    if (W.r1 < TWO32) return false;
    W.r1 -= TWO32;
    W.r2 += 1;
  } else {
    W.r1 = 0;
    W.r2 = (W.r2 & 0xffffff00) >>> 0;
    if (!up) return false;
    W.r2 += 0x100;
  }
  if (W.r2 < TWO32) return false;
  W.r2 = 0x80000000;
  W.r1 = 0;
  return true;
}

/** Shifts W.r2:W.r1:W.r0 right by n, OR-ing lost bits into bit 0 of W.r0. */
function shiftRightJam(n: number): void {
  if (n <= 0) return;
  if (n >= 96) {
    W.r0 = (W.r2 | W.r1 | W.r0) !== 0 ? 1 : 0;
    W.r2 = W.r1 = 0;
    return;
  }
  while (n >= 32) {
    W.r0 = (W.r1 | (W.r0 !== 0 ? 1 : 0)) >>> 0;
    W.r1 = W.r2;
    W.r2 = 0;
    n -= 32;
  }
  if (n > 0) {
    const lost = (W.r0 << (32 - n)) !== 0 ? 1 : 0;
    W.r0 = ((W.r0 >>> n) | (W.r1 << (32 - n)) | lost) >>> 0;
    W.r1 = ((W.r1 >>> n) | (W.r2 << (32 - n))) >>> 0;
    W.r2 = W.r2 >>> n;
  }
}

/** Normalises W.r2:W.r1:W.r0 (non-zero) so bit 95 is set; returns the shift applied. */
function normalize(): number {
  let n = 0;
  while (W.r2 === 0) {
    W.r2 = W.r1; W.r1 = W.r0; W.r0 = 0; n += 32;
  }
  const lz = Math.clz32(W.r2);
  if (lz !== 0) {
    W.r2 = ((W.r2 << lz) | (W.r1 >>> (32 - lz))) >>> 0;
    W.r1 = ((W.r1 << lz) | (W.r0 >>> (32 - lz))) >>> 0;
    W.r0 = (W.r0 << lz) >>> 0;
  }
  return n + lz;
}

/** Writes a correctly signed zero of range r. */
function packZero(e: FpEnv, sign: number, r: number): void {
  if (r === R32) { e.lo = sign !== 0 ? 0x80000000 : 0; e.hi = 0; e.se = 0; }
  else if (r === R64) { e.lo = 0; e.hi = sign !== 0 ? 0x80000000 : 0; e.se = 0; }
  else { e.lo = 0; e.hi = 0; e.se = sign << 15; }
}

function packInf(e: FpEnv, sign: number, r: number): void {
  if (r === R32) { e.lo = (sign !== 0 ? 0xff800000 : 0x7f800000); e.hi = 0; e.se = 0; }
  else if (r === R64) { e.lo = 0; e.hi = sign !== 0 ? 0xfff00000 : 0x7ff00000; e.se = 0; }
  else { e.lo = 0; e.hi = 0x80000000; e.se = (sign << 15) | 0x7fff; }
}

/** Largest finite magnitude with p significand bits in range r. */
function packMax(e: FpEnv, sign: number, p: number, r: number): void {
  if (r === R32) { e.lo = (sign !== 0 ? 0xff7fffff : 0x7f7fffff); e.hi = 0; e.se = 0; }
  else if (r === R64) { e.lo = 0xffffffff; e.hi = sign !== 0 ? 0xffefffff : 0x7fefffff; e.se = 0; }
  else {
    e.hi = p === 24 ? 0xffffff00 : 0xffffffff;
    e.lo = p === 64 ? 0xffffffff : p === 53 ? 0xfffff800 : 0;
    e.se = (sign << 15) | 0x7ffe;
  }
}

/** Packs W.r2:W.r1 (already rounded) with biased exponent be (0 for a denormal) into range r. */
function packBits(e: FpEnv, sign: number, be: number, r: number): void {
  if (r === R32) {
    e.lo = ((sign << 31) | (be << 23) | ((W.r2 >>> 8) & 0x7fffff)) >>> 0;
    e.hi = 0;
    e.se = 0;
  } else if (r === R64) {
    e.hi = ((sign << 31) | (be << 20) | ((W.r2 >>> 11) & 0xfffff)) >>> 0;
    e.lo = ((W.r2 << 21) | (W.r1 >>> 11)) >>> 0;
    e.se = 0;
  } else {
    e.hi = W.r2;
    e.lo = W.r1;
    e.se = (sign << 15) | (be & 0x7fff);
  }
}

/**
 * Rounds sign * 1.f * 2^exp (f = W.r2:W.r1:W.r0 normalised, bit 95 set) to p
 * significand bits in range r, raising OE/UE/PE per SDM Vol. 1 4.9.1.4/4.9.1.5 and the masks.
 * `rebias` enables the x87 response to unmasked O/U (only for results that go to an x87 register).
 */
function roundPack(e: FpEnv, sign: number, exp: number, p: number, r: number, rebias: boolean): void {
  const rc = e.rc;
  const emin = EMIN[r]!, emax = EMAX[r]!, bias = BIAS[r]!;
  if (exp < emin) {
    // Tininess after rounding: the value rounded to p bits with an unbounded exponent is < 2^emin.
    let tiny = true;
    if (exp === emin - 1 && topOnes(p) && roundDecision(p, sign, rc) === 2) tiny = false;
    if (tiny) {
      if ((e.masks & FE_UNDERFLOW) === 0) {
        // Unmasked underflow: UE whether exact or not (SDM 4.9.1.5); the value is rounded with an
        // unbounded exponent, PE and C1 come from that rounding (host behaviour, x87 and SSE alike).
        e.flags |= FE_UNDERFLOW;
        if (rebias && exp + bias + REBIAS < 1) {
          // Too small even re-biased (only FSCALE gets there): a signed zero with PE whatever the
          // rounding mode (host behaviour).
          e.flags |= FE_INEXACT;
          e.c1 = 0;
          packZero(e, sign, r);
          return;
        }
        // x87 store to memory: nothing is written, and the host reports UE alone (C1 = 0).
        if (!rebias && e.x87) { e.c1 = 0; packZero(e, sign, r); return; }
        const d = roundDecision(p, sign, rc);
        if (d !== 0) e.flags |= FE_INEXACT;
        if (applyRound(p, d === 2)) exp++;
        e.c1 = d === 2 ? 1 : 0;
        // x87 result to a register: re-biased by +24576. SSE: nothing is delivered.
        if (rebias) packBits(e, sign, exp + bias + REBIAS, r);
        else packZero(e, sign, r);
        return;
      } else if (e.ftz) {
        e.flags |= FE_UNDERFLOW | FE_INEXACT;
        e.c1 = 0;
        packZero(e, sign, r);
        return;
      }
    }
    shiftRightJam(emin - exp);
    const d = roundDecision(p, sign, rc);
    applyRound(p, d === 2);
    e.c1 = d === 2 ? 1 : 0;
    if (d !== 0) {
      e.flags |= FE_INEXACT;
      if (tiny) e.flags |= FE_UNDERFLOW;
    }
    packBits(e, sign, (W.r2 >>> 31) !== 0 ? 1 : 0, r);
    return;
  }
  const d = roundDecision(p, sign, rc);
  if (applyRound(p, d === 2)) exp++;
  e.c1 = d === 2 ? 1 : 0;
  if (exp > emax) {
    e.flags |= FE_OVERFLOW;
    if ((e.masks & FE_OVERFLOW) === 0) {
      // Unmasked: PE and C1 from the rounding with an unbounded exponent (host behaviour), except
      // for an x87 store to memory, which writes nothing and reports OE alone (C1 = 0).
      if (!rebias) {
        if (e.x87) e.c1 = 0;
        else if (d !== 0) e.flags |= FE_INEXACT;
        packInf(e, sign, r);
        return;
      }
      if (d !== 0) e.flags |= FE_INEXACT;
      if (exp + bias - REBIAS <= 0x7ffe) {
        packBits(e, sign, exp + bias - REBIAS, r);
        return;
      }
      // Too large even re-biased (only FSCALE): infinity whatever the rounding mode (host behaviour).
      e.flags |= FE_INEXACT;
      e.c1 = 1;
      packInf(e, sign, r);
      return;
    }
    e.flags |= FE_INEXACT;
    // Masked response (SDM Table 4-10): infinity, or the largest finite value when rounding toward 0.
    if (rc === RC_NEAREST || (rc === RC_UP && sign === 0) || (rc === RC_DOWN && sign !== 0)) {
      e.c1 = 1;
      packInf(e, sign, r);
    } else {
      e.c1 = 0;
      packMax(e, sign, p, r);
    }
    return;
  }
  if (d !== 0) e.flags |= FE_INEXACT;
  packBits(e, sign, exp + bias, r);
}


/**
 * Raises a pending DE; true when it is unmasked, which stops the operation (DE is a pre-computation
 * exception, SDM Vol. 1 4.9.2 / 11.5.2).
 */
function deStops(e: FpEnv): boolean {
  if (W.pendDE === 0) return false;
  W.pendDE = 0;
  e.flags |= FE_DENORMAL;
  return (e.masks & FE_DENORMAL) === 0;
}

// ---- operand staging -------------------------------------------------------------------------------
// The two operands of a binary operation after unpacking (class, sign, exponent, significand).

function takeA(c: number): void { W.aC = c; W.aS = W.uS; W.aE = W.uE; W.aH = W.uH; W.aL = W.uL; }
function takeB(c: number): void { W.bC = c; W.bS = W.uS; W.bE = W.uE; W.bH = W.uH; W.bL = W.uL; }

/** Applies DAZ and raises DE for subnormal operands of a binary operation (after NaN screening). */
function denormals2(daz: boolean): void {
  W.pendDE = 0;
  if (W.aC === CLS_SUBNORMAL) { if (daz) W.aC = CLS_ZERO; else W.pendDE = 1; }
  if (W.bC === CLS_SUBNORMAL) { if (daz) W.bC = CLS_ZERO; else W.pendDE = 1; }
}

// ---- core operations on staged operands (finite, non-zero handled by callers) ------------------------

const OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3;

/**
 * Common special-case handling + core for add/sub/mul/div; operands staged in the a/b scratch with classes
 * already NaN-screened. Writes the result to e for range r at precision p.
 */
function arith(e: FpEnv, op: number, p: number, r: number, rebias: boolean): void {
  const ac = W.aC, bc = W.bC;
  if (op <= OP_SUB) {
    const bs = op === OP_SUB ? W.bS ^ 1 : W.bS;
    if (ac === CLS_INF || bc === CLS_INF) {
      if (ac === CLS_INF && bc === CLS_INF && W.aS !== bs) { setIndef(e, r); return; }
      if (deStops(e)) return;
      e.c1 = 0;
      packInf(e, ac === CLS_INF ? W.aS : bs, r);
      return;
    }
    if (deStops(e)) return;
    if (ac === CLS_ZERO || bc === CLS_ZERO) {
      e.c1 = 0;
      if (ac === CLS_ZERO && bc === CLS_ZERO) {
        packZero(e, W.aS === bs ? W.aS : e.rc === RC_DOWN ? 1 : 0, r);
        return;
      }
      // x + 0 = x, but x may need rounding (precision control, or a denormal flushed/flagged).
      if (ac === CLS_ZERO) { W.aS = bs; W.aE = W.bE; W.aH = W.bH; W.aL = W.bL; }
      W.r2 = W.aH; W.r1 = W.aL; W.r0 = 0;
      roundPack(e, W.aS, W.aE, p, r, rebias);
      return;
    }
    addCore(e, bs, p, r, rebias);
    return;
  }
  const sign = W.aS ^ W.bS;
  if (op === OP_MUL) {
    if (ac === CLS_INF || bc === CLS_INF) {
      if (ac === CLS_ZERO || bc === CLS_ZERO) { setIndef(e, r); return; }
      if (deStops(e)) return;
      e.c1 = 0;
      packInf(e, sign, r);
      return;
    }
    if (deStops(e)) return;
    if (ac === CLS_ZERO || bc === CLS_ZERO) { e.c1 = 0; packZero(e, sign, r); return; }
    mulCore(e, sign, p, r, rebias);
    return;
  }
  // OP_DIV
  if (ac === CLS_INF) {
    if (bc === CLS_INF) { setIndef(e, r); return; }
    if (deStops(e)) return;
    e.c1 = 0;
    packInf(e, sign, r);
    return;
  }
  if (bc === CLS_INF) {
    if (deStops(e)) return;
    e.c1 = 0;
    packZero(e, sign, r);
    return;
  }
  if (bc === CLS_ZERO) {
    if (ac === CLS_ZERO) { setIndef(e, r); return; }
    W.pendDE = 0;
    e.flags |= FE_DIVZERO;
    e.c1 = 0;
    packInf(e, sign, r);
    return;
  }
  if (deStops(e)) return;
  if (ac === CLS_ZERO) { e.c1 = 0; packZero(e, sign, r); return; }
  divCore(e, sign, p, r, rebias);
}

/**
 * Adds the staged finite non-zero operands (b's sign given: flipped for subtraction). Reads the
 * scratch fields directly: passing uint32 values >= 2^31 as arguments would box them.
 */
function addCore(e: FpEnv, bs0: number, p: number, r: number, rebias: boolean): void {
  let as = W.aS, ae = W.aE, ah = W.aH, al = W.aL;
  let bs = bs0, be = W.bE, bh = W.bH, bl = W.bL;
  // Order by magnitude so that a >= b.
  if (be > ae || (be === ae && (bh > ah || (bh === ah && bl > al)))) {
    let t = as; as = bs; bs = t;
    t = ae; ae = be; be = t;
    t = ah; ah = bh; bh = t;
    t = al; al = bl; bl = t;
  }
  // b aligned into W.r2:W.r1:W.r0.
  W.r2 = bh; W.r1 = bl; W.r0 = 0;
  shiftRightJam(ae - be);
  let exp = ae;
  if (as === bs) {
    let s0 = W.r0, s1 = al + W.r1, s2 = ah + W.r2;
    if (s1 >= TWO32) { s1 -= TWO32; s2 += 1; }
    if (s2 >= TWO32) {
      // Carry out: shift right one, keeping the sticky bit.
      s0 = ((s0 >>> 1) | ((s1 & 1) << 31) | (s0 & 1)) >>> 0;
      s1 = ((s1 >>> 1) | ((s2 & 1) << 31)) >>> 0;
      s2 = 0x80000000 + ((s2 - TWO32) >>> 1);
      exp++;
    }
    W.r2 = s2; W.r1 = s1; W.r0 = s0;
  } else {
    // a - b, a >= b.
    let d0 = 0 - W.r0, d1 = al - W.r1, d2 = ah - W.r2;
    if (d0 < 0) { d0 += TWO32; d1 -= 1; }
    if (d1 < 0) { d1 += TWO32; d2 -= 1; }
    if ((d2 | d1 | d0) === 0) {
      e.c1 = 0;
      packZero(e, e.rc === RC_DOWN ? 1 : 0, r);
      return;
    }
    W.r2 = d2 >>> 0; W.r1 = d1 >>> 0; W.r0 = d0 >>> 0;
    exp -= normalize();
  }
  roundPack(e, as, exp, p, r, rebias);
}

/** High 32 bits of the 64-bit product of two uint32 (exact: the partial products stay below 2^49). */
function mulHi32(x: number, y: number): number {
  const t1 = x * (y & 0xffff), t2 = x * (y >>> 16);
  const t2h = Math.floor(t2 / 65536);
  return t2h + Math.floor(((t2 - t2h * 65536) * 65536 + t1) / TWO32);
}

/** 64x64 -> 128-bit product of the staged significands from four 32x32 products. */
function mulCore(e: FpEnv, sign: number, p: number, r: number, rebias: boolean): void {
  const ah = W.aH, al = W.aL, bh = W.bH, bl = W.bL;
  const p0 = Math.imul(al, bl) >>> 0;
  const s1 = mulHi32(al, bl) + (Math.imul(al, bh) >>> 0) + (Math.imul(ah, bl) >>> 0);
  const c1 = Math.floor(s1 / TWO32);
  const s2 = mulHi32(al, bh) + mulHi32(ah, bl) + (Math.imul(ah, bh) >>> 0) + c1;
  const c2 = Math.floor(s2 / TWO32);
  const p3 = mulHi32(ah, bh) + c2, p2 = s2 - c2 * TWO32, p1 = s1 - c1 * TWO32;
  let exp = W.aE + W.bE;
  // Product in [2^126, 2^128): top 96 bits, the rest as the sticky bit.
  if (p3 < 0x80000000) {
    W.r2 = ((p3 << 1) | (p2 >>> 31)) >>> 0;
    W.r1 = ((p2 << 1) | (p1 >>> 31)) >>> 0;
    W.r0 = ((p1 << 1) | (p0 >>> 31) | ((p0 & 0x7fffffff) !== 0 ? 1 : 0)) >>> 0;
  } else {
    W.r2 = p3; W.r1 = p2; W.r0 = (p1 | (p0 !== 0 ? 1 : 0)) >>> 0;
    exp++;
  }
  roundPack(e, sign, exp, p, r, rebias);
}

/**
 * Long division in radix 2^16: with A' = the dividend significand (doubled when below the divisor)
 * the quotient A'/B is 1.d1 d2 ... in base 2^16. Each digit is estimated from the doubles
 * R*2^16/B (off by at most one or two) and corrected with the exact remainder. Enough digits for p
 * bits plus a round bit; the final remainder gives the sticky bit.
 */
function divCore(e: FpEnv, sign: number, p: number, r: number, rebias: boolean): void {
  let rh = W.aH, rl = W.aL;
  let exp = W.aE - W.bE;
  const bh = W.bH, bl = W.bL;
  const bd = bh * TWO32 + bl;
  // R = A' - B (the integer digit 1); A' = 2A when A < B (R may then need 65 bits transiently).
  if (rh < bh || (rh === bh && rl < bl)) {
    rh = rh * 2 + (rl >>> 31);
    rl = (rl << 1) >>> 0;
    exp--;
  }
  rl -= bl; rh -= bh;
  if (rl < 0) { rl += TWO32; rh -= 1; }
  const k = p === 64 ? 5 : p === 53 ? 4 : 2;
  let d1 = 0, d2 = 0, d3 = 0, d4 = 0, d5 = 0;
  for (let i = 1; i <= k; i++) {
    let d = Math.floor(((rh * TWO32 + rl) * 65536) / bd);
    if (d > 65535) d = 65535;
    // R = R * 2^16 - d * B
    const xlo = (rl & 0xffff) * 65536, xhi = rh * 65536 + (rl >>> 16);
    const y0 = d * bl, y0c = Math.floor(y0 / TWO32);
    let lo = xlo - (y0 - y0c * TWO32), hi = xhi - (d * bh + y0c);
    if (lo < 0) { lo += TWO32; hi -= 1; }
    while (hi < 0) {
      d--;
      lo += bl; hi += bh;
      if (lo >= TWO32) { lo -= TWO32; hi += 1; }
    }
    while (hi > bh || (hi === bh && lo >= bl)) {
      d++;
      lo -= bl; hi -= bh;
      if (lo < 0) { lo += TWO32; hi -= 1; }
    }
    rh = hi; rl = lo;
    if (i === 1) d1 = d; else if (i === 2) d2 = d; else if (i === 3) d3 = d; else if (i === 4) d4 = d; else d5 = d;
  }
  W.r2 = (0x80000000 | (d1 << 15) | (d2 >>> 1)) >>> 0;
  W.r1 = (((d2 & 1) << 31) | (d3 << 15) | (d4 >>> 1)) >>> 0;
  W.r0 = (((d4 & 1) << 31) | (d5 << 15) | ((rh !== 0 || rl !== 0) ? 1 : 0)) >>> 0;
  roundPack(e, sign, exp, p, r, rebias);
}

/**
 * Square root of the staged operand a (finite, positive, non-zero), n root bits, sticky from the
 * remainder. Radicand M = significand (doubled when the exponent is odd) read in bit pairs.
 */
function sqrtCore(e: FpEnv, n: number, p: number, r: number, rebias: boolean): void {
  let mh = W.aH, ml = W.aL, ex = W.aE;
  // M as a 65-bit value m64:mh:ml: radicand X = M / 2^63 in [1, 4).
  let m64 = 0;
  if ((ex & 1) !== 0) {
    m64 = mh >>> 31;
    mh = ((mh << 1) | (ml >>> 31)) >>> 0;
    ml = (ml << 1) >>> 0;
    ex -= 1;
  }
  // Head start: the first j0 root bits S = floor(sqrt(Y)), Y = the radicand's first j0 bit pairs,
  // and the remainder R = Y - S^2 (< 2^53), from a double estimate corrected exactly.
  let S: number, R: number, j0: number, sticky = 0;
  if (n <= 26) {
    // Y = M >> 13 (52 bits): exact in doubles.
    j0 = n;
    const y = m64 * 2 ** 51 + mh * 524288 + (ml >>> 13);
    S = Math.floor(Math.sqrt(y));
    R = y - S * S;
    sticky = ml & 0x1fff;
  } else {
    // Y = M << 35 (104 bits), S has 50 bits; R computed modulo 2^64 (it is below 2^53 in magnitude).
    j0 = 50;
    S = Math.floor(Math.sqrt((m64 * TWO32 * TWO32 + mh * TWO32 + ml) * 2 ** 35));
    const sh = Math.floor(S / TWO32), sl = S - sh * TWO32;
    const lo = Math.imul(sl, sl) >>> 0;
    const hi = (mulHi32(sl, sl) + (Math.imul(2 * sh, sl) >>> 0)) >>> 0;
    const rl = lo === 0 ? 0 : TWO32 - lo;
    const rh = ((ml << 3) - hi - (lo === 0 ? 0 : 1)) | 0;
    R = rh * TWO32 + rl;
  }
  while (R < 0) { R += 2 * S - 1; S--; }
  while (R > 2 * S) { S++; R -= 2 * S - 1; }
  // Root bits so far at positions 95 .. 96 - j0.
  let q2: number, q1 = 0, q0 = 0;
  if (j0 <= 32) q2 = S * 2 ** (32 - j0);
  else { q2 = Math.floor(S / 2 ** (j0 - 32)); q1 = (S - q2 * 2 ** (j0 - 32)) * 2 ** (64 - j0); }
  // Remainder and root as hi (double, < 2^53) + lo (uint32).
  let remH = Math.floor(R / TWO32), remL = R - remH * TWO32;
  let rootH = Math.floor(S / TWO32), rootL = S - rootH * TWO32;
  for (let i = j0; i < n; i++) {
    // Next two radicand bits: M bits (64 - 2i, 63 - 2i).
    const hiBit = 64 - 2 * i;
    let pair: number;
    if (hiBit === 64) pair = (m64 << 1) | (mh >>> 31);
    else if (hiBit > 32) pair = (mh >>> (hiBit - 33)) & 3;
    else if (hiBit === 32) pair = ((mh & 1) << 1) | (ml >>> 31);
    else if (hiBit >= 1) pair = (ml >>> (hiBit - 1)) & 3;
    else if (hiBit === 0) pair = (ml & 1) << 1;
    else pair = 0;
    // rem = rem * 4 + pair
    let nl = remL * 4 + pair;
    const cl = Math.floor(nl / TWO32);
    nl -= cl * TWO32;
    remH = remH * 4 + cl;
    remL = nl;
    // trial = root * 4 + 1
    let tl = rootL * 4 + 1;
    const ct = Math.floor(tl / TWO32);
    tl -= ct * TWO32;
    const th = rootH * 4 + ct;
    // root = root * 2 (+1)
    let ol = rootL * 2;
    let oh = rootH * 2;
    if (ol >= TWO32) { ol -= TWO32; oh += 1; }
    if (remH > th || (remH === th && remL >= tl)) {
      remL -= tl; remH -= th;
      if (remL < 0) { remL += TWO32; remH -= 1; }
      ol += 1;
      const pos = 95 - i;
      if (pos >= 64) q2 |= 1 << (pos - 64);
      else if (pos >= 32) q1 |= 1 << (pos - 32);
      else q0 |= 1 << pos;
    }
    rootH = oh; rootL = ol;
  }
  W.r2 = q2 >>> 0; W.r1 = q1 >>> 0; W.r0 = (q0 | ((remH !== 0 || remL !== 0 || sticky !== 0) ? 1 : 0)) >>> 0;
  roundPack(e, 0, ex / 2, p, r, rebias);
}

// ---- native-double fast paths -----------------------------------------------------------------------
// Round-to-nearest-even with normal operands and a result safely inside the normal range: the host's
// IEEE double arithmetic gives the same result, and only PE can be raised (so masks, DAZ and FTZ do
// not matter). Inexactness and the rounding direction (C1) are found exactly with error-free
// transformations: TwoSum for add/sub, Dekker's TwoProduct (Veltkamp splitting) for mul and for the
// residuals a - q*b (div) and a - s*s (sqrt). binary32 is computed in double and rounded once more
// with Math.fround: double rounding is harmless for + - * / sqrt since 53 >= 2*24 + 2 (Figueroa 1995).
// Everything else takes the exact path.

const FB = new Float64Array(1), UB = new Uint32Array(FB.buffer);
const F32B = new Float32Array(1), U32B = new Uint32Array(F32B.buffer);
const SPLIT = 134217729; // 2^27 + 1
/** Smallest magnitudes accepted as results: one binade above the smallest normal (tininess is then impossible). */
const MIN64 = 2 ** -1021, MIN32 = 2 ** -125, MAX32 = 3.4028234663852886e38;

/** Exact error of p = fl(x*y): x*y = p + T.err (operand magnitudes within 2^+-480). */
function twoProdErr(x: number, y: number, p: number): number {
  let t = SPLIT * x;
  const xh = t - (t - x), xl = x - xh;
  t = SPLIT * y;
  const yh = t - (t - y), yl = y - yh;
  return ((xh * yh - p) + xh * yl + xl * yh) + xl * yl;
}

function rd64(lo: number, hi: number): number { UB[0] = lo; UB[1] = hi; return FB[0]!; }
function wr64(e: FpEnv, v: number): void { FB[0] = v; e.lo = UB[0]!; e.hi = UB[1]!; e.se = 0; }
function rd32(a: number): number { U32B[0] = a; return F32B[0]!; }

/** f64 add/sub fast path (neg = subtract); false when not applicable. */
function fastAdd64(e: FpEnv, alo: number, ahi: number, blo: number, bhi: number, neg: boolean): boolean {
  const ea = (ahi >>> 20) & 0x7ff, eb = (bhi >>> 20) & 0x7ff;
  if (ea === 0 || ea === 0x7ff || eb === 0 || eb === 0x7ff) return false;
  const a = rd64(alo, ahi), b = neg ? -rd64(blo, bhi) : rd64(blo, bhi);
  const s = a + b, m = Math.abs(s);
  if (!(m >= MIN64) || m === Infinity) return false;
  const bb = s - a, err = (a - (s - bb)) + (b - bb);
  wr64(e, s);
  if (err !== 0) { e.flags |= FE_INEXACT; e.c1 = (err < 0) === (s > 0) ? 1 : 0; } else e.c1 = 0;
  return true;
}

/** Operand exponent window for mul/div/sqrt: |x| in [2^-480, 2^481), so TwoProduct is exact. */
function inWin64(hi: number): boolean { const x = (hi >>> 20) & 0x7ff; return x >= 543 && x <= 1503; }

function fastMul64(e: FpEnv, alo: number, ahi: number, blo: number, bhi: number): boolean {
  if (!inWin64(ahi) || !inWin64(bhi)) return false;
  const a = rd64(alo, ahi), b = rd64(blo, bhi);
  const p = a * b, err = twoProdErr(a, b, p);
  wr64(e, p);
  if (err !== 0) { e.flags |= FE_INEXACT; e.c1 = (err < 0) === (p > 0) ? 1 : 0; } else e.c1 = 0;
  return true;
}

function fastDiv64(e: FpEnv, alo: number, ahi: number, blo: number, bhi: number): boolean {
  if (!inWin64(ahi) || !inWin64(bhi)) return false;
  const a = rd64(alo, ahi), b = rd64(blo, bhi);
  const q = a / b, p = q * b;
  // a - p is exact (Sterbenz), and the residual a - q*b is representable, so r is exact.
  const r = (a - p) - twoProdErr(q, b, p);
  wr64(e, q);
  if (r !== 0) { e.flags |= FE_INEXACT; e.c1 = (r < 0) === (a > 0) ? 1 : 0; } else e.c1 = 0;
  return true;
}

function fastSqrt64(e: FpEnv, lo: number, hi: number): boolean {
  if ((hi & 0x80000000) !== 0 || !inWin64(hi)) return false;
  const a = rd64(lo, hi), q = Math.sqrt(a), p = q * q;
  const r = (a - p) - twoProdErr(q, q, p);
  wr64(e, q);
  if (r !== 0) { e.flags |= FE_INEXACT; e.c1 = r < 0 ? 1 : 0; } else e.c1 = 0;
  return true;
}

/** binary32 fast path for op (OP_ADD..OP_DIV; 4 = sqrt); returns false when not applicable. */
function fast32(e: FpEnv, op: number, a32: number, b32: number): boolean {
  const ea = (a32 >>> 23) & 0xff, eb = (b32 >>> 23) & 0xff;
  if (ea === 0 || ea === 0xff || ((eb === 0 || eb === 0xff) && op !== 4)) return false;
  const a = rd32(a32), b = rd32(b32);
  let r: number, up: boolean, inexact: boolean;
  switch (op) {
    case OP_ADD: case OP_SUB: {
      const bb0 = op === OP_SUB ? -b : b;
      const d = a + bb0, bb = d - a, err = (a - (d - bb)) + (bb0 - bb);
      r = Math.fround(d);
      inexact = r !== d || err !== 0;
      up = r !== d ? (r - d > 0) === (r > 0) : (err < 0) === (r > 0);
      break;
    }
    case OP_MUL: {
      const p = a * b; // exact: 48 bits
      r = Math.fround(p);
      inexact = r !== p;
      up = Math.abs(r) > Math.abs(p);
      break;
    }
    case OP_DIV: {
      r = Math.fround(a / b);
      const p = r * b; // exact: 48 bits
      inexact = p !== a;
      up = Math.abs(p) > Math.abs(a);
      break;
    }
    default: {
      if (a < 0) return false;
      r = Math.fround(Math.sqrt(a));
      const p = r * r;
      inexact = p !== a;
      up = p > a;
    }
  }
  const m = Math.abs(r);
  if (!(m >= MIN32) || m > MAX32) return false;
  F32B[0] = r;
  e.lo = U32B[0]!; e.hi = 0; e.se = 0;
  if (inexact) { e.flags |= FE_INEXACT; e.c1 = up ? 1 : 0; } else e.c1 = 0;
  return true;
}

// ---- binary32 --------------------------------------------------------------------------------------

function op32(e: FpEnv, op: number, a: number, b: number): number {
  a >>>= 0; b >>>= 0;
  const ca = unpack32(a); takeA(ca);
  const cb = unpack32(b); takeB(cb);
  if (isNan(ca) || isNan(cb)) return nan2_32(e, a, ca, b, cb);
  denormals2(e.daz);
  arith(e, op, 24, R32, false);
  return e.lo;
}

export function f32Add(e: FpEnv, a: number, b: number): number {
  return e.rc === RC_NEAREST && fast32(e, OP_ADD, a >>> 0, b >>> 0) ? e.lo : op32(e, OP_ADD, a, b);
}
export function f32Sub(e: FpEnv, a: number, b: number): number {
  return e.rc === RC_NEAREST && fast32(e, OP_SUB, a >>> 0, b >>> 0) ? e.lo : op32(e, OP_SUB, a, b);
}
export function f32Mul(e: FpEnv, a: number, b: number): number {
  return e.rc === RC_NEAREST && fast32(e, OP_MUL, a >>> 0, b >>> 0) ? e.lo : op32(e, OP_MUL, a, b);
}
export function f32Div(e: FpEnv, a: number, b: number): number {
  return e.rc === RC_NEAREST && fast32(e, OP_DIV, a >>> 0, b >>> 0) ? e.lo : op32(e, OP_DIV, a, b);
}

export function f32Sqrt(e: FpEnv, a: number): number {
  a >>>= 0;
  if (e.rc === RC_NEAREST && fast32(e, 4, a, 0)) return e.lo;
  const c = unpack32(a); takeA(c);
  if (isNan(c)) return nan2_32(e, a, c, 0, CLS_ZERO);
  W.pendDE = 0;
  if (c === CLS_SUBNORMAL) { if (e.daz) W.aC = CLS_ZERO; else W.pendDE = 1; }
  sqrtSpecial(e, 26, 24, R32, false);
  return e.lo;
}

/** sqrt special cases (after NaN screening) + core. */
function sqrtSpecial(e: FpEnv, n: number, p: number, r: number, rebias: boolean): void {
  if (W.aC === CLS_ZERO) { e.c1 = 0; packZero(e, W.aS, r); return; }
  if (W.aS !== 0) { setIndef(e, r); return; }
  if (deStops(e)) return;
  if (W.aC === CLS_INF) { e.c1 = 0; packInf(e, 0, r); return; }
  sqrtCore(e, n, p, r, rebias);
}

// ---- binary64 --------------------------------------------------------------------------------------

function op64(e: FpEnv, op: number, alo: number, ahi: number, blo: number, bhi: number): void {
  alo >>>= 0; ahi >>>= 0; blo >>>= 0; bhi >>>= 0;
  const ca = unpack64(alo, ahi); takeA(ca);
  const cb = unpack64(blo, bhi); takeB(cb);
  if (isNan(ca) || isNan(cb)) { nan2_64(e, alo, ahi, ca, blo, bhi, cb); return; }
  denormals2(e.daz);
  arith(e, op, 53, R64, false);
}

export function f64Add(e: FpEnv, alo: number, ahi: number, blo: number, bhi: number): void {
  if (e.rc !== RC_NEAREST || !fastAdd64(e, alo >>> 0, ahi >>> 0, blo >>> 0, bhi >>> 0, false)) op64(e, OP_ADD, alo, ahi, blo, bhi);
}
export function f64Sub(e: FpEnv, alo: number, ahi: number, blo: number, bhi: number): void {
  if (e.rc !== RC_NEAREST || !fastAdd64(e, alo >>> 0, ahi >>> 0, blo >>> 0, bhi >>> 0, true)) op64(e, OP_SUB, alo, ahi, blo, bhi);
}
export function f64Mul(e: FpEnv, alo: number, ahi: number, blo: number, bhi: number): void {
  if (e.rc !== RC_NEAREST || !fastMul64(e, alo >>> 0, ahi >>> 0, blo >>> 0, bhi >>> 0)) op64(e, OP_MUL, alo, ahi, blo, bhi);
}
export function f64Div(e: FpEnv, alo: number, ahi: number, blo: number, bhi: number): void {
  if (e.rc !== RC_NEAREST || !fastDiv64(e, alo >>> 0, ahi >>> 0, blo >>> 0, bhi >>> 0)) op64(e, OP_DIV, alo, ahi, blo, bhi);
}

export function f64Sqrt(e: FpEnv, lo: number, hi: number): void {
  lo >>>= 0; hi >>>= 0;
  if (e.rc === RC_NEAREST && fastSqrt64(e, lo, hi)) return;
  const c = unpack64(lo, hi); takeA(c);
  if (isNan(c)) { nan2_64(e, lo, hi, c, 0, 0, CLS_ZERO); return; }
  W.pendDE = 0;
  if (c === CLS_SUBNORMAL) { if (e.daz) W.aC = CLS_ZERO; else W.pendDE = 1; }
  sqrtSpecial(e, 55, 53, R64, false);
}

// ---- extended ----------------------------------------------------------------------------------------

function op80(e: FpEnv, op: number, alo: number, ahi: number, ase: number, blo: number, bhi: number, bse: number): void {
  alo >>>= 0; ahi >>>= 0; ase &= 0xffff; blo >>>= 0; bhi >>>= 0; bse &= 0xffff;
  const ca = unpack80(alo, ahi, ase); takeA(ca);
  const cb = unpack80(blo, bhi, bse); takeB(cb);
  if (ca === CLS_UNSUPPORTED || cb === CLS_UNSUPPORTED) { setIndef(e, R80); return; }
  if (isNan(ca) || isNan(cb)) { nan2_80(e, alo, ahi, ase, ca, blo, bhi, bse, cb); return; }
  denormals2(false);
  arith(e, op, e.prec, R80, e.x87);
}

export function f80Add(e: FpEnv, alo: number, ahi: number, ase: number, blo: number, bhi: number, bse: number): void { op80(e, OP_ADD, alo, ahi, ase, blo, bhi, bse); }
export function f80Sub(e: FpEnv, alo: number, ahi: number, ase: number, blo: number, bhi: number, bse: number): void { op80(e, OP_SUB, alo, ahi, ase, blo, bhi, bse); }
export function f80Mul(e: FpEnv, alo: number, ahi: number, ase: number, blo: number, bhi: number, bse: number): void { op80(e, OP_MUL, alo, ahi, ase, blo, bhi, bse); }
export function f80Div(e: FpEnv, alo: number, ahi: number, ase: number, blo: number, bhi: number, bse: number): void { op80(e, OP_DIV, alo, ahi, ase, blo, bhi, bse); }

export function f80Sqrt(e: FpEnv, lo: number, hi: number, se: number): void {
  lo >>>= 0; hi >>>= 0; se &= 0xffff;
  const c = unpack80(lo, hi, se); takeA(c);
  if (c === CLS_UNSUPPORTED) { setIndef(e, R80); return; }
  if (isNan(c)) { nan2_80(e, lo, hi, se, c, 0, 0, 0, CLS_ZERO); return; }
  W.pendDE = c === CLS_SUBNORMAL ? 1 : 0;
  sqrtSpecial(e, 66, e.prec, R80, e.x87);
}

// ---- exact widening conversions ---------------------------------------------------------------------

/** Writes the staged operand a (any class but NaN/unsupported) exactly as an f80. */
function packA80(e: FpEnv): void {
  e.c1 = 0;
  if (W.aC === CLS_ZERO) { packZero(e, W.aS, R80); return; }
  if (W.aC === CLS_INF) { packInf(e, W.aS, R80); return; }
  e.lo = W.aL; e.hi = W.aH; e.se = (W.aS << 15) | (W.aE + 16383);
}

/** binary32 -> f80 (FLD m32fp): exact; SNaN -> IE + quieted; denormal -> DE (SDM Vol. 2 FLD). */
export function f32ToF80(e: FpEnv, a: number): void {
  a >>>= 0;
  const c = unpack32(a); takeA(c);
  if (isNan(c)) {
    if (c === CLS_SNAN) e.flags |= FE_INVALID;
    e.c1 = 0;
    e.se = (W.uS << 15) | 0x7fff;
    e.hi = (0xc0000000 | ((a & 0x3fffff) << 8)) >>> 0;
    e.lo = 0;
    return;
  }
  if (c === CLS_SUBNORMAL) { if (e.daz) { W.aC = CLS_ZERO; } else e.flags |= FE_DENORMAL; }
  packA80(e);
}

export function f64ToF80(e: FpEnv, lo: number, hi: number): void {
  lo >>>= 0; hi >>>= 0;
  const c = unpack64(lo, hi); takeA(c);
  if (isNan(c)) {
    if (c === CLS_SNAN) e.flags |= FE_INVALID;
    e.c1 = 0;
    e.se = (W.uS << 15) | 0x7fff;
    e.hi = (0xc0000000 | ((hi & 0x7ffff) << 11) | (lo >>> 21)) >>> 0;
    e.lo = (lo << 11) >>> 0;
    return;
  }
  if (c === CLS_SUBNORMAL) { if (e.daz) { W.aC = CLS_ZERO; } else e.flags |= FE_DENORMAL; }
  packA80(e);
}

/** binary32 -> binary64 (CVTSS2SD): exact; SNaN -> IE + quieted; denormal -> DE unless DAZ. */
export function f32ToF64(e: FpEnv, a: number): void {
  a >>>= 0;
  const c = unpack32(a); takeA(c);
  e.c1 = 0;
  e.se = 0;
  if (isNan(c)) {
    if (c === CLS_SNAN) e.flags |= FE_INVALID;
    e.hi = ((W.uS << 31) | 0x7ff80000 | ((a & 0x3fffff) >>> 3)) >>> 0;
    e.lo = (a << 29) >>> 0;
    return;
  }
  if (c === CLS_SUBNORMAL) { if (e.daz) W.aC = CLS_ZERO; else e.flags |= FE_DENORMAL; }
  if (W.aC === CLS_ZERO) { packZero(e, W.aS, R64); return; }
  if (W.aC === CLS_INF) { packInf(e, W.aS, R64); return; }
  W.r2 = W.aH; W.r1 = W.aL; W.r0 = 0;
  packBits(e, W.aS, W.aE + 1023, R64);
}

// ---- narrowing conversions -------------------------------------------------------------------------

/** Rounds the staged operand a (from a wider format) into range r at precision p. */
function narrowA(e: FpEnv, p: number, r: number): void {
  if (W.aC === CLS_ZERO) { e.c1 = 0; packZero(e, W.aS, r); return; }
  if (W.aC === CLS_INF) { e.c1 = 0; packInf(e, W.aS, r); return; }
  W.r2 = W.aH; W.r1 = W.aL; W.r0 = 0;
  roundPack(e, W.aS, W.aE, p, r, false);
}

/** binary64 -> binary32 (CVTSD2SS): IE (SNaN), DE (unless DAZ), OE, UE, PE; FTZ. */
export function f64ToF32(e: FpEnv, lo: number, hi: number): number {
  lo >>>= 0; hi >>>= 0;
  const c = unpack64(lo, hi); takeA(c);
  if (isNan(c)) {
    if (c === CLS_SNAN) e.flags |= FE_INVALID;
    e.c1 = 0; e.hi = 0; e.se = 0;
    return (e.lo = ((W.uS << 31) | 0x7fc00000 | ((hi & 0x7ffff) << 3) | (lo >>> 29)) >>> 0);
  }
  W.pendDE = 0;
  if (c === CLS_SUBNORMAL) { if (e.daz) W.aC = CLS_ZERO; else W.pendDE = 1; }
  if (deStops(e)) return e.lo;
  narrowA(e, 24, R32);
  return e.lo;
}

function nan80To32(e: FpEnv, hi: number, se: number): number {
  e.c1 = 0; e.hi = 0; e.se = 0;
  return (e.lo = (((se & 0x8000) << 16) | 0x7fc00000 | ((hi >>> 8) & 0x3fffff)) >>> 0);
}

/** f80 -> binary32 (FST m32fp): IE (SNaN, unsupported), OE, UE, PE; no DE (SDM Vol. 2 FST). */
export function f80ToF32(e: FpEnv, lo: number, hi: number, se: number): number {
  lo >>>= 0; hi >>>= 0; se &= 0xffff;
  const c = unpack80(lo, hi, se); takeA(c);
  if (c === CLS_UNSUPPORTED) { setIndef(e, R32); return e.lo; }
  if (isNan(c)) {
    if (c === CLS_SNAN) e.flags |= FE_INVALID;
    return nan80To32(e, hi, se);
  }
  narrowA(e, 24, R32);
  return e.lo;
}

export function f80ToF64(e: FpEnv, lo: number, hi: number, se: number): void {
  lo >>>= 0; hi >>>= 0; se &= 0xffff;
  const c = unpack80(lo, hi, se); takeA(c);
  if (c === CLS_UNSUPPORTED) { setIndef(e, R64); return; }
  if (isNan(c)) {
    if (c === CLS_SNAN) e.flags |= FE_INVALID;
    e.c1 = 0; e.se = 0;
    e.hi = (((se & 0x8000) << 16) | 0x7ff80000 | ((hi >>> 11) & 0x7ffff)) >>> 0;
    e.lo = ((hi << 21) | (lo >>> 11)) >>> 0;
    return;
  }
  narrowA(e, 53, R64);
}

// ---- compares ----------------------------------------------------------------------------------------

/** Compares the staged operands (finite/inf/zero, DAZ already applied). */
function cmpStaged(): number {
  const az = W.aC === CLS_ZERO, bz = W.bC === CLS_ZERO;
  if (az && bz) return CMP_EQ;
  if (az) return W.bS !== 0 ? CMP_GT : CMP_LT;
  if (bz) return W.aS !== 0 ? CMP_LT : CMP_GT;
  if (W.aS !== W.bS) return W.aS !== 0 ? CMP_LT : CMP_GT;
  let m: number;
  if (W.aC === CLS_INF) m = W.bC === CLS_INF ? 0 : 1;
  else if (W.bC === CLS_INF) m = -1;
  else if (W.aE !== W.bE) m = W.aE > W.bE ? 1 : -1;
  else if (W.aH !== W.bH) m = W.aH > W.bH ? 1 : -1;
  else if (W.aL !== W.bL) m = W.aL > W.bL ? 1 : -1;
  else m = 0;
  if (W.aS !== 0) m = -m;
  return m > 0 ? CMP_GT : m < 0 ? CMP_LT : CMP_EQ;
}

/** Unordered result: IE for an SNaN, or for any NaN when !quiet (COMISS/FCOM vs UCOMISS/FUCOM). */
function cmpNan(e: FpEnv, ca: number, cb: number, quiet: boolean): number {
  if (!quiet || ca === CLS_SNAN || cb === CLS_SNAN || ca === CLS_UNSUPPORTED || cb === CLS_UNSUPPORTED) e.flags |= FE_INVALID;
  return CMP_UN;
}

export function f32Cmp(e: FpEnv, a: number, b: number, quiet: boolean): number {
  const ca = unpack32(a >>> 0); takeA(ca);
  const cb = unpack32(b >>> 0); takeB(cb);
  if (isNan(ca) || isNan(cb)) return cmpNan(e, ca, cb, quiet);
  denormals2(e.daz);
  deStops(e);
  return cmpStaged();
}

export function f64Cmp(e: FpEnv, alo: number, ahi: number, blo: number, bhi: number, quiet: boolean): number {
  const ca = unpack64(alo >>> 0, ahi >>> 0); takeA(ca);
  const cb = unpack64(blo >>> 0, bhi >>> 0); takeB(cb);
  if (isNan(ca) || isNan(cb)) return cmpNan(e, ca, cb, quiet);
  denormals2(e.daz);
  deStops(e);
  return cmpStaged();
}

export function f80Cmp(e: FpEnv, alo: number, ahi: number, ase: number, blo: number, bhi: number, bse: number, quiet: boolean): number {
  const ca = unpack80(alo >>> 0, ahi >>> 0, ase & 0xffff); takeA(ca);
  const cb = unpack80(blo >>> 0, bhi >>> 0, bse & 0xffff); takeB(cb);
  if (isNan(ca) || isNan(cb) || ca === CLS_UNSUPPORTED || cb === CLS_UNSUPPORTED) return cmpNan(e, ca, cb, quiet);
  denormals2(false);
  deStops(e);
  return cmpStaged();
}

// ---- integers -> float ---------------------------------------------------------------------------------

/** Packs the integer sign * hi:lo (magnitude, uint32 halves) into range r at p bits. */
function fromInt(e: FpEnv, sign: number, hi: number, lo: number, p: number, r: number): void {
  if ((hi | lo) === 0) { e.c1 = 0; packZero(e, 0, r); return; }
  W.r2 = hi; W.r1 = lo; W.r0 = 0;
  const n = normalize();
  roundPack(e, sign, 63 - n, p, r, false);
}

export function i32ToF32(e: FpEnv, v: number): number {
  v |= 0;
  fromInt(e, v < 0 ? 1 : 0, 0, Math.abs(v) >>> 0, 24, R32);
  return e.lo;
}
export function i32ToF64(e: FpEnv, v: number): void { v |= 0; fromInt(e, v < 0 ? 1 : 0, 0, Math.abs(v) >>> 0, 53, R64); }
export function i32ToF80(e: FpEnv, v: number): void { v |= 0; fromInt(e, v < 0 ? 1 : 0, 0, Math.abs(v) >>> 0, 64, R80); }

/** Magnitude of the two's complement lo/hi into W.nHi:W.nLo; returns the sign. */
function abs64(lo: number, hi: number): number {
  lo >>>= 0; hi >>>= 0;
  if ((hi & 0x80000000) === 0) { W.nHi = hi; W.nLo = lo; return 0; }
  W.nLo = (~lo + 1) >>> 0;
  W.nHi = (~hi + (W.nLo === 0 ? 1 : 0)) >>> 0;
  return 1;
}
export function i64ToF32(e: FpEnv, lo: number, hi: number): number { const s = abs64(lo, hi); fromInt(e, s, W.nHi, W.nLo, 24, R32); return e.lo; }
export function i64ToF64(e: FpEnv, lo: number, hi: number): void { const s = abs64(lo, hi); fromInt(e, s, W.nHi, W.nLo, 53, R64); }
export function i64ToF80(e: FpEnv, lo: number, hi: number): void { const s = abs64(lo, hi); fromInt(e, s, W.nHi, W.nLo, 64, R80); }

// ---- float -> integer ------------------------------------------------------------------------------------

function intIndef(e: FpEnv, bits: number): void {
  e.flags |= FE_INVALID;
  e.c1 = 0;
  if (bits === 64) { e.lo = 0; e.hi = 0x80000000; }
  else { e.lo = bits === 32 ? 0x80000000 : 0x8000; e.hi = 0; }
}

/**
 * Converts the staged operand a to a `bits`-bit integer: rounding by rc (or toward zero), PE when
 * inexact; out of range, NaN or infinity -> IE and the integer indefinite (SDM Vol. 1 4.8.3.7).
 */
function toInt(e: FpEnv, bits: number, rc: number): void {
  const c = W.aC;
  if (c === CLS_ZERO) { e.lo = 0; e.hi = 0; e.c1 = 0; return; }
  if (c !== CLS_NORMAL && c !== CLS_SUBNORMAL) { intIndef(e, bits); return; }
  if (W.aE > 63) { intIndef(e, bits); return; }
  W.r2 = W.aH; W.r1 = W.aL; W.r0 = 0;
  shiftRightJam(63 - W.aE);
  // Integer part in W.r2:W.r1, fraction (with sticky) in W.r0.
  // the integer's last bit is bit 0 of W.r1: the 64-bit rounding decision
  const dec = roundDecision(64, W.aS, rc);
  const inexact = dec !== 0, up = dec === 2;
  let hi = W.r2, lo = W.r1;
  if (up) {
    lo += 1;
    if (lo >= TWO32) { lo = 0; hi += 1; if (hi >= TWO32) { intIndef(e, bits); return; } }
  }
  // Range: magnitude <= 2^(bits-1) - 1, or 2^(bits-1) when negative.
  let ok: boolean;
  if (bits === 64) ok = hi < 0x80000000 || (W.aS !== 0 && hi === 0x80000000 && lo === 0);
  else {
    const lim = bits === 32 ? 0x80000000 : 0x8000;
    ok = hi === 0 && (lo < lim || (W.aS !== 0 && lo === lim));
  }
  if (!ok) { intIndef(e, bits); return; }
  if (inexact) e.flags |= FE_INEXACT;
  e.c1 = up ? 1 : 0;
  if (W.aS !== 0 && (hi | lo) !== 0) {
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  if (bits === 64) { e.lo = lo >>> 0; e.hi = hi >>> 0; }
  else { e.lo = bits === 32 ? lo >>> 0 : lo & 0xffff; e.hi = 0; }
}

/** binary32 -> int16/32/64 (CVTSS2SI / CVTTSS2SI): IE, PE; DAZ applies, no DE. */
export function f32ToInt(e: FpEnv, a: number, bits: number, trunc: boolean): void {
  const c = unpack32(a >>> 0); takeA(c);
  if (c === CLS_SUBNORMAL && e.daz) W.aC = CLS_ZERO;
  toInt(e, bits, trunc ? RC_ZERO : e.rc);
}
export function f64ToInt(e: FpEnv, lo: number, hi: number, bits: number, trunc: boolean): void {
  const c = unpack64(lo >>> 0, hi >>> 0); takeA(c);
  if (c === CLS_SUBNORMAL && e.daz) W.aC = CLS_ZERO;
  toInt(e, bits, trunc ? RC_ZERO : e.rc);
}
/** f80 -> int16/32/64 (FIST/FISTP/FISTTP): IE (NaN, unsupported, out of range), PE; C1 = rounded up. */
export function f80ToInt(e: FpEnv, lo: number, hi: number, se: number, bits: number, trunc: boolean): void {
  const c = unpack80(lo >>> 0, hi >>> 0, se & 0xffff); takeA(c);
  toInt(e, bits, trunc ? RC_ZERO : e.rc);
}

// ---- round to integral value --------------------------------------------------------------------------

/**
 * Rounds the staged finite non-zero operand to an integer in the same format (range r, p bits):
 * FRNDINT, ROUNDSS/SD. Inexact -> PE unless noPE.
 */
function roundIntStaged(e: FpEnv, rc: number, noPE: boolean, p: number, r: number): void {
  e.c1 = 0;
  if (W.aC === CLS_ZERO) { packZero(e, W.aS, r); return; }
  if (W.aC === CLS_INF) { packInf(e, W.aS, r); return; }
  W.r2 = W.aH; W.r1 = W.aL; W.r0 = 0;
  if (W.aE >= p - 1) { packBits(e, W.aS, W.aE + BIAS[r]!, r); return; }
  shiftRightJam(63 - W.aE);
  const dec = roundDecision(64, W.aS, rc);
  const up = dec === 2;
  if (dec !== 0 && !noPE) e.flags |= FE_INEXACT;
  W.r0 = 0;
  if (up) {
    W.r1 += 1;
    if (W.r1 >= TWO32) { W.r1 = 0; W.r2 += 1; }
  }
  e.c1 = up ? 1 : 0;
  if ((W.r2 | W.r1) === 0) { packZero(e, W.aS, r); return; }
  const n = normalize();
  packBits(e, W.aS, 63 - n + BIAS[r]!, r);
}

export function f32RoundInt(e: FpEnv, a: number, rc: number, noPE: boolean): number {
  a >>>= 0;
  const c = unpack32(a); takeA(c);
  if (isNan(c)) return nan2_32(e, a, c, 0, CLS_ZERO);
  if (c === CLS_SUBNORMAL && e.daz) W.aC = CLS_ZERO;
  roundIntStaged(e, rc, noPE, 24, R32);
  return e.lo;
}
export function f64RoundInt(e: FpEnv, lo: number, hi: number, rc: number, noPE: boolean): void {
  lo >>>= 0; hi >>>= 0;
  const c = unpack64(lo, hi); takeA(c);
  if (isNan(c)) { nan2_64(e, lo, hi, c, 0, 0, CLS_ZERO); return; }
  if (c === CLS_SUBNORMAL && e.daz) W.aC = CLS_ZERO;
  roundIntStaged(e, rc, noPE, 53, R64);
}
/** FRNDINT: IE (SNaN, unsupported), DE (denormal operand), PE. */
export function f80RoundInt(e: FpEnv, lo: number, hi: number, se: number, rc: number, noPE: boolean): void {
  lo >>>= 0; hi >>>= 0; se &= 0xffff;
  const c = unpack80(lo, hi, se); takeA(c);
  if (c === CLS_UNSUPPORTED) { setIndef(e, R80); return; }
  if (isNan(c)) { nan2_80(e, lo, hi, se, c, 0, 0, 0, CLS_ZERO); return; }
  W.pendDE = c === CLS_SUBNORMAL ? 1 : 0;
  if (deStops(e)) return;
  roundIntStaged(e, rc, noPE, 64, R80);
}

// ---- x87 specials ----------------------------------------------------------------------------------

/**
 * FPREM (nearest = false: quotient truncated) / FPREM1 (nearest: quotient rounded to even) of
 * a = ST(0) by b = ST(1) (SDM Vol. 2 FPREM/FPREM1). The remainder is exact. When the exponent
 * difference is 64 or more the reduction is partial (C2 = 1): the dividend is reduced by
 * b * Q * 2^(D - N) with N = 32 + (D mod 32), a value between 32 and 63 as the SDM allows; Intel
 * processors use this N (checked against the host). q = the low three quotient bits (C0, C3, C1).
 */
export function f80Rem(e: FpEnv, alo: number, ahi: number, ase: number, blo: number, bhi: number, bse: number, nearest: boolean): void {
  alo >>>= 0; ahi >>>= 0; ase &= 0xffff; blo >>>= 0; bhi >>>= 0; bse &= 0xffff;
  e.q = 0; e.partial = 0; e.c1 = 0;
  const ca = unpack80(alo, ahi, ase); takeA(ca);
  const cb = unpack80(blo, bhi, bse); takeB(cb);
  if (ca === CLS_UNSUPPORTED || cb === CLS_UNSUPPORTED) { setIndef(e, R80); return; }
  if (isNan(ca) || isNan(cb)) { nan2_80(e, alo, ahi, ase, ca, blo, bhi, bse, cb); return; }
  if (ca === CLS_INF || W.bC === CLS_ZERO) { setIndef(e, R80); return; }
  denormals2(false);
  if (deStops(e)) return;
  if (W.aC === CLS_ZERO || W.bC === CLS_INF) {
    // Remainder is the dividend itself (a denormal keeps its encoding except pseudo-denormals).
    if (W.aC === CLS_ZERO) { packZero(e, W.aS, R80); return; }
    W.r2 = W.aH; W.r1 = W.aL; W.r0 = 0;
    roundPack(e, W.aS, W.aE, 64, R80, e.x87);
    return;
  }
  let d = W.aE - W.bE;
  let partial = false;
  let bexp = W.bE;
  if (d >= 64) {
    const n = 32 + (d & 31);
    bexp = W.bE + d - n;
    d = n;
    partial = true;
  }
  let sign = W.aS;
  // Remainder rh:rl over the divisor W.bH:W.bL, quotient bits in q (only the low bits matter).
  let rh = W.aH, rl = W.aL, q = 0;
  let rexp: number;
  if (d < 0) {
    rexp = W.aE;
    if (nearest && d === -1) {
      // |a| in [|b|/2, |b|): quotient 1 when |a| > |b|/2 (a tie rounds to the even quotient 0).
      if (rh > W.bH || (rh === W.bH && rl > W.bL)) {
        // r = b - a (aligned: a has exponent W.bE - 1): r = (2*bSig - aSig) at exponent W.bE - 1.
        let th = W.bH * 2 + (W.bL >>> 31), tl = ((W.bL << 1) >>> 0) - rl;
        if (tl < 0) { tl += TWO32; th -= 1; }
        th -= rh;
        // th:tl < 2^64 since a > b/2.
        rh = th; rl = tl;
        sign ^= 1;
        q = 1;
      }
    }
  } else {
    rexp = bexp;
    for (let k = 0; k <= d; k++) {
      q = (q << 1) & 7;
      if (rh > W.bH || (rh === W.bH && rl >= W.bL)) {
        let nl = rl - W.bL, nh = rh - W.bH;
        if (nl < 0) { nl += TWO32; nh -= 1; }
        rl = nl; rh = nh;
        q |= 1;
      }
      if (k < d) {
        rh = rh * 2 + (rl >>> 31);
        rl = (rl << 1) >>> 0;
      }
    }
    if (nearest && !partial) {
      // Round the quotient to nearest even: compare 2r with b.
      const r2h = rh * 2 + (rl >>> 31), r2l = (rl << 1) >>> 0;
      if (r2h > W.bH || (r2h === W.bH && (r2l > W.bL || (r2l === W.bL && (q & 1) !== 0)))) {
        let nl = W.bL - rl, nh = W.bH - rh;
        if (nl < 0) { nl += TWO32; nh -= 1; }
        rh = nh; rl = nl;
        sign ^= 1;
        q = (q + 1) & 7;
      }
    }
  }
  e.q = q & 7;
  e.partial = partial ? 1 : 0;
  if ((rh | rl) === 0) { packZero(e, W.aS, R80); return; }
  W.r2 = rh >>> 0; W.r1 = rl >>> 0; W.r0 = 0;
  const n = normalize();
  roundPack(e, sign, rexp - n, 64, R80, e.x87);
}

/** FSCALE: a * 2^trunc(b) (SDM Vol. 2 FSCALE), rounded to 64 bits (precision control does not apply). */
export function f80Scale(e: FpEnv, alo: number, ahi: number, ase: number, blo: number, bhi: number, bse: number): void {
  alo >>>= 0; ahi >>>= 0; ase &= 0xffff; blo >>>= 0; bhi >>>= 0; bse &= 0xffff;
  e.c1 = 0;
  const ca = unpack80(alo, ahi, ase); takeA(ca);
  const cb = unpack80(blo, bhi, bse); takeB(cb);
  if (ca === CLS_UNSUPPORTED || cb === CLS_UNSUPPORTED) { setIndef(e, R80); return; }
  if (isNan(ca) || isNan(cb)) { nan2_80(e, alo, ahi, ase, ca, blo, bhi, bse, cb); return; }
  denormals2(false);
  if (W.bC === CLS_INF) {
    if (W.bS === 0) {
      if (W.aC === CLS_ZERO) { setIndef(e, R80); return; }
      if (deStops(e)) return;
      packInf(e, W.aS, R80);
    } else {
      if (W.aC === CLS_INF) { setIndef(e, R80); return; }
      if (deStops(e)) return;
      packZero(e, W.aS, R80);
    }
    return;
  }
  if (deStops(e)) return;
  if (W.aC === CLS_ZERO) { packZero(e, W.aS, R80); return; }
  if (W.aC === CLS_INF) { packInf(e, W.aS, R80); return; }
  // trunc(b), clamped: beyond +-2^17 every result overflows or underflows anyway.
  let n = 0;
  if (W.bC !== CLS_ZERO && W.bE >= 0) n = W.bE > 17 ? 0x20000 : Math.floor(W.bH / 2 ** (31 - W.bE));
  if (W.bS !== 0) n = -n;
  W.r2 = W.aH; W.r1 = W.aL; W.r0 = 0;
  roundPack(e, W.aS, W.aE + n, 64, R80, e.x87);
}

/**
 * Rounds and packs sign * (sigHi:sigLo / 2^63) * 2^exp (sig not necessarily normalised; sticky
 * non-zero when non-zero bits lie below sigLo) to e.prec bits in the f80 range with e.rc, flags and
 * the x87 re-bias as for arithmetic. For the transcendental kernels.
 */
export function f80RoundPack(e: FpEnv, sign: number, exp: number, sigHi: number, sigLo: number, sticky: number): void {
  W.r2 = sigHi >>> 0; W.r1 = sigLo >>> 0; W.r0 = sticky !== 0 ? 1 : 0;
  if ((W.r2 | W.r1 | W.r0) === 0) { e.c1 = 0; packZero(e, sign & 1, R80); return; }
  const n = normalize();
  roundPack(e, sign & 1, exp - n, e.prec, R80, e.x87);
}

const cvF64 = new Float64Array(1), cvU32 = new Uint32Array(cvF64.buffer);
const cvEnv = new FpEnv();

/** Exact double -> f80 into e.lo/hi/se (no flags; NaNs keep their payload, quieted). */
export function f80FromDouble(e: FpEnv, x: number): void {
  cvF64[0] = x;
  const lo = cvU32[0]!, hi = cvU32[1]!;
  const f = e.flags, c1 = e.c1;
  f64ToF80(e, lo, hi);
  e.flags = f; e.c1 = c1;
}

/** f80 -> double, rounded to nearest even (no flags); unsupported encodings give NaN. */
export function f80ToDouble(lo: number, hi: number, se: number): number {
  cvEnv.rc = RC_NEAREST; cvEnv.masks = 0x3f; cvEnv.flags = 0; cvEnv.daz = false; cvEnv.ftz = false;
  f80ToF64(cvEnv, lo, hi, se);
  cvU32[0] = cvEnv.lo; cvU32[1] = cvEnv.hi;
  return cvF64[0]!;
}
