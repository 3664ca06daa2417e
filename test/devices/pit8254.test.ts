/**
 * 8254 tests. Expected edges come from the Intel 8254 datasheet (231164) mode descriptions, with
 * "edge k" the k-th CLK pulse since power-on (1.193182 MHz); a count written between edges w and
 * w+1 is loaded into CE on edge w+1.
 */
import { describe, expect, it } from 'vitest';
import { Pit8254, PIT_HZ } from '../../src/devices/pit8254.js';
import { LatchedIrqLine } from '../../src/devices/irq-line.js';
import { VirtualClock } from '../../src/time/clock.js';
import { nsAtTick, ticksAt } from '../../src/time/ticks.js';
import { IoBus } from '../../src/devices/bus.js';
import { snapshotRoundTrip } from './snapshot-suite.js';

interface Rig {
  clock: VirtualClock;
  pit: Pit8254;
  irq: LatchedIrqLine;
  /** IRQ 0 transitions as [edge, level]; the edge is exact: the change happened at nsAtTick(edge). */
  changes: [number, boolean][];
  /** Advance to CLK edge k. */
  at(k: number): void;
  /** Latches counter n with the counter latch command and reads it LSB, MSB. */
  latched(n: number): number;
}

function rig(): Rig {
  const clock = new VirtualClock();
  const changes: [number, boolean][] = [];
  const irq = new LatchedIrqLine((level) => {
    const ns = clock.now();
    const k = ticksAt(ns, PIT_HZ);
    expect(nsAtTick(k, PIT_HZ)).toBe(ns); // transitions happen exactly at a CLK edge
    changes.push([k, level]);
  });
  const pit = new Pit8254(clock, irq);
  return {
    clock,
    pit,
    irq,
    changes,
    at: (k) => clock.advanceTo(nsAtTick(k, PIT_HZ)),
    latched: (n) => {
      pit.writePort(0x43, n << 6); // counter latch command
      const lo = pit.readPort(0x40 + n);
      return lo | (pit.readPort(0x40 + n) << 8);
    },
  };
}

describe('8254 mode 0: interrupt on terminal count', () => {
  it('OUT goes low at the control word and high N+1 CLKs after the count is written', () => {
    const r = rig();
    r.at(10);
    r.pit.writePort(0x43, 0x30); // counter 0, LSB then MSB, mode 0, binary
    r.pit.writePort(0x40, 100);
    r.pit.writePort(0x40, 0);
    r.at(200);
    expect(r.changes).toEqual([[111, true]]);
    expect(r.irq.level).toBe(true); // stays high until reprogrammed
  });

  it('CE is loaded on the next CLK and counts down by one per CLK, wrapping after 0', () => {
    const r = rig();
    r.at(10);
    r.pit.writePort(0x43, 0x30);
    r.pit.writePort(0x40, 100);
    r.pit.writePort(0x40, 0);
    r.at(11);
    expect(r.latched(0)).toBe(100);
    r.at(50);
    expect(r.latched(0)).toBe(61);
    r.at(111);
    expect(r.latched(0)).toBe(0);
    r.at(112);
    expect(r.latched(0)).toBe(0xffff);
  });

  it('writing the first byte of a new count stops counting and sets OUT low; the second byte restarts', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x30);
    r.pit.writePort(0x40, 0x10);
    r.pit.writePort(0x40, 0x00); // 16, loaded at edge 1, OUT high at 17
    r.at(20);
    expect(r.irq.level).toBe(true);
    r.pit.writePort(0x40, 0x20); // LSB of the next count
    expect(r.irq.level).toBe(false);
    const held = r.latched(0);
    r.at(40);
    expect(r.latched(0)).toBe(held);
    r.pit.writePort(0x40, 0x00); // MSB: 0x20 = 32, loaded at edge 41
    r.at(100);
    expect(r.changes).toEqual([
      [17, true],
      [20, false],
      [73, true],
    ]);
  });

  it('a zero count means 65536 in binary', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x30);
    r.pit.writePort(0x40, 0);
    r.pit.writePort(0x40, 0);
    r.at(65536);
    expect(r.irq.level).toBe(false);
    r.at(65537);
    expect(r.changes).toEqual([[65537, true]]);
  });
});

describe('8254 mode 2: rate generator', () => {
  it('Linux HZ=1000 setup (0x34, LATCH 1193): OUT low for one CLK when CE reaches 1, period N', () => {
    const r = rig();
    r.at(5);
    r.pit.writePort(0x43, 0x34); // counter 0, LSB/MSB, mode 2, binary
    r.pit.writePort(0x40, 1193 & 0xff);
    r.pit.writePort(0x40, 1193 >> 8);
    expect(r.changes).toEqual([[5, true]]); // OUT goes high at the mode-2 control word
    r.at(6 + 3 * 1193 + 10);
    // loaded at edge 6; CE = 1 at 6 + 1192 (OUT low), reload and OUT high at 6 + 1193
    expect(r.changes.slice(1)).toEqual([
      [6 + 1192, false],
      [6 + 1193, true],
      [6 + 2 * 1193 - 1, false],
      [6 + 2 * 1193, true],
      [6 + 3 * 1193 - 1, false],
      [6 + 3 * 1193, true],
    ]);
    expect(r.irq.risingEdges).toBe(4);
  });

  it('counter reads N down to 1, then N again', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x34);
    r.pit.writePort(0x40, 10);
    r.pit.writePort(0x40, 0); // loaded at edge 1
    const seen: number[] = [];
    for (let k = 1; k <= 12; k++) {
      r.at(k);
      seen.push(r.latched(0));
    }
    expect(seen).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 9]);
  });

  it('a new count written while counting takes effect at the end of the current period', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x34);
    r.pit.writePort(0x40, 100);
    r.pit.writePort(0x40, 0); // loaded at edge 1, reloads at 101, 201, ...
    r.at(30);
    r.pit.writePort(0x40, 50);
    r.pit.writePort(0x40, 0);
    const status = (): number => {
      r.pit.writePort(0x43, 0xe2); // read-back status of counter 0
      return r.pit.readPort(0x40);
    };
    expect(status() & 0x40).toBe(0x40); // NULL COUNT until the reload
    r.at(100);
    expect(r.latched(0)).toBe(1);
    r.at(101);
    expect(status() & 0x40).toBe(0);
    expect(r.latched(0)).toBe(50);
    r.at(160);
    // OUT rises at the mode-2 control word (edge 0), at the old period's end (101), then every 50
    expect(r.changes.filter(([, l]) => l).map(([k]) => k)).toEqual([0, 101, 151]);
  });
});

describe('8254 mode 3: square wave', () => {
  it('BIOS setup (0x36, count 0 = 65536): 18.2 Hz, high and low 32768 CLKs each', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x36);
    r.pit.writePort(0x40, 0);
    r.pit.writePort(0x40, 0);
    r.at(1 + 2 * 65536 + 5);
    expect(r.changes).toEqual([
      [0, true],
      [1 + 32768, false],
      [1 + 65536, true],
      [1 + 65536 + 32768, false],
      [1 + 2 * 65536, true],
    ]);
  });

  it('an odd count N is high (N+1)/2 and low (N-1)/2 CLKs; CE decrements by two', () => {
    const r = rig();
    r.at(100);
    r.pit.writePort(0x43, 0x36);
    r.pit.writePort(0x40, 5);
    r.pit.writePort(0x40, 0); // loaded at 101
    r.at(101 + 10);
    expect(r.changes.slice(1)).toEqual([
      [104, false],
      [106, true],
      [109, false],
      [111, true],
    ]);
    const r2 = rig();
    r2.pit.writePort(0x43, 0x36);
    r2.pit.writePort(0x40, 6);
    r2.pit.writePort(0x40, 0); // even: loaded at 1 with 6, then 4, 2, (toggle) 6, 4, 2
    const seen: number[] = [];
    for (let k = 1; k <= 7; k++) {
      r2.at(k);
      seen.push(r2.latched(0));
    }
    expect(seen).toEqual([6, 4, 2, 6, 4, 2, 6]);
  });
});

describe('8254 modes 1, 4 and 5', () => {
  it('mode 4: OUT low for exactly one CLK, N+1 CLKs after the count is written, once', () => {
    const r = rig();
    r.at(3);
    r.pit.writePort(0x43, 0x38); // counter 0, LSB/MSB, mode 4
    r.pit.writePort(0x40, 20);
    r.pit.writePort(0x40, 0);
    r.at(1000);
    expect(r.changes).toEqual([
      [3, true],
      [24, false],
      [25, true],
    ]);
  });

  it('mode 1 on counter 2: the GATE rising edge (port 0x61 bit 0) triggers a one-shot of N CLKs, retriggerable', () => {
    const r = rig();
    const out2 = (): boolean => (r.pit.readPortB() & 0x20) !== 0;
    r.pit.writePort(0x43, 0xb2); // counter 2, LSB/MSB, mode 1
    r.pit.writePort(0x42, 10);
    r.pit.writePort(0x42, 0);
    r.at(50);
    expect(out2()).toBe(true); // no trigger yet
    r.pit.writePortB(0x01); // GATE rises at edge 50: CE loaded on 51, OUT low
    r.at(51);
    expect(out2()).toBe(false);
    r.at(60);
    expect(out2()).toBe(false);
    r.at(61);
    expect(out2()).toBe(true);
    r.pit.writePortB(0x00);
    r.at(70);
    r.pit.writePortB(0x01); // retrigger at 70
    r.at(75);
    r.pit.writePortB(0x00);
    r.pit.writePortB(0x01); // retrigger at 75 restarts the N CLKs
    r.at(85);
    expect(out2()).toBe(false);
    r.at(86);
    expect(out2()).toBe(true);
  });

  it('mode 5 on counter 2: a GATE trigger gives a one-CLK low pulse N+1 CLKs later', () => {
    const r = rig();
    const out2 = (): boolean => (r.pit.readPortB() & 0x20) !== 0;
    r.pit.writePort(0x43, 0x9a); // counter 2, LSB only, mode 5
    r.pit.writePort(0x42, 4);
    r.at(10);
    r.pit.writePortB(0x01); // trigger at 10, loaded at 11, terminal count at 15
    const lows: number[] = [];
    for (let k = 10; k <= 20; k++) {
      r.at(k);
      if (!out2()) lows.push(k);
    }
    expect(lows).toEqual([15]);
  });
});

describe('8254 NULL COUNT and GATE corner cases', () => {
  it('mode 1: NULL COUNT stays 1 after the count write until a trigger loads it', () => {
    const r = rig();
    const status = (): number => {
      r.pit.writePort(0x43, 0xe8); // read-back status of counter 2
      return r.pit.readPort(0x42);
    };
    r.pit.writePort(0x43, 0xb2);
    r.pit.writePort(0x42, 5);
    r.pit.writePort(0x42, 0);
    r.at(100);
    expect(status()).toBe(0xf2); // OUT high, NULL COUNT, RW 3, mode 1
    r.pit.writePortB(0x01); // trigger at 100, load at 101
    expect(status() & 0x40).toBe(0x40);
    r.at(101);
    expect(status()).toBe(0x32); // OUT low during the one-shot, count loaded
  });

  it('mode 4 GATE low suspends the count; the strobe comes late by the time it was low', () => {
    const r = rig();
    r.pit.writePortB(0x01);
    r.pit.writePort(0x43, 0xb8); // counter 2, mode 4
    r.pit.writePort(0x42, 10);
    r.pit.writePort(0x42, 0); // loaded at 1, strobe at 11 if never suspended
    r.at(5);
    r.pit.writePortB(0x00);
    r.at(25);
    r.pit.writePortB(0x01); // 20 CLKs suspended
    const lows: number[] = [];
    for (let k = 25; k <= 40; k++) {
      r.at(k);
      if ((r.pit.readPortB() & 0x20) === 0) lows.push(k);
    }
    expect(lows).toEqual([31]);
  });

  it('mode 3 in BCD: count 0x0010 is ten CLKs, five high and five low', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x37); // counter 0, mode 3, BCD
    r.pit.writePort(0x40, 0x10);
    r.pit.writePort(0x40, 0x00);
    r.at(22);
    expect(r.changes).toEqual([
      [0, true],
      [6, false],
      [11, true],
      [16, false],
      [21, true],
    ]);
  });

  it('counter 0 with its GATE held low in mode 2 keeps OUT high and raises no IRQ', () => {
    const r = rig();
    r.pit.setGate(0, false);
    r.pit.writePort(0x43, 0x34);
    r.pit.writePort(0x40, 10);
    r.pit.writePort(0x40, 0);
    r.at(100);
    expect(r.changes).toEqual([[0, true]]);
    expect(r.clock.nextDeadline()).toBe(Infinity);
    r.pit.setGate(0, true); // reload at 101: OUT low at 110, high at 111
    r.at(112);
    expect(r.changes.slice(1)).toEqual([
      [110, false],
      [111, true],
    ]);
  });
});

describe('8254 BCD, access modes, latches and read-back', () => {
  it('BCD mode 0: count 0x1000 is one thousand, and CE reads back in BCD', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x31); // counter 0, LSB/MSB, mode 0, BCD
    r.pit.writePort(0x40, 0x00);
    r.pit.writePort(0x40, 0x10);
    r.at(1);
    expect(r.latched(0)).toBe(0x1000);
    r.at(12);
    expect(r.latched(0)).toBe(0x0989);
    r.at(1001);
    expect(r.irq.level).toBe(true);
    expect(r.changes).toEqual([[1001, true]]);
    r.at(1002);
    expect(r.latched(0)).toBe(0x9999); // wraps within four decades
  });

  it('BCD count 0 is ten thousand', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x35); // mode 2, BCD
    r.pit.writePort(0x40, 0);
    r.pit.writePort(0x40, 0);
    r.at(10001 + 5);
    expect(r.changes.map(([k]) => k)).toEqual([0, 10000, 10001]);
  });

  it('LSB-only and MSB-only access modes for writing and reading', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x50); // counter 1, LSB only, mode 0
    r.pit.writePort(0x41, 0x80); // count 0x0080
    r.pit.writePort(0x43, 0xa0); // counter 2, MSB only, mode 0
    r.pit.writePort(0x42, 0x02); // count 0x0200
    r.at(1 + 0x10);
    expect(r.pit.readPort(0x41)).toBe(0x70);
    expect(r.pit.readPort(0x41)).toBe(0x70); // LSB each time
    r.pit.writePortB(0x01); // counter 2 counts only with its GATE high (power-on: low)
    r.at(1 + 0x10 + 0x100);
    expect(r.pit.readPort(0x42)).toBe(0x01); // 256 CLKs after the gate rose: 0x100, MSB only
  });

  it('the counter latch holds its value until read; a second latch before reading is ignored', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x30);
    r.pit.writePort(0x40, 0x34);
    r.pit.writePort(0x40, 0x12); // 0x1234 loaded at edge 1
    r.at(0x11);
    r.pit.writePort(0x43, 0x00);
    r.at(0x100);
    r.pit.writePort(0x43, 0x00); // ignored
    expect(r.pit.readPort(0x40)).toBe(0x24);
    r.at(0x200);
    expect(r.pit.readPort(0x40)).toBe(0x12);
    // latch released: live reads continue with the flip-flop at LSB
    expect(r.pit.readPort(0x40)).toBe((0x1234 - 0x1ff) & 0xff);
  });

  it('unlatched LSB/MSB reads alternate, independent of the write flip-flop', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x30);
    r.pit.writePort(0x40, 0x00);
    r.pit.writePort(0x40, 0x80); // 0x8000 at edge 1
    r.at(1 + 0x123);
    expect(r.pit.readPort(0x40)).toBe(0xdd); // 0x7edd LSB
    r.pit.writePort(0x40, 0x00); // first byte of a new count (stops mode 0) between the reads
    expect(r.pit.readPort(0x40)).toBe(0x7e); // MSB
  });

  it('read-back: status (OUT, NULL COUNT, RW, mode, BCD) then the count, for several counters at once', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x30); // counter 0: RW 3, mode 0, binary
    r.pit.writePort(0x43, 0x74); // counter 1: RW 3, mode 2
    r.pit.writePort(0x43, 0xe2); // read-back status of counter 0
    expect(r.pit.readPort(0x40)).toBe(0x70); // OUT 0, NULL COUNT 1, 11 000 0
    r.pit.writePort(0x40, 0x00);
    r.pit.writePort(0x40, 0x01); // 0x100, loads at edge 1
    r.pit.writePort(0x43, 0xe2); // status only
    expect(r.pit.readPort(0x40)).toBe(0x70); // written, not yet loaded: NULL COUNT still 1
    r.at(1);
    r.pit.writePort(0x41, 0x10);
    r.pit.writePort(0x41, 0x00);
    r.at(3);
    r.pit.writePort(0x43, 0xc6); // count and status of counters 0 and 1
    expect(r.pit.readPort(0x40)).toBe(0x30); // OUT 0, loaded
    expect(r.pit.readPort(0x40)).toBe(0xfe);
    expect(r.pit.readPort(0x40)).toBe(0x00);
    expect(r.pit.readPort(0x41)).toBe(0xb4); // OUT 1 (mode 2 idles high), NULL COUNT 0, RW 3, mode 2
    expect(r.pit.readPort(0x41)).toBe(0x0f); // 0x10 loaded at edge 2, edge 3: 0x0f
    expect(r.pit.readPort(0x41)).toBe(0x00);
  });

  it('a count latched by read-back stays until read; later latch commands are ignored', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x30);
    r.pit.writePort(0x40, 0x00);
    r.pit.writePort(0x40, 0x10); // 0x1000 at edge 1
    r.at(0x11);
    r.pit.writePort(0x43, 0xd2); // read-back: count of counter 0 (0x0ff0)
    r.at(0x81);
    r.pit.writePort(0x43, 0xc2); // count (ignored, still latched) and status
    expect(r.pit.readPort(0x40)).toBe(0x30); // status first
    expect(r.pit.readPort(0x40)).toBe(0xf0);
    expect(r.pit.readPort(0x40)).toBe(0x0f);
  });

  it('modes 6 and 7 act as 2 and 3 and read back as written', () => {
    const r = rig();
    r.pit.writePort(0x43, 0x3c); // counter 0, mode 6
    r.pit.writePort(0x43, 0xe2);
    expect(r.pit.readPort(0x40) & 0x0e).toBe(0x0c);
    r.pit.writePort(0x40, 4);
    r.pit.writePort(0x40, 0);
    r.at(10);
    expect(r.changes.map(([k]) => k)).toEqual([0, 4, 5, 8, 9]);
  });
});

describe('8254 counter 2 gate and port 0x61', () => {
  it('port 0x61: bits 0-3 read back, bit 4 toggles every 15.085 us, bit 5 is OUT2, bits 6-7 read 0', () => {
    const r = rig();
    r.pit.writePortB(0xff);
    expect(r.pit.readPortB() & 0xcf).toBe(0x0f);
    r.clock.advanceTo(15_084);
    const a = r.pit.readPortB() & 0x10;
    r.clock.advanceTo(15_085);
    expect(r.pit.readPortB() & 0x10).toBe(a ^ 0x10);
  });

  it('Linux pit_calibrate_tsc: counter 2 mode 0 for 10 ms, polling 0x61 bit 5', () => {
    const r = rig();
    const bus = new IoBus();
    r.pit.attach(bus);
    r.clock.advanceTo(123_456);
    const latch = Math.floor(PIT_HZ / (1000 / 10)); // CLOCK_TICK_RATE / (1000 / CAL_MS)
    bus.write(0x61, 1, (bus.read(0x61, 1) & ~0x02) | 0x01); // gate high, speaker off
    bus.write(0x43, 1, 0xb0); // counter 2, LSB/MSB, mode 0, binary
    bus.write(0x42, 1, latch & 0xff);
    bus.write(0x42, 1, latch >> 8);
    const w = ticksAt(123_456, PIT_HZ);
    let loops = 0;
    // the loop body (get_cycles() and bookkeeping) modelled as 300 instructions at 1 ns each
    while ((bus.read(0x61, 1) & 0x20) === 0 && loops < 1_000_000) {
      r.clock.retire(300);
      loops++;
    }
    // OUT2 rises N+1 CLKs after the count write; the poll sees it at its first read at or after that edge
    const rise = nsAtTick(w + 1 + latch, PIT_HZ);
    expect(loops).toBe(Math.ceil((rise - 123_456) / 300));
    expect(latch).toBe(11931);
  });

  it('Linux quick_pit_calibrate: mode 0 count 0xffff, the MSB read from 0x42 falls by one every 256 CLKs', () => {
    const r = rig();
    r.pit.writePortB((r.pit.readPortB() & ~0x02) | 0x01);
    r.pit.writePort(0x43, 0xb0);
    r.pit.writePort(0x42, 0xff);
    r.pit.writePort(0x42, 0xff); // loaded at edge 1 with 0xffff
    const msbAt = (k: number): number => {
      r.at(k);
      r.pit.readPort(0x42); // LSB (pit_expect_msb discards it)
      return r.pit.readPort(0x42);
    };
    expect(msbAt(1)).toBe(0xff);
    expect(msbAt(256)).toBe(0xff); // 0xffff - 255 = 0xff00
    expect(msbAt(257)).toBe(0xfe);
    expect(msbAt(1 + 256 * 10)).toBe(0xf5);
  });

  it('mode 0 GATE low suspends counting; high resumes on the next CLK', () => {
    const r = rig();
    r.pit.writePortB(0x01);
    r.pit.writePort(0x43, 0xb0);
    r.pit.writePort(0x42, 100);
    r.pit.writePort(0x42, 0); // loaded at edge 1
    r.at(21);
    r.pit.writePortB(0x00); // CE 80, frozen
    r.at(500);
    expect(r.latched(2)).toBe(80);
    r.pit.writePortB(0x01);
    r.at(510);
    expect(r.latched(2)).toBe(70);
    expect(r.pit.readPortB() & 0x20).toBe(0);
    r.at(580);
    expect(r.pit.readPortB() & 0x20).toBe(0x20);
  });

  it('mode 2 GATE low forces OUT high and stops counting; GATE high reloads N on the next CLK', () => {
    const r = rig();
    r.pit.writePortB(0x01);
    r.pit.writePort(0x43, 0xb4); // counter 2, mode 2
    r.pit.writePort(0x42, 10);
    r.pit.writePort(0x42, 0); // loaded at 1, OUT low at 10
    r.at(10);
    expect(r.pit.readPortB() & 0x20).toBe(0);
    r.pit.writePortB(0x00);
    expect(r.pit.readPortB() & 0x20).toBe(0x20);
    r.at(30);
    r.pit.writePortB(0x01); // reload at 31
    r.at(31);
    expect(r.latched(2)).toBe(10);
    r.at(40);
    expect(r.pit.readPortB() & 0x20).toBe(0);
    r.at(41);
    expect(r.pit.readPortB() & 0x20).toBe(0x20);
  });

  it('the gate of counters 0/1 is settable for other wirings; an out-of-range counter is rejected', () => {
    const r = rig();
    expect(() => r.pit.setGate(3, true)).toThrow(/0, 1 or 2/);
    expect(() => r.pit.readPort(0x44)).toThrow(/8254 port/);
    expect(r.pit.readPort(0x43)).toBe(0xff);
  });
});

describe('8254 on the bus and snapshot', () => {
  it('attaches at 0x40-0x43 and 0x61', () => {
    const bus = new IoBus();
    const r = rig();
    r.pit.attach(bus);
    expect(bus.find(0x43)?.name).toBe('pit8254');
    expect(bus.find(0x61)?.name).toBe('port61');
  });

  snapshotRoundTrip('pit8254', {
    make: () => {
      const r = rig();
      r.at(100);
      r.pit.writePort(0x43, 0x34);
      r.pit.writePort(0x40, 0xa9);
      r.pit.writePort(0x40, 0x04);
      r.pit.writePortB(0x03);
      r.pit.writePort(0x43, 0xb6);
      r.pit.writePort(0x42, 0x33);
      r.at(700);
      r.pit.writePort(0x43, 0x00); // a pending latch
      return { device: r.pit, clock: r.clock };
    },
    fresh: (cs) => {
      const clock = new VirtualClock();
      const pit = new Pit8254(clock, new LatchedIrqLine());
      if (cs) clock.restoreState(cs);
      return { device: pit, clock };
    },
    mutate: (pit) => pit.writePort(0x43, 0x10),
  });

  it('a restored PIT continues with the same IRQ 0 edges as the original', () => {
    const a = rig();
    a.at(50);
    a.pit.writePort(0x43, 0x34);
    a.pit.writePort(0x40, 100);
    a.pit.writePort(0x40, 0);
    a.at(420);
    const cs = a.clock.saveState();
    const ps = a.pit.saveState();
    const b = rig();
    b.clock.restoreState(cs);
    b.pit.restoreState(JSON.parse(JSON.stringify(ps)));
    a.changes.length = 0;
    a.at(800);
    b.at(800);
    expect(b.changes.filter(([, l]) => l)).toEqual(a.changes.filter(([, l]) => l));
    expect(a.changes.length).toBe(8);
  });
});
