/**
 * x87 register-stack and status-word helpers shared by the x87 unit's files (SDM Vol. 1 ch. 8:
 * 8.1.2 register stack and TOP, 8.1.3 status word, 8.1.7 tag word, 8.5.1.1 stack overflow/underflow).
 *
 * Registers are addressed by PHYSICAL number p (R0..R7) in the state array; ST(i) = R[(TOP + i) & 7].
 * S_FTW is the abridged tag (bit p = Rp not empty); the two-bit tags of FSTENV/FSAVE are computed
 * from the contents by `fullTagWord`.
 */
import { FPR_STRIDE, S_FCW, S_FPR, S_FSW, S_FTW } from '../state.js';

/* ---- FSW bits (SDM Vol. 1 Figure 8-4) ---- */
export const SW_IE = 0x1, SW_DE = 0x2, SW_ZE = 0x4, SW_OE = 0x8, SW_UE = 0x10, SW_PE = 0x20;
export const SW_SF = 0x40, SW_ES = 0x80, SW_C0 = 0x100, SW_C1 = 0x200, SW_C2 = 0x400, SW_C3 = 0x4000, SW_B = 0x8000;
export const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;
export const SW_TOP = 0x3800;
/** The six exception flags (same bit order as the FCW masks and softfloat's FE_*). */
export const EXC_MASK = 0x3f;

/** The QNaN "real indefinite" (SDM Vol. 1 4.8.3.7): sign 1, exponent all ones, significand C000..0. */
export const IND_LO = 0, IND_HI = 0xc0000000, IND_SE = 0xffff;

export function getTop(u: Uint32Array): number {
  return (u[S_FSW]! >>> 11) & 7;
}
export function setTop(u: Uint32Array, t: number): void {
  u[S_FSW] = (u[S_FSW]! & ~SW_TOP) | ((t & 7) << 11);
}
/** Physical register number of ST(i). */
export function phys(u: Uint32Array, i: number): number {
  return (getTop(u) + i) & 7;
}
export function isEmpty(u: Uint32Array, p: number): boolean {
  return ((u[S_FTW]! >>> p) & 1) === 0;
}
export function setValid(u: Uint32Array, p: number): void {
  u[S_FTW] = u[S_FTW]! | (1 << p);
}
export function setEmpty(u: Uint32Array, p: number): void {
  u[S_FTW] = u[S_FTW]! & ~(1 << p);
}
/** Writes physical register p (significand lo/hi, sign/exponent) and tags it not empty. */
export function writeReg(u: Uint32Array, p: number, lo: number, hi: number, se: number): void {
  const o = S_FPR + p * FPR_STRIDE;
  u[o] = lo >>> 0;
  u[o + 1] = hi >>> 0;
  u[o + 2] = se & 0xffff;
  u[S_FTW] = u[S_FTW]! | (1 << p);
}
/** Pops the stack: tags ST(0) empty and increments TOP (SDM Vol. 1 8.1.2). */
export function pop(u: Uint32Array): void {
  const t = getTop(u);
  u[S_FTW] = u[S_FTW]! & ~(1 << t);
  setTop(u, t + 1);
}
export function setC1(u: Uint32Array, c1: number): void {
  u[S_FSW] = c1 !== 0 ? u[S_FSW]! | SW_C1 : u[S_FSW]! & ~SW_C1;
}
/** Sets condition codes C3..C0 from a 4-bit value c3<<3|c2<<2|c1<<1|c0. */
export function setCC(u: Uint32Array, c: number): void {
  u[S_FSW] = (u[S_FSW]! & ~SW_CC) | (c & 1 ? SW_C0 : 0) | (c & 2 ? SW_C1 : 0) | (c & 4 ? SW_C2 : 0) | (c & 8 ? SW_C3 : 0);
}

/**
 * Records exception flags (FE_* order = FSW bits 5:0) in FSW; any flag whose FCW mask bit is clear
 * also sets the error summary ES and its mirror B (SDM Vol. 1 8.1.3.1/8.1.3.4). Flags are sticky.
 */
export function signal(u: Uint32Array, flags: number): void {
  let sw = u[S_FSW]! | (flags & EXC_MASK);
  if ((flags & ~u[S_FCW]! & EXC_MASK) !== 0) sw |= SW_ES | SW_B;
  u[S_FSW] = sw;
}

/** True when the exception flags `flags` include one whose FCW mask is clear. */
export function unmasked(u: Uint32Array, flags: number): boolean {
  return (flags & ~u[S_FCW]! & EXC_MASK) !== 0;
}

/** ES and B recomputed from the flags and masks (after a load of FCW or FSW: FLDCW/FLDENV/FRSTOR/FXRSTOR). */
export function recomputeES(u: Uint32Array): void {
  const sw = u[S_FSW]! & ~(SW_ES | SW_B);
  u[S_FSW] = (sw & ~u[S_FCW]! & EXC_MASK) !== 0 ? sw | SW_ES | SW_B : sw;
}

/**
 * Stack overflow (push onto a non-empty register) or underflow (read of an empty one): IE with SF,
 * C1 = 1 for overflow, 0 for underflow (SDM Vol. 1 8.5.1.1). Returns true when IE is masked, so the
 * caller applies the masked response (the real indefinite as the result).
 */
export function stackFault(u: Uint32Array, overflow: boolean): boolean {
  let sw = (u[S_FSW]! | SW_IE | SW_SF) & ~SW_C1;
  if (overflow) sw |= SW_C1;
  const masked = (u[S_FCW]! & SW_IE) !== 0;
  if (!masked) sw |= SW_ES | SW_B;
  u[S_FSW] = sw;
  return masked;
}

/**
 * Push prologue: the physical register the push will write, or -1 when ST(7) is not empty (stack
 * overflow; the masked response, a pushed real indefinite, is already done then).
 */
export function pushSlot(u: Uint32Array): number {
  const t = (getTop(u) - 1) & 7;
  if (!isEmpty(u, t)) {
    if (stackFault(u, true)) {
      setTop(u, t);
      writeReg(u, t, IND_LO, IND_HI, IND_SE);
    }
    return -1;
  }
  return t;
}
/** Completes a push started by pushSlot: TOP = t, ST(0) = the value. */
export function pushCommit(u: Uint32Array, t: number, lo: number, hi: number, se: number): void {
  setTop(u, t);
  writeReg(u, t, lo, hi, se);
}

/* ---- classification (SDM Vol. 1 8.1.7 tags, Table 8-7 FXAM classes) ---- */
export const K_UNSUPPORTED = 0, K_NAN = 1, K_NORMAL = 2, K_INF = 3, K_ZERO = 4, K_EMPTY = 5, K_DENORMAL = 6;

/** FXAM class of an extended value (C3 C2 C0 encoding of SDM Vol. 2 FXAM Table 3-??). */
export function classify(lo: number, hi: number, se: number): number {
  const exp = se & 0x7fff;
  const j = hi >>> 31;
  if (exp === 0x7fff) {
    if (j === 0) return K_UNSUPPORTED; // pseudo-infinity / pseudo-NaN
    return ((hi & 0x7fffffff) | lo) === 0 ? K_INF : K_NAN;
  }
  if (exp === 0) return (hi | lo) === 0 ? K_ZERO : K_DENORMAL; // incl. pseudo-denormals (J = 1)
  return j === 0 ? K_UNSUPPORTED : K_NORMAL; // unnormal when J = 0
}

/** The full tag word (SDM Vol. 1 8.1.7): 00 valid, 01 zero, 10 special, 11 empty, two bits per Rp. */
export function fullTagWord(u: Uint32Array): number {
  let tw = 0;
  for (let p = 0; p < 8; p++) {
    let t: number;
    if (isEmpty(u, p)) t = 3;
    else {
      const o = S_FPR + p * FPR_STRIDE;
      const exp = u[o + 2]! & 0x7fff;
      const lo = u[o]!, hi = u[o + 1]!;
      if (exp === 0x7fff) t = 2;
      else if (exp === 0) t = (hi | lo) === 0 ? 1 : 2;
      else t = hi >>> 31 !== 0 ? 0 : 2;
    }
    tw |= t << (2 * p);
  }
  return tw;
}

/** Abridged tags from a full tag word: a register is not empty unless its tag is 11 (SDM Vol. 1 10.5.1.1). */
export function abridgeTags(tw: number): number {
  let ab = 0;
  for (let p = 0; p < 8; p++) if (((tw >>> (2 * p)) & 3) !== 3) ab |= 1 << p;
  return ab;
}
