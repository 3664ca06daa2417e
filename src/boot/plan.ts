/**
 * A boot plan: what a loader decided, as plain data. Loaders are pure functions from image bytes
 * to a plan (bytes to write at guest-physical addresses plus the initial vCPU state); `applyPlan`
 * (apply.ts) is the thin step that writes it into a machine. Tests check plans without a machine.
 *
 * The CPU-mode set-ups follow the SDM: protected mode flat (Vol. 3A §9.9.1, CR0.PE with flat 4-GiB
 * code/data descriptors), long mode (§9.8.5: CR4.PAE, EFER.LME, CR3 -> PML4, CR0.PG; EFER.LMA set
 * because paging is on with LME) with identity paging built from 2-MiB pages (§4.5, Table 4-17).
 */
import type { Registers, Segment, SpecialRegisters } from '../vmm/records.js';
import { segment } from '../vmm/records.js';
import { powerOnRegisters, powerOnSpecialRegisters, realModeSegment } from '../vmm/power-on.js';
import { InvalidArgumentError, hex } from '../util/errors.js';

/** One block of bytes the plan writes at a guest-physical address. */
export interface PlanWrite {
  gpa: number;
  bytes: Uint8Array;
  /** What this is, for traces and error messages ("ELF segment 1", "multiboot info"). */
  what: string;
}

/** The mode a vCPU is started in. */
export type BootMode = 'real' | 'protected' | 'long';

export interface BootPlan {
  /** The format the loader recognised ("flat", "elf32", "elf64", "multiboot"). */
  format: string;
  mode: BootMode;
  writes: PlanWrite[];
  /** Initial general registers (full record; fields not set by the loader hold reset values). */
  regs: Registers;
  sregs: SpecialRegisters;
  /** Guest-physical entry point (for reports). */
  entry: number;
  /** Lowest and highest (exclusive) guest-physical address the image itself occupies. */
  imageStart: number;
  imageEnd: number;
}

/**
 * Where loaders put their own structures (one documented map, also the harness's map):
 *
 *   0x0000_0500  boot GDT (6 descriptors)                      BOOT_GDT
 *   0x0000_1000  PML4, 0x2000 PDPT, 0x3000-0x6FFF four PDs     BOOT_PAGING (identity, 4 GiB, 2-MiB pages)
 *   0x0000_7000  boot stack top (grows down towards 0x7000-x)  BOOT_STACK_TOP
 *   0x0000_9000  e820 map / multiboot memory map               MB_MMAP
 *   0x0000_9500  multiboot information structure               MB_INFO
 *   0x0000_9600  multiboot strings (cmdline, loader name, module strings) up to 0x9FFFF
 */
export const BOOT_GDT = 0x500;
export const BOOT_PAGING = 0x1000;
export const BOOT_PAGING_SIZE = 0x6000;
export const BOOT_STACK_TOP = 0x7000;

/** Selectors of the boot GDT. */
export const SEL = {
  CODE32: 0x08,
  DATA: 0x10,
  CODE64: 0x18,
  CODE16: 0x20,
  DATA16: 0x28,
} as const;

/**
 * The boot GDT's descriptors (SDM Vol. 3A §3.4.5): null; 32-bit flat code (base 0, limit 4 GiB,
 * G=1, D=1, type execute/read); flat data (read/write); 64-bit code (L=1, D=0); 16-bit code and
 * data with 64-KiB limits for returning to real mode.
 */
const GDT_ENTRIES: ReadonlyArray<[number, number]> = [
  [0x0000_0000, 0x0000_0000],
  [0x0000_ffff, 0x00cf_9b00], // 0x08: code32, P=1 DPL=0 S=1 type=B (XR, accessed), G=1 D=1
  [0x0000_ffff, 0x00cf_9300], // 0x10: data,   P=1 DPL=0 S=1 type=3 (RW, accessed), G=1 B=1
  [0x0000_ffff, 0x00af_9b00], // 0x18: code64, P=1 DPL=0 S=1 type=B, G=1 L=1 D=0
  [0x0000_ffff, 0x0000_9b00], // 0x20: code16, limit 0xFFFF
  [0x0000_ffff, 0x0000_9300], // 0x28: data16, limit 0xFFFF
];

/** The boot GDT as bytes (8 bytes per descriptor, little endian). */
export function gdtBytes(): Uint8Array {
  const out = new Uint8Array(GDT_ENTRIES.length * 8);
  const dv = new DataView(out.buffer);
  GDT_ENTRIES.forEach(([lo, hi], i) => {
    dv.setUint32(i * 8, lo, true);
    dv.setUint32(i * 8 + 4, hi, true);
  });
  return out;
}

/**
 * Identity page tables for the low 4 GiB: PML4[0] -> PDPT, PDPT[0..3] -> four page directories,
 * each with 512 2-MiB pages (PS=1). Entries are present, writable, supervisor (P|RW = 0x3, PS = 0x80);
 * accessed/dirty left clear so the walker's A/D updates are visible.
 */
export function identityPagingBytes(base: number): Uint8Array {
  const out = new Uint8Array(BOOT_PAGING_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, (base + 0x1000) | 0x3, true); // PML4[0] -> PDPT
  for (let i = 0; i < 4; i++) dv.setUint32(0x1000 + i * 8, (base + 0x2000 + i * 0x1000) | 0x3, true);
  for (let d = 0; d < 4; d++) {
    for (let e = 0; e < 512; e++) {
      const phys = d * 0x4000_0000 + e * 0x20_0000; // < 2^32, fits the low dword
      dv.setUint32(0x2000 + d * 0x1000 + e * 8, (phys | 0x83) >>> 0, true);
    }
  }
  return out;
}

function flatSegment(selector: number, type: number, is64 = false): Segment {
  return segment({
    selector,
    base: 0n,
    limit: 0xffff_ffff,
    type,
    g: true,
    db: !is64,
    l: is64,
  });
}

/**
 * Initial state for `mode` entering at `entry` (a guest-physical = linear address).
 * Real mode: CS = the 64-KiB-aligned paragraph holding entry (entry below 1 MiB), IP = entry & 0xFFFF,
 * so an image assembled with `org (entry & 0xFFFF)` runs unchanged (0x7C00 gives 0000:7C00); other
 * segments 0.
 * Protected: flat 32-bit code/data from the boot GDT, CR0 = PE|ET.
 * Long: 64-bit code, CR0 = PG|PE|ET, CR4 = PAE, EFER = LME|LMA, CR3 = BOOT_PAGING.
 */
export function modeState(mode: BootMode, entry: number, stackTop = BOOT_STACK_TOP): {
  regs: Registers;
  sregs: SpecialRegisters;
} {
  const regs = powerOnRegisters();
  const sregs = powerOnSpecialRegisters();
  regs.rdx = 0n;
  regs.rflags = 0x2n;
  regs.rsp = BigInt(stackTop);
  if (mode === 'real') {
    if (entry < 0 || entry >= 0x10_0000) {
      throw new InvalidArgumentError(`real-mode entry ${hex(entry)} is not below 1 MiB`);
    }
    sregs.cs = realModeSegment((entry >>> 16) << 12, 0xb);
    regs.rip = BigInt(entry & 0xffff);
    sregs.cr0 = 0x10n; // ET; caches enabled as a BIOS leaves them
    regs.rsp = BigInt(stackTop & 0xffff);
    return { regs, sregs };
  }
  sregs.gdt = { base: BigInt(BOOT_GDT), limit: GDT_ENTRIES.length * 8 - 1 };
  sregs.idt = { base: 0n, limit: 0 };
  // TR: a 32/64-bit busy TSS descriptor cache with base 0 (VM entry requires a usable busy TSS,
  // SDM Vol. 3C §26.3.1.2); the guest loads its own before it needs one.
  sregs.tr = segment({ selector: 0, limit: 0x67, type: 0xb, s: false });
  sregs.ldt = segment({ selector: 0, limit: 0, type: 0x2, s: false, unusable: true, present: false });
  const data = flatSegment(SEL.DATA, 0x3);
  sregs.ds = data;
  sregs.es = { ...data };
  sregs.fs = { ...data };
  sregs.gs = { ...data };
  sregs.ss = { ...data };
  regs.rip = BigInt(entry);
  if (mode === 'protected') {
    sregs.cs = flatSegment(SEL.CODE32, 0xb);
    sregs.cr0 = 0x11n; // PE | ET
    return { regs, sregs };
  }
  sregs.cs = flatSegment(SEL.CODE64, 0xb, true);
  sregs.cr0 = 0x8000_0011n; // PG | ET | PE
  sregs.cr3 = BigInt(BOOT_PAGING);
  sregs.cr4 = 0x20n; // PAE
  sregs.efer = 0x500n; // LME (bit 8) | LMA (bit 10)
  return { regs, sregs };
}

/** The writes every protected/long-mode plan needs: the GDT and, for long mode, the page tables. */
export function modeWrites(mode: BootMode): PlanWrite[] {
  if (mode === 'real') return [];
  const writes: PlanWrite[] = [{ gpa: BOOT_GDT, bytes: gdtBytes(), what: 'boot GDT' }];
  if (mode === 'long') {
    writes.push({ gpa: BOOT_PAGING, bytes: identityPagingBytes(BOOT_PAGING), what: 'identity page tables' });
  }
  return writes;
}

/** Parses a mode name as the CLI and options spell it. */
export function parseBootMode(name: string): BootMode {
  if (name === 'real' || name === 'protected' || name === 'long') return name;
  if (name === '16') return 'real';
  if (name === '32') return 'protected';
  if (name === '64') return 'long';
  throw new InvalidArgumentError(`boot mode '${name}' is not one of real, protected, long (or 16, 32, 64)`);
}

/** Checks that no two writes of a plan overlap (a loader bug or a hostile image). */
export function checkNoOverlap(writes: readonly PlanWrite[]): void {
  const sorted = [...writes].filter((w) => w.bytes.length > 0).sort((a, b) => a.gpa - b.gpa);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (prev.gpa + prev.bytes.length > cur.gpa) {
      throw new InvalidArgumentError(
        `${cur.what} at ${hex(cur.gpa)} overlaps ${prev.what} at ${hex(prev.gpa)}..${hex(prev.gpa + prev.bytes.length)}`,
      );
    }
  }
}
