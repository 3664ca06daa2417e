/**
 * EPT and NPT entry layouts, memory types and the EPT-violation exit qualification.
 *
 * Sources: Intel SDM Vol. 3C ch. 29 "VMX Support for Address Translation" (29.3.2 EPT entry formats,
 * 29.3.3.1 misconfigurations, 29.3.5 accessed/dirty flags for EPT, 29.3.7 memory type), Vol. 3C 28.2.1
 * Table 28-7 (exit qualification for EPT violations; "Table 27-7" in older editions), Vol. 3A 12.5.2.2
 * Table 12-7 (effective memory type, "Table 11-7" in older editions), and AMD APM Vol. 2 15.25 (nested
 * paging: ordinary long-mode PTEs, #NPF error code in EXITINFO1).
 *
 * Entries are 64-bit; we hold them as two uint32 halves (lo = bits 31:0, hi = bits 63:32).
 */

// --- EPT entry bits (SDM 29.3.2, Tables 29-1 .. 29-6), low half ---------------------------------
export const EPT_READ = 1 << 0;
export const EPT_WRITE = 1 << 1;
export const EPT_EXEC = 1 << 2;
/** Bits 2:0: an entry is present when any of them is set (SDM 29.3.2). */
export const EPT_RWX = 7;
export const EPT_MEMTYPE_SHIFT = 3;
export const EPT_MEMTYPE_MASK = 7 << 3;
export const EPT_IGNORE_PAT = 1 << 6;
/** Bit 7: the entry maps a page (PDPTE: 1 GiB, PDE: 2 MiB). Must be 0 in a PML4E. */
export const EPT_LARGE = 1 << 7;
/** Bit 8: accessed (when EPTP bit 6 enables A/D). */
export const EPT_ACCESSED = 1 << 8;
/** Bit 9: dirty (leaf entries only, when EPTP bit 6 enables A/D). */
export const EPT_DIRTY = 1 << 9;

// --- Software-available bits used by bhyve's A/D emulation (seed 000), high half --------------
/** Bit 52 (hi bit 20): software "readable allowed" when A/D bits are emulated; hardware R then means accessed. */
export const EPT_HI_EMUL_READ = 1 << 20;
/** Bit 53 (hi bit 21): software "writable allowed" when A/D bits are emulated; hardware W then means dirty. */
export const EPT_HI_EMUL_WRITE = 1 << 21;

// --- Memory types (SDM Vol. 3A Table 12-8 MTRR types; EPT uses the same encodings) --------------
export const MEMTYPE_UC = 0;
export const MEMTYPE_WC = 1;
export const MEMTYPE_WT = 4;
export const MEMTYPE_WP = 5;
export const MEMTYPE_WB = 6;
/** UC- exists only as a PAT type (SDM Vol. 3A Table 12-10). */
export const MEMTYPE_UC_MINUS = 7;

/** True for the EPT memory types a leaf may carry; 2, 3 and 7 are an EPT misconfiguration (SDM 29.3.3.1). */
export function isValidEptMemoryType(t: number): boolean {
  return t === 0 || t === 1 || t === 4 || t === 5 || t === 6;
}

// --- NPT (ordinary x86-64 PTE) bits, AMD APM Vol. 2 5.3 / 15.25.5 --------------------------------
export const PTE_P = 1 << 0;
export const PTE_RW = 1 << 1;
export const PTE_US = 1 << 2;
export const PTE_PWT = 1 << 3;
export const PTE_PCD = 1 << 4;
export const PTE_A = 1 << 5;
export const PTE_D = 1 << 6;
export const PTE_PS = 1 << 7;
export const PTE_G = 1 << 8;
/** PAT bit of a 4 KiB PTE (bit 7); in a large-page entry PAT is bit 12. */
export const PTE_PAT_4K = 1 << 7;
export const PTE_PAT_LARGE = 1 << 12;
/** NX/XD is bit 63: hi bit 31. */
export const PTE_HI_NX = 1 << 31;

// --- Access kinds, in the bit positions of exit-qualification bits 2:0 ---------------------------
export const ACCESS_READ = 1;
export const ACCESS_WRITE = 2;
export const ACCESS_FETCH = 4;

// --- EPT-violation exit qualification (SDM Vol. 3C 28.2.1, Table 28-7) -----------------------------
/** Bit 0: the access was a data read. */
export const EPTQ_READ = 1 << 0;
/** Bit 1: the access was a data write. */
export const EPTQ_WRITE = 1 << 1;
/** Bit 2: the access was an instruction fetch. */
export const EPTQ_FETCH = 1 << 2;
/** Bit 3: AND of bit 0 (R) over the EPT entries used: the GPA was readable. */
export const EPTQ_READABLE = 1 << 3;
/** Bit 4: AND of bit 1 (W): the GPA was writable. */
export const EPTQ_WRITABLE = 1 << 4;
/** Bit 5: AND of bit 2 (X): the GPA was executable. */
export const EPTQ_EXECUTABLE = 1 << 5;
/** Bit 7: the guest linear-address field is valid (clear only for guest PDPTE loads on MOV to CR). */
export const EPTQ_LINEAR_VALID = 1 << 7;
/** Bit 8 (meaningful when bit 7 is set): 1 = access to the final translation of a linear address, 0 = access to a guest paging-structure entry. */
export const EPTQ_FINAL_TRANSLATION = 1 << 8;

// --- AMD #NPF error code (EXITINFO1), APM Vol. 2 15.25.6 ---------------------------------------------
/** Low half: #PF-style bits P (protection), RW (write), US (always 1: nested walks are user accesses), RSVD, ID (fetch). */
export const NPF_P = 1 << 0;
export const NPF_RW = 1 << 1;
export const NPF_US = 1 << 2;
export const NPF_RSVD = 1 << 3;
export const NPF_ID = 1 << 4;
/** High half bit 0 (bit 32): the fault was on the final guest-physical address. */
export const NPF_HI_FINAL = 1 << 0;
/** High half bit 1 (bit 33): the fault was on a guest page-table access. */
export const NPF_HI_TABLE = 1 << 1;

/**
 * Effective memory type when the EPT type plays the MTRR's role and IPAT = 0: SDM Vol. 3A 12.5.2.2
 * Table 12-7 (SDM Vol. 3C 29.3.7.2 says EPT memory type is combined with the PAT type "as for MTRRs").
 * Types use the encodings above (PAT may also be UC- = 7).
 */
export function combineMemoryType(eptType: number, patType: number): number {
  if (patType === MEMTYPE_UC) return MEMTYPE_UC;
  if (patType === MEMTYPE_WC) return MEMTYPE_WC;
  switch (eptType) {
    case MEMTYPE_UC:
      return MEMTYPE_UC;
    case MEMTYPE_WC:
      // UC- -> WC, WB -> WC, WT/WP -> UC
      return patType === MEMTYPE_UC_MINUS || patType === MEMTYPE_WB ? MEMTYPE_WC : MEMTYPE_UC;
    case MEMTYPE_WT:
      // UC- -> UC, WT -> WT, WB -> WT, WP -> WP
      return patType === MEMTYPE_UC_MINUS ? MEMTYPE_UC : patType === MEMTYPE_WP ? MEMTYPE_WP : MEMTYPE_WT;
    case MEMTYPE_WP:
      // UC- -> WC, WT -> WT, WB -> WP, WP -> WP
      return patType === MEMTYPE_UC_MINUS ? MEMTYPE_WC : patType === MEMTYPE_WT ? MEMTYPE_WT : MEMTYPE_WP;
    default:
      // WB: the PAT type decides; UC- -> UC
      return patType === MEMTYPE_UC_MINUS ? MEMTYPE_UC : patType;
  }
}
