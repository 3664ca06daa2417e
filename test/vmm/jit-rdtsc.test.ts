/**
 * RDTSC inside a JIT-compiled region (src/cpu/jit/compile.ts) reads the TSC at its own instruction:
 * the generated code publishes the region's retired count (`cpu.jitN`) before it calls exec for an
 * instruction it does not inline, and Vcpu.retiredNow() uses it while a region runs. The expected
 * delta is the instruction count between the two RDTSCs at 2 TSC ticks per instruction (2 GHz TSC,
 * 1 ns per instruction: the machine's defaults, docs/api.md).
 */
import { it, expect } from 'vitest';
import { TestGuest, HARNESS_PORTS } from '../../src/testing.js';
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const SYNC = [0x66, 0xba, HARNESS_PORTS.SYNC & 0xff, HARNESS_PORTS.SYNC >> 8, 0xef];
it('rdtsc in a hot loop', () => {
  // mov ecx, 100000; rdtsc; mov esi, eax; loop: rdtsc; nop; dec ecx; jnz loop; sub eax, esi; SYNC
  const code = [0xb9, ...le32(100000), 0x0f, 0x31, 0x89, 0xc6, 0x0f, 0x31, 0x90, 0xff, 0xc9, 0x75, 0xf9, 0x29, 0xf0, ...SYNC, 0xf4];
  const g = TestGuest.flat(new Uint8Array(code), { mode: 'long' });
  const e = g.next();
  // first rdtsc at t, last rdtsc in the loop: 1 (mov esi) + 4*99999 + 1 instructions later
  expect(e).toEqual({ kind: 'sync', value: BigInt(2 * (1 + 4 * 99999 + 1)) });
});
