/**
 * Untrusted-guest fuzzing of the integer core: random byte streams run as code from random register
 * states in 16-, 32- and 64-bit mode under an instruction budget. Every run must end in an exit
 * (never a host exception or a hang) with the invariants below intact. A failing stream is returned
 * as a reproducible case (mode, seed, bytes).
 */
import { HostMemory } from '../../src/memory/host.js';
import { FlatPhysical } from '../../src/cpu/phys.js';
import { Vcpu } from '../../src/cpu/vcpu.js';
import { EXIT_REASONS } from '../../src/cpu/exit.js';
import { getFlags, setFlags } from '../../src/cpu/flags.js';
import { S_RIP, STATE_SLOTS } from '../../src/cpu/state.js';
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
        if (e.reason !== 'io' && e.reason !== 'cpuid' && e.reason !== 'budget') break;
      }
    } catch (err) {
      return fail(`host exception: ${(err as Error).stack ?? String(err)}`);
    }
    return null;
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
