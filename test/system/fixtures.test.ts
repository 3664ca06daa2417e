/**
 * The QEMU-golden system fixtures (fixtures/system, docs/system-fixtures.md): each 64 KiB ROM boots at
 * the reset vector on the Machine through x86vmm/testing's runSystemFixture (the platform of the golden
 * files: ROM at 0xFFFF0000 aliased at 0xF0000, 32 MiB RAM, port 0xE9, isa-debug-exit, the PC devices);
 * its debug-console text and exit outcome must equal the committed .golden (QEMU 7.2 TCG, with the SDM's
 * answer where the golden records an sdm-fix). Fixtures that need something x86vmm does not have yet are
 * listed with the reason, as expected failures: the test fails when one of them starts passing, so the
 * list stays honest.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGolden, runSystemFixture } from '../../src/testing.js';
import { SYSTEM_FIXTURES, fixtureNames, readImage } from './golden.js';

// Empty since the x87 and SIMD units landed (exc_fpu, exc_simd were the last entries).
const KNOWN: Record<string, string> = {};

describe('system fixtures (QEMU goldens) on the Machine', () => {
  it('has the fixtures of issue 5 (at least 40)', () => {
    expect(fixtureNames().length).toBeGreaterThanOrEqual(40);
  });
  for (const name of fixtureNames()) {
    const known = KNOWN[name];
    const run = (): void => {
      const g = parseGolden(readFileSync(join(SYSTEM_FIXTURES, `${name}.golden`), 'latin1'));
      const r = runSystemFixture(readImage(name), { maxInstructions: 5_000_000 });
      expect(r.console).toBe(g.console);
      expect(r.outcome).toBe(g.outcome);
    };
    if (known) it.fails(`${name} (known: ${known})`, run);
    else it(name, run);
  }
});
