import { describe, expect, it } from 'vitest';
import { join64, split64 } from '../../src/util/u64.js';

describe('64-bit halves', () => {
  it('splits a bigint into low and high uint32 halves', () => {
    expect(split64(0x1234_5678_9abc_def0n)).toEqual([0x9abc_def0, 0x1234_5678]);
  });
  it('wraps negative bigints modulo 2^64 (two\'s complement)', () => {
    expect(split64(-1n)).toEqual([0xffff_ffff, 0xffff_ffff]);
  });
  it('splits numbers above 2^32', () => {
    expect(split64(2 ** 40 + 5)).toEqual([5, 0x100]);
  });
  it('joins halves back', () => {
    expect(join64(0x9abc_def0, 0x1234_5678)).toBe(0x1234_5678_9abc_def0n);
  });
});
