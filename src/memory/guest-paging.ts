/**
 * Guest paging: guest-linear to guest-physical translation in every paging mode, with every guest
 * paging-structure access made as a guest-physical access through the EPT/NPT walker.
 *
 * Sources: Intel SDM Vol. 3A ch. 4: 4.1 (modes), 4.3 (32-bit paging, PSE, PSE-36), 4.4 (PAE, PDPTE
 * registers 4.4.1), 4.5 (4-level and 5-level), 4.6 (access rights: U/S, R/W, WP, NX, SMEP, SMAP, AC,
 * protection keys 4.6.2), 4.7 (#PF error code), 4.8 (accessed and dirty flags), 4.9.2 (PAT);
 * Vol. 3C 29.3.3.2 (EPT violations on guest paging-structure accesses).
 *
 * Deviations, on purpose:
 * - A/D flags are written only when the access is allowed (as Bochs does); the A/D write to a guest
 *   entry is an EPT write access and may itself be an EPT violation (reported as a paging-structure access).
 * - With paging disabled the PAT type is taken as WB (the EPT type alone decides).
 */
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, MEMTYPE_WB, combineMemoryType } from '../arch/ept.js';
import {
  CR0_WP,
  CR4_PAE,
  CR4_PCIDE,
  CR4_PGE,
  CR4_PKE,
  CR4_PSE,
  CR4_SMAP,
  CR4_SMEP,
  EFER_NXE,
  PAGING_32,
  PAGING_4LEVEL,
  PAGING_5LEVEL,
  PAGING_NONE,
  PAGING_PAE,
  PAT_RESET_HI,
  PAT_RESET_LO,
  PFEC_I,
  PFEC_P,
  PFEC_PK,
  PFEC_RSVD,
  PFEC_U,
  PFEC_W,
  PG_A,
  PG_D,
  PG_G,
  PG_HI_XD,
  PG_P,
  PG_PAT_4K,
  PG_PAT_LARGE,
  PG_PCD,
  PG_PS,
  PG_PWT,
  PG_RW,
  PG_US,
  pagingMode,
} from '../arch/paging.js';
import { InvalidArgumentError } from '../util/errors.js';
import {
  EPT_ACCESS_LINEAR,
  EPT_ACCESS_PROBE,
  EPT_ACCESS_TABLE,
  EptTranslation,
  TRANSLATE_EPT_VIOLATION,
  TRANSLATE_OK,
  TRANSLATE_PAGE_FAULT,
  type Ept,
} from './ept.js';

/** loadPdptes status: a PDPTE has a reserved bit set; MOV to CR raises #GP(0) (SDM 4.4.1). */
export const TRANSLATE_PDPTE_RESERVED = 4;

// --- Access flags for GuestPaging.translate (bits 2:0 are ACCESS_READ/WRITE/FETCH) ---------------------
/** CPL = 3. */
export const PAGING_USER = 8;
/** An implicit supervisor-mode access (GDT/IDT/TSS reads and the like), supervisor even at CPL 3. */
export const PAGING_IMPLICIT_SUPERVISOR = 16;
/** RFLAGS.AC = 1 (lets explicit supervisor data accesses reach user pages under SMAP). */
export const PAGING_AC = 32;
/** Inspect only: set no A/D flags in guest or EPT entries. */
export const PAGING_PROBE = 64;

// --- Combined permissions of a translation (GuestTranslation.flags), for the vCPU's soft TLB ---------------
/** R/W = 1 in every paging-structure entry. */
export const PTE_FLAG_WRITABLE = 1;
/** U/S = 1 in every paging-structure entry (a user-mode address). */
export const PTE_FLAG_USER = 2;
/** Instruction fetch allowed by XD (no entry has XD = 1 with EFER.NXE = 1). */
export const PTE_FLAG_EXEC = 4;
/** Global page (G = 1 in the leaf and CR4.PGE = 1). */
export const PTE_FLAG_GLOBAL = 8;
/** The leaf's dirty flag is set (a TLB entry filled by a read must re-walk on its first write). */
export const PTE_FLAG_DIRTY = 16;
/** Protection key in bits 11:8 (4-level/5-level with CR4.PKE; user pages). */
export const PTE_FLAG_PK_SHIFT = 8;

const TWO32 = 4294967296;

/** The processor state that selects and parameterizes guest paging. The vCPU owns one and updates it. */
export class PagingContext {
  cr0 = 0;
  cr3Lo = 0;
  cr3Hi = 0;
  cr4 = 0;
  efer = 0;
  pkru = 0;
  patLo = PAT_RESET_LO;
  patHi = PAT_RESET_HI;
  /** PAE PDPTE registers (4 entries as lo/hi), loaded by loadPdptes (SDM 4.4.1). */
  readonly pdpte = new Uint32Array(8);
}

/** Reused out-record of GuestPaging.translate. */
export class GuestTranslation {
  /** TRANSLATE_OK, TRANSLATE_PAGE_FAULT, TRANSLATE_EPT_VIOLATION or TRANSLATE_EPT_MISCONFIG. */
  status = 0;
  /** The guest-physical address (on success). */
  gpa = 0;
  /** The linear address translated (the #PF CR2 value on a page fault). */
  linearLo = 0;
  linearHi = 0;
  /** #PF error code (SDM 4.7) when status is TRANSLATE_PAGE_FAULT. */
  errorCode = 0;
  /** PTE_FLAG_* bits: combined permissions and the leaf's global/dirty state and protection key. */
  flags = 0;
  /** log2 of the guest page size: 12, 21, 22 (4 MiB) or 30. */
  pageShift = 0;
  /** PCID of the translation (CR3[11:0] with CR4.PCIDE in 4/5-level paging, else 0). */
  pcid = 0;
  /** PAT index (PAT<<2 | PCD<<1 | PWT) of the leaf and the effective memory type (SDM 29.3.7.2). */
  patIndex = 0;
  memoryType = 0;
  /** Host chunk id and offset of the byte at the linear address (copied from `ept` on success). */
  chunk = 0;
  offset = 0;
  /** The EPT record of the final access, or of the failing paging-structure access. */
  readonly ept = new EptTranslation();
}

/**
 * Decides whether `access` is allowed on a page with combined `flags` (SDM 4.6), returning 0 or the
 * #PF error code. The vCPU calls this on a soft-TLB hit; the walker calls it on a miss.
 */
export function pagingAccessFault(flags: number, access: number, cr0: number, cr4: number, efer: number, pkru: number): number {
  const write = (access & ACCESS_WRITE) !== 0;
  const fetch = (access & ACCESS_FETCH) !== 0;
  const userAccess = (access & PAGING_USER) !== 0 && (access & PAGING_IMPLICIT_SUPERVISOR) === 0;
  const ec =
    PFEC_P |
    (write ? PFEC_W : 0) |
    (userAccess ? PFEC_U : 0) |
    (fetch && ((cr4 & CR4_SMEP) !== 0 || ((cr4 & CR4_PAE) !== 0 && (efer & EFER_NXE) !== 0)) ? PFEC_I : 0);
  const userPage = (flags & PTE_FLAG_USER) !== 0;
  if (userAccess) {
    if (!userPage) return ec;
    if (write && (flags & PTE_FLAG_WRITABLE) === 0) return ec;
    if (fetch && (flags & PTE_FLAG_EXEC) === 0) return ec;
  } else if (fetch) {
    if (userPage && (cr4 & CR4_SMEP) !== 0) return ec;
    if ((flags & PTE_FLAG_EXEC) === 0) return ec;
  } else {
    if (userPage && (cr4 & CR4_SMAP) !== 0 && ((access & PAGING_IMPLICIT_SUPERVISOR) !== 0 || (access & PAGING_AC) === 0)) return ec;
    if (write && (flags & PTE_FLAG_WRITABLE) === 0 && (cr0 & CR0_WP) !== 0) return ec;
  }
  // Protection keys (SDM 4.6.2): data accesses to user-mode addresses with CR4.PKE in 4/5-level paging.
  if (!fetch && userPage && (cr4 & CR4_PKE) !== 0) {
    const key = (flags >>> PTE_FLAG_PK_SHIFT) & 15;
    const ad = (pkru >>> (key * 2)) & 1;
    const wd = (pkru >>> (key * 2 + 1)) & 1;
    if (ad !== 0 || (wd !== 0 && write && (userAccess || (cr0 & CR0_WP) !== 0))) return ec | PFEC_PK;
  }
  return 0;
}

export interface GuestPagingOptions {
  /** Guest MAXPHYADDR (CPUID 80000008H:EAX[7:0]): bits M..51 of entries are reserved. Default 46. */
  physAddrBits?: number;
  /** 1 GiB pages (CPUID 80000001H:EDX[26]). Default true. */
  allow1GiB?: boolean;
}

/** The guest-paging walker; one per machine (it keeps per-walk scratch state), shared by its vCPUs in one thread. */
export class GuestPaging {
  readonly physAddrBits: number;
  readonly allow1GiB: boolean;
  /** Reserved high-half bits (51:M) of 64-bit entries in 4/5-level paging. */
  private readonly rsvdHi: number;
  /** Reserved high-half bits (62:M) in PAE paging. */
  private readonly rsvdHiPae: number;
  private readonly addrHi: number;
  private readonly tableEpt = new EptTranslation();
  private readonly posChunk = new Int32Array(5);
  private readonly posOffset = new Int32Array(5);
  private readonly posGpa = new Float64Array(5);
  private posCount = 0;

  constructor(readonly ept: Ept, options: GuestPagingOptions = {}) {
    const m = options.physAddrBits ?? 46;
    if (!Number.isInteger(m) || m < 36 || m > 52) throw new InvalidArgumentError(`physAddrBits ${m} must be an integer from 36 to 52`);
    this.physAddrBits = m;
    this.allow1GiB = options.allow1GiB ?? true;
    this.addrHi = (1 << (m - 32)) - 1;
    this.rsvdHi = ((1 << 20) - 1) & ~this.addrHi;
    this.rsvdHiPae = 0x7fffffff & ~this.addrHi;
  }

  /**
   * Loads the four PAE PDPTE registers from CR3 (SDM 4.4.1): call on MOV to CR3/CR0/CR4 that enters or
   * stays in PAE paging. Returns TRANSLATE_OK, TRANSLATE_PDPTE_RESERVED (#GP) or an EPT status (the EPT
   * record in `out.ept` has linear-valid clear, as for a VM exit during MOV to CR).
   */
  loadPdptes(ctx: PagingContext, out: GuestTranslation): number {
    const base = (ctx.cr3Lo & 0xffffffe0) >>> 0;
    const e = out.ept;
    const tmp = new Uint32Array(8);
    for (let i = 0; i < 4; i++) {
      const st = this.ept.translate(base + i * 8, ACCESS_READ, e);
      if (st !== TRANSLATE_OK) {
        out.status = st;
        return st;
      }
      const v = this.ept.host.views[e.chunk]!;
      const lo = v.getUint32(e.offset, true);
      const hi = v.getUint32(e.offset + 4, true);
      // Reserved when present: bits 2:1, 8:5, 63:M (Table 4-8).
      if ((lo & PG_P) !== 0 && ((lo & 0x1e6) !== 0 || (hi & ~this.addrHi) !== 0)) {
        out.status = TRANSLATE_PDPTE_RESERVED;
        return TRANSLATE_PDPTE_RESERVED;
      }
      tmp[i * 2] = lo;
      tmp[i * 2 + 1] = hi;
    }
    ctx.pdpte.set(tmp);
    out.status = TRANSLATE_OK;
    return TRANSLATE_OK;
  }

  /**
   * Translates the linear address linearHi:linearLo for `access` (ACCESS_* | PAGING_* flags).
   * Returns TRANSLATE_OK (out.gpa, out.flags, out.chunk/offset, out.ept), TRANSLATE_PAGE_FAULT
   * (out.errorCode, out.linearLo/Hi) or an EPT status (out.ept, with the paging-structure or final
   * access recorded in its qualification).
   */
  translate(linearLo: number, linearHi: number, access: number, ctx: PagingContext, out: GuestTranslation): number {
    const mode = pagingMode(ctx.cr0, ctx.cr4, ctx.efer);
    const kind = access & 7;
    const probe = (access & PAGING_PROBE) !== 0 ? EPT_ACCESS_PROBE : 0;
    out.linearLo = linearLo >>> 0;
    out.linearHi = linearHi >>> 0;
    out.errorCode = 0;
    out.pcid = 0;
    out.patIndex = 0;
    if (mode === PAGING_NONE) {
      // Linear = guest-physical (32-bit addresses outside long mode).
      out.flags = PTE_FLAG_WRITABLE | PTE_FLAG_USER | PTE_FLAG_EXEC | PTE_FLAG_DIRTY;
      out.pageShift = 12;
      return this.finish(linearLo >>> 0, kind | probe, MEMTYPE_WB, out);
    }
    const nxe = (ctx.efer & EFER_NXE) !== 0;
    const wide = mode !== PAGING_32;
    const lo = linearLo >>> 0;
    const hi = linearHi >>> 0;
    let level: number;
    let tableGpa: number;
    this.posCount = 0;
    let rw = PG_RW;
    let us = PG_US;
    let xd = 0;
    let elo = 0;
    let ehi = 0;
    if (mode === PAGING_32) {
      level = 2;
      tableGpa = (ctx.cr3Lo & 0xfffff000) >>> 0;
    } else if (mode === PAGING_PAE) {
      const i = lo >>> 30;
      elo = ctx.pdpte[i * 2]!;
      ehi = ctx.pdpte[i * 2 + 1]!;
      if ((elo & PG_P) === 0) return this.pageFault(0, kind, access, ctx, out);
      level = 2;
      tableGpa = ((elo & 0xfffff000) >>> 0) + (ehi & this.addrHi) * TWO32;
    } else {
      level = mode === PAGING_5LEVEL ? 5 : 4;
      tableGpa = ((ctx.cr3Lo & 0xfffff000) >>> 0) + (ctx.cr3Hi & this.addrHi) * TWO32;
      if ((ctx.cr4 & CR4_PCIDE) !== 0) out.pcid = ctx.cr3Lo & 0xfff;
    }
    const rsvdHi = (mode === PAGING_PAE ? this.rsvdHiPae : this.rsvdHi) | (nxe ? 0 : PG_HI_XD);
    let pageShift = 12;
    for (;;) {
      // Index of this level's entry (SDM Figures 4-2, 4-5, 4-8, 4-9).
      let idx: number;
      if (!wide) idx = level === 2 ? lo >>> 22 : (lo >>> 12) & 1023;
      else if (level === 5) idx = (hi >>> 16) & 511;
      else if (level === 4) idx = (hi >>> 7) & 511;
      else if (level === 3) idx = ((hi << 2) | (lo >>> 30)) & 511;
      else if (level === 2) idx = (lo >>> 21) & 511;
      else idx = (lo >>> 12) & 511;
      const entryGpa = tableGpa + idx * (wide ? 8 : 4);
      const te = this.tableEpt;
      const st = this.ept.translate(entryGpa, ACCESS_READ | EPT_ACCESS_TABLE | probe, te);
      if (st !== TRANSLATE_OK) return this.eptFail(st, te, out);
      const view = this.ept.host.views[te.chunk]!;
      elo = view.getUint32(te.offset, true);
      ehi = wide ? view.getUint32(te.offset + 4, true) : 0;
      const n = this.posCount++;
      this.posChunk[n] = te.chunk;
      this.posOffset[n] = te.offset;
      this.posGpa[n] = entryGpa;
      if ((elo & PG_P) === 0) return this.pageFault(0, kind, access, ctx, out);
      // Leaf? PS is honoured in a 32-bit PDE with CR4.PSE, a PAE/4-level PDE and a 4-level PDPTE.
      let leaf = level === 1;
      let rsvdLo = 0;
      if (!wide) {
        leaf = level === 1 || ((elo & PG_PS) !== 0 && (ctx.cr4 & CR4_PSE) !== 0);
        // PSE-36 (Table 4-4): bit 21 reserved; bits 20:13 are physical bits 39:32, reserved above MAXPHYADDR.
        if (leaf && level === 2) rsvdLo = (1 << 21) | (this.physAddrBits < 40 ? ((0xff << 13) & ~(((1 << (this.physAddrBits - 32)) - 1) << 13)) : 0);
      } else {
        const ps = (elo & PG_PS) !== 0;
        if (level >= 4) rsvdLo = PG_PS; // PML4E/PML5E: PS reserved (Tables 4-14, 4-15)
        else if (level === 3 && ps) {
          leaf = true;
          rsvdLo = this.allow1GiB ? 0x3fffe000 : PG_PS; // 1 GiB page: bits 29:13 reserved
        } else if (level === 2 && ps) {
          leaf = true;
          rsvdLo = 0x001fe000; // 2 MiB page: bits 20:13 reserved
        }
      }
      if ((elo & rsvdLo) !== 0 || (wide && (ehi & rsvdHi) !== 0)) return this.pageFault(PFEC_P | PFEC_RSVD, kind, access, ctx, out);
      rw &= elo;
      us &= elo;
      if (nxe) xd |= ehi & PG_HI_XD;
      if (leaf) {
        pageShift = level === 1 ? 12 : !wide ? 22 : level === 2 ? 21 : 30;
        break;
      }
      tableGpa = ((elo & 0xfffff000) >>> 0) + (wide ? (ehi & this.addrHi) * TWO32 : 0);
      level--;
    }
    let flags = (rw !== 0 ? PTE_FLAG_WRITABLE : 0) | (us !== 0 ? PTE_FLAG_USER : 0) | (xd === 0 ? PTE_FLAG_EXEC : 0);
    if ((elo & PG_G) !== 0 && (ctx.cr4 & CR4_PGE) !== 0) flags |= PTE_FLAG_GLOBAL;
    if ((mode === PAGING_4LEVEL || mode === PAGING_5LEVEL) && (ctx.cr4 & CR4_PKE) !== 0) flags |= ((ehi >>> 27) & 15) << PTE_FLAG_PK_SHIFT;
    const fault = pagingAccessFault(flags, access, ctx.cr0, ctx.cr4, ctx.efer, ctx.pkru);
    out.flags = flags;
    if (fault !== 0) return this.pageFault(fault, kind, access, ctx, out);
    // Final guest-physical address.
    let gpa: number;
    if (pageShift === 12) gpa = ((elo & 0xfffff000) >>> 0) + (ehi & this.addrHi) * TWO32 + (lo & 0xfff);
    else if (pageShift === 22) gpa = ((elo & 0xffc00000) >>> 0) + ((elo >>> 13) & 0xff) * TWO32 + (lo & 0x3fffff);
    else if (pageShift === 21) gpa = ((elo & 0xffe00000) >>> 0) + (ehi & this.addrHi) * TWO32 + (lo & 0x1fffff);
    else gpa = ((elo & 0xc0000000) >>> 0) + (ehi & this.addrHi) * TWO32 + (lo & 0x3fffffff);
    const patBit = pageShift === 12 ? (elo & PG_PAT_4K) >>> 5 : (elo & PG_PAT_LARGE) >>> 10;
    out.patIndex = patBit | ((elo & (PG_PCD | PG_PWT)) >>> 3);
    const patByte = out.patIndex < 4 ? ctx.patLo >>> (out.patIndex * 8) : ctx.patHi >>> ((out.patIndex - 4) * 8);
    out.pageShift = pageShift;
    // Accessed flags on every entry used, dirty on the leaf for a write (SDM 4.8); each is an EPT write.
    if (probe === 0) {
      const last = this.posCount - 1;
      for (let i = 0; i <= last; i++) {
        const want = PG_A | (i === last && (kind & ACCESS_WRITE) !== 0 ? PG_D : 0);
        const view = this.ept.host.views[this.posChunk[i]!]!;
        const cur = view.getUint32(this.posOffset[i]!, true);
        if ((cur & want) === want) continue;
        const te = this.tableEpt;
        const st = this.ept.translate(this.posGpa[i]!, ACCESS_WRITE | EPT_ACCESS_TABLE, te);
        if (st !== TRANSLATE_OK) return this.eptFail(st, te, out);
        this.ept.host.views[te.chunk]!.setUint32(te.offset, (cur | want) >>> 0, true);
      }
      if ((kind & ACCESS_WRITE) !== 0) out.flags |= PTE_FLAG_DIRTY;
    }
    if ((elo & PG_D) !== 0) out.flags |= PTE_FLAG_DIRTY;
    return this.finish(gpa, kind | probe, patByte & 7, out);
  }

  /** The final EPT check of the translated GPA (an access to the final translation of a linear address). */
  private finish(gpa: number, eptAccess: number, patType: number, out: GuestTranslation): number {
    out.gpa = gpa;
    const e = out.ept;
    const st = this.ept.translate(gpa, eptAccess | EPT_ACCESS_LINEAR, e);
    if (st !== TRANSLATE_OK) {
      out.status = st;
      return st;
    }
    out.chunk = e.chunk;
    out.offset = e.offset;
    out.memoryType = e.ignorePat !== 0 || this.ept.format.name === 'npt' ? e.memoryType : combineMemoryType(e.memoryType, patType);
    out.status = TRANSLATE_OK;
    return TRANSLATE_OK;
  }

  private eptFail(st: number, te: EptTranslation, out: GuestTranslation): number {
    const e = out.ept;
    e.status = te.status;
    e.gpa = te.gpa;
    e.perms = te.perms;
    e.level = te.level;
    e.pageShift = te.pageShift;
    e.qualification = te.qualification;
    e.npfCodeLo = te.npfCodeLo;
    e.npfCodeHi = te.npfCodeHi;
    e.emulatedAD = te.emulatedAD;
    e.entryCount = te.entryCount;
    e.entryLo.set(te.entryLo);
    e.entryHi.set(te.entryHi);
    e.chunk = 0;
    e.offset = 0;
    e.hpa = 0;
    out.status = st;
    return st;
  }

  /** A #PF: error code bits from the fault kind plus W/R, U/S and I/D of the access (SDM 4.7). */
  private pageFault(ec: number, kind: number, access: number, ctx: PagingContext, out: GuestTranslation): number {
    if ((kind & ACCESS_WRITE) !== 0) ec |= PFEC_W;
    if ((access & PAGING_USER) !== 0 && (access & PAGING_IMPLICIT_SUPERVISOR) === 0) ec |= PFEC_U;
    if ((kind & ACCESS_FETCH) !== 0 && ((ctx.cr4 & CR4_SMEP) !== 0 || ((ctx.cr4 & CR4_PAE) !== 0 && (ctx.efer & EFER_NXE) !== 0))) ec |= PFEC_I;
    out.errorCode = ec;
    out.status = TRANSLATE_PAGE_FAULT;
    return TRANSLATE_PAGE_FAULT;
  }

  /**
   * Copies guest-linear memory into `dest` (bhyve copyin). All pages are translated first, so on a
   * fault nothing is copied; the fault is in `out`. Returns the translate status.
   */
  copyFromLinear(linearLo: number, linearHi: number, access: number, ctx: PagingContext, dest: Uint8Array, out: GuestTranslation): number {
    return this.copyLinear(linearLo, linearHi, (access & ~7) | ACCESS_READ, ctx, dest, out, false);
  }

  /** Copies `src` to guest-linear memory (bhyve copyout); all-or-nothing like copyFromLinear. */
  copyToLinear(linearLo: number, linearHi: number, access: number, ctx: PagingContext, src: Uint8Array, out: GuestTranslation): number {
    return this.copyLinear(linearLo, linearHi, (access & ~7) | ACCESS_WRITE, ctx, src, out, true);
  }

  private copyLinear(linearLo: number, linearHi: number, access: number, ctx: PagingContext, buf: Uint8Array, out: GuestTranslation, toGuest: boolean): number {
    const long = pagingMode(ctx.cr0, ctx.cr4, ctx.efer) >= PAGING_4LEVEL;
    const parts: number[] = [];
    let lo = linearLo >>> 0;
    let hi = long ? linearHi >>> 0 : 0;
    let done = 0;
    while (done < buf.length) {
      let st = this.translate(lo, hi, access, ctx, out);
      // Emulated-A/D faults are the monitor's own business (bhyve resolves them in the kernel): resolve and retry.
      for (let tries = 0; st === TRANSLATE_EPT_VIOLATION && out.ept.emulatedAD !== 0 && tries < 8; tries++) {
        if (!this.ept.resolveEmulatedAD(out.ept.gpa, (out.ept.qualification & 2) !== 0)) break;
        st = this.translate(lo, hi, access, ctx, out);
      }
      if (st !== TRANSLATE_OK) return st;
      const n = Math.min(buf.length - done, 4096 - (lo & 0xfff));
      parts.push(out.chunk, out.offset, n);
      done += n;
      const next = lo + n;
      lo = next >>> 0;
      if (next >= TWO32 && long) hi = (hi + 1) >>> 0;
    }
    const chunks = this.ept.host.chunks;
    let pos = 0;
    for (let i = 0; i < parts.length; i += 3) {
      const c = chunks[parts[i]!]!;
      const off = parts[i + 1]!;
      const n = parts[i + 2]!;
      if (toGuest) c.set(buf.subarray(pos, pos + n), off);
      else buf.set(c.subarray(off, off + n), pos);
      pos += n;
    }
    return TRANSLATE_OK;
  }
}
