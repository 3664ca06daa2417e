/**
 * Host memory: the segments that back guest memory (system memory and named device memory such as a
 * boot ROM or a framebuffer), allocated lazily in chunks.
 *
 * Model (bhyve's sysmem/devmem segments, seed 003; NVMM's hva_map, seed 004):
 * - Every segment is placed in one flat "host-physical" address space (HPA). HPA is what an EPT/NPT
 *   leaf entry holds in its address field (bits 51:12), exactly as a real EPT holds a host frame.
 * - That space is cut into chunks of `chunkSize` bytes (a power of two, at least 4 KiB). Chunk id =
 *   hpa >>> chunkShift; `chunks[id]` is a Uint8Array (and `views[id]` a DataView) over that chunk's
 *   own ArrayBuffer/SharedArrayBuffer, or over a slice of a caller-supplied buffer. So a host address
 *   is two small integers (chunk id, offset) that a typed-array soft TLB can hold, and a 4 KiB page
 *   never straddles two chunks.
 * - Chunks are allocated (zero-filled) on first touch. Until then `chunks[id]` is a shared empty
 *   array; readers that must not allocate (the monitor's read helpers) see zeros.
 */
import { ConflictError, InvalidArgumentError, NotFoundError, hex } from '../util/errors.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PAGE_MASK = PAGE_SIZE - 1;

/** HPA space limit: keeps host page numbers below 2^31 so int32 arithmetic serves on the hot path. */
export const HOST_PHYS_LIMIT = 2 ** 43;

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));
const GIB = 1 << 30;
const MIB2 = 2 << 20;

export type SegmentKind = 'sysmem' | 'devmem';

export interface HostMemoryOptions {
  /** Bytes per lazily allocated chunk: a power of two from 4 KiB to 1 GiB. Default 2 MiB. */
  chunkSize?: number;
  /** Back chunks with SharedArrayBuffer (for vCPUs in workers). Default false. */
  shared?: boolean;
}

export interface SegmentOptions {
  /** 'sysmem' (guest RAM) or 'devmem' (boot ROM, framebuffer ...). Default 'sysmem'. */
  kind?: SegmentKind;
  /** Use this buffer (byteLength === size) instead of lazy chunks; the device model keeps its own view. */
  buffer?: ArrayBuffer | SharedArrayBuffer;
}

/** One host memory segment: `size` bytes at host-physical `hostBase`. */
export class MemorySegment {
  constructor(
    readonly id: number,
    readonly name: string,
    readonly kind: SegmentKind,
    readonly size: number,
    readonly hostBase: number,
  ) {}
}

export class HostMemory {
  readonly chunkShift: number;
  readonly chunkSize: number;
  readonly shared: boolean;
  /** Chunk id -> bytes. Unallocated chunks hold a shared zero-length array. */
  readonly chunks: Uint8Array[] = [];
  /** Chunk id -> little-endian accessor over the same bytes. */
  readonly views: DataView[] = [];
  /** Chunk id -> byte length the chunk will have (0 for HPA holes between segments). */
  private readonly chunkBytes: number[] = [];
  private readonly segmentList: MemorySegment[] = [];
  private readonly byName = new Map<string, MemorySegment>();
  private nextHpa = 0;
  /** Bytes of chunk storage allocated so far (lazily). */
  allocatedBytes = 0;

  constructor(options: HostMemoryOptions = {}) {
    const chunkSize = options.chunkSize ?? MIB2;
    if (!Number.isInteger(chunkSize) || chunkSize < PAGE_SIZE || chunkSize > GIB || (chunkSize & (chunkSize - 1)) !== 0) {
      throw new InvalidArgumentError(`chunkSize ${hex(chunkSize)} must be a power of two from 0x1000 to 0x40000000`);
    }
    this.chunkSize = chunkSize;
    this.chunkShift = 31 - Math.clz32(chunkSize);
    this.shared = options.shared ?? false;
    if (this.shared && typeof SharedArrayBuffer === 'undefined') {
      throw new InvalidArgumentError('shared memory requested but SharedArrayBuffer is not available here');
    }
  }

  /** Creates a segment of `size` bytes (a multiple of 4 KiB). Nothing is allocated until touched. */
  createSegment(name: string, size: number, options: SegmentOptions = {}): MemorySegment {
    if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(`segment name ${JSON.stringify(name)} must be a non-empty string`);
    if (this.byName.has(name)) throw new ConflictError(`segment name "${name}" is already in use`);
    if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE_SIZE !== 0) {
      throw new InvalidArgumentError(`segment "${name}" size ${hex(size)} must be a positive multiple of 0x1000`);
    }
    const kind = options.kind ?? 'sysmem';
    if (kind !== 'sysmem' && kind !== 'devmem') throw new InvalidArgumentError(`segment kind "${String(kind)}" must be 'sysmem' or 'devmem'`);
    const buffer = options.buffer;
    if (buffer !== undefined && buffer.byteLength !== size) {
      throw new InvalidArgumentError(`segment "${name}" buffer byteLength ${hex(buffer.byteLength)} must equal size ${hex(size)}`);
    }
    // Align the segment in HPA space so large EPT leaves can map it: 1 GiB for big segments, else 2 MiB.
    let align = size >= GIB ? GIB : size >= MIB2 ? MIB2 : PAGE_SIZE;
    if (align < this.chunkSize) align = this.chunkSize;
    const base = Math.ceil(this.nextHpa / align) * align;
    const end = base + Math.ceil(size / this.chunkSize) * this.chunkSize;
    if (end > HOST_PHYS_LIMIT) throw new InvalidArgumentError(`segment "${name}" size ${hex(size)} exceeds the host-physical space limit ${hex(HOST_PHYS_LIMIT)}`);
    const first = base / this.chunkSize;
    const count = (end - base) / this.chunkSize;
    while (this.chunks.length < first + count) {
      this.chunks.push(EMPTY_BYTES);
      this.views.push(EMPTY_VIEW);
      this.chunkBytes.push(0);
    }
    for (let i = 0; i < count; i++) {
      const bytes = Math.min(this.chunkSize, size - i * this.chunkSize);
      this.chunkBytes[first + i] = bytes;
      if (buffer !== undefined) {
        this.chunks[first + i] = new Uint8Array(buffer, i * this.chunkSize, bytes);
        this.views[first + i] = new DataView(buffer, i * this.chunkSize, bytes);
      }
    }
    this.nextHpa = end;
    const seg = new MemorySegment(this.segmentList.length, name, kind, size, base);
    this.segmentList.push(seg);
    this.byName.set(name, seg);
    return seg;
  }

  /** All segments in creation order. */
  get segments(): readonly MemorySegment[] {
    return this.segmentList;
  }

  /** The segment named `name`; throws NotFoundError if there is none. */
  segment(name: string): MemorySegment {
    const s = this.byName.get(name);
    if (s === undefined) throw new NotFoundError(`no host memory segment named "${name}"`);
    return s;
  }

  /** True once the chunk has storage. */
  isAllocated(chunk: number): boolean {
    return this.chunks[chunk]!.length !== 0;
  }

  /** Allocates (zero-filled) the chunk if it has no storage yet; returns its bytes. */
  ensureChunk(chunk: number): Uint8Array {
    const c = this.chunks[chunk]!;
    if (c.length !== 0) return c;
    const bytes = this.chunkBytes[chunk]!;
    if (bytes === 0) throw new NotFoundError(`chunk ${chunk} (HPA ${hex(chunk * this.chunkSize)}) belongs to no segment`);
    const buf = this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    const arr = new Uint8Array(buf);
    this.chunks[chunk] = arr;
    this.views[chunk] = new DataView(buf);
    this.allocatedBytes += bytes;
    return arr;
  }

  /** Like ensureChunk, but returns false (allocating nothing) for a chunk no segment backs. */
  tryEnsureChunk(chunk: number): boolean {
    if (chunk < 0 || chunk >= this.chunks.length) return false;
    if (this.chunks[chunk]!.length !== 0) return true;
    if (this.chunkBytes[chunk] === 0) return false;
    this.ensureChunk(chunk);
    return true;
  }

  /** Chunk id of a host-physical address. */
  chunkOf(hpa: number): number {
    return Math.floor(hpa / this.chunkSize);
  }

  // --- Fast accessors a vCPU uses after a TLB hit: (chunk, offset), little-endian, within one page. ---
  // The chunk must be allocated (every successful EPT/NPT translation allocates it).
  read8(chunk: number, offset: number): number {
    return this.chunks[chunk]![offset]!;
  }
  read16(chunk: number, offset: number): number {
    return this.views[chunk]!.getUint16(offset, true);
  }
  read32(chunk: number, offset: number): number {
    return this.views[chunk]!.getUint32(offset, true);
  }
  write8(chunk: number, offset: number, value: number): void {
    this.chunks[chunk]![offset] = value;
  }
  write16(chunk: number, offset: number, value: number): void {
    this.views[chunk]!.setUint16(offset, value, true);
  }
  write32(chunk: number, offset: number, value: number): void {
    this.views[chunk]!.setUint32(offset, value, true);
  }

  /** Copies `len` bytes at host-physical `hpa` into `dest` (within one chunk); unallocated chunks read as zeros without allocating. */
  readHost(hpa: number, dest: Uint8Array, destOffset: number, len: number): void {
    const chunk = Math.floor(hpa / this.chunkSize);
    const off = hpa - chunk * this.chunkSize;
    const c = this.chunks[chunk]!;
    if (c.length === 0) dest.fill(0, destOffset, destOffset + len);
    else dest.set(c.subarray(off, off + len), destOffset);
  }

  /** Copies `len` bytes from `src` to host-physical `hpa` (within one chunk), allocating the chunk. */
  writeHost(hpa: number, src: Uint8Array, srcOffset: number, len: number): void {
    const chunk = Math.floor(hpa / this.chunkSize);
    const off = hpa - chunk * this.chunkSize;
    this.ensureChunk(chunk).set(src.subarray(srcOffset, srcOffset + len), off);
  }

  /** Fills `len` bytes at host-physical `hpa` (within one chunk); filling an unallocated chunk with 0 allocates nothing. */
  fillHost(hpa: number, value: number, len: number): void {
    const chunk = Math.floor(hpa / this.chunkSize);
    const off = hpa - chunk * this.chunkSize;
    if ((value & 0xff) === 0 && this.chunks[chunk]!.length === 0) return;
    this.ensureChunk(chunk).fill(value, off, off + len);
  }
}
