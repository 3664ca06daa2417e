/**
 * The 8254 programmable interval timer (Intel 8254 datasheet, order 231164) as wired on a PC:
 * ports 0x40-0x42 counters 0-2, 0x43 control word, CLK = 1.193182 MHz for all three; counter 0
 * OUT drives ISA IRQ 0; counter 2's GATE and OUT are bits 0 and 5 of port 0x61 (System Control
 * Port B, with the speaker enable in bit 1 and the refresh toggle in bit 4).
 *
 * Nothing ticks: each counter keeps the CLK edge at which its counting element (CE) was last
 * loaded and computes CE and OUT from clock.now() on demand (closed forms per mode below). CLK
 * edge k happens at the first nanosecond where floor(ns * 1193182 / 1e9) >= k. Counter 0 keeps
 * one clock timer armed for its next OUT transition and drives its IrqLine to OUT's level.
 *
 * Implemented per the datasheet: modes 0-5 (6 and 7 alias 2 and 3), binary and BCD, read/write
 * LSB, MSB, LSB-then-MSB with independent read and write byte flip-flops, the counter latch
 * command, the read-back command (count and/or status, several counters at once), the status byte
 * with OUT and NULL COUNT, the one-CLK delay between writing a count and loading it into CE,
 * mode 0's "first byte stops counting", new counts in modes 2 and 3 taking effect at the end of
 * the current period / half-cycle, GATE semantics per mode (suspend, trigger, force OUT high).
 *
 * Deviations: before its first load after a control word a counter reads 0 (the real CE holds an
 * undefined value); a count of 1 in modes 2 and 3 (illegal per the datasheet) gives a constant
 * OUT (low in mode 2, high in mode 3); the speaker is not emulated (bit 1 is stored only).
 */
import type { VirtualClock, ClockTimer } from '../time/clock.js';
import { nsAtTick, ticksAt } from '../time/ticks.js';
import type { IrqLine } from './irq-line.js';
import { byteRegisters, type BusDevice, type IoBus } from './bus.js';
import { InvalidArgumentError } from '../util/errors.js';
import { stateBool, stateInt } from './snapshot.js';

/** The 8254 input clock on a PC: 14.31818 MHz / 12. */
export const PIT_HZ = 1_193_182;
export const PIT_BASE_PORT = 0x40;
export const PORT_B = 0x61;
/** DRAM refresh request period that toggles port 0x61 bit 4 (15.085 us, PC/AT). */
const REFRESH_TOGGLE_NS = 15_085;

const IDLE = 0; // no count in CE (after a control word, or mode 0 between a count write and its load)
const COUNTING = 1; // CE loaded at edge `base` with `n`, decrementing
const SUSPENDED = 2; // CE loaded, GATE low: frozen at elapsed `frozen`

const NONE = -1;

class Counter {
  /** Control word fields as written (for the status byte): RW1:RW0, M2:M0, BCD. */
  rw = 3;
  rawMode = 0;
  bcd = false;
  /** Effective mode 0-5. */
  mode = 0;
  /** Count register (16 bits as written); hasCount once a full count was written after the control word. */
  cr = 0;
  hasCount = false;
  /** NULL COUNT: CR written and not yet moved into CE. */
  nullCount = true;
  /** CLK edge at which CR moves into CE (NONE when nothing is scheduled). */
  loadAt = NONE;
  /** The scheduled load starts in the low half of mode 3 (it ends a high half-cycle). */
  loadLow = false;
  state = IDLE;
  /** COUNTING: edge of the last load and its count (1..65536 or 1..10000). */
  base = 0;
  n = 0;
  /** SUSPENDED: elapsed edges at suspension. */
  frozen = 0;
  /** IDLE: what CE and OUT show. */
  idleCe = 0;
  idleOut = false;
  gate = true;
  /** Byte flip-flops: true = next byte is the LSB. */
  writeLsb = true;
  readLsb = true;
  lsbWritten = 0;
  /** Output latch (count latch command) and status latch. */
  countLatched = false;
  latch = 0;
  statusLatched = false;
  status = 0;

  /** Counts in BCD wrap at 10^4, binary at 2^16. */
  modulus(): number {
    return this.bcd ? 10000 : 65536;
  }

  /** Brings the counter to CLK edge `t`: performs a scheduled load that is due. */
  sync(t: number): void {
    if (this.loadAt !== NONE && this.loadAt <= t) {
      const at = this.loadAt;
      this.loadAt = NONE;
      this.nullCount = false;
      const n = this.countValue();
      this.n = n;
      // A mode 3 load ending a high half-cycle starts in the low half: shift the phase origin.
      this.base = this.loadLow ? at - Math.ceil(n / 2) : at;
      this.loadLow = false;
      if (this.gate || this.mode === 1 || this.mode === 5) {
        this.state = COUNTING;
      } else {
        this.state = SUSPENDED;
        this.frozen = 0;
      }
    }
  }

  /** The count register as a count: 0 means 2^16 (binary) or 10^4 (BCD). */
  countValue(): number {
    const v = this.bcd ? fromBcd(this.cr) : this.cr;
    return v === 0 ? this.modulus() : v;
  }

  elapsed(t: number): number {
    return this.state === SUSPENDED ? this.frozen : t - this.base;
  }

  /** CE at edge t (after sync). */
  ce(t: number): number {
    if (this.state === IDLE) return this.idleCe;
    const e = this.elapsed(t);
    const n = this.n;
    const m = this.modulus();
    switch (this.mode) {
      case 2:
        return n - (e % n);
      case 3: {
        const p = e % n;
        const h = Math.ceil(n / 2);
        if ((n & 1) === 0) return n - 2 * (p % (n / 2));
        return p < h ? n - 1 - 2 * p : n - 1 - 2 * (p - h);
      }
      default: {
        // modes 0, 1, 4, 5: count down and wrap
        const v = (n - e) % m;
        return v < 0 ? v + m : v;
      }
    }
  }

  /** OUT at edge t (after sync). */
  out(t: number): boolean {
    if (this.state === IDLE) return this.idleOut;
    if (this.state === SUSPENDED && (this.mode === 2 || this.mode === 3)) return true; // GATE low forces OUT high
    const e = this.elapsed(t);
    const n = this.n;
    switch (this.mode) {
      case 0:
      case 1:
        return e >= n;
      case 2:
        return n > 1 ? e % n !== n - 1 : false;
      case 3:
        return e % n < Math.ceil(n / 2);
      default:
        return e !== n; // modes 4, 5: low for one CLK at terminal count
    }
  }

  /** The next edge after t at which OUT or the state may change (Infinity if none). */
  nextEvent(t: number): number {
    let next = this.loadAt === NONE ? Infinity : this.loadAt;
    if (this.state === COUNTING) {
      const e = t - this.base;
      const n = this.n;
      let ev = Infinity;
      switch (this.mode) {
        case 0:
        case 1:
          if (e < n) ev = this.base + n;
          break;
        case 2:
          if (n > 1) {
            const p = e % n;
            ev = p < n - 1 ? t + (n - 1 - p) : t + 1;
          }
          break;
        case 3:
          if (n > 1) {
            const p = e % n;
            const h = Math.ceil(n / 2);
            ev = p < h ? t + (h - p) : t + (n - p);
          }
          break;
        default:
          if (e < n) ev = this.base + n;
          else if (e === n) ev = this.base + n + 1;
      }
      if (ev < next) next = ev;
    }
    return next;
  }

  /** A control word for this counter (datasheet "Write Operations"): reset and wait for a count. */
  control(v: number, t: number): void {
    this.sync(t);
    this.rw = (v >> 4) & 3;
    this.rawMode = (v >> 1) & 7;
    this.mode = this.rawMode >= 6 ? this.rawMode - 4 : this.rawMode;
    this.bcd = (v & 1) !== 0;
    this.hasCount = false;
    this.nullCount = true;
    this.loadAt = NONE;
    this.loadLow = false;
    this.state = IDLE;
    this.idleCe = 0;
    // "OUT goes to a known initial state": low in mode 0, high in the others.
    this.idleOut = this.mode !== 0;
    this.writeLsb = true;
    this.readLsb = true;
    this.countLatched = false;
    this.statusLatched = false;
  }

  /** A byte written to the counter's port. */
  writeByte(b: number, t: number): void {
    this.sync(t);
    if (this.rw === 3 && this.writeLsb) {
      this.lsbWritten = b;
      this.writeLsb = false;
      if (this.mode === 0) {
        // Mode 0: "writing the first byte disables counting; OUT is set low immediately".
        this.freezeIdle(t, false);
      }
      return;
    }
    if (this.rw === 3) {
      this.cr = this.lsbWritten | (b << 8);
      this.writeLsb = true;
    } else if (this.rw === 1) {
      this.cr = b;
    } else {
      this.cr = b << 8;
    }
    this.hasCount = true;
    this.nullCount = true;
    this.scheduleLoad(t);
  }

  /** When a newly written count reaches CE, per mode. */
  private scheduleLoad(t: number): void {
    this.loadLow = false;
    switch (this.mode) {
      case 0:
        this.freezeIdle(t, false);
        this.loadAt = t + 1;
        break;
      case 1:
      case 5:
        this.loadAt = NONE; // waits for a GATE trigger
        break;
      case 2:
      case 3:
        if (this.state === COUNTING) {
          const e = t - this.base;
          const n = this.n;
          const p = e % n;
          if (this.mode === 2) {
            this.loadAt = t + (n - p); // end of the current period
          } else {
            const h = Math.ceil(n / 2);
            if (p < h) {
              this.loadAt = t + (h - p); // end of the high half: continue low with the new count
              this.loadLow = true;
            } else {
              this.loadAt = t + (n - p);
            }
          }
        } else {
          this.loadAt = t + 1;
        }
        break;
      case 4:
        this.loadAt = t + 1;
        break;
    }
  }

  /** Stops counting: CE shows its current value, OUT `out`. */
  private freezeIdle(t: number, out: boolean): void {
    this.idleCe = this.state === IDLE ? this.idleCe : this.ce(t);
    this.idleOut = out;
    this.state = IDLE;
    this.loadAt = NONE;
  }

  /** GATE input change at edge t (datasheet "Gate Pin Operations Summary"). */
  setGate(level: boolean, t: number): void {
    this.sync(t);
    if (level === this.gate) return;
    this.gate = level;
    switch (this.mode) {
      case 0:
      case 4:
        if (!level && this.state === COUNTING) {
          this.frozen = t - this.base;
          this.state = SUSPENDED;
        } else if (level && this.state === SUSPENDED) {
          this.base = t - this.frozen; // the next CLK edge decrements again
          this.state = COUNTING;
        }
        break;
      case 2:
      case 3:
        if (!level) {
          if (this.state === COUNTING) {
            this.frozen = t - this.base;
            this.state = SUSPENDED;
          }
        } else if (this.hasCount) {
          this.loadAt = t + 1; // a trigger reloads the initial count on the next CLK
          this.loadLow = false;
        }
        break;
      case 1:
      case 5:
        if (level && this.hasCount) {
          this.loadAt = t + 1;
          this.loadLow = false;
        }
        break;
    }
  }

  /** Counter latch command: the first one holds until read. */
  latchCount(t: number): void {
    if (this.countLatched) return;
    this.sync(t);
    this.latch = this.encode(this.ce(t));
    this.countLatched = true;
  }

  /** Read-back status: OUT, NULL COUNT, RW, mode, BCD. */
  latchStatus(t: number): void {
    if (this.statusLatched) return;
    this.sync(t);
    this.status =
      (this.out(t) ? 0x80 : 0) | (this.nullCount ? 0x40 : 0) | (this.rw << 4) | (this.rawMode << 1) | (this.bcd ? 1 : 0);
    this.statusLatched = true;
  }

  readByte(t: number): number {
    if (this.statusLatched) {
      this.statusLatched = false;
      return this.status;
    }
    let v: number;
    if (this.countLatched) {
      v = this.latch;
    } else {
      this.sync(t);
      v = this.encode(this.ce(t));
    }
    let b: number;
    let last: boolean;
    if (this.rw === 1) {
      b = v & 0xff;
      last = true;
    } else if (this.rw === 2) {
      b = v >> 8;
      last = true;
    } else {
      b = this.readLsb ? v & 0xff : v >> 8;
      last = !this.readLsb;
      this.readLsb = !this.readLsb;
    }
    if (last) this.countLatched = false;
    return b;
  }

  /** CE as the 16 bits the chip shows: BCD digits in BCD mode; the maximum count reads 0. */
  private encode(ce: number): number {
    const v = ce % this.modulus();
    return this.bcd ? toBcd(v) : v;
  }
}

function toBcd(v: number): number {
  return (v % 10) | (Math.floor(v / 10) % 10 << 4) | (Math.floor(v / 100) % 10 << 8) | (Math.floor(v / 1000) % 10 << 12);
}

function fromBcd(v: number): number {
  return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + ((v >> 12) & 0xf) * 1000;
}

export interface Pit8254CounterState {
  rw: number;
  rawMode: number;
  bcd: boolean;
  cr: number;
  hasCount: boolean;
  nullCount: boolean;
  loadAt: number;
  loadLow: boolean;
  state: number;
  base: number;
  n: number;
  frozen: number;
  idleCe: number;
  idleOut: boolean;
  gate: boolean;
  writeLsb: boolean;
  readLsb: boolean;
  lsbWritten: number;
  countLatched: boolean;
  latch: number;
  statusLatched: boolean;
  status: number;
}

export interface Pit8254State {
  counters: Pit8254CounterState[];
  /** Port 0x61 bits 0-3 as written. */
  portB: number;
  /** Level last driven on the IRQ 0 line. */
  irqLevel: boolean;
}

/** The 8254 with port 0x61. */
export class Pit8254 {
  private readonly c: Counter[] = [new Counter(), new Counter(), new Counter()];
  private readonly timer: ClockTimer;
  private irqLevel = false;
  private portBBits = 0;
  /** Bus views: the counters and control word at 0x40-0x43, and port 0x61. */
  readonly ports: BusDevice;
  readonly portB: BusDevice;

  constructor(
    private readonly clock: VirtualClock,
    private readonly irq0: IrqLine,
  ) {
    this.timer = clock.createTimer('pit8254.out0', () => this.onTimer());
    // Power-on: channel 2's gate comes from port 0x61 bit 0 (clear); 0 and 1 are tied high.
    this.c[2]!.gate = false;
    this.ports = byteRegisters(
      4,
      (off) => this.readPort(PIT_BASE_PORT + off),
      (off, v) => this.writePort(PIT_BASE_PORT + off, v),
    );
    this.portB = byteRegisters(
      1,
      () => this.readPortB(),
      (_off, v) => this.writePortB(v),
    );
    this.syncIrq();
    this.powerOnState = this.saveState();
  }

  private readonly powerOnState: Pit8254State;

  /**
   * System reset: the counters as at power-on here (no count written, null count, gates of
   * counters 0 and 1 high, port 61h clear); IRQ 0 follows counter 0's OUT again. (The 8254
   * datasheet leaves the power-on state undefined; this is the state the constructor defines.)
   */
  reset(): void {
    const level = this.irqLevel;
    this.restoreState(this.powerOnState);
    this.irqLevel = level; // the line's current level: syncIrq drives it to the restored OUT
    this.syncIrq();
  }

  /** Registers 0x40-0x43 and 0x61 on `bus`. */
  attach(bus: IoBus): void {
    bus.register(PIT_BASE_PORT, 4, this.ports, 'pit8254');
    bus.register(PORT_B, 1, this.portB, 'port61');
  }

  /** The CLK edge count now. */
  tick(): number {
    return ticksAt(this.clock.now(), PIT_HZ);
  }

  /** Reads port 0x40-0x43 (0x43 reads as 0xFF: the control register is write-only). */
  readPort(port: number): number {
    const t = this.tick();
    switch (port) {
      case 0x40:
      case 0x41:
      case 0x42:
        return this.c[port - 0x40]!.readByte(t);
      case 0x43:
        return 0xff;
    }
    throw new InvalidArgumentError(`port 0x${port.toString(16)} is not an 8254 port`);
  }

  /** Writes port 0x40-0x43. */
  writePort(port: number, value: number): void {
    const t = this.tick();
    const v = value & 0xff;
    switch (port) {
      case 0x40:
      case 0x41:
      case 0x42:
        this.c[port - 0x40]!.writeByte(v, t);
        break;
      case 0x43:
        this.controlWord(v, t);
        break;
      default:
        throw new InvalidArgumentError(`port 0x${port.toString(16)} is not an 8254 port`);
    }
    this.syncIrq();
  }

  /**
   * Port 0x61 read: bit 0 timer 2 gate, bit 1 speaker data enable, bits 2-3 as written,
   * bit 4 refresh toggle, bit 5 timer 2 OUT; bits 6-7 (IOCHK, SERR) read 0.
   */
  readPortB(): number {
    const now = this.clock.now();
    const t = ticksAt(now, PIT_HZ);
    const c2 = this.c[2]!;
    c2.sync(t);
    const refresh = Math.floor(now / REFRESH_TOGGLE_NS) & 1;
    return (this.portBBits & 0x0f) | (refresh << 4) | (c2.out(t) ? 0x20 : 0);
  }

  /** Port 0x61 write: bits 0-3 are writable; bit 0 drives counter 2's GATE. */
  writePortB(value: number): void {
    this.portBBits = value & 0x0f;
    this.c[2]!.setGate((value & 1) !== 0, this.tick());
  }

  /** GATE of counter `n` (0 and 1 are tied high on a PC; exposed for other wirings and tests). */
  setGate(n: number, level: boolean): void {
    if (n !== 0 && n !== 1 && n !== 2) throw new InvalidArgumentError(`8254 counter ${n} is not 0, 1 or 2`);
    this.c[n]!.setGate(level, this.tick());
    if (n === 2) this.portBBits = (this.portBBits & ~1) | (level ? 1 : 0);
    this.syncIrq();
  }

  /** OUT of counter `n` now. */
  out(n: number): boolean {
    const t = this.tick();
    const c = this.c[n]!;
    c.sync(t);
    return c.out(t);
  }

  saveState(): Pit8254State {
    return {
      counters: this.c.map((c) => ({
        rw: c.rw,
        rawMode: c.rawMode,
        bcd: c.bcd,
        cr: c.cr,
        hasCount: c.hasCount,
        nullCount: c.nullCount,
        loadAt: c.loadAt,
        loadLow: c.loadLow,
        state: c.state,
        base: c.base,
        n: c.n,
        frozen: c.frozen,
        idleCe: c.idleCe,
        idleOut: c.idleOut,
        gate: c.gate,
        writeLsb: c.writeLsb,
        readLsb: c.readLsb,
        lsbWritten: c.lsbWritten,
        countLatched: c.countLatched,
        latch: c.latch,
        statusLatched: c.statusLatched,
        status: c.status,
      })),
      portB: this.portBBits,
      irqLevel: this.irqLevel,
    };
  }

  /** Restores the counters and re-arms the OUT0 timer (restore the clock first). */
  restoreState(s: Pit8254State): void {
    const who = 'pit8254';
    const list = (s as Partial<Pit8254State> | null)?.counters;
    if (!Array.isArray(list) || list.length !== 3) throw new InvalidArgumentError(`${who} state: 'counters' is not an array of 3`);
    const MAX = Number.MAX_SAFE_INTEGER;
    const parsed = list.map((x, i) => {
      const w = `${who} counter ${i}`;
      return {
        rw: stateInt(x, 'rw', 1, 3, w),
        rawMode: stateInt(x, 'rawMode', 0, 7, w),
        bcd: stateBool(x, 'bcd', w),
        cr: stateInt(x, 'cr', 0, 0xffff, w),
        hasCount: stateBool(x, 'hasCount', w),
        nullCount: stateBool(x, 'nullCount', w),
        loadAt: stateInt(x, 'loadAt', NONE, MAX, w),
        loadLow: stateBool(x, 'loadLow', w),
        state: stateInt(x, 'state', IDLE, SUSPENDED, w),
        base: stateInt(x, 'base', -65536, MAX, w),
        n: stateInt(x, 'n', 0, 65536, w),
        frozen: stateInt(x, 'frozen', 0, MAX, w),
        idleCe: stateInt(x, 'idleCe', 0, 65536, w),
        idleOut: stateBool(x, 'idleOut', w),
        gate: stateBool(x, 'gate', w),
        writeLsb: stateBool(x, 'writeLsb', w),
        readLsb: stateBool(x, 'readLsb', w),
        lsbWritten: stateInt(x, 'lsbWritten', 0, 0xff, w),
        countLatched: stateBool(x, 'countLatched', w),
        latch: stateInt(x, 'latch', 0, 0xffff, w),
        statusLatched: stateBool(x, 'statusLatched', w),
        status: stateInt(x, 'status', 0, 0xff, w),
      };
    });
    for (const p of parsed) if (p.state !== IDLE && p.n < 1) throw new InvalidArgumentError(`${who} state: a loaded counter has count 0`);
    const portB = stateInt(s, 'portB', 0, 0x0f, who);
    const irqLevel = stateBool(s, 'irqLevel', who);
    parsed.forEach((p, i) => {
      const c = this.c[i]!;
      Object.assign(c, p);
      c.mode = p.rawMode >= 6 ? p.rawMode - 4 : p.rawMode;
    });
    this.portBBits = portB;
    this.irqLevel = irqLevel;
    this.rearm();
  }

  private controlWord(v: number, t: number): void {
    const sc = v >> 6;
    if (sc === 3) {
      // Read-back: bit 5 = 0 latches counts, bit 4 = 0 latches status, bits 1-3 select counters 0-2.
      for (let i = 0; i < 3; i++) {
        if ((v & (2 << i)) === 0) continue;
        const c = this.c[i]!;
        if ((v & 0x20) === 0) c.latchCount(t);
        if ((v & 0x10) === 0) c.latchStatus(t);
      }
      return;
    }
    const c = this.c[sc]!;
    if ((v & 0x30) === 0) c.latchCount(t);
    else c.control(v, t);
  }

  private onTimer(): void {
    this.syncIrq();
  }

  /** Drives IRQ 0 to counter 0's OUT and arms the timer for its next change. */
  private syncIrq(): void {
    const t = this.tick();
    const c0 = this.c[0]!;
    c0.sync(t);
    const level = c0.out(t);
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      if (level) this.irq0.assert();
      else this.irq0.deassert();
    }
    this.rearm();
  }

  private rearm(): void {
    const t = this.tick();
    const next = this.c[0]!.nextEvent(t);
    if (next === Infinity) this.timer.disarm();
    else this.timer.arm(nsAtTick(Math.max(next, t + 1), PIT_HZ));
  }
}
