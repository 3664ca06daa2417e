/**
 * The platform around the core: IA32_APIC_BASE owned by the LAPIC (SDM Vol. 3A §11.4.4-11.4.5,
 * §11.12.5), CPUID advertising what the Machine provides (Vol. 2A CPUID Tables 3-8..3-11, leaves
 * 15H/16H), and the TSC following the machine clock with IA32_TSC_ADJUST (Vol. 3B §17.17).
 */
import { describe, expect, it } from 'vitest';
import { TestGuest, HARNESS_PORTS, type TestGuestOptions } from '../../src/testing.js';
import { InvalidArgumentError } from '../../src/util/errors.js';

const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const MOV_EAX = (v: number) => [0xb8, ...le32(v)];
const MOV_ECX = (v: number) => [0xb9, ...le32(v)];
const XOR_EDX = [0x31, 0xd2];
const CPUID = [0x0f, 0xa2];
const RDTSC = [0x0f, 0x31];
const WRMSR = [0x0f, 0x30];
const RDMSR = [0x0f, 0x32];
const MOV_EBX_EAX = [0x89, 0xc3];
const MOV_EAX_EBX = [0x89, 0xd8];
const MOV_EAX_ECX = [0x89, 0xc8];
const MOV_ESI_EDX = [0x89, 0xd6];
const MOV_EAX_ESI = [0x89, 0xf0];
const ADD_EAX = (v: number) => [0x05, ...le32(v)];
/** SYNC eax: mov dx, port; out dx, eax (2 instructions). */
const SYNC = [0x66, 0xba, HARNESS_PORTS.SYNC & 0xff, HARNESS_PORTS.SYNC >> 8, 0xef];
const DONE = [...MOV_EAX(0), 0x66, 0xba, HARNESS_PORTS.DONE & 0xff, HARNESS_PORTS.DONE >> 8, 0xef];

function syncs(code: number[], options: TestGuestOptions = {}, between?: (g: TestGuest, i: number) => void) {
  const g = TestGuest.flat(new Uint8Array(code), { mode: 'long', ...options });
  const out: Array<[number, number]> = [];
  for (;;) {
    const e = g.next();
    if (e.kind !== 'sync') {
      expect(e.kind).toBe('done');
      return { out, g };
    }
    out.push([Number(e.value) >>> 0, g.machine.clock.now()]);
    between?.(g, out.length);
  }
}

describe('CPUID of a Machine', () => {
  const code = [
    ...MOV_EAX(1), ...CPUID, ...MOV_ESI_EDX, ...MOV_EAX_ECX, ...SYNC, ...MOV_EAX_ESI, ...SYNC,
    ...MOV_EAX(0), ...CPUID, ...SYNC,
    ...MOV_EAX(0x15), ...CPUID, ...MOV_ESI_EDX, ...SYNC, ...MOV_EAX_EBX, ...SYNC, ...MOV_EAX_ECX, ...SYNC,
    ...DONE,
  ];

  it('advertises APIC (1:EDX[9]), x2APIC (1:ECX[21]), TSC-deadline (1:ECX[24]) and the TSC frequency in 15H', () => {
    const v = syncs(code).out.map((s) => s[0]);
    expect((v[0]! >>> 21) & 1).toBe(1);
    expect((v[0]! >>> 24) & 1).toBe(1);
    expect((v[1]! >>> 9) & 1).toBe(1);
    expect(v[2]).toBe(0x16); // maximum basic leaf reaches 16H
    // TSC frequency = ECX (crystal Hz) x EBX / EAX = the machine's 2 GHz TSC
    expect((v[5]! * v[4]!) / v[3]!).toBe(2_000_000_000);
  });

  it('advertises no APIC without an interrupt controller', () => {
    const v = syncs(code, { devices: { irqchip: false, hpet: false } }).out.map((s) => s[0]);
    expect((v[0]! >>> 21) & 1).toBe(0);
    expect((v[1]! >>> 9) & 1).toBe(0);
  });
});

describe('IA32_APIC_BASE belongs to the LAPIC', () => {
  it('RDMSR reads the LAPIC value (FEE00000H | EN | BSP); WRMSR relocates the xAPIC page', () => {
    // rdmsr 1BH; SYNC; wrmsr 1BH = FEB00000H | EN; read the ID register at the new page; SYNC
    const code = [
      ...MOV_ECX(0x1b), ...RDMSR, ...SYNC,
      ...MOV_ECX(0x1b), ...MOV_EAX(0xfeb0_0800), ...XOR_EDX, ...WRMSR,
      0xbb, ...le32(0xfeb0_0030), 0x8b, 0x03, // mov ebx, 0xFEB00030; mov eax, [rbx] (version register)
      ...SYNC, ...DONE,
    ];
    const { out, g } = syncs(code);
    expect(out[0]![0]).toBe(0xfee0_0900);
    // version register: version 14H with max LVT in bits 23:16 (docs/devices.md); nonzero = the LAPIC answered
    expect(out[1]![0] & 0xff).toBe(g.machine.irqchip!.lapic(0).read(0x30, 4) & 0xff);
    expect(out[1]![0]).not.toBe(0);
    expect(g.machine.vcpus[0]!.getSpecialRegisters().apicBase).toBe(0xfeb0_0900n);
    expect(g.machine.mmio.find(0xfee0_0000)).toBeUndefined();
    g.machine.reset();
    expect(g.machine.mmio.find(0xfee0_0000)?.name).toBe('lapic');
    expect(g.machine.vcpus[0]!.getSpecialRegisters().apicBase).toBe(0xfee0_0900n);
  });

  it('a caller apicBase the LAPIC refuses (EXTD without EN) throws and changes nothing', () => {
    const g = TestGuest.flat(new Uint8Array(DONE), { mode: 'long' });
    const v = g.machine.vcpus[0]!;
    const s = v.getSpecialRegisters();
    expect(() => v.setSpecialRegisters({ ...s, apicBase: 0xfee0_0400n })).toThrow(InvalidArgumentError);
    expect(v.getSpecialRegisters().apicBase).toBe(0xfee0_0900n);
    v.setSpecialRegisters({ ...v.getSpecialRegisters(), apicBase: 0xfee0_0d00n }); // EN | EXTD: x2APIC
    expect(g.machine.irqchip!.lapic(0).x2apicMode).toBe(true);
  });
});

describe('TSC on the machine clock (2 GHz: 2 ticks per 1-ns instruction)', () => {
  it('WRMSR TSC sets it and IA32_TSC_ADJUST by the same difference; ADJUST writes move the TSC; clock jumps count', () => {
    const code = [
      ...MOV_ECX(0x10), ...MOV_EAX(0x10_0000), ...XOR_EDX, ...WRMSR, // wrmsr at Tw
      ...RDTSC, ...SYNC, // A at Tw + 3
      ...MOV_ECX(0x3b), ...RDMSR, ...MOV_EBX_EAX, ...MOV_ESI_EDX, ...SYNC, ...MOV_EAX_ESI, ...SYNC, // B (lo), C (hi)
      ...MOV_EAX_EBX, ...ADD_EAX(0x1000), ...XOR_EDX, ...MOV_ECX(0x3b), ...WRMSR, ...RDTSC, ...MOV_EBX_EAX, ...SYNC, // D
      ...RDTSC, ...SYNC, // E: after the test moved the clock by 1 ms
      ...DONE,
    ];
    const { out } = syncs(code, {}, (g, n) => {
      if (n === 4) g.machine.clock.advanceBy(1_000_000);
    });
    const tA = out[0]![1];
    const tw = tA - 3;
    expect(out[0]![0]).toBe(0x10_0000 + 2); // one instruction (1 ns) after the write
    // SDM 17.17.3: the write added X = 0x100000 - TSC(Tw) to IA32_TSC_ADJUST (which was 0)
    expect(out[1]![0]).toBe((0x10_0000 - 2 * tw) >>> 0);
    expect(out[2]![0]).toBe(0);
    // rdtsc at Tw+1 .. 2nd rdtsc: mov dx, out, mov ecx, rdmsr, mov ebx, mov esi, mov dx, out, mov eax, mov dx,
    // out, mov eax, add, xor, mov ecx, wrmsr, rdtsc = 17 instructions later, plus the 0x1000 ADJUST added
    expect(out[3]![0]).toBe(0x10_0000 + 2 + 2 * 17 + 0x1000);
    // mov ebx, mov dx, out, [1 ms], rdtsc: 4 instructions and 1e6 ns later
    expect(out[4]![0]).toBe(out[3]![0] + 2 * (4 + 1_000_000));
  });
});
