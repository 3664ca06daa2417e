/**
 * x87 transcendental instructions: F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS
 * (SDM Vol. 2 instruction pages with their special-value tables; Vol. 1 8.3.10 accuracy).
 *
 * Kernels run in double-double arithmetic (about 104 significant bits) on the operand's exact
 * value, then the sum is rounded once to 64 bits per FCW.RC through softfloat's f80RoundPack (so
 * flags PE/UE and C1 follow the same rules as arithmetic). Results are within 1 ulp of the exact
 * value and in practice correctly rounded; Intel's own last bits are not specified by the SDM (8.3.10
 * documents an error bound), so comparisons against hardware mask the last bit.
 *
 * FSIN/FCOS/FSINCOS/FPTAN reduce the argument modulo pi/2 with Intel's 66-bit internal pi
 * (SDM Vol. 1 8.3.10: "the value of pi used internally ... 66 bits"), exactly (long division on the
 * integer significands), so a result is that of the 66-bit-pi model; |x| >= 2^63 sets C2 and leaves
 * ST(0) unchanged. Precision control does not apply to these instructions (8.1.5.2): 64 bits.
 */
import { Mnemonic } from '../decoder/insn.js';
import { FPR_STRIDE, S_FPR, S_FSW } from '../state.js';
import { C_NEXT } from './cpu.js';
import {
  CLS_INF, CLS_NORMAL, CLS_QNAN, CLS_SNAN, CLS_SUBNORMAL, CLS_UNSUPPORTED, CLS_ZERO, FE_DENORMAL, FE_DIVZERO,
  FE_INEXACT, FE_INVALID, RC_NEAREST, f80Class, f80Mul, f80RoundPack, type FpEnv,
} from './softfloat.js';
import {
  IND_HI, IND_LO, IND_SE, SW_C1, SW_C2, getTop, isEmpty, pop, pushCommit, signal, stackFault, writeReg,
} from './x87-state.js';

// ---- double-double arithmetic (results in H, L; no allocation) ----
let H = 0, L = 0;
const SPLIT = 134217729; // 2^27 + 1 (Veltkamp)

function twoSum(a: number, b: number): void {
  const s = a + b, bb = s - a;
  H = s; L = (a - (s - bb)) + (b - bb);
}
function twoProd(a: number, b: number): void {
  const p = a * b;
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  H = p; L = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}
function ddAdd(ah: number, al: number, bh: number, bl: number): void {
  twoSum(ah, bh);
  const sh = H, sl = L;
  twoSum(al, bl);
  const th = H, tl = L;
  let c = sl + th;
  const vh = sh + c, vl = c - (vh - sh);
  c = tl + vl;
  H = vh + c; L = c - (H - vh);
}
function ddMul(ah: number, al: number, bh: number, bl: number): void {
  twoProd(ah, bh);
  const p = H, e = L + (ah * bl + al * bh);
  H = p + e; L = e - (H - p);
}
function ddDiv(ah: number, al: number, bh: number, bl: number): void {
  // three quotient digits, each from the remainder of the previous ones
  const q1 = ah / bh;
  ddMul(q1, 0, bh, bl);
  ddAdd(ah, al, -H, -L);
  const rh = H, rl = L;
  const q2 = rh / bh;
  ddMul(q2, 0, bh, bl);
  ddAdd(rh, rl, -H, -L);
  const q3 = H / bh;
  twoSum(q1, q2);
  ddAdd(H, L, q3, 0);
}
function ddSqrt(ah: number, al: number): void {
  if (ah <= 0) { H = 0; L = 0; return; }
  const x = Math.sqrt(ah);
  twoProd(x, x);
  ddAdd(ah, al, -H, -L);
  const c = H / (2 * x);
  twoSum(x, c);
}

const PI_H = 3.141592653589793, PI_L = 1.2246467991473532e-16;
const LN2_H = 0.6931471805599453, LN2_L = 2.3190468138462996e-17;
const L2E_H = 1.4426950408889634, L2E_L = 2.0355273740931033e-17;
const TINY = 2 ** -200;
/**
 * Relative correction term c of a tiny-argument series f(x) = x (1 + c): its true size `mag` (< 2^-70
 * where it is used, so it never moves a 64-bit rounding by more than the direction) raised to at least
 * 2^-100, the least a dd sum keeps next to the operand's low significand bits (a 2^-200 stand-in was
 * rounded away whenever those bits were non-zero: no PE/UE for sin/tan of tiny values, finding X5).
 */
function corr(sign: number, mag: number): number {
  return sign * (mag > 2 ** -100 ? mag : 2 ** -100);
}

// ---- the operand as m * 2^E, m = (mh, ml) in [1, 2) ----
let mh = 0, ml = 0, mE = 0, mS = 0;
function unpack(lo: number, hi: number, se: number): void {
  mS = (se >>> 15) & 1;
  let e = se & 0x7fff;
  if (e === 0) {
    e = 1; // denormal / pseudo-denormal: normalise
    while ((hi & 0x80000000) === 0) { hi = ((hi << 1) | (lo >>> 31)) >>> 0; lo = (lo << 1) >>> 0; e--; }
  }
  mE = e - 16383;
  mh = (hi * 2097152 + (lo >>> 11)) / 4503599627370496; // top 53 bits / 2^52
  ml = (lo & 0x7ff) / 9223372036854775808; // low 11 bits / 2^63
}

/**
 * Rounds (H + L) * 2^scale to the extended format into env (64 bits, env.rc). The dd sum gives the
 * 64-bit truncation plus a guard bit and a sticky bit; round-to-nearest with the guard set is done
 * here (the value is never a tie), everything else by f80RoundPack with the sticky bit.
 */
function packDD(e: FpEnv, scale: number): void {
  let h = H, l = L;
  let sign = 0;
  if (h < 0 || (h === 0 && l < 0)) { sign = 1; h = -h; l = -l; }
  if (h === 0) { f80RoundPack(e, sign, 0, 0, 0, 0); return; }
  let E = Math.floor(Math.log2(h));
  if (2 ** E > h) E--;
  else if (2 ** (E + 1) <= h) E++;
  const M = h * 2 ** -E, Lm = l * 2 ** -E;
  let sH = Math.floor(M * 2147483648);
  let lo = (M * 2147483648 - sH) * 4294967296;
  const Ls = Lm * 9223372036854775808;
  const Li = Math.floor(Ls);
  let fr = Ls - Li;
  lo += Li;
  const c = Math.floor(lo / 4294967296);
  lo -= c * 4294967296;
  sH += c;
  if (sH >= 4294967296) {
    fr = (fr + (lo % 2)) / 2;
    lo = Math.floor(lo / 2) + (sH % 2) * 2147483648;
    sH = Math.floor(sH / 2);
    E++;
  } else if (sH < 2147483648) {
    const bit = fr >= 0.5 ? 1 : 0;
    fr = fr * 2 - bit;
    lo = lo * 2 + bit;
    sH = sH * 2 + (lo >= 4294967296 ? 1 : 0);
    if (lo >= 4294967296) lo -= 4294967296;
    E--;
  }
  const g = fr >= 0.5 ? 1 : 0;
  const s = (g !== 0 ? fr !== 0.5 : fr !== 0) ? 1 : 0;
  E += scale;
  e.prec = 64;
  if (e.rc === RC_NEAREST && g !== 0 && E >= -16382) {
    lo += 1;
    if (lo >= 4294967296) { lo = 0; sH += 1; if (sH >= 4294967296) { sH = 2147483648; E++; } }
    f80RoundPack(e, sign, E, sH >>> 0, lo >>> 0, 0);
    e.flags |= FE_INEXACT;
    e.c1 = 1;
    return;
  }
  f80RoundPack(e, sign, E, sH >>> 0, lo >>> 0, g | s);
}

// ---- kernels on double-double arguments (inputs (ah, al), result in H, L) ----

/** e^t - 1 by its Taylor series (|t| <= ~0.7). */
function expm1(th: number, tl: number): void {
  let sh = th, sl = tl, ph = th, pl = tl;
  for (let k = 2; k < 60; k++) {
    ddMul(ph, pl, th, tl);
    ddDiv(H, L, k, 0); ph = H; pl = L;
    ddAdd(sh, sl, ph, pl); sh = H; sl = L;
    if (Math.abs(ph) < Math.abs(sh) * 2 ** -110) break;
  }
  H = sh; L = sl;
}

/**
 * x + x^3 q/3 + x^5 q^2/5 + ... in double-double (q = x^2 gives atanh, q = -x^2 atan), summed until a
 * term is below 2^-110 of the sum; the result in H, L.
 */
function oddSeries(xh: number, xl: number, qh: number, ql: number): void {
  let rh = xh, rl = xl, ph = xh, pl = xl;
  for (let k = 3; k < 200; k += 2) {
    ddMul(ph, pl, qh, ql); ph = H; pl = L;
    ddDiv(ph, pl, k, 0);
    const th = H, tl = L;
    ddAdd(rh, rl, th, tl); rh = H; rl = L;
    if (Math.abs(th) < Math.abs(rh) * 2 ** -110) break;
  }
  H = rh; L = rl;
}

/** 2 * atanh(s) = ln((1 + s) / (1 - s)) for |s| < ~0.2. */
function atanh2(sh: number, sl: number): void {
  ddMul(sh, sl, sh, sl);
  oddSeries(sh, sl, H, L);
  H *= 2; L *= 2;
}

/** ln(m) for m = (ah, al) in [1, 2): m reduced to [sqrt(1/2), sqrt(2)), then 2 atanh((m-1)/(m+1)). Adds k*ln2 to the exponent count in `lnK`. */
let lnK = 0;
function lnMant(ah: number, al: number): void {
  lnK = 0;
  if (ah > Math.SQRT2) { ah /= 2; al /= 2; lnK = 1; }
  ddAdd(ah, al, -1, 0);
  const nh = H, nl = L;
  ddAdd(ah, al, 1, 0);
  ddDiv(nh, nl, H, L);
  atanh2(H, L);
}

/** atan(z) for 0 <= z <= 1: two half-angle steps z/(1 + sqrt(1 + z^2)), then the series, times 4. */
function atan01(zh: number, zl: number): void {
  for (let k = 0; k < 2; k++) {
    ddMul(zh, zl, zh, zl);
    ddAdd(H, L, 1, 0);
    ddSqrt(H, L);
    ddAdd(H, L, 1, 0);
    ddDiv(zh, zl, H, L); zh = H; zl = L;
  }
  ddMul(zh, zl, zh, zl);
  oddSeries(zh, zl, -H, -L);
  H *= 4; L *= 4;
}

/** sin (cosine = false) or cos of r, |r| <= pi/4, by Taylor series. */
function sinCos(rh: number, rl: number, cosine: boolean): void {
  ddMul(rh, rl, rh, rl);
  const qh = -H, ql = -L;
  let sh: number, sl: number, ph: number, pl: number, k: number;
  if (cosine) { sh = 1; sl = 0; ph = 1; pl = 0; k = 1; } else { sh = rh; sl = rl; ph = rh; pl = rl; k = 2; }
  for (; k < 80; k += 2) {
    ddMul(ph, pl, qh, ql);
    ddDiv(H, L, k * (k + 1), 0); ph = H; pl = L;
    ddAdd(sh, sl, ph, pl); sh = H; sl = L;
    if (Math.abs(ph) < Math.abs(sh) * 2 ** -110) break;
  }
  H = sh; L = sl;
}

/** 66-bit pi / 2 = PM * 2^-65, PM = 3_243F6A88_85A308D3H (SDM Vol. 1 8.3.10). */
const PM2 = 3, PM1 = 0x243f6a88, PM0 = 0x85a308d3;
let redQ = 0, redH = 0, redL = 0;
/**
 * Reduces |x| (significand hi:lo, unbiased exponent ex) modulo the 66-bit pi/2 exactly: redQ = the
 * quadrant, (redH, redL) = the remainder in [-pi/4, pi/4] as a dd.
 */
function reduce(hi: number, lo: number, ex: number): void {
  const s = ex + 2;
  if (s < 0) { // |x| < 1/4: no reduction
    redQ = 0;
    redH = (hi * 2097152 + (lo >>> 11)) / 4503599627370496 * 2 ** ex;
    redL = (lo & 0x7ff) / 9223372036854775808 * 2 ** ex;
    return;
  }
  let r2 = 0, r1 = 0, r0 = 0, q = 0;
  const n = 64 + s;
  for (let j = 0; j < n; j++) {
    const bit = j < 32 ? (hi >>> (31 - j)) & 1 : j < 64 ? (lo >>> (63 - j)) & 1 : 0;
    r2 = r2 * 2 + (r1 >>> 31);
    r1 = ((r1 << 1) | (r0 >>> 31)) >>> 0;
    r0 = ((r0 << 1) | bit) >>> 0;
    q = (q << 1) & 3;
    if (r2 > PM2 || (r2 === PM2 && (r1 > PM1 || (r1 === PM1 && r0 >= PM0)))) {
      let t0 = r0 - PM0, t1 = r1 - PM1, t2 = r2 - PM2;
      if (t0 < 0) { t0 += 4294967296; t1 -= 1; }
      if (t1 < 0) { t1 += 4294967296; t2 -= 1; }
      r0 = t0; r1 = t1; r2 = t2;
      q |= 1;
    }
  }
  // remainder above pi/4: take r - pi/2 (negative) and the next quadrant
  let neg = false;
  const d2 = r2 * 2 + (r1 >>> 31), d1 = ((r1 << 1) | (r0 >>> 31)) >>> 0, d0 = (r0 << 1) >>> 0;
  if (d2 > PM2 || (d2 === PM2 && (d1 > PM1 || (d1 === PM1 && d0 > PM0)))) {
    let t0 = PM0 - r0, t1 = PM1 - r1, t2 = PM2 - r2;
    if (t0 < 0) { t0 += 4294967296; t1 -= 1; }
    if (t1 < 0) { t1 += 4294967296; t2 -= 1; }
    r0 = t0; r1 = t1; r2 = t2;
    neg = true;
    q = (q + 1) & 3;
  }
  twoSum(r2 * 18446744073709551616 + r1 * 4294967296, r0);
  redQ = q;
  redH = H * 2 ** -65; redL = L * 2 ** -65;
  if (neg) { redH = -redH; redL = -redL; }
}

function rd(u: Uint32Array, p: number, k: number): number { return u[S_FPR + p * FPR_STRIDE + k]!; }

/** NaN / unsupported operand of a one-operand instruction: the quieted NaN (IE for SNaN) or the indefinite (IE). */
function nanResult(e: FpEnv, cls: number, lo: number, hi: number, se: number): void {
  if (cls === CLS_UNSUPPORTED) { e.flags |= FE_INVALID; e.lo = IND_LO; e.hi = IND_HI; e.se = IND_SE; return; }
  if (cls === CLS_SNAN) e.flags |= FE_INVALID;
  e.lo = lo; e.hi = (hi | 0x40000000) >>> 0; e.se = se;
}
function setIndef(e: FpEnv): void {
  e.flags |= FE_INVALID; e.lo = IND_LO; e.hi = IND_HI; e.se = IND_SE;
}
function setInf(e: FpEnv, sign: number): void {
  e.lo = 0; e.hi = 0x80000000; e.se = sign !== 0 ? 0xffff : 0x7fff;
}
function setZero(e: FpEnv, sign: number): void {
  e.lo = 0; e.hi = 0; e.se = sign !== 0 ? 0x8000 : 0;
}
/** Exact dd pi * k/4 (k = 1, 2, 3, 4) with a sign into the result, rounded. */
function setPiFrac(e: FpEnv, k: number, sign: number): void {
  if (k === 3) ddMul(PI_H, PI_L, 0.75, 0);
  else { H = PI_H * k / 4; L = PI_L * k / 4; }
  if (sign !== 0) { H = -H; L = -L; }
  packDD(e, 0);
}

/** Stores the result in physical register p unless an unmasked IE/DE/ZE stops it (SDM Vol. 1 8.5). */
function commitTo(u: Uint32Array, e: FpEnv, p: number): boolean {
  let f = e.flags;
  const pre = FE_INVALID | FE_DENORMAL | FE_DIVZERO;
  if ((f & pre & ~e.masks) !== 0) {
    if ((f & FE_DENORMAL & ~e.masks) !== 0) f &= pre;
    signal(u, f);
    u[S_FSW] = u[S_FSW]! & ~SW_C1;
    return false;
  }
  signal(u, f);
  writeReg(u, p, e.lo, e.hi, e.se);
  u[S_FSW] = (f & FE_INEXACT) !== 0 && e.c1 !== 0 ? u[S_FSW]! | SW_C1 : u[S_FSW]! & ~SW_C1;
  return true;
}

export function transcendental(u: Uint32Array, m: number, e: FpEnv): number {
  e.prec = 64;
  const p0 = getTop(u), p1 = (p0 + 1) & 7;
  const twoOps = m === Mnemonic.Fyl2x || m === Mnemonic.Fyl2xp1 || m === Mnemonic.Fpatan;
  const pushes = m === Mnemonic.Fptan || m === Mnemonic.Fsincos;
  if (isEmpty(u, p0) || (twoOps && isEmpty(u, p1))) {
    // FSIN/FCOS/FSINCOS/FPTAN: "C2 set to 1 if outside range; otherwise 0" (SDM Vol. 2): an empty
    // operand is not out of range, so C2 = 0 (host: finding X2)
    if (!twoOps && m !== Mnemonic.F2xm1) u[S_FSW] = u[S_FSW]! & ~SW_C2;
    if (stackFault(u, false)) {
      if (twoOps) { writeReg(u, p1, IND_LO, IND_HI, IND_SE); pop(u); }
      else {
        writeReg(u, p0, IND_LO, IND_HI, IND_SE);
        if (pushes) pushCommit(u, (p0 - 1) & 7, IND_LO, IND_HI, IND_SE);
      }
    }
    return C_NEXT;
  }
  if (pushes && !isEmpty(u, (p0 - 1) & 7)) {
    u[S_FSW] = u[S_FSW]! & ~SW_C2; // as for the underflow above (host: finding X2)
    if (stackFault(u, true)) {
      writeReg(u, p0, IND_LO, IND_HI, IND_SE);
      pushCommit(u, (p0 - 1) & 7, IND_LO, IND_HI, IND_SE);
    }
    return C_NEXT;
  }
  const xlo = rd(u, p0, 0), xhi = rd(u, p0, 1), xse = rd(u, p0, 2);
  const cx = f80Class(xlo, xhi, xse);
  const sx = (xse >>> 15) & 1;
  if (twoOps) {
    const ylo = rd(u, p1, 0), yhi = rd(u, p1, 1), yse = rd(u, p1, 2);
    const cy = f80Class(ylo, yhi, yse);
    if (cx === CLS_UNSUPPORTED || cy === CLS_UNSUPPORTED || cx === CLS_QNAN || cx === CLS_SNAN || cy === CLS_QNAN || cy === CLS_SNAN) {
      f80Mul(e, ylo, yhi, yse, xlo, xhi, xse); // the x87 two-operand NaN rules (SDM Vol. 1 Table 4-7)
    } else {
      if (m === Mnemonic.Fpatan) fpatan(e, xlo, xhi, xse, cx, ylo, yhi, yse, cy);
      else fyl2x(e, m === Mnemonic.Fyl2xp1, xlo, xhi, xse, cx, ylo, yhi, yse, cy);
      // DE ranks below an invalid operation and divide-by-zero (SDM Vol. 1 8.7): log of a negative
      // denormal is IE alone; an unmasked DE discards the result computed here (commitTo)
      if ((cx === CLS_SUBNORMAL || cy === CLS_SUBNORMAL) && (e.flags & (FE_INVALID | FE_DIVZERO)) === 0) e.flags |= FE_DENORMAL;
    }
    if (commitTo(u, e, p1)) pop(u);
    return C_NEXT;
  }
  // one-operand forms
  if (m === Mnemonic.Fsin || m === Mnemonic.Fcos || m === Mnemonic.Fsincos || m === Mnemonic.Fptan) {
    // out of range: |x| >= 2^63 -> C2 = 1, nothing else (SDM Vol. 2 FSIN)
    if ((cx === CLS_NORMAL || cx === CLS_SUBNORMAL) && (xse & 0x7fff) >= 16383 + 63) {
      u[S_FSW] = u[S_FSW]! | SW_C2;
      return C_NEXT;
    }
    u[S_FSW] = u[S_FSW]! & ~SW_C2;
  }
  let c2lo = 0, c2hi = 0, c2se = 0; // second result (cos of FSINCOS; 1.0 of FPTAN)
  if (cx === CLS_UNSUPPORTED || cx === CLS_QNAN || cx === CLS_SNAN) {
    nanResult(e, cx, xlo, xhi, xse);
    c2lo = e.lo; c2hi = e.hi; c2se = e.se;
  } else if (cx === CLS_INF) {
    if (m === Mnemonic.F2xm1) { if (sx !== 0) { e.lo = 0; e.hi = 0x80000000; e.se = 0xbfff; } else setInf(e, 0); }
    else setIndef(e);
    c2lo = e.lo; c2hi = e.hi; c2se = e.se;
  } else {
    if (cx === CLS_SUBNORMAL) e.flags |= FE_DENORMAL;
    if ((e.flags & FE_DENORMAL & ~e.masks) !== 0) { commitTo(u, e, p0); return C_NEXT; }
    if (cx === CLS_ZERO) {
      // sin, tan, f2xm1 of +-0: +-0 exact; cos: +1
      setZero(e, sx);
      if (m === Mnemonic.Fcos) { e.lo = 0; e.hi = 0x80000000; e.se = 0x3fff; }
      if (m === Mnemonic.Fsincos) { c2lo = 0; c2hi = 0x80000000; c2se = 0x3fff; }
      if (m === Mnemonic.Fptan) { c2lo = 0; c2hi = 0x80000000; c2se = 0x3fff; }
    } else {
      unpack(xlo, xhi, xse);
      if (m === Mnemonic.F2xm1) f2xm1(e);
      else {
        const q = m === Mnemonic.Fcos ? 1 : 0;
        trig(e, xlo, xhi, xse, q, m === Mnemonic.Fptan);
        if (m === Mnemonic.Fsincos) {
          // the cosine into the pushed slot, then the sine (flags of both)
          const f = e.flags;
          trig(e, xlo, xhi, xse, 1, false);
          c2lo = e.lo; c2hi = e.hi; c2se = e.se;
          const f2 = e.flags;
          e.flags = f;
          trig(e, xlo, xhi, xse, 0, false);
          e.flags |= f2;
        }
        if (m === Mnemonic.Fptan) { c2lo = 0; c2hi = 0x80000000; c2se = 0x3fff; }
      }
    }
  }
  if (!commitTo(u, e, p0)) return C_NEXT;
  if (pushes) pushCommit(u, (p0 - 1) & 7, c2lo, c2hi, c2se);
  return C_NEXT;
}

/** F2XM1: 2^x - 1 (defined for -1 <= x <= 1). Operand unpacked in mh/ml/mE/mS. */
function f2xm1(e: FpEnv): void {
  const sg = mS !== 0 ? -1 : 1;
  if (mE < -70) {
    // 2^x - 1 = x ln2 (1 + x ln2 / 2 + ...): the correction only decides the rounding direction
    ddMul(sg * mh, sg * ml, LN2_H, LN2_L);
    ddMul(H, L, 1, corr(sg, Math.abs(H) * 2 ** Math.max(mE, -1100) / 2));
    packDD(e, mE);
    return;
  }
  const sc = 2 ** mE;
  ddMul(sg * mh * sc, sg * ml * sc, LN2_H, LN2_L);
  if (mE > 0) {
    // outside the SDM's domain (undefined there): 2^x - 1 through e^(x ln2) by squaring the series value
    const th = H / 2 ** (mE + 1), tl = L / 2 ** (mE + 1);
    expm1(th, tl);
    for (let k = 0; k <= mE; k++) { // e^(2t) - 1 = (e^t - 1)(e^t - 1 + 2)
      const a = H, b = L;
      ddAdd(a, b, 2, 0);
      ddMul(a, b, H, L);
      if (!Number.isFinite(H)) break;
    }
  } else expm1(H, L);
  packDD(e, 0);
}

/** FSIN (q = 0), FCOS (q = 1) or FPTAN (tan) of ST(0), finite nonzero, |x| < 2^63. */
function trig(e: FpEnv, lo: number, hi: number, se: number, q: number, tan: boolean): void {
  unpack(lo, hi, se);
  const sg = mS;
  if (mE < -40) {
    // |x| tiny: sin x = x (1 - x^2/6), tan x = x (1 + x^2/3), cos x = 1 - x^2/2
    if (q === 1) { H = 1; L = -TINY; packDD(e, 0); return; }
    ddMul(sg ? -mh : mh, sg ? -ml : ml, 1, corr(tan ? 1 : -1, (mh * 2 ** Math.max(mE, -600)) ** 2 / (tan ? 3 : 6)));
    packDD(e, mE);
    return;
  }
  reduce(hi, lo, mE);
  const rq = (redQ + q) & 3;
  let neg = false;
  if (tan) {
    sinCos(redH, redL, false);
    const sh = H, sl = L;
    sinCos(redH, redL, true);
    const ch = H, cl = L;
    if ((redQ & 1) !== 0) { ddDiv(ch, cl, sh, sl); neg = true; } else ddDiv(sh, sl, ch, cl);
    if (sg !== 0) neg = !neg;
  } else {
    // sin(x) = sin r, cos r, -sin r, -cos r by quadrant; cos(x) = sin(x + pi/2)
    sinCos(redH, redL, (rq & 1) !== 0);
    neg = (rq & 2) !== 0;
    if (sg !== 0 && q === 0) neg = !neg;
  }
  if (neg) { H = -H; L = -L; }
  packDD(e, 0);
}

/**
 * FYL2X: y * log2(x); FYL2XP1: y * log2(x + 1). Special values per the SDM tables (FYL2X Table 3-50,
 * FYL2XP1 Table 3-51): log of a negative -> IE; log2(0) = -inf (ZE for finite y); 0 * inf -> IE.
 */
function fyl2x(e: FpEnv, p1: boolean, xlo: number, xhi: number, xse: number, cx: number, ylo: number, yhi: number, yse: number, cy: number): void {
  const sx = (xse >>> 15) & 1, sy = (yse >>> 15) & 1;
  // sign and zero/infinity of L = log2(x) or log2(1 + x)
  let lSign: number, lZero = false, lInf = false;
  if (!p1) {
    if (sx !== 0 && cx !== CLS_ZERO) { setIndef(e); return; }
    if (cx === CLS_ZERO) { lInf = true; lSign = 1; }
    else if (cx === CLS_INF) { lInf = true; lSign = 0; }
    else {
      const isOne = (xse & 0x7fff) === 16383 && xhi === 0x80000000 && xlo === 0;
      lZero = isOne; lSign = (xse & 0x7fff) < 16383 ? 1 : 0;
    }
  } else {
    if (cx === CLS_ZERO) { lZero = true; lSign = sx; }
    else if (cx === CLS_INF) { if (sx !== 0) { setIndef(e); return; } lInf = true; lSign = 0; }
    else {
      // x <= -1: log of a non-positive number
      if (sx !== 0 && (xse & 0x7fff) >= 16383) {
        if ((xse & 0x7fff) === 16383 && xhi === 0x80000000 && xlo === 0) { lInf = true; lSign = 1; }
        else { setIndef(e); return; }
      }
      lSign = sx;
    }
  }
  const rs = lSign ^ sy;
  if (lInf) {
    if (cy === CLS_ZERO) { setIndef(e); return; }
    if (cy !== CLS_INF && cx === CLS_ZERO) e.flags |= FE_DIVZERO;
    if (p1 && cy !== CLS_INF && cx !== CLS_INF) e.flags |= FE_DIVZERO;
    setInf(e, rs);
    return;
  }
  if (lZero) {
    if (cy === CLS_INF) { setIndef(e); return; }
    setZero(e, rs);
    return;
  }
  if (cy === CLS_INF) { setInf(e, rs); return; }
  if (cy === CLS_ZERO) { setZero(e, rs); return; }
  // finite nonzero: compute L as dd with an exponent scale
  unpack(xlo, xhi, xse);
  let lh: number, ll: number, lscale = 0;
  if (!p1) {
    lnMant(mh, ml);
    ddMul(H, L, L2E_H, L2E_L);
    ddAdd(mE + lnK, 0, H, L);
    lh = H; ll = L;
  } else {
    const sg = mS !== 0 ? -1 : 1;
    if (mE < -70) {
      // log2(1 + x) = x log2(e) (1 - x/2 + ...)
      ddMul(sg * mh, sg * ml, L2E_H, L2E_L);
      ddMul(H, L, 1, corr(-sg, mh * 2 ** Math.max(mE, -1100) / 2));
      lh = H; ll = L; lscale = mE;
    } else {
      const sc = 2 ** mE;
      const xh = sg * mh * sc, xl = sg * ml * sc;
      if (mE < -1) {
        // ln(1 + x) = 2 atanh(x / (2 + x))
        ddAdd(2, 0, xh, xl);
        ddDiv(xh, xl, H, L);
        atanh2(H, L);
      } else {
        ddAdd(1, 0, xh, xl); // exact: 1 + x needs at most 66 bits here
        const yh = H, yl = L;
        let k = Math.floor(Math.log2(yh));
        if (2 ** k > yh) k--;
        else if (2 ** (k + 1) <= yh) k++;
        lnMant(yh * 2 ** -k, yl * 2 ** -k);
        const th = H, tl = L;
        ddMul(k + lnK, 0, LN2_H, LN2_L);
        ddAdd(th, tl, H, L);
      }
      ddMul(H, L, L2E_H, L2E_L);
      lh = H; ll = L;
    }
  }
  unpack(ylo, yhi, yse);
  ddMul(mS !== 0 ? -mh : mh, mS !== 0 ? -ml : ml, lh, ll);
  packDD(e, mE + lscale);
}

/** FPATAN: atan2(ST(1), ST(0)) with the special values of SDM Vol. 2 FPATAN Table 3-30. */
function fpatan(e: FpEnv, xlo: number, xhi: number, xse: number, cx: number, ylo: number, yhi: number, yse: number, cy: number): void {
  const sx = (xse >>> 15) & 1, sy = (yse >>> 15) & 1;
  if (cy === CLS_ZERO) { if (sx === 0) setZero(e, sy); else setPiFrac(e, 4, sy); return; }
  if (cy === CLS_INF) {
    if (cx === CLS_INF) setPiFrac(e, sx === 0 ? 1 : 3, sy);
    else setPiFrac(e, 2, sy);
    return;
  }
  if (cx === CLS_INF) { if (sx === 0) setZero(e, sy); else setPiFrac(e, 4, sy); return; }
  if (cx === CLS_ZERO) { setPiFrac(e, 2, sy); return; }
  unpack(xlo, xhi, xse);
  const xh = mh, xl = ml, xe = mE;
  unpack(ylo, yhi, yse);
  const yh = mh, yl = ml, ye = mE;
  // |y| <= |x| ?
  const yLeX = ye < xe || (ye === xe && (yh < xh || (yh === xh && yl <= xl)));
  const d = yLeX ? ye - xe : xe - ye; // exponent of the ratio (<= 0)
  let scale = 0;
  if (yLeX) ddDiv(yh, yl, xh, xl); else ddDiv(xh, xl, yh, yl);
  let zh = H, zl = L;
  if (d < -40) {
    // atan(z) = z (1 - z^2/3 ...)
    if (yLeX && sx === 0) {
      ddMul(zh, zl, 1, corr(-1, (zh * 2 ** Math.max(d, -600)) ** 2 / 3));
      scale = d;
    } else {
      // pi - z, pi/2 -+ z: z below the rounding precision of the constant
      const zz = d < -900 ? TINY * zh : zh * 2 ** d;
      if (yLeX) ddAdd(PI_H, PI_L, -zz, 0);
      else ddAdd(PI_H / 2, PI_L / 2, sx === 0 ? -zz : zz, 0);
    }
  } else {
    zh *= 2 ** d; zl *= 2 ** d;
    atan01(zh, zl);
    if (yLeX) { if (sx !== 0) ddAdd(PI_H, PI_L, -H, -L); }
    else if (sx === 0) ddAdd(PI_H / 2, PI_L / 2, -H, -L);
    else ddAdd(PI_H / 2, PI_L / 2, H, L);
  }
  if (sy !== 0) { H = -H; L = -L; }
  packDD(e, scale);
}
