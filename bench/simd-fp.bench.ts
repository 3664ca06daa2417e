/**
 * Guest MIPS of SSE floating-point loops through the interpreter (src/cpu/fpu/simd-fp.ts over
 * softfloat.ts): a mixed loop (ADDPS, MULPS, ADDSD, DIVSD, SQRTSS, CVTSI2SD, COMISD + DEC/JNZ) and
 * single-instruction loops. Operands stay normal and away from overflow/underflow, most results are
 * inexact (MXCSR default: all exceptions masked, round to nearest).
 */
import { S_XMM } from '../src/cpu/state.js';
import type { Vcpu } from '../src/cpu/vcpu.js';
import { hexBytes, longModeVcpu, loopCode, reportMips } from './guest.js';

const ITER = 200_000;

const LOOPS: Array<[string, string]> = [
  ['mixed', '0f58c1 0f59d3 f20f58e5 f20f5ef7 f3450f51c1 f2440f2ad1 660f2fe5'],
  ['addps', '0f58c1 0f58c1 0f58c1 0f58c1'],
  ['mulsd', 'f20f59f7 f20f59f7 f20f59f7 f20f59f7'],
  ['divps', '0f5ed3 0f5ed3 0f5ed3 0f5ed3'],
  ['cvtsi2sd', 'f2440f2ad1 f2440f2ad1 f2440f2ad1 f2440f2ad1'],
];

function setup(body: string): Vcpu {
  const { cpu } = longModeVcpu(loopCode(hexBytes(body), ITER, 1)); // counter in ECX
  const u = cpu.state.u32;
  const f32 = new Float32Array(1), w32 = new Uint32Array(f32.buffer);
  const f64 = new Float64Array(1), w64 = new Uint32Array(f64.buffer);
  const ps = (n: number, x: number): void => { f32[0] = x; for (let k = 0; k < 4; k++) u[S_XMM + 4 * n + k] = w32[0]!; };
  const pd = (n: number, x: number): void => { f64[0] = x; for (let k = 0; k < 2; k++) { u[S_XMM + 4 * n + 2 * k] = w64[0]!; u[S_XMM + 4 * n + 2 * k + 1] = w64[1]!; } };
  ps(0, 1.5); ps(1, 1e-3); ps(2, 3.7); ps(3, 0.9999999); ps(8, 0); ps(9, 2.0000002);
  pd(4, 0.1); pd(5, 1e-7); pd(6, 1e30); pd(7, 1.0000000001);
  return cpu;
}

export function run(): void {
  for (const [name, body] of LOOPS) reportMips(`simd-fp ${name} loop`, () => setup(body));
}
