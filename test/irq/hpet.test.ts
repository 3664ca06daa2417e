/**
 * Guest-level HPET (IA-PC HPET specification 1.0a): fixtures/irq/hpet.asm reads the capabilities,
 * takes timer 0 (periodic) and timer 1 (one-shot) in legacy-replacement mode (§2.3.8.1: timer 0 ->
 * IRQ 0 -> IOAPIC pin 2, timer 1 -> IRQ 8 -> pin 8), timer 2 by FSB delivery (§2.3.9.4, an MSI to
 * APIC ID 0) and timer 3 level-triggered on IOAPIC pin 20 (Tn_INT_STS, write 1 to clear, remote
 * IRR cleared by the EOI broadcast). The counter runs at 25 MHz: tick k at 40k ns after enable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MMIO_NS, runStory, type Story } from './story.js';

const TICK_NS = 40; // COUNTER_CLK_PERIOD 40,000,000 fs
/** Handlers: inc, lea, mov dx, out. */
const HANDLER = 4;

describe('HPET interrupts, guest level', () => {
  let story: Story;
  let s: Story['syncs'];
  let tEnable = 0;
  beforeAll(() => {
    story = runStory('hpet');
    s = story.syncs;
    tEnable = s[2]![1] + MMIO_NS; // SYNC 1; the next instruction sets ENABLE_CNF | LEG_RT_CNF
  });

  it('the guest reaches its end with the expected story', () => {
    expect(story.end).toBe('done');
    expect(s.map((x) => x[0])).toEqual([
      0x8086_a701, 40_000_000, 1, 0x101, 0x102, 0x201, 0x103, 2, 7500, 0x301, 3, 8500, 0x401, 0x8, 0xc034, 0x8034, 0,
    ]);
  });

  it('capabilities: vendor 8086, LEG_RT_CAP, COUNT_SIZE_CAP, 8 timers, revision 1, 40 ns period', () => {
    const lo = s[0]![0];
    expect(lo >>> 16).toBe(0x8086);
    expect((lo >>> 15) & 1).toBe(1);
    expect((lo >>> 13) & 1).toBe(1);
    expect(((lo >>> 8) & 0x1f) + 1).toBe(8);
    expect(lo & 0xff).toBe(1);
    expect(s[1]![0]).toBe(TICK_NS * 1e6);
  });

  it('legacy replacement: timer 0 every 2500 ticks on vector 0x31, timer 1 at tick 6250 on 0x32', () => {
    const at = (k: number) => tEnable + k * TICK_NS + HANDLER;
    expect(s.slice(3, 7)).toEqual([
      [0x101, at(2500)],
      [0x102, at(5000)],
      [0x201, at(6250)],
      [0x103, at(7500)],
    ]);
  });

  it('FSB: timer 2 fires when the counter equals counter-read + 1000, as an MSI to vector 0x33', () => {
    const readAt = s[7]![1] + MMIO_NS; // SYNC 2, then the main-counter read
    const counter = Math.floor((readAt - tEnable) / TICK_NS);
    expect(s[8]![0]).toBe(counter);
    expect(s[9]).toEqual([0x301, tEnable + (counter + 1000) * TICK_NS + HANDLER]);
  });

  it('level-triggered on IOAPIC pin 20: status bit 3 and remote IRR while in service, both cleared', () => {
    const readAt = s[10]![1] + MMIO_NS;
    const counter = Math.floor((readAt - tEnable) / TICK_NS);
    expect(s[11]![0]).toBe(counter);
    expect(s[12]).toEqual([0x401, tEnable + (counter + 500) * TICK_NS + HANDLER]);
    expect(s[13]![0]).toBe(1 << 3); // GEN_INT_STS: T3_INT_STS
    expect(s[14]![0]).toBe(0x34 | (1 << 15) | (1 << 14)); // level, remote IRR
    expect(s[15]![0]).toBe(0x34 | (1 << 15)); // remote IRR cleared by the EOI
    expect(s[16]![0]).toBe(0);
  });
});
