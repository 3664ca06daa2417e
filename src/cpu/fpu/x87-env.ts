/**
 * x87 environment and state images: FNSTENV/FLDENV (SDM Vol. 1 8.1.10, Figures 8-9..8-12),
 * FNSAVE/FRSTOR (Figures 8-13/8-14: the environment followed by ST(0)..ST(7), 10 bytes each), and
 * FXSAVE/FXRSTOR(64) (SDM Vol. 2 "FXSAVE", Tables 10-2/10-3 of Vol. 1 10.5.1).
 *
 * Every image is built in (or read into) a scratch buffer first, and a store probes the whole area
 * before writing, so a fault leaves memory and registers as they were (an instruction either
 * completes or faults with no effect, SDM Vol. 3A 6.5).
 */
import {
  FPR_STRIDE, S_CR0, S_FCS, S_FCW, S_FDP, S_FDS, S_FIP, S_FOP, S_FPR, S_FSW, S_FTW, S_MXCSR, S_RFLAGS, S_XMM,
  VM, XMM_STRIDE,
} from '../state.js';
import { C_FAULT, C_NEXT, V_GP, type FpuCpu } from './cpu.js';
import { operandHi, operandLo } from './mem.js';
import { abridgeTags, fullTagWord, getTop, recomputeES } from './x87-state.js';

const buf = new Uint8Array(512);
const dv = new DataView(buf.buffer);

/**
 * MXCSR_MASK reported by FXSAVE (SDM Vol. 1 11.6.6): bits set are the MXCSR bits software may set.
 * 0000FFFFH: DAZ (bit 6) is supported, bits 31:16 are reserved (FXRSTOR/LDMXCSR #GP(0) if set). A
 * saved mask of 0 would mean the legacy default 0000FFBFH (no DAZ); processors with DAZ report FFFFH.
 */
export const MXCSR_MASK = 0x0000ffff;

/** Writes buf[0..len) to the operand: probe first (fault = nothing written), then dwords and a word tail. */
function storeBuf(cpu: FpuCpu, len: number, probeLen: number): boolean {
  if (!cpu.memProbe(cpu.memLo, cpu.memHi, probeLen, true)) return false;
  for (let k = 0; k < len; k += 4) {
    const n = len - k >= 4 ? 4 : 2;
    const v = n === 4 ? dv.getUint32(k, true) : dv.getUint16(k, true);
    if (!cpu.memWrite(operandLo(cpu, k), operandHi(cpu, k), n, v, 0)) return false;
  }
  return true;
}

/** Reads len bytes of the operand into buf; false after a fault (nothing changed). */
function loadBuf(cpu: FpuCpu, len: number): boolean {
  for (let k = 0; k < len; k += 4) {
    const n = len - k >= 4 ? 4 : 2;
    const v = cpu.memRead(operandLo(cpu, k), operandHi(cpu, k), n);
    if (v < 0) return false;
    if (n === 4) dv.setUint32(k, v, true);
    else dv.setUint16(k, v, true);
  }
  return true;
}

/** Real-address or virtual-8086 mode: the environment uses the real-mode formats (Figures 8-10, 8-12). */
function realFormat(u: Uint32Array): boolean {
  return (u[S_CR0]! & 1) === 0 || (u[S_RFLAGS]! & VM) !== 0;
}

/** Builds the environment at buf[0..]; returns its size (14 or 28). */
function putEnv(u: Uint32Array, o16: boolean): number {
  const fcw = u[S_FCW]! & 0xffff, fsw = u[S_FSW]! & 0xffff, ftw = fullTagWord(u), fop = u[S_FOP]! & 0x7ff;
  const fip = u[S_FIP]!, fdp = u[S_FDP]!, fcs = u[S_FCS]! & 0xffff, fds = u[S_FDS]! & 0xffff;
  if (realFormat(u)) {
    // the pointers are 20/32-bit linear addresses, selector:offset folded (Figures 8-10, 8-12)
    const ip = (fcs * 16 + fip) >>> 0, dp = (fds * 16 + fdp) >>> 0;
    if (o16) {
      dv.setUint16(0, fcw, true); dv.setUint16(2, fsw, true); dv.setUint16(4, ftw, true);
      dv.setUint16(6, ip & 0xffff, true);
      dv.setUint16(8, ((ip >>> 4) & 0xf000) | fop, true);
      dv.setUint16(10, dp & 0xffff, true);
      dv.setUint16(12, (dp >>> 4) & 0xf000, true);
      return 14;
    }
    dv.setUint32(0, 0xffff0000 | fcw, true); dv.setUint32(4, 0xffff0000 | fsw, true); dv.setUint32(8, 0xffff0000 | ftw, true);
    dv.setUint32(12, 0xffff0000 | (ip & 0xffff), true);
    dv.setUint32(16, (((ip >>> 16) << 12) | fop) >>> 0, true);
    dv.setUint32(20, 0xffff0000 | (dp & 0xffff), true);
    dv.setUint32(24, ((dp >>> 16) << 12) >>> 0, true);
    return 28;
  }
  if (o16) {
    dv.setUint16(0, fcw, true); dv.setUint16(2, fsw, true); dv.setUint16(4, ftw, true);
    dv.setUint16(6, fip & 0xffff, true); dv.setUint16(8, fcs, true);
    dv.setUint16(10, fdp & 0xffff, true); dv.setUint16(12, fds, true);
    return 14;
  }
  // reserved halves read as ones, as the 387 and later store them
  dv.setUint32(0, 0xffff0000 | fcw, true); dv.setUint32(4, 0xffff0000 | fsw, true); dv.setUint32(8, 0xffff0000 | ftw, true);
  dv.setUint32(12, fip, true);
  dv.setUint32(16, (fcs | (fop << 16)) >>> 0, true);
  dv.setUint32(20, fdp, true);
  dv.setUint32(24, 0xffff0000 | fds, true);
  return 28;
}

/** Loads the environment from buf[0..]; returns its size. */
function getEnv(u: Uint32Array, o16: boolean): number {
  let fcw: number, fsw: number, ftw: number;
  if (o16) {
    fcw = dv.getUint16(0, true); fsw = dv.getUint16(2, true); ftw = dv.getUint16(4, true);
  } else {
    fcw = dv.getUint16(0, true); fsw = dv.getUint16(4, true); ftw = dv.getUint16(8, true);
  }
  if (realFormat(u)) {
    let ip: number, dp: number, fop: number;
    if (o16) {
      const w = dv.getUint16(8, true);
      ip = dv.getUint16(6, true) | ((w & 0xf000) << 4);
      fop = w & 0x7ff;
      dp = dv.getUint16(10, true) | ((dv.getUint16(12, true) & 0xf000) << 4);
    } else {
      const w = dv.getUint32(16, true);
      ip = (dv.getUint16(12, true) | (((w >>> 12) & 0xffff) << 16)) >>> 0;
      fop = w & 0x7ff;
      dp = (dv.getUint16(20, true) | (((dv.getUint32(24, true) >>> 12) & 0xffff) << 16)) >>> 0;
    }
    u[S_FIP] = ip; u[S_FIP + 1] = 0; u[S_FCS] = 0;
    u[S_FDP] = dp; u[S_FDP + 1] = 0; u[S_FDS] = 0;
    u[S_FOP] = fop;
  } else if (o16) {
    u[S_FIP] = dv.getUint16(6, true); u[S_FIP + 1] = 0; u[S_FCS] = dv.getUint16(8, true);
    u[S_FDP] = dv.getUint16(10, true); u[S_FDP + 1] = 0; u[S_FDS] = dv.getUint16(12, true);
  } else {
    u[S_FIP] = dv.getUint32(12, true); u[S_FIP + 1] = 0;
    const w = dv.getUint32(16, true);
    u[S_FCS] = w & 0xffff; u[S_FOP] = (w >>> 16) & 0x7ff;
    u[S_FDP] = dv.getUint32(20, true); u[S_FDP + 1] = 0; u[S_FDS] = dv.getUint16(24, true);
  }
  setFcw(u, fcw);
  u[S_FSW] = fsw;
  u[S_FTW] = abridgeTags(ftw);
  recomputeES(u);
  return o16 ? 14 : 28;
}

/**
 * The stored FCW: bits 12:8 and 5:0 as written, bit 6 reads as 1 and 7, 15:13 as 0 on the 387 and
 * later (SDM Vol. 1 8.1.5 Figure 8-6 marks them reserved).
 */
export function setFcw(u: Uint32Array, v: number): void {
  u[S_FCW] = (v & 0x1f3f) | 0x40;
}

/** FNINIT (SDM Vol. 2 FINIT): FCW 037FH, FSW 0, all tags empty, pointers and opcode cleared. */
export function fninit(u: Uint32Array): void {
  u[S_FCW] = 0x037f;
  u[S_FSW] = 0;
  u[S_FTW] = 0;
  u[S_FOP] = 0;
  u[S_FIP] = 0; u[S_FIP + 1] = 0; u[S_FCS] = 0;
  u[S_FDP] = 0; u[S_FDP + 1] = 0; u[S_FDS] = 0;
}

function putReg80(u: Uint32Array, p: number, off: number): void {
  const o = S_FPR + p * FPR_STRIDE;
  dv.setUint32(off, u[o]!, true);
  dv.setUint32(off + 4, u[o + 1]!, true);
  dv.setUint16(off + 8, u[o + 2]! & 0xffff, true);
}
function getReg80(u: Uint32Array, p: number, off: number): void {
  const o = S_FPR + p * FPR_STRIDE;
  u[o] = dv.getUint32(off, true);
  u[o + 1] = dv.getUint32(off + 4, true);
  u[o + 2] = dv.getUint16(off + 8, true);
}

/** FNSTENV: store the environment, then mask all exceptions (SDM Vol. 2 FSTENV). */
export function fnstenv(cpu: FpuCpu, o16: boolean): number {
  const u = cpu.u;
  const n = putEnv(u, o16);
  if (!storeBuf(cpu, n, n)) return C_FAULT;
  u[S_FCW] = u[S_FCW]! | 0x3f;
  // ES/B summarize unmasked pending flags (SDM Vol. 1 8.1.3.1): with all masked both read 0 now, as
  // the host shows (finding X6); FLDCW/FLDENV/FRSTOR/FXRSTOR recompute them the same way
  recomputeES(u);
  return C_NEXT;
}

export function fldenv(cpu: FpuCpu, o16: boolean): number {
  if (!loadBuf(cpu, o16 ? 14 : 28)) return C_FAULT;
  getEnv(cpu.u, o16);
  return C_NEXT;
}

/** FNSAVE: environment + ST(0)..ST(7), then FNINIT (SDM Vol. 2 FSAVE). */
export function fnsave(cpu: FpuCpu, o16: boolean): number {
  const u = cpu.u;
  const n = putEnv(u, o16);
  const top = getTop(u);
  for (let i = 0; i < 8; i++) putReg80(u, (top + i) & 7, n + 10 * i);
  if (!storeBuf(cpu, n + 80, n + 80)) return C_FAULT;
  fninit(u);
  return C_NEXT;
}

export function frstor(cpu: FpuCpu, o16: boolean): number {
  const u = cpu.u;
  const n = o16 ? 14 : 28;
  if (!loadBuf(cpu, n + 80)) return C_FAULT;
  getEnv(u, o16);
  const top = getTop(u);
  for (let i = 0; i < 8; i++) getReg80(u, (top + i) & 7, n + 10 * i);
  return C_NEXT;
}

/**
 * FXSAVE / FXSAVE64 (SDM Vol. 2 FXSAVE; Vol. 1 Tables 10-2, 10-3). rexW selects the 64-bit pointer
 * layout. XMM8-15 only in 64-bit mode. The XMM registers and MXCSR are saved whatever CR4.OSFXSR says
 * (the SDM leaves it implementation-dependent; saving is the simpler, common choice). Bytes 464-511 are
 * software's and not written; the reserved bytes inside the header and the 6 bytes after each ST(i)
 * are written as 0.
 */
export function fxsave(cpu: FpuCpu, rexW: boolean): number {
  const u = cpu.u;
  if ((cpu.memLo & 15) !== 0) return cpu.raise(V_GP, true, 0);
  buf.fill(0, 0, 416);
  dv.setUint16(0, u[S_FCW]!, true);
  dv.setUint16(2, u[S_FSW]!, true);
  buf[4] = u[S_FTW]! & 0xff;
  dv.setUint16(6, u[S_FOP]! & 0x7ff, true);
  if (rexW) {
    dv.setUint32(8, u[S_FIP]!, true); dv.setUint32(12, u[S_FIP + 1]!, true);
    dv.setUint32(16, u[S_FDP]!, true); dv.setUint32(20, u[S_FDP + 1]!, true);
  } else {
    dv.setUint32(8, u[S_FIP]!, true); dv.setUint16(12, u[S_FCS]!, true);
    dv.setUint32(16, u[S_FDP]!, true); dv.setUint16(20, u[S_FDS]!, true);
  }
  dv.setUint32(24, u[S_MXCSR]!, true);
  dv.setUint32(28, MXCSR_MASK, true);
  const top = getTop(u);
  for (let i = 0; i < 8; i++) putReg80(u, (top + i) & 7, 32 + 16 * i);
  const nx = cpu.codeMode === 64 ? 16 : 8;
  for (let j = 0; j < nx; j++) {
    const o = S_XMM + j * XMM_STRIDE;
    for (let k = 0; k < 4; k++) dv.setUint32(160 + 16 * j + 4 * k, u[o + k]!, true);
  }
  return storeBuf(cpu, 160 + 16 * nx, 512) ? C_NEXT : C_FAULT;
}

/** FXRSTOR / FXRSTOR64: #GP(0) if misaligned or if MXCSR sets a bit outside MXCSR_MASK (SDM Vol. 2 FXRSTOR). */
export function fxrstor(cpu: FpuCpu, rexW: boolean): number {
  const u = cpu.u;
  if ((cpu.memLo & 15) !== 0) return cpu.raise(V_GP, true, 0);
  const nx = cpu.codeMode === 64 ? 16 : 8;
  // the operand is all 512 bytes: a fault anywhere in it comes before any state changes
  if (!cpu.memProbe(cpu.memLo, cpu.memHi, 512, false) || !loadBuf(cpu, 160 + 16 * nx)) return C_FAULT;
  const mxcsr = dv.getUint32(24, true);
  if ((mxcsr & ~MXCSR_MASK) !== 0) return cpu.raise(V_GP, true, 0);
  setFcw(u, dv.getUint16(0, true));
  u[S_FSW] = dv.getUint16(2, true);
  u[S_FTW] = buf[4]!;
  u[S_FOP] = dv.getUint16(6, true) & 0x7ff;
  if (rexW) {
    u[S_FIP] = dv.getUint32(8, true); u[S_FIP + 1] = dv.getUint32(12, true);
    u[S_FDP] = dv.getUint32(16, true); u[S_FDP + 1] = dv.getUint32(20, true);
  } else {
    u[S_FIP] = dv.getUint32(8, true); u[S_FIP + 1] = 0; u[S_FCS] = dv.getUint16(12, true);
    u[S_FDP] = dv.getUint32(16, true); u[S_FDP + 1] = 0; u[S_FDS] = dv.getUint16(20, true);
  }
  recomputeES(u);
  u[S_MXCSR] = mxcsr;
  const top = getTop(u);
  for (let i = 0; i < 8; i++) getReg80(u, (top + i) & 7, 32 + 16 * i);
  for (let j = 0; j < nx; j++) {
    const o = S_XMM + j * XMM_STRIDE;
    for (let k = 0; k < 4; k++) u[o + k] = dv.getUint32(160 + 16 * j + 4 * k, true);
  }
  return C_NEXT;
}
