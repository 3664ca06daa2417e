/**
 * The Machine: guest memory and its EPT, the vCPUs, the port-I/O and MMIO buses with the devices on
 * them, the virtual clock, and the exit dispatcher (shared/DESIGN.md "The data path", step 4).
 *
 * `machine.run()` is what KVM does in the kernel before returning to user space: it schedules the
 * vCPUs round robin with a quantum of instructions (deterministic, one thread), and for each exit
 * handles in-process whatever it owns:
 *   io       a device or caller handler registered on the port bus (string forms exit per element)
 *   mmio     the MMIO bus
 *   ept-violation  an emulated-A/D fault (resolved, instruction restarted), or an access to a GPA the
 *            MMIO bus owns: completed by the memory assist (assist.ts)
 *   rdmsr/wrmsr    MSRs the machine owns or a caller claimed (msr.ts)
 *   cpuid    leaves configured to pass or mask (cpuid-config.ts)
 *   hlt      the vCPU waits for an interrupt; the clock jumps to the next timer deadline
 *   budget   the quantum ended: next vCPU
 * and returns everything else to the caller as the first unhandled exit, or a stop reason.
 *
 * Lifecycle (bhyve's VM_SUSPEND, seed 001): `suspend(disposition)` makes every vCPU leave the run
 * loop; the disposition (reset, poweroff, halt, triple-fault) is in the stop record. `reset()`
 * returns memory contents untouched and every vCPU to its power-on state.
 */
import { GuestMemory, mapPcMemory } from '../memory/guest-memory.js';
import type { AdMode } from '../memory/ept.js';
import { IoBus, MmioBus, type BusDevice } from '../devices/bus.js';
import { VirtualClock } from '../time/clock.js';
import type { ExitRecord, VcpuExit } from '../cpu/exit.js';
import { decodeInto } from '../cpu/decoder/decode.js';
import { Insn, DecodeStatus } from '../cpu/decoder/insn.js';
import { S_MODE } from '../cpu/state.js';
import type { CpuCore, CorePending } from './core.js';
import { LIN_OK } from './core.js';
import { MachineVcpu } from './vcpu.js';
import { interpreterCore } from './cpu-core.js';
import { MsrModel, type MsrHandler } from './msr.js';
import { ExitStats, type StatsSnapshot } from './stats.js';
import { MemoryAssist, ASSIST_OK, ASSIST_UNSUPPORTED, type AssistMemory } from './assist.js';
import { InvalidArgumentError, InvalidStateError, hex } from '../util/errors.js';
import { IrqChip } from '../devices/irqchip.js';
import { LocalApic, MSR_OK, APIC_DEFAULT_BASE } from '../devices/lapic.js';
import { Pit8254 } from '../devices/pit8254.js';
import { Uart16550, COM1_PORT, COM1_IRQ } from '../devices/uart16550.js';
import { DebugConsole } from '../devices/debugcon.js';
import { DebugExit } from '../devices/debug-exit.js';
import { Hpet } from '../devices/hpet.js';
import { TscModel } from '../time/tsc.js';
import type { TscSource } from '../cpu/system/system.js';

export type SuspendDisposition = 'reset' | 'poweroff' | 'halt' | 'triple-fault';

export interface MachineOptions {
  /** RAM in MiB (default 32), mapped from GPA 0 with the PCI hole at 3 GiB. */
  memoryMiB?: number;
  /** Number of vCPUs (default 1). vCPU 0 is the BSP; the others wait for INIT/SIPI. */
  vcpus?: number;
  /** EPT accessed/dirty mode (default 'hardware'). */
  adMode?: AdMode;
  /** 'virtual' (default; deterministic, time advances with instructions) or 'host'. */
  clock?: 'virtual' | 'host';
  /** Instructions per vCPU turn when several vCPUs run (default 10,000). */
  quantum?: number;
  /**
   * A boot ROM: mapped read-only at 4 GiB - size (the reset vector) and its last 64 KiB (or all
   * of it if smaller) aliased below 1 MiB at 0x100000 - that size, as PC firmware is.
   */
  rom?: Uint8Array;
  /**
   * The built-in PC devices (default all true): the dual 8259 + IOAPIC + one LAPIC per vCPU
   * (`irqchip`), the 8254 PIT, COM1 (16550A at 0x3F8, IRQ 4), the debug console (0xE9), QEMU's
   * isa-debug-exit (0xF4), the HPET at 0xFED00000, and the reset control register at 0xCF9
   * (writing RST_CPU, bit 2, suspends the machine with the `reset` disposition: Intel ICH/PIIX4
   * "Reset Control Register").
   */
  devices?: Partial<Record<'irqchip' | 'pit' | 'uart' | 'debugcon' | 'debugExit' | 'hpet' | 'resetControl', boolean>>;
  /** Serial output (COM1 transmit) as it happens; it is also buffered for `machine.uart.takeOutput()`. */
  onSerialOutput?: (bytes: Uint8Array) => void;
  /** Debug-console output as it happens. */
  onConsoleOutput?: (bytes: Uint8Array) => void;
  /** Called for every exit before the dispatcher looks at it (tracing; keep it cheap). */
  onExit?: (vcpu: number, exit: VcpuExit) => void;
  /** Builds the CPU core of each vCPU; the default is the interpreter (cpu-core.ts). */
  createCore?: (machine: Machine, id: number) => CpuCore;
}

/** A handler for ports or MMIO registered by the caller (onIo/onMmio). Return value of read: the data. */
export interface AccessHandler {
  read?(address: number, size: number): number;
  write?(address: number, size: number, value: number): void;
}

export interface AddressRange {
  base: number;
  length: number;
}

/** Why `machine.run()` returned. */
export type MachineStop =
  | { kind: 'exit'; vcpu: number; exit: VcpuExit }
  | { kind: 'budget'; instructions: number }
  | { kind: 'time'; nowNs: number }
  | { kind: 'all-halted' }
  | { kind: 'suspended'; disposition: SuspendDisposition; exitCode?: number };

/**
 * A machine snapshot: plain data (numbers, strings, arrays, Uint8Arrays), structured-clone-able.
 * Memory holds only the chunks that were ever touched.
 */
export interface MachineState {
  version: 1;
  config: {
    memoryMiB: number;
    vcpus: number;
    adMode: AdMode;
    clock: 'virtual' | 'host';
    quantum: number;
    devices: Record<string, boolean>;
  };
  segments: Array<{ name: string; size: number; kind: 'sysmem' | 'devmem'; chunks: Array<{ offset: number; bytes: Uint8Array }> }>;
  mappings: Array<{ gpa: number; size: number; segment: string; segmentOffset: number; perms: number; memoryType: number; ignorePat: boolean; maxPageSize: number }>;
  vcpus: Array<{
    regs: number[];
    runState: string;
    apicBase: string;
    events: ReturnType<MachineVcpu['events']['save']>;
    cpuid: ReturnType<MachineVcpu['cpuid']['save']>;
    intercepts: { debug: boolean; pause: boolean; tprThreshold: number };
    /** An exit waiting for the caller's value (IN, RDMSR, CPUID) when the snapshot was taken. */
    pending?: CorePending | null;
    /**
     * A caller-MMIO exit the instruction waits on (a read, or a write cut short): the access as the
     * exit reported it, with the caller's value, and the instruction's bytes the assist resumes.
     */
    mmio?: { gpa: number; size: number; write: boolean; value: number; insn: number[] } | null;
    /** The MSRs the core keeps outside the register file (CpuCore.saveMsrs). */
    coreMsrs?: number[];
  }>;
  clock: ReturnType<VirtualClock['saveState']>;
  msrs: Array<[number, string]>;
  devices: Record<string, unknown>;
  suspended: SuspendDisposition | null;
  exitCode: number | null;
  next: number;
}

export interface RunOptions {
  /** Total instruction budget over all vCPUs (default: unlimited). */
  maxInstructions?: number;
  /** Return `hlt` exits to the caller instead of waiting (default false). */
  hltExits?: boolean;
  /** Stop when the virtual clock reaches this time in ns (a `time` stop). */
  untilNs?: number;
}

const PAGE = 4096;
const ASSISTED = 0;
const REPORT = 1;

/** The MMIO bus device standing for a caller-owned range: its accesses become `mmio` exits. */
class CallerMmio implements BusDevice {
  constructor(readonly machine: Machine, readonly base: number) {}
  read(offset: number, size: number): number {
    return this.machine.callerMmioRead(this.base + offset, size);
  }
  write(offset: number, size: number, value: number): void {
    this.machine.callerMmioWrite(this.base + offset, size, value);
  }
}

/**
 * The TSC of vCPU `id` as its core reads it (SDM Vol. 3B §17.17): the machine's TscModel at the
 * virtual time after the instructions the core has run so far in this entry (the clock advances
 * only when the run returns), plus the vCPU's offset, which the LAPIC's TSC-deadline timer follows.
 */
class MachineTsc implements TscSource {
  constructor(readonly machine: Machine, readonly id: number) {}
  ticks(instructions: number): number {
    const c = this.machine.clock;
    return this.machine.tsc.ticksAt(c.mode === 'virtual' ? c.now() + c.instructionsToNs(instructions) : c.now());
  }
  offsetChanged(lo: number, hi: number): void {
    // the offset as a signed number of ticks (exact while |offset| < 2^53)
    const ticks = (hi >= 0x8000_0000 ? hi - 2 ** 32 : hi) * 2 ** 32 + lo;
    this.machine.irqchip?.lapic(this.id).setTscOffset(ticks);
  }
}

/** A caller handler adapted to the bus device interface. */
class HandlerDevice implements BusDevice {
  constructor(readonly base: number, readonly h: AccessHandler) {}
  read(offset: number, size: number): number {
    return this.h.read ? this.h.read(this.base + offset, size) >>> 0 : size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
  }
  write(offset: number, size: number, value: number): void {
    this.h.write?.(this.base + offset, size, value);
  }
}

export class Machine {
  readonly memory: GuestMemory;
  readonly vcpus: MachineVcpu[] = [];
  readonly io = new IoBus();
  readonly mmio = new MmioBus();
  readonly clock: VirtualClock;
  /** The invariant TSC every vCPU reads (plus its offset) and the LAPICs' TSC-deadline mode compares with. */
  readonly tsc: TscModel;
  readonly msrs = new MsrModel();
  readonly ramBytes: number;
  readonly quantum: number;
  private readonly assist = new MemoryAssist();
  private readonly insn = new Insn();
  private readonly bytes = new Uint8Array(16);
  private readonly buf = new Uint32Array(2);
  private suspendedAs: SuspendDisposition | null = null;
  private exitCode: number | undefined;
  private next = 0;
  /** The vCPU whose MMIO access is being dispatched (the assist's, or a core's `mmio` exit). */
  private current: MachineVcpu | null = null;
  /** A caller-MMIO access that needs the caller: set by CallerMmio during an assist. */
  private callerAccess: { gpa: number; size: number; write: boolean; value: number } | null = null;
  /** The value the caller supplied for a pending caller-MMIO read (replayed by the next assist). */
  private callerReply: { gpa: number; size: number; value: number } | null = null;
  private callerWrites = 0;
  /** The assist's instruction is counted as retired (at its first device access). */
  private assistCounted = false;
  /** Instructions the assist completed during the current dispatch (for run()'s budget). */
  private assistRetired = 0;
  /** GPA of an assist access that neither RAM nor a device owns, or -1. */
  private unownedGpa = -1;
  /** The exit came from a resumed assist and goes to the caller without dispatch. */
  private reportDirect = false;
  private readonly pendingMmio: Array<boolean> = [];
  readonly irqchip: IrqChip | null = null;
  readonly pit: Pit8254 | null = null;
  readonly uart: Uart16550 | null = null;
  readonly debugcon: DebugConsole | null = null;
  readonly debugExit: DebugExit | null = null;
  readonly hpet: Hpet | null = null;
  private readonly onExit: ((vcpu: number, exit: VcpuExit) => void) | null;
  private readonly config: MachineState['config'];

  constructor(options: MachineOptions = {}) {
    const mib = options.memoryMiB ?? 32;
    if (!Number.isInteger(mib) || mib < 1 || mib > 1 << 16) throw new InvalidArgumentError(`memoryMiB ${mib} is not an integer from 1 to 65536`);
    const n = options.vcpus ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 255) throw new InvalidArgumentError(`vcpus ${n} is not an integer from 1 to 255`);
    const q = options.quantum ?? 10_000;
    if (!Number.isInteger(q) || q < 1) throw new InvalidArgumentError(`quantum ${q} is not a positive integer`);
    this.quantum = q;
    this.config = {
      memoryMiB: mib,
      vcpus: n,
      adMode: options.adMode ?? 'hardware',
      clock: options.clock ?? 'virtual',
      quantum: q,
      devices: { irqchip: true, pit: true, uart: true, debugcon: true, debugExit: true, hpet: true, resetControl: true, ...options.devices },
    };
    this.onExit = options.onExit ?? null;
    this.ramBytes = mib * 1024 * 1024;
    this.memory = new GuestMemory({ adMode: options.adMode ?? 'hardware' });
    mapPcMemory(this.memory, this.ramBytes);
    this.clock = new VirtualClock({ mode: options.clock ?? 'virtual' });
    this.tsc = new TscModel(this.clock);
    if (options.rom) this.mapRom(options.rom);
    for (let i = 0; i < n; i++) {
      this.vcpus.push(new MachineVcpu(i, (options.createCore ?? interpreterCore)(this, i)));
      this.pendingMmio.push(false);
    }
    const want = (k: keyof NonNullable<MachineOptions['devices']>): boolean => options.devices?.[k] ?? true;
    if (want('irqchip')) {
      const chip = new IrqChip(this.clock, {
        cpus: n,
        wake: (cpu) => this.wake(cpu),
        lapic: { tsc: this.tsc, onBaseChange: (a) => this.apicBaseChanged(a) },
      });
      this.irqchip = chip;
      chip.pic.attach(this.io);
      this.mmio.register(0xfec0_0000, 0x1000, chip.ioapic, 'ioapic');
      this.mmio.register(APIC_DEFAULT_BASE, 0x1000, this.lapicMmio, 'lapic');
    }
    const line = (irq: number) => (this.irqchip ? this.irqchip.isaLine(irq) : { assert() {}, deassert() {}, pulse() {} });
    if (want('pit')) {
      this.pit = new Pit8254(this.clock, line(0));
      this.pit.attach(this.io);
    }
    if (want('uart')) {
      this.uart = new Uart16550(this.clock, line(COM1_IRQ), { onOutput: options.onSerialOutput, name: 'com1' });
      this.uart.attach(this.io, COM1_PORT);
    }
    if (want('debugcon')) {
      this.debugcon = new DebugConsole({ onOutput: options.onConsoleOutput });
      this.debugcon.attach(this.io);
    }
    if (want('debugExit')) {
      this.debugExit = new DebugExit((code) => this.suspend('poweroff', code));
      this.debugExit.attach(this.io);
    }
    if (want('resetControl')) {
      let rcr = 0;
      this.io.register(0xcf9, 1, {
        read: () => rcr,
        write: (_o, _s, v) => {
          rcr = v & 0x0e;
          if (v & 0x04) this.suspend('reset');
        },
      }, 'reset-control');
    }
    if (want('hpet') && this.irqchip) {
      this.hpet = new Hpet(this.clock, { wiring: this.irqchip.hpetWiring() });
      this.mmio.register(0xfed0_0000, 0x400, this.hpet, 'hpet');
    }
    const t = this.tsc;
    const leaves = [t.cpuid15(), t.cpuid16()].flatMap((r) => [r.eax, r.ebx, r.ecx, r.edx]);
    for (const v of this.vcpus) {
      // FERR# (an x87 error with CR0.NE = 0) is wired to IRQ 13 on PC boards (SDM Vol. 1 §8.7.1)
      const chip = this.irqchip;
      v.core.attachPlatform?.({
        apic: chip !== null, tsc: new MachineTsc(this, v.id), tscLeaves: leaves, tpr: chip ? chip.lapic(v.id) : null,
        ferr: chip ? () => chip.pulseIsaIrq(13) : null, logicalProcessors: this.vcpus.length,
      });
      if (this.irqchip) v.apicBaseWriter = (value) => this.writeApicBase(v.id, value);
    }
  }

  /** Guest-physical base of the xAPIC page on the MMIO bus. */
  private apicPage = APIC_DEFAULT_BASE;

  /**
   * A LAPIC's IA32_APIC_BASE changed (WRMSR, or the caller's special registers): the vCPU's copy
   * follows, and the xAPIC page moves to the new base (SDM Vol. 3A §11.4.5). One page serves every
   * vCPU, so it follows the last relocation; a base on another device's range leaves it in place.
   */
  private apicBaseChanged(a: LocalApic): void {
    const chip = this.irqchip!;
    const v = this.vcpus[chip.lapics.indexOf(a)];
    if (v !== undefined) {
      a.readMsr(0x1b);
      v.apicBase = (BigInt(a.msrHi) << 32n) | BigInt(a.msrLo);
      v.touch();
    }
    this.moveApicPage(a.mmioBase);
  }

  private moveApicPage(base: number): void {
    if (base === this.apicPage) return;
    const other = this.mmio.find(base) ?? this.mmio.find(base + 0xfff);
    if (other !== undefined && other.base !== this.apicPage) return;
    try {
      this.mmio.move(this.apicPage, base);
      this.apicPage = base;
    } catch {
      // an overlap with another range: the page stays where it was
    }
  }

  /** The caller set IA32_APIC_BASE through the special registers: the LAPIC decides (false: refused). */
  private writeApicBase(id: number, value: bigint): boolean {
    const lo = Number(value & 0xffff_ffffn);
    const hi = Number((value >> 32n) & 0xffff_ffffn);
    return this.irqchip!.lapic(id).writeMsr(0x1b, lo, hi) === MSR_OK;
  }

  /** The xAPIC page: each vCPU sees its own LAPIC at the same address (SDM Vol. 3A §11.4.1). */
  private readonly lapicMmio: BusDevice = {
    read: (offset, size) => this.apicOf().read(offset, size),
    write: (offset, size, value) => this.apicOf().write(offset, size, value),
  };

  private apicOf(): LocalApic {
    return this.irqchip!.lapic(this.current?.id ?? 0);
  }

  /** An interrupt controller made an event pending for vCPU `cpu`. */
  private wake(cpu: number): void {
    void cpu; // the scheduler polls irqchip.hasPendingEvent for halted vCPUs
  }

  /**
   * Before entering vCPU v: INIT/SIPI/NMI from its LAPIC, and the maskable interrupt the
   * interrupt controllers offer when the guest can take it (bhyve's vlapic pending/accepted
   * handshake). Returns true when an external interrupt waits for RFLAGS.IF.
   */
  private pollInterrupts(v: MachineVcpu): boolean {
    const chip = this.irqchip;
    if (chip === null) return false;
    const apic = chip.lapic(v.id);
    // INIT before a SIPI that arrived in the same interval (SDM Vol. 3A §9.4.4.1's INIT-SIPI-SIPI).
    const init = apic.takeInit();
    const sipi = apic.takeSipi();
    if (init) {
      v.init();
      apic.reset('init');
    }
    if (sipi >= 0) v.sipi(sipi);
    if (apic.takeNmi()) v.events.nmi = true;
    if (v.events.interrupt !== null || !chip.hasInterrupt(v.id)) return false;
    // Blocked by RFLAGS.IF or the STI / MOV SS shadow (SDM Vol. 3A §6.8.3): watch for the boundary.
    if (!v.interruptsEnabled() || v.core.interruptShadow()) return true;
    const vector = chip.acknowledgeInterrupt(v.id);
    if (vector >= 0) v.events.interrupt = { kind: 'interrupt', vector };
    return false;
  }

  /** The EPT of guest memory. */
  get ept() {
    return this.memory.ept;
  }

  private mapRom(rom: Uint8Array): void {
    if (rom.length === 0 || rom.length % PAGE !== 0 || rom.length > 16 << 20) {
      throw new InvalidArgumentError(`ROM size ${hex(rom.length)} must be a non-zero multiple of 0x1000 up to 16 MiB`);
    }
    const seg = this.memory.createSegment('rom', rom.length, { kind: 'devmem' });
    this.memory.map(2 ** 32 - rom.length, seg, 0, rom.length, { prot: 'rx' });
    const alias = Math.min(rom.length, 0x1_0000);
    // The alias replaces the RAM below 1 MiB it covers (the BIOS area of the e820 map).
    if (this.memory.findMapping(0x10_0000 - alias)) this.memory.unmap(0x10_0000 - alias, alias);
    this.memory.map(0x10_0000 - alias, seg, rom.length - alias, alias, { prot: 'rx' });
    // Read/execute for the guest; the host writes the bytes directly (host writes ignore EPT rights).
    this.memory.write(2 ** 32 - rom.length, rom);
  }

  // ---- caller handlers ------------------------------------------------------------------------

  /** Registers a caller handler for ports [base, base+length). */
  onIo(range: AddressRange, handler: AccessHandler, name = 'caller'): void {
    this.io.register(range.base, range.length, new HandlerDevice(range.base, handler), name);
  }

  /**
   * Registers a caller MMIO range. With a handler, accesses are completed in-process through the
   * memory assist; without one, each access is returned from `run()` as an `mmio` exit (a read is
   * completed by storing `exit.value` before the next run).
   */
  onMmio(range: AddressRange, handler?: AccessHandler, name = 'caller'): void {
    const dev = handler ? new HandlerDevice(range.base, handler) : new CallerMmio(this, range.base);
    this.mmio.register(range.base, range.length, dev, name);
  }

  /** Claims MSRs for a caller handler (the MSR filter). */
  onMsr(msrs: readonly number[], handler: MsrHandler): void {
    this.msrs.claim(msrs, handler);
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  /** Suspends the machine: every vCPU leaves the run loop; run() reports the disposition. */
  suspend(disposition: SuspendDisposition, exitCode?: number): void {
    if (this.suspendedAs === null) {
      this.suspendedAs = disposition;
      this.exitCode = exitCode;
    }
  }

  get suspended(): SuspendDisposition | null {
    return this.suspendedAs;
  }

  /** vCPU ids by activity (bhyve's active/suspended sets). */
  get activeVcpus(): number[] {
    return this.vcpus.filter((v) => v.runState === 'active').map((v) => v.id);
  }

  /**
   * Reset: vCPUs to their power-on state (APs wait for SIPI; TSC 0), the LAPICs (IA32_APIC_BASE and
   * the xAPIC page back at FEE00000H), IOAPIC, HPET, 8259 pair, 8254 and COM1 to theirs, suspension
   * cleared, memory kept.
   */
  reset(): void {
    if (this.irqchip) {
      for (const a of this.irqchip.lapics) a.reset('power');
      this.irqchip.ioapic.reset();
      this.moveApicPage(APIC_DEFAULT_BASE);
    }
    for (const v of this.vcpus) {
      if (this.irqchip) {
        const a = this.irqchip.lapic(v.id);
        a.readMsr(0x1b);
        v.apicBase = (BigInt(a.msrHi) << 32n) | BigInt(a.msrLo);
      }
      v.powerOn();
      v.core.resetTsc?.();
      v.core.resetMsrs?.();
    }
    this.hpet?.reset();
    this.uart?.reset();
    this.pit?.reset();
    this.irqchip?.pic.reset();
    this.suspendedAs = null;
    this.exitCode = undefined;
    this.callerAccess = null;
    this.callerReply = null;
    this.pendingMmio.fill(false);
    this.msrs.reset();
  }

  /** Statistics summed over the vCPUs. */
  stats(): StatsSnapshot {
    const s = new ExitStats();
    for (const v of this.vcpus) s.add(v.stats);
    return s.snapshot();
  }

  // ---- the run loop -----------------------------------------------------------------------------

  run(options: RunOptions = {}): MachineStop {
    const limit = options.maxInstructions ?? Infinity;
    if (limit !== Infinity && (!Number.isInteger(limit) || limit < 0)) {
      throw new InvalidArgumentError(`maxInstructions ${limit} is not a non-negative integer`);
    }
    const until = options.untilNs ?? Infinity;
    if (until !== Infinity && (!Number.isFinite(until) || until < 0)) throw new InvalidArgumentError(`untilNs ${until} is not a time in ns`);
    let done = 0;
    const n = this.vcpus.length;
    for (;;) {
      if (this.suspendedAs !== null) return { kind: 'suspended', disposition: this.suspendedAs, exitCode: this.exitCode };
      if (done >= limit) return { kind: 'budget', instructions: done };
      if (until !== Infinity && this.clock.now() >= until) return { kind: 'time', nowNs: this.clock.now() };
      // Round robin: the next vCPU that can run.
      let v: MachineVcpu | null = null;
      for (let k = 0; k < n; k++) {
        const c = this.vcpus[(this.next + k) % n]!;
        if (c.runState === 'wait-for-sipi' && this.irqchip !== null && this.irqchip.lapic(c.id).hasPendingEvent()) this.pollInterrupts(c);
        if (c.runState === 'active' || (c.runState === 'halted' && this.canWake(c))) {
          v = c;
          this.next = (this.next + k + 1) % n;
          break;
        }
      }
      if (v === null) {
        if (this.vcpus.every((c) => c.runState === 'shutdown')) {
          this.suspend('triple-fault');
          continue;
        }
        const deadline = this.clock.nextDeadline();
        if (deadline > until && until !== Infinity) {
          this.clock.advanceTo(Math.max(this.clock.now(), Math.ceil(until)));
          continue;
        }
        if (deadline !== Infinity && this.vcpus.some((c) => c.runState === 'halted')) {
          this.clock.advanceTo(deadline);
          continue;
        }
        return { kind: 'all-halted' };
      }
      // The slice ends at the quantum, the budget, or the next timer deadline (so a timer fires at
      // its exact instruction in virtual time).
      const untilTimer = this.clock.instructionsUntil(Math.min(this.clock.nextDeadline(), until));
      const slice = Math.max(1, Math.min(n > 1 ? this.quantum : 1_000_000, limit - done, untilTimer));
      // An external interrupt the guest cannot take yet ends the run at the interrupt window.
      const blocked = this.pollInterrupts(v);
      this.reportDirect = false;
      const exit = this.enterVcpu(v, slice, blocked);
      done += exit.instructions;
      this.clock.retire(exit.instructions);
      if (this.onExit !== null) this.onExit(v.id, exit.view);
      const handled = !this.reportDirect && this.dispatch(v, exit, options);
      done += this.assistRetired;
      this.assistRetired = 0;
      v.stats.count(exit.reason, handled);
      if (!handled) return { kind: 'exit', vcpu: v.id, exit: exit.view };
    }
  }

  /** Whether a halted vCPU has something to wake it (a pending injectable event). */
  private canWake(v: MachineVcpu): boolean {
    const q = v.events;
    if (q.exception !== null || q.nmi || (q.interrupt !== null && v.interruptsEnabled())) return true;
    const chip = this.irqchip;
    if (chip === null) return false;
    if (chip.lapic(v.id).hasPendingEvent() && !chip.hasInterrupt(v.id)) return true; // NMI/INIT/SIPI
    return chip.hasInterrupt(v.id) && v.interruptsEnabled();
  }

  private enterVcpu(v: MachineVcpu, slice: number, externalPending: boolean): ExitRecord {
    if (this.pendingMmio[v.id]) {
      // Finish the instruction a caller-MMIO exit interrupted, with the caller's value.
      this.pendingMmio[v.id] = false;
      const exit = v.core.exit;
      if (!exit.write) this.callerReply = { gpa: exit.gpaLo + exit.gpaHi * 2 ** 32, size: exit.size, value: exit.value };
      const r = this.runAssist(v, true);
      this.callerReply = null;
      if (r !== ASSISTED) {
        this.reportDirect = true;
        return v.core.exit;
      }
    }
    return v.enter(slice, externalPending);
  }

  /**
   * Handles an exit in-process when something here owns it; returns false to give it to the caller.
   */
  private dispatch(v: MachineVcpu, exit: ExitRecord, options: RunOptions): boolean {
    switch (exit.reason) {
      case 'budget':
        return true;
      case 'interrupt-window':
      case 'nmi-window':
        return v.internalWindow;
      case 'io':
        if (exit.write) return this.io.dispatchWrite(exit.port, exit.size, exit.value);
        if (!this.io.dispatchRead(exit.port, exit.size)) return false;
        exit.value = this.io.value;
        return true;
      case 'mmio': {
        // The xAPIC page answers for the vCPU that made the access (apicOf).
        this.current = v;
        const r = this.mmioExit(exit);
        this.current = null;
        return r;
      }
      case 'ept-violation':
        return this.eptViolation(v, exit);
      case 'rdmsr': {
        if (this.irqchip && LocalApic.ownsMsr(exit.msr)) {
          const apic = this.irqchip.lapic(v.id);
          if (apic.readMsr(exit.msr) !== MSR_OK) return this.gp(v);
          exit.valueLo = apic.msrLo;
          exit.valueHi = apic.msrHi;
          return true;
        }
        const val = this.msrs.read(exit.msr);
        if (val === undefined) return false;
        exit.valueLo = Number(val & 0xffff_ffffn);
        exit.valueHi = Number(val >> 32n);
        return true;
      }
      case 'wrmsr':
        if (this.irqchip && LocalApic.ownsMsr(exit.msr)) {
          if (this.irqchip.lapic(v.id).writeMsr(exit.msr, exit.valueLo, exit.valueHi) !== MSR_OK) return this.gp(v);
          return true;
        }
        return this.msrs.write(exit.msr, (BigInt(exit.valueHi >>> 0) << 32n) | BigInt(exit.valueLo >>> 0));
      case 'cpuid': {
        const regs = { eax: exit.eax, ebx: exit.ebx, ecx: exit.ecx, edx: exit.edx };
        if (v.cpuid.apply(exit.leaf, exit.subleaf, regs) === 'exit') return false;
        exit.eax = regs.eax;
        exit.ebx = regs.ebx;
        exit.ecx = regs.ecx;
        exit.edx = regs.edx;
        return true;
      }
      case 'hlt':
        return !options.hltExits;
      case 'shutdown':
        if (this.vcpus.length === 1) this.suspend('triple-fault');
        return false;
      case 'exception':
        // The core raised an exception it does not deliver itself: the monitor delivers it
        // through the guest's IDT on the next entry (nested cases resolved by the event queue).
        if (v.undeliverable) return false;
        if (v.intercepts.debug && (exit.vector === 1 || exit.vector === 3)) {
          exit.reason = 'debug';
          return false;
        }
        if (exit.vector === 14) v.setCr2(exit.cr2Lo, exit.cr2Hi);
        v.events.raiseException(exit.vector, exit.hasErrorCode ? exit.errorCode : undefined);
        return true;
      default:
        return false;
    }
  }

  /** An `mmio` exit a core reported itself: the MMIO bus completes it when a device owns the GPA. */
  private mmioExit(exit: ExitRecord): boolean {
    const gpa = exit.gpaLo + exit.gpaHi * 2 ** 32;
    if (exit.write) {
      if (exit.size === 8) {
        if (!this.mmio.find(gpa)) return false;
        this.mmio.dispatchWrite(gpa, 4, exit.value);
        return this.mmio.dispatchWrite(gpa + 4, 4, exit.valueHi);
      }
      return this.mmio.dispatchWrite(gpa, exit.size, exit.value);
    }
    if (!this.mmio.dispatchRead(gpa, exit.size)) return false;
    exit.value = this.mmio.valueLo;
    exit.valueHi = this.mmio.valueHi;
    return true;
  }

  /** Injects #GP(0) for an access the owner refused (the instruction does not complete). */
  private gp(v: MachineVcpu): boolean {
    v.inject({ kind: 'exception', vector: 13, errorCode: 0 });
    return true;
  }

  /** EPT violation: A/D emulation, or MMIO through the assist; anything else goes to the caller. */
  private eptViolation(v: MachineVcpu, exit: ExitRecord): boolean {
    const gpa = exit.gpaLo + exit.gpaHi * 2 ** 32;
    if (this.memory.ept.adMode === 'emulated' && this.memory.ept.resolveEmulatedAD(gpa, (exit.qualification & 2) !== 0)) {
      v.stats.adFaults++;
      return true;
    }
    if (!this.mmio.find(gpa)) return false;
    return this.runAssist(v) === ASSISTED;
  }

  /**
   * Runs the memory assist for vCPU v's current instruction (decoded from the exit's bytes).
   * ASSISTED: the instruction completed, or a #PF was queued for it. REPORT: the exit record now
   * describes what the caller must see (an `mmio` exit for a caller range, or an `ept-violation`
   * for a GPA nobody owns), or is the original exit because the assist cannot emulate it.
   */
  private runAssist(v: MachineVcpu, resumed = false): number {
    const core = v.core;
    const exit = core.exit;
    const len = exit.insnLength;
    this.bytes.set(exit.insnBytes.subarray(0, len));
    const mode = core.u32[S_MODE]! || 64;
    if (len === 0 || decodeInto(this.insn, this.bytes, 0, len, mode) !== DecodeStatus.Ok) return REPORT;
    this.current = v;
    this.callerAccess = null;
    this.callerWrites = 0;
    this.unownedGpa = -1;
    // A resumed instruction (the caller supplied an MMIO value) was counted when it first ran.
    this.assistCounted = resumed;
    const r = this.assist.emulate(this.insn, core.u32, this.assistMemory);
    this.current = null;
    if (r === ASSIST_UNSUPPORTED) return REPORT;
    v.registersChanged();
    v.stats.mmioAssists++;
    if (this.unownedGpa >= 0) {
      // A piece of the access fell on a GPA with neither RAM nor a device: an EPT violation.
      exit.reason = 'ept-violation';
      exit.gpaLo = this.unownedGpa >>> 0;
      exit.gpaHi = Math.floor(this.unownedGpa / 2 ** 32);
      return REPORT;
    }
    const ca = this.callerAccess as { gpa: number; size: number; write: boolean; value: number } | null;
    if (ca !== null) {
      // Report the caller-MMIO access as an `mmio` exit; a read (or a write cut short) resumes the
      // instruction on the next entry.
      exit.reason = 'mmio';
      exit.gpaLo = ca.gpa >>> 0;
      exit.gpaHi = Math.floor(ca.gpa / 2 ** 32);
      exit.size = ca.size;
      exit.write = ca.write;
      exit.value = ca.value;
      exit.valueHi = 0;
      this.pendingMmio[v.id] = r !== ASSIST_OK;
      return REPORT;
    }
    return ASSISTED;
  }

  /** The assist's view of guest-linear memory: split at pages, RAM or MMIO per piece. */
  private readonly assistMemory: AssistMemory = {
    readLinear: (lo, hi, size, buf) => this.linearAccess(lo, hi, size, buf, false),
    writeLinear: (lo, hi, size, buf) => this.linearAccess(lo, hi, size, buf, true),
  };

  private linearAccess(lo: number, hi: number, size: number, buf: Uint32Array, write: boolean): boolean {
    const v = this.current!;
    const inPage = PAGE - (lo & (PAGE - 1));
    if (size <= inPage) return this.physAccess(v, lo, hi, size, buf, write, 0);
    // Page-crossing: byte by byte, each byte translated on its own page (nvmm_assist_mem splits too).
    const b = this.buf;
    let vlo = 0;
    let vhi = 0;
    if (write) {
      vlo = buf[0]!;
      vhi = buf[1]!;
    }
    let rlo = 0;
    let rhi = 0;
    for (let i = 0; i < size; i++) {
      const a = lo + i;
      const alo = a >>> 0;
      const ahi = (hi + (a >= 2 ** 32 ? 1 : 0)) >>> 0;
      if (write) b[0] = i < 4 ? (vlo >>> (8 * i)) & 0xff : (vhi >>> (8 * (i - 4))) & 0xff;
      if (!this.physAccess(v, alo, ahi, 1, b, write, i)) return false;
      if (!write) {
        if (i < 4) rlo |= (b[0]! & 0xff) << (8 * i);
        else rhi |= (b[0]! & 0xff) << (8 * (i - 4));
      }
    }
    if (!write) {
      buf[0] = rlo >>> 0;
      buf[1] = rhi >>> 0;
    }
    return true;
  }

  private physAccess(v: MachineVcpu, lo: number, hi: number, size: number, buf: Uint32Array, write: boolean, _part: number): boolean {
    const core = v.core;
    if (core.translateLinear(lo, hi, write) !== LIN_OK) {
      v.raisePageFault(lo, hi, core.faultErrorCode);
      return false;
    }
    const gpa = core.gpa;
    if (core.hostChunk >= 0) {
      // RAM (the piece lies within one page, so within one chunk).
      const host = this.memory.host;
      const bytes = host.ensureChunk(core.hostChunk);
      const o = core.hostOffset;
      if (write) {
        for (let i = 0; i < size; i++) bytes[o + i] = (i < 4 ? buf[0]! >>> (8 * i) : buf[1]! >>> (8 * (i - 4))) & 0xff;
        // Written behind the cores' backs: decoded code on that page is stale in every vCPU.
        const ppn = Math.floor((core.hostChunk * host.chunkSize + o) / PAGE);
        for (const c of this.vcpus) c.core.codeWritten?.(ppn);
      } else {
        let lo = 0;
        let hi = 0;
        for (let i = 0; i < size; i++) {
          if (i < 4) lo |= bytes[o + i]! << (8 * i);
          else hi |= bytes[o + i]! << (8 * (i - 4));
        }
        buf[0] = lo >>> 0;
        buf[1] = hi >>> 0;
      }
      return true;
    }
    if (!this.mmio.find(gpa)) {
      this.unownedGpa = gpa;
      return false;
    }
    if (!this.assistCounted) {
      // The instruction retires before its device access, as an OUT is dispatched after it
      // retires: the device sees the time that includes it.
      this.assistCounted = true;
      this.clock.retire(1);
      v.stats.instructions++;
      this.assistRetired++;
    }
    if (write) {
      if (size === 8) {
        this.mmio.dispatchWrite(gpa, 4, buf[0]!);
        this.mmio.dispatchWrite(gpa + 4, 4, buf[1]!);
      } else this.mmio.dispatchWrite(gpa, size, buf[0]!);
      // A second write to a caller range in one instruction (REP STOS/MOVS) stops the instruction
      // there; it resumes after the caller has seen the first.
      return this.callerAccess === null || this.callerWrites <= 1;
    }
    this.mmio.dispatchRead(gpa, size);
    if (this.callerAccess !== null && !this.callerAccess.write) return false; // needs the caller's value
    buf[0] = this.mmio.valueLo;
    buf[1] = this.mmio.valueHi;
    return true;
  }


  /** CallerMmio read: the replayed value, or a request for the caller. */
  callerMmioRead(gpa: number, size: number): number {
    const r = this.callerReply;
    if (r !== null && r.gpa === gpa && r.size === size) {
      this.callerReply = null;
      return r.value;
    }
    if (this.callerAccess === null) this.callerAccess = { gpa, size, write: false, value: 0 };
    return 0;
  }

  callerMmioWrite(gpa: number, size: number, value: number): void {
    this.callerWrites++;
    if (this.callerAccess === null) this.callerAccess = { gpa, size, write: true, value };
  }

  // ---- snapshots ----------------------------------------------------------------------------------

  /**
   * Saves CPU, memory and device state between runs. An IN, RDMSR, CPUID or caller-MMIO exit
   * waiting for its value is saved with the value the exit record holds at the time (store it
   * before saving); the restored machine completes the instruction with it.
   * Not saved: caller handlers (onIo/onMmio/onMsr: register them again on the restored machine),
   * EPT accessed/dirty bits and the dirty log (guest-invisible), statistics.
   */
  saveState(): MachineState {
    const host = this.memory.host;
    const segments = host.segments.map((seg) => {
      const chunks: Array<{ offset: number; bytes: Uint8Array }> = [];
      for (let off = 0; off < seg.size; off += host.chunkSize) {
        const id = host.chunkOf(seg.hostBase + off);
        if (host.isAllocated(id)) chunks.push({ offset: off, bytes: host.chunks[id]!.slice() });
      }
      return { name: seg.name, size: seg.size, kind: seg.kind, chunks };
    });
    const mappings = this.memory.mappings.map((m) => ({
      gpa: m.gpa, size: m.size, segment: m.segment.name, segmentOffset: m.segmentOffset, perms: m.perms,
      memoryType: m.memoryType, ignorePat: m.ignorePat, maxPageSize: m.maxPageSize,
    }));
    const devices: Record<string, unknown> = {};
    if (this.irqchip) devices.irqchip = this.irqchip.saveState();
    if (this.pit) devices.pit = this.pit.saveState();
    if (this.uart) devices.uart = this.uart.saveState();
    if (this.debugExit) devices.debugExit = this.debugExit.saveState();
    if (this.hpet) devices.hpet = this.hpet.saveState();
    return structuredClone({
      version: 1 as const,
      config: { ...this.config },
      segments,
      mappings,
      vcpus: this.vcpus.map((v) => ({
        regs: Array.from(v.core.u32),
        runState: v.runState,
        apicBase: v.apicBase.toString(16),
        events: v.events.save(),
        cpuid: v.cpuid.save(),
        intercepts: { ...v.intercepts },
        pending: v.core.savePending?.() ?? null,
        mmio: this.pendingMmio[v.id] ? this.saveMmioExit(v.core.exit) : null,
        ...(v.core.saveMsrs ? { coreMsrs: v.core.saveMsrs() } : {}),
      })),
      clock: this.clock.saveState(),
      msrs: this.msrs.save(),
      devices,
      suspended: this.suspendedAs,
      exitCode: this.exitCode ?? null,
      next: this.next,
    });
  }

  /**
   * Builds a machine from a snapshot. `options` may add what a snapshot cannot hold (output
   * callbacks, onExit, a core factory); the machine's shape comes from the snapshot.
   */
  static restoreState(state: MachineState, options: Pick<MachineOptions, 'onSerialOutput' | 'onConsoleOutput' | 'onExit' | 'createCore'> = {}): Machine {
    if (!state || state.version !== 1) throw new InvalidArgumentError(`snapshot version ${(state as { version?: unknown })?.version} is not 1`);
    const c = state.config;
    const m = new Machine({ ...options, memoryMiB: c.memoryMiB, vcpus: c.vcpus, adMode: c.adMode, clock: c.clock, quantum: c.quantum, devices: c.devices });
    const host = m.memory.host;
    for (const mp of m.memory.mappings) m.memory.unmap(mp.gpa, mp.size);
    for (const s of state.segments) {
      const seg = host.segments.find((x) => x.name === s.name) ?? m.memory.createSegment(s.name, s.size, { kind: s.kind });
      if (seg.size !== s.size) throw new InvalidArgumentError(`snapshot segment "${s.name}" has size ${hex(s.size)}, the machine's has ${hex(seg.size)}`);
      for (const ch of s.chunks) host.writeHost(seg.hostBase + ch.offset, ch.bytes, 0, ch.bytes.length);
    }
    for (const mp of state.mappings) {
      m.memory.map(mp.gpa, mp.segment, mp.segmentOffset, mp.size, {
        prot: mp.perms, memoryType: mp.memoryType, ignorePat: mp.ignorePat, maxPageSize: mp.maxPageSize,
      });
    }
    m.clock.restoreState(state.clock);
    state.vcpus.forEach((sv, i) => {
      const v = m.vcpus[i]!;
      v.core.u32.set(sv.regs);
      v.runState = sv.runState as MachineVcpu['runState'];
      v.apicBase = BigInt('0x' + sv.apicBase);
      v.events.restore(sv.events);
      v.cpuid.restore(sv.cpuid);
      v.setIntercepts(sv.intercepts);
      v.touch();
      v.core.flush();
      if (sv.pending) {
        if (!v.core.restorePending) throw new InvalidArgumentError(`snapshot vCPU ${i} has a pending ${sv.pending.reason} completion this core cannot take`);
        v.core.restorePending(sv.pending);
      }
      if (sv.coreMsrs && !(v.core.restoreMsrs?.(sv.coreMsrs) ?? false)) {
        throw new InvalidArgumentError(`snapshot vCPU ${i} has ${Array.isArray(sv.coreMsrs) ? sv.coreMsrs.length : 'no'} core MSR values this core cannot take`);
      }
      if (sv.mmio) {
        m.restoreMmioExit(i, v.core.exit, sv.mmio);
        m.pendingMmio[i] = true;
      }
    });
    m.msrs.restore(state.msrs);
    const d = state.devices as Record<string, never>;
    if (m.irqchip && d.irqchip) {
      m.irqchip.restoreState(d.irqchip);
      m.moveApicPage(m.irqchip.lapic(0).mmioBase);
    }
    if (m.pit && d.pit) m.pit.restoreState(d.pit);
    if (m.uart && d.uart) m.uart.restoreState(d.uart);
    if (m.debugExit && d.debugExit) m.debugExit.restoreState(d.debugExit);
    if (m.hpet && d.hpet) m.hpet.restoreState(d.hpet);
    m.suspendedAs = state.suspended;
    m.exitCode = state.exitCode ?? undefined;
    m.next = state.next;
    return m;
  }

  private saveMmioExit(exit: ExitRecord): { gpa: number; size: number; write: boolean; value: number; insn: number[] } {
    return {
      gpa: exit.gpaLo + exit.gpaHi * 2 ** 32, size: exit.size, write: exit.write, value: exit.value >>> 0,
      insn: Array.from(exit.insnBytes.subarray(0, exit.insnLength)),
    };
  }

  /** Puts a saved caller-MMIO exit back into a core's exit record (validated first: a failed restore throws). */
  private restoreMmioExit(i: number, exit: ExitRecord, p: { gpa: number; size: number; write: boolean; value: number; insn: number[] }): void {
    const byte = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 255;
    if (!Number.isInteger(p.gpa) || p.gpa < 0 || p.gpa >= 2 ** 52 || ![1, 2, 4, 8].includes(p.size) || typeof p.write !== 'boolean' ||
        !Number.isInteger(p.value) || p.value < 0 || p.value > 0xffff_ffff || !Array.isArray(p.insn) || p.insn.length < 1 || p.insn.length > 15 || !p.insn.every(byte)) {
      throw new InvalidArgumentError(`snapshot vCPU ${i} has a malformed MMIO completion (gpa ${hex(p.gpa)}, size ${p.size}, ${Array.isArray(p.insn) ? p.insn.length : 'no'} instruction bytes)`);
    }
    exit.reason = 'mmio';
    exit.gpaLo = p.gpa >>> 0;
    exit.gpaHi = Math.floor(p.gpa / 2 ** 32);
    exit.size = p.size;
    exit.write = p.write;
    exit.value = p.value;
    exit.valueHi = 0;
    exit.insnBytes.fill(0);
    exit.insnBytes.set(p.insn);
    exit.insnLength = p.insn.length;
  }

  /** Throws unless the machine can run (used by loaders and the harness). */
  checkRunnable(): void {
    if (this.suspendedAs !== null) throw new InvalidStateError(`machine is suspended (${this.suspendedAs}); reset() it first`);
  }
}
