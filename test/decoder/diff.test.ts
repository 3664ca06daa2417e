/**
 * Differential test against iced-x86: 100,000 fixed-seed biased random sequences per mode.
 * Every sequence must agree: validity; for the model's instruction set including VEX BMI1/BMI2
 * also length, mnemonic, operands, registers, memory operand, immediates, branch targets; for
 * the other VEX/EVEX encodings length and validity (#UD) exactly.
 */
import { describe, expect, it } from 'vitest';
import { runDiff } from './oracle.js';

const COUNT = 100_000;

describe('decoder agrees with iced-x86 on random byte sequences', () => {
  for (const mode of [16, 32, 64] as const) {
    it(`${mode}-bit mode, ${COUNT} sequences`, () => {
      const t = runDiff(mode, COUNT, 1, 10);
      expect(t.samples).toEqual([]);
      expect(t.mismatch).toBe(0);
      expect(t.match).toBeGreaterThan(COUNT * 0.4); // the generator reaches valid instructions
      expect(t.vexValidity).toBe(0); // VEX/EVEX/XOP validity agrees too
    });
  }
});
