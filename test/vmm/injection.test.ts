/**
 * Event injection and the nested-exception disposition, on the exits.asm guest (its IDT handlers
 * SYNC 0x100 + vector, then the first frame qword: the error code or the return RIP).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { TestGuest, GUEST_MAP } from '../../src/testing.js';

const EXITS = new Uint8Array(readFileSync(new URL('../../fixtures/guests/exits.bin', import.meta.url)));
const IDT = 0x18800;

/** The guest at snippet 9 (SYNC 10; nop; DONE) with IF = 1 and its IDT loaded. */
function guest(): TestGuest {
  const g = TestGuest.image(EXITS, { mode: 'long', loadAddress: GUEST_MAP.load, memoryMiB: 4 });
  const r = g.vcpu.getRegisters();
  g.vcpu.setRegisters({ ...r, rip: BigInt(GUEST_MAP.load + 9 * 0x100), rflags: 0x202n }); // IF = 1
  const s = g.vcpu.getSpecialRegisters();
  g.vcpu.setSpecialRegisters({ ...s, idt: { base: BigInt(IDT), limit: 64 * 16 - 1 } });
  return g;
}

/** Clears the present bit of IDT gate `vector` (byte 5 of the 16-byte gate, bit 7). */
function unpresent(g: TestGuest, vector: number): void {
  const b = new Uint8Array(1);
  g.machine.memory.read(IDT + vector * 16 + 5, b);
  b[0]! &= 0x7f;
  g.machine.memory.write(IDT + vector * 16 + 5, b);
}

describe('event injection', () => {
  it('delivers an injected exception with its error code', () => {
    const g = guest();
    g.vcpu.inject({ kind: 'exception', vector: 13, errorCode: 0x28 });
    expect(g.next()).toEqual({ kind: 'sync', value: 0x10dn });
    expect(g.next()).toEqual({ kind: 'sync', value: 0x28n });
  });

  it('delivers an exception, then an NMI, then a maskable interrupt (bhyve order)', () => {
    const g = guest();
    g.vcpu.inject({ kind: 'interrupt', vector: 0x20 });
    g.vcpu.inject({ kind: 'nmi', vector: 2 });
    g.vcpu.inject({ kind: 'exception', vector: 6 });
    // The #UD frame is built first; the NMI is taken at the next instruction boundary, before the
    // #UD handler's first instruction, so its handler runs first and its return RIP is that
    // handler's entry. The interrupt waits: the interrupt gates cleared IF.
    expect(g.next()).toEqual({ kind: 'sync', value: 0x102n });
    expect(g.next()).toEqual({ kind: 'sync', value: BigInt(0x18000 + 6 * 32) });
    expect(g.vcpu.events.interrupt).toEqual({ kind: 'interrupt', vector: 0x20 });
  });

  it('#NP while delivering #GP is a double fault: #DF with error code 0', () => {
    const g = guest();
    unpresent(g, 13);
    g.vcpu.inject({ kind: 'exception', vector: 13, errorCode: 0 });
    expect(g.next()).toEqual({ kind: 'sync', value: 0x108n });
    expect(g.next()).toEqual({ kind: 'sync', value: 0n });
  });

  it('a fault while delivering #DF is a triple fault: the vCPU shuts down', () => {
    const g = guest();
    unpresent(g, 13);
    unpresent(g, 8);
    g.vcpu.inject({ kind: 'exception', vector: 13, errorCode: 0 });
    expect(g.next()).toEqual({ kind: 'shutdown' });
    expect(g.vcpu.runState).toBe('shutdown');
    expect(g.machine.suspended).toBe('triple-fault');
    expect(() => g.vcpu.inject({ kind: 'nmi', vector: 2 })).toThrow(/shut down/);
  });

  it('a benign exception during interrupt delivery is handled serially (#NP of vector 0x30 delivered as #NP)', () => {
    const g = guest();
    unpresent(g, 0x30);
    g.vcpu.inject({ kind: 'interrupt', vector: 0x30 });
    expect(g.next()).toEqual({ kind: 'sync', value: 0x10bn });
    // Error code: IDT vector 0x30, IDT bit set, EXT set for an external interrupt (SDM §6.13).
    expect(g.next()).toEqual({ kind: 'sync', value: BigInt(0x30 * 8 + 2 + 1) });
  });

  it('redelivers an event whose delivery an exit interrupted (exit-intinfo): the stack had no RAM', () => {
    const g = guest();
    const r = g.vcpu.getRegisters();
    g.vcpu.setRegisters({ ...r, rsp: 0x4000_0100n });
    g.vcpu.inject({ kind: 'interrupt', vector: 0x30 });
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'ept-violation') throw new Error(`expected ept-violation, got ${e.kind}`);
    expect(e.exit.gpaLo).toBe(0x4000_0100 - 8); // the first push: SS
    expect(g.vcpu.events.exitIntInfo).toEqual({ kind: 'interrupt', vector: 0x30 });
    const seg = g.machine.memory.createSegment('stack', 0x1000);
    g.machine.memory.map(0x4000_0000, seg, 0, 0x1000);
    expect(g.next()).toEqual({ kind: 'sync', value: 0x130n });
    // The frame is there: the return RIP is the instruction the vCPU was about to run.
    expect(g.next()).toEqual({ kind: 'sync', value: BigInt(GUEST_MAP.load + 9 * 0x100) });
  });

  it('wakes a halted vCPU for an injected interrupt', () => {
    const g = TestGuest.image(EXITS, { mode: 'long', loadAddress: GUEST_MAP.load, memoryMiB: 4 });
    const r = g.vcpu.getRegisters();
    g.vcpu.setRegisters({ ...r, rip: BigInt(GUEST_MAP.load + 6 * 0x100), rflags: 0x202n });
    const s = g.vcpu.getSpecialRegisters();
    g.vcpu.setSpecialRegisters({ ...s, idt: { base: BigInt(IDT), limit: 64 * 16 - 1 } });
    expect(g.next()).toEqual({ kind: 'halted' });
    g.vcpu.inject({ kind: 'interrupt', vector: 0x22 });
    expect(g.next()).toEqual({ kind: 'sync', value: 0x122n });
  });

  it('delivers a real-mode interrupt through the IVT', () => {
    // At 0x7C00: SYNC-less real-mode loop `jmp $`; IVT entry 0x21 -> 0000:7D00 where `out 0xE9, al`.
    const code = new Uint8Array(0x200);
    code.set([0xeb, 0xfe], 0); // jmp $
    code.set([0xb0, 0x21, 0xe6, 0xe9, 0xfa, 0xf4], 0x100); // mov al,0x21; out 0xe9,al; cli; hlt
    const g = TestGuest.flat(code, { mode: 'real' });
    g.machine.memory.write(0x21 * 4, Uint8Array.of(0x00, 0x7d, 0x00, 0x00));
    g.vcpu.inject({ kind: 'software-interrupt', vector: 0x21 });
    expect(g.next()).toEqual({ kind: 'halted' });
    expect(g.console).toBe('!');
    // FLAGS, CS, IP pushed below SP = 0x7C00 (SDM Vol. 3A §20.1.4).
    expect(g.vcpu.getRegisters().rsp).toBe(0x7c00n - 6n);
  });
});
