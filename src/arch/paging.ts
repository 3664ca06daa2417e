/**
 * Guest paging: the control-register bits that select a paging mode, the guest page-table entry
 * bits, and the page-fault error code.
 *
 * Sources: Intel SDM Vol. 3A ch. 4 "Paging": 4.1.1 (modes and CR0/CR4/EFER bits), 4.3 (32-bit paging,
 * Tables 4-4..4-6), 4.4 (PAE, Tables 4-8..4-11), 4.5 (4-level and 5-level, Tables 4-14..4-20),
 * 4.6 (access rights), 4.7 (page-fault error code, Figure 4-12), 4.8 (accessed and dirty flags),
 * 4.9.2 (PAT index), 4.6.2 (protection keys).
 */

// --- Control bits (SDM Vol. 3A 2.5, 2.2.1) -------------------------------------------------------------
export const CR0_PE = 1 << 0;
export const CR0_WP = 1 << 16;
export const CR0_PG = 1 << 31;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_PGE = 1 << 7;
export const CR4_LA57 = 1 << 12;
export const CR4_PCIDE = 1 << 17;
export const CR4_SMEP = 1 << 20;
export const CR4_SMAP = 1 << 21;
export const CR4_PKE = 1 << 22;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NXE = 1 << 11;
export const RFLAGS_AC = 1 << 18;
/** IA32_PAT after reset (SDM Vol. 3A Table 12-12): WB, WT, UC-, UC, WB, WT, UC-, UC. */
export const PAT_RESET_LO = 0x0007_0406;
export const PAT_RESET_HI = 0x0007_0406;

// --- Paging modes (SDM 4.1.1) -----------------------------------------------------------------------------
export const PAGING_NONE = 0;
export const PAGING_32 = 1;
export const PAGING_PAE = 2;
export const PAGING_4LEVEL = 3;
export const PAGING_5LEVEL = 4;

/** The paging mode CR0.PG, CR4.PAE, EFER.LMA and CR4.LA57 select (SDM 4.1.1, Table 4-1). */
export function pagingMode(cr0: number, cr4: number, efer: number): number {
  if ((cr0 & CR0_PG) === 0) return PAGING_NONE;
  if ((cr4 & CR4_PAE) === 0) return PAGING_32;
  if ((efer & EFER_LMA) === 0) return PAGING_PAE;
  return (cr4 & CR4_LA57) !== 0 ? PAGING_5LEVEL : PAGING_4LEVEL;
}

// --- Guest paging-structure entry bits (low half unless named HI) --------------------------------------
export const PG_P = 1 << 0;
export const PG_RW = 1 << 1;
export const PG_US = 1 << 2;
export const PG_PWT = 1 << 3;
export const PG_PCD = 1 << 4;
export const PG_A = 1 << 5;
export const PG_D = 1 << 6;
/** Page size in a PDE/PDPTE; PAT in a PTE (bit 7). */
export const PG_PS = 1 << 7;
export const PG_PAT_4K = 1 << 7;
export const PG_G = 1 << 8;
/** PAT in an entry that maps a large page (bit 12). */
export const PG_PAT_LARGE = 1 << 12;
/** XD (bit 63) in the high half. */
export const PG_HI_XD = 1 << 31;
/** Protection key, bits 62:59 of a leaf (4-level/5-level): high-half bits 30:27. */
export const PG_HI_PK_SHIFT = 27;

// --- Page-fault error code (SDM 4.7, Figure 4-12) -------------------------------------------------------------
/** 0: not-present page; 1: page-level protection violation (also set with RSVD and PK). */
export const PFEC_P = 1 << 0;
/** The access was a write. */
export const PFEC_W = 1 << 1;
/** The access was a user-mode access (CPL 3 and not an implicit supervisor access). */
export const PFEC_U = 1 << 2;
/** A reserved bit was set in some paging-structure entry. */
export const PFEC_RSVD = 1 << 3;
/** Instruction fetch; set only when CR4.SMEP = 1, or CR4.PAE = 1 and EFER.NXE = 1. */
export const PFEC_I = 1 << 4;
/** Protection-key violation. */
export const PFEC_PK = 1 << 5;
