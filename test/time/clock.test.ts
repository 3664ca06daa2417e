import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/time/clock.js';
import { InvalidArgumentError, InvalidStateError } from '../../src/util/errors.js';

describe('VirtualClock (virtual mode)', () => {
  it('starts at 0 with no deadline', () => {
    const c = new VirtualClock();
    expect(c.now()).toBe(0);
    expect(c.nextDeadline()).toBe(Infinity);
    expect(c.mode).toBe('virtual');
  });

  it('advances from retired instructions at the configured rate', () => {
    const c = new VirtualClock({ nsPerInstruction: 2.5 });
    c.retire(3); // 7.5 ns -> floor 7
    expect(c.now()).toBe(7);
    c.retire(1); // 10 ns
    expect(c.now()).toBe(10);
    expect(c.instructionsToNs(4)).toBe(10);
    expect(c.nsToInstructions(11)).toBe(5);
  });

  it('fires a timer exactly at its deadline and reports now() == deadline inside the callback', () => {
    const c = new VirtualClock();
    const seen: number[] = [];
    const t = c.createTimer('t', () => seen.push(c.now()));
    t.arm(1000);
    expect(c.nextDeadline()).toBe(1000);
    c.retire(999);
    expect(seen).toEqual([]);
    c.retire(5);
    expect(seen).toEqual([1000]);
    expect(c.now()).toBe(1004);
    expect(t.armed).toBe(false);
    expect(c.nextDeadline()).toBe(Infinity);
  });

  it('fires due timers in deadline order, ties by creation order', () => {
    const c = new VirtualClock();
    const order: string[] = [];
    const a = c.createTimer('a', () => order.push('a'));
    const b = c.createTimer('b', () => order.push('b'));
    const d = c.createTimer('d', () => order.push('d'));
    d.arm(50);
    b.arm(100);
    a.arm(100);
    c.advanceTo(200);
    expect(order).toEqual(['d', 'a', 'b']);
  });

  it('lets a periodic callback re-arm without drift, firing every period within one advance', () => {
    const c = new VirtualClock();
    const fired: number[] = [];
    const t = c.createTimer('periodic', () => {
      fired.push(c.now());
      t.arm(c.now() + 300);
    });
    t.arm(300);
    c.advanceTo(1000);
    expect(fired).toEqual([300, 600, 900]);
    expect(t.deadline).toBe(1200);
    expect(c.now()).toBe(1000);
  });

  it('a callback may arm another timer that is already due; it fires in the same advance', () => {
    const c = new VirtualClock();
    const order: string[] = [];
    const second = c.createTimer('second', () => order.push(`second@${c.now()}`));
    const first = c.createTimer('first', () => {
      order.push(`first@${c.now()}`);
      second.arm(c.now() + 10);
    });
    first.arm(100);
    c.advanceTo(500);
    expect(order).toEqual(['first@100', 'second@110']);
  });

  it('disarm cancels and arming in the past fires at the present, not earlier', () => {
    const c = new VirtualClock();
    const at: number[] = [];
    const t = c.createTimer('t', () => at.push(c.now()));
    t.arm(100);
    t.disarm();
    c.advanceTo(200);
    expect(at).toEqual([]);
    t.arm(50);
    expect(c.nextDeadline()).toBe(50);
    c.runDue();
    expect(at).toEqual([200]);
  });

  it('instructionsUntil gives the exact budget to reach a deadline, also with fractional rates', () => {
    for (const rate of [1, 0.3, 2.5, 1 / 3, 7]) {
      const c = new VirtualClock({ nsPerInstruction: rate });
      c.retire(17);
      for (const deadline of [c.now() + 1, c.now() + 999, 123456]) {
        const k = c.instructionsUntil(deadline);
        const probe = new VirtualClock({ nsPerInstruction: rate });
        probe.retire(17);
        if (k > 0) {
          probe.retire(k - 1);
          expect(probe.now()).toBeLessThan(deadline);
          probe.retire(1);
        }
        expect(probe.now()).toBeGreaterThanOrEqual(deadline);
      }
    }
    const c = new VirtualClock();
    expect(c.instructionsUntil(Infinity)).toBe(Infinity);
    expect(c.instructionsUntil(0)).toBe(0);
  });

  it('advanceTo rebases so retired instructions count from the jump', () => {
    const c = new VirtualClock({ nsPerInstruction: 0.5 });
    c.retire(3); // 1.5 -> 1
    c.advanceTo(100);
    c.retire(3);
    expect(c.now()).toBe(101);
  });

  it('rejects going backwards, bad times, bad rates and re-entrant advances, changing nothing', () => {
    const c = new VirtualClock();
    c.advanceTo(10);
    expect(() => c.advanceTo(5.5)).toThrow(/integer/);
    expect(() => c.advanceTo(NaN)).toThrow(InvalidArgumentError);
    expect(() => new VirtualClock({ nsPerInstruction: 0 })).toThrow(InvalidArgumentError);
    expect(() => c.setNsPerInstruction(-1)).toThrow(InvalidArgumentError);
    expect(c.now()).toBe(10);
    const t = c.createTimer('x', () => c.advanceTo(100));
    expect(() => t.arm(-1)).toThrow(InvalidArgumentError);
    t.arm(20);
    expect(() => c.advanceTo(30)).toThrow(InvalidStateError);
  });

  it('advanceTo a time in the past fires what is due and keeps the time (never runs backwards)', () => {
    const c = new VirtualClock();
    c.advanceTo(100);
    const at: number[] = [];
    const t = c.createTimer('late', () => at.push(c.now()));
    t.arm(40); // e.g. a comparator already passed
    expect(c.nextDeadline()).toBe(40);
    c.advanceTo(c.nextDeadline());
    expect(at).toEqual([100]);
    expect(c.now()).toBe(100);
    c.retire(1);
    expect(c.now()).toBe(101);
  });

  it('setNsPerInstruction keeps elapsed time', () => {
    const c = new VirtualClock();
    c.retire(100);
    c.setNsPerInstruction(10);
    c.retire(1);
    expect(c.now()).toBe(110);
  });

  it('saves and restores time and rate; restore disarms timers for devices to re-arm', () => {
    const c = new VirtualClock({ nsPerInstruction: 3 });
    c.retire(7);
    const t = c.createTimer('t', () => {});
    t.arm(1000);
    const s = c.saveState();
    expect(JSON.parse(JSON.stringify(s))).toEqual({ mode: 'virtual', nowNs: 21, nsPerInstruction: 3 });
    const d = new VirtualClock();
    const t2 = d.createTimer('t', () => {});
    t2.arm(5);
    d.restoreState(s);
    expect(d.now()).toBe(21);
    expect(d.nsPerInstruction).toBe(3);
    expect(t2.armed).toBe(false);
    expect(d.nextDeadline()).toBe(Infinity);
    expect(() => d.restoreState({ ...s, mode: 'host' })).toThrow(InvalidArgumentError);
  });
});

describe('VirtualClock (host mode)', () => {
  it('follows performance.now() monotonically and skips ahead with advanceTo', () => {
    const c = new VirtualClock({ mode: 'host' });
    const a = c.now();
    expect(Number.isInteger(a)).toBe(true);
    const fired: number[] = [];
    const t = c.createTimer('t', () => fired.push(c.now()));
    t.arm(a + 5_000_000_000); // 5 s ahead
    c.advanceTo(a + 5_000_000_000);
    expect(fired.length).toBe(1);
    expect(fired[0]).toBeGreaterThanOrEqual(a + 5_000_000_000); // host time keeps moving meanwhile
    expect(c.now()).toBeGreaterThanOrEqual(a + 5_000_000_000);
    expect(c.instructionsUntil(c.now() + 10)).toBe(Infinity);
  });
});
