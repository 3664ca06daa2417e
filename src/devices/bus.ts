/**
 * The port-I/O bus and the MMIO bus: dumb, strict address decoders (shared/STYLE.md, after
 * Firecracker's vstate/bus.rs). A device sees only offsets into its own registers and an access
 * size; the bus knows bases, rejects overlapping registrations naming both devices, and reports
 * whether an access was claimed so the dispatcher can turn an unclaimed one into a VM exit.
 *
 * Access rules (both buses):
 * - Sizes 1, 2 and 4 go to the device whole when they lie inside one registered range.
 * - An access that straddles the end of a range is split into byte accesses, low address first;
 *   it is claimed when its first byte is claimed; bytes nobody owns read as 0xFF (the floating ISA
 *   bus) and their writes are dropped.
 * - MMIO only: an 8-byte access is two 4-byte accesses, low half first (with a virtual clock
 *   nothing moves between them).
 * Values are uint32 (the 8-byte MMIO read returns its halves in valueLo/valueHi).
 */
import { ConflictError, InvalidArgumentError, NotFoundError, hex } from '../util/errors.js';

/** What a bus device implements: reads and writes over its own register offsets. */
export interface BusDevice {
  /** Reads `size` (1, 2 or 4) bytes at `offset` from the device's base; returns a uint32. */
  read(offset: number, size: number): number;
  /** Writes the low `size` bytes of `value` at `offset`. */
  write(offset: number, size: number, value: number): void;
}

/**
 * A bus device over 8-bit registers: a wider access is split into byte accesses, lowest address
 * first, as the ISA bus splits a 16/32-bit I/O cycle to an 8-bit device. Offsets wrap within
 * `length` registers.
 */
export function byteRegisters(
  length: number,
  readByte: (offset: number) => number,
  writeByte: (offset: number, value: number) => void,
): BusDevice {
  return {
    read(offset: number, size: number): number {
      if (size === 1) return readByte(offset) & 0xff;
      let v = 0;
      for (let i = 0; i < size; i++) v |= (readByte((offset + i) % length) & 0xff) << (8 * i);
      return v >>> 0;
    },
    write(offset: number, size: number, value: number): void {
      if (size === 1) {
        writeByte(offset, value & 0xff);
        return;
      }
      for (let i = 0; i < size; i++) writeByte((offset + i) % length, (value >>> (8 * i)) & 0xff);
    },
  };
}

/** One registered range (introspection). */
export interface BusRange {
  readonly base: number;
  readonly length: number;
  readonly name: string;
  readonly device: BusDevice;
}

/** A port slot: pre-filled for all 65,536 ports with same-shaped records (v86's "avoid sparse arrays"). */
class PortSlot implements BusRange {
  constructor(
    public base: number,
    public length: number,
    public name: string,
    public device: BusDevice,
    public claimed: boolean,
  ) {}
}

const UNCLAIMED_DEVICE: BusDevice = {
  read: (_o: number, size: number) => (size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff),
  write: () => {},
};

function checkSize(size: number, allow8: boolean): void {
  if (size !== 1 && size !== 2 && size !== 4 && !(allow8 && size === 8)) {
    throw new InvalidArgumentError(`access size ${size} is not 1, 2, 4${allow8 ? ' or 8' : ''}`);
  }
}

const SIZE_MASK = [0, 0xff, 0xffff, 0, 0xffff_ffff];

/** The 64 KiB x86 I/O port space. */
export class IoBus {
  static readonly PORTS = 0x10000;
  private readonly slots: PortSlot[] = [];
  private readonly unclaimed = new PortSlot(0, IoBus.PORTS, '', UNCLAIMED_DEVICE, false);
  private readonly registered: PortSlot[] = [];
  /** The value of the last dispatchRead (uint32). */
  value = 0;

  constructor() {
    for (let p = 0; p < IoBus.PORTS; p++) this.slots.push(this.unclaimed);
  }

  /** Registers `device` on ports [base, base + length). Throws ConflictError on overlap. */
  register(base: number, length: number, device: BusDevice, name: string): void {
    this.checkRange(base, length);
    this.checkFree(base, length, null, name);
    const slot = new PortSlot(base, length, name, device, true);
    this.registered.push(slot);
    this.fill(slot);
  }

  /** Removes the range that starts at `base`. */
  unregister(base: number): void {
    const slot = this.rangeAt(base);
    this.registered.splice(this.registered.indexOf(slot), 1);
    for (let p = slot.base; p < slot.base + slot.length; p++) this.slots[p] = this.unclaimed;
  }

  /** Moves the range at `oldBase` to `newBase` (e.g. a PCI I/O BAR); on conflict nothing changes. */
  move(oldBase: number, newBase: number): void {
    const slot = this.rangeAt(oldBase);
    this.checkRange(newBase, slot.length);
    this.checkFree(newBase, slot.length, slot, slot.name);
    for (let p = slot.base; p < slot.base + slot.length; p++) this.slots[p] = this.unclaimed;
    slot.base = newBase;
    this.fill(slot);
  }

  /** The registered range containing `port`, or undefined. */
  find(port: number): BusRange | undefined {
    const s = this.slots[port & 0xffff]!;
    return s.claimed ? s : undefined;
  }

  /** All registered ranges, sorted by base. */
  ranges(): BusRange[] {
    return [...this.registered].sort((a, b) => a.base - b.base);
  }

  /** Port read; on true the value is in `this.value`, on false nobody owns `port`. */
  dispatchRead(port: number, size: number): boolean {
    const slot = this.slots[port]!;
    if (!slot.claimed) return false;
    const off = port - slot.base;
    if (off + size <= slot.length) {
      this.value = slot.device.read(off, size) >>> 0;
      return true;
    }
    let v = 0;
    for (let i = 0; i < size; i++) {
      const p = (port + i) & 0xffff;
      const s = this.slots[p]!;
      v |= (s.device.read(p - s.base, 1) & 0xff) << (8 * i);
    }
    this.value = v >>> 0;
    return true;
  }

  /** Port write; returns false (and does nothing) when nobody owns `port`. */
  dispatchWrite(port: number, size: number, value: number): boolean {
    const slot = this.slots[port]!;
    if (!slot.claimed) return false;
    const off = port - slot.base;
    if (off + size <= slot.length) {
      slot.device.write(off, size, (value & SIZE_MASK[size]!) >>> 0);
      return true;
    }
    for (let i = 0; i < size; i++) {
      const p = (port + i) & 0xffff;
      const s = this.slots[p]!;
      s.device.write(p - s.base, 1, (value >>> (8 * i)) & 0xff);
    }
    return true;
  }

  /** Convenience read: all ones when unclaimed (checks its arguments; not for the hot path). */
  read(port: number, size: number): number {
    checkSize(size, false);
    this.checkPort(port);
    return this.dispatchRead(port, size) ? this.value : SIZE_MASK[size]!;
  }

  /** Convenience write (checks its arguments); returns whether it was claimed. */
  write(port: number, size: number, value: number): boolean {
    checkSize(size, false);
    this.checkPort(port);
    return this.dispatchWrite(port, size, value);
  }

  private checkPort(port: number): void {
    if (!Number.isInteger(port) || port < 0 || port >= IoBus.PORTS) {
      throw new InvalidArgumentError(`port ${hex(port)} is outside 0x0-0xffff`);
    }
  }

  private checkRange(base: number, length: number): void {
    if (!Number.isInteger(base) || !Number.isInteger(length) || base < 0 || length < 1 || base + length > IoBus.PORTS) {
      throw new InvalidArgumentError(
        `port range ${hex(base)} length ${length} must be a non-empty range inside 0x0-0xffff`,
      );
    }
  }

  private checkFree(base: number, length: number, self: PortSlot | null, name: string): void {
    for (let p = base; p < base + length; p++) {
      const s = this.slots[p]!;
      if (s.claimed && s !== self) {
        throw new ConflictError(
          `ports ${hex(base)}-${hex(base + length - 1)} for '${name}' overlap ` +
            `'${s.name}' at ${hex(s.base)}-${hex(s.base + s.length - 1)}`,
        );
      }
    }
  }

  private rangeAt(base: number): PortSlot {
    const slot = this.registered.find((s) => s.base === base);
    if (!slot) throw new NotFoundError(`no I/O range starts at port ${hex(base)}`);
    return slot;
  }

  private fill(slot: PortSlot): void {
    for (let p = slot.base; p < slot.base + slot.length; p++) this.slots[p] = slot;
  }
}

class MmioRange implements BusRange {
  constructor(
    public base: number,
    public length: number,
    public name: string,
    public device: BusDevice,
  ) {}
}

/** The MMIO bus: sorted, non-overlapping guest-physical ranges, found by binary search. */
export class MmioBus {
  private list: MmioRange[] = [];
  private last: MmioRange | null = null;
  /** Result of the last dispatchRead: low and high uint32 halves (hi is 0 below 8 bytes). */
  valueLo = 0;
  valueHi = 0;

  /** Registers `device` on [base, base + length). Addresses are safe integers (< 2^53). */
  register(base: number, length: number, device: BusDevice, name: string): void {
    checkMmioRange(base, length);
    this.checkFree(base, length, null, name);
    this.insert(new MmioRange(base, length, name, device));
  }

  unregister(base: number): void {
    const r = this.rangeAt(base);
    this.list = this.list.filter((x) => x !== r);
    this.last = null;
  }

  /** Moves the range at `oldBase` to `newBase` (a PCI memory BAR); on conflict nothing changes. */
  move(oldBase: number, newBase: number): void {
    const r = this.rangeAt(oldBase);
    checkMmioRange(newBase, r.length);
    this.checkFree(newBase, r.length, r, r.name);
    this.list = this.list.filter((x) => x !== r);
    r.base = newBase;
    this.insert(r);
    this.last = null;
  }

  /** The range containing `addr`, or undefined. */
  find(addr: number): BusRange | undefined {
    return this.lookup(addr) ?? undefined;
  }

  ranges(): BusRange[] {
    return [...this.list];
  }

  /** MMIO read of 1, 2, 4 or 8 bytes; on true the value is in valueLo/valueHi. */
  dispatchRead(addr: number, size: number): boolean {
    const r = this.lookup(addr);
    if (r === null) return false;
    if (size === 8) {
      this.valueLo = this.read32(r, addr);
      this.valueHi = this.read32(this.lookup(addr + 4) ?? r, addr + 4);
      return true;
    }
    const off = addr - r.base;
    if (off + size <= r.length) {
      this.valueLo = r.device.read(off, size) >>> 0;
    } else {
      this.valueLo = this.readBytes(addr, size);
    }
    this.valueHi = 0;
    return true;
  }

  /** MMIO write of 1, 2, 4 or 8 bytes (`hi` used only for 8); false when nobody owns `addr`. */
  dispatchWrite(addr: number, size: number, lo: number, hi = 0): boolean {
    const r = this.lookup(addr);
    if (r === null) return false;
    if (size === 8) {
      this.write32(r, addr, lo >>> 0);
      this.write32(this.lookup(addr + 4) ?? r, addr + 4, hi >>> 0);
      return true;
    }
    const off = addr - r.base;
    if (off + size <= r.length) {
      r.device.write(off, size, (lo & SIZE_MASK[size]!) >>> 0);
    } else {
      this.writeBytes(addr, size, lo);
    }
    return true;
  }

  /** Convenience read of 1, 2 or 4 bytes (checks the size): all ones when unclaimed. */
  read(addr: number, size: number): number {
    checkSize(size, false);
    return this.dispatchRead(addr, size) ? this.valueLo : SIZE_MASK[size]!;
  }

  write(addr: number, size: number, value: number): boolean {
    checkSize(size, false);
    return this.dispatchWrite(addr, size, value);
  }

  private read32(r: MmioRange, addr: number): number {
    const off = addr - r.base;
    if (off >= 0 && off + 4 <= r.length) return r.device.read(off, 4) >>> 0;
    return this.readBytes(addr, 4);
  }

  private write32(r: MmioRange, addr: number, v: number): void {
    const off = addr - r.base;
    if (off >= 0 && off + 4 <= r.length) r.device.write(off, 4, v);
    else this.writeBytes(addr, 4, v);
  }

  private readBytes(addr: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const r = this.lookup(addr + i);
      const b = r === null ? 0xff : r.device.read(addr + i - r.base, 1) & 0xff;
      v |= b << (8 * i);
    }
    return v >>> 0;
  }

  private writeBytes(addr: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) {
      const r = this.lookup(addr + i);
      if (r !== null) r.device.write(addr + i - r.base, 1, (value >>> (8 * i)) & 0xff);
    }
  }

  private lookup(addr: number): MmioRange | null {
    const last = this.last;
    if (last !== null && addr >= last.base && addr - last.base < last.length) return last;
    const list = this.list;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = list[mid]!;
      if (addr < r.base) hi = mid - 1;
      else if (addr - r.base >= r.length) lo = mid + 1;
      else {
        this.last = r;
        return r;
      }
    }
    return null;
  }

  private insert(r: MmioRange): void {
    let i = 0;
    while (i < this.list.length && this.list[i]!.base < r.base) i++;
    this.list.splice(i, 0, r);
  }

  private checkFree(base: number, length: number, self: MmioRange | null, name: string): void {
    for (const r of this.list) {
      if (r === self) continue;
      if (base < r.base + r.length && r.base < base + length) {
        throw new ConflictError(
          `MMIO ${hex(base)}-${hex(base + length - 1)} for '${name}' overlaps ` +
            `'${r.name}' at ${hex(r.base)}-${hex(r.base + r.length - 1)}`,
        );
      }
    }
  }

  private rangeAt(base: number): MmioRange {
    const r = this.list.find((x) => x.base === base);
    if (!r) throw new NotFoundError(`no MMIO range starts at ${hex(base)}`);
    return r;
  }
}

function checkMmioRange(base: number, length: number): void {
  if (!Number.isSafeInteger(base) || !Number.isSafeInteger(length) || base < 0 || length < 1 || base + length > 2 ** 52) {
    throw new InvalidArgumentError(
      `MMIO range ${hex(base)} length ${length} must be a non-empty range of safe addresses below 2^52`,
    );
  }
}
