/**
 * Guest-level IOAPIC routing of the 8254 (82093AA datasheet; 8254 datasheet 231164):
 * fixtures/irq/pit_ioapic.asm masks both 8259s and LINT0, points IOAPIC redirection entry 2 (ISA
 * IRQ 0 on a PC) at vector 0x30, and programs counter 0 in mode 2 with Linux's HZ=100 LATCH, 11932.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runStory, type Story } from './story.js';

const CLK = 1_193_182;
const edgeNs = (k: number) => Math.ceil((k * 1e9) / CLK);
const edgesBy = (t: number) => Math.floor((t * CLK) / 1e9);
const LATCH = 11932;
/** The handler: inc r15d, then SYNC (mov eax, mov dx, out). */
const HANDLER = 4;

describe('8254 IRQ 0 through IOAPIC pin 2, guest level', () => {
  let story: Story;
  beforeAll(() => {
    story = runStory('pit_ioapic');
  });

  it('the guest reaches its end with the expected story', () => {
    expect(story.end).toBe('done');
    expect(story.syncs.map((s) => s[0])).toEqual([0x0017_0020, 0x30, 1, 1, 2, 3, 0x01]);
  });

  it('reads the IOAPIC version (24 pins) and its redirection entry back through IOREGSEL/IOWIN', () => {
    expect(story.syncs[0]![0] >>> 16).toBe(23); // maximum redirection entry
    expect(story.syncs[0]![0] & 0xff).toBe(0x20);
    expect(story.syncs[1]![0]).toBe(0x30);
  });

  it('vector 0x30 arrives on every rising OUT0 edge of mode 2: every 11932 CLKs after the load', () => {
    const s = story.syncs;
    // After SYNC 1: mov al, out (LSB), mov al, out (MSB completes the count).
    const written = s[2]![1] + 4;
    const load = edgesBy(written) + 1; // loaded on the next CLK pulse
    expect(edgeNs(load)).toBeGreaterThan(written);
    // Mode 2: OUT goes low when the count reaches 1 and high again one CLK later, as it reloads.
    const arrivals = s.slice(3, 6).map(([, t]) => t - HANDLER);
    expect(arrivals).toEqual([1, 2, 3].map((k) => edgeNs(load + k * LATCH)));
    expect(arrivals[0]).toBe(10_000_989); // 11933 CLKs: 10.000989 ms, a 100 Hz tick
  });

  it('the same IRQ 0 edges reach the (masked) 8259: its IRR bit 0 is set', () => {
    expect(story.syncs[6]![0] & 1).toBe(1);
  });
});
