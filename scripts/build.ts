/**
 * `npm run build`: the published library in dist/.
 *   - JavaScript: every src/**\/*.ts transformed on its own by esbuild (ES2022 modules, source maps).
 *     esbuild inlines a file's own `const enum` members as literals, so the interpreter's hot
 *     `switch (d.op)` and the decoder's tables compile to jump tables. tsc cannot do that here:
 *     under `isolatedModules` (implied by `verbatimModuleSyntax`) it emits const enums as objects
 *     and every `case Op.X:` becomes a property load and a compare chain.
 *   - Declarations: tsc (`--emitDeclarationOnly`), so the types are exactly the checked ones.
 */
import { transformSync } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Transforms one TypeScript source to JavaScript (and its source map). */
export function transformFile(path: string): { code: string; map: string } {
  const rel = relative(join(root, 'src'), path);
  const r = transformSync(readFileSync(path, 'utf8'), {
    loader: 'ts', format: 'esm', target: 'es2022', sourcemap: 'external', sourcefile: join('..', 'src', rel),
  });
  return { code: r.code, map: r.map };
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

export function build(outDir = join(root, 'dist')): number {
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'),
    '--emitDeclarationOnly', '--outDir', outDir], { stdio: 'inherit' });
  const files = sources(join(root, 'src'));
  for (const f of files) {
    const js = join(outDir, relative(join(root, 'src'), f)).replace(/\.ts$/, '.js');
    const { code, map } = transformFile(f);
    mkdirSync(dirname(js), { recursive: true });
    writeFileSync(js, `${code}//# sourceMappingURL=${js.split('/').pop()}.map\n`);
    writeFileSync(`${js}.map`, map);
  }
  return files.length;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = build(process.argv[2] ?? undefined);
  console.log(`dist: ${n} modules (esbuild) + declarations (tsc)`);
}
