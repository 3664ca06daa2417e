/**
 * Integer arithmetic and logic semantics (SDM Vol. 2: ADD, ADC, SUB, SBB, AND, OR, XOR, CMP, TEST,
 * NEG, NOT, INC, DEC). Plain functions over the register-file view `u`, shared by the interpreter
 * and a later block compiler. Operands arrive truncated to the operand size; 64-bit forms take
 * halves and return the low half, leaving the high half in u[S_T + 1].
 *
 * ALU op numbers are the ModRM.reg encoding of group 1 (SDM Vol. 2A Table A-6): 0 ADD, 1 OR, 2 ADC,
 * 3 SBB, 4 AND, 5 SUB, 6 XOR, 7 CMP. CMP computes like SUB; the caller skips the write-back.
 */
import { lazyArith, lazyArith64, lazyIncDec, lazyLogic, getCF } from '../flags.js';
import { S_T } from '../state.js';

export const ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7;

/** Mask of an operand size in bits (8/16/32). */
export function sizeMask(size: number): number {
  return size === 32 ? 0xffffffff : size === 16 ? 0xffff : 0xff;
}

/** Group-1 operation on 8/16/32-bit operands; returns the result (CMP: the difference). */
export function alu(u: Uint32Array, op: number, size: number, a: number, b: number): number {
  const m = size === 32 ? 0xffffffff : size === 16 ? 0xffff : 0xff;
  let r: number;
  switch (op) {
    case 0:
      r = ((a + b) & m) >>> 0;
      lazyArith(u, size, r, a, b, r);
      return r;
    case 1:
      r = (a | b) >>> 0;
      lazyLogic(u, size, r, 0);
      return r;
    case 2:
      r = ((a + b + getCF(u)) & m) >>> 0;
      lazyArith(u, size, r, a, b, r);
      return r;
    case 3:
      r = ((a - b - getCF(u)) & m) >>> 0;
      lazyArith(u, size, r, r, b, a);
      return r;
    case 4:
      r = (a & b) >>> 0;
      lazyLogic(u, size, r, 0);
      return r;
    case 6:
      r = (a ^ b) >>> 0;
      lazyLogic(u, size, r, 0);
      return r;
    default: // 5 SUB, 7 CMP
      r = ((a - b) & m) >>> 0;
      lazyArith(u, size, r, r, b, a);
      return r;
  }
}

/** Group-1 operation on 64-bit operands; returns the low half, high half in u[S_T + 1]. */
export function alu64(u: Uint32Array, op: number, alo: number, ahi: number, blo: number, bhi: number): number {
  let lo: number, hi: number;
  switch (op) {
    case 0:
    case 2: {
      const s = alo + blo + (op === 2 ? getCF(u) : 0);
      lo = s >>> 0;
      hi = (ahi + bhi + (s > 0xffffffff ? 1 : 0)) >>> 0;
      lazyArith64(u, lo, hi, alo, ahi, blo, bhi, lo, hi);
      break;
    }
    case 1:
      lo = (alo | blo) >>> 0;
      hi = (ahi | bhi) >>> 0;
      lazyLogic(u, 64, lo, hi);
      break;
    case 4:
      lo = (alo & blo) >>> 0;
      hi = (ahi & bhi) >>> 0;
      lazyLogic(u, 64, lo, hi);
      break;
    case 6:
      lo = (alo ^ blo) >>> 0;
      hi = (ahi ^ bhi) >>> 0;
      lazyLogic(u, 64, lo, hi);
      break;
    default: {
      // 3 SBB, 5 SUB, 7 CMP
      const d = alo - blo - (op === 3 ? getCF(u) : 0);
      lo = d >>> 0;
      hi = (ahi - bhi - (d < 0 ? 1 : 0)) >>> 0;
      lazyArith64(u, lo, hi, lo, hi, blo, bhi, alo, ahi);
      break;
    }
  }
  u[S_T + 1] = hi;
  return lo;
}

/** INC (SDM INC: CF not affected). */
export function inc(u: Uint32Array, size: number, a: number): number {
  const r = ((a + 1) & sizeMask(size)) >>> 0;
  lazyIncDec(u, size, r, 0, a, 0, 1, 0, r, 0);
  return r;
}

/** DEC (SDM DEC: CF not affected). */
export function dec(u: Uint32Array, size: number, a: number): number {
  const r = ((a - 1) & sizeMask(size)) >>> 0;
  lazyIncDec(u, size, r, 0, r, 0, 1, 0, a, 0);
  return r;
}

export function inc64(u: Uint32Array, alo: number, ahi: number): number {
  const lo = (alo + 1) >>> 0;
  const hi = lo === 0 ? (ahi + 1) >>> 0 : ahi;
  lazyIncDec(u, 64, lo, hi, alo, ahi, 1, 0, lo, hi);
  u[S_T + 1] = hi;
  return lo;
}

export function dec64(u: Uint32Array, alo: number, ahi: number): number {
  const lo = (alo - 1) >>> 0;
  const hi = alo === 0 ? (ahi - 1) >>> 0 : ahi;
  lazyIncDec(u, 64, lo, hi, lo, hi, 1, 0, alo, ahi);
  u[S_T + 1] = hi;
  return lo;
}

/** NEG: 0 - a (SDM NEG: CF = 0 if the source is 0, else 1; the others per the result). */
export function neg(u: Uint32Array, size: number, a: number): number {
  const r = ((0 - a) & sizeMask(size)) >>> 0;
  lazyArith(u, size, r, r, a, 0);
  return r;
}

export function neg64(u: Uint32Array, alo: number, ahi: number): number {
  const lo = (0 - alo) >>> 0;
  const hi = (0 - ahi - (alo !== 0 ? 1 : 0)) >>> 0;
  lazyArith64(u, lo, hi, lo, hi, alo, ahi, 0, 0);
  u[S_T + 1] = hi;
  return lo;
}
