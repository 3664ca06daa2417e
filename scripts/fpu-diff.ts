/**
 * `npm run test:fpu-diff -- --count N --seed S [--family substring] [--show K]`: runs N edge-weighted
 * random cases per operation family through src/cpu/fpu/softfloat.ts and the host CPU's x87/SSE units
 * (oracle/fpu/fpuop) and prints the mismatch counts with up to K samples. Exit code 1 on any mismatch.
 */
import { FAMILIES, runFamily } from '../test/cpu/fpu/softfloat-diff.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}
const count = Number(arg('count', '1000000'));
const seed = Number(arg('seed', '1'));
const show = Number(arg('show', '10'));
const only = arg('family', '');
let bad = 0, total = 0;
const t0 = performance.now();
for (const [k, fam] of FAMILIES.entries()) {
  if (only && !fam.name.includes(only)) continue;
  const t = performance.now();
  const rep = runFamily(fam, count, (seed * 7919 + k) >>> 0, show);
  const s = (performance.now() - t) / 1000;
  console.log(`${fam.name}: ${rep.cases} cases, seed ${seed}: ${rep.mismatches} mismatches` +
    (rep.perOp.size ? ` (${[...rep.perOp].map(([n, c]) => `${n} ${c}`).join(', ')})` : '') + ` [${s.toFixed(1)} s]`);
  for (const m of rep.samples) console.log('  ' + m);
  bad += rep.mismatches;
  total += rep.cases;
}
console.log(`total: ${total} cases, ${bad} mismatches [${((performance.now() - t0) / 1000).toFixed(1)} s]`);
process.exitCode = bad === 0 ? 0 : 1;
