/**
 * Differential testing of our decoder against iced-x86 (the oracle; dev dependency only).
 * Shared by test/decoder/diff.test.ts (fixed-seed sample in `npm test`) and
 * scripts/decoder-diff.ts (`npm run test:decoder-diff -- --count N --seed S`).
 *
 * Oracle settings: iced's default (Intel-and-AMD union) decoder with DecoderOptions.None, which
 * matches an Intel CPU for everything the model implements: no AMD 16-bit-branch quirks, no MPX,
 * no Cyrix/3DNow!-only options, PAUSE/TZCNT/LZCNT decoded (our CPUID advertises BMI1 and ABM).
 * iced decodes many extensions the model does not implement; those rows are classified by iced's
 * CPUID feature list and must decode as #UD here (the CPU raises #UD for them), except the
 * reserved-NOP hint space (0F 18-1F), whose iced spellings (ENDBR64, CLDEMOTE ...) we share.
 */
import { CpuidFeature, Decoder, DecoderOptions, EncodingKind, Formatter, FormatterSyntax, Instruction, Mnemonic as IcedMnemonic, OpKind as IcedOpKind, Register as IcedRegister } from 'iced-x86';
import { decodeInto } from '../../src/cpu/decoder/decode.js';
import { DecodeStatus, Encoding, Insn, Mnemonic, OpKind, RegClass } from '../../src/cpu/decoder/insn.js';
import { format } from '../../src/cpu/decoder/format.js';

/** CPUID features of the CPU model (brief: x87, SSE..SSE4.2, POPCNT, LZCNT, BMI1/2, ADX, MOVBE ...). */
const MODEL_FEATURES = new Set<number>([
  CpuidFeature.INTEL8086, CpuidFeature.INTEL186, CpuidFeature.INTEL286, CpuidFeature.INTEL386,
  CpuidFeature.INTEL486, CpuidFeature.X64, CpuidFeature.FPU, CpuidFeature.FPU287, CpuidFeature.FPU387,
  CpuidFeature.CMOV, CpuidFeature.CX8, CpuidFeature.CMPXCHG16B, CpuidFeature.MMX, CpuidFeature.SSE,
  CpuidFeature.SSE2, CpuidFeature.SSE3, CpuidFeature.SSSE3, CpuidFeature.SSE4_1, CpuidFeature.SSE4_2,
  CpuidFeature.POPCNT, CpuidFeature.LZCNT, CpuidFeature.BMI1, CpuidFeature.BMI2, CpuidFeature.ADX,
  CpuidFeature.MOVBE, CpuidFeature.RDRAND, CpuidFeature.RDSEED, CpuidFeature.RDTSCP, CpuidFeature.FSGSBASE,
  CpuidFeature.INVPCID, CpuidFeature.SMAP, CpuidFeature.CLFSH, CpuidFeature.SYSCALL, CpuidFeature.SEP,
  CpuidFeature.FXSR, CpuidFeature.TSC, CpuidFeature.MSR, CpuidFeature.CPUID, CpuidFeature.PAUSE,
  CpuidFeature.MULTIBYTENOP, CpuidFeature.RDPMC, CpuidFeature.PREFETCHW,
]);
/** Features whose encodings live in the reserved-NOP space and execute as NOPs on this model. */
const HINT_FEATURES = new Set<number>([CpuidFeature.CET_IBT, CpuidFeature.CET_SS, CpuidFeature.CLDEMOTE,
  CpuidFeature.PREFETCHWT1, CpuidFeature.PREFETCHITI, CpuidFeature.WBNOINVD]);
/** Opcodes (map << 8 | byte) whose rows are hints on this model: 0F 09 (WBNOINVD = WBINVD), 0F 0D, 0F 18-1F. */
function isHintOpcode(op: number): boolean {
  return op === 0x109 || op === 0x10d || (op >= 0x118 && op <= 0x11f);
}

/** AMD-only VEX/XOP-encoded extensions (XOP, FMA4, TBM, LWP in XOP map A): #UD on the Intel model. */
const AMD_ONLY = new Set<number>([CpuidFeature.XOP, CpuidFeature.FMA4, CpuidFeature.TBM, CpuidFeature.LWP]);

/** Deterministic PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0);
  }
  int(n: number): number { return this.next() % n; }
}

export const SEQ_LEN = 24;
const LEGACY_PREFIXES = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];

/**
 * Writes one biased random sequence of SEQ_LEN bytes at buf[at]: a random prefix run (legacy and
 * REX, in random order), a map escape (none, 0F, 0F 38, 0F 3A, VEX2/3, EVEX, XOP), an opcode,
 * a ModRM/SIB biased over all mod values, and a random tail. `vexOnly`: VEX/EVEX/XOP escapes only.
 */
export function generate(rng: Rng, mode: number, buf: Uint8Array, at: number, vexOnly = false): void {
  for (let i = 0; i < SEQ_LEN; i++) buf[at + i] = rng.int(256);
  let p = at;
  const np = [0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 6, 14][rng.int(12)]!;
  for (let i = 0; i < np; i++) {
    buf[p++] = mode === 64 && rng.int(4) === 0 ? 0x40 | rng.int(16) : LEGACY_PREFIXES[rng.int(LEGACY_PREFIXES.length)]!;
  }
  if (mode === 64 && rng.int(3) === 0) buf[p++] = 0x40 | rng.int(16);
  const e = vexOnly ? 83 + rng.int(17) : rng.int(100);
  if (e < 35) { /* one-byte map: opcode is random */ }
  else if (e < 65) buf[p++] = 0x0f;
  else if (e < 75) { buf[p++] = 0x0f; buf[p++] = 0x38; }
  else if (e < 83) { buf[p++] = 0x0f; buf[p++] = 0x3a; }
  else if (e < 87) { buf[p++] = 0xc5; buf[p++] = mode === 64 ? rng.int(256) : 0xc0 | rng.int(64); }
  else if (e < 92) {
    buf[p++] = 0xc4;
    buf[p++] = (mode === 64 ? rng.int(8) << 5 : 0xc0 | (rng.int(2) << 5)) | (rng.int(4) === 0 ? rng.int(32) : 1 + rng.int(3));
    buf[p++] = rng.int(256);
  } else if (e < 97) {
    buf[p++] = 0x62;
    buf[p++] = (mode === 64 ? rng.int(16) << 4 : 0xc0 | (rng.int(4) << 4)) | (rng.int(8) === 0 ? rng.int(16) : [1, 2, 3, 5, 6][rng.int(5)]!);
    buf[p++] = rng.int(256) | (rng.int(8) === 0 ? 0 : 4);
    buf[p++] = rng.int(256);
  } else {
    buf[p++] = 0x8f;
    buf[p++] = (rng.int(8) << 5) | [8, 9, 10, rng.int(32)][rng.int(4)]!;
    buf[p++] = rng.int(256);
  }
  p++; // opcode: already random
  // ModRM: bias towards memory forms with SIB and displacements.
  if (p < at + SEQ_LEN) {
    const mod = rng.int(4);
    const rm = rng.int(3) === 0 ? 4 : rng.int(8);
    buf[p] = (mod << 6) | (rng.int(8) << 3) | rm;
  }
}

const ICED_GPR8 = ['AL', 'CL', 'DL', 'BL', 'SPL', 'BPL', 'SIL', 'DIL', 'R8L', 'R9L', 'R10L', 'R11L', 'R12L', 'R13L', 'R14L', 'R15L'];
const ICED_GPR16 = ['AX', 'CX', 'DX', 'BX', 'SP', 'BP', 'SI', 'DI', 'R8W', 'R9W', 'R10W', 'R11W', 'R12W', 'R13W', 'R14W', 'R15W'];
const ICED_GPR32 = ['EAX', 'ECX', 'EDX', 'EBX', 'ESP', 'EBP', 'ESI', 'EDI', 'R8D', 'R9D', 'R10D', 'R11D', 'R12D', 'R13D', 'R14D', 'R15D'];
const ICED_GPR64 = ['RAX', 'RCX', 'RDX', 'RBX', 'RSP', 'RBP', 'RSI', 'RDI', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15'];
const ICED_SEG = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'];

/** Our register id in iced's Register naming. */
export function icedRegName(id: number): string {
  const c = id >> 5;
  const n = id & 31;
  switch (c) {
    case RegClass.None: return 'None';
    case RegClass.Gpr8: return ICED_GPR8[n]!;
    case RegClass.Gpr8High: return ['AH', 'CH', 'DH', 'BH'][n]!;
    case RegClass.Gpr16: return ICED_GPR16[n]!;
    case RegClass.Gpr32: return ICED_GPR32[n]!;
    case RegClass.Gpr64: return ICED_GPR64[n]!;
    case RegClass.Seg: return ICED_SEG[n]!;
    case RegClass.Cr: return 'CR' + n;
    case RegClass.Dr: return 'DR' + n;
    case RegClass.St: return 'ST' + n;
    case RegClass.Mm: return 'MM' + n;
    case RegClass.Xmm: return 'XMM' + n;
    case RegClass.Ymm: return 'YMM' + n;
    case RegClass.Zmm: return 'ZMM' + n;
    case RegClass.K: return 'K' + n;
    case RegClass.Ip: return n === 0 ? 'RIP' : 'EIP';
  }
  return `?${id}`;
}

export type Verdict = 'match' | 'both-invalid' | 'outside-model' | 'vex-match' | 'vex-validity' | 'mismatch';

export interface Tally {
  total: number;
  match: number;
  bothInvalid: number;
  outsideModel: number;
  vexMatch: number;
  /** VEX/EVEX/XOP sequences where the two decoders disagree on validity (known gap, see docs/decoder.md). */
  vexValidity: number;
  mismatch: number;
  /** Per mismatch: a line in both decoders' words (kept up to `keep`). */
  samples: string[];
}

export function newTally(): Tally {
  return { total: 0, match: 0, bothInvalid: 0, outsideModel: 0, vexMatch: 0, vexValidity: 0, mismatch: 0, samples: [] };
}

function mask(v: bigint, bits: number): bigint {
  return BigInt.asUintN(bits, v);
}
function u64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

const STRSRC = new Set([IcedOpKind.MemorySegSI, IcedOpKind.MemorySegESI, IcedOpKind.MemorySegRSI]);
const STRDST = new Set([IcedOpKind.MemoryESDI, IcedOpKind.MemoryESEDI, IcedOpKind.MemoryESRDI]);
const STRDI = new Set([IcedOpKind.MemorySegDI, IcedOpKind.MemorySegEDI, IcedOpKind.MemorySegRDI]);

function opKindOf(insn: Insn, k: number): number {
  return k === 0 ? insn.opKind0 : k === 1 ? insn.opKind1 : k === 2 ? insn.opKind2 : insn.opKind3;
}
function regOf(insn: Insn, k: number): number {
  return k === 0 ? insn.reg0 : k === 1 ? insn.reg1 : k === 2 ? insn.reg2 : insn.reg3;
}

/** Compares a valid in-model decode field by field; returns a reason or '' if equal. */
function compareFields(ours: Insn, ic: Instruction): string {
  if (ours.length !== ic.length) return `length ${ours.length} vs ${ic.length}`;
  const icName = IcedMnemonic[ic.mnemonic];
  if (Mnemonic[ours.mnemonic] !== icName) return `mnemonic ${Mnemonic[ours.mnemonic]} vs ${icName}`;
  if (ours.opCount !== ic.opCount) return `opCount ${ours.opCount} vs ${ic.opCount}`;
  const asMask = ours.addrSize;
  for (let k = 0; k < ic.opCount; k++) {
    const ik = ic.opKind(k);
    const ok = opKindOf(ours, k);
    const bad = (what: string): string => `op${k} ${what}: ours ${OpKind[ok]} vs iced ${IcedOpKind[ik]}`;
    switch (ik) {
      case IcedOpKind.Register: {
        if (ok !== OpKind.Reg) return bad('kind');
        const a = icedRegName(regOf(ours, k));
        const b = IcedRegister[ic.opRegister(k)];
        if (a !== b) return bad(`register ${a} vs ${b}`);
        break;
      }
      case IcedOpKind.Memory: {
        if (ok !== OpKind.Mem) return bad('kind');
        const base = icedRegName(ours.memBase);
        const index = icedRegName(ours.memIndex);
        if (base !== IcedRegister[ic.memoryBase]) return bad(`base ${base} vs ${IcedRegister[ic.memoryBase]}`);
        if (index !== IcedRegister[ic.memoryIndex]) return bad(`index ${index} vs ${IcedRegister[ic.memoryIndex]}`);
        if (ours.memIndex !== 0 && ours.memScale !== ic.memoryIndexScale) return bad(`scale ${ours.memScale} vs ${ic.memoryIndexScale}`);
        if (ours.ripRelative) {
          const target = mask(u64(ours.memDisp, ours.memDispHi) + BigInt(ours.length), asMask);
          if (target !== mask(ic.memoryDisplacementU64, asMask)) return bad(`rip target ${target.toString(16)} vs ${ic.memoryDisplacementU64.toString(16)}`);
        } else if (mask(u64(ours.memDisp, ours.memDispHi), asMask) !== mask(ic.memoryDisplacementU64, asMask)) {
          return bad(`disp ${u64(ours.memDisp, ours.memDispHi).toString(16)} vs ${ic.memoryDisplacementU64.toString(16)}`);
        }
        if (ICED_SEG[ours.segment] !== IcedRegister[ic.memorySegment]) return bad(`segment ${ICED_SEG[ours.segment]} vs ${IcedRegister[ic.memorySegment]}`);
        break;
      }
      case IcedOpKind.Immediate8:
      case IcedOpKind.Immediate16:
      case IcedOpKind.Immediate32:
      case IcedOpKind.Immediate64:
      case IcedOpKind.Immediate8to16:
      case IcedOpKind.Immediate8to32:
      case IcedOpKind.Immediate8to64:
      case IcedOpKind.Immediate32to64: {
        const want = ik === IcedOpKind.Immediate8 ? OpKind.Imm8 : ik === IcedOpKind.Immediate16 ? OpKind.Imm16
          : ik === IcedOpKind.Immediate32 ? OpKind.Imm32 : ik === IcedOpKind.Immediate64 ? OpKind.Imm64
            : ik === IcedOpKind.Immediate32to64 ? OpKind.Imm32Sx : OpKind.Imm8Sx;
        if (ok !== want) return bad('kind');
        const bits = ik === IcedOpKind.Immediate8to16 ? 16 : ik === IcedOpKind.Immediate8to32 ? 32 : 64;
        if (mask(u64(ours.imm, ours.immHi), bits) !== mask(ic.immediate(k), bits)) return bad(`imm ${u64(ours.imm, ours.immHi).toString(16)} vs ${ic.immediate(k).toString(16)}`);
        break;
      }
      case IcedOpKind.Immediate8_2nd:
        if (ok !== OpKind.Imm8_2) return bad('kind');
        if (BigInt(ours.imm2) !== ic.immediate(k)) return bad('imm2');
        break;
      case IcedOpKind.NearBranch16:
      case IcedOpKind.NearBranch32:
      case IcedOpKind.NearBranch64: {
        if (ok !== OpKind.Rel) return bad('kind');
        const bits = ik === IcedOpKind.NearBranch16 ? 16 : ik === IcedOpKind.NearBranch32 ? 32 : 64;
        if (bits !== ours.opSize) return bad(`branch size ${ours.opSize} vs ${bits}`);
        const t = mask(u64(ours.imm, ours.immHi) + BigInt(ours.length), bits);
        if (t !== ic.nearBranchTarget) return bad(`target ${t.toString(16)} vs ${ic.nearBranchTarget.toString(16)}`);
        break;
      }
      case IcedOpKind.FarBranch16:
      case IcedOpKind.FarBranch32: {
        if (ok !== OpKind.FarPtr) return bad('kind');
        const off = ik === IcedOpKind.FarBranch16 ? ic.farBranch16 : ic.farBranch32;
        if (ours.imm !== off || ours.imm2 !== ic.farBranchSelector) return bad('far pointer');
        break;
      }
      default: {
        const aw = ik === IcedOpKind.MemorySegSI || ik === IcedOpKind.MemoryESDI || ik === IcedOpKind.MemorySegDI ? 16
          : ik === IcedOpKind.MemorySegESI || ik === IcedOpKind.MemoryESEDI || ik === IcedOpKind.MemorySegEDI ? 32 : 64;
        if (STRSRC.has(ik)) { if (ok !== OpKind.StrSrc) return bad('kind'); }
        else if (STRDST.has(ik)) { if (ok !== OpKind.StrDst) return bad('kind'); }
        else if (STRDI.has(ik)) { if (ok !== OpKind.StrSrcDi) return bad('kind'); }
        else return bad('unknown iced kind');
        if (aw !== ours.addrSize) return bad(`address size ${ours.addrSize} vs ${aw}`);
        if (!STRDST.has(ik) && ICED_SEG[ours.segment] !== IcedRegister[ic.memorySegment]) return bad(`segment ${ICED_SEG[ours.segment]} vs ${IcedRegister[ic.memorySegment]}`);
      }
    }
  }
  return '';
}

function hexBytes(b: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += (i ? ' ' : '') + b[at + i]!.toString(16).padStart(2, '0');
  return s;
}

/** Classifies one sequence. `reason` receives the mismatch description. */
export function judge(ours: Insn, ic: Instruction, icedOk: boolean): { verdict: Verdict; reason: string } {
  const oursOk = ours.status === DecodeStatus.Ok;
  const enc = ic.encoding;
  // VEX-encoded BMI1/BMI2 are in the CPU model: compared in full like legacy instructions.
  const bmi = icedOk && enc === EncodingKind.VEX && [...ic.cpuidFeatures()].every((f) => f === CpuidFeature.BMI1 || f === CpuidFeature.BMI2);
  const vexLike = bmi ? false : icedOk ? enc !== EncodingKind.Legacy && enc !== EncodingKind.D3NOW : ours.encoding !== Encoding.Legacy;
  if (!icedOk) {
    if (oursOk && vexLike) return { verdict: 'vex-validity', reason: 'VEX/EVEX/XOP: ours valid, iced invalid' };
    return oursOk ? { verdict: 'mismatch', reason: 'ours valid, iced invalid' } : { verdict: 'both-invalid', reason: '' };
  }
  if (vexLike && [...ic.cpuidFeatures()].some((f) => AMD_ONLY.has(f))) {
    // XOP / FMA4 / TBM: AMD-only encodings; the Intel model raises #UD.
    return oursOk ? { verdict: 'mismatch', reason: 'ours valid, iced decodes an AMD-only VEX/XOP instruction' } : { verdict: 'outside-model', reason: '' };
  }
  if (vexLike) {
    if (!oursOk && ours.status === DecodeStatus.Invalid) return { verdict: 'vex-validity', reason: 'VEX/EVEX/XOP: ours invalid, iced valid' };
    if (!oursOk) return { verdict: 'mismatch', reason: `VEX/EVEX/XOP: ours ${DecodeStatus[ours.status]}, iced valid` };
    if (ours.length !== ic.length) return { verdict: 'mismatch', reason: `VEX/EVEX/XOP length ${ours.length} vs ${ic.length}` };
    return { verdict: 'vex-match', reason: '' };
  }
  const feats = ic.cpuidFeatures();
  let inModel = true;
  let hint = false;
  for (const f of feats) {
    if (HINT_FEATURES.has(f)) hint = true;
    else if (!MODEL_FEATURES.has(f)) inModel = false;
  }
  if (hint && !(oursOk && isHintOpcode(ours.op))) inModel = false;
  if (!inModel) {
    if (!oursOk) return { verdict: 'outside-model', reason: '' };
    return { verdict: 'mismatch', reason: `ours valid, iced decodes an instruction outside the model (${[...feats].map((f) => CpuidFeature[f]).join('+')})` };
  }
  if (!oursOk) return { verdict: 'mismatch', reason: `ours ${DecodeStatus[ours.status]}, iced valid` };
  const r = compareFields(ours, ic);
  return r ? { verdict: 'mismatch', reason: r } : { verdict: 'match', reason: '' };
}

const BATCH = 4096;

/** Runs `count` random sequences in `mode` from `seed`, tallying verdicts. */
export function runDiff(mode: 16 | 32 | 64, count: number, seed: number, keep = 20, showVex = false, vexOnly = false): Tally {
  const tally = newTally();
  const rng = new Rng(seed ^ (mode * 0x9e3779b1));
  const buf = new Uint8Array(BATCH * SEQ_LEN);
  const ours = new Insn();
  const fmt = new Formatter(FormatterSyntax.Intel);
  for (let done = 0; done < count; done += BATCH) {
    const n = Math.min(BATCH, count - done);
    for (let i = 0; i < n; i++) generate(rng, mode, buf, i * SEQ_LEN, vexOnly);
    const dec = new Decoder(mode, buf, DecoderOptions.None);
    const ic = new Instruction();
    for (let i = 0; i < n; i++) {
      const at = i * SEQ_LEN;
      dec.position = at;
      dec.ip = 0n;
      dec.decodeOut(ic);
      const icedOk = !ic.isInvalid;
      decodeInto(ours, buf, at, at + SEQ_LEN, mode);
      const { verdict, reason } = judge(ours, ic, icedOk);
      const line = (why: string): string => {
        const icText = icedOk ? fmt.format(ic) : 'invalid';
        const ourText = ours.status === DecodeStatus.Ok ? format(ours) : DecodeStatus[ours.status];
        return `[${mode}] ${hexBytes(buf, at, Math.max(ic.length, ours.length, 1))} | ours: ${ourText} (len ${ours.length}) | ` +
          `iced: ${icText} (len ${ic.length}, ${icedOk ? IcedMnemonic[ic.mnemonic] : 'invalid'}) | ${why}`;
      };
      tally.total++;
      switch (verdict) {
        case 'match': tally.match++; break;
        case 'both-invalid': tally.bothInvalid++; break;
        case 'outside-model': tally.outsideModel++; break;
        case 'vex-match': tally.vexMatch++; break;
        case 'vex-validity':
          tally.vexValidity++;
          if (tally.samples.length < keep && showVex) tally.samples.push(line(reason));
          break;
        case 'mismatch':
          tally.mismatch++;
          if (tally.samples.length < keep) tally.samples.push(line(reason));
          break;
      }
    }
    ic.free();
    dec.free();
  }
  return tally;
}
