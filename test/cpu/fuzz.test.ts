/** Fixed-seed fuzz sample: random code streams in 16/32/64-bit mode end in exits, invariants intact. */
import { describe, expect, it } from 'vitest';
import { fuzz } from './fuzz-core.js';

describe('fuzzing the integer core with random code', () => {
  it('runs 20,000 streams (6,667 per mode) to an exit without a host error', () => {
    const r = fuzz(6667, 20261122);
    expect(r.runs).toBeGreaterThanOrEqual(20000);
    expect(r.failures.slice(0, 3)).toEqual([]);
  });
});
