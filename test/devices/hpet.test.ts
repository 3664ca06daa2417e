// HPET per the IA-PC HPET 1.0a specification (section numbers per test), at 25 MHz (40 ns per tick):
// every register, exact match times on the virtual clock, legacy replacement, FSB, 32-bit mode.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/time/clock.js';
import { LatchedIrqLine } from '../../src/devices/irq-line.js';
import { Hpet, HpetTimerCnf as C, type HpetWiring } from '../../src/devices/hpet.js';

function setup(hz?: number) {
  const clock = new VirtualClock();
  const pins = new Map<number, LatchedIrqLine>();
  const irq0 = new LatchedIrqLine();
  const irq8 = new LatchedIrqLine();
  const legacy: boolean[] = [];
  const msis: [number, number, number][] = [];
  const wiring: HpetWiring = {
    ioapicPin(pin) {
      const l = new LatchedIrqLine();
      pins.set(pin, l);
      return l;
    },
    legacyIrq: (irq) => (irq === 0 ? irq0 : irq8),
    setLegacyReplacement: (on) => legacy.push(on),
    msi: { sendMsi: (lo, hi, data) => (msis.push([lo, hi, data]), true) },
  };
  const hpet = new Hpet(clock, { wiring, ...(hz ? { hz } : {}) });
  return { clock, hpet, pins, irq0, irq8, legacy, msis };
}
const r = (h: Hpet, off: number) => h.read(off, 4);
const w = (h: Hpet, off: number, v: number) => h.write(off, 4, v);
const T = (n: number, reg: number) => 0x100 + 0x20 * n + reg;

describe('HPET general registers (2.3.4 - 2.3.7)', () => {
  it('capabilities: vendor 0x8086, rev 1, 8 timers, 64-bit counter, legacy capable, 40 ns period', () => {
    const { hpet } = setup();
    const cap = r(hpet, 0);
    expect(cap & 0xff).toBe(1); // REV_ID
    expect((cap >>> 8) & 0x1f).toBe(7); // NUM_TIM_CAP = timers - 1
    expect((cap >>> 13) & 1).toBe(1); // COUNT_SIZE_CAP
    expect((cap >>> 15) & 1).toBe(1); // LEG_RT_CAP
    expect(cap >>> 16).toBe(0x8086);
    expect(r(hpet, 4)).toBe(40_000_000); // fs
    expect(r(hpet, 4)).toBeLessThanOrEqual(0x05f5_e100);
  });

  it('rejects a frequency whose period exceeds 100 ns', () => {
    expect(() => new Hpet(new VirtualClock(), { hz: 9_999_999 })).toThrow(/100 ns/);
  });

  it('configuration keeps ENABLE_CNF and LEG_RT_CNF only', () => {
    const { hpet } = setup();
    w(hpet, 0x10, 0xffff_ffff);
    expect(r(hpet, 0x10)).toBe(3);
    expect(r(hpet, 0x14)).toBe(0);
  });

  it('main counter: halted at reset, counts at 25 MHz when enabled, latches when halted', () => {
    const { hpet, clock } = setup();
    clock.advanceTo(1000);
    expect(r(hpet, 0xf0)).toBe(0);
    w(hpet, 0x10, 1);
    clock.advanceTo(1000 + 40 * 123 + 39);
    expect(r(hpet, 0xf0)).toBe(123);
    w(hpet, 0x10, 0);
    clock.advanceTo(100_000);
    expect(r(hpet, 0xf0)).toBe(123);
  });

  it('main counter carries into the high dword (64-bit)', () => {
    const { hpet, clock } = setup();
    w(hpet, 0xf0, 0xffff_fffe);
    w(hpet, 0xf4, 0x7);
    w(hpet, 0x10, 1);
    clock.advanceBy(80);
    expect([r(hpet, 0xf0), r(hpet, 0xf4)]).toEqual([0, 8]);
  });

  it('Linux-style calibration: counter delta * period over a 50 ms window is 50 ms', () => {
    const { hpet, clock } = setup();
    w(hpet, 0x10, 1);
    clock.advanceTo(3_000_017);
    const c0 = r(hpet, 0xf0);
    clock.advanceBy(50_000_000);
    const c1 = r(hpet, 0xf0);
    const periodFs = r(hpet, 4);
    expect(((c1 - c0) * periodFs) / 1e12).toBe(50); // ms
  });
});

describe('HPET timers (2.3.8, 2.3.9)', () => {
  it('timer config: capabilities read-only, route cap pins 20-23, comparator resets to all ones', () => {
    const { hpet } = setup();
    for (let n = 0; n < 8; n++) {
      expect(r(hpet, T(n, 0))).toBe(C.PER_INT_CAP | C.SIZE_CAP | C.FSB_DEL_CAP);
      expect(r(hpet, T(n, 4))).toBe(0x00f0_0000);
      expect([r(hpet, T(n, 8)), r(hpet, T(n, 0xc))]).toEqual([0xffff_ffff, 0xffff_ffff]);
    }
    w(hpet, T(2, 0), 0xffff_ffff);
    // writable: 1,2,3,6,8,14 plus route 13:9 only if capable (31 is not: kept 0)
    expect(r(hpet, T(2, 0))).toBe(0x4000 | 0x100 | 0x40 | 0x8 | 0x4 | 0x2 | C.PER_INT_CAP | C.SIZE_CAP | C.FSB_DEL_CAP);
    w(hpet, T(2, 0), 21 << 9);
    expect((r(hpet, T(2, 0)) >>> 9) & 0x1f).toBe(21);
    w(hpet, T(2, 0), 5 << 9); // pin 5 not in the capability: keeps 21
    expect((r(hpet, T(2, 0)) >>> 9) & 0x1f).toBe(21);
  });

  it('one-shot edge timer on IOAPIC pin 20 fires exactly when the counter equals the comparator', () => {
    const { hpet, clock, pins } = setup();
    w(hpet, T(2, 0), C.INT_ENB | (20 << 9));
    w(hpet, T(2, 8), 1000);
    w(hpet, T(2, 0xc), 0);
    w(hpet, 0x10, 1);
    expect(clock.nextDeadline()).toBe(40_000);
    clock.advanceTo(39_999);
    expect(pins.get(20)!.risingEdges).toBe(0);
    clock.advanceTo(40_000);
    expect(pins.get(20)!.risingEdges).toBe(1);
    expect(pins.get(20)!.level).toBe(false);
    expect(r(hpet, 0x20)).toBe(0); // edge timers never set status
    expect(clock.nextDeadline()).toBe(Infinity); // 64-bit one-shot: next match after 2^64 ticks
  });

  it('a comparator at or behind the counter waits for the wrap (32-bit mode: 2^32 ticks)', () => {
    const { hpet, clock } = setup();
    w(hpet, 0xf0, 500);
    w(hpet, T(3, 0), C.INT_ENB | C.MODE32 | (21 << 9));
    w(hpet, T(3, 8), 500);
    w(hpet, 0x10, 1);
    expect(clock.nextDeadline()).toBe(2 ** 32 * 40);
    expect(r(hpet, T(3, 0xc))).toBe(0); // high half reads 0 in 32-bit mode
  });

  it('32-bit mode compares the low dword: counter 0xFFFFFFF0, comparator 0x10 -> 0x20 ticks', () => {
    const { hpet, clock, pins } = setup();
    w(hpet, 0xf0, 0xffff_fff0);
    w(hpet, T(3, 0), C.INT_ENB | C.MODE32 | (21 << 9));
    w(hpet, T(3, 8), 0x10);
    w(hpet, 0x10, 1);
    clock.advanceTo(0x20 * 40);
    expect(pins.get(21)!.risingEdges).toBe(1);
  });

  it('periodic with Linux hpet_set_periodic: VAL_SET write sets the comparator, the second write the period', () => {
    const { hpet, clock, irq0, legacy } = setup();
    w(hpet, 0x10, 3); // enable + legacy replacement
    expect(legacy).toEqual([true]);
    clock.advanceTo(10_000); // counter 250
    const now = r(hpet, 0xf0);
    expect(now).toBe(250);
    const delta = 25_000; // 1 ms at 25 MHz
    w(hpet, T(0, 0), C.INT_ENB | C.PERIODIC | C.VAL_SET | C.MODE32);
    w(hpet, T(0, 8), now + delta);
    w(hpet, T(0, 8), delta);
    expect(r(hpet, T(0, 0)) & C.VAL_SET).toBe(0); // self-clearing
    const fires: number[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advanceTo(clock.nextDeadline());
      fires.push(clock.now());
    }
    expect(fires).toEqual([1_010_000, 2_010_000, 3_010_000]);
    expect(irq0.risingEdges).toBe(3);
    expect(r(hpet, T(0, 8))).toBe(250 + 4 * delta); // the accumulator holds the next match
  });

  it('a 64-bit comparator write (two halves) with VAL_SET sets both halves', () => {
    const { hpet } = setup();
    w(hpet, T(4, 0), C.PERIODIC | C.VAL_SET);
    w(hpet, T(4, 8), 0x1234);
    w(hpet, T(4, 0xc), 0x1);
    expect([r(hpet, T(4, 8)), r(hpet, T(4, 0xc))]).toEqual([0x1234, 0x1]);
    w(hpet, T(4, 8), 0x10); // VAL_SET cleared: period only
    expect(r(hpet, T(4, 8))).toBe(0x1234);
  });

  it('level-triggered timers set status (even with INT_ENB clear); write 1 clears it and the line', () => {
    const { hpet, clock, pins } = setup();
    w(hpet, T(1, 0), C.INT_TYPE_LEVEL | (22 << 9)); // not enabled
    w(hpet, T(1, 8), 10);
    w(hpet, T(1, 0xc), 0);
    w(hpet, 0x10, 1);
    clock.advanceTo(400);
    expect(r(hpet, 0x20)).toBe(0x2);
    expect(pins.get(22)!.level).toBe(false);
    w(hpet, T(1, 0), C.INT_TYPE_LEVEL | C.INT_ENB | (22 << 9));
    expect(pins.get(22)!.level).toBe(true);
    w(hpet, 0x20, 0x1); // other bit: nothing
    expect(pins.get(22)!.level).toBe(true);
    w(hpet, 0x20, 0x2);
    expect(r(hpet, 0x20)).toBe(0);
    expect(pins.get(22)!.level).toBe(false);
  });

  it('legacy replacement routes timer 0 to IRQ 0 and timer 1 to IRQ 8', () => {
    const { hpet, clock, irq0, irq8, legacy } = setup();
    w(hpet, T(0, 0), C.INT_ENB);
    w(hpet, T(0, 8), 5);
    w(hpet, T(0, 0xc), 0);
    w(hpet, T(1, 0), C.INT_ENB | C.INT_TYPE_LEVEL);
    w(hpet, T(1, 8), 6);
    w(hpet, T(1, 0xc), 0);
    w(hpet, 0x10, 3);
    clock.advanceTo(240);
    expect(irq0.risingEdges).toBe(1);
    expect(irq8.level).toBe(true);
    w(hpet, 0x10, 1); // leave legacy mode: timer 1 now has no valid route (pin 0 not capable)
    expect(legacy).toEqual([true, false]);
    expect(irq8.level).toBe(false);
  });

  it('FSB delivery sends FSB_INT_VAL to FSB_INT_ADDR', () => {
    const { hpet, clock, msis } = setup();
    w(hpet, T(5, 0x10), 0x4041);
    w(hpet, T(5, 0x14), 0xfee0_1000);
    expect([r(hpet, T(5, 0x10)), r(hpet, T(5, 0x14))]).toEqual([0x4041, 0xfee0_1000]);
    w(hpet, T(5, 0), C.INT_ENB | C.FSB_EN);
    w(hpet, T(5, 8), 7);
    w(hpet, T(5, 0xc), 0);
    w(hpet, 0x10, 1);
    clock.advanceTo(280);
    expect(msis).toEqual([[0xfee0_1000, 0, 0x4041]]);
  });

  it('halting stops the timers; the counter may be rewritten while running', () => {
    const { hpet, clock } = setup();
    w(hpet, T(2, 0), C.INT_ENB | (20 << 9));
    w(hpet, T(2, 8), 100);
    w(hpet, T(2, 0xc), 0);
    w(hpet, 0x10, 1);
    w(hpet, 0x10, 0);
    expect(clock.nextDeadline()).toBe(Infinity);
    w(hpet, 0x10, 1);
    clock.advanceTo(400); // counter 10
    w(hpet, 0xf0, 90);
    expect(clock.nextDeadline()).toBe(400 + 10 * 40);
  });

  it('byte reads return the addressed byte; narrow writes are dropped', () => {
    const { hpet } = setup();
    expect(hpet.read(2, 2)).toBe(0x8086);
    hpet.write(0x10, 1, 1);
    expect(r(hpet, 0x10)).toBe(0);
  });

  it('snapshot: save, restore, save again is equal; timers re-armed; a mutation changes it', () => {
    const a = setup();
    w(a.hpet, T(2, 0), C.INT_ENB | C.PERIODIC | C.VAL_SET | (20 << 9));
    w(a.hpet, T(2, 8), 100);
    w(a.hpet, T(2, 8), 100);
    w(a.hpet, 0x10, 1);
    a.clock.advanceTo(4040);
    const s = JSON.parse(JSON.stringify(a.hpet.saveState()));
    const b = setup();
    b.clock.advanceTo(4040);
    b.hpet.restoreState(s);
    expect(b.hpet.saveState()).toEqual(s);
    expect(b.clock.nextDeadline()).toBe(a.clock.nextDeadline());
    expect(r(b.hpet, 0xf0)).toBe(r(a.hpet, 0xf0));
    w(b.hpet, 0x20, 0);
    w(b.hpet, T(3, 0x10), 1);
    expect(b.hpet.saveState()).not.toEqual(s);
    expect(() => b.hpet.restoreState({ ...s, cmpLo: [1] })).toThrow(/'cmpLo'/);
  });
});
