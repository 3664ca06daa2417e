/**
 * Guest MIPS of the integer core on the three 64-bit workloads of fixtures/cpu/ (see the .asm
 * sources): CRC-32 bit by bit (tight integer loop), sieve + comb sort over several MiB (memory
 * heavy), REP STOS/MOVS (string). MIPS = guest instructions retired per second (a REP iteration
 * counts as one, as the run budget counts it). Each workload runs to its HLT once per sample.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostMemory } from '../src/memory/host.js';
import { FlatPhysical } from '../src/cpu/phys.js';
import { Vcpu } from '../src/cpu/vcpu.js';
import { CS, DS, ES, FS, GS, SS, S_CR0, S_EFER, S_RIP, CR0_PE, EFER_LMA, EFER_LME, codeAttr, dataAttr } from '../src/cpu/state.js';
import { report } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));
const MEM = 16 << 20;

function load(name: string): { cpu: Vcpu; mem: Uint8Array; bin: Uint8Array } {
  const host = new HostMemory({ chunkSize: MEM });
  const seg = host.createSegment('ram', MEM);
  const mem = host.ensureChunk(host.chunkOf(seg.hostBase));
  const bin = readFileSync(join(here, '..', 'fixtures', 'cpu', `${name}.bin`));
  const cpu = new Vcpu(new FlatPhysical(host, seg.hostBase, MEM));
  mem.set(bin, 0x1000);
  return { cpu, mem, bin };
}

function reset(cpu: Vcpu): void {
  const s = cpu.state;
  const u = s.u32;
  u.fill(0, 0, 34);
  u[S_CR0] = CR0_PE;
  u[S_EFER] = EFER_LME | EFER_LMA;
  s.setSegment(CS, 8, 0, 0, 0xffffffff, codeAttr(64));
  for (const g of [DS, ES, FS, GS, SS]) s.setSegment(g, 16, 0, 0, 0xffffffff, dataAttr(32));
  u[S_RIP] = 0x1000;
  u[8] = 0x80000;
  cpu.updateMode();
}

function runOnce(cpu: Vcpu): { instructions: number; ms: number; cpuMs: number } {
  reset(cpu);
  let instructions = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (;;) {
    const e = cpu.run({ maxInstructions: 50_000_000 });
    instructions += e.instructions;
    if (e.reason === 'hlt') break;
    if (e.reason !== 'budget') throw new Error(`workload stopped with ${e.reason}`);
  }
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { instructions, ms, cpuMs: (c.user + c.system) / 1000 };
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
