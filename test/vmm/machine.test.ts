import { describe, expect, it } from 'vitest';
import { Machine, planFlat, applyPlan, ConflictError, InvalidArgumentError } from '../../src/index.js';

/** The docs/api.md example: mov dx,0xE9; mov al,'A'; out dx,al; mov al,0; out 0xF4,al; hlt. */
const HELLO = Uint8Array.of(0x66, 0xba, 0xe9, 0x00, 0xb0, 0x41, 0xee, 0xb0, 0x00, 0xe6, 0xf4, 0xf4);

describe('Machine', () => {
  it('runs the docs/api.md example to a debug-exit with QEMU’s code (0 << 1) | 1', () => {
    const m = new Machine({ memoryMiB: 4 });
    applyPlan(m, planFlat(HELLO, { mode: 'long' }));
    expect(m.run()).toEqual({ kind: 'suspended', disposition: 'poweroff', exitCode: 1 });
    expect(m.debugcon!.takeOutputText()).toBe('A');
    expect(m.stats()).toMatchObject({ exits: { io: 2 }, handled: { io: 2 }, instructions: 5 });
  });

  it('stays suspended until reset, and reset returns the BSP to the RESET state (F000:FFF0)', () => {
    const m = new Machine({ memoryMiB: 4 });
    applyPlan(m, planFlat(HELLO, { mode: 'long' }));
    m.run();
    expect(m.run()).toMatchObject({ kind: 'suspended' });
    m.reset();
    expect(m.suspended).toBeNull();
    const r = m.vcpus[0]!.getRegisters();
    const s = m.vcpus[0]!.getSpecialRegisters();
    expect(r.rip).toBe(0xfff0n);
    expect(s.cs.selector).toBe(0xf000);
    expect(s.cs.base).toBe(0xffff_0000n);
    expect(s.cr0).toBe(0x6000_0010n);
  });

  it('maps a boot ROM at the top of 4 GiB and its last 64 KiB below 1 MiB, and starts at the reset vector', () => {
    const rom = new Uint8Array(0x1_0000);
    // At F000:FFF0 (ROM offset 0xFFF0): mov al, 0x2A ; out 0xF4, al
    rom.set([0xb0, 0x2a, 0xe6, 0xf4], 0xfff0);
    const m = new Machine({ memoryMiB: 4, rom });
    expect(m.run()).toEqual({ kind: 'suspended', disposition: 'poweroff', exitCode: 0x55 });
    const alias = new Uint8Array(2);
    m.memory.read(0xffff0, alias);
    expect(Array.from(alias)).toEqual([0xb0, 0x2a]);
  });

  it('rejects a caller range that overlaps a device, naming both', () => {
    const m = new Machine({ memoryMiB: 4 });
    expect(() => m.onIo({ base: 0x3f8, length: 8 }, {})).toThrow(ConflictError);
    expect(() => m.onIo({ base: 0x3f8, length: 8 }, {}, 'mine')).toThrow(/'mine'.*'com1'|com1.*mine/);
    expect(() => m.onMmio({ base: 0xfee0_0000, length: 0x1000 })).toThrow(ConflictError);
  });

  it('rejects bad options with the value and the rule', () => {
    expect(() => new Machine({ memoryMiB: 0 })).toThrow(InvalidArgumentError);
    expect(() => new Machine({ vcpus: 0 })).toThrow(/vcpus 0/);
    expect(() => new Machine({ quantum: 1.5 })).toThrow(/quantum/);
    expect(() => new Machine({ rom: new Uint8Array(100) })).toThrow(/ROM size 0x64/);
  });

  it('refuses to load a plan that does not fit in RAM, changing nothing', () => {
    const m = new Machine({ memoryMiB: 1 });
    expect(() => applyPlan(m, planFlat(HELLO, { mode: 'long', loadAddress: 0x20_0000 }))).toThrow(/not inside guest RAM/);
    expect(m.vcpus[0]!.getRegisters().rip).toBe(0xfff0n);
  });

  it('returns cached state records between runs and re-reads them after one', () => {
    const m = new Machine({ memoryMiB: 4 });
    applyPlan(m, planFlat(HELLO, { mode: 'long' }));
    const v = m.vcpus[0]!;
    const a = v.getRegisters();
    expect(v.getRegisters()).toBe(a); // no work until the vCPU runs
    m.run({ maxInstructions: 2 });
    const b = v.getRegisters();
    expect(b).not.toBe(a);
    expect(b.rip).toBe(0x1_0006n);
    expect(b.rax & 0xffn).toBe(0x41n);
  });
});

describe('the memory assist on a machine', () => {
  it('splits an access that crosses from RAM into a device page byte by byte (nvmm_assist_mem)', () => {
    // mov rbx, 0x3FFFFE ; mov eax, [rbx] ; mov dword [rbx], 0x44332211 ; out 0xF4, al
    const code = Uint8Array.of(
      0x48, 0xc7, 0xc3, 0xfe, 0xff, 0x3f, 0x00, // mov rbx, 0x3ffffe
      0x8b, 0x03, //                               mov eax, [rbx]
      0xc7, 0x03, 0x11, 0x22, 0x33, 0x44, //       mov dword [rbx], 0x44332211
      0xe6, 0xf4, //                               out 0xf4, al
    );
    const m = new Machine({ memoryMiB: 4 });
    applyPlan(m, planFlat(code, { mode: 'long' }));
    m.memory.write(0x3f_fffe, Uint8Array.of(0xaa, 0xbb));
    const log: string[] = [];
    m.onMmio({ base: 0x40_0000, length: 0x1000 }, {
      read: (a, s) => (log.push(`r${s}@${a.toString(16)}`), a === 0x40_0000 ? 0xcc : 0xdd),
      write: (a, s, v) => void log.push(`w${s}@${a.toString(16)}=${v.toString(16)}`),
    });
    const stop = m.run();
    expect(stop).toEqual({ kind: 'suspended', disposition: 'poweroff', exitCode: ((0xddccbbaa & 0xff) << 1) | 1 });
    expect(m.vcpus[0]!.getRegisters().rax).toBe(0xddcc_bbaan);
    expect(log).toEqual(['r1@400000', 'r1@400001', 'w1@400000=33', 'w1@400001=44']);
    const ram = new Uint8Array(2);
    m.memory.read(0x3f_fffe, ram);
    expect(Array.from(ram)).toEqual([0x11, 0x22]);
  });
});

describe('guest-requested reset', () => {
  it('a write of RST_CPU to port 0xCF9 suspends with the reset disposition; reset() restarts at the reset vector', () => {
    // mov al, 0x06 ; out 0xCF9 needs DX: mov dx, 0xcf9 ; out dx, al
    const code = Uint8Array.of(0x66, 0xba, 0xf9, 0x0c, 0xb0, 0x06, 0xee, 0xf4);
    const m = new Machine({ memoryMiB: 4 });
    applyPlan(m, planFlat(code, { mode: 'long' }));
    expect(m.run()).toEqual({ kind: 'suspended', disposition: 'reset', exitCode: undefined });
    m.reset();
    expect(m.vcpus[0]!.getRegisters().rip).toBe(0xfff0n);
  });
});

describe('emulated accessed/dirty bits', () => {
  it('resolves the first-touch EPT faults in-process (bhyve A/D emulation) and counts them', () => {
    const m = new Machine({ memoryMiB: 4, adMode: 'emulated' });
    applyPlan(m, planFlat(HELLO, { mode: 'long' }));
    expect(m.run()).toEqual({ kind: 'suspended', disposition: 'poweroff', exitCode: 1 });
    expect(m.debugcon!.takeOutputText()).toBe('A');
    const st = m.stats();
    expect(st.adFaults).toBeGreaterThan(0);
    expect(st.handled['ept-violation']).toBe(st.exits['ept-violation']);
  });
});

describe('time-limited runs', () => {
  it('stops at a virtual time (1 ns per instruction by default)', () => {
    const m = new Machine({ memoryMiB: 4 });
    applyPlan(m, planFlat(Uint8Array.of(0xeb, 0xfe), { mode: 'long' })); // jmp $
    expect(m.run({ untilNs: 5000 })).toEqual({ kind: 'time', nowNs: 5000 });
    expect(m.stats().instructions).toBe(5000);
  });

  it('moves a halted machine to the stop time instead of returning all-halted early', () => {
    const m = new Machine({ memoryMiB: 4 });
    applyPlan(m, planFlat(Uint8Array.of(0xf4), { mode: 'long' }));
    expect(m.run({ untilNs: 1_000_000 })).toEqual({ kind: 'time', nowNs: 1_000_000 });
  });
});
