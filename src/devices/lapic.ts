/**
 * Local APIC, one per vCPU: the xAPIC MMIO page and the x2APIC MSR interface.
 * Spec: Intel SDM Vol. 3A chapter 10 "Advanced Programmable Interrupt Controller (APIC)" (chapter 11
 * in editions since 2022; section numbers below are the chapter-10 ones): 10.4 (IA32_APIC_BASE,
 * enable/disable, SVR, version), 10.5 (LVT, ESR, timer), 10.6 (ICR, IPI destinations, lowest
 * priority), 10.8 (IRR/ISR/TMR, TPR/PPR, EOI), 10.9 (spurious), 10.12 (x2APIC).
 *
 * The vCPU handshake (after bhyve's vlapic.h; a device never sees a vCPU). At an instruction
 * boundary the monitor asks:
 *   - `pendingIntr()`: the highest fixed vector in the IRR whose priority class beats the PPR,
 *     without accepting it (-1 if none);
 *   - `intrAccepted(vector)`: only when RFLAGS.IF and the interrupt shadow allow, moves it IRR->ISR
 *     and raises the PPR;
 *   - `takeNmi()`, `takeSmi()`, `takeInit()`, `takeSipi()` for the other delivery modes, and
 *     `extIntRequested()` / `clearExtInt()` for an ExtINT message (the vector then comes from the
 *     8259's INTA cycle; the interrupt-controller facade does that).
 * `wake` is called whenever something becomes pending, so a halted vCPU can be woken.
 *
 * Choices and deviations (documented in docs/devices.md too):
 * - Version register 0x01060014: integrated APIC version 0x14, 7 LVT entries (max LVT 6, with
 *   CMCI), EOI-broadcast suppression supported (bit 24).
 * - Messages are delivered instantly: ICR and LVT delivery status always read 0.
 * - The timer runs at `timerHz` (default 25 MHz, the core crystal CPUID 15H reports by default:
 *   Linux takes the crystal as the LAPIC timer frequency when leaf 15H is present). Counts are
 *   computed from the clock, never ticked. A divide-configuration or mode change restarts the
 *   count phase at the current count.
 * - Timer mode 3 (reserved) behaves as one-shot.
 * - Polarity bits (LINT) are stored but the pin level is the logical (active) level.
 * - At power-on reset the BSP's LINT0 is ExtINT, unmasked (virtual-wire mode as the BIOS leaves
 *   it, KVM does the same), so a guest without firmware gets 8259 interrupts.
 * - ESR: send/receive illegal vector (bits 5/6), illegal register address (bit 7), and the P6
 *   send/receive accept errors (bits 2/3) when an IPI or a message is accepted by no APIC.
 * - Lowest-priority arbitration (in the facade) uses the APR, ties to the lowest vCPU index.
 */
import { InvalidArgumentError, hex } from '../util/errors.js';
import type { ClockTimer, VirtualClock } from '../time/clock.js';
import { TscModel } from '../time/tsc.js';
import { nsAtTick, ticksAt } from '../time/ticks.js';
import { stateBool, stateInt, stateIntArray } from './snapshot.js';
import { DeliveryMode } from './msi.js';

/** Status codes of the MSR entry points: no exception is thrown for guest behaviour. */
export const MSR_OK = 0;
/** The access raises #GP(0) in the guest. */
export const MSR_GP = 1;

export const MSR_IA32_APIC_BASE = 0x1b;
export const MSR_IA32_TSC_DEADLINE = 0x6e0;
export const MSR_X2APIC_FIRST = 0x800;
export const MSR_X2APIC_LAST = 0x8ff;

/** IA32_APIC_BASE bits (SDM 10.4.4, Figure 10-5). */
export const APIC_BASE_BSP = 1 << 8;
export const APIC_BASE_EXTD = 1 << 10;
export const APIC_BASE_ENABLE = 1 << 11;
export const APIC_DEFAULT_BASE = 0xfee0_0000;

/** Register offsets in the xAPIC page (SDM Table 10-1). x2APIC MSR = 0x800 + (offset >> 4). */
export const ApicReg = {
  ID: 0x20,
  VERSION: 0x30,
  TPR: 0x80,
  APR: 0x90,
  PPR: 0xa0,
  EOI: 0xb0,
  RRD: 0xc0,
  LDR: 0xd0,
  DFR: 0xe0,
  SVR: 0xf0,
  ISR: 0x100,
  TMR: 0x180,
  IRR: 0x200,
  ESR: 0x280,
  LVT_CMCI: 0x2f0,
  ICR_LO: 0x300,
  ICR_HI: 0x310,
  LVT_TIMER: 0x320,
  LVT_THERMAL: 0x330,
  LVT_PMC: 0x340,
  LVT_LINT0: 0x350,
  LVT_LINT1: 0x360,
  LVT_ERROR: 0x370,
  TIMER_INITIAL: 0x380,
  TIMER_CURRENT: 0x390,
  TIMER_DCR: 0x3e0,
  SELF_IPI: 0x3f0,
} as const;

/** LVT indices (`triggerLvt`, `lvt(i)`). */
export const Lvt = { CMCI: 0, TIMER: 1, THERMAL: 2, PMC: 3, LINT0: 4, LINT1: 5, ERROR: 6 } as const;

/** ESR bits (SDM 10.5.3, Figure 10-9). */
export const Esr = {
  SEND_CHECKSUM: 1 << 0,
  RECEIVE_CHECKSUM: 1 << 1,
  SEND_ACCEPT: 1 << 2,
  RECEIVE_ACCEPT: 1 << 3,
  REDIRECTABLE_IPI: 1 << 4,
  SEND_ILLEGAL_VECTOR: 1 << 5,
  RECEIVE_ILLEGAL_VECTOR: 1 << 6,
  ILLEGAL_REGISTER: 1 << 7,
} as const;

/** ICR destination shorthands (bits 19:18). */
export const Shorthand = { NONE: 0, SELF: 1, ALL_INCLUDING_SELF: 2, ALL_EXCLUDING_SELF: 3 } as const;

/** Timer modes (LVT timer bits 18:17). */
export const TimerMode = { ONE_SHOT: 0, PERIODIC: 1, TSC_DEADLINE: 2 } as const;

export const APIC_VERSION = 0x0106_0014;
const LVT_MASKED = 1 << 16;
const LVT_REMOTE_IRR = 1 << 14;
const LVT_LEVEL = 1 << 15;
const SVR_ENABLE = 1 << 8;
const SVR_SUPPRESS_EOI_BROADCAST = 1 << 12;

/** Per LVT: bits software may write (SDM Figure 10-8), and all defined bits (writable + read-only). */
const LVT_WRITABLE = [0x107ff, 0x700ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff];
const LVT_DEFINED = [0x117ff, 0x710ff, 0x117ff, 0x117ff, 0x1f7ff, 0x1f7ff, 0x110ff];
const LVT_OFFSETS = [0x2f0, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370];
const SVR_WRITABLE = 0x13ff;
const ICR_LO_WRITABLE = 0xccfff;
const DIVISORS = [2, 4, 8, 16, 32, 64, 128, 1];

/** How a LAPIC reaches the others and the IOAPICs (the interrupt-controller facade implements it). */
export interface ApicBus {
  /**
   * Sends an IPI from `source` (destination already decoded from the ICR: 8-bit in xAPIC mode,
   * 32-bit in x2APIC mode). Returns the number of LAPICs that accepted it.
   */
  sendIpi(
    source: LocalApic,
    shorthand: number,
    dest: number,
    logical: boolean,
    mode: number,
    vector: number,
    levelTriggered: boolean,
    level: boolean,
  ): number;
  /** EOI of a level-triggered vector, broadcast to the IOAPICs. */
  eoiBroadcast(vector: number): void;
}

export interface LocalApicOptions {
  /** Initial APIC ID (the x2APIC ID; the xAPIC ID is its low 8 bits). Default 0. */
  apicId?: number;
  /** Bootstrap processor: IA32_APIC_BASE.BSP set and LINT0 in virtual-wire ExtINT at reset. Default: apicId === 0. */
  bsp?: boolean;
  /** LAPIC timer input frequency in Hz (an integer). Default 25 MHz. */
  timerHz?: number;
  /** The TSC the TSC-deadline mode compares with. Default: a 2 GHz TscModel on the clock. */
  tsc?: TscModel;
  /** MAXPHYADDR: IA32_APIC_BASE bits at and above it are reserved. Default 39. */
  maxPhysAddrBits?: number;
  /** Called when an event becomes pending (to wake a halted vCPU). */
  wake?: () => void;
  /** Called after a WRMSR moved or (dis)enabled the MMIO page, so the monitor can move the region. */
  onBaseChange?: (apic: LocalApic) => void;
}

/** Plain saved state of a LAPIC. */
export interface LocalApicState {
  apicBaseLo: number;
  apicBaseHi: number;
  id: number;
  tpr: number;
  ldr: number;
  dfr: number;
  svr: number;
  esr: number;
  esrPending: number;
  icrLo: number;
  icrHi: number;
  lvt: number[];
  irr: number[];
  isr: number[];
  tmr: number[];
  timerInitial: number;
  dcr: number;
  timerBaseNs: number;
  timerBaseCount: number;
  timerRunning: boolean;
  tscDeadlineLo: number;
  tscDeadlineHi: number;
  tscOffset: number;
  lintLevel: boolean[];
  nmi: boolean;
  smi: boolean;
  init: boolean;
  sipiVector: number;
  extInt: boolean;
}

function highestBit(words: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    const w = words[i]!;
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}

export class LocalApic {
  readonly index: number;
  readonly initialId: number;
  readonly bsp: boolean;
  readonly timerHz: number;
  readonly tsc: TscModel;
  readonly maxPhysAddrBits: number;
  /** Event-pending notification (settable after construction, e.g. by the facade). */
  wake: () => void;
  onBaseChange: ((apic: LocalApic) => void) | null;
  /** The bus to the other APICs; null for a standalone LAPIC (it then only reaches itself). */
  bus: ApicBus | null = null;

  /** Last value read by readMsr (low and high dwords). */
  msrLo = 0;
  msrHi = 0;

  private apicBaseLo = 0;
  private apicBaseHi = 0;
  private id = 0;
  private tpr = 0;
  private ppr = 0;
  private ldr = 0;
  private dfr = 0xffff_ffff;
  private svr = 0xff;
  private esr = 0;
  private esrPending = 0;
  private inErrorLvt = false;
  private icrLo = 0;
  private icrHi = 0;
  private readonly lvts = new Uint32Array(7);
  private readonly irr = new Uint32Array(8);
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  /** Highest vector in IRR / ISR, -1 if empty (kept current on every change). */
  private irrv = -1;
  private isrv = -1;
  private timerInitial = 0;
  private dcr = 0;
  private divisor = 2;
  /** The count was `timerBaseCount` at `timerBaseNs`; counting down from there (one-shot/periodic). */
  private timerBaseNs = 0;
  private timerBaseCount = 0;
  private timerRunning = false;
  private tscDeadlineLo = 0;
  private tscDeadlineHi = 0;
  /** Guest TSC minus the machine TSC, in ticks (the vCPU's TSC offset and IA32_TSC_ADJUST). */
  private tscOffset = 0;
  private readonly lintLevel = [false, false];
  private nmi = false;
  private smi = false;
  private init = false;
  private sipiVector = -1;
  private extInt = false;
  private readonly timer: ClockTimer;

  constructor(
    private readonly clock: VirtualClock,
    index = 0,
    options: LocalApicOptions = {},
  ) {
    const id = options.apicId ?? index;
    if (!Number.isInteger(id) || id < 0 || id > 0xffff_fffe) {
      throw new InvalidArgumentError(`APIC ID ${id} must be an integer in 0..0xfffffffe`);
    }
    const bits = options.maxPhysAddrBits ?? 39;
    if (!Number.isInteger(bits) || bits < 32 || bits > 52) {
      throw new InvalidArgumentError(`maxPhysAddrBits ${bits} must be an integer in 32..52`);
    }
    this.index = index;
    this.initialId = id;
    this.bsp = options.bsp ?? id === 0;
    const hz = options.timerHz ?? 25_000_000;
    if (!Number.isSafeInteger(hz) || hz < 1000 || hz >= 2 ** 33) {
      throw new InvalidArgumentError(`LAPIC timer frequency ${hz} Hz must be an integer in [1000, 2^33)`);
    }
    this.timerHz = hz;
    this.tsc = options.tsc ?? new TscModel(clock);
    this.maxPhysAddrBits = bits;
    this.wake = options.wake ?? (() => {});
    this.onBaseChange = options.onBaseChange ?? null;
    this.timer = clock.createTimer(`lapic${index}.timer`, () => this.onTimer());
    this.reset('power');
  }

  // ---------------------------------------------------------------- state queries

  /** IA32_APIC_BASE[11]: the APIC is globally enabled. */
  get hardwareEnabled(): boolean {
    return (this.apicBaseLo & APIC_BASE_ENABLE) !== 0;
  }
  /** SVR[8]: the APIC is software enabled. */
  get softwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }
  /** IA32_APIC_BASE[10]: x2APIC mode. */
  get x2apicMode(): boolean {
    return (this.apicBaseLo & APIC_BASE_EXTD) !== 0;
  }
  /** The xAPIC page answers MMIO (xAPIC mode, globally enabled). */
  get mmioActive(): boolean {
    return (this.apicBaseLo & (APIC_BASE_ENABLE | APIC_BASE_EXTD)) === APIC_BASE_ENABLE;
  }
  /** Guest-physical base of the xAPIC page (IA32_APIC_BASE bits MAXPHYADDR-1:12). */
  get mmioBase(): number {
    return (this.apicBaseHi * 0x1_0000_0000) + ((this.apicBaseLo & 0xffff_f000) >>> 0);
  }
  /** The APIC ID as routing sees it: 8-bit xAPIC ID, or the 32-bit x2APIC ID. */
  get apicId(): number {
    return this.id;
  }
  /** Logical destination register (xAPIC: bits 31:24; x2APIC: derived, read-only). */
  get logicalDestination(): number {
    return this.ldr;
  }
  get taskPriority(): number {
    return this.tpr;
  }
  get processorPriority(): number {
    return this.ppr;
  }
  /** The LVT entry `i` (see `Lvt`). */
  lvt(i: number): number {
    return this.lvts[i]!;
  }
  /** True if the vector's IRR / ISR / TMR bit is set. */
  irrBit(vector: number): boolean {
    return ((this.irr[vector >>> 5]! >>> (vector & 31)) & 1) !== 0;
  }
  isrBit(vector: number): boolean {
    return ((this.isr[vector >>> 5]! >>> (vector & 31)) & 1) !== 0;
  }
  tmrBit(vector: number): boolean {
    return ((this.tmr[vector >>> 5]! >>> (vector & 31)) & 1) !== 0;
  }

  /**
   * Arbitration priority (SDM Figure 10-15): if TPR[7:4] >= IRRV[7:4] and TPR[7:4] > ISRV[7:4],
   * APR = TPR; else APR[7:4] = max(TPR[7:4] AND ISRV[7:4], IRRV[7:4]), APR[3:0] = 0.
   */
  arbitrationPriority(): number {
    const t = this.tpr >>> 4;
    const s = this.isrv < 0 ? 0 : this.isrv >>> 4;
    const r = this.irrv < 0 ? 0 : this.irrv >>> 4;
    if (t >= r && t > s) return this.tpr;
    return Math.max(t & s, r) << 4;
  }

  // ---------------------------------------------------------------- vCPU handshake

  /**
   * The highest pending fixed vector deliverable now (its class above PPR[7:4]), or -1. Does not
   * accept it (bhyve vlapic_pending_intr).
   */
  pendingIntr(): number {
    const v = this.irrv;
    if (v < 0 || (v & 0xf0) <= (this.ppr & 0xf0)) return -1;
    return v;
  }

  /** The vCPU takes `vector` (bhyve vlapic_intr_accepted): IRR -> ISR, PPR raised. */
  intrAccepted(vector: number): void {
    const w = vector >>> 5;
    const bit = 1 << (vector & 31);
    if ((this.irr[w]! & bit) === 0) return;
    this.irr[w] = this.irr[w]! & ~bit;
    this.isr[w] = this.isr[w]! | bit;
    this.irrv = highestBit(this.irr);
    if (vector > this.isrv) this.isrv = vector;
    this.updatePpr();
  }

  /**
   * The interrupt-acknowledge cycle on the APIC side: accepts and returns the deliverable vector,
   * or returns the spurious vector (SVR[7:0]) when nothing is deliverable any more (SDM 10.9).
   */
  acknowledge(): number {
    const v = this.pendingIntr();
    if (v < 0) return this.svr & 0xff;
    this.intrAccepted(v);
    return v;
  }

  /** Anything pending that would wake a halted vCPU (fixed deliverable, NMI, SMI, INIT, SIPI, ExtINT message). */
  hasPendingEvent(): boolean {
    return this.pendingIntr() >= 0 || this.nmi || this.smi || this.init || this.sipiVector >= 0 || this.extInt;
  }
  get nmiPending(): boolean {
    return this.nmi;
  }
  get smiPending(): boolean {
    return this.smi;
  }
  get initPending(): boolean {
    return this.init;
  }
  /** The pending start-up vector, or -1. */
  get sipiPending(): number {
    return this.sipiVector;
  }
  takeNmi(): boolean {
    const p = this.nmi;
    this.nmi = false;
    return p;
  }
  takeSmi(): boolean {
    const p = this.smi;
    this.smi = false;
    return p;
  }
  takeInit(): boolean {
    const p = this.init;
    this.init = false;
    return p;
  }
  /** The start-up vector (page number) of a pending SIPI, or -1; clears it. */
  takeSipi(): number {
    const v = this.sipiVector;
    this.sipiVector = -1;
    return v;
  }
  /** An ExtINT message (IPI or IOAPIC) is waiting for the 8259's INTA. */
  extIntRequested(): boolean {
    return this.extInt;
  }
  clearExtInt(): void {
    this.extInt = false;
  }
  /**
   * LINT `pin` is in ExtINT mode, unmasked and active, or the APIC is globally disabled and pin 0
   * (INTR) is active: the 8259's INT reaches this CPU.
   */
  lintExtIntActive(): boolean {
    if (!this.hardwareEnabled) return this.lintLevel[0]!;
    for (let pin = 0; pin < 2; pin++) {
      const l = this.lvts[Lvt.LINT0 + pin]!;
      if (this.lintLevel[pin] && (l & LVT_MASKED) === 0 && ((l >>> 8) & 7) === DeliveryMode.EXTINT) return true;
    }
    return false;
  }

  /** CR8 reads TPR[7:4] (SDM 10.8.6.1). */
  getCr8(): number {
    return this.tpr >>> 4;
  }
  /** MOV to CR8 sets TPR[7:4] and clears TPR[3:0]. */
  setCr8(value: number): void {
    this.tpr = (value & 0xf) << 4;
    this.updatePpr();
  }

  // ---------------------------------------------------------------- inputs

  /**
   * Accepts one interrupt message (IPI, IOAPIC, MSI) already routed to this APIC. Returns true if
   * accepted. Fixed and lowest-priority need a software-enabled APIC; a vector below 16 is a
   * receive-illegal-vector error (SDM 10.5.3).
   */
  acceptMessage(mode: number, vector: number, levelTriggered: boolean, level: boolean): boolean {
    if (!this.hardwareEnabled) return false;
    switch (mode) {
      case DeliveryMode.FIXED:
      case DeliveryMode.LOWEST_PRIORITY:
        if (!this.softwareEnabled) return false;
        this.setIntr(vector, levelTriggered);
        return true;
      case DeliveryMode.SMI:
        this.smi = true;
        break;
      case DeliveryMode.NMI:
        this.nmi = true;
        break;
      case DeliveryMode.INIT:
        // INIT level de-assert (level 0, level-triggered) only synchronises arbitration IDs.
        if (levelTriggered && !level) return true;
        this.init = true;
        break;
      case DeliveryMode.STARTUP:
        this.sipiVector = vector & 0xff;
        break;
      case DeliveryMode.EXTINT:
        this.extInt = true;
        break;
      default:
        return false;
    }
    this.wake();
    return true;
  }

  /** Sets a LINT pin's (active) level (SDM 10.5.1): edges and levels per the LVT entry. */
  setLint(pin: number, level: boolean): void {
    if (pin !== 0 && pin !== 1) throw new InvalidArgumentError(`LINT pin ${pin} is not 0 or 1`);
    const old = this.lintLevel[pin]!;
    this.lintLevel[pin] = level;
    if (!this.hardwareEnabled) {
      // Globally disabled: LINT0 is INTR (the facade reads it), LINT1 is NMI.
      if (pin === 1 && level && !old) {
        this.nmi = true;
        this.wake();
      } else if (pin === 0 && level !== old) this.wake();
      return;
    }
    const i = Lvt.LINT0 + pin;
    const l = this.lvts[i]!;
    if ((l & LVT_MASKED) !== 0) return;
    const mode = (l >>> 8) & 7;
    if (mode === DeliveryMode.EXTINT) {
      if (level !== old) this.wake();
      return;
    }
    if (mode === DeliveryMode.FIXED && (l & LVT_LEVEL) !== 0) {
      this.lintLevelCheck(pin);
      return;
    }
    if (level && !old) this.fireLvt(i);
  }

  /** Fires an LVT entry as its source would (thermal, PMC, CMCI, or an edge on LINT). */
  triggerLvt(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i > 6) throw new InvalidArgumentError(`LVT index ${i} is not 0..6`);
    this.fireLvt(i);
  }

  // ---------------------------------------------------------------- xAPIC MMIO (bus device)

  read(offset: number, size: number): number {
    if (!this.mmioActive) return 0;
    const byte = offset & 0xf;
    const v = byte < 4 ? this.readReg(offset & 0xff0) >>> (byte * 8) : 0;
    return size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  write(offset: number, size: number, value: number): void {
    if (!this.mmioActive) return;
    // Registers are 32 bits at 16-byte aligned offsets (SDM 10.4.1); narrower or unaligned writes are dropped.
    if (size !== 4 || (offset & 0xf) !== 0) return;
    this.writeReg(offset & 0xff0, value >>> 0);
  }

  private readReg(reg: number): number {
    switch (reg) {
      case ApicReg.ID:
        return (this.id << 24) >>> 0;
      case ApicReg.VERSION:
        return APIC_VERSION;
      case ApicReg.TPR:
        return this.tpr;
      case ApicReg.APR:
        return this.arbitrationPriority();
      case ApicReg.PPR:
        return this.ppr;
      case ApicReg.EOI:
      case ApicReg.RRD:
        return 0;
      case ApicReg.LDR:
        return this.ldr;
      case ApicReg.DFR:
        return this.dfr;
      case ApicReg.SVR:
        return this.svr;
      case ApicReg.ESR:
        return this.esr;
      case ApicReg.ICR_LO:
        return this.icrLo;
      case ApicReg.ICR_HI:
        return this.icrHi;
      case ApicReg.TIMER_INITIAL:
        return this.timerInitial;
      case ApicReg.TIMER_CURRENT:
        return this.currentCount();
      case ApicReg.TIMER_DCR:
        return this.dcr;
      default:
        break;
    }
    if (reg >= 0x100 && reg < 0x280) {
      const w = (reg >>> 4) & 7;
      return (reg < 0x180 ? this.isr[w]! : reg < 0x200 ? this.tmr[w]! : this.irr[w]!) >>> 0;
    }
    const li = LVT_OFFSETS.indexOf(reg);
    if (li >= 0) return this.lvts[li]!;
    this.setError(Esr.ILLEGAL_REGISTER);
    return 0;
  }

  private writeReg(reg: number, value: number): void {
    switch (reg) {
      case ApicReg.ID:
        this.id = value >>> 24;
        return;
      case ApicReg.TPR:
        this.tpr = value & 0xff;
        this.updatePpr();
        return;
      case ApicReg.EOI:
        this.eoi();
        return;
      case ApicReg.LDR:
        this.ldr = (value & 0xff00_0000) >>> 0;
        return;
      case ApicReg.DFR:
        this.dfr = ((value & 0xf000_0000) | 0x0fff_ffff) >>> 0;
        return;
      case ApicReg.SVR:
        this.writeSvr(value);
        return;
      case ApicReg.ESR:
        this.writeEsr();
        return;
      case ApicReg.ICR_LO:
        this.icrLo = value & ICR_LO_WRITABLE;
        this.sendIcr(this.icrLo, this.icrHi >>> 24);
        return;
      case ApicReg.ICR_HI:
        this.icrHi = (value & 0xff00_0000) >>> 0;
        return;
      case ApicReg.TIMER_INITIAL:
        this.writeInitialCount(value);
        return;
      case ApicReg.TIMER_DCR:
        this.writeDcr(value);
        return;
      case ApicReg.VERSION:
      case ApicReg.APR:
      case ApicReg.PPR:
      case ApicReg.RRD:
      case ApicReg.TIMER_CURRENT:
        return; // read-only
      default:
        break;
    }
    if (reg >= 0x100 && reg < 0x280) return; // ISR/TMR/IRR are read-only
    const li = LVT_OFFSETS.indexOf(reg);
    if (li >= 0) {
      this.writeLvt(li, value);
      return;
    }
    this.setError(Esr.ILLEGAL_REGISTER);
  }

  // ---------------------------------------------------------------- MSRs

  /** True for the MSRs this LAPIC implements (IA32_APIC_BASE, IA32_TSC_DEADLINE, 0x800-0x8FF). */
  static ownsMsr(index: number): boolean {
    return index === MSR_IA32_APIC_BASE || index === MSR_IA32_TSC_DEADLINE || (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST);
  }

  /** RDMSR: MSR_OK with the value in msrLo/msrHi, or MSR_GP. */
  readMsr(index: number): number {
    this.msrHi = 0;
    if (index === MSR_IA32_APIC_BASE) {
      this.msrLo = this.apicBaseLo;
      this.msrHi = this.apicBaseHi;
      return MSR_OK;
    }
    if (index === MSR_IA32_TSC_DEADLINE) {
      const tscd = this.timerMode() === TimerMode.TSC_DEADLINE;
      this.msrLo = tscd ? this.tscDeadlineLo : 0;
      this.msrHi = tscd ? this.tscDeadlineHi : 0;
      return MSR_OK;
    }
    if (index < MSR_X2APIC_FIRST || index > MSR_X2APIC_LAST || !this.x2apicMode) return MSR_GP;
    const reg = (index - MSR_X2APIC_FIRST) << 4;
    switch (reg) {
      case ApicReg.ID:
        this.msrLo = this.id >>> 0;
        return MSR_OK;
      case ApicReg.ICR_LO:
        this.msrLo = this.icrLo;
        this.msrHi = this.icrHi;
        return MSR_OK;
      case ApicReg.VERSION:
      case ApicReg.TPR:
      case ApicReg.PPR:
      case ApicReg.LDR:
      case ApicReg.SVR:
      case ApicReg.ESR:
      case ApicReg.TIMER_INITIAL:
      case ApicReg.TIMER_CURRENT:
      case ApicReg.TIMER_DCR:
        this.msrLo = this.readReg(reg);
        return MSR_OK;
      default:
        break;
    }
    if ((reg >= 0x100 && reg < 0x280) || LVT_OFFSETS.indexOf(reg) >= 0) {
      this.msrLo = this.readReg(reg);
      return MSR_OK;
    }
    // APR, EOI, RRD, DFR, ICR high, SELF IPI (write-only) and the reserved ones (SDM Table 10-6).
    return MSR_GP;
  }

  /** WRMSR: MSR_OK or MSR_GP (reserved bits set, read-only register, wrong mode; SDM 10.12.1). */
  writeMsr(index: number, lo: number, hi: number): number {
    lo >>>= 0;
    hi >>>= 0;
    if (index === MSR_IA32_APIC_BASE) return this.writeApicBase(lo, hi);
    if (index === MSR_IA32_TSC_DEADLINE) {
      this.writeTscDeadline(lo, hi);
      return MSR_OK;
    }
    if (index < MSR_X2APIC_FIRST || index > MSR_X2APIC_LAST || !this.x2apicMode) return MSR_GP;
    const reg = (index - MSR_X2APIC_FIRST) << 4;
    if (reg === ApicReg.ICR_LO) {
      if ((lo & ~ICR_LO_WRITABLE) !== 0) return MSR_GP;
      this.icrLo = lo;
      this.icrHi = hi;
      this.sendIcr(lo, hi);
      return MSR_OK;
    }
    if (hi !== 0) return MSR_GP;
    switch (reg) {
      case ApicReg.TPR:
        if (lo > 0xff) return MSR_GP;
        break;
      case ApicReg.EOI:
      case ApicReg.ESR:
        if (lo !== 0) return MSR_GP;
        break;
      case ApicReg.SVR:
        if ((lo & ~SVR_WRITABLE) !== 0) return MSR_GP;
        break;
      case ApicReg.TIMER_INITIAL:
        break;
      case ApicReg.TIMER_DCR:
        if ((lo & ~0xb) !== 0) return MSR_GP;
        break;
      case ApicReg.SELF_IPI:
        if (lo > 0xff) return MSR_GP;
        // SELF IPI: fixed, edge, to self (SDM 10.12.11).
        if (lo < 16) this.setError(Esr.SEND_ILLEGAL_VECTOR);
        else this.setIntr(lo, false);
        return MSR_OK;
      default: {
        const li = LVT_OFFSETS.indexOf(reg);
        if (li < 0) return MSR_GP;
        if ((lo & ~LVT_DEFINED[li]!) !== 0) return MSR_GP;
        this.writeLvt(li, lo);
        return MSR_OK;
      }
    }
    this.writeReg(reg, lo);
    return MSR_OK;
  }

  /** IA32_APIC_BASE write with the mode transitions of SDM 10.12.5 (Figure 10-27). */
  private writeApicBase(lo: number, hi: number): number {
    const hiMask = this.maxPhysAddrBits >= 64 ? 0xffff_ffff : (2 ** (this.maxPhysAddrBits - 32) - 1);
    if ((lo & 0x2ff) !== 0 || (hi & ~hiMask) !== 0) return MSR_GP;
    const en = (lo & APIC_BASE_ENABLE) !== 0;
    const extd = (lo & APIC_BASE_EXTD) !== 0;
    if (extd && !en) return MSR_GP; // invalid state
    const wasEn = this.hardwareEnabled;
    const wasX2 = this.x2apicMode;
    if (wasX2 && en && !extd) return MSR_GP; // x2APIC -> xAPIC must go through disabled
    if (!wasEn && extd) return MSR_GP; // disabled -> x2APIC must go through xAPIC
    const oldLo = this.apicBaseLo;
    const oldHi = this.apicBaseHi;
    // BSP is read-only to the guest.
    this.apicBaseLo = ((lo & ~APIC_BASE_BSP) | (this.apicBaseLo & APIC_BASE_BSP)) >>> 0;
    this.apicBaseHi = hi;
    if (wasEn && !en) {
      // SDM 10.4.3: disabling through the MSR returns the registers to their power-up state.
      this.resetRegisters(this.initialId & 0xff, false);
    } else if (!wasX2 && extd) {
      // xAPIC -> x2APIC (SDM 10.12.5.1): ID becomes the x2APIC ID, LDR derived (10.12.10.2).
      this.enterX2apic();
    }
    if ((oldLo !== this.apicBaseLo || oldHi !== this.apicBaseHi) && this.onBaseChange) this.onBaseChange(this);
    return MSR_OK;
  }

  private enterX2apic(): void {
    this.id = this.initialId >>> 0;
    this.ldr = (((this.initialId >>> 4) << 16) | (1 << (this.initialId & 0xf))) >>> 0;
    this.dfr = 0xffff_ffff;
    this.icrHi = 0;
  }

  // ---------------------------------------------------------------- reset

  /**
   * 'power': power-up/RESET (IA32_APIC_BASE = 0xFEE00000 | EN | BSP, xAPIC mode, ID = initial ID).
   * 'init': INIT (SDM 10.4.7.3): registers back to power-up values, ID, IA32_APIC_BASE and the
   * x2APIC mode kept.
   */
  reset(kind: 'power' | 'init'): void {
    if (kind === 'power') {
      this.apicBaseLo = (APIC_DEFAULT_BASE | APIC_BASE_ENABLE | (this.bsp ? APIC_BASE_BSP : 0)) >>> 0;
      this.apicBaseHi = 0;
      this.resetRegisters(this.initialId & 0xff, true);
      this.tscOffset = 0;
      this.lintLevel[0] = false;
      this.lintLevel[1] = false;
    } else {
      this.resetRegisters(this.id, false);
    }
    if (this.x2apicMode) this.enterX2apic();
  }

  private resetRegisters(id: number, power: boolean): void {
    this.id = id;
    this.tpr = 0;
    this.ppr = 0;
    this.ldr = 0;
    this.dfr = 0xffff_ffff;
    this.svr = 0xff;
    this.esr = 0;
    this.esrPending = 0;
    this.icrLo = 0;
    this.icrHi = 0;
    this.lvts.fill(LVT_MASKED);
    if (power && this.bsp) this.lvts[Lvt.LINT0] = DeliveryMode.EXTINT << 8;
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.irrv = -1;
    this.isrv = -1;
    this.timerInitial = 0;
    this.dcr = 0;
    this.divisor = 2;
    this.timerRunning = false;
    this.timerBaseNs = 0;
    this.timerBaseCount = 0;
    this.tscDeadlineLo = 0;
    this.tscDeadlineHi = 0;
    this.timer.disarm();
    this.nmi = false;
    this.smi = false;
    this.init = false;
    this.sipiVector = -1;
    this.extInt = false;
  }

  // ---------------------------------------------------------------- internals: IRR/ISR, EOI, errors

  private setIntr(vector: number, levelTriggered: boolean): void {
    if (vector < 16) {
      this.setError(Esr.RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    const w = vector >>> 5;
    const bit = 1 << (vector & 31);
    this.irr[w] = this.irr[w]! | bit;
    this.tmr[w] = levelTriggered ? this.tmr[w]! | bit : this.tmr[w]! & ~bit;
    if (vector > this.irrv) this.irrv = vector;
    if (this.pendingIntr() >= 0) this.wake();
  }

  /** PPR (SDM 10.8.3.1): TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4. */
  private updatePpr(): void {
    const isrClass = this.isrv < 0 ? 0 : this.isrv & 0xf0;
    this.ppr = (this.tpr & 0xf0) >= isrClass ? this.tpr : isrClass;
  }

  /** EOI (SDM 10.8.5): clears the highest ISR bit; broadcasts level-triggered EOIs unless suppressed. */
  private eoi(): void {
    const v = this.isrv;
    if (v < 0) return;
    const w = v >>> 5;
    const bit = 1 << (v & 31);
    this.isr[w] = this.isr[w]! & ~bit;
    this.isrv = highestBit(this.isr);
    this.updatePpr();
    // A level-triggered fixed LINT interrupt's remote IRR clears on its EOI (SDM 10.5.1).
    for (let pin = 0; pin < 2; pin++) {
      const i = Lvt.LINT0 + pin;
      const l = this.lvts[i]!;
      if ((l & LVT_REMOTE_IRR) !== 0 && (l & 0xff) === v) {
        this.lvts[i] = l & ~LVT_REMOTE_IRR;
        this.lintLevelCheck(pin);
      }
    }
    if ((this.tmr[w]! & bit) !== 0 && (this.svr & SVR_SUPPRESS_EOI_BROADCAST) === 0 && this.bus) {
      this.bus.eoiBroadcast(v);
    }
    if (this.pendingIntr() >= 0) this.wake();
  }

  /** Records an error (SDM 10.5.3) and fires the error LVT; an error inside the error LVT does not recurse. */
  setError(bits: number): void {
    this.esrPending |= bits;
    if (this.inErrorLvt) return;
    this.inErrorLvt = true;
    this.fireLvt(Lvt.ERROR);
    this.inErrorLvt = false;
  }

  /** A write to the ESR latches the errors seen since the previous write and clears them. */
  private writeEsr(): void {
    this.esr = this.esrPending;
    this.esrPending = 0;
  }

  private writeSvr(value: number): void {
    this.svr = value & SVR_WRITABLE;
    // Software disable (SDM 10.4.7.2): every LVT mask bit is set and stays set until re-enabled.
    if ((this.svr & SVR_ENABLE) === 0) {
      for (let i = 0; i < 7; i++) this.lvts[i] = this.lvts[i]! | LVT_MASKED;
    }
  }

  private writeLvt(i: number, value: number): void {
    const old = this.lvts[i]!;
    let v = (value & LVT_WRITABLE[i]!) | (old & LVT_REMOTE_IRR & LVT_DEFINED[i]!);
    if (!this.softwareEnabled) v |= LVT_MASKED;
    this.lvts[i] = v >>> 0;
    if (i === Lvt.TIMER) {
      const oldMode = (old >>> 17) & 3;
      const newMode = (v >>> 17) & 3;
      if (oldMode !== newMode) this.timerModeChanged(oldMode, newMode);
    } else if (i === Lvt.LINT0 || i === Lvt.LINT1) {
      if ((v & LVT_LEVEL) === 0) this.lvts[i] = this.lvts[i]! & ~LVT_REMOTE_IRR;
      this.lintLevelCheck(i - Lvt.LINT0);
      if (((v >>> 8) & 7) === DeliveryMode.EXTINT && (v & LVT_MASKED) === 0 && this.lintLevel[i - Lvt.LINT0]) this.wake();
    }
  }

  /** Level-triggered fixed LINT: deliver while active and remote IRR is clear. */
  private lintLevelCheck(pin: number): void {
    const i = Lvt.LINT0 + pin;
    const l = this.lvts[i]!;
    if (!this.lintLevel[pin] || (l & (LVT_MASKED | LVT_REMOTE_IRR)) !== 0) return;
    if (((l >>> 8) & 7) !== DeliveryMode.FIXED || (l & LVT_LEVEL) === 0) return;
    const vector = l & 0xff;
    if (vector < 16) {
      this.setError(Esr.RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    this.lvts[i] = l | LVT_REMOTE_IRR;
    this.setIntr(vector, true);
  }

  /** Delivers one LVT entry (SDM 10.5.1); timer and error entries are always fixed. */
  private fireLvt(i: number): void {
    const l = this.lvts[i]!;
    if (!this.hardwareEnabled || (l & LVT_MASKED) !== 0) return;
    const mode = i === Lvt.TIMER || i === Lvt.ERROR ? DeliveryMode.FIXED : (l >>> 8) & 7;
    switch (mode) {
      case DeliveryMode.FIXED:
        if ((i === Lvt.LINT0 || i === Lvt.LINT1) && (l & LVT_LEVEL) !== 0) {
          this.lintLevelCheck(i - Lvt.LINT0);
          return;
        }
        this.setIntr(l & 0xff, false);
        return;
      case DeliveryMode.SMI:
        this.smi = true;
        break;
      case DeliveryMode.NMI:
        this.nmi = true;
        break;
      case DeliveryMode.INIT:
        if (i !== Lvt.LINT0 && i !== Lvt.LINT1) return;
        this.init = true;
        break;
      case DeliveryMode.EXTINT:
        if (i !== Lvt.LINT0 && i !== Lvt.LINT1) return;
        this.extInt = true;
        break;
      default:
        return; // reserved delivery mode
    }
    this.wake();
  }

  // ---------------------------------------------------------------- IPIs and destinations

  private sendIcr(lo: number, dest: number): void {
    const vector = lo & 0xff;
    const mode = (lo >>> 8) & 7;
    const logical = (lo & 0x800) !== 0;
    const level = (lo & 0x4000) !== 0;
    const levelTriggered = (lo & 0x8000) !== 0;
    const shorthand = (lo >>> 18) & 3;
    if (mode === 3 || mode === DeliveryMode.EXTINT) return; // reserved in the ICR (SDM Figure 10-12)
    if (mode === DeliveryMode.INIT && levelTriggered && !level) return; // INIT level de-assert: no-op
    if ((mode === DeliveryMode.FIXED || mode === DeliveryMode.LOWEST_PRIORITY) && vector < 16) {
      this.setError(Esr.SEND_ILLEGAL_VECTOR);
      return;
    }
    let accepted: number;
    if (this.bus) {
      accepted = this.bus.sendIpi(this, shorthand, dest, logical, mode, vector, levelTriggered, level);
    } else {
      // Standalone: the only APIC on the bus is this one.
      const toSelf =
        shorthand === Shorthand.SELF ||
        shorthand === Shorthand.ALL_INCLUDING_SELF ||
        (shorthand === Shorthand.NONE && this.matchesDestination(dest, logical, this.x2apicMode));
      accepted = toSelf && this.acceptMessage(mode, vector, levelTriggered, level) ? 1 : 0;
    }
    if (accepted === 0 && shorthand === Shorthand.NONE) this.setError(Esr.SEND_ACCEPT);
  }

  /**
   * Does a message for `dest` select this APIC (SDM 10.6.2)? `x2apicFormat`: the destination is a
   * 32-bit x2APIC one (an IPI from an x2APIC-mode sender); otherwise 8-bit (xAPIC IPI, IOAPIC, MSI).
   * xAPIC: physical 0xFF broadcasts; logical flat matches LDR[31:24] & dest, cluster matches
   * cluster nibble (0xF = all clusters) and member bits. x2APIC: physical 0xFFFFFFFF broadcasts,
   * logical matches cluster dest[31:16] and member bits dest[15:0] (10.12.9); an 8-bit message's
   * 0xFF still broadcasts.
   */
  matchesDestination(dest: number, logical: boolean, x2apicFormat: boolean): boolean {
    if (!this.hardwareEnabled) return false;
    dest >>>= 0;
    if (this.x2apicMode) {
      if (!x2apicFormat && dest === 0xff) return true;
      if (dest === 0xffff_ffff) return true;
      if (!logical) return dest === this.id;
      return dest >>> 16 === this.ldr >>> 16 && (dest & this.ldr & 0xffff) !== 0;
    }
    if (x2apicFormat && dest === 0xffff_ffff) return true;
    const d = dest & 0xff;
    if (d === 0xff) return true;
    if (!logical) return d === (this.id & 0xff);
    const ldr8 = this.ldr >>> 24;
    const model = this.dfr >>> 28;
    if (model === 0xf) return (ldr8 & d) !== 0;
    if (model === 0) return ((d >>> 4) === 0xf || d >>> 4 === ldr8 >>> 4) && (d & ldr8 & 0xf) !== 0;
    return false;
  }

  // ---------------------------------------------------------------- timer (SDM 10.5.4)

  private timerMode(): number {
    return (this.lvts[Lvt.TIMER]! >>> 17) & 3;
  }

  /** Timer ticks (after the divider) between `startNs` and `ns`. */
  private countsBetween(startNs: number, ns: number): number {
    return Math.floor(ticksAt(ns - startNs, this.timerHz) / this.divisor);
  }

  /** Current-count register: from the clock, never ticked. */
  currentCount(): number {
    if (!this.timerRunning || this.timerMode() === TimerMode.TSC_DEADLINE) return 0;
    const k = this.countsBetween(this.timerBaseNs, this.clock.now());
    if (k < this.timerBaseCount) return this.timerBaseCount - k;
    if (this.timerMode() !== TimerMode.PERIODIC) return 0;
    return this.timerInitial - ((k - this.timerBaseCount) % this.timerInitial);
  }

  /** Next expiry (ns) after now for the running count-down timer. */
  private nextExpiry(): number {
    const k = this.countsBetween(this.timerBaseNs, this.clock.now());
    let target = this.timerBaseCount;
    if (k >= target) {
      if (this.timerMode() !== TimerMode.PERIODIC) return Infinity;
      target += (Math.floor((k - this.timerBaseCount) / this.timerInitial) + 1) * this.timerInitial;
    }
    return this.timerBaseNs + nsAtTick(target * this.divisor, this.timerHz);
  }

  private armCountdown(): void {
    const at = this.timerRunning ? this.nextExpiry() : Infinity;
    if (at === Infinity) this.timer.disarm();
    else this.timer.arm(at);
  }

  private writeInitialCount(value: number): void {
    if (this.timerMode() === TimerMode.TSC_DEADLINE) return; // ignored in TSC-deadline mode
    this.timerInitial = value >>> 0;
    this.timerBaseNs = this.clock.now();
    this.timerBaseCount = this.timerInitial;
    this.timerRunning = this.timerInitial !== 0;
    this.armCountdown();
  }

  private writeDcr(value: number): void {
    const current = this.currentCount();
    this.dcr = value & 0xb;
    this.divisor = DIVISORS[((this.dcr >>> 1) & 4) | (this.dcr & 3)]!;
    if (this.timerRunning && current !== 0) this.rebaseCountdown(current);
  }

  /** Restarts counting from `count` now (after a divider or mode change). */
  private rebaseCountdown(count: number): void {
    this.timerBaseNs = this.clock.now();
    this.timerBaseCount = count;
    this.armCountdown();
  }

  private timerModeChanged(oldMode: number, newMode: number): void {
    if (oldMode === TimerMode.TSC_DEADLINE || newMode === TimerMode.TSC_DEADLINE) {
      // Switching to or from TSC-deadline mode disarms the timer (SDM 10.5.4.1).
      this.timer.disarm();
      this.timerRunning = false;
      this.timerInitial = 0;
      this.tscDeadlineLo = 0;
      this.tscDeadlineHi = 0;
      return;
    }
    if (!this.timerRunning) return;
    // one-shot <-> periodic: the count continues from where it is.
    const saved = (this.lvts[Lvt.TIMER]! >>> 17) & 3;
    this.lvts[Lvt.TIMER] = (this.lvts[Lvt.TIMER]! & ~(3 << 17)) | (oldMode << 17);
    const current = this.currentCount();
    this.lvts[Lvt.TIMER] = (this.lvts[Lvt.TIMER]! & ~(3 << 17)) | (saved << 17);
    if (current === 0) {
      this.timerRunning = false;
      this.timer.disarm();
    } else this.rebaseCountdown(current);
  }

  /** Guest TSC = machine TSC + offset (ticks); the monitor sets it when the vCPU's TSC offset changes. */
  setTscOffset(ticks: number): void {
    this.tscOffset = ticks;
    if (this.timerMode() === TimerMode.TSC_DEADLINE) this.armTscDeadline();
  }

  private writeTscDeadline(lo: number, hi: number): void {
    if (this.timerMode() !== TimerMode.TSC_DEADLINE) return; // writes ignored outside TSC-deadline mode
    this.tscDeadlineLo = lo;
    this.tscDeadlineHi = hi;
    this.armTscDeadline();
  }

  private armTscDeadline(): void {
    if (this.tscDeadlineLo === 0 && this.tscDeadlineHi === 0) {
      this.timer.disarm();
      return;
    }
    const guestTicks = this.tscDeadlineHi * 0x1_0000_0000 + this.tscDeadlineLo;
    const machineTicks = guestTicks - this.tscOffset;
    if (machineTicks > Number.MAX_SAFE_INTEGER) {
      this.timer.disarm(); // beyond 2^53 ticks: decades away
      return;
    }
    const now = this.clock.now();
    const at = machineTicks <= 0 ? now : this.tsc.nsAt(machineTicks);
    this.timer.arm(Math.max(at, now));
  }

  private onTimer(): void {
    const mode = this.timerMode();
    if (mode === TimerMode.TSC_DEADLINE) {
      // Fires once and clears IA32_TSC_DEADLINE (SDM 10.5.4.1).
      this.tscDeadlineLo = 0;
      this.tscDeadlineHi = 0;
      this.fireLvt(Lvt.TIMER);
      return;
    }
    if (!this.timerRunning) return;
    if (mode !== TimerMode.PERIODIC) this.timerRunning = false;
    this.fireLvt(Lvt.TIMER);
    this.armCountdown();
  }

  // ---------------------------------------------------------------- snapshot

  saveState(): LocalApicState {
    return {
      apicBaseLo: this.apicBaseLo,
      apicBaseHi: this.apicBaseHi,
      id: this.id,
      tpr: this.tpr,
      ldr: this.ldr,
      dfr: this.dfr,
      svr: this.svr,
      esr: this.esr,
      esrPending: this.esrPending,
      icrLo: this.icrLo,
      icrHi: this.icrHi,
      lvt: Array.from(this.lvts),
      irr: Array.from(this.irr),
      isr: Array.from(this.isr),
      tmr: Array.from(this.tmr),
      timerInitial: this.timerInitial,
      dcr: this.dcr,
      timerBaseNs: this.timerBaseNs,
      timerBaseCount: this.timerBaseCount,
      timerRunning: this.timerRunning,
      tscDeadlineLo: this.tscDeadlineLo,
      tscDeadlineHi: this.tscDeadlineHi,
      tscOffset: this.tscOffset,
      lintLevel: [this.lintLevel[0]!, this.lintLevel[1]!],
      nmi: this.nmi,
      smi: this.smi,
      init: this.init,
      sipiVector: this.sipiVector,
      extInt: this.extInt,
    };
  }

  /**
   * Restores a saved state and re-arms the timer from it (restore the clock first). Every field is
   * validated before anything changes (InvalidArgumentError names the field).
   */
  restoreState(s: LocalApicState): void {
    const d = `LAPIC ${this.index}`;
    const U32 = 0xffff_ffff;
    const v = {
      apicBaseLo: stateInt(s, 'apicBaseLo', 0, U32, d),
      apicBaseHi: stateInt(s, 'apicBaseHi', 0, U32, d),
      id: stateInt(s, 'id', 0, U32, d),
      tpr: stateInt(s, 'tpr', 0, 0xff, d),
      ldr: stateInt(s, 'ldr', 0, U32, d),
      dfr: stateInt(s, 'dfr', 0, U32, d),
      svr: stateInt(s, 'svr', 0, SVR_WRITABLE, d),
      esr: stateInt(s, 'esr', 0, 0xff, d),
      esrPending: stateInt(s, 'esrPending', 0, 0xff, d),
      icrLo: stateInt(s, 'icrLo', 0, U32, d),
      icrHi: stateInt(s, 'icrHi', 0, U32, d),
      lvt: stateIntArray(s, 'lvt', 0, U32, d, 7),
      irr: stateIntArray(s, 'irr', 0, U32, d, 8),
      isr: stateIntArray(s, 'isr', 0, U32, d, 8),
      tmr: stateIntArray(s, 'tmr', 0, U32, d, 8),
      timerInitial: stateInt(s, 'timerInitial', 0, U32, d),
      dcr: stateInt(s, 'dcr', 0, 0xb, d),
      timerBaseNs: stateInt(s, 'timerBaseNs', 0, Number.MAX_SAFE_INTEGER, d),
      timerBaseCount: stateInt(s, 'timerBaseCount', 0, U32, d),
      timerRunning: stateBool(s, 'timerRunning', d),
      tscDeadlineLo: stateInt(s, 'tscDeadlineLo', 0, U32, d),
      tscDeadlineHi: stateInt(s, 'tscDeadlineHi', 0, U32, d),
      tscOffset: stateInt(s, 'tscOffset', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, d),
      nmi: stateBool(s, 'nmi', d),
      smi: stateBool(s, 'smi', d),
      init: stateBool(s, 'init', d),
      sipiVector: stateInt(s, 'sipiVector', -1, 0xff, d),
      extInt: stateBool(s, 'extInt', d),
    };
    const lint = s.lintLevel;
    if (!Array.isArray(lint) || lint.length !== 2 || typeof lint[0] !== 'boolean' || typeof lint[1] !== 'boolean') {
      throw new InvalidArgumentError(`${d} state: 'lintLevel' is not an array of 2 booleans`);
    }
    this.apicBaseLo = v.apicBaseLo;
    this.apicBaseHi = v.apicBaseHi;
    this.id = v.id;
    this.tpr = v.tpr;
    this.ldr = v.ldr;
    this.dfr = v.dfr;
    this.svr = v.svr;
    this.esr = v.esr;
    this.esrPending = v.esrPending;
    this.icrLo = v.icrLo;
    this.icrHi = v.icrHi;
    this.lvts.set(v.lvt);
    this.irr.set(v.irr);
    this.isr.set(v.isr);
    this.tmr.set(v.tmr);
    this.irrv = highestBit(this.irr);
    this.isrv = highestBit(this.isr);
    this.updatePpr();
    this.timerInitial = v.timerInitial;
    this.dcr = v.dcr;
    this.divisor = DIVISORS[((this.dcr >>> 1) & 4) | (this.dcr & 3)]!;
    this.timerBaseNs = v.timerBaseNs;
    this.timerBaseCount = v.timerBaseCount;
    this.timerRunning = v.timerRunning;
    this.tscDeadlineLo = v.tscDeadlineLo;
    this.tscDeadlineHi = v.tscDeadlineHi;
    this.tscOffset = v.tscOffset;
    this.lintLevel[0] = lint[0];
    this.lintLevel[1] = lint[1];
    this.nmi = v.nmi;
    this.smi = v.smi;
    this.init = v.init;
    this.sipiVector = v.sipiVector;
    this.extInt = v.extInt;
    if (this.timerMode() === TimerMode.TSC_DEADLINE) this.armTscDeadline();
    else this.armCountdown();
  }

  /** For error messages and tracing. */
  toString(): string {
    return `LAPIC ${this.index} (id ${hex(this.id)})`;
  }
}
