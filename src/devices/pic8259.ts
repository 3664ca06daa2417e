/**
 * The PC's dual 8259A programmable interrupt controller (Intel 8259A datasheet, order 231468;
 * ELCR per the Intel PIIX/ICH datasheets, "Edge/Level Control Registers" at 0x4D0/0x4D1).
 *
 * One object holds both chips: master at ports 0x20/0x21, slave at 0xA0/0xA1 with its INT output
 * wired to master IR2 (the cascade), and the two ELCR bytes. The interrupt-controller facade drives
 * inputs with setIrq(0-15, level), reads INT with hasInterrupt() (also pushed to `output`, wired to
 * LAPIC LINT0 or straight to the CPU), and runs the INTA cycle with acknowledge().
 *
 * Implemented: ICW1-ICW4 (ICW1.LTIM, SNGL, IC4; ICW4 AEOI, SFNM), OCW1 mask, OCW2 all eight
 * commands (non-specific/specific EOI, rotate on EOI, rotate in AEOI mode, set priority), OCW3
 * (read IRR/ISR, poll, special mask mode), priority resolution with rotation, cascade through IR2,
 * spurious IRQ7/IRQ15 vectors, ELCR edge/level.
 *
 * Deviations from the datasheet (what a VMM needs, as bhyve's vatpic does):
 * - An edge-triggered request stays latched in IRR after the input falls, so pulse() (assert then
 *   deassert at one instant) delivers. The datasheet wants the input held high until the first
 *   INTA, else the INTA gives a "default IR7"; that spurious case arises here only when the request
 *   is masked or withdrawn by a level input falling, or by OCW1 before the acknowledge.
 * - 8080/8085 mode (ICW4.uPM = 0), buffered mode and ICW1.ADI are accepted and ignored; the call
 *   address interval does not exist on x86.
 */
import type { IrqLine } from './irq-line.js';
import { byteRegisters, type BusDevice, type IoBus } from './bus.js';
import { InvalidArgumentError } from '../util/errors.js';
import { stateBool, stateInt } from './snapshot.js';

/** ELCR bits that may be set: IRQ0, 1, 2 (master) and IRQ8, 13 (slave) are always edge (PIIX). */
const ELCR_MASK = [0xf8, 0xde] as const;

/** One 8259A. */
class Chip {
  /** Next ICW expected at the odd port: 0 = initialised (OCW mode), 2, 3 or 4. */
  icwStep = 0;
  /** ICW1 fields. */
  ic4 = false;
  single = false;
  ltim = false;
  /** ICW2: vector base (T7-T3). */
  vectorBase = 0;
  /** ICW3: master = bitmap of IRs with a slave; slave = its cascade identity. */
  icw3 = 0;
  /** ICW4 fields. */
  aeoi = false;
  sfnm = false;
  /** Registers. */
  irr = 0;
  isr = 0;
  imr = 0;
  /** Current input pin levels (bit per IR). */
  pins = 0;
  /** OCW2 "rotate in automatic EOI mode". */
  rotateAeoi = false;
  /** The IR with the lowest priority; the highest is (lowest + 1) & 7. */
  lowest = 7;
  /** OCW3 state: next read of the even port returns ISR (else IRR); poll pending; special mask mode. */
  readIsr = false;
  poll = false;
  smm = false;
  /** ELCR byte: 1 = level-triggered. */
  elcr = 0;

  constructor(readonly isMaster: boolean) {}

  isLevel(ir: number): boolean {
    return this.ltim || ((this.elcr >> ir) & 1) !== 0;
  }

  /** Drives input `ir` to `level`. */
  setPin(ir: number, level: boolean): void {
    const bit = 1 << ir;
    const was = (this.pins & bit) !== 0;
    if (level) {
      this.pins |= bit;
      // Edge mode latches on the rising edge; level mode follows the input.
      if (!was || this.isLevel(ir)) this.irr |= bit;
    } else {
      this.pins &= ~bit;
      if (this.isLevel(ir)) this.irr &= ~bit;
    }
  }

  /**
   * The IR that would be presented at INTA now, or -1 (datasheet "Priority Resolver"): scan from
   * the highest priority; an in-service level blocks itself and everything below, except in special
   * mask mode, where a masked in-service level blocks nothing; in special fully nested mode (master)
   * an in-service cascade input does not block further requests from its slave.
   */
  highest(): number {
    if (this.icwStep !== 0) return -1;
    let serviced = this.isr;
    if (this.smm) serviced &= ~this.imr;
    if (this.sfnm && this.isMaster) serviced &= ~this.icw3;
    const req = this.irr & ~this.imr;
    if (req === 0) return -1;
    for (let i = 1; i <= 8; i++) {
      const ir = (this.lowest + i) & 7;
      const bit = 1 << ir;
      if (serviced & bit) return -1; // a level in service also blocks a new request of its own
      if (req & bit) return ir;
    }
    return -1;
  }

  /** The in-service IR with the highest priority, or -1 (for the non-specific EOI). */
  highestInService(): number {
    for (let i = 1; i <= 8; i++) {
      const ir = (this.lowest + i) & 7;
      if (this.isr & (1 << ir)) return ir;
    }
    return -1;
  }

  /** The INTA effect on `ir`: IRR bit to ISR (or AEOI). Level-triggered IRR follows its pin. */
  accept(ir: number): void {
    const bit = 1 << ir;
    if (!this.isLevel(ir)) this.irr &= ~bit;
    else if ((this.pins & bit) === 0) this.irr &= ~bit;
    if (this.aeoi) {
      if (this.rotateAeoi) this.lowest = ir;
    } else {
      this.isr |= bit;
    }
  }

  /** ICW1 (datasheet "Initialization Command Words"). */
  icw1(v: number): void {
    this.ic4 = (v & 0x01) !== 0;
    this.single = (v & 0x02) !== 0;
    this.ltim = (v & 0x08) !== 0;
    // The edge sense circuit is reset: an edge input must rise again to request.
    this.irr = 0;
    for (let ir = 0; ir < 8; ir++) if (this.isLevel(ir) && this.pins & (1 << ir)) this.irr |= 1 << ir;
    this.isr = 0;
    this.imr = 0; // "the Interrupt Mask Register is cleared"
    this.lowest = 7; // "IR7 input is assigned priority 7" (lowest)
    this.smm = false; // "the special mask mode is cleared"
    this.readIsr = false; // "status read is set to IRR"
    this.poll = false;
    this.rotateAeoi = false;
    if (!this.ic4) {
      // "If IC4 = 0, then all functions selected in ICW4 are set to zero"
      this.aeoi = false;
      this.sfnm = false;
    }
    this.icwStep = 2;
  }

  /** ICW2-ICW4 at the odd port. */
  icwN(v: number): void {
    switch (this.icwStep) {
      case 2:
        this.vectorBase = v & 0xf8;
        this.icwStep = this.single ? (this.ic4 ? 4 : 0) : 3;
        break;
      case 3:
        this.icw3 = v & 0xff;
        this.icwStep = this.ic4 ? 4 : 0;
        break;
      case 4:
        this.aeoi = (v & 0x02) !== 0;
        this.sfnm = (v & 0x10) !== 0;
        this.icwStep = 0;
        break;
    }
  }

  /** OCW2: R (bit 7), SL (bit 6), EOI (bit 5), L2-L0. */
  ocw2(v: number): void {
    const level = v & 7;
    switch (v >> 5) {
      case 0b001: {
        // non-specific EOI
        const ir = this.highestInService();
        if (ir >= 0) this.isr &= ~(1 << ir);
        break;
      }
      case 0b011: // specific EOI
        this.isr &= ~(1 << level);
        break;
      case 0b101: {
        // rotate on non-specific EOI: the serviced level becomes the lowest priority
        const ir = this.highestInService();
        if (ir >= 0) {
          this.isr &= ~(1 << ir);
          this.lowest = ir;
        }
        break;
      }
      case 0b100: // set rotate in automatic EOI mode
        this.rotateAeoi = true;
        break;
      case 0b000: // clear rotate in automatic EOI mode
        this.rotateAeoi = false;
        break;
      case 0b111: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.lowest = level;
        break;
      case 0b110: // set priority command: L becomes the lowest priority
        this.lowest = level;
        break;
      case 0b010: // no operation
        break;
    }
  }

  /** OCW3: ESMM (bit 6), SMM (bit 5), P (bit 2), RR (bit 1), RIS (bit 0). */
  ocw3(v: number): void {
    if (v & 0x40) this.smm = (v & 0x20) !== 0;
    if (v & 0x04) this.poll = true;
    if (v & 0x02) this.readIsr = (v & 0x01) !== 0;
  }
}

/** Saved form of one chip. */
export interface Pic8259ChipState {
  icwStep: number;
  ic4: boolean;
  single: boolean;
  ltim: boolean;
  vectorBase: number;
  icw3: number;
  aeoi: boolean;
  sfnm: boolean;
  irr: number;
  isr: number;
  imr: number;
  pins: number;
  rotateAeoi: boolean;
  lowest: number;
  readIsr: boolean;
  poll: boolean;
  smm: boolean;
  elcr: number;
}

export interface Pic8259State {
  master: Pic8259ChipState;
  slave: Pic8259ChipState;
}

/** The I/O port assignment on a PC. */
export const PIC_MASTER_PORT = 0x20;
export const PIC_SLAVE_PORT = 0xa0;
export const PIC_ELCR_PORT = 0x4d0;

/** The dual 8259A with ELCR. */
export class Pic8259 {
  private readonly m = new Chip(true);
  private readonly s = new Chip(false);
  private intLevel = false;
  private output: IrqLine | null;

  /** Port-bus views: register them at 0x20, 0xA0 and 0x4D0 (or call attach). */
  readonly masterPorts: BusDevice;
  readonly slavePorts: BusDevice;
  readonly elcrPorts: BusDevice;

  /** `output` follows the INT pin: asserted while an unmasked request can be presented. */
  constructor(output?: IrqLine) {
    this.output = output ?? null;
    // 8-bit registers: a 16-bit access (e.g. the ELCR pair) is two byte cycles.
    this.masterPorts = byteRegisters(
      2,
      (off) => this.readChip(this.m, off),
      (off, v) => this.writeChip(this.m, off, v),
    );
    this.slavePorts = byteRegisters(
      2,
      (off) => this.readChip(this.s, off),
      (off, v) => this.writeChip(this.s, off, v),
    );
    this.elcrPorts = byteRegisters(
      2,
      (off) => (off === 0 ? this.m.elcr : this.s.elcr),
      (off, v) => this.writeElcr(off, v),
    );
    this.powerOnState = this.saveState();
  }

  private readonly powerOnState: Pic8259State;

  /**
   * System reset (PIIX RCIN / machine reset): both chips back to the state the initialization
   * sequence starts from (8259A datasheet, ICW1: edge sense reset, IMR cleared, IR7 lowest priority,
   * special mask mode off, read IRR; ICW4 functions zero) with IRR, ISR and the ELCR cleared. The
   * input pins are wires, not chip state: their levels are kept.
   */
  reset(): void {
    const pm = this.m.pins;
    const ps = this.s.pins;
    this.restoreState(this.powerOnState);
    this.m.pins = pm;
    this.s.pins = ps;
    this.cascadeUpdate();
    this.update();
  }

  /** Registers the three port ranges on `bus`. */
  attach(bus: IoBus): void {
    bus.register(PIC_MASTER_PORT, 2, this.masterPorts, 'pic-master');
    bus.register(PIC_SLAVE_PORT, 2, this.slavePorts, 'pic-slave');
    bus.register(PIC_ELCR_PORT, 2, this.elcrPorts, 'pic-elcr');
  }

  /** Connects (or replaces) the INT output; the new line is driven to the current level. */
  setOutput(line: IrqLine | null): void {
    this.output = line;
    if (line) {
      if (this.intLevel) line.assert();
      else line.deassert();
    }
  }

  /**
   * Drives ISA IRQ `irq` (0-15) to `level`; edge or level sensing per the ELCR. IRQ 2 is accepted
   * and has no effect: on a PC master IR2 is wired to the slave's INT, not to the ISA bus.
   */
  setIrq(irq: number, level: boolean): void {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15) {
      throw new InvalidArgumentError(`PIC IRQ ${irq} is not an ISA IRQ 0-15`);
    }
    if (irq === 2) return;
    if (irq < 8) this.m.setPin(irq, level);
    else this.s.setPin(irq - 8, level);
    this.update();
  }

  /** An IrqLine for ISA IRQ `irq` (edge sources pulse it; level sources assert/deassert). */
  line(irq: number): IrqLine {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15) {
      throw new InvalidArgumentError(`PIC IRQ ${irq} is not an ISA IRQ 0-15`);
    }
    return {
      assert: () => this.setIrq(irq, true),
      deassert: () => this.setIrq(irq, false),
      pulse: () => {
        this.setIrq(irq, true);
        this.setIrq(irq, false);
      },
    };
  }

  /** The INT output: true when the master has a request to present. */
  hasInterrupt(): boolean {
    return this.m.highest() >= 0;
  }

  /**
   * The INTA cycle: returns the vector and moves the request to in-service (or AEOI). With no
   * request left, a spurious IR7 of the chip that was asked (master vector base + 7, or the slave's
   * base + 7 with master IR2 left in service, as the hardware does).
   */
  acknowledge(): number {
    const m = this.m;
    const ir = m.highest();
    let vector: number;
    if (ir < 0) {
      vector = m.vectorBase | 7;
    } else {
      m.accept(ir);
      if (!m.single && (m.icw3 >> ir) & 1) {
        const s = this.s;
        const sir = s.highest();
        if (sir < 0) {
          vector = s.vectorBase | 7;
        } else {
          s.accept(sir);
          vector = s.vectorBase | sir;
        }
        // The slave's INT drops during its INTA and rises again if it still has a request
        // (AEOI, or a higher-priority one): a fresh edge for master IR2.
        this.cascadeUpdate();
        if (s.highest() >= 0) m.irr |= 1 << 2;
      } else {
        vector = m.vectorBase | ir;
      }
    }
    this.update();
    return vector;
  }

  /** Reads a PIC register by I/O port (0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1); tests and tools. */
  readPort(port: number): number {
    switch (port) {
      case 0x20:
      case 0x21:
        return this.masterPorts.read(port - 0x20, 1);
      case 0xa0:
      case 0xa1:
        return this.slavePorts.read(port - 0xa0, 1);
      case 0x4d0:
      case 0x4d1:
        return this.elcrPorts.read(port - 0x4d0, 1);
    }
    throw new InvalidArgumentError(`port 0x${port.toString(16)} is not a PIC port`);
  }

  /** Writes a PIC register by I/O port. */
  writePort(port: number, value: number): void {
    switch (port) {
      case 0x20:
      case 0x21:
        return this.masterPorts.write(port - 0x20, 1, value);
      case 0xa0:
      case 0xa1:
        return this.slavePorts.write(port - 0xa0, 1, value);
      case 0x4d0:
      case 0x4d1:
        return this.elcrPorts.write(port - 0x4d0, 1, value);
    }
    throw new InvalidArgumentError(`port 0x${port.toString(16)} is not a PIC port`);
  }

  /** The ELCR as a 16-bit mask (bit n = IRQ n level-triggered). */
  get elcr(): number {
    return this.m.elcr | (this.s.elcr << 8);
  }

  /** Vector bases programmed by ICW2 (master, slave). */
  get vectorBases(): [number, number] {
    return [this.m.vectorBase, this.s.vectorBase];
  }

  saveState(): Pic8259State {
    return { master: saveChip(this.m), slave: saveChip(this.s) };
  }

  restoreState(state: Pic8259State): void {
    const m = parseChip(state?.master, 'pic master');
    const s = parseChip(state?.slave, 'pic slave');
    Object.assign(this.m, m);
    Object.assign(this.s, s);
    this.update();
  }

  private readChip(c: Chip, off: number): number {
    if (off === 1) return c.imr;
    if (c.poll) {
      // Poll command: the read is the acknowledge (datasheet "The Poll Command").
      c.poll = false;
      const ir = c.highest();
      if (ir < 0) return 0;
      c.accept(ir);
      if (c === this.s) this.cascadeUpdate();
      this.update();
      return 0x80 | ir;
    }
    return c.readIsr ? c.isr : c.irr;
  }

  private writeChip(c: Chip, off: number, v: number): void {
    if (off === 0) {
      if (v & 0x10) c.icw1(v);
      else if (v & 0x08) c.ocw3(v);
      else c.ocw2(v);
    } else if (c.icwStep !== 0) {
      c.icwN(v);
    } else {
      c.imr = v; // OCW1
    }
    if (c === this.s) this.cascadeUpdate();
    this.update();
  }

  private writeElcr(off: number, v: number): void {
    const c = off === 0 ? this.m : this.s;
    c.elcr = v & ELCR_MASK[off === 0 ? 0 : 1];
    // A pin switched to level now requests if high; one switched to edge keeps its latch.
    for (let ir = 0; ir < 8; ir++) if (c.isLevel(ir) && c.pins & (1 << ir)) c.irr |= 1 << ir;
    this.cascadeUpdate();
    this.update();
  }

  /** The slave's INT drives master IR2 (the input named by the master's ICW3; IR2 on a PC). */
  private cascadeUpdate(): void {
    this.m.setPin(2, this.s.highest() >= 0);
  }

  private update(): void {
    this.cascadeUpdate();
    const level = this.m.highest() >= 0;
    if (level === this.intLevel) return;
    this.intLevel = level;
    const out = this.output;
    if (out) {
      if (level) out.assert();
      else out.deassert();
    }
  }
}

function saveChip(c: Chip): Pic8259ChipState {
  return {
    icwStep: c.icwStep,
    ic4: c.ic4,
    single: c.single,
    ltim: c.ltim,
    vectorBase: c.vectorBase,
    icw3: c.icw3,
    aeoi: c.aeoi,
    sfnm: c.sfnm,
    irr: c.irr,
    isr: c.isr,
    imr: c.imr,
    pins: c.pins,
    rotateAeoi: c.rotateAeoi,
    lowest: c.lowest,
    readIsr: c.readIsr,
    poll: c.poll,
    smm: c.smm,
    elcr: c.elcr,
  };
}

function parseChip(s: unknown, who: string): Pic8259ChipState {
  const step = stateInt(s, 'icwStep', 0, 4, who);
  if (step === 1) throw new InvalidArgumentError(`${who} state: 'icwStep' = 1 is not 0, 2, 3 or 4`);
  return {
    icwStep: step,
    ic4: stateBool(s, 'ic4', who),
    single: stateBool(s, 'single', who),
    ltim: stateBool(s, 'ltim', who),
    vectorBase: stateInt(s, 'vectorBase', 0, 0xf8, who) & 0xf8,
    icw3: stateInt(s, 'icw3', 0, 0xff, who),
    aeoi: stateBool(s, 'aeoi', who),
    sfnm: stateBool(s, 'sfnm', who),
    irr: stateInt(s, 'irr', 0, 0xff, who),
    isr: stateInt(s, 'isr', 0, 0xff, who),
    imr: stateInt(s, 'imr', 0, 0xff, who),
    pins: stateInt(s, 'pins', 0, 0xff, who),
    rotateAeoi: stateBool(s, 'rotateAeoi', who),
    lowest: stateInt(s, 'lowest', 0, 7, who),
    readIsr: stateBool(s, 'readIsr', who),
    poll: stateBool(s, 'poll', who),
    smm: stateBool(s, 'smm', who),
    elcr: stateInt(s, 'elcr', 0, 0xff, who),
  };
}
