/**
 * The virtual clock and the one timer queue every device timer schedules on (shared/DESIGN.md,
 * "The data path" 6). Time is an integer count of nanoseconds since power-on, held in a float64
 * (exact to 2^53 ns, about 104 days).
 *
 * Modes:
 * - 'virtual' (default): time moves only when the monitor says so, from retired instructions at a
 *   configurable ns-per-instruction rate (`retire(n)`), or by skipping ahead to a deadline while all
 *   vCPUs are halted (`advanceTo(ns)`). Same inputs, same timestamps, bit for bit.
 * - 'host': now() follows performance.now(). `advanceTo` may still skip ahead (a halted guest with a
 *   timer pending); the skip is kept as an offset so time stays monotonic and continuous.
 *
 * Timers are created once per device (never per event) and re-armed; the queue is a small array
 * scanned linearly, which beats a heap for the tens of timers a machine has and allocates nothing.
 * Due timers fire in deadline order, ties by creation order; while a callback runs, now() reads the
 * timer's deadline exactly, so a periodic device re-arming at now() + period never drifts.
 */
import { InvalidArgumentError, InvalidStateError } from '../util/errors.js';

export type ClockMode = 'virtual' | 'host';

export interface VirtualClockOptions {
  /** 'virtual' (default, deterministic) or 'host' (performance.now()). */
  mode?: ClockMode;
  /** Virtual nanoseconds per retired instruction (default 1, i.e. a nominal 1 GIPS); > 0, finite. */
  nsPerInstruction?: number;
}

/** The saved form of the clock (plain JSON). Timers belong to devices, which save and re-arm them. */
export interface VirtualClockState {
  mode: ClockMode;
  nowNs: number;
  nsPerInstruction: number;
}

/** One device timer: a callback and, when armed, an absolute deadline in clock nanoseconds. */
export class ClockTimer {
  /** Absolute deadline in ns; meaningful only while `armed`. */
  deadline = 0;
  armed = false;
  /** @internal creation index, the tie-breaker for equal deadlines. */
  readonly index: number;

  /** @internal use VirtualClock.createTimer. */
  constructor(
    readonly clock: VirtualClock,
    readonly name: string,
    readonly callback: () => void,
    index: number,
  ) {
    this.index = index;
  }

  /**
   * Arms (or re-arms) the timer for an absolute deadline in ns. A deadline at or before now() fires
   * on the clock's next advance (advanceTo/retire/runDue), never synchronously inside arm().
   */
  arm(deadlineNs: number): void {
    if (!(deadlineNs >= 0) || deadlineNs !== Math.floor(deadlineNs)) {
      throw new InvalidArgumentError(
        `timer '${this.name}': deadline ${deadlineNs} is not a non-negative integer number of ns`,
      );
    }
    this.deadline = deadlineNs;
    this.armed = true;
    this.clock.queueChanged();
  }

  disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    this.clock.queueChanged();
  }
}

const NS_PER_MS = 1_000_000;

export class VirtualClock {
  readonly mode: ClockMode;
  private nsPerInstr: number;
  /** Virtual mode: time = baseNs + floor(instrSinceBase * nsPerInstr), rebased on jumps and rate changes. */
  private baseNs = 0;
  private instrSinceBase = 0;
  /** The value now() returns in virtual mode (also pinned to a deadline while its callback runs). */
  private current = 0;
  /** Host mode: performance.now() at power-on, and the ns skipped ahead by advanceTo. */
  private hostOrigin = 0;
  private hostSkew = 0;
  /** Host mode: while a callback runs, now() reads this deadline (-1 when not firing). */
  private firingAt = -1;
  private readonly timers: ClockTimer[] = [];
  /** Cached earliest deadline (Infinity if none); valid when !dirty. */
  private cachedNext = Infinity;
  private dirty = false;
  private firing = false;

  constructor(options: VirtualClockOptions = {}) {
    const mode = options.mode ?? 'virtual';
    if (mode !== 'virtual' && mode !== 'host') {
      throw new InvalidArgumentError(`clock mode '${String(mode)}' is not 'virtual' or 'host'`);
    }
    this.mode = mode;
    this.nsPerInstr = checkRate(options.nsPerInstruction ?? 1);
    if (mode === 'host') this.hostOrigin = performance.now();
  }

  /** Nanoseconds since power-on (an integer). */
  now(): number {
    if (this.mode === 'virtual') return this.current;
    if (this.firingAt >= 0) return this.firingAt;
    return this.hostNow();
  }

  /** Virtual ns per retired instruction. */
  get nsPerInstruction(): number {
    return this.nsPerInstr;
  }

  /** Changes the rate from now on (time already elapsed is kept). */
  setNsPerInstruction(ns: number): void {
    const rate = checkRate(ns);
    this.rebase();
    this.nsPerInstr = rate;
  }

  /** Creates a device timer (once per device, at construction). */
  createTimer(name: string, callback: () => void): ClockTimer {
    const t = new ClockTimer(this, name, callback, this.timers.length);
    this.timers.push(t);
    return t;
  }

  /** Earliest armed deadline in ns, or Infinity if no timer is armed. */
  nextDeadline(): number {
    if (this.dirty) this.recompute();
    return this.cachedNext;
  }

  /** @internal called by ClockTimer when its arming changes. */
  queueChanged(): void {
    this.dirty = true;
  }

  /**
   * Virtual mode: account `count` retired instructions, moving time forward, and fire the timers
   * that fell due. Host mode: fires the timers due at host now (the count is ignored).
   */
  retire(count: number): void {
    if (this.mode === 'host') {
      this.fireDue(this.hostNow());
      return;
    }
    if (!(count >= 0)) throw new InvalidArgumentError(`retire(${count}): count must be >= 0`);
    this.instrSinceBase += count;
    const target = this.baseNs + Math.floor(this.instrSinceBase * this.nsPerInstr);
    this.fireDue(target);
    this.current = target;
  }

  /**
   * Moves time to `ns` and fires every timer due by then, in deadline order (ties by creation
   * order); a callback may re-arm its timer or others, and a re-armed timer due by `ns` fires again
   * in the same call. Use it to skip a halted machine ahead to nextDeadline(). Time never runs
   * backwards: an `ns` at or before now() (a deadline armed in the past, or host time that moved
   * on) fires what is due and leaves the time as it is.
   */
  advanceTo(ns: number): void {
    if (!(ns >= 0) || ns !== Math.floor(ns) || !Number.isFinite(ns)) {
      throw new InvalidArgumentError(`advanceTo(${ns}): time must be a finite non-negative integer in ns`);
    }
    if (this.firing) throw new InvalidStateError(`advanceTo(${ns}) called from inside a timer callback`);
    const now = this.now();
    if (ns <= now) {
      this.fireDue(now);
      return;
    }
    if (this.mode === 'host') {
      this.hostSkew += ns - now;
      this.fireDue(ns);
      return;
    }
    this.fireDue(ns);
    this.current = ns;
    this.baseNs = ns;
    this.instrSinceBase = 0;
  }

  /** advanceTo(now() + deltaNs). */
  advanceBy(deltaNs: number): void {
    this.advanceTo(this.now() + deltaNs);
  }

  /** Fires the timers already due at now() (e.g. armed for a deadline in the past). */
  runDue(): void {
    this.fireDue(this.now());
  }

  /**
   * Virtual mode: instructions to retire before now() reaches `deadlineNs` (0 if already there;
   * Infinity for an infinite deadline). The monitor bounds a vCPU's run budget with it. Host mode
   * has no such relation and returns Infinity.
   */
  instructionsUntil(deadlineNs: number): number {
    if (this.mode === 'host' || deadlineNs === Infinity) return Infinity;
    if (deadlineNs <= this.current) return 0;
    // smallest total k with baseNs + floor(k * rate) >= deadline, then minus what already ran;
    // the float estimate is corrected by exact checks so rounding cannot shift it.
    const need = deadlineNs - this.baseNs;
    let k = Math.ceil(need / this.nsPerInstr);
    while (k > 0 && Math.floor((k - 1) * this.nsPerInstr) >= need) k--;
    while (Math.floor(k * this.nsPerInstr) < need) k++;
    return Math.max(0, k - this.instrSinceBase);
  }

  /** Converts an instruction count to virtual ns at the current rate (floor). */
  instructionsToNs(count: number): number {
    return Math.floor(count * this.nsPerInstr);
  }

  /** Converts ns to the number of instructions that cover them at the current rate (ceil). */
  nsToInstructions(ns: number): number {
    return Math.ceil(ns / this.nsPerInstr);
  }

  saveState(): VirtualClockState {
    return { mode: this.mode, nowNs: this.now(), nsPerInstruction: this.nsPerInstr };
  }

  /**
   * Restores time and rate and disarms every timer: restore the clock first, then the devices,
   * which re-arm their timers from their own saved state.
   */
  restoreState(s: VirtualClockState): void {
    if (s.mode !== this.mode) {
      throw new InvalidArgumentError(`clock state is for mode '${s.mode}' but this clock runs in '${this.mode}'`);
    }
    if (!(s.nowNs >= 0) || s.nowNs !== Math.floor(s.nowNs)) {
      throw new InvalidArgumentError(`clock state nowNs ${s.nowNs} is not a non-negative integer`);
    }
    const rate = checkRate(s.nsPerInstruction);
    this.nsPerInstr = rate;
    if (this.mode === 'virtual') {
      this.current = s.nowNs;
      this.baseNs = s.nowNs;
      this.instrSinceBase = 0;
    } else {
      this.hostSkew = 0;
      this.hostOrigin = performance.now() - s.nowNs / NS_PER_MS;
    }
    for (const t of this.timers) t.armed = false;
    this.dirty = true;
  }

  private hostNow(): number {
    return Math.floor((performance.now() - this.hostOrigin) * NS_PER_MS) + this.hostSkew;
  }

  private rebase(): void {
    if (this.mode !== 'virtual') return;
    this.baseNs = this.current;
    this.instrSinceBase = 0;
  }

  private recompute(): void {
    let next = Infinity;
    const ts = this.timers;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      if (t.armed && t.deadline < next) next = t.deadline;
    }
    this.cachedNext = next;
    this.dirty = false;
  }

  /** Fires due timers one at a time, earliest first, lowest creation index on ties. */
  private fireDue(limit: number): void {
    // A callback that retires or runs due timers does not nest: the outer loop picks them up.
    if (this.firing || this.nextDeadline() > limit) return;
    const ts = this.timers;
    // Callbacks see time move forward only: a deadline in the past fires "now".
    let floor = this.now();
    this.firing = true;
    try {
      for (;;) {
        let best: ClockTimer | null = null;
        for (let i = 0; i < ts.length; i++) {
          const t = ts[i]!;
          if (t.armed && t.deadline <= limit && (best === null || t.deadline < best.deadline)) best = t;
        }
        if (best === null) break;
        best.armed = false;
        this.dirty = true;
        const at = Math.max(best.deadline, floor);
        floor = at;
        if (this.mode === 'virtual') this.current = at;
        else this.firingAt = at;
        best.callback();
      }
    } finally {
      this.firing = false;
      this.firingAt = -1;
    }
  }
}

function checkRate(ns: number): number {
  if (!(ns > 0) || !Number.isFinite(ns)) {
    throw new InvalidArgumentError(`nsPerInstruction ${ns} must be a positive finite number`);
  }
  return ns;
}
