/**
 * Guest MIPS of SSE integer loops through the interpreter (src/cpu/fpu/simd.ts + simd-int.ts): a
 * string-function-like loop (MOVDQA load, PCMPEQB, PMOVMSKB, PMINUB, PXOR: what glibc's SSE2 strlen/
 * memchr run), a mixed integer loop, and single-instruction loops. Each loop ends with DEC EBX/JNZ.
 */
import { HostMemory } from '../src/memory/host.js';
import { FlatPhysical } from '../src/cpu/phys.js';
import { Vcpu } from '../src/cpu/vcpu.js';
import {
  CS, DS, ES, FS, GS, SS, S_CR0, S_CR4, S_EFER, S_RIP, S_XMM, CR0_PE, EFER_LMA, EFER_LME, codeAttr, dataAttr,
} from '../src/cpu/state.js';
import { report } from './util.js';

const MEM = 1 << 20;
const ITER = 200_000;

const LOOPS: Array<[string, string]> = [
  // movdqa xmm3,[rsi]; pcmpeqb xmm1,xmm2; pmovmskb eax,xmm1; pminub xmm3,xmm1; pxor xmm1,xmm2
  ['strlen-like', '660f6f1e 660f74ca 660fd7c1 660fdad9 660fefca'],
  // paddb; pshufb; pmaddwd; punpcklbw; psrlq xmm1,3
  ['mixed', '660ffcca 660f3800ca 660ff5ca 660f60ca 660f73d103'],
  ['pcmpeqb', '660f74ca 660f74ca 660f74ca 660f74ca'],
  ['pshufb', '660f3800ca 660f3800ca 660f3800ca 660f3800ca'],
  ['pcmpistri', '660f3a63ca0c 660f3a63ca0c 660f3a63ca0c 660f3a63ca0c'],
  ['crc32 r64,m64', 'f2480f38f106 f2480f38f106 f2480f38f106 f2480f38f106'],
];

function bytes(h: string): number[] {
  const t = h.replace(/\s+/g, '');
  const out: number[] = [];
  for (let k = 0; k < t.length; k += 2) out.push(parseInt(t.slice(k, k + 2), 16));
  return out;
}

function setup(body: string): Vcpu {
  const host = new HostMemory({ chunkSize: MEM });
  const seg = host.createSegment('ram', MEM);
  const mem = host.ensureChunk(host.chunkOf(seg.hostBase));
  const b = bytes(body);
  // mov ebx, ITER ; loop: body ; dec ebx ; jnz loop ; hlt (EBX: PCMPISTRI writes ECX)
  const code = [0xbb, ITER & 0xff, (ITER >> 8) & 0xff, (ITER >> 16) & 0xff, 0, ...b, 0xff, 0xcb, 0x75, (-(b.length + 4)) & 0xff, 0xf4];
  mem.set(code, 0x1000);
  for (let k = 0; k < 64; k++) mem[0x20000 + k] = 0x41 + (k % 26);
  const cpu = new Vcpu(new FlatPhysical(host, seg.hostBase, MEM));
  const s = cpu.state;
  const u = s.u32;
  u[S_CR0] = CR0_PE;
  u[S_CR4] = 1 << 9; // OSFXSR
  u[S_EFER] = EFER_LME | EFER_LMA;
  s.setSegment(CS, 8, 0, 0, 0xffffffff, codeAttr(64));
  for (const g of [DS, ES, FS, GS, SS]) s.setSegment(g, 16, 0, 0, 0xffffffff, dataAttr(32));
  u[S_RIP] = 0x1000;
  u[8] = 0x80000;
  u[12] = 0x20000; // RSI: a 16-byte aligned buffer
  cpu.updateMode();
  for (let k = 0; k < 16 * 4; k++) u[S_XMM + k] = Math.imul(k + 1, 0x9e3779b1) >>> 0;
  return cpu;
}

export function run(): void {
  for (const [name, body] of LOOPS) {
    let best = 0, bestCpu = 0;
    for (let sample = 0; sample < 3; sample++) {
      const cpu = setup(body);
      let n = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (;;) {
        const e = cpu.run({ maxInstructions: 10_000_000 });
        n += e.instructions;
        if (e.reason === 'hlt') break;
        if (e.reason !== 'budget') throw new Error(`simd-int bench ${name} stopped with ${e.reason}`);
      }
      best = Math.max(best, n / (performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      bestCpu = Math.max(bestCpu, n / ((c.user + c.system) / 1000) / 1000);
    }
    report(`simd-int ${name} loop`, best, 'MIPS');
    // per CPU-second: the figure that does not depend on other processes sharing the cores
    report(`simd-int ${name} loop (per CPU-second)`, bestCpu, 'MIPS');
  }
}
