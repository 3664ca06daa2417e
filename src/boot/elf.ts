/**
 * ELF32 / ELF64 executable loader (System V ABI, "ELF header" and "Program header" chapters; the
 * x86-64 psABI for EM_X86_64). Each PT_LOAD segment's p_filesz bytes are placed at its physical
 * address p_paddr and the rest up to p_memsz is zeroed (the .bss). ELF32 images start in 32-bit
 * protected mode, ELF64 in long mode with the loader's identity paging; the entry point e_entry is
 * a virtual address, translated to physical through the segment that contains it when vaddr and
 * paddr differ (a higher-half kernel linked with AT()).
 */
import type { BootMode, BootPlan, PlanWrite } from './plan.js';
import { checkNoOverlap, modeState, modeWrites } from './plan.js';
import { InvalidArgumentError, hex } from '../util/errors.js';

export const ELF_MAGIC = 0x464c_457f; // "\x7FELF" little endian
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ET_EXEC = 2;
export const EM_386 = 3;
export const EM_X86_64 = 62;
export const PT_LOAD = 1;

export interface ElfSegment {
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface ElfImage {
  elfClass: 32 | 64;
  machine: number;
  type: number;
  entry: number;
  /** PT_LOAD segments in header order. */
  segments: ElfSegment[];
}

export function isElf(image: Uint8Array): boolean {
  return image.length >= 4 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
}

function u64(dv: DataView, off: number, what: string): number {
  const lo = dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  if (hi >= 0x20_0000) throw new InvalidArgumentError(`ELF ${what} ${hex((BigInt(hi) << 32n) | BigInt(lo))} is beyond 2^53`);
  return hi * 0x1_0000_0000 + lo;
}

/** Parses the ELF header and PT_LOAD program headers; throws InvalidArgumentError on a malformed image. */
export function parseElf(image: Uint8Array): ElfImage {
  if (!isElf(image)) throw new InvalidArgumentError('image is not ELF: the first bytes are not 7F 45 4C 46');
  if (image.length < 52) throw new InvalidArgumentError(`ELF image of ${image.length} bytes is shorter than its header`);
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const cls = image[4];
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) throw new InvalidArgumentError(`ELF class ${cls} is neither 1 (32-bit) nor 2 (64-bit)`);
  if (image[5] !== ELFDATA2LSB) throw new InvalidArgumentError(`ELF data encoding ${image[5]} is not 1 (little endian)`);
  const is64 = cls === ELFCLASS64;
  if (is64 && image.length < 64) throw new InvalidArgumentError(`ELF64 image of ${image.length} bytes is shorter than its header`);
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  const entry = is64 ? u64(dv, 24, 'e_entry') : dv.getUint32(24, true);
  const phoff = is64 ? u64(dv, 32, 'e_phoff') : dv.getUint32(28, true);
  const phentsize = dv.getUint16(is64 ? 54 : 42, true);
  const phnum = dv.getUint16(is64 ? 56 : 44, true);
  const minEnt = is64 ? 56 : 32;
  if (phnum > 0 && phentsize < minEnt) throw new InvalidArgumentError(`ELF e_phentsize ${phentsize} is below ${minEnt}`);
  if (phoff + phnum * phentsize > image.length) {
    throw new InvalidArgumentError(`ELF program headers at ${hex(phoff)} (${phnum} x ${phentsize}) run past the image end ${hex(image.length)}`);
  }
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== PT_LOAD) continue;
    const seg: ElfSegment = is64
      ? {
          flags: dv.getUint32(p + 4, true),
          offset: u64(dv, p + 8, 'p_offset'),
          vaddr: u64(dv, p + 16, 'p_vaddr'),
          paddr: u64(dv, p + 24, 'p_paddr'),
          filesz: u64(dv, p + 32, 'p_filesz'),
          memsz: u64(dv, p + 40, 'p_memsz'),
        }
      : {
          offset: dv.getUint32(p + 4, true),
          vaddr: dv.getUint32(p + 8, true),
          paddr: dv.getUint32(p + 12, true),
          filesz: dv.getUint32(p + 16, true),
          memsz: dv.getUint32(p + 20, true),
          flags: dv.getUint32(p + 24, true),
        };
    if (seg.filesz > seg.memsz) throw new InvalidArgumentError(`ELF segment ${i}: p_filesz ${hex(seg.filesz)} exceeds p_memsz ${hex(seg.memsz)}`);
    if (seg.offset + seg.filesz > image.length) {
      throw new InvalidArgumentError(`ELF segment ${i}: file bytes ${hex(seg.offset)}+${hex(seg.filesz)} run past the image end ${hex(image.length)}`);
    }
    segments.push(seg);
  }
  return { elfClass: is64 ? 64 : 32, machine, type, entry, segments };
}

/** Translates a virtual address to physical through the PT_LOAD segment containing it, if any. */
export function elfVirtToPhys(elf: ElfImage, vaddr: number): number {
  for (const s of elf.segments) {
    if (vaddr >= s.vaddr && vaddr < s.vaddr + Math.max(s.memsz, 1)) return s.paddr + (vaddr - s.vaddr);
  }
  return vaddr;
}

/** The writes for an ELF's PT_LOAD segments: file bytes, then zeros up to p_memsz (the bss). */
export function elfSegmentWrites(image: Uint8Array, elf: ElfImage): PlanWrite[] {
  const writes: PlanWrite[] = [];
  elf.segments.forEach((s, i) => {
    if (s.memsz === 0) return;
    const bytes = new Uint8Array(s.memsz);
    bytes.set(image.subarray(s.offset, s.offset + s.filesz));
    writes.push({ gpa: s.paddr, bytes, what: `ELF segment ${i}` });
  });
  return writes;
}

export interface ElfOptions {
  /** Mode override (default: protected for ELF32, long for ELF64). */
  mode?: BootMode;
  stackTop?: number;
}

/** Plans an ELF executable for direct entry (not multiboot). */
export function planElf(image: Uint8Array, options: ElfOptions = {}): BootPlan {
  const elf = parseElf(image);
  if (elf.machine !== EM_386 && elf.machine !== EM_X86_64) {
    throw new InvalidArgumentError(`ELF e_machine ${elf.machine} is not x86 (3) or x86-64 (62)`);
  }
  if (elf.segments.length === 0) throw new InvalidArgumentError('ELF image has no PT_LOAD segment');
  const mode: BootMode = options.mode ?? (elf.elfClass === 64 ? 'long' : 'protected');
  const entry = elfVirtToPhys(elf, elf.entry);
  const { regs, sregs } = modeState(mode, entry, options.stackTop);
  const segWrites = elfSegmentWrites(image, elf);
  const writes = [...modeWrites(mode), ...segWrites];
  checkNoOverlap(writes);
  const imageStart = Math.min(...segWrites.map((w) => w.gpa));
  const imageEnd = Math.max(...segWrites.map((w) => w.gpa + w.bytes.length));
  return { format: elf.elfClass === 64 ? 'elf64' : 'elf32', mode, writes, regs, sregs, entry, imageStart, imageEnd };
}
