/**
 * SSE4.2 packed string compares: PCMPESTRI, PCMPESTRM, PCMPISTRI, PCMPISTRM (+ the REX.W forms that
 * take the explicit lengths from RAX/RDX).
 *
 * Spec: SDM Vol. 2 §4.1 "Imm8 Control Byte Operation for PCMPESTRI / PCMPESTRM / PCMPISTRI /
 * PCMPISTRM": §4.1.1 source data format (imm[1:0]), §4.1.2 aggregation (imm[3:2]), Table 4-6 (how
 * invalid elements override a comparison), Table 4-7 (aggregation operations), §4.1.6 polarity
 * (imm[5:4]), §4.1.7 output selection (imm[6]), and the instruction pages' flag definitions.
 * Operand 1 (xmm1, "Src1") is the set / ranges / needle; operand 2 (xmm2/m128, "Src2") the text.
 */
import { Mnemonic } from '../decoder/insn.js';
import { AF, CF, OF, PF, SF, ZF, S_XMM } from '../state.js';
import { setStatus } from '../flags.js';
import { C_NEXT } from './cpu.js';

// element copies of the two sources (filled by `elements`) and typed views of a 16-byte scratch
const E1 = new Int32Array(16), E2 = new Int32Array(16);
const S = new Uint32Array(4);
const S8 = new Uint8Array(S.buffer), Ss8 = new Int8Array(S.buffer);
const S16 = new Uint16Array(S.buffer), Ss16 = new Int16Array(S.buffer);

function elements(t: Uint32Array, out: Int32Array, words: boolean, signed: boolean): void {
  S[0] = t[0]!; S[1] = t[1]!; S[2] = t[2]!; S[3] = t[3]!;
  if (words) {
    if (signed) for (let k = 0; k < 8; k++) out[k] = Ss16[k]!;
    else for (let k = 0; k < 8; k++) out[k] = S16[k]!;
  } else if (signed) for (let k = 0; k < 16; k++) out[k] = Ss8[k]!;
  else for (let k = 0; k < 16; k++) out[k] = S8[k]!;
}

/** Explicit length from a 32-bit (or 64-bit: hi) register: |value| saturated to n (§4.1.3). */
function explicitLength(lo: number, hi: number, wide: boolean, n: number): number {
  if (!wide) {
    const v = Math.abs(lo | 0);
    return v > n ? n : v;
  }
  if ((hi & 0x80000000) !== 0) {
    // two's complement of the 64-bit value
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  if (hi !== 0) return n;
  return lo > n ? n : lo;
}

/** Implicit length: the index of the first null element, or n (§4.1.3). */
function implicitLength(e: Int32Array, n: number): number {
  for (let k = 0; k < n; k++) if (e[k] === 0) return k;
  return n;
}

/**
 * Executes the string compare on src1 `a` and src2 `b` with control `imm`; writes ECX (index forms)
 * or XMM0 (mask forms) and the flags CF ZF SF OF (AF PF cleared). Returns C_NEXT.
 */
export function pcmpStr(u: Uint32Array, m: number, imm: number, a: Uint32Array, b: Uint32Array): number {
  const words = (imm & 1) !== 0;
  const signed = (imm & 2) !== 0;
  const agg = (imm >>> 2) & 3;
  const pol = (imm >>> 4) & 3;
  const n = words ? 8 : 16;
  elements(a, E1, words, signed);
  elements(b, E2, words, signed);
  const explicit = m === Mnemonic.Pcmpestri || m === Mnemonic.Pcmpestri64 ||
    m === Mnemonic.Pcmpestrm || m === Mnemonic.Pcmpestrm64;
  let l1: number, l2: number;
  if (explicit) {
    const wide = m === Mnemonic.Pcmpestri64 || m === Mnemonic.Pcmpestrm64;
    l1 = explicitLength(u[0]!, u[1]!, wide, n); // rAX
    l2 = explicitLength(u[4]!, u[5]!, wide, n); // rDX
  } else {
    l1 = implicitLength(E1, n);
    l2 = implicitLength(E2, n);
  }

  // IntRes1, bit j for Src2 element j (Table 4-7)
  let r1 = 0;
  switch (agg) {
    case 0: // equal any: Src2[j] equals some valid Src1[i]
      for (let j = 0; j < l2; j++) {
        for (let i = 0; i < l1; i++) if (E1[i] === E2[j]) { r1 |= 1 << j; break; }
      }
      break;
    case 1: // ranges: Src1[i] <= Src2[j] <= Src1[i+1] for some valid pair (both of the pair valid)
      for (let j = 0; j < l2; j++) {
        for (let i = 0; i + 1 < l1; i += 2) {
          if (E1[i]! <= E2[j]! && E2[j]! <= E1[i + 1]!) { r1 |= 1 << j; break; }
        }
      }
      break;
    case 2: // equal each: both invalid -> true, one invalid -> false
      for (let j = 0; j < n; j++) {
        const v1 = j < l1, v2 = j < l2;
        if (v1 && v2 ? E1[j] === E2[j] : !v1 && !v2) r1 |= 1 << j;
      }
      break;
    default: // equal ordered: the needle Src1 starts at Src2[j] (an ended needle matches;
      // a needle element past the end of valid Src2 fails; past position n-1: not compared)
      for (let j = 0; j < n; j++) {
        let ok = true;
        for (let i = 0; i < n - j && ok; i++) {
          const k = i + j;
          if (i >= l1) break; // Src1 invalid: forced true (either state of Src2)
          if (k >= l2) ok = false; // Src1 valid, Src2 invalid: forced false
          else if (E1[i] !== E2[k]) ok = false;
        }
        if (ok) r1 |= 1 << j;
      }
      break;
  }
  // polarity (§4.1.6)
  const all = words ? 0xff : 0xffff;
  let r2 = r1;
  if (pol === 1) r2 = ~r1 & all;
  else if (pol === 3) r2 = r1 ^ ((1 << l2) - 1);

  const index = m === Mnemonic.Pcmpestri || m === Mnemonic.Pcmpestri64 || m === Mnemonic.Pcmpistri;
  if (index) {
    // least (imm[6] = 0) or most significant set bit; n when none (§4.1.7)
    let ecx = n;
    if (r2 !== 0) ecx = (imm & 0x40) !== 0 ? 31 - Math.clz32(r2) : 31 - Math.clz32(r2 & -r2);
    u[2] = ecx;
    u[3] = 0;
  } else if ((imm & 0x40) === 0) {
    u[S_XMM] = r2; u[S_XMM + 1] = 0; u[S_XMM + 2] = 0; u[S_XMM + 3] = 0;
  } else {
    // expand each bit to a byte / word mask
    for (let d = 0; d < 4; d++) {
      let v = 0;
      if (words) {
        if ((r2 >>> (2 * d)) & 1) v |= 0xffff;
        if ((r2 >>> (2 * d + 1)) & 1) v |= 0xffff0000;
      } else {
        for (let k = 0; k < 4; k++) if ((r2 >>> (4 * d + k)) & 1) v |= 0xff << (8 * k);
      }
      u[S_XMM + d] = v >>> 0;
    }
  }
  // flags (instruction pages): CF = IntRes2 != 0, ZF = Src2 shorter than n, SF = Src1 shorter than n,
  // OF = IntRes2[0], AF = PF = 0
  const f = (r2 !== 0 ? CF : 0) | (l2 < n ? ZF : 0) | (l1 < n ? SF : 0) | ((r2 & 1) !== 0 ? OF : 0);
  setStatus(u, CF | ZF | SF | OF | AF | PF, f);
  return C_NEXT;
}
