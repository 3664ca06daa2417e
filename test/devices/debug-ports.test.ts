import { describe, expect, it } from 'vitest';
import { DebugConsole, DEBUGCON_PORT } from '../../src/devices/debugcon.js';
import { DebugExit } from '../../src/devices/debug-exit.js';
import { IoBus } from '../../src/devices/bus.js';
import { snapshotRoundTrip } from './snapshot-suite.js';

describe('debug console (port 0xE9)', () => {
  it('outputs each byte written and reads back 0xE9 (the presence check)', () => {
    const bus = new IoBus();
    const seen: number[] = [];
    const con = new DebugConsole({ onOutput: (b) => seen.push(...b) });
    con.attach(bus);
    expect(bus.read(DEBUGCON_PORT, 1)).toBe(0xe9);
    for (const c of 'ok\n') bus.write(0xe9, 1, c.charCodeAt(0));
    bus.write(0xe9, 2, 0x4121); // a 16-bit OUT to the one-byte device writes its low byte
    expect(seen).toEqual([0x6f, 0x6b, 0x0a, 0x21]);
    expect(con.takeOutputText()).toBe('ok\n!');
    expect(con.takeOutput().length).toBe(0);
  });

  it('can be configured not to buffer and with another readback', () => {
    const con = new DebugConsole({ bufferOutput: false, readback: 0 });
    con.write(0, 1, 0x41);
    expect(con.takeOutput().length).toBe(0);
    expect(con.read(0, 1)).toBe(0);
  });
});

describe('isa-debug-exit (ports 0xF4-0xF7)', () => {
  it('writing v requests exit code (v << 1) | 1', () => {
    const bus = new IoBus();
    const codes: number[] = [];
    const dev = new DebugExit((c) => codes.push(c));
    dev.attach(bus);
    expect(dev.exitCode).toBeNull();
    bus.write(0xf4, 1, 0x00);
    expect(dev.exitCode).toBe(1);
    bus.write(0xf4, 1, 0x10);
    expect(dev.exitCode).toBe(0x21);
    bus.write(0xf4, 4, 0xffffffff);
    expect(dev.exitCode).toBe(0x1_ffff_ffff);
    expect(codes).toEqual([1, 0x21, 0x1_ffff_ffff]);
    expect(bus.find(0xf7)?.name).toBe('debug-exit');
    expect(bus.read(0xf4, 1)).toBe(0);
    dev.clear();
    expect(dev.exitCode).toBeNull();
  });

  snapshotRoundTrip('debug-exit', {
    make: () => {
      const d = new DebugExit();
      d.write(0, 1, 3);
      return { device: d };
    },
    fresh: () => ({ device: new DebugExit() }),
    mutate: (d) => d.write(0, 1, 9),
  });
});
