import { describe, expect, it } from 'vitest';
import { Machine, InvalidArgumentError, type FpuState } from '../../src/index.js';
import { S_FPR, FPR_STRIDE, S_XMM } from '../../src/cpu/state.js';

function sample(): FpuState {
  return {
    fcw: 0x037f, fsw: 5 << 11, ftw: 0x20, fop: 0x1e8, fip: 0x1234_5678_9abcn, fcs: 0x10, fdp: 0x4000n, fds: 0x18,
    // ST(0) = 1.0 (significand 8000000000000000H, exponent 3FFFH), the rest +0
    st: [{ significand: 0x8000_0000_0000_0000n, signExponent: 0x3fff }, ...Array.from({ length: 7 }, () => ({ significand: 0n, signExponent: 0 }))],
    mxcsr: 0x1f80 | 0x40, // DAZ is implemented (MXCSR_MASK FFFFH)
    xmm: Array.from({ length: 16 }, (_, i) => (BigInt(i + 1) << 120n) | BigInt(i)),
  };
}

describe('x87/SSE state records', () => {
  it('power-on values are those of SDM Vol. 3A Table 9-1 (FCW 0040H, FSW 0, tags empty, MXCSR 1F80H, XMM 0)', () => {
    const m = new Machine({ memoryMiB: 1 });
    const f = m.vcpus[0]!.getFpuState();
    expect(f.fcw).toBe(0x40);
    expect(f.fsw).toBe(0);
    expect(f.ftw).toBe(0);
    expect(f.mxcsr).toBe(0x1f80);
    expect(f.xmm.every((x) => x === 0n)).toBe(true);
    expect(f.st.every((r) => r.significand === 0n && r.signExponent === 0)).toBe(true);
  });

  it('ST(i) is physical register (TOP + i) mod 8; XMM lanes are little-endian dwords', () => {
    const m = new Machine({ memoryMiB: 1 });
    const v = m.vcpus[0]!;
    v.setFpuState(sample());
    const u = v.core.u32;
    // TOP = 5: ST(0) is R5 (SDM Vol. 1 §8.1.2)
    expect(u[S_FPR + 5 * FPR_STRIDE + 1]).toBe(0x8000_0000);
    expect(u[S_FPR + 5 * FPR_STRIDE + 2]).toBe(0x3fff);
    expect(u[S_XMM + 4 * 1 + 0]).toBe(1); // XMM1 bits 31:0
    expect(u[S_XMM + 4 * 1 + 3]).toBe(0x0200_0000); // XMM1 bits 127:96 = 2 << 24
    expect(v.getFpuState()).toEqual(sample());
  });

  it('INIT keeps the x87/SSE state, RESET restores the power-on values (SDM Vol. 3A §9.1)', () => {
    const m = new Machine({ memoryMiB: 1 });
    const v = m.vcpus[0]!;
    v.setFpuState(sample());
    v.init();
    expect(v.getFpuState()).toEqual(sample());
    m.reset();
    expect(m.vcpus[0]!.getFpuState().mxcsr).toBe(0x1f80);
    expect(m.vcpus[0]!.getFpuState().xmm[1]).toBe(0n);
  });

  it('rejects reserved MXCSR bits, wrong register counts and out-of-range values, changing nothing', () => {
    const m = new Machine({ memoryMiB: 1 });
    const v = m.vcpus[0]!;
    const before = v.getFpuState();
    expect(() => v.setFpuState({ ...sample(), mxcsr: 0x1_0000 })).toThrow(InvalidArgumentError);
    expect(() => v.setFpuState({ ...sample(), mxcsr: 0x1_0000 })).toThrow(/mxcsr 0x10000 sets reserved bits/);
    expect(() => v.setFpuState({ ...sample(), xmm: [0n] })).toThrow(/XMM0..XMM15/);
    expect(() => v.setFpuState({ ...sample(), fop: 0x800 })).toThrow(/fop 0x800 is not a 11-bit/);
    expect(() => v.setFpuState({ ...sample(), xmm: [1n << 128n, ...sample().xmm.slice(1)] })).toThrow(/xmm\[0\]/);
    expect(v.getFpuState()).toEqual(before);
  });

  it('snapshots carry the x87/SSE state', () => {
    const m = new Machine({ memoryMiB: 1 });
    m.vcpus[0]!.setFpuState(sample());
    const r = Machine.restoreState(m.saveState());
    expect(r.vcpus[0]!.getFpuState()).toEqual(sample());
  });
});
