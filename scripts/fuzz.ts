/**
 * `npm run fuzz -- --count N [--seed S] [--mode 16|32|64]`: runs N random code streams per mode
 * through the integer core (test/cpu/fuzz-core.ts) and prints every failing stream reproducibly.
 */
import { fuzz } from '../test/cpu/fuzz-core.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const count = Number(opt('count', '20000'));
const seed = Number(opt('seed', '20261122'));
const mode = opt('mode', '');
const modes = mode ? [Number(mode) as 16 | 32 | 64] : ([16, 32, 64] as const);
const t0 = performance.now();
const r = fuzz(count, seed, modes);
for (const f of r.failures) console.log(`FAIL mode ${f.mode} seed ${f.seed} stream ${f.index}: ${f.problem}\n  bytes: ${f.bytes}`);
console.log(`${r.runs} streams (${count} per mode), ${r.failures.length} failures, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exit(r.failures.length === 0 ? 0 : 1);
