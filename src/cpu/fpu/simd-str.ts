/**
 * SSE4.2 string compares PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM (SDM Vol. 2 §4.1). Placeholder.
 */
import { C_NEXT } from './cpu.js';

export function pcmpStr(u: Uint32Array, m: number, imm: number, a: Uint32Array, b: Uint32Array): number {
  void u; void m; void imm; void a; void b;
  return C_NEXT;
}
