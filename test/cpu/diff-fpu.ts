/**
 * Differential testing of the x87, MMX and SSE..SSE4.2 instruction forms against the host CPU
 * (test/oracle/hostcpu.ts, version-2 records: the full FXSAVE image goes in and comes out).
 *
 * Every form below is encoded with random registers, random x87/MMX/XMM contents biased to the
 * edges (zeros, denormals, infinities, QNaN/SNaN, near-halfway significands, integer boundaries,
 * random bit patterns), a random FCW (RC, PC, masks), FSW (TOP, C0-C3, sticky flags), abridged tags
 * and MXCSR (RC, DAZ, FTZ, masks, flags), and for memory forms a random address inside the oracle's
 * scratch area. The same case runs on the host (CPL 3 under Linux: CR0.NE = 1, CR4.OSFXSR =
 * OSXMMEXCPT = 1) and on a Vcpu set up the same way (test/cpu/diff-core.ts's guest-physical map).
 * Compared: the outcome and fault vector; the x87 registers by physical number, FSW (TOP, C0-C3,
 * flags, ES, B), FCW, abridged tags, MXCSR, XMM0-15, RFLAGS, the GPRs and the scratch bytes.
 * What is masked, and why, is the MASKED table below (also in docs/oracle.md).
 *
 * SDM references: Vol. 1 ch. 8 (x87), 9 (MMX), 10-12 (SSE..SSE4), 10.5.1 (FXSAVE layout);
 * Vol. 2 instruction pages for the encodings; Vol. 3A Table 2-2 and 6.15 for the exceptions.
 */
import { HostMemory } from '../../src/memory/host.js';
import { Vcpu } from '../../src/cpu/vcpu.js';
import { getFlags, setFlags } from '../../src/cpu/flags.js';
import {
  CS, DS, ES, FS, GS, SS, S_CR0, S_CR4, S_EFER, S_RIP, CR0_PE, EFER_LMA, EFER_LME, codeAttr, dataAttr,
  CF, PF, AF, ZF, SF, OF, DF, S_FPR, FPR_STRIDE, S_FCW, S_FSW, S_FTW, S_FOP, S_FIP, S_FCS, S_FDP, S_FDS,
  S_MXCSR, S_XMM, XMM_STRIDE,
} from '../../src/cpu/state.js';
import {
  FX, fxInitImage, HostCpuOracle, ORACLE_CODE_ADDR, ORACLE_SCRATCH_ADDR,
  type OracleCase, type OracleResult,
} from '../oracle/hostcpu.js';
import { OracleSpace, Rng, caseOutcome } from './diff-core.js';

export { Rng };

/* ================= what is masked, and why ================= */

export const MASKED: readonly { what: string; reason: string }[] = [
  {
    what: 'FOP, FIP, FDP (and FCS/FDS, which FXSAVE64 does not store)',
    reason: 'This host (AMD) stores FOP/FIP/FDP in FXSAVE only while FSW.ES = 1 (an unmasked exception is pending), ' +
      'and zeroes them otherwise. Intel always stores them (SDM Vol. 1 8.1.8-8.1.10). ' +
      'So they are compared only when the case itself raised ES (host ES 0 -> 1): then FOP and FIP must match, and FDP too for ' +
      'forms with a memory operand (AMD zeroes FDP for register forms, Intel keeps the last one).',
  },
  {
    what: 'MXCSR_MASK (FXSAVE bytes 28-31)',
    reason: 'A property of the processor, not of the state: this host reports 0x2FFFF (AMD misaligned-SSE mode bit 17); ' +
      'the model reports its own. FXSAVE forms mask those four bytes in memory too.',
  },
  {
    what: 'the last bit of x87 transcendentals (F2XM1 FYL2X FYL2XP1 FPTAN FPATAN FSIN FCOS FSINCOS), and C1',
    reason: 'Intel and AMD implement them differently; the SDM promises an error below 1 ulp only (Vol. 1 8.3.10). ' +
      'A result register may differ by 1 in the 64-bit significand (carry into the exponent allowed); C1 (round-up) is masked with it. ' +
      'Arguments are kept below 2^20 for FSIN/FCOS/FPTAN/FSINCOS so that the argument reduction stays comparable.',
  },
  {
    what: 'RCPPS RCPSS RSQRTPS RSQRTSS result values',
    reason: 'Implementation-specific approximations: checked against the SDM bound only (|relative error| <= 1.5 * 2^-12, ' +
      'Vol. 2 RCPPS/RSQRTPS), with the special cases exact (+-0 -> +-inf, +-inf -> +-0, NaN, negative for RSQRT -> QNaN indefinite); ' +
      'a lane is accepted when it equals the host\'s or lies within the bound of the exact value.',
  },
  {
    what: 'the x87 state after an x87 instruction that raised an UNmasked IE, DE or ZE (except the exception flags, SF, ES and B)',
    reason: 'This host does not follow the SDM\'s unmasked responses: with an unmasked #D it still pushes for FLD m32fp (SDM Vol. 1 8.5.2: ' +
      '"TOP and source operands remain unchanged"), with an unmasked #IA it still sets FCOM/FCOMI condition codes and EFLAGS to unordered ' +
      '(SDM Vol. 2 FCOM/FCOMI: "flags not set if unmasked invalid-arithmetic-operand exception"), and C1 differs. The model follows the SDM. ' +
      'So for such cases only the FSW exception flags, SF, ES, B and FCW are compared (the #MF that follows is compared in full). ' +
      'Unmasked OE/UE/PE (post-computation: the re-biased or rounded result is delivered) are compared in full.',
  },
  {
    what: 'PE of FYL2X when ST(0) is an exact power of two; C0-C3 of FFREE/FFREEP and of FCMOVcc, C1 of FCOMI/FCOMIP/FUCOMI/FUCOMIP, C0/C1/C3 of FPREM/FPREM1 with a NaN result',
    reason: 'Undefined in the SDM (FFREE, FCMOVcc, FPREM quotient bits of a NaN), or this host leaves C1 unchanged where the SDM says ' +
      '"set to 0" (FCOMI family; the model follows the SDM). FYL2X: log2 of a power of two times ST(1) is exact, the host flags PE ' +
      'anyway (its transcendental hardware), the model reports exact results as exact (SDM: #P "cannot be represented exactly").',
  },
  {
    what: 'x87 #MF timing',
    reason: 'Under Linux an unmasked x87 exception arrives as SIGFPE at the next waiting instruction (the signal frame holds the FSW ' +
      'with ES set); a case without a later waiting instruction completes with the exception pending. We compare that pending state ' +
      '(FSW incl. ES and B) instead of a delivery point; a case whose initial FSW has an unmasked pending exception must fault at the ' +
      'first waiting instruction on both sides.',
  },
  {
    what: 'FXSAVE/FNSTENV/FNSAVE memory images: the FIP/FCS/FOP/FDP/FDS fields',
    reason: 'Same host rule as above (stored only while ES = 1 on AMD); the bytes are masked in the scratch comparison for those forms.',
  },
];

/* ================= value generators ================= */

const F32_SPECIAL = [
  0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00800000, 0x80800000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000,
  0x7fc00000, 0xffc00000, 0x7fa00000, 0xff800001, 0x7fc12345, 0x3f800000, 0xbf800000, 0x3f000000, 0x4b000000, 0x4b800000,
  0x4effffff, 0x4f000000, 0xcf000000, 0xcf000001, 0x5effffff, 0x5f000000, 0xdf000000, 0x3effffff, 0x3fc00000, 0x40200000,
];
const F64_SPECIAL: readonly [number, number][] = [
  [0, 0], [0, 0x80000000], [1, 0], [0xffffffff, 0x800fffff], [0, 0x00100000], [0xffffffff, 0x7fefffff], [0, 0x7ff00000],
  [0, 0xfff00000], [0, 0x7ff80000], [0, 0xfff80000], [1, 0x7ff00000], [0x12345678, 0x7ff4abcd], [0, 0x3ff00000], [0, 0xbff00000],
  [0, 0x3fe00000], [0, 0x41dfffff], [0xffc00000, 0x41dfffff], [0, 0x41e00000], [0, 0xc1e00000], [0x00200000, 0xc1e00000],
  [0, 0x43e00000], [0, 0xc3e00000], [0xffffffff, 0x43dfffff], [0x10000000, 0x36a00000], [0xe0000000, 0x47efffff],
  [0, 0x43300000], [1, 0x43300000], [0, 0x3ff80000], [0, 0x40040000],
];

const F32 = new Float32Array(1), U32 = new Uint32Array(F32.buffer);
const F64 = new Float64Array(1), U64 = new Uint32Array(F64.buffer);

/** The generators' random source: xorshift32 seeded from an Rng (inlined here; a hot path of the test). */
export class Gen {
  private s: number;
  constructor(r: Rng) { this.s = r.u32() | 1; }
  u32(): number {
    let x = this.s;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.s = x;
    return x >>> 0;
  }
  int(n: number): number { return this.u32() % n; }
  bool(p = 2): boolean { return this.int(p) === 0; }
  f32(): number {
    const r = this;
    const s = r.int(2) ? 0x80000000 : 0;
    switch (r.int(12)) {
      case 0: case 1: return F32_SPECIAL[r.int(F32_SPECIAL.length)]! >>> 0;
      case 2: return (s | (r.u32() & 0x7fffff)) >>> 0; // denormal
      case 3: return (s | ((r.int(2) ? 1 : 253 + r.int(2)) << 23) | (r.u32() & 0x7fffff)) >>> 0; // near the range ends
      case 4: return r.u32(); // any pattern
      case 5: F32[0] = (r.int(2001) - 1000) / (r.int(3) ? 1 : 8); return U32[0]!;
      case 6: return (s | ((127 - 3 + r.int(30)) << 23) | (r.int(2) ? 0x7fffff - r.int(3) : r.int(3))) >>> 0; // significand ends
      default: return (s | ((127 - 24 + r.int(48)) << 23) | (r.u32() & 0x7fffff)) >>> 0;
    }
  }
  f64(): [number, number] {
    const r = this;
    const s = r.int(2) ? 0x80000000 : 0;
    switch (r.int(12)) {
      case 0: case 1: return [...F64_SPECIAL[r.int(F64_SPECIAL.length)]!];
      case 2: return [r.u32(), (s | (r.u32() & 0xfffff)) >>> 0];
      case 3: return [r.u32(), (s | ((r.int(2) ? 1 + r.int(2) : 2045 + r.int(2)) << 20) | (r.u32() & 0xfffff)) >>> 0];
      case 4: return [r.u32(), r.u32()];
      case 5: F64[0] = (r.int(200001) - 100000) / [1, 2, 16, 1024][r.int(4)]!; return [U64[0]!, U64[1]!];
      case 6: // f32-halfway patterns: a 53-bit significand whose low 29 bits sit at/near the f32 rounding point
        return [[0x10000000, 0x0fffffff, 0x10000001, 0, 0xffffffff][r.int(5)]!, (s | ((1023 - 3 + r.int(30)) << 20) | (r.u32() & 0xfffff)) >>> 0];
      default: return [r.u32(), (s | ((1023 - 40 + r.int(80)) << 20) | (r.u32() & 0xfffff)) >>> 0];
    }
  }
  /** Extended: [sig lo, sig hi, sign/exp]. */
  f80(small = false): [number, number, number] {
    const r = this;
    const s = r.int(2) ? 0x8000 : 0;
    const k = r.int(small ? 14 : 16);
    switch (k) {
      case 0: return [0, 0, s]; // zero
      case 1: return [0, 0x80000000, s | 0x7fff]; // inf
      case 2: return [r.int(2) ? 0 : r.u32(), 0xc0000000 | (r.int(2) ? 0 : r.u32() & 0x3fffffff), s | 0x7fff]; // QNaN
      case 3: return [r.u32() | 1, 0x80000000 | (r.u32() & 0x3fffffff), s | 0x7fff]; // SNaN
      case 4: return [r.u32(), r.u32() & 0x7fffffff, s]; // denormal
      case 5: return [r.u32(), 0x80000000 | r.u32(), s | [1, 2, 0x7ffe, 0x7ffd][r.int(4)]!]; // range ends
      case 6: { // an integer-valued number (FIST/FBSTP/FRNDINT edges)
        const e = r.int(66);
        const sig = e === 0 ? 1n << 63n : ((1n << 63n) | (BigInt(r.u32()) << 32n | BigInt(r.u32())) & ~((1n << BigInt(64 - Math.min(e, 64))) - 1n)) | (1n << 63n);
        return [Number(sig & 0xffffffffn), Number(sig >> 32n), s | (16383 + Math.min(e, 64) - (e === 0 ? 0 : 1))];
      }
      case 7: return [r.int(2) ? 0x80000000 : 0x7fffffff + r.int(3), 0x80000000 | r.u32(), s | (16383 + r.int(64))]; // halfway-ish
      case 8: return [r.u32(), 0x80000000 | r.u32(), s | (16383 + r.int(5) - 2)]; // near 1
      case 14: return [r.u32(), r.u32() & 0x7fffffff, s | (1 + r.int(0x7ffe))]; // unnormal (unsupported)
      case 15: return [r.u32(), (r.u32() & 0x7fffffff) | (r.int(2) ? 0x80000000 : 0), s | (r.int(2) ? 0x7fff : 0)]; // pseudo-NaN/inf/denormal
      default: return [r.u32(), 0x80000000 | r.u32(), s | (small ? 16383 - 20 + r.int(40) : 16383 - 80 + r.int(160))];
    }
  }
  /** An integer of `bits` biased to the boundaries (0, 1, -1, the signed/unsigned extremes, powers of two), as lo/hi. */
  ival(bits: number): [number, number] {
    const r = this;
    const k = r.int(6);
    let lo: number, hi: number;
    if (k === 0) {
      // 0, 1, 2, all ones, the signed maximum, the signed minimum, all ones - 1
      const j = r.int(7);
      const top = bits === 64 ? 32 : bits; // width of the top half's meaningful bits
      const smax = bits === 64 ? 0x7fffffff : (2 ** (bits - 1) - 1);
      if (j <= 2) { lo = j; hi = 0; } else if (j === 3) { lo = 0xffffffff; hi = 0xffffffff; } else if (j === 4) {
        if (bits === 64) { lo = 0xffffffff; hi = smax; } else { lo = smax; hi = 0; }
      } else if (j === 5) {
        if (bits === 64) { lo = 0; hi = 0x80000000; } else { lo = smax + 1; hi = 0; }
      } else { lo = 0xfffffffe; hi = 0xffffffff; }
      void top;
    } else if (k === 1) { const v = r.int(200) - 100; lo = v >>> 0; hi = v < 0 ? 0xffffffff : 0; } else if (k === 2) {
      const b = r.int(bits), d = r.int(3);
      if (b < 32) { const v = 2 ** b - d; lo = v >>> 0; hi = v < 0 ? 0xffffffff : 0; } else { lo = (0 - d) >>> 0; hi = ((2 ** (b - 32)) - (d > 0 ? 1 : 0)) >>> 0; }
    } else { lo = r.u32(); hi = r.u32(); }
    if (bits < 32) { lo = (lo & (2 ** bits - 1)) >>> 0; hi = 0; } else if (bits === 32) hi = 0;
    return [lo >>> 0, hi >>> 0];
  }
  /** Packed BCD (10 bytes): valid digits (FBLD with invalid digits is undefined, SDM Vol. 2 FBLD). */
  bcd(out: Uint8Array, o: number): void {
    const r = this;
    const nd = r.int(4) === 0 ? 18 : r.int(19);
    for (let i = 0; i < 9; i++) {
      const lo = 2 * i < nd ? r.int(10) : 0, hi = 2 * i + 1 < nd ? r.int(10) : 0;
      out[o + i] = lo | (hi << 4);
    }
    out[o + 9] = r.int(2) ? 0x80 : 0;
  }
}

export type Elem = 'f32' | 'f64' | 'f80' | 'i8' | 'i16' | 'i32' | 'i64' | 'bcd' | 'any';

/** Fills `n` bytes at `o` with values of the element type. */
function fill(g: Gen, b: Uint8Array, o: number, n: number, elem: Elem): void {
  const dv = new DataView(b.buffer, b.byteOffset);
  const end = o + n;
  let p = o;
  while (p < end) {
    switch (elem) {
      case 'f32': dv.setUint32(p, g.f32(), true); p += 4; break;
      case 'f64': { const [lo, hi] = g.f64(); dv.setUint32(p, lo, true); dv.setUint32(p + 4, hi, true); p += 8; break; }
      case 'f80': { const [lo, hi, se] = g.f80(); dv.setUint32(p, lo, true); dv.setUint32(p + 4, hi, true); dv.setUint16(p + 8, se, true); p += 10; break; }
      case 'bcd': g.bcd(b, p); p += 10; break;
      case 'i8': b[p] = g.ival(8)[0]; p += 1; break;
      case 'i16': dv.setUint16(p, g.ival(16)[0], true); p += 2; break;
      case 'i32': dv.setUint32(p, g.ival(32)[0], true); p += 4; break;
      case 'i64': { const [lo, hi] = g.ival(64); dv.setUint32(p, lo, true); dv.setUint32(p + 4, hi, true); p += 8; break; }
      default: {
        const k = g.int(5);
        const e: Elem = k === 0 ? 'f32' : k === 1 ? 'f64' : k === 2 ? 'i16' : k === 3 ? 'i8' : 'i32';
        const n8 = Math.min(8, end - p);
        if (n8 === 8) fill(g, b, p, 8, e); else for (let i = 0; i < n8; i++) b[p + i] = g.int(256);
        p += n8;
      }
    }
  }
}

/* ================= the forms ================= */

export type Unit = 'x87' | 'simd-int' | 'simd-fp';
/**
 * The units that have not landed yet: their forms run on the host only (to check the encodings)
 * and are counted as pending, never compared. The lead removes the entries as the units land.
 */
export const PENDING_UNITS: Partial<Record<Unit, string>> = {};

/**
 * Forms of landed units with an open finding in /work/notes/fpu-diff-findings.md: they are compared
 * and their mismatches counted and printed, but they do not fail the test until the owner fixes them
 * (then the entry goes). Keyed by form name; the value names the finding.
 */
export const PENDING_FORMS: Record<string, string> = {
};
/** Helpers for PENDING_PATTERNS entries (kept for the next findings). */
export const fswXor = (w: string): { h: number; e: number; x: number } | null => {
  const m = /^FSW host ([0-9a-f]+) emulator ([0-9a-f]+)/.exec(w);
  if (!m) return null;
  const h = parseInt(m[1]!, 16), e = parseInt(m[2]!, 16);
  return { h, e, x: h ^ e };
};
export const TRANS = new Set(['fsin', 'fcos', 'fsincos', 'fptan', 'fprem', 'fprem1', 'f2xm1', 'fyl2x', 'fyl2xp1', 'fpatan']);
/** Findings that can hit any FP arithmetic form (by the mismatch text): counted apart, not failing. */
export const PENDING_PATTERNS: { finding: string; test: (form: string, what: string) => boolean }[] = [
];

export type Special = 'transcendental' | 'rcp' | 'rsqrt';

export interface FpCaseState {
  gprs: bigint[];
  rflags: number;
  code: number[];
  scratch: Uint8Array;
  fx: Uint8Array;
  /** Scratch byte ranges [from, to) not compared (FIP/FDP fields of stored environments). */
  scratchMask: [number, number][];
  /** Approximation check: destination XMM, lanes, and the source lanes (f32 bits). */
  approx?: { dst: number; lanes: number; src: Uint32Array };
  /** The form has a memory operand in this case. */
  mem: boolean;
}

export interface FpForm {
  name: string;
  unit: Unit;
  modes: readonly (32 | 64)[];
  special?: Special;
  gen(g: Gen, mode: 32 | 64, st: FpCaseState): void;
}

const SCRATCH_LEN = 576; // FXSAVE (512 bytes) at offset 0 or 8
const forms: FpForm[] = [];

/** Picks a GPR for a memory base (not RSP), valid for the mode, not in `not`. */
function pickGpr(g: Gen, mode: number, not: number[] = []): number {
  for (;;) {
    const x = g.int(mode === 64 ? 16 : 8);
    if (x !== 4 && !not.includes(x)) return x;
  }
}

interface MemPick { base: number; disp: number }
/** A base register pointing into scratch so that [base + disp] is `off` bytes into it. */
function memAt(g: Gen, mode: number, st: FpCaseState, off: number, not: number[] = []): MemPick {
  const base = pickGpr(g, mode, not);
  const disp = g.int(64) - 32;
  st.gprs[base] = BigInt(ORACLE_SCRATCH_ADDR + off - disp);
  st.mem = true;
  return { base, disp };
}
/** A scratch offset for an operand of `width` bytes, aligned to `align` except 1 time in 16. */
function memOff(g: Gen, width: number, align: number): number {
  let off = 64 + g.int(SCRATCH_LEN - 192 - width);
  if (align > 1 && g.int(16) !== 0) off &= ~(align - 1);
  return off;
}

/**
 * Emits [legacy prefix] [REX] opcode ModRM [SIB] [disp32] for reg and a register or memory r/m.
 * `w` sets REX.W; regs >= 8 set REX.R/B (64-bit mode only).
 */
function emit(st: FpCaseState, mode: number, pfx: number[], op: number[], reg: number, rm: { r: number } | MemPick, w = false): void {
  const c = st.code;
  c.push(...pfx);
  let rex = w ? 8 : 0;
  if (reg >= 8) rex |= 4;
  let modrm: number;
  const tail: number[] = [];
  if ('r' in rm) {
    if (rm.r >= 8) rex |= 1;
    modrm = 0xc0 | ((reg & 7) << 3) | (rm.r & 7);
  } else {
    if (rm.base >= 8) rex |= 1;
    if ((rm.base & 7) === 4) { modrm = 0x80 | ((reg & 7) << 3) | 4; tail.push(0x24); } else modrm = 0x80 | ((reg & 7) << 3) | (rm.base & 7);
    const d = rm.disp >>> 0;
    tail.push(d & 0xff, (d >>> 8) & 0xff, (d >>> 16) & 0xff, (d >>> 24) & 0xff);
  }
  if (mode === 64 && rex !== 0) c.push(0x40 | rex);
  c.push(...op, modrm, ...tail);
}

/* ---- x87 ---- */

interface X87Opts { push?: number; small?: boolean; special?: Special; envMask?: [number, number][]; setup?: (g: Gen, st: FpCaseState) => void }

/** An x87 form with a memory operand: opcode byte + ModRM /ext. */
function x87m(name: string, op: number, ext: number, width: number, elem: Elem, o: X87Opts = {}): void {
  forms.push({
    name, unit: 'x87', modes: [64, 32], special: o.special,
    gen(g, mode, st) {
      x87State(g, st, o);
      const off = memOff(g, width, 1);
      fill(g, st.scratch, off, width, elem);
      emit(st, mode, [], [op], ext, memAt(g, mode, st, off));
      if (o.envMask) for (const [a, b] of o.envMask) st.scratchMask.push([off + a, off + b]);
      o.setup?.(g, st);
    },
  });
}
/** An x87 form with a register operand: two bytes, the second op2 + i (i random, or fixed). */
function x87r(name: string, op: number, op2: number, o: X87Opts & { i?: number } = {}): void {
  forms.push({
    name, unit: 'x87', modes: [64, 32], special: o.special,
    gen(g, _mode, st) {
      x87State(g, st, o);
      st.code.push(op, op2 + (o.i ?? g.int(8)));
      o.setup?.(g, st);
    },
  });
}
function x87n(name: string, bytes: number[], o: X87Opts = {}): void {
  forms.push({
    name, unit: 'x87', modes: [64, 32], special: o.special,
    gen(g, _mode, st) { x87State(g, st, o); st.code.push(...bytes); o.setup?.(g, st); },
  });
}

function put16(b: Uint8Array, o: number, v: number): void { b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; }
function put32(b: Uint8Array, o: number, v: number): void { put16(b, o, v & 0xffff); put16(b, o + 2, v >>> 16); }
function rd16(b: Uint8Array, o: number): number { return b[o]! | (b[o + 1]! << 8); }
function rd32(b: Uint8Array, o: number): number { return (rd16(b, o) | (rd16(b, o + 2) << 16)) >>> 0; }

/** Random x87 control/status/tags/registers into st.fx (ST(i) order, as FXSAVE stores them). */
function x87State(g: Gen, st: FpCaseState, o: { push?: number; small?: boolean } = {}): void {
  const r = g;
  const fx = st.fx;
  const masks = r.int(4) !== 0 ? 0x3f : r.int(64);
  const pc = [3, 3, 2, 0][r.int(4)]!;
  const fcw = 0x40 | masks | (pc << 8) | (r.int(4) << 10);
  const top = r.int(8);
  let flags = r.int(4) !== 0 ? 0 : r.int(128); // sticky IE..PE and SF
  // an unmasked pending exception makes the first waiting instruction #MF: 1 case in 16
  if ((flags & ~masks & 0x3f) !== 0 && r.int(4) !== 0) flags &= masks | 0x40;
  const es = (flags & ~masks & 0x3f) !== 0 ? 0x8080 : 0;
  const cc = r.int(16);
  const fsw = (flags & 0x7f) | es | (top << 11) | ((cc & 1) << 8) | ((cc & 2) << 8) | ((cc & 4) << 8) | ((cc & 8) << 11);
  put16(fx, FX.FCW, fcw);
  put16(fx, FX.FSW, fsw);
  let ftw = 0;
  for (let p = 0; p < 8; p++) if (r.int(8) !== 0) ftw |= 1 << p;
  const push = o.push ?? 0;
  // make room for pushes most of the time: ST(7) (and ST(6)) empty
  for (let k = 0; k < push; k++) if (r.int(8) !== 0) ftw &= ~(1 << ((top + 7 - k) & 7));
  fx[FX.FTW] = ftw;
  for (let i = 0; i < 8; i++) {
    const [lo, hi, se] = g.f80(o.small);
    const b = FX.ST + 16 * i;
    put32(fx, b, lo); put32(fx, b + 4, hi); put16(fx, b + 8, se);
  }
}

function mxcsrState(g: Gen, st: FpCaseState): void {
  const r = g;
  const masks = r.int(4) !== 0 ? 0x3f : r.int(64);
  const flags = r.int(2) ? 0 : r.int(64);
  const mx = flags | (r.int(4) === 0 ? 0x40 : 0) | (masks << 7) | (r.int(4) << 13) | (r.int(4) === 0 ? 0x8000 : 0);
  put32(st.fx, FX.MXCSR, mx);
}

const ARITH = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'];
for (let n = 0; n < 8; n++) {
  const nm = ARITH[n]!;
  x87m(`${nm} m32fp`, 0xd8, n, 4, 'f32');
  x87m(`${nm} m64fp`, 0xdc, n, 8, 'f64');
  x87r(`${nm} st0,st(i)`, 0xd8, 0xc0 + 8 * n);
  x87m(`fi${nm.slice(1)} m16int`, 0xde, n, 2, 'i16');
  x87m(`fi${nm.slice(1)} m32int`, 0xda, n, 4, 'i32');
  if (n !== 2 && n !== 3) {
    x87r(`${nm} st(i),st0`, 0xdc, 0xc0 + 8 * n);
    x87r(`${nm}p st(i),st0`, 0xde, 0xc0 + 8 * n);
  }
}
x87n('fcompp', [0xde, 0xd9]);
x87r('fucom st(i)', 0xdd, 0xe0);
x87r('fucomp st(i)', 0xdd, 0xe8);
x87n('fucompp', [0xda, 0xe9]);
x87r('fcomi st0,st(i)', 0xdb, 0xf0);
x87r('fcomip st0,st(i)', 0xdf, 0xf0);
x87r('fucomi st0,st(i)', 0xdb, 0xe8);
x87r('fucomip st0,st(i)', 0xdf, 0xe8);
x87n('ftst', [0xd9, 0xe4]);
x87n('fxam', [0xd9, 0xe5]);
x87m('fld m32fp', 0xd9, 0, 4, 'f32', { push: 1 });
x87m('fld m64fp', 0xdd, 0, 8, 'f64', { push: 1 });
x87m('fld m80fp', 0xdb, 5, 10, 'f80', { push: 1 });
x87r('fld st(i)', 0xd9, 0xc0, { push: 1 });
x87m('fst m32fp', 0xd9, 2, 4, 'f32');
x87m('fst m64fp', 0xdd, 2, 8, 'f64');
x87m('fstp m32fp', 0xd9, 3, 4, 'f32');
x87m('fstp m64fp', 0xdd, 3, 8, 'f64');
x87m('fstp m80fp', 0xdb, 7, 10, 'f80');
x87r('fst st(i)', 0xdd, 0xd0);
x87r('fstp st(i)', 0xdd, 0xd8);
x87m('fild m16int', 0xdf, 0, 2, 'i16', { push: 1 });
x87m('fild m32int', 0xdb, 0, 4, 'i32', { push: 1 });
x87m('fild m64int', 0xdf, 5, 8, 'i64', { push: 1 });
x87m('fist m16int', 0xdf, 2, 2, 'i16');
x87m('fist m32int', 0xdb, 2, 4, 'i32');
x87m('fistp m16int', 0xdf, 3, 2, 'i16');
x87m('fistp m32int', 0xdb, 3, 4, 'i32');
x87m('fistp m64int', 0xdf, 7, 8, 'i64');
x87m('fisttp m16int', 0xdf, 1, 2, 'i16');
x87m('fisttp m32int', 0xdb, 1, 4, 'i32');
x87m('fisttp m64int', 0xdd, 1, 8, 'i64');
x87m('fbld m80bcd', 0xdf, 4, 10, 'bcd', { push: 1 });
x87m('fbstp m80bcd', 0xdf, 6, 10, 'bcd');
x87n('fprem', [0xd9, 0xf8]);
x87n('fprem1', [0xd9, 0xf5]);
x87n('fscale', [0xd9, 0xfd]);
x87n('fxtract', [0xd9, 0xf4], { push: 1 });
x87n('frndint', [0xd9, 0xfc]);
x87n('fsqrt', [0xd9, 0xfa]);
x87n('fabs', [0xd9, 0xe1]);
x87n('fchs', [0xd9, 0xe0]);
x87r('fxch st(i)', 0xd9, 0xc8);
x87n('fdecstp', [0xd9, 0xf6]);
x87n('fincstp', [0xd9, 0xf7]);
x87r('ffree st(i)', 0xdd, 0xc0);
x87r('ffreep st(i)', 0xdf, 0xc0);
x87n('fnop', [0xd9, 0xd0]);
for (const [nm, b] of [['fld1', 0xe8], ['fldl2t', 0xe9], ['fldl2e', 0xea], ['fldpi', 0xeb], ['fldlg2', 0xec], ['fldln2', 0xed], ['fldz', 0xee]] as const) {
  x87n(nm, [0xd9, b], { push: 1 });
}
for (let cc = 0; cc < 8; cc++) {
  const nm = ['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu', 'fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu'][cc]!;
  forms.push({
    name: `${nm} st0,st(i)`, unit: 'x87', modes: [64, 32],
    gen(g, _m, st) { x87State(g, st); st.rflags = g.u32() & (CF | ZF | PF); st.code.push(cc < 4 ? 0xda : 0xdb, 0xc0 + 8 * (cc & 3) + g.int(8)); },
  });
}
/** ST(0) inside (-2^-lim, 2^-lim) most of the time: F2XM1 and FYL2XP1 are undefined outside their domains (SDM Vol. 2). */
function domain(lim: number): (g: Gen, st: FpCaseState) => void {
  return (g, st) => {
    const top = FX.ST; // ST(0)
    const sign = g.int(2) ? 0x8000 : 0;
    if (g.int(8) === 0) { // the defined specials: zeros, infinities, NaNs, denormals
      const k = g.int(4);
      put32(st.fx, top, k === 2 ? g.u32() : 0);
      put32(st.fx, top + 4, k === 0 ? 0 : k === 1 ? 0x80000000 : k === 2 ? 0xc0000000 : g.u32() & 0x7fffffff);
      put16(st.fx, top + 8, sign | (k === 1 || k === 2 ? 0x7fff : 0));
      return;
    }
    put32(st.fx, top, g.u32()); put32(st.fx, top + 4, (0x80000000 | g.u32()) >>> 0);
    put16(st.fx, top + 8, sign | (16383 - lim - 1 - g.int(40)));
  };
}
x87n('f2xm1', [0xd9, 0xf0], { special: 'transcendental', small: true, setup: domain(0) });
x87n('fyl2x', [0xd9, 0xf1], { special: 'transcendental', small: true });
x87n('fyl2xp1', [0xd9, 0xf9], { special: 'transcendental', small: true, setup: domain(2) });
x87n('fptan', [0xd9, 0xf2], { special: 'transcendental', small: true, push: 1 });
x87n('fpatan', [0xd9, 0xf3], { special: 'transcendental', small: true });
x87n('fsin', [0xd9, 0xfe], { special: 'transcendental', small: true });
x87n('fcos', [0xd9, 0xff], { special: 'transcendental', small: true });
x87n('fsincos', [0xd9, 0xfb], { special: 'transcendental', small: true, push: 1 });
x87n('fnstsw ax', [0xdf, 0xe0]);
x87m('fnstsw m16', 0xdd, 7, 2, 'i16');
x87m('fnstcw m16', 0xd9, 7, 2, 'i16');
x87m('fldcw m16', 0xd9, 5, 2, 'i16', {
  setup(g, st) { // a sensible control word most of the time (the reserved bits as FNINIT leaves them)
    if (g.int(4) !== 0) {
      for (let i = 0; i < SCRATCH_LEN; i += 2) put16(st.scratch, i, 0x40 | g.int(64) | ([0, 2, 3][g.int(3)]! << 8) | (g.int(4) << 10));
    }
  },
});
x87n('fnclex', [0xdb, 0xe2]);
x87n('fninit', [0xdb, 0xe3]);
x87n('fwait', [0x9b]);
// FNSTENV m28 (32-bit operand size layout, SDM Vol. 1 Figure 8-10): FIP/FCS/FOP/FDP/FDS at bytes 12..27
x87m('fnstenv m28', 0xd9, 6, 28, 'i32', { envMask: [[12, 28]] });
x87m('fnsave m108', 0xdd, 6, 108, 'i32', { envMask: [[12, 28]] });
// the 16-bit operand-size layouts (66 prefix): 14-byte environment, 94-byte state; FIP/FCS/FOP/FDP/FDS at 6..13
for (const [nm, ext, width, mask] of [['fnstenv m14', 6, 14, true], ['fldenv m14', 4, 14, false], ['fnsave m94', 6, 94, true], ['frstor m94', 4, 94, false]] as const) {
  forms.push({
    name: nm, unit: 'x87', modes: [64, 32],
    gen(g, mode, st) {
      x87State(g, st);
      const off = memOff(g, width, 1);
      fill(g, st.scratch, off, width, 'i16');
      emit(st, mode, [0x66], [0xd9 + (width === 94 ? 4 : 0)], ext, memAt(g, mode, st, off));
      if (mask) st.scratchMask.push([off + 6, off + 14]);
    },
  });
}
// FLDENV/FRSTOR read random bytes: every 16-bit pattern is a loadable FCW/FSW/tag word
x87m('fldenv m28', 0xd9, 4, 28, 'i32');
x87m('frstor m108', 0xdd, 4, 108, 'i32');
/**
 * FXSAVE/FXRSTOR (0F AE /0, /1; REX.W: the 64-bit layout), operand at scratch offset 0 (16-aligned,
 * 512 bytes; 1 case in 16 misaligned by 8: #GP). FXSAVE: FOP/FIP/FCS/FDP/FDS (bytes 6-23), MXCSR_MASK
 * (28-31) and the reserved/available bytes 416-511 are not compared (MASKED). FXRSTOR reads a plausible
 * random image (MXCSR without bit 17, which this host accepts; other reserved MXCSR bits now and then: #GP).
 */
for (const [nm, ext, w] of [['fxsave m512', 0, false], ['fxsave64 m512', 0, true], ['fxrstor m512', 1, false], ['fxrstor64 m512', 1, true]] as const) {
  forms.push({
    name: nm, unit: 'x87', modes: w ? [64] : [64, 32],
    gen(g, mode, st) {
      const off = g.int(16) === 0 ? 8 : 0;
      if (ext === 1) {
        x87State(g, st);
        mxcsrState(g, st);
        for (let i = 0; i < 16; i++) fill(g, st.fx, FX.XMM + 16 * i, 16, 'any');
        st.scratch.set(st.fx, off);
        if (g.int(16) === 0) put32(st.scratch, off + FX.MXCSR, (rd32(st.fx, FX.MXCSR) | (1 << (18 + g.int(14)))) >>> 0);
        st.fx.set(fxInitImage());
      }
      x87State(g, st);
      mxcsrState(g, st);
      for (let i = 0; i < 16; i++) fill(g, st.fx, FX.XMM + 16 * i, 16, 'any');
      emit(st, mode, [], [0x0f, 0xae], ext, memAt(g, mode, st, off), w);
      if (ext === 0) st.scratchMask.push([off + 6, off + 24], [off + 28, off + 32], [off + 416, off + 512]);
    },
  });
}

/* ---- SIMD ---- */

type RK = 'x' | 'mm' | 'g' | 'none';
interface SimdSpec {
  pfx?: number;
  op: number[];
  unit: Unit;
  elem: Elem;
  /** reg field: register kind, or a fixed opcode extension (number). */
  reg: RK | number;
  /** r/m register kind when not memory ('none' = memory only). */
  rm: RK;
  /** Memory operand width in bytes (0 = register only). */
  mem: number;
  /** Required alignment of the memory operand (16 for the aligned forms). */
  align?: number;
  w?: boolean;
  imm?: (g: Gen) => number;
  modes?: readonly (32 | 64)[];
  special?: Special;
  /** Runs before the operands are chosen (it may set GPRs: list them in `avoid`). */
  setup?: (g: Gen, st: FpCaseState) => void;
  /** GPRs that must not be the memory base or a GPR operand. */
  avoid?: number[];
}

function regFor(g: Gen, mode: number, k: RK, not: number[] = []): number {
  if (k === 'x') return g.int(mode === 64 ? 16 : 8);
  if (k === 'mm') return g.int(8);
  if (k === 'g') return pickGpr(g, mode, not);
  return 0;
}

function simd(name: string, s: SimdSpec): void {
  forms.push({
    name, unit: s.unit, modes: s.modes ?? [64, 32], special: s.special,
    gen(g, mode, st) {
      x87State(g, st);
      mxcsrState(g, st);
      for (let i = 0; i < 16; i++) fill(g, st.fx, FX.XMM + 16 * i, 16, s.elem);
      if (s.reg === 'mm' || s.rm === 'mm') {
        for (let i = 0; i < 8; i++) { fill(g, st.fx, FX.ST + 16 * i, 8, s.elem === 'f32' || s.elem === 'f64' ? s.elem : 'i16'); if (g.int(2)) put16(st.fx, FX.ST + 16 * i + 8, 0xffff); }
      }
      const useMem = s.mem > 0 && (s.rm === 'none' || g.int(2) === 0);
      const off = useMem ? memOff(g, s.mem, s.align ?? 1) : 0;
      if (useMem) fill(g, st.scratch, off, s.mem, s.elem);
      s.setup?.(g, st);
      const avoid = s.avoid ?? [];
      const reg = typeof s.reg === 'number' ? s.reg : regFor(g, mode, s.reg, avoid);
      const notG = s.reg === 'g' ? [reg, ...avoid] : avoid;
      const pfx = s.pfx !== undefined ? [s.pfx] : [];
      if (useMem) emit(st, mode, pfx, s.op, reg, memAt(g, mode, st, off, notG), s.w);
      else {
        const rmr = regFor(g, mode, s.rm, notG);
        emit(st, mode, pfx, s.op, reg, { r: rmr }, s.w);
        if (s.special === 'rcp' || s.special === 'rsqrt') {
          const src = new Uint32Array(4);
          for (let k = 0; k < 4; k++) src[k] = rd32(st.fx, FX.XMM + 16 * rmr + 4 * k);
          st.approx = { dst: reg, lanes: s.pfx === 0xf3 ? 1 : 4, src };
        }
      }
      if (useMem && (s.special === 'rcp' || s.special === 'rsqrt')) {
        st.approx = { dst: reg, lanes: s.pfx === 0xf3 ? 1 : 4, src: new Uint32Array(0) }; // filled in generateCase
      }
      if (s.imm) st.code.push(s.imm(g) & 0xff);
    },
  });
}

const imm8 = (g: Gen): number => g.int(256);
const X = (name: string, pfx: number | undefined, op: number[], unit: Unit, elem: Elem, o: Partial<SimdSpec> = {}): void =>
  simd(name, { pfx, op, unit, elem, reg: 'x', rm: 'x', mem: 16, align: 16, ...o });

// SSE/SSE2 FP arithmetic: PS (none), PD (66), SS (F3), SD (F2)
const FPOPS: [string, number][] = [['add', 0x58], ['mul', 0x59], ['sub', 0x5c], ['min', 0x5d], ['div', 0x5e], ['max', 0x5f], ['sqrt', 0x51]];
const SUFS: [string, number | undefined, Elem, number][] = [['ps', undefined, 'f32', 16], ['pd', 0x66, 'f64', 16], ['ss', 0xf3, 'f32', 4], ['sd', 0xf2, 'f64', 8]];
for (const [nm, op] of FPOPS) for (const [suf, pfx, elem, w] of SUFS) X(`${nm}${suf}`, pfx, [0x0f, op], 'simd-fp', elem, { mem: w, align: w === 16 ? 16 : 1 });
for (const [suf, pfx, elem, w] of SUFS) X(`cmp${suf}`, pfx, [0x0f, 0xc2], 'simd-fp', elem, { mem: w, align: w === 16 ? 16 : 1, imm: (g) => g.int(8) });
X('comiss', undefined, [0x0f, 0x2f], 'simd-fp', 'f32', { mem: 4, align: 1 });
X('comisd', 0x66, [0x0f, 0x2f], 'simd-fp', 'f64', { mem: 8, align: 1 });
X('ucomiss', undefined, [0x0f, 0x2e], 'simd-fp', 'f32', { mem: 4, align: 1 });
X('ucomisd', 0x66, [0x0f, 0x2e], 'simd-fp', 'f64', { mem: 8, align: 1 });
X('rcpps', undefined, [0x0f, 0x53], 'simd-fp', 'f32', { special: 'rcp' });
X('rcpss', 0xf3, [0x0f, 0x53], 'simd-fp', 'f32', { special: 'rcp', mem: 4, align: 1 });
X('rsqrtps', undefined, [0x0f, 0x52], 'simd-fp', 'f32', { special: 'rsqrt' });
X('rsqrtss', 0xf3, [0x0f, 0x52], 'simd-fp', 'f32', { special: 'rsqrt', mem: 4, align: 1 });
// conversions
for (const w of [false, true]) {
  const s = w ? '64' : '32';
  simd(`cvtsi2ss r${s}`, { pfx: 0xf3, op: [0x0f, 0x2a], unit: 'simd-fp', elem: w ? 'i64' : 'i32', reg: 'x', rm: 'g', mem: w ? 8 : 4, w, modes: w ? [64] : [64, 32] });
  simd(`cvtsi2sd r${s}`, { pfx: 0xf2, op: [0x0f, 0x2a], unit: 'simd-fp', elem: w ? 'i64' : 'i32', reg: 'x', rm: 'g', mem: w ? 8 : 4, w, modes: w ? [64] : [64, 32] });
  simd(`cvtss2si r${s}`, { pfx: 0xf3, op: [0x0f, 0x2d], unit: 'simd-fp', elem: 'f32', reg: 'g', rm: 'x', mem: 4, w, modes: w ? [64] : [64, 32] });
  simd(`cvttss2si r${s}`, { pfx: 0xf3, op: [0x0f, 0x2c], unit: 'simd-fp', elem: 'f32', reg: 'g', rm: 'x', mem: 4, w, modes: w ? [64] : [64, 32] });
  simd(`cvtsd2si r${s}`, { pfx: 0xf2, op: [0x0f, 0x2d], unit: 'simd-fp', elem: 'f64', reg: 'g', rm: 'x', mem: 8, w, modes: w ? [64] : [64, 32] });
  simd(`cvttsd2si r${s}`, { pfx: 0xf2, op: [0x0f, 0x2c], unit: 'simd-fp', elem: 'f64', reg: 'g', rm: 'x', mem: 8, w, modes: w ? [64] : [64, 32] });
}
X('cvtss2sd', 0xf3, [0x0f, 0x5a], 'simd-fp', 'f32', { mem: 4, align: 1 });
X('cvtsd2ss', 0xf2, [0x0f, 0x5a], 'simd-fp', 'f64', { mem: 8, align: 1 });
X('cvtps2pd', undefined, [0x0f, 0x5a], 'simd-fp', 'f32', { mem: 8, align: 1 });
X('cvtpd2ps', 0x66, [0x0f, 0x5a], 'simd-fp', 'f64');
X('cvtdq2ps', undefined, [0x0f, 0x5b], 'simd-fp', 'i32');
X('cvtps2dq', 0x66, [0x0f, 0x5b], 'simd-fp', 'f32');
X('cvttps2dq', 0xf3, [0x0f, 0x5b], 'simd-fp', 'f32', { align: 1 });
X('cvtdq2pd', 0xf3, [0x0f, 0xe6], 'simd-fp', 'i32', { mem: 8, align: 1 });
X('cvtpd2dq', 0xf2, [0x0f, 0xe6], 'simd-fp', 'f64');
X('cvttpd2dq', 0x66, [0x0f, 0xe6], 'simd-fp', 'f64');
simd('cvtpi2ps', { op: [0x0f, 0x2a], unit: 'simd-fp', elem: 'i32', reg: 'x', rm: 'mm', mem: 8 });
simd('cvtpi2pd', { pfx: 0x66, op: [0x0f, 0x2a], unit: 'simd-fp', elem: 'i32', reg: 'x', rm: 'mm', mem: 8 });
simd('cvtps2pi', { op: [0x0f, 0x2d], unit: 'simd-fp', elem: 'f32', reg: 'mm', rm: 'x', mem: 8 });
simd('cvttps2pi', { op: [0x0f, 0x2c], unit: 'simd-fp', elem: 'f32', reg: 'mm', rm: 'x', mem: 8 });
simd('cvtpd2pi', { pfx: 0x66, op: [0x0f, 0x2d], unit: 'simd-fp', elem: 'f64', reg: 'mm', rm: 'x', mem: 16, align: 16 });
simd('cvttpd2pi', { pfx: 0x66, op: [0x0f, 0x2c], unit: 'simd-fp', elem: 'f64', reg: 'mm', rm: 'x', mem: 16, align: 16 });
// SSE3 FP
X('addsubps', 0xf2, [0x0f, 0xd0], 'simd-fp', 'f32');
X('addsubpd', 0x66, [0x0f, 0xd0], 'simd-fp', 'f64');
X('haddps', 0xf2, [0x0f, 0x7c], 'simd-fp', 'f32');
X('haddpd', 0x66, [0x0f, 0x7c], 'simd-fp', 'f64');
X('hsubps', 0xf2, [0x0f, 0x7d], 'simd-fp', 'f32');
X('hsubpd', 0x66, [0x0f, 0x7d], 'simd-fp', 'f64');
// SSE4.1 FP
X('roundps', 0x66, [0x0f, 0x3a, 0x08], 'simd-fp', 'f32', { imm: (g) => g.int(16) });
X('roundpd', 0x66, [0x0f, 0x3a, 0x09], 'simd-fp', 'f64', { imm: (g) => g.int(16) });
X('roundss', 0x66, [0x0f, 0x3a, 0x0a], 'simd-fp', 'f32', { mem: 4, align: 1, imm: (g) => g.int(16) });
X('roundsd', 0x66, [0x0f, 0x3a, 0x0b], 'simd-fp', 'f64', { mem: 8, align: 1, imm: (g) => g.int(16) });
X('dpps', 0x66, [0x0f, 0x3a, 0x40], 'simd-fp', 'f32', { imm: imm8 });
X('dppd', 0x66, [0x0f, 0x3a, 0x41], 'simd-fp', 'f64', { imm: imm8 });
X('blendps', 0x66, [0x0f, 0x3a, 0x0c], 'simd-fp', 'f32', { imm: imm8 });
X('blendpd', 0x66, [0x0f, 0x3a, 0x0d], 'simd-fp', 'f64', { imm: imm8 });
X('blendvps', 0x66, [0x0f, 0x38, 0x14], 'simd-fp', 'f32');
X('blendvpd', 0x66, [0x0f, 0x38, 0x15], 'simd-fp', 'f64');
X('insertps', 0x66, [0x0f, 0x3a, 0x21], 'simd-fp', 'f32', { mem: 4, align: 1, imm: imm8 });
simd('extractps', { pfx: 0x66, op: [0x0f, 0x3a, 0x17], unit: 'simd-fp', elem: 'f32', reg: 'x', rm: 'g', mem: 4, imm: imm8 });
// MXCSR
forms.push({
  name: 'ldmxcsr', unit: 'simd-fp', modes: [64, 32],
  gen(g, mode, st) {
    x87State(g, st);
    mxcsrState(g, st);
    const off = memOff(g, 4, 4);
    // mostly valid values; reserved bits set: #GP. Bit 17 stays clear: this host's MXCSR_MASK (0x2FFFF)
    // accepts it (AMD misaligned-SSE mode), where an Intel CPU and the model raise #GP.
    put32(st.scratch, off, g.int(16) === 0 ? (g.u32() & ~0x20000) >>> 0 : g.int(0x10000));
    emit(st, mode, [], [0x0f, 0xae], 2, memAt(g, mode, st, off));
  },
});
simd('stmxcsr', { op: [0x0f, 0xae], unit: 'simd-fp', elem: 'i32', reg: 3, rm: 'none', mem: 4 });

// SSE logic / shuffles / moves (the SIMD integer-and-move unit)
for (const [nm, op] of [['and', 0x54], ['andn', 0x55], ['or', 0x56], ['xor', 0x57]] as const) {
  X(`${nm}ps`, undefined, [0x0f, op], 'simd-int', 'f32');
  X(`${nm}pd`, 0x66, [0x0f, op], 'simd-int', 'f64');
}
X('shufps', undefined, [0x0f, 0xc6], 'simd-int', 'f32', { imm: imm8 });
X('shufpd', 0x66, [0x0f, 0xc6], 'simd-int', 'f64', { imm: imm8 });
X('unpcklps', undefined, [0x0f, 0x14], 'simd-int', 'f32');
X('unpckhps', undefined, [0x0f, 0x15], 'simd-int', 'f32');
X('unpcklpd', 0x66, [0x0f, 0x14], 'simd-int', 'f64');
X('unpckhpd', 0x66, [0x0f, 0x15], 'simd-int', 'f64');
X('movaps load', undefined, [0x0f, 0x28], 'simd-int', 'any');
X('movaps store', undefined, [0x0f, 0x29], 'simd-int', 'any');
X('movups load', undefined, [0x0f, 0x10], 'simd-int', 'any', { align: 1 });
X('movups store', undefined, [0x0f, 0x11], 'simd-int', 'any', { align: 1 });
X('movapd load', 0x66, [0x0f, 0x28], 'simd-int', 'any');
X('movupd store', 0x66, [0x0f, 0x11], 'simd-int', 'any', { align: 1 });
X('movss load/reg', 0xf3, [0x0f, 0x10], 'simd-int', 'f32', { mem: 4, align: 1 });
X('movss store', 0xf3, [0x0f, 0x11], 'simd-int', 'f32', { mem: 4, align: 1 });
X('movsd load/reg', 0xf2, [0x0f, 0x10], 'simd-int', 'f64', { mem: 8, align: 1 });
X('movsd store', 0xf2, [0x0f, 0x11], 'simd-int', 'f64', { mem: 8, align: 1 });
X('movhlps/movlps load', undefined, [0x0f, 0x12], 'simd-int', 'f32', { mem: 8, align: 1 });
X('movlhps/movhps load', undefined, [0x0f, 0x16], 'simd-int', 'f32', { mem: 8, align: 1 });
X('movlps store', undefined, [0x0f, 0x13], 'simd-int', 'f32', { mem: 8, align: 1, rm: 'none' });
X('movhps store', undefined, [0x0f, 0x17], 'simd-int', 'f32', { mem: 8, align: 1, rm: 'none' });
X('movlpd load', 0x66, [0x0f, 0x12], 'simd-int', 'f64', { mem: 8, align: 1, rm: 'none' });
X('movhpd load', 0x66, [0x0f, 0x16], 'simd-int', 'f64', { mem: 8, align: 1, rm: 'none' });
simd('movmskps', { op: [0x0f, 0x50], unit: 'simd-int', elem: 'f32', reg: 'g', rm: 'x', mem: 0 });
simd('movmskpd', { pfx: 0x66, op: [0x0f, 0x50], unit: 'simd-int', elem: 'f64', reg: 'g', rm: 'x', mem: 0 });
X('movntps', undefined, [0x0f, 0x2b], 'simd-int', 'any', { rm: 'none' });
X('movntpd', 0x66, [0x0f, 0x2b], 'simd-int', 'any', { rm: 'none' });
X('movntdq', 0x66, [0x0f, 0xe7], 'simd-int', 'any', { rm: 'none' });
X('movapd store', 0x66, [0x0f, 0x29], 'simd-int', 'any');
X('movupd load', 0x66, [0x0f, 0x10], 'simd-int', 'any', { align: 1 });
X('movdqa store', 0x66, [0x0f, 0x7f], 'simd-int', 'any');
X('movdqu load', 0xf3, [0x0f, 0x6f], 'simd-int', 'any', { align: 1 });
X('movlpd store', 0x66, [0x0f, 0x13], 'simd-int', 'f64', { mem: 8, align: 1, rm: 'none' });
X('movhpd store', 0x66, [0x0f, 0x17], 'simd-int', 'f64', { mem: 8, align: 1, rm: 'none' });
simd('movntq', { op: [0x0f, 0xe7], unit: 'simd-int', elem: 'i64', reg: 'mm', rm: 'none', mem: 8 });
simd('pmovmskb mm', { op: [0x0f, 0xd7], unit: 'simd-int', elem: 'i8', reg: 'g', rm: 'mm', mem: 0 });
simd('maskmovq', {
  op: [0x0f, 0xf7], unit: 'simd-int', elem: 'i8', reg: 'mm', rm: 'mm', mem: 0,
  setup(g, st) { st.gprs[7] = BigInt(ORACLE_SCRATCH_ADDR + 64 + g.int(400)); },
});
X('movsldup', 0xf3, [0x0f, 0x12], 'simd-int', 'f32', { align: 1 });
X('movshdup', 0xf3, [0x0f, 0x16], 'simd-int', 'f32', { align: 1 });
X('movddup', 0xf2, [0x0f, 0x12], 'simd-int', 'f64', { mem: 8, align: 1 });
X('lddqu', 0xf2, [0x0f, 0xf0], 'simd-int', 'any', { rm: 'none', align: 1 });
X('movdqa load', 0x66, [0x0f, 0x6f], 'simd-int', 'any');
X('movdqu store', 0xf3, [0x0f, 0x7f], 'simd-int', 'any', { align: 1 });
simd('movd xmm,r32', { pfx: 0x66, op: [0x0f, 0x6e], unit: 'simd-int', elem: 'i32', reg: 'x', rm: 'g', mem: 4 });
simd('movq xmm,r64', { pfx: 0x66, op: [0x0f, 0x6e], unit: 'simd-int', elem: 'i64', reg: 'x', rm: 'g', mem: 8, w: true, modes: [64] });
simd('movd r32,xmm', { pfx: 0x66, op: [0x0f, 0x7e], unit: 'simd-int', elem: 'i32', reg: 'x', rm: 'g', mem: 4 });
simd('movq xmm,xmm/m64', { pfx: 0xf3, op: [0x0f, 0x7e], unit: 'simd-int', elem: 'i64', reg: 'x', rm: 'x', mem: 8 });
simd('movq xmm/m64,xmm', { pfx: 0x66, op: [0x0f, 0xd6], unit: 'simd-int', elem: 'i64', reg: 'x', rm: 'x', mem: 8 });
simd('movd mm,r32', { op: [0x0f, 0x6e], unit: 'simd-int', elem: 'i32', reg: 'mm', rm: 'g', mem: 4 });
simd('movq mm,mm/m64', { op: [0x0f, 0x6f], unit: 'simd-int', elem: 'i64', reg: 'mm', rm: 'mm', mem: 8 });
simd('movq mm/m64,mm', { op: [0x0f, 0x7f], unit: 'simd-int', elem: 'i64', reg: 'mm', rm: 'mm', mem: 8 });
simd('movdq2q', { pfx: 0xf2, op: [0x0f, 0xd6], unit: 'simd-int', elem: 'i64', reg: 'mm', rm: 'x', mem: 0 });
simd('movq2dq', { pfx: 0xf3, op: [0x0f, 0xd6], unit: 'simd-int', elem: 'i64', reg: 'x', rm: 'mm', mem: 0 });
simd('pmovmskb xmm', { pfx: 0x66, op: [0x0f, 0xd7], unit: 'simd-int', elem: 'i8', reg: 'g', rm: 'x', mem: 0 });
forms.push({
  name: 'emms', unit: 'simd-int', modes: [64, 32],
  gen(g, _m, st) { x87State(g, st); mxcsrState(g, st); st.code.push(0x0f, 0x77); },
});

// integer families: MMX (no prefix, mm) and SSE2 (66, xmm)
const INT2: [string, number, Elem][] = [
  ['paddb', 0xfc, 'i8'], ['paddw', 0xfd, 'i16'], ['paddd', 0xfe, 'i32'], ['paddq', 0xd4, 'i64'],
  ['psubb', 0xf8, 'i8'], ['psubw', 0xf9, 'i16'], ['psubd', 0xfa, 'i32'], ['psubq', 0xfb, 'i64'],
  ['paddsb', 0xec, 'i8'], ['paddsw', 0xed, 'i16'], ['paddusb', 0xdc, 'i8'], ['paddusw', 0xdd, 'i16'],
  ['psubsb', 0xe8, 'i8'], ['psubsw', 0xe9, 'i16'], ['psubusb', 0xd8, 'i8'], ['psubusw', 0xd9, 'i16'],
  ['pmullw', 0xd5, 'i16'], ['pmulhw', 0xe5, 'i16'], ['pmulhuw', 0xe4, 'i16'], ['pmuludq', 0xf4, 'i32'], ['pmaddwd', 0xf5, 'i16'],
  ['pcmpeqb', 0x74, 'i8'], ['pcmpeqw', 0x75, 'i16'], ['pcmpeqd', 0x76, 'i32'], ['pcmpgtb', 0x64, 'i8'], ['pcmpgtw', 0x65, 'i16'], ['pcmpgtd', 0x66, 'i32'],
  ['pand', 0xdb, 'any'], ['pandn', 0xdf, 'any'], ['por', 0xeb, 'any'], ['pxor', 0xef, 'any'],
  ['psllw', 0xf1, 'i16'], ['pslld', 0xf2, 'i32'], ['psllq', 0xf3, 'i64'], ['psrlw', 0xd1, 'i16'], ['psrld', 0xd2, 'i32'], ['psrlq', 0xd3, 'i64'],
  ['psraw', 0xe1, 'i16'], ['psrad', 0xe2, 'i32'],
  ['packsswb', 0x63, 'i16'], ['packssdw', 0x6b, 'i32'], ['packuswb', 0x67, 'i16'],
  ['punpcklbw', 0x60, 'i8'], ['punpcklwd', 0x61, 'i16'], ['punpckldq', 0x62, 'i32'], ['punpckhbw', 0x68, 'i8'], ['punpckhwd', 0x69, 'i16'], ['punpckhdq', 0x6a, 'i32'],
  ['pavgb', 0xe0, 'i8'], ['pavgw', 0xe3, 'i16'], ['pminub', 0xda, 'i8'], ['pmaxub', 0xde, 'i8'], ['pminsw', 0xea, 'i16'], ['pmaxsw', 0xee, 'i16'], ['psadbw', 0xf6, 'i8'],
];
/** Shift counts: small values in the low quadword most of the time (SDM: counts above the width clear/fill). */
function shiftCounts(g: Gen, st: FpCaseState): void {
  for (let i = 0; i < 16; i++) if (g.int(2)) { put32(st.fx, FX.XMM + 16 * i, g.int(70)); put32(st.fx, FX.XMM + 16 * i + 4, 0); }
  for (let i = 0; i < 8; i++) if (g.int(2)) { put32(st.fx, FX.ST + 16 * i, g.int(70)); put32(st.fx, FX.ST + 16 * i + 4, 0); }
  for (let i = 0; i < SCRATCH_LEN; i += 8) if (g.int(2)) { put32(st.scratch, i, g.int(70)); put32(st.scratch, i + 4, 0); }
}
for (const [nm, op, elem] of INT2) {
  const isShift = /^ps[rl]/.test(nm);
  const setup = isShift ? shiftCounts : undefined;
  simd(`${nm} mm`, { op: [0x0f, op], unit: 'simd-int', elem, reg: 'mm', rm: 'mm', mem: 8, setup });
  X(`${nm} xmm`, 0x66, [0x0f, op], 'simd-int', elem, { setup });
}
X('punpcklqdq', 0x66, [0x0f, 0x6c], 'simd-int', 'i64');
X('punpckhqdq', 0x66, [0x0f, 0x6d], 'simd-int', 'i64');
// shift by immediate: 0F 71/72/73 /ext ib
for (const [nm, op, ext] of [['psrlw', 0x71, 2], ['psraw', 0x71, 4], ['psllw', 0x71, 6], ['psrld', 0x72, 2], ['psrad', 0x72, 4], ['pslld', 0x72, 6], ['psrlq', 0x73, 2], ['psllq', 0x73, 6]] as const) {
  simd(`${nm} mm,imm8`, { op: [0x0f, op], unit: 'simd-int', elem: 'i16', reg: ext, rm: 'mm', mem: 0, imm: (g) => g.int(4) ? g.int(70) : g.int(256) });
  simd(`${nm} xmm,imm8`, { pfx: 0x66, op: [0x0f, op], unit: 'simd-int', elem: 'i16', reg: ext, rm: 'x', mem: 0, imm: (g) => g.int(4) ? g.int(70) : g.int(256) });
}
simd('psrldq xmm,imm8', { pfx: 0x66, op: [0x0f, 0x73], unit: 'simd-int', elem: 'i8', reg: 3, rm: 'x', mem: 0, imm: (g) => g.int(20) });
simd('pslldq xmm,imm8', { pfx: 0x66, op: [0x0f, 0x73], unit: 'simd-int', elem: 'i8', reg: 7, rm: 'x', mem: 0, imm: (g) => g.int(20) });
X('pshufd', 0x66, [0x0f, 0x70], 'simd-int', 'i32', { imm: imm8 });
X('pshufhw', 0xf3, [0x0f, 0x70], 'simd-int', 'i16', { imm: imm8, align: 1 });
X('pshuflw', 0xf2, [0x0f, 0x70], 'simd-int', 'i16', { imm: imm8, align: 1 });
simd('pshufw', { op: [0x0f, 0x70], unit: 'simd-int', elem: 'i16', reg: 'mm', rm: 'mm', mem: 8, imm: imm8 });
simd('pinsrw xmm', { pfx: 0x66, op: [0x0f, 0xc4], unit: 'simd-int', elem: 'i16', reg: 'x', rm: 'g', mem: 2, imm: imm8 });
simd('pextrw r32,xmm', { pfx: 0x66, op: [0x0f, 0xc5], unit: 'simd-int', elem: 'i16', reg: 'g', rm: 'x', mem: 0, imm: imm8 });
simd('pinsrw mm', { op: [0x0f, 0xc4], unit: 'simd-int', elem: 'i16', reg: 'mm', rm: 'g', mem: 2, imm: imm8 });
simd('pextrw r32,mm', { op: [0x0f, 0xc5], unit: 'simd-int', elem: 'i16', reg: 'g', rm: 'mm', mem: 0, imm: imm8 });
simd('maskmovdqu', {
  pfx: 0x66, op: [0x0f, 0xf7], unit: 'simd-int', elem: 'i8', reg: 'x', rm: 'x', mem: 0,
  setup(g, st) { st.gprs[7] = BigInt(ORACLE_SCRATCH_ADDR + 64 + g.int(800)); },
});
// SSSE3 (0F 38 xx; 66 for xmm)
const SSSE3: [string, number, Elem][] = [
  ['pshufb', 0x00, 'i8'], ['phaddw', 0x01, 'i16'], ['phaddd', 0x02, 'i32'], ['phaddsw', 0x03, 'i16'], ['pmaddubsw', 0x04, 'i8'],
  ['phsubw', 0x05, 'i16'], ['phsubd', 0x06, 'i32'], ['phsubsw', 0x07, 'i16'], ['psignb', 0x08, 'i8'], ['psignw', 0x09, 'i16'],
  ['psignd', 0x0a, 'i32'], ['pmulhrsw', 0x0b, 'i16'], ['pabsb', 0x1c, 'i8'], ['pabsw', 0x1d, 'i16'], ['pabsd', 0x1e, 'i32'],
];
for (const [nm, op, elem] of SSSE3) {
  X(`${nm} xmm`, 0x66, [0x0f, 0x38, op], 'simd-int', elem);
  simd(`${nm} mm`, { op: [0x0f, 0x38, op], unit: 'simd-int', elem, reg: 'mm', rm: 'mm', mem: 8 });
}
X('palignr xmm', 0x66, [0x0f, 0x3a, 0x0f], 'simd-int', 'i8', { imm: (g) => g.int(40) });
simd('palignr mm', { op: [0x0f, 0x3a, 0x0f], unit: 'simd-int', elem: 'i8', reg: 'mm', rm: 'mm', mem: 8, imm: (g) => g.int(24) });
// SSE4.1 integer
const PMOV: [string, number, number][] = [
  ['pmovsxbw', 0x20, 8], ['pmovsxbd', 0x21, 4], ['pmovsxbq', 0x22, 2], ['pmovsxwd', 0x23, 8], ['pmovsxwq', 0x24, 4], ['pmovsxdq', 0x25, 8],
  ['pmovzxbw', 0x30, 8], ['pmovzxbd', 0x31, 4], ['pmovzxbq', 0x32, 2], ['pmovzxwd', 0x33, 8], ['pmovzxwq', 0x34, 4], ['pmovzxdq', 0x35, 8],
];
for (const [nm, op, w] of PMOV) X(nm, 0x66, [0x0f, 0x38, op], 'simd-int', 'i8', { mem: w, align: 1 });
const SSE41: [string, number, Elem][] = [
  ['pblendvb', 0x10, 'i8'], ['ptest', 0x17, 'any'], ['pmuldq', 0x28, 'i32'], ['pcmpeqq', 0x29, 'i64'], ['packusdw', 0x2b, 'i32'],
  ['pminsb', 0x38, 'i8'], ['pminsd', 0x39, 'i32'], ['pminuw', 0x3a, 'i16'], ['pminud', 0x3b, 'i32'],
  ['pmaxsb', 0x3c, 'i8'], ['pmaxsd', 0x3d, 'i32'], ['pmaxuw', 0x3e, 'i16'], ['pmaxud', 0x3f, 'i32'], ['pmulld', 0x40, 'i32'], ['phminposuw', 0x41, 'i16'],
  ['pcmpgtq', 0x37, 'i64'],
];
for (const [nm, op, elem] of SSE41) X(nm, 0x66, [0x0f, 0x38, op], 'simd-int', elem);
X('movntdqa', 0x66, [0x0f, 0x38, 0x2a], 'simd-int', 'any', { rm: 'none' });
X('pblendw', 0x66, [0x0f, 0x3a, 0x0e], 'simd-int', 'i16', { imm: imm8 });
X('mpsadbw', 0x66, [0x0f, 0x3a, 0x42], 'simd-int', 'i8', { imm: (g) => g.int(8) });
simd('pextrb', { pfx: 0x66, op: [0x0f, 0x3a, 0x14], unit: 'simd-int', elem: 'i8', reg: 'x', rm: 'g', mem: 1, imm: imm8 });
simd('pextrw r/m16', { pfx: 0x66, op: [0x0f, 0x3a, 0x15], unit: 'simd-int', elem: 'i16', reg: 'x', rm: 'g', mem: 2, imm: imm8 });
simd('pextrd', { pfx: 0x66, op: [0x0f, 0x3a, 0x16], unit: 'simd-int', elem: 'i32', reg: 'x', rm: 'g', mem: 4, imm: imm8 });
simd('pextrq', { pfx: 0x66, op: [0x0f, 0x3a, 0x16], unit: 'simd-int', elem: 'i64', reg: 'x', rm: 'g', mem: 8, w: true, imm: imm8, modes: [64] });
simd('pinsrb', { pfx: 0x66, op: [0x0f, 0x3a, 0x20], unit: 'simd-int', elem: 'i8', reg: 'x', rm: 'g', mem: 1, imm: imm8 });
simd('pinsrd', { pfx: 0x66, op: [0x0f, 0x3a, 0x22], unit: 'simd-int', elem: 'i32', reg: 'x', rm: 'g', mem: 4, imm: imm8 });
simd('pinsrq', { pfx: 0x66, op: [0x0f, 0x3a, 0x22], unit: 'simd-int', elem: 'i64', reg: 'x', rm: 'g', mem: 8, w: true, imm: imm8, modes: [64] });
// SSE4.2: string compares and CRC32
function strLens(g: Gen, st: FpCaseState): void {
  st.gprs[0] = BigInt.asUintN(64, BigInt(g.int(4) ? g.int(41) - 20 : g.int(2) ? 0x7fffffff : -0x80000000));
  st.gprs[2] = BigInt.asUintN(64, BigInt(g.int(4) ? g.int(41) - 20 : g.int(2) ? 0x7fffffff : -0x80000000));
  // short strings with shared characters, so that matches happen
  for (let i = 0; i < 16; i++) for (let k = 0; k < 16; k++) st.fx[FX.XMM + 16 * i + k] = g.int(6) === 0 ? 0 : 0x41 + g.int(6);
  for (let k = 0; k < SCRATCH_LEN; k++) st.scratch[k] = g.int(6) === 0 ? 0 : 0x41 + g.int(6);
}
for (const [nm, op] of [['pcmpestrm', 0x60], ['pcmpestri', 0x61], ['pcmpistrm', 0x62], ['pcmpistri', 0x63]] as const) {
  X(nm, 0x66, [0x0f, 0x3a, op], 'simd-int', 'i8', { align: 1, imm: (g) => g.int(128), setup: strLens, avoid: [0, 2] });
}
simd('crc32 r32,r/m8', { pfx: 0xf2, op: [0x0f, 0x38, 0xf0], unit: 'simd-int', elem: 'i8', reg: 'g', rm: 'g', mem: 1 });
simd('crc32 r32,r/m32', { pfx: 0xf2, op: [0x0f, 0x38, 0xf1], unit: 'simd-int', elem: 'i32', reg: 'g', rm: 'g', mem: 4 });
simd('crc32 r64,r/m64', { pfx: 0xf2, op: [0x0f, 0x38, 0xf1], unit: 'simd-int', elem: 'i64', reg: 'g', rm: 'g', mem: 8, w: true, modes: [64] });
forms.push({
  name: 'crc32 r32,r/m16', unit: 'simd-int', modes: [64, 32],
  gen(g, mode, st) { x87State(g, st); mxcsrState(g, st); st.code.push(0x66); emit(st, mode, [0xf2], [0x0f, 0x38, 0xf1], pickGpr(g, mode), { r: pickGpr(g, mode) }); },
});

export const FP_FORMS: readonly FpForm[] = forms;

/* ================= the emulator side ================= */

const CR0_MP = 1 << 1, CR0_ET = 1 << 4, CR0_NE = 1 << 5;
const CR4_OSFXSR = 1 << 9, CR4_OSXMMEXCPT = 1 << 10;

export interface EmuResult {
  outcome: 'completed' | 'fault';
  vector: number;
  gprs: bigint[];
  rflags: number;
  scratch: Uint8Array;
  /** The FP state after the case in FXSAVE64 layout (ST(i) order by the final TOP). */
  fx: Uint8Array;
}

/** A Vcpu over the oracle's memory map, CPL 3, CR0.NE = 1, CR4.OSFXSR = OSXMMEXCPT = 1 (as Linux runs user code). */
export class FpEmulator {
  readonly host = new HostMemory({ chunkSize: 0x4000 });
  readonly cpu: Vcpu;
  readonly code: Uint8Array;
  readonly scratch: Uint8Array;
  private readonly fxOut = new Uint8Array(512);
  constructor() {
    const seg = this.host.createSegment('ram', 0x4000);
    const bytes = this.host.ensureChunk(this.host.chunkOf(seg.hostBase));
    this.code = bytes.subarray(0, 0x1000);
    this.scratch = bytes.subarray(0x1000, 0x3000);
    this.cpu = new Vcpu(new OracleSpace(this.host, seg.hostBase, seg.hostBase + 0x1000));
  }

  run(c: OracleCase): EmuResult {
    const cpu = this.cpu;
    const s = cpu.state;
    const u = s.u32;
    const mode = c.mode;
    u[S_CR0] = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
    u[S_CR4] = CR4_OSFXSR | CR4_OSXMMEXCPT;
    u[S_EFER] = EFER_LME | EFER_LMA;
    s.setSegment(CS, mode === 64 ? 0x33 : 0x23, 0, 0, 0xffffffff, codeAttr(mode === 64 ? 64 : 32));
    for (const g of [DS, ES, SS]) s.setSegment(g, 0x2b, 0, 0, 0xffffffff, dataAttr(32));
    for (const g of [FS, GS]) s.setSegment(g, 0, 0, 0, 0, 1 << 16);
    this.code.fill(0xcc);
    this.code.set(c.code, 0);
    this.code[c.code.length] = 0xf4;
    this.scratch.fill(0);
    if (c.scratch) this.scratch.set(c.scratch);
    for (let r = 0; r < 16; r++) {
      const v = c.gprs?.[r] ?? 0n;
      u[2 * r] = Number(v & 0xffffffffn);
      u[2 * r + 1] = mode === 64 ? Number((v >> 32n) & 0xffffffffn) : 0;
    }
    loadFx(u, c.fxsave ?? fxInitImage());
    setFlags(u, (c.rflags ?? 0) | 0x202);
    u[S_RIP] = ORACLE_CODE_ADDR;
    u[S_RIP + 1] = 0;
    cpu.updateMode();
    cpu.flushCodeCache();
    const e = cpu.run({ maxInstructions: 1000 });
    const { outcome, vector, gprs } = caseOutcome(u, mode, e, c.code.length);
    storeFx(u, this.fxOut);
    return { outcome, vector, gprs, rflags: getFlags(u), scratch: this.scratch, fx: this.fxOut };
  }
}

/** Loads an FXSAVE64 image into the register file (ST(i) -> physical R[(TOP + i) & 7]). */
export function loadFx(u: Uint32Array, fx: Uint8Array): void {
  u[S_FCW] = rd16(fx, FX.FCW);
  const fsw = rd16(fx, FX.FSW);
  u[S_FSW] = fsw;
  u[S_FTW] = fx[FX.FTW]!;
  u[S_FOP] = rd16(fx, FX.FOP) & 0x7ff;
  u[S_FIP] = rd32(fx, FX.FIP); u[S_FIP + 1] = rd32(fx, FX.FIP + 4); u[S_FCS] = 0;
  u[S_FDP] = rd32(fx, FX.FDP); u[S_FDP + 1] = rd32(fx, FX.FDP + 4); u[S_FDS] = 0;
  u[S_MXCSR] = rd32(fx, FX.MXCSR);
  const top = (fsw >> 11) & 7;
  for (let i = 0; i < 8; i++) {
    const p = S_FPR + FPR_STRIDE * ((top + i) & 7);
    const o = FX.ST + 16 * i;
    u[p] = rd32(fx, o); u[p + 1] = rd32(fx, o + 4); u[p + 2] = rd16(fx, o + 8); u[p + 3] = 0;
  }
  for (let i = 0; i < 16; i++) for (let k = 0; k < 4; k++) u[S_XMM + XMM_STRIDE * i + k] = rd32(fx, FX.XMM + 16 * i + 4 * k);
}

/** The register file as an FXSAVE64 image (MXCSR_MASK left 0). */
export function storeFx(u: Uint32Array, fx: Uint8Array): void {
  fx.fill(0);
  put16(fx, FX.FCW, u[S_FCW]!);
  const fsw = u[S_FSW]! & 0xffff;
  put16(fx, FX.FSW, fsw);
  fx[FX.FTW] = u[S_FTW]! & 0xff;
  put16(fx, FX.FOP, u[S_FOP]!);
  put32(fx, FX.FIP, u[S_FIP]!); put32(fx, FX.FIP + 4, u[S_FIP + 1]!);
  put32(fx, FX.FDP, u[S_FDP]!); put32(fx, FX.FDP + 4, u[S_FDP + 1]!);
  put32(fx, FX.MXCSR, u[S_MXCSR]!);
  const top = (fsw >> 11) & 7;
  for (let i = 0; i < 8; i++) {
    const p = S_FPR + FPR_STRIDE * ((top + i) & 7);
    const o = FX.ST + 16 * i;
    put32(fx, o, u[p]!); put32(fx, o + 4, u[p + 1]!); put16(fx, o + 8, u[p + 2]!);
  }
  for (let i = 0; i < 16; i++) for (let k = 0; k < 4; k++) put32(fx, FX.XMM + 16 * i + 4 * k, u[S_XMM + XMM_STRIDE * i + k]!);
}

/* ================= the comparison ================= */

export interface FpCase { form: FpForm; c: OracleCase; st: FpCaseState }

export function generateCase(form: FpForm, mode: 32 | 64, r: Rng): FpCase {
  const g = new Gen(r);
  void g.u32();
  const st: FpCaseState = {
    gprs: Array.from({ length: 16 }, () => r.v64()),
    rflags: r.u32() & (CF | PF | AF | ZF | SF | OF),
    code: [],
    scratch: new Uint8Array(SCRATCH_LEN),
    fx: fxInitImage(),
    scratchMask: [],
    mem: false,
  };
  st.gprs[4] = BigInt(ORACLE_SCRATCH_ADDR + SCRATCH_LEN);
  const words = new Uint32Array(st.scratch.buffer);
  for (let i = 0; i < words.length; i++) words[i] = g.u32();
  form.gen(g, mode, st);
  if (st.approx && st.approx.src.length === 0) {
    // memory source: the operand is where the base register points
    const src = new Uint32Array(4);
    const addr = memAddrOf(st, mode);
    for (let k = 0; k < 4; k++) src[k] = addr >= 0 && addr + 4 * k + 4 <= SCRATCH_LEN ? rd32(st.scratch, addr + 4 * k) : 0;
    st.approx.src = src;
  }
  if (mode === 32) st.gprs = st.gprs.map((v) => v & 0xffffffffn);
  return { form, c: { mode, code: st.code, gprs: st.gprs, rflags: st.rflags, scratch: st.scratch, fxsave: st.fx }, st };
}

/** The scratch offset of the case's memory operand, decoded back from ModRM + disp32 (our own encoding). */
function memAddrOf(st: FpCaseState, mode: number): number {
  const c = st.code;
  // the ModRM byte with mod = 10 is followed by [SIB] disp32 at the end (an imm8 may follow)
  for (let i = 0; i < c.length; i++) {
    const m = c[i]!;
    if ((m & 0xc0) !== 0x80 || i < 2) continue;
    const sib = (m & 7) === 4;
    const dOff = i + 1 + (sib ? 1 : 0);
    if (dOff + 4 !== c.length && dOff + 5 !== c.length) continue;
    let rexB = 0;
    for (let k = 0; k < i; k++) if (mode === 64 && (c[k]! & 0xf0) === 0x40) rexB = c[k]! & 1;
    const base = (m & 7) | (rexB << 3);
    const disp = (c[dOff]! | (c[dOff + 1]! << 8) | (c[dOff + 2]! << 16) | (c[dOff + 3]! << 24));
    return Number(BigInt.asUintN(32, st.gprs[base]! + BigInt(disp))) - ORACLE_SCRATCH_ADDR;
  }
  return -1;
}

const STATUS = CF | PF | AF | ZF | SF | OF | DF;
/** Forms that load the whole x87 state: a pending exception they bring in is state, not a response. */
const LOADS_STATE = new Set(['fldenv m28', 'frstor m108', 'fldenv m14', 'frstor m94', 'fxrstor m512', 'fxrstor64 m512', 'fldcw m16']);

/** ST(0) of an image is a NaN (exponent all ones, fraction below J non-zero). */
function st0IsNan(fx: Uint8Array): boolean {
  return (rd16(fx, FX.ST + 8) & 0x7fff) === 0x7fff && ((rd32(fx, FX.ST + 4) & 0x7fffffff) !== 0 || rd32(fx, FX.ST) !== 0);
}
/**
 * Condition-code bits masked per form (MASKED table): the SDM leaves them undefined, or this host
 * departs from the SDM where the model follows the SDM.
 */
const FSW_MASKS: Record<string, (hostFsw: number, hostFx: Uint8Array, initFx: Uint8Array) => number> = {
  // FYL2X of an exact power of two (log2 exact, the product exact): this host still flags PE (and C1 = 0)
  'fyl2x': (_f, _h, init) => (rd32(init, FX.ST) === 0 && rd32(init, FX.ST + 4) === 0x80000000 ? 0x0220 : 0x0200),
  // FFREE: "C0, C1, C2, C3 undefined" (SDM Vol. 2 FFREE); FFREEP likewise
  'ffree st(i)': () => 0x4700,
  'ffreep st(i)': () => 0x4700,
  // FCOMI/FUCOMI(P): "C1 Set to 0" — this host leaves C1 unchanged
  'fcomi st0,st(i)': () => 0x0200, 'fcomip st0,st(i)': () => 0x0200, 'fucomi st0,st(i)': () => 0x0200, 'fucomip st0,st(i)': () => 0x0200,
  // FPREM/FPREM1 with a NaN result: the quotient bits C0 C1 C3 mean nothing
  'fprem': (_f, fx) => (st0IsNan(fx) ? 0x4300 : 0),
  'fprem1': (_f, fx) => (st0IsNan(fx) ? 0x4300 : 0),
};
// FCMOVcc: "C0, C2, C3 undefined; C1 set to 0 if stack underflow occurred" (otherwise unspecified; this host keeps it;
// SF is sticky, so an underflow of this instruction cannot be told from the FSW: C1 is masked always)
for (const cc of ['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu', 'fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu']) {
  FSW_MASKS[`${cc} st0,st(i)`] = () => 0x4700;
}
const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const hx = (v: number | bigint, w = 0): string => v.toString(16).padStart(w, '0');

/** 80-bit register value of physical Ri from an image (ST order) as a bigint se:sig. */
function physReg(fx: Uint8Array, i: number): bigint {
  const top = (rd16(fx, FX.FSW) >> 11) & 7;
  const o = FX.ST + 16 * ((i - top) & 7);
  return (BigInt(rd16(fx, o + 8)) << 64n) | (BigInt(rd32(fx, o + 4)) << 32n) | BigInt(rd32(fx, o));
}

function f32OfBits(b: number): number { const v = new DataView(new ArrayBuffer(4)); v.setUint32(0, b); return v.getFloat32(0); }

/** RCP/RSQRT lane check: equal to the host, or within 1.5 * 2^-12 of the exact value (SDM Vol. 2 RCPPS). */
/** How often the masks of MASKED let a differing value pass (reset by runFpDiff). */
export const TOLERATED = { transcendentalUlp: 0, approxLane: 0, unmaskedX87: 0 };

function approxOk(kind: Special, src: number, host: number, emu: number): boolean {
  if (host === emu) return true;
  TOLERATED.approxLane++;
  const x = f32OfBits(src);
  const exact = kind === 'rcp' ? 1 / x : 1 / Math.sqrt(x);
  const y = f32OfBits(emu);
  if (!Number.isFinite(exact) || exact === 0 || Number.isNaN(exact)) return false; // specials must be exact
  if (!Number.isFinite(y) || y === 0) return false;
  return Math.abs(y - exact) <= 1.5 * 2 ** -12 * Math.abs(exact);
}

/** Returns the first difference (a readable line) or null. */
export function compareFp(fc: FpCase, o: OracleResult, e: EmuResult): string | null {
  const { form, st } = fc;
  if (o.outcome === 'fault') {
    if (e.outcome !== 'fault') return `host faulted with ${o.fault!.vector}, emulator completed`;
    if (e.vector !== o.fault!.vector) return `fault vector host ${o.fault!.vector} emulator ${e.vector}`;
  } else if (e.outcome !== 'completed') return `host completed, emulator stopped with vector ${e.vector}`;
  const hf = o.fxsave!, ef = e.fx;
  const trans = form.special === 'transcendental';
  const esBefore = (rd16(st.fx, FX.FSW) & 0x80) !== 0;
  const hfsw = rd16(hf, FX.FSW), efsw = rd16(ef, FX.FSW);
  if (rd16(hf, FX.FCW) !== rd16(ef, FX.FCW)) return `FCW host ${hx(rd16(hf, FX.FCW), 4)} emulator ${hx(rd16(ef, FX.FCW), 4)}`;
  // an x87 instruction that raised an unmasked exception: only the exception state is comparable (MASKED)
  // (pre-computation exceptions only: IE, DE, ZE; an unmasked OE/UE/PE still stores the re-biased/rounded result)
  const fcw = rd16(st.fx, FX.FCW);
  if (form.unit === 'x87' && !LOADS_STATE.has(form.name) && !esBefore && (hfsw & 0x80) !== 0 && o.outcome === 'completed' &&
      (hfsw & ~fcw & 0x07) !== 0) {
    if ((hfsw & 0x80ff) !== (efsw & 0x80ff)) return `FSW host ${hx(hfsw, 4)} emulator ${hx(efsw, 4)} (unmasked exception: flags, SF, ES, B compared)`;
    TOLERATED.unmaskedX87++;
    return null;
  }
  const fswMask = FSW_MASKS[form.name]?.(hfsw, hf, st.fx) ?? (trans ? 0x0200 : 0);
  if ((hfsw & ~fswMask) !== (efsw & ~fswMask)) return `FSW host ${hx(hfsw, 4)} emulator ${hx(efsw, 4)}`;
  if (hf[FX.FTW] !== ef[FX.FTW]) return `FTW host ${hx(hf[FX.FTW]!, 2)} emulator ${hx(ef[FX.FTW]!, 2)}`;
  // the FPU pointers: only when the case raised ES (MASKED table)
  if (!esBefore && (rd16(hf, FX.FSW) & 0x80) !== 0 && o.outcome === 'completed') {
    if ((rd16(hf, FX.FOP) & 0x7ff) !== (rd16(ef, FX.FOP) & 0x7ff)) return `FOP host ${hx(rd16(hf, FX.FOP), 3)} emulator ${hx(rd16(ef, FX.FOP), 3)}`;
    if (rd32(hf, FX.FIP) !== rd32(ef, FX.FIP)) return `FIP host ${hx(rd32(hf, FX.FIP))} emulator ${hx(rd32(ef, FX.FIP))}`;
    if (st.mem && rd32(hf, FX.FDP) !== rd32(ef, FX.FDP)) return `FDP host ${hx(rd32(hf, FX.FDP))} emulator ${hx(rd32(ef, FX.FDP))}`;
  }
  for (let i = 0; i < 8; i++) {
    const a = physReg(hf, i), b = physReg(ef, i);
    if (a === b) continue;
    if (trans && (a >> 79n) === (b >> 79n)) {
      const d = a > b ? a - b : b - a;
      // 1 ulp in the significand; across a binade the J bit makes the step 2^63 + 1
      if (d === 1n || d === (1n << 63n) + 1n) { TOLERATED.transcendentalUlp++; continue; }
    }
    return `R${i} host ${hx(a, 20)} emulator ${hx(b, 20)}`;
  }
  if (rd32(hf, FX.MXCSR) !== rd32(ef, FX.MXCSR)) return `MXCSR host ${hx(rd32(hf, FX.MXCSR), 4)} emulator ${hx(rd32(ef, FX.MXCSR), 4)}`;
  for (let i = 0; i < 16; i++) {
    for (let k = 0; k < 4; k++) {
      const a = rd32(hf, FX.XMM + 16 * i + 4 * k), b = rd32(ef, FX.XMM + 16 * i + 4 * k);
      if (a === b) continue;
      const ap = st.approx;
      if (ap && i === ap.dst && k < ap.lanes && (form.special === 'rcp' || form.special === 'rsqrt') && approxOk(form.special, ap.src[k]!, a, b)) continue;
      let hs = '', es = '';
      for (let j = 3; j >= 0; j--) { hs += hx(rd32(hf, FX.XMM + 16 * i + 4 * j), 8); es += hx(rd32(ef, FX.XMM + 16 * i + 4 * j), 8); }
      return `XMM${i} host ${hs} emulator ${es}`;
    }
  }
  if (o.outcome === 'fault') return null; // GPRs/flags at a fault: the vector and FP state are what matter here
  for (let r = 0; r < 16; r++) if (o.gprs[r] !== e.gprs[r]) return `${GPR_NAMES[r]} host ${hx(o.gprs[r]!)} emulator ${hx(e.gprs[r]!)}`;
  if ((o.rflags & STATUS) !== (e.rflags & STATUS)) return `rflags host ${hx(o.rflags)} emulator ${hx(e.rflags)}`;
  const n = Math.max(o.scratch.length, SCRATCH_LEN);
  for (let i = 0; i < n; i++) {
    if ((o.scratch[i] ?? 0) === e.scratch[i]) continue;
    if (st.scratchMask.some(([a, b]) => i >= a && i < b)) continue;
    return `scratch byte ${i} host ${hx(o.scratch[i] ?? 0, 2)} emulator ${hx(e.scratch[i]!, 2)}`;
  }
  return null;
}

export interface FpMismatch { form: string; mode: number; what: string; code: string; fx: string }

export interface FpDiffResult {
  forms: number;
  cases: number;
  compared: number;
  /** Forms skipped because their unit is pending, and their host-only cases. */
  pendingForms: number;
  pendingCases: number;
  /** Host #UD on a form: the encoding is wrong (never expected). */
  hostUd: { form: string; mode: number; code: string }[];
  /** Host outcomes over all cases. */
  hostCompleted: number;
  hostFaults: Record<number, number>;
  /** The first mismatches (up to maxMismatches) outside the open findings, and their total count. */
  mismatches: FpMismatch[];
  mismatchCount: number;
  /** Mismatch count per form (all mismatches, pending ones included). */
  perForm: Record<string, number>;
  /** Mismatches under PENDING_FORMS / PENDING_PATTERNS (open findings): counted, not in `mismatches`. */
  pendingMismatches: Record<string, number>;
}

export interface FpDiffOptions {
  perForm: number;
  seed: number;
  filter?: string | RegExp;
  mode: 32 | 64;
  /** Compare pending forms too (to try a unit that has partly landed). */
  includePending?: boolean;
  /** Only every n-th form (the compatibility-mode subset). */
  every?: number;
  maxMismatches?: number;
}

export function runFpDiff(o: FpDiffOptions, oracle = HostCpuOracle.open()): FpDiffResult {
  const emu = new FpEmulator();
  TOLERATED.transcendentalUlp = TOLERATED.approxLane = TOLERATED.unmaskedX87 = 0;
  const res: FpDiffResult = { forms: 0, cases: 0, compared: 0, pendingForms: 0, pendingCases: 0, hostUd: [], hostCompleted: 0, hostFaults: {}, mismatches: [], mismatchCount: 0, perForm: {}, pendingMismatches: {} };
  let idx = -1;
  for (const form of FP_FORMS) {
    if (!form.modes.includes(o.mode)) continue;
    idx++;
    if (o.every && idx % o.every !== 0) continue;
    if (o.filter && !(typeof o.filter === 'string' ? form.name.includes(o.filter) : o.filter.test(form.name))) continue;
    const pending = PENDING_UNITS[form.unit] !== undefined && !o.includePending;
    res.forms++;
    if (pending) res.pendingForms++;
    const r = new Rng(o.seed ^ hash(form.name + o.mode));
    const batch: FpCase[] = [];
    for (let k = 0; k < o.perForm; k++) batch.push(generateCase(form, o.mode, r));
    const out = oracle.run(batch.map((b) => b.c));
    for (let k = 0; k < batch.length; k++) {
      const fc = batch[k]!;
      const h = out[k]!;
      res.cases++;
      if (h.outcome === 'completed') res.hostCompleted++;
      if (h.outcome === 'fault') {
        res.hostFaults[h.fault!.vector] = (res.hostFaults[h.fault!.vector] ?? 0) + 1;
        if (h.fault!.vector === 6 && res.hostUd.length < 20) res.hostUd.push({ form: form.name, mode: o.mode, code: hexBytes(fc.c.code) });
      }
      if (pending) { res.pendingCases++; continue; }
      if (h.outcome !== 'completed' && h.outcome !== 'fault') continue;
      res.compared++;
      const e = emu.run(fc.c);
      const why = compareFp(fc, h, e);
      if (why !== null) {
        res.perForm[form.name] = (res.perForm[form.name] ?? 0) + 1;
        const open = o.includePending ? undefined : PENDING_FORMS[form.name] ?? PENDING_PATTERNS.find((p) => p.test(form.name, why))?.finding;
        if (open !== undefined) {
          res.pendingMismatches[open] = (res.pendingMismatches[open] ?? 0) + 1;
        } else if (++res.mismatchCount <= (o.maxMismatches ?? 200)) {
          res.mismatches.push({ form: form.name, mode: o.mode, what: why, code: hexBytes(fc.c.code), fx: describeState(fc) });
        }
      }
    }
  }
  return res;
}

function hexBytes(b: ArrayLike<number>): string { return Array.from(b as number[], (x) => hx(x, 2)).join(' '); }

/** The initial state in a line: FCW FSW FTW MXCSR, ST0..ST2 and the registers the code names. */
export function describeState(fc: FpCase): string {
  const f = fc.st.fx;
  const st = [0, 1, 2].map((i) => `ST${i}=${hx(rd16(f, FX.ST + 16 * i + 8), 4)}:${hx(rd32(f, FX.ST + 16 * i + 4), 8)}${hx(rd32(f, FX.ST + 16 * i), 8)}`).join(' ');
  const xm = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((i) => {
    let s = '';
    for (let j = 3; j >= 0; j--) s += hx(rd32(f, FX.XMM + 16 * i + 4 * j), 8);
    return `x${i}=${s}`;
  }).join(' ');
  const g = fc.st.gprs.map((v, i) => `${GPR_NAMES[i]}=${hx(v)}`).join(' ');
  return `FCW=${hx(rd16(f, FX.FCW), 4)} FSW=${hx(rd16(f, FX.FSW), 4)} FTW=${hx(f[FX.FTW]!, 2)} MXCSR=${hx(rd32(f, FX.MXCSR), 4)} ${st} ${xm} ${g} rflags=${hx(fc.st.rflags)}`;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  return h >>> 0;
}

