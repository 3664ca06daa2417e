/**
 * `npm run test:decoder-diff -- --count N --seed S [--mode 16|32|64] [--show K]`: runs N biased
 * random byte sequences per mode through our decoder and iced-x86 and prints the agreement counts
 * and up to K disagreements in both decoders' words (--vex: include VEX/EVEX/XOP validity
 * disagreements; --vex-only: every sequence uses a VEX/EVEX/XOP escape). Exit code 1 on any disagreement.
 */
import { runDiff } from '../test/decoder/oracle.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const count = arg('count', 100_000);
const seed = arg('seed', 1);
const show = arg('show', 20);
const only = arg('mode', 0);
const showVex = process.argv.includes('--vex') || process.argv.includes('--vex-only');
const vexOnly = process.argv.includes('--vex-only');
let bad = 0;
for (const mode of [16, 32, 64] as const) {
  if (only && only !== mode) continue;
  const t0 = performance.now();
  const t = runDiff(mode, count, seed, show, showVex, vexOnly);
  const ms = performance.now() - t0;
  console.log(`mode ${mode}: ${t.total} sequences, seed ${seed}: agree ${t.total - t.mismatch - t.vexValidity} ` +
    `(valid in-model ${t.match}, both invalid ${t.bothInvalid}, outside model -> #UD ${t.outsideModel}, ` +
    `VEX/EVEX/XOP length+validity ${t.vexMatch}), disagree ${t.mismatch}; ` +
    `VEX/EVEX/XOP validity disagreements ${t.vexValidity} [${(ms / 1000).toFixed(1)} s]`);
  for (const s of t.samples) console.log('  ' + s);
  bad += t.mismatch + t.vexValidity;
}
process.exit(bad ? 1 : 0);
