/** Debug helper: `npx tsx test/system/run-fixture.ts name...` runs fixtures and diffs against the golden. */
import { fixtureNames, readGolden, readImage } from './golden.js';
import { runRom } from './platform.js';

const names = process.argv.slice(2).length ? process.argv.slice(2) : fixtureNames();
let pass = 0;
for (const n of names) {
  const g = readGolden(n);
  const t0 = performance.now();
  const r = runRom(readImage(n));
  const ms = (performance.now() - t0).toFixed(0);
  const ok = r.text === g.text && r.outcome === g.outcome;
  if (ok) pass++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${n} (${r.instructions} insns, ${ms} ms)`);
  if (!ok && names.length <= 3) {
    console.log('--- got'); console.log(r.text.slice(0, 4000) + `@@ ${r.outcome}`);
    console.log('--- want'); console.log(g.text + `@@ ${g.outcome}`);
  } else if (!ok) {
    const gl = g.text.split('\n'), rl = r.text.split('\n');
    let i = 0; while (i < gl.length && gl[i] === rl[i]) i++;
    console.log(`   first diff line ${i + 1}: got ${JSON.stringify((rl[i] ?? '').slice(0, 120))} want ${JSON.stringify(gl[i] ?? '')}; outcome ${r.outcome}`);
  }
}
console.log(`${pass}/${names.length} pass`);
