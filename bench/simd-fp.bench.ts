/**
 * Guest MIPS of SSE floating-point loops through the interpreter (src/cpu/fpu/simd-fp.ts over
 * softfloat.ts): a mixed loop (ADDPS, MULPS, ADDSD, DIVSD, SQRTSS, CVTSI2SD, COMISD + DEC/JNZ) and
 * single-instruction loops. Operands stay normal and away from overflow/underflow, most results are
 * inexact (MXCSR default: all exceptions masked, round to nearest).
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
  ['mixed', '0f58c1 0f59d3 f20f58e5 f20f5ef7 f3450f51c1 f2440f2ad1 660f2fe5'],
  ['addps', '0f58c1 0f58c1 0f58c1 0f58c1'],
  ['mulsd', 'f20f59f7 f20f59f7 f20f59f7 f20f59f7'],
  ['divps', '0f5ed3 0f5ed3 0f5ed3 0f5ed3'],
  ['cvtsi2sd', 'f2440f2ad1 f2440f2ad1 f2440f2ad1 f2440f2ad1'],
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
  // mov ecx, ITER ; loop: body ; dec ecx ; jnz loop ; hlt
  const code = [0xb9, ITER & 0xff, (ITER >> 8) & 0xff, (ITER >> 16) & 0xff, 0, ...b, 0xff, 0xc9, 0x75, (-(b.length + 4)) & 0xff, 0xf4];
  mem.set(code, 0x1000);
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
  cpu.updateMode();
  const f32 = new Float32Array(1), w32 = new Uint32Array(f32.buffer);
  const f64 = new Float64Array(1), w64 = new Uint32Array(f64.buffer);
  const ps = (n: number, x: number): void => { f32[0] = x; for (let k = 0; k < 4; k++) u[S_XMM + 4 * n + k] = w32[0]!; };
  const pd = (n: number, x: number): void => { f64[0] = x; for (let k = 0; k < 2; k++) { u[S_XMM + 4 * n + 2 * k] = w64[0]!; u[S_XMM + 4 * n + 2 * k + 1] = w64[1]!; } };
  ps(0, 1.5); ps(1, 1e-3); ps(2, 3.7); ps(3, 0.9999999); ps(8, 0); ps(9, 2.0000002);
  pd(4, 0.1); pd(5, 1e-7); pd(6, 1e30); pd(7, 1.0000000001);
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
        if (e.reason !== 'budget') throw new Error(`simd-fp bench ${name} stopped with ${e.reason}`);
      }
      best = Math.max(best, n / (performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      bestCpu = Math.max(bestCpu, n / ((c.user + c.system) / 1000) / 1000);
    }
    report(`simd-fp ${name} loop`, best, 'MIPS');
    // per CPU-second: the figure that does not depend on other processes sharing the cores
    report(`simd-fp ${name} loop per CPU-second`, bestCpu, 'MIPS');
  }
}
