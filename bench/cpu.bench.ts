/**
 * Guest MIPS of the integer core on the three 64-bit workloads of fixtures/cpu/ (see the .asm
 * sources): CRC-32 bit by bit (tight integer loop), sieve + comb sort over several MiB (memory
 * heavy), REP STOS/MOVS (string). MIPS = guest instructions retired per second (a REP iteration
 * counts as one, as the run budget counts it). Each workload runs to its HLT once per sample.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Vcpu } from '../src/cpu/vcpu.js';
import { longModeVcpu, resetLongMode, runToHlt } from './guest.js';
import { report } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));
const MEM = 16 << 20;

function load(name: string): { cpu: Vcpu } {
  const bin = readFileSync(join(here, '..', 'fixtures', 'cpu', `${name}.bin`));
  return { cpu: longModeVcpu(bin, MEM).cpu };
}

function runOnce(cpu: Vcpu): { instructions: number; ms: number; cpuMs: number } {
  resetLongMode(cpu);
  return runToHlt(cpu, 'workload');
}

export function run(): void {
  for (const [name, label] of [
    ['crc32', 'cpu crc32 bit loop'],
    ['sieve_sort', 'cpu sieve+sort'],
    ['rep_string', 'cpu rep movs/stos'],
  ] as const) {
    const { cpu } = load(name);
    runOnce(cpu); // warm-up
    let best = 0;
    let bestCpu = 0;
    let insns = 0;
    for (let k = 0; k < 3; k++) {
      const r = runOnce(cpu);
      insns = r.instructions;
      best = Math.max(best, r.instructions / r.ms / 1000);
      bestCpu = Math.max(bestCpu, r.instructions / Math.max(r.cpuMs, 1e-3) / 1000);
    }
    report(`${label} (${(insns / 1e6).toFixed(1)}M insns)`, best, 'MIPS');
    // the machine is shared: guest instructions per CPU-second of this process (user + system)
    report(`${label} per CPU-second`, bestCpu, 'MIPS');
  }
}
