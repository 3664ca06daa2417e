/**
 * Guest-level kernel-style calibration (Linux arch/x86/kernel/tsc.c pit_calibrate_tsc; LAPIC
 * timer and HPET sampled over the same window as Linux's calibrate_APIC_clock and HPET
 * calibration do): fixtures/irq/calibrate.asm gates 8254 counter 2 through port 0x61, programs mode
 * 0 with a 1 ms count (1193) and polls port 0x61 bit 5 (OUT2) every 100 instructions.
 * 8254 datasheet: in mode 0 the count is loaded on the CLK after the write and OUT rises when the
 * counter reaches 0, N CLKs later.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MMIO_NS, runStory, type Story } from './story.js';

const CLK = 1_193_182;
const edgeNs = (k: number) => Math.ceil((k * 1e9) / CLK);
const edgesBy = (t: number) => Math.floor((t * CLK) / 1e9);
const LATCH = 1193;
const POLL = 100; // instructions per poll iteration

describe('PIT channel 2 calibration loop, guest level', () => {
  let story: Story;
  let s: Story['syncs'];
  // virtual-clock times derived from the listing (see the comments in each test)
  let tHpetOn = 0;
  let tWrite = 0;
  let tLoop = 0;
  let polls = 0;
  let tAfter = 0;
  beforeAll(() => {
    story = runStory('calibrate', { maxInstructions: 5_000_000 });
    s = story.syncs;
    tHpetOn = s[0]![1] + MMIO_NS; // SYNC 0, then ENABLE_CNF
    tWrite = s[1]![1] + 2; // SYNC 1, mov al, out 0x42 (MSB)
    tLoop = tWrite + 2 + MMIO_NS + MMIO_NS + 1; // rdtsc, mov, LAPIC ICR write, HPET read, xor
    const rise = edgeNs(edgesBy(tWrite) + 1 + LATCH); // OUT2 high from this ns
    // The IN of iteration i (0-based) reads port 0x61 at tLoop + 100 i + 1 (retired, then read).
    const last = Math.ceil((rise - tLoop - 1) / POLL);
    polls = last + 1;
    tAfter = tLoop + POLL * last + 4 + 2; // in, inc, test, jnz (taken), rdtsc, mov
  });
  // The samples (an MMIO access sees the time including its own instruction).
  const lapicStart = () => tWrite + 2 + MMIO_NS; // rdtsc, mov, the initial-count write
  const hpetBefore = () => tWrite + 2 + 2 * MMIO_NS;
  const lapicRead = () => tAfter + MMIO_NS;
  const hpetAfter = () => tAfter + 2 * MMIO_NS;

  it('the guest reaches its end', () => {
    expect(story.end).toBe('done');
    expect(s.map((x) => x[0]).filter((_v, i) => i !== 3)).toEqual([0, 1, 10_008, 1563, 0, 25_018]);
  });

  it('OUT2 rises 1193 CLKs after the load CLK: the poll count is exact', () => {
    expect(s[2]![0]).toBe(polls);
    expect(s[2]![1]).toBe(tAfter + MMIO_NS + MMIO_NS + 3);
  });

  it('LAPIC timer (25 MHz, divide by 16) counts elapsed over the window', () => {
    expect(s[4]![0]).toBe(Math.floor((lapicRead() - lapicStart()) / (40 * 16)));
    // What Linux derives: counts x 16 per second of PIT window, within 0.1% of 25 MHz.
    const window = (LATCH + 1) / CLK;
    expect(Math.abs((s[4]![0] * 16) / window / 25e6 - 1)).toBeLessThan(1e-3);
  });

  it('HPET main counter (40 ns period) before and after', () => {
    expect(s[5]![0]).toBe(Math.floor((hpetBefore() - tHpetOn) / 40));
    expect(s[6]![0]).toBe(Math.floor((hpetAfter() - tHpetOn) / 40));
  });
});
