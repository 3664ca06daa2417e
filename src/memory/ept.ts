/**
 * The EPT (or NPT) tree: four levels of host-owned table pages holding entries in the real format,
 * leaves of 4 KiB, 2 MiB and 1 GiB, and the one walker that translates a guest-physical address.
 *
 * Sources: Intel SDM Vol. 3C 29.3 (EPT: 29.3.2 translation and entry formats, 29.3.3.1 misconfigurations,
 * 29.3.3.2 violations, 29.3.5 accessed and dirty flags, 29.3.7 memory type), 28.2.1 Table 28-7 (exit
 * qualification); AMD APM Vol. 2 15.25 (nested paging). A/D emulation follows bhyve (seed 000); the
 * per-format description follows NetBSD's EPT pmap callbacks (seed 002), reduced to bit masks so the
 * walker stays one monomorphic loop.
 *
 * Deviations from hardware, on purpose:
 * - Table pages live in a private pool (`Uint32Array`), not in guest-visible host memory; a non-leaf
 *   entry's address field holds the pool page number. A table pointer outside the pool, or a leaf
 *   pointing at HPA no segment backs, is reported as a misconfiguration (hardware would read junk).
 * - A/D flags are set only when the access is allowed (the walk completes), like Bochs.
 * - Entries are updated with plain stores, not atomics (vCPUs run in one thread for now).
 */
import {
  ACCESS_FETCH,
  ACCESS_READ,
  ACCESS_WRITE,
  EPTQ_FINAL_TRANSLATION,
  EPTQ_LINEAR_VALID,
  EPT_ACCESSED,
  EPT_DIRTY,
  EPT_HI_EMUL_READ,
  EPT_HI_EMUL_WRITE,
  EPT_IGNORE_PAT,
  EPT_LARGE,
  EPT_MEMTYPE_SHIFT,
  MEMTYPE_UC,
  MEMTYPE_UC_MINUS,
  MEMTYPE_WB,
  MEMTYPE_WT,
  NPF_HI_FINAL,
  NPF_HI_TABLE,
  NPF_ID,
  NPF_P,
  NPF_RSVD,
  NPF_RW,
  NPF_US,
  PTE_A,
  PTE_D,
  PTE_HI_NX,
  PTE_P,
  PTE_PAT_4K,
  PTE_PAT_LARGE,
  PTE_PCD,
  PTE_PS,
  PTE_PWT,
  PTE_RW,
  PTE_US,
  isValidEptMemoryType,
} from '../arch/ept.js';
import { ConflictError, InvalidArgumentError, NotFoundError, hex } from '../util/errors.js';
import type { HostMemory } from './host.js';

// --- Status codes shared by every translation in x86vmm (EPT walk and guest-paging walk) ---------------
export const TRANSLATE_OK = 0;
export const TRANSLATE_EPT_VIOLATION = 1;
export const TRANSLATE_EPT_MISCONFIG = 2;
export const TRANSLATE_PAGE_FAULT = 3;

// --- Extra access flags for Ept.translate (bits 2:0 are ACCESS_READ/WRITE/FETCH) ----------------------
/** The access reads or writes a guest paging-structure entry for a linear address (qual bit 7 = 1, bit 8 = 0). */
export const EPT_ACCESS_TABLE = 8;
/** The access is to the final translation of a linear address (qual bits 7 and 8 = 1). */
export const EPT_ACCESS_LINEAR = 16;
/** Inspect only: set no A/D flags and allocate no host chunk. */
export const EPT_ACCESS_PROBE = 32;

// --- A/D modes ---------------------------------------------------------------------------------------------
export type AdMode = 'hardware' | 'emulated' | 'off';
const AD_HARDWARE = 0;
const AD_EMULATED = 1;
const AD_OFF = 2;

export type NestedFormat = 'ept' | 'npt';
const FMT_EPT = 0;
const FMT_NPT = 1;

/** Permission bits of a translation, in EPT order: R = 1, W = 2, X = 4. */
export const PERM_R = 1;
export const PERM_W = 2;
export const PERM_X = 4;

/**
 * The per-format description the walker reads: which bits mean what. One object shape for both
 * formats keeps the walker monomorphic (NetBSD's pmap callbacks, reduced to masks).
 */
export interface PageTableFormat {
  readonly kind: number; // FMT_EPT or FMT_NPT
  readonly name: NestedFormat;
  /** An entry is present when any of these low bits is set (EPT: R|W|X, NPT: P). */
  readonly presentLo: number;
  readonly largeLo: number;
  readonly accessedLo: number;
  readonly dirtyLo: number;
  /** Bits of a non-leaf entry pointing at a table. */
  readonly tableLo: number;
  /** Reserved low bits by (level * 2 + (leaf ? 1 : 0)), levels 1..4. */
  readonly reservedLo: readonly number[];
}

const EPT_FORMAT: PageTableFormat = {
  kind: FMT_EPT,
  name: 'ept',
  presentLo: 7,
  largeLo: EPT_LARGE,
  accessedLo: EPT_ACCESSED,
  dirtyLo: EPT_DIRTY,
  tableLo: 7,
  // SDM 29.3.2 Tables 29-1..29-6: PML4E bits 7:3; non-leaf PDPTE/PDE bits 6:3; 1 GiB leaf bits 29:12;
  // 2 MiB leaf bits 20:12; PTE none (bit 7 ignored).
  reservedLo: [0, 0, 0, 0, 0x78, 0x001ff000, 0x78, 0x3ffff000, 0xf8, 0xf8],
};

const NPT_FORMAT: PageTableFormat = {
  kind: FMT_NPT,
  name: 'npt',
  presentLo: PTE_P,
  largeLo: PTE_PS,
  accessedLo: PTE_A,
  dirtyLo: PTE_D,
  tableLo: PTE_P | PTE_RW | PTE_US,
  // AMD APM Vol. 2 5.3.3 / 5.4: PML4E bit 7 MBZ; 1 GiB leaf bits 29:13; 2 MiB leaf bits 20:13.
  reservedLo: [0, 0, 0, 0, 0, 0x001fe000, 0, 0x3fffe000, 0x80, 0x80],
};

/** Host PAT after reset, for NPT leaves' PAT/PCD/PWT index (SDM Vol. 3A Table 12-12). */
const HOST_PAT_TYPES = [MEMTYPE_WB, MEMTYPE_WT, MEMTYPE_UC_MINUS, MEMTYPE_UC, MEMTYPE_WB, MEMTYPE_WT, MEMTYPE_UC_MINUS, MEMTYPE_UC];

const LEVEL_SHIFT = [0, 12, 21, 30, 39];
/** Low-half page-number bits a leaf at each level takes from the GPA. */
const PAGE_INDEX_MASK = [0, 0, 0x1ff, 0x3ffff];
/** (lo >>> 12) bits that are the frame of a leaf at each level (the rest are attribute/reserved bits). */
const LEAF_FRAME_MASK = [0, 0xfffff, 0xffe00, 0xc0000];
/** Host-physical width (MAXPHYADDR of the host): bits 51:46 of any entry are reserved. */
const HOST_PHYS_BITS = 46;
const RESERVED_HI = ((1 << (52 - 32)) - 1) & ~((1 << (HOST_PHYS_BITS - 32)) - 1);
const TABLE_WORDS = 1024;
const TWO32 = 4294967296;

/** Reused out-record of `Ept.translate`: allocate one per vCPU and pass it every time. */
export class EptTranslation {
  /** TRANSLATE_OK, TRANSLATE_EPT_VIOLATION or TRANSLATE_EPT_MISCONFIG. */
  status = 0;
  /** The guest-physical address translated. */
  gpa = 0;
  /** Host-physical address (chunk * chunkSize + offset). */
  hpa = 0;
  /** Host chunk id and byte offset in it: the pair a soft TLB stores. */
  chunk = 0;
  offset = 0;
  /** Permissions of the translation, AND over the entries used: PERM_R | PERM_W | PERM_X. */
  perms = 0;
  /** Leaf level on success (1: 4 KiB, 2: 2 MiB, 3: 1 GiB); on failure the level where the walk stopped. */
  level = 0;
  /** log2 of the leaf's page size (12, 21, 30). */
  pageShift = 0;
  /** Memory type of the leaf (EPT bits 5:3, or the NPT PAT/PCD/PWT type) and its ignore-PAT bit. */
  memoryType = 0;
  ignorePat = 0;
  /** EPT-violation exit qualification (SDM Table 28-7); valid when status is a violation. */
  qualification = 0;
  /** AMD #NPF error code (EXITINFO1) halves, for the NPT format. */
  npfCodeLo = 0;
  npfCodeHi = 0;
  /** 1 when the violation is an emulated-A/D fault that `resolveEmulatedAD` will resolve. */
  emulatedAD = 0;
  /** 1 when this translation set the leaf's dirty state (a later write needs no new walk). */
  dirty = 0;
  /** The entries visited, top level first (entryCount of them), as lo/hi halves. */
  entryCount = 0;
  readonly entryLo = new Uint32Array(4);
  readonly entryHi = new Uint32Array(4);
}

export interface EptOptions {
  /** 'ept' (Intel) or 'npt' (AMD, ordinary PTEs). Default 'ept'. */
  format?: NestedFormat;
  /** A/D tracking: 'hardware' (EPTP bit 6), 'emulated' (bhyve, EPT only) or 'off'. Default 'hardware'. */
  adMode?: AdMode;
  /** Allow 1 GiB leaves (IA32_VMX_EPT_VPID_CAP bit 17). Default true. */
  allow1GiB?: boolean;
  /** Allow 2 MiB leaves (IA32_VMX_EPT_VPID_CAP bit 16). Default true. */
  allow2MiB?: boolean;
}

/** Result of the diagnostic `Ept.walk`. */
export interface EptWalk {
  status: number;
  level: number;
  pageSize: number;
  hpa: number;
  chunk: number;
  offset: number;
  perms: number;
  memoryType: number;
  ignorePat: boolean;
  qualification: number;
  /** Entries visited, top level first, as 64-bit values. */
  entries: bigint[];
}

/** Map attributes: permissions PERM_R/W/X, memory type (EPT encoding) and ignore-PAT. */
export interface LeafAttributes {
  perms: number;
  memoryType: number;
  ignorePat: boolean;
}

export class Ept {
  readonly format: PageTableFormat;
  readonly adMode: AdMode;
  readonly allow1GiB: boolean;
  readonly allow2MiB: boolean;
  /** Bumped by every change that can invalidate a cached translation; vCPUs compare it on entry. */
  generation = 0;
  /** Emulated-A/D faults resolved so far. */
  adFaults = 0;
  /** Table pages in use (including the root). */
  tablePages = 1;

  private readonly fmt: number;
  private readonly ad: number;
  private tables: Uint32Array;
  private use: Int32Array;
  private capacity: number;
  private readonly freeTables: number[] = [];
  private nextTable = 1;
  /** Word index of the entry used at each level of the last walk (index 4 - level). */
  private readonly walkPos = new Int32Array(4);
  private readonly reservedLo: Int32Array;

  constructor(readonly host: HostMemory, options: EptOptions = {}) {
    const format = options.format ?? 'ept';
    if (format !== 'ept' && format !== 'npt') throw new InvalidArgumentError(`format "${String(format)}" must be 'ept' or 'npt'`);
    const adMode = options.adMode ?? 'hardware';
    if (adMode !== 'hardware' && adMode !== 'emulated' && adMode !== 'off') {
      throw new InvalidArgumentError(`adMode "${String(adMode)}" must be 'hardware', 'emulated' or 'off'`);
    }
    if (format === 'npt' && adMode === 'emulated') {
      throw new InvalidArgumentError("adMode 'emulated' is bhyve's EPT scheme (bits 52/53); NPT supports 'hardware' or 'off'");
    }
    this.format = format === 'ept' ? EPT_FORMAT : NPT_FORMAT;
    this.fmt = this.format.kind;
    this.adMode = adMode;
    this.ad = adMode === 'hardware' ? AD_HARDWARE : adMode === 'emulated' ? AD_EMULATED : AD_OFF;
    this.allow2MiB = options.allow2MiB ?? true;
    this.allow1GiB = (options.allow1GiB ?? true) && this.allow2MiB;
    const r = new Int32Array(this.format.reservedLo);
    // A 1 GiB leaf where 1 GiB pages are not supported: bit 7 of a PDPTE is reserved (SDM 29.3.3.1).
    if (!this.allow1GiB) r[7] = r[7]! | this.format.largeLo;
    if (!this.allow2MiB) r[5] = r[5]! | this.format.largeLo;
    this.reservedLo = r;
    this.capacity = 64;
    this.tables = new Uint32Array(this.capacity * TABLE_WORDS);
    this.use = new Int32Array(this.capacity);
  }

  // ==================================================================================================
  // The walker (hot path): no allocation, no closures, one loop.
  // ==================================================================================================

  /**
   * Translates `gpa` for an access (ACCESS_READ/WRITE/FETCH, optionally with EPT_ACCESS_TABLE,
   * EPT_ACCESS_LINEAR, EPT_ACCESS_PROBE). Returns TRANSLATE_OK, TRANSLATE_EPT_VIOLATION or
   * TRANSLATE_EPT_MISCONFIG and fills `out`. On success the host chunk is allocated (unless probing)
   * and, in hardware A/D mode, accessed flags are set on every entry used and dirty on a written leaf.
   */
  translate(gpa: number, access: number, out: EptTranslation): number {
    const lo = gpa >>> 0;
    const hi = (gpa / TWO32) >>> 0;
    const t = this.tables;
    const fmt = this.fmt;
    const table = (access & EPT_ACCESS_TABLE) !== 0;
    // SDM 29.3.5: with EPT A/D enabled, accesses to guest paging structures are treated as writes
    // and such a violation sets both bit 0 and bit 1 of the qualification.
    let kind = access & 7;
    if (table && this.ad === AD_HARDWARE) kind |= ACCESS_READ | ACCESS_WRITE;
    out.gpa = gpa;
    out.entryCount = 0;
    out.emulatedAD = 0;
    out.dirty = 0;
    out.memoryType = 0;
    out.ignorePat = 0;
    let perms = 7;
    let level = 4;
    let base = 0;
    let elo = 0;
    let ehi = 0;
    if (hi >= 0x10000) {
      // Beyond the 48 bits a four-level tree translates: nothing is mapped there.
      return this.fail(out, TRANSLATE_EPT_VIOLATION, access, kind, 0, 4, 0);
    }
    for (;;) {
      const idx =
        level === 4 ? (hi >>> 7) & 511 : level === 3 ? ((hi << 2) | (lo >>> 30)) & 511 : level === 2 ? (lo >>> 21) & 511 : (lo >>> 12) & 511;
      const pos = base + idx * 2;
      elo = t[pos]!;
      ehi = t[pos + 1]!;
      const n = out.entryCount;
      out.entryLo[n] = elo;
      out.entryHi[n] = ehi;
      out.entryCount = n + 1;
      this.walkPos[4 - level] = pos;
      if ((elo & this.format.presentLo) === 0) {
        // Not present. In emulated A/D mode a leaf whose software bits allow the access is the
        // "first access" fault the monitor resolves (bhyve's pmap_emulate_accessed_dirty).
        if (this.ad === AD_EMULATED) {
          const soft = ((ehi & EPT_HI_EMUL_READ) !== 0 ? 1 : 0) | ((ehi & EPT_HI_EMUL_WRITE) !== 0 ? 2 : 0);
          if (soft !== 0 && (kind & ~soft) === 0) out.emulatedAD = 1;
        }
        return this.fail(out, TRANSLATE_EPT_VIOLATION, access, kind, 0, level, 0);
      }
      const leaf = level === 1 || (elo & this.format.largeLo) !== 0;
      // Misconfiguration (SDM 29.3.3.1): W without R, reserved bits, bad leaf memory type.
      if (
        (ehi & RESERVED_HI) !== 0 ||
        (elo & this.reservedLo[level * 2 + (leaf ? 1 : 0)]!) !== 0 ||
        (fmt === FMT_EPT && ((elo & 3) === 2 || (leaf && !isValidEptMemoryType((elo >>> EPT_MEMTYPE_SHIFT) & 7))))
      ) {
        return this.fail(out, TRANSLATE_EPT_MISCONFIG, access, kind, perms, level, 1);
      }
      if (fmt === FMT_EPT) perms &= elo & 7;
      else perms &= (elo & PTE_US) === 0 ? 0 : 1 | (elo & PTE_RW) | ((ehi & PTE_HI_NX) === 0 ? 4 : 0);
      if (leaf) break;
      const tbl = elo >>> 12;
      if (tbl >= this.nextTable || ehi !== 0) return this.fail(out, TRANSLATE_EPT_MISCONFIG, access, kind, perms, level, 1);
      base = tbl * TABLE_WORDS;
      level--;
    }
    if ((kind & ~perms) !== 0) {
      if (this.ad === AD_EMULATED) {
        // Hardware R/W clear but the software bits allow it: an emulated A/D fault.
        const allowed = ((ehi & EPT_HI_EMUL_READ) !== 0 ? 1 : 0) | ((ehi & EPT_HI_EMUL_WRITE) !== 0 ? 2 : 0) | (perms & 4);
        if ((kind & ~allowed) === 0) out.emulatedAD = 1;
      }
      return this.fail(out, TRANSLATE_EPT_VIOLATION, access, kind, perms, level, 1);
    }
    // Host address of the page: leaf frame plus the GPA's page index inside a large leaf.
    const hostPage = (ehi & 0xfffff) * 1048576 + ((elo >>> 12) & LEAF_FRAME_MASK[level]!) + ((lo >>> 12) & PAGE_INDEX_MASK[level]!);
    const host = this.host;
    const chunkPages = host.chunkShift - 12;
    const chunk = Math.floor(hostPage / (1 << chunkPages));
    const bytes = host.chunks[chunk];
    if (bytes === undefined) return this.fail(out, TRANSLATE_EPT_MISCONFIG, access, kind, perms, level, 1);
    const probe = (access & EPT_ACCESS_PROBE) !== 0;
    if (bytes.length === 0 && !probe && !host.tryEnsureChunk(chunk)) {
      return this.fail(out, TRANSLATE_EPT_MISCONFIG, access, kind, perms, level, 1);
    }
    if (this.ad === AD_HARDWARE && !probe) {
      // SDM 29.3.5: set accessed in every entry used; dirty in the leaf on a write.
      const aBit = this.format.accessedLo;
      for (let i = 0; i < out.entryCount; i++) {
        const p = this.walkPos[i]!;
        t[p] = t[p]! | aBit;
      }
      if ((kind & ACCESS_WRITE) !== 0) {
        const p = this.walkPos[out.entryCount - 1]!;
        t[p] = t[p]! | this.format.dirtyLo;
        out.dirty = 1;
      }
    } else if (this.ad === AD_EMULATED) {
      out.dirty = (elo & 2) >>> 1;
    } else {
      out.dirty = 1;
    }
    if (fmt === FMT_EPT) {
      out.memoryType = (elo >>> EPT_MEMTYPE_SHIFT) & 7;
      out.ignorePat = (elo & EPT_IGNORE_PAT) !== 0 ? 1 : 0;
    } else {
      const pat = level === 1 ? (elo & PTE_PAT_4K) >>> 5 : (elo & PTE_PAT_LARGE) >>> 10;
      out.memoryType = HOST_PAT_TYPES[((elo >>> 3) & 3) | pat]!;
    }
    out.status = TRANSLATE_OK;
    out.perms = perms;
    out.level = level;
    out.pageShift = LEVEL_SHIFT[level]!;
    out.chunk = chunk;
    out.offset = ((hostPage & ((1 << chunkPages) - 1)) << 12) | (lo & 0xfff);
    out.hpa = hostPage * 4096 + (lo & 0xfff);
    out.qualification = 0;
    out.npfCodeLo = 0;
    out.npfCodeHi = 0;
    return TRANSLATE_OK;
  }

  private fail(out: EptTranslation, status: number, access: number, kind: number, perms: number, level: number, present: number): number {
    out.status = status;
    out.perms = perms;
    out.level = level;
    out.pageShift = LEVEL_SHIFT[level]!;
    let q = kind | (perms << 3);
    if ((access & EPT_ACCESS_TABLE) !== 0) q |= EPTQ_LINEAR_VALID;
    else if ((access & EPT_ACCESS_LINEAR) !== 0) q |= EPTQ_LINEAR_VALID | EPTQ_FINAL_TRANSLATION;
    out.qualification = status === TRANSLATE_EPT_VIOLATION ? q : 0;
    out.npfCodeLo =
      (present !== 0 ? NPF_P : 0) |
      ((kind & ACCESS_WRITE) !== 0 ? NPF_RW : 0) |
      NPF_US |
      (status === TRANSLATE_EPT_MISCONFIG ? NPF_RSVD : 0) |
      ((kind & ACCESS_FETCH) !== 0 ? NPF_ID : 0);
    out.npfCodeHi = (access & EPT_ACCESS_TABLE) !== 0 ? NPF_HI_TABLE : NPF_HI_FINAL;
    out.chunk = 0;
    out.offset = 0;
    out.hpa = 0;
    return status;
  }

  // ==================================================================================================
  // Monitor-side operations (not per instruction).
  // ==================================================================================================

  /**
   * Resolves an emulated-A/D fault (bhyve): if the leaf mapping `gpa` allows the access in its
   * software bits 52/53, sets hardware R (accessed) and, for a write, W (dirty), counts the fault
   * and returns true; the vCPU then restarts the access. Returns false for a genuine violation.
   */
  resolveEmulatedAD(gpa: number, write: boolean): boolean {
    if (this.ad !== AD_EMULATED) return false;
    const pos = this.leafPosition(gpa);
    if (pos < 0) return false;
    const t = this.tables;
    const ehi = t[pos + 1]!;
    if ((ehi & EPT_HI_EMUL_READ) === 0) return false;
    if (write && (ehi & EPT_HI_EMUL_WRITE) === 0) return false;
    const before = t[pos]!;
    const after = before | (write ? 3 : 1);
    if (after === before) return false;
    t[pos] = after;
    this.adFaults++;
    return true;
  }

  /** Diagnostic walk: like translate (read access unless given) but with no side effects; returns a fresh object. */
  walk(gpa: number, access: number = ACCESS_READ): EptWalk {
    this.checkGpa(gpa, 'walk');
    const out = new EptTranslation();
    const status = this.translate(gpa, (access & 7) | EPT_ACCESS_PROBE, out);
    const entries: bigint[] = [];
    for (let i = 0; i < out.entryCount; i++) entries.push((BigInt(out.entryHi[i]!) << 32n) | BigInt(out.entryLo[i]!));
    return {
      status,
      level: out.level,
      pageSize: 2 ** out.pageShift,
      hpa: out.hpa,
      chunk: status === TRANSLATE_OK ? this.host.chunkOf(out.hpa) : 0,
      offset: status === TRANSLATE_OK ? out.hpa - this.host.chunkOf(out.hpa) * this.host.chunkSize : 0,
      perms: out.perms,
      memoryType: out.memoryType,
      ignorePat: out.ignorePat !== 0,
      qualification: out.qualification,
      entries,
    };
  }

  /**
   * Maps [gpa, gpa+size) to host-physical [hpa, hpa+size). The range must be unmapped. Leaves are the
   * largest the alignment of both addresses allows, up to `maxPageSize` (4 KiB, 2 MiB or 1 GiB).
   */
  map(gpa: number, hpa: number, size: number, attrs: LeafAttributes, maxPageSize: number = 1 << 30): void {
    this.checkRange(gpa, size, 'map');
    if (!Number.isSafeInteger(hpa) || hpa < 0 || hpa % 4096 !== 0 || hpa + size > this.host.chunks.length * this.host.chunkSize) {
      throw new InvalidArgumentError(`map: host-physical address ${hex(hpa)} must be 4 KiB aligned with the range inside host memory`);
    }
    this.checkAttrs(attrs);
    const maxLevel = this.maxLevelFor(maxPageSize);
    const conflict = this.firstMapped(gpa, size);
    if (conflict >= 0) throw new ConflictError(`map: GPA range ${hex(gpa)}+${hex(size)} overlaps an existing mapping at ${hex(conflict)}`);
    let off = 0;
    while (off < size) {
      const g = gpa + off;
      const h = hpa + off;
      let level = maxLevel;
      while (level > 1) {
        const ps = 2 ** LEVEL_SHIFT[level]!;
        if (g % ps === 0 && h % ps === 0 && size - off >= ps) break;
        level--;
      }
      const pos = this.entryFor(g, level, true);
      const t = this.tables;
      if (t[pos] !== 0 || t[pos + 1] !== 0) {
        // An empty table left at this slot: free it so the large leaf can take its place.
        this.freeSubtree(t[pos]! >>> 12, level - 1);
        this.setEntry(pos, 0, 0);
      }
      const [lo, hi] = this.encodeLeaf(h / 4096, level, attrs);
      this.setEntry(pos, lo, hi);
      off += 2 ** LEVEL_SHIFT[level]!;
    }
  }

  /** Unmaps [gpa, gpa+size); every page must be mapped. Splits large leaves at the edges; bumps the generation. */
  unmap(gpa: number, size: number): void {
    this.checkRange(gpa, size, 'unmap');
    this.requireMapped(gpa, size, 'unmap');
    this.forEachLeaf(gpa, size, true, (pos) => this.setEntry(pos, 0, 0));
    this.reclaim(gpa, size);
    this.generation++;
  }

  /** Changes the permissions (PERM_R/W/X) of [gpa, gpa+size); keeps memory type and A/D state; bumps the generation. */
  protect(gpa: number, size: number, perms: number): void {
    this.checkRange(gpa, size, 'protect');
    this.checkPerms(perms);
    this.requireMapped(gpa, size, 'protect');
    this.forEachLeaf(gpa, size, true, (pos) => {
      const t = this.tables; // re-read: splitting may have grown the pool
      const [lo, hi] = this.withPerms(t[pos]!, t[pos + 1]!, perms);
      t[pos] = lo;
      t[pos + 1] = hi;
    });
    this.generation++;
  }

  /**
   * Dirty-page log (KVM_GET_DIRTY_LOG): sets bit i of `bitmap` (LSB first in each byte) when page
   * gpa + i*4 KiB was written since the last harvest, and clears the dirty state (hardware mode: bit 9;
   * emulated mode: hardware W). A large leaf reports all its pages; it is cleared only when the
   * range covers it entirely. Unmapped pages read as clean. Bumps the generation if anything was cleared.
   */
  harvestDirty(gpa: number, size: number, bitmap: Uint8Array, clear = true): void {
    this.checkRange(gpa, size, 'harvestDirty');
    if (this.ad === AD_OFF) throw new InvalidArgumentError("harvestDirty: dirty logging needs adMode 'hardware' or 'emulated' (this EPT has 'off')");
    if (bitmap.length * 8 < size / 4096) throw new InvalidArgumentError(`harvestDirty: bitmap of ${bitmap.length} bytes is too small for ${size / 4096} pages`);
    const t = this.tables;
    const dirtyLo = this.ad === AD_HARDWARE ? this.format.dirtyLo : 2;
    let cleared = false;
    this.forEachLeaf(gpa, size, false, (pos, leafGpa, level) => {
      if ((t[pos]! & dirtyLo) === 0) return;
      const ps = 2 ** LEVEL_SHIFT[level]!;
      const from = Math.max(leafGpa, gpa);
      const to = Math.min(leafGpa + ps, gpa + size);
      for (let p = (from - gpa) / 4096, e = (to - gpa) / 4096; p < e; p++) bitmap[p >>> 3] = bitmap[p >>> 3]! | (1 << (p & 7));
      if (clear && from === leafGpa && to === leafGpa + ps) {
        t[pos] = t[pos]! & ~dirtyLo;
        cleared = true;
      }
    });
    if (cleared) this.generation++;
  }

  /** Clears accessed flags (hardware mode bit 8, emulated mode hardware R) in [gpa, gpa+size); bumps the generation. */
  clearAccessed(gpa: number, size: number): void {
    this.checkRange(gpa, size, 'clearAccessed');
    const t = this.tables;
    if (this.ad === AD_HARDWARE) {
      const a = this.format.accessedLo;
      this.forEachLeaf(gpa, size, false, (pos) => {
        t[pos] = t[pos]! & ~a;
      });
    } else if (this.ad === AD_EMULATED) {
      // Clearing A in bhyve's scheme clears hardware R and W (the page must fault again before use).
      this.forEachLeaf(gpa, size, false, (pos) => {
        t[pos] = t[pos]! & ~3;
      });
    }
    this.generation++;
  }

  /** True when every page of [gpa, gpa+size) is mapped. */
  isMapped(gpa: number, size: number): boolean {
    this.checkRange(gpa, size, 'isMapped');
    return this.firstUnmapped(gpa, size) < 0;
  }

  /** Reads the raw entry at `level` (1..4) on the path of `gpa` as a bigint; throws NotFoundError if the path stops above it. */
  readEntry(gpa: number, level: number): bigint {
    const pos = this.pathEntry(gpa, level);
    return (BigInt(this.tables[pos + 1]!) << 32n) | BigInt(this.tables[pos]!);
  }

  /** Writes a raw entry (for tests and debugging: build misconfigurations, inspect bits). Bumps the generation. */
  pokeEntry(gpa: number, level: number, value: bigint): void {
    const pos = this.pathEntry(gpa, level);
    const v = BigInt.asUintN(64, value);
    this.setEntry(pos, Number(v & 0xffff_ffffn), Number(v >> 32n));
    this.generation++;
  }

  // --- helpers ------------------------------------------------------------------------------------------

  private checkGpa(gpa: number, op: string): void {
    if (!Number.isSafeInteger(gpa) || gpa < 0 || gpa >= 2 ** 48) throw new InvalidArgumentError(`${op}: GPA ${hex(gpa)} must be an integer in [0, 2^48)`);
  }

  private checkRange(gpa: number, size: number, op: string): void {
    if (!Number.isSafeInteger(gpa) || gpa < 0 || gpa % 4096 !== 0) throw new InvalidArgumentError(`${op}: GPA ${hex(gpa)} must be a 4 KiB aligned non-negative integer`);
    if (!Number.isSafeInteger(size) || size <= 0 || size % 4096 !== 0) throw new InvalidArgumentError(`${op}: size ${hex(size)} must be a positive multiple of 0x1000`);
    if (gpa + size > 2 ** 48) throw new InvalidArgumentError(`${op}: range ${hex(gpa)}+${hex(size)} ends beyond the 48-bit space a four-level tree maps`);
  }

  private checkPerms(perms: number): void {
    if (!Number.isInteger(perms) || perms < 1 || perms > 7) throw new InvalidArgumentError(`permissions ${hex(perms)} must be a non-empty combination of R=1, W=2, X=4`);
    if ((perms & 3) === PERM_W) throw new InvalidArgumentError(`permissions ${hex(perms)}: write requires read (W without R is an EPT misconfiguration)`);
  }

  private checkAttrs(attrs: LeafAttributes): void {
    this.checkPerms(attrs.perms);
    const mt = attrs.memoryType;
    if (this.fmt === FMT_EPT) {
      if (!isValidEptMemoryType(mt)) throw new InvalidArgumentError(`memory type ${mt} is not an EPT memory type (0 UC, 1 WC, 4 WT, 5 WP, 6 WB)`);
    } else if (mt !== MEMTYPE_WB && mt !== MEMTYPE_WT && mt !== MEMTYPE_UC) {
      throw new InvalidArgumentError(`memory type ${mt}: NPT encodes only WB (6), WT (4) and UC (0) through PCD/PWT with the reset PAT`);
    }
  }

  private maxLevelFor(pageSize: number): number {
    if (pageSize === 1 << 30) return this.allow1GiB ? 3 : this.allow2MiB ? 2 : 1;
    if (pageSize === 2 << 20) return this.allow2MiB ? 2 : 1;
    if (pageSize === 4096) return 1;
    throw new InvalidArgumentError(`page size ${hex(pageSize)} must be 0x1000, 0x200000 or 0x40000000`);
  }

  /** Rejects an explicit leaf size the format or configuration forbids. */
  checkPageSize(pageSize: number): void {
    if (pageSize === 1 << 30 && !this.allow1GiB) throw new InvalidArgumentError(`page size ${hex(pageSize)}: this ${this.format.name.toUpperCase()} does not allow 1 GiB leaves`);
    if (pageSize === 2 << 20 && !this.allow2MiB) throw new InvalidArgumentError(`page size ${hex(pageSize)}: this ${this.format.name.toUpperCase()} does not allow 2 MiB leaves`);
    this.maxLevelFor(pageSize);
  }

  /** Leaf entry halves for host page `hostPage` at `level`. */
  private encodeLeaf(hostPage: number, level: number, attrs: LeafAttributes): [number, number] {
    const frameLo = (hostPage % 1048576) * 4096;
    const hi = Math.floor(hostPage / 1048576);
    let lo = frameLo >>> 0;
    if (this.fmt === FMT_EPT) {
      lo |= (attrs.memoryType << EPT_MEMTYPE_SHIFT) | (attrs.ignorePat ? EPT_IGNORE_PAT : 0) | (level > 1 ? EPT_LARGE : 0);
    } else {
      const mt = attrs.memoryType === MEMTYPE_UC ? PTE_PCD | PTE_PWT : attrs.memoryType === MEMTYPE_WT ? PTE_PWT : 0;
      lo |= PTE_P | PTE_US | mt | (level > 1 ? PTE_PS : 0);
    }
    const [l2, h2] = this.withPerms(lo >>> 0, hi, attrs.perms);
    return [l2, h2];
  }

  /** Rewrites the permission bits of a leaf, keeping address, memory type and A/D state. */
  private withPerms(lo: number, hi: number, perms: number): [number, number] {
    if (this.fmt === FMT_NPT) {
      lo = (lo & ~PTE_RW) | ((perms & PERM_W) !== 0 ? PTE_RW : 0);
      hi = (perms & PERM_X) !== 0 ? hi & ~PTE_HI_NX : hi | PTE_HI_NX;
      return [lo >>> 0, hi >>> 0];
    }
    if (this.ad === AD_EMULATED) {
      // bhyve: bits 52/53 hold the allowed R/W; hardware R/W are accessed/modified and survive only if still allowed.
      hi = (hi & ~(EPT_HI_EMUL_READ | EPT_HI_EMUL_WRITE)) | ((perms & PERM_R) !== 0 ? EPT_HI_EMUL_READ : 0) | ((perms & PERM_W) !== 0 ? EPT_HI_EMUL_WRITE : 0);
      let hw = lo & 3 & perms;
      if ((hw & 1) === 0) hw = 0;
      lo = (lo & ~7) | hw | (perms & PERM_X);
      return [lo >>> 0, hi >>> 0];
    }
    return [((lo & ~7) | perms) >>> 0, hi >>> 0];
  }

  private allocTable(): number {
    let tbl = this.freeTables.pop();
    if (tbl === undefined) {
      tbl = this.nextTable++;
      if (tbl >= this.capacity) {
        const cap = this.capacity * 2;
        const nt = new Uint32Array(cap * TABLE_WORDS);
        nt.set(this.tables);
        const nu = new Int32Array(cap);
        nu.set(this.use);
        this.tables = nt;
        this.use = nu;
        this.capacity = cap;
      }
    }
    this.tablePages++;
    return tbl;
  }

  private freeTable(tbl: number): void {
    this.tables.fill(0, tbl * TABLE_WORDS, (tbl + 1) * TABLE_WORDS);
    this.use[tbl] = 0;
    this.freeTables.push(tbl);
    this.tablePages--;
  }

  private freeSubtree(tbl: number, level: number): void {
    const t = this.tables;
    if (level > 1) {
      for (let i = 0; i < 512; i++) {
        const p = tbl * TABLE_WORDS + i * 2;
        if (t[p] !== 0 && (t[p]! & this.format.largeLo) === 0) this.freeSubtree(t[p]! >>> 12, level - 1);
      }
    }
    this.freeTable(tbl);
  }

  /** Writes an entry, keeping the per-table count of non-zero entries. */
  private setEntry(pos: number, lo: number, hi: number): void {
    const t = this.tables;
    const was = t[pos] !== 0 || t[pos + 1] !== 0;
    const now = lo !== 0 || hi !== 0;
    t[pos] = lo;
    t[pos + 1] = hi;
    if (was !== now) this.use[Math.floor(pos / TABLE_WORDS)]! += now ? 1 : -1;
  }

  private index(gpa: number, level: number): number {
    return Math.floor(gpa / 2 ** LEVEL_SHIFT[level]!) % 512;
  }

  /** True when the entry maps something (hardware-present, or holding emulated-A/D software bits). */
  private isMappedEntry(lo: number, hi: number): boolean {
    return (lo & this.format.presentLo) !== 0 || (this.ad === AD_EMULATED && (hi & (EPT_HI_EMUL_READ | EPT_HI_EMUL_WRITE)) !== 0);
  }

  private isLeaf(lo: number, level: number): boolean {
    return level === 1 || (lo & this.format.largeLo) !== 0;
  }

  /** Word position of the entry at `level` for gpa, creating tables on the way when `create`. -1 if absent. */
  private entryFor(gpa: number, level: number, create: boolean): number {
    let base = 0;
    for (let l = 4; ; l--) {
      const pos = base + this.index(gpa, l) * 2;
      if (l === level) return pos;
      const t = this.tables;
      if (t[pos] === 0 && t[pos + 1] === 0) {
        if (!create) return -1;
        const tbl = this.allocTable();
        this.setEntry(pos, ((tbl << 12) | this.format.tableLo) >>> 0, 0);
      } else if (this.isLeaf(t[pos]!, l)) {
        if (!create) return -1;
        this.split(pos, l);
      }
      base = (this.tables[pos]! >>> 12) * TABLE_WORDS;
    }
  }

  /** Position of the leaf mapping gpa, or -1. */
  private leafPosition(gpa: number): number {
    let base = 0;
    const t = this.tables;
    for (let l = 4; l >= 1; l--) {
      const pos = base + this.index(gpa, l) * 2;
      const lo = t[pos]!;
      const hi = t[pos + 1]!;
      if (lo === 0 && hi === 0) return -1;
      if (this.isLeaf(lo, l)) return this.isMappedEntry(lo, hi) ? pos : -1;
      base = (lo >>> 12) * TABLE_WORDS;
    }
    return -1;
  }

  private pathEntry(gpa: number, level: number): number {
    this.checkGpa(gpa, 'entry');
    if (!Number.isInteger(level) || level < 1 || level > 4) throw new InvalidArgumentError(`level ${level} must be 1..4`);
    let base = 0;
    const t = this.tables;
    for (let l = 4; ; l--) {
      const pos = base + this.index(gpa, l) * 2;
      if (l === level) return pos;
      const lo = t[pos]!;
      if (lo === 0 || this.isLeaf(lo, l) || (lo >>> 12) >= this.nextTable) {
        throw new NotFoundError(`GPA ${hex(gpa)}: the walk stops at level ${l}, above level ${level}`);
      }
      base = (lo >>> 12) * TABLE_WORDS;
    }
  }

  /** Replaces the large leaf at pos (level) by a table of 512 leaves one level down with the same attributes. */
  private split(pos: number, level: number): void {
    const tbl = this.allocTable(); // first: it may grow (replace) the pool
    const t = this.tables;
    const lo = t[pos]!;
    const hi = t[pos + 1]!;
    const hostPage = (hi & 0xfffff) * 1048576 + ((lo >>> 12) & LEAF_FRAME_MASK[level]!);
    const childLevel = level - 1;
    // Attributes: low 12 bits without the large bit (NPT: a large leaf's PAT bit 12 moves to bit 7 in a PTE).
    let attrLo = lo & 0xfff & ~this.format.largeLo;
    if (this.fmt === FMT_NPT && (lo & PTE_PAT_LARGE) !== 0) attrLo |= childLevel === 1 ? PTE_PAT_4K : PTE_PAT_LARGE;
    if (childLevel > 1) attrLo |= this.format.largeLo;
    const attrHi = hi & ~0xfffff;
    const step = 2 ** (LEVEL_SHIFT[childLevel]! - 12);
    const tb = tbl * TABLE_WORDS;
    for (let i = 0; i < 512; i++) {
      const hp = hostPage + i * step;
      t[tb + i * 2] = (((hp % 1048576) * 4096) | attrLo) >>> 0;
      t[tb + i * 2 + 1] = (Math.floor(hp / 1048576) | attrHi) >>> 0;
    }
    this.use[tbl] = 512;
    t[pos] = ((tbl << 12) | this.format.tableLo) >>> 0;
    t[pos + 1] = 0;
  }

  /**
   * Calls fn(pos, leafGpa, level) for every mapped leaf intersecting [gpa, gpa+size). With `split`,
   * large leaves that stick out of the range are split first so fn sees leaves entirely inside.
   */
  private forEachLeaf(gpa: number, size: number, split: boolean, fn: (pos: number, leafGpa: number, level: number) => void): void {
    const end = gpa + size;
    let g = gpa;
    while (g < end) {
      let base = 0;
      let level = 4;
      for (;;) {
        const ps = 2 ** LEVEL_SHIFT[level]!;
        const pos = base + this.index(g, level) * 2;
        const t = this.tables;
        const lo = t[pos]!;
        const hi = t[pos + 1]!;
        const start = Math.floor(g / ps) * ps;
        if (lo === 0 && hi === 0) {
          g = start + ps;
          break;
        }
        if (this.isLeaf(lo, level)) {
          if (split && level > 1 && (start < gpa || start + ps > end)) {
            this.split(pos, level);
            continue; // re-read the same slot, now a table
          }
          if (this.isMappedEntry(lo, hi)) fn(pos, start, level);
          g = start + ps;
          break;
        }
        base = (lo >>> 12) * TABLE_WORDS;
        level--;
      }
    }
  }

  /** First mapped page address in range, or -1. */
  private firstMapped(gpa: number, size: number): number {
    let found = -1;
    const end = gpa + size;
    let g = gpa;
    while (g < end && found < 0) {
      let base = 0;
      for (let level = 4; ; level--) {
        const ps = 2 ** LEVEL_SHIFT[level]!;
        const pos = base + this.index(g, level) * 2;
        const lo = this.tables[pos]!;
        const hi = this.tables[pos + 1]!;
        const start = Math.floor(g / ps) * ps;
        if (lo === 0 && hi === 0) {
          g = start + ps;
          break;
        }
        if (this.isLeaf(lo, level)) {
          if (this.isMappedEntry(lo, hi)) found = Math.max(g, start);
          g = start + ps;
          break;
        }
        base = (lo >>> 12) * TABLE_WORDS;
      }
    }
    return found;
  }

  /** First unmapped page address in range, or -1. */
  private firstUnmapped(gpa: number, size: number): number {
    const end = gpa + size;
    let g = gpa;
    while (g < end) {
      let base = 0;
      for (let level = 4; ; level--) {
        const ps = 2 ** LEVEL_SHIFT[level]!;
        const pos = base + this.index(g, level) * 2;
        const lo = this.tables[pos]!;
        const hi = this.tables[pos + 1]!;
        const start = Math.floor(g / ps) * ps;
        if (lo === 0 && hi === 0) return g;
        if (this.isLeaf(lo, level)) {
          if (!this.isMappedEntry(lo, hi)) return g;
          g = start + ps;
          break;
        }
        base = (lo >>> 12) * TABLE_WORDS;
      }
    }
    return -1;
  }

  private requireMapped(gpa: number, size: number, op: string): void {
    const u = this.firstUnmapped(gpa, size);
    if (u >= 0) throw new NotFoundError(`${op}: GPA ${hex(u)} in range ${hex(gpa)}+${hex(size)} is not mapped`);
  }

  /** Frees tables left empty under [gpa, gpa+size) and clears their parent entries. */
  private reclaim(gpa: number, size: number): void {
    const end = gpa + size;
    // Visit each 2 MiB block's path bottom-up; a table whose use count fell to 0 is freed.
    for (let g = Math.floor(gpa / (2 << 20)) * (2 << 20); g < end; g += 2 << 20) {
      const path: number[] = [];
      let base = 0;
      for (let level = 4; level > 1; level--) {
        const pos = base + this.index(g, level) * 2;
        const lo = this.tables[pos]!;
        if (lo === 0 || this.isLeaf(lo, level)) break;
        path.push(pos);
        base = (lo >>> 12) * TABLE_WORDS;
      }
      for (let i = path.length - 1; i >= 0; i--) {
        const pos = path[i]!;
        const child = this.tables[pos]! >>> 12;
        if (this.use[child] !== 0) break;
        this.freeTable(child);
        this.setEntry(pos, 0, 0);
      }
    }
  }
}
