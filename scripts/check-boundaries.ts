/**
 * Keeps the import arrows of shared/DESIGN.md ("The rooms") true: a forbidden import fails CI.
 * util and arch import nothing of ours; memory only util/arch; cpu adds memory; devices and
 * time never see cpu or vmm; nothing imports cli; nothing under src imports node: APIs except
 * cli and files named *.node.ts (the clearly separated Node helpers).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

const allowed: Record<string, string[]> = {
  util: ['util'],
  arch: ['arch', 'util'],
  memory: ['memory', 'util', 'arch'],
  cpu: ['cpu', 'memory', 'util', 'arch'],
  time: ['time', 'util', 'arch'],
  devices: ['devices', 'time', 'util', 'arch'],
  vmm: ['vmm', 'cpu', 'memory', 'devices', 'time', 'util', 'arch'],
  boot: ['boot', 'vmm', 'cpu', 'memory', 'devices', 'time', 'util', 'arch'],
  '.': ['util', 'arch', 'memory', 'cpu', 'time', 'devices', 'vmm', 'boot'],
  cli: ['cli', 'util', 'arch', 'memory', 'cpu', 'time', 'devices', 'vmm', 'boot', '.'],
};

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

function roomOf(file: string): string {
  const rel = relative(src, file).split(sep);
  return rel.length === 1 ? '.' : rel[0]!;
}

const problems: string[] = [];
const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
for (const file of walk(src)) {
  const room = roomOf(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith('node:') || ['fs', 'path', 'child_process', 'os', 'worker_threads'].includes(spec)) {
      if (room !== 'cli' && !file.endsWith('.node.ts')) {
        problems.push(`${relative(root, file)}: imports the Node API '${spec}' outside cli/ or a *.node.ts helper`);
      }
      continue;
    }
    if (!spec.startsWith('.')) {
      problems.push(`${relative(root, file)}: imports the package '${spec}', but x86vmm has zero runtime dependencies`);
      continue;
    }
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(src)) {
      problems.push(`${relative(root, file)}: imports '${spec}' from outside src/`);
      continue;
    }
    const targetRoom = roomOf(target.replace(/\.js$/, '.ts'));
    const ok = allowed[room];
    if (!ok) {
      problems.push(`${relative(root, file)}: is in an unknown room '${room}'`);
    } else if (!ok.includes(targetRoom)) {
      problems.push(`${relative(root, file)}: room '${room}' may not import room '${targetRoom}' ('${spec}')`);
    }
  }
}

if (problems.length > 0) {
  console.error('Import boundaries broken (shared/DESIGN.md, "The rooms"):');
  for (const p of problems) console.error('  ' + p);
  process.exit(1);
}
console.log('import boundaries: ok');
