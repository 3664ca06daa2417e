import { describe, expect, it } from 'vitest';
import { IoBus, MmioBus, type BusDevice } from '../../src/devices/bus.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../src/util/errors.js';

/** A device of `n` byte registers that logs every access as "r|w offset size [value]". */
class Regs implements BusDevice {
  log: string[] = [];
  bytes: Uint8Array;
  constructor(n: number) {
    this.bytes = new Uint8Array(n);
  }
  read(offset: number, size: number): number {
    this.log.push(`r${offset}/${size}`);
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.bytes[offset + i]! << (8 * i);
    return v >>> 0;
  }
  write(offset: number, size: number, value: number): void {
    this.log.push(`w${offset}/${size}=${value.toString(16)}`);
    for (let i = 0; i < size; i++) this.bytes[offset + i] = value >>> (8 * i);
  }
}

describe('IoBus', () => {
  it('hands the device its offset and size and reports claimed accesses', () => {
    const bus = new IoBus();
    const d = new Regs(8);
    bus.register(0x3f8, 8, d, 'com1');
    expect(bus.dispatchWrite(0x3fb, 1, 0x83)).toBe(true);
    expect(bus.dispatchRead(0x3fb, 1)).toBe(true);
    expect(bus.value).toBe(0x83);
    expect(d.log).toEqual(['w3/1=83', 'r3/1']);
    expect(bus.dispatchRead(0x2f8, 1)).toBe(false);
    expect(bus.dispatchWrite(0x2f8, 1, 0)).toBe(false);
    expect(bus.read(0x2f8, 2)).toBe(0xffff);
    expect(bus.find(0x3ff)?.name).toBe('com1');
    expect(bus.find(0x400)).toBeUndefined();
  });

  it('masks the written value to the access size', () => {
    const bus = new IoBus();
    const d = new Regs(4);
    bus.register(0x80, 4, d, 'x');
    bus.write(0x80, 2, 0x12345678);
    expect(d.log).toEqual(['w0/2=5678']);
  });

  it('rejects an overlapping registration naming both devices, changing nothing', () => {
    const bus = new IoBus();
    bus.register(0x20, 2, new Regs(2), 'pic-master');
    expect(() => bus.register(0x21, 4, new Regs(4), 'intruder')).toThrow(ConflictError);
    expect(() => bus.register(0x21, 4, new Regs(4), 'intruder')).toThrow(/'intruder'.*'pic-master'/);
    expect(bus.find(0x22)).toBeUndefined();
    expect(bus.ranges().map((r) => r.name)).toEqual(['pic-master']);
  });

  it('rejects bad ranges', () => {
    const bus = new IoBus();
    expect(() => bus.register(0xffff, 2, new Regs(2), 'x')).toThrow(InvalidArgumentError);
    expect(() => bus.register(0, 0, new Regs(2), 'x')).toThrow(InvalidArgumentError);
    expect(() => bus.read(0x10000, 1)).toThrow(InvalidArgumentError);
    expect(() => bus.read(0, 3)).toThrow(InvalidArgumentError);
  });

  it('unregisters and moves ranges; a move onto another device fails and changes nothing', () => {
    const bus = new IoBus();
    const a = new Regs(8);
    bus.register(0xc000, 8, a, 'bar0');
    bus.register(0xd000, 8, new Regs(8), 'bar1');
    expect(() => bus.move(0xc000, 0xcffc)).toThrow(/'bar1'/);
    expect(bus.find(0xc000)?.name).toBe('bar0');
    bus.move(0xc000, 0xe000);
    expect(bus.find(0xc000)).toBeUndefined();
    bus.write(0xe001, 1, 7);
    expect(a.log).toEqual(['w1/1=7']);
    bus.unregister(0xe000);
    expect(bus.find(0xe001)).toBeUndefined();
    expect(() => bus.unregister(0xe000)).toThrow(NotFoundError);
  });

  it('splits an access that straddles a range end into bytes, unowned bytes reading 0xFF', () => {
    const bus = new IoBus();
    const d = new Regs(2);
    d.bytes.set([0x11, 0x22]);
    bus.register(0x20, 2, d, 'pic');
    expect(bus.dispatchRead(0x21, 2)).toBe(true);
    expect(bus.value).toBe(0xff22);
    expect(bus.dispatchRead(0x21, 4)).toBe(true);
    expect(bus.value).toBe(0xffffff22);
    bus.dispatchWrite(0x21, 2, 0xabcd);
    expect(d.log.slice(-1)).toEqual(['w1/1=cd']);
  });
});

describe('MmioBus', () => {
  it('finds sorted ranges and passes offsets', () => {
    const bus = new MmioBus();
    const hpet = new Regs(0x400);
    const ioapic = new Regs(0x20);
    bus.register(0xfed00000, 0x400, hpet, 'hpet');
    bus.register(0xfec00000, 0x20, ioapic, 'ioapic');
    expect(bus.ranges().map((r) => r.name)).toEqual(['ioapic', 'hpet']);
    bus.write(0xfec00010, 4, 0xdeadbeef);
    expect(ioapic.log).toEqual(['w16/4=deadbeef']);
    expect(bus.read(0xfec00010, 4)).toBe(0xdeadbeef);
    expect(bus.dispatchRead(0xfec00020, 4)).toBe(false);
    expect(bus.read(0xfec00020, 1)).toBe(0xff);
  });

  it('splits an 8-byte access into two 4-byte accesses, low half first', () => {
    const bus = new MmioBus();
    const d = new Regs(16);
    bus.register(0x1000, 16, d, 'dev');
    expect(bus.dispatchWrite(0x1008, 8, 0x11223344, 0x55667788)).toBe(true);
    expect(d.log).toEqual(['w8/4=11223344', 'w12/4=55667788']);
    expect(bus.dispatchRead(0x1008, 8)).toBe(true);
    expect([bus.valueLo, bus.valueHi]).toEqual([0x11223344, 0x55667788]);
    expect(d.log.slice(2)).toEqual(['r8/4', 'r12/4']);
  });

  it('rejects overlaps naming both devices, and moves a BAR', () => {
    const bus = new MmioBus();
    bus.register(0xe0000000, 0x1000, new Regs(16), 'fb');
    expect(() => bus.register(0xe0000800, 0x1000, new Regs(16), 'bar')).toThrow(ConflictError);
    expect(() => bus.register(0xe0000800, 0x1000, new Regs(16), 'bar')).toThrow(/'bar'.*'fb'/);
    bus.register(0xe0001000, 0x1000, new Regs(16), 'bar');
    expect(() => bus.move(0xe0001000, 0xe0000000)).toThrow(ConflictError);
    bus.move(0xe0001000, 0xd0000000);
    expect(bus.find(0xd0000fff)?.name).toBe('bar');
    expect(bus.find(0xe0001000)).toBeUndefined();
    bus.unregister(0xd0000000);
    expect(bus.find(0xd0000000)).toBeUndefined();
    expect(() => bus.unregister(0xd0000000)).toThrow(NotFoundError);
    expect(() => bus.register(-1, 4, new Regs(4), 'neg')).toThrow(InvalidArgumentError);
  });
});

describe('byteRegisters', () => {
  it('splits a wider access into byte accesses, lowest offset first, wrapping within the registers', async () => {
    const { byteRegisters } = await import('../../src/devices/bus.js');
    const log: string[] = [];
    const regs = [0x11, 0x22, 0x33];
    const dev = byteRegisters(
      3,
      (o) => (log.push(`r${o}`), regs[o]!),
      (o, v) => (log.push(`w${o}=${v.toString(16)}`), void 0),
    );
    expect(dev.read(1, 2)).toBe(0x3322);
    expect(dev.read(2, 2)).toBe(0x1133);
    dev.write(0, 4, 0xaabbccdd);
    expect(log).toEqual(['r1', 'r2', 'r2', 'r0', 'w0=dd', 'w1=cc', 'w2=bb', 'w0=aa']);
  });
});
