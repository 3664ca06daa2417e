import { describe, expect, it } from 'vitest';
import { mulDivCeil, mulDivFloor, nsAtTick, ticksAt } from '../../src/time/ticks.js';

const big = (a: number, b: number, c: number): [number, number] => {
  const p = BigInt(a) * BigInt(b);
  const q = p / BigInt(c);
  return [Number(q), Number(p % BigInt(c) === 0n ? q : q + 1n)];
};

describe('exact tick arithmetic', () => {
  it('mulDivFloor/Ceil agree with BigInt arithmetic across the range', () => {
    let seed = 7;
    const rnd = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    for (let i = 0; i < 5000; i++) {
      const a = rnd() * 2 + (rnd() & 1);
      const b = (rnd() % 2 === 0 ? rnd() : rnd() % 100000) + 1;
      const c = (rnd() % 2 === 0 ? rnd() : rnd() % 1000) + 1;
      const [f, cl] = big(a, b, c);
      if (f >= 2 ** 53) continue;
      expect(mulDivFloor(a, b, c)).toBe(f);
      expect(mulDivCeil(a, b, c)).toBe(cl);
    }
  });

  it('ticksAt at the 8254 rate: 1 s is 1,193,182 ticks, one tick is 838.095 ns', () => {
    expect(ticksAt(1e9, 1_193_182)).toBe(1_193_182);
    expect(ticksAt(838, 1_193_182)).toBe(0);
    expect(ticksAt(839, 1_193_182)).toBe(1);
    expect(nsAtTick(1, 1_193_182)).toBe(839);
    expect(nsAtTick(1_193_182, 1_193_182)).toBe(1e9);
    // an hour in: check against BigInt
    const ns = 3_600_000_000_123;
    expect(ticksAt(ns, 1_193_182)).toBe(Number((BigInt(ns) * 1_193_182n) / 1_000_000_000n));
  });

  it('nsAtTick is the first ns whose tick count reaches the target (14.31818 MHz, 1 GHz, 1.193182 MHz)', () => {
    for (const hz of [14_318_180, 1_000_000_000, 1_193_182, 3]) {
      for (const k of [0, 1, 2, 12345, 999_999_937, 7_000_000_000_001]) {
        if ((k / hz) * 1e9 >= 2 ** 53) continue; // beyond the exact range the helpers promise
        const ns = nsAtTick(k, hz);
        expect(ticksAt(ns, hz)).toBeGreaterThanOrEqual(k);
        if (ns > 0) expect(ticksAt(ns - 1, hz)).toBeLessThan(k);
      }
    }
  });
});
