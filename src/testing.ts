/**
 * x86vmm/testing: the guest-test harness (in the spirit of KVM selftests' ucall and the illumos
 * bhyve-tests' in_guest.h): one documented guest memory map, reserved ports for the guest's
 * signals, and a runner that turns a run into the guest's story, so a test reads
 *
 *   const g = TestGuest.flat(code, { mode: 'long' });
 *   expect(g.next()).toEqual({ kind: 'sync', value: 1n });
 *   expect(g.next()).toEqual({ kind: 'done' });
 *
 * Guest side (fixtures/guests/lib/harness.inc has nasm macros for it): 32-bit OUTs of EAX to
 *   0xEF00 DONE     0 = pass, anything else = failure code; the story ends
 *   0xEF04 SYNC     a value for the test (64-bit when 0xEF0C latched the high half first)
 *   0xEF08 ASSERT   EAX = guest-linear address of a NUL-terminated message; the story ends failed
 *   0xEF0C VALUE_HI the high 32 bits of the next SYNC
 * plus the platform's debug console (0xE9, text) and isa-debug-exit (0xF4, poweroff with a code).
 * The harness ports are deliberately left unclaimed on the machine: they reach the harness as
 * ordinary `io` exits, exactly as a ucall reaches user space.
 *
 * Memory map (src/boot/plan.ts; the loaders build it):
 *   0x0000_0500  boot GDT: 0x08 code32, 0x10 data, 0x18 code64, 0x20 code16, 0x28 data16
 *   0x0000_1000  identity page tables for the low 4 GiB (2-MiB pages), CR3 = 0x1000
 *   0x0000_7000  initial stack top (protected/long mode); real mode: SP = 0x7C00
 *   0x0000_7C00  real-mode load address (entered at 0000:7C00)
 *   0x0001_0000  protected/long-mode load address
 *   0x0010_0000  free RAM for the test's data
 *   0xC000_0000  MMIO test window: nothing mapped, every access an EPT violation the test can
 *                claim with machine.onMmio (in-process handler, or `mmio` exits)
 */
import { Machine, type MachineOptions, type MachineStop } from './vmm/machine.js';
import type { MachineVcpu } from './vmm/vcpu.js';
import type { VcpuExit } from './cpu/exit.js';
import type { BootMode, BootPlan } from './boot/plan.js';
import { planFlat } from './boot/flat.js';
import { planImage, type LoadImageOptions } from './boot/image.js';
import { applyPlan } from './boot/apply.js';

export const HARNESS_PORTS = { DONE: 0xef00, SYNC: 0xef04, ASSERT: 0xef08, VALUE_HI: 0xef0c } as const;
export const GUEST_MAP = {
  gdt: 0x500,
  pageTables: 0x1000,
  stackTop: 0x7000,
  realModeLoad: 0x7c00,
  load: 0x1_0000,
  freeRam: 0x10_0000,
  mmioWindow: 0xc000_0000,
} as const;

/** One step of the guest's story. */
export type GuestEvent =
  | { kind: 'sync'; value: bigint }
  | { kind: 'done' }
  | { kind: 'fail'; code: number }
  | { kind: 'assert'; message: string }
  | { kind: 'poweroff'; exitCode: number }
  | { kind: 'shutdown' }
  | { kind: 'halted' }
  | { kind: 'budget' }
  | { kind: 'exit'; vcpu: number; exit: VcpuExit };

export interface TestGuestOptions extends Omit<MachineOptions, 'memoryMiB'> {
  /** RAM in MiB (default 4). */
  memoryMiB?: number;
  /** CPU mode for a flat binary (default 'long'). */
  mode?: BootMode;
  loadAddress?: number;
  entry?: number;
  /** Instruction budget of each next() (default 10,000,000). */
  maxInstructions?: number;
}

export class TestGuest {
  readonly machine: Machine;
  readonly plan: BootPlan;
  private readonly budget: number;
  private valueHi = 0;
  private consoleText = '';
  private serialText = '';
  private ended: GuestEvent | null = null;

  private constructor(machine: Machine, plan: BootPlan, budget: number) {
    this.machine = machine;
    this.plan = plan;
    this.budget = budget;
  }

  /** A flat binary (e.g. bytes assembled in the test) loaded and entered in `options.mode`. */
  static flat(code: Uint8Array | number[], options: TestGuestOptions = {}): TestGuest {
    const bytes = code instanceof Uint8Array ? code : Uint8Array.from(code);
    const m = TestGuest.machine(options);
    const plan = planFlat(bytes, { mode: options.mode ?? 'long', loadAddress: options.loadAddress, entry: options.entry });
    applyPlan(m, plan);
    return new TestGuest(m, plan, options.maxInstructions ?? 10_000_000);
  }

  /** A multiboot, ELF or (with a mode) flat image, as the CLI loads it. */
  static image(image: Uint8Array, options: TestGuestOptions & Omit<Partial<LoadImageOptions>, 'ramBytes'> = {}): TestGuest {
    const m = TestGuest.machine(options);
    const plan = planImage(image, { ...options, ramBytes: m.ramBytes });
    applyPlan(m, plan);
    return new TestGuest(m, plan, options.maxInstructions ?? 10_000_000);
  }

  private static machine(options: TestGuestOptions): Machine {
    return new Machine({ ...options, memoryMiB: options.memoryMiB ?? 4 });
  }

  /** vCPU 0. */
  get vcpu(): MachineVcpu {
    return this.machine.vcpus[0]!;
  }

  /** Runs until the guest's next signal or an exit the machine does not handle. */
  next(options: { maxInstructions?: number } = {}): GuestEvent {
    if (this.ended) return this.ended;
    const m = this.machine;
    for (;;) {
      const stop = m.run({ maxInstructions: options.maxInstructions ?? this.budget });
      this.collectOutput();
      const e = this.interpret(stop);
      if (e === null) continue;
      if (e.kind === 'done' || e.kind === 'fail' || e.kind === 'assert' || e.kind === 'poweroff' || e.kind === 'shutdown') this.ended = e;
      return e;
    }
  }

  /** Runs to the end of the story: every sync value and the final event. */
  runToEnd(options: { maxInstructions?: number } = {}): { syncs: bigint[]; end: GuestEvent } {
    const syncs: bigint[] = [];
    for (;;) {
      const e = this.next(options);
      if (e.kind === 'sync') syncs.push(e.value);
      else return { syncs, end: e };
    }
  }

  /** Runs and throws (with the guest's story so far) unless the next event is sync(value). */
  expectSync(value: bigint | number): void {
    const e = this.next();
    if (e.kind !== 'sync' || e.value !== BigInt(value)) {
      throw new Error(`expected sync(${value}), got ${describe(e)}; console: ${JSON.stringify(this.consoleText)}`);
    }
  }

  /** Runs and throws unless the guest reports done (pass). */
  expectDone(): void {
    const e = this.next();
    if (e.kind !== 'done') throw new Error(`expected done, got ${describe(e)}; console: ${JSON.stringify(this.consoleText)}`);
  }

  /** Everything written to the debug console (0xE9) so far. */
  get console(): string {
    this.collectOutput();
    return this.consoleText;
  }

  /** Everything transmitted on COM1 so far. */
  get serial(): string {
    this.collectOutput();
    return this.serialText;
  }

  private collectOutput(): void {
    const m = this.machine;
    if (m.debugcon) this.consoleText += m.debugcon.takeOutputText();
    if (m.uart) this.serialText += new TextDecoder().decode(m.uart.takeOutput());
  }

  /** Turns a machine stop into an event, or null to keep running (a harness port was handled). */
  private interpret(stop: MachineStop): GuestEvent | null {
    switch (stop.kind) {
      case 'budget':
      case 'time':
        return { kind: 'budget' };
      case 'all-halted':
        return { kind: 'halted' };
      case 'suspended':
        if (stop.disposition === 'poweroff') return { kind: 'poweroff', exitCode: stop.exitCode ?? 0 };
        if (stop.disposition === 'triple-fault') return { kind: 'shutdown' };
        return { kind: 'halted' };
      case 'exit': {
        const x = stop.exit;
        if (x.reason === 'shutdown') return { kind: 'shutdown' };
        if (x.reason !== 'io' || x.string || (x.port & 0xfff0) !== 0xef00) return { kind: 'exit', vcpu: stop.vcpu, exit: x };
        if (!x.write) {
          x.value = 0;
          return null;
        }
        const v = x.value >>> 0;
        switch (x.port) {
          case HARNESS_PORTS.DONE:
            return v === 0 ? { kind: 'done' } : { kind: 'fail', code: v };
          case HARNESS_PORTS.SYNC: {
            const value = (BigInt(this.valueHi) << 32n) | BigInt(v);
            this.valueHi = 0;
            return { kind: 'sync', value };
          }
          case HARNESS_PORTS.VALUE_HI:
            this.valueHi = v;
            return null;
          case HARNESS_PORTS.ASSERT:
            return { kind: 'assert', message: this.readString(v) };
          default:
            return { kind: 'exit', vcpu: stop.vcpu, exit: x };
        }
      }
    }
  }

  /** A NUL-terminated string at a guest address (identity-mapped by the loaders), at most 256 bytes. */
  readString(address: number): string {
    const out: number[] = [];
    const b = new Uint8Array(1);
    for (let i = 0; i < 256; i++) {
      if (!this.machine.memory.findMapping(address + i)) break;
      this.machine.memory.read(address + i, b);
      if (b[0] === 0) break;
      out.push(b[0]!);
    }
    return new TextDecoder().decode(Uint8Array.from(out));
  }
}

/** The outcome of a system fixture in the golden files' words (docs/system-fixtures.md). */
export interface SystemFixtureResult {
  /** Everything the guest wrote to port 0xE9. */
  console: string;
  /** `debug-exit 0xVV` (VV = the status byte the guest wrote), `triple-fault`, or what else stopped it. */
  outcome: string;
  machine: Machine;
}

/**
 * Runs a system fixture on the platform of the golden files (fixtures/system, docs/system-fixtures.md):
 * the 64-KiB ROM at 0xFFFF0000 aliased at 0xF0000, 32 MiB RAM, the reset vector F000:FFF0 in real
 * mode, output on port 0xE9, a stop through isa-debug-exit at 0xF4, one vCPU unless asked.
 */
export function runSystemFixture(
  rom: Uint8Array,
  options: { maxInstructions?: number; vcpus?: number; setup?: (machine: Machine) => void } = {},
): SystemFixtureResult {
  const machine = new Machine({ memoryMiB: 32, rom, vcpus: options.vcpus ?? 1 });
  options.setup?.(machine);
  let left = options.maxInstructions ?? 50_000_000;
  let outcome = '';
  while (outcome === '') {
    const stop = machine.run({ maxInstructions: left });
    switch (stop.kind) {
      case 'suspended':
        outcome = stop.disposition === 'poweroff'
          ? `debug-exit 0x${((((stop.exitCode ?? 1) - 1) / 2) & 0xff).toString(16).padStart(2, '0')}`
          : stop.disposition;
        break;
      case 'budget':
      case 'time':
        outcome = 'budget';
        break;
      case 'all-halted':
        outcome = 'halted';
        break;
      case 'exit': {
        const x = stop.exit;
        if (x.reason === 'io' && !x.write) {
          x.value = x.size === 4 ? 0xffff_ffff : x.size === 2 ? 0xffff : 0xff; // an empty ISA bus
          continue;
        }
        if (x.reason === 'io' || (x.reason === 'mmio' && x.write)) continue;
        if (x.reason === 'rdmsr' || x.reason === 'wrmsr') {
          machine.vcpus[stop.vcpu]!.inject({ kind: 'exception', vector: 13, errorCode: 0 });
          continue;
        }
        outcome = x.reason === 'shutdown' ? 'triple-fault' : x.reason === 'invalid-state' ? `invalid-state: ${x.message}` : `exit ${x.reason}`;
        break;
      }
    }
    if (stop.kind === 'budget') left = 0;
  }
  return { console: machine.debugcon ? machine.debugcon.takeOutputText() : '', outcome, machine };
}

/** Splits a golden file into the expected console text and outcome (`@@ exit` without its comment). */
export function parseGolden(text: string): { console: string; outcome: string } {
  const lines = text.split('\n');
  const out: string[] = [];
  let outcome = '';
  for (const l of lines) {
    if (l.startsWith('@@ exit ')) outcome = l.slice(8).replace(/ \(.*\)$/, '');
    else if (!l.startsWith('@@ ') && l !== '') out.push(l);
  }
  return { console: out.length ? out.join('\n') + '\n' : '', outcome };
}

function describe(e: GuestEvent): string {
  if (e.kind === 'exit') return `exit '${e.exit.reason}' at rip 0x${e.exit.ripLo.toString(16)}`;
  return JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

export { Machine } from './vmm/machine.js';
export type { MachineOptions, MachineStop } from './vmm/machine.js';
