/** Shared helpers of the x87 tests: encodings, memory pokes and peeks, the register stack as ST(i). */
import { FPR_STRIDE, S_FPR, S_FSW } from '../../../src/cpu/state.js';
import type { Machine } from '../harness.js';

export const DATA = 0x2000;
export const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
/** x87 memory form `op /reg [disp32]` (32-bit addressing, mod=00 r/m=101). */
export const M = (op: number, reg: number, addr = DATA): number[] => [op, (reg << 3) | 5, ...le32(addr)];
export const HLT = [0xf4];
export const FNINIT = [0xdb, 0xe3];
export const FLD1 = [0xd9, 0xe8];
export const FLDZ = [0xd9, 0xee];
/** The QNaN "real indefinite" as [sig hi, sig lo, sign/exp] (SDM Vol. 1 Table 4-3). */
export const INDEF = [0xc0000000, 0, 0xffff];

export function wr32(m: Machine, a: number, v: number): void {
  m.mem[a] = v & 0xff; m.mem[a + 1] = (v >>> 8) & 0xff; m.mem[a + 2] = (v >>> 16) & 0xff; m.mem[a + 3] = v >>> 24;
}
export function rd16(m: Machine, a: number): number { return m.mem[a]! | (m.mem[a + 1]! << 8); }
export const top = (u: Uint32Array): number => (u[S_FSW]! >>> 11) & 7;
/** ST(i) as [sig hi, sig lo, sign/exp]. */
export function st(u: Uint32Array, i: number): number[] {
  const p = (top(u) + i) & 7, o = S_FPR + p * FPR_STRIDE;
  return [u[o + 1]!, u[o]!, u[o + 2]!];
}
