/** Debug helper: `npx tsx test/system/run-fixture.ts name...` runs fixtures on the Machine and diffs against the golden. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGolden, runSystemFixture } from '../../src/testing.js';
import { SYSTEM_FIXTURES, fixtureNames, readImage } from './golden.js';

const names = process.argv.slice(2).length ? process.argv.slice(2) : fixtureNames();
let pass = 0;
for (const n of names) {
  const g = parseGolden(readFileSync(join(SYSTEM_FIXTURES, `${n}.golden`), 'latin1'));
  const t0 = performance.now();
  const r = runSystemFixture(readImage(n));
  const ms = (performance.now() - t0).toFixed(0);
  const ok = r.console === g.console && r.outcome === g.outcome;
  if (ok) pass++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${n} (${r.machine.stats().instructions} insns, ${ms} ms)`);
  if (!ok && names.length <= 3) {
    console.log('--- got'); console.log(r.console.slice(0, 4000) + `@@ ${r.outcome}`);
    console.log('--- want'); console.log(g.console + `@@ ${g.outcome}`);
  } else if (!ok) {
    const gl = g.console.split('\n'), rl = r.console.split('\n');
    let i = 0; while (i < gl.length && gl[i] === rl[i]) i++;
    console.log(`   first diff line ${i + 1}: got ${JSON.stringify((rl[i] ?? '').slice(0, 120))} want ${JSON.stringify(gl[i] ?? '')}; outcome ${r.outcome}`);
  }
}
console.log(`${pass}/${names.length} pass`);
