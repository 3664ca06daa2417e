/**
 * The integer core against the host CPU, 32-bit compatibility mode: 2,000 random cases per instruction
 * form (fixed seed), every GPR, the scratch memory, the outcome and every SDM-defined flag compared
 * (the masked flags are the UNDEFINED_FLAGS table in diff-core.ts). If the oracle cannot be built
 * the test fails: it never skips.
 */
import { describe, expect, it } from 'vitest';
import { HostCpuOracle } from '../oracle/hostcpu.js';
import { runDiff, UNDEFINED_FLAGS } from './diff-core.js';

describe('host-CPU differential test, 32-bit', () => {
  it('matches the host CPU on 2,000 cases per form', () => {
    const oracle = HostCpuOracle.open();
    expect(oracle.supportsCompat, 'this host cannot run 32-bit compatibility-mode code').toBe(true);
    const r = runDiff(2000, 0x5eed, undefined, oracle, 32);
    expect(r.forms).toBeGreaterThan(50);
    expect(r.compared).toBeGreaterThan(r.cases * 0.99);
    expect(r.mismatches.slice(0, 5)).toEqual([]);
    expect(UNDEFINED_FLAGS.length).toBe(15);
  });
});
