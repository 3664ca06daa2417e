// I/O APIC registers and pin semantics per the 82093AA datasheet (3.2) and the ICH EOI register.
import { describe, expect, it } from 'vitest';
import { IOAPIC_VERSION, IoApic } from '../../src/devices/ioapic.js';
import type { InterruptMessageSink } from '../../src/devices/msi.js';

interface Msg {
  dest: number;
  logical: boolean;
  mode: number;
  vector: number;
  level: boolean;
  lowest: boolean;
}
function setup(accept = 1) {
  const msgs: Msg[] = [];
  const sink: InterruptMessageSink = {
    deliverMessage(dest, logical, mode, vector, level, lowest) {
      msgs.push({ dest, logical, mode, vector, level, lowest });
      return accept;
    },
  };
  const io = new IoApic(sink, { id: 1 });
  return { io, msgs };
}
function rd(io: IoApic, index: number): number {
  io.write(0, 1, index);
  return io.read(0x10, 4);
}
function wr(io: IoApic, index: number, v: number): void {
  io.write(0, 4, index);
  io.write(0x10, 4, v);
}
/** Program pin `pin`: low dword `lo`, destination `dest`. */
function route(io: IoApic, pin: number, lo: number, dest = 0): void {
  wr(io, 0x11 + 2 * pin, dest << 24);
  wr(io, 0x10 + 2 * pin, lo);
}

describe('IOAPIC registers', () => {
  it('ID, version and arbitration ID', () => {
    const { io } = setup();
    expect(rd(io, 0)).toBe(0x0100_0000);
    expect(rd(io, 1)).toBe(IOAPIC_VERSION);
    expect(IOAPIC_VERSION & 0xff).toBe(0x20);
    expect((IOAPIC_VERSION >>> 16) & 0xff).toBe(23); // 24 entries
    wr(io, 0, 0xffff_ffff);
    expect(rd(io, 0)).toBe(0x0f00_0000); // bits 27:24 only
    expect(rd(io, 2)).toBe(0x0f00_0000);
    wr(io, 1, 0); // version read-only
    expect(rd(io, 1)).toBe(IOAPIC_VERSION);
  });

  it('IOREGSEL reads back; redirection entries reset masked', () => {
    const { io } = setup();
    io.write(0, 4, 0x3f);
    expect(io.read(0, 4)).toBe(0x3f);
    for (let pin = 0; pin < 24; pin++) {
      expect(rd(io, 0x10 + 2 * pin)).toBe(0x10000);
      expect(rd(io, 0x11 + 2 * pin)).toBe(0);
    }
    expect(rd(io, 0x40)).toBe(0); // beyond the table
  });

  it('redirection entries keep the writable bits; delivery status and remote IRR are read-only', () => {
    const { io } = setup();
    wr(io, 0x10 + 2 * 5, 0xffff_ffff);
    expect(rd(io, 0x10 + 2 * 5)).toBe(0x1afff);
    wr(io, 0x11 + 2 * 5, 0xffff_ffff);
    expect(rd(io, 0x11 + 2 * 5)).toBe(0xff00_0000);
    expect(io.redirection(5)).toEqual([0x1afff, 0xff00_0000]);
  });

  it('IOWIN byte reads return the addressed byte; narrow IOWIN writes are dropped', () => {
    const { io } = setup();
    io.write(0, 1, 1);
    expect(io.read(0x12, 1)).toBe(0x17);
    route(io, 3, 0x10031);
    io.write(0, 1, 0x16);
    io.write(0x10, 1, 0x99);
    expect(rd(io, 0x16)).toBe(0x10031);
  });
});

describe('IOAPIC pin semantics', () => {
  it('edge: a message per rising edge, nothing while masked (edges are lost)', () => {
    const { io, msgs } = setup();
    route(io, 4, 0x0834, 0x03); // logical, fixed, vector 0x34
    io.pulsePin(4);
    expect(msgs).toEqual([{ dest: 3, logical: true, mode: 0, vector: 0x34, level: false, lowest: false }]);
    io.setPin(4, true);
    io.setPin(4, true); // no new edge
    expect(msgs.length).toBe(2);
    io.setPin(4, false);
    route(io, 4, 0x10834, 0x03);
    io.pulsePin(4);
    route(io, 4, 0x0834, 0x03);
    expect(msgs.length).toBe(2);
  });

  it('level: remote IRR holds the pin until EOI; EOI re-delivers a still-asserted pin', () => {
    const { io, msgs } = setup();
    route(io, 17, 0x8000 | 0x0100 | 0x51, 0x01); // level, lowest priority, vector 0x51
    io.setPin(17, true);
    expect(msgs).toEqual([{ dest: 1, logical: false, mode: 1, vector: 0x51, level: true, lowest: true }]);
    expect(rd(io, 0x10 + 34) & 0x4000).toBe(0x4000);
    io.setPin(17, true);
    expect(msgs.length).toBe(1);
    io.eoi(0x52); // other vector: nothing
    expect(msgs.length).toBe(1);
    io.eoi(0x51); // still asserted: again
    expect(msgs.length).toBe(2);
    io.setPin(17, false);
    io.eoi(0x51);
    expect(rd(io, 0x10 + 34) & 0x4000).toBe(0);
    expect(msgs.length).toBe(2);
  });

  it('the EOI register (version 0x20) clears remote IRR too', () => {
    const { io, msgs } = setup();
    route(io, 9, 0x8000 | 0x61);
    io.setPin(9, true);
    io.setPin(9, false);
    expect(rd(io, 0x10 + 18) & 0x4000).toBe(0x4000);
    io.write(0x40, 4, 0x61);
    expect(rd(io, 0x10 + 18) & 0x4000).toBe(0);
    expect(msgs.length).toBe(1);
  });

  it('unmasking an asserted level pin delivers it; switching to edge clears remote IRR', () => {
    const { io, msgs } = setup();
    route(io, 20, 0x18000 | 0x70);
    io.setPin(20, true);
    expect(msgs.length).toBe(0);
    route(io, 20, 0x8000 | 0x70);
    expect(msgs.length).toBe(1);
    route(io, 20, 0x70); // edge
    expect(rd(io, 0x10 + 40) & 0x4000).toBe(0);
  });

  it('remote IRR stays clear when no LAPIC accepted the message', () => {
    const { io } = setup(0);
    route(io, 16, 0x8000 | 0x40);
    io.setPin(16, true);
    expect(rd(io, 0x10 + 32) & 0x4000).toBe(0);
  });

  it('NMI/SMI/INIT/ExtINT entries are edge-like whatever the trigger bit says', () => {
    const { io, msgs } = setup();
    route(io, 2, 0x8000 | 0x400);
    io.setPin(2, true);
    io.setPin(2, true);
    expect(msgs.map((m) => [m.mode, m.level])).toEqual([[4, false]]);
    expect(rd(io, 0x10 + 4) & 0x4000).toBe(0);
  });

  it('rejects a pin outside 0..23', () => {
    const { io } = setup();
    expect(() => io.setPin(24, true)).toThrow(/IOAPIC pin 24/);
  });

  it('snapshot: save, restore, save again is equal; a mutation changes it', () => {
    const { io } = setup();
    route(io, 7, 0x8000 | 0x44, 2);
    io.setPin(7, true);
    const s = JSON.parse(JSON.stringify(io.saveState()));
    const b = setup().io;
    b.restoreState(s);
    expect(b.saveState()).toEqual(s);
    b.eoi(0x44); // still asserted: delivered again, remote IRR set again
    expect(b.saveState()).toEqual(s);
    b.setPin(7, false);
    expect(b.saveState()).not.toEqual(s);
  });
});

describe('IOAPIC restore validation', () => {
  it('rejects a bad field by name and changes nothing', () => {
    const { io } = setup();
    const before = io.saveState();
    expect(() => io.restoreState({ ...before, hi: [1, 2] })).toThrow(/'hi'/);
    expect(io.saveState()).toEqual(before);
  });
});
