/**
 * The 8254 and the 8259 wired as on a PC (counter 0 OUT -> IRQ 0, edge-triggered), driven the way
 * a BIOS programs them: vectors 0x08-0x0F and 0x70-0x77, counter 0 in mode 3 with count 0
 * (18.2 Hz). A minimal "CPU" skips to each clock deadline and takes interrupts through INTA.
 */
import { describe, expect, it } from 'vitest';
import { Pit8254, PIT_HZ } from '../../src/devices/pit8254.js';
import { Pic8259 } from '../../src/devices/pic8259.js';
import { VirtualClock } from '../../src/time/clock.js';
import { nsAtTick } from '../../src/time/ticks.js';

/**
 * SeaBIOS order: the PIT is programmed first (its control word raises OUT0 from the power-on low,
 * an edge), then the PIC, whose ICW1 resets the edge latches, so the first request is a real tick.
 */
function bios(programPit: (pit: Pit8254) => void): { clock: VirtualClock; pic: Pic8259; pit: Pit8254 } {
  const clock = new VirtualClock();
  const pic = new Pic8259();
  const pit = new Pit8254(clock, pic.line(0));
  programPit(pit);
  pic.writePort(0x20, 0x11); // ICW1: edge, cascade, ICW4
  pic.writePort(0x21, 0x08); // ICW2: IRQ0-7 -> 0x08-0x0F (real-mode BIOS layout)
  pic.writePort(0x21, 0x04); // ICW3: slave on IR2
  pic.writePort(0x21, 0x01); // ICW4: 8086
  pic.writePort(0xa0, 0x11);
  pic.writePort(0xa1, 0x70); // IRQ8-15 -> 0x70-0x77
  pic.writePort(0xa1, 0x02);
  pic.writePort(0xa1, 0x01);
  pic.writePort(0x21, 0xfe); // only IRQ0 unmasked
  pic.writePort(0xa1, 0xff);
  return { clock, pic, pit };
}

describe('8254 counter 0 through the 8259', () => {
  it('BIOS 18.2 Hz tick: vector 0x08 at every rising OUT edge (every 65536 CLKs), exactly', () => {
    const { clock, pic } = bios((pit) => {
      pit.writePort(0x43, 0x36); // counter 0, LSB/MSB, mode 3, binary
      pit.writePort(0x40, 0x00);
      pit.writePort(0x40, 0x00); // 65536: loaded at CLK 1
    });
    const taken: [number, number][] = [];
    while (taken.length < 4) {
      clock.advanceTo(clock.nextDeadline());
      if (pic.hasInterrupt()) {
        taken.push([clock.now(), pic.acknowledge()]);
        pic.writePort(0x20, 0x20); // the handler's EOI
      }
    }
    // mode 3 OUT rises every 65536 CLKs after the load
    expect(taken).toEqual([
      [nsAtTick(1 + 65536, PIT_HZ), 0x08],
      [nsAtTick(1 + 2 * 65536, PIT_HZ), 0x08],
      [nsAtTick(1 + 3 * 65536, PIT_HZ), 0x08],
      [nsAtTick(1 + 4 * 65536, PIT_HZ), 0x08],
    ]);
    expect(taken[0]![0]).toBe(54_926_240); // 65537 CLKs at 1.193182 MHz = 54926239.4 ns, rounded up
  });

  it('one second of Linux HZ=100 ticks is 100 interrupts, the last at 1 + 100 * 11932 CLKs', () => {
    const { clock, pic } = bios((pit) => {
      pit.writePort(0x43, 0x34); // mode 2
      pit.writePort(0x40, 11932 & 0xff); // LATCH = (1193182 + 50) / 100
      pit.writePort(0x40, 11932 >> 8);
    });
    let count = 0;
    let last = 0;
    const end = nsAtTick(1 + 100 * 11932, PIT_HZ);
    while (clock.nextDeadline() <= end) {
      clock.advanceTo(clock.nextDeadline());
      if (pic.hasInterrupt()) {
        expect(pic.acknowledge()).toBe(0x08);
        pic.writePort(0x20, 0x20);
        count++;
        last = clock.now();
      }
    }
    expect(count).toBe(100);
    expect(last).toBe(end);
  });

  it('an interrupt not acknowledged in time is one request: IRR holds a single edge (lost ticks, as on hardware)', () => {
    const { clock, pic } = bios((pit) => {
      pit.writePort(0x43, 0x34);
      pit.writePort(0x40, 100);
      pit.writePort(0x40, 0);
    });
    clock.advanceTo(nsAtTick(1 + 5 * 100, PIT_HZ)); // five periods with the CPU not taking interrupts
    expect(pic.acknowledge()).toBe(0x08);
    pic.writePort(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
  });
});
