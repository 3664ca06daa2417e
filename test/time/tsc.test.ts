import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/time/clock.js';
import { TscModel, checkTscHz, cpuidLeaf15, cpuidLeaf16, nsAtTscTicks, tscTicksAt } from '../../src/time/tsc.js';
import { InvalidArgumentError } from '../../src/util/errors.js';

describe('TSC from the virtual clock', () => {
  it('ticks floor(ns * hz / 1e9), exactly, also past 2^53 intermediate products', () => {
    expect(tscTicksAt(0, 2_000_000_000)).toBe(0);
    expect(tscTicksAt(1, 2_000_000_000)).toBe(2);
    expect(tscTicksAt(1, 2_500_000_000)).toBe(2); // 2.5 -> 2
    expect(tscTicksAt(1_000_000_000, 3_000_000_000)).toBe(3_000_000_000);
    // one day at 2.999999 GHz: check against BigInt arithmetic
    for (const [ns, hz] of [
      [86_400_000_000_123, 2_999_999_000],
      [999_999_999, 8_999_999_000],
      [123_456_789_012_345, 1_193_000],
      [7, 1000],
    ] as const) {
      const want = Number((BigInt(ns) * BigInt(hz)) / 1_000_000_000n);
      expect(tscTicksAt(ns, hz)).toBe(want);
    }
  });

  it('nsAtTscTicks is the first ns at which the TSC has reached the count', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const hz = (1 + (rnd() % 9_000_000)) * 1000;
      // keep ns below 2^53 (9e6 s), the range the helpers promise to be exact in
      const ticks = (rnd() * 1000 + (rnd() % 1000)) % (hz * 9_000_000);
      const ns = nsAtTscTicks(ticks, hz);
      expect(tscTicksAt(ns, hz)).toBeGreaterThanOrEqual(ticks);
      if (ns > 0) expect(tscTicksAt(ns - 1, hz)).toBeLessThan(ticks);
    }
  });

  it('rejects frequencies that are not whole kHz or exceed 9 GHz', () => {
    expect(() => checkTscHz(1_000_000_001)).toThrow(InvalidArgumentError);
    expect(() => checkTscHz(10_000_000_000)).toThrow(InvalidArgumentError);
    expect(() => checkTscHz(0)).toThrow(InvalidArgumentError);
    expect(checkTscHz(2_400_000_000)).toBe(2_400_000_000);
  });

  it('CPUID 15H: ECX * EBX / EAX equals the TSC frequency (SDM Vol. 2A leaf 15H)', () => {
    for (const hz of [2_000_000_000, 2_400_000_000, 1_193_000, 3_333_333_000]) {
      const r = cpuidLeaf15(hz);
      expect((r.ecx * r.ebx) / r.eax).toBe(hz);
      expect(r.ecx % 1000).toBe(0);
      expect(r.eax).toBeGreaterThan(0);
    }
    expect(cpuidLeaf15(2_000_000_000)).toEqual({ eax: 1, ebx: 80, ecx: 25_000_000, edx: 0 });
    expect(cpuidLeaf15(2_000_000_000, 24_000_000)).toEqual({ eax: 3, ebx: 250, ecx: 24_000_000, edx: 0 });
  });

  it('CPUID 16H reports the base and max frequency in MHz and the bus frequency', () => {
    expect(cpuidLeaf16(2_400_000_000)).toEqual({ eax: 2400, ebx: 2400, ecx: 100, edx: 0 });
  });

  it('TscModel follows its clock', () => {
    const c = new VirtualClock();
    const tsc = new TscModel(c, 3_000_000_000);
    c.retire(1000);
    expect(tsc.ticks()).toBe(3000);
    expect(tsc.nsAt(3001)).toBe(1001);
    expect(tsc.cpuid16().eax).toBe(3000);
  });
});
