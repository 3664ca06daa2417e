/**
 * The x86 instruction decoder: bytes -> Insn, in 16-, 32- and 64-bit code.
 * Spec: Intel SDM Vol. 2 ch. 2 (instruction format: 2.1 prefixes, 2.1.2 ModRM/SIB, 2.2 REX,
 * 2.3 VEX, 2.6/2.7 EVEX) and Appendix A (opcode maps); Vol. 1 3.6 (operand/address size).
 *
 * Hot path: no allocation, no closures, one caller-owned record, a switch on small ints.
 *
 * Prefix rules implemented (SDM 2.1.1, 2.2.1):
 * - Legacy prefixes may repeat and come in any order; the instruction may not exceed 15 bytes
 *   (#GP, reported as TooLong).
 * - The last of F2/F3 selects REP/REPNE and the mandatory prefix; F2/F3 take precedence over 66
 *   as mandatory prefix, and a 66 that is not the mandatory prefix is an operand-size prefix.
 * - Segment overrides: the last one wins; in 64-bit mode FS/GS win over ES/CS/SS/DS.
 * - REX (64-bit mode only) counts only when it immediately precedes the opcode; a REX followed by
 *   a legacy prefix is ignored. REX before a VEX/EVEX escape is #UD.
 * - LOCK is valid only on the rows marked `lock` with a memory destination; otherwise #UD.
 */
import * as B from './build.js';
import { HAS_MODRM, LEGACY_TREES } from './build.js';
import type { Node, Row } from './build.js';
import * as I from './insn.js';
import { Insn } from './insn.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { findVexRow, vexInfo, VEX_IMM8, VEX_NO_MODRM, VEX_VALID } from './vex.js';
import { evexValid } from './evex.js';

/*
 * Local copies of the build.ts and insn.ts constants as const enums, so esbuild and tsc inline
 * them as literals on the hot path (imported bindings are cell loads). checkConstants() below
 * verifies at load that every copy equals its source.
 */
const enum Am { None = 0, E = 1, G = 2, I = 3, J = 4, M = 5, O = 6, S = 7, C = 8, D = 9, V = 10, W = 11, U = 12, P = 13, Q = 14, N = 15, A = 16, X = 17, Y = 18, R = 19, Z = 20, Fix = 21, Acc = 22, Sti = 23, One = 24, Ib2 = 25, Xlat = 26, Xdi = 27, Ibs = 28, B = 29 }
const enum Sz { Zero = 0, B = 1, W = 2, D = 3, Q = 4, V = 5, Z = 6, Y = 7, Dq = 8, N = 9, P = 10, S = 11, T = 12, E = 13, St = 14, Fx = 15, A = 16 }
const enum Fl { Lock = 1, D64 = 2, F64 = 4, O66 = 8, Modrm = 16, Pp66 = 32 }
const enum Nk { Leaf = 0, Mode = 1, Pp = 2, Mod = 3, Reg = 4, Rm = 5, W = 6, B = 7, Osz = 8, Asz = 9 }
const enum DS { Ok = 0, Invalid = 1, TooLong = 2, NeedMore = 3 }
const enum En { Legacy = 0, Vex = 1, Evex = 2, Xop = 3 }
const enum OK { Reg = 1, Mem = 2, Imm8 = 3, Imm16 = 4, Imm32 = 5, Imm64 = 6, Imm8Sx = 7, Imm32Sx = 8, Imm8_2 = 9, Rel = 10, FarPtr = 11, StrSrc = 12, StrDst = 13, StrSrcDi = 14 }
const enum RC { Gpr8 = 1, Gpr8High = 2, Gpr16 = 3, Gpr32 = 4, Gpr64 = 5, Seg = 6, Cr = 7, Dr = 8, St = 9, Mm = 10, Xmm = 11, Ip = 15 }
const enum Rp { None = 0, Rep = 1, Repne = 2 }
const enum Mn { INVALID = 0, VexUnsupported = 635 }
const enum Pf { Opsize = 1, Adsize = 2, Lock = 4, Rep = 8, Repne = 16, Seg = 32, Rex = 64 }
const enum Fk { Generic = 0, None = 1, Eg = 2, Ge = 3, Ei = 4, Z = 5, J = 6 }

function checkConstants(): void {
  const pairs: [number, number, string][] = [
    [Am.None, B.A_NONE, 'A_NONE'],
    [Am.E, B.A_E, 'A_E'],
    [Am.G, B.A_G, 'A_G'],
    [Am.I, B.A_I, 'A_I'],
    [Am.J, B.A_J, 'A_J'],
    [Am.M, B.A_M, 'A_M'],
    [Am.O, B.A_O, 'A_O'],
    [Am.S, B.A_S, 'A_S'],
    [Am.C, B.A_C, 'A_C'],
    [Am.D, B.A_D, 'A_D'],
    [Am.V, B.A_V, 'A_V'],
    [Am.W, B.A_W, 'A_W'],
    [Am.U, B.A_U, 'A_U'],
    [Am.P, B.A_P, 'A_P'],
    [Am.Q, B.A_Q, 'A_Q'],
    [Am.N, B.A_N, 'A_N'],
    [Am.A, B.A_A, 'A_A'],
    [Am.X, B.A_X, 'A_X'],
    [Am.Y, B.A_Y, 'A_Y'],
    [Am.R, B.A_R, 'A_R'],
    [Am.Z, B.A_Z, 'A_Z'],
    [Am.Fix, B.A_FIX, 'A_FIX'],
    [Am.Acc, B.A_ACC, 'A_ACC'],
    [Am.Sti, B.A_STI, 'A_STI'],
    [Am.One, B.A_ONE, 'A_ONE'],
    [Am.Ib2, B.A_IB2, 'A_IB2'],
    [Am.Xlat, B.A_XLAT, 'A_XLAT'],
    [Am.Xdi, B.A_XDI, 'A_XDI'],
    [Am.Ibs, B.A_IBS, 'A_IBS'],
    [Am.B, B.A_B, 'A_B'],
    [Sz.Zero, B.S_0, 'S_0'],
    [Sz.B, B.S_B, 'S_B'],
    [Sz.W, B.S_W, 'S_W'],
    [Sz.D, B.S_D, 'S_D'],
    [Sz.Q, B.S_Q, 'S_Q'],
    [Sz.V, B.S_V, 'S_V'],
    [Sz.Z, B.S_Z, 'S_Z'],
    [Sz.Y, B.S_Y, 'S_Y'],
    [Sz.Dq, B.S_DQ, 'S_DQ'],
    [Sz.N, B.S_N, 'S_N'],
    [Sz.P, B.S_P, 'S_P'],
    [Sz.S, B.S_S, 'S_S'],
    [Sz.T, B.S_T, 'S_T'],
    [Sz.E, B.S_E, 'S_E'],
    [Sz.St, B.S_ST, 'S_ST'],
    [Sz.Fx, B.S_FX, 'S_FX'],
    [Sz.A, B.S_A, 'S_A'],
    [Fl.Lock, B.F_LOCK, 'F_LOCK'],
    [Fl.D64, B.F_D64, 'F_D64'],
    [Fl.F64, B.F_F64, 'F_F64'],
    [Fl.O66, B.F_O66, 'F_O66'],
    [Fl.Modrm, B.F_MODRM, 'F_MODRM'],
    [Fl.Pp66, B.F_PP66, 'F_PP66'],
    [Nk.Leaf, B.N_LEAF, 'N_LEAF'],
    [Nk.Mode, B.N_MODE, 'N_MODE'],
    [Nk.Pp, B.N_PP, 'N_PP'],
    [Nk.Mod, B.N_MOD, 'N_MOD'],
    [Nk.Reg, B.N_REG, 'N_REG'],
    [Nk.Rm, B.N_RM, 'N_RM'],
    [Nk.W, B.N_W, 'N_W'],
    [Nk.B, B.N_B, 'N_B'],
    [Nk.Osz, B.N_OSZ, 'N_OSZ'],
    [Nk.Asz, B.N_ASZ, 'N_ASZ'],
    [DS.TooLong, I.DecodeStatus.TooLong, 'DecodeStatus.TooLong'],
    [DS.Ok, I.DecodeStatus.Ok, 'DecodeStatus.Ok'],
    [DS.NeedMore, I.DecodeStatus.NeedMore, 'DecodeStatus.NeedMore'],
    [DS.Invalid, I.DecodeStatus.Invalid, 'DecodeStatus.Invalid'],
    [En.Evex, I.Encoding.Evex, 'Encoding.Evex'],
    [En.Xop, I.Encoding.Xop, 'Encoding.Xop'],
    [En.Vex, I.Encoding.Vex, 'Encoding.Vex'],
    [En.Legacy, I.Encoding.Legacy, 'Encoding.Legacy'],
    [OK.Reg, I.OpKind.Reg, 'OpKind.Reg'],
    [OK.Imm32, I.OpKind.Imm32, 'OpKind.Imm32'],
    [OK.Imm8_2, I.OpKind.Imm8_2, 'OpKind.Imm8_2'],
    [OK.StrSrc, I.OpKind.StrSrc, 'OpKind.StrSrc'],
    [OK.Rel, I.OpKind.Rel, 'OpKind.Rel'],
    [OK.Mem, I.OpKind.Mem, 'OpKind.Mem'],
    [OK.Imm8Sx, I.OpKind.Imm8Sx, 'OpKind.Imm8Sx'],
    [OK.Imm64, I.OpKind.Imm64, 'OpKind.Imm64'],
    [OK.StrDst, I.OpKind.StrDst, 'OpKind.StrDst'],
    [OK.FarPtr, I.OpKind.FarPtr, 'OpKind.FarPtr'],
    [OK.Imm8, I.OpKind.Imm8, 'OpKind.Imm8'],
    [OK.Imm32Sx, I.OpKind.Imm32Sx, 'OpKind.Imm32Sx'],
    [OK.StrSrcDi, I.OpKind.StrSrcDi, 'OpKind.StrSrcDi'],
    [OK.Imm16, I.OpKind.Imm16, 'OpKind.Imm16'],
    [RC.Ip, I.RegClass.Ip, 'RegClass.Ip'],
    [RC.Mm, I.RegClass.Mm, 'RegClass.Mm'],
    [RC.St, I.RegClass.St, 'RegClass.St'],
    [RC.Gpr64, I.RegClass.Gpr64, 'RegClass.Gpr64'],
    [RC.Cr, I.RegClass.Cr, 'RegClass.Cr'],
    [RC.Gpr32, I.RegClass.Gpr32, 'RegClass.Gpr32'],
    [RC.Seg, I.RegClass.Seg, 'RegClass.Seg'],
    [RC.Xmm, I.RegClass.Xmm, 'RegClass.Xmm'],
    [RC.Gpr16, I.RegClass.Gpr16, 'RegClass.Gpr16'],
    [RC.Gpr8High, I.RegClass.Gpr8High, 'RegClass.Gpr8High'],
    [RC.Gpr8, I.RegClass.Gpr8, 'RegClass.Gpr8'],
    [RC.Dr, I.RegClass.Dr, 'RegClass.Dr'],
    [Rp.None, I.Rep.None, 'Rep.None'],
    [Rp.Rep, I.Rep.Rep, 'Rep.Rep'],
    [Rp.Repne, I.Rep.Repne, 'Rep.Repne'],
    [Mn.INVALID, I.Mnemonic.INVALID, 'Mnemonic.INVALID'],
    [Mn.VexUnsupported, I.Mnemonic.VexUnsupported, 'Mnemonic.VexUnsupported'],
    [Pf.Opsize, I.PFX_OPSIZE, 'PFX_OPSIZE'],
    [Pf.Adsize, I.PFX_ADSIZE, 'PFX_ADSIZE'],
    [Pf.Lock, I.PFX_LOCK, 'PFX_LOCK'],
    [Pf.Rep, I.PFX_REP, 'PFX_REP'],
    [Pf.Repne, I.PFX_REPNE, 'PFX_REPNE'],
    [Pf.Seg, I.PFX_SEG, 'PFX_SEG'],
    [Pf.Rex, I.PFX_REX, 'PFX_REX'],
    [Fk.Generic, B.FK_GENERIC, 'FK_GENERIC'],
    [Fk.None, B.FK_NONE, 'FK_NONE'],
    [Fk.Eg, B.FK_EG, 'FK_EG'],
    [Fk.Ge, B.FK_GE, 'FK_GE'],
    [Fk.Ei, B.FK_EI, 'FK_EI'],
    [Fk.Z, B.FK_Z, 'FK_Z'],
    [Fk.J, B.FK_J, 'FK_J'],
  ];
  for (const [local, source, name] of pairs) {
    if (local !== source) throw new Error(`decoder: local constant ${name} = ${local} differs from its source ${source}`);
  }
}
checkConstants();

/**
 * Prefix classes by byte (SDM 2.1.1): 1-6 segment override ES CS SS DS FS GS, 7 operand size,
 * 8 address size, 9 LOCK, 10 F2, 11 F3, 12 REX (64-bit mode only); 0 not a prefix.
 */
const PREFIX_CLASS = new Uint8Array(256);
PREFIX_CLASS[0x26] = 1; PREFIX_CLASS[0x2e] = 2; PREFIX_CLASS[0x36] = 3; PREFIX_CLASS[0x3e] = 4;
PREFIX_CLASS[0x64] = 5; PREFIX_CLASS[0x65] = 6; PREFIX_CLASS[0x66] = 7; PREFIX_CLASS[0x67] = 8;
PREFIX_CLASS[0xf0] = 9; PREFIX_CLASS[0xf2] = 10; PREFIX_CLASS[0xf3] = 11;
for (let r = 0x40; r <= 0x4f; r++) PREFIX_CLASS[r] = 12;

const GPR_CLASS_BY_BYTES = [0, RC.Gpr8, RC.Gpr16, 0, RC.Gpr32, 0, 0, 0, RC.Gpr64];

/**
 * Scratch state of the current decode: one object, created once and passed as a parameter, so the
 * hot path allocates nothing and reads plain fields (no module-variable TDZ checks).
 */
class DecState {
  mode = 64;
  rex = 0;
  osz = 32;
  asz = 64;
  modrm = -1;
  /** First byte we may not read: min(end, start + 15). */
  limit = 0;
  end = 0;
  start = 0;
  /** 0, or the position one past the bytes we needed when we ran out. */
  fail = 0;
  /** VEX.vvvv, un-inverted. */
  vvvv = 0;
  forceInvalid = 0;
  /** szIdxOf(osz, mode): the row of SZB for this decode. */
  szIdx = 0;
  /** 16 if a REX (or VEX/EVEX/XOP) prefix is in effect, else 0: selects SPL..DIL over AH..BH. */
  rexSeen = 0;
  /** The last decoded operand: OpKind and register id (0 if not a register). */
  ok = 0;
  or = 0;
}
const STATE = new DecState();

/** Marks a read of bytes [pos, pos+n) that did not fit. Returns false so callers can `return`. */
function short(st: DecState, pos: number, n: number): void {
  if (st.fail === 0) st.fail = pos + n;
}

/**
 * Decodes one instruction from bytes[offset .. end) into `out` and returns out.status.
 * `end` is the first byte that is not available (e.g. the end of the mapped page); if the
 * instruction continues past it, status is NeedMore and out.need says how many more bytes at least.
 */
export function decodeInto(out: Insn, bytes: Uint8Array, offset: number, end: number, mode: number): number {
  return decodeWith(STATE, out, bytes, offset, end, mode);
}

function decodeWith(st: DecState, out: Insn, bytes: Uint8Array, offset: number, end: number, mode: number): number {
  if (end > bytes.length) end = bytes.length;
  st.mode = mode;
  st.start = offset;
  st.end = end;
  st.limit = end < offset + 15 ? end : offset + 15;
  st.fail = 0;
  st.forceInvalid = 0;
  out.mode = mode;
  out.need = 0;
  out.modrm = -1;
  out.segPrefix = -1;
  out.segment = -1;
  out.prefixes = 0;
  out.lock = 0;
  out.rep = Rp.None;
  out.rex = 0;
  out.encoding = En.Legacy;
  out.vexL = 0; out.vexW = 0; out.vexV = 0; out.evexAaa = 0; out.evexZ = 0; out.evexB = 0;
  out.opCount = 0;
  out.opKind0 = 0; out.opKind1 = 0; out.opKind2 = 0; out.opKind3 = 0;
  out.reg0 = 0; out.reg1 = 0; out.reg2 = 0; out.reg3 = 0;
  out.memBase = 0; out.memIndex = 0; out.memScale = 1; out.memDisp = 0; out.memDispHi = 0;
  out.ripRelative = 0;
  out.imm = 0; out.immHi = 0; out.imm2 = 0;
  out.operandWidth = 0;
  out.cond = -1;
  out.pp = 0;
  out.op = 0;
  out.mnemonic = Mn.INVALID;

  // ---- Prefixes (SDM 2.1.1) ----
  // Module-level tables read once into locals: each module-binding read costs a context load and
  // a map check in optimised code.
  const prefixClass = PREFIX_CLASS;
  const limit = st.limit;
  let pos = offset;
  let opsizePfx = 0;
  let adsizePfx = 0;
  let lastRep = 0; // 0, 0xF2, 0xF3
  let seg = -1;
  let segFsGs = -1;
  let lock = 0;
  let rex = 0;
  let b = 0;
  for (;;) {
    if (pos >= limit) return finishShort(st, out, pos, 1);
    b = bytes[pos]!;
    const c = prefixClass[b]!;
    if (c === 0) break; // the common case: not a prefix
    if (c === 12) {
      if (mode !== 64) break; // 40-4F are INC/DEC outside 64-bit mode
      rex = b;
      pos++;
      continue;
    }
    rex = 0; // a REX followed by a legacy prefix is ignored (SDM 2.2.1)
    pos++;
    if (c <= 6) {
      seg = c - 1;
      if (c >= 5) segFsGs = c - 1;
    } else if (c === 7) opsizePfx = 1;
    else if (c === 8) adsizePfx = 1;
    else if (c === 9) lock = 1;
    else lastRep = b; // F2 / F3
  }
  if (mode === 64 && segFsGs >= 0) seg = segFsGs;
  st.rex = rex;
  out.rex = rex;
  out.lock = lock;
  out.segPrefix = seg;
  out.rep = lastRep === 0xf3 ? Rp.Rep : lastRep === 0xf2 ? Rp.Repne : Rp.None;
  let pfx = 0;
  if (opsizePfx) pfx |= Pf.Opsize;
  if (adsizePfx) pfx |= Pf.Adsize;
  if (lock) pfx |= Pf.Lock;
  if (lastRep === 0xf3) pfx |= Pf.Rep;
  if (lastRep === 0xf2) pfx |= Pf.Repne;
  if (seg >= 0) pfx |= Pf.Seg;
  if (rex) pfx |= Pf.Rex;
  out.prefixes = pfx;

  // Address size (SDM Vol. 1 3.6, Table 3-4).
  let asz: number;
  if (mode === 64) asz = adsizePfx ? 32 : 64;
  else if (mode === 32) asz = adsizePfx ? 16 : 32;
  else asz = adsizePfx ? 32 : 16;
  st.asz = asz;
  out.addrSize = asz;
  // Mandatory-prefix selector: last F2/F3, else 66 (SDM 2.1.2 / A.3).
  const pp = lastRep === 0xf3 ? 2 : lastRep === 0xf2 ? 3 : opsizePfx ? 1 : 0;

  // ---- Opcode and escapes ----
  let map = 0;
  b = bytes[pos]!;
  pos++;
  if (b === 0x0f) {
    if (pos >= limit) return finishShort(st, out, pos, 1);
    b = bytes[pos++]!;
    map = 1;
    if (b === 0x38 || b === 0x3a) {
      map = b === 0x38 ? 2 : 3;
      if (pos >= limit) return finishShort(st, out, pos, 1);
      b = bytes[pos++]!;
    }
  } else if (b === 0xc4 || b === 0xc5 || b === 0x62 || b === 0x8f) {
    // VEX (C4/C5), EVEX (62), XOP (8F): in 16/32-bit mode only when the next byte's mod is 11b
    // (otherwise LES/LDS/BOUND); XOP only when its map field is >= 8 (otherwise POP Ev).
    if (pos >= limit) return finishShort(st, out, pos, 1);
    const nb = bytes[pos]!;
    const isEsc = b === 0x8f ? (nb & 0x1f) >= 8 : (mode === 64 || (nb & 0xc0) === 0xc0);
    if (isEsc) {
      return decodeVex(st, out, bytes, pos, b, (opsizePfx | lock | rex) !== 0 || lastRep !== 0, asz);
    }
  }
  out.op = (map << 8) | b;
  const key = (map << 8) | b;

  // ---- ModRM, SIB, displacement ----
  let modrm = -1;
  if (HAS_MODRM[key] === 1) {
    if (pos >= limit) return finishShort(st, out, pos, 1);
    modrm = bytes[pos++]!;
    out.modrm = modrm;
    // MOV to/from CR/DR (0F 20-23) ignore ModRM.mod: always the register form (SDM Vol. 2 MOV CRn note).
    if (map === 1 && b >= 0x20 && b <= 0x23) modrm |= 0xc0;
  }
  st.modrm = modrm;

  // ---- Walk the decode tree ----
  let node: Node = LEGACY_TREES[key]!;
  const w = (rex >> 3) & 1;
  let osz = 0;
  while (node.kind !== Nk.Leaf) {
    switch (node.kind) {
      case Nk.Mode: node = node.children[mode === 64 ? 1 : 0]!; break;
      case Nk.Pp: node = node.children[pp]!; break;
      case Nk.Mod: node = node.children[modrm >= 0xc0 ? 1 : 0]!; break;
      case Nk.Reg: node = node.children[(modrm >> 3) & 7]!; break;
      case Nk.Rm: node = node.children[modrm & 7]!; break;
      case Nk.W: node = node.children[w]!; break;
      case Nk.B: node = node.children[rex & 1]!; break;
      case Nk.Osz:
        osz = operandSize(node.flags, opsizePfx, w, mode);
        node = node.children[osz === 16 ? 0 : osz === 32 ? 1 : 2]!;
        break;
      case Nk.Asz: node = node.children[asz === 16 ? 0 : asz === 32 ? 1 : 2]!; break;
    }
  }
  const row: Row | null = node.row;
  osz = operandSize(row === null ? 0 : row.flags, opsizePfx, w, mode);
  st.osz = osz;
  st.szIdx = szIdxOf(osz, mode);
  st.rexSeen = rex !== 0 ? 16 : 0;
  out.opSize = osz;
  out.pp = pp;

  // Memory operand bytes are part of the length whatever the row says.
  if (modrm >= 0 && modrm < 0xc0) {
    pos = decodeMem(st, out, bytes, pos, modrm, asz, rex, mode);
  }
  if (row === null) {
    if (st.fail !== 0) return finishShort(st, out, st.fail, 0);
    return invalid(st, out, pos);
  }

  // ---- Operands ----
  out.mnemonic = row.mnemonic;
  out.cond = row.cond;
  if (row.cond < 0 && map === 0 && b >= 0xda && b <= 0xdb && modrm >= 0xc0 && ((modrm >> 3) & 7) < 4) {
    // FCMOVcc: DA /0-3 B E BE U, DB /0-3 NB NE NBE NU (SDM Vol. 2 FCMOVcc).
    const r = (modrm >> 3) & 7;
    out.cond = b === 0xda ? [2, 4, 6, 10][r]! : [3, 5, 7, 11][r]!;
  }
  const n = row.opCount;
  out.opCount = n;
  const fk = row.fast;
  if (fk === Fk.Eg || fk === Fk.Ge || fk === Fk.Ei) {
    // The common ModRM pairs, inline: the same results as operand() for E/M and G (and I/Ibs).
    const eSpec = fk === Fk.Ge ? row.op1 : row.op0;
    const rsz = (eSpec >> 6) & 31;
    const szIdx = st.szIdx;
    const rb = SZB[(rsz << 3) | szIdx]!;
    let ek: number = OK.Mem;
    let er = 0;
    if ((eSpec & 63) === Am.E && modrm >= 0xc0) {
      out.operandWidth = rb;
      ek = OK.Reg;
      er = GPR_ID[(rb << 5) | st.rexSeen | (modrm & 7) | ((rex & 1) << 3)]!;
    } else {
      out.operandWidth = SZB[(((eSpec >> 11) & 31) << 3) | szIdx]!;
    }
    if (fk === Fk.Ei) {
      out.opKind0 = ek; out.reg0 = er; out.reg1 = 0;
      const iSpec = row.op1;
      const isz = (iSpec & 63) === Am.Ibs ? 0 : SZB[(((iSpec >> 6) & 31) << 3) | szIdx]!;
      if (isz <= 1) {
        if (pos + 1 > limit) short(st, pos, 1);
        const v = pos < limit ? bytes[pos]! : 0;
        pos += 1;
        if (isz === 0) {
          const x = (v << 24) >> 24;
          out.opKind1 = OK.Imm8Sx; out.imm = x >>> 0; out.immHi = x < 0 ? 0xffffffff : 0;
        } else {
          out.opKind1 = OK.Imm8; out.imm = v; out.immHi = 0;
        }
      } else if (isz === 2) {
        out.opKind1 = OK.Imm16; out.imm = rd16(st, bytes, pos); out.immHi = 0;
        pos += 2;
      } else {
        // Iz: 4 bytes; with 64-bit operand size sign-extended to 64 (SDM 2.2.1.5).
        const v = rd32(st, bytes, pos);
        pos += 4;
        out.imm = v;
        if (osz === 64) { out.opKind1 = OK.Imm32Sx; out.immHi = (v | 0) < 0 ? 0xffffffff : 0; }
        else { out.opKind1 = OK.Imm32; out.immHi = 0; }
      }
    } else {
      const gb = fk === Fk.Ge ? SZB[(((row.op0 >> 6) & 31) << 3) | szIdx]! : rb; // LEA Gv,M: M has no register size
      const g = GPR_ID[(gb << 5) | st.rexSeen | ((modrm >> 3) & 7) | ((rex & 4) << 1)]!;
      if (fk === Fk.Eg) { out.opKind0 = ek; out.reg0 = er; out.opKind1 = OK.Reg; out.reg1 = g; }
      else { out.opKind0 = OK.Reg; out.reg0 = g; out.opKind1 = ek; out.reg1 = er; }
    }
  } else if (fk === Fk.Z) {
    const rb = SZB[(((row.op0 >> 6) & 31) << 3) | st.szIdx]!;
    out.opKind0 = OK.Reg;
    out.reg0 = GPR_ID[(rb << 5) | st.rexSeen | (b & 7) | ((rex & 1) << 3)]!;
  } else if (fk === Fk.J) {
    let v: number;
    if (((row.op0 >> 6) & 31) === Sz.B) {
      if (pos + 1 > limit) { short(st, pos, 1); v = 0; } else v = (bytes[pos]! << 24) >> 24;
      pos += 1;
    } else if (osz === 16 && mode !== 64) { v = (rd16(st, bytes, pos) << 16) >> 16; pos += 2; }
    else { v = rd32(st, bytes, pos) | 0; pos += 4; }
    out.opKind0 = OK.Rel; out.reg0 = 0;
    out.imm = v >>> 0;
    out.immHi = v < 0 ? 0xffffffff : 0;
  } else if (fk !== Fk.None) {
    if (n > 0) { pos = operand(st, out, row.op0, bytes, pos, b); out.opKind0 = st.ok; out.reg0 = st.or; }
    if (n > 1) { pos = operand(st, out, row.op1, bytes, pos, b); out.opKind1 = st.ok; out.reg1 = st.or; }
    if (n > 2) { pos = operand(st, out, row.op2, bytes, pos, b); out.opKind2 = st.ok; out.reg2 = st.or; }
    if (n > 3) { pos = operand(st, out, row.op3, bytes, pos, b); out.opKind3 = st.ok; out.reg3 = st.or; }
  }
  if (st.fail !== 0) return finishShort(st, out, st.fail, 0);

  // ---- Validity ----
  if (st.forceInvalid !== 0) return invalid(st, out, pos);
  if (lock !== 0 && ((row.flags & Fl.Lock) === 0 || modrm >= 0xc0 || modrm < 0)) return invalid(st, out, pos);
  // (A Mem operand always has its segment: decodeMem, moffs and XLAT set it.)
  out.length = pos - offset;
  out.status = DS.Ok;
  return DS.Ok;
}

/**
 * VEX (C4/C5, SDM 2.3), EVEX (62, SDM 2.6) and XOP (8F) encodings: decoded to their exact length
 * and validity; the operation is reported as Mn.VexUnsupported (the CPU model has no AVX).
 * `pos` is the byte after the escape byte `esc`.
 */
function decodeVex(st: DecState, out: Insn, bytes: Uint8Array, pos: number, esc: number, badPrefix: boolean, asz: number): number {
  let map: number;
  let pp: number;
  let l: number;
  let w = 0;
  let vvvv: number;
  let rxb: number;
  let kind: number;
  let evexOk = true;
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  if (esc === 0xc5) {
    if (pos >= st.limit) return finishShort(st, out, pos, 1);
    const p0 = bytes[pos++]!;
    rxb = (~p0 >> 5) & 4; // R only
    vvvv = (~p0 >> 3) & 15;
    l = (p0 >> 2) & 1;
    pp = p0 & 3;
    map = 1;
    kind = En.Vex;
  } else if (esc === 0xc4 || esc === 0x8f) {
    if (pos + 2 > st.limit) return finishShort(st, out, pos, 2);
    const p0 = bytes[pos++]!;
    const p1 = bytes[pos++]!;
    rxb = (~p0 >> 5) & 7;
    map = p0 & 0x1f;
    w = p1 >> 7;
    vvvv = (~p1 >> 3) & 15;
    l = (p1 >> 2) & 1;
    pp = p1 & 3;
    kind = esc === 0xc4 ? En.Vex : En.Xop;
  } else {
    if (pos + 3 > st.limit) return finishShort(st, out, pos, 3);
    p0 = bytes[pos++]!;
    p1 = bytes[pos++]!;
    p2 = bytes[pos++]!;
    rxb = (~p0 >> 5) & 7;
    map = p0 & 7;
    if ((p0 & 8) !== 0 || (p1 & 4) === 0) evexOk = false; // reserved bits (SDM 2.6.1)
    // Outside 64-bit mode EVEX.V' must be 1 (only 8 registers, SDM 2.6.1).
    if (st.mode !== 64 && (p2 & 8) === 0) evexOk = false;
    // Zeroing-masking needs an opmask (z=1 with aaa=000 is #UD, SDM 2.6.9).
    if ((p2 & 0x80) !== 0 && (p2 & 7) === 0) evexOk = false;
    w = p1 >> 7;
    vvvv = ((~p1 >> 3) & 15) | ((~p2 & 8) << 1);
    l = (p2 >> 5) & 3;
    pp = p1 & 3;
    out.evexZ = p2 >> 7;
    out.evexB = (p2 >> 4) & 1;
    out.evexAaa = p2 & 7;
    kind = En.Evex;
  }
  out.encoding = kind;
  out.vexL = l; out.vexW = w; out.vexV = vvvv; out.pp = pp;
  if (pos >= st.limit) return finishShort(st, out, pos, 1);
  const opcode = bytes[pos++]!;
  out.op = (map << 8) | opcode;
  const info = vexInfo(kind, map, opcode);
  // Outside 64-bit mode VEX.R/X/B and vvvv[3] are ignored (SDM 2.3.5, 2.3.6).
  const vvvvAll1 = vvvv === 0;
  if (st.mode !== 64) { rxb = 0; vvvv &= 7; }
  st.rex = rxb | (st.mode === 64 && w ? 8 : 0);
  st.vvvv = vvvv;
  let modrm = -1;
  let sib = -1;
  if ((info & VEX_NO_MODRM) === 0) {
    if (pos >= st.limit) return finishShort(st, out, pos, 1);
    modrm = bytes[pos++]!;
    out.modrm = modrm;
    if (modrm < 0xc0) {
      if ((modrm & 7) === 4 && asz !== 16 && pos < st.limit) sib = bytes[pos]!;
      pos = decodeMem(st, out, bytes, pos, modrm, asz, rxb, st.mode);
    }
  }
  st.modrm = modrm;
  const immPos = pos;
  // EVEX.L'L = 11b is reserved unless EVEX.b on a register form selects rounding (SDM 2.6.8).
  if (kind === En.Evex && l === 3 && !(out.evexB === 1 && modrm >= 0xc0)) evexOk = false;
  if ((info & VEX_IMM8) !== 0) pos += 1;
  if (pos > st.limit) short(st, immPos, 1);
  if (st.fail !== 0) return finishShort(st, out, st.fail, 0);
  // XOP is AMD-only: on this (Intel) model 8F with a map >= 8 is POP Ev with reg != 0, #UD.
  if (badPrefix || !evexOk || kind === En.Xop || (info & VEX_VALID) === 0) return invalid(st, out, pos);
  out.mnemonic = Mn.VexUnsupported;
  if (kind === En.Evex && !evexValid(map, opcode, p0, p1, p2, modrm, sib, st.mode, asz === 16)) return invalid(st, out, pos);
  if (kind === En.Vex) {
    const row = findVexRow(map, opcode, pp, l, w, modrm, vvvvAll1, st.mode, asz === 16, rxb, vvvv, sib);
    if (row === null) return invalid(st, out, pos);
    if (row.mnemonic !== Mn.VexUnsupported) {
      // A VEX-encoded instruction of the CPU model (BMI1/BMI2): full operands.
      st.osz = st.mode === 64 && w ? 64 : 32;
      st.szIdx = szIdxOf(st.osz, st.mode);
      st.rexSeen = st.rex !== 0 ? 16 : 0;
      out.opSize = st.osz;
      out.mnemonic = row.mnemonic;
      out.opCount = row.opCount;
      let p2 = immPos;
      if (row.opCount > 0) { p2 = operand(st, out, row.op0, bytes, p2, opcode); out.opKind0 = st.ok; out.reg0 = st.or; }
      if (row.opCount > 1) { p2 = operand(st, out, row.op1, bytes, p2, opcode); out.opKind1 = st.ok; out.reg1 = st.or; }
      if (row.opCount > 2) { p2 = operand(st, out, row.op2, bytes, p2, opcode); out.opKind2 = st.ok; out.reg2 = st.or; }
      if (out.segment < 0 && modrm >= 0 && modrm < 0xc0) out.segment = 3;
    }
  }
  out.length = pos - st.start;
  out.status = DS.Ok;
  return DS.Ok;
}

/** Effective operand size (SDM Vol. 1 3.6.1, Vol. 2 2.2.1.2 and Table A-1 d64/f64). */
function operandSize(flags: number, opsizePfx: number, w: number, mode: number): number {
  // A 66 that is the row's mandatory prefix is not an operand-size prefix.
  const o = opsizePfx !== 0 && ((flags & Fl.Pp66) === 0 || (flags & Fl.O66) !== 0);
  if (mode === 64) {
    if ((flags & Fl.F64) !== 0) return 64;
    if (w) return 64;
    if ((flags & Fl.D64) !== 0) return o ? 16 : 64;
    return o ? 16 : 32;
  }
  if (mode === 32) return o ? 16 : 32;
  return o ? 32 : 16;
}

function finishShort(st: DecState, out: Insn, pos: number, n: number): number {
  // We needed bytes [pos, pos + n). Past the 15-byte limit it is #GP, else NeedMore.
  const needEnd = pos + n;
  if (needEnd > st.start + 15) {
    out.status = DS.TooLong;
    out.length = 15;
    out.need = 0;
    return DS.TooLong;
  }
  out.status = DS.NeedMore;
  out.need = needEnd - st.end;
  if (out.need < 1) out.need = 1;
  out.length = st.end - st.start;
  return DS.NeedMore;
}

function invalid(st: DecState, out: Insn, pos: number): number {
  out.status = DS.Invalid;
  out.mnemonic = Mn.INVALID;
  out.length = pos - st.start;
  return DS.Invalid;
}

/** Little-endian reads with the availability check; on a short read they record st.fail and return 0. */
function rd8(st: DecState, bytes: Uint8Array, pos: number): number {
  if (pos + 1 > st.limit) { short(st, pos, 1); return 0; }
  return bytes[pos]!;
}
function rd16(st: DecState, bytes: Uint8Array, pos: number): number {
  if (pos + 2 > st.limit) { short(st, pos, 2); return 0; }
  return bytes[pos]! | (bytes[pos + 1]! << 8);
}
function rd32(st: DecState, bytes: Uint8Array, pos: number): number {
  if (pos + 4 > st.limit) { short(st, pos, 4); return 0; }
  return (bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16) | (bytes[pos + 3]! << 24)) >>> 0;
}

/** Decodes the memory form of ModRM (mod != 11b) with SIB and displacement; returns the new position. */
function decodeMem(st: DecState, out: Insn, bytes: Uint8Array, pos: number, modrm: number, asz: number, rex: number, mode: number): number {
  const mod = modrm >> 6;
  const rm = modrm & 7;
  let disp = 0;
  if (asz === 16) {
    // SDM Table 2-1: 16-bit addressing forms.
    let base = 0;
    let index = 0;
    let ss = false;
    switch (rm) {
      case 0: base = 3; index = 6; break; // BX+SI
      case 1: base = 3; index = 7; break; // BX+DI
      case 2: base = 5; index = 6; ss = true; break; // BP+SI
      case 3: base = 5; index = 7; ss = true; break; // BP+DI
      case 4: base = 6; index = -1; break; // SI
      case 5: base = 7; index = -1; break; // DI
      case 6: base = 5; index = -1; ss = true; break; // BP (disp16 if mod=00)
      case 7: base = 3; index = -1; break; // BX
    }
    if (mod === 0 && rm === 6) {
      base = -1;
      ss = false;
      disp = (rd16(st, bytes, pos) << 16) >> 16;
      pos += 2;
    } else if (mod === 1) {
      disp = (rd8(st, bytes, pos) << 24) >> 24;
      pos += 1;
    } else if (mod === 2) {
      disp = (rd16(st, bytes, pos) << 16) >> 16;
      pos += 2;
    }
    out.memBase = base < 0 ? 0 : (RC.Gpr16 << 5) | base;
    out.memIndex = index < 0 ? 0 : (RC.Gpr16 << 5) | index;
    out.memScale = 1;
    out.memDisp = disp >>> 0;
    out.memDispHi = disp < 0 ? 0xffffffff : 0;
    out.segment = out.segPrefix >= 0 ? out.segPrefix : ss ? 2 : 3;
    return pos;
  }
  const cls = asz === 64 ? RC.Gpr64 : RC.Gpr32;
  let base = -1;
  let index = -1;
  let scale = 1;
  let ssDefault = false;
  if (rm === 4) {
    // SIB (SDM Table 2-3).
    const sib = rd8(st, bytes, pos);
    pos++;
    const sbase = (sib & 7) | ((rex & 1) << 3);
    const sindex = ((sib >> 3) & 7) | ((rex & 2) << 2);
    scale = 1 << (sib >> 6);
    if (sindex !== 4) index = sindex;
    if ((sib & 7) === 5 && mod === 0) {
      base = -1;
      disp = rd32(st, bytes, pos) | 0;
      pos += 4;
    } else {
      base = sbase;
      if (sbase === 4 || sbase === 5) ssDefault = true;
    }
  } else if (rm === 5 && mod === 0) {
    disp = rd32(st, bytes, pos) | 0;
    pos += 4;
    if (mode === 64) {
      // RIP-relative (SDM 2.2.1.6); EIP-relative with a 67 prefix.
      out.ripRelative = 1;
      out.memBase = asz === 64 ? (RC.Ip << 5) : (RC.Ip << 5) | 1;
      out.memIndex = 0;
      out.memScale = 1;
      out.memDisp = disp >>> 0;
      out.memDispHi = disp < 0 ? 0xffffffff : 0;
      out.segment = out.segPrefix >= 0 ? out.segPrefix : 3;
      return pos;
    }
  } else {
    base = rm | ((rex & 1) << 3);
    if (base === 4 || base === 5) ssDefault = true;
  }
  if (mod === 1) {
    disp = (rd8(st, bytes, pos) << 24) >> 24;
    pos += 1;
  } else if (mod === 2) {
    disp = rd32(st, bytes, pos) | 0;
    pos += 4;
  }
  out.memBase = base < 0 ? 0 : (cls << 5) | base;
  out.memIndex = index < 0 ? 0 : (cls << 5) | index;
  out.memScale = index < 0 ? 1 : scale;
  out.memDisp = disp >>> 0;
  out.memDispHi = disp < 0 ? 0xffffffff : 0;
  out.segment = out.segPrefix >= 0 ? out.segPrefix : ssDefault ? 2 : 3;
  return pos;
}

/** Size code -> bytes for operand size `osz` and mode (SDM A.2.2); builds SZB below. */
function bytesOf(osz: number, mode: number, code: number): number {
  switch (code) {
    case Sz.Zero: return 0;
    case Sz.B: return 1;
    case Sz.W: return 2;
    case Sz.D: return 4;
    case Sz.Q: return 8;
    case Sz.V: return osz >> 3;
    case Sz.Z: return osz === 16 ? 2 : 4;
    case Sz.Y: return osz === 64 ? 8 : 4;
    case Sz.Dq: return 16;
    case Sz.N: return mode === 64 ? 8 : 4;
    case Sz.P: return 2 + (osz >> 3);
    case Sz.S: return mode === 64 ? 10 : 6;
    case Sz.T: return 10;
    case Sz.E: return osz === 16 ? 14 : 28;
    case Sz.St: return osz === 16 ? 94 : 108;
    case Sz.Fx: return 512;
    case Sz.A: return osz >> 2;
  }
  return 0;
}
/** Bytes of each size code: SZB[code << 3 | szIdx], szIdx = (osz 16/32/64 -> 0/1/2) << 1 | 64-bit mode. */
const SZB = new Uint16Array(32 << 3);
for (let code = 0; code < 32; code++) {
  for (let o = 0; o < 3; o++) {
    for (let m = 0; m < 2; m++) SZB[(code << 3) | (o << 1) | m] = bytesOf([16, 32, 64][o]!, m ? 64 : 32, code);
  }
}
function szIdxOf(osz: number, mode: number): number {
  return ((osz >> 5) << 1) | (mode >> 6); // osz 16/32/64 -> 0/1/2; mode 64 -> 1
}

/**
 * GPR ids by (size in bytes << 5 | REX present << 4 | number): the legacy AH..BH rule for byte
 * registers 4-7 without REX is in the table, so the hot path does one load.
 */
const GPR_ID = new Uint16Array(9 << 5);
for (const size of [1, 2, 4, 8]) {
  for (let n = 0; n < 16; n++) {
    GPR_ID[(size << 5) | 16 | n] = (GPR_CLASS_BY_BYTES[size]! << 5) | n;
    GPR_ID[(size << 5) | n] = size === 1 && n >= 4 && n < 8 ? (RC.Gpr8High << 5) | (n - 4) : (GPR_CLASS_BY_BYTES[size]! << 5) | n;
  }
}
/** A GPR id of `size` bytes and number `n`; `rexSeen` is 16 when a REX (or VEX) prefix is in effect, else 0. */
function gprOf(rexSeen: number, size: number, n: number): number {
  return GPR_ID[(size << 5) | rexSeen | n]!;
}

/** Decodes operand i from its packed spec; returns the new position (immediates advance it). */
function operand(st: DecState, out: Insn, spec: number, bytes: Uint8Array, pos: number, opcode: number): number {
  const method = spec & 63;
  const rsz = (spec >> 6) & 31;
  const msz = (spec >> 11) & 31;
  const modrm = st.modrm;
  const regf = ((modrm >> 3) & 7) | ((st.rex & 4) << 1);
  const rmf = (modrm & 7) | ((st.rex & 1) << 3);
  switch (method) {
    case Am.E:
    case Am.W:
    case Am.Q:
      if (modrm >= 0xc0) {
        const rb = SZB[(rsz << 3) | st.szIdx]!;
        out.operandWidth = rb;
        st.ok = OK.Reg;
        if (method === Am.E) st.or = gprOf(st.rexSeen, rb, rmf);
        else if (method === Am.W) st.or = (RC.Xmm << 5) | rmf;
        else st.or = (RC.Mm << 5) | (modrm & 7);
      } else {
        out.operandWidth = SZB[(msz << 3) | st.szIdx]!;
        st.ok = OK.Mem; st.or = 0;
      }
      return pos;
    case Am.M:
      out.operandWidth = SZB[(msz << 3) | st.szIdx]!;
      st.ok = OK.Mem; st.or = 0;
      return pos;
    case Am.R:
      out.operandWidth = SZB[(rsz << 3) | st.szIdx]!;
      st.ok = OK.Reg; st.or = gprOf(st.rexSeen, SZB[(rsz << 3) | st.szIdx]!, rmf);
      return pos;
    case Am.U:
      out.operandWidth = 16;
      st.ok = OK.Reg; st.or = (RC.Xmm << 5) | rmf;
      return pos;
    case Am.N:
      out.operandWidth = 8;
      st.ok = OK.Reg; st.or = (RC.Mm << 5) | (modrm & 7);
      return pos;
    case Am.G:
      st.ok = OK.Reg; st.or = gprOf(st.rexSeen, SZB[(rsz << 3) | st.szIdx]!, regf);
      return pos;
    case Am.V:
      st.ok = OK.Reg; st.or = (RC.Xmm << 5) | regf;
      return pos;
    case Am.B:
      st.ok = OK.Reg; st.or = gprOf(st.rexSeen, SZB[(rsz << 3) | st.szIdx]!, st.vvvv);
      return pos;
    case Am.P:
      st.ok = OK.Reg; st.or = (RC.Mm << 5) | ((modrm >> 3) & 7);
      return pos;
    case Am.S: {
      const s = (modrm >> 3) & 7;
      if (s > 5 || (s === 1 && opcode === 0x8e)) st.forceInvalid = 1; // Sreg 6/7 and MOV CS,r/m (8E /1) are #UD
      st.ok = OK.Reg; st.or = (RC.Seg << 5) | s;
      return pos;
    }
    case Am.C: {
      // Valid control registers: CR0, CR2, CR3, CR4, CR8 (SDM Vol. 2 MOV-Move to/from Control Registers).
      if (!(regf === 0 || regf === 2 || regf === 3 || regf === 4 || regf === 8)) st.forceInvalid = 1;
      st.ok = OK.Reg; st.or = (RC.Cr << 5) | regf;
      return pos;
    }
    case Am.D:
      if (regf > 7) st.forceInvalid = 1;
      st.ok = OK.Reg; st.or = (RC.Dr << 5) | regf;
      return pos;
    case Am.Sti:
      st.ok = OK.Reg; st.or = (RC.St << 5) | (modrm & 7);
      return pos;
    case Am.Z: {
      const sz = SZB[(rsz << 3) | st.szIdx]!;
      st.ok = OK.Reg; st.or = gprOf(st.rexSeen, sz, (opcode & 7) | ((st.rex & 1) << 3));
      return pos;
    }
    case Am.Fix:
      st.ok = OK.Reg; st.or = spec >>> 16;
      return pos;
    case Am.Acc:
      st.ok = OK.Reg; st.or = gprOf(st.rexSeen, SZB[(rsz << 3) | st.szIdx]!, 0);
      return pos;
    case Am.One:
      st.ok = OK.Imm8; st.or = 0;
      out.imm = 1;
      out.immHi = 0;
      return pos;
    case Am.I: {
      const sz = SZB[(rsz << 3) | st.szIdx]!;
      if (sz === 1) {
        st.ok = OK.Imm8; st.or = 0;
        out.imm = rd8(st, bytes, pos);
        out.immHi = 0;
        return pos + 1;
      }
      if (sz === 2) {
        st.ok = OK.Imm16; st.or = 0;
        out.imm = rd16(st, bytes, pos);
        out.immHi = 0;
        return pos + 2;
      }
      if (sz === 8) {
        if (rsz === Sz.V) {
          // MOV r64, imm64 (B8+r with REX.W): the only 8-byte immediate.
          st.ok = OK.Imm64; st.or = 0;
          out.imm = rd32(st, bytes, pos);
          out.immHi = rd32(st, bytes, pos + 4);
          return pos + 8;
        }
      }
      // Iz: 4 bytes; with 64-bit operand size sign-extended to 64 (SDM 2.2.1.5).
      const v = rd32(st, bytes, pos);
      if (st.osz === 64) {
        st.ok = OK.Imm32Sx; st.or = 0;
        out.imm = v;
        out.immHi = (v | 0) < 0 ? 0xffffffff : 0;
      } else {
        st.ok = OK.Imm32; st.or = 0;
        out.imm = v;
        out.immHi = 0;
      }
      return pos + 4;
    }
    case Am.Ibs: {
      const v = (rd8(st, bytes, pos) << 24) >> 24;
      st.ok = OK.Imm8Sx; st.or = 0;
      out.imm = v >>> 0;
      out.immHi = v < 0 ? 0xffffffff : 0;
      return pos + 1;
    }
    case Am.Ib2:
      st.ok = OK.Imm8_2; st.or = 0;
      out.imm2 = rd8(st, bytes, pos);
      return pos + 1;
    case Am.J: {
      let v: number;
      if (rsz === Sz.B) { v = (rd8(st, bytes, pos) << 24) >> 24; pos += 1; }
      else if (st.osz === 16 && st.mode !== 64) { v = (rd16(st, bytes, pos) << 16) >> 16; pos += 2; }
      else { v = rd32(st, bytes, pos) | 0; pos += 4; }
      st.ok = OK.Rel; st.or = 0;
      out.imm = v >>> 0;
      out.immHi = v < 0 ? 0xffffffff : 0;
      return pos;
    }
    case Am.A: {
      // ptr16:16 / ptr16:32: offset then selector.
      st.ok = OK.FarPtr; st.or = 0;
      if (st.osz === 16) { out.imm = rd16(st, bytes, pos); pos += 2; }
      else { out.imm = rd32(st, bytes, pos); pos += 4; }
      out.imm2 = rd16(st, bytes, pos);
      return pos + 2;
    }
    case Am.O: {
      // moffs: an address-size offset, no ModRM (SDM 2.2.1.4).
      out.operandWidth = SZB[(rsz << 3) | st.szIdx]!;
      st.ok = OK.Mem; st.or = 0;
      out.memBase = 0; out.memIndex = 0; out.memScale = 1;
      if (st.asz === 64) { out.memDisp = rd32(st, bytes, pos); out.memDispHi = rd32(st, bytes, pos + 4); pos += 8; }
      else if (st.asz === 32) { out.memDisp = rd32(st, bytes, pos); out.memDispHi = 0; pos += 4; }
      else { out.memDisp = rd16(st, bytes, pos); out.memDispHi = 0; pos += 2; }
      out.segment = out.segPrefix >= 0 ? out.segPrefix : 3;
      return pos;
    }
    case Am.X:
      out.operandWidth = SZB[(rsz << 3) | st.szIdx]!;
      st.ok = OK.StrSrc; st.or = 0;
      out.segment = out.segPrefix >= 0 ? out.segPrefix : 3;
      return pos;
    case Am.Y:
      out.operandWidth = SZB[(rsz << 3) | st.szIdx]!;
      st.ok = OK.StrDst; st.or = 0;
      if (out.segment < 0) out.segment = 0;
      return pos;
    case Am.Xdi:
      st.ok = OK.StrSrcDi; st.or = 0;
      out.segment = out.segPrefix >= 0 ? out.segPrefix : 3;
      return pos;
    case Am.Xlat: {
      out.operandWidth = 1;
      st.ok = OK.Mem; st.or = 0;
      const cls = st.asz === 64 ? RC.Gpr64 : st.asz === 32 ? RC.Gpr32 : RC.Gpr16;
      out.memBase = (cls << 5) | 3;
      out.memIndex = RC.Gpr8 << 5; // AL
      out.memScale = 1;
      out.segment = out.segPrefix >= 0 ? out.segPrefix : 3;
      return pos;
    }
  }
  return pos;
}


/**
 * Decodes the instruction at bytes[offset] in `mode` (16, 32 or 64) into `out` (a new record if
 * omitted) and returns it. Check `status`: Invalid (#UD), TooLong (#GP) and NeedMore are results,
 * not exceptions. Only a bad `mode` or `offset` (API misuse) throws.
 */
export function decode(bytes: Uint8Array, offset: number, mode: 16 | 32 | 64, out?: Insn): Insn {
  if (mode !== 16 && mode !== 32 && mode !== 64) {
    throw new InvalidArgumentError(`decode: mode ${String(mode)} is not 16, 32 or 64`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new InvalidArgumentError(`decode: offset ${String(offset)} is outside the ${bytes.length}-byte buffer`);
  }
  const r = out ?? new Insn();
  decodeInto(r, bytes, offset, bytes.length, mode);
  return r;
}
