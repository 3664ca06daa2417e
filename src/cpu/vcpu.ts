/**
 * Vcpu: the integer core's interpreter (Intel SDM Vol. 1 ch. 3-7, Vol. 2 instruction pages).
 *
 * run({ maxInstructions }) executes guest code until something needs the monitor and returns the
 * vCPU's one reused exit record (exit.ts). The data path per instruction:
 *   RIP -> fetch soft TLB (linear page -> host chunk/offset) -> code page -> block (decoded once)
 *   -> `exec` switches on the block's precomputed op id -> semantic helpers in exec/ -> lazy flags.
 * Memory operands go through read/write soft TLBs (typed arrays: tag, chunk, page offset), filled by
 * the slow path from guest paging (system/linear.ts) and the PhysicalSpace (EPT) contract.
 * Guest faults are return codes (C_FAULT), never JS exceptions; every exception is raised in ONE
 * place, `raise()`, and delivered by the system unit (system/system.ts) or, for vectors in the
 * exception bitmap, ends the run with an `exception` exit.
 * System instructions go to system/insn.ts, x87 and SIMD instructions to the fpu units
 * (fpu/x87.ts, fpu/simd.ts) through the FpuCpu seam. Deviations: docs/cpu.md.
 */
import { DecodeStatus, Mnemonic, OpKind, type Insn } from './decoder/insn.js';
import { decodeInto } from './decoder/decode.js';
import { Block, CodePage, DI } from './block.js';
import { BlockCompiler, type JitOps } from './jit/compile.js';
import { CpuidResult, cpuidModel } from './cpuid.js';
import { ExitRecord, type ExitReason, type VcpuExit } from './exit.js';
import { cond, getCF, getFlags, getZF, lazyLogic, lazyResult, materialize, setFlags, setStatus, lazyArith, lazyArith64, getAF } from './flags.js';
import { ACC_FETCH, ACC_READ, ACC_WRITE, PhysResult, type PhysicalSpace } from './phys.js';
import {
  AC, AF, ATTR_DB, ATTR_L, CF, CR0_PE, CS, CpuState, DF, EFER_LMA, ID, IF, IOPL, L_MASK, NT, OF, PF, RF,
  S_CR0, S_EFER, S_RFLAGS, S_RIP, S_SEG, S_T, S_TSC_AUX, SEG_ATTR, SEG_BASE, SEG_BASE_HI, SEG_SEL, SEG_STRIDE,
  SF, SS, TF, VM, ZF, S_MODE, SEG_LIMIT, S_CR2, S_CR4, CR4_TSD, S_DR7,
} from './state.js';
import { alu, alu64, dec, dec64, inc, inc64, neg, neg64 } from './exec/alu.js';
import { shift, shift64, shiftDouble, shiftDouble64 } from './exec/shift.js';
import { divq, divs128, divSmall, divu128, imul64, mul32, mul64, mulFlags, prod, mulHi } from './exec/muldiv.js';
import { EV_EXCEPTION, EV_EXTERNAL, EV_ICEBP, EV_NMI, EV_SOFT_EXC, EV_SOFT_INT, ST_EXIT, ST_OK, System, type SystemHost } from './system/system.js';
import { execMovCrDr, execSystem, type SysCpu } from './system/insn.js';
import { LA_AC, LA_USER, LIN_EPT, LIN_OK } from './system/linear.js';
import type { FpuCpu } from './fpu/cpu.js';
import { execX87 } from './fpu/x87.js';
import { execSimd } from './fpu/simd.js';

/** Interpreter operation ids (same-file const enum: inlined as literals in the hot switch). */
const enum Op {
  Generic = 0,
  Invalid, TooLong,
  // fast paths (register/immediate/memory forms split at block-build time)
  AluRR, AluRI, AluRM, AluMR, AluMI,
  MovRR, MovRI, MovRM, MovMR, MovMI,
  TestRR, TestRI,
  IncR, DecR,
  Jcc, JmpRel, CallRel, RetNear,
  PushR, PopR, Lea, ShiftRI, MovzxRR, MovzxRM, Nop,
  // the x87 and SIMD units (src/cpu/fpu)
  X87, Simd,
}

const C_NEXT = 0, C_JUMP = 1, C_DONE = 2, C_FAULT = 3;

/** The op ids the block compiler inlines (jit/compile.ts). */
const JIT_OPS: JitOps = {
  AluRR: Op.AluRR, AluRI: Op.AluRI, AluRM: Op.AluRM, AluMR: Op.AluMR, AluMI: Op.AluMI,
  MovRR: Op.MovRR, MovRI: Op.MovRI, MovRM: Op.MovRM, MovMR: Op.MovMR, MovMI: Op.MovMI,
  TestRR: Op.TestRR, TestRI: Op.TestRI, IncR: Op.IncR, DecR: Op.DecR,
  Jcc: Op.Jcc, JmpRel: Op.JmpRel, Lea: Op.Lea, ShiftRI: Op.ShiftRI, MovzxRR: Op.MovzxRR, MovzxRM: Op.MovzxRM, Nop: Op.Nop,
};

/** Exception vectors (SDM Vol. 3A Table 6-1). */
export const DE = 0, DB = 1, BP = 3, OFV = 4, BR = 5, UD = 6, NM = 7, TS = 10, NP = 11, SSF = 12, GP = 13, PFV = 14;

const TLB_BITS = 10;
const TLB_SIZE = 1 << TLB_BITS;
const TLB_MASK = TLB_SIZE - 1;
const MAX_BLOCK = 32;
/** Blocks of one page a compiled region may cover (jit/compile.ts). */
const MAX_REGION = 16;
/** Block lookup cache: linear RIP -> block, direct mapped on the low RIP bits. */
const BC_SIZE = 4096;
const BC_MASK = BC_SIZE - 1;
const TWO32 = 0x100000000;

/** Mnemonics that end a block (control transfers, mode/flag-sensitive system effects). */
const BLOCK_END = new Uint8Array(Mnemonic.VexUnsupported + 1);
for (const m of [
  Mnemonic.Jmp, Mnemonic.Call, Mnemonic.Ret, Mnemonic.Retf, Mnemonic.Iret, Mnemonic.Iretd, Mnemonic.Iretq,
  Mnemonic.Int, Mnemonic.Int1, Mnemonic.Int3, Mnemonic.Into, Mnemonic.Loop, Mnemonic.Loope, Mnemonic.Loopne,
  Mnemonic.Jcxz, Mnemonic.Jecxz, Mnemonic.Jrcxz, Mnemonic.Hlt, Mnemonic.Popf, Mnemonic.Popfd, Mnemonic.Popfq,
  Mnemonic.Sti, Mnemonic.Cli, Mnemonic.In, Mnemonic.Out, Mnemonic.Insb, Mnemonic.Insw, Mnemonic.Insd,
  Mnemonic.Outsb, Mnemonic.Outsw, Mnemonic.Outsd, Mnemonic.Cpuid, Mnemonic.Pause, Mnemonic.Les, Mnemonic.Lds,
  Mnemonic.Lss, Mnemonic.Lfs, Mnemonic.Lgs, Mnemonic.Ud0, Mnemonic.Ud1, Mnemonic.Ud2, Mnemonic.Bound,
]) BLOCK_END[m] = 1;
for (let m = Mnemonic.Jo; m <= Mnemonic.Jg; m++) BLOCK_END[m] = 1;
for (let m = Mnemonic.Rdrand; m <= Mnemonic.Xrstors64; m++) BLOCK_END[m] = 1;

export interface RunOptions {
  /** Instruction budget: the run ends with a `budget` exit after this many (REP iterations count). */
  maxInstructions: number;
}

/**
 * Which unit executes a mnemonic: 1 the x87 unit (fpu/x87.ts: x87 instructions, WAIT, FXSAVE/
 * FXRSTOR), 2 the SIMD unit (fpu/simd.ts: MMX, SSE..SSE4.2, LDMXCSR/STMXCSR, CRC32), 0 neither.
 */
function fpuUnitOf(i: Insn): number {
  const m = i.mnemonic;
  // MOVSD and CMPSD name both the string instructions (A5, A7) and the SSE2 scalar-double ones
  // (F2 0F 10/11/C2), which have register or ModRM memory operands
  if ((m === Mnemonic.Movsd || m === Mnemonic.Cmpsd) && (i.opKind0 === OpKind.Reg || i.opKind0 === OpKind.Mem)) return 2;
  if ((m >= Mnemonic.Fadd && m <= Mnemonic.Ffreep) || m === Mnemonic.Wait) return 1;
  if (m >= Mnemonic.Fxsave && m <= Mnemonic.Fxrstor64) return 1;
  if ((m >= Mnemonic.Emms && m <= Mnemonic.Pcmpistri) || m === Mnemonic.Ldmxcsr || m === Mnemonic.Stmxcsr || m === Mnemonic.Crc32) return 2;
  return 0;
}

/** Mnemonics whose first operand is memory but which only read it (or do not access it). */
const MEM0_READ = new Uint8Array(Mnemonic.VexUnsupported + 1);
for (const m of [
  Mnemonic.Cmp, Mnemonic.Test, Mnemonic.Bt, Mnemonic.Push, Mnemonic.Jmp, Mnemonic.Call, Mnemonic.Mul, Mnemonic.Imul,
  Mnemonic.Div, Mnemonic.Idiv, Mnemonic.Lgdt, Mnemonic.Lidt, Mnemonic.Lldt, Mnemonic.Ltr, Mnemonic.Lmsw, Mnemonic.Verr,
  Mnemonic.Verw, Mnemonic.Invlpg, Mnemonic.Nop, Mnemonic.Xlatb, Mnemonic.Cldemote, Mnemonic.Prefetchit0,
  Mnemonic.Prefetchit1, Mnemonic.Ldmxcsr, Mnemonic.Fxrstor, Mnemonic.Fxrstor64, Mnemonic.Xrstor, Mnemonic.Xrstor64,
  Mnemonic.Xrstors, Mnemonic.Xrstors64,
]) MEM0_READ[m] = 1;
for (let m = Mnemonic.Clflush; m <= Mnemonic.Reservednop; m++) MEM0_READ[m] = 1;
/** x87 instructions that store to their memory operand (all others with one only read it). */
const X87_STORE = new Uint8Array(Mnemonic.VexUnsupported + 1);
for (const m of [
  Mnemonic.Fst, Mnemonic.Fstp, Mnemonic.Fist, Mnemonic.Fistp, Mnemonic.Fisttp, Mnemonic.Fbstp, Mnemonic.Fstpnce,
  Mnemonic.Fnstenv, Mnemonic.Fnstcw, Mnemonic.Fnsave, Mnemonic.Fnstsw, Mnemonic.Fxsave, Mnemonic.Fxsave64,
]) X87_STORE[m] = 1;

/**
 * True when the instruction writes its explicit memory operand (read-modify-write included): the
 * destination is operand 0 in every form (SDM Vol. 2 operand order), except the forms above.
 */
function writesMem(i: Insn, fpu: number): boolean {
  if (i.opKind0 !== OpKind.Mem) return false;
  if (fpu === 1) return X87_STORE[i.mnemonic] === 1;
  return MEM0_READ[i.mnemonic] === 0;
}

function gprBits(id: number): number {
  switch (id >> 5) {
    case 1: case 2: return 8;
    case 3: return 16;
    case 4: return 32;
    case 5: return 64;
    default: return 0;
  }
}

export class Vcpu implements SystemHost, SysCpu, FpuCpu {
  readonly state: CpuState;
  readonly u: Uint32Array;
  readonly exitRecord = new ExitRecord();
  readonly phys: PhysicalSpace;
  /** APIC id reported by CPUID. */
  apicId = 0;
  /** Leaves (EAX values) whose CPUID exits to the monitor instead of answering from the model. */
  readonly cpuidExitLeaves = new Set<number>();
  /** Exit on PAUSE (NVMM/VMX "PAUSE exiting"). */
  pauseExiting = false;
  /** The system architecture (src/cpu/system): paging walk, event delivery, descriptors, MSRs. */
  readonly sys: System;
  /**
   * VMX's exception bitmap: an exception (vector < 32, also #BP/#OF from INT3/INTO and #DB from INT1)
   * whose bit is set ends the run with an `exception` exit instead of being delivered through the
   * guest's IVT/IDT. Default all ones (every exception exits, as before the system unit delivered
   * them); a full-system monitor sets 0 and lets the CPU deliver.
   */
  exceptionBitmap = 0xffffffff;
  /** INT n (CD ib) ends the run with an `exception` exit for vector n instead of being delivered. */
  softwareInterruptExits = true;
  /** Exit with `interrupt-window` at the first instruction boundary where a maskable interrupt can be taken. */
  interruptWindowExiting = false;
  /** Exit with `nmi-window` at the first instruction boundary where an NMI can be taken. */
  nmiWindowExiting = false;
  /** Per segment register: 1 when its accesses need limit/null checks (recomputed on loads, updateMode). */
  private readonly segChk = new Uint8Array(8);
  /**
   * Data and I/O breakpoints on implicit operands (stack, string elements, ports): on only while
   * stepDebug runs one instruction with DR7 enabled; `watchBits` collects the DR6.Bn bits of the hits.
   */
  private watch = false;
  private watchBits = 0;
  /** The instruction running in the debug path will take a single-step trap (TF was set before it). */
  private stepping = false;
  /** The fault of a poisoned access (aHi = 0xFFFFFFFF outside 64-bit mode): #GP or #SS. */
  private limitVec = 0;
  /** Canonical-address check of the high dword: (hi + canonAdd) >>> 0 < canonLim (48- or 57-bit, CR4.LA57). */
  private canonAdd = 0x8000;
  private canonLim = 0x10000;
  /**
   * Interpreted runs of a block before the block compiler (jit/compile.ts) translates it to a
   * JavaScript function; 0 compiles every block on first sight, Infinity keeps the pure interpreter.
   */
  jitThreshold = 8;
  /** Blocks compiled so far (a statistic). */
  compiledBlocks = 0;
  /** @internal Instructions a compiled region retired (set by the generated code). */
  jitN = 0;
  private readonly regionBlocks: Block[] = [];
  private readonly compiler = new BlockCompiler(JIT_OPS);

  // ---- derived mode (updateMode) ----
  private mode = 32;
  private stk = 32;
  private cpl = 0;
  private pmode = false;

  // ---- soft TLB: read/write share entry data, fetch has its own ----
  private readonly tagR = new Float64Array(TLB_SIZE).fill(-1);
  private readonly tagW = new Float64Array(TLB_SIZE).fill(-1);
  private readonly tView: DataView[] = [];
  private readonly tBytes: Uint8Array[] = [];
  private readonly tOff = new Int32Array(TLB_SIZE);
  private readonly tPpn = new Int32Array(TLB_SIZE);
  private readonly tagX = new Float64Array(TLB_SIZE).fill(-1);
  private readonly xBytes: Uint8Array[] = [];
  private readonly xOff = new Int32Array(TLB_SIZE);
  private readonly xPpn = new Int32Array(TLB_SIZE);
  private readonly xCode: (CodePage | null)[] = [];
  private tlbGeneration = -1;
  // ---- block lookup cache (linear RIP -> Block); cleared with every fetch-TLB change ----
  private readonly bcLo = new Uint32Array(BC_SIZE);
  private readonly bcHi = new Uint32Array(BC_SIZE);
  private readonly bcBlk: (Block | null)[] = new Array<Block | null>(BC_SIZE).fill(null);
  /**
   * Fill count of each fetch-TLB entry, and the count a block-cache entry was made under: an entry
   * is valid only while its page's fetch-TLB entry is present (tag) and holds the translation it
   * was cached with (a refill bumps the count).
   */
  private readonly xGen = new Uint32Array(TLB_SIZE);
  private readonly bcGen = new Uint32Array(BC_SIZE);
  private readonly pres = new PhysResult();

  // ---- decoded-code cache, by host-physical page number ----
  private readonly codePages = new Map<number, CodePage>();
  private readonly scratchDI = new DI();
  private readonly fetchBuf = new Uint8Array(16);
  /** Set when a write hit a page with decoded code: the running block stops after this instruction. */
  private smc = false;

  // ---- per-instruction scratch ----
  private aLo = 0; // linear address of the memory operand
  private aHi = 0;
  private aSeg = 3;
  private vh = 0; // high half of the last 64-bit read
  private bLo = 0; // RIP of the running block's first instruction
  private bHi = 0;
  private cur: DI = this.scratchDI;
  private retired = 0;
  private budgetLeft = 0;
  /** An IN or string IN waiting for the monitor's value (completed at the next run()). */
  private pendingIn = 0; // 0 none, 1 IN, 2 INS
  private pendingInSize = 0;
  private readonly cpuidOut = new CpuidResult();

  constructor(phys: PhysicalSpace, state?: CpuState) {
    this.phys = phys;
    this.state = state ?? new CpuState();
    this.u = this.state.u32;
    this.sys = new System(this.state, phys, this, this.exitRecord);
    const none = new DataView(new ArrayBuffer(8));
    const noneB = new Uint8Array(0);
    for (let i = 0; i < TLB_SIZE; i++) {
      this.tView.push(none);
      this.tBytes.push(noneB);
      this.xBytes.push(noneB);
      this.xCode.push(null);
    }
    this.updateMode();
  }

  /** The typed view of the exit record. */
  get exit(): VcpuExit {
    return this.exitRecord as unknown as VcpuExit;
  }

  /** Recomputes the cached mode after CS/SS/CR0/EFER/RFLAGS.VM changed (call after setting state). */
  updateMode(): void {
    const u = this.u;
    const csAttr = u[S_SEG + CS * SEG_STRIDE + SEG_ATTR]!;
    const ssAttr = u[S_SEG + SS * SEG_STRIDE + SEG_ATTR]!;
    this.pmode = (u[S_CR0]! & CR0_PE) !== 0;
    const lma = (u[S_EFER]! & EFER_LMA) !== 0;
    if (lma && (csAttr & ATTR_L) !== 0) this.mode = 64;
    else this.mode = (csAttr & ATTR_DB) !== 0 && this.pmode && (u[S_RFLAGS]! & VM) === 0 ? 32 : 16;
    this.stk = this.mode === 64 ? 64 : (ssAttr & ATTR_DB) !== 0 && this.pmode ? 32 : 16;
    const wasUser = this.cpl === 3;
    this.cpl = !this.pmode ? 0 : (u[S_RFLAGS]! & VM) !== 0 ? 3 : u[S_SEG + CS * SEG_STRIDE + SEG_SEL]! & 3;
    u[S_MODE] = this.mode;
    // soft-TLB entries carry the U/S permission of the CPL that filled them (system/linear.ts)
    if (wasUser !== (this.cpl === 3)) this.flushTlb();
    this.sys.refresh();
    this.canonAdd = this.sys.canonAdd;
    this.canonLim = this.canonAdd * 2;
    for (let s = 0; s < 6; s++) this.segChk[s] = this.mode !== 64 && this.sys.needsSegCheck(s) ? 1 : 0;
  }

  /** Current code size (16, 32, 64). */
  get codeMode(): number {
    return this.mode;
  }

  /** Drops every soft-TLB entry (CR3 write, INVLPG-all, EPT generation change). */
  flushTlb(): void {
    // the block lookup cache needs no clearing: an entry matches only while its page's fetch-TLB
    // entry holds the translation it was made under (tag and fill count), and xCode is reset by
    // the fill that revalidates an entry
    this.tagR.fill(-1);
    this.tagW.fill(-1);
    this.tagX.fill(-1);
  }

  /** Drops all decoded code (for callers that wrote guest code behind the vCPU's back). */
  flushCodeCache(): void {
    for (const p of this.codePages.values()) p.valid = false;
    this.codePages.clear();
    this.flushTlb();
  }

  /** IN completion: the value the monitor read for the last `io` exit (or set exit.value). */
  completeIo(value: number): void {
    this.exitRecord.value = value >>> 0;
  }

  // =====================================================================================
  // The system unit's view of the interpreter (system/insn.ts SysCpu)
  // =====================================================================================

  /** @internal */ opGet(d: DI, k: number): number { return this.get(d, k, false); }
  /** @internal */ get opHi(): number { return this.vh; }
  /** @internal */ opPut(d: DI, k: number, size: number, lo: number, hi: number): boolean { return this.put(d, k, size, lo, hi); }
  /** @internal */ get memLo(): number { return this.aLo; }
  /** @internal */ get memHi(): number { return this.aHi; }
  /** @internal */ memRead(lo: number, hi: number, bytes: number): number { this.vh = 0; return this.rdN(lo, hi, bytes); }
  /** @internal */ memWrite(lo: number, hi: number, bytes: number, v: number, vh: number): boolean { return this.wrN(lo, hi, bytes, v, vh); }
  /** @internal */ nextRipLo(d: DI): number { return this.nextLo(d); }
  /** @internal */ nextRipHi(d: DI): number { return this.nextHi(d); }
  /** @internal */ markExit(): void { this.faultRip(); }

  // ---- the x87/SIMD units' view (fpu/cpu.ts FpuCpu) ----
  /** @internal */ get memHi32(): number { return this.vh; }
  /** @internal */ get memSeg(): number { return this.aSeg; }
  /** @internal */ memOffsetLo(): number {
    if (this.mode === 64 && this.aSeg < 4) return this.aLo;
    return (this.aLo - this.u[S_SEG + this.aSeg * SEG_STRIDE + SEG_BASE]!) >>> 0;
  }
  /** @internal */ memOffsetHi(): number {
    if (this.mode !== 64) return 0;
    if (this.aSeg < 4) return this.aHi;
    const o = S_SEG + this.aSeg * SEG_STRIDE;
    const borrow = this.aLo < this.u[o + SEG_BASE]! ? 1 : 0;
    return (this.aHi - this.u[o + SEG_BASE_HI]! - borrow) >>> 0;
  }
  /** @internal */ memProbe(lo: number, hi: number, len: number, write: boolean): boolean {
    // every page the range touches, first to last, as the access itself would translate them
    const acc = write ? ACC_WRITE : ACC_READ;
    const last = lo + len - 1;
    let plo = lo, phi = hi;
    for (;;) {
      if (!this.fillRW(plo >>> 0, phi, acc)) return false;
      const next = (plo & ~0xfff) + 4096;
      if (next > last) return true;
      plo = next >>> 0;
      if (plo === 0) phi = this.mode === 64 ? (phi + 1) >>> 0 : 0;
    }
  }
  /** @internal */ insnRipLo(): number {
    const lo = this.bLo + this.cur.start;
    return this.mode === 16 ? lo & 0xffff : lo >>> 0;
  }
  /** @internal */ insnRipHi(): number {
    return this.mode === 64 && this.bLo + this.cur.start >= TWO32 ? (this.bHi + 1) >>> 0 : this.bHi;
  }
  /**
   * FERR# (x87 error with CR0.NE = 0): the platform's IRQ 13 line (SDM Vol. 1 8.7.1). Set by the
   * monitor; without one the signal goes nowhere, as on a board that does not wire it.
   */
  onFerr: (() => void) | null = null;
  /** @internal */ ferr(): void { if (this.onFerr !== null) this.onFerr(); }
  /** @internal */ nextInsn(d: DI): number { return this.fallThrough(d); }
  /** @internal */ awaitMsr(): void { this.pendingIn = 4; }
  /** @internal */ tscLo(): number { this.sys.readTsc(this.retiredNow()); return this.sys.tscLo; }
  /** @internal */ setTsc(lo: number, hi: number): void { this.sys.writeTsc(lo, hi, this.retiredNow()); }
  /** @internal */ tscHi(): number { this.sys.readTsc(this.retiredNow()); return this.sys.tscHi; }
  /** Instructions of this run up to and including the current one (the TSC's time; `retired` counts per block). */
  private retiredNow(): number {
    // inside a compiled region, jitN counts the region's instructions before the current one
    // (published by the generated code before it calls exec)
    if (this.inRegion) return this.retired + this.jitN + 1;
    const b = this.curBlock;
    return this.retired + (b === null ? 0 : b.insns.indexOf(this.cur)) + 1;
  }
  private curBlock: Block | null = null;
  private inRegion = false;

  /**
   * True when a maskable interrupt can be taken now: RFLAGS.IF = 1 and no interrupt shadow (STI,
   * MOV SS, POP SS) is active (SDM Vol. 3A §6.8.3; VMX interruptibility state).
   */
  get interruptible(): boolean {
    return (this.u[S_RFLAGS]! & IF) !== 0 && !this.sys.shadow;
  }

  /** True while NMIs are blocked: from the delivery of an NMI until the next IRET (SDM Vol. 3A §6.7.1). */
  get nmiBlocked(): boolean {
    return this.sys.nmiBlocked;
  }

  /**
   * Queues an event for delivery at the start of the next run() (the monitor's VM-entry injection;
   * for example #GP(0) after an rdmsr/wrmsr exit for an MSR nobody implements). `kind`: 'exception',
   * 'nmi', 'interrupt' (external) or 'software-interrupt'.
   */
  injectEvent(kind: 'exception' | 'nmi' | 'interrupt' | 'software-interrupt', vector: number, errorCode?: number): void {
    const sys = this.sys;
    sys.injKind = kind === 'exception' ? EV_EXCEPTION : kind === 'nmi' ? EV_NMI : kind === 'interrupt' ? EV_EXTERNAL : EV_SOFT_INT;
    sys.injVector = vector & 0xff;
    sys.injHasErr = errorCode !== undefined;
    sys.injErr = (errorCode ?? 0) >>> 0;
  }

  // =====================================================================================
  // Run loop
  // =====================================================================================

  run(options: RunOptions): VcpuExit {
    const u = this.u;
    const ex = this.exitRecord;
    this.retired = 0;
    const budget = Math.max(0, Math.floor(options.maxInstructions));
    if (this.phys.generation !== this.tlbGeneration) {
      this.flushTlb();
      this.tlbGeneration = this.phys.generation;
    }
    this.sys.pendVector = -1;
    // an exception injected for an RDMSR exit faults the instruction: EDX:EAX keep their values
    if (this.pendingIn === 4 && this.sys.injKind === EV_EXCEPTION) this.pendingIn = 0;
    if (this.pendingIn !== 0 && !this.completeIn()) return this.exit;
    if (this.sys.injKind >= 0) {
      const sys = this.sys;
      const k = sys.injKind;
      sys.injKind = -1;
      if (k === EV_EXCEPTION && this.exitRecord.reason !== 'budget' && (this.exitRecord.reason === 'rdmsr' || this.exitRecord.reason === 'wrmsr')) {
        // an exception injected for an MSR exit is a fault on that instruction
        u[S_RIP] = this.exitRecord.ripLo;
        u[S_RIP + 1] = this.exitRecord.ripHi;
        this.pendingIn = 0;
      }
      if (sys.deliver(k, sys.injVector, sys.injHasErr, sys.injErr, u[S_RIP]!, u[S_RIP + 1]!) !== ST_OK) {
        this.setExit(this.exitRecord.reason, u[S_RIP]!, u[S_RIP + 1]!, u[S_RIP]!, u[S_RIP + 1]!);
        return this.exit;
      }
    }
    for (;;) {
      const left = budget - this.retired;
      if (left <= 0) {
        this.setExit('budget', u[S_RIP]!, u[S_RIP + 1]!, u[S_RIP]!, u[S_RIP + 1]!);
        break;
      }
      this.budgetLeft = left;
      if (this.interruptWindowExiting && (u[S_RFLAGS]! & IF) !== 0 && !this.sys.shadow) {
        this.setExit('interrupt-window', u[S_RIP]!, u[S_RIP + 1]!, u[S_RIP]!, u[S_RIP + 1]!);
        break;
      }
      if (this.nmiWindowExiting && !this.sys.nmiBlocked && !this.sys.shadow) {
        this.setExit('nmi-window', u[S_RIP]!, u[S_RIP + 1]!, u[S_RIP]!, u[S_RIP + 1]!);
        break;
      }
      if ((u[S_RFLAGS]! & TF) !== 0 || (u[S_DR7]! & 0xff) !== 0 || this.sys.heldDb !== 0 ||
          ((u[S_CR0]! & u[S_RFLAGS]! & AC) !== 0 && this.cpl === 3)) {
        // debug mode: one instruction at a time with breakpoints and single-step (SDM Vol. 3A ch. 18),
        // also used for alignment checking (CR0.AM = EFLAGS.AC = 1 at CPL 3, SDM §6.15 Interrupt 17)
        if (this.stepDebug() !== 0) break;
        continue;
      }
      if (this.sys.shadow) {
        // the instruction after STI / MOV SS / POP SS runs alone; the shadow ends when it completes
        const b1 = this.fetchBlock();
        if (b1 === null) {
          if (this.sys.pendVector >= 0 && this.deliverPending()) continue;
          break;
        }
        const before = this.retired;
        const r1 = this.execBlock(b1, 1);
        if (this.retired !== before || r1 === 0) this.sys.shadow = false;
        if (r1 !== 0) break;
        continue;
      }
      // block lookup cache first (valid while the page's fetch-TLB entry is the one it was made
      // under, the page holds its code and the mode is the block's), then the fetch TLB and the
      // page's block map
      let lo = u[S_RIP]!, hi = u[S_RIP + 1]!;
      if (this.mode !== 64) {
        lo = (lo + u[S_SEG + CS * SEG_STRIDE + SEG_BASE]!) >>> 0;
        hi = 0;
      }
      const j = lo & BC_MASK;
      const ti = (lo >>> 12) & TLB_MASK;
      let blk: Block | null = this.bcBlk[j]!;
      if (blk === null || this.bcLo[j] !== lo || this.bcHi[j] !== hi || this.bcGen[j] !== this.xGen[ti] ||
          this.tagX[ti] !== hi * 1048576 + (lo >>> 12) || !blk.page!.valid || blk.mode !== this.mode) {
        blk = this.fetchBlock();
        if (blk === null) {
          if (this.sys.pendVector >= 0 && this.deliverPending()) continue;
          break;
        }
        if (blk.page !== null) {
          this.bcBlk[j] = blk;
          this.bcLo[j] = lo;
          this.bcHi[j] = hi;
          this.bcGen[j] = this.xGen[ti]!;
        }
      }
      if (blk.fn !== null && blk.n <= left) {
        if (this.execCompiled(blk, left) !== 0) break;
        continue;
      }
      if (blk.hits++ >= this.jitThreshold && blk.fn === null && blk.insns[0] !== this.scratchDI) {
        const reg = this.compiler.compile(this.regionBlocks, this.regionOf(blk, lo));
        if (reg === null) blk.hits = -Infinity; // nothing to gain: stay interpreted
        else {
          blk.fn = reg.fn;
          blk.jitD = reg.D;
          this.compiledBlocks++;
          if (blk.n <= left) {
            if (this.execCompiled(blk, left) !== 0) break;
            continue;
          }
        }
      }
      if (this.execBlock(blk, left) !== 0) break;
    }
    ex.instructions = this.retired;
    return this.exit;
  }

  private setExit(reason: ExitReason, lo: number, hi: number, nlo: number, nhi: number): void {
    const ex = this.exitRecord;
    ex.reason = reason;
    ex.ripLo = lo;
    ex.ripHi = hi;
    ex.nextRipLo = nlo;
    ex.nextRipHi = nhi;
  }

  /**
   * Executes one instruction with the debug checks (SDM Vol. 3A §18.3.1, §6.8.3): an instruction
   * breakpoint is a fault before it (suppressed by RF); after it, single-step (TF at its start, DR6.BS)
   * and data breakpoints are one #DB trap; after MOV SS / POP SS they are held for one instruction.
   * Returns 0 to continue, 1 to stop (exit filled).
   */
  private stepDebug(): number {
    const u = this.u;
    const sys = this.sys;
    const lo = this.mode === 64 ? u[S_RIP]! : (u[S_RIP]! + u[S_SEG + CS * SEG_STRIDE + SEG_BASE]!) >>> 0;
    const hi = this.mode === 64 ? u[S_RIP + 1]! : 0;
    if (sys.heldDb < 0) {
      // a trap from an instruction that ended with an exit: deliver it before the next one
      const bits = sys.heldDb & 0x7fffffff;
      sys.heldDb = 0;
      sys.reportDb(bits);
      sys.fault(DB, false, 0);
      return this.deliverPending() ? 0 : 1; // the exception bitmap decides: deliver or exit
    }
    if ((u[S_RFLAGS]! & RF) === 0 && (u[S_DR7]! & 0xff) !== 0) {
      const b = sys.codeBreakpoints(lo, hi);
      if (b !== 0) {
        sys.reportDb(b);
        sys.fault(DB, false, 0);
        return this.deliverPending() ? 0 : 1;
      }
    }
    const tf = (u[S_RFLAGS]! & TF) !== 0;
    const held = sys.heldDb;
    sys.heldDb = 0;
    sys.shadow = false; // one instruction runs here: any interrupt shadow ends with it
    const blk = this.fetchBlock();
    if (blk === null) return this.sys.pendVector >= 0 && this.deliverPending() ? 0 : 1;
    const d = blk.insns[0]!;
    const i = d.i;
    const m = i.mnemonic;
    let aLo = 0, aHi = 0;
    // LEA, NOP/prefetch/fence forms and INVLPG name memory without accessing it
    const mem = d.hasMem && m !== Mnemonic.Lea && d.op !== Op.Nop && m !== Mnemonic.Invlpg && (u[S_DR7]! & 0xff) !== 0;
    if (mem) { this.lin(d); aLo = this.aLo; aHi = this.aHi; }
    if (d.hasMem && m !== Mnemonic.Lea && (u[S_CR0]! & u[S_RFLAGS]! & AC) !== 0 && this.cpl === 3) {
      this.lin(d);
      const size = d.memBits >>> 3;
      if (size > 1 && (this.aLo & (size - 1)) !== 0) {
        this.cur = d;
        this.sys.fault(17, true, 0); // #AC(0)
        return this.deliverPending() ? 0 : 1;
      }
    }
    const before = this.retired;
    // implicit operands (stack, string elements, ports) are matched as they are accessed
    const watch = (u[S_DR7]! & 0xff) !== 0;
    this.watch = watch;
    this.watchBits = 0;
    sys.watch = watch;
    sys.watchBits = 0;
    this.stepping = tf;
    const r = this.execBlock(blk, 1);
    this.stepping = false;
    this.watch = false;
    sys.watch = false;
    if (this.retired === before) return r; // faulted: delivered (0) or an exit (1); no trap
    let bits = this.watchBits | sys.watchBits;
    if (tf && m !== Mnemonic.Int && m !== Mnemonic.Int3 && m !== Mnemonic.Into && m !== Mnemonic.Int1) bits |= 0x4000;
    if (mem) bits |= sys.dataBreakpoints(aLo, aHi, d.memBits >>> 3, d.memWr, true);
    if (m !== Mnemonic.Iret && m !== Mnemonic.Iretd && m !== Mnemonic.Iretq) u[S_RFLAGS] = u[S_RFLAGS]! & ~RF;
    bits |= held;
    if ((m === Mnemonic.Mov || m === Mnemonic.Pop) && i.opKind0 === OpKind.Reg && i.reg0 === 194) {
      // MOV SS / POP SS: debug exceptions wait until after the next instruction (SDM §6.8.3)
      sys.heldDb = bits;
      return r;
    }
    if (bits === 0) return r;
    if (r !== 0) {
      sys.heldDb = bits | 0x80000000;
      return r;
    }
    sys.reportDb(bits);
    sys.fault(DB, false, 0);
    return this.deliverPending() ? 0 : 1;
  }

  /** Executes up to `left` instructions of the block; 0 to continue with the next block, 1 to stop. */
  private execBlock(b: Block, left: number): number {
    const u = this.u;
    const insns = b.insns;
    let n = b.n;
    if (n > left) n = left;
    this.bLo = u[S_RIP]!;
    this.bHi = u[S_RIP + 1]!;
    this.smc = false;
    this.curBlock = b;
    for (let k = 0; k < n; k++) {
      const d = insns[k]!;
      this.cur = d;
      const r = this.exec(d);
      if (r !== C_NEXT) {
        if (r === C_JUMP) {
          this.retired += k + 1;
          return 0;
        }
        if (r === C_DONE) {
          this.retired += k + 1;
          this.exitRecord.instructions = this.retired;
          return 1;
        }
        // fault: RIP at the faulting instruction, not retired
        this.retired += k;
        this.setRipAt(d.start);
        if (this.sys.pendVector >= 0 && this.deliverPending()) return 0;
        return 1;
      }
      if (this.smc) {
        this.retired += k + 1;
        this.setRipAt(d.end);
        return 0;
      }
    }
    this.retired += n;
    this.setRipAt(insns[n - 1]!.end);
    return 0;
  }

  /**
   * Runs a compiled region whose entry block fits in the budget; same bookkeeping as execBlock.
   * The function sets RIP and `jitN` (instructions retired) itself (jit/compile.ts).
   */
  private execCompiled(b: Block, left: number): number {
    const u = this.u;
    this.bLo = u[S_RIP]!;
    this.bHi = u[S_RIP + 1]!;
    this.smc = false;
    this.inRegion = true;
    const st = b.fn!(this, u, b.jitD!, left);
    this.inRegion = false;
    this.retired += this.jitN;
    if (st === C_NEXT || st === C_JUMP) return 0;
    if (st === C_DONE) {
      this.exitRecord.instructions = this.retired;
      return 1;
    }
    if (this.sys.pendVector >= 0 && this.deliverPending()) return 0;
    return 1;
  }

  /**
   * The blocks a compiled region starting at `entry` covers (into this.regionBlocks; returns their
   * page offsets): in 64-bit mode, up to MAX_REGION blocks of the entry's page reached by direct
   * branches and fall-through from the entry (RIP = linear there, so page offsets stand for RIPs);
   * otherwise the entry block alone.
   */
  private regionOf(entry: Block, lo: number): number[] {
    const blocks = this.regionBlocks;
    blocks.length = 0;
    blocks.push(entry);
    const offs = [lo & 0xfff];
    const page = entry.page;
    if (this.mode !== 64 || page === null) return offs;
    for (let q = 0; q < blocks.length && blocks.length < MAX_REGION; q++) {
      const b = blocks[q]!;
      const last = b.insns[b.n - 1]!;
      const o = offs[q]!;
      const targets: number[] = [];
      if (last.op === Op.Jcc || last.op === Op.JmpRel) {
        if (last.i.opSize === 64) targets.push(o + last.end + (last.immHi === 0 ? last.imm : last.imm - TWO32));
        if (last.op === Op.Jcc) targets.push(o + last.end);
      } else if (last.op !== Op.Generic && last.op !== Op.Invalid && last.op !== Op.TooLong) targets.push(o + last.end);
      for (const t of targets) {
        if (t < 0 || t >= 4096 || offs.includes(t) || blocks.length >= MAX_REGION) continue;
        // only blocks the interpreter has already decoded (no speculative decoding, no fetch faults)
        const nb = page.blocks.get(t);
        if (nb === undefined || nb.mode !== 64 || nb.n === 0) continue;
        blocks.push(nb);
        offs.push(t);
      }
    }
    return offs;
  }

  /** RIP = block start + offset, wrapped to the code size. */
  private setRipAt(off: number): void {
    const u = this.u;
    const lo = this.bLo + off;
    if (this.mode === 64) {
      u[S_RIP] = lo;
      u[S_RIP + 1] = lo >= TWO32 ? this.bHi + 1 : this.bHi;
    } else {
      u[S_RIP] = this.mode === 32 ? lo : lo & 0xffff;
      u[S_RIP + 1] = 0;
    }
  }

  /** Low half of the next instruction's RIP (high half: `nextHi`). */
  private nextLo(d: DI): number {
    const lo = this.bLo + d.end;
    return this.mode === 16 ? lo & 0xffff : lo >>> 0;
  }
  private nextHi(d: DI): number {
    return this.mode === 64 && this.bLo + d.end >= TWO32 ? (this.bHi + 1) >>> 0 : this.bHi;
  }

  /** Finds or builds the block at RIP; null when fetching faulted (exit filled). */
  private fetchBlock(): Block | null {
    const u = this.u;
    let lo = u[S_RIP]!, hi = u[S_RIP + 1]!;
    if (this.mode !== 64) {
      const base = u[S_SEG + CS * SEG_STRIDE + SEG_BASE]!;
      lo = (lo + base) >>> 0;
      hi = 0;
    }
    const i = (lo >>> 12) & TLB_MASK;
    const tag = hi * 1048576 + (lo >>> 12);
    if (this.tagX[i] !== tag) {
      if (!this.fillX(lo, hi, i, tag)) {
        this.bLo = u[S_RIP]!;
        this.bHi = u[S_RIP + 1]!;
        this.scratchDI.start = 0;
        this.scratchDI.end = 0;
        return null;
      }
    }
    let page = this.xCode[i]!;
    if (page === null || !page.valid) {
      page = this.codePage(this.xPpn[i]!);
      this.xCode[i] = page;
    }
    const off = lo & 0xfff;
    const b = page.blocks.get(off);
    if (b !== undefined && b.mode === this.mode) return b;
    const nb = this.buildBlock(i, off, lo, hi);
    if (nb !== null && nb.n > 0 && nb.insns[0] !== this.scratchDI) {
      nb.page = page;
      page.blocks.set(off, nb);
    }
    return nb;
  }

  private codePage(ppn: number): CodePage {
    let p = this.codePages.get(ppn);
    if (p === undefined) {
      p = new CodePage(ppn);
      this.codePages.set(ppn, p);
      // no fast writes to a page holding decoded code: the slow write path invalidates it
      for (let k = 0; k < TLB_SIZE; k++) if (this.tagW[k] !== -1 && this.tPpn[k] === ppn) this.tagW[k] = -1;
    }
    return p;
  }

  /** Invalidates the decoded code of host page `ppn` (a write is about to change it). */
  private invalidateCode(ppn: number): void {
    const p = this.codePages.get(ppn);
    if (p === undefined) return;
    p.valid = false;
    this.codePages.delete(ppn);
    for (let k = 0; k < TLB_SIZE; k++) if (this.xCode[k] === p) this.xCode[k] = null;
    this.smc = true;
  }

  /**
   * Decodes a block starting at page offset `off` of the fetch-TLB entry `ti`. An instruction that
   * crosses the page end is decoded from a gathered copy into a one-instruction, uncached block.
   */
  private buildBlock(ti: number, off: number, lo: number, hi: number): Block | null {
    const bytes = this.xBytes[ti]!;
    const base = this.xOff[ti]!;
    const b = new Block();
    b.mode = this.mode;
    let pos = off;
    while (b.n < MAX_BLOCK && pos < 4096) {
      const d = new DI();
      const st = decodeInto(d.i, bytes, base + pos, base + 4096, this.mode as 16 | 32 | 64);
      if (st === DecodeStatus.NeedMore) {
        if (b.n > 0) break;
        // crosses into the next page: gather up to 15 bytes through the fetch path
        const avail = 4096 - pos;
        for (let k = 0; k < avail; k++) this.fetchBuf[k] = bytes[base + pos + k]!;
        let got = avail;
        const nlo = (lo - off + 4096) >>> 0;
        const nhi = nlo === 0 && this.mode === 64 ? (hi + 1) >>> 0 : hi;
        const j = (nlo >>> 12) & TLB_MASK;
        const tag2 = nhi * 1048576 + (nlo >>> 12);
        if (this.tagX[j] !== tag2 && !this.fillX(nlo, nhi, j, tag2)) {
          // #PF on the second page: the fault belongs to this instruction
          this.bLo = this.u[S_RIP]!;
          this.bHi = this.u[S_RIP + 1]!;
          return null;
        }
        const b2 = this.xBytes[j]!, o2 = this.xOff[j]!;
        while (got < 15) { this.fetchBuf[got] = b2[o2 + got - avail]!; got++; }
        const sd = this.scratchDI;
        decodeInto(sd.i, this.fetchBuf, 0, 15, this.mode as 16 | 32 | 64);
        this.prepare(sd, 0);
        const tb = new Block();
        tb.mode = this.mode;
        tb.insns.push(sd);
        tb.n = 1;
        return tb;
      }
      this.prepare(d, pos - off);
      b.insns.push(d);
      b.n++;
      pos += d.i.status === DecodeStatus.Ok ? d.i.length : 1;
      if (d.op === Op.Invalid || d.op === Op.TooLong || BLOCK_END[d.i.mnemonic] === 1 || d.i.rep !== 0) break;
      if (d.op === Op.Generic && this.endsBlockGeneric(d.i)) break;
    }
    return b;
  }

  /** Generic instructions that may change CS, mode or the code: end the block after them. */
  private endsBlockGeneric(i: Insn): boolean {
    const m = i.mnemonic;
    if (m === Mnemonic.Mov && i.opKind0 === OpKind.Reg && (i.reg0 >> 5) >= 6) return true; // MOV Sreg/CR/DR
    if (m === Mnemonic.Pop && i.opKind0 === OpKind.Reg && (i.reg0 >> 5) === 6) return true;
    return false;
  }

  /** Fills the interpreter's precomputed fields of a decoded instruction. */
  private prepare(d: DI, start: number): void {
    const i = d.i;
    d.start = start;
    d.end = start + (i.status === DecodeStatus.Ok ? i.length : 1);
    d.op = Op.Generic;
    if (i.status !== DecodeStatus.Ok) {
      d.op = i.status === DecodeStatus.TooLong ? Op.TooLong : Op.Invalid;
      return;
    }
    const fpu = fpuUnitOf(i);
    if (i.mnemonic === Mnemonic.INVALID || (fpu === 0 && i.mnemonic >= Mnemonic.Fadd)) {
      d.op = Op.Invalid;
      return;
    }
    // memory operand
    d.hasMem = i.opKind0 === OpKind.Mem || i.opKind1 === OpKind.Mem || i.opKind2 === OpKind.Mem;
    d.base = i.memBase === 0 ? -1 : (i.memBase >> 5) === 15 ? 16 : i.memBase & 15;
    d.index = i.memIndex === 0 ? -1 : i.memIndex & 15;
    d.scale = i.memScale;
    d.dLo = i.memDisp;
    d.dHi = i.memDispHi;
    d.seg = i.segment < 0 ? 3 : i.segment;
    d.asz = i.addrSize;
    d.memBits = i.operandWidth * 8;
    d.memWr = d.hasMem && writesMem(i, fpu);
    d.imm = i.imm;
    d.immHi = i.immHi;
    const k0 = i.opKind0, k1 = i.opKind1;
    d.size = k0 === OpKind.Reg ? gprBits(i.reg0) : k0 === OpKind.Mem ? d.memBits : i.opSize;
    if (d.size === 0) d.size = i.opSize;
    d.r0 = gprBits(i.reg0) !== 0 && (i.reg0 >> 5) !== 2 ? i.reg0 & 15 : -1;
    d.r1 = gprBits(i.reg1) !== 0 && (i.reg1 >> 5) !== 2 ? i.reg1 & 15 : -1;
    if (fpu !== 0) {
      d.op = fpu === 1 ? Op.X87 : Op.Simd;
      return;
    }
    if (i.lock !== 0) return; // keep locked forms on the generic path
    const m = i.mnemonic;
    const sz = d.size;
    const wide = sz === 32 || sz === 64;
    if (m >= Mnemonic.Add && m <= Mnemonic.Cmp && wide) {
      d.sub = m - Mnemonic.Add;
      if (k0 === OpKind.Reg && d.r0 >= 0) {
        if (k1 === OpKind.Reg && d.r1 >= 0) d.op = Op.AluRR;
        else if (isImm(k1)) d.op = Op.AluRI;
        else if (k1 === OpKind.Mem) d.op = Op.AluRM;
      } else if (k0 === OpKind.Mem) {
        if (k1 === OpKind.Reg && d.r1 >= 0) d.op = Op.AluMR;
        else if (isImm(k1)) d.op = Op.AluMI;
      }
    } else if (m === Mnemonic.Mov && wide) {
      if (k0 === OpKind.Reg && d.r0 >= 0) {
        if (k1 === OpKind.Reg && d.r1 >= 0) d.op = Op.MovRR;
        else if (isImm(k1)) d.op = Op.MovRI;
        else if (k1 === OpKind.Mem) d.op = Op.MovRM;
      } else if (k0 === OpKind.Mem) {
        if (k1 === OpKind.Reg && d.r1 >= 0) d.op = Op.MovMR;
        else if (isImm(k1)) d.op = Op.MovMI;
      }
    } else if (m === Mnemonic.Test && wide && k0 === OpKind.Reg && d.r0 >= 0) {
      if (k1 === OpKind.Reg && d.r1 >= 0) d.op = Op.TestRR;
      else if (isImm(k1)) d.op = Op.TestRI;
    } else if ((m === Mnemonic.Inc || m === Mnemonic.Dec) && wide && k0 === OpKind.Reg && d.r0 >= 0) {
      d.op = m === Mnemonic.Inc ? Op.IncR : Op.DecR;
    } else if (m >= Mnemonic.Jo && m <= Mnemonic.Jg) {
      d.sub = m - Mnemonic.Jo;
      d.op = Op.Jcc;
    } else if (m === Mnemonic.Jmp && k0 === OpKind.Rel) {
      d.op = Op.JmpRel;
    } else if (m === Mnemonic.Call && k0 === OpKind.Rel && this.mode === 64) {
      d.op = Op.CallRel;
    } else if (m === Mnemonic.Ret && i.opCount === 0 && this.mode === 64 && i.opSize === 64) {
      d.op = Op.RetNear;
    } else if (m === Mnemonic.Push && k0 === OpKind.Reg && d.r0 >= 0 && this.mode === 64 && sz === 64) {
      d.op = Op.PushR;
    } else if (m === Mnemonic.Pop && k0 === OpKind.Reg && d.r0 >= 0 && this.mode === 64 && sz === 64) {
      d.op = Op.PopR;
    } else if (m === Mnemonic.Lea && wide && d.r0 >= 0 && d.base !== 16) {
      d.op = Op.Lea;
    } else if (m >= Mnemonic.Rol && m <= Mnemonic.Sar && wide && k0 === OpKind.Reg && d.r0 >= 0 && (i.opCount < 2 || isImm(i.opKind1))) {
      d.sub = m - Mnemonic.Rol;
      d.imm = i.opCount < 2 ? 1 : i.imm;
      d.op = Op.ShiftRI;
    } else if (m === Mnemonic.Movzx && wide && d.r0 >= 0) {
      d.size = k1 === OpKind.Reg ? gprBits(i.reg1) : d.memBits;
      if (k1 === OpKind.Reg && d.r1 >= 0) d.op = Op.MovzxRR;
      else if (k1 === OpKind.Mem) d.op = Op.MovzxRM;
      d.sub = sz;
    } else if (m === Mnemonic.Nop || m === Mnemonic.Reservednop || (m >= Mnemonic.Lfence && m <= Mnemonic.Prefetchwt1) || m === Mnemonic.Endbr32 || m === Mnemonic.Endbr64) {
      d.op = Op.Nop;
    }
  }

  // =====================================================================================
  // Registers
  // =====================================================================================

  /** Reads GPR-class register id (Insn register id); high half of a 64-bit read in this.vh. */
  private rdReg(id: number): number {
    const u = this.u;
    const n = (id & 15) << 1;
    switch (id >> 5) {
      case 1: return u[n]! & 0xff;
      case 2: return (u[n]! >>> 8) & 0xff;
      case 3: return u[n]! & 0xffff;
      case 4: this.vh = 0; return u[n]!;
      case 5: this.vh = u[n + 1]!; return u[n]!;
      case 6: this.vh = 0; return u[S_SEG + (id & 7) * SEG_STRIDE + SEG_SEL]!;
      default: return 0;
    }
  }

  /** Writes a GPR-class register with x86 merge rules (32-bit writes zero the high half). */
  private wrReg(id: number, lo: number, hi: number): void {
    const u = this.u;
    const n = (id & 15) << 1;
    switch (id >> 5) {
      case 1: u[n] = (u[n]! & 0xffffff00) | (lo & 0xff); return;
      case 2: u[n] = (u[n]! & 0xffff00ff) | ((lo & 0xff) << 8); return;
      case 3: u[n] = (u[n]! & 0xffff0000) | (lo & 0xffff); return;
      case 4: u[n] = lo; u[n + 1] = 0; return;
      case 5: u[n] = lo; u[n + 1] = hi; return;
      default: return;
    }
  }

  /** Writes GPR number r (0..15) at operand size `size` (8 = low byte). */
  private wrGpr(r: number, size: number, lo: number, hi: number): void {
    const u = this.u;
    const n = r << 1;
    if (size === 32) { u[n] = lo; u[n + 1] = 0; }
    else if (size === 64) { u[n] = lo; u[n + 1] = hi; }
    else if (size === 16) u[n] = (u[n]! & 0xffff0000) | (lo & 0xffff);
    else u[n] = (u[n]! & 0xffffff00) | (lo & 0xff);
  }

  // =====================================================================================
  // Addresses and memory
  // =====================================================================================

  /** Computes the memory operand's linear address into aLo/aHi (SDM Vol. 1 §3.7.5, Vol. 3A §3.4). */
  private lin(d: DI): void {
    const u = this.u;
    let lo = d.dLo, hi = d.dHi;
    const b = d.base;
    if (b >= 0) {
      if (b === 16) {
        lo += this.nextLo(d);
        hi += this.nextHi(d);
      } else {
        lo += u[b << 1]!;
        hi += u[(b << 1) + 1]!;
      }
    }
    const x = d.index;
    if (x >= 0) {
      const s = d.scale;
      const xl = u[x << 1]!;
      lo += xl * s;
      hi += u[(x << 1) + 1]! * s;
    }
    this.finishLin(d, lo, hi);
  }

  /** Truncates an effective address (lo may exceed 32 bits) to the address size and adds the segment base. */
  private finishLin(d: DI, lo: number, hi: number): void {
    const asz = d.asz;
    const seg = d.seg;
    this.aSeg = seg;
    if (asz === 64) {
      const c = Math.floor(lo / TWO32);
      lo = lo >>> 0;
      hi = (hi + c) >>> 0;
      if (seg >= 4) {
        const o = S_SEG + seg * SEG_STRIDE;
        const s = lo + this.u[o + SEG_BASE]!;
        lo = s >>> 0;
        hi = (hi + this.u[o + SEG_BASE_HI]! + (s >= TWO32 ? 1 : 0)) >>> 0;
      }
      this.aLo = lo;
      this.aHi = hi;
      return;
    }
    const ea = asz === 32 ? lo >>> 0 : lo & 0xffff;
    if (this.mode === 64) {
      // 32-bit addressing in 64-bit mode: the EA is zero-extended; FS/GS bases still apply
      if (seg >= 4) {
        const o = S_SEG + seg * SEG_STRIDE;
        const s = ea + this.u[o + SEG_BASE]!;
        this.aLo = s >>> 0;
        this.aHi = (this.u[o + SEG_BASE_HI]! + (s >= TWO32 ? 1 : 0)) >>> 0;
      } else {
        this.aLo = ea;
        this.aHi = 0;
      }
      return;
    }
    this.aLo = (ea + this.u[S_SEG + seg * SEG_STRIDE + SEG_BASE]!) >>> 0;
    this.aHi = 0;
    if (this.segChk[seg] !== 0) this.checkLimit(seg, ea, d.memBits >>> 3, d.memWr);
  }

  /**
   * Segment limit / null-segment check (system/system.ts segFault): a violation poisons the address
   * (aHi = 0xFFFFFFFF can never hit the soft TLB outside 64-bit mode), so the access that follows
   * takes the slow path and `translate` raises the fault. No access, no fault (LEA-like uses).
   */
  private checkLimit(seg: number, ea: number, size: number, write: boolean): void {
    const v = this.sys.segFault(seg, ea, size === 0 ? 1 : size, write);
    if (v !== 0) {
      this.limitVec = v;
      this.aHi = 0xffffffff;
    }
  }

  /**
   * Linear address of seg:off for implicit operands (string, stack) with an address size; outside
   * 64-bit mode the segment checks cover all `bytes` bytes of the access and its direction.
   */
  private linOf(seg: number, off: number, offHi: number, asz: number, bytes: number, write: boolean): void {
    if (asz === 64) {
      if (seg >= 4) {
        const o = S_SEG + seg * SEG_STRIDE;
        const s = off + this.u[o + SEG_BASE]!;
        this.aLo = s >>> 0;
        this.aHi = (offHi + this.u[o + SEG_BASE_HI]! + (s >= TWO32 ? 1 : 0)) >>> 0;
      } else {
        this.aLo = off;
        this.aHi = offHi;
      }
    } else {
      const ea = asz === 32 ? off >>> 0 : off & 0xffff;
      if (this.mode === 64) {
        this.aLo = ea; this.aHi = 0;
        if (seg >= 4) {
          const o = S_SEG + seg * SEG_STRIDE;
          const s = ea + this.u[o + SEG_BASE]!;
          this.aLo = s >>> 0;
          this.aHi = (this.u[o + SEG_BASE_HI]! + (s >= TWO32 ? 1 : 0)) >>> 0;
        }
      } else {
        this.aLo = (ea + this.u[S_SEG + seg * SEG_STRIDE + SEG_BASE]!) >>> 0;
        this.aHi = 0;
        if (this.segChk[seg] !== 0) this.checkLimit(seg, ea, bytes, write);
      }
    }
    this.aSeg = seg;
  }

  /** Fills fetch-TLB entry i for the page of (lo, hi); false = fault/exit recorded. */
  private fillX(lo: number, hi: number, i: number, tag: number): boolean {
    if (!this.translate(lo, hi, ACC_FETCH)) return false;
    // this entry's translation changes: block-cache entries made under the old one stop matching
    const g = (this.xGen[i]! + 1) >>> 0;
    this.xGen[i] = g;
    if (g === 0) this.bcBlk.fill(null); // the count wrapped: an old entry could match again
    const pr = this.pres;
    const host = this.phys.host;
    const chunk = Math.floor(pr.hpa / host.chunkSize);
    this.xBytes[i] = host.ensureChunk(chunk);
    this.xOff[i] = pr.hpa - chunk * host.chunkSize;
    this.xPpn[i] = pr.hpa / 4096;
    this.xCode[i] = null;
    this.tagX[i] = tag;
    return true;
  }

  /** Fills read/write TLB entry for the page of (lo, hi) for `acc`; false = fault/exit recorded. */
  private fillRW(lo: number, hi: number, acc: number): boolean {
    if (!this.translate(lo, hi, acc)) return false;
    const pr = this.pres;
    const host = this.phys.host;
    const i = (lo >>> 12) & TLB_MASK;
    const tag = hi * 1048576 + (lo >>> 12);
    const chunk = Math.floor(pr.hpa / host.chunkSize);
    const ppn = pr.hpa / 4096;
    if (this.tagR[i] !== tag) this.tagR[i] = -1;
    if (this.tagW[i] !== tag) this.tagW[i] = -1;
    host.ensureChunk(chunk);
    this.tView[i] = host.views[chunk]!;
    this.tBytes[i] = host.chunks[chunk]!;
    this.tOff[i] = pr.hpa - chunk * host.chunkSize;
    this.tPpn[i] = ppn;
    if ((pr.perm & ACC_READ) !== 0) this.tagR[i] = tag;
    if (acc === ACC_WRITE) {
      if (this.codePages.has(ppn)) this.invalidateCode(ppn);
      this.tagW[i] = tag;
    }
    return true;
  }

  /**
   * Linear -> host translation of one page for `acc` into this.pres, checking canonical form.
   * Guest paging: not walked yet (linear = guest-physical); the memory room's walker plugs in here.
   */
  private translate(lo: number, hi: number, acc: number): boolean {
    if (hi === 0xffffffff && this.mode !== 64 && this.limitVec !== 0) {
      // a segment-limit violation found when the address was formed (checkLimit)
      const v = this.limitVec;
      this.limitVec = 0;
      this.raise(v, true, 0);
      return false;
    }
    if (this.mode === 64 && ((hi + this.canonAdd) >>> 0) >= this.canonLim) {
      // non-canonical: #SS(0) for stack references, else #GP(0) (SDM Vol. 3A §6.15)
      this.raise(this.aSeg === SS && acc !== ACC_FETCH ? SSF : GP, true, 0);
      return false;
    }
    const pr = this.pres;
    if (this.sys.mem.pagingOn) return this.walk(lo, hi, acc);
    if (!this.phys.translate(lo, hi, acc, pr) || (pr.perm & acc) === 0) {
      const ex = this.exitRecord;
      this.setExit(pr.misconfig ? 'ept-misconfig' : 'ept-violation', 0, 0, 0, 0);
      this.faultRip();
      ex.gpaLo = lo;
      ex.gpaHi = hi;
      ex.linearLo = lo;
      ex.linearHi = hi;
      ex.linearValid = true;
      ex.qualification = (acc === ACC_FETCH ? 4 : acc === ACC_WRITE ? 2 : 1) | (pr.entryPerm << 3) | 0x180; // linear valid, final (Table 28-7)
      this.copyInsnBytes();
      return false;
    }
    return true;
  }

  /**
   * Guest paging (SDM Vol. 3A ch. 4) through the system unit's walker: fills this.pres with the host
   * page of the translation, or raises #PF (CR2 = the linear address) / records the EPT exit.
   */
  private walk(lo: number, hi: number, acc: number): boolean {
    const sys = this.sys;
    const m = sys.mem;
    const flags = (this.cpl === 3 ? LA_USER : 0) | ((this.u[S_RFLAGS]! & AC) !== 0 ? LA_AC : 0);
    const st = m.translate(lo, hi, acc | flags);
    if (st === LIN_OK) {
      const pr = this.pres;
      pr.hpa = m.hostChunk * this.phys.host.chunkSize + (m.hostOffset - (m.hostOffset & 0xfff));
      pr.perm = acc === ACC_FETCH ? ACC_FETCH : acc === ACC_WRITE ? ACC_READ | ACC_WRITE : ACC_READ;
      return true;
    }
    if (st === LIN_EPT) {
      const ex = this.exitRecord;
      this.setExit(m.eptMisconfig ? 'ept-misconfig' : 'ept-violation', 0, 0, 0, 0);
      this.faultRip();
      ex.gpaLo = m.eptGpa >>> 0;
      ex.gpaHi = Math.floor(m.eptGpa / TWO32);
      ex.linearLo = lo;
      ex.linearHi = hi;
      ex.linearValid = true;
      ex.qualification = m.eptQual;
      this.copyInsnBytes();
      return false;
    }
    this.aLo = lo; // CR2 (raise) is the linear address that faulted, also for fetches
    this.aHi = hi;
    this.raise(PFV, true, m.pfError);
    return false;
  }

  /** SystemHost: a system-unit write reached host page `ppn`. */
  codeWritten(ppn: number): void {
    if (this.codePages.has(ppn)) this.invalidateCode(ppn);
  }

  /** Records the current instruction's RIP / next RIP in the exit record. */
  private faultRip(): void {
    const ex = this.exitRecord;
    const d = this.cur;
    const lo = this.bLo + d.start;
    ex.ripLo = this.mode === 16 ? lo & 0xffff : lo >>> 0;
    ex.ripHi = this.mode === 64 && lo >= TWO32 ? (this.bHi + 1) >>> 0 : this.bHi;
    ex.nextRipLo = this.nextLo(d);
    ex.nextRipHi = this.nextHi(d);
  }

  private copyInsnBytes(): void {
    // the decoder does not keep the bytes; the monitor re-reads them through guest memory
    this.exitRecord.insnLength = 0;
  }

  private rd8(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.tagR[i] === hi * 1048576 + (lo >>> 12)) return this.tBytes[i]![this.tOff[i]! + (lo & 0xfff)]!;
    return this.rdSlow(lo, hi, 1, ACC_READ);
  }
  private rd16(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tagR[i] === hi * 1048576 + (lo >>> 12) && o <= 0xffe) return this.tView[i]!.getUint16(this.tOff[i]! + o, true);
    return this.rdSlow(lo, hi, 2, ACC_READ);
  }
  private rd32(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tagR[i] === hi * 1048576 + (lo >>> 12) && o <= 0xffc) return this.tView[i]!.getUint32(this.tOff[i]! + o, true);
    return this.rdSlow(lo, hi, 4, ACC_READ);
  }
  /** 64-bit read: returns the low half, the high half in this.vh. */
  private rd64(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tagR[i] === hi * 1048576 + (lo >>> 12) && o <= 0xff8) {
      const v = this.tView[i]!;
      const p = this.tOff[i]! + o;
      this.vh = v.getUint32(p + 4, true);
      return v.getUint32(p, true);
    }
    return this.rdSlow(lo, hi, 8, ACC_READ);
  }
  /** Reads `bytes` (1/2/4/8) at the linear address; -1 on fault. */
  private rdN(lo: number, hi: number, bytes: number): number {
    switch (bytes) {
      case 1: return this.rd8(lo, hi);
      case 2: return this.rd16(lo, hi);
      case 4: return this.rd32(lo, hi);
      default: return this.rd64(lo, hi);
    }
  }
  /** Read with write intent (checks the write permission first, for read-modify-write). */
  private rwN(lo: number, hi: number, bytes: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tagW[i] === hi * 1048576 + (lo >>> 12) && o <= 4096 - bytes) {
      const v = this.tView[i]!;
      const p = this.tOff[i]! + o;
      switch (bytes) {
        case 1: return this.tBytes[i]![p]!;
        case 2: return v.getUint16(p, true);
        case 4: return v.getUint32(p, true);
        default: this.vh = v.getUint32(p + 4, true); return v.getUint32(p, true);
      }
    }
    return this.rdSlow(lo, hi, bytes, ACC_WRITE);
  }

  /** Slow read: fills the TLB, handles page-crossing accesses byte by byte; -1 on fault. */
  private rdSlow(lo: number, hi: number, bytes: number, acc: number): number {
    const o = lo & 0xfff;
    if (o + bytes <= 4096) {
      if (!this.fillRW(lo, hi, acc)) return -1;
      const i = (lo >>> 12) & TLB_MASK;
      const v = this.tView[i]!;
      const p = this.tOff[i]! + o;
      switch (bytes) {
        case 1: return this.tBytes[i]![p]!;
        case 2: return v.getUint16(p, true);
        case 4: return v.getUint32(p, true);
        default: this.vh = v.getUint32(p + 4, true); return v.getUint32(p, true);
      }
    }
    // split access: translate both pages before reading anything
    const lo2 = (lo - o + 4096) >>> 0;
    const hi2 = lo2 === 0 ? (this.mode === 64 ? (hi + 1) >>> 0 : 0) : hi;
    if (!this.fillRW(lo, hi, acc) || !this.fillRW(lo2, hi2, acc)) return -1;
    let vlo = 0, vhi = 0;
    for (let k = 0; k < bytes; k++) {
      const a = o + k;
      const pi = a < 4096 ? (lo >>> 12) & TLB_MASK : (lo2 >>> 12) & TLB_MASK;
      const byte = this.tBytes[pi]![this.tOff[pi]! + (a & 0xfff)]!;
      if (k < 4) vlo |= byte << (8 * k); else vhi |= byte << (8 * (k - 4));
    }
    this.vh = vhi >>> 0;
    return vlo >>> 0;
  }

  /** Writes `bytes` at the linear address; false on fault (nothing written then). */
  private wrN(lo: number, hi: number, bytes: number, v: number, vhi: number): boolean {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tagW[i] === hi * 1048576 + (lo >>> 12) && o <= 4096 - bytes) {
      const dv = this.tView[i]!;
      const p = this.tOff[i]! + o;
      switch (bytes) {
        case 1: this.tBytes[i]![p] = v; return true;
        case 2: dv.setUint16(p, v, true); return true;
        case 4: dv.setUint32(p, v, true); return true;
        default: dv.setUint32(p, v, true); dv.setUint32(p + 4, vhi, true); return true;
      }
    }
    return this.wrSlow(lo, hi, bytes, v, vhi);
  }

  private wr32(lo: number, hi: number, v: number): boolean {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.tagW[i] === hi * 1048576 + (lo >>> 12) && o <= 0xffc) {
      this.tView[i]!.setUint32(this.tOff[i]! + o, v, true);
      return true;
    }
    return this.wrSlow(lo, hi, 4, v, 0);
  }

  private wrSlow(lo: number, hi: number, bytes: number, v: number, vhi: number): boolean {
    const o = lo & 0xfff;
    if (o + bytes <= 4096) {
      if (!this.fillRW(lo, hi, ACC_WRITE)) return false;
      return this.wrN(lo, hi, bytes, v, vhi);
    }
    const lo2 = (lo - o + 4096) >>> 0;
    const hi2 = lo2 === 0 ? (this.mode === 64 ? (hi + 1) >>> 0 : 0) : hi;
    if (!this.fillRW(lo, hi, ACC_WRITE) || !this.fillRW(lo2, hi2, ACC_WRITE)) return false;
    const i1 = (lo >>> 12) & TLB_MASK, i2 = (lo2 >>> 12) & TLB_MASK;
    for (let k = 0; k < bytes; k++) {
      const a = o + k;
      const byte = (k < 4 ? v >>> (8 * k) : vhi >>> (8 * (k - 4))) & 0xff;
      if (a < 4096) this.tBytes[i1]![this.tOff[i1]! + a] = byte;
      else this.tBytes[i2]![this.tOff[i2]! + (a - 4096)] = byte;
    }
    return true;
  }

  // =====================================================================================
  // Events
  // =====================================================================================

  /**
   * Raises exception `vector` for the current instruction. THE one place events are raised: the
   * system unit delivers it through the IVT/IDT, or (exception bitmap) the run ends with an
   * `exception` exit (RIP = the faulting instruction). Returns C_FAULT for `return this.raise(...)`.
   */
  raise(vector: number, hasErr: boolean, err: number): number {
    const ex = this.exitRecord;
    ex.reason = 'exception';
    this.faultRip();
    ex.vector = vector;
    ex.hasErrorCode = hasErr;
    ex.errorCode = err;
    if (vector === PFV) {
      ex.cr2Lo = this.aLo;
      ex.cr2Hi = this.aHi;
      this.u[S_CR2] = this.aLo;
      this.u[S_CR2 + 1] = this.aHi;
    }
    // the system unit delivers it through the IVT/IDT once RIP is back on the instruction
    this.sys.fault(vector, hasErr, err);
    return C_FAULT;
  }

  /**
   * Delivers the exception raised by the instruction at RIP (system/system.ts `deliver`, with the
   * #DF / triple-fault rules). True: the vCPU continues at the handler. False: an exit is filled
   * (shutdown, or an EPT violation on the IDT/stack).
   */
  private deliverPending(): boolean {
    const sys = this.sys;
    const u = this.u;
    const v = sys.pendVector;
    sys.pendVector = -1;
    if (v < 0) return false;
    const lo = u[S_RIP]!, hi = u[S_RIP + 1]!;
    if (((this.exceptionBitmap >>> v) & 1) !== 0) {
      // intercepted: an exception exit at the faulting instruction
      const ex = this.exitRecord;
      this.faultRip();
      ex.reason = 'exception';
      ex.ripLo = lo;
      ex.ripHi = hi;
      ex.vector = v;
      ex.hasErrorCode = sys.pendHasErr;
      ex.errorCode = sys.pendErr;
      if (v === PFV) { ex.cr2Lo = u[S_CR2]!; ex.cr2Hi = u[S_CR2 + 1]!; }
      return false;
    }
    const r = sys.deliver(EV_EXCEPTION, v, sys.pendHasErr, sys.pendErr, lo, hi);
    if (r === ST_OK) return true;
    this.setExit(this.exitRecord.reason, lo, hi, lo, hi);
    return false;
  }

  /** Ends the run with `invalid-state` for an instruction the core does not implement yet. */
  notYet(what: string): number {
    const ex = this.exitRecord;
    ex.reason = 'invalid-state';
    this.faultRip();
    ex.message = `${what} is not implemented by the CPU model`;
    return C_FAULT;
  }

  // =====================================================================================
  // Operands (generic path)
  // =====================================================================================

  private kindOf(i: Insn, k: number): number {
    return k === 0 ? i.opKind0 : k === 1 ? i.opKind1 : k === 2 ? i.opKind2 : i.opKind3;
  }
  private regOf(i: Insn, k: number): number {
    return k === 0 ? i.reg0 : k === 1 ? i.reg1 : k === 2 ? i.reg2 : i.reg3;
  }

  /** Value of operand k (memory at its own width); -1 on fault; high half in this.vh. */
  private get(d: DI, k: number, rmw: boolean): number {
    const i = d.i;
    switch (this.kindOf(i, k)) {
      case OpKind.Reg: return this.rdReg(this.regOf(i, k));
      case OpKind.Mem: {
        const bytes = d.memBits >>> 3;
        this.vh = 0;
        return rmw ? this.rwN(this.aLo, this.aHi, bytes) : this.rdN(this.aLo, this.aHi, bytes);
      }
      case OpKind.Imm8_2: this.vh = 0; return i.imm2;
      default: this.vh = d.immHi; return d.imm;
    }
  }

  /** Writes operand k at `size` bits; false on fault. */
  private put(d: DI, k: number, size: number, lo: number, hi: number): boolean {
    const i = d.i;
    if (this.kindOf(i, k) === OpKind.Mem) return this.wrN(this.aLo, this.aHi, size >>> 3, lo, hi);
    this.wrReg(this.regOf(i, k), lo, hi);
    return true;
  }

  // =====================================================================================
  // Stack (SDM Vol. 1 §6.2)
  // =====================================================================================

  private push(size: number, lo: number, hi: number): boolean {
    const u = this.u;
    const bytes = size >>> 3;
    let sp: number, sph = 0;
    if (this.stk === 64) {
      sp = u[8]! - bytes;
      sph = sp < 0 ? (u[9]! - 1) >>> 0 : u[9]!;
      sp >>>= 0;
    } else if (this.stk === 32) sp = (u[8]! - bytes) >>> 0;
    else sp = (u[8]! - bytes) & 0xffff;
    this.linOf(SS, sp, sph, this.stk, bytes, true);
    if (!this.wrN(this.aLo, this.aHi, bytes, lo, hi)) return false;
    if (this.watch) this.noteAccess(bytes, true);
    if (this.stk === 64) { u[8] = sp; u[9] = sph; } else if (this.stk === 32) u[8] = sp;
    else u[8] = (u[8]! & 0xffff0000) | sp;
    return true;
  }

  /** Reads the top of stack at `size` bits without popping; -1 on fault. `skip` bytes above RSP. */
  private peek(size: number, skip: number): number {
    const u = this.u;
    let sp = u[8]! + skip, sph = this.stk === 64 ? u[9]! : 0;
    if (this.stk === 64) { if (sp >= TWO32) sph = (sph + 1) >>> 0; sp >>>= 0; }
    else if (this.stk === 32) sp >>>= 0; else sp &= 0xffff;
    this.linOf(SS, sp, sph, this.stk, size >>> 3, false);
    this.vh = 0;
    const v = this.rdN(this.aLo, this.aHi, size >>> 3);
    if (this.watch && v >= 0) this.noteAccess(size >>> 3, false);
    return v;
  }

  /** Matches the implicit access just made at aLo/aHi against the data breakpoints (watch on). */
  private noteAccess(bytes: number, write: boolean): void {
    this.watchBits |= this.sys.dataBreakpoints(this.aLo, this.aHi, bytes, write, !write);
  }

  private addSp(bytes: number): void {
    const u = this.u;
    if (this.stk === 64) {
      const s = u[8]! + bytes;
      u[8] = s;
      if (s >= TWO32) u[9] = u[9]! + 1;
    } else if (this.stk === 32) u[8] = u[8]! + bytes;
    else u[8] = (u[8]! & 0xffff0000) | ((u[8]! + bytes) & 0xffff);
  }

  // =====================================================================================
  // Control transfer helpers
  // =====================================================================================

  /** Jumps to (lo, hi) truncated to operand size `osz`; #GP(0) if non-canonical in 64-bit mode. */
  private jumpTo(lo: number, hi: number, osz: number): number {
    const u = this.u;
    if (this.mode === 64 && osz === 64) {
      if (((hi + this.canonAdd) >>> 0) >= this.canonLim) return this.raise(GP, true, 0);
      u[S_RIP] = lo;
      u[S_RIP + 1] = hi;
    } else {
      const ip = osz === 16 ? lo & 0xffff : lo >>> 0;
      // outside 64-bit mode the target must lie within the CS limit (SDM JMP: #GP(0))
      if (this.mode !== 64 && ip > u[S_SEG + CS * SEG_STRIDE + SEG_LIMIT]!) return this.raise(GP, true, 0);
      u[S_RIP] = ip;
      u[S_RIP + 1] = 0;
    }
    return C_JUMP;
  }

  /** Relative target: next RIP + sign-extended displacement, at operand size. */
  private relJump(d: DI): number {
    const lo = this.nextLo(d) + d.imm;
    const hi = this.nextHi(d) + d.immHi + (lo >= TWO32 ? 1 : 0);
    return this.jumpTo(lo >>> 0, hi >>> 0, d.i.opSize);
  }

  /** Falls through to the next instruction as a jump (for block-ending instructions). */
  private fallThrough(d: DI): number {
    this.u[S_RIP] = this.nextLo(d);
    this.u[S_RIP + 1] = this.nextHi(d);
    return C_JUMP;
  }

  // =====================================================================================
  // The interpreter
  // =====================================================================================

  private exec(d: DI): number {
    const u = this.u;
    switch (d.op) {
      case Op.AluRR: {
        const a = d.r0 << 1, b = d.r1 << 1;
        if (d.size === 32) {
          const r = alu(u, d.sub, 32, u[a]!, u[b]!);
          if (d.sub !== 7) { u[a] = r; u[a + 1] = 0; }
        } else {
          const r = alu64(u, d.sub, u[a]!, u[a + 1]!, u[b]!, u[b + 1]!);
          if (d.sub !== 7) { u[a] = r; u[a + 1] = u[S_T + 1]!; }
        }
        return C_NEXT;
      }
      case Op.AluRI: {
        const a = d.r0 << 1;
        if (d.size === 32) {
          const r = alu(u, d.sub, 32, u[a]!, d.imm);
          if (d.sub !== 7) { u[a] = r; u[a + 1] = 0; }
        } else {
          const r = alu64(u, d.sub, u[a]!, u[a + 1]!, d.imm, d.immHi);
          if (d.sub !== 7) { u[a] = r; u[a + 1] = u[S_T + 1]!; }
        }
        return C_NEXT;
      }
      case Op.AluRM: {
        this.lin(d);
        const a = d.r0 << 1;
        if (d.size === 32) {
          const v = this.rd32(this.aLo, this.aHi);
          if (v < 0) return C_FAULT;
          const r = alu(u, d.sub, 32, u[a]!, v);
          if (d.sub !== 7) { u[a] = r; u[a + 1] = 0; }
        } else {
          const v = this.rd64(this.aLo, this.aHi);
          if (v < 0) return C_FAULT;
          const r = alu64(u, d.sub, u[a]!, u[a + 1]!, v, this.vh);
          if (d.sub !== 7) { u[a] = r; u[a + 1] = u[S_T + 1]!; }
        }
        return C_NEXT;
      }
      case Op.AluMR:
      case Op.AluMI: {
        this.lin(d);
        const bytes = d.size >>> 3;
        const cmp = d.sub === 7;
        const v = cmp ? this.rdN(this.aLo, this.aHi, bytes) : this.rwN(this.aLo, this.aHi, bytes);
        if (v < 0) return C_FAULT;
        let blo: number, bhi: number;
        if (d.op === Op.AluMR) { blo = u[d.r1 << 1]!; bhi = u[(d.r1 << 1) + 1]!; } else { blo = d.imm; bhi = d.immHi; }
        if (bytes === 4) {
          const r = alu(u, d.sub, 32, v, blo);
          if (!cmp) this.wr32(this.aLo, this.aHi, r);
        } else {
          const r = alu64(u, d.sub, v, this.vh, blo, bhi);
          if (!cmp) this.wrN(this.aLo, this.aHi, 8, r, u[S_T + 1]!);
        }
        return C_NEXT;
      }
      case Op.MovRR: {
        const a = d.r0 << 1, b = d.r1 << 1;
        u[a] = u[b]!;
        u[a + 1] = d.size === 64 ? u[b + 1]! : 0;
        return C_NEXT;
      }
      case Op.MovRI: {
        const a = d.r0 << 1;
        u[a] = d.imm;
        u[a + 1] = d.size === 64 ? d.immHi : 0;
        return C_NEXT;
      }
      case Op.MovRM: {
        this.lin(d);
        const a = d.r0 << 1;
        if (d.size === 32) {
          const v = this.rd32(this.aLo, this.aHi);
          if (v < 0) return C_FAULT;
          u[a] = v;
          u[a + 1] = 0;
        } else {
          const v = this.rd64(this.aLo, this.aHi);
          if (v < 0) return C_FAULT;
          u[a] = v;
          u[a + 1] = this.vh;
        }
        return C_NEXT;
      }
      case Op.MovMR: {
        this.lin(d);
        const b = d.r1 << 1;
        if (d.size === 32) return this.wr32(this.aLo, this.aHi, u[b]!) ? C_NEXT : C_FAULT;
        return this.wrN(this.aLo, this.aHi, 8, u[b]!, u[b + 1]!) ? C_NEXT : C_FAULT;
      }
      case Op.MovMI: {
        this.lin(d);
        return this.wrN(this.aLo, this.aHi, d.size >>> 3, d.imm, d.immHi) ? C_NEXT : C_FAULT;
      }
      case Op.TestRR: {
        const a = d.r0 << 1, b = d.r1 << 1;
        if (d.size === 32) lazyLogic(u, 32, (u[a]! & u[b]!) >>> 0, 0);
        else lazyLogic(u, 64, (u[a]! & u[b]!) >>> 0, (u[a + 1]! & u[b + 1]!) >>> 0);
        return C_NEXT;
      }
      case Op.TestRI: {
        const a = d.r0 << 1;
        if (d.size === 32) lazyLogic(u, 32, (u[a]! & d.imm) >>> 0, 0);
        else lazyLogic(u, 64, (u[a]! & d.imm) >>> 0, (u[a + 1]! & d.immHi) >>> 0);
        return C_NEXT;
      }
      case Op.IncR: {
        const a = d.r0 << 1;
        if (d.size === 32) { u[a] = inc(u, 32, u[a]!); u[a + 1] = 0; } else { u[a] = inc64(u, u[a]!, u[a + 1]!); u[a + 1] = u[S_T + 1]!; }
        return C_NEXT;
      }
      case Op.DecR: {
        const a = d.r0 << 1;
        if (d.size === 32) { u[a] = dec(u, 32, u[a]!); u[a + 1] = 0; } else { u[a] = dec64(u, u[a]!, u[a + 1]!); u[a + 1] = u[S_T + 1]!; }
        return C_NEXT;
      }
      case Op.Jcc:
        return cond(u, d.sub) ? this.relJump(d) : this.fallThrough(d);
      case Op.JmpRel:
        return this.relJump(d);
      case Op.CallRel: {
        if (!this.push(64, this.nextLo(d), this.nextHi(d))) return C_FAULT;
        return this.relJump(d);
      }
      case Op.RetNear: {
        const lo = this.peek(64, 0);
        if (lo < 0) return C_FAULT;
        const hi = this.vh;
        if (((hi + this.canonAdd) >>> 0) >= this.canonLim) return this.raise(GP, true, 0);
        this.addSp(8);
        u[S_RIP] = lo;
        u[S_RIP + 1] = hi;
        return C_JUMP;
      }
      case Op.PushR: {
        const a = d.r0 << 1;
        return this.push(64, u[a]!, u[a + 1]!) ? C_NEXT : C_FAULT;
      }
      case Op.PopR: {
        const lo = this.peek(64, 0);
        if (lo < 0) return C_FAULT;
        const hi = this.vh;
        this.addSp(8);
        const a = d.r0 << 1;
        u[a] = lo;
        u[a + 1] = hi;
        return C_NEXT;
      }
      case Op.Lea: {
        this.effAddr(d);
        this.wrGpr(d.r0, d.size, this.aLo, this.aHi);
        return C_NEXT;
      }
      case Op.ShiftRI: {
        const a = d.r0 << 1;
        if (d.size === 32) { u[a] = shift(u, d.sub, 32, u[a]!, d.imm); u[a + 1] = 0; } else {
          u[a] = shift64(u, d.sub, u[a]!, u[a + 1]!, d.imm);
          u[a + 1] = u[S_T + 1]!;
        }
        return C_NEXT;
      }
      case Op.MovzxRR: {
        const v = this.rdReg(d.i.reg1);
        this.wrGpr(d.r0, d.sub, v, 0);
        return C_NEXT;
      }
      case Op.MovzxRM: {
        this.lin(d);
        const v = d.size === 8 ? this.rd8(this.aLo, this.aHi) : this.rd16(this.aLo, this.aHi);
        if (v < 0) return C_FAULT;
        this.wrGpr(d.r0, d.sub, v, 0);
        return C_NEXT;
      }
      case Op.Nop:
        return C_NEXT;
      case Op.X87:
        if (d.hasMem) this.lin(d);
        return execX87(this, d);
      case Op.Simd:
        if (d.hasMem) this.lin(d);
        else if (d.i.opKind0 === OpKind.StrSrcDi) {
          // MASKMOVQ/MASKMOVDQU store at seg:rDI (DS, overridable): the implicit operand gets the
          // same address formation and limit/type checks as an explicit one (SDM MASKMOVDQU)
          const u = this.u;
          this.linOf(d.i.segment < 0 ? 3 : d.i.segment, d.asz === 16 ? u[14]! & 0xffff : u[14]!, d.asz === 64 ? u[15]! : 0, d.asz,
            d.i.reg1 >> 5 === 11 ? 16 : 8, true);
        }
        return execSimd(this, d);
      case Op.Invalid:
        // undefined encodings and AVX (VexUnsupported: CPUID.1:ECX.AVX/OSXSAVE = 0, so #UD before any
        // #NM check); every x87/MMX/SSE mnemonic is Op.X87/Op.Simd and checks CR0 in its unit
        return this.raise(UD, false, 0);
      case Op.TooLong:
        return this.raise(GP, true, 0);
      default:
        return this.generic(d);
    }
  }

  /** Effective address (no segment) truncated to the operand size, into aLo/aHi (LEA). */
  private effAddr(d: DI): void {
    const u = this.u;
    let lo = d.dLo, hi = d.dHi;
    if (d.base >= 0) {
      if (d.base === 16) { lo += this.nextLo(d); hi += this.nextHi(d); } else { lo += u[d.base << 1]!; hi += u[(d.base << 1) + 1]!; }
    }
    if (d.index >= 0) {
      lo += u[d.index << 1]! * d.scale;
      hi += u[(d.index << 1) + 1]! * d.scale;
    }
    // address-size truncation first, then operand size (SDM LEA Table 3-54)
    let l: number, h: number;
    if (d.asz === 64) { l = lo >>> 0; h = (hi + Math.floor(lo / TWO32)) >>> 0; } else if (d.asz === 32) { l = lo >>> 0; h = 0; } else { l = lo & 0xffff; h = 0; }
    if (d.size === 16) { l &= 0xffff; h = 0; } else if (d.size === 32) h = 0;
    this.aLo = l;
    this.aHi = h;
  }

  /** Generic path: every instruction of the integer core, operand kinds read from the record. */
  private generic(d: DI): number {
    const u = this.u;
    const i = d.i;
    const m = i.mnemonic;
    if (d.hasMem) {
      if (m === Mnemonic.Xlatb) {
        // AL = [seg: rBX + zero-extended AL] (SDM XLAT)
        const bx = this.u[6]!, bxh = this.u[7]!;
        const lo = (d.asz === 16 ? bx & 0xffff : bx) + (this.u[0]! & 0xff);
        this.finishLin(d, lo, d.asz === 64 ? bxh : 0);
      } else this.lin(d);
    }
    const sz = d.size;
    switch (m) {
      case Mnemonic.Add: case Mnemonic.Or: case Mnemonic.Adc: case Mnemonic.Sbb:
      case Mnemonic.And: case Mnemonic.Sub: case Mnemonic.Xor: case Mnemonic.Cmp: {
        const op = m - Mnemonic.Add;
        const a = this.get(d, 0, op !== 7);
        if (a < 0) return C_FAULT;
        const ah = this.vh;
        const b = this.get(d, 1, false);
        if (b < 0) return C_FAULT;
        if (sz === 64) {
          const r = alu64(u, op, a, ah, b, this.vh);
          if (op !== 7) this.put(d, 0, 64, r, u[S_T + 1]!);
        } else {
          const r = alu(u, op, sz, a, b & sizeMaskOf(sz));
          if (op !== 7) this.put(d, 0, sz, r, 0);
        }
        return C_NEXT;
      }
      case Mnemonic.Test: {
        const a = this.get(d, 0, false);
        if (a < 0) return C_FAULT;
        const ah = this.vh;
        const b = this.get(d, 1, false);
        if (b < 0) return C_FAULT;
        lazyLogic(u, sz, (a & b & sizeMaskOf(sz)) >>> 0, sz === 64 ? (ah & this.vh) >>> 0 : 0);
        return C_NEXT;
      }
      case Mnemonic.Not: {
        const a = this.get(d, 0, true);
        if (a < 0) return C_FAULT;
        this.put(d, 0, sz, (~a & sizeMaskOf(sz)) >>> 0, ~this.vh >>> 0);
        return C_NEXT;
      }
      case Mnemonic.Neg: case Mnemonic.Inc: case Mnemonic.Dec: {
        const a = this.get(d, 0, true);
        if (a < 0) return C_FAULT;
        let r: number, rh = 0;
        if (sz === 64) {
          r = m === Mnemonic.Neg ? neg64(u, a, this.vh) : m === Mnemonic.Inc ? inc64(u, a, this.vh) : dec64(u, a, this.vh);
          rh = u[S_T + 1]!;
        } else r = m === Mnemonic.Neg ? neg(u, sz, a) : m === Mnemonic.Inc ? inc(u, sz, a) : dec(u, sz, a);
        this.put(d, 0, sz, r, rh);
        return C_NEXT;
      }
      case Mnemonic.Rol: case Mnemonic.Ror: case Mnemonic.Rcl: case Mnemonic.Rcr:
      case Mnemonic.Shl: case Mnemonic.Shr: case Mnemonic.Sal: case Mnemonic.Sar: {
        const a = this.get(d, 0, true);
        if (a < 0) return C_FAULT;
        const ah = this.vh;
        const c = i.opCount < 2 ? 1 : this.get(d, 1, false) & 0xff;
        const op = m - Mnemonic.Rol;
        if (sz === 64) {
          const r = shift64(u, op, a, ah, c);
          this.put(d, 0, 64, r, u[S_T + 1]!);
        } else this.put(d, 0, sz, shift(u, op, sz, a, c), 0);
        return C_NEXT;
      }
      case Mnemonic.Shld: case Mnemonic.Shrd: {
        const a = this.get(d, 0, true);
        if (a < 0) return C_FAULT;
        const ah = this.vh;
        const b = this.get(d, 1, false);
        const bh = this.vh;
        const c = this.get(d, 2, false) & 0xff;
        const right = m === Mnemonic.Shrd;
        if (sz === 64) {
          const r = shiftDouble64(u, right, a, ah, b, bh, c);
          this.put(d, 0, 64, r, u[S_T + 1]!);
        } else this.put(d, 0, sz, shiftDouble(u, right, sz, a, b, c), 0);
        return C_NEXT;
      }
      case Mnemonic.Mov: return this.movGeneric(d);
      case Mnemonic.Movzx: case Mnemonic.Movsx: case Mnemonic.Movsxd: {
        const v = this.get(d, 1, false);
        if (v < 0) return C_FAULT;
        const ssz = i.opKind1 === OpKind.Reg ? gprBits(i.reg1) : d.memBits;
        const dsz = gprBits(i.reg0);
        let lo = v, hi = 0;
        if (m !== Mnemonic.Movzx) {
          lo = ssz === 8 ? (v << 24) >> 24 : ssz === 16 ? (v << 16) >> 16 : v | 0;
          hi = lo < 0 ? 0xffffffff : 0;
        }
        this.wrGpr(i.reg0 & 15, dsz, (dsz === 16 ? lo & 0xffff : lo) >>> 0, hi);
        return C_NEXT;
      }
      case Mnemonic.Lea: {
        this.effAddr(d);
        this.wrGpr(i.reg0 & 15, gprBits(i.reg0), this.aLo, this.aHi);
        return C_NEXT;
      }
      case Mnemonic.Xchg: {
        const a = this.get(d, 0, true);
        if (a < 0) return C_FAULT;
        const ah = this.vh;
        const b = this.get(d, 1, true);
        if (b < 0) return C_FAULT;
        const bh = this.vh;
        // memory operand first (it may fault), then the register
        if (i.opKind1 === OpKind.Mem) {
          if (!this.put(d, 1, sz, a, ah)) return C_FAULT;
          this.put(d, 0, sz, b, bh);
        } else {
          if (!this.put(d, 0, sz, b, bh)) return C_FAULT;
          this.put(d, 1, sz, a, ah);
        }
        return C_NEXT;
      }
      case Mnemonic.Xadd: {
        const a = this.get(d, 0, true);
        if (a < 0) return C_FAULT;
        const ah = this.vh;
        const b = this.get(d, 1, false);
        const bh = this.vh;
        if (sz === 64) {
          const r = alu64(u, 0, a, ah, b, bh);
          const rh = u[S_T + 1]!;
          if (!this.put(d, 0, 64, r, rh)) return C_FAULT;
          this.put(d, 1, 64, a, ah);
          if (i.opKind0 === OpKind.Reg && (i.reg0 & 15) === (i.reg1 & 15)) this.put(d, 0, 64, r, rh);
        } else {
          const r = alu(u, 0, sz, a, b);
          if (!this.put(d, 0, sz, r, 0)) return C_FAULT;
          this.put(d, 1, sz, a, 0);
          // XADD r, r with the same register: the sum wins (SDM: TEMP <- SRC + DEST; SRC <- DEST; DEST <- TEMP)
          if (i.opKind0 === OpKind.Reg && i.reg0 === i.reg1) this.put(d, 0, sz, r, 0);
        }
        return C_NEXT;
      }
      case Mnemonic.Cmpxchg: {
        const a = this.get(d, 0, true);
        if (a < 0) return C_FAULT;
        const ah = this.vh;
        const b = this.get(d, 1, false);
        const bh = this.vh;
        const acc = this.rdReg(sz === 8 ? 32 : sz === 16 ? 96 : sz === 32 ? 128 : 160);
        const acch = this.vh;
        if (sz === 64) alu64(u, 7, acc, acch, a, ah); else alu(u, 7, sz, acc, a);
        if (getZF(u)) {
          this.put(d, 0, sz, b, bh);
        } else {
          // the destination is written back with its own value (a memory write cycle happens), then rAX
          if (i.opKind0 === OpKind.Mem && !this.put(d, 0, sz, a, ah)) return C_FAULT;
          this.wrReg(sz === 8 ? 32 : sz === 16 ? 96 : sz === 32 ? 128 : 160, a, ah);
        }
        return C_NEXT;
      }
      case Mnemonic.Cmpxchg8b: case Mnemonic.Cmpxchg16b: {
        if (i.opKind0 !== OpKind.Mem) return this.raise(UD, false, 0);
        const wide = m === Mnemonic.Cmpxchg16b;
        if (wide && (this.aLo & 15) !== 0) return this.raise(GP, true, 0);
        const bytes = wide ? 8 : 4;
        const lo0 = this.rwN(this.aLo, this.aHi, bytes);
        if (lo0 < 0) return C_FAULT;
        const lo0h = this.vh;
        const a2Lo = this.aLo + bytes, a2 = a2Lo >>> 0, a2h = a2Lo >= TWO32 ? (this.aHi + 1) >>> 0 : this.aHi;
        const al = this.aLo, ahh = this.aHi;
        const hi0 = this.rwN(a2, a2h, bytes);
        if (hi0 < 0) return C_FAULT;
        const hi0h = this.vh;
        const eq = wide
          ? lo0 === u[0] && lo0h === u[1] && hi0 === u[4] && hi0h === u[5]
          : lo0 === u[0] && hi0 === u[4];
        if (eq) {
          this.wrN(al, ahh, bytes, u[6]!, u[7]!); // RBX
          this.wrN(a2, a2h, bytes, u[2]!, u[3]!); // RCX
        } else {
          this.wrN(al, ahh, bytes, lo0, lo0h);
          this.wrN(a2, a2h, bytes, hi0, hi0h);
          if (wide) { u[0] = lo0; u[1] = lo0h; u[4] = hi0; u[5] = hi0h; } else { u[0] = lo0; u[1] = 0; u[4] = hi0; u[5] = 0; }
        }
        setStatus(u, ZF, eq ? ZF : 0);
        return C_NEXT;
      }
      case Mnemonic.Bswap: {
        const r = i.reg0 & 15;
        if (sz === 64) { const lo = u[r << 1]!, hi = u[(r << 1) + 1]!; u[r << 1] = sw(hi); u[(r << 1) + 1] = sw(lo); }
        else if (sz === 32) { u[r << 1] = sw(u[r << 1]!); u[(r << 1) + 1] = 0; }
        else u[r << 1] = u[r << 1]! & 0xffff0000; // BSWAP r16: undefined; Intel processors give 0
        return C_NEXT;
      }
      case Mnemonic.Movbe: {
        const v = this.get(d, 1, false);
        if (v < 0) return C_FAULT;
        const vh = this.vh;
        const osz = i.opKind0 === OpKind.Reg ? gprBits(i.reg0) : d.memBits;
        let lo: number, hi = 0;
        if (osz === 64) { lo = sw(vh); hi = sw(v); } else if (osz === 32) lo = sw(v); else lo = ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
        return this.put(d, 0, osz, lo, hi) ? C_NEXT : C_FAULT;
      }
      case Mnemonic.Bt: case Mnemonic.Bts: case Mnemonic.Btr: case Mnemonic.Btc:
        return this.bitTest(d, m - Mnemonic.Bt);
      case Mnemonic.Bsf: case Mnemonic.Bsr: case Mnemonic.Tzcnt: case Mnemonic.Lzcnt: case Mnemonic.Popcnt:
        return this.bitScan(d, m);
      case Mnemonic.Mul: case Mnemonic.Imul: case Mnemonic.Div: case Mnemonic.Idiv:
        return this.mulDiv(d, m);
      case Mnemonic.Cbw: u[0] = (u[0]! & 0xffff0000) | (((u[0]! << 24) >> 24) & 0xffff); return C_NEXT;
      case Mnemonic.Cwde: u[0] = (u[0]! << 16) >> 16; u[1] = 0; return C_NEXT;
      case Mnemonic.Cdqe: u[1] = (u[0]! & 0x80000000) !== 0 ? 0xffffffff : 0; return C_NEXT;
      case Mnemonic.Cwd: u[4] = (u[4]! & 0xffff0000) | ((u[0]! & 0x8000) !== 0 ? 0xffff : 0); return C_NEXT;
      case Mnemonic.Cdq: u[4] = (u[0]! & 0x80000000) !== 0 ? 0xffffffff : 0; u[5] = 0; return C_NEXT;
      case Mnemonic.Cqo: u[4] = u[5] = (u[1]! & 0x80000000) !== 0 ? 0xffffffff : 0; return C_NEXT;
      case Mnemonic.Lahf: {
        // AH <- SF:ZF:0:AF:0:PF:1:CF (SDM LAHF)
        const f = getFlags(u) & (SF | ZF | AF | PF | CF);
        u[0] = (u[0]! & 0xffff00ff) | ((f | 2) << 8);
        return C_NEXT;
      }
      case Mnemonic.Sahf: setStatus(u, SF | ZF | AF | PF | CF, (u[0]! >>> 8) & 0xff); return C_NEXT;
      case Mnemonic.Clc: setStatus(u, CF, 0); return C_NEXT;
      case Mnemonic.Stc: setStatus(u, CF, CF); return C_NEXT;
      case Mnemonic.Cmc: setStatus(u, CF, getCF(u) ^ 1); return C_NEXT;
      case Mnemonic.Cld: u[S_RFLAGS] = u[S_RFLAGS]! & ~DF; return C_NEXT;
      case Mnemonic.Std: u[S_RFLAGS] = u[S_RFLAGS]! | DF; return C_NEXT;
      case Mnemonic.Cli: case Mnemonic.Sti: {
        if (this.pmode && this.cpl > ((u[S_RFLAGS]! >>> 12) & 3)) return this.raise(GP, true, 0);
        // STI that sets IF blocks interrupts until the next instruction completes (SDM Vol. 2 STI)
        if (m === Mnemonic.Sti && (u[S_RFLAGS]! & IF) === 0) this.sys.shadow = true;
        u[S_RFLAGS] = m === Mnemonic.Sti ? u[S_RFLAGS]! | IF : u[S_RFLAGS]! & ~IF;
        return this.fallThrough(d);
      }
      case Mnemonic.Seto: case Mnemonic.Setno: case Mnemonic.Setb: case Mnemonic.Setae:
      case Mnemonic.Sete: case Mnemonic.Setne: case Mnemonic.Setbe: case Mnemonic.Seta:
      case Mnemonic.Sets: case Mnemonic.Setns: case Mnemonic.Setp: case Mnemonic.Setnp:
      case Mnemonic.Setl: case Mnemonic.Setge: case Mnemonic.Setle: case Mnemonic.Setg:
        return this.put(d, 0, 8, cond(u, m - Mnemonic.Seto) ? 1 : 0, 0) ? C_NEXT : C_FAULT;
      case Mnemonic.Cmovo: case Mnemonic.Cmovno: case Mnemonic.Cmovb: case Mnemonic.Cmovae:
      case Mnemonic.Cmove: case Mnemonic.Cmovne: case Mnemonic.Cmovbe: case Mnemonic.Cmova:
      case Mnemonic.Cmovs: case Mnemonic.Cmovns: case Mnemonic.Cmovp: case Mnemonic.Cmovnp:
      case Mnemonic.Cmovl: case Mnemonic.Cmovge: case Mnemonic.Cmovle: case Mnemonic.Cmovg: {
        // the source is read (and may fault) whatever the condition; a 32-bit destination is
        // zero-extended even when the move does not happen (SDM CMOVcc, 64-bit mode)
        const v = this.get(d, 1, false);
        if (v < 0) return C_FAULT;
        const dsz = gprBits(i.reg0);
        if (cond(u, m - Mnemonic.Cmovo)) this.wrGpr(i.reg0 & 15, dsz, v, this.vh);
        else if (dsz === 32) u[((i.reg0 & 15) << 1) + 1] = 0;
        return C_NEXT;
      }
      case Mnemonic.Jo: case Mnemonic.Jno: case Mnemonic.Jb: case Mnemonic.Jae:
      case Mnemonic.Je: case Mnemonic.Jne: case Mnemonic.Jbe: case Mnemonic.Ja:
      case Mnemonic.Js: case Mnemonic.Jns: case Mnemonic.Jp: case Mnemonic.Jnp:
      case Mnemonic.Jl: case Mnemonic.Jge: case Mnemonic.Jle: case Mnemonic.Jg:
        return cond(u, m - Mnemonic.Jo) ? this.relJump(d) : this.fallThrough(d);
      case Mnemonic.Jmp: {
        if (i.opKind0 === OpKind.Rel) return this.relJump(d);
        if (i.opKind0 === OpKind.FarPtr || (i.opKind0 === OpKind.Mem && d.memBits > i.opSize)) return this.farJump(d, false);
        const t = this.get(d, 0, false);
        if (t < 0) return C_FAULT;
        return this.jumpTo(t, this.vh, i.opSize);
      }
      case Mnemonic.Call: {
        if (i.opKind0 === OpKind.FarPtr || (i.opKind0 === OpKind.Mem && d.memBits > i.opSize)) return this.farJump(d, true);
        let tlo: number, thi: number;
        if (i.opKind0 === OpKind.Rel) {
          const lo = this.nextLo(d) + d.imm;
          thi = (this.nextHi(d) + d.immHi + (lo >= TWO32 ? 1 : 0)) >>> 0;
          tlo = lo >>> 0;
        } else {
          tlo = this.get(d, 0, false);
          if (tlo < 0) return C_FAULT;
          thi = this.vh;
        }
        const osz = i.opSize;
        if (this.mode === 64 && osz === 64 && ((thi + this.canonAdd) >>> 0) >= this.canonLim) return this.raise(GP, true, 0);
        if (!this.push(osz, this.nextLo(d), this.nextHi(d))) return C_FAULT;
        return this.jumpTo(tlo, thi, osz);
      }
      case Mnemonic.Ret: {
        const osz = i.opSize;
        const lo = this.peek(osz, 0);
        if (lo < 0) return C_FAULT;
        const hi = osz === 64 ? this.vh : 0;
        if (this.mode === 64 && osz === 64 && ((hi + this.canonAdd) >>> 0) >= this.canonLim) return this.raise(GP, true, 0);
        this.addSp((osz >>> 3) + (i.opCount > 0 ? i.imm & 0xffff : 0));
        return this.jumpTo(lo, hi, osz);
      }
      case Mnemonic.Loop: case Mnemonic.Loope: case Mnemonic.Loopne: {
        // count register by address size (SDM LOOP); flags unchanged
        const asz = i.addrSize;
        let c: number;
        if (asz === 64) {
          const lo = (u[2]! - 1) >>> 0;
          u[3] = u[2] === 0 ? (u[3]! - 1) >>> 0 : u[3]!;
          u[2] = lo;
          c = (lo | u[3]!) !== 0 ? 1 : 0;
        } else if (asz === 32) { u[2] = u[2]! - 1; c = u[2] !== 0 ? 1 : 0; }
        else { const cx = (u[2]! - 1) & 0xffff; u[2] = (u[2]! & 0xffff0000) | cx; c = cx !== 0 ? 1 : 0; }
        let take = c !== 0;
        if (m === Mnemonic.Loope) take = take && getZF(u);
        else if (m === Mnemonic.Loopne) take = take && !getZF(u);
        return take ? this.relJump(d) : this.fallThrough(d);
      }
      case Mnemonic.Jcxz: return (u[2]! & 0xffff) === 0 ? this.relJump(d) : this.fallThrough(d);
      case Mnemonic.Jecxz: return u[2] === 0 ? this.relJump(d) : this.fallThrough(d);
      case Mnemonic.Jrcxz: return (u[2]! | u[3]!) === 0 ? this.relJump(d) : this.fallThrough(d);
      case Mnemonic.Push: {
        const osz = i.opSize;
        let v: number, vh = 0;
        if (i.opKind0 === OpKind.Reg && (i.reg0 >> 5) === 6) {
          // PUSH Sreg: 16-bit write, the stack pointer moves by the operand size (SDM PUSH note)
          // the selector zero-extended to the operand size, as QEMU and recent processors store it
          v = this.rdReg(i.reg0);
          return this.push(osz, v, 0) ? C_NEXT : C_FAULT;
        }
        v = this.get(d, 0, false);
        if (v < 0) return C_FAULT;
        vh = this.vh;
        if (i.opKind0 >= OpKind.Imm8 && i.opKind0 <= OpKind.Imm32Sx) vh = d.immHi;
        return this.push(osz, osz === 16 ? v & 0xffff : v, osz === 64 ? vh : 0) ? C_NEXT : C_FAULT;
      }
      case Mnemonic.Pop: return this.popGeneric(d);
      case Mnemonic.Pusha: case Mnemonic.Pushad: {
        const osz = m === Mnemonic.Pusha ? 16 : 32;
        const sp = u[8]!;
        for (let r = 0; r < 8; r++) {
          const v = r === 4 ? sp : u[r << 1]!;
          if (!this.push(osz, osz === 16 ? v & 0xffff : v, 0)) { u[8] = sp; return C_FAULT; }
        }
        return C_NEXT;
      }
      case Mnemonic.Popa: case Mnemonic.Popad: {
        const osz = m === Mnemonic.Popa ? 16 : 32;
        const bytes = osz >>> 3;
        const vals = this.popaVals;
        for (let r = 7; r >= 0; r--) {
          const v = this.peek(osz, (7 - r) * bytes);
          if (v < 0) return C_FAULT;
          vals[r] = v;
        }
        for (let r = 0; r < 8; r++) if (r !== 4) this.wrGpr(r, osz, vals[r]!, 0);
        this.addSp(8 * bytes);
        return C_NEXT;
      }
      case Mnemonic.Pushf: case Mnemonic.Pushfd: case Mnemonic.Pushfq: {
        const osz = i.opSize;
        if ((u[S_RFLAGS]! & VM) !== 0 && ((u[S_RFLAGS]! >>> 12) & 3) < 3) return this.raise(GP, true, 0);
        const f = getFlags(u) & ~(VM | RF);
        return this.push(osz, osz === 16 ? f & 0xffff : f, 0) ? C_NEXT : C_FAULT;
      }
      case Mnemonic.Popf: case Mnemonic.Popfd: case Mnemonic.Popfq: return this.popf(d);
      case Mnemonic.Enter: return this.enter(d);
      case Mnemonic.Leave: {
        // RSP <- RBP; pop RBP (stack-address size moves RSP, operand size the pop)
        const osz = i.opSize;
        if (this.stk === 64) { u[8] = u[10]!; u[9] = u[11]!; } else if (this.stk === 32) u[8] = u[10]!;
        else u[8] = (u[8]! & 0xffff0000) | (u[10]! & 0xffff);
        const v = this.peek(osz, 0);
        if (v < 0) return C_FAULT;
        this.addSp(osz >>> 3);
        this.wrGpr(5, osz, v, this.vh);
        return C_NEXT;
      }
      case Mnemonic.Xlatb: {
        const v = this.rd8(this.aLo, this.aHi);
        if (v < 0) return C_FAULT;
        u[0] = (u[0]! & 0xffffff00) | v;
        return C_NEXT;
      }
      case Mnemonic.Nop: case Mnemonic.Reservednop:
      case Mnemonic.Endbr32: case Mnemonic.Endbr64:
      case Mnemonic.Lfence: case Mnemonic.Mfence: case Mnemonic.Sfence:
      case Mnemonic.Prefetchnta: case Mnemonic.Prefetcht0: case Mnemonic.Prefetcht1: case Mnemonic.Prefetcht2:
      case Mnemonic.Prefetchw: case Mnemonic.Prefetch:
        return C_NEXT;
      case Mnemonic.Pause:
        if (this.pauseExiting) {
          this.setExit('pause', 0, 0, 0, 0);
          this.faultRip();
          this.fallThrough(d);
          return C_DONE;
        }
        return this.fallThrough(d);
      case Mnemonic.Hlt: {
        if (this.cpl !== 0) return this.raise(GP, true, 0);
        this.fallThrough(d);
        this.setExit('hlt', 0, 0, 0, 0);
        this.faultRip();
        return C_DONE;
      }
      case Mnemonic.Ud0: case Mnemonic.Ud1: case Mnemonic.Ud2: return this.raise(UD, false, 0);
      case Mnemonic.Int3: return this.trap(d, BP);
      case Mnemonic.Int1: return this.trap(d, DB);
      case Mnemonic.Int: return this.trap(d, i.imm & 0xff);
      case Mnemonic.Into: return (u[S_RFLAGS]! & OF) !== 0 || ((u[L_MASK]! & OF) !== 0 && (getFlags(u) & OF) !== 0) ? this.trap(d, OFV) : this.fallThrough(d);
      case Mnemonic.Bound: {
        const idx = this.rdReg(i.reg0) | 0;
        const bytes = sz >>> 3;
        const lo = this.rdN(this.aLo, this.aHi, bytes);
        if (lo < 0) return C_FAULT;
        const hi = this.rdN((this.aLo + bytes) >>> 0, 0, bytes);
        if (hi < 0) return C_FAULT;
        const sl = bytes === 2 ? (lo << 16) >> 16 : lo | 0, sh = bytes === 2 ? (hi << 16) >> 16 : hi | 0;
        const x = bytes === 2 ? (idx << 16) >> 16 : idx;
        if (x < sl || x > sh) return this.raise(BR, false, 0);
        return this.fallThrough(d);
      }
      case Mnemonic.Daa: case Mnemonic.Das: case Mnemonic.Aaa: case Mnemonic.Aas: case Mnemonic.Aam: case Mnemonic.Aad: case Mnemonic.Salc:
        return this.bcd(d, m);
      case Mnemonic.In: case Mnemonic.Out: case Mnemonic.Insb: case Mnemonic.Insw: case Mnemonic.Insd:
      case Mnemonic.Outsb: case Mnemonic.Outsw: case Mnemonic.Outsd:
        return this.io(d, m);
      case Mnemonic.Movsb: case Mnemonic.Movsw: case Mnemonic.Movsd: case Mnemonic.Movsq:
      case Mnemonic.Cmpsb: case Mnemonic.Cmpsw: case Mnemonic.Cmpsd: case Mnemonic.Cmpsq:
      case Mnemonic.Stosb: case Mnemonic.Stosw: case Mnemonic.Stosd: case Mnemonic.Stosq:
      case Mnemonic.Lodsb: case Mnemonic.Lodsw: case Mnemonic.Lodsd: case Mnemonic.Lodsq:
      case Mnemonic.Scasb: case Mnemonic.Scasw: case Mnemonic.Scasd: case Mnemonic.Scasq:
        return this.string(d, m);
      case Mnemonic.Cpuid: return this.cpuid(d);
      case Mnemonic.Rdtsc: case Mnemonic.Rdtscp: {
        if ((u[S_CR4]! & CR4_TSD) !== 0 && this.cpl !== 0) return this.raise(GP, true, 0);
        // the TSC follows the machine clock, or retired instructions without one (System.readTsc)
        this.sys.readTsc(this.retiredNow());
        u[0] = this.sys.tscLo; u[1] = 0; u[4] = this.sys.tscHi; u[5] = 0;
        if (m === Mnemonic.Rdtscp) { u[2] = u[S_TSC_AUX]!; u[3] = 0; }
        return C_NEXT;
      }
      case Mnemonic.Les: case Mnemonic.Lds: case Mnemonic.Lss: case Mnemonic.Lfs: case Mnemonic.Lgs:
        return this.loadFarPointer(d, m);
      default:
        if (m === Mnemonic.VexUnsupported || (m >= Mnemonic.Crc32 && m <= Mnemonic.Shrx) || m === Mnemonic.Rdrand || m === Mnemonic.Rdseed || m === Mnemonic.Rdpid) {
          // not advertised by cpuid.ts: #UD as the model's hardware would
          return this.raise(UD, false, 0);
        }
        return execSystem(this, d, m);
    }
  }

  private readonly popaVals = new Uint32Array(8);

  private addSpSigned(delta: number): void {
    const u = this.u;
    if (this.stk === 64) {
      const s = u[8]! + delta;
      u[8] = s;
      if (s < 0) u[9] = u[9]! - 1; else if (s >= TWO32) u[9] = u[9]! + 1;
    } else if (this.stk === 32) u[8] = u[8]! + delta;
    else u[8] = (u[8]! & 0xffff0000) | ((u[8]! + delta) & 0xffff);
  }

  /** INT n / INT3 / INTO / INT1: delivered with RIP past the instruction (SDM Vol. 2 INT n). */
  private trap(d: DI, vector: number): number {
    const m = d.i.mnemonic;
    const kind = m === Mnemonic.Int ? EV_SOFT_INT : m === Mnemonic.Int1 ? EV_ICEBP : EV_SOFT_EXC;
    const lo = this.bLo + d.start;
    const ilo = this.mode === 16 ? lo & 0xffff : lo >>> 0;
    const ihi = this.mode === 64 && lo >= TWO32 ? (this.bHi + 1) >>> 0 : this.bHi;
    if (kind === EV_SOFT_INT ? this.softwareInterruptExits : ((this.exceptionBitmap >>> vector) & 1) !== 0) {
      // intercepted: an exception exit with RIP past the instruction
      this.raise(vector, false, 0);
      this.sys.pendVector = -1;
      this.fallThrough(d);
      return C_DONE;
    }
    this.fallThrough(d);
    if (this.sys.deliver(kind, vector, false, 0, ilo, ihi) === ST_OK) return C_JUMP;
    this.faultRip();
    return C_DONE;
  }

  private movGeneric(d: DI): number {
    const i = d.i;
    const c0 = i.opKind0 === OpKind.Reg ? i.reg0 >> 5 : 0;
    const c1 = i.opKind1 === OpKind.Reg ? i.reg1 >> 5 : 0;
    if (c0 >= 7 || c1 >= 7) return execMovCrDr(this, d);
    if (c0 === 6) {
      // MOV Sreg, r/m16
      const v = this.get(d, 1, false);
      if (v < 0) return C_FAULT;
      const s = i.reg0 & 7;
      if (s === CS) return this.raise(UD, false, 0);
      const r = this.loadSeg(s, v & 0xffff);
      if (r !== C_NEXT) return r;
      if (s === SS) this.sys.shadow = true; // MOV SS: interrupt shadow (SDM Vol. 3A §6.8.3)
      return this.fallThrough(d);
    }
    if (c1 === 6) {
      // MOV r/m, Sreg: 16 bits to memory; a register destination is zero-extended (SDM MOV)
      const v = this.rdReg(i.reg1);
      if (i.opKind0 === OpKind.Mem) return this.wrN(this.aLo, this.aHi, 2, v, 0) ? C_NEXT : C_FAULT;
      const dsz = gprBits(i.reg0);
      this.wrGpr(i.reg0 & 15, dsz, v, 0);
      return C_NEXT;
    }
    const sz = i.opKind0 === OpKind.Reg ? gprBits(i.reg0) : d.memBits;
    const v = this.get(d, 1, false);
    if (v < 0) return C_FAULT;
    return this.put(d, 0, sz, v, this.vh) ? C_NEXT : C_FAULT;
  }

  /**
   * Loads a data/stack segment register with every check of SDM Vol. 2 MOV/POP/LDS and Vol. 3A
   * §5.4.1 (system/system.ts `loadSegment`): real mode and virtual-8086 mode take selector * 16.
   */
  private loadSeg(s: number, sel: number): number {
    const r = this.sys.loadSegment(s, sel & 0xffff);
    if (r !== ST_OK) {
      if (r === ST_EXIT) this.faultRip();
      return C_FAULT;
    }
    if (s === SS) this.updateMode();
    else this.segChk[s] = this.mode !== 64 && this.sys.needsSegCheck(s) ? 1 : 0;
    return C_NEXT;
  }

  /** Far JMP/CALL through a pointer (ptr16:16/32 or m16:16/32/64): system/system.ts `farTransfer`. */
  private farJump(d: DI, call: boolean): number {
    const i = d.i;
    let sel: number, lo: number, hi = 0;
    if (i.opKind0 === OpKind.FarPtr) {
      sel = i.imm2 & 0xffff;
      lo = i.imm >>> 0;
    } else {
      const bytes = (d.memBits >>> 3) - 2;
      lo = this.rdN(this.aLo, this.aHi, bytes);
      if (lo < 0) return C_FAULT;
      if (bytes === 8) hi = this.vh;
      const a = this.aLo + bytes;
      sel = this.rdN(a >>> 0, a >= TWO32 ? (this.aHi + 1) >>> 0 : this.aHi, 2);
      if (sel < 0) return C_FAULT;
    }
    this.fallThrough(d);
    const r = this.sys.farTransfer(call, sel, lo, hi, i.opSize);
    if (r === ST_OK) return C_JUMP;
    if (r === ST_EXIT) this.faultRip();
    return C_FAULT;
  }

  private loadFarPointer(d: DI, m: number): number {
    const i = d.i;
    if (i.opKind1 !== OpKind.Mem) return this.raise(UD, false, 0);
    const osz = gprBits(i.reg0);
    const bytes = osz >>> 3;
    const off = this.rdN(this.aLo, this.aHi, bytes);
    if (off < 0) return C_FAULT;
    const offh = this.vh;
    const s2 = this.aLo + bytes;
    const sel = this.rdN(s2 >>> 0, s2 >= TWO32 ? (this.aHi + 1) >>> 0 : this.aHi, 2);
    if (sel < 0) return C_FAULT;
    const seg = m === Mnemonic.Les ? 0 : m === Mnemonic.Lds ? 3 : m === Mnemonic.Lss ? 2 : m === Mnemonic.Lfs ? 4 : 5;
    const r = this.loadSeg(seg, sel);
    if (r !== C_NEXT) return r;
    this.wrGpr(i.reg0 & 15, osz, off, offh);
    return this.fallThrough(d);
  }

  private popGeneric(d: DI): number {
    const i = d.i;
    const u = this.u;
    const osz = i.opSize;
    if (i.opKind0 === OpKind.Reg && (i.reg0 >> 5) === 6) {
      const v = this.peek(osz, 0);
      if (v < 0) return C_FAULT;
      const sp0 = u[8]!, sp1 = u[9]!;
      this.addSp(osz >>> 3);
      const r = this.loadSeg(i.reg0 & 7, v & 0xffff);
      if (r !== C_NEXT) { u[8] = sp0; u[9] = sp1; return r; }
      if ((i.reg0 & 7) === SS) this.sys.shadow = true; // POP SS: interrupt shadow (SDM Vol. 3A §6.8.3)
      return this.fallThrough(d);
    }
    const v = this.peek(osz, 0);
    if (v < 0) return C_FAULT;
    const vh = this.vh;
    if (i.opKind0 === OpKind.Mem) {
      // the address is computed after RSP is incremented (SDM POP: "If the ESP register is used as a base register...")
      const sp0 = u[8]!, sp1 = u[9]!;
      this.addSp(osz >>> 3);
      this.lin(d);
      if (!this.wrN(this.aLo, this.aHi, osz >>> 3, v, vh)) { u[8] = sp0; u[9] = sp1; return C_FAULT; }
      return C_NEXT;
    }
    this.addSp(osz >>> 3);
    this.wrReg(i.reg0, v, vh);
    return C_NEXT;
  }

  /** POPF/POPFD/POPFQ with the CPL/IOPL rules of the SDM's POPF operation section. */
  private popf(d: DI): number {
    const u = this.u;
    const osz = d.i.opSize;
    const old = getFlags(u);
    const vm = (old & VM) !== 0;
    const iopl = (old >>> 12) & 3;
    if (vm && iopl < 3) return this.raise(GP, true, 0);
    const v = this.peek(osz, 0);
    if (v < 0) return C_FAULT;
    this.addSp(osz >>> 3);
    // modifiable: status flags, TF, DF, NT, AC, ID, and IF / IOPL per privilege; RF cleared; VM, VIF, VIP kept
    let mask = CF | PF | AF | ZF | SF | OF | TF | DF | NT | AC | ID;
    if (!this.pmode || this.cpl === 0) mask |= IF | IOPL;
    else if (!vm && this.cpl <= iopl) mask |= IF;
    if (vm) mask |= IF; // IOPL = 3 here; IOPL itself is kept in virtual-8086 mode
    if (osz === 16) mask &= 0xffff;
    let nf = (old & ~mask) | (v & mask);
    nf &= ~RF;
    setFlags(u, nf);
    // under SMAP, soft-TLB entries of user pages filled at CPL < 3 depend on EFLAGS.AC
    if (((old ^ nf) & AC) !== 0 && (u[S_CR4]! & (1 << 21)) !== 0) this.flushTlb();
    return this.fallThrough(d);
  }

  /** ENTER imm16, imm8 (SDM ENTER operation section, nesting level mod 32). */
  private enter(d: DI): number {
    const u = this.u;
    const i = d.i;
    const osz = i.opSize;
    const bytes = osz >>> 3;
    const size = i.imm & 0xffff;
    const level = i.imm2 & 31;
    const sp0 = u[8]!, sp1 = u[9]!;
    const bp = u[10]!, bph = u[11]!;
    if (!this.push(osz, osz === 16 ? bp & 0xffff : bp, bph)) return C_FAULT;
    const frLo = u[8]!, frHi = u[9]!;
    if (level > 0) {
      let tb = bp, tbh = bph;
      for (let k = 1; k < level; k++) {
        // rBP -= operand size; push [rBP]
        const s = tb - bytes;
        if (this.stk === 64) { tbh = s < 0 ? (tbh - 1) >>> 0 : tbh; tb = s >>> 0; } else if (this.stk === 32) tb = s >>> 0; else tb = (tb & 0xffff0000) | (s & 0xffff);
        this.linOf(SS, this.stk === 16 ? tb & 0xffff : tb, this.stk === 64 ? tbh : 0, this.stk, bytes, false);
        const v = this.rdN(this.aLo, this.aHi, bytes);
        if (v < 0) { u[8] = sp0; u[9] = sp1; return C_FAULT; }
        if (this.watch) this.noteAccess(bytes, false);
        if (!this.push(osz, v, this.vh)) { u[8] = sp0; u[9] = sp1; return C_FAULT; }
      }
      if (!this.push(osz, osz === 16 ? frLo & 0xffff : frLo, frHi)) { u[8] = sp0; u[9] = sp1; return C_FAULT; }
    }
    // rBP <- frame temp (stack-size wide for 32/64, BP for 16-bit operand size)
    if (osz === 16) u[10] = (u[10]! & 0xffff0000) | (frLo & 0xffff);
    else if (osz === 32) { u[10] = frLo; u[11] = 0; } else { u[10] = frLo; u[11] = frHi; }
    this.addSpSigned(-size);
    // the final stack write must be possible: probe the new top (SDM: #SS/#PF if it is not writable)
    return C_NEXT;
  }

  /** BT/BTS/BTR/BTC (SDM BT: bit-string addressing for register offsets with a memory operand). */
  private bitTest(d: DI, op: number): number {
    const u = this.u;
    const i = d.i;
    const sz = d.size;
    let bit: number;
    if (i.opKind1 === OpKind.Reg) {
      const off = this.rdReg(i.reg1);
      const offh = this.vh;
      if (i.opKind0 === OpKind.Mem) {
        // displacement in bytes = floor(signed offset / size) * size/8
        let dlo: number, dhi: number;
        if (sz === 64) {
          dlo = ((off >>> 6) | (offh << 26)) >>> 0;
          dhi = offh >> 6;
          // times 8 bytes
          dhi = ((dhi << 3) | (dlo >>> 29)) >>> 0;
          dlo = (dlo << 3) >>> 0;
        } else {
          const s = sz === 32 ? off | 0 : (off << 16) >> 16;
          const q = Math.floor(s / sz) * (sz >>> 3);
          dlo = q >>> 0;
          dhi = q < 0 ? 0xffffffff : 0;
        }
        const s2 = this.aLo + dlo;
        if (this.mode === 64 && d.asz === 64) {
          this.aHi = (this.aHi + dhi + (s2 >= TWO32 ? 1 : 0)) >>> 0;
          this.aLo = s2 >>> 0;
        } else {
          this.aLo = s2 >>> 0;
        }
      }
      bit = off & (sz - 1);
    } else bit = d.imm & (sz - 1);
    const a = this.get(d, 0, op !== 0);
    if (a < 0) return C_FAULT;
    const ah = this.vh;
    const word = bit >= 32 ? ah : a;
    const b = bit & 31;
    const cf = (word >>> b) & 1;
    if (op !== 0) {
      let nw: number;
      if (op === 1) nw = word | (1 << b); else if (op === 2) nw = word & ~(1 << b); else nw = word ^ (1 << b);
      nw >>>= 0;
      const lo = bit >= 32 ? a : nw, hi = bit >= 32 ? nw : ah;
      if (!this.put(d, 0, sz, lo, hi)) return C_FAULT;
    }
    setStatus(u, CF, cf);
    return C_NEXT;
  }

  /** BSF/BSR/TZCNT/LZCNT/POPCNT (SDM; the undefined flags are cleared, except as noted). */
  private bitScan(d: DI, m: number): number {
    const u = this.u;
    const i = d.i;
    const v = this.get(d, 1, false);
    if (v < 0) return C_FAULT;
    const sz = gprBits(i.reg0);
    const vh = sz === 64 ? this.vh : 0;
    const lo = sz === 16 ? v & 0xffff : v;
    const zero = (lo | vh) === 0;
    const r = i.reg0 & 15;
    switch (m) {
      case Mnemonic.Bsf: case Mnemonic.Bsr: {
        if (zero) {
          // destination unchanged (documented by AMD; Intel: undefined), ZF = 1
          setStatus(u, CF | PF | AF | ZF | SF | OF, ZF);
          return C_NEXT;
        }
        let n: number;
        if (m === Mnemonic.Bsf) n = lo !== 0 ? 31 - Math.clz32(lo & -lo) : 32 + 31 - Math.clz32(vh & -vh);
        else n = vh !== 0 ? 63 - Math.clz32(vh) : 31 - Math.clz32(lo);
        this.wrGpr(r, sz, n, 0);
        setStatus(u, CF | PF | AF | ZF | SF | OF, 0);
        return C_NEXT;
      }
      case Mnemonic.Tzcnt: case Mnemonic.Lzcnt: {
        let n: number;
        if (zero) n = sz;
        else if (m === Mnemonic.Tzcnt) n = lo !== 0 ? 31 - Math.clz32(lo & -lo) : 32 + 31 - Math.clz32(vh & -vh);
        else n = sz === 64 ? (vh !== 0 ? Math.clz32(vh) : 32 + Math.clz32(lo)) : Math.clz32(lo) - (32 - sz);
        this.wrGpr(r, sz, n, 0);
        setStatus(u, CF | PF | AF | ZF | SF | OF, (zero ? CF : 0) | (n === 0 ? ZF : 0));
        return C_NEXT;
      }
      default: { // POPCNT
        const n = pc(lo) + pc(vh);
        this.wrGpr(r, sz, n, 0);
        setStatus(u, CF | PF | AF | ZF | SF | OF, zero ? ZF : 0);
        return C_NEXT;
      }
    }
  }

  /** MUL/IMUL (1/2/3 operands)/DIV/IDIV. */
  private mulDiv(d: DI, m: number): number {
    const u = this.u;
    const i = d.i;
    if (m === Mnemonic.Imul && i.opCount >= 2) {
      // IMUL r, r/m [, imm]: truncated product, CF = OF = significant bits lost
      const sz = gprBits(i.reg0);
      const a = i.opCount === 3 ? this.get(d, 1, false) : this.rdReg(i.reg0);
      if (a < 0) return C_FAULT;
      const ah = this.vh;
      const b = i.opCount === 3 ? d.imm : this.get(d, 1, false);
      if (b < 0) return C_FAULT;
      const bh = i.opCount === 3 ? d.immHi : this.vh;
      let lo: number, hi = 0, ovf: boolean;
      if (sz === 64) {
        imul64(a, ah, b, bh);
        lo = prod[0]!; hi = prod[1]!;
        const ext = (hi & 0x80000000) !== 0 ? 0xffffffff : 0;
        ovf = prod[2] !== ext || prod[3] !== ext;
      } else if (sz === 32) {
        imul64(a, a & 0x80000000 ? 0xffffffff : 0, b, b & 0x80000000 ? 0xffffffff : 0);
        lo = prod[0]!;
        ovf = prod[1] !== ((lo & 0x80000000) !== 0 ? 0xffffffff : 0);
      } else {
        const p = ((a << 16) >> 16) * ((b << 16) >> 16);
        lo = p & 0xffff;
        ovf = p !== ((p << 16) >> 16);
      }
      this.wrGpr(i.reg0 & 15, sz, lo, hi);
      mulFlags(u, sz, ovf, lo, hi);
      return C_NEXT;
    }
    const sz = d.size;
    const v = this.get(d, 0, false);
    if (v < 0) return C_FAULT;
    const vh = this.vh;
    if (m === Mnemonic.Mul || m === Mnemonic.Imul) {
      const signed = m === Mnemonic.Imul;
      if (sz === 8) {
        const al = u[0]! & 0xff;
        const p = signed ? ((al << 24) >> 24) * ((v << 24) >> 24) : al * v;
        const r = p & 0xffff;
        u[0] = (u[0]! & 0xffff0000) | r;
        mulFlags(u, 8, signed ? p !== ((p << 24) >> 24) : r > 0xff, r & 0xff, 0);
      } else if (sz === 16) {
        const ax = u[0]! & 0xffff;
        const p = signed ? ((ax << 16) >> 16) * ((v << 16) >> 16) : ax * v;
        u[0] = (u[0]! & 0xffff0000) | (p & 0xffff);
        u[4] = (u[4]! & 0xffff0000) | ((p >>> 16) & 0xffff);
        mulFlags(u, 16, signed ? p !== ((p << 16) >> 16) : (p >>> 16) !== 0, p & 0xffff, 0);
      } else if (sz === 32) {
        let lo: number, hi: number;
        if (signed) {
          imul64(u[0]!, u[0]! & 0x80000000 ? 0xffffffff : 0, v, v & 0x80000000 ? 0xffffffff : 0);
          lo = prod[0]!; hi = prod[1]!;
        } else { lo = mul32(u[0]!, v); hi = mulHi; }
        u[0] = lo; u[1] = 0; u[4] = hi; u[5] = 0;
        mulFlags(u, 32, signed ? hi !== ((lo & 0x80000000) !== 0 ? 0xffffffff : 0) : hi !== 0, lo, 0);
      } else {
        if (signed) imul64(u[0]!, u[1]!, v, vh); else mul64(u[0]!, u[1]!, v, vh);
        const lo = prod[0]!, hi = prod[1]!;
        u[0] = lo; u[1] = hi; u[4] = prod[2]!; u[5] = prod[3]!;
        const ext = signed && (hi & 0x80000000) !== 0 ? 0xffffffff : 0;
        mulFlags(u, 64, prod[2] !== ext || prod[3] !== ext, lo, hi);
      }
      return C_NEXT;
    }
    const signed = m === Mnemonic.Idiv;
    if (sz === 64) {
      const ok = signed ? divs128(u[0]!, u[1]!, u[4]!, u[5]!, v, vh) : divu128(u[0]!, u[1]!, u[4]!, u[5]!, v, vh);
      if (!ok) return this.raise(DE, false, 0);
      u[0] = divq[0]!; u[1] = divq[1]!; u[4] = divq[2]!; u[5] = divq[3]!;
      return C_NEXT;
    }
    if (sz === 32) {
      if (!divSmall(signed, 32, u[0]!, u[4]!, v)) return this.raise(DE, false, 0);
      u[0] = divq[0]!; u[1] = 0; u[4] = divq[2]!; u[5] = 0;
      return C_NEXT;
    }
    if (sz === 16) {
      const n = ((u[4]! & 0xffff) << 16 | (u[0]! & 0xffff)) >>> 0;
      if (!divSmall(signed, 16, n, 0, v)) return this.raise(DE, false, 0);
      u[0] = (u[0]! & 0xffff0000) | (divq[0]! & 0xffff);
      u[4] = (u[4]! & 0xffff0000) | (divq[2]! & 0xffff);
      return C_NEXT;
    }
    if (!divSmall(signed, 8, u[0]! & 0xffff, 0, v)) return this.raise(DE, false, 0);
    u[0] = (u[0]! & 0xffff0000) | ((divq[2]! & 0xff) << 8) | (divq[0]! & 0xff);
    return C_NEXT;
  }

  /** DAA/DAS/AAA/AAS/AAM/AAD/SALC (SDM operation sections; undefined flags as the SDM notes). */
  private bcd(d: DI, m: number): number {
    const u = this.u;
    const al = u[0]! & 0xff;
    const cf = getCF(u);
    const af = getAF(u);
    switch (m) {
      case Mnemonic.Daa: case Mnemonic.Das: {
        let r = al, ncf = 0, naf = 0;
        if ((al & 0xf) > 9 || af) {
          r = m === Mnemonic.Daa ? r + 6 : r - 6;
          ncf = cf | (m === Mnemonic.Daa ? (r > 0xff ? 1 : 0) : (r < 0 ? 1 : 0));
          naf = AF;
          r &= 0xff;
        }
        if (al > 0x99 || cf) {
          r = (m === Mnemonic.Daa ? r + 0x60 : r - 0x60) & 0xff;
          ncf = 1;
        }
        u[0] = (u[0]! & 0xffffff00) | r;
        // OF undefined: we clear it
        setStatus(u, CF | AF | OF, ncf | naf);
        lazyResult(u, 8, r, 0);
        u[L_MASK] = PF | ZF | SF;
        return C_NEXT;
      }
      case Mnemonic.Aaa: case Mnemonic.Aas: {
        let ax = u[0]! & 0xffff;
        let f = 0;
        if ((al & 0xf) > 9 || af) {
          if (m === Mnemonic.Aaa) ax = (ax + 0x106) & 0xffff; else { ax = (ax - 6) & 0xffff; ax = (ax - 0x100) & 0xffff; }
          f = AF | CF;
        }
        ax &= 0xff0f;
        u[0] = (u[0]! & 0xffff0000) | ax;
        // OF, SF, ZF, PF undefined (cleared here)
        setStatus(u, CF | AF | OF | SF | ZF | PF, f);
        return C_NEXT;
      }
      case Mnemonic.Aam: {
        const base = d.imm & 0xff;
        if (base === 0) return this.raise(DE, false, 0);
        const ah = Math.floor(al / base), nal = al % base;
        u[0] = (u[0]! & 0xffff0000) | (ah << 8) | nal;
        setStatus(u, CF | AF | OF, 0);
        lazyResult(u, 8, nal, 0);
        u[L_MASK] = PF | ZF | SF;
        return C_NEXT;
      }
      case Mnemonic.Aad: {
        const base = d.imm & 0xff;
        const ah = (u[0]! >>> 8) & 0xff;
        const nal = (al + ah * base) & 0xff;
        u[0] = (u[0]! & 0xffff0000) | nal;
        setStatus(u, CF | AF | OF, 0);
        lazyResult(u, 8, nal, 0);
        u[L_MASK] = PF | ZF | SF;
        return C_NEXT;
      }
      default: // SALC: AL = CF ? 0xFF : 0
        u[0] = (u[0]! & 0xffffff00) | (cf ? 0xff : 0);
        return C_NEXT;
    }
  }

  private cpuid(d: DI): number {
    const u = this.u;
    const leaf = u[0]!, sub = u[2]!;
    const o = this.cpuidOut;
    cpuidModel(leaf, sub, this.apicId, o, this.sys.platform);
    if (this.cpuidExitLeaves.has(leaf)) {
      const ex = this.exitRecord;
      this.setExit('cpuid', 0, 0, 0, 0);
      this.faultRip();
      ex.leaf = leaf;
      ex.subleaf = sub;
      ex.eax = o.eax; ex.ebx = o.ebx; ex.ecx = o.ecx; ex.edx = o.edx;
      // the monitor may edit the values; they are written back at the next run()
      this.pendingIn = 3;
      this.fallThrough(d);
      return C_DONE;
    }
    u[0] = o.eax; u[1] = 0; u[6] = o.ebx; u[7] = 0; u[2] = o.ecx; u[3] = 0; u[4] = o.edx; u[5] = 0;
    return this.fallThrough(d);
  }

  /** Completes an exit that needs the monitor's answer (IN, INS, CPUID). */
  private completeIn(): boolean {
    const u = this.u;
    const ex = this.exitRecord;
    const kind = this.pendingIn;
    this.pendingIn = 0;
    if (kind === 3) {
      u[0] = ex.eax >>> 0; u[1] = 0; u[6] = ex.ebx >>> 0; u[7] = 0; u[2] = ex.ecx >>> 0; u[3] = 0; u[4] = ex.edx >>> 0; u[5] = 0;
      return true;
    }
    if (kind === 4) {
      // RDMSR exit: the monitor's value in EDX:EAX
      u[0] = ex.valueLo >>> 0; u[1] = 0; u[4] = ex.valueHi >>> 0; u[5] = 0;
      return true;
    }
    const size = this.pendingInSize;
    const v = ex.value >>> 0;
    if (kind === 1) {
      this.wrGpr(0, size * 8, size === 4 ? v : v & (size === 2 ? 0xffff : 0xff), 0);
      return true;
    }
    // INS: store at ES:rDI, then advance rDI and the REP count (the exit already left RIP right)
    const asz = this.pendingAsz;
    this.linOf(0, u[14]!, asz === 64 ? u[15]! : 0, asz, size, true);
    this.bLo = ex.ripLo; this.bHi = ex.ripHi; this.cur = this.scratchDI; this.scratchDI.start = 0; this.scratchDI.end = 0;
    if (!this.wrN(this.aLo, this.aHi, size, v, 0)) return false;
    this.stepIndex(7, asz, (u[S_RFLAGS]! & DF) !== 0 ? -size : size);
    if (this.pendingRep) this.decCount(asz);
    return true;
  }
  private pendingAsz = 32;
  private pendingRep = false;

  /** Adds `delta` to the string index register r (6 = rSI, 7 = rDI) at address size asz. */
  private stepIndex(r: number, asz: number, delta: number): void {
    const u = this.u;
    const n = r << 1;
    if (asz === 64) {
      const s = u[n]! + delta;
      u[n] = s;
      if (s < 0) u[n + 1] = u[n + 1]! - 1; else if (s >= TWO32) u[n + 1] = u[n + 1]! + 1;
    } else if (asz === 32) { u[n] = u[n]! + delta; u[n + 1] = 0; }
    else u[n] = (u[n]! & 0xffff0000) | ((u[n]! + delta) & 0xffff);
  }

  /** Decrements rCX at address size; returns true when it became 0. */
  private decCount(asz: number): boolean {
    const u = this.u;
    if (asz === 64) {
      const lo = (u[2]! - 1) >>> 0;
      if (u[2] === 0) u[3] = u[3]! - 1;
      u[2] = lo;
      return (lo | u[3]!) === 0;
    }
    if (asz === 32) { u[2] = u[2]! - 1; u[3] = 0; return u[2] === 0; }
    const cx = (u[2]! - 1) & 0xffff;
    u[2] = (u[2]! & 0xffff0000) | cx;
    return cx === 0;
  }

  private countZero(asz: number): boolean {
    const u = this.u;
    return asz === 64 ? (u[2]! | u[3]!) === 0 : asz === 32 ? u[2] === 0 : (u[2]! & 0xffff) === 0;
  }

  /**
   * String instructions with REP/REPE/REPNE (SDM Vol. 1 §7.3.9, MOVS/CMPS/SCAS/LODS/STOS pages).
   * Iterations count against the run budget; when it runs out mid-REP, RIP stays on the
   * instruction with the registers updated so far (as an interrupt between iterations leaves it).
   */
  private string(d: DI, m: number): number {
    const u = this.u;
    const i = d.i;
    const asz = i.addrSize;
    const rep = i.rep;
    let kind: number, size: number;
    if (m <= Mnemonic.Movsq) { kind = 0; size = 1 << (m - Mnemonic.Movsb); }
    else if (m <= Mnemonic.Cmpsq) { kind = 1; size = 1 << (m - Mnemonic.Cmpsb); }
    else if (m <= Mnemonic.Stosq) { kind = 2; size = 1 << (m - Mnemonic.Stosb); }
    else if (m <= Mnemonic.Lodsq) { kind = 3; size = 1 << (m - Mnemonic.Lodsb); }
    else { kind = 4; size = 1 << (m - Mnemonic.Scasb); }
    const delta = (u[S_RFLAGS]! & DF) !== 0 ? -size : size;
    const srcSeg = i.segment < 0 ? 3 : i.segment;
    const bits = size * 8;
    let iter = 0;
    const limit = this.budgetLeft;
    // REP MOVS/STOS forward through flat segments, nothing watching single iterations: whole runs
    // of elements inside one source and one destination page at once (bulkString)
    const bulk = rep !== 0 && (kind === 0 || kind === 2) && delta > 0 && !this.watch && !this.stepping &&
      (this.mode === 64 || (this.segChk[0] === 0 && (kind === 2 || this.segChk[srcSeg] === 0)));
    for (;;) {
      if (rep !== 0) {
        if (this.countZero(asz)) break;
        if (iter > 0 && iter >= limit) {
          this.retired += iter - 1;
          u[S_RIP] = this.bLo + d.start; // stay on the instruction
          this.setRipAt(d.start);
          return C_JUMP;
        }
        if (bulk) {
          const done = this.bulkString(kind, size, asz, srcSeg, limit - iter);
          if (done < 0) return this.stringFault(iter);
          if (done > 0) {
            iter += done;
            continue;
          }
        }
      }
      let v = 0, vh = 0;
      if (kind === 0 || kind === 1 || kind === 3) {
        this.linOf(srcSeg, u[12]!, asz === 64 ? u[13]! : 0, asz, size, false);
        v = this.rdN(this.aLo, this.aHi, size);
        if (v < 0) return this.stringFault(iter);
        vh = this.vh;
        if (this.watch) this.noteAccess(size, false);
      }
      if (kind === 0 || kind === 2) {
        this.linOf(0, u[14]!, asz === 64 ? u[15]! : 0, asz, size, true);
        if (kind === 2) { v = u[0]!; vh = u[1]!; }
        if (!this.wrN(this.aLo, this.aHi, size, size === 4 || size === 8 ? v : v & (size === 2 ? 0xffff : 0xff), vh)) return this.stringFault(iter);
        if (this.watch) this.noteAccess(size, true);
      } else if (kind === 1 || kind === 4) {
        this.linOf(0, u[14]!, asz === 64 ? u[15]! : 0, asz, size, false);
        const w = this.rdN(this.aLo, this.aHi, size);
        if (w < 0) return this.stringFault(iter);
        const wh = this.vh;
        if (this.watch) this.noteAccess(size, false);
        if (kind === 1) { if (size === 8) alu64(u, 7, v, vh, w, wh); else alu(u, 7, bits, v, w); }
        else if (size === 8) alu64(u, 7, u[0]!, u[1]!, w, wh);
        else alu(u, 7, bits, u[0]! & sizeMaskOf(bits), w);
      } else {
        this.wrGpr(0, bits, v, vh);
      }
      if (kind === 0 || kind === 1 || kind === 3) this.stepIndex(6, asz, delta);
      if (kind !== 3) this.stepIndex(7, asz, delta);
      iter++;
      if (rep === 0) break;
      const z = this.decCount(asz);
      if ((kind === 1 || kind === 4) && (rep === 1 ? !getZF(u) : getZF(u))) break;
      if (z) break;
      if (this.watchBits !== 0 || this.stepping) {
        // a data breakpoint hit, or TF: the #DB trap comes after this iteration, RIP on the
        // instruction for the remaining ones (SDM Vol. 3A §17.3.1.2; a single step executes one
        // iteration of a repeated string instruction, as a debugger's stepi shows)
        this.retired += iter - 1;
        this.setRipAt(d.start);
        return C_JUMP;
      }
    }
    if (iter > 1) this.retired += iter - 1;
    if (rep !== 0) return this.fallThrough(d);
    return C_NEXT;
  }

  /**
   * Up to `maxIter` iterations of REP MOVS (kind 0) or REP STOS (kind 2) with DF = 0 in one step:
   * the elements that lie wholly inside the current source page and destination page (and before
   * the index register wraps at the address size) are copied or filled through the soft TLB's host
   * view, then rSI/rDI/rCX advance as that many single iterations would leave them. Translation
   * faults are raised in the order one iteration raises them (source read, then destination write).
   * Returns the iterations done, 0 to let the element path do the next one (a page-straddling
   * element, a forward overlap whose element-by-element result differs from a block copy, or fewer
   * than 2 elements), or -1 after a fault.
   */
  private bulkString(kind: number, size: number, asz: number, srcSeg: number, maxIter: number): number {
    const u = this.u;
    let n = asz === 64 ? (u[3] !== 0 ? maxIter : u[2]!) : asz === 32 ? u[2]! : u[2]! & 0xffff;
    if (n > maxIter) n = maxIter;
    if (n < 2) return 0;
    const wrap = asz === 64 ? Infinity : asz === 32 ? TWO32 : 0x10000;
    let sArr: Uint8Array | null = null, sOff = 0;
    if (kind === 0) {
      const si = asz === 16 ? u[12]! & 0xffff : u[12]!;
      this.linOf(srcSeg, si, asz === 64 ? u[13]! : 0, asz, size, false);
      const lo = this.aLo, hi = this.aHi;
      n = Math.min(n, Math.floor((4096 - (lo & 0xfff)) / size), Math.floor((wrap - si) / size));
      if (n < 2) return 0;
      const t = (lo >>> 12) & TLB_MASK;
      if (this.tagR[t] !== hi * 1048576 + (lo >>> 12) && !this.fillRW(lo, hi, ACC_READ)) return -1;
      sArr = this.tBytes[t]!;
      sOff = this.tOff[t]! + (lo & 0xfff);
    }
    const di = asz === 16 ? u[14]! & 0xffff : u[14]!;
    this.linOf(0, di, asz === 64 ? u[15]! : 0, asz, size, true);
    const lo = this.aLo, hi = this.aHi;
    n = Math.min(n, Math.floor((4096 - (lo & 0xfff)) / size), Math.floor((wrap - di) / size));
    if (n < 2) return 0;
    const t = (lo >>> 12) & TLB_MASK;
    // a page holding decoded code is never in tagW (codePage): the fill below invalidates it first
    if (this.tagW[t] !== hi * 1048576 + (lo >>> 12) && !this.fillRW(lo, hi, ACC_WRITE)) return -1;
    const dArr = this.tBytes[t]!;
    const dOff = this.tOff[t]! + (lo & 0xfff);
    const len = n * size;
    if (sArr !== null) {
      // element-by-element forward copying into a range that starts inside the source repeats the
      // pattern; a block copy would not: leave that to the element path
      if (sArr === dArr && dOff > sOff && dOff < sOff + len) return 0;
      dArr.set(sArr.subarray(sOff, sOff + len), dOff);
      this.stepIndex(6, asz, len);
    } else if (size === 1) {
      dArr.fill(u[0]! & 0xff, dOff, dOff + len);
    } else {
      const v = this.tView[t]!;
      const a = u[0]!, b = u[1]!;
      for (let p = dOff, end = dOff + len; p < end; p += size) {
        if (size === 2) v.setUint16(p, a, true);
        else { v.setUint32(p, a, true); if (size === 8) v.setUint32(p + 4, b, true); }
      }
    }
    this.stepIndex(7, asz, len);
    // rCX -= n at the address size (n <= the count, so no borrow below zero)
    if (asz === 64) {
      const c = u[2]! - n;
      if (c < 0) u[3] = u[3]! - 1;
      u[2] = c;
    } else if (asz === 32) { u[2] = u[2]! - n; u[3] = 0; }
    else u[2] = (u[2]! & 0xffff0000) | ((u[2]! - n) & 0xffff);
    return n;
  }

  private stringFault(iter: number): number {
    // registers reflect the completed iterations; RIP stays on the instruction
    if (iter > 0) this.retired += iter;
    return C_FAULT;
  }

  /** IN/OUT/INS/OUTS: an `io` exit per element; IN data comes back at the next run(). */
  private io(d: DI, m: number): number {
    const u = this.u;
    const i = d.i;
    const isIn = m === Mnemonic.In || (m >= Mnemonic.Insb && m <= Mnemonic.Insd);
    const str = m >= Mnemonic.Insb;
    let size: number, port: number;
    if (str) {
      size = m <= Mnemonic.Insd ? 1 << (m - Mnemonic.Insb) : 1 << (m - Mnemonic.Outsb);
      port = u[4]! & 0xffff;
    } else {
      size = isIn ? gprBits(i.reg0) >>> 3 : gprBits(i.reg1) >>> 3;
      const pk = isIn ? i.opKind1 : i.opKind0;
      port = pk === OpKind.Reg ? u[4]! & 0xffff : i.imm & 0xff;
    }
    if (this.pmode && (this.cpl > ((u[S_RFLAGS]! >>> 12) & 3) || (u[S_RFLAGS]! & VM) !== 0)) {
      // CPL > IOPL: the TSS I/O permission bitmap decides (SDM Vol. 1 §19.5.2)
      const r = this.sys.ioAllowed(port, size);
      if (r !== ST_OK) {
        if (r === ST_EXIT) this.faultRip();
        return C_FAULT;
      }
    }
    const asz = i.addrSize;
    const rep = i.rep !== 0;
    if (str && rep && this.countZero(asz)) return this.fallThrough(d);
    if (this.watch) this.watchBits |= this.sys.ioBreakpoints(port, size);
    const ex = this.exitRecord;
    this.setExit('io', 0, 0, 0, 0);
    this.faultRip();
    ex.port = port;
    ex.size = size;
    ex.write = !isIn;
    ex.string = str;
    ex.rep = rep;
    ex.count = str && rep ? (asz === 16 ? u[2]! & 0xffff : u[2]!) : 1;
    ex.value = 0;
    if (!isIn) {
      if (str) {
        this.linOf(i.segment < 0 ? 3 : i.segment, u[12]!, asz === 64 ? u[13]! : 0, asz, size, false);
        const v = this.rdN(this.aLo, this.aHi, size);
        if (v < 0) return C_FAULT;
        if (this.watch) this.noteAccess(size, false);
        ex.value = v;
        this.stepIndex(6, asz, (u[S_RFLAGS]! & DF) !== 0 ? -size : size);
        if (rep && !this.decCount(asz)) { this.setRipAt(d.start); return C_DONE; }
      } else ex.value = size === 4 ? u[0]! : u[0]! & (size === 2 ? 0xffff : 0xff);
      this.fallThrough(d);
      return C_DONE;
    }
    // IN: check the INS destination is writable now, so completion cannot fault
    if (str) {
      this.linOf(0, u[14]!, asz === 64 ? u[15]! : 0, asz, size, true);
      if (this.rwN(this.aLo, this.aHi, size) < 0) return C_FAULT;
      // the store is made when the monitor answers; its breakpoint belongs to this iteration
      if (this.watch) this.noteAccess(size, true);
      this.pendingIn = 2;
      this.pendingAsz = asz;
      this.pendingRep = rep;
      // a REP INS stays on the instruction until the count reaches zero
      if (rep && ex.count > 1) this.setRipAt(d.start); else this.fallThrough(d);
    } else {
      this.pendingIn = 1;
      this.fallThrough(d);
    }
    this.pendingInSize = size;
    return C_DONE;
  }
}

function isImm(k: number): boolean {
  return k >= OpKind.Imm8 && k <= OpKind.Imm32Sx;
}

/** Byte swap of a 32-bit value (BSWAP, MOVBE). */
function sw(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** Population count of a 32-bit value. */
function pc(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function sizeMaskOf(size: number): number {
  return size === 32 ? 0xffffffff : size === 16 ? 0xffff : size === 8 ? 0xff : 0xffffffff;
}

export { materialize, lazyArith, lazyArith64 };
