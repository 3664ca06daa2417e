/**
 * Exact conversions between clock nanoseconds and the ticks of a device clock at an integer
 * frequency (the 8254's 1.193182 MHz, a LAPIC bus clock, the HPET's counter), without BigInt:
 * tick k happens at the first nanosecond t with floor(t * hz / 1e9) >= k, and everything stays
 * integer-exact in float64 for ns and ticks below 2^53 and hz below 2^33.
 */

const TWO16 = 65536;

/** floor(a / b) for non-negative integers below 2^53, exact. */
function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  else if ((q + 1) * b <= a) q++;
  return q;
}

/** Remainder of the last mulDivFloor (module-local scratch: no allocation per call). */
let lastRem = 0;

/**
 * floor(a * b / c) for non-negative integers a, b, c below 2^33 (c > 0), exact while the result
 * is below 2^53: b is split into 16-bit limbs so no intermediate product exceeds 2^50.
 */
export function mulDivFloor(a: number, b: number, c: number): number {
  const bHi = Math.floor(b / TWO16);
  const bLo = b - bHi * TWO16;
  const x = a * bHi;
  const q1 = floorDiv(x, c);
  const r1 = x - q1 * c;
  const low = r1 * TWO16 + a * bLo;
  const q2 = floorDiv(low, c);
  lastRem = low - q2 * c;
  return q1 * TWO16 + q2;
}

/** ceil(a * b / c), same ranges as mulDivFloor. */
export function mulDivCeil(a: number, b: number, c: number): number {
  const q = mulDivFloor(a, b, c);
  return lastRem === 0 ? q : q + 1;
}

/** Ticks of a clock at `hz` elapsed after `ns` nanoseconds: floor(ns * hz / 1e9). */
export function ticksAt(ns: number, hz: number): number {
  const sec = Math.floor(ns / 1e9);
  const rem = ns - sec * 1e9;
  return sec * hz + mulDivFloor(rem, hz, 1e9);
}

/** The first nanosecond at which `ticks` ticks of a clock at `hz` have elapsed. */
export function nsAtTick(ticks: number, hz: number): number {
  const sec = Math.floor(ticks / hz);
  const rem = ticks - sec * hz;
  return sec * 1e9 + mulDivCeil(rem, 1e9, hz);
}
