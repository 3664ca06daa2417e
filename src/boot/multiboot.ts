/**
 * Multiboot version 1 (Multiboot Specification 0.6.96), booted the way QEMU's `-kernel` does:
 * - the header (magic 0x1BADB002, flags, checksum with magic + flags + checksum = 0 mod 2^32) is
 *   searched at 4-byte-aligned offsets in the first 8192 bytes (§3.1.1);
 * - with header flag 16 (the "a.out kludge") the image is loaded from the header's address fields
 *   (§3.1.3): file offset = header offset - (header_addr - load_addr), load_end_addr 0 = to the end
 *   of the file, bss_end_addr 0 = no bss, entry at entry_addr; otherwise the image must be ELF32 and
 *   its program headers are used (QEMU refuses a 64-bit ELF here, and so do we);
 * - the machine state of §3.2: EAX = 0x2BADB002, EBX = the multiboot information, 32-bit protected
 *   mode with flat 4-GiB code and data segments, paging off, IF clear;
 * - the information structure (§3.3) with mem_lower/mem_upper, boot_device, the command line with
 *   the image name first ("<image> <append>", as QEMU builds it), modules (page aligned after the
 *   kernel, each with its own string), the memory map (e820 entries with their size field), and the
 *   boot loader name.
 * Header bits 0 (page-align modules: always done) and 1 (memory info: always given) are honoured;
 * bit 2 (video mode) is ignored as QEMU ignores it.
 */
import type { BootPlan, PlanWrite } from './plan.js';
import { checkNoOverlap, modeState, modeWrites } from './plan.js';
import { e820Map, EBDA_START, LOW_RAM_LIMIT } from './e820.js';
import { elfSegmentWrites, elfVirtToPhys, isElf, parseElf, EM_386 } from './elf.js';
import { InvalidArgumentError, hex } from '../util/errors.js';

export const MULTIBOOT_HEADER_MAGIC = 0x1bad_b002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2bad_b002;
/** The header must lie entirely within this many bytes from the start of the image (§3.1.1). */
export const MULTIBOOT_SEARCH = 8192;
export const MB_FLAG_PAGE_ALIGN = 1 << 0;
export const MB_FLAG_MEMORY_INFO = 1 << 1;
export const MB_FLAG_VIDEO_MODE = 1 << 2;
export const MB_FLAG_AOUT_KLUDGE = 1 << 16;

/** multiboot_info.flags bits (§3.3). */
export const MBI_FLAGS = {
  MEMORY: 1 << 0,
  BOOT_DEVICE: 1 << 1,
  CMDLINE: 1 << 2,
  MODS: 1 << 3,
  MMAP: 1 << 6,
  LOADER_NAME: 1 << 9,
} as const;

/** Where the memory map, the information structure and its strings go (see plan.ts's map). */
export const MB_MMAP = 0x9000;
export const MB_INFO = 0x9500;
export const MB_STRINGS = 0x9600;
/** Size of the information structure up to and including the framebuffer fields (§3.3). */
export const MB_INFO_SIZE = 116;
export const MB_LOADER_NAME = 'x86vmm';

export interface MultibootHeader {
  /** File offset of the magic. */
  offset: number;
  flags: number;
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

/** Finds a valid multiboot header in the first 8 KiB, or returns undefined. */
export function findMultibootHeader(image: Uint8Array): MultibootHeader | undefined {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const end = Math.min(image.length, MULTIBOOT_SEARCH) - 12;
  for (let off = 0; off <= end; off += 4) {
    if (dv.getUint32(off, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = dv.getUint32(off + 4, true);
    const checksum = dv.getUint32(off + 8, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) !== 0) continue;
    const field = (i: number): number => (off + 12 + i * 4 + 4 <= image.length ? dv.getUint32(off + 12 + i * 4, true) : 0);
    return {
      offset: off,
      flags,
      headerAddr: field(0),
      loadAddr: field(1),
      loadEndAddr: field(2),
      bssEndAddr: field(3),
      entryAddr: field(4),
    };
  }
  return undefined;
}

export interface MultibootModule {
  bytes: Uint8Array;
  /** The module's string: its file name followed by its arguments, as QEMU passes `-initrd`. */
  cmdline: string;
}

export interface MultibootOptions {
  /** RAM size in bytes (for mem_lower/mem_upper and the memory map). */
  ramBytes: number;
  /** The image's name, placed first in the command line. */
  imageName?: string;
  /** The rest of the command line (`--append`). */
  append?: string;
  modules?: MultibootModule[];
}

function cString(s: string): Uint8Array {
  const enc = new TextEncoder().encode(s);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

const PAGE = 0x1000;
const roundUp = (v: number, a: number): number => Math.ceil(v / a) * a;

/** Plans a multiboot v1 kernel. Throws InvalidArgumentError if there is no header or it is unusable. */
export function planMultiboot(image: Uint8Array, options: MultibootOptions): BootPlan {
  const header = findMultibootHeader(image);
  if (!header) {
    throw new InvalidArgumentError(`no multiboot header (magic ${hex(MULTIBOOT_HEADER_MAGIC)} with a valid checksum) in the first 8192 bytes`);
  }
  const ram = options.ramBytes;
  let kernelWrites: PlanWrite[];
  let entry: number;
  if (header.flags & MB_FLAG_AOUT_KLUDGE) {
    const h = header;
    if (h.headerAddr < h.loadAddr) {
      throw new InvalidArgumentError(`multiboot header_addr ${hex(h.headerAddr)} is below load_addr ${hex(h.loadAddr)}`);
    }
    const fileOffset = h.offset - (h.headerAddr - h.loadAddr);
    if (fileOffset < 0) {
      throw new InvalidArgumentError(`multiboot load_addr ${hex(h.loadAddr)} lies ${hex(-fileOffset)} bytes before the file start`);
    }
    let loadSize: number;
    if (h.loadEndAddr === 0) loadSize = image.length - fileOffset;
    else {
      if (h.loadEndAddr < h.loadAddr) {
        throw new InvalidArgumentError(`multiboot load_end_addr ${hex(h.loadEndAddr)} is below load_addr ${hex(h.loadAddr)}`);
      }
      loadSize = h.loadEndAddr - h.loadAddr;
    }
    if (fileOffset + loadSize > image.length) {
      throw new InvalidArgumentError(`multiboot load of ${hex(loadSize)} bytes from file offset ${hex(fileOffset)} runs past the image end ${hex(image.length)}`);
    }
    let total = loadSize;
    if (h.bssEndAddr !== 0) {
      if (h.bssEndAddr < h.loadAddr + loadSize) {
        throw new InvalidArgumentError(`multiboot bss_end_addr ${hex(h.bssEndAddr)} is below the load end ${hex(h.loadAddr + loadSize)}`);
      }
      total = h.bssEndAddr - h.loadAddr;
    }
    const bytes = new Uint8Array(total);
    bytes.set(image.subarray(fileOffset, fileOffset + loadSize));
    kernelWrites = [{ gpa: h.loadAddr, bytes, what: 'multiboot kernel' }];
    entry = h.entryAddr;
  } else {
    if (!isElf(image)) {
      throw new InvalidArgumentError('multiboot header has no address fields (flag 16 clear) and the image is not ELF');
    }
    const elf = parseElf(image);
    if (elf.elfClass !== 32 || elf.machine !== EM_386) {
      throw new InvalidArgumentError(`multiboot ELF must be ELF32 for i386 (got ELF${elf.elfClass}, e_machine ${elf.machine}); link the kernel as 32-bit or use the a.out kludge`);
    }
    kernelWrites = elfSegmentWrites(image, elf);
    if (kernelWrites.length === 0) throw new InvalidArgumentError('multiboot ELF has no PT_LOAD segment');
    entry = elfVirtToPhys(elf, elf.entry);
  }
  const imageStart = Math.min(...kernelWrites.map((w) => w.gpa));
  const imageEnd = Math.max(...kernelWrites.map((w) => w.gpa + w.bytes.length));
  if (imageEnd > ram) {
    throw new InvalidArgumentError(`multiboot kernel ends at ${hex(imageEnd)}, beyond RAM of ${hex(ram)} bytes`);
  }

  // Modules: page aligned after the kernel (header flag 0 asks for it; we always do it).
  const writes: PlanWrite[] = [...modeWrites('protected'), ...kernelWrites];
  const modules = options.modules ?? [];
  const modTable = new Uint8Array(modules.length * 16);
  const modDv = new DataView(modTable.buffer);
  let cursor = roundUp(imageEnd, PAGE);
  const strings: Uint8Array[] = [];
  let stringCursor = MB_STRINGS;
  const addString = (s: string): number => {
    const bytes = cString(s);
    const at = stringCursor;
    strings.push(bytes);
    stringCursor += bytes.length;
    return at;
  };
  const cmdline = `${options.imageName ?? 'kernel'} ${options.append ?? ''}`;
  const cmdlineAddr = addString(cmdline);
  const loaderNameAddr = addString(MB_LOADER_NAME);
  modules.forEach((m, i) => {
    const start = cursor;
    const end = start + m.bytes.length;
    if (end > ram) throw new InvalidArgumentError(`multiboot module ${i} (${m.cmdline}) ends at ${hex(end)}, beyond RAM of ${hex(ram)} bytes`);
    writes.push({ gpa: start, bytes: m.bytes, what: `multiboot module ${i}` });
    modDv.setUint32(i * 16, start, true); // mod_start
    modDv.setUint32(i * 16 + 4, end, true); // mod_end (first byte after the module)
    modDv.setUint32(i * 16 + 8, addString(m.cmdline), true); // string
    cursor = roundUp(end, PAGE);
  });
  const modTableAddr = roundUp(stringCursor, 16);
  stringCursor = modTableAddr + modTable.length;
  if (stringCursor > EBDA_START) {
    throw new InvalidArgumentError(`multiboot strings and module table need ${hex(stringCursor - MB_STRINGS)} bytes, more than the ${hex(EBDA_START - MB_STRINGS)} at ${hex(MB_STRINGS)}`);
  }

  // Memory map: each entry is size (4, = 20, not counting itself), base (8), length (8), type (4).
  const map = e820Map(ram);
  const mmap = new Uint8Array(map.length * 24);
  const mdv = new DataView(mmap.buffer);
  map.forEach((e, i) => {
    const o = i * 24;
    mdv.setUint32(o, 20, true);
    mdv.setUint32(o + 4, e.base >>> 0, true);
    mdv.setUint32(o + 8, Math.floor(e.base / 0x1_0000_0000), true);
    mdv.setUint32(o + 12, e.length >>> 0, true);
    mdv.setUint32(o + 16, Math.floor(e.length / 0x1_0000_0000), true);
    mdv.setUint32(o + 20, e.type, true);
  });

  const info = new Uint8Array(MB_INFO_SIZE);
  const idv = new DataView(info.buffer);
  idv.setUint32(0, MBI_FLAGS.MEMORY | MBI_FLAGS.BOOT_DEVICE | MBI_FLAGS.CMDLINE | MBI_FLAGS.MODS | MBI_FLAGS.MMAP | MBI_FLAGS.LOADER_NAME, true);
  idv.setUint32(4, Math.min(ram, 0xa_0000) >>> 10, true); // mem_lower: KiB from 0 (max 640)
  idv.setUint32(8, Math.max(0, Math.min(ram, LOW_RAM_LIMIT) - 0x10_0000) >>> 10, true); // mem_upper: KiB from 1 MiB to the first hole
  idv.setUint32(12, 0x8000_ffff, true); // boot_device: BIOS drive 0x80, no partitions (as QEMU)
  idv.setUint32(16, cmdlineAddr, true);
  idv.setUint32(20, modules.length, true); // mods_count
  idv.setUint32(24, modTableAddr, true); // mods_addr
  idv.setUint32(44, mmap.length, true); // mmap_length
  idv.setUint32(48, MB_MMAP, true); // mmap_addr
  idv.setUint32(64, loaderNameAddr, true); // boot_loader_name

  writes.push({ gpa: MB_MMAP, bytes: mmap, what: 'multiboot memory map' });
  writes.push({ gpa: MB_INFO, bytes: info, what: 'multiboot information' });
  const stringBlock = new Uint8Array(stringCursor - MB_STRINGS);
  let at = 0;
  for (const s of strings) {
    stringBlock.set(s, at);
    at += s.length;
  }
  stringBlock.set(modTable, modTableAddr - MB_STRINGS);
  writes.push({ gpa: MB_STRINGS, bytes: stringBlock, what: 'multiboot strings and module table' });
  checkNoOverlap(writes);

  const { regs, sregs } = modeState('protected', entry);
  regs.rax = BigInt(MULTIBOOT_BOOTLOADER_MAGIC);
  regs.rbx = BigInt(MB_INFO);
  return { format: 'multiboot', mode: 'protected', writes, regs, sregs, entry, imageStart, imageEnd };
}
