/**
 * HPET: High Precision Event Timer, one block of 8 timers (MMIO, usually at 0xFED00000, 1 KiB).
 * Spec: IA-PC HPET (High Precision Event Timers) Specification 1.0a, section 2.3 (registers),
 * 2.3.9 (timer modes: one-shot, periodic with Tn_VAL_SET_CNF, 32-bit mode), 2.3.8.1 (legacy
 * replacement routing), 2.3.9.4 (FSB interrupt delivery).
 *
 * Register map (64-bit registers, accessed as 32-bit halves; the MMIO bus splits 8-byte accesses
 * low half first): 0x000 capabilities/ID, 0x010 configuration, 0x020 interrupt status, 0x0F0 main
 * counter, 0x100 + 0x20 * n timer n: +0x00 config/capabilities, +0x08 comparator, +0x10 FSB route
 * (low dword FSB_INT_VAL = MSI data, high dword FSB_INT_ADDR = MSI address).
 *
 * What we advertise: vendor 0x8086, revision 1, 8 timers (as bhyve), 64-bit main counter, legacy
 * replacement capable, period 1e15 / hz fs (default 25 MHz: 40,000,000 fs = 40 ns, within the
 * spec's 100 ns limit). Every timer is 64-bit capable (with 32-bit mode), periodic capable and FSB
 * capable; Tn_INT_ROUTE_CAP = `routeCap` (default pins 20-23: pins 16-19 carry PCI INTx).
 *
 * Semantics chosen where the spec is loose (docs/devices.md):
 * - A timer interrupts when the main counter becomes equal to its comparator (low 32 bits in
 *   32-bit mode): a comparator set to the current or a past value fires only after the counter
 *   wraps (2^32 ticks in 32-bit mode; never in practice in 64-bit mode), as the spec's "equal"
 *   says (bhyve does the same; Linux checks for a missed deadline itself).
 * - Periodic mode: a comparator write sets the period; with Tn_VAL_SET_CNF it also sets the
 *   comparator (the accumulator) and clears Tn_VAL_SET_CNF. The two halves of one 64-bit write both
 *   reach the comparator. On each match the comparator advances by the period.
 * - Level-triggered timers set their Tn_INT_STS bit on a match even with Tn_INT_ENB_CNF clear
 *   (the spec: "the timer will still operate and generate appropriate status bits"); the line is
 *   asserted while status, Tn_INT_ENB_CNF and ENABLE_CNF are all set; writing 1 clears status.
 *   Edge-triggered and FSB timers never set status.
 * - Routing precedence: legacy replacement (timers 0 and 1), then FSB, then the IOAPIC pin; a route
 *   value outside Tn_INT_ROUTE_CAP is not taken (the field keeps its old value, so the read-back
 *   differs as the spec says).
 * - The main counter may be written while running (the spec says "should" halt first): it jumps.
 * - Writes narrower than 4 bytes are dropped; narrower reads return the addressed bytes.
 */
import { InvalidArgumentError } from '../util/errors.js';
import type { ClockTimer, VirtualClock } from '../time/clock.js';
import { nsAtTick, ticksAt } from '../time/ticks.js';
import type { BusDevice } from './bus.js';
import { NO_IRQ, type IrqLine } from './irq-line.js';
import type { MsiSender } from './msi.js';
import { stateInt, stateIntArray } from './snapshot.js';

export const HPET_DEFAULT_BASE = 0xfed0_0000;
export const HPET_MMIO_SIZE = 0x400;
export const HPET_TIMERS = 8;
export const HPET_VENDOR_ID = 0x8086;

/** Register offsets. */
export const HpetReg = {
  CAP: 0x000,
  PERIOD: 0x004,
  CONFIG: 0x010,
  STATUS: 0x020,
  COUNTER_LO: 0x0f0,
  COUNTER_HI: 0x0f4,
  TIMER0: 0x100,
} as const;

/** General configuration bits. */
export const HPET_ENABLE_CNF = 1 << 0;
export const HPET_LEG_RT_CNF = 1 << 1;

/** Timer configuration bits (spec Table 2-9 / 2.3.8). */
export const HpetTimerCnf = {
  INT_TYPE_LEVEL: 1 << 1,
  INT_ENB: 1 << 2,
  PERIODIC: 1 << 3,
  PER_INT_CAP: 1 << 4,
  SIZE_CAP: 1 << 5,
  VAL_SET: 1 << 6,
  MODE32: 1 << 8,
  ROUTE_SHIFT: 9,
  FSB_EN: 1 << 14,
  FSB_DEL_CAP: 1 << 15,
} as const;

const TIMER_WRITABLE = 0x7f4e;
const TIMER_CAPS = HpetTimerCnf.PER_INT_CAP | HpetTimerCnf.SIZE_CAP | HpetTimerCnf.FSB_DEL_CAP;
const TWO32 = 0x1_0000_0000;
/** Output targets: 0-31 IOAPIC pins, 32 = legacy IRQ 0, 33 = legacy IRQ 8. */
const TARGET_IRQ0 = 32;
const TARGET_IRQ8 = 33;
const NO_TARGET = -1;
const TARGET_MSI = -2;

/** What the HPET is wired to (the interrupt-controller facade provides it). */
export interface HpetWiring {
  /** IOAPIC pin `pin` (asked once per pin in Tn_INT_ROUTE_CAP, at construction). */
  ioapicPin(pin: number): IrqLine;
  /** Legacy replacement outputs: ISA IRQ 0 (timer 0) and IRQ 8 (timer 1). */
  legacyIrq(irq: 0 | 8): IrqLine;
  /** LEG_RT_CNF changed: with it on, the PIT's IRQ 0 and the RTC's IRQ 8 are disconnected. */
  setLegacyReplacement(on: boolean): void;
  /** FSB (MSI) delivery. */
  msi: MsiSender | null;
}

export interface HpetOptions {
  /** Main counter frequency in Hz (integer, 10 MHz or more so the period is at most 100 ns). Default 25 MHz. */
  hz?: number;
  /** Tn_INT_ROUTE_CAP bitmap of IOAPIC pins every timer may use. Default 0x00F00000 (pins 20-23). */
  routeCap?: number;
  wiring?: HpetWiring;
}

export interface HpetState {
  config: number;
  status: number;
  counterLo: number;
  counterHi: number;
  baseNs: number;
  timerConfig: number[];
  cmpLo: number[];
  cmpHi: number[];
  periodLo: number[];
  periodHi: number[];
  fsbData: number[];
  fsbAddr: number[];
  valSetHigh: number;
  driven: number[];
}

export class Hpet implements BusDevice {
  readonly hz: number;
  readonly periodFs: number;
  readonly routeCap: number;
  private readonly wiring: HpetWiring | null;
  private readonly pinLines: IrqLine[] = [];
  private readonly legacy0: IrqLine;
  private readonly legacy8: IrqLine;

  private config = 0;
  private status = 0;
  /** Halted: the counter value. Running: the value at baseNs. */
  private counterLo = 0;
  private counterHi = 0;
  private baseNs = 0;
  private readonly timerConfig = new Uint32Array(HPET_TIMERS);
  private readonly cmpLo = new Uint32Array(HPET_TIMERS);
  private readonly cmpHi = new Uint32Array(HPET_TIMERS);
  private readonly periodLo = new Uint32Array(HPET_TIMERS);
  private readonly periodHi = new Uint32Array(HPET_TIMERS);
  private readonly fsbData = new Uint32Array(HPET_TIMERS);
  private readonly fsbAddr = new Uint32Array(HPET_TIMERS);
  private readonly timers: ClockTimer[] = [];
  /** Timer whose comparator high half still takes a VAL_SET write (the second half of a 64-bit write), or -1. */
  private valSetHigh = -1;
  /** Level currently driven on each target (0-31 pins, 32 IRQ 0, 33 IRQ 8). */
  private readonly driven = new Uint8Array(34);
  /** Scratch result of counterNow(). */
  private nowLo = 0;
  private nowHi = 0;

  constructor(
    private readonly clock: VirtualClock,
    options: HpetOptions = {},
  ) {
    const hz = options.hz ?? 25_000_000;
    if (!Number.isSafeInteger(hz) || hz < 10_000_000 || hz >= 2 ** 33) {
      throw new InvalidArgumentError(`HPET frequency ${hz} Hz must be an integer in [10 MHz, 2^33) (period at most 100 ns)`);
    }
    const cap = options.routeCap ?? 0x00f0_0000;
    if (!Number.isInteger(cap) || cap < 0 || cap > 0xffff_ffff) {
      throw new InvalidArgumentError(`HPET route capability ${cap} is not a 32-bit pin bitmap`);
    }
    this.hz = hz;
    this.periodFs = Math.floor(1e15 / hz);
    this.routeCap = cap >>> 0;
    this.wiring = options.wiring ?? null;
    for (let pin = 0; pin < 32; pin++) {
      this.pinLines.push(this.wiring && (this.routeCap >>> pin) & 1 ? this.wiring.ioapicPin(pin) : NO_IRQ);
    }
    this.legacy0 = this.wiring ? this.wiring.legacyIrq(0) : NO_IRQ;
    this.legacy8 = this.wiring ? this.wiring.legacyIrq(8) : NO_IRQ;
    for (let n = 0; n < HPET_TIMERS; n++) this.timers.push(clock.createTimer(`hpet.t${n}`, () => this.onMatch(n)));
    this.reset();
  }

  /** Power-on state: halted at 0, timers idle with comparators all ones (spec 2.3.9.1 defaults). */
  reset(): void {
    if ((this.config & HPET_LEG_RT_CNF) !== 0) this.wiring?.setLegacyReplacement(false);
    this.config = 0;
    this.status = 0;
    this.counterLo = 0;
    this.counterHi = 0;
    this.baseNs = 0;
    this.timerConfig.fill(0);
    this.cmpLo.fill(0xffff_ffff);
    this.cmpHi.fill(0xffff_ffff);
    this.periodLo.fill(0);
    this.periodHi.fill(0);
    this.fsbData.fill(0);
    this.fsbAddr.fill(0);
    this.valSetHigh = -1;
    for (const t of this.timers) t.disarm();
    this.updateOutputs();
  }

  private get enabled(): boolean {
    return (this.config & HPET_ENABLE_CNF) !== 0;
  }

  /** Capabilities low dword: REV_ID 1, NUM_TIM_CAP, COUNT_SIZE_CAP, LEG_RT_CAP, VENDOR_ID. */
  private capLo(): number {
    return (0x01 | ((HPET_TIMERS - 1) << 8) | (1 << 13) | (1 << 15) | (HPET_VENDOR_ID << 16)) >>> 0;
  }

  // ---------------------------------------------------------------- main counter

  /** Computes the main counter now into nowLo/nowHi; returns the ticks elapsed since baseNs (0 if halted). */
  private counterNow(): number {
    if (!this.enabled) {
      this.nowLo = this.counterLo;
      this.nowHi = this.counterHi;
      return 0;
    }
    const elapsed = ticksAt(this.clock.now() - this.baseNs, this.hz);
    const eHi = Math.floor(elapsed / TWO32);
    const lo = this.counterLo + (elapsed - eHi * TWO32);
    const carry = lo >= TWO32 ? 1 : 0;
    this.nowLo = (lo - carry * TWO32) >>> 0;
    this.nowHi = (this.counterHi + eHi + carry) >>> 0;
    return elapsed;
  }

  /** The main counter as a number (exact below 2^53; for tests and tracing). */
  counter(): number {
    this.counterNow();
    return this.nowHi * TWO32 + this.nowLo;
  }

  private setCounter(lo: number, hi: number): void {
    this.counterLo = lo >>> 0;
    this.counterHi = hi >>> 0;
    this.baseNs = this.clock.now();
    this.armAll();
  }

  // ---------------------------------------------------------------- timers

  private armAll(): void {
    for (let n = 0; n < HPET_TIMERS; n++) this.arm(n);
  }

  /** Arms timer n for the next time the counter equals its comparator (strictly after now). */
  private arm(n: number): void {
    const t = this.timers[n]!;
    if (!this.enabled) {
      t.disarm();
      return;
    }
    const elapsed = this.counterNow();
    let delta: number;
    if ((this.timerConfig[n]! & HpetTimerCnf.MODE32) !== 0) {
      delta = (this.cmpLo[n]! - this.nowLo) >>> 0;
      if (delta === 0) delta = TWO32;
    } else {
      const dLo = (this.cmpLo[n]! - this.nowLo) >>> 0;
      const borrow = this.cmpLo[n]! < this.nowLo ? 1 : 0;
      const dHi = (this.cmpHi[n]! - this.nowHi - borrow) >>> 0;
      delta = dHi * TWO32 + dLo;
      if (delta === 0 || dHi >= 0x20_0000) {
        t.disarm(); // 2^53 ticks or more away: never in practice
        return;
      }
    }
    t.arm(this.baseNs + nsAtTick(elapsed + delta, this.hz));
  }

  private onMatch(n: number): void {
    if (!this.enabled) return;
    const cfg = this.timerConfig[n]!;
    this.raise(n);
    if ((cfg & HpetTimerCnf.PERIODIC) !== 0) {
      // The comparator (accumulator) advances by the period (spec 2.3.9.2.2).
      if ((cfg & HpetTimerCnf.MODE32) !== 0) {
        this.cmpLo[n] = (this.cmpLo[n]! + this.periodLo[n]!) >>> 0;
      } else {
        const lo = this.cmpLo[n]! + this.periodLo[n]!;
        const carry = lo >= TWO32 ? 1 : 0;
        this.cmpLo[n] = lo >>> 0;
        this.cmpHi[n] = (this.cmpHi[n]! + this.periodHi[n]! + carry) >>> 0;
      }
    }
    this.arm(n);
  }

  /** Timer n's event: status for level timers, an edge or a message otherwise. */
  private raise(n: number): void {
    const cfg = this.timerConfig[n]!;
    const target = this.target(n);
    if (target === TARGET_MSI) {
      if ((cfg & HpetTimerCnf.INT_ENB) !== 0 && this.wiring?.msi) {
        this.wiring.msi.sendMsi(this.fsbAddr[n]!, 0, this.fsbData[n]!);
      }
      return;
    }
    if ((cfg & HpetTimerCnf.INT_TYPE_LEVEL) !== 0) {
      this.status |= 1 << n;
      this.updateOutputs();
      return;
    }
    if ((cfg & HpetTimerCnf.INT_ENB) === 0 || target === NO_TARGET) return;
    if (this.driven[target] === 0) this.lineFor(target).pulse();
  }

  /** Where timer n's interrupt goes. */
  private target(n: number): number {
    const cfg = this.timerConfig[n]!;
    if ((this.config & HPET_LEG_RT_CNF) !== 0 && n < 2) return n === 0 ? TARGET_IRQ0 : TARGET_IRQ8;
    if ((cfg & HpetTimerCnf.FSB_EN) !== 0) return TARGET_MSI;
    const pin = (cfg >>> HpetTimerCnf.ROUTE_SHIFT) & 0x1f;
    return (this.routeCap >>> pin) & 1 ? pin : NO_TARGET;
  }

  private lineFor(target: number): IrqLine {
    return target === TARGET_IRQ0 ? this.legacy0 : target === TARGET_IRQ8 ? this.legacy8 : this.pinLines[target]!;
  }

  /** Drives every level output to OR(status && INT_ENB && ENABLE) of the level timers routed to it. */
  private updateOutputs(): void {
    let want0 = 0;
    let want1 = 0; // targets 32, 33
    let wantPins = 0;
    if (this.enabled) {
      for (let n = 0; n < HPET_TIMERS; n++) {
        const cfg = this.timerConfig[n]!;
        if ((this.status & (1 << n)) === 0 || (cfg & HpetTimerCnf.INT_ENB) === 0) continue;
        if ((cfg & HpetTimerCnf.INT_TYPE_LEVEL) === 0) continue;
        const t = this.target(n);
        if (t === TARGET_IRQ0) want0 = 1;
        else if (t === TARGET_IRQ8) want1 = 1;
        else if (t >= 0) wantPins |= 1 << t;
      }
    }
    for (let t = 0; t < 34; t++) {
      const want = t === TARGET_IRQ0 ? want0 : t === TARGET_IRQ8 ? want1 : (wantPins >>> t) & 1;
      if (this.driven[t] === want) continue;
      this.driven[t] = want;
      if (want) this.lineFor(t).assert();
      else this.lineFor(t).deassert();
    }
  }

  // ---------------------------------------------------------------- MMIO

  read(offset: number, size: number): number {
    this.valSetHigh = -1;
    const v = this.readDword(offset & 0x3fc) >>> ((offset & 3) * 8);
    return size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  write(offset: number, size: number, value: number): void {
    const pendingHigh = this.valSetHigh;
    this.valSetHigh = -1;
    if (size !== 4 || (offset & 3) !== 0) return;
    this.writeDword(offset & 0x3fc, value >>> 0, pendingHigh);
  }

  private readDword(off: number): number {
    switch (off) {
      case HpetReg.CAP:
        return this.capLo();
      case HpetReg.PERIOD:
        return this.periodFs;
      case HpetReg.CONFIG:
        return this.config;
      case HpetReg.STATUS:
        return this.status;
      case HpetReg.COUNTER_LO:
        this.counterNow();
        return this.nowLo;
      case HpetReg.COUNTER_HI:
        this.counterNow();
        return this.nowHi;
      default:
        break;
    }
    if (off < HpetReg.TIMER0 || off >= HpetReg.TIMER0 + 0x20 * HPET_TIMERS) return 0;
    const n = (off - HpetReg.TIMER0) >>> 5;
    switch (off & 0x1f) {
      case 0x00:
        return (this.timerConfig[n]! | TIMER_CAPS) >>> 0;
      case 0x04:
        return this.routeCap;
      case 0x08:
        return this.cmpLo[n]!;
      case 0x0c:
        return (this.timerConfig[n]! & HpetTimerCnf.MODE32) !== 0 ? 0 : this.cmpHi[n]!;
      case 0x10:
        return this.fsbData[n]!;
      case 0x14:
        return this.fsbAddr[n]!;
      default:
        return 0;
    }
  }

  private writeDword(off: number, v: number, pendingHigh: number): void {
    switch (off) {
      case HpetReg.CONFIG:
        this.writeConfig(v);
        return;
      case HpetReg.STATUS:
        // Write 1 to clear (level-triggered timers).
        this.status &= ~v & 0xff;
        this.updateOutputs();
        return;
      case HpetReg.COUNTER_LO:
        this.counterNow();
        this.setCounter(v, this.nowHi);
        return;
      case HpetReg.COUNTER_HI:
        this.counterNow();
        this.setCounter(this.nowLo, v);
        return;
      default:
        break;
    }
    if (off < HpetReg.TIMER0 || off >= HpetReg.TIMER0 + 0x20 * HPET_TIMERS) return;
    const n = (off - HpetReg.TIMER0) >>> 5;
    switch (off & 0x1f) {
      case 0x00:
        this.writeTimerConfig(n, v);
        return;
      case 0x08:
        this.writeComparator(n, v, false, false);
        return;
      case 0x0c:
        this.writeComparator(n, v, true, pendingHigh === n);
        return;
      case 0x10:
        this.fsbData[n] = v;
        return;
      case 0x14:
        this.fsbAddr[n] = v;
        return;
      default:
        return;
    }
  }

  private writeConfig(v: number): void {
    const old = this.config;
    const now = v & (HPET_ENABLE_CNF | HPET_LEG_RT_CNF);
    if ((old & HPET_ENABLE_CNF) !== 0 && (now & HPET_ENABLE_CNF) === 0) {
      // Halting: latch the counter.
      this.counterNow();
      this.counterLo = this.nowLo;
      this.counterHi = this.nowHi;
    }
    this.config = now;
    if ((old & HPET_ENABLE_CNF) === 0 && (now & HPET_ENABLE_CNF) !== 0) this.baseNs = this.clock.now();
    if (((old ^ now) & HPET_LEG_RT_CNF) !== 0) this.wiring?.setLegacyReplacement((now & HPET_LEG_RT_CNF) !== 0);
    this.armAll();
    this.updateOutputs();
  }

  private writeTimerConfig(n: number, v: number): void {
    const old = this.timerConfig[n]!;
    let cfg = v & TIMER_WRITABLE;
    const route = (cfg >>> HpetTimerCnf.ROUTE_SHIFT) & 0x1f;
    if (((this.routeCap >>> route) & 1) === 0) {
      // Unsupported route: keep the previous one (spec: the read-back will differ).
      cfg = (cfg & ~(0x1f << HpetTimerCnf.ROUTE_SHIFT)) | (old & (0x1f << HpetTimerCnf.ROUTE_SHIFT));
    }
    this.timerConfig[n] = cfg;
    if ((cfg & HpetTimerCnf.MODE32) !== 0) {
      // 32-bit mode: the comparator and period are 32-bit values.
      this.cmpHi[n] = 0;
      this.periodHi[n] = 0;
    }
    if ((cfg & HpetTimerCnf.INT_TYPE_LEVEL) === 0) this.status &= ~(1 << n);
    this.arm(n);
    this.updateOutputs();
  }

  private writeComparator(n: number, v: number, high: boolean, valSetHigh: boolean): void {
    const cfg = this.timerConfig[n]!;
    const periodic = (cfg & HpetTimerCnf.PERIODIC) !== 0;
    if (high) {
      if ((cfg & HpetTimerCnf.MODE32) !== 0) return;
      if (!periodic || valSetHigh) this.cmpHi[n] = v;
      if (periodic) this.periodHi[n] = v;
    } else {
      const valSet = (cfg & HpetTimerCnf.VAL_SET) !== 0;
      if (!periodic || valSet) this.cmpLo[n] = v;
      if (periodic) this.periodLo[n] = v;
      if (periodic && valSet) this.valSetHigh = n;
      this.timerConfig[n] = cfg & ~HpetTimerCnf.VAL_SET;
    }
    this.arm(n);
  }

  // ---------------------------------------------------------------- snapshot

  saveState(): HpetState {
    return {
      config: this.config,
      status: this.status,
      counterLo: this.counterLo,
      counterHi: this.counterHi,
      baseNs: this.baseNs,
      timerConfig: Array.from(this.timerConfig),
      cmpLo: Array.from(this.cmpLo),
      cmpHi: Array.from(this.cmpHi),
      periodLo: Array.from(this.periodLo),
      periodHi: Array.from(this.periodHi),
      fsbData: Array.from(this.fsbData),
      fsbAddr: Array.from(this.fsbAddr),
      valSetHigh: this.valSetHigh,
      driven: Array.from(this.driven),
    };
  }

  /** Restores a saved state (clock first), re-arms the timers and re-drives the outputs. */
  restoreState(s: HpetState): void {
    const d = 'HPET';
    const U32 = 0xffff_ffff;
    const arr = (k: string) => stateIntArray(s, k, 0, U32, d, HPET_TIMERS);
    const v = {
      config: stateInt(s, 'config', 0, 3, d),
      status: stateInt(s, 'status', 0, 0xff, d),
      counterLo: stateInt(s, 'counterLo', 0, U32, d),
      counterHi: stateInt(s, 'counterHi', 0, U32, d),
      baseNs: stateInt(s, 'baseNs', 0, Number.MAX_SAFE_INTEGER, d),
      timerConfig: arr('timerConfig'),
      cmpLo: arr('cmpLo'),
      cmpHi: arr('cmpHi'),
      periodLo: arr('periodLo'),
      periodHi: arr('periodHi'),
      fsbData: arr('fsbData'),
      fsbAddr: arr('fsbAddr'),
      valSetHigh: stateInt(s, 'valSetHigh', -1, HPET_TIMERS - 1, d),
      driven: stateIntArray(s, 'driven', 0, 1, d, 34),
    };
    const legacyChanged = ((this.config ^ v.config) & HPET_LEG_RT_CNF) !== 0;
    this.config = v.config;
    this.status = v.status;
    this.counterLo = v.counterLo;
    this.counterHi = v.counterHi;
    this.baseNs = v.baseNs;
    this.timerConfig.set(v.timerConfig);
    this.cmpLo.set(v.cmpLo);
    this.cmpHi.set(v.cmpHi);
    this.periodLo.set(v.periodLo);
    this.periodHi.set(v.periodHi);
    this.fsbData.set(v.fsbData);
    this.fsbAddr.set(v.fsbAddr);
    this.valSetHigh = v.valSetHigh;
    this.driven.set(v.driven);
    if (legacyChanged) this.wiring?.setLegacyReplacement((this.config & HPET_LEG_RT_CNF) !== 0);
    this.armAll();
    this.updateOutputs();
  }
}
