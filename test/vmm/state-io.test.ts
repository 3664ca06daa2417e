import { describe, expect, it } from 'vitest';
import { CpuState, S_SEG, SEG_STRIDE, SEG_ATTR, CS } from '../../src/cpu/state.js';
import { readRegisters, writeRegisters, readSpecialRegisters, writeSpecialRegisters, readDebugRegisters, writeDebugRegisters } from '../../src/vmm/state-io.js';
import { powerOnRegisters, powerOnSpecialRegisters, powerOnDebugRegisters } from '../../src/vmm/power-on.js';
import { planFlat } from '../../src/boot/flat.js';
import { InvalidArgumentError } from '../../src/util/errors.js';

describe('vCPU state records <-> register file', () => {
  it('round-trips general registers with full 64-bit values', () => {
    const s = new CpuState();
    const r = powerOnRegisters();
    r.rax = 0xffff_ffff_ffff_ffffn;
    r.r15 = 0x8000_0000_0000_0001n;
    r.rsp = 0x7000n;
    r.rip = 0xffff_8000_0000_1000n;
    r.rflags = 0x246n;
    writeRegisters(s.u32, r);
    expect(readRegisters(s.u32)).toEqual(r);
  });

  it('keeps RFLAGS bit 1 set (reserved, always 1) and rejects bits above 21', () => {
    const s = new CpuState();
    const r = powerOnRegisters();
    r.rflags = 0n;
    writeRegisters(s.u32, r);
    expect(readRegisters(s.u32).rflags).toBe(2n);
    const before = readRegisters(s.u32);
    expect(() => writeRegisters(s.u32, { ...r, rax: 5n, rflags: 1n << 22n })).toThrow(InvalidArgumentError);
    expect(readRegisters(s.u32)).toEqual(before); // a failed call changes nothing
  });

  it('stores segment hidden parts in the VMCS access-rights layout (SDM Vol. 3C Table 24-2)', () => {
    const s = new CpuState();
    const plan = planFlat(new Uint8Array(1), { mode: 'long' });
    writeSpecialRegisters(s.u32, plan.sregs);
    // 64-bit code: type B, S (bit 4), P (bit 7), L (bit 13), G (bit 15) = 0xA09B
    expect(s.u32[S_SEG + CS * SEG_STRIDE + SEG_ATTR]).toBe(0xa09b);
    expect(readSpecialRegisters(s.u32, plan.sregs.apicBase)).toEqual(plan.sregs);
  });

  it('round-trips the power-on special and debug registers', () => {
    const s = new CpuState();
    const sr = powerOnSpecialRegisters();
    writeSpecialRegisters(s.u32, sr);
    expect(readSpecialRegisters(s.u32, sr.apicBase)).toEqual(sr);
    const d = powerOnDebugRegisters();
    d.dr0 = 0x1234_5678_9abc_def0n;
    writeDebugRegisters(s.u32, d);
    expect(readDebugRegisters(s.u32)).toEqual(d);
  });

  it('rejects reserved control-register bits and bad segment fields before writing anything', () => {
    const s = new CpuState();
    const sr = powerOnSpecialRegisters();
    writeSpecialRegisters(s.u32, sr);
    const snapshot = Array.from(s.u32);
    expect(() => writeSpecialRegisters(s.u32, { ...sr, cr8: 16n })).toThrow(/cr8/);
    expect(() => writeSpecialRegisters(s.u32, { ...sr, cr0: 1n << 32n })).toThrow(/cr0/);
    expect(() => writeSpecialRegisters(s.u32, { ...sr, ds: { ...sr.ds, dpl: 4 } })).toThrow(/ds.dpl/);
    expect(() => writeSpecialRegisters(s.u32, { ...sr, gdt: { base: 0n, limit: 0x10000 } })).toThrow(/gdt.limit/);
    expect(Array.from(s.u32)).toEqual(snapshot);
  });
});
