/**
 * 64-bit values as two uint32 halves, the representation the hot path uses (no BigInt).
 * These helpers are for the API boundary and for code that is not per-instruction.
 */

const TWO32 = 0x1_0000_0000;

/** Splits a non-negative safe integer or bigint into [lo, hi] uint32 halves. */
export function split64(value: number | bigint): [number, number] {
  if (typeof value === 'bigint') {
    const v = BigInt.asUintN(64, value);
    return [Number(v & 0xffff_ffffn), Number(v >> 32n)];
  }
  return [value >>> 0, Math.floor(value / TWO32) >>> 0];
}

/** Joins uint32 halves into a bigint. */
export function join64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Joins uint32 halves into a number; exact only below 2^53. */
export function join53(lo: number, hi: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

/** True if `value` is a non-negative integer that a JS number represents exactly. */
export function isSafeAddress(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
