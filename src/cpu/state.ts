/**
 * The architectural register file of one vCPU (Intel SDM Vol. 1 §3.4, Vol. 3A §2.5, §3.4.3).
 *
 * Every register lives in ONE ArrayBuffer, viewed as uint32 slots. A 64-bit register is a pair of
 * slots, low half first, so the same buffer read as little-endian int64 (a WebAssembly.Memory, or a
 * BigUint64Array) sees the whole register: a later block compiler can alias it without copying
 * (shared/DESIGN.md, "Performance principles"). The slot indices below are the contract for such
 * a compiler; they are plain numbers so generated code can use them as constants.
 *
 * RFLAGS is evaluated lazily (src/cpu/flags.ts): the slot RFLAGS holds every bit that is not lazy,
 * and the L_* slots describe the last flag-setting operation.
 */

/** GPR numbers as encoded in ModRM/REX (SDM Vol. 2A Table 2-2). */
export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

/** Segment-register numbers as encoded in the sreg field (SDM Vol. 2A §3.1.1.3), plus LDTR and TR. */
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;

/* ---- slot layout (uint32 index) ---- */
/** GPR i: low half at slot 2*i, high half at 2*i+1. */
export const S_GPR = 0;
export const S_RIP = 32; // RIP lo, RIP hi at 33
export const S_RFLAGS = 34; // the non-lazy RFLAGS bits
/** Lazy-flags record (see flags.ts). */
export const L_MASK = 35; // which of CF|PF|AF|ZF|SF|OF are lazy
export const L_SIZE = 36; // operand size in bits: 8, 16, 32 or 64
export const L_RES = 37; // result lo (hi at 38)
export const L_A = 39; // "add view" first operand lo (hi at 40)
export const L_B = 41; // "add view" second operand lo (hi at 42)
export const L_SUM = 43; // "add view" sum lo (hi at 44)
/** Segment registers: 8 records of SEG_STRIDE slots (selector, base lo, base hi, limit, attributes). */
export const S_SEG = 48;
export const SEG_STRIDE = 5;
export const SEG_SEL = 0, SEG_BASE = 1, SEG_BASE_HI = 2, SEG_LIMIT = 3, SEG_ATTR = 4;
export const S_CR0 = 88;
export const S_CR2 = 89; // lo, hi at 90
export const S_CR3 = 91; // lo, hi at 92
export const S_CR4 = 93;
export const S_CR8 = 94;
export const S_EFER = 95;
export const S_DR = 96; // DR0..DR3 as lo/hi pairs: 96..103
export const S_DR6 = 104;
export const S_DR7 = 105;
export const S_GDTR = 106; // base lo, base hi, limit
export const S_IDTR = 109; // base lo, base hi, limit
export const S_XCR0 = 112;
export const S_TSC = 113; // lo, hi at 114: time-stamp counter
export const S_TSC_AUX = 115;
export const S_MODE = 116; // derived: current code size 16, 32 or 64 (see Vcpu.updateMode)
/** Scratch pair semantics helpers use to return the high half of a 64-bit result without allocating. */
export const S_T = 118; // lo, hi at 119
export const S_T2 = 120; // lo, hi at 121
/*
 * x87 FPU, MMX and SSE state (SDM Vol. 1 ch. 8, 9, 10). Kept in the same buffer so a block compiler
 * (or a WebAssembly backend) addresses it with constant offsets like the GPRs.
 */
/**
 * x87 data registers by PHYSICAL number R0..R7 (not ST(i); ST(i) is R[(TOP + i) & 7]), FPR_STRIDE
 * slots each: significand low 32 bits, significand high 32 bits (bit 31 = the explicit integer bit
 * J), sign << 15 | biased exponent, unused. MMX register MMi is the significand of Ri (SDM Vol. 1
 * 9.5: an MMX write sets the exponent/sign word to all ones).
 */
export const S_FPR = 128;
export const FPR_STRIDE = 4;
export const FPR_LO = 0, FPR_HI = 1, FPR_SE = 2;
/** x87 control word (16 bits). */
export const S_FCW = 160;
/** x87 status word (16 bits), TOP in bits 13:11. */
export const S_FSW = 161;
/**
 * x87 tag state, ABRIDGED as FXSAVE stores it (SDM Vol. 1 10.5.1.1): bit i = 1 when physical register
 * Ri is not empty. The full two-bit tags of FSTENV/FSAVE are computed from the register contents.
 */
export const S_FTW = 162;
/** Last x87 opcode: the 11 low bits of the first two opcode bytes (SDM Vol. 1 8.1.10). */
export const S_FOP = 163;
/** Last x87 instruction pointer (offset lo, hi) and its CS selector. */
export const S_FIP = 164; // lo, hi at 165
export const S_FCS = 166;
/** Last x87 data (operand) pointer (offset lo, hi) and its segment selector. */
export const S_FDP = 167; // lo, hi at 168
export const S_FDS = 169;
/** SSE control/status register (SDM Vol. 1 10.2.3). */
export const S_MXCSR = 170;
/** XMM0..XMM15, XMM_STRIDE slots each, lowest dword first (the little-endian memory image). */
export const S_XMM = 176;
export const XMM_STRIDE = 4;
export const STATE_SLOTS = 256;

/* ---- RFLAGS bits (SDM Vol. 1 §3.4.3, Figure 3-8) ---- */
export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const IOPL = 3 << 12;
export const NT = 1 << 14;
export const RF = 1 << 16;
export const VM = 1 << 17;
export const AC = 1 << 18;
export const VIF = 1 << 19;
export const VIP = 1 << 20;
export const ID = 1 << 21;
/** The six status flags (SDM Vol. 1 §3.4.3.1). */
export const STATUS_FLAGS = CF | PF | AF | ZF | SF | OF;
/** Bit 1 of RFLAGS is reserved and always reads 1. */
export const RFLAGS_FIXED1 = 1 << 1;

/* ---- segment attributes, in the VMCS access-rights format (SDM Vol. 3C §24.4.1, Table 24-2) ---- */
export const ATTR_TYPE = 0xf;
export const ATTR_S = 1 << 4;
export const ATTR_DPL_SHIFT = 5;
export const ATTR_P = 1 << 7;
export const ATTR_AVL = 1 << 12;
export const ATTR_L = 1 << 13;
export const ATTR_DB = 1 << 14;
export const ATTR_G = 1 << 15;
export const ATTR_UNUSABLE = 1 << 16;

/* ---- control-register and EFER bits used by the core (SDM Vol. 3A §2.5, §2.2.1) ---- */
export const CR0_PE = 1 << 0;
export const CR0_PG = 1 << 31;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR4_TSD = 1 << 2;
export const CR4_PAE = 1 << 5;
export const EFER_SCE = 1 << 0;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NXE = 1 << 11;

/**
 * The register file. `u32` is the one view every hot path uses; `i32` aliases it for signed reads.
 * The buffer may be supplied by the caller (e.g. a WebAssembly.Memory's buffer at an offset).
 */
export class CpuState {
  readonly buffer: ArrayBuffer;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;

  constructor(buffer?: ArrayBuffer, byteOffset = 0) {
    this.buffer = buffer ?? new ArrayBuffer(STATE_SLOTS * 4);
    this.u32 = new Uint32Array(this.buffer, byteOffset, STATE_SLOTS);
    this.i32 = new Int32Array(this.buffer, byteOffset, STATE_SLOTS);
    this.u32[S_RFLAGS] = RFLAGS_FIXED1;
    // power-up values (SDM Vol. 3A Table 9-1): FCW 0040H, FSW 0, all tags empty, MXCSR 1F80H
    this.u32[S_FCW] = 0x0040;
    this.u32[S_MXCSR] = 0x1f80;
  }

  /** Sets the hidden and visible parts of a segment register (no checks: the system layer does them). */
  setSegment(seg: number, selector: number, base: number, baseHi: number, limit: number, attr: number): void {
    const o = S_SEG + seg * SEG_STRIDE;
    const u = this.u32;
    u[o + SEG_SEL] = selector & 0xffff;
    u[o + SEG_BASE] = base;
    u[o + SEG_BASE_HI] = baseHi;
    u[o + SEG_LIMIT] = limit;
    u[o + SEG_ATTR] = attr;
  }

  /** Real-mode style load: base = selector * 16, limit and attributes kept (SDM Vol. 3A §20.1.1). */
  setSegmentReal(seg: number, selector: number): void {
    const o = S_SEG + seg * SEG_STRIDE;
    const u = this.u32;
    u[o + SEG_SEL] = selector & 0xffff;
    u[o + SEG_BASE] = (selector & 0xffff) << 4;
    u[o + SEG_BASE_HI] = 0;
  }

  segSelector(seg: number): number {
    return this.u32[S_SEG + seg * SEG_STRIDE + SEG_SEL]!;
  }
  segBase(seg: number): number {
    return this.u32[S_SEG + seg * SEG_STRIDE + SEG_BASE]!;
  }
  segAttr(seg: number): number {
    return this.u32[S_SEG + seg * SEG_STRIDE + SEG_ATTR]!;
  }
}

/** Attributes of a flat ring-0 code segment: type 0xB (execute/read, accessed), S, P, G. */
export function codeAttr(bits: 16 | 32 | 64): number {
  const base = 0xb | ATTR_S | ATTR_P | ATTR_G;
  return bits === 64 ? base | ATTR_L : bits === 32 ? base | ATTR_DB : base & ~ATTR_G;
}

/** Attributes of a flat ring-0 data segment: type 3 (read/write, accessed), S, P, G, D/B per size. */
export function dataAttr(bits: 16 | 32): number {
  return bits === 32 ? 0x3 | ATTR_S | ATTR_P | ATTR_G | ATTR_DB : 0x3 | ATTR_S | ATTR_P;
}
