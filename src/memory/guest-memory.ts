/**
 * The guest-physical address space: host segments mapped at GPA ranges (with holes between them),
 * programmed into one EPT/NPT tree, plus the monitor's direct-access helpers.
 *
 * Model: bhyve's vm_mmap_memseg / devmem (seed 003: RAM below 3 GiB, the PCI hole, RAM above 4 GiB,
 * a boot ROM at the top of 4 GiB, devmem remappable at run time) and NVMM's gpa_map (seed 004: two GPA
 * ranges may alias the same host pages). vm_gpa_hold/release (seed 000) gives the monitor a page's
 * host view. Host-side writes are recorded for the dirty log, as KVM does for its own writes.
 */
import { MEMTYPE_WB } from '../arch/ept.js';
import { ConflictError, InvalidArgumentError, NotFoundError, hex } from '../util/errors.js';
import { Ept, EptTranslation, PERM_R, PERM_W, PERM_X, type EptOptions } from './ept.js';
import { HostMemory, PAGE_SIZE, type HostMemoryOptions, type MemorySegment, type SegmentOptions } from './host.js';

export interface GuestMemoryOptions extends HostMemoryOptions, EptOptions {
  /** Guest MAXPHYADDR: GPAs must be below 2^physAddrBits (at most 48 for a four-level tree). Default 46. */
  physAddrBits?: number;
}

/** Protection as 'r', 'rw', 'rx', 'rwx', 'x' or PERM_R | PERM_W | PERM_X. */
export type Protection = string | number;

export interface MapOptions {
  /** Default 'rwx' for sysmem, 'rw' for devmem (devmem is not executable unless asked). */
  prot?: Protection;
  /** EPT memory type (MEMTYPE_*). Default WB. */
  memoryType?: number;
  /** EPT ignore-PAT bit. Default true (bhyve ignores guest PAT in EPT mappings, seed 000). */
  ignorePat?: boolean;
  /** Largest leaf to use: 0x1000, 0x200000 or 0x40000000 (default). */
  maxPageSize?: number;
}

/** One GPA range backed by a segment range. */
export interface GuestMapping {
  readonly gpa: number;
  readonly size: number;
  readonly segment: MemorySegment;
  readonly segmentOffset: number;
  readonly perms: number;
  readonly memoryType: number;
  readonly ignorePat: boolean;
  readonly maxPageSize: number;
}

/** A held guest page (vm_gpa_hold): `bytes` is the 4 KiB host view of the page at `gpa`. */
export class PageHold {
  released = false;
  constructor(
    readonly gpa: number,
    readonly write: boolean,
    readonly bytes: Uint8Array,
    readonly chunk: number,
    readonly offset: number,
  ) {}
}

/** Parses a protection into PERM bits and validates it. */
export function parseProtection(prot: Protection): number {
  let perms: number;
  if (typeof prot === 'number') perms = prot;
  else {
    if (!/^r?w?x?$/.test(prot) || prot.length === 0) throw new InvalidArgumentError(`protection "${prot}" must be one of 'r', 'rw', 'rx', 'rwx', 'x'`);
    perms = (prot.includes('r') ? PERM_R : 0) | (prot.includes('w') ? PERM_W : 0) | (prot.includes('x') ? PERM_X : 0);
  }
  if (!Number.isInteger(perms) || perms < 1 || perms > 7) throw new InvalidArgumentError(`protection ${String(prot)} must be a non-empty combination of R=1, W=2, X=4`);
  if ((perms & 3) === PERM_W) throw new InvalidArgumentError(`protection ${String(prot)}: write requires read (W without R is an EPT misconfiguration)`);
  return perms;
}

/** A mapping record; frozen once in the list (changes replace records, never edit them). */
interface MutableMapping {
  gpa: number;
  size: number;
  segment: MemorySegment;
  segmentOffset: number;
  perms: number;
  memoryType: number;
  ignorePat: boolean;
  maxPageSize: number;
}

export class GuestMemory {
  readonly host: HostMemory;
  readonly ept: Ept;
  readonly physAddrBits: number;
  private readonly list: MutableMapping[] = [];
  private readonly hostDirty = new Set<number>();
  private readonly holds = new Map<number, number>();
  private readonly scratch = new EptTranslation();

  constructor(options: GuestMemoryOptions = {}) {
    const bits = options.physAddrBits ?? 46;
    if (!Number.isInteger(bits) || bits < 32 || bits > 48) throw new InvalidArgumentError(`physAddrBits ${bits} must be an integer from 32 to 48 (a four-level tree maps 48 bits)`);
    this.physAddrBits = bits;
    this.host = new HostMemory(options);
    this.ept = new Ept(this.host, options);
  }

  /** The EPT generation; vCPUs flush their soft TLB when it changed since their last entry. */
  get generation(): number {
    return this.ept.generation;
  }

  /** Creates a host segment (see HostMemory.createSegment). */
  createSegment(name: string, size: number, options?: SegmentOptions): MemorySegment {
    return this.host.createSegment(name, size, options);
  }

  /** Mappings sorted by GPA (a snapshot; the records themselves are frozen and never change). */
  get mappings(): readonly GuestMapping[] {
    return this.list.slice();
  }

  /** The mapping containing gpa, or undefined. */
  findMapping(gpa: number): GuestMapping | undefined {
    const i = this.indexOf(gpa);
    return i >= 0 ? this.list[i]! : undefined;
  }

  /** Maps `size` bytes of `segment` from `segmentOffset` at `gpa`. Alias mappings of one segment range are allowed. */
  map(gpa: number, segment: MemorySegment | string, segmentOffset: number, size: number, options: MapOptions = {}): void {
    const seg = typeof segment === 'string' ? this.host.segment(segment) : segment;
    if (this.host.segments[seg.id] !== seg) throw new NotFoundError(`segment "${seg.name}" does not belong to this guest memory`);
    this.checkRange(gpa, size, 'map');
    if (!Number.isSafeInteger(segmentOffset) || segmentOffset < 0 || segmentOffset % PAGE_SIZE !== 0 || segmentOffset + size > seg.size) {
      throw new InvalidArgumentError(`map: segment offset ${hex(segmentOffset)} + size ${hex(size)} must be 4 KiB aligned and inside segment "${seg.name}" (size ${hex(seg.size)})`);
    }
    const perms = parseProtection(options.prot ?? (seg.kind === 'devmem' ? 'rw' : 'rwx'));
    const maxPageSize = options.maxPageSize ?? 1 << 30;
    this.ept.checkPageSize(maxPageSize);
    const m: MutableMapping = {
      gpa,
      size,
      segment: seg,
      segmentOffset,
      perms,
      memoryType: options.memoryType ?? MEMTYPE_WB,
      ignorePat: options.ignorePat ?? true,
      maxPageSize,
    };
    this.checkFree(gpa, size, undefined, 'map');
    this.ept.map(gpa, seg.hostBase + segmentOffset, size, m, maxPageSize);
    this.insert(m);
  }

  /** Unmaps [gpa, gpa+size), which must be fully mapped and not held; mappings are split as needed. */
  unmap(gpa: number, size: number): void {
    this.checkRange(gpa, size, 'unmap');
    this.requireCovered(gpa, size, 'unmap');
    this.requireNotHeld(gpa, size, 'unmap');
    this.ept.unmap(gpa, size);
    this.carve(gpa, size, () => undefined);
  }

  /** Changes the protection of [gpa, gpa+size) (fully mapped); bumps the EPT generation. */
  protect(gpa: number, size: number, prot: Protection): void {
    this.checkRange(gpa, size, 'protect');
    const perms = parseProtection(prot);
    this.requireCovered(gpa, size, 'protect');
    this.ept.protect(gpa, size, perms);
    this.carve(gpa, size, (piece) => ({ ...piece, perms }));
  }

  /** Moves the mapping that starts at `gpa` to `newGpa` (a guest reprogramming a BAR); bumps the generation. */
  remap(gpa: number, newGpa: number): void {
    const i = this.indexOf(gpa);
    if (i < 0 || this.list[i]!.gpa !== gpa) throw new NotFoundError(`remap: no mapping starts at GPA ${hex(gpa)}`);
    const m = this.list[i]!;
    this.checkRange(newGpa, m.size, 'remap');
    this.checkFree(newGpa, m.size, m, 'remap');
    this.requireNotHeld(m.gpa, m.size, 'remap');
    this.ept.unmap(m.gpa, m.size);
    this.list.splice(i, 1);
    this.ept.map(newGpa, m.segment.hostBase + m.segmentOffset, m.size, m, m.maxPageSize);
    this.insert({ ...m, gpa: newGpa });
  }

  // --- Direct host access for the monitor (no EPT permission checks; writes are logged dirty) ---------

  /** Copies guest-physical [gpa, gpa+dest.length) into dest; unmapped bytes throw NotFoundError (nothing copied). */
  read(gpa: number, dest: Uint8Array): Uint8Array {
    this.requireAccessible(gpa, dest.length, 'read');
    this.pieces(gpa, dest.length, (hpa, off, len) => this.host.readHost(hpa, dest, off, len));
    return dest;
  }

  /** Copies src to guest-physical gpa; the whole range must be mapped (else nothing is written). */
  write(gpa: number, src: Uint8Array): void {
    this.requireAccessible(gpa, src.length, 'write');
    this.pieces(gpa, src.length, (hpa, off, len) => this.host.writeHost(hpa, src, off, len));
    this.markHostDirty(gpa, src.length);
  }

  /** Fills guest-physical [gpa, gpa+size) with a byte value. */
  fill(gpa: number, size: number, value: number): void {
    this.requireAccessible(gpa, size, 'fill');
    this.pieces(gpa, size, (hpa, _off, len) => this.host.fillHost(hpa, value, len));
    this.markHostDirty(gpa, size);
  }

  /** Copies guest-physical [src, src+size) to [dst, dst+size) (overlap-safe). */
  copy(dst: number, src: number, size: number): void {
    this.requireAccessible(src, size, 'copy');
    this.requireAccessible(dst, size, 'copy');
    const tmp = this.read(src, new Uint8Array(size));
    this.write(dst, tmp);
  }

  /** Reads a little-endian 8/16/32-bit value (monitor use; not the vCPU hot path). */
  readU32(gpa: number): number {
    const b = this.read(gpa, new Uint8Array(4));
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  writeU32(gpa: number, value: number): void {
    this.write(gpa, new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]));
  }

  /** Reads a little-endian 64-bit value as a bigint. */
  readU64(gpa: number): bigint {
    const b = this.read(gpa, new Uint8Array(8));
    return new DataView(b.buffer).getBigUint64(0, true);
  }

  writeU64(gpa: number, value: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    this.write(gpa, b);
  }

  /**
   * Holds the guest page containing gpa and returns its host view (bhyve vm_gpa_hold). A write hold
   * needs a writable mapping and marks the page dirty. Held pages cannot be unmapped or remapped.
   */
  hold(gpa: number, write: boolean): PageHold {
    this.checkAddress(gpa, 'hold');
    const i = this.indexOf(gpa);
    if (i < 0) throw new NotFoundError(`hold: GPA ${hex(gpa)} is not mapped`);
    const m = this.list[i]!;
    if (write && (m.perms & PERM_W) === 0) throw new ConflictError(`hold: GPA ${hex(gpa)} is mapped without write permission, a write hold is not allowed`);
    const page = Math.floor(gpa / PAGE_SIZE) * PAGE_SIZE;
    const hpa = m.segment.hostBase + m.segmentOffset + (page - m.gpa);
    const chunk = this.host.chunkOf(hpa);
    const offset = hpa - chunk * this.host.chunkSize;
    const bytes = this.host.ensureChunk(chunk).subarray(offset, offset + PAGE_SIZE);
    const pn = page / PAGE_SIZE;
    this.holds.set(pn, (this.holds.get(pn) ?? 0) + 1);
    if (write) this.hostDirty.add(pn);
    return new PageHold(page, write, bytes, chunk, offset);
  }

  /** Releases a hold; releasing twice throws InvalidArgumentError. */
  release(hold: PageHold): void {
    if (hold.released) throw new InvalidArgumentError(`release: the hold of GPA ${hex(hold.gpa)} was already released`);
    hold.released = true;
    const pn = hold.gpa / PAGE_SIZE;
    const n = (this.holds.get(pn) ?? 1) - 1;
    if (n <= 0) this.holds.delete(pn);
    else this.holds.set(pn, n);
    if (hold.write) this.hostDirty.add(pn);
  }

  /**
   * Harvests and clears the dirty log of [gpa, gpa+size) (KVM_GET_DIRTY_LOG): bit i (LSB first per
   * byte) is set when page gpa + i*4 KiB was written by the guest or by the monitor since the last call.
   */
  getDirtyLog(gpa: number, size: number): Uint8Array {
    this.checkRange(gpa, size, 'getDirtyLog');
    const pages = size / PAGE_SIZE;
    const bitmap = new Uint8Array(Math.ceil(pages / 8));
    this.ept.harvestDirty(gpa, size, bitmap, true);
    const first = gpa / PAGE_SIZE;
    if (this.hostDirty.size !== 0) {
      for (const pn of [...this.hostDirty]) {
        const p = pn - first;
        if (p >= 0 && p < pages) {
          bitmap[p >>> 3] = bitmap[p >>> 3]! | (1 << (p & 7));
          this.hostDirty.delete(pn);
        }
      }
    }
    return bitmap;
  }

  /** Translates through the EPT for the monitor's diagnostics (see Ept.translate). */
  translate(gpa: number, access: number, out: EptTranslation = this.scratch): number {
    return this.ept.translate(gpa, access, out);
  }

  // --- internals -------------------------------------------------------------------------------------

  private checkAddress(gpa: number, op: string): void {
    if (!Number.isSafeInteger(gpa) || gpa < 0 || gpa >= 2 ** this.physAddrBits) {
      throw new InvalidArgumentError(`${op}: GPA ${hex(gpa)} must be an integer below 2^${this.physAddrBits} (MAXPHYADDR)`);
    }
  }

  private checkRange(gpa: number, size: number, op: string): void {
    if (!Number.isSafeInteger(gpa) || gpa < 0 || gpa % PAGE_SIZE !== 0) throw new InvalidArgumentError(`${op}: GPA ${hex(gpa)} must be a 4 KiB aligned non-negative integer`);
    if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE_SIZE !== 0) throw new InvalidArgumentError(`${op}: size ${hex(size)} must be a positive multiple of 0x1000`);
    if (gpa + size > 2 ** this.physAddrBits) throw new InvalidArgumentError(`${op}: range ${hex(gpa)}+${hex(size)} ends beyond 2^${this.physAddrBits} (MAXPHYADDR)`);
  }

  /** Index of the mapping containing gpa, or -1 (binary search over the sorted list). */
  private indexOf(gpa: number): number {
    let lo = 0;
    let hi = this.list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.list[mid]!;
      if (gpa < m.gpa) hi = mid - 1;
      else if (gpa >= m.gpa + m.size) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  private insert(m: MutableMapping): void {
    Object.freeze(m);
    let i = 0;
    while (i < this.list.length && this.list[i]!.gpa < m.gpa) i++;
    this.list.splice(i, 0, m);
  }

  private checkFree(gpa: number, size: number, except: MutableMapping | undefined, op: string): void {
    for (const m of this.list) {
      if (m !== except && m.gpa < gpa + size && gpa < m.gpa + m.size) {
        throw new ConflictError(
          `${op}: GPA range ${hex(gpa)}+${hex(size)} overlaps the mapping of segment "${m.segment.name}" at ${hex(m.gpa)}+${hex(m.size)}`,
        );
      }
    }
  }

  private requireCovered(gpa: number, size: number, op: string): void {
    let g = gpa;
    const end = gpa + size;
    while (g < end) {
      const i = this.indexOf(g);
      if (i < 0) throw new NotFoundError(`${op}: GPA ${hex(g)} in range ${hex(gpa)}+${hex(size)} is not mapped`);
      const m = this.list[i]!;
      g = m.gpa + m.size;
    }
  }

  private requireAccessible(gpa: number, len: number, op: string): void {
    if (!Number.isSafeInteger(gpa) || gpa < 0) throw new InvalidArgumentError(`${op}: GPA ${hex(gpa)} must be a non-negative integer`);
    if (len === 0) return;
    let g = gpa;
    const end = gpa + len;
    while (g < end) {
      const i = this.indexOf(g);
      if (i < 0) throw new NotFoundError(`${op}: GPA ${hex(g)} in range ${hex(gpa)}+${hex(len)} is not mapped`);
      const m = this.list[i]!;
      g = m.gpa + m.size;
    }
  }

  private requireNotHeld(gpa: number, size: number, op: string): void {
    if (this.holds.size === 0) return;
    for (const pn of this.holds.keys()) {
      const a = pn * PAGE_SIZE;
      if (a >= gpa && a < gpa + size) throw new ConflictError(`${op}: guest page ${hex(a)} is held (vm_gpa_hold); release it first`);
    }
  }

  /** Calls fn(hpa, byteOffset, len) for pieces of [gpa, gpa+len) that lie inside one mapping and one chunk. */
  private pieces(gpa: number, len: number, fn: (hpa: number, off: number, len: number) => void): void {
    let off = 0;
    const cs = this.host.chunkSize;
    while (off < len) {
      const g = gpa + off;
      const m = this.list[this.indexOf(g)]!;
      const hpa = m.segment.hostBase + m.segmentOffset + (g - m.gpa);
      const n = Math.min(len - off, m.gpa + m.size - g, cs - (hpa % cs));
      fn(hpa, off, n);
      off += n;
    }
  }

  private markHostDirty(gpa: number, len: number): void {
    if (len === 0) return;
    for (let p = Math.floor(gpa / PAGE_SIZE), e = Math.floor((gpa + len - 1) / PAGE_SIZE); p <= e; p++) this.hostDirty.add(p);
  }

  /**
   * Splits the mappings overlapping [gpa, gpa+size) at the range edges and replaces each inner piece
   * by fn(piece) (or drops it when fn returns undefined).
   */
  private carve(gpa: number, size: number, fn: (piece: MutableMapping) => MutableMapping | undefined): void {
    const end = gpa + size;
    const out: MutableMapping[] = [];
    for (const m of this.list) {
      const mEnd = m.gpa + m.size;
      if (mEnd <= gpa || m.gpa >= end) {
        out.push(m);
        continue;
      }
      if (m.gpa < gpa) out.push({ ...m, size: gpa - m.gpa });
      const s = Math.max(m.gpa, gpa);
      const e = Math.min(mEnd, end);
      const inner = fn({ ...m, gpa: s, size: e - s, segmentOffset: m.segmentOffset + (s - m.gpa) });
      if (inner !== undefined) out.push(inner);
      if (mEnd > end) out.push({ ...m, gpa: end, size: mEnd - end, segmentOffset: m.segmentOffset + (end - m.gpa) });
    }
    for (const m of out) Object.freeze(m);
    this.list.length = 0;
    this.list.push(...out);
  }
}

/** The PC layout bhyve uses (seed 003): RAM below `lowLimit` (default 3 GiB), the PCI hole, the rest from 4 GiB. */
export function mapPcMemory(gm: GuestMemory, ramBytes: number, lowLimit = 3 * 2 ** 30, segmentName = 'sysmem'): { lowSize: number; highSize: number; segment: MemorySegment } {
  if (!Number.isSafeInteger(ramBytes) || ramBytes <= 0 || ramBytes % PAGE_SIZE !== 0) throw new InvalidArgumentError(`RAM size ${hex(ramBytes)} must be a positive multiple of 0x1000`);
  if (!Number.isSafeInteger(lowLimit) || lowLimit <= 0 || lowLimit > 2 ** 32 || lowLimit % PAGE_SIZE !== 0) throw new InvalidArgumentError(`low-memory limit ${hex(lowLimit)} must be 4 KiB aligned and at most 4 GiB`);
  const segment = gm.createSegment(segmentName, ramBytes);
  const lowSize = Math.min(ramBytes, lowLimit);
  const highSize = ramBytes - lowSize;
  gm.map(0, segment, 0, lowSize);
  if (highSize > 0) gm.map(2 ** 32, segment, lowSize, highSize);
  return { lowSize, highSize, segment };
}
