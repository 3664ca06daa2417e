/**
 * The decoded-instruction record: the contract between the decoder and everything that executes,
 * emulates or prints x86 code (interpreter, MMIO assist, traces).
 *
 * Spec: Intel SDM Vol. 2 (ch. 2 "Instruction Format", Appendix A "Opcode Map", Appendix B) and
 * Vol. 1 ch. 3.3.7 / 3.6 (operand/address size), Vol. 3 ch. 3 (segment defaults).
 *
 * Shape rules (DESIGN.md "Performance principles"): one class, every field a number, all fields
 * initialised in the constructor in one order, so every Insn has the same hidden class. The decoder
 * fills a caller-owned record and allocates nothing per decode.
 *
 * Compatibility promise: ids and field meanings only grow. Code must use the enum names below,
 * never their numeric values (except the documented arithmetic: condition codes and register ids).
 *
 * ## Register ids (`reg0..3`, `memBase`, `memIndex`)
 * `id = class << 5 | index`, `RegClass` below. So `id >> 5` is the class and `id & 31` the index.
 * For every general-purpose class `id & 15` is the GPR number (0 = rAX ... 15 = R15), including
 * the legacy high-byte class (AH = GPR 0 byte 1, CH = 1, DH = 2, BH = 3). `Reg.None` (0) means none.
 * Segment indexes are the SDM's Sreg encoding (ES=0 CS=1 SS=2 DS=3 FS=4 GS=5).
 *
 * ## Operands
 * `opKind0..3` say what each operand is, so the executor never re-reads ModRM.mod:
 * - `Reg`: register `regN`.
 * - `Mem`: the one explicit memory operand, `segment:[memBase + memIndex*memScale + memDisp]`,
 *   truncated to `addrSize`. A moffs operand (A0-A3) is `Mem` with no base/index and the full offset
 *   in memDisp/memDispHi. RIP-relative: `memBase` is `Reg.Rip`/`Reg.Eip`, `ripRelative` is 1, the
 *   executor adds the address of the NEXT instruction. XLAT is `Mem` with base rBX and index AL.
 * - `Imm8/Imm16/Imm32/Imm64`: value in `imm` (low 32 bits, uint32) and `immHi` (high 32, uint32),
 *   zero-extended. `Imm8Sx`/`Imm32Sx`: an imm8/imm32 sign-extended to the operand size; `imm`/`immHi`
 *   already hold the 64-bit sign extension. `Imm8_2`: a second imm8 (ENTER's nesting level), in `imm2`.
 * - `Rel`: a near branch; `imm`/`immHi` hold the sign-extended displacement (NOT the target):
 *   target = (address of next instruction + displacement) truncated to `opSize`.
 * - `FarPtr`: ptr16:16 / ptr16:32; offset in `imm`, selector in `imm2`.
 * - `StrSrc`: implicit `segment:[rSI]` (default DS, overridable); `StrDst`: implicit `ES:[rDI]`
 *   (never overridable). Width of rSI/rDI is `addrSize`.
 *
 * ## Displacement
 * `memDisp`/`memDispHi` are the displacement sign-extended to 64 bits as two uint32 halves
 * (disp8, disp16 and disp32 alike). The executor adds and then truncates to `addrSize`. Only
 * moffs carries a zero-extended offset (it is an absolute address, SDM Vol. 2 2.2.1.4).
 */

/** Outcome of one decode. */
export enum DecodeStatus {
  /** A complete, valid instruction. */
  Ok = 0,
  /** The byte sequence is not a valid instruction for this mode: the CPU raises #UD. */
  Invalid = 1,
  /** The instruction would be longer than 15 bytes: the CPU raises #GP(0) (SDM Vol. 2 2.3.11). */
  TooLong = 2,
  /** The available bytes end inside the instruction; `need` says how many more are needed at least. */
  NeedMore = 3,
}

/** How the instruction was encoded. */
export enum Encoding {
  Legacy = 0,
  Vex = 1,
  Evex = 2,
  Xop = 3,
}

/** REP prefix in effect (SDM Vol. 2 2.1.1 group 1; the last of F2/F3 wins). */
export enum Rep {
  None = 0,
  /** F3: REP / REPE / REPZ. */
  Rep = 1,
  /** F2: REPNE / REPNZ. */
  Repne = 2,
}

/** Mandatory-prefix selector of the opcode row (SDM Vol. 2 Appendix A.3 "pp"). */
export enum Pp {
  None = 0,
  P66 = 1,
  PF3 = 2,
  PF2 = 3,
}

/** Operand kinds; see the file header. */
export enum OpKind {
  None = 0,
  Reg = 1,
  Mem = 2,
  Imm8 = 3,
  Imm16 = 4,
  Imm32 = 5,
  Imm64 = 6,
  Imm8Sx = 7,
  Imm32Sx = 8,
  Imm8_2 = 9,
  Rel = 10,
  FarPtr = 11,
  StrSrc = 12,
  StrDst = 13,
  /** Implicit `segment:[rDI]` (MASKMOVQ/MASKMOVDQU): default DS, overridable. */
  StrSrcDi = 14,
}

/** Register classes: `id >> 5`. */
export enum RegClass {
  None = 0,
  /** AL CL DL BL SPL BPL SIL DIL R8B..R15B (SPL..DIL need a REX prefix). */
  Gpr8 = 1,
  /** AH CH DH BH, index = the GPR number 0..3 whose bits 15:8 they are. */
  Gpr8High = 2,
  Gpr16 = 3,
  Gpr32 = 4,
  Gpr64 = 5,
  /** ES CS SS DS FS GS. */
  Seg = 6,
  Cr = 7,
  Dr = 8,
  /** x87 ST(0)..ST(7), relative to TOP. */
  St = 9,
  Mm = 10,
  Xmm = 11,
  Ymm = 12,
  Zmm = 13,
  /** AVX-512 opmask k0..k7. */
  K = 14,
  /** Instruction pointer as a memory base: index 0 RIP, 1 EIP. */
  Ip = 15,
  /** AMX tiles. */
  Tmm = 16,
}

/** Register ids for code that names registers; any id is `RegClass << 5 | index`. */
export enum Reg {
  None = 0,
  Al = 32, Cl, Dl, Bl, Spl, Bpl, Sil, Dil, R8b, R9b, R10b, R11b, R12b, R13b, R14b, R15b,
  Ah = 64, Ch, Dh, Bh,
  Ax = 96, Cx, Dx, Bx, Sp, Bp, Si, Di, R8w, R9w, R10w, R11w, R12w, R13w, R14w, R15w,
  Eax = 128, Ecx, Edx, Ebx, Esp, Ebp, Esi, Edi, R8d, R9d, R10d, R11d, R12d, R13d, R14d, R15d,
  Rax = 160, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8, R9, R10, R11, R12, R13, R14, R15,
  Es = 192, Cs, Ss, Ds, Fs, Gs,
  Cr0 = 224,
  Dr0 = 256,
  St0 = 288,
  Mm0 = 320,
  Xmm0 = 352,
  Ymm0 = 384,
  Zmm0 = 416,
  K0 = 448,
  Rip = 480, Eip,
  Tmm0 = 512,
}

/** Segment register indexes (SDM Vol. 2 Table 3-? "Sreg" encoding). */
export enum Seg {
  Es = 0,
  Cs = 1,
  Ss = 2,
  Ds = 3,
  Fs = 4,
  Gs = 5,
}

/** Bits of `Insn.prefixes`: which legacy prefixes were present (after the ignore rules). */
export const PFX_OPSIZE = 1;
export const PFX_ADSIZE = 2;
export const PFX_LOCK = 4;
export const PFX_REP = 8;
export const PFX_REPNE = 16;
export const PFX_SEG = 32;
export const PFX_REX = 64;

/**
 * Mnemonic ids. Names follow iced-x86's `Mnemonic` names (the oracle) so the differential test can
 * map them by name; the numbering is ours. Groups that are indexed by an opcode field are
 * contiguous and in opcode order: `Add + ModRM.reg` for group 1, `Rol + reg` for group 2, and the
 * condition-code families `Jo + cc`, `Seto + cc`, `Cmovo + cc` (cc = SDM Appendix B.1.4.7 tttn).
 * `Insn.cond` also carries cc for these.
 */
export enum Mnemonic {
  INVALID = 0,
  // Group 1 order (SDM Table A-6 /0../7)
  Add, Or, Adc, Sbb, And, Sub, Xor, Cmp,
  // Group 2 order (/0../7; /6 is the SAL alias)
  Rol, Ror, Rcl, Rcr, Shl, Shr, Sal, Sar,
  // Condition codes 0..15 (O NO B AE E NE BE A S NS P NP L GE LE G)
  Jo, Jno, Jb, Jae, Je, Jne, Jbe, Ja, Js, Jns, Jp, Jnp, Jl, Jge, Jle, Jg,
  Seto, Setno, Setb, Setae, Sete, Setne, Setbe, Seta, Sets, Setns, Setp, Setnp, Setl, Setge, Setle, Setg,
  Cmovo, Cmovno, Cmovb, Cmovae, Cmove, Cmovne, Cmovbe, Cmova, Cmovs, Cmovns, Cmovp, Cmovnp, Cmovl, Cmovge, Cmovle, Cmovg,
  // Integer
  Test, Not, Neg, Mul, Imul, Div, Idiv, Inc, Dec,
  Push, Pop, Pusha, Pushad, Popa, Popad, Pushf, Pushfd, Pushfq, Popf, Popfd, Popfq,
  Mov, Movsx, Movsxd, Movzx, Lea, Xchg, Xadd, Cmpxchg, Cmpxchg8b, Cmpxchg16b, Bswap,
  Bt, Bts, Btr, Btc, Bsf, Bsr, Tzcnt, Lzcnt, Popcnt, Shld, Shrd,
  Cbw, Cwde, Cdqe, Cwd, Cdq, Cqo,
  Daa, Das, Aaa, Aas, Aam, Aad, Salc, Bound, Arpl, Lahf, Sahf,
  Clc, Stc, Cmc, Cld, Std, Cli, Sti,
  Jmp, Call, Ret, Retf, Iret, Iretd, Iretq, Int, Int1, Int3, Into,
  Loop, Loope, Loopne, Jcxz, Jecxz, Jrcxz, Enter, Leave,
  Hlt, Nop, Pause, Wait, Xlatb, In, Out,
  Insb, Insw, Insd, Outsb, Outsw, Outsd,
  Movsb, Movsw, Movsd, Movsq, Cmpsb, Cmpsw, Cmpsd, Cmpsq, Stosb, Stosw, Stosd, Stosq,
  Lodsb, Lodsw, Lodsd, Lodsq, Scasb, Scasw, Scasd, Scasq,
  Les, Lds, Lss, Lfs, Lgs,
  Crc32, Movbe, Adcx, Adox,
  Andn, Bextr, Blsi, Blsmsk, Blsr, Bzhi, Mulx, Pdep, Pext, Rorx, Sarx, Shlx, Shrx,
  // System
  Rdrand, Rdseed, Rdtsc, Rdtscp, Rdpid, Cpuid, Rdmsr, Wrmsr, Rdpmc,
  Syscall, Sysret, Sysretq, Sysenter, Sysexit, Sysexitq, Swapgs,
  Rdfsbase, Rdgsbase, Wrfsbase, Wrgsbase, Invpcid, Clflush, Clflushopt, Clwb, Lfence, Mfence, Sfence,
  Prefetchnta, Prefetcht0, Prefetcht1, Prefetcht2, Prefetchw, Prefetch, Prefetchwt1, Reservednop,
  Ud0, Ud1, Ud2,
  Lgdt, Lidt, Sgdt, Sidt, Lldt, Sldt, Ltr, Str, Lmsw, Smsw, Invlpg, Clts, Lar, Lsl, Verr, Verw,
  Invd, Wbinvd, Rsm, Monitor, Mwait, Clac, Stac, Xgetbv, Xsetbv,
  Fxsave, Fxrstor, Fxsave64, Fxrstor64, Ldmxcsr, Stmxcsr,
  Xsave, Xsave64, Xrstor, Xrstor64, Xsaveopt, Xsaveopt64, Xsavec, Xsavec64, Xsaves, Xsaves64, Xrstors, Xrstors64,
  Endbr32, Endbr64, Rdsspd, Rdsspq, Cldemote, Prefetchit0, Prefetchit1, Wbnoinvd,
  // x87 (SDM Vol. 2 Appendix A.5)
  Fadd, Fmul, Fcom, Fcomp, Fsub, Fsubr, Fdiv, Fdivr,
  Fiadd, Fimul, Ficom, Ficomp, Fisub, Fisubr, Fidiv, Fidivr,
  Faddp, Fmulp, Fsubrp, Fsubp, Fdivrp, Fdivp, Fcompp, Fucompp,
  Fld, Fst, Fstp, Fild, Fist, Fistp, Fisttp, Fbld, Fbstp, Fxch, Fstpnce,
  Fldenv, Fldcw, Fnstenv, Fnstcw, Frstor, Fnsave, Fnstsw, Fnclex, Fninit, Fneni, Fndisi, Fnsetpm,
  Fnop, Fchs, Fabs, Ftst, Fxam, Fld1, Fldl2t, Fldl2e, Fldpi, Fldlg2, Fldln2, Fldz,
  F2xm1, Fyl2x, Fptan, Fpatan, Fxtract, Fprem1, Fdecstp, Fincstp, Fprem, Fyl2xp1, Fsqrt, Fsincos,
  Frndint, Fscale, Fsin, Fcos,
  Fcmovb, Fcmove, Fcmovbe, Fcmovu, Fcmovnb, Fcmovne, Fcmovnbe, Fcmovnu,
  Fucom, Fucomp, Fucomi, Fucomip, Fcomi, Fcomip, Ffree, Ffreep,
  // MMX / SSE / SSE2 / SSE3 / SSSE3 / SSE4.1 / SSE4.2 (SDM Vol. 2 Appendix A.3)
  Emms, Movd, Movq, Movq2dq, Movdq2q,
  Movups, Movupd, Movss, Movlps, Movlpd, Movhlps, Movddup, Movsldup,
  Unpcklps, Unpcklpd, Unpckhps, Unpckhpd, Movhps, Movhpd, Movlhps, Movshdup,
  Movaps, Movapd, Cvtpi2ps, Cvtpi2pd, Cvtsi2ss, Cvtsi2sd, Movntps, Movntpd,
  Cvttps2pi, Cvttpd2pi, Cvttss2si, Cvttsd2si, Cvtps2pi, Cvtpd2pi, Cvtss2si, Cvtsd2si,
  Ucomiss, Ucomisd, Comiss, Comisd,
  Movmskps, Movmskpd, Sqrtps, Sqrtpd, Sqrtss, Sqrtsd, Rsqrtps, Rsqrtss, Rcpps, Rcpss,
  Andps, Andpd, Andnps, Andnpd, Orps, Orpd, Xorps, Xorpd,
  Addps, Addpd, Addss, Addsd, Mulps, Mulpd, Mulss, Mulsd,
  Cvtps2pd, Cvtpd2ps, Cvtss2sd, Cvtsd2ss, Cvtdq2ps, Cvtps2dq, Cvttps2dq,
  Subps, Subpd, Subss, Subsd, Minps, Minpd, Minss, Minsd,
  Divps, Divpd, Divss, Divsd, Maxps, Maxpd, Maxss, Maxsd,
  Punpcklbw, Punpcklwd, Punpckldq, Packsswb, Pcmpgtb, Pcmpgtw, Pcmpgtd, Packuswb,
  Punpckhbw, Punpckhwd, Punpckhdq, Packssdw, Punpcklqdq, Punpckhqdq, Movdqa, Movdqu,
  Pshufw, Pshufd, Pshufhw, Pshuflw,
  Psrlw, Psraw, Psllw, Psrld, Psrad, Pslld, Psrlq, Psrldq, Psllq, Pslldq,
  Pcmpeqb, Pcmpeqw, Pcmpeqd, Haddpd, Haddps, Hsubpd, Hsubps,
  Cmpps, Cmppd, Cmpss, Movnti, Pinsrw, Pextrw, Shufps, Shufpd,
  Addsubpd, Addsubps, Paddq, Pmullw, Pmovmskb,
  Psubusb, Psubusw, Pminub, Pand, Paddusb, Paddusw, Pmaxub, Pandn,
  Pavgb, Pavgw, Pmulhuw, Pmulhw, Cvttpd2dq, Cvtdq2pd, Cvtpd2dq, Movntq, Movntdq,
  Psubsb, Psubsw, Pminsw, Por, Paddsb, Paddsw, Pmaxsw, Pxor,
  Lddqu, Pmuludq, Pmaddwd, Psadbw, Maskmovq, Maskmovdqu,
  Psubb, Psubw, Psubd, Psubq, Paddb, Paddw, Paddd,
  Pshufb, Phaddw, Phaddd, Phaddsw, Pmaddubsw, Phsubw, Phsubd, Phsubsw,
  Psignb, Psignw, Psignd, Pmulhrsw, Pblendvb, Blendvps, Blendvpd, Ptest, Pabsb, Pabsw, Pabsd,
  Pmovsxbw, Pmovsxbd, Pmovsxbq, Pmovsxwd, Pmovsxwq, Pmovsxdq,
  Pmuldq, Pcmpeqq, Movntdqa, Packusdw,
  Pmovzxbw, Pmovzxbd, Pmovzxbq, Pmovzxwd, Pmovzxwq, Pmovzxdq,
  Pcmpgtq, Pminsb, Pminsd, Pminuw, Pminud, Pmaxsb, Pmaxsd, Pmaxuw, Pmaxud, Pmulld, Phminposuw,
  Roundps, Roundpd, Roundss, Roundsd, Blendps, Blendpd, Pblendw, Palignr,
  Pextrb, Pextrd, Pextrq, Extractps, Pinsrb, Insertps, Pinsrd, Pinsrq,
  Dpps, Dppd, Mpsadbw, Pcmpestrm, Pcmpestrm64, Pcmpestri, Pcmpestri64, Pcmpistrm, Pcmpistri,
  /**
   * A VEX/EVEX/XOP encoding whose length and validity were decoded exactly but whose operation the
   * CPU model does not implement (no AVX): the executor raises #UD. Status is Ok.
   */
  VexUnsupported,
}

/** The decoded instruction. See the file header for every field's encoding. */
export class Insn {
  // Every field is initialised with a number where it is declared (not `undefined` first, as a
  // bare declaration would be under ES2022 class-field semantics), so V8 keeps number
  // representations and a stored uint32 never allocates.
  /** DecodeStatus. When not Ok, only `length` (bytes consumed so far) and `need` are meaningful. */
  status: number = DecodeStatus.Invalid;
  /** With status NeedMore: the minimum number of bytes needed beyond those available (>= 1). */
  need: number = 0;
  /** Instruction length in bytes (1..15) when Ok. */
  length: number = 0;
  /** Code mode the bytes were decoded in: 16, 32 or 64. */
  mode: number = 64;
  /** Mnemonic id. */
  mnemonic: number = Mnemonic.INVALID;
  /** Opcode: map << 8 | opcode byte; map 0 one-byte, 1 = 0F, 2 = 0F 38, 3 = 0F 3A (VEX/EVEX: mmmmm). */
  op: number = 0;
  /** The ModRM byte, or -1 if the instruction has none. */
  modrm: number = -1;
  /** Mandatory prefix of the opcode row (Pp). */
  pp: number = 0;
  /** Condition code 0..15 for Jcc/SETcc/CMOVcc/FCMOVcc-like rows, else -1. */
  cond: number = -1;
  /** Effective operand-size attribute: 16, 32 or 64. Byte operations still report it; see reg classes. */
  opSize: number = 32;
  /** Effective address-size attribute: 16, 32 or 64. */
  addrSize: number = 64;
  /** PFX_* bits of the legacy prefixes that took effect. */
  prefixes: number = 0;
  /** 1 if a LOCK prefix is present. */
  lock: number = 0;
  /** Rep.* (last of F2/F3). */
  rep: number = 0;
  /** Segment-override prefix (Seg index) that took effect, or -1. */
  segPrefix: number = -1;
  /** Effective segment (Seg index) of the memory operand (Mem / StrSrc), or -1 without one. */
  segment: number = -1;
  /** The REX byte that took effect (0x40..0x4F), or 0 (none, or ignored because not last). */
  rex: number = 0;
  /** Encoding. */
  encoding: number = 0;
  /** VEX/EVEX L (0,1,2), W (0,1), vvvv register index (0..31, un-inverted), EVEX aaa, z, b. */
  vexL: number = 0;
  vexW: number = 0;
  vexV: number = 0;
  evexAaa: number = 0;
  evexZ: number = 0;
  evexB: number = 0;
  /** Number of operands (0..4). */
  opCount: number = 0;
  opKind0: number = 0;
  opKind1: number = 0;
  opKind2: number = 0;
  opKind3: number = 0;
  reg0: number = 0;
  reg1: number = 0;
  reg2: number = 0;
  reg3: number = 0;
  memBase: number = 0;
  memIndex: number = 0;
  /** 1, 2, 4 or 8 (1 when there is no index). */
  memScale: number = 1;
  /** Displacement, sign-extended to 64 bits: low and high uint32 halves. */
  memDisp: number = 0;
  memDispHi: number = 0;
  /** 1 if the memory operand is RIP/EIP-relative (64-bit mode, mod=00 r/m=101). */
  ripRelative: number = 0;
  /** Immediate or branch displacement, low/high uint32 halves (see OpKind docs). */
  imm: number = 0;
  immHi: number = 0;
  /** Second immediate: ENTER's level (Imm8_2), or the selector of a far pointer (FarPtr). */
  imm2: number = 0;
  /**
   * Size in bytes of the r/m (or moffs / string element / x87 memory) operand, whether the operand
   * turned out to be a register or memory; 0 if the instruction has no such operand.
   */
  operandWidth: number = 0;
}

/** Name of a mnemonic id (iced-x86 spelling), e.g. "Add". */
export function mnemonicName(id: number): string {
  return Mnemonic[id] ?? 'INVALID';
}

/** Register class of a register id. */
export function regClass(id: number): number {
  return id >> 5;
}

/** Index of a register within its class (the GPR number for GPR classes). */
export function regIndex(id: number): number {
  return id & 31;
}

/*
 * Entry points (src/cpu/decoder/decode.ts, re-exported from src/cpu/decoder/index.ts):
 *   decode(bytes: Uint8Array, offset: number, mode: 16 | 32 | 64, out?: Insn): Insn
 *   decodeInto(out: Insn, bytes: Uint8Array, offset: number, end: number, mode: 16 | 32 | 64): number
 * decodeInto reads only bytes[offset .. end) (end = the first unavailable byte, e.g. the end of the
 * mapped page), fills `out`, and returns out.status. With NeedMore, fetch `out.need` more bytes
 * (or up to 15 - available) and decode again.
 */
