/**
 * A 16550A UART (National Semiconductor PC16550D datasheet: register summary Table II, FIFO
 * interrupt mode, "Interrupt Control Functions" Table IV) at the port base it is given, COM1
 * being 0x3F8 with ISA IRQ 4.
 *
 * Registers (offset: DLAB=0 / DLAB=1): 0 RBR/THR / DLL, 1 IER / DLM, 2 IIR (read) FCR (write),
 * 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR. 16-byte RX FIFO with trigger levels 1/4/8/14 and the
 * character-timeout interrupt (four character times at the programmed baud rate and frame, on the
 * virtual clock), interrupt priorities RLS > RDA/timeout > THRE > MSR, loopback (TX to RX, and
 * RTS/DTR/OUT1/OUT2 to CTS/DSR/RI/DCD), scratch register.
 *
 * On a PC the IRQ pin reaches the PIC through a buffer enabled by MCR.OUT2; in loopback the OUT2
 * pin is inactive, so no interrupt leaves the chip (option `out2GatesIrq`, default true).
 *
 * Deviations: transmission is instantaneous (a byte written to THR is on the output at once, so
 * THRE/TEMT are set again immediately and the TX FIFO never fills); received bytes move from the
 * host input queue into the RX FIFO as soon as there is room (host-side flow control, as QEMU
 * does), so host input never overruns; overrun is reachable through loopback. DMA mode (FCR3) and
 * the TXRDY/RXRDY pins are not modelled. LCR break is stored only.
 */
import type { ClockTimer, VirtualClock } from '../time/clock.js';
import { mulDivCeil } from '../time/ticks.js';
import type { IrqLine } from './irq-line.js';
import { byteRegisters, type BusDevice, type IoBus } from './bus.js';
import { InvalidArgumentError } from '../util/errors.js';
import { stateBool, stateDeadline, stateInt, stateIntArray } from './snapshot.js';

export const COM1_PORT = 0x3f8;
export const COM1_IRQ = 4;
export const COM2_PORT = 0x2f8;
export const COM2_IRQ = 3;

/** The 1.8432 MHz crystal divided by 16: the baud rate at divisor 1. */
const BAUD_BASE = 115200;
const FIFO_SIZE = 16;
const RX_TRIGGER = [1, 4, 8, 14] as const;

// LSR bits
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_PE = 0x04;
const LSR_FE = 0x08;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LSR_FIFOERR = 0x80;
// MCR bits
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
// IER bits
const IER_RDA = 0x01;
const IER_THRE = 0x02;
const IER_RLS = 0x04;
const IER_MSR = 0x08;

/** Receive-error flags carried by a character in the RX FIFO (LSR bit positions). */
export type UartLineError = 'parity' | 'framing' | 'break';

export interface Uart16550Options {
  /** Called with each transmitted byte (outside loopback). */
  onOutput?: (bytes: Uint8Array) => void;
  /** Keep transmitted bytes for takeOutput() (default true). */
  bufferOutput?: boolean;
  /** The PC wiring: the IRQ reaches the line only with MCR.OUT2 set and loopback off (default true). */
  out2GatesIrq?: boolean;
  /** Label for errors and state. */
  name?: string;
}

export interface Uart16550State {
  ier: number;
  lcr: number;
  mcr: number;
  scr: number;
  dll: number;
  dlm: number;
  fcr: number;
  lsrErrors: number;
  msrInputs: number;
  msrDelta: number;
  rbrLast: number;
  rx: number[];
  rxErr: number[];
  input: number[];
  thrPending: boolean;
  timeoutPending: boolean;
  timeoutDeadline: number;
  irqLevel: boolean;
}

export class Uart16550 {
  readonly name: string;
  /** Bus view: 8 byte registers from the base port. */
  readonly ports: BusDevice;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 12; // 9600 baud until programmed (the datasheet leaves it undefined)
  private dlm = 0;
  /** FCR bits kept: 0 FIFO enable, 3 DMA mode, 7:6 trigger. */
  private fcr = 0;
  /** Sticky LSR error bits OE (and PE/FE/BI of the character read last in non-FIFO mode). */
  private lsrErrors = 0;
  /** Modem inputs from outside (MSR bits 4-7: CTS, DSR, RI, DCD). */
  private msrInputs = 0xb0;
  /** MSR delta bits 0-3. */
  private msrDelta = 0;
  private rbrLast = 0;
  /** RX FIFO (in non-FIFO mode it holds at most one byte: the RBR). */
  private rx: number[] = [];
  /** Error flags (LSR_PE | LSR_FE | LSR_BI) per RX FIFO entry. */
  private rxErr: number[] = [];
  /** Host input not yet in the RX FIFO: byte | error flags << 8, from index inputHead on. */
  private input: number[] = [];
  private inputHead = 0;
  private thrPending = false;
  private timeoutPending = false;
  private irqLevel = false;
  private readonly timer: ClockTimer;
  private out: number[] = [];
  private readonly onOutput: ((bytes: Uint8Array) => void) | undefined;
  private readonly bufferOutput: boolean;
  private readonly out2Gates: boolean;

  constructor(
    private readonly clock: VirtualClock,
    private readonly irq: IrqLine,
    options: Uart16550Options = {},
  ) {
    this.name = options.name ?? 'uart16550';
    this.onOutput = options.onOutput;
    this.bufferOutput = options.bufferOutput ?? true;
    this.out2Gates = options.out2GatesIrq ?? true;
    this.timer = clock.createTimer(`${this.name}.rx-timeout`, () => {
      this.timeoutPending = true;
      this.update();
    });
    this.ports = byteRegisters(
      8,
      (off) => this.read(off),
      (off, v) => this.write(off, v),
    );
    this.powerOnState = this.saveState();
  }

  private readonly powerOnState: Uart16550State;

  /**
   * Master reset (16550A datasheet, "Reset" table): IER = 0, IIR = 01h, FCR = 0 (FIFOs cleared),
   * LCR = 0, MCR = 0, LSR = 60h, MSR deltas 0, INTR low; the scratch register and the divisor latch
   * as at power-on here. Host input not yet received stays queued (it is the line, not the chip).
   */
  reset(): void {
    const input = this.input.slice(this.inputHead);
    const level = this.irqLevel;
    this.restoreState({ ...this.powerOnState, input, msrInputs: this.msrInputs });
    this.irqLevel = level; // the line's current level: update() drives it to the reset level
    this.update();
  }

  /** Registers the 8 ports at `base` on `bus`. */
  attach(bus: IoBus, base = COM1_PORT): void {
    bus.register(base, 8, this.ports, this.name);
  }

  /** Feeds bytes from the host (keyboard, a file, a test) to the receiver. */
  feed(bytes: ArrayLike<number> | string): void {
    if (typeof bytes === 'string') {
      const enc = new TextEncoder().encode(bytes);
      for (let i = 0; i < enc.length; i++) this.input.push(enc[i]!);
    } else {
      for (let i = 0; i < bytes.length; i++) this.input.push(bytes[i]! & 0xff);
    }
    if (this.fillRx()) this.rxActivity();
    this.update();
  }

  /**
   * Queues one character that arrives with a line error (parity, framing, or a break, which
   * reads as 0), after any input already queued.
   */
  feedError(byte: number, error: UartLineError): void {
    const flag = error === 'parity' ? LSR_PE : error === 'framing' ? LSR_FE : LSR_BI;
    this.input.push((error === 'break' ? 0 : byte & 0xff) | (flag << 8));
    if (this.fillRx()) this.rxActivity();
    this.update();
  }

  /** Sets the modem-status inputs seen outside loopback (CTS, DSR, RI, DCD); deltas per the MSR rules. */
  setModemInputs(lines: { cts?: boolean; dsr?: boolean; ri?: boolean; dcd?: boolean }): void {
    let v = this.msrInputs;
    const set = (bit: number, on: boolean | undefined): void => {
      if (on !== undefined) v = on ? v | bit : v & ~bit;
    };
    set(0x10, lines.cts);
    set(0x20, lines.dsr);
    set(0x40, lines.ri);
    set(0x80, lines.dcd);
    const before = this.modemLines();
    this.msrInputs = v;
    this.modemChanged(before);
    this.update();
  }

  /** Drains and returns the buffered transmitted bytes. */
  takeOutput(): Uint8Array {
    const b = Uint8Array.from(this.out);
    this.out = [];
    return b;
  }

  /** Drains the buffered output as text (UTF-8). */
  takeOutputText(): string {
    return new TextDecoder().decode(this.takeOutput());
  }

  /** Bytes of host input not yet delivered to the RX FIFO. */
  get pendingInput(): number {
    return this.input.length - this.inputHead;
  }

  /** The baud rate the divisor latch selects (divisor 0 counts as 65536). */
  get baud(): number {
    return BAUD_BASE / this.divisor();
  }

  /** Reads register `off` (0-7). */
  read(off: number): number {
    const dlab = (this.lcr & 0x80) !== 0;
    switch (off) {
      case 0:
        return dlab ? this.dll : this.readRbr();
      case 1:
        return dlab ? this.dlm : this.ier;
      case 2:
        return this.readIir();
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5:
        return this.readLsr();
      case 6:
        return this.readMsr();
      case 7:
        return this.scr;
    }
    throw new InvalidArgumentError(`${this.name}: register offset ${off} is not 0-7`);
  }

  /** Writes register `off` (0-7). */
  write(off: number, value: number): void {
    const v = value & 0xff;
    const dlab = (this.lcr & 0x80) !== 0;
    switch (off) {
      case 0:
        if (dlab) this.dll = v;
        else this.writeThr(v);
        break;
      case 1:
        if (dlab) {
          this.dlm = v;
        } else {
          const was = this.ier;
          this.ier = v & 0x0f; // bits 4-7 are always 0 on the 16550A
          // Enabling ETBEI while THR is empty raises the THRE interrupt (16550 behaviour Linux probes).
          if (!(was & IER_THRE) && this.ier & IER_THRE) this.thrPending = true;
        }
        break;
      case 2:
        this.writeFcr(v);
        break;
      case 3:
        this.lcr = v;
        break;
      case 4: {
        const before = this.modemLines();
        this.mcr = v & 0x1f;
        this.modemChanged(before);
        break;
      }
      case 5:
      case 6:
        break; // LSR and MSR writes are factory-test only; ignored
      case 7:
        this.scr = v;
        break;
      default:
        throw new InvalidArgumentError(`${this.name}: register offset ${off} is not 0-7`);
    }
    this.update();
  }

  saveState(): Uart16550State {
    return {
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      fcr: this.fcr,
      lsrErrors: this.lsrErrors,
      msrInputs: this.msrInputs,
      msrDelta: this.msrDelta,
      rbrLast: this.rbrLast,
      rx: this.rx.slice(),
      rxErr: this.rxErr.slice(),
      input: this.input.slice(this.inputHead),
      thrPending: this.thrPending,
      timeoutPending: this.timeoutPending,
      timeoutDeadline: this.timer.armed ? this.timer.deadline : -1,
      irqLevel: this.irqLevel,
    };
  }

  /** Restores registers, FIFOs and the timeout timer (restore the clock first). */
  restoreState(s: Uart16550State): void {
    const w = this.name;
    const p = {
      ier: stateInt(s, 'ier', 0, 0x0f, w),
      lcr: stateInt(s, 'lcr', 0, 0xff, w),
      mcr: stateInt(s, 'mcr', 0, 0x1f, w),
      scr: stateInt(s, 'scr', 0, 0xff, w),
      dll: stateInt(s, 'dll', 0, 0xff, w),
      dlm: stateInt(s, 'dlm', 0, 0xff, w),
      fcr: stateInt(s, 'fcr', 0, 0xff, w),
      lsrErrors: stateInt(s, 'lsrErrors', 0, 0x1e, w),
      msrInputs: stateInt(s, 'msrInputs', 0, 0xf0, w),
      msrDelta: stateInt(s, 'msrDelta', 0, 0x0f, w),
      rbrLast: stateInt(s, 'rbrLast', 0, 0xff, w),
      rx: stateIntArray(s, 'rx', 0, 0xff, w),
      rxErr: stateIntArray(s, 'rxErr', 0, 0x1c, w),
      input: stateIntArray(s, 'input', 0, 0x1cff, w),
      thrPending: stateBool(s, 'thrPending', w),
      timeoutPending: stateBool(s, 'timeoutPending', w),
      timeoutDeadline: stateDeadline(s, 'timeoutDeadline', w),
      irqLevel: stateBool(s, 'irqLevel', w),
    };
    if (p.rx.length > FIFO_SIZE || p.rxErr.length !== p.rx.length) {
      throw new InvalidArgumentError(`${w} state: 'rx' must hold at most ${FIFO_SIZE} bytes, with one 'rxErr' entry each`);
    }
    this.ier = p.ier;
    this.lcr = p.lcr;
    this.mcr = p.mcr;
    this.scr = p.scr;
    this.dll = p.dll;
    this.dlm = p.dlm;
    this.fcr = p.fcr;
    this.lsrErrors = p.lsrErrors;
    this.msrInputs = p.msrInputs;
    this.msrDelta = p.msrDelta;
    this.rbrLast = p.rbrLast;
    this.rx = p.rx;
    this.rxErr = p.rxErr;
    this.input = p.input;
    this.inputHead = 0;
    this.thrPending = p.thrPending;
    this.timeoutPending = p.timeoutPending;
    this.irqLevel = p.irqLevel;
    if (p.timeoutDeadline >= 0) this.timer.arm(p.timeoutDeadline);
    else this.timer.disarm();
  }

  private fifoEnabled(): boolean {
    return (this.fcr & 1) !== 0;
  }

  private divisor(): number {
    const d = this.dll | (this.dlm << 8);
    return d === 0 ? 65536 : d;
  }

  /** Capacity of the receive buffer: 16 with FIFOs, the single RBR without. */
  private rxCapacity(): number {
    return this.fifoEnabled() ? FIFO_SIZE : 1;
  }

  /** Moves host input into the RX FIFO while there is room; true if anything moved. */
  private fillRx(): boolean {
    let moved = false;
    const cap = this.rxCapacity();
    while (this.inputHead < this.input.length && this.rx.length < cap) {
      const e = this.input[this.inputHead++]!;
      this.deliver(e & 0xff, e >> 8);
      moved = true;
    }
    // Drop the consumed prefix now and then, so a large feed costs linear time overall.
    if (this.inputHead === this.input.length) {
      this.input.length = 0;
      this.inputHead = 0;
    } else if (this.inputHead >= 4096 && this.inputHead * 2 >= this.input.length) {
      this.input = this.input.slice(this.inputHead);
      this.inputHead = 0;
    }
    return moved;
  }

  /** A character completes at the receiver (from loopback): may overrun. */
  private receive(byte: number): void {
    if (this.rx.length >= this.rxCapacity()) {
      // Overrun: in FIFO mode the character in the shift register is lost; in 16450 mode RBR is overwritten.
      this.lsrErrors |= LSR_OE;
      if (!this.fifoEnabled()) this.rx[0] = byte;
      return;
    }
    this.deliver(byte, 0);
  }

  /** Puts a character into the RX FIFO (or RBR); 16450 mode reports its errors in LSR at once. */
  private deliver(byte: number, err: number): void {
    this.rx.push(byte);
    if (this.fifoEnabled()) {
      this.rxErr.push(err);
    } else {
      this.rxErr.push(0);
      this.lsrErrors |= err;
    }
  }

  private readRbr(): number {
    if (this.rx.length > 0) {
      this.rbrLast = this.rx.shift()!;
      this.rxErr.shift();
      this.fillRx();
      this.timeoutPending = false;
      this.rxActivity();
    }
    this.update();
    return this.rbrLast;
  }

  private readIir(): number {
    const id = this.interruptId();
    if (id === 0x02) {
      // Reading IIR when THRE is the source clears it.
      this.thrPending = false;
      this.update();
    }
    return (this.fifoEnabled() ? 0xc0 : 0) | id;
  }

  /** The IIR identification (bits 3-0) of the highest-priority pending interrupt, or 0x01 for none. */
  private interruptId(): number {
    const ier = this.ier;
    if (ier & IER_RLS && this.lsrBits() & (LSR_OE | LSR_PE | LSR_FE | LSR_BI)) return 0x06;
    if (ier & IER_RDA) {
      if (this.fifoEnabled()) {
        if (this.rx.length >= RX_TRIGGER[this.fcr >> 6]!) return 0x04;
        if (this.timeoutPending && this.rx.length > 0) return 0x0c;
      } else if (this.rx.length > 0) {
        return 0x04;
      }
    }
    if (ier & IER_THRE && this.thrPending) return 0x02;
    if (ier & IER_MSR && this.msrDelta) return 0x00;
    return 0x01;
  }

  /** LSR error bits 1-4 now: sticky OE (and 16450-mode errors), plus the FIFO head's errors. */
  private lsrBits(): number {
    let v = this.lsrErrors;
    if (this.fifoEnabled() && this.rxErr.length > 0) v |= this.rxErr[0]!;
    return v;
  }

  private readLsr(): number {
    let v = this.lsrBits() | LSR_THRE | LSR_TEMT;
    if (this.rx.length > 0) v |= LSR_DR;
    if (this.fifoEnabled() && this.rxErr.some((e) => e !== 0)) v |= LSR_FIFOERR;
    // Reading LSR clears OE, PE, FE, BI (for the FIFO head, its error is reported once).
    this.lsrErrors = 0;
    if (this.fifoEnabled() && this.rxErr.length > 0) this.rxErr[0] = 0;
    this.update();
    return v;
  }

  private readMsr(): number {
    const v = this.modemLines() | this.msrDelta;
    this.msrDelta = 0;
    this.update();
    return v;
  }

  /** MSR bits 4-7: CTS, DSR, RI, DCD; in loopback they are RTS, DTR, OUT1, OUT2. */
  private modemLines(): number {
    if (!(this.mcr & MCR_LOOP)) return this.msrInputs;
    const m = this.mcr;
    return (m & MCR_RTS ? 0x10 : 0) | (m & MCR_DTR ? 0x20 : 0) | (m & MCR_OUT1 ? 0x40 : 0) | (m & MCR_OUT2 ? 0x80 : 0);
  }

  /** Sets the MSR deltas from a change of the modem lines: DCTS, DDSR, TERI (RI falling only), DDCD. */
  private modemChanged(before: number): void {
    const after = this.modemLines();
    const diff = before ^ after;
    if (diff & 0x10) this.msrDelta |= 0x01;
    if (diff & 0x20) this.msrDelta |= 0x02;
    if (diff & 0x40 && !(after & 0x40)) this.msrDelta |= 0x04;
    if (diff & 0x80) this.msrDelta |= 0x08;
  }

  private writeThr(v: number): void {
    // THR is full for the moment the byte moves to the shift register: the THRE interrupt
    // drops and rises again, an edge for the PIC.
    this.thrPending = false;
    this.update();
    if (this.mcr & MCR_LOOP) {
      this.receive(v);
      this.rxActivity();
    } else {
      if (this.bufferOutput) this.out.push(v);
      if (this.onOutput) this.onOutput(Uint8Array.of(v));
    }
    // Transmitted at once: THR empty again.
    this.thrPending = true;
  }

  private writeFcr(v: number): void {
    const wasEnabled = this.fifoEnabled();
    const enable = (v & 1) !== 0;
    if (enable !== wasEnabled) {
      // Changing FCR0 clears both FIFOs.
      this.rx = [];
      this.rxErr = [];
    }
    if (enable && v & 0x02) {
      this.rx = [];
      this.rxErr = [];
    }
    // Other FCR bits are programmed only with FCR0 set.
    this.fcr = enable ? v & 0xc9 : 0;
    this.timeoutPending = false;
    this.fillRx();
    this.rxActivity();
  }

  /** A character entered or left the RX FIFO: restart the four-character timeout. */
  private rxActivity(): void {
    if (!this.fifoEnabled() || this.rx.length === 0) {
      this.timer.disarm();
      return;
    }
    this.timer.arm(this.clock.now() + this.timeoutNs());
  }

  /** Four character times: (start + data + parity + stop) bits at the programmed baud, rounded up. */
  private timeoutNs(): number {
    const lcr = this.lcr;
    const data = 5 + (lcr & 3);
    const parity = lcr & 0x08 ? 1 : 0;
    // stop bits: 1, or 1.5 with 5 data bits, or 2; counted in half bits
    const stopHalf = lcr & 0x04 ? (data === 5 ? 3 : 4) : 2;
    const halfBits = 2 * (1 + data + parity) + stopHalf;
    // 4 chars * halfBits/2 bits * divisor / 115200 s
    return mulDivCeil(halfBits * this.divisor(), 2e9, BAUD_BASE);
  }

  private update(): void {
    const pending = this.interruptId() !== 0x01;
    const gated = this.out2Gates ? (this.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2 : true;
    const level = pending && gated;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    if (level) this.irq.assert();
    else this.irq.deassert();
  }
}
