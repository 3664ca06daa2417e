import { describe, expect, it } from 'vitest';
import { CallbackIrqLine, LatchedIrqLine, NO_IRQ } from '../../src/devices/irq-line.js';

describe('IrqLine', () => {
  it('CallbackIrqLine forwards levels, pulse is high then low', () => {
    const levels: boolean[] = [];
    const l = new CallbackIrqLine((v) => levels.push(v));
    l.assert();
    l.deassert();
    l.pulse();
    expect(levels).toEqual([true, false, true, false]);
  });

  it('LatchedIrqLine keeps the level, counts rising edges and reports only transitions', () => {
    const changes: boolean[] = [];
    const l = new LatchedIrqLine((v) => changes.push(v));
    l.assert();
    l.assert();
    expect(l.level).toBe(true);
    l.deassert();
    l.pulse();
    expect(l.level).toBe(false);
    expect(l.risingEdges).toBe(2);
    expect(changes).toEqual([true, false, true, false]);
  });

  it('NO_IRQ accepts every call', () => {
    expect(() => {
      NO_IRQ.assert();
      NO_IRQ.pulse();
      NO_IRQ.deassert();
    }).not.toThrow();
  });
});
