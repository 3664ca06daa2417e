/**
 * Harness for the SIMD unit's tests: runs hand-assembled code (bytes from nasm, the source line in a
 * comment beside each) on a vCPU with CR4.OSFXSR set, until HLT or an exception exit.
 */
import { makeCpu, CODE_BASE, type Machine } from '../harness.js';
import { S_CR4, S_XMM, S_FPR } from '../../../src/cpu/state.js';

export const DATA = 0x20000;

export interface Run extends Machine {
  /** 'hlt' or 'exception:<vector>'. */
  end: string;
  errorCode: number | undefined;
  ripLo: number;
}

/** Parses "0f 28 c1" style hex (spaces optional). */
export function hex(s: string): number[] {
  const t = s.replace(/\s+/g, '');
  const out: number[] = [];
  for (let k = 0; k < t.length; k += 2) out.push(parseInt(t.slice(k, k + 2), 16));
  return out;
}

export function machine(mode: 16 | 32 | 64, code: string): Machine {
  const mc = makeCpu(mode, [...hex(code), 0xf4]);
  mc.cpu.state.u32[S_CR4] = (mc.cpu.state.u32[S_CR4]! | (1 << 9)) >>> 0;
  return mc;
}

export function go(mc: Machine, max = 100): Run {
  const e = mc.cpu.run({ maxInstructions: max });
  const r = mc as Run;
  r.end = e.reason === 'exception' ? `exception:${e.vector}` : e.reason;
  r.errorCode = e.reason === 'exception' ? e.errorCode : undefined;
  r.ripLo = mc.cpu.state.u32[32]!;
  return r;
}

/** XMM register n as 4 dwords (lowest first). */
export function xmm(mc: Machine, n: number): number[] {
  const u = mc.cpu.state.u32;
  return [u[S_XMM + 4 * n]!, u[S_XMM + 4 * n + 1]!, u[S_XMM + 4 * n + 2]!, u[S_XMM + 4 * n + 3]!];
}
export function setXmm(mc: Machine, n: number, v: number[]): void {
  const u = mc.cpu.state.u32;
  for (let k = 0; k < 4; k++) u[S_XMM + 4 * n + k] = v[k]! >>> 0;
}
/** MMX register n as 2 dwords. */
export function mm(mc: Machine, n: number): number[] {
  const u = mc.cpu.state.u32;
  return [u[S_FPR + 4 * n]!, u[S_FPR + 4 * n + 1]!];
}
export function setMm(mc: Machine, n: number, v: number[]): void {
  const u = mc.cpu.state.u32;
  u[S_FPR + 4 * n] = v[0]! >>> 0;
  u[S_FPR + 4 * n + 1] = v[1]! >>> 0;
}
/** Sets general register n (0 = rAX ...) to lo (and hi). */
export function setGpr(mc: Machine, n: number, lo: number, hi = 0): void {
  mc.cpu.state.u32[2 * n] = lo >>> 0;
  mc.cpu.state.u32[2 * n + 1] = hi >>> 0;
}
export function gpr(mc: Machine, n: number): number {
  return mc.cpu.state.u32[2 * n]!;
}
export function gprHi(mc: Machine, n: number): number {
  return mc.cpu.state.u32[2 * n + 1]!;
}
export { CODE_BASE };
