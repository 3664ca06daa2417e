/**
 * What the x87 and SIMD units (src/cpu/fpu) need from the interpreter. Vcpu implements it; the units
 * never see the rest of the vCPU. Memory goes through the interpreter's own soft-TLB accessors, so
 * paging, EPT, segment limits and #PF/#GP/#SS behave exactly as for integer instructions.
 *
 * Conventions: step codes are the interpreter's (C_NEXT = 0: go on; C_FAULT = 3: an exception was
 * raised through `raise`). Registers live in `u` (src/cpu/state.ts): GPR n is u[2n] (low) and
 * u[2n+1] (high); the x87/MMX/SSE state at S_FPR .. S_XMM.
 */
import type { DI } from '../block.js';

/** Interpreter step codes (same values as vcpu.ts / system/insn.ts). */
export const C_NEXT = 0, C_JUMP = 1, C_DONE = 2, C_FAULT = 3;

/** Exception vectors the units raise (SDM Vol. 3A Table 6-1). */
export const V_UD = 6, V_NM = 7, V_GP = 13, V_MF = 16, V_AC = 17, V_XM = 19;

export interface FpuCpu {
  /** The register file (CpuState.u32). */
  readonly u: Uint32Array;
  /** Current code size: 16, 32 or 64. */
  readonly codeMode: number;
  /**
   * Linear address (lo, hi) of the instruction's memory operand, computed by the interpreter before
   * the unit runs (only meaningful when the instruction has a memory operand: `d.hasMem`).
   */
  readonly memLo: number;
  readonly memHi: number;
  /** The memory operand's offset within its segment (the effective address), for FDP. */
  memOffsetLo(): number;
  memOffsetHi(): number;
  /** Segment register index (ES=0 .. GS=5) of the memory operand, for FDS. */
  readonly memSeg: number;
  /**
   * Reads 1, 2, 4 or 8 bytes at a linear address: the value (low 32 bits as uint32), or -1 after
   * raising the fault. The high half of an 8-byte read is in `memHi32` afterwards.
   */
  memRead(lo: number, hi: number, bytes: number): number;
  readonly memHi32: number;
  /** Writes 1, 2, 4 or 8 bytes; false after raising the fault (nothing written then). */
  memWrite(lo: number, hi: number, bytes: number, v: number, vh: number): boolean;
  /**
   * Checks that all `len` bytes at the linear address are accessible (write = with write intent),
   * raising the fault an access would raise; false on fault. Lets a multi-part store (FXSAVE, FSAVE,
   * FSTP m80, MOVDQU m128) fault before it writes anything.
   */
  memProbe(lo: number, hi: number, len: number, write: boolean): boolean;
  /** RIP of the current instruction (lo, hi) and the CS selector, for FIP/FCS. */
  insnRipLo(): number;
  insnRipHi(): number;
  /** Raises an exception for the current instruction; returns C_FAULT. */
  raise(vector: number, hasErr: boolean, err: number): number;
  /**
   * An unmasked x87 exception is pending at a waiting x87 instruction while CR0.NE = 0 (MS-DOS
   * compatible mode, SDM Vol. 1 8.7 / Vol. 3A 2.5): the CPU asserts FERR#, which the platform routes
   * to IRQ 13 (the caller continues as if IGNNE# were asserted).
   */
  ferr(): void;
}

/** Signature of a unit's entry point: executes the instruction `d` and returns a step code. */
export type FpuExec = (cpu: FpuCpu, d: DI) => number;
