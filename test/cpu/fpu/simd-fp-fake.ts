/**
 * A minimal FpuCpu for unit tests of simd-fp.ts: the register file, 64 KiB of flat memory, a
 * decoded instruction per call, and a record of the raised exception. Memory accesses are logged so a
 * test can check that a scalar form reads only its 4 or 8 bytes.
 */
import { DI } from '../../../src/cpu/block.js';
import { decode } from '../../../src/cpu/decoder/index.js';
import { OpKind, DecodeStatus } from '../../../src/cpu/decoder/insn.js';
import { C_FAULT, type FpuCpu } from '../../../src/cpu/fpu/cpu.js';
import { execSimdFp } from '../../../src/cpu/fpu/simd-fp.js';
import { CpuState, S_CR4, S_MXCSR, S_XMM, S_FPR } from '../../../src/cpu/state.js';

export const MEM_SIZE = 0x10000;

export class FakeCpu implements FpuCpu {
  readonly state = new CpuState();
  readonly u = this.state.u32;
  readonly mem = new Uint8Array(MEM_SIZE);
  codeMode = 64;
  memLo = 0;
  memHi = 0;
  memSeg = 3;
  memHi32 = 0;
  /** Last raised exception: vector, error code, or -1. */
  vector = -1;
  err = -1;
  /** Bytes touched by reads: [address, length] per access. */
  reads: Array<[number, number]> = [];
  ferrs = 0;

  memOffsetLo(): number { return this.memLo; }
  memOffsetHi(): number { return this.memHi; }
  memRead(lo: number, _hi: number, bytes: number): number {
    this.reads.push([lo, bytes]);
    if (lo + bytes > MEM_SIZE) { this.raise(14, true, 0); return -1; }
    const m = this.mem;
    let v = 0;
    for (let k = Math.min(bytes, 4) - 1; k >= 0; k--) v = v * 256 + m[lo + k]!;
    let h = 0;
    for (let k = bytes - 1; k >= 4; k--) h = h * 256 + m[lo + k]!;
    this.memHi32 = h;
    return v >>> 0;
  }
  memWrite(lo: number, _hi: number, bytes: number, v: number, vh: number): boolean {
    if (lo + bytes > MEM_SIZE) { this.raise(14, true, 0); return false; }
    for (let k = 0; k < bytes; k++) this.mem[lo + k] = (k < 4 ? v >>> (8 * k) : vh >>> (8 * (k - 4))) & 0xff;
    return true;
  }
  memProbe(lo: number, _hi: number, len: number): boolean {
    if (lo + len > MEM_SIZE) { this.raise(14, true, 0); return false; }
    return true;
  }
  insnRipLo(): number { return 0x1000; }
  insnRipHi(): number { return 0; }
  raise(vector: number, hasErr: boolean, err: number): number {
    this.vector = vector;
    this.err = hasErr ? err : -1;
    return C_FAULT;
  }
  ferr(): void { this.ferrs++; }

  /** Executes one instruction given as hex bytes (64-bit mode); `mem` is the memory operand's address. */
  run(hex: string, mem = 0): number {
    const bytes = Uint8Array.from(hex.replace(/\s+/g, '').match(/../g)!.map((x) => parseInt(x, 16)));
    const d = new DI();
    decode(bytes, 0, 64, d.i);
    if (d.i.status !== DecodeStatus.Ok) throw new Error(`bad test encoding ${hex}`);
    const i = d.i;
    d.hasMem = i.opKind0 === OpKind.Mem || i.opKind1 === OpKind.Mem || i.opKind2 === OpKind.Mem;
    this.memLo = mem;
    this.vector = -1;
    this.reads = [];
    return execSimdFp(this, d);
  }

  // ---- register helpers ----
  setXmm(n: number, d0: number, d1 = 0, d2 = 0, d3 = 0): void {
    const o = S_XMM + n * 4;
    this.u[o] = d0; this.u[o + 1] = d1; this.u[o + 2] = d2; this.u[o + 3] = d3;
  }
  xmm(n: number): number[] {
    const o = S_XMM + n * 4;
    return [this.u[o]!, this.u[o + 1]!, this.u[o + 2]!, this.u[o + 3]!];
  }
  setXmmF32(n: number, a: number, b = 0, c = 0, e = 0): void {
    this.setXmm(n, f32(a), f32(b), f32(c), f32(e));
  }
  setXmmF64(n: number, a: number, b = 0): void {
    const [alo, ahi] = f64(a), [blo, bhi] = f64(b);
    this.setXmm(n, alo, ahi, blo, bhi);
  }
  mm(n: number): number[] {
    const o = S_FPR + n * 4;
    return [this.u[o]!, this.u[o + 1]!];
  }
  setMm(n: number, lo: number, hi: number): void {
    const o = S_FPR + n * 4;
    this.u[o] = lo; this.u[o + 1] = hi;
  }
  get mxcsr(): number { return this.u[S_MXCSR]!; }
  set mxcsr(v: number) { this.u[S_MXCSR] = v; }
  set osxmmexcpt(on: boolean) { this.u[S_CR4] = on ? this.u[S_CR4]! | (1 << 10) : this.u[S_CR4]! & ~(1 << 10); }
  gpr(n: number): [number, number] { return [this.u[2 * n]!, this.u[2 * n + 1]!]; }
  setGpr(n: number, lo: number, hi = 0): void { this.u[2 * n] = lo >>> 0; this.u[2 * n + 1] = hi >>> 0; }
  poke32(a: number, v: number): void { new DataView(this.mem.buffer).setUint32(a, v >>> 0, true); }
  poke64f(a: number, x: number): void { new DataView(this.mem.buffer).setFloat64(a, x, true); }
  poke32f(a: number, x: number): void { new DataView(this.mem.buffer).setFloat32(a, x, true); }
  peek32(a: number): number { return new DataView(this.mem.buffer).getUint32(a, true); }
}

const F32 = new Float32Array(1), U32 = new Uint32Array(F32.buffer);
const F64 = new Float64Array(1), U64 = new Uint32Array(F64.buffer);
/** binary32 bits of a number (rounded to nearest by the host, as IEEE 754 conversion does). */
export function f32(x: number): number { F32[0] = x; return U32[0]!; }
export function fromF32(b: number): number { U32[0] = b; return F32[0]!; }
export function f64(x: number): [number, number] { F64[0] = x; return [U64[0]!, U64[1]!]; }
export function fromF64(lo: number, hi: number): number { U64[0] = lo; U64[1] = hi; return F64[0]!; }

/** MXCSR bits (SDM Vol. 1 Figure 10-3). */
export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32;
export const IM = 1 << 7, DM = 1 << 8, ZM = 1 << 9, OM = 1 << 10, UM = 1 << 11, PM = 1 << 12;
export const DAZ = 1 << 6, FTZ = 1 << 15;
export const MXCSR_DEFAULT = 0x1f80;
export const QNAN32 = 0x7fc00000, SNAN32 = 0x7fa00000, INDEF32 = 0xffc00000;
