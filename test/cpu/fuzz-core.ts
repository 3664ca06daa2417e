/**
 * Untrusted-guest fuzzing of the core: random byte streams run as code from random register states
 * (x87/SSE state and availability bits included) in 16-, 32- and 64-bit mode under an instruction budget. Every run must end in an exit
 * (never a host exception or a hang) with the invariants below intact. A failing stream is returned
 * as a reproducible case (mode, seed, bytes).
 */
import { HostMemory } from '../../src/memory/host.js';
import { FlatPhysical } from '../../src/cpu/phys.js';
import { Vcpu } from '../../src/cpu/vcpu.js';
import { EXIT_REASONS } from '../../src/cpu/exit.js';
import { getFlags, setFlags } from '../../src/cpu/flags.js';
import { S_RIP, STATE_SLOTS, S_CR0, S_CR4, S_FCW, S_FSW, S_FTW, S_FPR, S_MXCSR, S_XMM } from '../../src/cpu/state.js';
import { setMode } from './harness.js';
import { Rng } from './diff-core.js';

const MEM = 0x100000;
const CODE = 0x8000;
const STREAM = 32;
export const FUZZ_BUDGET = 200;

export interface FuzzFailure { mode: number; index: number; seed: number; bytes: string; problem: string }

export class Fuzzer {
  readonly host = new HostMemory({ chunkSize: MEM });
  readonly mem: Uint8Array;
  readonly cpu: Vcpu;
  constructor() {
    this.host.createSegment('ram', MEM);
    this.mem = this.host.ensureChunk(0);
    this.cpu = new Vcpu(new FlatPhysical(this.host, 0, MEM));
  }

  /** Runs stream `index` of `seed` in `mode`; returns a problem description or null. */
  runOne(mode: 16 | 32 | 64, seed: number, index: number): FuzzFailure | null {
    const r = new Rng((seed * 0x9e3779b1 + index * 0x85ebca77 + mode) >>> 0);
    const bytes = new Uint8Array(STREAM);
    for (let i = 0; i < STREAM; i++) bytes[i] = r.u32() & 0xff;
    // half the streams are built from x87/SSE-shaped instructions, which random bytes rarely reach
    if ((index & 1) === 1) fpStream(r, bytes, mode);
    const cpu = this.cpu;
    const u = cpu.state.u32;
    u.fill(0, 0, STATE_SLOTS);
    setMode(cpu, mode);
    this.mem.fill(0, CODE - 0x1000, CODE + 0x2000);
    this.mem.set(bytes, CODE);
    for (let g = 0; g < 16; g++) {
      const k = r.int(4);
      // registers: small values, pointers near the code, or random
      u[2 * g] = k === 0 ? r.int(16) : k === 1 ? CODE + r.int(0x1000) : r.u32();
      u[2 * g + 1] = mode === 64 && k === 3 ? r.u32() : 0;
    }
    setFlags(u, r.u32() & 0xcd5);
    // x87/SSE: random availability bits (CR0.MP/EM/TS/NE, CR4.OSFXSR/OSXMMEXCPT), control words with
    // some exceptions unmasked, register contents, TOP and tags
    // (mostly available: EM and TS each set in 1 of 8 streams, OSFXSR clear in 1 of 8)
    u[S_CR0] = (u[S_CR0]! | (r.u32() & 0x22) | (r.int(8) === 0 ? 4 : 0) | (r.int(8) === 0 ? 8 : 0)) >>> 0;
    u[S_CR4] = (r.int(8) === 0 ? 0 : 0x200) | (r.int(2) === 0 ? 0x400 : 0);
    u[S_FCW] = r.int(2) === 0 ? 0x37f : (r.u32() & 0x1f3f) | 0x40;
    u[S_FSW] = (r.int(8) << 11) | (r.int(4) === 0 ? r.u32() & 0x3f : 0);
    u[S_FTW] = r.u32() & 0xff;
    u[S_MXCSR] = r.int(2) === 0 ? 0x1f80 : r.u32() & 0xffff;
    for (let g = S_FPR; g < S_FPR + 32; g++) u[g] = (g & 3) === 2 ? r.u32() & 0xffff : (g & 3) === 3 ? 0 : r.u32();
    for (let g = S_XMM; g < S_XMM + 64; g++) u[g] = r.u32();
    u[S_RIP] = CODE;
    u[S_RIP + 1] = 0;
    cpu.updateMode();
    cpu.flushCodeCache();
    const fail = (problem: string): FuzzFailure => ({ mode, index, seed, problem, bytes: Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ') });
    try {
      for (let round = 0; round < 3; round++) {
        const e = cpu.run({ maxInstructions: FUZZ_BUDGET });
        if (!EXIT_REASONS.includes(e.reason)) return fail(`unknown exit reason ${String(e.reason)}`);
        if (!(e.instructions >= 0 && e.instructions <= FUZZ_BUDGET + 64)) return fail(`retired ${e.instructions} with a budget of ${FUZZ_BUDGET}`);
        const f = getFlags(u);
        if ((f & 2) === 0 || f > 0xffffffff || f < 0) return fail(`RFLAGS ${f} broken`);
        const rlo = u[S_RIP]!, rhi = u[S_RIP + 1]!;
        if (mode === 64 && ((rhi + 0x8000) >>> 0) >= 0x10000) return fail(`non-canonical RIP ${rhi.toString(16)}:${rlo.toString(16)} without #GP`);
        if (mode !== 64 && rhi !== 0) return fail(`RIP high half ${rhi} outside 64-bit mode`);
        if (cpu.codeMode === 16 && rlo > 0xffff) return fail(`IP ${rlo.toString(16)} beyond the 64 KiB CS limit without #GP`);
        for (let g = 0; g < STATE_SLOTS; g++) if (!Number.isInteger(u[g]!)) return fail(`state slot ${g} not an integer`);
        if (u[S_FCW]! > 0xffff || u[S_FSW]! > 0xffff || u[S_FTW]! > 0xff) return fail(`x87 control/status/tag out of range: ${u[S_FCW]} ${u[S_FSW]} ${u[S_FTW]}`);
        if ((u[S_MXCSR]! & ~0xffff) !== 0) return fail(`MXCSR ${u[S_MXCSR]!.toString(16)} has reserved bits set`);
        for (let g = 0; g < 8; g++) if (u[S_FPR + 4 * g + 2]! > 0xffff) return fail(`x87 R${g} sign/exponent ${u[S_FPR + 4 * g + 2]} beyond 16 bits`);
        if (e.reason !== 'io' && e.reason !== 'cpuid' && e.reason !== 'budget') break;
      }
    } catch (err) {
      return fail(`host exception: ${(err as Error).stack ?? String(err)}`);
    }
    return null;
  }
}

/** SSE opcode rows of map 0F (SDM Vol. 2 Table A-3) a stream draws from. */
const SSE_0F = [
  0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
  ...Array.from({ length: 0x30 }, (_, i) => 0x50 + i), 0x77, 0xae, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6,
  ...Array.from({ length: 0x30 }, (_, i) => 0xd0 + i),
];

/**
 * Overwrites `bytes` with instructions shaped like x87 (D8-DF) and SSE (0F, 0F 38, 0F 3A with
 * optional 66/F2/F3 and REX) forms: ModRM and the bytes after it stay random, so register and memory
 * forms, immediates and invalid encodings all occur.
 */
function fpStream(r: Rng, bytes: Uint8Array, mode: number): void {
  let o = 0;
  while (o < bytes.length - 8) {
    const k = r.int(4);
    if (k === 0) {
      bytes[o++] = 0xd8 + r.int(8);
    } else {
      const p = r.int(4);
      if (p !== 0) bytes[o++] = [0x66, 0xf2, 0xf3][p - 1]!;
      if (mode === 64 && r.int(3) === 0) bytes[o++] = 0x40 + r.int(16);
      bytes[o++] = 0x0f;
      if (k === 1) bytes[o++] = SSE_0F[r.int(SSE_0F.length)]!;
      else { bytes[o++] = k === 2 ? 0x38 : 0x3a; bytes[o++] = r.u32() & 0xff; }
    }
    // ModRM: register forms half the time, else a memory form through a register near the code
    bytes[o++] = r.int(2) === 0 ? 0xc0 | (r.u32() & 0x3f) : (r.u32() & 0x38) | r.int(4);
    if (r.int(2) === 0) bytes[o++] = r.u32() & 0xff; // an imm8 or stray byte
  }
}

export function fuzz(count: number, seed: number, modes: readonly (16 | 32 | 64)[] = [16, 32, 64]): { runs: number; failures: FuzzFailure[] } {
  const f = new Fuzzer();
  const failures: FuzzFailure[] = [];
  let runs = 0;
  for (const mode of modes) {
    for (let i = 0; i < count; i++) {
      runs++;
      const x = f.runOne(mode, seed, i);
      if (x !== null && failures.length < 50) failures.push(x);
    }
  }
  return { runs, failures };
}
