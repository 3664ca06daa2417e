/**
 * The published build (scripts/build.ts): esbuild per module, tsc for declarations. The interpreter's
 * and decoder's const enums must be literals in the built JavaScript (a `case Op.X:` would be a
 * property load per case and no jump table), and the built library must run a guest.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, transformFile } from '../../scripts/build.js';

const src = (p: string): string => new URL(`../../src/${p}`, import.meta.url).pathname;

describe('the published build', () => {
  it('inlines the interpreter\'s and the decoder\'s const enums as literals', () => {
    const vcpu = transformFile(src('cpu/vcpu.ts')).code;
    expect(vcpu).toMatch(/case 3 \/\* AluRR \*\//);
    expect(vcpu).not.toMatch(/case Op\./);
    const dec = transformFile(src('cpu/decoder/decode.ts')).code;
    expect(dec).not.toMatch(/\b(Am|Sz|Nk|OK|RC)\.[A-Z]/);
  });

  it('builds dist with declarations, and the built library runs a guest', async () => {
    const out = mkdtempSync(join(tmpdir(), 'x86vmm-dist-'));
    try {
      expect(build(out)).toBeGreaterThan(50);
      expect(existsSync(join(out, 'index.d.ts'))).toBe(true);
      expect(readFileSync(join(out, 'cli', 'main.js'), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
      const { TestGuest } = (await import(pathToFileURL(join(out, 'testing.js')).href)) as typeof import('../../src/testing.js');
      // mov eax, 42; mov dx, 0xEF04 (SYNC); out dx, eax
      const g = TestGuest.flat([0xb8, 0x2a, 0, 0, 0, 0x66, 0xba, 0x04, 0xef, 0xef], { mode: 'long' });
      expect(g.next()).toEqual({ kind: 'sync', value: 42n });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
