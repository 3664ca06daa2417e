/**
 * Multiplication and division (SDM Vol. 2A/2B: MUL, IMUL, DIV, IDIV) on uint32 halves, no BigInt.
 *
 * MUL/IMUL: CF = OF = 1 when the upper half of the product is significant (MUL: non-zero; IMUL: not
 * the sign extension of the lower half); SF, ZF, AF, PF undefined (we set them from the low result
 * like a logic op and clear AF; the differential test masks them).
 * DIV/IDIV: #DE when the divisor is 0 or the quotient does not fit; all six flags undefined (left
 * unchanged here). Functions return false for #DE and change nothing then.
 */
import { setStatus, lazyResult } from '../flags.js';
import { CF, OF, AF, S_RFLAGS, L_MASK, PF, ZF, SF } from '../state.js';

/** Product scratch: 128-bit result as four uint32 words p0 (low) .. p3. */
export const prod = new Uint32Array(4);
/** Division results: quotient lo/hi, remainder lo/hi. */
export const divq = new Uint32Array(4);

/** 32 x 32 -> 64 unsigned; low half returned, high half in mulHi. */
export let mulHi = 0;
export function mul32(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  mulHi = (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
  return ((mid << 16) | (ll & 0xffff)) >>> 0;
}

/** 64 x 64 -> 128 unsigned into prod[0..3]. */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  const p0 = mul32(alo, blo); const c0 = mulHi;
  const q0 = mul32(alo, bhi); const q1 = mulHi;
  const s0 = mul32(ahi, blo); const s1 = mulHi;
  const t0 = mul32(ahi, bhi); const t1 = mulHi;
  // word 1 = c0 + q0 + s0 ; word 2 = q1 + s1 + t0 + carries ; word 3 = t1 + carries
  const w1 = c0 + q0 + s0;
  const w2 = q1 + s1 + t0 + Math.floor(w1 / 0x100000000);
  const w3 = t1 + Math.floor(w2 / 0x100000000);
  prod[0] = p0;
  prod[1] = w1 >>> 0;
  prod[2] = w2 >>> 0;
  prod[3] = w3 >>> 0;
}

/** 64 x 64 -> 128 signed into prod[0..3] (unsigned product corrected for negative factors). */
export function imul64(alo: number, ahi: number, blo: number, bhi: number): void {
  mul64(alo, ahi, blo, bhi);
  if ((ahi & 0x80000000) !== 0) sub64hi(blo, bhi);
  if ((bhi & 0x80000000) !== 0) sub64hi(alo, ahi);
}
function sub64hi(lo: number, hi: number): void {
  const d = prod[2]! - lo;
  prod[2] = d >>> 0;
  prod[3] = (prod[3]! - hi - (d < 0 ? 1 : 0)) >>> 0;
}

/** Sets CF = OF = `overflow`, PF/ZF/SF from the low result (undefined per SDM), AF cleared. */
export function mulFlags(u: Uint32Array, size: number, overflow: boolean, lo: number, hi: number): void {
  const o = overflow ? CF | OF : 0;
  u[S_RFLAGS] = ((u[S_RFLAGS]! & ~(CF | OF | AF)) | o) >>> 0;
  u[L_MASK] = PF | ZF | SF;
  lazyResult(u, size, lo, hi);
}

/**
 * Unsigned 128 / 64 -> 64 (DIV r/m64 and, with high words 0, the narrower forms).
 * Dividend n3:n2:n1:n0 is RDX:RAX split in words; divisor dhi:dlo. Returns false on #DE.
 */
export function divu128(n0: number, n1: number, n2: number, n3: number, dlo: number, dhi: number): boolean {
  if (dlo === 0 && dhi === 0) return false;
  // quotient must fit in 64 bits: high 64 of the dividend < divisor
  if (n3 > dhi || (n3 === dhi && n2 >= dlo)) return false;
  if (n3 === 0 && n2 === 0 && n1 < 0x200000) {
    // dividend < 2^53: doubles are exact (floor(a/b) of integers below 2^53 never rounds up)
    const a = n1 * 0x100000000 + n0;
    if (dhi >= 0x200000) {
      divq[0] = 0; divq[1] = 0; divq[2] = n0; divq[3] = n1;
      return true;
    }
    const b = dhi * 0x100000000 + dlo;
    const q = Math.floor(a / b);
    const r = a - q * b;
    divq[0] = q >>> 0; divq[1] = Math.floor(q / 0x100000000) >>> 0;
    divq[2] = r >>> 0; divq[3] = Math.floor(r / 0x100000000) >>> 0;
    return true;
  }
  if (dhi === 0 && n3 === 0 && dlo < 0x10000) {
    // short division by a 16-bit divisor, 16 bits at a time (remainder * 2^16 stays below 2^53)
    let r = n2; // n2 < dlo
    let q1 = 0, q0 = 0;
    for (let k = 0; k < 4; k++) {
      const digit = k < 2 ? (k === 0 ? n1 >>> 16 : n1 & 0xffff) : (k === 2 ? n0 >>> 16 : n0 & 0xffff);
      const x = r * 0x10000 + digit;
      const q = Math.floor(x / dlo);
      r = x - q * dlo;
      if (k < 2) q1 = q1 * 0x10000 + q; else q0 = q0 * 0x10000 + q;
    }
    divq[0] = q0 >>> 0; divq[1] = q1 >>> 0; divq[2] = r; divq[3] = 0;
    return true;
  }
  // restoring division, one bit per step over the low 64 dividend bits, remainder in 65 bits
  let rlo = n2, rhi = n3; // running remainder (< divisor)
  let qlo = 0, qhi = 0;
  for (let i = 63; i >= 0; i--) {
    const bit = i >= 32 ? (n1 >>> (i - 32)) & 1 : (n0 >>> i) & 1;
    const top = rhi >>> 31; // bit shifted out into the 65th position
    rhi = ((rhi << 1) | (rlo >>> 31)) >>> 0;
    rlo = ((rlo << 1) | bit) >>> 0;
    if (top !== 0 || rhi > dhi || (rhi === dhi && rlo >= dlo)) {
      const d = rlo - dlo;
      rlo = d >>> 0;
      rhi = (rhi - dhi - (d < 0 ? 1 : 0)) >>> 0;
      if (i >= 32) qhi |= 1 << (i - 32); else qlo |= 1 << i;
    }
  }
  divq[0] = qlo >>> 0; divq[1] = qhi >>> 0; divq[2] = rlo; divq[3] = rhi;
  return true;
}

/** Signed 128 / 64 (IDIV r/m64): quotient truncated toward zero, remainder has the dividend's sign. */
export function divs128(n0: number, n1: number, n2: number, n3: number, dlo: number, dhi: number): boolean {
  if (dlo === 0 && dhi === 0) return false;
  const nneg = (n3 & 0x80000000) !== 0;
  const dneg = (dhi & 0x80000000) !== 0;
  if (nneg) {
    // negate the 128-bit dividend
    n0 = (~n0 + 1) >>> 0; let c = n0 === 0 ? 1 : 0;
    n1 = (~n1 + c) >>> 0; c = c && n1 === 0 ? 1 : 0;
    n2 = (~n2 + c) >>> 0; c = c && n2 === 0 ? 1 : 0;
    n3 = (~n3 + c) >>> 0;
  }
  if (dneg) {
    dlo = (~dlo + 1) >>> 0;
    dhi = (~dhi + (dlo === 0 ? 1 : 0)) >>> 0;
  }
  if (!divu128(n0, n1, n2, n3, dlo, dhi)) return false;
  let qlo = divq[0]!, qhi = divq[1]!, rlo = divq[2]!, rhi = divq[3]!;
  const qneg = nneg !== dneg;
  // the magnitude must fit: positive quotient <= 2^63-1, negative >= -2^63
  if (qhi > 0x7fffffff && !(qneg && qhi === 0x80000000 && qlo === 0)) return false;
  if (qneg) {
    qlo = (~qlo + 1) >>> 0;
    qhi = (~qhi + (qlo === 0 ? 1 : 0)) >>> 0;
  }
  if (nneg) {
    rlo = (~rlo + 1) >>> 0;
    rhi = (~rhi + (rlo === 0 ? 1 : 0)) >>> 0;
  }
  divq[0] = qlo; divq[1] = qhi; divq[2] = rlo; divq[3] = rhi;
  return true;
}

/**
 * DIV/IDIV of 8/16/32 bits. `nlo`/`nhi` are the dividend halves (AX as nlo for 8-bit with nhi 0;
 * DX:AX as (DX<<16|AX) for 16-bit; EDX:EAX for 32-bit); the quotient/remainder land in divq[0]/divq[2].
 */
export function divSmall(signed: boolean, size: number, nlo: number, nhi: number, d: number): boolean {
  if (d === 0) return false;
  if (!signed) {
    if (size === 32) {
      if (!divu128(nlo, nhi, 0, 0, d, 0)) return false;
      if (divq[1] !== 0) return false;
      return true;
    }
    const q = Math.floor(nlo / d);
    if (q > (size === 16 ? 0xffff : 0xff)) return false;
    divq[0] = q;
    divq[2] = nlo - q * d;
    return true;
  }
  if (size === 32) {
    const sh = (nhi & 0x80000000) !== 0 ? 0xffffffff : 0;
    const dd = d | 0;
    if (!divs128(nlo, nhi, sh, sh, d, dd < 0 ? 0xffffffff : 0)) return false;
    const qlo = divq[0]!, qhi = divq[1]!;
    // quotient must fit in int32
    if (!((qhi === 0 && qlo <= 0x7fffffff) || (qhi === 0xffffffff && qlo >= 0x80000000))) return false;
    return true;
  }
  const n = size === 16 ? nlo | 0 : (nlo << 16) >> 16;
  const dv = size === 16 ? (d << 16) >> 16 : (d << 24) >> 24;
  const q = Math.trunc(n / dv);
  const lim = size === 16 ? 0x8000 : 0x80;
  if (q >= lim || q < -lim) return false;
  divq[0] = q >>> 0;
  divq[2] = (n - q * dv) >>> 0;
  return true;
}

/** Re-exported so callers of mulFlags need only this module. */
export { setStatus };
