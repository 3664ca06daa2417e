/**
 * Multi-part accesses to the memory operand of an x87/SIMD instruction (m80, m128, the FXSAVE and
 * environment images), shared by the units: the linear address of byte k of the operand, and
 * 1/2/4/8/16-byte loads and stores through a Uint32Array. Each part goes through the interpreter's
 * accessors (FpuCpu), so paging and faults are the integer core's.
 */
import type { FpuCpu } from './cpu.js';

/** Low half of the linear address of byte k of the memory operand. */
export function operandLo(cpu: FpuCpu, k: number): number {
  return (cpu.memLo + k) >>> 0;
}

/** High half of it: 64-bit mode carries into it; outside 64-bit mode linear addresses wrap at 4 GiB. */
export function operandHi(cpu: FpuCpu, k: number): number {
  return cpu.codeMode === 64 && cpu.memLo + k >= 0x100000000 ? (cpu.memHi + 1) >>> 0 : cpu.memHi;
}

/**
 * Reads `bytes` (1, 2, 4, 8 or 16) of the memory operand into t[0..3] (zero above what was read);
 * false after the fault an access raised.
 */
export function loadMem(cpu: FpuCpu, t: Uint32Array, bytes: number): boolean {
  t[1] = 0; t[2] = 0; t[3] = 0;
  if (bytes <= 4) {
    const v = cpu.memRead(cpu.memLo, cpu.memHi, bytes);
    if (v < 0) return false;
    t[0] = v;
    return true;
  }
  const v = cpu.memRead(cpu.memLo, cpu.memHi, 8);
  if (v < 0) return false;
  t[0] = v; t[1] = cpu.memHi32;
  if (bytes === 16) {
    const w = cpu.memRead(operandLo(cpu, 8), operandHi(cpu, 8), 8);
    if (w < 0) return false;
    t[2] = w; t[3] = cpu.memHi32;
  }
  return true;
}

/** Stores `bytes` (1, 2, 4, 8 or 16) of t at the memory operand; nothing is written on a fault. */
export function storeMem(cpu: FpuCpu, t: Uint32Array, bytes: number): boolean {
  const lo = cpu.memLo, hi = cpu.memHi;
  if (bytes <= 8) return cpu.memWrite(lo, hi, bytes, t[0]!, t[1]!);
  if (!cpu.memProbe(lo, hi, 16, true)) return false;
  return cpu.memWrite(lo, hi, 8, t[0]!, t[1]!) && cpu.memWrite(operandLo(cpu, 8), operandHi(cpu, 8), 8, t[2]!, t[3]!);
}
