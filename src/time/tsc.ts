/**
 * The time-stamp counter derived from the virtual clock (SDM Vol. 3B 18.17 "Time-Stamp Counter"):
 * an invariant TSC ticking at a constant frequency, TSC = floor(ns * hz / 1e9), and the CPUID
 * leaves that advertise that frequency (SDM Vol. 2A, CPUID leaf 15H "Time Stamp Counter and Nominal
 * Core Crystal Clock Information" and leaf 16H "Processor Frequency Information").
 *
 * Per-vCPU parts (IA32_TSC_ADJUST, the TSC offset a WRMSR to IA32_TIME_STAMP_COUNTER creates,
 * IA32_TSC_AUX) live with the vCPU's MSRs: they add to this value and do not change its rate.
 *
 * The arithmetic is exact integer arithmetic in float64: the frequency must be a whole number of
 * kHz, at most 9 GHz, so that every intermediate product stays below 2^53.
 */
import { InvalidArgumentError } from '../util/errors.js';

/** Largest frequency accepted: keeps (ns % 1e9) * (hz / 1000) below 2^53. */
export const MAX_TSC_HZ = 9_000_000_000;

/** Checks a TSC frequency: a positive whole number of kHz, at most MAX_TSC_HZ. */
export function checkTscHz(hz: number): number {
  if (!Number.isSafeInteger(hz) || hz <= 0 || hz % 1000 !== 0 || hz > MAX_TSC_HZ) {
    throw new InvalidArgumentError(`TSC frequency ${hz} Hz must be a positive whole number of kHz up to ${MAX_TSC_HZ}`);
  }
  return hz;
}

/** floor(a / b) for non-negative safe integers, exact. */
function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  else if ((q + 1) * b <= a) q++;
  return q;
}

/**
 * TSC ticks after `ns` nanoseconds at `hz`: floor(ns * hz / 1e9), exact. The result is a number,
 * exact while below 2^53 (about 34 days at 3 GHz); callers needing EDX:EAX split it with
 * `lo = t % 2**32, hi = Math.floor(t / 2**32)`.
 */
export function tscTicksAt(ns: number, hz: number): number {
  const sec = Math.floor(ns / 1e9);
  const rem = ns - sec * 1e9;
  return sec * hz + floorDiv(rem * (hz / 1000), 1e6);
}

/**
 * The first nanosecond at which the TSC has reached `ticks` (ceil(ticks * 1e9 / hz)): when a
 * TSC-deadline timer armed for `ticks` fires.
 */
export function nsAtTscTicks(ticks: number, hz: number): number {
  const khz = hz / 1000;
  const sec = Math.floor(ticks / hz);
  const remTicks = ticks - sec * hz; // < hz <= 9e9
  // remTicks * 1e6 may reach 9e15 (< 2^53): ceil(remTicks * 1e9 / hz) = ceil(remTicks * 1e6 / khz)
  const num = remTicks * 1e6;
  let ns = floorDiv(num, khz);
  if (ns * khz < num) ns++;
  return sec * 1e9 + ns;
}

/** Register values of one CPUID leaf. */
export interface CpuidRegs {
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

/**
 * CPUID leaf 15H for a TSC at `hz` with a nominal core crystal at `crystalHz` (default: the largest
 * of 25 MHz, 24 MHz, 1 MHz, 1 kHz that divides hz). SDM: TSC frequency = ECX * EBX / EAX, where
 * EAX is the denominator, EBX the numerator and ECX the crystal frequency in Hz. Linux computes
 * crystal_khz = ECX / 1000, so the crystal is kept a whole number of kHz.
 */
export function cpuidLeaf15(hz: number, crystalHz?: number): CpuidRegs {
  checkTscHz(hz);
  let crystal = crystalHz;
  if (crystal === undefined) {
    crystal = [25_000_000, 24_000_000, 1_000_000, 1000].find((c) => hz % c === 0)!;
  } else if (!Number.isSafeInteger(crystal) || crystal <= 0 || crystal > 0xffff_ffff || crystal % 1000 !== 0) {
    throw new InvalidArgumentError(`crystal frequency ${crystal} Hz must be a positive whole number of kHz below 2^32`);
  }
  // Reduce hz / crystal to lowest terms so both fit 32 bits.
  let a = hz;
  let b = crystal;
  while (b !== 0) [a, b] = [b, a % b];
  const num = hz / a;
  const den = crystal / a;
  if (num > 0xffff_ffff || den > 0xffff_ffff) {
    throw new InvalidArgumentError(`TSC ${hz} Hz over crystal ${crystal} Hz does not reduce to 32-bit terms`);
  }
  return { eax: den, ebx: num, ecx: crystal, edx: 0 };
}

/**
 * CPUID leaf 16H: EAX base frequency (MHz), EBX maximum frequency (MHz), ECX bus (reference)
 * frequency (MHz), from the TSC frequency (an invariant TSC runs at the base frequency).
 */
export function cpuidLeaf16(hz: number, busMhz = 100): CpuidRegs {
  checkTscHz(hz);
  const mhz = Math.floor(hz / 1_000_000);
  return { eax: mhz & 0xffff, ebx: mhz & 0xffff, ecx: busMhz & 0xffff, edx: 0 };
}

/**
 * A TSC model bound to a clock and a frequency: ticks now, ticks at a time, and the time of a tick
 * count. One per machine (all vCPUs share the invariant TSC; their offsets are per-vCPU MSR state).
 */
export class TscModel {
  readonly hz: number;
  constructor(
    private readonly clock: { now(): number },
    hz = 2_000_000_000,
  ) {
    this.hz = checkTscHz(hz);
  }

  /** TSC ticks now (before any per-vCPU offset). */
  ticks(): number {
    return tscTicksAt(this.clock.now(), this.hz);
  }

  ticksAt(ns: number): number {
    return tscTicksAt(ns, this.hz);
  }

  nsAt(ticks: number): number {
    return nsAtTscTicks(ticks, this.hz);
  }

  cpuid15(crystalHz?: number): CpuidRegs {
    return cpuidLeaf15(this.hz, crystalHz);
  }

  cpuid16(busMhz?: number): CpuidRegs {
    return cpuidLeaf16(this.hz, busMhz);
  }
}
