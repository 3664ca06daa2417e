/**
 * The interrupt-controller facade (after crosvm's devices/src/irqchip and bhyve's vm_isa_* /
 * vioapic / vlapic glue): one object that owns the dual 8259, the IOAPIC and one LAPIC per vCPU,
 * routes device lines to them, delivers interrupt messages, and answers the vCPU side's questions.
 * Devices only see IrqLines and an MsiSender; the monitor only talks to this facade.
 *
 * Routing (seed 001; the PC/AT wiring described by the MP spec and ACPI MADT):
 * - ISA IRQ n drives 8259 input n and IOAPIC pin n, except IRQ 0 -> IOAPIC pin 2 (the MADT's
 *   interrupt source override); IRQ 2 is the cascade and takes no device. Several sources on one
 *   line are wired-OR (a line is high while any source asserts it).
 * - GSI lines drive IOAPIC pins 0-23 directly (16-23 for PCI INTx).
 * - HPET legacy replacement: while LEG_RT_CNF is set, HPET timer 0 replaces the devices on IRQ 0
 *   (the PIT) and timer 1 those on IRQ 8 (the RTC): a multiplexer, as on the ICH.
 * - The 8259's INT output drives LINT0 of every LAPIC (virtual wire); a LAPIC with LINT0 in
 *   ExtINT mode (or globally disabled: INTR straight to the CPU) takes the vector from the 8259's
 *   INTA cycle. `nmi()` pulses LINT1 of every LAPIC (a board NMI, like SERR#).
 * - Messages (IOAPIC, MSI, IPIs) are routed by physical, logical flat and logical cluster
 *   destinations (and x2APIC formats) through LocalApic.matchesDestination; lowest-priority
 *   delivery (mode 1, or MSI RH = 1) goes to the matching LAPIC with the lowest arbitration
 *   priority, ties to the lowest vCPU index (the SDM leaves the choice to the chipset).
 * - EOI of a level-triggered vector is broadcast from the LAPIC to the IOAPIC.
 * - A message from the IOAPIC or an MSI that no LAPIC accepts sets Receive Accept Error in every
 *   enabled LAPIC (the P6 APIC-bus behaviour; `acceptErrors: false` turns it off).
 *
 * The vCPU handshake: `hasInterrupt(cpu)` (a maskable interrupt is deliverable: ExtINT or a LAPIC
 * vector above PPR), `acknowledgeInterrupt(cpu)` (only when RFLAGS.IF and blocking allow: runs the
 * 8259 INTA for ExtINT, else accepts the LAPIC vector), `hasPendingEvent(cpu)` (anything that ends
 * HLT), and the LAPIC's takeNmi/takeInit/takeSipi/takeSmi. `wake(cpu)` is called when an event
 * becomes pending for a vCPU.
 */
import { InvalidArgumentError } from '../util/errors.js';
import type { VirtualClock } from '../time/clock.js';
import type { IrqLine } from './irq-line.js';
import { Pic8259, type Pic8259State } from './pic8259.js';
import { IoApic, IOAPIC_PINS, type IoApicState } from './ioapic.js';
import { Esr, LocalApic, Shorthand, type ApicBus, type LocalApicOptions, type LocalApicState } from './lapic.js';
import { DeliveryMode, deliverMsi, type InterruptMessageSink, type MsiSender } from './msi.js';
import type { HpetWiring } from './hpet.js';

export interface IrqChipOptions {
  /** Number of vCPUs (LAPICs). Default 1. */
  cpus?: number;
  /** APIC ID of each vCPU. Default: the vCPU index. */
  apicIds?: number[];
  /** The 8259 pair to use (its INT output is connected here). Default: a new one. */
  pic?: Pic8259;
  /** IOAPIC ID. Default: the number of vCPUs (the first ID after the LAPICs, as MP tables do). */
  ioapicId?: number;
  /** Options shared by every LAPIC (timer frequency, TSC model, MAXPHYADDR). */
  lapic?: Pick<LocalApicOptions, 'timerHz' | 'tsc' | 'maxPhysAddrBits' | 'onBaseChange'>;
  /** Called when an event becomes pending for vCPU `cpu` (wake it from HLT). */
  wake?: (cpu: number) => void;
  /** Report Receive Accept Error for messages nobody accepts. Default true. */
  acceptErrors?: boolean;
}

const KIND_ISA = 0;
const KIND_GSI = 1;
const KIND_HPET = 2;

/** One source on a wired-OR line. */
class SourceLine implements IrqLine {
  asserted = false;
  constructor(
    private readonly chip: IrqChip,
    readonly kind: number,
    readonly n: number,
  ) {}
  assert(): void {
    if (this.asserted) return;
    this.asserted = true;
    this.chip.sourceChanged(this.kind, this.n, 1);
  }
  deassert(): void {
    if (!this.asserted) return;
    this.asserted = false;
    this.chip.sourceChanged(this.kind, this.n, -1);
  }
  pulse(): void {
    if (this.asserted) return; // a line held high by this source has no edge to give
    this.assert();
    this.deassert();
  }
}

export interface IrqChipState {
  pic: Pic8259State;
  ioapic: IoApicState;
  lapics: LocalApicState[];
  lines: boolean[];
  hpetLegacy: boolean;
}

/** The IOAPIC pin an ISA IRQ drives (IRQ 0 -> pin 2). */
export function isaIrqToPin(irq: number): number {
  return irq === 0 ? 2 : irq;
}

export class IrqChip implements InterruptMessageSink, MsiSender, ApicBus {
  readonly pic: Pic8259;
  readonly ioapic: IoApic;
  readonly lapics: readonly LocalApic[];
  private readonly wakeCb: (cpu: number) => void;
  private readonly acceptErrors: boolean;
  private readonly lines: SourceLine[] = [];
  private readonly isaCount = new Int32Array(16);
  private readonly gsiCount = new Int32Array(IOAPIC_PINS);
  private readonly hpetCount = new Int32Array(2);
  private readonly isaState = new Uint8Array(16);
  private readonly pinState = new Uint8Array(IOAPIC_PINS);
  private hpetLegacy = false;
  private readonly defaultIsa: SourceLine[] = [];
  private readonly defaultGsi: SourceLine[] = [];

  constructor(clock: VirtualClock, options: IrqChipOptions = {}) {
    const cpus = options.cpus ?? 1;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > 255) {
      throw new InvalidArgumentError(`vCPU count ${cpus} is not an integer in 1..255`);
    }
    const ids = options.apicIds ?? Array.from({ length: cpus }, (_, i) => i);
    if (ids.length !== cpus) throw new InvalidArgumentError(`apicIds has ${ids.length} entries for ${cpus} vCPUs`);
    if (new Set(ids).size !== ids.length) throw new InvalidArgumentError(`apicIds [${ids.join(', ')}] repeat an ID`);
    this.wakeCb = options.wake ?? (() => {});
    this.acceptErrors = options.acceptErrors ?? true;
    const lapics: LocalApic[] = [];
    for (let i = 0; i < cpus; i++) {
      const a = new LocalApic(clock, i, { ...options.lapic, apicId: ids[i]!, bsp: i === 0, wake: () => this.wakeCb(i) });
      a.bus = this;
      lapics.push(a);
    }
    this.lapics = lapics;
    this.ioapic = new IoApic(this, { id: options.ioapicId ?? cpus & 0xf });
    this.pic = options.pic ?? new Pic8259();
    this.pic.setOutput({
      assert: () => this.picOutput(true),
      deassert: () => this.picOutput(false),
      pulse: () => {
        this.picOutput(true);
        this.picOutput(false);
      },
    });
    for (let irq = 0; irq < 16; irq++) this.defaultIsa.push(new SourceLine(this, KIND_ISA, irq));
    for (let pin = 0; pin < IOAPIC_PINS; pin++) this.defaultGsi.push(new SourceLine(this, KIND_GSI, pin));
  }

  /** The LAPIC of vCPU `cpu`. */
  lapic(cpu: number): LocalApic {
    const a = this.lapics[cpu];
    if (!a) throw new InvalidArgumentError(`vCPU ${cpu} does not exist (${this.lapics.length} vCPUs)`);
    return a;
  }

  // ---------------------------------------------------------------- device side

  /** A new source on ISA IRQ `irq` (0-15 except 2): give it to one device. */
  isaLine(irq: number): IrqLine {
    checkIsa(irq);
    return this.newLine(KIND_ISA, irq);
  }

  /** A new source on IOAPIC pin `gsi` (0-23). */
  gsiLine(gsi: number): IrqLine {
    checkGsi(gsi);
    return this.newLine(KIND_GSI, gsi);
  }

  /** bhyve's VM_ISA_ASSERT_IRQ / DEASSERT / PULSE, on one built-in source per IRQ. */
  assertIsaIrq(irq: number): void {
    checkIsa(irq);
    this.defaultIsa[irq]!.assert();
  }
  deassertIsaIrq(irq: number): void {
    checkIsa(irq);
    this.defaultIsa[irq]!.deassert();
  }
  pulseIsaIrq(irq: number): void {
    checkIsa(irq);
    this.defaultIsa[irq]!.pulse();
  }
  /** bhyve's VM_IOAPIC_ASSERT_IRQ / DEASSERT / PULSE, on one built-in source per pin. */
  assertGsi(gsi: number): void {
    checkGsi(gsi);
    this.defaultGsi[gsi]!.assert();
  }
  deassertGsi(gsi: number): void {
    checkGsi(gsi);
    this.defaultGsi[gsi]!.deassert();
  }
  pulseGsi(gsi: number): void {
    checkGsi(gsi);
    this.defaultGsi[gsi]!.pulse();
  }

  /** Pulses LINT1 of every LAPIC: a board NMI (LINT1 is NMI in the stock configuration). */
  nmi(): void {
    for (const a of this.lapics) a.setLint(1, true);
    for (const a of this.lapics) a.setLint(1, false);
  }

  /** An MSI write (address pair, data). False if the address is not 0xFEExxxxx (not an interrupt). */
  sendMsi(addressLo: number, addressHi: number, data: number): boolean {
    return deliverMsi(this, addressLo, addressHi, data);
  }

  /** Wiring for an Hpet: its pins, its legacy-replacement outputs and the multiplexer, MSI. */
  hpetWiring(): HpetWiring {
    return {
      ioapicPin: (pin) => this.gsiLine(pin),
      legacyIrq: (irq) => this.newLine(KIND_HPET, irq === 0 ? 0 : 1),
      setLegacyReplacement: (on) => {
        this.hpetLegacy = on;
        this.updateIsa(0);
        this.updateIsa(8);
      },
      msi: this,
    };
  }

  /** The level ISA IRQ `irq` presents to the 8259 and the IOAPIC now. */
  isaLevel(irq: number): boolean {
    checkIsa(irq);
    return this.isaState[irq] !== 0;
  }

  private newLine(kind: number, n: number): SourceLine {
    const l = new SourceLine(this, kind, n);
    this.lines.push(l);
    return l;
  }

  /** @internal a source on (kind, n) went up (+1) or down (-1). */
  sourceChanged(kind: number, n: number, delta: number): void {
    if (kind === KIND_ISA) {
      this.isaCount[n] = this.isaCount[n]! + delta;
      this.updateIsa(n);
    } else if (kind === KIND_GSI) {
      this.gsiCount[n] = this.gsiCount[n]! + delta;
      this.updatePin(n);
    } else {
      this.hpetCount[n] = this.hpetCount[n]! + delta;
      this.updateIsa(n === 0 ? 0 : 8);
    }
  }

  private computeIsa(irq: number): number {
    if (this.hpetLegacy && (irq === 0 || irq === 8)) return this.hpetCount[irq === 0 ? 0 : 1]! > 0 ? 1 : 0;
    return this.isaCount[irq]! > 0 ? 1 : 0;
  }

  private computePin(pin: number): number {
    if (this.gsiCount[pin]! > 0) return 1;
    const irq = pin === 2 ? 0 : pin === 0 || pin >= 16 ? -1 : pin;
    return irq >= 0 ? this.isaState[irq]! : 0;
  }

  private updateIsa(irq: number): void {
    const level = this.computeIsa(irq);
    if (level === this.isaState[irq]) return;
    this.isaState[irq] = level;
    this.pic.setIrq(irq, level !== 0);
    this.updatePin(isaIrqToPin(irq));
  }

  private updatePin(pin: number): void {
    const level = this.computePin(pin);
    if (level === this.pinState[pin]) return;
    this.pinState[pin] = level;
    this.ioapic.setPin(pin, level !== 0);
  }

  private picOutput(level: boolean): void {
    for (const a of this.lapics) a.setLint(0, level);
  }

  // ---------------------------------------------------------------- message routing

  /** InterruptMessageSink: a message from the IOAPIC or an MSI (8-bit destination). */
  deliverMessage(
    dest: number,
    logical: boolean,
    mode: number,
    vector: number,
    levelTriggered: boolean,
    lowestPriority: boolean,
  ): number {
    const n = this.route(null, Shorthand.NONE, dest, logical, false, mode, vector, levelTriggered, true, lowestPriority);
    if (n === 0 && this.acceptErrors) {
      for (const a of this.lapics) if (a.hardwareEnabled) a.setError(Esr.RECEIVE_ACCEPT);
    }
    return n;
  }

  /** ApicBus: an IPI from `source` (destination 32-bit if the source is in x2APIC mode). */
  sendIpi(
    source: LocalApic,
    shorthand: number,
    dest: number,
    logical: boolean,
    mode: number,
    vector: number,
    levelTriggered: boolean,
    level: boolean,
  ): number {
    return this.route(source, shorthand, dest, logical, source.x2apicMode, mode, vector, levelTriggered, level, mode === DeliveryMode.LOWEST_PRIORITY);
  }

  /** ApicBus: EOI broadcast of a level-triggered vector. */
  eoiBroadcast(vector: number): void {
    this.ioapic.eoi(vector);
  }

  private route(
    source: LocalApic | null,
    shorthand: number,
    dest: number,
    logical: boolean,
    x2apicFormat: boolean,
    mode: number,
    vector: number,
    levelTriggered: boolean,
    level: boolean,
    lowest: boolean,
  ): number {
    const apics = this.lapics;
    if (lowest) {
      let best: LocalApic | null = null;
      let bestPri = 0x100;
      for (let i = 0; i < apics.length; i++) {
        const a = apics[i]!;
        if (!selected(a, source, shorthand, dest, logical, x2apicFormat)) continue;
        if (!a.hardwareEnabled || !a.softwareEnabled) continue;
        const pri = a.arbitrationPriority();
        if (pri < bestPri) {
          best = a;
          bestPri = pri;
        }
      }
      return best !== null && best.acceptMessage(mode === DeliveryMode.LOWEST_PRIORITY ? DeliveryMode.FIXED : mode, vector, levelTriggered, level) ? 1 : 0;
    }
    let accepted = 0;
    for (let i = 0; i < apics.length; i++) {
      const a = apics[i]!;
      if (selected(a, source, shorthand, dest, logical, x2apicFormat) && a.acceptMessage(mode, vector, levelTriggered, level)) accepted++;
    }
    return accepted;
  }

  // ---------------------------------------------------------------- vCPU side

  /** An ExtINT is waiting for vCPU `cpu`: an ExtINT message, or LINT0/INTR with the 8259 requesting. */
  extIntPending(cpu: number): boolean {
    const a = this.lapic(cpu);
    return a.extIntRequested() || (a.lintExtIntActive() && this.pic.hasInterrupt());
  }

  /** A maskable interrupt is deliverable to vCPU `cpu` (ExtINT, or a LAPIC vector above PPR). */
  hasInterrupt(cpu: number): boolean {
    return this.extIntPending(cpu) || this.lapic(cpu).pendingIntr() >= 0;
  }

  /**
   * Takes the maskable interrupt for vCPU `cpu` (call only when RFLAGS.IF and blocking allow):
   * ExtINT first (the 8259's INTA cycle gives the vector), else the LAPIC's highest deliverable
   * vector (IRR -> ISR). Returns the vector, or -1 if nothing is pending.
   */
  acknowledgeInterrupt(cpu: number): number {
    const a = this.lapic(cpu);
    if (this.extIntPending(cpu)) {
      a.clearExtInt();
      return this.pic.acknowledge();
    }
    const v = a.pendingIntr();
    if (v < 0) return -1;
    a.intrAccepted(v);
    return v;
  }

  /** Anything that ends HLT for vCPU `cpu`: a maskable interrupt, NMI, SMI, INIT or SIPI. */
  hasPendingEvent(cpu: number): boolean {
    return this.extIntPending(cpu) || this.lapic(cpu).hasPendingEvent();
  }

  // ---------------------------------------------------------------- snapshot

  /** The whole interrupt subsystem: 8259, IOAPIC, LAPICs and the levels of every source line. */
  saveState(): IrqChipState {
    return {
      pic: this.pic.saveState(),
      ioapic: this.ioapic.saveState(),
      lapics: this.lapics.map((a) => a.saveState()),
      lines: [...this.defaultIsa, ...this.defaultGsi, ...this.lines].map((l) => l.asserted),
      hpetLegacy: this.hpetLegacy,
    };
  }

  /**
   * Restores a state saved by an IrqChip wired the same way (same vCPUs, lines created in the same
   * order). Line levels are restored without re-driving the chips, whose own state is restored.
   */
  restoreState(s: IrqChipState): void {
    const all = [...this.defaultIsa, ...this.defaultGsi, ...this.lines];
    if (!s || !Array.isArray(s.lapics) || s.lapics.length !== this.lapics.length) {
      throw new InvalidArgumentError(`interrupt-controller state: 'lapics' does not hold ${this.lapics.length} LAPIC states`);
    }
    if (!Array.isArray(s.lines) || s.lines.length !== all.length || s.lines.some((b) => typeof b !== 'boolean')) {
      throw new InvalidArgumentError(`interrupt-controller state: 'lines' is not ${all.length} booleans (wired differently?)`);
    }
    if (typeof s.hpetLegacy !== 'boolean') throw new InvalidArgumentError(`interrupt-controller state: 'hpetLegacy' is not a boolean`);
    this.pic.restoreState(s.pic);
    this.ioapic.restoreState(s.ioapic);
    this.lapics.forEach((a, i) => a.restoreState(s.lapics[i]!));
    this.isaCount.fill(0);
    this.gsiCount.fill(0);
    this.hpetCount.fill(0);
    all.forEach((l, i) => {
      l.asserted = s.lines[i]!;
      if (!l.asserted) return;
      if (l.kind === KIND_ISA) this.isaCount[l.n]!++;
      else if (l.kind === KIND_GSI) this.gsiCount[l.n]!++;
      else this.hpetCount[l.n]!++;
    });
    this.hpetLegacy = s.hpetLegacy;
    for (let irq = 0; irq < 16; irq++) this.isaState[irq] = irq === 2 ? 0 : this.computeIsa(irq);
    for (let pin = 0; pin < IOAPIC_PINS; pin++) this.pinState[pin] = this.computePin(pin);
  }
}

function selected(a: LocalApic, source: LocalApic | null, shorthand: number, dest: number, logical: boolean, x2: boolean): boolean {
  switch (shorthand) {
    case Shorthand.SELF:
      return a === source;
    case Shorthand.ALL_INCLUDING_SELF:
      return true;
    case Shorthand.ALL_EXCLUDING_SELF:
      return a !== source;
    default:
      return a.matchesDestination(dest, logical, x2);
  }
}

function checkIsa(irq: number): void {
  if (!Number.isInteger(irq) || irq < 0 || irq > 15 || irq === 2) {
    throw new InvalidArgumentError(`ISA IRQ ${irq} is not 0-15 (IRQ 2 is the 8259 cascade and takes no device)`);
  }
}

function checkGsi(gsi: number): void {
  if (!Number.isInteger(gsi) || gsi < 0 || gsi >= IOAPIC_PINS) {
    throw new InvalidArgumentError(`GSI ${gsi} is not an IOAPIC pin 0-${IOAPIC_PINS - 1}`);
  }
}
