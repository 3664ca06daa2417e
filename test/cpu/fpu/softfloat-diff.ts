/**
 * Differential testing of src/cpu/fpu/softfloat.ts against the host CPU (test/oracle/fpu-oracle.ts):
 * an operand generator aimed at the edges (random bit patterns, near-halfway significands, exponent
 * extremes, denormals, NaN/inf/zero, unsupported f80 encodings, integers near 2^15/2^31/2^63), the
 * mapping from each oracle operation to the softfloat call, and the comparison. Shared by the vitest
 * files and scripts/fpu-diff.ts.
 */
import * as S from '../../../src/cpu/fpu/softfloat.js';
import { FOp, FpuBatch, runFpuOracle, type FpuResults } from '../../oracle/fpu-oracle.js';

/** Seeded generator (xorshift128+ on uint32 pairs is overkill; mulberry32 is enough for operands). */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number { return Math.floor((this.u32() / 0x1_0000_0000) * n); }
  chance(p: number): boolean { return this.u32() / 0x1_0000_0000 < p; }
}

/** Random 32 bits with structure: all, few bits, low/high runs of ones or zeros. */
function bits32(r: Rng): number {
  const k = r.int(8);
  let v = r.u32();
  if (k === 0) v = 0;
  else if (k === 1) v = 0xffffffff;
  else if (k === 2) v = (v & ~((1 << r.int(32)) - 1)) >>> 0;          // low zeros
  else if (k === 3) v = (v | ((1 << r.int(32)) - 1)) >>> 0;            // low ones
  else if (k === 4) v = 1 << r.int(32) >>> 0;                           // one bit
  else if (k === 5) v = (v | (0xffffffff << r.int(32))) >>> 0;          // high ones
  return v >>> 0;
}

/** A significand with only its top k bits random (products/quotients of these land on midpoints). */
function shortSig(r: Rng, k: number): number {
  return k >= 32 ? r.u32() : (((r.u32() | 0x80000000) >>> (32 - k)) << (32 - k)) >>> 0;
}

// Operand outputs (a generator writes oLo/oHi/oSe).
export let oLo = 0, oHi = 0, oSe = 0;

export function genF32(r: Rng): number {
  const k = r.int(10), s = r.int(2) << 31;
  let v: number;
  switch (k) {
    case 0: case 1: v = r.u32(); break;
    case 2: {
      const sp = [0, 1, 0x7fffff, 0x800000, 0x7f7fffff, 0x7f800000, 0x7fc00000, 0x7f800001, 0x7fbfffff, 0x3f800000,
        0x3f7fffff, 0x3f800001, 0x7fffffff, 0x00400000, 0x00800001, 0x4f000000, 0x4effffff, 0x5f000000, 0x46fffe00, 0x3f000000];
      v = sp[r.int(sp.length)]!;
      break;
    }
    case 3: v = bits32(r) & 0x7fffff; break;                                   // subnormal (or 0)
    case 4: v = ((1 + r.int(30)) << 23) | (bits32(r) & 0x7fffff); break;      // tiny normal
    case 5: v = ((225 + r.int(30)) << 23) | (bits32(r) & 0x7fffff); break;    // huge
    case 6: v = ((97 + r.int(60)) << 23) | ((shortSig(r, 1 + r.int(24)) >>> 8) & 0x7fffff); break;
    case 7: v = ((1 + r.int(50)) << 23) | ((shortSig(r, 1 + r.int(24)) >>> 8) & 0x7fffff); break;
    default: v = ((97 + r.int(60)) << 23) | (bits32(r) & 0x7fffff); break;    // moderate
  }
  return (v | s) >>> 0;
}

export function genF64(r: Rng): void {
  const k = r.int(10), s = r.int(2) << 31;
  let hi: number, lo: number;
  switch (k) {
    case 0: case 1: hi = r.u32(); lo = r.u32(); break;
    case 2: {
      const sp: [number, number][] = [[0, 0], [0, 1], [0xfffff, 0xffffffff], [0x100000, 0], [0x7fefffff, 0xffffffff],
        [0x7ff00000, 0], [0x7ff80000, 0], [0x7ff00000, 1], [0x7ff7ffff, 0xffffffff], [0x3ff00000, 0], [0x3fefffff, 0xffffffff],
        [0x3ff00000, 1], [0x41e00000, 0], [0x41dfffff, 0xffc00000], [0x43e00000, 0], [0x43dfffff, 0xffffffff], [0xc1e00000, 0x00100000],
        [0x40dfffe0, 0], [0x3fe00000, 0], [0x36a00000, 0], [0x380fffff, 0xe0000000], [0x47efffff, 0xf0000000], [0x47efffff, 0xe0000000]];
      [hi, lo] = sp[r.int(sp.length)]!;
      break;
    }
    case 3: hi = bits32(r) & 0xfffff; lo = bits32(r); if (r.chance(0.3)) hi = 0; break;
    case 4: hi = ((1 + r.int(40)) << 20) | (bits32(r) & 0xfffff); lo = bits32(r); break;
    case 5: hi = ((2007 + r.int(40)) << 20) | (bits32(r) & 0xfffff); lo = bits32(r); break;
    case 6: hi = ((874 + r.int(300)) << 20) | (bits32(r) & 0xfffff); lo = bits32(r); break;   // f32-range edges
    case 7: {
      const k = 1 + r.int(53), sh = shortSig(r, Math.min(k, 32)), sl = k > 32 ? shortSig(r, k - 32) : 0;
      hi = ((r.chance(0.3) ? 1 + r.int(60) : 983 + r.int(80)) << 20) | ((sh >>> 11) & 0xfffff); lo = ((sh << 21) | (sl >>> 11)) >>> 0;
      break;
    }
    default: hi = ((983 + r.int(80)) << 20) | (bits32(r) & 0xfffff); lo = bits32(r); break;
  }
  oHi = (hi | s) >>> 0; oLo = lo >>> 0; oSe = 0;
}

export function genF80(r: Rng): void {
  const k = r.int(12), s = r.int(2) << 15;
  let se: number, hi = bits32(r), lo = bits32(r);
  switch (k) {
    case 0: se = r.u32() & 0x7fff; hi = r.u32(); lo = r.u32(); break;                      // any, incl. unsupported
    case 1: {
      const sp: [number, number, number][] = [[0, 0, 0], [0, 0, 1], [0, 0x80000000, 0], [0x7fff, 0x80000000, 0],
        [0x7fff, 0xc0000000, 0], [0x7fff, 0x80000000, 1], [0x7fff, 0xbfffffff, 0xffffffff], [0x7ffe, 0xffffffff, 0xffffffff],
        [1, 0x80000000, 0], [0, 0x7fffffff, 0xffffffff], [0x3fff, 0x80000000, 0], [0x3fff, 0xffffffff, 0xffffffff],
        [0x401d, 0x80000000, 0], [0x403d, 0xffffffff, 0xffffffff], [0x403e, 0x80000000, 0], [0x400e, 0xffff0000, 0],
        [0x3ffe, 0x80000000, 0], [0x3f80, 0x80000000, 0], [0x3c00, 0x80000000, 0], [0x407e, 0xffffff00, 0], [0x43fe, 0xffffffff, 0xfffff800]];
      [se, hi, lo] = sp[r.int(sp.length)]!;
      break;
    }
    case 2: se = 0; hi &= 0x7fffffff; if (r.chance(0.3)) hi = 0; break;                      // denormal
    case 3: se = 0; hi |= 0x80000000; break;                                                  // pseudo-denormal
    case 4: se = 1 + r.int(70); hi |= 0x80000000; break;                                      // tiny
    case 5: se = 0x7ffe - r.int(70); hi |= 0x80000000; break;                                  // huge
    case 6: se = 0x3f81 - 60 + r.int(120); hi |= 0x80000000; break;                           // f32 range edges
    case 7: se = 0x3c01 - 80 + r.int(160); hi |= 0x80000000; break;                           // f64 range edges
    case 8: se = 0x7fff; hi |= 0x80000000; if (((hi & 0x7fffffff) | lo) === 0) lo = 1; break; // NaN
    case 9: case 10: {                                                                        // short significand
      const k = 1 + r.int(64);
      hi = shortSig(r, Math.min(k, 32)); lo = k > 32 ? shortSig(r, k - 32) : 0;
      se = r.chance(0.2) ? 1 + r.int(100) : 0x3fff - 40 + r.int(80);
      break;
    }
    default: se = 0x3fff - 40 + r.int(80); hi |= 0x80000000; break;
  }
  oHi = hi >>> 0; oLo = lo >>> 0; oSe = (se | s) & 0xffff;
}

/** Double-valued integers near the int16/32/64 limits and halfway points, for float -> int ops. */
export function genIntish(r: Rng): number {
  const bases = [0, 1, 2, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 2 ** 52, 2 ** 53, 2 ** 62, 2 ** 63, 2 ** 64, 12345];
  let v = bases[r.int(bases.length)]!;
  const fr = [0, 0.5, 0.25, 0.75, -0.5, -0.25, 1, -1, 1.5, 0.4999999999999999, 2.5];
  v += fr[r.int(fr.length)]!;
  if (r.chance(0.3)) v = (r.u32() - 0x80000000) * (r.chance(0.5) ? 1 : 2 ** r.int(33)) + r.int(4) / 4;
  return r.chance(0.5) ? -v : v;
}

const f64b = new Float64Array(1), u32b = new Uint32Array(f64b.buffer);
export function dbl(x: number): void { f64b[0] = x; oLo = u32b[0]!; oHi = u32b[1]!; oSe = 0; }

// ---- families ----------------------------------------------------------------------------------

/** rne: RC = nearest and normal operands only (the native-double fast path's domain, and its edges). */
export interface Family { name: string; ops: FOp[]; rne?: boolean }
export const FAMILIES: Family[] = [
  { name: 'x87 arith', ops: [FOp.X_ADD, FOp.X_SUB, FOp.X_MUL, FOp.X_DIV, FOp.X_SQRT] },
  { name: 'x87 compare/round/prem/scale', ops: [FOp.X_COM, FOp.X_UCOM, FOp.X_RNDINT, FOp.X_PREM, FOp.X_PREM1, FOp.X_SCALE] },
  { name: 'x87 conversions', ops: [FOp.X_FIST16, FOp.X_FIST32, FOp.X_FIST64, FOp.X_FISTT16, FOp.X_FISTT32, FOp.X_FISTT64,
    FOp.X_FLD32, FOp.X_FLD64, FOp.X_FST32, FOp.X_FST64, FOp.X_FILD32, FOp.X_FILD64] },
  { name: 'SSE binary32 arith', ops: [FOp.S_ADDSS, FOp.S_SUBSS, FOp.S_MULSS, FOp.S_DIVSS, FOp.S_SQRTSS] },
  { name: 'SSE binary64 arith', ops: [FOp.S_ADDSD, FOp.S_SUBSD, FOp.S_MULSD, FOp.S_DIVSD, FOp.S_SQRTSD] },
  { name: 'SSE fast path (RNE, normal operands)', rne: true, ops: [FOp.S_ADDSS, FOp.S_SUBSS, FOp.S_MULSS, FOp.S_DIVSS,
    FOp.S_SQRTSS, FOp.S_ADDSD, FOp.S_SUBSD, FOp.S_MULSD, FOp.S_DIVSD, FOp.S_SQRTSD] },
  { name: 'SSE compare/round', ops: [FOp.S_COMISS, FOp.S_UCOMISS, FOp.S_COMISD, FOp.S_UCOMISD, FOp.S_ROUNDSS, FOp.S_ROUNDSD] },
  { name: 'SSE conversions', ops: [FOp.S_CVTSS2SD, FOp.S_CVTSD2SS, FOp.S_CVTSI2SS32, FOp.S_CVTSI2SS64, FOp.S_CVTSI2SD32,
    FOp.S_CVTSI2SD64, FOp.S_CVTSS2SI32, FOp.S_CVTSS2SI64, FOp.S_CVTTSS2SI32, FOp.S_CVTTSS2SI64, FOp.S_CVTSD2SI32,
    FOp.S_CVTSD2SI64, FOp.S_CVTTSD2SI32, FOp.S_CVTTSD2SI64] },
];

const PC_OF = [0, 2, 3]; // FCW.PC for 24, 53, 64 bits

/** Fills a batch with `n` cases of the family. */
export function genCases(batch: FpuBatch, fam: Family, n: number, r: Rng): void {
  for (let i = 0; i < n; i++) {
    const op = fam.ops[r.int(fam.ops.length)]!;
    const rc = fam.rne ? 0 : r.int(4);
    if (op < FOp.S_ADDSS) {
      // Register-result ops and stores: 30% with OE/UE/PE unmasked (observed natively through FNSAVE/FNSTSW).
      const unmaskable = op <= FOp.X_SCALE || (op >= FOp.X_FIST16 && op <= FOp.X_FISTT64) || op === FOp.X_FST32 || op === FOp.X_FST64;
      const unmask = unmaskable && r.chance(0.3) ? (1 + r.int(7)) << 3 : 0;
      const ctl = (0x7f & ~unmask) | (PC_OF[r.int(3)]! << 8) | (rc << 10);
      let alo: number, ahi: number, ase: number, blo = 0, bhi = 0, bse = 0;
      if (op >= FOp.X_FIST16 && op <= FOp.X_FISTT64 && r.chance(0.6)) {
        S.f80FromDouble(env, genIntish(r)); alo = env.lo; ahi = env.hi; ase = env.se;
        if (r.chance(0.3)) alo = (alo ^ (1 << r.int(11))) >>> 0;
      } else if (op === FOp.X_FLD32) { alo = genF32(r); ahi = 0; ase = 0; }
      else if (op === FOp.X_FLD64) { genF64(r); alo = oLo; ahi = oHi; ase = 0; }
      else if (op === FOp.X_FILD32) { alo = r.chance(0.5) ? r.u32() : bits32(r); ahi = 0; ase = 0; }
      else if (op === FOp.X_FILD64) { alo = bits32(r); ahi = r.chance(0.5) ? r.u32() : bits32(r); ase = 0; }
      else if (op === FOp.X_SQRT && r.chance(0.3)) {
        // Exact squares of 25- and 54-bit odd roots: midpoints at PC=24 / PC=53.
        const bits = r.chance(0.5) ? 25 : 32;
        const root = BigInt((r.u32() >>> (32 - bits)) | 1) | (1n << BigInt(bits - 1));
        const sq = root * root * (r.chance(0.5) ? 1n : 4n) + BigInt(r.int(3)) - 1n;
        const sh = 64n - BigInt(sq.toString(2).length);
        const sig = sq << sh;
        alo = Number(sig & 0xffffffffn); ahi = Number(sig >> 32n); ase = 0x3fff + r.int(9) - 4;
      } else { genF80(r); alo = oLo; ahi = oHi; ase = oSe; }
      if (op <= FOp.X_SCALE) {
        if (op === FOp.X_SCALE && r.chance(0.7)) {
          S.f80FromDouble(env, (r.int(2) ? -1 : 1) * (r.chance(0.5) ? r.int(70) : r.int(40000)) + (r.chance(0.3) ? r.int(4) / 4 : 0));
          blo = env.lo; bhi = env.hi; bse = env.se;
        } else if (r.chance(0.25) && (ase & 0x7fff) !== 0x7fff) {
          // Near a: cancellation / exponent difference edges.
          blo = (alo + (r.int(3) - 1) * (1 << r.int(32))) >>> 0; bhi = ahi; bse = ((ase & 0x7fff) + r.int(130) - 65) & 0x7fff | (r.int(2) << 15);
          if (r.chance(0.5)) bse = ase ^ (r.int(2) << 15);
        } else { genF80(r); blo = oLo; bhi = oHi; bse = oSe; }
      }
      batch.add(op, ctl, alo, ahi, ase, blo, bhi, bse, 0, unmask !== 0 ? 1 : 0);
      continue;
    }
    // 30%: some exceptions unmasked (the helper catches #XM and reports the MXCSR flags).
    const unmaskS = r.chance(0.3) ? (1 + r.int(63)) << 7 : 0;
    const ctl = ((0x1f80 & ~unmaskS) | (rc << 13) | (r.chance(0.2) ? 0x40 : 0) | (r.chance(0.2) ? 0x8000 : 0)) >>> 0;
    const single = op === FOp.S_ADDSS || op === FOp.S_SUBSS || op === FOp.S_MULSS || op === FOp.S_DIVSS || op === FOp.S_SQRTSS ||
      op === FOp.S_COMISS || op === FOp.S_UCOMISS || op === FOp.S_ROUNDSS || op === FOp.S_CVTSS2SD ||
      (op >= FOp.S_CVTSS2SI32 && op <= FOp.S_CVTTSS2SI64);
    let alo: number, ahi = 0, blo = 0, bhi = 0;
    if (op >= FOp.S_CVTSI2SS32 && op <= FOp.S_CVTSI2SD64) {
      if (r.chance(0.5)) { alo = r.u32(); ahi = r.u32(); } else { alo = bits32(r); ahi = bits32(r); }
      if (r.chance(0.3)) ahi = r.chance(0.5) ? 0 : 0xffffffff;
    } else if (op >= FOp.S_CVTSS2SI32 && op <= FOp.S_CVTTSD2SI64 && r.chance(0.6)) {
      const x = genIntish(r);
      if (single) { f64b[0] = Math.fround(x); u32b[0] = 0; const f = new Float32Array([Math.fround(x)]); alo = new Uint32Array(f.buffer)[0]!; }
      else { dbl(x); alo = oLo; ahi = oHi; }
    } else if (single) {
      alo = genF32(r);
      blo = r.chance(0.2) ? ((alo + r.int(5) - 2) ^ (r.int(2) << 31)) >>> 0 : genF32(r);
      if (fam.rne) {
        while (((alo >>> 23) & 0xff) === 0 || ((alo >>> 23) & 0xff) === 0xff) alo = genF32(r);
        while (((blo >>> 23) & 0xff) === 0 || ((blo >>> 23) & 0xff) === 0xff) blo = genF32(r);
      }
    } else {
      genF64(r); alo = oLo; ahi = oHi;
      if (r.chance(0.2)) { blo = (alo + r.int(5) - 2) >>> 0; bhi = (ahi ^ (r.int(2) << 31)) >>> 0; }
      else { genF64(r); blo = oLo; bhi = oHi; }
      if (fam.rne) {
        while (((ahi >>> 20) & 0x7ff) === 0 || ((ahi >>> 20) & 0x7ff) === 0x7ff) { genF64(r); alo = oLo; ahi = oHi; }
        while (((bhi >>> 20) & 0x7ff) === 0 || ((bhi >>> 20) & 0x7ff) === 0x7ff) { genF64(r); blo = oLo; bhi = oHi; }
        if (r.chance(0.3)) {
          // Exponents near the fast path's window edges (2^+-480) and the overflow/underflow thresholds.
          const ex = [543, 542, 1503, 1504, 1, 2, 2046, 2045, 1023][r.int(9)]!;
          ahi = ((ahi & 0x800fffff) | (ex << 20)) >>> 0;
        }
      }
    }
    batch.add(op, ctl, alo, ahi, 0, blo, bhi, 0, r.int(16), unmaskS !== 0 ? 1 : 0);
  }
}

const env = new S.FpEnv();
const hex = (v: number, w = 8): string => (v >>> 0).toString(16).padStart(w, '0');

/** Compares case i with the softfloat result; returns a description of the mismatch or null. */
export function checkCase(batch: FpuBatch, res: FpuResults, i: number): string | null {
  const v = batch.v, o = i * 40;
  const op = v.getUint32(o, true), ctl = v.getUint32(o + 4, true);
  const alo = v.getUint32(o + 8, true), ahi = v.getUint32(o + 12, true), ase = v.getUint32(o + 16, true);
  const imm = v.getUint32(o + 20, true);
  const blo = v.getUint32(o + 24, true), bhi = v.getUint32(o + 28, true), bse = v.getUint32(o + 32, true);
  const opt = v.getUint32(o + 36, true);
  const e = env;
  e.flags = 0; e.c1 = 0; e.lo = 0; e.hi = 0; e.se = 0; e.q = 0; e.partial = 0;
  e.masks = (opt & 1) !== 0 ? ctl & 0x3f : 0x3f;
  let gotLo = 0, gotHi = 0, gotSe = 0, gotStatus = 0, gotCmp = 0;
  let expStatus: number, statusMask: number;
  const st = res.status(i);
  if (op < FOp.S_ADDSS) {
    e.x87 = true; e.daz = false; e.ftz = false;
    e.rc = (ctl >>> 10) & 3;
    const pc = (ctl >>> 8) & 3;
    e.prec = pc === 0 ? 24 : pc === 2 ? 53 : 64;
    statusMask = 0x3f | 0x200; // flags + C1
    let cc = -1;
    switch (op) {
      case FOp.X_ADD: S.f80Add(e, alo, ahi, ase, blo, bhi, bse); break;
      case FOp.X_SUB: S.f80Sub(e, alo, ahi, ase, blo, bhi, bse); break;
      case FOp.X_MUL: S.f80Mul(e, alo, ahi, ase, blo, bhi, bse); break;
      case FOp.X_DIV: S.f80Div(e, alo, ahi, ase, blo, bhi, bse); break;
      case FOp.X_SQRT: S.f80Sqrt(e, alo, ahi, ase); break;
      case FOp.X_COM: case FOp.X_UCOM: {
        const c = S.f80Cmp(e, alo, ahi, ase, blo, bhi, bse, op === FOp.X_UCOM);
        cc = c === S.CMP_GT ? 0 : c === S.CMP_LT ? 0x100 : c === S.CMP_EQ ? 0x4000 : 0x4500;
        statusMask = 0x3f | 0x4500;
        break;
      }
      case FOp.X_RNDINT: e.prec = 64; S.f80RoundInt(e, alo, ahi, ase, e.rc, false); break;
      case FOp.X_PREM: case FOp.X_PREM1: {
        S.f80Rem(e, alo, ahi, ase, blo, bhi, bse, op === FOp.X_PREM1);
        const q = e.q;
        cc = ((q >> 2) & 1) << 8 | ((q >> 1) & 1) << 14 | (q & 1) << 9 | e.partial << 10;
        statusMask = 0x3f | 0x4700;
        // Quotient bits are only defined when the reduction completes and the result is a number.
        if (e.partial || (e.flags & S.FE_INVALID) || (e.se & 0x7fff) === 0x7fff) { statusMask = 0x3f | 0x400; cc &= 0x400; }
        break;
      }
      case FOp.X_SCALE: S.f80Scale(e, alo, ahi, ase, blo, bhi, bse); break;
      case FOp.X_FIST16: case FOp.X_FIST32: case FOp.X_FIST64:
      case FOp.X_FISTT16: case FOp.X_FISTT32: case FOp.X_FISTT64: {
        const bits = [16, 32, 64][(op - FOp.X_FIST16) % 3]!;
        S.f80ToInt(e, alo, ahi, ase, bits, op >= FOp.X_FISTT16);
        break;
      }
      case FOp.X_FLD32: S.f32ToF80(e, alo); break;
      case FOp.X_FLD64: S.f64ToF80(e, alo, ahi); break;
      case FOp.X_FST32: S.f80ToF32(e, alo, ahi, ase); e.hi = 0; e.se = 0; break;
      case FOp.X_FST64: S.f80ToF64(e, alo, ahi, ase); e.se = 0; break;
      case FOp.X_FILD32: S.i32ToF80(e, alo | 0); break;
      case FOp.X_FILD64: S.i64ToF80(e, alo, ahi); break;
      default: return `unknown op ${op}`;
    }
    gotLo = e.lo; gotHi = e.hi; gotSe = e.se;
    if (op === FOp.X_COM || op === FOp.X_UCOM) { gotLo = gotHi = gotSe = 0; }
    expStatus = (e.flags & 0x3f) | (e.c1 << 9);
    if (cc >= 0) expStatus = (expStatus & ~0x200) | cc;
    gotStatus = st & statusMask;
    expStatus &= statusMask;
  } else {
    e.x87 = false;
    if ((opt & 1) !== 0) e.masks = (ctl >>> 7) & 0x3f;
    e.rc = (ctl >>> 13) & 3;
    e.daz = (ctl & 0x40) !== 0;
    e.ftz = (ctl & 0x8000) !== 0;
    statusMask = 0x3f;
    let cmp = 0;
    switch (op) {
      case FOp.S_ADDSS: S.f32Add(e, alo, blo); break;
      case FOp.S_SUBSS: S.f32Sub(e, alo, blo); break;
      case FOp.S_MULSS: S.f32Mul(e, alo, blo); break;
      case FOp.S_DIVSS: S.f32Div(e, alo, blo); break;
      case FOp.S_SQRTSS: S.f32Sqrt(e, alo); break;
      case FOp.S_ADDSD: S.f64Add(e, alo, ahi, blo, bhi); break;
      case FOp.S_SUBSD: S.f64Sub(e, alo, ahi, blo, bhi); break;
      case FOp.S_MULSD: S.f64Mul(e, alo, ahi, blo, bhi); break;
      case FOp.S_DIVSD: S.f64Div(e, alo, ahi, blo, bhi); break;
      case FOp.S_SQRTSD: S.f64Sqrt(e, alo, ahi); break;
      case FOp.S_COMISS: case FOp.S_UCOMISS: case FOp.S_COMISD: case FOp.S_UCOMISD: {
        const quiet = op === FOp.S_UCOMISS || op === FOp.S_UCOMISD;
        const c = op <= FOp.S_UCOMISS ? S.f32Cmp(e, alo, blo, quiet) : S.f64Cmp(e, alo, ahi, blo, bhi, quiet);
        cmp = c === S.CMP_UN ? 7 : c === S.CMP_LT ? 4 : c === S.CMP_EQ ? 1 : 0;
        e.lo = e.hi = 0;
        break;
      }
      case FOp.S_CVTSS2SD: S.f32ToF64(e, alo); break;
      case FOp.S_CVTSD2SS: S.f64ToF32(e, alo, ahi); e.hi = 0; break;
      case FOp.S_CVTSI2SS32: S.i32ToF32(e, alo | 0); e.hi = 0; break;
      case FOp.S_CVTSI2SS64: S.i64ToF32(e, alo, ahi); e.hi = 0; break;
      case FOp.S_CVTSI2SD32: S.i32ToF64(e, alo | 0); break;
      case FOp.S_CVTSI2SD64: S.i64ToF64(e, alo, ahi); break;
      case FOp.S_CVTSS2SI32: S.f32ToInt(e, alo, 32, false); break;
      case FOp.S_CVTSS2SI64: S.f32ToInt(e, alo, 64, false); break;
      case FOp.S_CVTTSS2SI32: S.f32ToInt(e, alo, 32, true); break;
      case FOp.S_CVTTSS2SI64: S.f32ToInt(e, alo, 64, true); break;
      case FOp.S_CVTSD2SI32: S.f64ToInt(e, alo, ahi, 32, false); break;
      case FOp.S_CVTSD2SI64: S.f64ToInt(e, alo, ahi, 64, false); break;
      case FOp.S_CVTTSD2SI32: S.f64ToInt(e, alo, ahi, 32, true); break;
      case FOp.S_CVTTSD2SI64: S.f64ToInt(e, alo, ahi, 64, true); break;
      case FOp.S_ROUNDSS: case FOp.S_ROUNDSD: {
        const rc = (imm & 4) !== 0 ? e.rc : imm & 3;
        if (op === FOp.S_ROUNDSS) { S.f32RoundInt(e, alo, rc, (imm & 8) !== 0); e.hi = 0; }
        else S.f64RoundInt(e, alo, ahi, rc, (imm & 8) !== 0);
        break;
      }
      default: return `unknown op ${op}`;
    }
    gotLo = e.lo; gotHi = e.hi; gotSe = 0;
    expStatus = e.flags & 0x3f;
    gotStatus = st & statusMask;
    gotCmp = cmp;
  }
  let hLo = res.lo(i), hHi = res.hi(i), hSe = res.se(i) & 0xffff, hCmp = res.cmp(i);
  // An x87 store with an unmasked OE/UE writes nothing (SDM Vol. 1 8.5.4/8.5.5): compare the status only.
  if ((op === FOp.X_FST32 || op === FOp.X_FST64) && (e.flags & ~e.masks & (S.FE_OVERFLOW | S.FE_UNDERFLOW)) !== 0) {
    if (hLo !== 0 || hHi !== 0) return `op ${FOp_NAMES[op]} ctl ${hex(ctl, 4)}: the host stored ${hex(hHi)}:${hex(hLo)} despite an unmasked exception`;
    hLo = gotLo >>> 0; hHi = gotHi >>> 0;
  }
  if (op >= FOp.S_ADDSS) {
    // An unmasked exception (#XM) leaves only the MXCSR flags to compare, and must be predicted.
    const want = (e.flags & ~e.masks & 0x3f) !== 0 ? 1 : 0;
    if (want !== res.faulted(i)) return `op ${FOp_NAMES[op] ?? op} ctl ${hex(ctl, 4)}: host #XM ${res.faulted(i)}, softfloat flags ${hex(e.flags, 2)}`;
    if (want) { hLo = gotLo >>> 0; hHi = gotHi >>> 0; hSe = gotSe & 0xffff; hCmp = gotCmp; }
  }
  if (hLo === (gotLo >>> 0) && hHi === (gotHi >>> 0) && hSe === (gotSe & 0xffff) && gotStatus === expStatus && hCmp === gotCmp) return null;
  return `op ${FOp_NAMES[op] ?? op} ctl ${hex(ctl, 4)}${opt & 1 ? ' unmasked' : ''} imm ${imm} a ${hex(ase, 4)}:${hex(ahi)}:${hex(alo)} b ${hex(bse, 4)}:${hex(bhi)}:${hex(blo)}` +
    ` host ${hex(hSe, 4)}:${hex(hHi)}:${hex(hLo)} st ${hex(gotStatus, 4)} cmp ${hCmp}` +
    ` soft ${hex(gotSe, 4)}:${hex(gotHi)}:${hex(gotLo)} st ${hex(expStatus, 4)} cmp ${gotCmp}`;
}

const FOp_NAMES: Record<number, string> = {};
{
  const names = ['X_ADD', 'X_SUB', 'X_MUL', 'X_DIV', 'X_SQRT', 'X_COM', 'X_UCOM', 'X_RNDINT', 'X_PREM', 'X_PREM1', 'X_SCALE',
    'X_FIST16', 'X_FIST32', 'X_FIST64', 'X_FISTT16', 'X_FISTT32', 'X_FISTT64', 'X_FLD32', 'X_FLD64', 'X_FST32', 'X_FST64',
    'X_FILD32', 'X_FILD64'];
  names.forEach((n, i) => { FOp_NAMES[i + 1] = n; });
  const sn = ['ADDSS', 'SUBSS', 'MULSS', 'DIVSS', 'SQRTSS', 'ADDSD', 'SUBSD', 'MULSD', 'DIVSD', 'SQRTSD', 'COMISS', 'UCOMISS',
    'COMISD', 'UCOMISD', 'CVTSS2SD', 'CVTSD2SS', 'CVTSI2SS32', 'CVTSI2SS64', 'CVTSI2SD32', 'CVTSI2SD64', 'CVTSS2SI32',
    'CVTSS2SI64', 'CVTTSS2SI32', 'CVTTSS2SI64', 'CVTSD2SI32', 'CVTSD2SI64', 'CVTTSD2SI32', 'CVTTSD2SI64', 'ROUNDSS', 'ROUNDSD'];
  sn.forEach((n, i) => { FOp_NAMES[i + 32] = n; });
}

export interface DiffReport { cases: number; mismatches: number; samples: string[]; perOp: Map<string, number> }

/** Runs n cases of a family in batches through the host; collects mismatches. */
export function runFamily(fam: Family, n: number, seed: number, maxSamples = 20, batchSize = 50_000): DiffReport {
  const r = new Rng(seed);
  const rep: DiffReport = { cases: 0, mismatches: 0, samples: [], perOp: new Map() };
  const batch = new FpuBatch(Math.min(batchSize, n));
  while (rep.cases < n) {
    batch.count = 0;
    genCases(batch, fam, Math.min(batchSize, n - rep.cases), r);
    const res = runFpuOracle(batch);
    for (let i = 0; i < batch.count; i++) {
      const m = checkCase(batch, res, i);
      if (m !== null) {
        rep.mismatches++;
        const name = m.split(' ')[1]!;
        rep.perOp.set(name, (rep.perOp.get(name) ?? 0) + 1);
        if (rep.samples.length < maxSamples) rep.samples.push(m);
      }
    }
    rep.cases += batch.count;
  }
  return rep;
}
