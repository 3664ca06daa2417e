/**
 * I/O APIC: 24 interrupt pins turned into interrupt messages for the local APICs.
 * Spec: Intel 82093AA I/O APIC datasheet (registers, redirection table), with the version-0x20
 * EOI register of the ICH I/O(x)APIC (Intel ICH9/ICH10 datasheets, "Advanced Programmable
 * Interrupt Controller (APIC)": EOI register at offset 40h).
 *
 * Memory map (offsets from the base, usually 0xFEC00000): 0x00 IOREGSEL (index), 0x10 IOWIN (data),
 * 0x40 EOI. Indirect registers: 0x00 ID (bits 27:24), 0x01 version (0x00170020: version 0x20, max
 * redirection entry 23), 0x02 arbitration ID (bits 27:24, read-only, = ID), 0x10 + 2n / 0x11 + 2n
 * redirection entry n low/high dword.
 *
 * Redirection entry (82093AA 3.2.4): 7:0 vector, 10:8 delivery mode, 11 destination mode (1 =
 * logical), 12 delivery status (RO), 13 polarity (1 = low), 14 remote IRR (RO), 15 trigger mode
 * (1 = level), 16 mask, 63:56 destination.
 *
 * Choices (docs/devices.md):
 * - Version 0x20, with the EOI register, so a guest may use EOI-broadcast suppression (the LAPIC
 *   advertises it) and EOI level-triggered pins here directly.
 * - `setPin(pin, level)` takes the logical (active) level; the polarity bit is stored and read
 *   back but not applied (as bhyve and KVM do): the board wiring already speaks in "asserted".
 * - Messages are delivered at once, so delivery status always reads 0. Remote IRR is set for a
 *   level-triggered fixed/lowest-priority message only when some LAPIC accepted it (otherwise the
 *   pin could never be EOIed); other delivery modes are edge-like whatever the trigger bit says.
 * - An edge arriving on a masked pin is lost (82093AA: masked edge interrupts are not held).
 * - IOWIN writes narrower than 4 bytes are dropped; narrower reads return the addressed bytes.
 */
import { InvalidArgumentError } from '../util/errors.js';
import type { BusDevice } from './bus.js';
import { DeliveryMode, type InterruptMessageSink } from './msi.js';
import { stateInt, stateIntArray } from './snapshot.js';

export const IOAPIC_DEFAULT_BASE = 0xfec0_0000;
export const IOAPIC_PINS = 24;
export const IOAPIC_VERSION = 0x0017_0020;

/** Direct register offsets. */
export const IoApicReg = { IOREGSEL: 0x00, IOWIN: 0x10, EOI: 0x40 } as const;
/** Indirect register indexes. */
export const IoApicIndex = { ID: 0x00, VERSION: 0x01, ARB: 0x02, REDTBL: 0x10 } as const;

const RTE_MASKED = 1 << 16;
const RTE_LEVEL = 1 << 15;
const RTE_REMOTE_IRR = 1 << 14;
/** Bits software writes in the low dword: vector, delivery mode, destination mode, polarity, trigger, mask. */
const RTE_LO_WRITABLE = 0x1afff;

export interface IoApicState {
  id: number;
  regsel: number;
  lo: number[];
  hi: number[];
  pins: boolean[];
}

export class IoApic implements BusDevice {
  private id = 0;
  private regsel = 0;
  private readonly lo = new Uint32Array(IOAPIC_PINS);
  private readonly hi = new Uint32Array(IOAPIC_PINS);
  private readonly level = new Uint8Array(IOAPIC_PINS);

  constructor(
    private readonly sink: InterruptMessageSink,
    options: { id?: number } = {},
  ) {
    const id = options.id ?? 0;
    if (!Number.isInteger(id) || id < 0 || id > 15) throw new InvalidArgumentError(`IOAPIC ID ${id} is not 0..15`);
    this.reset();
    this.id = id;
  }

  /** Power-on state: every pin masked, edge, vector 0; IOREGSEL 0. The ID is kept. */
  reset(): void {
    this.regsel = 0;
    this.lo.fill(RTE_MASKED);
    this.hi.fill(0);
  }

  get ioapicId(): number {
    return this.id;
  }

  /** Redirection entry `pin` as [low dword, high dword]. */
  redirection(pin: number): [number, number] {
    this.checkPin(pin);
    return [this.lo[pin]!, this.hi[pin]!];
  }

  /** The pin's current (logical) input level. */
  pinLevel(pin: number): boolean {
    this.checkPin(pin);
    return this.level[pin] !== 0;
  }

  // ---------------------------------------------------------------- pins

  /** Drives pin `pin` to `level` (true = asserted). */
  setPin(pin: number, level: boolean): void {
    this.checkPin(pin);
    const old = this.level[pin] !== 0;
    this.level[pin] = level ? 1 : 0;
    if (!level) return;
    const lo = this.lo[pin]!;
    if ((lo & RTE_MASKED) !== 0) return;
    if (this.isLevelEntry(lo)) {
      if ((lo & RTE_REMOTE_IRR) === 0) this.deliver(pin);
    } else if (!old) {
      this.deliver(pin);
    }
  }

  /** An edge on the pin (assert then deassert). */
  pulsePin(pin: number): void {
    this.setPin(pin, true);
    this.setPin(pin, false);
  }

  /**
   * EOI for `vector` (the LAPIC broadcast, or the EOI register): clears remote IRR of the
   * level-triggered pins with that vector and re-delivers those still asserted.
   */
  eoi(vector: number): void {
    vector &= 0xff;
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const lo = this.lo[pin]!;
      if ((lo & RTE_REMOTE_IRR) === 0 || (lo & 0xff) !== vector) continue;
      this.lo[pin] = lo & ~RTE_REMOTE_IRR;
      if (this.level[pin] !== 0 && (lo & RTE_MASKED) === 0) this.deliver(pin);
    }
  }

  private isLevelEntry(lo: number): boolean {
    const mode = (lo >>> 8) & 7;
    return (lo & RTE_LEVEL) !== 0 && (mode === DeliveryMode.FIXED || mode === DeliveryMode.LOWEST_PRIORITY);
  }

  private deliver(pin: number): void {
    const lo = this.lo[pin]!;
    const mode = (lo >>> 8) & 7;
    const levelEntry = this.isLevelEntry(lo);
    const accepted = this.sink.deliverMessage(
      this.hi[pin]! >>> 24,
      (lo & 0x800) !== 0,
      mode,
      lo & 0xff,
      levelEntry,
      mode === DeliveryMode.LOWEST_PRIORITY,
    );
    if (levelEntry && accepted > 0) this.lo[pin] = this.lo[pin]! | RTE_REMOTE_IRR;
  }

  // ---------------------------------------------------------------- MMIO

  read(offset: number, size: number): number {
    let v = 0;
    if (offset >= IoApicReg.IOWIN && offset < IoApicReg.IOWIN + 4) {
      v = this.readIndirect(this.regsel) >>> ((offset - IoApicReg.IOWIN) * 8);
    } else if (offset < 4) {
      v = offset === 0 ? this.regsel : 0;
    }
    return size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  write(offset: number, size: number, value: number): void {
    if (offset === IoApicReg.IOREGSEL) {
      this.regsel = value & 0xff;
    } else if (offset === IoApicReg.IOWIN) {
      if (size === 4) this.writeIndirect(this.regsel, value >>> 0);
    } else if (offset === IoApicReg.EOI) {
      this.eoi(value & 0xff);
    }
  }

  private readIndirect(index: number): number {
    if (index === IoApicIndex.ID || index === IoApicIndex.ARB) return (this.id << 24) >>> 0;
    if (index === IoApicIndex.VERSION) return IOAPIC_VERSION;
    if (index >= IoApicIndex.REDTBL && index < IoApicIndex.REDTBL + 2 * IOAPIC_PINS) {
      const pin = (index - IoApicIndex.REDTBL) >>> 1;
      return (index & 1) === 0 ? this.lo[pin]! : this.hi[pin]!;
    }
    return 0;
  }

  private writeIndirect(index: number, value: number): void {
    if (index === IoApicIndex.ID) {
      this.id = (value >>> 24) & 0xf;
      return;
    }
    if (index < IoApicIndex.REDTBL || index >= IoApicIndex.REDTBL + 2 * IOAPIC_PINS) return;
    const pin = (index - IoApicIndex.REDTBL) >>> 1;
    if ((index & 1) === 1) {
      this.hi[pin] = (value & 0xff00_0000) >>> 0;
      return;
    }
    let lo = (value & RTE_LO_WRITABLE) | (this.lo[pin]! & RTE_REMOTE_IRR);
    // Remote IRR is meaningless for edge entries: switching to edge clears it.
    if ((lo & RTE_LEVEL) === 0) lo &= ~RTE_REMOTE_IRR;
    this.lo[pin] = lo >>> 0;
    // Unmasking (or rewriting) a level entry whose pin is asserted delivers it.
    if (this.level[pin] !== 0 && (lo & (RTE_MASKED | RTE_REMOTE_IRR)) === 0 && this.isLevelEntry(lo)) this.deliver(pin);
  }

  private checkPin(pin: number): void {
    if (!Number.isInteger(pin) || pin < 0 || pin >= IOAPIC_PINS) {
      throw new InvalidArgumentError(`IOAPIC pin ${pin} is not 0..${IOAPIC_PINS - 1}`);
    }
  }

  // ---------------------------------------------------------------- snapshot

  saveState(): IoApicState {
    return {
      id: this.id,
      regsel: this.regsel,
      lo: Array.from(this.lo),
      hi: Array.from(this.hi),
      pins: Array.from(this.level, (l) => l !== 0),
    };
  }

  /** Restores a saved state; every field is validated before anything changes. */
  restoreState(s: IoApicState): void {
    const d = 'IOAPIC';
    const id = stateInt(s, 'id', 0, 15, d);
    const regsel = stateInt(s, 'regsel', 0, 0xff, d);
    const lo = stateIntArray(s, 'lo', 0, 0xffff_ffff, d, IOAPIC_PINS);
    const hi = stateIntArray(s, 'hi', 0, 0xffff_ffff, d, IOAPIC_PINS);
    const pins = s.pins;
    if (!Array.isArray(pins) || pins.length !== IOAPIC_PINS || pins.some((p) => typeof p !== 'boolean')) {
      throw new InvalidArgumentError(`${d} state: 'pins' is not an array of ${IOAPIC_PINS} booleans`);
    }
    this.id = id;
    this.regsel = regsel;
    this.lo.set(lo);
    this.hi.set(hi);
    for (let i = 0; i < IOAPIC_PINS; i++) this.level[i] = pins[i] ? 1 : 0;
  }
}
