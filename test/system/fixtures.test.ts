/**
 * The QEMU-golden system fixtures (fixtures/system, docs/system-fixtures.md): each 64 KiB ROM boots at
 * the reset vector on the tiny PC of platform.ts; its debug-console text and exit outcome must equal
 * the committed .golden (QEMU 7.2 TCG, with the SDM's answer where the golden records an sdm-fix).
 * Fixtures that need something x86vmm does not have yet are listed with the reason, as expected
 * failures: the test fails when one of them starts passing, so the list stays honest.
 */
import { describe, expect, it } from 'vitest';
import { fixtureNames, readGolden, readImage } from './golden.js';
import { runRom } from './platform.js';

const KNOWN: Record<string, string> = {
  exc_fpu: 'x87 is not implemented (not advertised): #UD instead of #NM/#MF',
  exc_simd: 'SSE is not implemented (not advertised)',
  int_shadow: 'needs the LAPIC (the Machine); the test platform has no devices',
  nmi_blocking: 'needs the LAPIC (the Machine); the test platform has no devices',
};

describe('system fixtures (QEMU goldens)', () => {
  for (const name of fixtureNames()) {
    const known = KNOWN[name];
    const run = (): void => {
      const g = readGolden(name);
      const r = runRom(readImage(name), 5_000_000);
      expect(r.text).toBe(g.text);
      expect(r.outcome).toBe(g.outcome);
    };
    if (known) it.fails(`${name} (known: ${known})`, run);
    else it(name, run);
  }
});
