/**
 * `npm run test:cpu-diff -- --count N [--seed S] [--filter NAME]`: the host-CPU differential test of
 * the integer core with N random cases per instruction form (test/cpu/diff-core.ts), printing every
 * mismatch as a reproducible case (code bytes, GPRs, RFLAGS).
 */
import { runDiff, UNDEFINED_FLAGS } from '../test/cpu/diff-core.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const count = Number(opt('count', '2000'));
const seed = Number(opt('seed', '1'));
const filter = opt('filter', '');
const t0 = performance.now();
const r = runDiff(count, seed, filter || undefined);
const s = ((performance.now() - t0) / 1000).toFixed(1);
for (const m of r.mismatches) console.log(`MISMATCH ${m.form} (mode ${m.mode}): ${m.what}\n  code: ${m.code}\n  gprs: ${m.gprs.join(' ')}\n  rflags: ${m.rflags.toString(16)}`);
console.log(`${r.forms} forms x modes, ${r.cases} cases, ${r.compared} compared, ${r.mismatches.length} mismatches, masked-flag table ${UNDEFINED_FLAGS.length} rows, ${s} s`);
process.exit(r.mismatches.length === 0 ? 0 : 1);
