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
import { longModeVcpu, reportMips, resetLongMode, runToHlt } from './guest.js';
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

/**
 * A guest that hops through 64 code pages (a JMP at the start of each) and writes CR3 once per pass,
 * as a kernel does on a context switch: every pass refills 64 fetch-TLB entries after the flush.
 */
function pageHopVcpu(passes: number): Vcpu {
  const N = 64, BASE = 0x10000;
  const img = new Uint8Array(BASE + N * 4096);
  const dv = new DataView(img.buffer);
  const head = [0xb9, passes & 0xff, (passes >> 8) & 0xff, (passes >> 16) & 0xff, 0, 0x31, 0xc0, 0xe9]; // mov ecx, passes; xor eax, eax; jmp
  img.set(head, 0x1000);
  dv.setInt32(0x1000 + head.length, BASE - (0x1000 + head.length + 4), true);
  for (let k = 0; k < N - 1; k++) { img[BASE + k * 4096] = 0xe9; dv.setInt32(BASE + k * 4096 + 1, 4096 - 5, true); }
  const last = BASE + (N - 1) * 4096;
  const tail = [0x0f, 0x22, 0xd8, 0xff, 0xc9, 0x0f, 0x85]; // mov cr3, rax; dec ecx; jnz first page
  img.set(tail, last);
  dv.setInt32(last + tail.length, BASE - (last + tail.length + 4), true);
  img[last + tail.length + 4] = 0xf4;
  return longModeVcpu(img.subarray(0x1000), 1 << 20).cpu;
}

export function run(): void {
  reportMips('cpu 64-page hop with a CR3 write per pass', () => pageHopVcpu(5000));
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
