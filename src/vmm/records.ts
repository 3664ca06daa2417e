/**
 * The vCPU state records of the public API, shaped after KVM's kvm_regs / kvm_sregs and NVMM's
 * nvmm_x64_state (GPRS, SEGS, CRS, DRS, MSRS). 64-bit values are bigint at this boundary; the
 * hot path keeps uint32 halves (DESIGN.md, "Performance principles").
 *
 * Segment fields follow the descriptor layout (SDM Vol. 3A §3.4.5, Figure 3-8) as the hidden part
 * of a segment register holds it: base, limit (byte-granular, already expanded by G), type (4 bits),
 * S, DPL, P, AVL, L, D/B, G, and `unusable` (VMX's "segment unusable" bit, SDM Vol. 3C §24.4.1).
 */

/** General-purpose registers, RIP and RFLAGS (kvm_regs). */
export interface Registers {
  rax: bigint; rbx: bigint; rcx: bigint; rdx: bigint;
  rsi: bigint; rdi: bigint; rsp: bigint; rbp: bigint;
  r8: bigint; r9: bigint; r10: bigint; r11: bigint;
  r12: bigint; r13: bigint; r14: bigint; r15: bigint;
  rip: bigint; rflags: bigint;
}

/** Names of the 16 general-purpose registers in encoding order (RAX=0 ... R15=15, SDM Vol. 2A Table 2-2). */
export const GPR_NAMES = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
] as const;
export type GprName = (typeof GPR_NAMES)[number];

/** A segment register with its hidden (descriptor-cache) part. */
export interface Segment {
  selector: number;
  base: bigint;
  /** Byte-granular limit (the descriptor limit already scaled when G=1). */
  limit: number;
  /** Descriptor type field, bits 11:8 of the descriptor's high dword. */
  type: number;
  /** S: 1 for code/data, 0 for system segments. */
  s: boolean;
  dpl: number;
  present: boolean;
  avl: boolean;
  /** L: 64-bit code segment. */
  l: boolean;
  /** D/B: default operation size 32-bit. */
  db: boolean;
  g: boolean;
  unusable: boolean;
}

/** GDTR / IDTR. */
export interface DescriptorTable {
  base: bigint;
  limit: number;
}

/** Segments, descriptor tables, control registers and the mode-defining MSRs (kvm_sregs). */
export interface SpecialRegisters {
  cs: Segment; ds: Segment; es: Segment; fs: Segment; gs: Segment; ss: Segment;
  tr: Segment; ldt: Segment;
  gdt: DescriptorTable; idt: DescriptorTable;
  cr0: bigint; cr2: bigint; cr3: bigint; cr4: bigint; cr8: bigint;
  efer: bigint;
  apicBase: bigint;
}

/** DR0-DR3, DR6, DR7 (kvm_debugregs). */
export interface DebugRegisters {
  dr0: bigint; dr1: bigint; dr2: bigint; dr3: bigint; dr6: bigint; dr7: bigint;
}

/** One x87 data register: the 64-bit significand (bit 63 = the explicit integer bit) and sign/exponent. */
export interface X87Register {
  significand: bigint;
  /** Sign in bit 15, biased exponent in bits 14:0 (SDM Vol. 1 §4.2.2, Figure 4-3). */
  signExponent: number;
}

/**
 * x87, MMX and SSE state (kvm_fpu / the FXSAVE image, SDM Vol. 1 §10.5.1 Table 10-2, in the 64-bit
 * layout). MMi is the significand of physical register Ri (SDM Vol. 1 §9.2).
 */
export interface FpuState {
  /** Control word (FCW). */
  fcw: number;
  /** Status word (FSW), TOP in bits 13:11. */
  fsw: number;
  /** Abridged tag word as FXSAVE stores it: bit i = 1 when PHYSICAL register Ri is not empty. */
  ftw: number;
  /** Last x87 opcode (11 bits), instruction pointer and its CS, data pointer and its segment. */
  fop: number;
  fip: bigint;
  fcs: number;
  fdp: bigint;
  fds: number;
  /** ST(0)..ST(7), relative to TOP (the FXSAVE order). */
  st: X87Register[];
  /** SSE control/status register. */
  mxcsr: number;
  /** XMM0..XMM15, 128 bits each. */
  xmm: bigint[];
}

/** Builds a Segment record; defaults describe a present, usable, byte-granular segment. */
export function segment(fields: Partial<Segment> & { selector: number; type: number }): Segment {
  return {
    base: 0n,
    limit: 0xffff,
    s: true,
    dpl: 0,
    present: true,
    avl: false,
    l: false,
    db: false,
    g: false,
    unusable: false,
    ...fields,
  };
}

/** Descriptor type values used by loaders (SDM Vol. 3A §3.4.5.1, Table 3-1). */
export const SEG_TYPE = {
  /** Data, read/write, accessed. */
  DATA_RW_ACCESSED: 0x3,
  /** Code, execute/read, accessed. */
  CODE_XR_ACCESSED: 0xb,
  /** System: LDT. */
  LDT: 0x2,
  /** System: 32/64-bit busy TSS. */
  TSS_BUSY: 0xb,
} as const;
