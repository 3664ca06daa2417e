/**
 * Guest MIPS of SSE integer loops through the interpreter (src/cpu/fpu/simd.ts + simd-int.ts): a
 * string-function-like loop (MOVDQA load, PCMPEQB, PMOVMSKB, PMINUB, PXOR: what glibc's SSE2 strlen/
 * memchr run), a mixed integer loop, and single-instruction loops. Each loop ends with DEC EBX/JNZ.
 */
import { S_XMM } from '../src/cpu/state.js';
import type { Vcpu } from '../src/cpu/vcpu.js';
import { hexBytes, longModeVcpu, loopCode, reportMips } from './guest.js';

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

function setup(body: string): Vcpu {
  // counter in EBX: PCMPISTRI writes ECX
  const { cpu, mem } = longModeVcpu(loopCode(hexBytes(body), ITER, 3));
  for (let k = 0; k < 64; k++) mem[0x20000 + k] = 0x41 + (k % 26);
  const u = cpu.state.u32;
  u[12] = 0x20000; // RSI: a 16-byte aligned buffer
  for (let k = 0; k < 16 * 4; k++) u[S_XMM + k] = Math.imul(k + 1, 0x9e3779b1) >>> 0;
  return cpu;
}

export function run(): void {
  for (const [name, body] of LOOPS) reportMips(`simd-int ${name} loop`, () => setup(body));
}
