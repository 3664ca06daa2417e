/**
 * The x87 FPU (SDM Vol. 1 ch. 8; Vol. 2 the F* instruction pages; Vol. 3A 2.5, Table 2-2, 6.15
 * #NM/#MF). Entry point `execX87` executes every x87 mnemonic the decoder reports (Fadd .. Ffreep),
 * WAIT/FWAIT and FXSAVE/FXRSTOR(64).
 *
 * Order of checks (Vol. 3A Table 2-2, 6.15 "Interrupt 7/16"): #NM when CR0.EM or CR0.TS (WAIT only
 * when TS and MP); then, for a waiting instruction, a pending unmasked exception (FSW.ES) raises #MF
 * when CR0.NE = 1, or with NE = 0 signals FERR# (cpu.ferr(), the platform's IRQ 13) and the
 * instruction goes on: IGNNE# is modelled as asserted, so the CPU never freezes at the instruction.
 * Non-control instructions then record FIP/FCS, FOP and (with a memory operand) FDP/FDS
 * (SDM Vol. 1 8.1.8-8.1.10). An unmasked exception inside an instruction only sets its flag and ES/B;
 * the #MF comes at the next waiting instruction (8.5, 8.7).
 *
 * Exception responses (8.5): unmasked IE, DE or ZE leave the destination and TOP unchanged; unmasked
 * OE/UE store the re-biased result to a register (softfloat does the re-bias) but nothing to memory;
 * PE stores normally. Stack faults (8.5.1.1): IE + SF, C1 = 1 overflow / 0 underflow, and when IE is
 * masked the real indefinite takes the result's place.
 *
 * Precision control (FCW.PC, 8.1.5.2): 00 = 24 bits, 10 = 53, 11 = 64; the reserved 01 is treated as 64.
 */
import type { DI } from '../block.js';
import { Mnemonic } from '../decoder/insn.js';
import { cond, setStatus } from '../flags.js';
import {
  AF, CF, CS, FPR_STRIDE, OF, PF, S_CR0, S_FCS, S_FCW, S_FDP, S_FDS, S_FIP, S_FOP, S_FPR, S_FSW, S_SEG, SEG_SEL,
  SEG_STRIDE, SF, ZF,
} from '../state.js';
import { C_FAULT, C_NEXT, V_MF, V_NM, V_UD, type FpuCpu } from './cpu.js';
import { operandHi, operandLo } from './mem.js';
import {
  CLS_NORMAL, CLS_QNAN, CLS_SNAN, CLS_SUBNORMAL, CLS_UNSUPPORTED, CMP_EQ, CMP_GT, CMP_LT, FE_DENORMAL, FE_DIVZERO,
  FE_INEXACT, FE_INVALID, FpEnv, f32Class, f32ToF80, f64Class, f64ToF80, f80Add, f80Class, f80Cmp, f80Div, f80Mul, f80Rem,
  f80RoundInt, f80Scale, f80Sqrt, f80Sub, f80ToF32, f80ToF64, f80ToInt,
} from './softfloat.js';
import { fldenv, fninit, fnsave, fnstenv, frstor, fxrstor, fxsave, setFcw } from './x87-env.js';
import {
  EXC_MASK, IND_HI, IND_LO, IND_SE, K_DENORMAL, K_EMPTY, K_INF, K_NAN, K_NORMAL, K_UNSUPPORTED, K_ZERO, SW_B, SW_C0,
  SW_C1, SW_C2, SW_C3, SW_ES, SW_SF, classify, getTop, isEmpty, phys, pop, pushCommit, pushSlot, recomputeES,
  setC1, setCC, setEmpty, setTop, signal, stackFault, writeReg,
} from './x87-state.js';
import { transcendental } from './x87-trans.js';

const CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_NE = 32;

/** The one FpEnv of the unit (configured from FCW per instruction; no allocation per operation). */
const env = new FpEnv();

/** Configures `env` from FCW: RC, PC (precision), masks; x87 NaN rules. */
export function x87Env(u: Uint32Array): FpEnv {
  const fcw = u[S_FCW]!;
  env.rc = (fcw >>> 10) & 3;
  const pc = (fcw >>> 8) & 3;
  env.prec = pc === 0 ? 24 : pc === 2 ? 53 : 64;
  env.masks = fcw & EXC_MASK;
  env.daz = false;
  env.ftz = false;
  env.x87 = true;
  env.flags = 0;
  env.c1 = 0;
  return env;
}

// operand scratch (the source operand of the current instruction, as an extended value)
let sLo = 0, sHi = 0, sSe = 0;
/**
 * Class (softfloat CLS_*) of an m32fp/m64fp operand as read from memory, before its exact extension;
 * CLS_NORMAL for every other operand kind. The extension itself raises nothing (see readMemOperand).
 */
let sCls = CLS_NORMAL;

/** Pre-computation exceptions: when one of these is unmasked nothing is stored (SDM Vol. 1 8.5.1-8.5.3). */
const PRE = FE_INVALID | FE_DENORMAL | FE_DIVZERO;

function regLo(u: Uint32Array, p: number): number { return u[S_FPR + p * FPR_STRIDE]!; }
function regHi(u: Uint32Array, p: number): number { return u[S_FPR + p * FPR_STRIDE + 1]!; }
function regSe(u: Uint32Array, p: number): number { return u[S_FPR + p * FPR_STRIDE + 2]!; }

/** Exact int64 (two's complement lo/hi) to extended, into sLo/sHi/sSe. */
function intToExt(lo: number, hi: number): void {
  let s = 0;
  lo >>>= 0; hi >>>= 0;
  if ((hi & 0x80000000) !== 0) {
    s = 0x8000;
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  if ((hi | lo) === 0) { sLo = 0; sHi = 0; sSe = 0; return; }
  let e = 16383 + 63;
  if (hi === 0) { hi = lo; lo = 0; e -= 32; }
  const z = Math.clz32(hi);
  if (z !== 0) { hi = ((hi << z) | (lo >>> (32 - z))) >>> 0; lo = (lo << z) >>> 0; e -= z; }
  sLo = lo; sHi = hi; sSe = s | e;
}

/**
 * Reads the memory operand of an arithmetic/compare/load form as an extended value into sLo/sHi/sSe:
 * fp = m32fp/m64fp/m80fp by width, else m16int/m32int/m64int. An m32fp/m64fp operand is extended
 * exactly and WITHOUT flags, an SNaN staying signalling (quiet bit as in memory), and its original
 * class is left in sCls: the x87 treats it as an operand of the operation, so the operation decides
 * IE/DE and the NaN result by the priorities of SDM Vol. 1 8.7 and the x87 rules of Table 4-7 (a
 * denormal m32fp is normal as an extended value, yet its DE ranks below NaN operands, invalid operations
 * and divide-by-zero: `memDenormal`). FLD applies the load's own IE/DE itself. Returns false after a fault.
 */
function readMemOperand(cpu: FpuCpu, width: number, fp: boolean): boolean {
  const lo = cpu.memRead(cpu.memLo, cpu.memHi, width === 10 ? 8 : width);
  if (lo < 0) return false;
  const hi = width >= 8 ? cpu.memHi32 : 0;
  sCls = CLS_NORMAL;
  if (!fp) {
    if (width === 2) intToExt((lo << 16) >> 16, (lo & 0x8000) !== 0 ? 0xffffffff : 0);
    else if (width === 4) intToExt(lo, (lo & 0x80000000) !== 0 ? 0xffffffff : 0);
    else intToExt(lo, hi);
    return true;
  }
  if (width === 4 || width === 8) {
    const f = env.flags;
    if (width === 4) { sCls = f32Class(lo); f32ToF80(env, lo); } else { sCls = f64Class(lo, hi); f64ToF80(env, lo, hi); }
    env.flags = f;
    sLo = env.lo; sSe = env.se;
    sHi = sCls === CLS_SNAN ? (env.hi & ~0x40000000) >>> 0 : env.hi; // the extension quiets; undo it
    return true;
  }
  // m80fp: raw, no conversion and no exception (SDM Vol. 2 FLD)
  const se = cpu.memRead(operandLo(cpu, 8), operandHi(cpu, 8), 2);
  if (se < 0) return false;
  sLo = lo; sHi = hi; sSe = se;
  return true;
}

/**
 * DE of a denormal m32fp/m64fp operand (sCls), raised after the operation with the register operand
 * (lo/hi/se) has run on its extended value, per SDM Vol. 1 8.7: not when the register operand is a NaN
 * or unsupported (priority 1/2) nor when the operation raised IE or ZE (priority 1/3); otherwise DE
 * (priority 4). When DE is unmasked the caller's commit discards the result (pre-computation exception).
 */
function memDenormal(lo: number, hi: number, se: number): void {
  if (sCls !== CLS_SUBNORMAL || (env.flags & (FE_INVALID | FE_DIVZERO)) !== 0) return;
  const c = f80Class(lo, hi, se);
  if (c === CLS_QNAN || c === CLS_SNAN || c === CLS_UNSUPPORTED) return;
  env.flags |= FE_DENORMAL;
}

/** Stores 10 bytes (a significand and a sign/exponent word) to the memory operand, all or nothing. */
function store80(cpu: FpuCpu, lo: number, hi: number, se: number): boolean {
  if (!cpu.memProbe(cpu.memLo, cpu.memHi, 10, true)) return false;
  return cpu.memWrite(cpu.memLo, cpu.memHi, 8, lo, hi) && cpu.memWrite(operandLo(cpu, 8), operandHi(cpu, 8), 2, se, 0);
}

/** Records FIP/FCS/FOP and, with a memory operand, FDP/FDS (SDM Vol. 1 8.1.8-8.1.10). */
function recordPointers(cpu: FpuCpu, d: DI): void {
  const u = cpu.u, i = d.i;
  u[S_FOP] = ((i.op & 7) << 8) | (i.modrm & 0xff);
  u[S_FIP] = cpu.insnRipLo();
  u[S_FIP + 1] = cpu.insnRipHi();
  u[S_FCS] = u[S_SEG + CS * SEG_STRIDE + SEG_SEL]! & 0xffff;
  if (d.hasMem) {
    u[S_FDP] = cpu.memOffsetLo();
    u[S_FDP + 1] = cpu.memOffsetHi();
    u[S_FDS] = u[S_SEG + cpu.memSeg * SEG_STRIDE + SEG_SEL]! & 0xffff;
  }
}

export function execX87(cpu: FpuCpu, d: DI): number {
  const u = cpu.u, i = d.i, m = i.mnemonic;
  const cr0 = u[S_CR0]!;
  if (i.lock !== 0) return cpu.raise(V_UD, false, 0);
  if (m === Mnemonic.Wait) {
    // WAIT: #NM only when TS and MP (Vol. 3A Table 2-1/2-2); then pending unmasked exceptions
    if ((cr0 & (CR0_TS | CR0_MP)) === (CR0_TS | CR0_MP)) return cpu.raise(V_NM, false, 0);
    if ((u[S_FSW]! & SW_ES) !== 0) {
      if ((cr0 & CR0_NE) !== 0) return cpu.raise(V_MF, false, 0);
      cpu.ferr();
    }
    return C_NEXT;
  }
  if ((cr0 & (CR0_EM | CR0_TS)) !== 0) return cpu.raise(V_NM, false, 0);
  // non-waiting instructions: no pending-exception check, no pointer update
  switch (m) {
    case Mnemonic.Fninit: fninit(u); return C_NEXT;
    case Mnemonic.Fnclex: u[S_FSW] = u[S_FSW]! & ~(EXC_MASK | SW_SF | SW_ES | SW_B); return C_NEXT;
    case Mnemonic.Fnstcw: return cpu.memWrite(cpu.memLo, cpu.memHi, 2, u[S_FCW]! & 0xffff, 0) ? C_NEXT : C_FAULT;
    case Mnemonic.Fnstsw:
      if (!d.hasMem) { u[0] = ((u[0]! & 0xffff0000) | (u[S_FSW]! & 0xffff)) >>> 0; return C_NEXT; }
      return cpu.memWrite(cpu.memLo, cpu.memHi, 2, u[S_FSW]! & 0xffff, 0) ? C_NEXT : C_FAULT;
    case Mnemonic.Fnstenv: return fnstenv(cpu, i.opSize === 16);
    case Mnemonic.Fnsave: return fnsave(cpu, i.opSize === 16);
    case Mnemonic.Fneni: case Mnemonic.Fndisi: case Mnemonic.Fnsetpm:
      return C_NEXT; // 8087/287 controls, no-ops on the 387 and later (SDM Vol. 1 8.3.13 / App. ?)
    case Mnemonic.Fxsave: return fxsave(cpu, false);
    case Mnemonic.Fxsave64: return fxsave(cpu, true);
    case Mnemonic.Fxrstor: return fxrstor(cpu, false);
    case Mnemonic.Fxrstor64: return fxrstor(cpu, true);
  }
  if ((u[S_FSW]! & SW_ES) !== 0) {
    if ((cr0 & CR0_NE) !== 0) return cpu.raise(V_MF, false, 0);
    cpu.ferr();
  }
  // waiting control instructions (no pointer update)
  switch (m) {
    case Mnemonic.Fldcw: {
      const v = cpu.memRead(cpu.memLo, cpu.memHi, 2);
      if (v < 0) return C_FAULT;
      setFcw(u, v);
      recomputeES(u); // flags set before and now unmasked are pending (SDM Vol. 2 FLDCW)
      return C_NEXT;
    }
    case Mnemonic.Fldenv: return fldenv(cpu, i.opSize === 16);
    case Mnemonic.Frstor: return frstor(cpu, i.opSize === 16);
  }
  recordPointers(cpu, d);
  x87Env(u);
  switch (m) {
    case Mnemonic.Fadd: case Mnemonic.Fmul: case Mnemonic.Fsub: case Mnemonic.Fsubr: case Mnemonic.Fdiv: case Mnemonic.Fdivr:
      return arith(cpu, d, m - Mnemonic.Fadd, false, true);
    case Mnemonic.Fiadd: case Mnemonic.Fimul: case Mnemonic.Fisub: case Mnemonic.Fisubr: case Mnemonic.Fidiv: case Mnemonic.Fidivr:
      return arith(cpu, d, m - Mnemonic.Fiadd, false, false);
    case Mnemonic.Faddp: return arith(cpu, d, OP_ADD, true, true);
    case Mnemonic.Fmulp: return arith(cpu, d, OP_MUL, true, true);
    case Mnemonic.Fsubp: return arith(cpu, d, OP_SUB, true, true);
    case Mnemonic.Fsubrp: return arith(cpu, d, OP_SUBR, true, true);
    case Mnemonic.Fdivp: return arith(cpu, d, OP_DIV, true, true);
    case Mnemonic.Fdivrp: return arith(cpu, d, OP_DIVR, true, true);
    case Mnemonic.Fcom: return compare(cpu, d, false, 0, false, true);
    case Mnemonic.Fcomp: return compare(cpu, d, false, 1, false, true);
    case Mnemonic.Fcompp: return compare(cpu, d, false, 2, false, true);
    case Mnemonic.Fucom: return compare(cpu, d, true, 0, false, true);
    case Mnemonic.Fucomp: return compare(cpu, d, true, 1, false, true);
    case Mnemonic.Fucompp: return compare(cpu, d, true, 2, false, true);
    case Mnemonic.Ficom: return compare(cpu, d, false, 0, false, false);
    case Mnemonic.Ficomp: return compare(cpu, d, false, 1, false, false);
    case Mnemonic.Fcomi: return compare(cpu, d, false, 0, true, true);
    case Mnemonic.Fcomip: return compare(cpu, d, false, 1, true, true);
    case Mnemonic.Fucomi: return compare(cpu, d, true, 0, true, true);
    case Mnemonic.Fucomip: return compare(cpu, d, true, 1, true, true);
    case Mnemonic.Ftst: return compare(cpu, d, false, 0, false, true);
    case Mnemonic.Fxam: return fxam(u);
    case Mnemonic.Fld: return fld(cpu, d);
    case Mnemonic.Fild: return fild(cpu, d);
    case Mnemonic.Fbld: return fbld(cpu);
    case Mnemonic.Fld1: return fldConst(u, 0, 0x80000000, 0x3fff, 0);
    case Mnemonic.Fldz: return fldConst(u, 0, 0, 0, 0);
    // SDM Vol. 1 8.3.8: a 66-bit internal constant rounded per RC; `rn` = 1 when round-to-nearest
    // rounds the 64-bit truncation up (the exact values' bits 65:64 are nonzero for all five)
    case Mnemonic.Fldpi: return fldConst(u, 0x2168c234, 0xc90fdaa2, 0x4000, 1);
    case Mnemonic.Fldl2e: return fldConst(u, 0x5c17f0bb, 0xb8aa3b29, 0x3fff, 1);
    case Mnemonic.Fldl2t: return fldConst(u, 0xcd1b8afe, 0xd49a784b, 0x4000, 0);
    case Mnemonic.Fldlg2: return fldConst(u, 0xfbcff798, 0x9a209a84, 0x3ffd, 1);
    case Mnemonic.Fldln2: return fldConst(u, 0xd1cf79ab, 0xb17217f7, 0x3ffe, 1);
    case Mnemonic.Fst: return fst(cpu, d, false);
    case Mnemonic.Fstp: case Mnemonic.Fstpnce: return fst(cpu, d, true);
    case Mnemonic.Fist: return fist(cpu, d, false, false);
    case Mnemonic.Fistp: return fist(cpu, d, true, false);
    case Mnemonic.Fisttp: return fist(cpu, d, true, true);
    case Mnemonic.Fbstp: return fbstp(cpu);
    case Mnemonic.Fxch: return fxch(u, i.reg1 & 7);
    case Mnemonic.Fchs: case Mnemonic.Fabs: {
      const p = getTop(u);
      if (isEmpty(u, p)) { if (stackFault(u, false)) writeReg(u, p, IND_LO, IND_HI, IND_SE); return C_NEXT; }
      const se = regSe(u, p);
      writeReg(u, p, regLo(u, p), regHi(u, p), m === Mnemonic.Fchs ? se ^ 0x8000 : se & 0x7fff);
      setC1(u, 0);
      return C_NEXT;
    }
    case Mnemonic.Ffree: setEmpty(u, phys(u, i.reg0 & 7)); return C_NEXT;
    case Mnemonic.Ffreep: setEmpty(u, phys(u, i.reg0 & 7)); pop(u); return C_NEXT;
    case Mnemonic.Fincstp: setTop(u, getTop(u) + 1); setC1(u, 0); return C_NEXT;
    case Mnemonic.Fdecstp: setTop(u, getTop(u) - 1); setC1(u, 0); return C_NEXT;
    case Mnemonic.Fnop: return C_NEXT;
    case Mnemonic.Fcmovb: case Mnemonic.Fcmove: case Mnemonic.Fcmovbe: case Mnemonic.Fcmovu:
    case Mnemonic.Fcmovnb: case Mnemonic.Fcmovne: case Mnemonic.Fcmovnbe: case Mnemonic.Fcmovnu:
      return fcmov(u, i.reg1 & 7, i.cond);
    case Mnemonic.Fsqrt: case Mnemonic.Frndint:
      return unary(u, m);
    case Mnemonic.Fscale: case Mnemonic.Fprem: case Mnemonic.Fprem1:
      return binaryST0ST1(u, m);
    case Mnemonic.Fxtract: return fxtract(u);
    case Mnemonic.F2xm1: case Mnemonic.Fyl2x: case Mnemonic.Fyl2xp1: case Mnemonic.Fptan: case Mnemonic.Fpatan:
    case Mnemonic.Fsin: case Mnemonic.Fcos: case Mnemonic.Fsincos:
      return transcendental(u, m, env);
  }
  return cpu.raise(V_UD, false, 0);
}

// arithmetic operation codes, in the D8 /reg order (add mul com comp sub subr div divr)
const OP_ADD = 0, OP_MUL = 1, OP_SUB = 4, OP_SUBR = 5, OP_DIV = 6, OP_DIVR = 7;

/** Computes a OP b into env (the f80 ops round to env.prec). */
function compute(op: number, alo: number, ahi: number, ase: number, blo: number, bhi: number, bse: number): void {
  switch (op) {
    case OP_ADD: f80Add(env, alo, ahi, ase, blo, bhi, bse); break;
    case OP_MUL: f80Mul(env, alo, ahi, ase, blo, bhi, bse); break;
    case OP_SUB: f80Sub(env, alo, ahi, ase, blo, bhi, bse); break;
    case OP_SUBR: f80Sub(env, blo, bhi, bse, alo, ahi, ase); break;
    case OP_DIV: f80Div(env, alo, ahi, ase, blo, bhi, bse); break;
    default: f80Div(env, blo, bhi, bse, alo, ahi, ase); break;
  }
}

/**
 * Stores an arithmetic result in physical register p per SDM Vol. 1 8.5: with an unmasked IE/DE/ZE
 * nothing is stored (and the caller does not pop); with an unmasked DE the operation did not run, so
 * only the pre-computation flags are reported. Returns true when the result was stored.
 */
function commit(u: Uint32Array, p: number): boolean {
  let f = env.flags;
  if ((f & PRE & ~env.masks) !== 0) {
    if ((f & FE_DENORMAL & ~env.masks) !== 0) f &= PRE;
    signal(u, f);
    setC1(u, 0);
    return false;
  }
  signal(u, f);
  writeReg(u, p, env.lo, env.hi, env.se);
  setC1(u, (f & FE_INEXACT) !== 0 ? env.c1 : 0);
  return true;
}

/** FADD..FDIVR, the P forms and FIADD..FIDIVR (SDM Vol. 2 FADD etc.). */
function arith(cpu: FpuCpu, d: DI, op: number, popAfter: boolean, fp: boolean): number {
  const u = cpu.u, i = d.i;
  let pd: number, ps: number;
  if (d.hasMem) {
    if (!readMemOperand(cpu, i.operandWidth, fp)) return C_FAULT;
    pd = getTop(u);
    ps = -1;
  } else {
    pd = phys(u, i.reg0 & 7);
    ps = phys(u, i.reg1 & 7);
  }
  if (isEmpty(u, pd) || (ps >= 0 && isEmpty(u, ps))) {
    if (stackFault(u, false)) {
      writeReg(u, pd, IND_LO, IND_HI, IND_SE);
      if (popAfter) pop(u);
    }
    return C_NEXT;
  }
  if (ps >= 0) { sLo = regLo(u, ps); sHi = regHi(u, ps); sSe = regSe(u, ps); }
  compute(op, regLo(u, pd), regHi(u, pd), regSe(u, pd), sLo, sHi, sSe);
  if (ps < 0) memDenormal(regLo(u, pd), regHi(u, pd), regSe(u, pd));
  if (commit(u, pd) && popAfter) pop(u);
  return C_NEXT;
}

/**
 * FCOM/FCOMP/FCOMPP, FUCOM*, FICOM*, FCOMI/FCOMIP/FUCOMI/FUCOMIP and FTST (compares ST(0) with +0.0): C3 C2 C0 =
 * 000 >, 001 <, 100 =, 111 unordered (SDM Vol. 2 FCOM Table 3-21); the I forms set ZF PF CF the same
 * way and clear OF SF AF (FCOMI Table 3-31). Unmasked IE: no flags set, no pop.
 */
function compare(cpu: FpuCpu, d: DI, quiet: boolean, pops: number, eflags: boolean, fp: boolean): number {
  const u = cpu.u, i = d.i;
  const p0 = getTop(u);
  let ps = -1;
  if (d.hasMem) {
    if (!readMemOperand(cpu, i.operandWidth, fp)) return C_FAULT;
  } else if (i.mnemonic === Mnemonic.Ftst) {
    sLo = 0; sHi = 0; sSe = 0;
  } else {
    ps = phys(u, i.opCount >= 2 ? i.reg1 & 7 : 1);
  }
  let r: number;
  if (isEmpty(u, p0) || (ps >= 0 && isEmpty(u, ps))) {
    if (!stackFault(u, false)) return C_NEXT;
    r = 3;
  } else {
    if (ps >= 0) { sLo = regLo(u, ps); sHi = regHi(u, ps); sSe = regSe(u, ps); }
    r = f80Cmp(env, regLo(u, p0), regHi(u, p0), regSe(u, p0), sLo, sHi, sSe, quiet);
    if (d.hasMem) memDenormal(regLo(u, p0), regHi(u, p0), regSe(u, p0));
    signal(u, env.flags);
    if ((env.flags & PRE & ~env.masks) !== 0) return C_NEXT;
    setC1(u, 0);
  }
  // r: CMP_LT 0 / CMP_EQ 1 / CMP_GT 2 / CMP_UN 3
  if (eflags) {
    const v = r === CMP_GT ? 0 : r === CMP_LT ? CF : r === CMP_EQ ? ZF : ZF | PF | CF;
    setStatus(u, ZF | PF | CF | OF | SF | AF, v);
  } else {
    const c = r === CMP_GT ? 0 : r === CMP_LT ? 1 : r === CMP_EQ ? 8 : 8 | 4 | 1;
    u[S_FSW] = (u[S_FSW]! & ~(SW_C0 | SW_C2 | SW_C3)) | (c & 1 ? SW_C0 : 0) | (c & 4 ? SW_C2 : 0) | (c & 8 ? SW_C3 : 0);
  }
  for (let k = 0; k < pops; k++) pop(u);
  return C_NEXT;
}

/** FXAM (SDM Vol. 2 FXAM Table 3-??): C3 C2 C0 class, C1 = sign; empty = 101. Never an exception. */
function fxam(u: Uint32Array): number {
  const p = getTop(u);
  const k = isEmpty(u, p) ? K_EMPTY : classify(regLo(u, p), regHi(u, p), regSe(u, p));
  let c = 0;
  switch (k) {
    case K_UNSUPPORTED: c = 0; break;
    case K_NAN: c = 1; break;
    case K_NORMAL: c = 4; break;
    case K_INF: c = 5; break;
    case K_ZERO: c = 8; break;
    case K_EMPTY: c = 9; break;
    case K_DENORMAL: c = 12; break;
  }
  setCC(u, c | ((regSe(u, p) >>> 15) & 1 ? 2 : 0));
  return C_NEXT;
}

/** FLD ST(i) / m32fp / m64fp / m80fp (SDM Vol. 2 FLD). */
function fld(cpu: FpuCpu, d: DI): number {
  const u = cpu.u, i = d.i;
  if (d.hasMem) {
    if (!readMemOperand(cpu, i.operandWidth, true)) return C_FAULT;
    const t = pushSlot(u);
    if (t < 0) return C_NEXT;
    // the load's conversion: SNaN -> IE and quieted, denormal m32fp/m64fp -> DE (SDM Vol. 2 FLD)
    if (sCls === CLS_SNAN) { env.flags |= FE_INVALID; sHi = (sHi | 0x40000000) >>> 0; }
    else if (sCls === CLS_SUBNORMAL) env.flags |= FE_DENORMAL;
    const f = env.flags;
    signal(u, f);
    if ((f & PRE & ~env.masks) !== 0) return C_NEXT;
    pushCommit(u, t, sLo, sHi, sSe);
    setC1(u, 0);
    return C_NEXT;
  }
  const ps = phys(u, i.reg0 & 7);
  // the source is read before the push (SDM Vol. 2 FLD Operation: temp <- ST(i); TOP <- TOP - 1): an
  // empty ST(i) is an underflow (C1 = 0) even when ST(7) is also full (host: finding X3)
  if (isEmpty(u, ps)) {
    if (stackFault(u, false)) pushCommit(u, (getTop(u) - 1) & 7, IND_LO, IND_HI, IND_SE);
    return C_NEXT;
  }
  const t = pushSlot(u);
  if (t < 0) return C_NEXT;
  pushCommit(u, t, regLo(u, ps), regHi(u, ps), regSe(u, ps));
  setC1(u, 0);
  return C_NEXT;
}

/** FILD m16int/m32int/m64int: always exact (SDM Vol. 2 FILD). */
function fild(cpu: FpuCpu, d: DI): number {
  const u = cpu.u;
  if (!readMemOperand(cpu, d.i.operandWidth, false)) return C_FAULT;
  const t = pushSlot(u);
  if (t < 0) return C_NEXT;
  pushCommit(u, t, sLo, sHi, sSe);
  setC1(u, 0);
  return C_NEXT;
}

/** FLD1/FLDZ/FLDPI/...: the constant rounded per RC (SDM Vol. 1 8.3.8; positive values only). */
function fldConst(u: Uint32Array, lo: number, hi: number, se: number, rn: number): number {
  const t = pushSlot(u);
  if (t < 0) return C_NEXT;
  if (se !== 0x3fff || lo !== 0 || hi !== 0x80000000) {
    if (se !== 0) {
      const rc = env.rc;
      // truncation is inexact for all five: RU rounds up, RN per the next bits, RD/RZ truncate
      const up = rc === 2 ? 1 : rc === 0 ? rn : 0;
      if (up !== 0) {
        lo = (lo + 1) >>> 0;
        if (lo === 0) hi = (hi + 1) >>> 0; // never carries out for these five constants
      }
    }
  }
  pushCommit(u, t, lo, hi, se);
  setC1(u, 0);
  return C_NEXT;
}

/** FST/FSTP ST(i), m32fp, m64fp, m80fp (SDM Vol. 2 FST). */
function fst(cpu: FpuCpu, d: DI, popAfter: boolean): number {
  const u = cpu.u, i = d.i;
  const p0 = getTop(u);
  if (!d.hasMem) {
    const pd = phys(u, i.reg0 & 7);
    if (isEmpty(u, p0)) {
      if (!stackFault(u, false)) return C_NEXT;
      writeReg(u, pd, IND_LO, IND_HI, IND_SE);
    } else {
      writeReg(u, pd, regLo(u, p0), regHi(u, p0), regSe(u, p0));
      setC1(u, 0);
    }
    if (popAfter) pop(u);
    return C_NEXT;
  }
  const w = i.operandWidth;
  const empty = isEmpty(u, p0);
  if (empty && !stackFault(u, false)) return C_NEXT;
  if (w === 10) {
    if (empty ? !store80(cpu, IND_LO, IND_HI, IND_SE) : !store80(cpu, regLo(u, p0), regHi(u, p0), regSe(u, p0))) return C_FAULT;
    if (!empty) setC1(u, 0);
    if (popAfter) pop(u);
    return C_NEXT;
  }
  let lo: number, hi = 0;
  if (empty) {
    lo = w === 4 ? 0xffc00000 : 0; // QNaN indefinite of the destination format
    hi = 0xfff80000;
  } else {
    if (w === 4) lo = f80ToF32(env, regLo(u, p0), regHi(u, p0), regSe(u, p0));
    else { f80ToF64(env, regLo(u, p0), regHi(u, p0), regSe(u, p0)); lo = env.lo; hi = env.hi; }
    // unmasked IE/DE/OE/UE with a memory destination: nothing stored, no pop, and no rounding
    // reported: C1 = 0 (SDM Vol. 1 8.5.1-8.5.5; the host agrees, finding X7)
    const f = env.flags;
    if ((f & ~env.masks & (EXC_MASK & ~FE_INEXACT)) !== 0) {
      if (!cpu.memProbe(cpu.memLo, cpu.memHi, w, true)) return C_FAULT;
      signal(u, f);
      setC1(u, 0);
      return C_NEXT;
    }
  }
  if (!cpu.memWrite(cpu.memLo, cpu.memHi, w, lo, hi)) return C_FAULT;
  if (!empty) {
    signal(u, env.flags);
    setC1(u, (env.flags & FE_INEXACT) !== 0 ? env.c1 : 0);
  }
  if (popAfter) pop(u);
  return C_NEXT;
}

/** FIST/FISTP m16/m32/m64int, FISTTP (truncating): out of range or NaN -> IE and the integer indefinite. */
function fist(cpu: FpuCpu, d: DI, popAfter: boolean, trunc: boolean): number {
  const u = cpu.u;
  const w = d.i.operandWidth;
  const p0 = getTop(u);
  let lo: number, hi: number;
  let f = 0;
  if (isEmpty(u, p0)) {
    if (!stackFault(u, false)) return C_NEXT;
    lo = w === 2 ? 0x8000 : w === 4 ? 0x80000000 : 0;
    hi = w === 8 ? 0x80000000 : 0;
  } else {
    f80ToInt(env, regLo(u, p0), regHi(u, p0), regSe(u, p0), w * 8, trunc);
    lo = env.lo; hi = env.hi; f = env.flags;
    if ((f & PRE & ~env.masks) !== 0) {
      if (!cpu.memProbe(cpu.memLo, cpu.memHi, w, true)) return C_FAULT;
      signal(u, f);
      return C_NEXT;
    }
  }
  if (!cpu.memWrite(cpu.memLo, cpu.memHi, w, lo, hi)) return C_FAULT;
  if (f !== 0 || !isEmpty(u, p0)) {
    signal(u, f);
    setC1(u, (f & FE_INEXACT) !== 0 ? env.c1 : 0);
  }
  if (popAfter) pop(u);
  return C_NEXT;
}

/** FBLD: 18 packed BCD digits and a sign byte, converted exactly (SDM Vol. 2 FBLD; bad digits undefined). */
function fbld(cpu: FpuCpu): number {
  const u = cpu.u;
  const lo = cpu.memRead(cpu.memLo, cpu.memHi, 8);
  if (lo < 0) return C_FAULT;
  const hi = cpu.memHi32;
  const s = cpu.memRead(operandLo(cpu, 8), operandHi(cpu, 8), 2);
  if (s < 0) return C_FAULT;
  const t = pushSlot(u);
  if (t < 0) return C_NEXT;
  // digits 0..7 in lo, 8..15 in hi, 16..17 in the low byte of s
  let lo9 = 0, hi9 = 0, mul = 1;
  for (let k = 0; k < 9; k++) {
    const dgt = k < 8 ? (lo >>> (4 * k)) & 15 : hi & 15;
    lo9 += dgt * mul; mul *= 10;
  }
  mul = 1;
  for (let k = 9; k < 18; k++) {
    const dgt = k < 16 ? (hi >>> (4 * (k - 8))) & 15 : (s >>> (4 * (k - 16))) & 15;
    hi9 += dgt * mul; mul *= 10;
  }
  // value = hi9 * 1e9 + lo9 as a uint64 (each partial product below 2^53)
  const pl = (hi9 % 65536) * 1e9 + lo9; // < 2^47
  const ph = Math.floor(hi9 / 65536) * 1e9; // < 2^44, times 2^16
  let vlo = pl % 4294967296 + (ph % 65536) * 65536;
  let vhi = Math.floor(pl / 4294967296) + Math.floor(ph / 65536);
  if (vlo >= 4294967296) { vlo -= 4294967296; vhi += 1; }
  intToExt(vlo, vhi);
  // -0 keeps its sign (SDM Vol. 2 FBLD: "-0 is loaded as -0")
  pushCommit(u, t, sLo, sHi, (s & 0x8000) !== 0 ? sSe | 0x8000 : sSe);
  setC1(u, 0);
  return C_NEXT;
}

/**
 * FBSTP: ST(0) rounded per RC to an integer, stored as 18 BCD digits + sign; beyond +-(10^18 - 1), NaN,
 * infinity or empty -> IE and (masked) the packed BCD indefinite FFFF C000 0000 0000 0000H.
 */
function fbstp(cpu: FpuCpu): number {
  const u = cpu.u;
  const p0 = getTop(u);
  let lo = 0, hi = 0xc0000000, s = 0xffff;
  let f = 0;
  if (isEmpty(u, p0)) {
    if (!stackFault(u, false)) return C_NEXT;
  } else {
    const se0 = regSe(u, p0);
    f80ToInt(env, regLo(u, p0), regHi(u, p0), se0, 64, false);
    f = env.flags;
    let vlo = env.lo, vhi = env.hi;
    if ((f & FE_INVALID) === 0) {
      if ((vhi & 0x80000000) !== 0) { vlo = (~vlo + 1) >>> 0; vhi = (~vhi + (vlo === 0 ? 1 : 0)) >>> 0; }
      // 10^18 - 1 = 0DE0B6B3_A763FFFF
      if (vhi > 0x0de0b6b3 || (vhi === 0x0de0b6b3 && vlo > 0xa763ffff)) f = FE_INVALID;
    }
    if ((f & FE_INVALID) !== 0) {
      f = FE_INVALID;
      if ((env.masks & FE_INVALID) === 0) {
        if (!cpu.memProbe(cpu.memLo, cpu.memHi, 10, true)) return C_FAULT;
        signal(u, f);
        return C_NEXT;
      }
    } else {
      // quotient/remainder by 10^9 in 16-bit steps (exact in doubles)
      const t1 = vhi * 65536 + (vlo >>> 16);
      const q1 = Math.floor(t1 / 1e9), r1 = t1 - q1 * 1e9;
      const t2 = r1 * 65536 + (vlo & 0xffff);
      const q2 = Math.floor(t2 / 1e9);
      let low9 = t2 - q2 * 1e9;
      let high9 = q1 * 65536 + q2;
      lo = 0; hi = 0; s = 0;
      for (let k = 0; k < 9; k++) {
        const dg = low9 % 10; low9 = (low9 - dg) / 10;
        if (k < 8) lo |= dg << (4 * k); else hi |= dg;
      }
      for (let k = 9; k < 18; k++) {
        const dg = high9 % 10; high9 = (high9 - dg) / 10;
        if (k < 16) hi |= dg << (4 * (k - 8)); else s |= dg << (4 * (k - 16));
      }
      lo >>>= 0; hi >>>= 0;
      if ((se0 & 0x8000) !== 0) s |= 0x8000;
    }
  }
  if (!store80(cpu, lo, hi, s)) return C_FAULT;
  if (!isEmpty(u, p0)) {
    signal(u, f);
    setC1(u, (f & FE_INEXACT) !== 0 ? env.c1 : 0);
  }
  pop(u);
  return C_NEXT;
}

/** FXCH ST(i): with an empty operand (underflow, masked) the empty ones read as the indefinite. */
function fxch(u: Uint32Array, i: number): number {
  const p0 = getTop(u), pi = (p0 + i) & 7;
  const e0 = isEmpty(u, p0), ei = isEmpty(u, pi);
  if (e0 || ei) {
    if (!stackFault(u, false)) return C_NEXT;
    if (e0) writeReg(u, p0, IND_LO, IND_HI, IND_SE);
    if (ei) writeReg(u, pi, IND_LO, IND_HI, IND_SE);
  } else setC1(u, 0);
  const lo = regLo(u, p0), hi = regHi(u, p0), se = regSe(u, p0);
  writeReg(u, p0, regLo(u, pi), regHi(u, pi), regSe(u, pi));
  writeReg(u, pi, lo, hi, se);
  return C_NEXT;
}

/** FCMOVcc ST(0), ST(i): cc is the Jcc condition code the decoder reports (B E BE U, NB NE NBE NU). */
function fcmov(u: Uint32Array, i: number, cc: number): number {
  const p0 = getTop(u), pi = (p0 + i) & 7;
  if (isEmpty(u, p0) || isEmpty(u, pi)) {
    if (stackFault(u, false)) writeReg(u, p0, IND_LO, IND_HI, IND_SE);
    return C_NEXT;
  }
  setC1(u, 0);
  if (cond(u, cc)) writeReg(u, p0, regLo(u, pi), regHi(u, pi), regSe(u, pi));
  return C_NEXT;
}

/** FSQRT, FRNDINT on ST(0). */
function unary(u: Uint32Array, m: number): number {
  const p0 = getTop(u);
  if (isEmpty(u, p0)) {
    if (stackFault(u, false)) writeReg(u, p0, IND_LO, IND_HI, IND_SE);
    return C_NEXT;
  }
  if (m === Mnemonic.Fsqrt) f80Sqrt(env, regLo(u, p0), regHi(u, p0), regSe(u, p0));
  else f80RoundInt(env, regLo(u, p0), regHi(u, p0), regSe(u, p0), env.rc, false);
  commit(u, p0);
  return C_NEXT;
}

/** FSCALE, FPREM, FPREM1: ST(0) op ST(1) -> ST(0). */
function binaryST0ST1(u: Uint32Array, m: number): number {
  const p0 = getTop(u), p1 = (p0 + 1) & 7;
  if (isEmpty(u, p0) || isEmpty(u, p1)) {
    if (stackFault(u, false)) writeReg(u, p0, IND_LO, IND_HI, IND_SE);
    // FPREM/FPREM1: C2 = 0, the reduction is complete (SDM Vol. 2 FPREM flags; host: finding X2)
    if (m !== Mnemonic.Fscale) u[S_FSW] = u[S_FSW]! & ~SW_C2;
    return C_NEXT;
  }
  const alo = regLo(u, p0), ahi = regHi(u, p0), ase = regSe(u, p0);
  const blo = regLo(u, p1), bhi = regHi(u, p1), bse = regSe(u, p1);
  if (m === Mnemonic.Fscale) {
    f80Scale(env, alo, ahi, ase, blo, bhi, bse);
    commit(u, p0);
    return C_NEXT;
  }
  env.q = 0; env.partial = 0;
  f80Rem(env, alo, ahi, ase, blo, bhi, bse, m === Mnemonic.Fprem1);
  if (!commit(u, p0)) return C_NEXT;
  // C2 = incomplete; when complete C0, C3, C1 = quotient bits 2, 1, 0 (SDM Vol. 2 FPREM)
  if (env.partial !== 0) {
    u[S_FSW] = (u[S_FSW]! & ~(SW_C0 | SW_C1 | SW_C3)) | SW_C2;
  } else if ((env.flags & FE_INVALID) === 0 || isFiniteResult(u, p0)) {
    const q = env.q;
    u[S_FSW] = (u[S_FSW]! & ~(SW_C0 | SW_C1 | SW_C2 | SW_C3)) | (q & 4 ? SW_C0 : 0) | (q & 2 ? SW_C3 : 0) | (q & 1 ? SW_C1 : 0);
  } else {
    u[S_FSW] = u[S_FSW]! & ~SW_C2;
  }
  return C_NEXT;
}

function isFiniteResult(u: Uint32Array, p: number): boolean {
  return (regSe(u, p) & 0x7fff) !== 0x7fff;
}

/**
 * FXTRACT (SDM Vol. 2 FXTRACT): ST(0) = exponent (unbiased, as a value), then push the significand
 * (same sign, exponent 3FFFH). Zero: ZE, exponent -inf, significand +-0. Infinity: +inf and +-inf.
 * NaN: the (quieted) NaN in both. Denormals: DE, normalised first.
 */
function fxtract(u: Uint32Array): number {
  const p0 = getTop(u);
  if (isEmpty(u, p0)) {
    if (stackFault(u, false)) {
      // masked: the indefinite in both results, the stack pushed whatever ST(7) held (host: finding X4)
      writeReg(u, p0, IND_LO, IND_HI, IND_SE);
      pushCommit(u, (p0 - 1) & 7, IND_LO, IND_HI, IND_SE);
    }
    return C_NEXT;
  }
  const t = (p0 - 1) & 7;
  if (!isEmpty(u, t)) {
    if (stackFault(u, true)) {
      writeReg(u, p0, IND_LO, IND_HI, IND_SE);
      pushCommit(u, t, IND_LO, IND_HI, IND_SE);
    }
    return C_NEXT;
  }
  let lo = regLo(u, p0), hi = regHi(u, p0);
  const se = regSe(u, p0);
  const k = classify(lo, hi, se);
  let elo: number, ehi: number, ese: number;
  let f = 0;
  switch (k) {
    case K_ZERO:
      f = FE_DIVZERO; elo = 0; ehi = 0x80000000; ese = 0xffff; // -inf
      break;
    case K_INF:
      elo = 0; ehi = 0x80000000; ese = 0x7fff; // +inf
      break;
    case K_NAN:
      if ((hi & 0x40000000) === 0) f = FE_INVALID;
      hi = (hi | 0x40000000) >>> 0;
      elo = lo; ehi = hi; ese = se;
      break;
    case K_UNSUPPORTED:
      f = FE_INVALID; lo = IND_LO; hi = IND_HI; elo = IND_LO; ehi = IND_HI; ese = IND_SE;
      break;
    default: {
      let ex = se & 0x7fff;
      if (k === K_DENORMAL) {
        f = FE_DENORMAL;
        // normalise: pseudo-denormals (J = 1) have the exponent of 1
        ex = 1;
        while ((hi & 0x80000000) === 0) { hi = ((hi << 1) | (lo >>> 31)) >>> 0; lo = (lo << 1) >>> 0; ex--; }
      }
      intToExt(ex - 16383, ex - 16383 < 0 ? 0xffffffff : 0);
      elo = sLo; ehi = sHi; ese = sSe;
      break;
    }
  }
  signal(u, f);
  if ((f & ~env.masks) !== 0) return C_NEXT;
  let sse = se & 0x8000;
  if (k === K_NAN || k === K_UNSUPPORTED) sse = k === K_NAN ? se : IND_SE;
  else if (k === K_INF) sse = se;
  else if (k !== K_ZERO) sse |= 0x3fff;
  writeReg(u, p0, elo, ehi, ese);
  pushCommit(u, t, lo, hi, sse);
  setC1(u, 0);
  return C_NEXT;
}
