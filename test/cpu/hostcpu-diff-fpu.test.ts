/**
 * The x87/MMX/SSE instruction forms against the host CPU (test/cpu/diff-fpu.ts): 300 random cases per
 * form in 64-bit mode and 100 per form for every fourth form in compatibility mode (fixed seeds), with
 * random x87/MXCSR control and status, tags, register contents and memory operands. Compared: outcome
 * and vector, x87 registers by physical number, FSW, FCW, abridged tags, MXCSR, XMM0-15, RFLAGS, GPRs,
 * scratch memory. Masked fields are diff-fpu.ts MASKED (also docs/oracle.md). Forms of units that have
 * not landed (PENDING_UNITS) run on the host only and are counted as pending; forms with an open
 * finding in /work/notes/fpu-diff-findings.md (PENDING_FORMS/PENDING_PATTERNS) are compared and
 * counted apart. If the oracle cannot be built the test fails: it never skips.
 */
import { describe, expect, it } from 'vitest';
import { FX, fxInitImage, HostCpuOracle, type OracleResult } from '../oracle/hostcpu.js';
import { compareFp, FP_FORMS, FpEmulator, generateCase, loadFx, MASKED, PENDING_UNITS, Rng, runFpDiff, storeFx, TOLERATED, type FpDiffResult } from './diff-fpu.js';

function summary(mode: number, r: FpDiffResult): string {
  return `mode ${mode}: ${r.forms} forms, ${r.pendingForms} pending (${Object.values(PENDING_UNITS).join('; ') || 'none'}), ` +
    `${r.cases} cases, ${r.compared} compared, ${r.mismatchCount} mismatches, open findings ${JSON.stringify(r.pendingMismatches)}, ` +
    `let through by a mask ${JSON.stringify(TOLERATED)}`;
}

describe('x87/SIMD forms against the host CPU', () => {
  const oracle = HostCpuOracle.open();

  it('64-bit mode: 300 cases per form match the host', () => {
    const r = runFpDiff({ perForm: 300, seed: 0x5eed, mode: 64 }, oracle);
    console.log(summary(64, r));
    expect(FP_FORMS.length).toBeGreaterThanOrEqual(150);
    expect(r.forms - r.pendingForms).toBeGreaterThanOrEqual(150);
    expect(r.hostUd).toEqual([]); // every encoding in the table is valid on the host
    expect(r.hostCompleted).toBeGreaterThan(r.cases * 0.9);
    expect(r.mismatches.slice(0, 5)).toEqual([]);
    expect(r.mismatchCount).toBe(0);
  }, 240_000);

  it('compatibility mode: every fourth form, 100 cases each, match the host', () => {
    expect(oracle.supportsCompat, 'this host cannot run 32-bit compatibility-mode code').toBe(true);
    const r = runFpDiff({ perForm: 100, seed: 0x5eed, mode: 32, every: 4 }, oracle);
    console.log(summary(32, r));
    expect(r.forms).toBeGreaterThan(100);
    expect(r.forms - r.pendingForms).toBeGreaterThan(80);
    expect(r.hostUd).toEqual([]);
    expect(r.mismatches.slice(0, 5)).toEqual([]);
    expect(r.mismatchCount).toBe(0);
  }, 240_000);
});

describe('the form-diff harness itself', () => {
  it('loads and stores the FXSAVE image through the register file unchanged (ST(i) <-> R[(TOP+i)&7])', () => {
    const r = new Rng(7);
    const img = fxInitImage();
    for (let i = 0; i < 512; i++) img[i] = r.u32() & 0xff;
    img[FX.FOP + 1]! &= 7; // FOP is 11 bits
    img.fill(0, FX.MXCSR_MASK, FX.MXCSR_MASK + 4);
    img[FX.FTW + 1] = 0;
    for (let i = 0; i < 8; i++) img.fill(0, FX.ST + 16 * i + 10, FX.ST + 16 * i + 16);
    img.fill(0, FX.XMM + 256, 512);
    const u = new Uint32Array(256);
    loadFx(u, img);
    const out = new Uint8Array(512);
    storeFx(u, out);
    expect(Array.from(out)).toEqual(Array.from(img));
  });

  it('reports a difference in any compared field, and ignores the masked FIP when ES stays clear', () => {
    const form = FP_FORMS.find((f) => f.name === 'addps')!;
    const fc = generateCase(form, 64, new Rng(3));
    const emu = new FpEmulator();
    const e = emu.run(fc.c);
    // a fake host result equal to the emulator's: no difference
    const host: OracleResult = {
      outcome: e.outcome === 'completed' ? 'completed' : 'fault', mode: 64, gprs: BigUint64Array.from(e.gprs), rflags: e.rflags,
      rip: 0n, fault: e.outcome === 'fault' ? { vector: e.vector, signal: 0, siCode: 0, errorCode: 0n, address: 0n } : null,
      scratch: e.scratch.slice(0, 512), selectors: { cs: 0, ss: 0, ds: 0, es: 0, fs: 0, gs: 0 }, fxsave: e.fx.slice(),
    };
    expect(compareFp(fc, host, e)).toBeNull();
    host.fxsave![FX.XMM + 16 * 5 + 3]! ^= 1;
    expect(compareFp(fc, host, e)).toMatch(/^XMM5 /);
    host.fxsave![FX.XMM + 16 * 5 + 3]! ^= 1;
    host.fxsave![FX.FSW]! ^= 0x01;
    expect(compareFp(fc, host, e)).toMatch(/^FSW /);
    host.fxsave![FX.FSW]! ^= 0x01;
    host.fxsave![FX.FIP]! ^= 0xff; // FIP is compared only when the case raised ES (MASKED)
    if ((host.fxsave![FX.FSW]! & 0x80) === 0) expect(compareFp(fc, host, e)).toBeNull();
  });

  it('has a written reason for every masked field', () => {
    expect(MASKED.length).toBe(8);
    for (const m of MASKED) expect(m.reason.length).toBeGreaterThan(60);
  });
});
