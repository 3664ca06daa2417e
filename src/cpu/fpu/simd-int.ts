/**
 * MMX and SSE integer, move, logic and shuffle instructions, SSSE3, SSE4.1/4.2 integer, CRC32.
 *
 * Spec: SDM Vol. 2 instruction pages (Operation sections), Vol. 1 ch. 9 (MMX), 10-12 (SSE..SSE4.2).
 * Availability checks, alignment and the MMX state transition are done by the dispatcher (simd.ts).
 *
 * Representation: an XMM register is 4 uint32 slots (lowest dword first, S_XMM), an MMX register the
 * two significand slots of the x87 register Ri (S_FPR). An instruction loads its destination into the
 * scratch A and its source into B, computes R, and writes R back only when everything that can fault
 * has been done. The scratch arrays are viewed as bytes/words through typed arrays: lanes are in
 * little-endian order, as on every platform JavaScript runs on (checked below).
 */
import type { DI } from '../block.js';
import { Mnemonic, OpKind } from '../decoder/insn.js';
import { CF, OF, PF, AF, SF, ZF, S_FPR, S_FSW, S_FTW, S_XMM } from '../state.js';
import { setStatus } from '../flags.js';
import { C_FAULT, C_NEXT, V_UD, type FpuCpu } from './cpu.js';
import { loadMem, storeMem } from './mem.js';
import { pcmpStr } from './simd-str.js';

const RC_GPR8 = 1, RC_GPR8H = 2, RC_GPR16 = 3, RC_GPR32 = 4, RC_GPR64 = 5, RC_MM = 10, RC_XMM = 11;

// ---- scratch registers (module level: no allocation per instruction) ----
const A = new Uint32Array(4), B = new Uint32Array(4), R = new Uint32Array(4), X0 = new Uint32Array(4);
const A8 = new Uint8Array(A.buffer), B8 = new Uint8Array(B.buffer), R8 = new Uint8Array(R.buffer);
const X08 = new Uint8Array(X0.buffer);
const As8 = new Int8Array(A.buffer), Bs8 = new Int8Array(B.buffer), Rs8 = new Int8Array(R.buffer);
const A16 = new Uint16Array(A.buffer), B16 = new Uint16Array(B.buffer), R16 = new Uint16Array(R.buffer);
const As16 = new Int16Array(A.buffer), Bs16 = new Int16Array(B.buffer), Rs16 = new Int16Array(R.buffer);
const As32 = new Int32Array(A.buffer), Bs32 = new Int32Array(B.buffer), Rs32 = new Int32Array(R.buffer);
/** Two blocks of 32 bytes for PALIGNR and the byte shifts. */
const W = new Uint32Array(8);
const W8 = new Uint8Array(W.buffer);

{
  const t = new Uint32Array([0x04030201]);
  if (new Uint8Array(t.buffer)[0] !== 1) throw new Error('simd-int: a little-endian host is required');
}

/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) tables (SDM Vol. 2 CRC32): CRC_T[0..255] the
 * byte table, CRC_T[256 * j + n] the CRC of byte n followed by j zero bytes ("slicing by 4": a dword
 * in one step of four lookups).
 */
const CRC_T = new Uint32Array(1024);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC_T[n] = c >>> 0;
}
for (let n = 0; n < 256; n++) {
  for (let j = 1; j < 4; j++) {
    const p = CRC_T[256 * (j - 1) + n]!;
    CRC_T[256 * j + n] = (p >>> 8) ^ CRC_T[p & 0xff]!;
  }
}

/** CRC-32C of the dword v (little-endian byte order) onto c. */
function crcDword(c: number, v: number): number {
  c ^= v;
  return (CRC_T[768 + (c & 0xff)]! ^ CRC_T[512 + ((c >>> 8) & 0xff)]! ^ CRC_T[256 + ((c >>> 16) & 0xff)]! ^ CRC_T[c >>> 24]!) >>> 0;
}

/**
 * Local operation ids. V8 compiles a switch over literal integers into a jump table, while `case
 * Mnemonic.X` (a property of another module's enum object) is a chain of loads and compares; and tsc
 * with isolatedModules emits const enums as objects, so even a local const enum would not help in the
 * built library. So the cases below are literal ids with the mnemonic's name in a comment: id = 1 +
 * the mnemonic's index in K_MNEMONICS (test/cpu/fpu/simd-kind.test.ts checks every id against its comment).
 */
const K_MNEMONICS: readonly number[] = [
  Mnemonic.Emms, // 1
  Mnemonic.Movd, // 2
  Mnemonic.Movq, // 3
  Mnemonic.Movq2dq, // 4
  Mnemonic.Movdq2q, // 5
  Mnemonic.Movups, // 6
  Mnemonic.Movupd, // 7
  Mnemonic.Movaps, // 8
  Mnemonic.Movapd, // 9
  Mnemonic.Movdqa, // 10
  Mnemonic.Movdqu, // 11
  Mnemonic.Lddqu, // 12
  Mnemonic.Movntdqa, // 13
  Mnemonic.Movntps, // 14
  Mnemonic.Movntpd, // 15
  Mnemonic.Movntdq, // 16
  Mnemonic.Movntq, // 17
  Mnemonic.Movnti, // 18
  Mnemonic.Movss, // 19
  Mnemonic.Movsd, // 20
  Mnemonic.Movlps, // 21
  Mnemonic.Movlpd, // 22
  Mnemonic.Movhps, // 23
  Mnemonic.Movhpd, // 24
  Mnemonic.Movhlps, // 25
  Mnemonic.Movlhps, // 26
  Mnemonic.Movddup, // 27
  Mnemonic.Movsldup, // 28
  Mnemonic.Movshdup, // 29
  Mnemonic.Movmskps, // 30
  Mnemonic.Movmskpd, // 31
  Mnemonic.Pmovmskb, // 32
  Mnemonic.Maskmovq, // 33
  Mnemonic.Maskmovdqu, // 34
  Mnemonic.Pextrb, // 35
  Mnemonic.Pextrw, // 36
  Mnemonic.Pextrd, // 37
  Mnemonic.Pextrq, // 38
  Mnemonic.Extractps, // 39
  Mnemonic.Crc32, // 40
  Mnemonic.Ptest, // 41
  Mnemonic.Pcmpestri, // 42
  Mnemonic.Pcmpestri64, // 43
  Mnemonic.Pcmpestrm, // 44
  Mnemonic.Pcmpestrm64, // 45
  Mnemonic.Pcmpistri, // 46
  Mnemonic.Pcmpistrm, // 47
  Mnemonic.Pand, // 48
  Mnemonic.Andps, // 49
  Mnemonic.Andpd, // 50
  Mnemonic.Pandn, // 51
  Mnemonic.Andnps, // 52
  Mnemonic.Andnpd, // 53
  Mnemonic.Por, // 54
  Mnemonic.Orps, // 55
  Mnemonic.Orpd, // 56
  Mnemonic.Pxor, // 57
  Mnemonic.Xorps, // 58
  Mnemonic.Xorpd, // 59
  Mnemonic.Paddb, // 60
  Mnemonic.Paddw, // 61
  Mnemonic.Paddd, // 62
  Mnemonic.Paddq, // 63
  Mnemonic.Psubb, // 64
  Mnemonic.Psubw, // 65
  Mnemonic.Psubd, // 66
  Mnemonic.Psubq, // 67
  Mnemonic.Paddsb, // 68
  Mnemonic.Paddsw, // 69
  Mnemonic.Psubsb, // 70
  Mnemonic.Psubsw, // 71
  Mnemonic.Paddusb, // 72
  Mnemonic.Paddusw, // 73
  Mnemonic.Psubusb, // 74
  Mnemonic.Psubusw, // 75
  Mnemonic.Pmullw, // 76
  Mnemonic.Pmulhw, // 77
  Mnemonic.Pmulhuw, // 78
  Mnemonic.Pmulhrsw, // 79
  Mnemonic.Pmulld, // 80
  Mnemonic.Pmuludq, // 81
  Mnemonic.Pmuldq, // 82
  Mnemonic.Pmaddwd, // 83
  Mnemonic.Pmaddubsw, // 84
  Mnemonic.Pavgb, // 85
  Mnemonic.Pavgw, // 86
  Mnemonic.Psadbw, // 87
  Mnemonic.Pminub, // 88
  Mnemonic.Pmaxub, // 89
  Mnemonic.Pminsb, // 90
  Mnemonic.Pmaxsb, // 91
  Mnemonic.Pminsw, // 92
  Mnemonic.Pmaxsw, // 93
  Mnemonic.Pminuw, // 94
  Mnemonic.Pmaxuw, // 95
  Mnemonic.Pminsd, // 96
  Mnemonic.Pmaxsd, // 97
  Mnemonic.Pminud, // 98
  Mnemonic.Pmaxud, // 99
  Mnemonic.Pcmpeqb, // 100
  Mnemonic.Pcmpeqw, // 101
  Mnemonic.Pcmpeqd, // 102
  Mnemonic.Pcmpeqq, // 103
  Mnemonic.Pcmpgtb, // 104
  Mnemonic.Pcmpgtw, // 105
  Mnemonic.Pcmpgtd, // 106
  Mnemonic.Pcmpgtq, // 107
  Mnemonic.Packsswb, // 108
  Mnemonic.Packuswb, // 109
  Mnemonic.Packssdw, // 110
  Mnemonic.Packusdw, // 111
  Mnemonic.Punpcklbw, // 112
  Mnemonic.Punpckhbw, // 113
  Mnemonic.Punpcklwd, // 114
  Mnemonic.Punpckhwd, // 115
  Mnemonic.Punpckldq, // 116
  Mnemonic.Punpckhdq, // 117
  Mnemonic.Unpcklps, // 118
  Mnemonic.Unpckhps, // 119
  Mnemonic.Punpcklqdq, // 120
  Mnemonic.Unpcklpd, // 121
  Mnemonic.Punpckhqdq, // 122
  Mnemonic.Unpckhpd, // 123
  Mnemonic.Psllw, // 124
  Mnemonic.Psrlw, // 125
  Mnemonic.Psraw, // 126
  Mnemonic.Pslld, // 127
  Mnemonic.Psrld, // 128
  Mnemonic.Psrad, // 129
  Mnemonic.Psllq, // 130
  Mnemonic.Psrlq, // 131
  Mnemonic.Pslldq, // 132
  Mnemonic.Psrldq, // 133
  Mnemonic.Pshufw, // 134
  Mnemonic.Pshufd, // 135
  Mnemonic.Pshuflw, // 136
  Mnemonic.Pshufhw, // 137
  Mnemonic.Shufps, // 138
  Mnemonic.Shufpd, // 139
  Mnemonic.Pshufb, // 140
  Mnemonic.Palignr, // 141
  Mnemonic.Blendps, // 142
  Mnemonic.Blendpd, // 143
  Mnemonic.Pblendw, // 144
  Mnemonic.Blendvps, // 145
  Mnemonic.Blendvpd, // 146
  Mnemonic.Pblendvb, // 147
  Mnemonic.Insertps, // 148
  Mnemonic.Pinsrb, // 149
  Mnemonic.Pinsrw, // 150
  Mnemonic.Pinsrd, // 151
  Mnemonic.Pinsrq, // 152
  Mnemonic.Phaddw, // 153
  Mnemonic.Phsubw, // 154
  Mnemonic.Phaddsw, // 155
  Mnemonic.Phsubsw, // 156
  Mnemonic.Phaddd, // 157
  Mnemonic.Phsubd, // 158
  Mnemonic.Psignb, // 159
  Mnemonic.Psignw, // 160
  Mnemonic.Psignd, // 161
  Mnemonic.Pabsb, // 162
  Mnemonic.Pabsw, // 163
  Mnemonic.Pabsd, // 164
  Mnemonic.Pmovsxbw, // 165
  Mnemonic.Pmovsxbd, // 166
  Mnemonic.Pmovsxbq, // 167
  Mnemonic.Pmovsxwd, // 168
  Mnemonic.Pmovsxwq, // 169
  Mnemonic.Pmovsxdq, // 170
  Mnemonic.Pmovzxbw, // 171
  Mnemonic.Pmovzxbd, // 172
  Mnemonic.Pmovzxbq, // 173
  Mnemonic.Pmovzxwd, // 174
  Mnemonic.Pmovzxwq, // 175
  Mnemonic.Pmovzxdq, // 176
  Mnemonic.Phminposuw, // 177
  Mnemonic.Mpsadbw, // 178
];
const KIND = new Uint8Array(Mnemonic.VexUnsupported + 1);
for (let k = 0; k < K_MNEMONICS.length; k++) KIND[K_MNEMONICS[k]!] = k + 1;

/** The local operation id of a mnemonic (0: not executed here). For the consistency test. */
export function simdIntKind(m: number): number {
  return KIND[m] ?? 0;
}

function opKind(d: DI, k: number): number {
  const i = d.i;
  return k === 0 ? i.opKind0 : k === 1 ? i.opKind1 : k === 2 ? i.opKind2 : i.opKind3;
}
function opReg(d: DI, k: number): number {
  const i = d.i;
  return k === 0 ? i.reg0 : k === 1 ? i.reg1 : k === 2 ? i.reg2 : i.reg3;
}

/** Slot index of an MMX or XMM register id in the register file. */
function regBase(id: number): number {
  return (id >> 5) === RC_XMM ? S_XMM + (id & 15) * 4 : S_FPR + (id & 7) * 4;
}

/** Reads a general register operand: low 32 bits returned; the high half (64-bit) in gHi. */
let gHi = 0;
function readGpr(u: Uint32Array, id: number): number {
  const n = id & 15;
  gHi = 0;
  switch (id >> 5) {
    case RC_GPR8: return u[2 * n]! & 0xff;
    case RC_GPR8H: return (u[2 * n]! >>> 8) & 0xff;
    case RC_GPR16: return u[2 * n]! & 0xffff;
    case RC_GPR32: return u[2 * n]!;
    default: gHi = u[2 * n + 1]!; return u[2 * n]!;
  }
}
/** Writes a 32- or 64-bit general register (a 32-bit write zeroes bits 63:32, SDM Vol. 1 3.4.1.1). */
function writeGpr(u: Uint32Array, id: number, lo: number, hi: number): void {
  const n = id & 15;
  u[2 * n] = lo >>> 0;
  u[2 * n + 1] = (id >> 5) === RC_GPR64 ? hi >>> 0 : 0;
}

/**
 * Loads operand k into `t` (4 dwords): an XMM register (16 bytes), an MMX register (8, upper zero), a
 * general register (its width, zero-extended) or memory (`bytes` bytes, zero-extended). False after
 * a fault.
 */
function load(cpu: FpuCpu, d: DI, k: number, t: Uint32Array, bytes: number): boolean {
  const kind = opKind(d, k);
  const u = cpu.u;
  if (kind === OpKind.Reg) {
    const id = opReg(d, k);
    const c = id >> 5;
    if (c === RC_XMM) {
      const b = S_XMM + (id & 15) * 4;
      t[0] = u[b]!; t[1] = u[b + 1]!; t[2] = u[b + 2]!; t[3] = u[b + 3]!;
    } else if (c === RC_MM) {
      const b = S_FPR + (id & 7) * 4;
      t[0] = u[b]!; t[1] = u[b + 1]!; t[2] = 0; t[3] = 0;
    } else {
      t[0] = readGpr(u, id); t[1] = gHi; t[2] = 0; t[3] = 0;
    }
    return true;
  }
  return loadMem(cpu, t, bytes);
}

/** Writes R (n dwords) into the register at slot base `b`. */
function put(u: Uint32Array, b: number, n: number): void {
  u[b] = R[0]!; u[b + 1] = R[1]!;
  if (n === 4) { u[b + 2] = R[2]!; u[b + 3] = R[3]!; }
}

/** Loads the destination register (operand 0) into A; returns its dword count (2 MMX, 4 XMM). */
function loadDst(u: Uint32Array, id: number): number {
  const b = regBase(id);
  A[0] = u[b]!; A[1] = u[b + 1]!;
  if ((id >> 5) === RC_XMM) { A[2] = u[b + 2]!; A[3] = u[b + 3]!; return 4; }
  A[2] = 0; A[3] = 0;
  return 2;
}

const sat8 = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);
const sat16 = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const satu8 = (v: number): number => (v > 255 ? 255 : v < 0 ? 0 : v);
const satu16 = (v: number): number => (v > 65535 ? 65535 : v < 0 ? 0 : v);

/**
 * Executes one MMX/SSE integer, move or shuffle instruction (or CRC32/MOVNTI). Step code.
 */
export function execSimdInt(cpu: FpuCpu, d: DI): number {
  const i = d.i;
  const u = cpu.u;
  const m = KIND[i.mnemonic]!;
  const w = i.operandWidth;
  switch (m) {
    case 1 /* Emms */:
      // every tag empty and TOP = 0 (Vol. 1 §9.5.1 Table 9-2, EMMS row)
      u[S_FTW] = 0;
      u[S_FSW] = u[S_FSW]! & ~0x3800;
      return C_NEXT;

    // ---------------- moves ----------------
    case 2 /* Movd */:
    case 3 /* Movq */: {
      // every form moves the low `w` bytes (4 or 8) of the source; a register destination is
      // zero-extended (GPR to 32/64 bits, MMX to 64, XMM to 128)
      if (!load(cpu, d, 1, B, w)) return C_FAULT;
      if (w === 4) B[1] = 0;
      B[2] = 0; B[3] = 0;
      if (i.opKind0 === OpKind.Mem) return storeMem(cpu, B, w) ? C_NEXT : C_FAULT;
      const id = i.reg0, c = id >> 5;
      if (c === RC_GPR32 || c === RC_GPR64) { writeGpr(u, id, B[0]!, B[1]!); return C_NEXT; }
      R.set(B);
      put(u, regBase(id), c === RC_XMM ? 4 : 2);
      return C_NEXT;
    }
    case 4 /* Movq2dq */:
      load(cpu, d, 1, R, 8);
      put(u, regBase(i.reg0), 4);
      return C_NEXT;
    case 5 /* Movdq2q */:
      load(cpu, d, 1, R, 16);
      put(u, regBase(i.reg0), 2);
      return C_NEXT;
    case 6 /* Movups */: case 7 /* Movupd */: case 8 /* Movaps */: case 9 /* Movapd */:
    case 10 /* Movdqa */: case 11 /* Movdqu */: case 12 /* Lddqu */: case 13 /* Movntdqa */:
    case 14 /* Movntps */: case 15 /* Movntpd */: case 16 /* Movntdq */: case 17 /* Movntq */:
    case 18 /* Movnti */: {
      if (!load(cpu, d, 1, R, w)) return C_FAULT;
      if (i.opKind0 === OpKind.Mem) return storeMem(cpu, R, w) ? C_NEXT : C_FAULT;
      put(u, regBase(i.reg0), (i.reg0 >> 5) === RC_XMM ? 4 : 2);
      return C_NEXT;
    }
    case 19 /* Movss */:
    case 20 /* Movsd */: {
      // MOVSS/MOVSD xmm, m zero the rest of the register; xmm, xmm merges (SDM MOVSS/MOVSD)
      if (i.opKind0 === OpKind.Mem) {
        load(cpu, d, 1, B, 16);
        return storeMem(cpu, B, w) ? C_NEXT : C_FAULT;
      }
      if (i.opKind1 === OpKind.Mem) {
        if (!loadMem(cpu, R, w)) return C_FAULT;
      } else {
        loadDst(u, i.reg0);
        R.set(A);
        load(cpu, d, 1, B, 16);
        R[0] = B[0]!;
        if (w === 8) R[1] = B[1]!;
      }
      put(u, regBase(i.reg0), 4);
      return C_NEXT;
    }
    case 21 /* Movlps */: case 22 /* Movlpd */: case 23 /* Movhps */: case 24 /* Movhpd */: {
      const high = m === 23 /* Movhps */ || m === 24 /* Movhpd */ ? 2 : 0;
      if (i.opKind0 === OpKind.Mem) {
        load(cpu, d, 1, A, 16);
        B[0] = A[high]!; B[1] = A[high + 1]!;
        return storeMem(cpu, B, 8) ? C_NEXT : C_FAULT;
      }
      if (!load(cpu, d, 1, B, 8)) return C_FAULT;
      loadDst(u, i.reg0);
      R.set(A);
      R[high] = B[0]!; R[high + 1] = B[1]!;
      put(u, regBase(i.reg0), 4);
      return C_NEXT;
    }
    case 25 /* Movhlps */: case 26 /* Movlhps */: {
      loadDst(u, i.reg0);
      load(cpu, d, 1, B, 16);
      R.set(A);
      if (m === 25 /* Movhlps */) { R[0] = B[2]!; R[1] = B[3]!; } else { R[2] = B[0]!; R[3] = B[1]!; }
      put(u, regBase(i.reg0), 4);
      return C_NEXT;
    }
    case 27 /* Movddup */:
      if (!load(cpu, d, 1, B, 8)) return C_FAULT;
      R[0] = B[0]!; R[1] = B[1]!; R[2] = B[0]!; R[3] = B[1]!;
      put(u, regBase(i.reg0), 4);
      return C_NEXT;
    case 28 /* Movsldup */: case 29 /* Movshdup */: {
      if (!load(cpu, d, 1, B, 16)) return C_FAULT;
      const o = m === 29 /* Movshdup */ ? 1 : 0;
      R[0] = B[o]!; R[1] = B[o]!; R[2] = B[2 + o]!; R[3] = B[2 + o]!;
      put(u, regBase(i.reg0), 4);
      return C_NEXT;
    }
    case 30 /* Movmskps */: case 31 /* Movmskpd */: case 32 /* Pmovmskb */: {
      load(cpu, d, 1, B, 16);
      let v = 0;
      if (m === 30 /* Movmskps */) v = (B[0]! >>> 31) | (B[1]! >>> 31) << 1 | (B[2]! >>> 31) << 2 | (B[3]! >>> 31) << 3;
      else if (m === 31 /* Movmskpd */) v = (B[1]! >>> 31) | (B[3]! >>> 31) << 1;
      else {
        // gather the four byte sign bits of each dword into bits 31:28 with one multiply
        const nd = (i.reg1 >> 5) === RC_XMM ? 4 : 2;
        for (let k = 0; k < nd; k++) v |= (Math.imul((B[k]! & 0x80808080) >>> 7, 0x10204080) >>> 28) << (4 * k);
      }
      writeGpr(u, i.reg0, v, 0);
      return C_NEXT;
    }
    case 33 /* Maskmovq */: case 34 /* Maskmovdqu */:
      return maskmov(cpu, d);

    // ---------------- everything of the form dst = f(dst, src) ----------------
    default:
      return binary(cpu, d);
  }
}

/**
 * MASKMOVQ / MASKMOVDQU: stores the bytes of the first source selected by the mask's byte sign bits
 * at DS:rDI (segment overridable). Probed first so a fault leaves memory unchanged (SDM MASKMOVDQU).
 */
function maskmov(cpu: FpuCpu, d: DI): number {
  const i = d.i;
  load(cpu, d, 1, A, 16);
  load(cpu, d, 2, B, 16);
  const nb = (i.reg1 >> 5) === RC_XMM ? 16 : 8;
  // the interpreter formed seg:rDI (with its limit and type checks) as the memory operand's address
  const lo = cpu.memLo, hi = cpu.memHi;
  let any = false;
  for (let k = 0; k < nb; k++) if ((B8[k]! & 0x80) !== 0) any = true;
  if (!any) return C_NEXT;
  if (!cpu.memProbe(lo, hi, nb, true)) return C_FAULT;
  for (let k = 0; k < nb; k++) {
    if ((B8[k]! & 0x80) === 0) continue;
    const a = (lo + k) >>> 0;
    const ah = cpu.codeMode === 64 && a < lo ? (hi + 1) >>> 0 : hi;
    if (!cpu.memWrite(a, ah, 1, A8[k]!, 0)) return C_FAULT;
  }
  return C_NEXT;
}

/** Shift count of PSxx by register/memory: the full 64-bit count; >= 2^32 reads as "huge". */
function shiftCount(): number {
  return B[1] !== 0 ? 0xffff : B[0]! > 0xffff ? 0xffff : B[0]!;
}

/**
 * The instructions that combine the destination (operand 0, an MMX or XMM register) with a source
 * (operand 1: register or memory, plus an optional imm8) into the destination, and the remaining
 * forms with their own operand shapes (PEXTR*, PINSR*, EXTRACTPS, PTEST, CRC32, PCMPxSTRx).
 */
function binary(cpu: FpuCpu, d: DI): number {
  const i = d.i;
  const u = cpu.u;
  const m = KIND[i.mnemonic]!;
  const w = i.operandWidth;
  const imm = i.imm & 0xff;

  // forms whose destination is not an MMX/XMM register
  switch (m) {
    case 35 /* Pextrb */: case 36 /* Pextrw */: case 37 /* Pextrd */: case 38 /* Pextrq */:
    case 39 /* Extractps */: {
      load(cpu, d, 1, B, 16);
      const xmm = (i.reg1 >> 5) === RC_XMM;
      let lo = 0, hi = 0, bytes = 4;
      if (m === 35 /* Pextrb */) { lo = B8[imm & 15]!; bytes = 1; }
      else if (m === 36 /* Pextrw */) { lo = B16[imm & (xmm ? 7 : 3)]!; bytes = 2; }
      else if (m === 37 /* Pextrd */ || m === 39 /* Extractps */) lo = B[imm & 3]!;
      else { lo = B[(imm & 1) * 2]!; hi = B[(imm & 1) * 2 + 1]!; bytes = 8; }
      if (i.opKind0 === OpKind.Mem) {
        R[0] = lo; R[1] = hi;
        return storeMem(cpu, R, bytes) ? C_NEXT : C_FAULT;
      }
      writeGpr(u, i.reg0, lo, hi);
      return C_NEXT;
    }
    case 40 /* Crc32 */: {
      if (!load(cpu, d, 1, B, w)) return C_FAULT;
      let c = u[2 * (i.reg0 & 15)]!;
      if (w >= 4) {
        c = crcDword(c, B[0]!);
        if (w === 8) c = crcDword(c, B[1]!);
      } else for (let k = 0; k < w; k++) c = CRC_T[(c ^ B8[k]!) & 0xff]! ^ (c >>> 8);
      writeGpr(u, i.reg0, c, 0);
      return C_NEXT;
    }
    case 41 /* Ptest */: {
      loadDst(u, i.reg0);
      if (!load(cpu, d, 1, B, 16)) return C_FAULT;
      // ZF = (src AND dst) == 0, CF = (src AND NOT dst) == 0; AF OF PF SF cleared (SDM PTEST)
      const z = ((A[0]! & B[0]!) | (A[1]! & B[1]!) | (A[2]! & B[2]!) | (A[3]! & B[3]!)) === 0;
      const c = ((~A[0]! & B[0]!) | (~A[1]! & B[1]!) | (~A[2]! & B[2]!) | (~A[3]! & B[3]!)) === 0;
      setStatus(u, CF | PF | AF | ZF | SF | OF, (z ? ZF : 0) | (c ? CF : 0));
      return C_NEXT;
    }
    case 42 /* Pcmpestri */: case 43 /* Pcmpestri64 */: case 44 /* Pcmpestrm */: case 45 /* Pcmpestrm64 */:
    case 46 /* Pcmpistri */: case 47 /* Pcmpistrm */: {
      loadDst(u, i.reg0);
      if (!load(cpu, d, 1, B, 16)) return C_FAULT;
      return pcmpStr(u, i.mnemonic, imm, A, B);
    }
    default:
      break;
  }

  const dst = i.reg0;
  const b = regBase(dst);
  const n = loadDst(u, dst);
  const nb = n * 4;
  const nw = n * 2;
  // source: operand 1 unless it is an immediate (shift by imm8)
  if (i.opKind1 !== OpKind.Reg && i.opKind1 !== OpKind.Mem) {
    B[0] = imm; B[1] = 0; B[2] = 0; B[3] = 0;
  } else if (!load(cpu, d, 1, B, w)) return C_FAULT;

  switch (m) {
    // ---- logic ----
    case 48 /* Pand */: case 49 /* Andps */: case 50 /* Andpd */:
      for (let k = 0; k < n; k++) R[k] = A[k]! & B[k]!;
      break;
    case 51 /* Pandn */: case 52 /* Andnps */: case 53 /* Andnpd */:
      for (let k = 0; k < n; k++) R[k] = ~A[k]! & B[k]!;
      break;
    case 54 /* Por */: case 55 /* Orps */: case 56 /* Orpd */:
      for (let k = 0; k < n; k++) R[k] = A[k]! | B[k]!;
      break;
    case 57 /* Pxor */: case 58 /* Xorps */: case 59 /* Xorpd */:
      for (let k = 0; k < n; k++) R[k] = A[k]! ^ B[k]!;
      break;

    // ---- add / subtract ----
    // byte/word add and subtract four/two lanes per dword (SWAR): the low 7/15 bits of each lane are
    // added with no carry across lanes, the top bit is the XOR of the operands' top bits and the carry
    case 60 /* Paddb */:
      for (let k = 0; k < n; k++) { const a = A[k]!, b = B[k]!; R[k] = ((a & 0x7f7f7f7f) + (b & 0x7f7f7f7f)) ^ ((a ^ b) & 0x80808080); }
      break;
    case 61 /* Paddw */:
      for (let k = 0; k < n; k++) { const a = A[k]!, b = B[k]!; R[k] = ((a & 0x7fff7fff) + (b & 0x7fff7fff)) ^ ((a ^ b) & 0x80008000); }
      break;
    case 62 /* Paddd */: for (let k = 0; k < n; k++) R[k] = A[k]! + B[k]!; break;
    case 63 /* Paddq */:
      for (let k = 0; k < n; k += 2) {
        const s = A[k]! + B[k]!;
        R[k] = s;
        R[k + 1] = A[k + 1]! + B[k + 1]! + (s > 0xffffffff ? 1 : 0);
      }
      break;
    case 64 /* Psubb */:
      for (let k = 0; k < n; k++) { const a = A[k]!, b = B[k]!; R[k] = ((a | 0x80808080) - (b & 0x7f7f7f7f)) ^ ((a ^ ~b) & 0x80808080); }
      break;
    case 65 /* Psubw */:
      for (let k = 0; k < n; k++) { const a = A[k]!, b = B[k]!; R[k] = ((a | 0x80008000) - (b & 0x7fff7fff)) ^ ((a ^ ~b) & 0x80008000); }
      break;
    case 66 /* Psubd */: for (let k = 0; k < n; k++) R[k] = A[k]! - B[k]!; break;
    case 67 /* Psubq */:
      for (let k = 0; k < n; k += 2) {
        R[k] = A[k]! - B[k]!;
        R[k + 1] = A[k + 1]! - B[k + 1]! - (A[k]! < B[k]! ? 1 : 0);
      }
      break;
    case 68 /* Paddsb */: for (let k = 0; k < nb; k++) Rs8[k] = sat8(As8[k]! + Bs8[k]!); break;
    case 69 /* Paddsw */: for (let k = 0; k < nw; k++) Rs16[k] = sat16(As16[k]! + Bs16[k]!); break;
    case 70 /* Psubsb */: for (let k = 0; k < nb; k++) Rs8[k] = sat8(As8[k]! - Bs8[k]!); break;
    case 71 /* Psubsw */: for (let k = 0; k < nw; k++) Rs16[k] = sat16(As16[k]! - Bs16[k]!); break;
    case 72 /* Paddusb */: for (let k = 0; k < nb; k++) R8[k] = satu8(A8[k]! + B8[k]!); break;
    case 73 /* Paddusw */: for (let k = 0; k < nw; k++) R16[k] = satu16(A16[k]! + B16[k]!); break;
    case 74 /* Psubusb */: for (let k = 0; k < nb; k++) R8[k] = satu8(A8[k]! - B8[k]!); break;
    case 75 /* Psubusw */: for (let k = 0; k < nw; k++) R16[k] = satu16(A16[k]! - B16[k]!); break;

    // ---- multiply ----
    case 76 /* Pmullw */: for (let k = 0; k < nw; k++) R16[k] = Math.imul(A16[k]!, B16[k]!); break;
    case 77 /* Pmulhw */: for (let k = 0; k < nw; k++) R16[k] = (As16[k]! * Bs16[k]!) >> 16; break;
    case 78 /* Pmulhuw */: for (let k = 0; k < nw; k++) R16[k] = (A16[k]! * B16[k]!) >>> 16; break;
    case 79 /* Pmulhrsw */:
      // (a * b >> 14) + 1 >> 1, bits 16:1 (SDM PMULHRSW)
      for (let k = 0; k < nw; k++) R16[k] = (((As16[k]! * Bs16[k]!) >> 14) + 1) >> 1;
      break;
    case 80 /* Pmulld */: for (let k = 0; k < n; k++) R[k] = Math.imul(A[k]!, B[k]!); break;
    case 81 /* Pmuludq */: case 82 /* Pmuldq */:
      for (let k = 0; k < n; k += 2) mul32x32(A[k]!, B[k]!, m === 82 /* Pmuldq */, k);
      break;
    case 83 /* Pmaddwd */:
      for (let k = 0; k < n; k++) {
        // the one overflowing case (all four words 0x8000) wraps to 0x80000000 (SDM PMADDWD)
        R[k] = As16[2 * k]! * Bs16[2 * k]! + As16[2 * k + 1]! * Bs16[2 * k + 1]!;
      }
      break;
    case 84 /* Pmaddubsw */:
      // unsigned bytes of the destination times signed bytes of the source, pairs added with
      // signed saturation (SDM PMADDUBSW)
      for (let k = 0; k < nw; k++) Rs16[k] = sat16(A8[2 * k]! * Bs8[2 * k]! + A8[2 * k + 1]! * Bs8[2 * k + 1]!);
      break;

    // ---- average, sum of absolute differences ----
    case 85 /* Pavgb */: for (let k = 0; k < nb; k++) R8[k] = (A8[k]! + B8[k]! + 1) >>> 1; break;
    case 86 /* Pavgw */: for (let k = 0; k < nw; k++) R16[k] = (A16[k]! + B16[k]! + 1) >>> 1; break;
    case 87 /* Psadbw */:
      for (let q = 0; q < n; q += 2) {
        let s = 0;
        for (let k = q * 4; k < q * 4 + 8; k++) s += Math.abs(A8[k]! - B8[k]!);
        R[q] = s; R[q + 1] = 0;
      }
      break;

    // ---- min / max ----
    case 88 /* Pminub */: for (let k = 0; k < nb; k++) R8[k] = Math.min(A8[k]!, B8[k]!); break;
    case 89 /* Pmaxub */: for (let k = 0; k < nb; k++) R8[k] = Math.max(A8[k]!, B8[k]!); break;
    case 90 /* Pminsb */: for (let k = 0; k < nb; k++) Rs8[k] = Math.min(As8[k]!, Bs8[k]!); break;
    case 91 /* Pmaxsb */: for (let k = 0; k < nb; k++) Rs8[k] = Math.max(As8[k]!, Bs8[k]!); break;
    case 92 /* Pminsw */: for (let k = 0; k < nw; k++) Rs16[k] = Math.min(As16[k]!, Bs16[k]!); break;
    case 93 /* Pmaxsw */: for (let k = 0; k < nw; k++) Rs16[k] = Math.max(As16[k]!, Bs16[k]!); break;
    case 94 /* Pminuw */: for (let k = 0; k < nw; k++) R16[k] = Math.min(A16[k]!, B16[k]!); break;
    case 95 /* Pmaxuw */: for (let k = 0; k < nw; k++) R16[k] = Math.max(A16[k]!, B16[k]!); break;
    case 96 /* Pminsd */: for (let k = 0; k < n; k++) Rs32[k] = Math.min(As32[k]!, Bs32[k]!); break;
    case 97 /* Pmaxsd */: for (let k = 0; k < n; k++) Rs32[k] = Math.max(As32[k]!, Bs32[k]!); break;
    case 98 /* Pminud */: for (let k = 0; k < n; k++) R[k] = Math.min(A[k]!, B[k]!); break;
    case 99 /* Pmaxud */: for (let k = 0; k < n; k++) R[k] = Math.max(A[k]!, B[k]!); break;

    // ---- compares ----
    // equal lanes: x = a ^ b has a zero lane; ((x & low) + low | x) sets a lane's top bit iff it is non-zero
    case 100 /* Pcmpeqb */:
      for (let k = 0; k < n; k++) {
        const x = A[k]! ^ B[k]!;
        R[k] = ((~((((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x)) & 0x80808080) >>> 7) * 0xff;
      }
      break;
    case 101 /* Pcmpeqw */:
      for (let k = 0; k < n; k++) {
        const x = A[k]! ^ B[k]!;
        R[k] = ((~((((x & 0x7fff7fff) + 0x7fff7fff) | x)) & 0x80008000) >>> 15) * 0xffff;
      }
      break;
    case 102 /* Pcmpeqd */: for (let k = 0; k < n; k++) R[k] = A[k] === B[k] ? 0xffffffff : 0; break;
    case 103 /* Pcmpeqq */:
      for (let k = 0; k < n; k += 2) R[k] = R[k + 1] = A[k] === B[k] && A[k + 1] === B[k + 1] ? 0xffffffff : 0;
      break;
    case 104 /* Pcmpgtb */: for (let k = 0; k < nb; k++) R8[k] = As8[k]! > Bs8[k]! ? 0xff : 0; break;
    case 105 /* Pcmpgtw */: for (let k = 0; k < nw; k++) R16[k] = As16[k]! > Bs16[k]! ? 0xffff : 0; break;
    case 106 /* Pcmpgtd */: for (let k = 0; k < n; k++) R[k] = As32[k]! > Bs32[k]! ? 0xffffffff : 0; break;
    case 107 /* Pcmpgtq */:
      for (let k = 0; k < n; k += 2) {
        const gt = As32[k + 1]! > Bs32[k + 1]! || (A[k + 1] === B[k + 1] && A[k]! > B[k]!);
        R[k] = R[k + 1] = gt ? 0xffffffff : 0;
      }
      break;

    // ---- pack (first the destination's elements, then the source's: SDM PACKSSWB) ----
    case 108 /* Packsswb */:
      for (let k = 0; k < nw; k++) { Rs8[k] = sat8(As16[k]!); Rs8[k + nw] = sat8(Bs16[k]!); }
      break;
    case 109 /* Packuswb */:
      for (let k = 0; k < nw; k++) { R8[k] = satu8(As16[k]!); R8[k + nw] = satu8(Bs16[k]!); }
      break;
    case 110 /* Packssdw */:
      for (let k = 0; k < n; k++) { Rs16[k] = sat16(As32[k]!); Rs16[k + n] = sat16(Bs32[k]!); }
      break;
    case 111 /* Packusdw */:
      for (let k = 0; k < n; k++) { R16[k] = satu16(As32[k]!); R16[k + n] = satu16(Bs32[k]!); }
      break;

    // ---- unpack: interleave the low (or high) halves, destination element first ----
    case 112 /* Punpcklbw */: case 113 /* Punpckhbw */: {
      const o = m === 113 /* Punpckhbw */ ? nb >> 1 : 0;
      for (let k = 0; k < nb >> 1; k++) { R8[2 * k] = A8[o + k]!; R8[2 * k + 1] = B8[o + k]!; }
      break;
    }
    case 114 /* Punpcklwd */: case 115 /* Punpckhwd */: {
      const o = m === 115 /* Punpckhwd */ ? nw >> 1 : 0;
      for (let k = 0; k < nw >> 1; k++) { R16[2 * k] = A16[o + k]!; R16[2 * k + 1] = B16[o + k]!; }
      break;
    }
    case 116 /* Punpckldq */: case 117 /* Punpckhdq */: case 118 /* Unpcklps */: case 119 /* Unpckhps */: {
      const o = m === 117 /* Punpckhdq */ || m === 119 /* Unpckhps */ ? n >> 1 : 0;
      for (let k = 0; k < n >> 1; k++) { R[2 * k] = A[o + k]!; R[2 * k + 1] = B[o + k]!; }
      break;
    }
    case 120 /* Punpcklqdq */: case 121 /* Unpcklpd */:
      R[0] = A[0]!; R[1] = A[1]!; R[2] = B[0]!; R[3] = B[1]!;
      break;
    case 122 /* Punpckhqdq */: case 123 /* Unpckhpd */:
      R[0] = A[2]!; R[1] = A[3]!; R[2] = B[2]!; R[3] = B[3]!;
      break;

    // ---- shifts (count > element width - 1: zero, or sign fill for PSRA) ----
    case 124 /* Psllw */: case 125 /* Psrlw */: case 126 /* Psraw */: {
      const c = shiftCount();
      for (let k = 0; k < nw; k++) {
        if (m === 126 /* Psraw */) Rs16[k] = As16[k]! >> (c > 15 ? 15 : c);
        else R16[k] = c > 15 ? 0 : m === 124 /* Psllw */ ? A16[k]! << c : A16[k]! >>> c;
      }
      break;
    }
    case 127 /* Pslld */: case 128 /* Psrld */: case 129 /* Psrad */: {
      const c = shiftCount();
      for (let k = 0; k < n; k++) {
        if (m === 129 /* Psrad */) Rs32[k] = As32[k]! >> (c > 31 ? 31 : c);
        else R[k] = c > 31 ? 0 : m === 127 /* Pslld */ ? A[k]! << c : A[k]! >>> c;
      }
      break;
    }
    case 130 /* Psllq */: case 131 /* Psrlq */: {
      const c = shiftCount();
      for (let k = 0; k < n; k += 2) {
        const lo = A[k]!, hi = A[k + 1]!;
        if (c > 63) { R[k] = 0; R[k + 1] = 0; }
        else if (c === 0) { R[k] = lo; R[k + 1] = hi; }
        else if (m === 130 /* Psllq */) {
          if (c >= 32) { R[k + 1] = lo << (c - 32); R[k] = 0; }
          else { R[k + 1] = (hi << c) | (lo >>> (32 - c)); R[k] = lo << c; }
        } else if (c >= 32) { R[k] = hi >>> (c - 32); R[k + 1] = 0; }
        else { R[k] = (lo >>> c) | (hi << (32 - c)); R[k + 1] = hi >>> c; }
      }
      break;
    }
    case 132 /* Pslldq */: case 133 /* Psrldq */: {
      // whole-register byte shift by imm8; counts > 15 clear the register
      const c = imm > 16 ? 16 : imm;
      for (let k = 0; k < 16; k++) {
        const s = m === 132 /* Pslldq */ ? k - c : k + c;
        R8[k] = s >= 0 && s < 16 ? A8[s]! : 0;
      }
      break;
    }

    // ---- shuffles ----
    case 134 /* Pshufw */:
      for (let k = 0; k < 4; k++) R16[k] = B16[(imm >>> (2 * k)) & 3]!;
      break;
    case 135 /* Pshufd */:
      for (let k = 0; k < 4; k++) R[k] = B[(imm >>> (2 * k)) & 3]!;
      break;
    case 136 /* Pshuflw */:
      for (let k = 0; k < 4; k++) R16[k] = B16[(imm >>> (2 * k)) & 3]!;
      R[2] = B[2]!; R[3] = B[3]!;
      break;
    case 137 /* Pshufhw */:
      R[0] = B[0]!; R[1] = B[1]!;
      for (let k = 0; k < 4; k++) R16[4 + k] = B16[4 + ((imm >>> (2 * k)) & 3)]!;
      break;
    case 138 /* Shufps */:
      R[0] = A[imm & 3]!; R[1] = A[(imm >>> 2) & 3]!; R[2] = B[(imm >>> 4) & 3]!; R[3] = B[imm >>> 6]!;
      break;
    case 139 /* Shufpd */: {
      const s = (imm & 1) * 2, t = ((imm >>> 1) & 1) * 2;
      R[0] = A[s]!; R[1] = A[s + 1]!; R[2] = B[t]!; R[3] = B[t + 1]!;
      break;
    }
    case 140 /* Pshufb */:
      // index bits 3:0 (MMX: 2:0); bit 7 set zeroes the byte (SDM PSHUFB)
      for (let k = 0; k < nb; k++) {
        const s = B8[k]!;
        R8[k] = (s & 0x80) !== 0 ? 0 : A8[s & (nb - 1)]!;
      }
      break;
    case 141 /* Palignr */: {
      // (dest:src) >> imm8*8, keeping the low `nb` bytes (SDM PALIGNR)
      for (let k = 0; k < nb; k++) { W8[k] = B8[k]!; W8[nb + k] = A8[k]!; }
      for (let k = 0; k < nb; k++) { const s = k + imm; R8[k] = s < 2 * nb ? W8[s]! : 0; }
      break;
    }

    // ---- blends ----
    case 142 /* Blendps */:
      for (let k = 0; k < 4; k++) R[k] = ((imm >>> k) & 1) !== 0 ? B[k]! : A[k]!;
      break;
    case 143 /* Blendpd */:
      for (let k = 0; k < 4; k++) R[k] = ((imm >>> (k >> 1)) & 1) !== 0 ? B[k]! : A[k]!;
      break;
    case 144 /* Pblendw */:
      for (let k = 0; k < 8; k++) R16[k] = ((imm >>> k) & 1) !== 0 ? B16[k]! : A16[k]!;
      break;
    case 145 /* Blendvps */: case 146 /* Blendvpd */: case 147 /* Pblendvb */: {
      // the mask is implicit XMM0 (SDM BLENDVPS: "the implicit third operand XMM0")
      X0[0] = u[S_XMM]!; X0[1] = u[S_XMM + 1]!; X0[2] = u[S_XMM + 2]!; X0[3] = u[S_XMM + 3]!;
      if (m === 147 /* Pblendvb */) for (let k = 0; k < 16; k++) R8[k] = (X08[k]! & 0x80) !== 0 ? B8[k]! : A8[k]!;
      else if (m === 145 /* Blendvps */) for (let k = 0; k < 4; k++) R[k] = (X0[k]! & 0x80000000) !== 0 ? B[k]! : A[k]!;
      else for (let k = 0; k < 4; k++) R[k] = (X0[k | 1]! & 0x80000000) !== 0 ? B[k]! : A[k]!;
      break;
    }
    case 148 /* Insertps */: {
      // imm[7:6] source dword (register form only), imm[5:4] destination dword, imm[3:0] zero mask
      const v = i.opKind1 === OpKind.Mem ? B[0]! : B[(imm >>> 6) & 3]!;
      R.set(A);
      R[(imm >>> 4) & 3] = v;
      for (let k = 0; k < 4; k++) if (((imm >>> k) & 1) !== 0) R[k] = 0;
      break;
    }
    case 149 /* Pinsrb */: case 150 /* Pinsrw */: case 151 /* Pinsrd */: case 152 /* Pinsrq */:
      R.set(A);
      if (m === 149 /* Pinsrb */) R8[imm & 15] = B[0]!;
      else if (m === 150 /* Pinsrw */) R16[imm & (nw - 1)] = B[0]!;
      else if (m === 151 /* Pinsrd */) R[imm & 3] = B[0]!;
      else { R[(imm & 1) * 2] = B[0]!; R[(imm & 1) * 2 + 1] = B[1]!; }
      break;

    // ---- SSSE3 horizontal, sign, abs ----
    case 153 /* Phaddw */: case 154 /* Phsubw */: case 155 /* Phaddsw */: case 156 /* Phsubsw */: {
      const h = nw >> 1;
      for (let k = 0; k < h; k++) {
        const a0 = As16[2 * k]!, a1 = As16[2 * k + 1]!, b0 = Bs16[2 * k]!, b1 = Bs16[2 * k + 1]!;
        if (m === 153 /* Phaddw */) { R16[k] = a0 + a1; R16[k + h] = b0 + b1; }
        else if (m === 154 /* Phsubw */) { R16[k] = a0 - a1; R16[k + h] = b0 - b1; }
        else if (m === 155 /* Phaddsw */) { Rs16[k] = sat16(a0 + a1); Rs16[k + h] = sat16(b0 + b1); }
        else { Rs16[k] = sat16(a0 - a1); Rs16[k + h] = sat16(b0 - b1); }
      }
      break;
    }
    case 157 /* Phaddd */: case 158 /* Phsubd */: {
      const h = n >> 1;
      for (let k = 0; k < h; k++) {
        if (m === 157 /* Phaddd */) { R[k] = A[2 * k]! + A[2 * k + 1]!; R[k + h] = B[2 * k]! + B[2 * k + 1]!; }
        else { R[k] = A[2 * k]! - A[2 * k + 1]!; R[k + h] = B[2 * k]! - B[2 * k + 1]!; }
      }
      break;
    }
    case 159 /* Psignb */: for (let k = 0; k < nb; k++) Rs8[k] = Bs8[k]! < 0 ? -As8[k]! : Bs8[k] === 0 ? 0 : As8[k]!; break;
    case 160 /* Psignw */: for (let k = 0; k < nw; k++) Rs16[k] = Bs16[k]! < 0 ? -As16[k]! : Bs16[k] === 0 ? 0 : As16[k]!; break;
    case 161 /* Psignd */: for (let k = 0; k < n; k++) Rs32[k] = Bs32[k]! < 0 ? -As32[k]! : Bs32[k] === 0 ? 0 : As32[k]!; break;
    case 162 /* Pabsb */: for (let k = 0; k < nb; k++) R8[k] = Math.abs(Bs8[k]!); break;
    case 163 /* Pabsw */: for (let k = 0; k < nw; k++) R16[k] = Math.abs(Bs16[k]!); break;
    case 164 /* Pabsd */: for (let k = 0; k < n; k++) R[k] = Math.abs(Bs32[k]!); break;

    // ---- SSE4.1 sign/zero extension (source: the low 2..8 bytes) ----
    case 165 /* Pmovsxbw */: for (let k = 0; k < 8; k++) Rs16[k] = Bs8[k]!; break;
    case 166 /* Pmovsxbd */: for (let k = 0; k < 4; k++) Rs32[k] = Bs8[k]!; break;
    case 167 /* Pmovsxbq */: for (let k = 0; k < 2; k++) { Rs32[2 * k] = Bs8[k]!; Rs32[2 * k + 1] = Bs8[k]! >> 31; } break;
    case 168 /* Pmovsxwd */: for (let k = 0; k < 4; k++) Rs32[k] = Bs16[k]!; break;
    case 169 /* Pmovsxwq */: for (let k = 0; k < 2; k++) { Rs32[2 * k] = Bs16[k]!; Rs32[2 * k + 1] = Bs16[k]! >> 31; } break;
    case 170 /* Pmovsxdq */: { const x = Bs32[0]!, y = Bs32[1]!; R[0] = x; R[1] = x >> 31; R[2] = y; R[3] = y >> 31; break; }
    case 171 /* Pmovzxbw */: for (let k = 0; k < 8; k++) R16[k] = B8[k]!; break;
    case 172 /* Pmovzxbd */: for (let k = 0; k < 4; k++) R[k] = B8[k]!; break;
    case 173 /* Pmovzxbq */: for (let k = 0; k < 2; k++) { R[2 * k] = B8[k]!; R[2 * k + 1] = 0; } break;
    case 174 /* Pmovzxwd */: for (let k = 0; k < 4; k++) R[k] = B16[k]!; break;
    case 175 /* Pmovzxwq */: for (let k = 0; k < 2; k++) { R[2 * k] = B16[k]!; R[2 * k + 1] = 0; } break;
    case 176 /* Pmovzxdq */: { const x = B[0]!, y = B[1]!; R[0] = x; R[1] = 0; R[2] = y; R[3] = 0; break; }

    case 177 /* Phminposuw */: {
      // the smallest unsigned word and its index (lowest index on ties); bits 127:19 zero
      let best = B16[0]!, idx = 0;
      for (let k = 1; k < 8; k++) if (B16[k]! < best) { best = B16[k]!; idx = k; }
      R[0] = best | idx << 16; R[1] = 0; R[2] = 0; R[3] = 0;
      break;
    }
    case 178 /* Mpsadbw */: {
      // eight SADs of 4-byte blocks: source block imm[1:0]*4, destination offset imm[2]*4 + k
      const so = (imm & 3) * 4, dofs = ((imm >>> 2) & 1) * 4;
      for (let k = 0; k < 8; k++) {
        let s = 0;
        for (let j = 0; j < 4; j++) s += Math.abs(A8[dofs + k + j]! - B8[so + j]!);
        R16[k] = s;
      }
      break;
    }
    default:
      // a mnemonic routed here that this unit does not implement
      return cpu.raise(V_UD, false, 0);
  }
  put(u, b, n);
  return C_NEXT;
}

/** Unsigned (or signed) 32 x 32 -> 64 product of a and b into R[k], R[k+1] (PMULUDQ / PMULDQ). */
function mul32x32(a: number, b: number, signed: boolean, k: number): void {
  const neg = signed && ((a ^ b) & 0x80000000) !== 0;
  if (signed) { a = Math.abs(a | 0); b = Math.abs(b | 0); }
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  let lo = ((mid & 0xffff) << 16 | (p00 & 0xffff)) >>> 0;
  let hi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
  if (neg) {
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  R[k] = lo; R[k + 1] = hi;
}
