/**
 * The CPUID model advertises exactly what the CPU implements (SDM Vol. 2A CPUID, Tables 3-10 and
 * 3-11): the x87/MMX/FXSR/SSE..SSE4.2 bits now that the x87 and SIMD units exist, and not AVX, XSAVE,
 * OSXSAVE, AES-NI or PCLMULQDQ. For each advertised SIMD level one instruction of it runs without #UD.
 */
import { describe, expect, it } from 'vitest';
import { CpuidPlatform, CpuidResult, cpuidModel } from '../../src/cpu/cpuid.js';
import { S_CR4, S_RIP } from '../../src/cpu/state.js';
import { CODE_BASE, makeCpu } from './harness.js';

const bit = (v: number, n: number): number => (v >>> n) & 1;

describe('CPUID leaf 1 feature bits', () => {
  const r = new CpuidResult();
  cpuidModel(1, 0, 0, r);

  it('advertises FPU (EDX 0), MMX (23), FXSR (24), SSE (25), SSE2 (26)', () => {
    for (const n of [0, 23, 24, 25, 26]) expect(bit(r.edx, n), `EDX bit ${n}`).toBe(1);
  });

  it('advertises SSE3 (ECX 0), SSSE3 (9), SSE4.1 (19), SSE4.2 (20), POPCNT (23)', () => {
    for (const n of [0, 9, 19, 20, 23]) expect(bit(r.ecx, n), `ECX bit ${n}`).toBe(1);
  });

  it('does not advertise PCLMULQDQ (1), FMA (12), AES (25), XSAVE (26), OSXSAVE (27), AVX (28), F16C (29), RDRAND (30)', () => {
    for (const n of [1, 12, 25, 26, 27, 28, 29, 30]) expect(bit(r.ecx, n), `ECX bit ${n}`).toBe(0);
  });
});

describe('one instruction of each advertised SIMD level runs (CR4.OSFXSR = 1)', () => {
  const forms: Array<[string, number[]]> = [
    ['SSE: addps xmm0, xmm1', [0x0f, 0x58, 0xc1]],
    ['SSE2: paddq xmm0, xmm1', [0x66, 0x0f, 0xd4, 0xc1]],
    ['SSE3: haddps xmm0, xmm1', [0xf2, 0x0f, 0x7c, 0xc1]],
    ['SSSE3: pshufb xmm0, xmm1', [0x66, 0x0f, 0x38, 0x00, 0xc1]],
    ['SSE4.1: ptest xmm0, xmm1', [0x66, 0x0f, 0x38, 0x17, 0xc1]],
    ['SSE4.2: pcmpistri xmm0, xmm1, 0', [0x66, 0x0f, 0x3a, 0x63, 0xc1, 0x00]],
    ['SSE4.2: crc32 eax, cl', [0xf2, 0x0f, 0x38, 0xf0, 0xc1]],
    ['MMX: paddb mm0, mm1', [0x0f, 0xfc, 0xc1]],
    ['x87: fld1', [0xd9, 0xe8]],
    ['FXSR: fxsave [0x2000]', [0x0f, 0xae, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00]],
  ];
  for (const [name, bytes] of forms) {
    it(name, () => {
      const m = makeCpu(64, [...bytes, 0xf4]);
      m.cpu.state.u32[S_CR4] |= 1 << 9; // OSFXSR
      const e = m.cpu.run({ maxInstructions: 10 });
      expect(e.reason).toBe('hlt');
      expect(m.cpu.state.u32[S_RIP]).toBe(CODE_BASE + bytes.length + 1);
    });
  }
});

describe('instructions of features not advertised raise #UD', () => {
  const forms: Array<[string, number[]]> = [
    ['XSAVE [0x2000] (CPUID.1:ECX.XSAVE = 0)', [0x0f, 0xae, 0x24, 0x25, 0x00, 0x20, 0x00, 0x00]],
    ['XSAVEOPT [0x2000]', [0x0f, 0xae, 0x34, 0x25, 0x00, 0x20, 0x00, 0x00]],
    ['XGETBV', [0x0f, 0x01, 0xd0]],
    ['VADDPS ymm0, ymm1, ymm2 (AVX)', [0xc5, 0xf4, 0x58, 0xc2]],
    ['ANDN eax, ebx, ecx (BMI1)', [0xc4, 0xe2, 0x60, 0xf2, 0xc1]],
  ];
  for (const [name, bytes] of forms) {
    it(name, () => {
      const m = makeCpu(64, [...bytes, 0xf4]);
      m.cpu.state.u32[S_CR4] |= 1 << 9;
      const e = m.cpu.run({ maxInstructions: 10 });
      expect(e.reason === 'exception' && e.vector).toBe(6);
      expect(m.cpu.state.u32[S_RIP]).toBe(CODE_BASE);
    });
  }
});

describe('CPUID leaf 0BH (x2APIC topology, SDM Vol. 2A CPUID Table 3-8)', () => {
  it('exists with a LAPIC: SMT level of one thread, core level of every vCPU, EDX the x2APIC ID', () => {
    const p = new CpuidPlatform();
    p.apic = true;
    p.logicalProcessors = 3;
    const r = new CpuidResult();
    cpuidModel(0, 0, 2, r, p);
    expect(r.eax).toBeGreaterThanOrEqual(0xb);
    cpuidModel(0xb, 0, 2, r, p);
    // level 0: shift 0, 1 logical processor, level number 0, type 1 (SMT)
    expect([r.eax, r.ebx, r.ecx, r.edx]).toEqual([0, 1, 0x100, 2]);
    cpuidModel(0xb, 1, 2, r, p);
    // level 1: shift = ceil(log2(3)) = 2, 3 logical processors, level number 1, type 2 (core)
    expect([r.eax, r.ebx, r.ecx, r.edx]).toEqual([2, 3, 0x201, 2]);
    cpuidModel(0xb, 2, 2, r, p);
    // past the last level: type 0 (invalid), EAX = EBX = 0, ECX[7:0] = the subleaf
    expect([r.eax, r.ebx, r.ecx, r.edx]).toEqual([0, 0, 2, 2]);
  });

  it('without a LAPIC the maximum basic leaf stays 7', () => {
    const r = new CpuidResult();
    cpuidModel(0, 0, 0, r);
    expect(r.eax).toBe(7);
  });
});
