/**
 * Shifts and rotates (SDM Vol. 2B: SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD).
 *
 * The count is masked to 5 bits (6 with REX.W); a masked count of 0 changes nothing, flags included.
 * Shifts set CF to the last bit shifted out, OF only for a count of 1 (SHL: MSB(result) XOR CF;
 * SAR: 0; SHR: MSB of the original), SF/ZF/PF from the result, AF undefined (we clear it). Rotates
 * change only CF and OF. Where the SDM leaves a value undefined (OF for counts > 1, CF of SHL/SHR
 * when count >= width, results of 16-bit SHLD/SHRD with count > 16) we compute the natural
 * extension; the differential test masks those (test/cpu/hostcpu-diff.test.ts).
 *
 * Group-2 op numbers are ModRM.reg (SDM Vol. 2A Table A-6): 0 ROL, 1 ROR, 2 RCL, 3 RCR, 4 SHL,
 * 5 SHR, 6 SAL (= SHL), 7 SAR. 64-bit forms return the low half, the high half in u[S_T + 1].
 */
import { getCF, lazyResult, setStatus } from '../flags.js';
import { AF, CF, L_MASK, OF, PF, S_RFLAGS, S_T, SF, ZF } from '../state.js';

/** Writes CF/OF/AF (AF cleared) and makes PF/ZF/SF lazy on the result: every status flag is replaced. */
function shiftFlags(u: Uint32Array, size: number, r: number, rhi: number, cf: number, of: number): void {
  u[S_RFLAGS] = ((u[S_RFLAGS]! & ~(CF | OF | AF)) | cf | (of << 11)) >>> 0;
  u[L_MASK] = PF | ZF | SF;
  lazyResult(u, size, r, rhi);
}

function signExtend(a: number, size: number): number {
  return size === 32 ? a | 0 : size === 16 ? (a << 16) >> 16 : (a << 24) >> 24;
}

/** Group-2 operation on an 8/16/32-bit value. */
export function shift(u: Uint32Array, op: number, size: number, a: number, count: number): number {
  const c = count & 31;
  if (c === 0) return a;
  const m = size === 32 ? 0xffffffff : size === 16 ? 0xffff : 0xff;
  const msb = size - 1;
  let r: number, cf: number;
  switch (op) {
    case 0: { // ROL
      const rc = c % size;
      r = rc === 0 ? a : (((a << rc) | (a >>> (size - rc))) & m) >>> 0;
      cf = r & 1;
      setStatus(u, CF | OF, cf | ((((r >>> msb) & 1) ^ cf) << 11));
      return r;
    }
    case 1: { // ROR
      const rc = c % size;
      r = rc === 0 ? a : (((a >>> rc) | (a << (size - rc))) & m) >>> 0;
      cf = (r >>> msb) & 1;
      setStatus(u, CF | OF, cf | ((cf ^ ((r >>> (msb - 1)) & 1)) << 11));
      return r;
    }
    case 2: { // RCL: rotate through CF; count mod 9 / mod 17 for 8 / 16 bits
      const tc = size === 8 ? c % 9 : size === 16 ? c % 17 : c;
      cf = getCF(u);
      r = a;
      for (let i = 0; i < tc; i++) {
        const t = (r >>> msb) & 1;
        r = (((r << 1) | cf) & m) >>> 0;
        cf = t;
      }
      setStatus(u, CF | OF, cf | ((((r >>> msb) & 1) ^ cf) << 11));
      return r;
    }
    case 3: { // RCR: OF from the original operand (SDM RCR operation)
      const tc = size === 8 ? c % 9 : size === 16 ? c % 17 : c;
      cf = getCF(u);
      const of = ((a >>> msb) & 1) ^ cf;
      r = a;
      for (let i = 0; i < tc; i++) {
        const t = r & 1;
        r = ((r >>> 1) | (cf << msb)) >>> 0;
        cf = t;
      }
      setStatus(u, CF | OF, cf | (of << 11));
      return r;
    }
    case 5: { // SHR
      r = c >= size ? 0 : a >>> c;
      cf = c > size ? 0 : (a >>> (c - 1)) & 1;
      shiftFlags(u, size, r, 0, cf, (a >>> msb) & 1);
      return r;
    }
    case 7: { // SAR
      const s = signExtend(a, size);
      r = ((s >> (c > 31 ? 31 : c)) & m) >>> 0;
      cf = (s >> (c - 1 > 31 ? 31 : c - 1)) & 1;
      shiftFlags(u, size, r, 0, cf, 0);
      return r;
    }
    default: { // 4 SHL, 6 SAL
      r = c >= size ? 0 : ((a << c) & m) >>> 0;
      cf = c > size ? 0 : (a >>> (size - c)) & 1;
      shiftFlags(u, size, r, 0, cf, ((r >>> msb) & 1) ^ cf);
      return r;
    }
  }
}

/* ---- 64-bit helpers on halves; results in module-level scratch to avoid allocation ---- */
let rLo = 0, rHi = 0;

function shl64(lo: number, hi: number, c: number): void {
  if (c === 0) { rLo = lo; rHi = hi; } else if (c < 32) {
    rHi = ((hi << c) | (lo >>> (32 - c))) >>> 0;
    rLo = (lo << c) >>> 0;
  } else if (c < 64) {
    rHi = (lo << (c - 32)) >>> 0;
    rLo = 0;
  } else { rLo = 0; rHi = 0; }
}

function shr64(lo: number, hi: number, c: number): void {
  if (c === 0) { rLo = lo; rHi = hi; } else if (c < 32) {
    rLo = ((lo >>> c) | (hi << (32 - c))) >>> 0;
    rHi = hi >>> c;
  } else if (c < 64) {
    rLo = hi >>> (c - 32);
    rHi = 0;
  } else { rLo = 0; rHi = 0; }
}

function bit64(lo: number, hi: number, n: number): number {
  return n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1;
}

/** Group-2 operation on a 64-bit value (count masked to 6 bits). */
export function shift64(u: Uint32Array, op: number, lo: number, hi: number, count: number): number {
  const c = count & 63;
  if (c === 0) {
    u[S_T + 1] = hi;
    return lo;
  }
  let cf: number;
  switch (op) {
    case 0: { // ROL
      shl64(lo, hi, c);
      const l1 = rLo, h1 = rHi;
      shr64(lo, hi, 64 - c);
      rLo = (l1 | rLo) >>> 0;
      rHi = (h1 | rHi) >>> 0;
      cf = rLo & 1;
      setStatus(u, CF | OF, cf | (((rHi >>> 31) ^ cf) << 11));
      break;
    }
    case 1: { // ROR
      shr64(lo, hi, c);
      const l1 = rLo, h1 = rHi;
      shl64(lo, hi, 64 - c);
      rLo = (l1 | rLo) >>> 0;
      rHi = (h1 | rHi) >>> 0;
      cf = rHi >>> 31;
      setStatus(u, CF | OF, cf | ((cf ^ ((rHi >>> 30) & 1)) << 11));
      break;
    }
    case 2: { // RCL
      cf = getCF(u);
      let l = lo, h = hi;
      for (let i = 0; i < c; i++) {
        const t = h >>> 31;
        h = ((h << 1) | (l >>> 31)) >>> 0;
        l = ((l << 1) | cf) >>> 0;
        cf = t;
      }
      rLo = l; rHi = h;
      setStatus(u, CF | OF, cf | (((h >>> 31) ^ cf) << 11));
      break;
    }
    case 3: { // RCR
      cf = getCF(u);
      const of = (hi >>> 31) ^ cf;
      let l = lo, h = hi;
      for (let i = 0; i < c; i++) {
        const t = l & 1;
        l = ((l >>> 1) | (h << 31)) >>> 0;
        h = ((h >>> 1) | (cf << 31)) >>> 0;
        cf = t;
      }
      rLo = l; rHi = h;
      setStatus(u, CF | OF, cf | (of << 11));
      break;
    }
    case 5: // SHR
      shr64(lo, hi, c);
      shiftFlags(u, 64, rLo, rHi, bit64(lo, hi, c - 1), hi >>> 31);
      break;
    case 7: { // SAR
      const s = hi >> 31; // 0 or -1
      shr64(lo, hi, c);
      if (s !== 0) {
        // fill the vacated top bits with the sign
        shl64(0xffffffff, 0xffffffff, 64 - c);
        const fl = rLo, fh = rHi;
        shr64(lo, hi, c);
        rLo = (rLo | fl) >>> 0;
        rHi = (rHi | fh) >>> 0;
      }
      shiftFlags(u, 64, rLo, rHi, bit64(lo, hi, c - 1), 0);
      break;
    }
    default: // SHL/SAL
      shl64(lo, hi, c);
      cf = bit64(lo, hi, 64 - c);
      shiftFlags(u, 64, rLo, rHi, cf, (rHi >>> 31) ^ cf);
      break;
  }
  u[S_T + 1] = rHi;
  return rLo;
}

/**
 * SHLD/SHRD on 16/32 bits (SDM SHLD: count masked to 5 bits; CF = last bit shifted out of the
 * destination; OF for a count of 1 = sign change; count > operand size: result and flags undefined,
 * here the 16-bit case shifts the 48-bit concatenation dst:src:dst as Intel processors do).
 */
export function shiftDouble(u: Uint32Array, right: boolean, size: number, dst: number, src: number, count: number): number {
  const c = count & 31;
  if (c === 0) return dst;
  let r: number, cf: number;
  if (size === 32) {
    if (right) {
      r = ((dst >>> c) | (src << (32 - c))) >>> 0;
      cf = (dst >>> (c - 1)) & 1;
    } else {
      r = ((dst << c) | (src >>> (32 - c))) >>> 0;
      cf = (dst >>> (32 - c)) & 1;
    }
  } else {
    // 16-bit: work on the 48-bit pattern as lo (32 bits) / hi (16 bits) halves
    if (right) {
      // pattern (dst:src:dst) >> c, low 16 bits; bits ordered [dst(0..15) src(16..31) dst(32..47)]
      shr64(((src << 16) | dst) >>> 0, dst, c);
      r = rLo & 0xffff;
      shr64(((src << 16) | dst) >>> 0, dst, c - 1);
      cf = rLo & 1;
    } else {
      // pattern [dst(32..47) src(16..31) dst(0..15)] << c, top 16 bits
      shl64(((src << 16) | dst) >>> 0, dst, c);
      r = rHi & 0xffff;
      shl64(((src << 16) | dst) >>> 0, dst, c - 1);
      cf = (rHi >>> 15) & 1;
    }
  }
  const msb = size - 1;
  shiftFlags(u, size, r, 0, cf, ((r ^ dst) >>> msb) & 1);
  return r;
}

/** SHLD/SHRD on 64 bits (count masked to 6 bits). Returns low half, high half in u[S_T + 1]. */
export function shiftDouble64(
  u: Uint32Array, right: boolean, dlo: number, dhi: number, slo: number, shi: number, count: number,
): number {
  const c = count & 63;
  if (c === 0) {
    u[S_T + 1] = dhi;
    return dlo;
  }
  let cf: number;
  if (right) {
    shr64(dlo, dhi, c);
    const l = rLo, h = rHi;
    shl64(slo, shi, 64 - c);
    rLo = (l | rLo) >>> 0;
    rHi = (h | rHi) >>> 0;
    cf = bit64(dlo, dhi, c - 1);
  } else {
    shl64(dlo, dhi, c);
    const l = rLo, h = rHi;
    shr64(slo, shi, 64 - c);
    rLo = (l | rLo) >>> 0;
    rHi = (h | rHi) >>> 0;
    cf = bit64(dlo, dhi, 64 - c);
  }
  shiftFlags(u, 64, rLo, rHi, cf, ((rHi ^ dhi) >>> 31) & 1);
  u[S_T + 1] = rHi;
  return rLo;
}
