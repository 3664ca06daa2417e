/**
 * The SIMD unit's entry point: availability checks and dispatch for MMX, SSE, SSE2, SSE3, SSSE3,
 * SSE4.1, SSE4.2 (+ LDMXCSR/STMXCSR, CRC32).
 *
 * Spec: SDM Vol. 3A Table 2-2 (CR0.EM/TS/MP, CR4.OSFXSR against instruction classes), §13.1-13.3,
 * §6.15 (#NM, #MF, #XM); Vol. 1 §9.5 (MMX state aliasing the x87 registers), §11.6, §12.
 *
 * Order of checks (done here, before either unit runs, so both units see the same rules):
 *   1. LOCK prefix -> #UD (every MMX/SSE page: "#UD If the LOCK prefix is used").
 *   2. An instruction that touches an XMM register or MXCSR: CR0.EM = 1 -> #UD, CR4.OSFXSR = 0 -> #UD,
 *      then CR0.TS = 1 -> #NM (Table 2-2 rows "SSE/SSE2/SSE3/SSSE3/SSE4").
 *      An instruction that touches only MMX registers (and EMMS): CR0.EM = 1 -> #UD, CR0.TS = 1 -> #NM
 *      (Table 2-2 row "MMX"). MOVNTI and CRC32 use general registers only: no checks.
 *   3. An instruction with an MMX register operand and a pending unmasked x87 exception (FSW.ES = 1):
 *      #MF when CR0.NE = 1, else FERR# and the instruction goes on (Vol. 3A §12.5.1 "Effect of MMX
 *      Instructions on Pending x87 Floating-Point Exceptions"; Vol. 1 §8.7 for NE = 0).
 *   4. A 16-byte memory operand of a legacy-SSE instruction must be 16-byte aligned -> #GP(0), except
 *      the explicitly unaligned MOVUPS/MOVUPD/MOVDQU/LDDQU and the SSE4.2 string compares (Vol. 2
 *      §2.5 exception classes: Type 1/4 require alignment, with PCMPxSTRx excepted; all confirmed on the
 *      host CPU, as is "no alignment" for the 8-byte and smaller forms).
 * After a successful instruction with an MMX register operand: FSW.TOP = 0, every tag valid, and a
 * written MMi has its sign/exponent word set to all ones (Vol. 1 §9.5.1, Table 9-2). An instruction that
 * faults (#PF on its memory operand, say) leaves TOP and the tags alone, as the host CPU does.
 *
 * The floating-point mnemonics (arithmetic, compares, conversions, ROUNDxx, DPPx, horizontal ops,
 * LDMXCSR/STMXCSR) go to simd-fp.ts (`execSimdFp`), the rest to simd-int.ts (`execSimdInt`).
 */
import type { DI } from '../block.js';
import { Mnemonic, OpKind } from '../decoder/insn.js';
import { S_CR0, S_CR4, S_FPR, S_FSW, S_FTW, FPR_STRIDE, FPR_SE } from '../state.js';
import { C_NEXT, V_GP, V_MF, V_NM, V_UD, type FpuCpu } from './cpu.js';
import { execSimdInt } from './simd-int.js';
import { execSimdFp } from './simd-fp.js';

const CR0_EM = 4, CR0_TS = 8, CR0_NE = 0x20, CR4_OSFXSR = 1 << 9;
const RC_MM = 10, RC_XMM = 11;

/**
 * Per-mnemonic attributes, one table lookup per instruction: A_FP executed by simd-fp.ts (helper C2's
 * unit); A_UNALIGNED m128 operand need not be aligned; A_XMM touches XMM/MXCSR without naming an XMM
 * register (LDMXCSR/STMXCSR, the implicit XMM0 of the variable blends); A_EMMS.
 */
const A_FP = 1, A_UNALIGNED = 2, A_XMM = 4, A_EMMS = 8;
const ATTR = new Uint8Array(Mnemonic.VexUnsupported + 1);
{
  const fp = [
    Mnemonic.Cvtpi2ps, Mnemonic.Cvtpi2pd, Mnemonic.Cvtsi2ss, Mnemonic.Cvtsi2sd,
    Mnemonic.Cvttps2pi, Mnemonic.Cvttpd2pi, Mnemonic.Cvttss2si, Mnemonic.Cvttsd2si,
    Mnemonic.Cvtps2pi, Mnemonic.Cvtpd2pi, Mnemonic.Cvtss2si, Mnemonic.Cvtsd2si,
    Mnemonic.Ucomiss, Mnemonic.Ucomisd, Mnemonic.Comiss, Mnemonic.Comisd,
    Mnemonic.Sqrtps, Mnemonic.Sqrtpd, Mnemonic.Sqrtss, Mnemonic.Sqrtsd,
    Mnemonic.Rsqrtps, Mnemonic.Rsqrtss, Mnemonic.Rcpps, Mnemonic.Rcpss,
    Mnemonic.Addps, Mnemonic.Addpd, Mnemonic.Addss, Mnemonic.Addsd,
    Mnemonic.Mulps, Mnemonic.Mulpd, Mnemonic.Mulss, Mnemonic.Mulsd,
    Mnemonic.Cvtps2pd, Mnemonic.Cvtpd2ps, Mnemonic.Cvtss2sd, Mnemonic.Cvtsd2ss,
    Mnemonic.Cvtdq2ps, Mnemonic.Cvtps2dq, Mnemonic.Cvttps2dq,
    Mnemonic.Subps, Mnemonic.Subpd, Mnemonic.Subss, Mnemonic.Subsd,
    Mnemonic.Minps, Mnemonic.Minpd, Mnemonic.Minss, Mnemonic.Minsd,
    Mnemonic.Divps, Mnemonic.Divpd, Mnemonic.Divss, Mnemonic.Divsd,
    Mnemonic.Maxps, Mnemonic.Maxpd, Mnemonic.Maxss, Mnemonic.Maxsd,
    Mnemonic.Haddpd, Mnemonic.Haddps, Mnemonic.Hsubpd, Mnemonic.Hsubps,
    Mnemonic.Cmpps, Mnemonic.Cmppd, Mnemonic.Cmpss, Mnemonic.Cmpsd,
    Mnemonic.Addsubpd, Mnemonic.Addsubps,
    Mnemonic.Cvttpd2dq, Mnemonic.Cvtdq2pd, Mnemonic.Cvtpd2dq,
    Mnemonic.Roundps, Mnemonic.Roundpd, Mnemonic.Roundss, Mnemonic.Roundsd,
    Mnemonic.Dpps, Mnemonic.Dppd, Mnemonic.Ldmxcsr, Mnemonic.Stmxcsr,
  ];
  for (const m of fp) ATTR[m] |= A_FP;
  for (const m of [
    Mnemonic.Movups, Mnemonic.Movupd, Mnemonic.Movdqu, Mnemonic.Lddqu,
    Mnemonic.Pcmpestri, Mnemonic.Pcmpestri64, Mnemonic.Pcmpestrm, Mnemonic.Pcmpestrm64,
    Mnemonic.Pcmpistri, Mnemonic.Pcmpistrm,
  ]) ATTR[m] |= A_UNALIGNED;
  for (const m of [Mnemonic.Ldmxcsr, Mnemonic.Stmxcsr, Mnemonic.Pblendvb, Mnemonic.Blendvps, Mnemonic.Blendvpd]) {
    ATTR[m] |= A_XMM;
  }
  ATTR[Mnemonic.Emms] |= A_EMMS;
}

/** Whether the mnemonic is executed by the floating-point half (simd-fp.ts). */
export function isSimdFpMnemonic(m: number): boolean {
  return (ATTR[m]! & A_FP) !== 0;
}

export function execSimd(cpu: FpuCpu, d: DI): number {
  const i = d.i;
  const u = cpu.u;
  const a = ATTR[i.mnemonic]!;
  if (i.lock !== 0) return cpu.raise(V_UD, false, 0);
  // which register files the instruction touches
  let xmm = (a & A_XMM) !== 0;
  let mmx = (a & A_EMMS) !== 0;
  const c0 = i.reg0 >> 5, c1 = i.reg1 >> 5, c2 = i.reg2 >> 5;
  if (c0 === RC_XMM || c1 === RC_XMM || c2 === RC_XMM) xmm = true;
  if (c0 === RC_MM || c1 === RC_MM || c2 === RC_MM) mmx = true;
  if (xmm || mmx) {
    const cr0 = u[S_CR0]!;
    if ((cr0 & CR0_EM) !== 0) return cpu.raise(V_UD, false, 0);
    if (xmm && (u[S_CR4]! & CR4_OSFXSR) === 0) return cpu.raise(V_UD, false, 0);
    if ((cr0 & CR0_TS) !== 0) return cpu.raise(V_NM, false, 0);
    if (mmx && (u[S_FSW]! & 0x80) !== 0) {
      if ((cr0 & CR0_NE) !== 0) return cpu.raise(V_MF, false, 0);
      cpu.ferr();
    }
  }
  // d.hasMem: one of the operands is a ModRM memory operand
  if (d.hasMem && i.operandWidth === 16 && (cpu.memLo & 15) !== 0 && (a & A_UNALIGNED) === 0) {
    return cpu.raise(V_GP, true, 0);
  }
  const r = (a & A_FP) !== 0 ? execSimdFp(cpu, d) : execSimdInt(cpu, d);
  if (mmx && r === C_NEXT && (a & A_EMMS) === 0) {
    // x87 -> MMX transition (Vol. 1 §9.5.1): TOP = 0, all registers valid
    u[S_FSW] = u[S_FSW]! & ~0x3800;
    u[S_FTW] = 0xff;
    if (c0 === RC_MM && i.opKind0 === OpKind.Reg) u[S_FPR + (i.reg0 & 7) * FPR_STRIDE + FPR_SE] = 0xffff;
  }
  return r;
}
