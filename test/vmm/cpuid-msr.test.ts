import { describe, expect, it } from 'vitest';
import { CpuidConfig } from '../../src/vmm/cpuid-config.js';
import { MsrModel, MSR } from '../../src/vmm/msr.js';
import { ConflictError, InvalidArgumentError } from '../../src/util/errors.js';

describe('CPUID configuration per leaf', () => {
  it('passes unconfigured leaves through unchanged', () => {
    const c = new CpuidConfig();
    const r = { eax: 1, ebx: 2, ecx: 3, edx: 4 };
    expect(c.apply(1, 0, r)).toBe('pass');
    expect(r).toEqual({ eax: 1, ebx: 2, ecx: 3, edx: 4 });
    expect(c.active).toBe(false);
  });

  it('masks bits: (value & ~clear) | set, per register', () => {
    const c = new CpuidConfig();
    // Set the hypervisor-present bit (CPUID.1:ECX[31]) and hide x2APIC (ECX[21]).
    c.configure({ leaf: 1, action: 'mask', clear: { ecx: 1 << 21 }, set: { ecx: 0x8000_0000 } });
    const r = { eax: 0x806, ebx: 0, ecx: 0x0020_0001, edx: 0xffff };
    expect(c.apply(1, 0, r)).toBe('pass');
    expect(r.ecx).toBe(0x8000_0001);
    expect(r.edx).toBe(0xffff);
  });

  it('exits on a configured leaf; an exact subleaf rule wins over an all-subleaves rule; pass resets', () => {
    const c = new CpuidConfig();
    c.configure({ leaf: 7, action: 'exit' });
    c.configure({ leaf: 7, subleaf: 1, action: 'mask', clear: { eax: 0xffff_ffff } });
    const r = { eax: 5, ebx: 0, ecx: 0, edx: 0 };
    expect(c.apply(7, 0, { ...r })).toBe('exit');
    expect(c.apply(7, 1, r)).toBe('pass');
    expect(r.eax).toBe(0);
    c.configure({ leaf: 7, action: 'pass' });
    expect(c.apply(7, 0, { ...r })).toBe('pass');
    expect(c.leaves()).toEqual([7]);
  });

  it('rejects a leaf that is not a uint32 and an unknown action', () => {
    const c = new CpuidConfig();
    expect(() => c.configure({ leaf: -1, action: 'exit' })).toThrow(InvalidArgumentError);
    expect(() => c.configure({ leaf: 1, action: 'drop' } as never)).toThrow(/not pass, mask or exit/);
  });
});

describe('MSR ownership', () => {
  it('stores the MTRRs and PAT with their power-on values (PAT = 0007040600070406H)', () => {
    const m = new MsrModel();
    expect(m.read(MSR.IA32_PAT)).toBe(0x0007_0406_0007_0406n);
    expect(m.write(0x200, 0x6n)).toBe(true);
    expect(m.read(0x200)).toBe(6n);
  });

  it('leaves an unknown MSR to the caller (undefined / false)', () => {
    const m = new MsrModel();
    expect(m.read(0x4b56_4d00)).toBeUndefined();
    expect(m.write(0x4b56_4d00, 1n)).toBe(false);
  });

  it('lets a handler claim any MSR, including a stored one, and rejects a double claim', () => {
    const m = new MsrModel();
    const seen: bigint[] = [];
    m.claim([MSR.IA32_PAT, 0x4b56_4d00], { read: () => 42n, write: (_i, v) => (seen.push(v), true) });
    expect(m.read(MSR.IA32_PAT)).toBe(42n);
    expect(m.write(0x4b56_4d00, 7n)).toBe(true);
    expect(seen).toEqual([7n]);
    expect(() => m.claim([0x4b56_4d00], {})).toThrow(ConflictError);
    m.release([MSR.IA32_PAT]);
    expect(m.read(MSR.IA32_PAT)).toBe(0x0007_0406_0007_0406n);
  });

  it('round-trips its store through save/restore', () => {
    const m = new MsrModel();
    m.write(0x201, 0xffff_f000_0800n);
    const r = new MsrModel();
    r.restore(JSON.parse(JSON.stringify(m.save())));
    expect(r.read(0x201)).toBe(0xffff_f000_0800n);
  });
});
