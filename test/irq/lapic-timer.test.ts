/**
 * Guest-level LAPIC timer (SDM Vol. 3A §10.5.4): fixtures/irq/lapic_timer.asm programs its xAPIC
 * timer periodic (divide by 1, initial count 2500) and counts five interrupts while halted, reads
 * the current count, then arms a one-shot (count 250) while spinning in a 3-instruction loop.
 * The timer input is 25 MHz (docs/devices.md), so one count is 40 ns of virtual time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MMIO_NS, runStory, type Story } from './story.js';

const NS_PER_COUNT = 1e9 / 25_000_000; // 40
const PERIOD = 2500 * NS_PER_COUNT; // 100,000 ns
const ONE_SHOT = 250 * NS_PER_COUNT; // 10,000 ns
/** The handler's instructions up to and including its SYNC's OUT: inc, mov, mov, out. */
const HANDLER = 4;

describe('LAPIC timer, guest level', () => {
  let syncs: Story['syncs'] = [];
  let end = '';
  let tArm = 0;
  beforeAll(() => {
    ({ syncs, end } = runStory('lapic_timer'));
    tArm = syncs[0]![1] + MMIO_NS; // SYNC 1: the next instruction writes the initial count
  });

  it('the guest reaches its end', () => {
    expect(end).toBe('done');
    expect(syncs.map((s) => s[0])).toEqual([1, 1, 2, 3, 4, 5, 2475, 2, 6, 3334, 0]);
  });

  it('periodic: interrupt k arrives exactly k x 2500 counts x 40 ns after the initial-count write', () => {
    // The vCPU is halted between interrupts, so the clock skips to each deadline.
    const arrivals = syncs.slice(1, 6).map(([, t]) => t - HANDLER);
    expect(arrivals).toEqual([1, 2, 3, 4, 5].map((k) => tArm + k * PERIOD));
  });

  it('periodic: the current count reloads from the initial count (2475 after 25 more counts)', () => {
    // After the fifth SYNC: EOI (MMIO), iretq, cmp, jb, mov ecx, 1000 x loop, then the CCR read.
    const readAt = syncs[5]![1] + MMIO_NS + 3 + 1 + 1000 + MMIO_NS;
    const counts = Math.floor((readAt - tArm) / NS_PER_COUNT); // 12,525 counts since the write
    expect(syncs[6]![0]).toBe(2500 - (counts % 2500));
    expect(syncs[6]![1]).toBe(readAt + 3);
  });

  it('one-shot while busy: the interrupt lands after exactly 10,000 instructions of the loop', () => {
    const tOneShot = syncs[7]![1] + MMIO_NS;
    expect(syncs[8]![1]).toBe(tOneShot + ONE_SHOT + HANDLER);
    // inc, cmp, jb: the interrupt is taken after instruction 10,000 = the inc of iteration 3334.
    expect(syncs[9]![0]).toBe(Math.ceil(ONE_SHOT / 3));
    // SDM §10.5.4: a one-shot timer stays at zero once it has expired.
    expect(syncs[10]![0]).toBe(0);
  });
});
