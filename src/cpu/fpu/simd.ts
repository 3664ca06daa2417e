/**
 * The SIMD unit's entry point (SDM Vol. 1 ch. 9-12). Being written: until it lands, MMX/SSE
 * instructions behave as on a CPU without them — #NM when CR0.TS (and not EM), else #UD.
 */
import type { DI } from '../block.js';
import { S_CR0 } from '../state.js';
import { V_NM, V_UD, type FpuCpu } from './cpu.js';

export function execSimd(cpu: FpuCpu, d: DI): number {
  void d;
  const cr0 = cpu.u[S_CR0]!;
  return cpu.raise((cr0 & 0xc) === 0x8 ? V_NM : V_UD, false, 0);
}
