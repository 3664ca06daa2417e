/**
 * Snapshots in the middle of an interrupt stream: each guest of fixtures/irq/ is stopped after some
 * of its SYNCs, saved (Machine.saveState), restored into a new Machine, and run to its end. The
 * rest of the story - values and virtual-clock times - must equal the uninterrupted run's, bit for
 * bit: the device timers (LAPIC, 8254, HPET), pending requests and the clock all round-trip.
 */
import { describe, expect, it } from 'vitest';
import type { TestGuestOptions } from '../../src/testing.js';
import { Machine, TestGuest } from '../../src/testing.js';
import { fixture, runRestored, runStory } from './story.js';

const CASES: Array<[string, number, TestGuestOptions]> = [
  ['lapic_timer', 3, {}], // between two periodic interrupts, halted
  ['pit_ioapic', 4, {}],
  ['pic_realmode', 2, { mode: 'real' }],
  ['hpet', 5, {}], // timer 1 fired, timer 0 periodic still armed
  ['ipi', 2, { loadAddress: 0x8000, entry: 0x8400, vcpus: 2 }], // in the AP's handler
];

describe('snapshot and restore in the middle of an interrupt stream', () => {
  for (const [name, after, options] of CASES) {
    it(`${name}: the restored machine continues with the same SYNCs at the same times`, () => {
      const full = runStory(name, options);
      expect(full.end).toBe('done');
      const g = TestGuest.flat(fixture(name), { mode: 'long', ...options });
      for (let i = 0; i < after; i++) expect(g.next().kind).toBe('sync');
      const restored = Machine.restoreState(g.machine.saveState());
      const rest = runRestored(restored);
      expect(rest.end).toBe('done');
      expect(rest.syncs).toEqual(full.syncs.slice(after));
    });
  }
});
