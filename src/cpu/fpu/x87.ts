/**
 * The x87 unit's entry point (SDM Vol. 1 ch. 8). Being written: until it lands, x87 instructions keep
 * the behaviour of a CPU without an FPU as before — #NM when CR0.EM or CR0.TS say so (Vol. 3A
 * Table 2-2), else #UD.
 */
import type { DI } from '../block.js';
import { Mnemonic } from '../decoder/insn.js';
import { S_CR0 } from '../state.js';
import { C_NEXT, V_NM, V_UD, type FpuCpu } from './cpu.js';

export function execX87(cpu: FpuCpu, d: DI): number {
  const cr0 = cpu.u[S_CR0]!;
  if (d.i.mnemonic === Mnemonic.Wait) return (cr0 & 0xa) === 0xa ? cpu.raise(V_NM, false, 0) : C_NEXT;
  return cpu.raise((cr0 & 0xc) !== 0 ? V_NM : V_UD, false, 0);
}
