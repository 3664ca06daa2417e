/**
 * Lazy RFLAGS status flags (SDM Vol. 1 §3.4.3.1, Appendix A "EFLAGS cross-reference").
 *
 * A flag-setting instruction records what it did instead of computing six flags: L_MASK says which
 * status flags are lazy, the rest are in the RFLAGS slot. Every additive operation is stored in its
 * "add view" A + B (+ carry-in) = SUM, with RES the architectural result:
 *   ADD/ADC  a + b = r     -> A=a, B=b, SUM=r, RES=r
 *   SUB/SBB  a - b = r     -> A=r, B=b, SUM=a, RES=r   (because r + b + borrow = a)
 * so one formula gives CF (carry out of the MSB, which for the subtraction is the borrow), OF and AF
 * for all four. The carry out of the top bit depends only on the top bits of A, B and SUM:
 *   carry = a&b | (a^b)&~sum  =  a ^ ((a ^ b) & (b ^ sum))        (evaluated at the MSB)
 * and signed overflow is (a ^ sum) & (b ^ sum) at the MSB. For 64-bit operations the MSB lives in the
 * high halves. Results are stored already truncated to the operand size.
 */
import {
  AF, CF, L_A, L_B, L_MASK, L_RES, L_SIZE, L_SUM, OF, PF, RFLAGS_FIXED1, S_RFLAGS, SF, STATUS_FLAGS, ZF,
} from './state.js';

/** PARITY[b] = PF for low byte b: set when the number of 1 bits is even (SDM Vol. 1 §3.4.3.1). */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let n = i;
  n ^= n >> 4;
  n ^= n >> 2;
  n ^= n >> 1;
  PARITY[i] = (n & 1) === 0 ? PF : 0;
}

/** Records an additive operation of 8/16/32 bits (see the file comment for the add view). */
export function lazyArith(u: Uint32Array, size: number, res: number, a: number, b: number, sum: number): void {
  u[L_MASK] = STATUS_FLAGS;
  u[L_SIZE] = size;
  u[L_RES] = res;
  u[L_A] = a;
  u[L_B] = b;
  u[L_SUM] = sum;
}

/** Records an additive 64-bit operation. */
export function lazyArith64(
  u: Uint32Array, rlo: number, rhi: number, alo: number, ahi: number, blo: number, bhi: number, slo: number, shi: number,
): void {
  u[L_MASK] = STATUS_FLAGS;
  u[L_SIZE] = 64;
  u[L_RES] = rlo;
  u[L_RES + 1] = rhi;
  u[L_A] = alo;
  u[L_A + 1] = ahi;
  u[L_B] = blo;
  u[L_B + 1] = bhi;
  u[L_SUM] = slo;
  u[L_SUM + 1] = shi;
}

/**
 * Records a result whose PF/ZF/SF are lazy while CF, OF and AF are cleared: AND/OR/XOR/TEST
 * (SDM: "The OF and CF flags are cleared; the SF, ZF, and PF flags are set according to the result.
 * The state of the AF flag is undefined." We clear AF, as the processors we compare with do).
 */
export function lazyLogic(u: Uint32Array, size: number, res: number, resHi: number): void {
  u[S_RFLAGS] &= ~(CF | OF | AF);
  u[L_MASK] = PF | ZF | SF;
  u[L_SIZE] = size;
  u[L_RES] = res;
  u[L_RES + 1] = resHi;
}

/**
 * Records a result whose PF/ZF/SF are lazy; the caller has already written CF/OF/AF (or whatever its
 * instruction defines) into RFLAGS with setStatus(). Used by shifts, rotates through results, BMI.
 */
export function lazyResult(u: Uint32Array, size: number, res: number, resHi: number): void {
  u[L_MASK] = PF | ZF | SF;
  u[L_SIZE] = size;
  u[L_RES] = res;
  u[L_RES + 1] = resHi;
}

/**
 * INC/DEC: like ADD/SUB with 1 but CF is preserved (SDM INC: "The CF flag is not affected").
 * The caller passes the add view; CF is materialised first if it was lazy.
 */
export function lazyIncDec(u: Uint32Array, size: number, res: number, resHi: number, a: number, ahi: number, b: number, bhi: number, sum: number, sumHi: number): void {
  const m = u[L_MASK]!;
  if ((m & CF) !== 0) u[S_RFLAGS] = (u[S_RFLAGS]! & ~CF) | lazyCF(u);
  u[L_MASK] = PF | AF | ZF | SF | OF;
  u[L_SIZE] = size;
  u[L_RES] = res;
  u[L_RES + 1] = resHi;
  u[L_A] = a;
  u[L_A + 1] = ahi;
  u[L_B] = b;
  u[L_B + 1] = bhi;
  u[L_SUM] = sum;
  u[L_SUM + 1] = sumHi;
}

/* ---- evaluation of one lazy flag (only valid when its bit is in L_MASK) ---- */

function lazyCF(u: Uint32Array): number {
  const size = u[L_SIZE]!;
  let a: number, b: number, s: number;
  if (size === 64) {
    a = u[L_A + 1]!;
    b = u[L_B + 1]!;
    s = u[L_SUM + 1]!;
  } else {
    a = u[L_A]!;
    b = u[L_B]!;
    s = u[L_SUM]!;
  }
  return ((a ^ ((a ^ b) & (b ^ s))) >>> ((size - 1) & 31)) & 1;
}

function lazyOF(u: Uint32Array): number {
  const size = u[L_SIZE]!;
  let a: number, b: number, s: number;
  if (size === 64) {
    a = u[L_A + 1]!;
    b = u[L_B + 1]!;
    s = u[L_SUM + 1]!;
  } else {
    a = u[L_A]!;
    b = u[L_B]!;
    s = u[L_SUM]!;
  }
  return (((a ^ s) & (b ^ s)) >>> ((size - 1) & 31)) & 1;
}

function lazyZF(u: Uint32Array): boolean {
  return u[L_SIZE] === 64 ? (u[L_RES]! | u[L_RES + 1]!) === 0 : u[L_RES] === 0;
}

function lazySF(u: Uint32Array): number {
  const size = u[L_SIZE]!;
  return ((size === 64 ? u[L_RES + 1]! : u[L_RES]!) >>> ((size - 1) & 31)) & 1;
}

/* ---- readers ---- */

export function getCF(u: Uint32Array): number {
  return (u[L_MASK]! & CF) !== 0 ? lazyCF(u) : u[S_RFLAGS]! & CF;
}
export function getZF(u: Uint32Array): boolean {
  return (u[L_MASK]! & ZF) !== 0 ? lazyZF(u) : (u[S_RFLAGS]! & ZF) !== 0;
}
export function getSF(u: Uint32Array): number {
  return (u[L_MASK]! & SF) !== 0 ? lazySF(u) : (u[S_RFLAGS]! >>> 7) & 1;
}
export function getOF(u: Uint32Array): number {
  return (u[L_MASK]! & OF) !== 0 ? lazyOF(u) : (u[S_RFLAGS]! >>> 11) & 1;
}
export function getPF(u: Uint32Array): boolean {
  return (u[L_MASK]! & PF) !== 0 ? PARITY[u[L_RES]! & 0xff] !== 0 : (u[S_RFLAGS]! & PF) !== 0;
}
export function getAF(u: Uint32Array): boolean {
  return (u[L_MASK]! & AF) !== 0 ? ((u[L_A]! ^ u[L_B]! ^ u[L_SUM]!) & AF) !== 0 : (u[S_RFLAGS]! & AF) !== 0;
}

/** The whole RFLAGS value with the lazy flags evaluated (does not change the lazy record). */
export function getFlags(u: Uint32Array): number {
  const m = u[L_MASK]!;
  let f = u[S_RFLAGS]!;
  if (m === 0) return f;
  f &= ~m;
  if ((m & CF) !== 0) f |= lazyCF(u);
  if ((m & PF) !== 0) f |= PARITY[u[L_RES]! & 0xff]!;
  if ((m & AF) !== 0) f |= (u[L_A]! ^ u[L_B]! ^ u[L_SUM]!) & AF;
  if ((m & ZF) !== 0 && lazyZF(u)) f |= ZF;
  if ((m & SF) !== 0) f |= lazySF(u) << 7;
  if ((m & OF) !== 0) f |= lazyOF(u) << 11;
  return f >>> 0;
}

/** Replaces RFLAGS (all bits) and drops the lazy record; bit 1 is forced to 1. */
export function setFlags(u: Uint32Array, value: number): void {
  u[L_MASK] = 0;
  u[S_RFLAGS] = (value | RFLAGS_FIXED1) >>> 0;
}

/** Writes the status flags selected by `mask` to the bits of `value`, materialising the others. */
export function setStatus(u: Uint32Array, mask: number, value: number): void {
  if (u[L_MASK] !== 0) {
    u[S_RFLAGS] = getFlags(u);
    u[L_MASK] = 0;
  }
  u[S_RFLAGS] = ((u[S_RFLAGS]! & ~mask) | (value & mask)) >>> 0;
}

/** Materialises the lazy flags into the RFLAGS slot (used before flags are saved or inspected). */
export function materialize(u: Uint32Array): void {
  if (u[L_MASK] !== 0) {
    u[S_RFLAGS] = getFlags(u);
    u[L_MASK] = 0;
  }
}

/**
 * Evaluates condition code cc (0..15) as encoded in Jcc/SETcc/CMOVcc (SDM Vol. 1 Appendix B,
 * Table B-1): O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G.
 */
export function cond(u: Uint32Array, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(u) !== 0; break;
    case 1: r = getCF(u) !== 0; break;
    case 2: r = getZF(u); break;
    case 3: r = getCF(u) !== 0 || getZF(u); break;
    case 4: r = getSF(u) !== 0; break;
    case 5: r = getPF(u); break;
    case 6: r = getSF(u) !== getOF(u); break;
    default: r = getZF(u) || getSF(u) !== getOF(u); break;
  }
  return (cc & 1) !== 0 ? !r : r;
}
