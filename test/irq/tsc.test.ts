/**
 * The vCPU's TSC follows the machine's clock through the Machine's TscModel (the one the LAPIC's
 * TSC-deadline mode uses), across exits (here: 10,000 IN exits of the poll loop).
 *
 * fixtures/irq/calibrate.asm: RDTSC right after the 8254 count write and right after the poll loop
 * (see calibrate.test.ts for the timeline): the two RDTSCs are 1,000,707 virtual ns apart.
 */
import { describe, expect, it } from 'vitest';
import { MMIO_NS, runStory } from './story.js';

/** TSC ticks per virtual ns: the Machine's TSC runs at 2 GHz (CPUID.15H: 25 MHz crystal x 80 / 1). */
const TSC_PER_NS = 2;

describe('TSC against the PIT, guest level', () => {
  it('the TSC delta over the window is the elapsed virtual time at the TSC rate', () => {
    const { syncs, end } = runStory('calibrate', { maxInstructions: 5_000_000 });
    expect(end).toBe('done');
    // RDTSC 1 retires at SYNC 1 + 3 (mov al, out, rdtsc); RDTSC 2 at the poll-count SYNC - 3 (its
    // SYNC) - 2 MMIO reads (story.ts MMIO_NS) - 1 (mov r10d).
    const t1 = syncs[1]![1] + 3;
    const t2 = syncs[2]![1] - 3 - 2 * MMIO_NS - 1;
    // From the listing: after RDTSC 1, mov, the LAPIC ICR write and the HPET read (MMIO), xor, then
    // `polls` iterations of 100 instructions, the last one cut to in, inc, test, jnz, rdtsc.
    const polls = syncs[2]![0];
    expect(polls).toBe(10_008); // calibrate.test.ts derives it from the 8254's OUT2 rise
    expect(t2 - t1).toBe(1 + 2 * MMIO_NS + 1 + 100 * (polls - 1) + 5);
    expect(syncs[3]![0]).toBe((t2 - t1) * TSC_PER_NS);
  });
});
