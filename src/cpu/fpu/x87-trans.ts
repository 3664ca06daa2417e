/**
 * x87 transcendental instructions (SDM Vol. 2 F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS,
 * FSINCOS; Vol. 1 8.3.10). Placeholder until the kernels land: #UD-free no-op.
 */
import type { FpEnv } from './softfloat.js';
import { C_NEXT } from './cpu.js';

export function transcendental(_u: Uint32Array, _m: number, _e: FpEnv): number {
  return C_NEXT;
}
