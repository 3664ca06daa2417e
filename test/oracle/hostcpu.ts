/**
 * The host-CPU oracle client: runs instruction bytes on the real processor from a given register,
 * flags and scratch-memory state, through the native helper oracle/cpu/build/hostcpu (C + assembly,
 * built with the machine's gcc on first use). Full description: docs/oracle.md.
 *
 * Memory map of every case (fixed virtual addresses, below 4 GiB so 32-bit code reaches them):
 *   0x0FFF0000..0x0FFFFFFF  guard, never mapped
 *   0x10000000..0x10000FFF  code page, read+execute (a store to it is #PF): the case's code at
 *                           0x10000000, then `jmp rel32` to the harness (5 bytes), the rest INT3 (0xCC)
 *   0x10001000..0x1000FFFF  guard
 *   0x10010000..0x10011FFF  scratch, 8 KiB read+write: the case's bytes, then zeros
 *   0x10012000..0x1001FFFF  guard
 * Nothing else is reachable except by wild pointers into the helper's own image (not meaningful).
 * Mode 64: FS.base = GS.base = 0 (FSGSBASE hosts), DS = ES = FS = GS = 0, SS = 0x2B, CS = 0x33.
 * Mode 32 (compatibility mode): CS = 0x23, SS = DS = ES = 0x2B (flat 4 GiB), FS = GS = 0 (null: use
 * gives #GP(0)).
 * Mode 16 (16-bit protected mode under compatibility mode): CS = 0x07, an LDT 16-bit code segment
 * with base 0x10000000 and limit 0xFFFF, so IP starts at 0; DS = ES = SS = 0x0F, an LDT 16-bit
 * read/write data segment with base 0x10010000 (the scratch area) and limit 0xFFFF; FS = GS = 0.
 * RIP values in mode 16 are offsets in CS; the end stub is `jmp far` (8 bytes). The SS selector of a
 * completed mode-16 case is not observable (reported as 0).
 * x87/SSE/AVX state is the XRSTOR init state (all zero, FCW = 0x37F, MXCSR = 0x1F80) in each case,
 * unless the case carries an FXSAVE image (`fxsave`), which is loaded with FXRSTOR64 right before it.
 * A case with `fxsave` or `fpState: true` is sent as version 2 ("OXC2") and its result carries the
 * FXSAVE64 image after the case, or at the fault (from the signal frame), in `result.fxsave`.
 *
 * Case record (little-endian), 208 + align8(scratchLen) bytes:
 *   0  u32 magic "OXC1" (0x3143584F)     4  u8 mode (64 | 32 | 16)  5  u8 code length (0..64)
 *   6  u16 scratchLen (0..8192)          8  u64 RFLAGS (masked to CF PF AF ZF SF DF OF AC = 0x40CD5)
 *  16  u64[16] GPRs in encoding order RAX RCX RDX RBX RSP RBP RSI RDI R8..R15
 * 144  u8[64] code                     208  u8[scratchLen] initial scratch bytes, zero-padded to 8
 * Result record, 192 + align8(scratchLen) bytes:
 *   0  u32 magic "OXR1" (0x3152584F)     4  u8 outcome (0 completed, 1 fault, 2 timeout,
 *                                            3 unsupported mode, 4 harness error)
 *   5  u8 mode   6  u16 scratchLen: the case's length, or 8192 when the case left a non-zero byte
 *                   beyond it (bytes beyond the returned length are zero)
 *   8  u32 case index within this helper run   12 u8 signal   13 u8 vector (trap number; 0xFF timeout)
 *  14  i16 si_code   16 u64 error code   24 u64 fault address (CR2 for #PF, else si_addr)
 *  32  u64 RIP (completed: code address + code length; fault: the faulting RIP, or the next one for
 *      a trap such as #BP)   40 u64 RFLAGS (RF cleared)   48 u64[16] GPRs
 * 176  u16 CS SS DS ES FS GS   188 u32 zero   192 u8[scratchLen] scratch after the case
 * In modes 32 and 16 only the low 32 bits of RAX..RDI, RIP and RFLAGS are reported, R8..R15 as zero:
 * the upper halves are undefined after leaving compatibility mode (SDM Vol. 1 3.4.1.1).
 * Version 2 case record: the 208-byte OXC1 header with magic "OXC2" (0x3243584F), then
 * 208 u32 flags (bit 0: an FXSAVE image follows; other bits zero)   212 u32 zero
 * 216 u8[512] FXSAVE64 image (only with flag bit 0)   then the scratch bytes, zero-padded to 8.
 * Version 2 result record: magic "OXR2" (0x3252584F), the OXR1 header (192 bytes), then
 * 192 u8[512] FXSAVE64 image after the case or at the fault, then the scratch bytes.
 *
 * A case that makes a system call (SYSCALL, SYSENTER, INT 0x80, ...) is killed by the helper's
 * seccomp filter; the client restarts the helper, reports that case as `killed` (not comparable)
 * and continues with the next one. Each call to run() spawns the helper synchronously
 * (spawnSync), so the class holds no process between calls.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../../src/util/errors.js';

export const ORACLE_CODE_ADDR = 0x1000_0000;
export const ORACLE_SCRATCH_ADDR = 0x1001_0000;
export const ORACLE_SCRATCH_SIZE = 8192;
export const ORACLE_CODE_MAX = 64;
/** Length of the `jmp rel32` stub the helper places right after the case's code. */
export const ORACLE_STUB_LEN = 5;
/** RFLAGS bits a case may set: CF PF AF ZF SF DF OF AC. */
export const ORACLE_RFLAGS_INPUT_MASK = 0x40cd5;
/** Mode 16 selectors: LDT code segment (base ORACLE_CODE_ADDR) and data segment (base ORACLE_SCRATCH_ADDR). */
export const ORACLE_SEL16_CODE = 0x07;
export const ORACLE_SEL16_DATA = 0x0f;
/** Length of the `jmp far ptr16:32` stub after the code in mode 16. */
export const ORACLE_STUB16_LEN = 8;

/** GPR indices in the encoding order used by both records. */
export const GPR = {
  RAX: 0, RCX: 1, RDX: 2, RBX: 3, RSP: 4, RBP: 5, RSI: 6, RDI: 7,
  R8: 8, R9: 9, R10: 10, R11: 11, R12: 12, R13: 13, R14: 14, R15: 15,
} as const;
export const GPR_NAMES = Object.keys(GPR) as (keyof typeof GPR)[];

/** RFLAGS bits (SDM Vol. 1 3.4.3). */
export const FLAG = {
  CF: 1 << 0, PF: 1 << 2, AF: 1 << 4, ZF: 1 << 6, SF: 1 << 7, TF: 1 << 8, IF: 1 << 9,
  DF: 1 << 10, OF: 1 << 11, RF: 1 << 16, AC: 1 << 18,
} as const;

/** Exception vectors (SDM Vol. 3 Table 6-1). */
export const VECTOR = {
  DE: 0, DB: 1, BP: 3, OF: 4, BR: 5, UD: 6, NM: 7, NP: 11, SS: 12, GP: 13, PF: 14, MF: 16, AC: 17,
  XM: 19,
} as const;

export type OracleMode = 64 | 32 | 16;

export interface OracleCase {
  mode: OracleMode;
  /** Instruction bytes, at most 64. Executed at ORACLE_CODE_ADDR (offset 0 of CS in mode 16). */
  code: Uint8Array | readonly number[];
  /** The 16 GPRs in encoding order (missing entries are 0). Modes 32 and 16 use the low 32 bits. */
  gprs?: ArrayLike<bigint>;
  /** Initial RFLAGS; bits outside ORACLE_RFLAGS_INPUT_MASK are ignored (bit 1 is always set). */
  rflags?: number;
  /** Initial bytes at ORACLE_SCRATCH_ADDR (at most 8192); the rest of the scratch area is zero. */
  scratch?: Uint8Array;
  /**
   * Initial x87/SSE state: a 512-byte FXSAVE image in the 64-bit layout (FX offsets below), loaded
   * with FXRSTOR64 after the XRSTOR reset. MXCSR bits outside ORACLE_MXCSR_MASK must be zero (they
   * would make FXRSTOR fault). Missing: the init state (FX_INIT_IMAGE).
   */
  fxsave?: Uint8Array;
  /** Report the x87/SSE state after the case (implied by `fxsave`). */
  fpState?: boolean;
}

/** Offsets in the FXSAVE64 image (SDM Vol. 2 FXSAVE, Table 3-53, REX.W form). */
export const FX = {
  FCW: 0, FSW: 2, FTW: 4, FOP: 6, FIP: 8, FDP: 16, MXCSR: 24, MXCSR_MASK: 28,
  /** ST(i) (not physical Ri) at ST + 16 * i: 10 bytes (significand, sign/exponent), 6 reserved. */
  ST: 32,
  /** XMMi at XMM + 16 * i. */
  XMM: 160,
} as const;
/** MXCSR bits FXRSTOR accepts (the host's MXCSR_MASK with DAZ; bits 31:16 reserved). */
export const ORACLE_MXCSR_MASK = 0xffff;
/** The x87/SSE init state as FXSAVE stores it: FCW = 0x037F, MXCSR = 0x1F80, all else zero. */
export function fxInitImage(): Uint8Array {
  const b = new Uint8Array(512);
  b[FX.FCW] = 0x7f; b[FX.FCW + 1] = 0x03;
  b[FX.MXCSR] = 0x80; b[FX.MXCSR + 1] = 0x1f;
  return b;
}

/**
 * completed: execution reached the end of the code (RIP = code address + length; mode 16: length).
 * fault: a signal stopped it (see `fault`). timeout: it ran for at least 25 ms of CPU time.
 * killed: the helper was killed (a system call reached seccomp): not comparable.
 * unsupported: mode 32 or 16 on a host that cannot run it (no IA-32 emulation, no 16-bit segments).
 * harness-error: the case broke the harness's own path back (e.g. WRPKRU): not comparable.
 */
export type OracleOutcome = 'completed' | 'fault' | 'timeout' | 'killed' | 'unsupported' | 'harness-error';

export interface OracleFault {
  /** Exception vector from the signal context (trap number), e.g. 14 for #PF. */
  vector: number;
  /** Linux signal number (SIGSEGV 11, SIGBUS 7, SIGILL 4, SIGFPE 8, SIGTRAP 5). */
  signal: number;
  /** siginfo si_code (e.g. SEGV_MAPERR 1, SEGV_ACCERR 2, SI_KERNEL 0x80). */
  siCode: number;
  /** The exception's error code as the kernel reports it. */
  errorCode: bigint;
  /** CR2 for #PF; otherwise the kernel's si_addr (0 for #GP, the RIP for #UD and #DE). */
  address: bigint;
}

export interface OracleSelectors { cs: number; ss: number; ds: number; es: number; fs: number; gs: number }

export interface OracleResult {
  outcome: OracleOutcome;
  mode: OracleMode;
  /** GPRs after the case (or at the fault), encoding order. Modes 32/16: low halves, R8..R15 zero. */
  gprs: BigUint64Array;
  /** RFLAGS after the case (or at the fault, RF cleared). Bits 1 and IF are always set. */
  rflags: number;
  rip: bigint;
  fault: OracleFault | null;
  /** Scratch bytes after the case: as long as the case's scratch, or 8192 if it wrote beyond it. */
  scratch: Uint8Array;
  selectors: OracleSelectors;
  /** For `killed`: the signal that ended the helper (normally SIGSYS from seccomp). */
  killedBy?: string;
  /**
   * Version-2 cases (`fxsave` or `fpState`): the 512-byte FXSAVE64 image after the case, or the
   * signal frame's at a fault (all zero for `unsupported`/`killed`). Otherwise null. The MXCSR_MASK
   * field is the host's. FIP/FDP/FOP follow the host's FXSAVE rules (docs/oracle.md).
   */
  fxsave: Uint8Array | null;
}

const CASE_MAGIC = 0x3143584f;
const RES_MAGIC = 0x3152584f;
const CASE2_MAGIC = 0x3243584f;
const RES2_MAGIC = 0x3252584f;
const CASE_HDR = 208;
const CASE2_HDR = 216;
const RES_HDR = 192;
const FX_LEN = 512;
const isV2 = (c: OracleCase): boolean => c.fxsave !== undefined || c.fpState === true;
const OUTCOMES: readonly OracleOutcome[] = ['completed', 'fault', 'timeout', 'unsupported', 'harness-error'];
/** The helper writes results in chunks of up to 1 MiB, so a killer lies within this many cases. */
const MAX_UNFLUSHED_CASES = Math.ceil((1 << 20) / RES_HDR) + 1;

const HERE = dirname(fileURLToPath(import.meta.url));
const ORACLE_DIR = join(HERE, '..', '..', 'oracle', 'cpu');
const SOURCES = ['hostcpu.c', 'switch.S', 'build.sh'];
export const ORACLE_BINARY = join(ORACLE_DIR, 'build', 'hostcpu');

const align8 = (n: number): number => (n + 7) & ~7;

export interface OracleBuildOptions {
  /** Directory holding hostcpu.c, switch.S and build.sh (default: oracle/cpu of this checkout). */
  sourceDir?: string;
  /** The compiler whose presence is checked before building (default: gcc, as build.sh uses). */
  gcc?: string;
}

/** Builds the helper if it is missing or older than its sources; throws if that is impossible. */
export function ensureOracleBuilt(options: OracleBuildOptions = {}): string {
  const dir = options.sourceDir ?? ORACLE_DIR;
  const binary = join(dir, 'build', 'hostcpu');
  const binTime = existsSync(binary) ? statSync(binary).mtimeMs : -1;
  const stale = SOURCES.some((s) => statSync(join(dir, s)).mtimeMs > binTime);
  if (!stale) return binary;
  const gccName = options.gcc ?? 'gcc';
  const gcc = spawnSync(gccName, ['--version'], { encoding: 'utf8' });
  if (gcc.error || gcc.status !== 0) {
    throw new Error(
      `host-CPU oracle: ${gccName} is not available (${gcc.error?.message ?? `status ${gcc.status}`}); ` +
        `it is needed to build ${binary} from ${dir}. Install gcc (Debian: apt-get install gcc libc6-dev).`,
    );
  }
  const r = spawnSync('sh', [join(dir, 'build.sh')], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`host-CPU oracle: ${join(dir, 'build.sh')} failed (status ${r.status}):\n${r.stderr}`);
  }
  return binary;
}

function encodeCases(cases: readonly OracleCase[]): { buf: Buffer; offsets: Int32Array } {
  const offsets = new Int32Array(cases.length + 1);
  let total = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    if (c.mode !== 64 && c.mode !== 32 && c.mode !== 16) {
      throw new InvalidArgumentError(`oracle case ${i}: mode ${String(c.mode)} is not 64, 32 or 16`);
    }
    if (c.code.length > ORACLE_CODE_MAX) {
      throw new InvalidArgumentError(`oracle case ${i}: code is ${c.code.length} bytes; at most ${ORACLE_CODE_MAX}`);
    }
    const sl = c.scratch?.length ?? 0;
    if (sl > ORACLE_SCRATCH_SIZE) {
      throw new InvalidArgumentError(`oracle case ${i}: scratch is ${sl} bytes; at most ${ORACLE_SCRATCH_SIZE}`);
    }
    if (c.gprs && c.gprs.length > 16) {
      throw new InvalidArgumentError(`oracle case ${i}: ${c.gprs.length} GPRs given; at most 16`);
    }
    if (c.fxsave !== undefined) {
      if (c.fxsave.length !== FX_LEN) {
        throw new InvalidArgumentError(`oracle case ${i}: fxsave is ${c.fxsave.length} bytes; it must be ${FX_LEN}`);
      }
      const mx = (c.fxsave[FX.MXCSR]! | (c.fxsave[FX.MXCSR + 1]! << 8) | (c.fxsave[FX.MXCSR + 2]! << 16) | (c.fxsave[FX.MXCSR + 3]! << 24)) >>> 0;
      if ((mx & ~ORACLE_MXCSR_MASK) !== 0) {
        throw new InvalidArgumentError(`oracle case ${i}: MXCSR 0x${mx.toString(16)} sets reserved bits (mask 0x${ORACLE_MXCSR_MASK.toString(16)}); FXRSTOR would raise #GP`);
      }
    }
    offsets[i] = total;
    total += isV2(c) ? CASE2_HDR + (c.fxsave ? FX_LEN : 0) + align8(sl) : CASE_HDR + align8(sl);
  }
  offsets[cases.length] = total;
  const buf = Buffer.alloc(total);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    const o = offsets[i]!;
    const sl = c.scratch?.length ?? 0;
    const v2 = isV2(c);
    dv.setUint32(o, v2 ? CASE2_MAGIC : CASE_MAGIC, true);
    dv.setUint8(o + 4, c.mode);
    dv.setUint8(o + 5, c.code.length);
    dv.setUint16(o + 6, sl, true);
    dv.setUint32(o + 8, (c.rflags ?? 0) >>> 0, true);
    const g = c.gprs;
    if (g instanceof BigUint64Array) {
      buf.set(new Uint8Array(g.buffer, g.byteOffset, g.length * 8), o + 16);
    } else if (g) {
      for (let r = 0; r < g.length; r++) {
        const v = g[r]!;
        if (v !== 0n) dv.setBigUint64(o + 16 + 8 * r, BigInt.asUintN(64, v), true);
      }
    }
    buf.set(c.code, o + 144);
    let so = o + CASE_HDR;
    if (v2) {
      dv.setUint32(o + CASE_HDR, c.fxsave ? 1 : 0, true);
      so = o + CASE2_HDR;
      if (c.fxsave) { buf.set(c.fxsave, so); so += FX_LEN; }
    }
    if (sl) buf.set(c.scratch!, so);
  }
  return { buf, offsets };
}

function killedResult(c: OracleCase, signal: string): OracleResult {
  return {
    outcome: 'killed', mode: c.mode, gprs: new BigUint64Array(16), rflags: 0, rip: 0n, fault: null,
    scratch: new Uint8Array(0), selectors: { cs: 0, ss: 0, ds: 0, es: 0, fs: 0, gs: 0 }, killedBy: signal,
    fxsave: isV2(c) ? new Uint8Array(FX_LEN) : null,
  };
}

/**
 * Parses complete result records from `out` into results[first..]; returns how many it parsed.
 * The GPR arrays and scratch bytes are views into one copy of the output (no per-result buffers).
 */
function decodeResults(raw: Buffer, results: OracleResult[], first: number, max: number): number {
  // One aligned copy, so that every GPR block (at an 8-aligned record offset + 48) can be viewed
  // as a BigUint64Array.
  const out = new Uint8Array(raw.length);
  out.set(raw);
  const dv = new DataView(out.buffer);
  let off = 0;
  let k = 0;
  while (k < max && off + RES_HDR <= out.length) {
    const magic = dv.getUint32(off, true);
    if (magic !== RES_MAGIC && magic !== RES2_MAGIC) throw new Error(`host-CPU oracle: bad result magic at byte ${off}`);
    const hdr = magic === RES2_MAGIC ? RES_HDR + FX_LEN : RES_HDR;
    if (off + hdr > out.length) break;
    const sl = dv.getUint16(off + 6, true);
    const size = hdr + align8(sl);
    if (off + size > out.length) break; // cut off by a kill
    const index = dv.getUint32(off + 8, true);
    if (index !== k) throw new Error(`host-CPU oracle: result ${k} carries index ${index}`);
    const outcome = OUTCOMES[dv.getUint8(off + 4)];
    if (outcome === undefined) throw new Error(`host-CPU oracle: unknown outcome ${dv.getUint8(off + 4)}`);
    results[first + k] = {
      outcome,
      mode: dv.getUint8(off + 5) as OracleMode,
      gprs: new BigUint64Array(out.buffer, off + 48, 16),
      rflags: dv.getUint32(off + 40, true), // bits 63:22 of RFLAGS are reserved zero
      rip: dv.getBigUint64(off + 32, true),
      fault: outcome === 'fault' || outcome === 'harness-error'
        ? {
            vector: dv.getUint8(off + 13),
            signal: dv.getUint8(off + 12),
            siCode: dv.getInt16(off + 14, true),
            errorCode: dv.getBigUint64(off + 16, true),
            address: dv.getBigUint64(off + 24, true),
          }
        : null,
      scratch: out.subarray(off + hdr, off + hdr + sl),
      fxsave: magic === RES2_MAGIC ? out.subarray(off + RES_HDR, off + RES_HDR + FX_LEN) : null,
      selectors: {
        cs: dv.getUint16(off + 176, true), ss: dv.getUint16(off + 178, true), ds: dv.getUint16(off + 180, true),
        es: dv.getUint16(off + 182, true), fs: dv.getUint16(off + 184, true), gs: dv.getUint16(off + 186, true),
      },
    };
    off += size;
    k++;
  }
  return k;
}

export interface OracleStats {
  /** Helper processes started. */
  spawns: number;
  /** Cases reported as killed. */
  killed: number;
}

export class HostCpuOracle {
  readonly binary: string;
  /** Whether the host runs 32-bit compatibility-mode code (mode 32 cases). */
  readonly supportsCompat: boolean;
  /** Whether the host runs 16-bit protected-mode code from an LDT segment (mode 16 cases). */
  readonly supports16: boolean;
  readonly stats: OracleStats = { spawns: 0, killed: 0 };
  private closed = false;

  private constructor(binary: string) {
    this.binary = binary;
    const probe = this.run([
      { mode: 64, code: [0x90] },
      { mode: 32, code: [0x90] },
      { mode: 16, code: [0x90] },
    ]);
    if (probe[0]!.outcome !== 'completed') {
      throw new Error(`host-CPU oracle: the helper cannot run a NOP (outcome ${probe[0]!.outcome})`);
    }
    this.supportsCompat = probe[1]!.outcome === 'completed';
    this.supports16 = probe[2]!.outcome === 'completed';
  }

  /** Builds the helper if needed and checks that it runs. Throws (never skips) if it cannot. */
  static open(): HostCpuOracle {
    return new HostCpuOracle(ensureOracleBuilt());
  }

  /** Runs the cases in order and returns one result per case. */
  run(cases: readonly OracleCase[]): OracleResult[] {
    if (this.closed) throw new Error('host-CPU oracle: run() after close()');
    const { buf, offsets } = encodeCases(cases);
    const n = cases.length;
    const results = new Array<OracleResult>(n);
    let start = 0;
    let sync = false;
    while (start < n) {
      // After a kill, rerun the cases that may have lost their results with one write per case,
      // which pins down the case that killed the helper.
      const end = sync ? Math.min(n, start + MAX_UNFLUSHED_CASES) : n;
      const input = buf.subarray(offsets[start]!, offsets[end]!);
      this.stats.spawns++;
      const r = spawnSync(this.binary, sync ? ['--sync'] : [], {
        input,
        maxBuffer: (end - start) * (RES_HDR + FX_LEN + ORACLE_SCRATCH_SIZE) + 4096,
        timeout: 60_000 + (end - start) * 100,
        killSignal: 'SIGKILL',
      });
      // EPIPE: the helper died before it had read all of its input (handled below like any death).
      const code = r.error ? (r.error as NodeJS.ErrnoException).code : undefined;
      if (code === 'ETIMEDOUT') throw new Error('host-CPU oracle: helper did not finish within the batch time limit');
      if (r.error && code !== 'EPIPE') throw new Error(`host-CPU oracle: cannot run ${this.binary}: ${r.error.message}`);
      const done = decodeResults(r.stdout, results, start, end - start);
      start += done;
      if (r.signal === null) {
        if (r.status !== 0) throw new Error(`host-CPU oracle: helper exited with status ${r.status}: ${r.stderr.toString()}`);
        if (start !== end) throw new Error(`host-CPU oracle: helper returned ${done} results for ${end - start + done} cases`);
        sync = false;
        continue;
      }
      if (!sync) {
        sync = true;
        continue;
      }
      results[start] = killedResult(cases[start]!, r.signal);
      this.stats.killed++;
      start++;
      sync = false;
    }
    return results;
  }

  /** Nothing to release (each run() is its own process); further run() calls throw. */
  close(): void {
    this.closed = true;
  }
}

/** A short name for a vector, e.g. "#PF". */
export function vectorName(vector: number): string {
  const name = Object.entries(VECTOR).find(([, v]) => v === vector)?.[0];
  return name ? `#${name}` : `vector ${vector}`;
}
