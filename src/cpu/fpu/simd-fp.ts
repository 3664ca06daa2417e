/**
 * The SIMD unit's floating point: SSE, SSE2, SSE3 and SSE4.1 floating-point instructions on XMM
 * registers (and the MMX-register conversions), plus LDMXCSR/STMXCSR.
 *
 * Spec: SDM Vol. 1 ch. 10.2.3 (MXCSR), 11.5 (SIMD floating-point exceptions), 4.8.3.5/Table 4-7 (NaN
 * propagation, through softfloat.ts), 4.9; Vol. 2 instruction pages (ADDPS .. ROUNDSD); Vol. 3A 6.15
 * "Interrupt 19" (#XM) and 13.4 (CR4.OSXMMEXCPT = 0 -> #UD).
 *
 * The dispatcher (simd.ts) has already done every availability check (LOCK, CR0.EM/TS, CR4.OSFXSR,
 * the pending-x87 #MF of the MMX forms), the m128 alignment #GP(0) and, after we return C_NEXT, the
 * x87 -> MMX transition for the forms with an MMX register. This file only computes.
 *
 * Exceptions (Vol. 1 11.5.3): every lane is computed into scratch first and the lanes' flags ORed.
 *  - an unmasked pre-computation exception (IE, DE, ZE) in any lane stops the instruction before the
 *    post-computation step: MXCSR records the pre-computation flags of all lanes (masked or not) and
 *    nothing else, the destination is not written (11.5.3.2 / 11.5.3.3);
 *  - otherwise an unmasked post-computation exception (OE, UE, PE) records every flag raised and
 *    again writes nothing;
 *  - then #XM if CR4.OSXMMEXCPT = 1, else #UD (Vol. 3A 13.4.1);
 *  - with every raised exception masked, the destination is written and the flags ORed into MXCSR.
 * The per-lane priority (SNaN/invalid over ZE over DE; a lane stopped by IE/ZE has no post flags) and
 * the unmasked OE/UE flag rules (OE or UE, PE only when the unbounded-exponent result is inexact) are
 * softfloat.ts's, which sees the masks in FpEnv.
 *
 * Hot path: no allocation (module-level scratch registers SRC/RES and one FpEnv), switch on the
 * mnemonic, no closures.
 */
import type { DI } from '../block.js';
import { Mnemonic, OpKind } from '../decoder/insn.js';
import { setStatus } from '../flags.js';
import { AF, CF, OF, PF, S_CR4, S_FPR, S_FSW, S_FTW, S_MXCSR, S_XMM, SF, ZF, FPR_STRIDE } from '../state.js';
import { C_FAULT, C_NEXT, V_GP, V_UD, V_XM, type FpuCpu } from './cpu.js';
import { loadMem } from './mem.js';
import {
  FpEnv, FE_DENORMAL, CMP_EQ, CMP_GT, CMP_LT, CMP_UN,
  f32Add, f32Sub, f32Mul, f32Div, f32Sqrt, f32Cmp, f32ToF64, f32ToInt, f32RoundInt,
  f64Add, f64Sub, f64Mul, f64Div, f64Sqrt, f64Cmp, f64ToF32, f64ToInt, f64RoundInt,
  i32ToF32, i32ToF64, i64ToF32, i64ToF64,
} from './softfloat.js';

const CR4_OSXMMEXCPT = 1 << 10;
const RC_MM = 10, RC_XMM = 11, RC_GPR64 = 5;
/** MXCSR bits that LDMXCSR/FXRSTOR accept: MXCSR_MASK with DAZ supported (Vol. 1 11.6.6). */
export const MXCSR_MASK = 0xffff;

/** Binary operation codes of the arithmetic helpers. */
const OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_MIN = 4, OP_MAX = 5;

const env = new FpEnv();
/** The source operand (register copy or memory image), lowest dword first. */
const SRC = new Uint32Array(4);
/** Lane results, written to the destination only once no unmasked exception was raised. */
const RES = new Uint32Array(4);

/**
 * CMPPS/CMPPD/CMPSS/CMPSD predicates 0-7 (Vol. 2 CMPPS Table 3-1): bit c of TRUE_SET[p] says whether
 * the predicate holds for the comparison outcome c (CMP_LT = 0, CMP_EQ = 1, CMP_GT = 2, CMP_UN = 3).
 * Bit p of QUIET_PRED: the predicate signals IE only for SNaN (EQ, UNORD, NEQ, ORD); the others
 * (LT, LE, NLT, NLE) signal for QNaN too.
 */
const TRUE_SET = new Uint8Array([0b0010, 0b0001, 0b0011, 0b1000, 0b1101, 0b1110, 0b1100, 0b0111]);
const QUIET_PRED = 0b10011001;

/** Loads the MXCSR controls into the shared FpEnv and clears its flags (Vol. 1 10.2.3). */
function setEnv(mx: number): void {
  env.rc = (mx >>> 13) & 3;
  env.masks = (mx >>> 7) & 0x3f;
  env.daz = (mx & 0x40) !== 0;
  env.ftz = (mx & 0x8000) !== 0;
  env.x87 = false;
  env.flags = 0;
}

/**
 * Applies the instruction's raised flags to MXCSR (Vol. 1 11.5.3). Returns C_NEXT when every raised
 * exception is masked (the caller then writes its destination), else raises #XM/#UD and returns C_FAULT.
 */
function finish(cpu: FpuCpu, flags: number): number {
  const u = cpu.u;
  const unmasked = flags & ~env.masks & 0x3f;
  if (unmasked !== 0) {
    // an unmasked pre-computation exception ends the instruction before the post-computation step
    if ((unmasked & 7) !== 0) flags &= 7;
    u[S_MXCSR] = (u[S_MXCSR]! | flags) >>> 0;
    return cpu.raise((u[S_CR4]! & CR4_OSXMMEXCPT) !== 0 ? V_XM : V_UD, false, 0);
  }
  if (flags !== 0) u[S_MXCSR] = (u[S_MXCSR]! | flags) >>> 0;
  return C_NEXT;
}

/**
 * A later step of a multi-step instruction (DPPS/DPPD) raised an unmasked exception: MXCSR gets the
 * flags of the earlier steps (`prev`, all masked) and this step's flags by the rule of `finish`.
 */
function finishStep(cpu: FpuCpu, prev: number): number {
  let cur = env.flags;
  if ((cur & ~env.masks & 7) !== 0) cur &= 7;
  cpu.u[S_MXCSR] = (cpu.u[S_MXCSR]! | prev | cur) >>> 0;
  return cpu.raise((cpu.u[S_CR4]! & CR4_OSXMMEXCPT) !== 0 ? V_XM : V_UD, false, 0);
}

/** Whether the flags raised so far include an unmasked exception (ends a multi-step instruction). */
function unmaskedStep(): boolean {
  return (env.flags & ~env.masks & 0x3f) !== 0;
}

/**
 * Reads the source operand (operand 1) into SRC: an XMM/MMX/general register, or `bytes` (4, 8, 16)
 * of memory. False after a memory fault (raised by the interpreter).
 */
function loadSrc(cpu: FpuCpu, d: DI, bytes: number): boolean {
  const i = d.i;
  const u = cpu.u;
  if (i.opKind1 === OpKind.Reg) {
    const id = i.reg1, cls = id >> 5;
    if (cls === RC_XMM) {
      const o = S_XMM + (id & 15) * 4;
      SRC[0] = u[o]!; SRC[1] = u[o + 1]!; SRC[2] = u[o + 2]!; SRC[3] = u[o + 3]!;
    } else if (cls === RC_MM) {
      const o = S_FPR + (id & 7) * FPR_STRIDE;
      SRC[0] = u[o]!; SRC[1] = u[o + 1]!;
    } else {
      const n = (id & 15) * 2;
      SRC[0] = u[n]!; SRC[1] = cls === RC_GPR64 ? u[n + 1]! : 0;
    }
    return true;
  }
  return loadMem(cpu, SRC, bytes);
}

/**
 * The x87 -> MMX transition of the forms with an MMX register (Vol. 1 9.5.1: TOP = 0, all tags
 * valid). simd.ts does it after a successful instruction; these forms also do it before their SIMD
 * floating-point check, because the transition is part of starting the instruction: the host CPU
 * shows it after a #XM from CVTPI2PS/CVTPS2PI/CVTPD2PI too.
 */
function enterMmx(u: Uint32Array): void {
  u[S_FSW] = u[S_FSW]! & ~0x3800;
  u[S_FTW] = 0xff;
}

/** DAZ (Vol. 1 10.2.3.4): a denormal operand reads as a zero of its sign. */
function daz32(a: number): number {
  return env.daz && (a & 0x7f800000) === 0 ? (a & 0x80000000) >>> 0 : a;
}

/** One binary32 lane of ADD/SUB/MUL/DIV/MIN/MAX. */
function bin32(op: number, a: number, b: number): number {
  switch (op) {
    case OP_ADD: return f32Add(env, a, b);
    case OP_SUB: return f32Sub(env, a, b);
    case OP_MUL: return f32Mul(env, a, b);
    case OP_DIV: return f32Div(env, a, b);
    default: {
      // MINPS/MAXPS (Vol. 2): "If the values being compared are both 0.0s (of either sign), the value
      // in the second operand (source operand) is returned. If only one value is a NaN (SNaN or QNaN)
      // ... the second operand ... is returned"; a NaN operand signals IE (the compare is signaling).
      a = daz32(a); b = daz32(b);
      const c = f32Cmp(env, a, b, false);
      return (op === OP_MIN ? c === CMP_LT : c === CMP_GT) ? a : b;
    }
  }
}

/** One binary64 lane: result in env.lo/env.hi. */
function bin64(op: number, alo: number, ahi: number, blo: number, bhi: number): void {
  switch (op) {
    case OP_ADD: f64Add(env, alo, ahi, blo, bhi); return;
    case OP_SUB: f64Sub(env, alo, ahi, blo, bhi); return;
    case OP_MUL: f64Mul(env, alo, ahi, blo, bhi); return;
    case OP_DIV: f64Div(env, alo, ahi, blo, bhi); return;
    default: {
      if (env.daz) {
        if ((ahi & 0x7ff00000) === 0) { alo = 0; ahi = (ahi & 0x80000000) >>> 0; }
        if ((bhi & 0x7ff00000) === 0) { blo = 0; bhi = (bhi & 0x80000000) >>> 0; }
      }
      const c = f64Cmp(env, alo, ahi, blo, bhi, false);
      if (op === OP_MIN ? c === CMP_LT : c === CMP_GT) { env.lo = alo; env.hi = ahi; } else { env.lo = blo; env.hi = bhi; }
    }
  }
}

/** Writes RES[0..n) to XMM dword slots starting at `o` (after `finish` said so). */
function commit(u: Uint32Array, o: number, n: number): void {
  for (let k = 0; k < n; k++) u[o + k] = RES[k]!;
}

/** XMM register `id`'s first slot. */
function xmmSlot(id: number): number {
  return S_XMM + (id & 15) * 4;
}

/**
 * RCPPS/RCPSS lane (Vol. 2 RCPPS, Vol. 1 11.5.2.2). The SDM fixes only the error bound
 * (|relative error| <= 1.5 * 2^-12); the bits are implementation-specific. Our rule, deterministic and
 * table-free: the exact reciprocal rounded to nearest with 12 significant bits (error <= 2^-12).
 * Specials: ±0 and denormals (always treated as zero, no DAZ needed) -> ±inf; ±inf -> ±0; NaN -> the
 * quieted NaN; a result below the smallest normal is flushed to a zero of the operand's sign. No flags.
 */
function rcp32(a: number): number {
  const sign = (a & 0x80000000) >>> 0, ex = (a >>> 23) & 0xff;
  if (ex === 0) return (sign | 0x7f800000) >>> 0;
  if (ex === 0xff) return (a & 0x7fffff) !== 0 ? (a | 0x400000) >>> 0 : sign;
  const r = round12(1 / bitsF32(a & 0x7fffffff));
  if (r < 1.1754943508222875e-38) return sign; // 2^-126
  return (sign | f32Bits(r)) >>> 0;
}

/**
 * RSQRTPS/RSQRTSS lane: 1/sqrt(x) rounded to nearest with 12 significant bits (same rule as rcp32).
 * Specials (Vol. 2 RSQRTPS): ±0 and denormals -> ±inf; +inf -> +0; negative non-zero -> the QNaN
 * real indefinite; NaN -> the quieted NaN. No flags.
 */
function rsqrt32(a: number): number {
  const sign = (a & 0x80000000) >>> 0, ex = (a >>> 23) & 0xff;
  if (ex === 0xff && (a & 0x7fffff) !== 0) return (a | 0x400000) >>> 0;
  if (ex === 0) return (sign | 0x7f800000) >>> 0;
  if (sign !== 0) return 0xffc00000;
  if (ex === 0xff) return 0;
  return f32Bits(round12(1 / Math.sqrt(bitsF32(a))));
}

const F32 = new Float32Array(1);
const F32U = new Uint32Array(F32.buffer);
function bitsF32(a: number): number {
  F32U[0] = a;
  return F32[0]!;
}
function f32Bits(x: number): number {
  F32[0] = x;
  return F32U[0]!;
}
/** Rounds a positive normal double to 12 significant bits, to nearest (Veltkamp split, 2^41 + 1). */
function round12(x: number): number {
  const c = x * 2199023255553;
  return c - (c - x);
}

/** Integer conversions' DE: CVT*2SI/CVT*2DQ/CVT*2PI and ROUND* never signal DE (their pages). */
const NO_DE = ~FE_DENORMAL;

/**
 * Executes one SSE/SSE2/SSE3/SSE4.1 floating-point instruction or LDMXCSR/STMXCSR (mnemonics
 * forwarded by simd.ts). Returns C_NEXT or C_FAULT.
 */
export function execSimdFp(cpu: FpuCpu, d: DI): number {
  const i = d.i;
  const u = cpu.u;
  const m = i.mnemonic;
  switch (m) {
    case Mnemonic.Ldmxcsr: {
      // Vol. 2 LDMXCSR: #GP(0) for a 1 in a reserved bit (beyond MXCSR_MASK); loading set flags with
      // their masks clear raises nothing now (Vol. 1 10.2.3.1)
      const v = cpu.memRead(cpu.memLo, cpu.memHi, 4);
      if (v < 0) return C_FAULT;
      if ((v & ~MXCSR_MASK) !== 0) return cpu.raise(V_GP, true, 0);
      u[S_MXCSR] = v;
      return C_NEXT;
    }
    case Mnemonic.Stmxcsr:
      return cpu.memWrite(cpu.memLo, cpu.memHi, 4, u[S_MXCSR]!, 0) ? C_NEXT : C_FAULT;

    // ---- packed/scalar single arithmetic ----
    case Mnemonic.Addps: return packed32(cpu, d, OP_ADD);
    case Mnemonic.Subps: return packed32(cpu, d, OP_SUB);
    case Mnemonic.Mulps: return packed32(cpu, d, OP_MUL);
    case Mnemonic.Divps: return packed32(cpu, d, OP_DIV);
    case Mnemonic.Minps: return packed32(cpu, d, OP_MIN);
    case Mnemonic.Maxps: return packed32(cpu, d, OP_MAX);
    case Mnemonic.Addss: return scalar32(cpu, d, OP_ADD);
    case Mnemonic.Subss: return scalar32(cpu, d, OP_SUB);
    case Mnemonic.Mulss: return scalar32(cpu, d, OP_MUL);
    case Mnemonic.Divss: return scalar32(cpu, d, OP_DIV);
    case Mnemonic.Minss: return scalar32(cpu, d, OP_MIN);
    case Mnemonic.Maxss: return scalar32(cpu, d, OP_MAX);
    case Mnemonic.Addpd: return packed64(cpu, d, OP_ADD);
    case Mnemonic.Subpd: return packed64(cpu, d, OP_SUB);
    case Mnemonic.Mulpd: return packed64(cpu, d, OP_MUL);
    case Mnemonic.Divpd: return packed64(cpu, d, OP_DIV);
    case Mnemonic.Minpd: return packed64(cpu, d, OP_MIN);
    case Mnemonic.Maxpd: return packed64(cpu, d, OP_MAX);
    case Mnemonic.Addsd: return scalar64(cpu, d, OP_ADD);
    case Mnemonic.Subsd: return scalar64(cpu, d, OP_SUB);
    case Mnemonic.Mulsd: return scalar64(cpu, d, OP_MUL);
    case Mnemonic.Divsd: return scalar64(cpu, d, OP_DIV);
    case Mnemonic.Minsd: return scalar64(cpu, d, OP_MIN);
    case Mnemonic.Maxsd: return scalar64(cpu, d, OP_MAX);

    // ---- SSE3 horizontal and alternating ----
    case Mnemonic.Haddps: case Mnemonic.Hsubps: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const o = xmmSlot(i.reg0);
      const sub = m === Mnemonic.Hsubps;
      // Vol. 2 HADDPS/HSUBPS: pairs of adjacent dwords, the lower one first (d0 op d1, d2 op d3, s0 op s1, s2 op s3)
      RES[0] = sub ? f32Sub(env, u[o]!, u[o + 1]!) : f32Add(env, u[o]!, u[o + 1]!);
      RES[1] = sub ? f32Sub(env, u[o + 2]!, u[o + 3]!) : f32Add(env, u[o + 2]!, u[o + 3]!);
      RES[2] = sub ? f32Sub(env, SRC[0]!, SRC[1]!) : f32Add(env, SRC[0]!, SRC[1]!);
      RES[3] = sub ? f32Sub(env, SRC[2]!, SRC[3]!) : f32Add(env, SRC[2]!, SRC[3]!);
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, o, 4);
      return C_NEXT;
    }
    case Mnemonic.Haddpd: case Mnemonic.Hsubpd: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const o = xmmSlot(i.reg0);
      const op = m === Mnemonic.Hsubpd ? OP_SUB : OP_ADD;
      bin64(op, u[o]!, u[o + 1]!, u[o + 2]!, u[o + 3]!);
      RES[0] = env.lo; RES[1] = env.hi;
      bin64(op, SRC[0]!, SRC[1]!, SRC[2]!, SRC[3]!);
      RES[2] = env.lo; RES[3] = env.hi;
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, o, 4);
      return C_NEXT;
    }
    case Mnemonic.Addsubps: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const o = xmmSlot(i.reg0);
      RES[0] = f32Sub(env, u[o]!, SRC[0]!);
      RES[1] = f32Add(env, u[o + 1]!, SRC[1]!);
      RES[2] = f32Sub(env, u[o + 2]!, SRC[2]!);
      RES[3] = f32Add(env, u[o + 3]!, SRC[3]!);
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, o, 4);
      return C_NEXT;
    }
    case Mnemonic.Addsubpd: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const o = xmmSlot(i.reg0);
      f64Sub(env, u[o]!, u[o + 1]!, SRC[0]!, SRC[1]!);
      RES[0] = env.lo; RES[1] = env.hi;
      f64Add(env, u[o + 2]!, u[o + 3]!, SRC[2]!, SRC[3]!);
      RES[2] = env.lo; RES[3] = env.hi;
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, o, 4);
      return C_NEXT;
    }

    // ---- square root, reciprocal estimates ----
    case Mnemonic.Sqrtps: case Mnemonic.Rcpps: case Mnemonic.Rsqrtps: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      for (let k = 0; k < 4; k++) {
        const a = SRC[k]!;
        RES[k] = m === Mnemonic.Sqrtps ? f32Sqrt(env, a) : m === Mnemonic.Rcpps ? rcp32(a) : rsqrt32(a);
      }
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 4);
      return C_NEXT;
    }
    case Mnemonic.Sqrtss: case Mnemonic.Rcpss: case Mnemonic.Rsqrtss: {
      if (!loadSrc(cpu, d, 4)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const a = SRC[0]!;
      RES[0] = m === Mnemonic.Sqrtss ? f32Sqrt(env, a) : m === Mnemonic.Rcpss ? rcp32(a) : rsqrt32(a);
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 1);
      return C_NEXT;
    }
    case Mnemonic.Sqrtpd: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      f64Sqrt(env, SRC[0]!, SRC[1]!);
      RES[0] = env.lo; RES[1] = env.hi;
      f64Sqrt(env, SRC[2]!, SRC[3]!);
      RES[2] = env.lo; RES[3] = env.hi;
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 4);
      return C_NEXT;
    }
    case Mnemonic.Sqrtsd: {
      if (!loadSrc(cpu, d, 8)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      f64Sqrt(env, SRC[0]!, SRC[1]!);
      RES[0] = env.lo; RES[1] = env.hi;
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 2);
      return C_NEXT;
    }

    // ---- compares ----
    case Mnemonic.Cmpps: case Mnemonic.Cmpss: {
      const n = m === Mnemonic.Cmpps ? 4 : 1;
      if (!loadSrc(cpu, d, n * 4)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      // legacy-SSE encodings use imm8 bits 2:0 only (Vol. 2 CMPPS)
      const p = i.imm & 7, set = TRUE_SET[p]!, quiet = ((QUIET_PRED >> p) & 1) !== 0;
      const o = xmmSlot(i.reg0);
      for (let k = 0; k < n; k++) RES[k] = ((set >> f32Cmp(env, u[o + k]!, SRC[k]!, quiet)) & 1) !== 0 ? 0xffffffff : 0;
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, o, n);
      return C_NEXT;
    }
    case Mnemonic.Cmppd: case Mnemonic.Cmpsd: {
      const n = m === Mnemonic.Cmppd ? 2 : 1;
      if (!loadSrc(cpu, d, n * 8)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const p = i.imm & 7, set = TRUE_SET[p]!, quiet = ((QUIET_PRED >> p) & 1) !== 0;
      const o = xmmSlot(i.reg0);
      for (let k = 0; k < n; k++) {
        const r = ((set >> f64Cmp(env, u[o + 2 * k]!, u[o + 2 * k + 1]!, SRC[2 * k]!, SRC[2 * k + 1]!, quiet)) & 1) !== 0 ? 0xffffffff : 0;
        RES[2 * k] = r; RES[2 * k + 1] = r;
      }
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, o, 2 * n);
      return C_NEXT;
    }
    case Mnemonic.Comiss: case Mnemonic.Ucomiss: case Mnemonic.Comisd: case Mnemonic.Ucomisd: {
      const dbl = m === Mnemonic.Comisd || m === Mnemonic.Ucomisd;
      if (!loadSrc(cpu, d, dbl ? 8 : 4)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const quiet = m === Mnemonic.Ucomiss || m === Mnemonic.Ucomisd;
      const o = xmmSlot(i.reg0);
      const c = dbl ? f64Cmp(env, u[o]!, u[o + 1]!, SRC[0]!, SRC[1]!, quiet) : f32Cmp(env, u[o]!, SRC[0]!, quiet);
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      // Vol. 2 COMISS: unordered ZF,PF,CF = 111; greater 000; less 001; equal 100; OF, AF, SF = 0
      const f = c === CMP_UN ? ZF | PF | CF : c === CMP_LT ? CF : c === CMP_EQ ? ZF : 0;
      setStatus(u, ZF | PF | CF | OF | SF | AF, f);
      return C_NEXT;
    }

    // ---- conversions ----
    case Mnemonic.Cvtsi2ss: case Mnemonic.Cvtsi2sd: {
      const w64 = i.opSize === 64;
      if (!loadSrc(cpu, d, w64 ? 8 : 4)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const o = xmmSlot(i.reg0);
      if (m === Mnemonic.Cvtsi2ss) {
        RES[0] = w64 ? i64ToF32(env, SRC[0]!, SRC[1]!) : i32ToF32(env, SRC[0]! | 0);
        if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
        commit(u, o, 1);
      } else {
        if (w64) i64ToF64(env, SRC[0]!, SRC[1]!); else i32ToF64(env, SRC[0]! | 0);
        RES[0] = env.lo; RES[1] = env.hi;
        if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
        commit(u, o, 2);
      }
      return C_NEXT;
    }
    case Mnemonic.Cvtss2si: case Mnemonic.Cvttss2si: case Mnemonic.Cvtsd2si: case Mnemonic.Cvttsd2si: {
      const dbl = m === Mnemonic.Cvtsd2si || m === Mnemonic.Cvttsd2si;
      const trunc = m === Mnemonic.Cvttss2si || m === Mnemonic.Cvttsd2si;
      if (!loadSrc(cpu, d, dbl ? 8 : 4)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const bits = i.opSize === 64 ? 64 : 32;
      if (dbl) f64ToInt(env, SRC[0]!, SRC[1]!, bits, trunc); else f32ToInt(env, SRC[0]!, bits, trunc);
      const lo = env.lo, hi = bits === 64 ? env.hi : 0;
      if (finish(cpu, env.flags & NO_DE) !== C_NEXT) return C_FAULT;
      const n = (i.reg0 & 15) * 2;
      u[n] = lo; u[n + 1] = hi;
      return C_NEXT;
    }
    case Mnemonic.Cvtps2pi: case Mnemonic.Cvttps2pi: case Mnemonic.Cvtpd2pi: case Mnemonic.Cvttpd2pi: {
      const dbl = m === Mnemonic.Cvtpd2pi || m === Mnemonic.Cvttpd2pi;
      const trunc = m === Mnemonic.Cvttps2pi || m === Mnemonic.Cvttpd2pi;
      if (!loadSrc(cpu, d, dbl ? 16 : 8)) return C_FAULT;
      enterMmx(u);
      setEnv(u[S_MXCSR]!);
      for (let k = 0; k < 2; k++) {
        if (dbl) f64ToInt(env, SRC[2 * k]!, SRC[2 * k + 1]!, 32, trunc); else f32ToInt(env, SRC[k]!, 32, trunc);
        RES[k] = env.lo;
      }
      if (finish(cpu, env.flags & NO_DE) !== C_NEXT) return C_FAULT;
      const o = S_FPR + (i.reg0 & 7) * FPR_STRIDE;
      u[o] = RES[0]!; u[o + 1] = RES[1]!;
      return C_NEXT;
    }
    case Mnemonic.Cvtpi2ps: {
      if (!loadSrc(cpu, d, 8)) return C_FAULT;
      if (i.opKind1 === OpKind.Reg) enterMmx(u); // not for m64 (Vol. 2 CVTPI2PS)
      setEnv(u[S_MXCSR]!);
      RES[0] = i32ToF32(env, SRC[0]! | 0);
      RES[1] = i32ToF32(env, SRC[1]! | 0);
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 2);
      return C_NEXT;
    }
    case Mnemonic.Cvtpi2pd: case Mnemonic.Cvtdq2pd: {
      if (!loadSrc(cpu, d, 8)) return C_FAULT;
      if (m === Mnemonic.Cvtpi2pd && i.opKind1 === OpKind.Reg) enterMmx(u);
      setEnv(u[S_MXCSR]!);
      i32ToF64(env, SRC[0]! | 0);
      RES[0] = env.lo; RES[1] = env.hi;
      i32ToF64(env, SRC[1]! | 0);
      RES[2] = env.lo; RES[3] = env.hi;
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 4);
      return C_NEXT;
    }
    case Mnemonic.Cvtdq2ps: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      for (let k = 0; k < 4; k++) RES[k] = i32ToF32(env, SRC[k]! | 0);
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 4);
      return C_NEXT;
    }
    case Mnemonic.Cvtps2dq: case Mnemonic.Cvttps2dq: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const trunc = m === Mnemonic.Cvttps2dq;
      for (let k = 0; k < 4; k++) {
        f32ToInt(env, SRC[k]!, 32, trunc);
        RES[k] = env.lo;
      }
      if (finish(cpu, env.flags & NO_DE) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 4);
      return C_NEXT;
    }
    case Mnemonic.Cvtpd2dq: case Mnemonic.Cvttpd2dq: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const trunc = m === Mnemonic.Cvttpd2dq;
      for (let k = 0; k < 2; k++) {
        f64ToInt(env, SRC[2 * k]!, SRC[2 * k + 1]!, 32, trunc);
        RES[k] = env.lo;
      }
      RES[2] = 0; RES[3] = 0; // the upper quadword is zeroed (Vol. 2 CVTPD2DQ)
      if (finish(cpu, env.flags & NO_DE) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 4);
      return C_NEXT;
    }
    case Mnemonic.Cvtps2pd: {
      if (!loadSrc(cpu, d, 8)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      f32ToF64(env, SRC[0]!);
      RES[0] = env.lo; RES[1] = env.hi;
      f32ToF64(env, SRC[1]!);
      RES[2] = env.lo; RES[3] = env.hi;
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 4);
      return C_NEXT;
    }
    case Mnemonic.Cvtpd2ps: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      RES[0] = f64ToF32(env, SRC[0]!, SRC[1]!);
      RES[1] = f64ToF32(env, SRC[2]!, SRC[3]!);
      RES[2] = 0; RES[3] = 0; // the upper quadword is zeroed (Vol. 2 CVTPD2PS)
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 4);
      return C_NEXT;
    }
    case Mnemonic.Cvtss2sd: {
      if (!loadSrc(cpu, d, 4)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      f32ToF64(env, SRC[0]!);
      RES[0] = env.lo; RES[1] = env.hi;
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 2);
      return C_NEXT;
    }
    case Mnemonic.Cvtsd2ss: {
      if (!loadSrc(cpu, d, 8)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      RES[0] = f64ToF32(env, SRC[0]!, SRC[1]!);
      if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), 1);
      return C_NEXT;
    }

    // ---- SSE4.1 rounding and dot products ----
    case Mnemonic.Roundps: case Mnemonic.Roundss: case Mnemonic.Roundpd: case Mnemonic.Roundsd: {
      const dbl = m === Mnemonic.Roundpd || m === Mnemonic.Roundsd;
      const packed = m === Mnemonic.Roundps || m === Mnemonic.Roundpd;
      if (!loadSrc(cpu, d, packed ? 16 : dbl ? 8 : 4)) return C_FAULT;
      const mx = u[S_MXCSR]!;
      setEnv(mx);
      // imm8 (Vol. 2 ROUNDPS Table 4-18): bit 2 = use MXCSR.RC, else bits 1:0; bit 3 = no PE
      const imm = i.imm, rc = (imm & 4) !== 0 ? (mx >>> 13) & 3 : imm & 3, noPE = (imm & 8) !== 0;
      let n: number;
      if (dbl) {
        n = packed ? 4 : 2;
        for (let k = 0; k < n; k += 2) {
          f64RoundInt(env, SRC[k]!, SRC[k + 1]!, rc, noPE);
          RES[k] = env.lo; RES[k + 1] = env.hi;
        }
      } else {
        n = packed ? 4 : 1;
        for (let k = 0; k < n; k++) RES[k] = f32RoundInt(env, SRC[k]!, rc, noPE);
      }
      if (finish(cpu, env.flags & NO_DE) !== C_NEXT) return C_FAULT;
      commit(u, xmmSlot(i.reg0), n);
      return C_NEXT;
    }
    case Mnemonic.Dpps: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const o = xmmSlot(i.reg0), imm = i.imm;
      // Vol. 2 DPPS DP_primitive: products of the lanes selected by imm8[7:4] (+0.0 otherwise), then
      // (t0 + t1) + (t2 + t3), each step rounded; the sum goes to the lanes selected by imm8[3:0].
      // Each step is a SIMD operation of its own ("exceptions are determined separately for each
      // add and multiply"): an unmasked exception ends the instruction after the step that raised
      // it, and MXCSR keeps the (masked) flags of the steps before it (host CPU: a denormal product
      // with DM clear faults in the adds with DE|UE|PE; with PM clear it faults after the products).
      const t0 = (imm & 0x10) !== 0 ? f32Mul(env, u[o]!, SRC[0]!) : 0;
      const t1 = (imm & 0x20) !== 0 ? f32Mul(env, u[o + 1]!, SRC[1]!) : 0;
      const t2 = (imm & 0x40) !== 0 ? f32Mul(env, u[o + 2]!, SRC[2]!) : 0;
      const t3 = (imm & 0x80) !== 0 ? f32Mul(env, u[o + 3]!, SRC[3]!) : 0;
      if (unmaskedStep()) return finish(cpu, env.flags);
      let prev = env.flags;
      env.flags = 0;
      const s01 = f32Add(env, t0, t1);
      const s23 = f32Add(env, t2, t3);
      if (unmaskedStep()) return finishStep(cpu, prev);
      prev |= env.flags;
      env.flags = 0;
      const sum = f32Add(env, s01, s23);
      if (unmaskedStep()) return finishStep(cpu, prev);
      for (let k = 0; k < 4; k++) RES[k] = ((imm >> k) & 1) !== 0 ? sum : 0;
      finish(cpu, prev | env.flags);
      commit(u, o, 4);
      return C_NEXT;
    }
    case Mnemonic.Dppd: {
      if (!loadSrc(cpu, d, 16)) return C_FAULT;
      setEnv(u[S_MXCSR]!);
      const o = xmmSlot(i.reg0), imm = i.imm;
      let t0lo = 0, t0hi = 0, t1lo = 0, t1hi = 0;
      if ((imm & 0x10) !== 0) { f64Mul(env, u[o]!, u[o + 1]!, SRC[0]!, SRC[1]!); t0lo = env.lo; t0hi = env.hi; }
      if ((imm & 0x20) !== 0) { f64Mul(env, u[o + 2]!, u[o + 3]!, SRC[2]!, SRC[3]!); t1lo = env.lo; t1hi = env.hi; }
      if (unmaskedStep()) return finish(cpu, env.flags);
      const prev = env.flags;
      env.flags = 0;
      f64Add(env, t0lo, t0hi, t1lo, t1hi);
      if (unmaskedStep()) return finishStep(cpu, prev);
      const slo = env.lo, shi = env.hi;
      RES[0] = (imm & 1) !== 0 ? slo : 0; RES[1] = (imm & 1) !== 0 ? shi : 0;
      RES[2] = (imm & 2) !== 0 ? slo : 0; RES[3] = (imm & 2) !== 0 ? shi : 0;
      finish(cpu, prev | env.flags);
      commit(u, o, 4);
      return C_NEXT;
    }
    default:
      return cpu.raise(V_UD, false, 0);
  }
}

function packed32(cpu: FpuCpu, d: DI, op: number): number {
  if (!loadSrc(cpu, d, 16)) return C_FAULT;
  const u = cpu.u;
  setEnv(u[S_MXCSR]!);
  const o = xmmSlot(d.i.reg0);
  // one switch per instruction, not per lane
  switch (op) {
    case OP_ADD: for (let k = 0; k < 4; k++) RES[k] = f32Add(env, u[o + k]!, SRC[k]!); break;
    case OP_SUB: for (let k = 0; k < 4; k++) RES[k] = f32Sub(env, u[o + k]!, SRC[k]!); break;
    case OP_MUL: for (let k = 0; k < 4; k++) RES[k] = f32Mul(env, u[o + k]!, SRC[k]!); break;
    case OP_DIV: for (let k = 0; k < 4; k++) RES[k] = f32Div(env, u[o + k]!, SRC[k]!); break;
    default: for (let k = 0; k < 4; k++) RES[k] = bin32(op, u[o + k]!, SRC[k]!);
  }
  if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
  commit(u, o, 4);
  return C_NEXT;
}

function scalar32(cpu: FpuCpu, d: DI, op: number): number {
  if (!loadSrc(cpu, d, 4)) return C_FAULT;
  const u = cpu.u;
  setEnv(u[S_MXCSR]!);
  const o = xmmSlot(d.i.reg0);
  const r = bin32(op, u[o]!, SRC[0]!);
  if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
  u[o] = r;
  return C_NEXT;
}

function packed64(cpu: FpuCpu, d: DI, op: number): number {
  if (!loadSrc(cpu, d, 16)) return C_FAULT;
  const u = cpu.u;
  setEnv(u[S_MXCSR]!);
  const o = xmmSlot(d.i.reg0);
  bin64(op, u[o]!, u[o + 1]!, SRC[0]!, SRC[1]!);
  RES[0] = env.lo; RES[1] = env.hi;
  bin64(op, u[o + 2]!, u[o + 3]!, SRC[2]!, SRC[3]!);
  RES[2] = env.lo; RES[3] = env.hi;
  if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
  commit(u, o, 4);
  return C_NEXT;
}

function scalar64(cpu: FpuCpu, d: DI, op: number): number {
  if (!loadSrc(cpu, d, 8)) return C_FAULT;
  const u = cpu.u;
  setEnv(u[S_MXCSR]!);
  const o = xmmSlot(d.i.reg0);
  bin64(op, u[o]!, u[o + 1]!, SRC[0]!, SRC[1]!);
  const lo = env.lo, hi = env.hi;
  if (finish(cpu, env.flags) !== C_NEXT) return C_FAULT;
  u[o] = lo; u[o + 1] = hi;
  return C_NEXT;
}
