/**
 * Guest-level dual 8259 in real mode (Intel 8259A datasheet 231468; 8254 datasheet 231164):
 * fixtures/irq/pic_realmode.asm initialises both 8259s the BIOS way (ICW1-ICW4, vectors 0x08 and
 * 0x70), installs IVT handlers, and takes
 * - IRQ 0 from 8254 counter 0 in mode 3 with count 0 (65536, the BIOS 18.2 Hz tick) as INT 08h,
 *   three times while halted;
 * - IRQ 4 from COM1 (THR empty) as INT 0Ch, reading COM1's IIR and the 8259's ISR through OCW3
 *   before and after the EOI.
 * The LAPIC is as at power-on (LINT0 ExtINT), so each vector comes from the 8259's INTA cycle.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runStory, type Story } from './story.js';
import { PIT_HZ } from '../../src/devices/pit8254.js';

const CLK = 1_193_182;
/** The first ns at which CLK edge k (counted from power-on) has happened: ceil(k / f). */
const edgeNs = (k: number) => Math.ceil((k * 1e9) / CLK);
/** CLK edges that have happened by ns t: floor(t * f). */
const edgesBy = (t: number) => Math.floor((t * CLK) / 1e9);
/** INT 08h handler: inc si, then SYNC (mov eax, mov dx, out). */
const IRQ0_HANDLER = 4;

describe('8259 in real mode with BIOS vectors, guest level', () => {
  let story: Story;
  beforeAll(() => {
    story = runStory('pic_realmode', { mode: 'real' });
  });

  it('the 8254 input clock is the PC one', () => {
    expect(PIT_HZ).toBe(CLK);
  });

  it('the guest reaches its end with the expected story', () => {
    expect(story.end).toBe('done');
    expect(story.syncs.map((s) => s[0])).toEqual([1, 1, 2, 3, 2, 0x10c, 0x02, 0x10, 0x00]);
  });

  it('INT 08h arrives on each rising OUT0 edge: every 65536 CLKs after the load CLK', () => {
    const s = story.syncs;
    // After SYNC 1: xor al, out 0x40 (LSB), out 0x40 (MSB: the count is complete).
    const written = s[0]![1] + 3;
    // "loaded on the next CLK pulse" after the count is written (8254 datasheet, mode 3)
    const load = edgesBy(written) + 1;
    expect(edgeNs(load)).toBeGreaterThan(written);
    const arrivals = s.slice(1, 4).map(([, t]) => t - IRQ0_HANDLER);
    expect(arrivals).toEqual([1, 2, 3].map((k) => edgeNs(load + k * 65536)));
    // 18.2 Hz: the first tick 65536 CLKs (54.925 ms) after the load edge at 839 ns
    expect(arrivals[0]).toBe(54_926_240);
  });

  it('INT 0Ch: a request latched while masked is taken after STI; HLT (the handler SYNCs first)', () => {
    const s = story.syncs;
    // SYNC 2, then sti, hlt (woken), then the handler's SYNC 0x10C: 2 + 3 instructions.
    expect(s[5]![1]).toBe(s[4]![1] + 5);
  });

  it('in the handler: IIR says THR empty, ISR bit 4 is set until the non-specific EOI', () => {
    const s = story.syncs;
    expect(s[6]![0]).toBe(0x02); // IIR: THRE (priority 3), FIFOs off (PC16550D Table 4)
    expect(s[7]![0]).toBe(1 << 4); // OCW3 read ISR: IRQ 4 in service
    expect(s[8]![0]).toBe(0); // after OCW2 0x20; the OCW3 register selection persists
  });
});
