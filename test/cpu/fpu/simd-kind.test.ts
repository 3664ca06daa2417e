/**
 * simd-int.ts switches on literal operation ids, each followed by a block comment with the mnemonic's
 * name; every such comment must name the mnemonic that the id stands for.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Mnemonic } from '../../../src/cpu/decoder/insn.js';
import { simdIntKind } from '../../../src/cpu/fpu/simd-int.js';

describe('simd-int operation ids', () => {
  it('every literal id in simd-int.ts matches the mnemonic named beside it', () => {
    const src = readFileSync(new URL('../../../src/cpu/fpu/simd-int.ts', import.meta.url), 'utf8');
    const uses = [...src.matchAll(/\b(\d+) \/\* ([A-Z][A-Za-z0-9]+) \*\//g)];
    expect(uses.length).toBeGreaterThan(150);
    const wrong = uses.filter(([, n, name]) => simdIntKind((Mnemonic as unknown as Record<string, number>)[name!]!) !== Number(n));
    expect(wrong.map(w => w[0])).toEqual([]);
  });
});
