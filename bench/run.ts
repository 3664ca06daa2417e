/**
 * `npm run bench`: runs every bench/*.bench.ts in name order. Each prints one line per figure,
 * "name: value unit". Figures are measurements, never assertions.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts') && (!only || f.includes(only))).sort();
console.log(`x86vmm bench, Node ${process.version}, ${new Date().toISOString()}`);
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { run?: () => void | Promise<void> };
  if (typeof mod.run !== 'function') throw new Error(`bench/${f} exports no run()`);
  await mod.run();
}
