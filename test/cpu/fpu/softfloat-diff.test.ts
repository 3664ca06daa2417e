/**
 * softfloat against the host CPU's x87 and SSE units (oracle/fpu/fpuop, built with gcc on first
 * use; a missing gcc or a failing helper fails these tests). 20,000 edge-weighted cases per family,
 * all rounding modes, x87 precision control 24/53/64, SSE DAZ/FTZ. SSE and x87 memory-result cases
 * run with exceptions masked; 30% of the x87 register-result cases unmask OE/UE/PE (the helper reads
 * the re-biased result with FNSAVE, so nothing traps). Other unmasked responses: softfloat.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FAMILIES, runFamily } from './softfloat-diff.js';

describe('softfloat agrees bit for bit with the host CPU', () => {
  for (const [k, fam] of FAMILIES.entries()) {
    it(`${fam.name}: 20,000 cases, 0 mismatches (values, exception flags, C1/condition codes)`, () => {
      const rep = runFamily(fam, 20_000, 0x5eed0000 + k);
      expect(rep.cases).toBe(20_000);
      expect(rep.samples).toEqual([]);
      expect(rep.mismatches).toBe(0);
    });
  }
});
