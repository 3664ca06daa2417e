/**
 * Every exit reason, each driven by a snippet of fixtures/guests/exits.asm (snippet N at
 * 0x10000 + N * 0x100, 64-bit, identity-mapped). Each test reads as the guest's story.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { TestGuest, GUEST_MAP } from '../../src/testing.js';
import type { MachineOptions } from '../../src/vmm/machine.js';

const EXITS = new Uint8Array(readFileSync(new URL('../../fixtures/guests/exits.bin', import.meta.url)));
const IDT = 0x18800;

function snippet(n: number, options: Partial<MachineOptions> & { maxInstructions?: number } = {}): TestGuest {
  return TestGuest.image(EXITS, { mode: 'long', loadAddress: GUEST_MAP.load, ...options, memoryMiB: 4 })
    .atSnippet(n);
}

declare module '../../src/testing.js' {
  interface TestGuest {
    atSnippet(n: number): TestGuest;
    withIdt(): TestGuest;
  }
}
TestGuest.prototype.atSnippet = function (this: TestGuest, n: number) {
  const r = this.vcpu.getRegisters();
  this.vcpu.setRegisters({ ...r, rip: BigInt(GUEST_MAP.load + n * 0x100) });
  return this;
};
TestGuest.prototype.withIdt = function (this: TestGuest) {
  const s = this.vcpu.getSpecialRegisters();
  this.vcpu.setSpecialRegisters({ ...s, idt: { base: BigInt(IDT), limit: 64 * 16 - 1 } });
  return this;
};

describe('VM exits, one guest snippet each', () => {
  it('io: an OUT and an IN to an unclaimed port reach the caller; the IN is completed with exit.value', () => {
    const g = snippet(0);
    const out = g.next();
    expect(out.kind === 'exit' && out.exit.reason).toBe('io');
    if (out.kind !== 'exit' || out.exit.reason !== 'io') return;
    expect(out.exit).toMatchObject({ port: 0x1234, size: 4, write: true, value: 0xcafe, string: false });
    const inn = g.next();
    if (inn.kind !== 'exit' || inn.exit.reason !== 'io') throw new Error('expected the IN');
    expect(inn.exit).toMatchObject({ port: 0x1234, size: 4, write: false });
    // NVMM gives the next RIP with an I/O exit: `in eax, dx` is one byte.
    expect(inn.exit.nextRipLo - inn.exit.ripLo).toBe(1);
    inn.exit.value = 0x5a5a;
    g.expectSync(0x5a5a);
    g.expectDone();
  });

  it('io: a caller handler registered with onIo completes the accesses in-process', () => {
    const g = snippet(0);
    const seen: number[] = [];
    g.machine.onIo({ base: 0x1234, length: 4 }, { write: (_p, _s, v) => void seen.push(v), read: () => 0x77 });
    g.expectSync(0x77);
    expect(seen).toEqual([0xcafe]);
    expect(g.machine.stats().handled.io).toBe(2);
  });

  it('io: string I/O exits once per element with the REP count left', () => {
    const g = snippet(15);
    const bytes: number[] = [];
    const counts: number[] = [];
    for (;;) {
      const e = g.next();
      if (e.kind !== 'exit' || e.exit.reason !== 'io') {
        expect(e).toEqual({ kind: 'sync', value: 0x4241n });
        break;
      }
      expect(e.exit.string).toBe(true);
      counts.push(e.exit.count);
      if (e.exit.write) bytes.push(e.exit.value);
      else e.exit.value = 0x41 + (2 - e.exit.count);
    }
    expect(String.fromCharCode(...bytes)).toBe('xvmm');
    expect(counts).toEqual([4, 3, 2, 1, 2, 1]);
  });

  it('mmio: the assist decodes the access; a caller range without a handler sees `mmio` exits', () => {
    const g = snippet(1);
    g.machine.onMmio({ base: GUEST_MAP.mmioWindow, length: 0x1000 });
    const rd = g.next();
    if (rd.kind !== 'exit' || rd.exit.reason !== 'mmio') throw new Error(`expected mmio, got ${rd.kind}`);
    expect(rd.exit).toMatchObject({ gpaLo: GUEST_MAP.mmioWindow, gpaHi: 0, size: 4, write: false });
    rd.exit.value = 0xfeedf00d;
    g.expectSync(0xfeedf00d);
    const wr = g.next();
    if (wr.kind !== 'exit' || wr.exit.reason !== 'mmio') throw new Error('expected the write');
    expect(wr.exit).toMatchObject({ gpaLo: GUEST_MAP.mmioWindow + 4, size: 4, write: true, value: 0x1234abcd });
    g.expectDone();
  });

  it('mmio: an in-process handler completes reads and writes through the assist', () => {
    const g = snippet(1);
    const log: string[] = [];
    g.machine.onMmio({ base: GUEST_MAP.mmioWindow, length: 0x1000 }, {
      read: (a, s) => (log.push(`r${s}@${a.toString(16)}`), 0x600d),
      write: (a, s, v) => void log.push(`w${s}@${a.toString(16)}=${v.toString(16)}`),
    });
    g.expectSync(0x600d);
    g.expectDone();
    expect(log).toEqual(['r4@c0000000', 'w4@c0000004=1234abcd']);
    expect(g.machine.stats().mmioAssists).toBe(2);
  });

  it('ept-violation: GPA, linear address, qualification and instruction bytes; the caller maps RAM and resumes', () => {
    const g = snippet(2);
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'ept-violation') throw new Error(`expected ept-violation, got ${JSON.stringify(e.kind)}`);
    expect(e.exit.gpaLo).toBe(0x4000_0000);
    expect(e.exit.linearValid).toBe(true);
    expect(e.exit.qualification & 7).toBe(2); // a data write (SDM Vol. 3C Table 28-7 bit 1)
    // mov qword [rbx], 0x77 = 48 C7 03 77 00 00 00
    expect(Array.from(e.exit.insnBytes.subarray(0, 7))).toEqual([0x48, 0xc7, 0x03, 0x77, 0, 0, 0]);
    const seg = g.machine.memory.createSegment('late', 0x1000);
    g.machine.memory.map(0x4000_0000, seg, 0, 0x1000);
    g.expectSync(0x77);
    g.expectDone();
  });

  it('ept-misconfig: a write-only EPT entry is a misconfiguration, reported as its own exit', () => {
    const g = snippet(3);
    const seg = g.machine.memory.createSegment('bad', 0x1000);
    g.machine.memory.map(0x5000_0000, seg, 0, 0x1000, { maxPageSize: 0x1000 });
    // W without R (bits 1:0 = 10b) is a misconfiguration (SDM Vol. 3C §28.3.3.1).
    const entry = g.machine.ept.readEntry(0x5000_0000, 1);
    g.machine.ept.pokeEntry(0x5000_0000, 1, (entry & ~7n) | 2n);
    const e = g.next();
    expect(e.kind === 'exit' && e.exit.reason).toBe('ept-misconfig');
  });

  it('rdmsr/wrmsr: separate exits for an unknown MSR; RDMSR completed with EDX:EAX from the exit', () => {
    const g = snippet(4);
    const rd = g.next();
    if (rd.kind !== 'exit' || rd.exit.reason !== 'rdmsr') throw new Error(`expected rdmsr, got ${rd.kind}`);
    expect(rd.exit.msr).toBe(0x4b56_4d00);
    expect(rd.exit.nextRipLo - rd.exit.ripLo).toBe(2);
    rd.exit.valueLo = 0xaaaa_0001;
    rd.exit.valueHi = 0xbbbb_0002;
    g.expectSync(0xaaaa_0001);
    g.expectSync(0xbbbb_0002);
    const wr = g.next();
    if (wr.kind !== 'exit' || wr.exit.reason !== 'wrmsr') throw new Error('expected wrmsr');
    expect(wr.exit).toMatchObject({ msr: 0x4b56_4d00, valueLo: 0x1111_1111, valueHi: 0x2222_2222 });
    g.expectDone();
  });

  it('rdmsr/wrmsr: a caller filter (onMsr) claims the MSR and the guest never exits', () => {
    const g = snippet(4);
    let written = 0n;
    g.machine.onMsr([0x4b56_4d00], { read: () => 0x0000_0005_0000_0004n, write: (_m, v) => ((written = v), true) });
    g.expectSync(4);
    g.expectSync(5);
    g.expectDone();
    expect(written).toBe(0x2222_2222_1111_1111n);
  });

  it('cpuid: a leaf configured to exit reaches the caller, a masked leaf is answered in-process', () => {
    const g = snippet(5);
    g.vcpu.configureCpuid({ leaf: 0x4000_0000, action: 'exit' });
    g.vcpu.configureCpuid({ leaf: 1, action: 'mask', clear: { ecx: 0xffff_ffff }, set: { ecx: 0x8000_0000 } });
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'cpuid') throw new Error(`expected cpuid, got ${e.kind}`);
    expect(e.exit.leaf).toBe(0x4000_0000);
    e.exit.ebx = 0x4b4d_5658; // "XVMK"
    g.expectSync(0x4b4d_5658);
    g.expectSync(0x8000_0000);
    g.expectDone();
  });

  it('hlt: with hltExits the caller sees it; otherwise a halted machine stops with all-halted', () => {
    const g = snippet(6);
    const stop = g.machine.run({ hltExits: true });
    expect(stop.kind === 'exit' && stop.exit.reason).toBe('hlt');
    const g2 = snippet(6);
    expect(g2.next()).toEqual({ kind: 'halted' });
    // An interrupt would wake it; a raw vcpu.run of a halted vCPU returns hlt at once.
    expect(g2.vcpu.run().reason).toBe('hlt');
  });

  it('shutdown: #UD with an empty IDT becomes #GP, then #DF, then a triple fault', () => {
    const g = snippet(7);
    expect(g.next()).toEqual({ kind: 'shutdown' });
    expect(g.machine.suspended).toBe('triple-fault');
    expect(g.vcpu.runState).toBe('shutdown');
  });

  it('interrupt-window: asked for while IF = 0, it comes after STI; then an injected interrupt is delivered', () => {
    const g = snippet(8).withIdt();
    g.expectSync(8);
    g.vcpu.requestInterruptWindow();
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'interrupt-window') throw new Error(`expected the window, got ${e.kind}`);
    // STI blocks interrupts until the instruction after it completes (SDM Vol. 2 STI): the window
    // opens after the NOP that follows the STI.
    expect(e.exit.ripLo).toBe(GUEST_MAP.load + 8 * 0x100 + 1 + 10 + 1 + 1);
    g.vcpu.inject({ kind: 'interrupt', vector: 0x30 });
    expect(g.next()).toEqual({ kind: 'sync', value: 0x130n });
  });

  it('an interrupt injected while IF = 0 waits for STI and is then delivered without a window exit', () => {
    const g = snippet(8).withIdt();
    g.expectSync(8);
    g.vcpu.inject({ kind: 'interrupt', vector: 0x31 });
    expect(g.next()).toEqual({ kind: 'sync', value: 0x131n });
  });

  it('nmi-window and NMI delivery through vector 2', () => {
    const g = snippet(9).withIdt();
    g.vcpu.requestNmiWindow();
    g.vcpu.inject({ kind: 'nmi', vector: 2 });
    // Nothing blocks NMIs here, so the NMI is delivered at once (the window exit is for blocked NMIs).
    expect(g.next()).toEqual({ kind: 'sync', value: 0x102n });
  });

  it('tpr-below-threshold: lowering CR8 below the threshold exits after the MOV', () => {
    const g = snippet(10);
    g.vcpu.setIntercepts({ tprThreshold: 4 });
    const e = g.next();
    expect(e.kind === 'exit' && e.exit.reason).toBe('tpr-below-threshold');
    expect(g.vcpu.getSpecialRegisters().cr8).toBe(2n);
    g.expectSync(11);
  });

  it('invalid-state: the entry checks refuse CR0.PG without PE and name the check', () => {
    const g = snippet(0);
    const s = g.vcpu.getSpecialRegisters();
    g.vcpu.setSpecialRegisters({ ...s, cr0: 0x8000_0000n });
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'invalid-state') throw new Error('expected invalid-state');
    expect(e.exit.message).toMatch(/CR0.PG = 1 requires CR0.PE = 1/);
  });

  it('budget: a spinning guest stops at the instruction budget', () => {
    const g = snippet(11);
    expect(g.next({ maxInstructions: 1000 })).toEqual({ kind: 'budget' });
    expect(g.machine.stats().instructions).toBe(1000);
    expect(g.vcpu.run({ maxInstructions: 10 }).reason).toBe('budget');
  });

  it('debug: INT3 is a debug exit when the caller intercepts it, and goes to the guest IDT otherwise', () => {
    const g = snippet(12).withIdt();
    g.vcpu.setIntercepts({ debug: true });
    const e = g.next();
    expect(e.kind === 'exit' && e.exit.reason).toBe('debug');
    const g2 = snippet(12).withIdt();
    expect(g2.next()).toEqual({ kind: 'sync', value: 0x103n });
  });

  it('pause: with PAUSE exiting on, PAUSE exits', () => {
    const g = snippet(13);
    g.vcpu.setIntercepts({ pause: true });
    const e = g.next();
    expect(e.kind === 'exit' && e.exit.reason).toBe('pause');
    g.expectSync(13);
  });

  it('exception: #DE from DIV by zero is delivered through the guest IDT with the faulting RIP', () => {
    const g = snippet(14).withIdt();
    expect(g.next()).toEqual({ kind: 'sync', value: 0x100n });
    // The frame's first qword is the return RIP: the DIV itself (a fault), 2 bytes after the XOR.
    expect(g.next()).toEqual({ kind: 'sync', value: BigInt(GUEST_MAP.load + 14 * 0x100 + 2) });
  });
});

describe('an exception injected for an MSR exit', () => {
  it('faults the RDMSR: EDX:EAX keep their values (SDM RDMSR: #GP(0) for an unimplemented MSR writes nothing)', () => {
    const g = snippet(4);
    const rd = g.next();
    if (rd.kind !== 'exit' || rd.exit.reason !== 'rdmsr') throw new Error(`expected rdmsr, got ${rd.kind}`);
    const r = g.vcpu.getRegisters();
    g.vcpu.setRegisters({ ...r, rdx: 0x1234_5678_9abc_def0n });
    rd.exit.valueLo = 0xaaaa_0001;
    rd.exit.valueHi = 0xbbbb_0002;
    const s = g.vcpu.getSpecialRegisters();
    g.vcpu.setSpecialRegisters({ ...s, idt: { base: 0x18800n, limit: 64 * 16 - 1 } });
    g.vcpu.inject({ kind: 'exception', vector: 13, errorCode: 0 });
    // the #GP handler's first SYNC: its `mov dx, port` replaced only DX, so RDX[63:16] is what the
    // caller set, not the exit's EDX value
    g.expectSync(0x10d);
    expect(g.vcpu.getRegisters().rdx >> 16n).toBe(0x1234_5678_9abcn);
  });
});
