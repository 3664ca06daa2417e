/**
 * A snapshot taken while an exit waits for the caller's value (an IN from a port nobody owns, an
 * RDMSR of an unknown MSR) keeps that completion: the restored machine finishes the instruction
 * with the value the exit record held, as the original does.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/vmm/machine.js';
import { TestGuest, HARNESS_PORTS, GUEST_MAP } from '../../src/testing.js';
import { readFileSync } from 'node:fs';

const EXITS = new Uint8Array(readFileSync(new URL('../../fixtures/guests/exits.bin', import.meta.url)));

const SYNC = [0x66, 0xba, HARNESS_PORTS.SYNC & 0xff, HARNESS_PORTS.SYNC >> 8, 0xef]; // mov dx, port; out dx, eax
const DONE = [0x31, 0xc0, 0x66, 0xba, HARNESS_PORTS.DONE & 0xff, HARNESS_PORTS.DONE >> 8, 0xef];

function finish(m: Machine): number[] {
  const values: number[] = [];
  for (;;) {
    const s = m.run({ maxInstructions: 100_000 });
    if (s.kind !== 'exit' || s.exit.reason !== 'io' || !s.exit.write) throw new Error(`unexpected stop ${s.kind}`);
    if (s.exit.port === HARNESS_PORTS.DONE) return values;
    values.push(s.exit.value >>> 0);
  }
}

describe('snapshots with a pending completion', () => {
  it('IN: the value stored in the exit before saving is what the restored guest reads', () => {
    // xor eax, eax; mov dx, 0x1234; in al, dx; SYNC; DONE
    const g = TestGuest.flat(new Uint8Array([0x31, 0xc0, 0x66, 0xba, 0x34, 0x12, 0xec, ...SYNC, ...DONE]), { mode: 'long' });
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'io') throw new Error('expected the IN exit');
    expect(e.exit.port).toBe(0x1234);
    e.exit.value = 0x5a;
    const state = g.machine.saveState();
    expect(finish(Machine.restoreState(state))).toEqual([0x5a]);
    expect(finish(g.machine)).toEqual([0x5a]);
  });

  it('RDMSR of an MSR nobody owns: EDX:EAX from the exit', () => {
    // mov ecx, 0x4b564d99; rdmsr; SYNC (eax); mov eax, edx... SYNC clobbers dx: mov ebx, edx first
    const code = [0xb9, 0x99, 0x4d, 0x56, 0x4b, 0x0f, 0x32, 0x89, 0xd3, ...SYNC, 0x89, 0xd8, ...SYNC, ...DONE];
    const g = TestGuest.flat(new Uint8Array(code), { mode: 'long' });
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'rdmsr') throw new Error('expected the rdmsr exit');
    e.exit.valueLo = 0x1122_3344;
    e.exit.valueHi = 0x5566_7788;
    const state = structuredClone(g.machine.saveState());
    expect(finish(Machine.restoreState(state))).toEqual([0x1122_3344, 0x5566_7788]);
  });

  it('MMIO read from a caller range (no handler): the restored machine resumes the MOV with the stored value', () => {
    // exits.asm snippet 1: mov rbx, MMIO_WINDOW; mov eax, [rbx]; mov ecx, eax; SYNC ecx; a 4-byte write; DONE
    const g = TestGuest.image(EXITS, { mode: 'long', loadAddress: GUEST_MAP.load, memoryMiB: 4 });
    const r = g.vcpu.getRegisters();
    g.vcpu.setRegisters({ ...r, rip: BigInt(GUEST_MAP.load + 0x100) });
    g.machine.onMmio({ base: GUEST_MAP.mmioWindow, length: 0x1000 });
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'mmio') throw new Error('expected the MMIO read exit');
    e.exit.value = 0x0bad_cafe;
    const state = structuredClone(g.machine.saveState());
    expect(state.vcpus[0]!.mmio).toMatchObject({ gpa: GUEST_MAP.mmioWindow, size: 4, write: false, value: 0x0bad_cafe });
    const restored = Machine.restoreState(state);
    restored.onMmio({ base: GUEST_MAP.mmioWindow, length: 0x1000 }); // caller ranges are not in snapshots
    for (const m of [restored, g.machine]) {
      const s = m.run({ maxInstructions: 1000 });
      expect(s.kind === 'exit' && s.exit.reason === 'io' && s.exit.port === HARNESS_PORTS.SYNC && s.exit.value >>> 0).toBe(0x0bad_cafe);
    }
  });

  it('a malformed MMIO completion in a snapshot is refused', () => {
    const g = TestGuest.image(EXITS, { mode: 'long', loadAddress: GUEST_MAP.load, memoryMiB: 4 });
    const state = g.machine.saveState();
    state.vcpus[0]!.mmio = { gpa: 0xc000_0000, size: 3, write: false, value: 0, insn: [0x8b, 0x03] };
    expect(() => Machine.restoreState(state)).toThrow(/malformed MMIO completion \(gpa 0xc0000000, size 3/);
  });
});

describe('snapshots and the core MSRs', () => {
  it('LSTAR and SYSENTER_EIP written by the guest before the snapshot read back the same after restore', () => {
    const wr = (msr: number, lo: number, hi: number): number[] => [
      0xb9, ...le32(msr), 0xb8, ...le32(lo), 0xba, ...le32(hi), 0x0f, 0x30,
    ];
    const rd = (msr: number): number[] => [0xb9, ...le32(msr), 0x0f, 0x32, 0x89, 0xd3, ...SYNC, 0x89, 0xd8, ...SYNC];
    const code = [
      ...wr(0xc000_0082, 0x1122_3344, 0xffff_8000), ...wr(0x176, 0x00c0_ffee, 0), ...SYNC,
      ...rd(0xc000_0082), ...rd(0x176), ...DONE,
    ];
    const g = TestGuest.flat(new Uint8Array(code), { mode: 'long' });
    g.expectSync(0x00c0_ffee); // SYNC reports EAX: the last WRMSR value
    const state = structuredClone(g.machine.saveState());
    const expected = [0x1122_3344, 0xffff_8000, 0x00c0_ffee, 0];
    expect(finish(Machine.restoreState(state))).toEqual(expected);
    expect(finish(g.machine)).toEqual(expected);
  });
});

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}
