/**
 * A vCPU as the monitor's API shows it (KVM's vcpu fd, NVMM's nvmm_vcpu): state get/set as records
 * with a cached/dirty scheme (NVMM's comm page, seed 004), event injection (events.ts), per-leaf
 * CPUID configuration, intercepts, and `run()`, which enters the core once and returns its exit
 * unfiltered (the machine's dispatcher is `Machine.run`).
 *
 * Cached/dirty: a record read after an exit is built once and cached until the vCPU runs again, so
 * repeated gets cost nothing; a set validates and writes the register file at once and marks the
 * state dirty, and the core re-derives its mode/paging caches once, at the next entry. A set of a
 * record equal to the cached one is a no-op.
 *
 * Run states follow the SDM's activity states (Vol. 3C §24.4.2): active, HLT, wait-for-SIPI, plus
 * shutdown after a triple fault.
 */
import type { CpuCore } from './core.js';
import { DELIVERED, NO_DELIVERY, EV_EXCEPTION, EV_INTERRUPT, EV_NMI, EV_SOFTWARE } from './core.js';
import { DELIVERY_EPT_EXIT, DELIVERY_SHUTDOWN } from './core.js';
import type { ExitRecord, VcpuExit } from '../cpu/exit.js';
import { EventQueue, type VcpuEvent, type EventKind, VEC } from './events.js';
import { CpuidConfig, type CpuidLeafConfig } from './cpuid-config.js';
import { ExitStats } from './stats.js';
import type { DebugRegisters, FpuState, Registers, SpecialRegisters } from './records.js';
import {
  readRegisters, writeRegisters, readSpecialRegisters, writeSpecialRegisters, readDebugRegisters, writeDebugRegisters,
  readFpuState, writeFpuState, writeFpuPowerOn,
} from './state-io.js';
import { powerOnDebugRegisters, powerOnRegisters, powerOnSpecialRegisters, realModeSegment } from './power-on.js';
import { S_RFLAGS, IF, TF, S_CR2, S_CR0, S_CR4, S_EFER, EFER_LMA, EFER_LME, S_SEG, SEG_STRIDE, SEG_ATTR, CS, ATTR_UNUSABLE, ATTR_L, ATTR_DB, VM, S_FPR, S_XMM, XMM_STRIDE } from '../cpu/state.js';
import { getFlags } from '../cpu/flags.js';
import { InvalidArgumentError, InvalidStateError, hex } from '../util/errors.js';

export type VcpuRunState = 'active' | 'halted' | 'wait-for-sipi' | 'shutdown';

/** Which events make `run()` return to the caller instead of being handled by the guest. */
export interface Intercepts {
  /** #DB and #BP become `debug` exits (KVM_GUESTDBG). */
  debug: boolean;
  /** PAUSE becomes a `pause` exit. */
  pause: boolean;
  /** A change of CR8 below the threshold becomes `tpr-below-threshold` (NVMM's TPR exit). */
  tprThreshold: number;
}

const KIND_ID: Record<EventKind, number> = {
  exception: EV_EXCEPTION, nmi: EV_NMI, interrupt: EV_INTERRUPT, 'software-interrupt': EV_SOFTWARE,
};

export interface VcpuRunOptions {
  /** Instruction budget of this entry (default 1,000,000). */
  maxInstructions?: number;
}

export class MachineVcpu {
  readonly events = new EventQueue();
  readonly cpuid = new CpuidConfig();
  readonly stats = new ExitStats();
  private readonly intercepts_: Intercepts = { debug: false, pause: false, tprThreshold: -1 };
  private configDirty = true;
  runState: VcpuRunState;
  /** IA32_APIC_BASE (the LAPIC owns the behaviour; the vCPU keeps the MSR value). */
  apicBase: bigint;
  /** Set by a Machine with a LAPIC: a caller's IA32_APIC_BASE change goes to it (false: refused). */
  apicBaseWriter: ((value: bigint) => boolean) | null = null;
  private cachedRegs: Registers | null = null;
  private cachedSregs: SpecialRegisters | null = null;
  private cachedDregs: DebugRegisters | null = null;
  private cachedFpu: FpuState | null = null;
  private dirty = true;
  /** The last exit is an `exception` exit for an event the core could not deliver. */
  undeliverable = false;
  /**
   * The last exit is a window exit the monitor asked for itself (an event waiting to be injected):
   * Machine.run handles it; a raw run() returns it, and the next run() injects the event.
   */
  internalWindow = false;

  constructor(
    readonly id: number,
    readonly core: CpuCore,
  ) {
    this.apicBase = 0xfee0_0800n | (id === 0 ? 0x100n : 0n);
    this.runState = id === 0 ? 'active' : 'wait-for-sipi';
    this.powerOn();
  }

  /** The architectural RESET state (SDM Vol. 3A Table 9-1); APs go to wait-for-SIPI. */
  powerOn(): void {
    const sregs = powerOnSpecialRegisters();
    sregs.apicBase = this.apicBase;
    this.core.u32.fill(0);
    writeFpuPowerOn(this.core.u32);
    writeRegisters(this.core.u32, powerOnRegisters());
    writeSpecialRegisters(this.core.u32, sregs);
    writeDebugRegisters(this.core.u32, powerOnDebugRegisters());
    this.events.restore(new EventQueue().save());
    this.runState = this.id === 0 ? 'active' : 'wait-for-sipi';
    this.touch();
  }

  /** INIT (SDM Vol. 3A §9.4): the RESET register state, then wait-for-SIPI (the BSP stays active). */
  init(): void {
    const bsp = this.id === 0;
    // INIT leaves the x87, MMX and SSE state alone (SDM Vol. 3A §9.1, Table 9-1 "INIT: unchanged")
    const u = this.core.u32;
    const fpu = u.slice(S_FPR, S_XMM + 16 * XMM_STRIDE);
    this.powerOn();
    u.set(fpu, S_FPR);
    this.runState = bsp ? 'active' : 'wait-for-sipi';
  }

  /**
   * Start-up IPI (SDM Vol. 3A §9.4.3): a vCPU in wait-for-SIPI starts in real mode at
   * vector:0000 (CS.selector = vector << 8, CS.base = vector << 12). Ignored in other states.
   */
  sipi(vector: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new InvalidArgumentError(`SIPI vector ${vector} is outside 0-255`);
    if (this.runState !== 'wait-for-sipi') return;
    const sregs = this.getSpecialRegisters();
    sregs.cs = realModeSegment(vector << 8, 0xb);
    this.setSpecialRegisters({ ...sregs });
    const regs = this.getRegisters();
    this.setRegisters({ ...regs, rip: 0n });
    this.runState = 'active';
  }

  // ---- state records ---------------------------------------------------------------------------

  getRegisters(): Registers {
    return (this.cachedRegs ??= readRegisters(this.core.u32));
  }

  setRegisters(r: Registers): void {
    if (r === this.cachedRegs) return;
    writeRegisters(this.core.u32, r);
    this.cachedRegs = null;
    this.touch();
  }

  getSpecialRegisters(): SpecialRegisters {
    return (this.cachedSregs ??= readSpecialRegisters(this.core.u32, this.apicBase));
  }

  setSpecialRegisters(s: SpecialRegisters): void {
    if (s === this.cachedSregs) return;
    if (s.apicBase !== this.apicBase && this.apicBaseWriter !== null && !this.apicBaseWriter(s.apicBase)) {
      throw new InvalidArgumentError(`apicBase ${hex(s.apicBase)} is refused by the LAPIC (reserved bits or an invalid mode transition, SDM Vol. 3A §11.12.5)`);
    }
    writeSpecialRegisters(this.core.u32, s);
    this.apicBase = s.apicBase;
    this.cachedSregs = null;
    this.touch();
  }

  getDebugRegisters(): DebugRegisters {
    return (this.cachedDregs ??= readDebugRegisters(this.core.u32));
  }

  setDebugRegisters(d: DebugRegisters): void {
    if (d === this.cachedDregs) return;
    writeDebugRegisters(this.core.u32, d);
    this.cachedDregs = null;
    this.touch();
  }

  /** x87, MMX and SSE state (the FXSAVE contents; records.ts FpuState). */
  getFpuState(): FpuState {
    return (this.cachedFpu ??= readFpuState(this.core.u32));
  }

  setFpuState(f: FpuState): void {
    if (f === this.cachedFpu) return;
    writeFpuState(this.core.u32, f);
    this.cachedFpu = null;
    this.touch();
  }

  /**
   * The monitor's memory assist changed general registers, RIP or the status flags only: the
   * cached records are dropped, but nothing the core derives from the register file (mode, CPL,
   * paging, soft TLB) changed, so the next entry does not re-derive it (a full `touch` per MMIO
   * access cost more than the access).
   */
  registersChanged(): void {
    this.cachedRegs = null;
  }

  /** Marks the register file changed by the monitor: caches dropped, core re-derives at entry. */
  touch(): void {
    this.dirty = true;
    this.cachedRegs = null;
    this.cachedSregs = null;
    this.cachedDregs = null;
    this.cachedFpu = null;
  }

  // ---- configuration ---------------------------------------------------------------------------

  configureCpuid(c: CpuidLeafConfig): void {
    this.cpuid.configure(c);
    this.configDirty = true;
  }

  /** The intercepts in force (a copy; change them with setIntercepts). */
  get intercepts(): Readonly<Intercepts> {
    return this.intercepts_;
  }

  setIntercepts(i: Partial<Intercepts>): void {
    if (i.tprThreshold !== undefined && (!Number.isInteger(i.tprThreshold) || i.tprThreshold < -1 || i.tprThreshold > 15)) {
      throw new InvalidArgumentError(`tprThreshold ${i.tprThreshold} is not -1 (off) or 0-15`);
    }
    Object.assign(this.intercepts_, i);
    this.configDirty = true;
  }

  /** Queues an event (exception, NMI, maskable or software interrupt); see events.ts for ordering. */
  inject(e: VcpuEvent): void {
    if (this.runState === 'shutdown') throw new InvalidStateError(`vCPU ${this.id} is shut down (triple fault); reset the machine`);
    this.events.inject(e);
    if (e.kind === 'exception') this.core.abortExit?.();
    if (this.runState === 'halted' && (e.kind !== 'interrupt' || this.interruptsEnabled())) this.runState = 'active';
  }

  /** Asks for an `interrupt-window` exit as soon as the guest can take a maskable interrupt. */
  requestInterruptWindow(on = true): void {
    this.events.wantInterruptWindow = on;
  }

  requestNmiWindow(on = true): void {
    this.events.wantNmiWindow = on;
  }

  interruptsEnabled(): boolean {
    // IF is never lazy: the RFLAGS slot holds it (src/cpu/state.ts).
    return (this.core.u32[S_RFLAGS]! & IF) !== 0;
  }

  // ---- running ---------------------------------------------------------------------------------

  /**
   * Enters the guest once: commits dirty state, injects the next event (or produces a window
   * exit), runs the core, and returns its exit record (reused: read it before the next run).
   */
  run(options: VcpuRunOptions = {}): VcpuExit {
    const max = options.maxInstructions ?? 1_000_000;
    if (!Number.isInteger(max) || max < 0) throw new InvalidArgumentError(`maxInstructions ${max} is not a non-negative integer`);
    return this.enter(max).view;
  }

  /**
   * The entry path shared with Machine.run; returns the core's reused exit record.
   * `externalPending`: an interrupt controller holds a maskable interrupt for this vCPU that the
   * guest cannot take yet (the run then ends at the interrupt window).
   */
  enter(max: number, externalPending = false): ExitRecord {
    const core = this.core;
    const exit = core.exit;
    if (this.configDirty) {
      core.configure(this.intercepts_.pause, this.cpuid.leaves(), this.intercepts_.tprThreshold, this.intercepts_.debug);
      this.configDirty = false;
    }
    if (this.dirty) {
      const bad = entryCheck(core.u32);
      if (bad !== null) {
        const x = this.synthetic('invalid-state');
        x.message = bad;
        return x;
      }
      core.stateChanged();
      this.dirty = false;
    }
    this.cachedRegs = null;
    this.cachedSregs = null;
    this.cachedDregs = null;
    if (this.runState === 'shutdown') return this.synthetic('shutdown');
    if (this.runState === 'wait-for-sipi') return this.synthetic('hlt');
    // Event injection, resolving nested exceptions here and nowhere else.
    for (let guard = 0; guard < 8; guard++) {
      if (this.events.tripleFault) {
        this.runState = 'shutdown';
        return this.synthetic('shutdown');
      }
      const choice = this.events.choose({
        interruptsEnabled: this.interruptsEnabled(),
        interruptShadow: core.interruptShadow(),
        nmiBlocked: core.nmiBlocked(),
      });
      if (choice.kind === 'none') break;
      if (choice.kind === 'window') {
        if (choice.window === 'interrupt-window') this.events.wantInterruptWindow = false;
        else this.events.wantNmiWindow = false;
        return this.synthetic(choice.window);
      }
      const e = choice.event;
      this.runState = 'active';
      const r = core.deliverEvent(KIND_ID[e.kind], e.vector, e.errorCode !== undefined, e.errorCode ?? 0);
      // Delivered: the next instruction boundary is before the handler's first instruction, where
      // a further pending event (an NMI) is recognised, so choose again (SDM Vol. 3A §6.9).
      if (r === DELIVERED) continue;
      if (r === DELIVERY_SHUTDOWN) {
        this.runState = 'shutdown';
        exit.instructions = 0;
        return exit;
      }
      if (r === DELIVERY_EPT_EXIT) {
        // An exit in the middle of delivery: the event is redelivered on the next entry.
        this.events.setExitIntInfo(e);
        exit.instructions = 0;
        return exit;
      }
      if (r === NO_DELIVERY) {
        this.undeliverable = true;
        // The core cannot deliver through the IDT: hand the event to the caller as an exception exit.
        exit.reason = 'exception';
        exit.vector = e.vector;
        exit.hasErrorCode = e.errorCode !== undefined;
        exit.errorCode = e.errorCode ?? 0;
        exit.instructions = 0;
        return exit;
      }
      // Delivering e raised exception r: record e as interrupted (exit-intinfo) and combine.
      this.events.setExitIntInfo(e);
      this.events.raiseException(r, core.nestedErrorCode);
    }
    if (this.runState === 'halted') {
      if (this.events.interruptBlocked({ interruptsEnabled: this.interruptsEnabled(), interruptShadow: false, nmiBlocked: false })
        || (this.events.interrupt === null && !this.events.nmi && this.events.exception === null)) {
        return this.synthetic('hlt');
      }
      this.runState = 'active';
    }
    // While an interrupt waits for IF=1 (or the caller wants the window), single-step so the
    // window is found at the exact instruction boundary (SDM Vol. 3C §25.2 interrupt-window exiting).
    this.undeliverable = false;
    // Window exiting (SDM Vol. 3C §25.2): for an event the queue holds back, for the caller's
    // request, or for an interrupt the controllers hold (externalPending).
    const q = this.events;
    const intPending = (q.interrupt !== null && q.interrupt.kind === 'interrupt') || externalPending;
    core.setWindowExits(intPending || q.wantInterruptWindow, q.nmi || q.wantNmiWindow);
    core.run(max);
    const reason = exit.reason;
    this.internalWindow = false;
    if (reason === 'interrupt-window') {
      // The caller sees the window only when it asked for one and nothing of ours is waiting for it.
      if (q.wantInterruptWindow && !intPending) q.wantInterruptWindow = false;
      else this.internalWindow = true;
    } else if (reason === 'nmi-window') {
      if (q.wantNmiWindow && !q.nmi) q.wantNmiWindow = false;
      else this.internalWindow = true;
    }
    if (reason === 'hlt') this.runState = 'halted';
    else if (reason === 'shutdown') this.runState = 'shutdown';
    else if (reason === 'exception') this.exceptionExit(exit);
    this.stats.instructions += exit.instructions;
    return exit;
  }

  /**
   * An exception the core could not deliver. #DB/#BP with the debug intercept stay `debug` exits;
   * otherwise the exception is queued so the next entry delivers it (or the caller sees it).
   */
  private exceptionExit(exit: ExitRecord): void {
    if (this.intercepts.debug && (exit.vector === VEC.DB || exit.vector === VEC.BP)) {
      exit.reason = 'debug';
    }
  }

  /** Queues the exception of an `exception` exit for delivery by the next entry (what Machine.run does). */
  reraise(exit: ExitRecord): void {
    if (exit.vector === VEC.PF) this.setCr2(exit.cr2Lo, exit.cr2Hi);
    this.events.raiseException(exit.vector, exit.hasErrorCode ? exit.errorCode : undefined);
  }

  private synthetic(reason: 'shutdown' | 'hlt' | 'interrupt-window' | 'nmi-window' | 'invalid-state'): ExitRecord {
    const exit = this.core.exit;
    exit.reason = reason;
    exit.instructions = 0;
    this.internalWindow = false;
    const u = this.core.u32;
    exit.ripLo = u[32]!;
    exit.ripHi = u[33]!;
    exit.nextRipLo = exit.ripLo;
    exit.nextRipHi = exit.ripHi;
    return exit;
  }

  /** Sets CR2 (the faulting linear address of a #PF). */
  setCr2(lo: number, hi: number): void {
    this.core.u32[S_CR2] = lo;
    this.core.u32[S_CR2 + 1] = hi;
    this.cachedSregs = null;
  }

  /** Sets CR2 and queues #PF (used by the assist when a linear access faults). */
  raisePageFault(linLo: number, linHi: number, errorCode: number): void {
    const u = this.core.u32;
    u[S_CR2] = linLo;
    u[S_CR2 + 1] = linHi;
    this.events.raiseException(VEC.PF, errorCode);
    this.touch();
  }

  /** TF set in RFLAGS (for debug tests). */
  get singleStep(): boolean {
    return (getFlags(this.core.u32) & TF) !== 0;
  }
}

/**
 * The guest-state checks of VM entry that this monitor enforces (a subset of SDM Vol. 3C
 * §26.3.1.1-26.3.1.2), run when the caller changed the state. Returns the failed check, or null.
 */
export function entryCheck(u: Uint32Array): string | null {
  const cr0 = u[S_CR0]!;
  const cr4 = u[S_CR4]!;
  const efer = u[S_EFER]!;
  const pg = (cr0 & 0x8000_0000) !== 0;
  if (pg && (cr0 & 1) === 0) return 'CR0.PG = 1 requires CR0.PE = 1 (SDM Vol. 3C §26.3.1.1)';
  if ((cr0 & 0x2000_0000) !== 0 && (cr0 & 0x4000_0000) === 0) return 'CR0.NW = 1 requires CR0.CD = 1';
  const lma = (efer & EFER_LMA) !== 0;
  const lme = (efer & EFER_LME) !== 0;
  if (pg && lma !== lme) return `EFER.LMA (${+lma}) must equal EFER.LME (${+lme}) when CR0.PG = 1`;
  if (!pg && lma) return 'EFER.LMA = 1 requires CR0.PG = 1';
  if (lma && (cr4 & 0x20) === 0) return 'IA-32e mode requires CR4.PAE = 1';
  const cs = u[S_SEG + CS * SEG_STRIDE + SEG_ATTR]!;
  if ((cs & ATTR_UNUSABLE) !== 0) return 'CS must be usable';
  if (lma && (cs & ATTR_L) !== 0 && (cs & ATTR_DB) !== 0) return 'CS.L = 1 and CS.D = 1 together are reserved in IA-32e mode';
  if (lma && (u[S_RFLAGS]! & VM) !== 0) return 'RFLAGS.VM must be 0 in IA-32e mode';
  return null;
}
