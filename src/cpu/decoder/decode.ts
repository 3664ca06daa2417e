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
import {
  A_A, A_ACC, A_C, A_D, A_E, A_FIX, A_G, A_I, A_IB2, A_IBS, A_J, A_M, A_N, A_O, A_ONE, A_P, A_Q, A_R, A_S,
  A_STI, A_U, A_V, A_W, A_X, A_XDI, A_XLAT, A_Y, A_Z, A_B,
  F_D64, F_F64, F_LOCK, F_O66, F_PP66, HAS_MODRM, LEGACY_TREES,
  N_ASZ, N_B, N_LEAF, N_MOD, N_MODE, N_OSZ, N_PP, N_REG, N_RM, N_W,
  S_0, S_A, S_B, S_D, S_DQ, S_E, S_FX, S_N, S_P, S_Q, S_S, S_ST, S_T, S_V, S_W, S_Y, S_Z,
} from './build.js';
import type { Node, Row } from './build.js';
import { DecodeStatus, Encoding, Insn, Mnemonic, OpKind, PFX_ADSIZE, PFX_LOCK, PFX_OPSIZE, PFX_REP, PFX_REPNE, PFX_REX, PFX_SEG, RegClass, Rep } from './insn.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { findVexRow, vexInfo, VEX_IMM8, VEX_NO_MODRM, VEX_VALID } from './vex.js';

const GPR_CLASS_BY_BYTES = [0, RegClass.Gpr8, RegClass.Gpr16, 0, RegClass.Gpr32, 0, 0, 0, RegClass.Gpr64];

// Scratch state of the current decode (module-level so the hot path allocates nothing).
let sMode = 64;
let sRex = 0;
let sOsz = 32;
let sAsz = 64;
let sModrm = -1;
let sLimit = 0; // first byte we may not read (min(end, start + 15))
let sEnd = 0;
let sStart = 0;
let sFail = 0; // 0 ok, else the position we needed to read when we ran out
let sVvvv = 0; // VEX.vvvv (un-inverted)

/** Marks a read of bytes [pos, pos+n) that did not fit. Returns false so callers can `return`. */
function short(pos: number, n: number): void {
  if (sFail === 0) sFail = pos + n;
}

/**
 * Decodes one instruction from bytes[offset .. end) into `out` and returns out.status.
 * `end` is the first byte that is not available (e.g. the end of the mapped page); if the
 * instruction continues past it, status is NeedMore and out.need says how many more bytes at least.
 */
export function decodeInto(out: Insn, bytes: Uint8Array, offset: number, end: number, mode: number): number {
  if (end > bytes.length) end = bytes.length;
  sMode = mode;
  sStart = offset;
  sEnd = end;
  sLimit = end < offset + 15 ? end : offset + 15;
  sFail = 0;
  forceInvalid = 0;
  out.mode = mode;
  out.need = 0;
  out.modrm = -1;
  out.segPrefix = -1;
  out.segment = -1;
  out.prefixes = 0;
  out.lock = 0;
  out.rep = Rep.None;
  out.rex = 0;
  out.encoding = Encoding.Legacy;
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
  out.mnemonic = Mnemonic.INVALID;

  // ---- Prefixes (SDM 2.1.1) ----
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
    if (pos >= sLimit) return finishShort(out, pos, 1);
    b = bytes[pos]!;
    switch (b) {
      case 0x26: seg = 0; break;
      case 0x2e: seg = 1; break;
      case 0x36: seg = 2; break;
      case 0x3e: seg = 3; break;
      case 0x64: seg = 4; segFsGs = 4; break;
      case 0x65: seg = 5; segFsGs = 5; break;
      case 0x66: opsizePfx = 1; break;
      case 0x67: adsizePfx = 1; break;
      case 0xf0: lock = 1; break;
      case 0xf2: lastRep = 0xf2; break;
      case 0xf3: lastRep = 0xf3; break;
      default:
        if (mode === 64 && (b & 0xf0) === 0x40) {
          rex = b;
          pos++;
          continue;
        }
        break;
    }
    if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e || b === 0x64 || b === 0x65 || b === 0x66 ||
      b === 0x67 || b === 0xf0 || b === 0xf2 || b === 0xf3) {
      rex = 0; // a REX followed by a legacy prefix is ignored (SDM 2.2.1)
      pos++;
      continue;
    }
    break;
  }
  if (mode === 64 && segFsGs >= 0) seg = segFsGs;
  sRex = rex;
  out.rex = rex;
  out.lock = lock;
  out.segPrefix = seg;
  out.rep = lastRep === 0xf3 ? Rep.Rep : lastRep === 0xf2 ? Rep.Repne : Rep.None;
  let pfx = 0;
  if (opsizePfx) pfx |= PFX_OPSIZE;
  if (adsizePfx) pfx |= PFX_ADSIZE;
  if (lock) pfx |= PFX_LOCK;
  if (lastRep === 0xf3) pfx |= PFX_REP;
  if (lastRep === 0xf2) pfx |= PFX_REPNE;
  if (seg >= 0) pfx |= PFX_SEG;
  if (rex) pfx |= PFX_REX;
  out.prefixes = pfx;

  // Address size (SDM Vol. 1 3.6, Table 3-4).
  let asz: number;
  if (mode === 64) asz = adsizePfx ? 32 : 64;
  else if (mode === 32) asz = adsizePfx ? 16 : 32;
  else asz = adsizePfx ? 32 : 16;
  sAsz = asz;
  out.addrSize = asz;
  // Mandatory-prefix selector: last F2/F3, else 66 (SDM 2.1.2 / A.3).
  const pp = lastRep === 0xf3 ? 2 : lastRep === 0xf2 ? 3 : opsizePfx ? 1 : 0;

  // ---- Opcode and escapes ----
  let map = 0;
  b = bytes[pos]!;
  pos++;
  if (b === 0x0f) {
    if (pos >= sLimit) return finishShort(out, pos, 1);
    b = bytes[pos++]!;
    map = 1;
    if (b === 0x38 || b === 0x3a) {
      map = b === 0x38 ? 2 : 3;
      if (pos >= sLimit) return finishShort(out, pos, 1);
      b = bytes[pos++]!;
    }
  } else if (b === 0xc4 || b === 0xc5 || b === 0x62 || b === 0x8f) {
    // VEX (C4/C5), EVEX (62), XOP (8F): in 16/32-bit mode only when the next byte's mod is 11b
    // (otherwise LES/LDS/BOUND); XOP only when its map field is >= 8 (otherwise POP Ev).
    if (pos >= sLimit) return finishShort(out, pos, 1);
    const nb = bytes[pos]!;
    const isEsc = b === 0x8f ? (nb & 0x1f) >= 8 : (mode === 64 || (nb & 0xc0) === 0xc0);
    if (isEsc) {
      return decodeVex(out, bytes, pos, b, (opsizePfx | lock | rex) !== 0 || lastRep !== 0, asz);
    }
  }
  out.op = (map << 8) | b;
  const key = (map << 8) | b;

  // ---- ModRM, SIB, displacement ----
  let modrm = -1;
  if (HAS_MODRM[key] === 1) {
    if (pos >= sLimit) return finishShort(out, pos, 1);
    modrm = bytes[pos++]!;
    out.modrm = modrm;
    // MOV to/from CR/DR (0F 20-23) ignore ModRM.mod: always the register form (SDM Vol. 2 MOV CRn note).
    if (map === 1 && b >= 0x20 && b <= 0x23) modrm |= 0xc0;
  }
  sModrm = modrm;

  // ---- Walk the decode tree ----
  let node: Node = LEGACY_TREES[key]!;
  const w = (rex >> 3) & 1;
  let osz = 0;
  while (node.kind !== N_LEAF) {
    switch (node.kind) {
      case N_MODE: node = node.children[mode === 64 ? 1 : 0]!; break;
      case N_PP: node = node.children[pp]!; break;
      case N_MOD: node = node.children[modrm >= 0xc0 ? 1 : 0]!; break;
      case N_REG: node = node.children[(modrm >> 3) & 7]!; break;
      case N_RM: node = node.children[modrm & 7]!; break;
      case N_W: node = node.children[w]!; break;
      case N_B: node = node.children[rex & 1]!; break;
      case N_OSZ:
        osz = operandSize(node.flags, opsizePfx, w, mode);
        node = node.children[osz === 16 ? 0 : osz === 32 ? 1 : 2]!;
        break;
      case N_ASZ: node = node.children[asz === 16 ? 0 : asz === 32 ? 1 : 2]!; break;
    }
  }
  const row: Row | null = node.row;
  osz = operandSize(row === null ? 0 : row.flags, opsizePfx, w, mode);
  sOsz = osz;
  out.opSize = osz;
  out.pp = pp;

  // Memory operand bytes are part of the length whatever the row says.
  if (modrm >= 0 && modrm < 0xc0) {
    pos = decodeMem(out, bytes, pos, modrm, asz, rex, mode);
  }
  if (row === null) {
    if (sFail !== 0) return finishShort(out, sFail, 0);
    return invalid(out, pos);
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
  if (n > 0) pos = operand(out, 0, row.op0, bytes, pos, b);
  if (n > 1) pos = operand(out, 1, row.op1, bytes, pos, b);
  if (n > 2) pos = operand(out, 2, row.op2, bytes, pos, b);
  if (n > 3) pos = operand(out, 3, row.op3, bytes, pos, b);
  if (sFail !== 0) return finishShort(out, sFail, 0);

  // ---- Validity ----
  if (forceInvalid !== 0) return invalid(out, pos);
  if (lock !== 0 && ((row.flags & F_LOCK) === 0 || modrm >= 0xc0 || modrm < 0)) return invalid(out, pos);
  if (out.segment < 0 && (out.opKind0 === OpKind.Mem || out.opKind1 === OpKind.Mem || out.opKind2 === OpKind.Mem)) {
    out.segment = 3;
  }
  out.length = pos - offset;
  out.status = DecodeStatus.Ok;
  return DecodeStatus.Ok;
}

/**
 * VEX (C4/C5, SDM 2.3), EVEX (62, SDM 2.6) and XOP (8F) encodings: decoded to their exact length
 * and validity; the operation is reported as Mnemonic.VexUnsupported (the CPU model has no AVX).
 * `pos` is the byte after the escape byte `esc`.
 */
function decodeVex(out: Insn, bytes: Uint8Array, pos: number, esc: number, badPrefix: boolean, asz: number): number {
  let map: number;
  let pp: number;
  let l: number;
  let w = 0;
  let vvvv: number;
  let rxb: number;
  let kind: number;
  let evexOk = true;
  if (esc === 0xc5) {
    if (pos >= sLimit) return finishShort(out, pos, 1);
    const p0 = bytes[pos++]!;
    rxb = (~p0 >> 5) & 4; // R only
    vvvv = (~p0 >> 3) & 15;
    l = (p0 >> 2) & 1;
    pp = p0 & 3;
    map = 1;
    kind = Encoding.Vex;
  } else if (esc === 0xc4 || esc === 0x8f) {
    if (pos + 2 > sLimit) return finishShort(out, pos, 2);
    const p0 = bytes[pos++]!;
    const p1 = bytes[pos++]!;
    rxb = (~p0 >> 5) & 7;
    map = p0 & 0x1f;
    w = p1 >> 7;
    vvvv = (~p1 >> 3) & 15;
    l = (p1 >> 2) & 1;
    pp = p1 & 3;
    kind = esc === 0xc4 ? Encoding.Vex : Encoding.Xop;
  } else {
    if (pos + 3 > sLimit) return finishShort(out, pos, 3);
    const p0 = bytes[pos++]!;
    const p1 = bytes[pos++]!;
    const p2 = bytes[pos++]!;
    rxb = (~p0 >> 5) & 7;
    map = p0 & 7;
    if ((p0 & 8) !== 0 || (p1 & 4) === 0) evexOk = false; // reserved bits (SDM 2.6.1)
    w = p1 >> 7;
    vvvv = ((~p1 >> 3) & 15) | ((~p2 & 8) << 1);
    l = (p2 >> 5) & 3;
    pp = p1 & 3;
    out.evexZ = p2 >> 7;
    out.evexB = (p2 >> 4) & 1;
    out.evexAaa = p2 & 7;
    kind = Encoding.Evex;
  }
  out.encoding = kind;
  out.vexL = l; out.vexW = w; out.vexV = vvvv; out.pp = pp;
  if (pos >= sLimit) return finishShort(out, pos, 1);
  const opcode = bytes[pos++]!;
  out.op = (map << 8) | opcode;
  const info = vexInfo(kind, map, opcode);
  // Outside 64-bit mode VEX.R/X/B and vvvv[3] are ignored (SDM 2.3.5, 2.3.6).
  const vvvvAll1 = vvvv === 0;
  if (sMode !== 64) { rxb = 0; vvvv &= 7; }
  sRex = rxb | (sMode === 64 && w ? 8 : 0);
  sVvvv = vvvv;
  let modrm = -1;
  if ((info & VEX_NO_MODRM) === 0) {
    if (pos >= sLimit) return finishShort(out, pos, 1);
    modrm = bytes[pos++]!;
    out.modrm = modrm;
    if (modrm < 0xc0) pos = decodeMem(out, bytes, pos, modrm, asz, rxb, sMode);
  }
  sModrm = modrm;
  const immPos = pos;
  if ((info & VEX_IMM8) !== 0) pos += 1;
  if (pos > sLimit) short(immPos, 1);
  if (sFail !== 0) return finishShort(out, sFail, 0);
  // XOP is AMD-only: on this (Intel) model 8F with a map >= 8 is POP Ev with reg != 0, #UD.
  if (badPrefix || !evexOk || kind === Encoding.Xop || (info & VEX_VALID) === 0) return invalid(out, pos);
  out.mnemonic = Mnemonic.VexUnsupported;
  if (kind === Encoding.Vex) {
    const row = findVexRow(map, opcode, pp, l, w, modrm, vvvvAll1, sMode, asz === 16, rxb, vvvv);
    if (row === null) return invalid(out, pos);
    if (row.mnemonic !== Mnemonic.VexUnsupported) {
      // A VEX-encoded instruction of the CPU model (BMI1/BMI2): full operands.
      sOsz = sMode === 64 && w ? 64 : 32;
      out.opSize = sOsz;
      out.mnemonic = row.mnemonic;
      out.opCount = row.opCount;
      let p2 = immPos;
      if (row.opCount > 0) p2 = operand(out, 0, row.op0, bytes, p2, opcode);
      if (row.opCount > 1) p2 = operand(out, 1, row.op1, bytes, p2, opcode);
      if (row.opCount > 2) p2 = operand(out, 2, row.op2, bytes, p2, opcode);
      if (out.segment < 0 && modrm >= 0 && modrm < 0xc0) out.segment = 3;
    }
  }
  out.length = pos - sStart;
  out.status = DecodeStatus.Ok;
  return DecodeStatus.Ok;
}

/** Effective operand size (SDM Vol. 1 3.6.1, Vol. 2 2.2.1.2 and Table A-1 d64/f64). */
function operandSize(flags: number, opsizePfx: number, w: number, mode: number): number {
  // A 66 that is the row's mandatory prefix is not an operand-size prefix.
  const o = opsizePfx !== 0 && ((flags & F_PP66) === 0 || (flags & F_O66) !== 0);
  if (mode === 64) {
    if ((flags & F_F64) !== 0) return 64;
    if (w) return 64;
    if ((flags & F_D64) !== 0) return o ? 16 : 64;
    return o ? 16 : 32;
  }
  if (mode === 32) return o ? 16 : 32;
  return o ? 32 : 16;
}

function finishShort(out: Insn, pos: number, n: number): number {
  // We needed bytes [pos, pos + n). Past the 15-byte limit it is #GP, else NeedMore.
  const needEnd = pos + n;
  if (needEnd > sStart + 15) {
    out.status = DecodeStatus.TooLong;
    out.length = 15;
    out.need = 0;
    return DecodeStatus.TooLong;
  }
  out.status = DecodeStatus.NeedMore;
  out.need = needEnd - sEnd;
  if (out.need < 1) out.need = 1;
  out.length = sEnd - sStart;
  return DecodeStatus.NeedMore;
}

function invalid(out: Insn, pos: number): number {
  out.status = DecodeStatus.Invalid;
  out.mnemonic = Mnemonic.INVALID;
  out.length = pos - sStart;
  return DecodeStatus.Invalid;
}

/** Little-endian reads with the availability check; on a short read they record sFail and return 0. */
function rd8(bytes: Uint8Array, pos: number): number {
  if (pos + 1 > sLimit) { short(pos, 1); return 0; }
  return bytes[pos]!;
}
function rd16(bytes: Uint8Array, pos: number): number {
  if (pos + 2 > sLimit) { short(pos, 2); return 0; }
  return bytes[pos]! | (bytes[pos + 1]! << 8);
}
function rd32(bytes: Uint8Array, pos: number): number {
  if (pos + 4 > sLimit) { short(pos, 4); return 0; }
  return (bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16) | (bytes[pos + 3]! << 24)) >>> 0;
}

/** Decodes the memory form of ModRM (mod != 11b) with SIB and displacement; returns the new position. */
function decodeMem(out: Insn, bytes: Uint8Array, pos: number, modrm: number, asz: number, rex: number, mode: number): number {
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
      disp = (rd16(bytes, pos) << 16) >> 16;
      pos += 2;
    } else if (mod === 1) {
      disp = (rd8(bytes, pos) << 24) >> 24;
      pos += 1;
    } else if (mod === 2) {
      disp = (rd16(bytes, pos) << 16) >> 16;
      pos += 2;
    }
    out.memBase = base < 0 ? 0 : (RegClass.Gpr16 << 5) | base;
    out.memIndex = index < 0 ? 0 : (RegClass.Gpr16 << 5) | index;
    out.memScale = 1;
    out.memDisp = disp >>> 0;
    out.memDispHi = disp < 0 ? 0xffffffff : 0;
    out.segment = out.segPrefix >= 0 ? out.segPrefix : ss ? 2 : 3;
    return pos;
  }
  const cls = asz === 64 ? RegClass.Gpr64 : RegClass.Gpr32;
  let base = -1;
  let index = -1;
  let scale = 1;
  let ssDefault = false;
  if (rm === 4) {
    // SIB (SDM Table 2-3).
    const sib = rd8(bytes, pos);
    pos++;
    const sbase = (sib & 7) | ((rex & 1) << 3);
    const sindex = ((sib >> 3) & 7) | ((rex & 2) << 2);
    scale = 1 << (sib >> 6);
    if (sindex !== 4) index = sindex;
    if ((sib & 7) === 5 && mod === 0) {
      base = -1;
      disp = rd32(bytes, pos) | 0;
      pos += 4;
    } else {
      base = sbase;
      if (sbase === 4 || sbase === 5) ssDefault = true;
    }
  } else if (rm === 5 && mod === 0) {
    disp = rd32(bytes, pos) | 0;
    pos += 4;
    if (mode === 64) {
      // RIP-relative (SDM 2.2.1.6); EIP-relative with a 67 prefix.
      out.ripRelative = 1;
      out.memBase = asz === 64 ? (RegClass.Ip << 5) : (RegClass.Ip << 5) | 1;
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
    disp = (rd8(bytes, pos) << 24) >> 24;
    pos += 1;
  } else if (mod === 2) {
    disp = rd32(bytes, pos) | 0;
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

/** Size code -> bytes for the current operand/address size and mode. */
function bytesOf(code: number): number {
  switch (code) {
    case S_0: return 0;
    case S_B: return 1;
    case S_W: return 2;
    case S_D: return 4;
    case S_Q: return 8;
    case S_V: return sOsz >> 3;
    case S_Z: return sOsz === 16 ? 2 : 4;
    case S_Y: return sOsz === 64 ? 8 : 4;
    case S_DQ: return 16;
    case S_N: return sMode === 64 ? 8 : 4;
    case S_P: return 2 + (sOsz >> 3);
    case S_S: return sMode === 64 ? 10 : 6;
    case S_T: return 10;
    case S_E: return sOsz === 16 ? 14 : 28;
    case S_ST: return sOsz === 16 ? 94 : 108;
    case S_FX: return 512;
    case S_A: return sOsz >> 2;
  }
  return 0;
}

/** A GPR id of `size` bytes and number `n`, honouring the legacy AH..BH rule for bytes without REX. */
function gpr(size: number, n: number): number {
  if (size === 1 && sRex === 0 && n >= 4 && n < 8) return (RegClass.Gpr8High << 5) | (n - 4);
  return (GPR_CLASS_BY_BYTES[size]! << 5) | n;
}

function setOp(out: Insn, i: number, kind: number, reg: number): void {
  switch (i) {
    case 0: out.opKind0 = kind; out.reg0 = reg; break;
    case 1: out.opKind1 = kind; out.reg1 = reg; break;
    case 2: out.opKind2 = kind; out.reg2 = reg; break;
    default: out.opKind3 = kind; out.reg3 = reg; break;
  }
}

/** Decodes operand i from its packed spec; returns the new position (immediates advance it). */
function operand(out: Insn, i: number, spec: number, bytes: Uint8Array, pos: number, opcode: number): number {
  const method = spec & 63;
  const rsz = (spec >> 6) & 31;
  const msz = (spec >> 11) & 31;
  const modrm = sModrm;
  const regf = ((modrm >> 3) & 7) | ((sRex & 4) << 1);
  const rmf = (modrm & 7) | ((sRex & 1) << 3);
  switch (method) {
    case A_E:
    case A_W:
    case A_Q:
      if (modrm >= 0xc0) {
        const rb = bytesOf(rsz);
        out.operandWidth = rb;
        if (method === A_E) setOp(out, i, OpKind.Reg, gpr(rb, rmf));
        else if (method === A_W) setOp(out, i, OpKind.Reg, (RegClass.Xmm << 5) | rmf);
        else setOp(out, i, OpKind.Reg, (RegClass.Mm << 5) | (modrm & 7));
      } else {
        out.operandWidth = bytesOf(msz);
        setOp(out, i, OpKind.Mem, 0);
      }
      return pos;
    case A_M:
      out.operandWidth = bytesOf(msz);
      setOp(out, i, OpKind.Mem, 0);
      return pos;
    case A_R:
      out.operandWidth = bytesOf(rsz);
      setOp(out, i, OpKind.Reg, gpr(bytesOf(rsz), rmf));
      return pos;
    case A_U:
      out.operandWidth = 16;
      setOp(out, i, OpKind.Reg, (RegClass.Xmm << 5) | rmf);
      return pos;
    case A_N:
      out.operandWidth = 8;
      setOp(out, i, OpKind.Reg, (RegClass.Mm << 5) | (modrm & 7));
      return pos;
    case A_G:
      setOp(out, i, OpKind.Reg, gpr(bytesOf(rsz), regf));
      return pos;
    case A_V:
      setOp(out, i, OpKind.Reg, (RegClass.Xmm << 5) | regf);
      return pos;
    case A_B:
      setOp(out, i, OpKind.Reg, gpr(bytesOf(rsz), sVvvv));
      return pos;
    case A_P:
      setOp(out, i, OpKind.Reg, (RegClass.Mm << 5) | ((modrm >> 3) & 7));
      return pos;
    case A_S: {
      const s = (modrm >> 3) & 7;
      if (s > 5 || (s === 1 && i === 0)) forceInvalid = 1; // Sreg 6/7 and MOV CS,r/m are #UD
      setOp(out, i, OpKind.Reg, (RegClass.Seg << 5) | s);
      return pos;
    }
    case A_C: {
      // Valid control registers: CR0, CR2, CR3, CR4, CR8 (SDM Vol. 2 MOV-Move to/from Control Registers).
      if (!(regf === 0 || regf === 2 || regf === 3 || regf === 4 || regf === 8)) forceInvalid = 1;
      setOp(out, i, OpKind.Reg, (RegClass.Cr << 5) | regf);
      return pos;
    }
    case A_D:
      if (regf > 7) forceInvalid = 1;
      setOp(out, i, OpKind.Reg, (RegClass.Dr << 5) | regf);
      return pos;
    case A_STI:
      setOp(out, i, OpKind.Reg, (RegClass.St << 5) | (modrm & 7));
      return pos;
    case A_Z: {
      const sz = bytesOf(rsz);
      setOp(out, i, OpKind.Reg, gpr(sz, (opcode & 7) | ((sRex & 1) << 3)));
      return pos;
    }
    case A_FIX:
      setOp(out, i, OpKind.Reg, spec >>> 16);
      return pos;
    case A_ACC:
      setOp(out, i, OpKind.Reg, gpr(bytesOf(rsz), 0));
      return pos;
    case A_ONE:
      setOp(out, i, OpKind.Imm8, 0);
      out.imm = 1;
      out.immHi = 0;
      return pos;
    case A_I: {
      const sz = bytesOf(rsz);
      if (sz === 1) {
        setOp(out, i, OpKind.Imm8, 0);
        out.imm = rd8(bytes, pos);
        out.immHi = 0;
        return pos + 1;
      }
      if (sz === 2) {
        setOp(out, i, OpKind.Imm16, 0);
        out.imm = rd16(bytes, pos);
        out.immHi = 0;
        return pos + 2;
      }
      if (sz === 8) {
        if (rsz === S_V) {
          // MOV r64, imm64 (B8+r with REX.W): the only 8-byte immediate.
          setOp(out, i, OpKind.Imm64, 0);
          out.imm = rd32(bytes, pos);
          out.immHi = rd32(bytes, pos + 4);
          return pos + 8;
        }
      }
      // Iz: 4 bytes; with 64-bit operand size sign-extended to 64 (SDM 2.2.1.5).
      const v = rd32(bytes, pos);
      if (sOsz === 64) {
        setOp(out, i, OpKind.Imm32Sx, 0);
        out.imm = v;
        out.immHi = (v | 0) < 0 ? 0xffffffff : 0;
      } else {
        setOp(out, i, OpKind.Imm32, 0);
        out.imm = v;
        out.immHi = 0;
      }
      return pos + 4;
    }
    case A_IBS: {
      const v = (rd8(bytes, pos) << 24) >> 24;
      setOp(out, i, OpKind.Imm8Sx, 0);
      out.imm = v >>> 0;
      out.immHi = v < 0 ? 0xffffffff : 0;
      return pos + 1;
    }
    case A_IB2:
      setOp(out, i, OpKind.Imm8_2, 0);
      out.imm2 = rd8(bytes, pos);
      return pos + 1;
    case A_J: {
      let v: number;
      if (rsz === S_B) { v = (rd8(bytes, pos) << 24) >> 24; pos += 1; }
      else if (sOsz === 16 && sMode !== 64) { v = (rd16(bytes, pos) << 16) >> 16; pos += 2; }
      else { v = rd32(bytes, pos) | 0; pos += 4; }
      setOp(out, i, OpKind.Rel, 0);
      out.imm = v >>> 0;
      out.immHi = v < 0 ? 0xffffffff : 0;
      return pos;
    }
    case A_A: {
      // ptr16:16 / ptr16:32: offset then selector.
      setOp(out, i, OpKind.FarPtr, 0);
      if (sOsz === 16) { out.imm = rd16(bytes, pos); pos += 2; }
      else { out.imm = rd32(bytes, pos); pos += 4; }
      out.imm2 = rd16(bytes, pos);
      return pos + 2;
    }
    case A_O: {
      // moffs: an address-size offset, no ModRM (SDM 2.2.1.4).
      out.operandWidth = bytesOf(rsz);
      setOp(out, i, OpKind.Mem, 0);
      out.memBase = 0; out.memIndex = 0; out.memScale = 1;
      if (sAsz === 64) { out.memDisp = rd32(bytes, pos); out.memDispHi = rd32(bytes, pos + 4); pos += 8; }
      else if (sAsz === 32) { out.memDisp = rd32(bytes, pos); out.memDispHi = 0; pos += 4; }
      else { out.memDisp = rd16(bytes, pos); out.memDispHi = 0; pos += 2; }
      out.segment = out.segPrefix >= 0 ? out.segPrefix : 3;
      return pos;
    }
    case A_X:
      out.operandWidth = bytesOf(rsz);
      setOp(out, i, OpKind.StrSrc, 0);
      out.segment = out.segPrefix >= 0 ? out.segPrefix : 3;
      return pos;
    case A_Y:
      out.operandWidth = bytesOf(rsz);
      setOp(out, i, OpKind.StrDst, 0);
      if (out.segment < 0) out.segment = 0;
      return pos;
    case A_XDI:
      setOp(out, i, OpKind.StrSrcDi, 0);
      out.segment = out.segPrefix >= 0 ? out.segPrefix : 3;
      return pos;
    case A_XLAT: {
      out.operandWidth = 1;
      setOp(out, i, OpKind.Mem, 0);
      const cls = sAsz === 64 ? RegClass.Gpr64 : sAsz === 32 ? RegClass.Gpr32 : RegClass.Gpr16;
      out.memBase = (cls << 5) | 3;
      out.memIndex = RegClass.Gpr8 << 5; // AL
      out.memScale = 1;
      out.segment = out.segPrefix >= 0 ? out.segPrefix : 3;
      return pos;
    }
  }
  return pos;
}

let forceInvalid = 0;

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
