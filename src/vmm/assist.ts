/**
 * The memory assist: completes an instruction whose memory access hit a guest-physical address
 * that is not RAM (an EPT violation in a device's range), as NetBSD's nvmm_assist_mem and bhyve's
 * vmm_instruction_emul.c do. Decode is the shared decoder's job; this file only emulates, over a
 * register-file view and two callbacks: `linear` accesses (which the monitor splits at page
 * boundaries, translates through guest paging and sends to RAM or to the MMIO bus per piece).
 *
 * Emulated (SDM Vol. 2 encodings beside each case):
 *   MOV   88/89 r/m<-r, 8A/8B r<-r/m, C6/C7 r/m<-imm, A0-A3 moffs
 *   MOVZX 0F B6/B7, MOVSX 0F BE/BF, MOVSXD 63
 *   ADD OR ADC SBB AND SUB XOR CMP (00-3D forms with a memory operand, 80/81/83 group 1), TEST 84/85/F6/F7 /0,
 *   INC/DEC FE/FF /0 /1, NOT/NEG F6/F7 /2 /3
 *   XCHG 86/87
 *   MOVS A4/A5 and STOS AA/AB, with REP (the whole count, as one assist; DF honoured)
 * 16-, 32- and 64-bit addressing (the decoder resolves the 16-bit ModRM map, NVMM's lesson), every
 * operand size including the high-byte registers AH-BH.
 *
 * Deviations: segment limit and privilege checks are not repeated here (the vCPU did them when it
 * raised the access); a LOCK prefix changes nothing (one thread).
 */
import type { Insn } from '../cpu/decoder/insn.js';
import { Mnemonic, OpKind, RegClass, Rep } from '../cpu/decoder/insn.js';
import { S_GPR, S_RIP, S_SEG, SEG_STRIDE, SEG_BASE, SEG_BASE_HI, S_T, DF } from '../cpu/state.js';
import { alu, alu64, inc, dec, inc64, dec64, neg, neg64 } from '../cpu/exec/alu.js';
import { lazyLogic, getFlags } from '../cpu/flags.js';

/** The memory side of the assist; values travel as uint32 halves in `buf[0]` (lo) and `buf[1]` (hi). */
export interface AssistMemory {
  /** Reads `size` (1, 2, 4, 8) bytes at guest-linear hi:lo into buf[0..1]; false = a fault stopped it. */
  readLinear(lo: number, hi: number, size: number, buf: Uint32Array): boolean;
  writeLinear(lo: number, hi: number, size: number, buf: Uint32Array): boolean;
}

export const ASSIST_OK = 0;
/** The instruction is not one the assist emulates: the monitor reports the exit to its caller. */
export const ASSIST_UNSUPPORTED = 1;
/** A memory callback failed (e.g. a guest page fault was raised); state is unchanged except RIP not advanced. */
export const ASSIST_FAULT = 2;

const TWO32 = 0x1_0000_0000;

/** Reads a register operand of id `reg` (zero-extended) into buf[0..1]. */
function readReg(u: Uint32Array, reg: number, buf: Uint32Array): void {
  const cls = reg >> 5;
  const n = reg & 15;
  const lo = u[S_GPR + 2 * n]!;
  switch (cls) {
    case RegClass.Gpr8: buf[0] = lo & 0xff; buf[1] = 0; return;
    case RegClass.Gpr8High: buf[0] = (u[S_GPR + 2 * (reg & 3)]! >>> 8) & 0xff; buf[1] = 0; return;
    case RegClass.Gpr16: buf[0] = lo & 0xffff; buf[1] = 0; return;
    case RegClass.Gpr32: buf[0] = lo; buf[1] = 0; return;
    default: buf[0] = lo; buf[1] = u[S_GPR + 2 * n + 1]!;
  }
}

/** Writes buf[0..1] to register `reg` with the architectural merge rules (32-bit writes zero bits 63:32). */
function writeReg(u: Uint32Array, reg: number, lo: number, hi: number): void {
  const cls = reg >> 5;
  const n = reg & 15;
  const o = S_GPR + 2 * n;
  switch (cls) {
    case RegClass.Gpr8: u[o] = (u[o]! & ~0xff) | (lo & 0xff); return;
    case RegClass.Gpr8High: {
      const p = S_GPR + 2 * (reg & 3);
      u[p] = (u[p]! & ~0xff00) | ((lo & 0xff) << 8);
      return;
    }
    case RegClass.Gpr16: u[o] = (u[o]! & ~0xffff) | (lo & 0xffff); return;
    case RegClass.Gpr32: u[o] = lo; u[o + 1] = 0; return;
    default: u[o] = lo; u[o + 1] = hi;
  }
}

function regWidth(reg: number): number {
  switch (reg >> 5) {
    case RegClass.Gpr8:
    case RegClass.Gpr8High: return 1;
    case RegClass.Gpr16: return 2;
    case RegClass.Gpr32: return 4;
    default: return 8;
  }
}

/** Reads a GPR truncated to `addrSize` bits as a JS number pair (lo, hi) into buf. */
function readAddrReg(u: Uint32Array, reg: number, addrSize: number, buf: Uint32Array): void {
  const n = reg & 15;
  const lo = u[S_GPR + 2 * n]!;
  buf[0] = addrSize === 16 ? lo & 0xffff : lo;
  buf[1] = addrSize === 64 ? u[S_GPR + 2 * n + 1]! : 0;
}

/**
 * The assist. One instance per vCPU: it owns its scratch arrays (no allocation per assist).
 */
export class MemoryAssist {
  private readonly a = new Uint32Array(2);
  private readonly b = new Uint32Array(2);
  private readonly t = new Uint32Array(2);
  /** Linear address of the explicit memory operand after `effective()`. */
  private linLo = 0;
  private linHi = 0;

  /**
   * Emulates `insn` (decoded at the vCPU's RIP in its current mode) over register file `u`;
   * on ASSIST_OK, RIP has been advanced past the instruction.
   */
  emulate(insn: Insn, u: Uint32Array, mem: AssistMemory): number {
    const a = this.a;
    const b = this.b;
    const m = insn.mnemonic;
    let r: number;
    switch (m) {
      case Mnemonic.Mov:
      case Mnemonic.Movzx:
      case Mnemonic.Movsx:
      case Mnemonic.Movsxd:
        r = this.mov(insn, u, mem);
        break;
      case Mnemonic.Add: case Mnemonic.Or: case Mnemonic.Adc: case Mnemonic.Sbb:
      case Mnemonic.And: case Mnemonic.Sub: case Mnemonic.Xor: case Mnemonic.Cmp:
        r = this.group1(insn, u, mem, m - Mnemonic.Add, m !== Mnemonic.Cmp);
        break;
      case Mnemonic.Test:
        r = this.group1(insn, u, mem, -1, false);
        break;
      case Mnemonic.Inc: case Mnemonic.Dec: case Mnemonic.Not: case Mnemonic.Neg:
        r = this.unary(insn, u, mem, m);
        break;
      case Mnemonic.Xchg: {
        if (insn.opKind0 !== OpKind.Mem && insn.opKind1 !== OpKind.Mem) return ASSIST_UNSUPPORTED;
        const reg = insn.opKind0 === OpKind.Reg ? insn.reg0 : insn.reg1;
        const size = regWidth(reg);
        this.effective(insn, u);
        if (!mem.readLinear(this.linLo, this.linHi, size, a)) return ASSIST_FAULT;
        readReg(u, reg, b);
        if (!mem.writeLinear(this.linLo, this.linHi, size, b)) return ASSIST_FAULT;
        writeReg(u, reg, a[0]!, a[1]!);
        r = ASSIST_OK;
        break;
      }
      case Mnemonic.Movsb: case Mnemonic.Movsw: case Mnemonic.Movsd: case Mnemonic.Movsq:
        // A4/A5 MOVS; 0F 10-form MOVSD (SSE) has a ModRM and is not a string op.
        if (insn.opKind0 !== OpKind.StrDst) return ASSIST_UNSUPPORTED;
        r = this.string(insn, u, mem, true);
        break;
      case Mnemonic.Stosb: case Mnemonic.Stosw: case Mnemonic.Stosd: case Mnemonic.Stosq:
        r = this.string(insn, u, mem, false);
        break;
      default:
        return ASSIST_UNSUPPORTED;
    }
    if (r === ASSIST_OK) this.advance(insn, u);
    return r;
  }

  private advance(insn: Insn, u: Uint32Array): void {
    const lo = u[S_RIP]! + insn.length;
    if (insn.mode === 64) {
      u[S_RIP + 1] = (u[S_RIP + 1]! + (lo >= TWO32 ? 1 : 0)) >>> 0;
      u[S_RIP] = lo >>> 0;
    } else {
      u[S_RIP] = insn.mode === 16 ? lo & 0xffff : lo >>> 0;
      u[S_RIP + 1] = 0;
    }
  }

  /** Computes the explicit memory operand's linear address into linLo/linHi (SDM Vol. 1 §3.7.5). */
  private effective(insn: Insn, u: Uint32Array): void {
    const t = this.t;
    let lo = insn.memDisp;
    let hi = insn.memDispHi;
    if (insn.memBase !== 0) {
      if (insn.ripRelative) {
        const next = u[S_RIP]! + insn.length;
        t[0] = next >>> 0;
        t[1] = u[S_RIP + 1]! + (next >= TWO32 ? 1 : 0);
      } else readAddrReg(u, insn.memBase, insn.addrSize, t);
      const s = lo + t[0]!;
      hi = hi + t[1]! + (s >= TWO32 ? 1 : 0);
      lo = s >>> 0;
    }
    if (insn.memIndex !== 0) {
      readAddrReg(u, insn.memIndex, insn.addrSize, t);
      // index * scale as a 64-bit pair (scale <= 8: the low product fits 2^35)
      const pl = t[0]! * insn.memScale;
      const ph = t[1]! * insn.memScale + Math.floor(pl / TWO32);
      const s = lo + (pl >>> 0);
      hi = hi + ph + (s >= TWO32 ? 1 : 0);
      lo = s >>> 0;
    }
    this.truncateAndSegment(insn, u, lo, hi >>> 0, insn.segment);
  }

  private truncateAndSegment(insn: Insn, u: Uint32Array, lo: number, hi: number, seg: number): void {
    if (insn.addrSize === 16) { lo &= 0xffff; hi = 0; }
    else if (insn.addrSize === 32) hi = 0;
    // In 64-bit mode only FS and GS bases apply (SDM Vol. 1 §3.4.2.1).
    if (seg >= 0 && (insn.mode !== 64 || seg >= 4)) {
      const o = S_SEG + seg * SEG_STRIDE;
      const s = lo + u[o + SEG_BASE]!;
      hi = insn.mode === 64 ? (hi + u[o + SEG_BASE_HI]! + (s >= TWO32 ? 1 : 0)) >>> 0 : 0;
      lo = s >>> 0;
    }
    this.linLo = lo >>> 0;
    this.linHi = hi >>> 0;
  }

  /** Reads an immediate operand of kind `kind`, sign/zero extended as the decoder stored it. */
  private imm(insn: Insn, buf: Uint32Array): void {
    buf[0] = insn.imm;
    buf[1] = insn.immHi;
  }

  private mov(insn: Insn, u: Uint32Array, mem: AssistMemory): number {
    const a = this.a;
    const size = insn.operandWidth || insn.opSize / 8;
    if (insn.opKind0 === OpKind.Mem) {
      // 88/89 MOV r/m, r ; C6/C7 MOV r/m, imm ; A2/A3 MOV moffs, AL/rAX
      if (insn.opKind1 === OpKind.Reg) readReg(u, insn.reg1, a);
      else this.imm(insn, a);
      this.effective(insn, u);
      return mem.writeLinear(this.linLo, this.linHi, size, a) ? ASSIST_OK : ASSIST_FAULT;
    }
    if (insn.opKind1 !== OpKind.Mem) return ASSIST_UNSUPPORTED;
    this.effective(insn, u);
    if (!mem.readLinear(this.linLo, this.linHi, size, a)) return ASSIST_FAULT;
    let lo = a[0]!;
    let hi = a[1]!;
    const dst = regWidth(insn.reg0);
    if (insn.mnemonic === Mnemonic.Movsx || insn.mnemonic === Mnemonic.Movsxd) {
      // 0F BE/BF MOVSX, 63 MOVSXD: sign-extend the source to the destination.
      const bits = size * 8;
      if (bits < 32) lo = (lo << (32 - bits)) >> (32 - bits);
      hi = lo < 0 || (bits === 32 && (lo & 0x8000_0000) !== 0) ? 0xffff_ffff : 0;
      lo >>>= 0;
      if (dst < 8) hi = 0;
      if (dst === 2) lo &= 0xffff;
    }
    // 8A/8B MOV r, r/m ; A0/A1 MOV AL/rAX, moffs ; 0F B6/B7 MOVZX (already zero-extended)
    writeReg(u, insn.reg0, lo, hi);
    return ASSIST_OK;
  }

  /** Group 1 (op 0-7) or TEST (op -1) with one memory operand. */
  private group1(insn: Insn, u: Uint32Array, mem: AssistMemory, op: number, writeBack: boolean): number {
    const a = this.a;
    const b = this.b;
    const size = insn.operandWidth || insn.opSize / 8;
    const memDst = insn.opKind0 === OpKind.Mem;
    if (!memDst && insn.opKind1 !== OpKind.Mem) return ASSIST_UNSUPPORTED;
    this.effective(insn, u);
    if (!mem.readLinear(this.linLo, this.linHi, size, memDst ? a : b)) return ASSIST_FAULT;
    if (memDst) {
      if (insn.opKind1 === OpKind.Reg) readReg(u, insn.reg1, b);
      else this.imm(insn, b);
    } else readReg(u, insn.reg0, a);
    const bits = size * 8;
    let lo: number;
    let hi = 0;
    if (op < 0) {
      // 84/85 TEST r/m, r ; F6/F7 /0 TEST r/m, imm: AND without write-back, CF=OF=0.
      lo = (a[0]! & b[0]!) >>> 0;
      hi = bits === 64 ? (a[1]! & b[1]!) >>> 0 : 0;
      if (bits < 32) lo &= (1 << bits) - 1;
      lazyLogic(u, bits, lo, hi);
      return ASSIST_OK;
    }
    if (bits === 64) {
      lo = alu64(u, op, a[0]!, a[1]!, b[0]!, b[1]!);
      hi = u[S_T + 1]!;
    } else {
      lo = alu(u, op, bits, a[0]!, b[0]! & (bits === 32 ? 0xffff_ffff : (1 << bits) - 1));
    }
    if (!writeBack) return ASSIST_OK;
    if (memDst) {
      a[0] = lo; a[1] = hi;
      return mem.writeLinear(this.linLo, this.linHi, size, a) ? ASSIST_OK : ASSIST_FAULT;
    }
    writeReg(u, insn.reg0, lo, hi);
    return ASSIST_OK;
  }

  private unary(insn: Insn, u: Uint32Array, mem: AssistMemory, m: number): number {
    if (insn.opKind0 !== OpKind.Mem) return ASSIST_UNSUPPORTED;
    const a = this.a;
    const size = insn.operandWidth || insn.opSize / 8;
    const bits = size * 8;
    this.effective(insn, u);
    if (!mem.readLinear(this.linLo, this.linHi, size, a)) return ASSIST_FAULT;
    let lo: number;
    let hi = 0;
    if (m === Mnemonic.Not) {
      // F6/F7 /2 NOT: no flags.
      lo = ~a[0]! >>> 0;
      hi = ~a[1]! >>> 0;
      if (bits < 32) lo &= (1 << bits) - 1;
      if (bits < 64) hi = 0;
    } else if (bits === 64) {
      lo = m === Mnemonic.Inc ? inc64(u, a[0]!, a[1]!) : m === Mnemonic.Dec ? dec64(u, a[0]!, a[1]!) : neg64(u, a[0]!, a[1]!);
      hi = u[S_T + 1]!;
    } else {
      lo = m === Mnemonic.Inc ? inc(u, bits, a[0]!) : m === Mnemonic.Dec ? dec(u, bits, a[0]!) : neg(u, bits, a[0]!);
    }
    a[0] = lo;
    a[1] = hi;
    return mem.writeLinear(this.linLo, this.linHi, size, a) ? ASSIST_OK : ASSIST_FAULT;
  }

  /**
   * A4/A5 MOVS, AA/AB STOS (SDM Vol. 2B "MOVS", "STOS"): element by element, rSI/rDI stepped by
   * ±size per DF, rCX counted down under REP. The whole REP count completes in one assist.
   */
  private string(insn: Insn, u: Uint32Array, mem: AssistMemory, movs: boolean): number {
    const a = this.a;
    const t = this.t;
    const size = insn.operandWidth || insn.opSize / 8;
    const as = insn.addrSize;
    const rep = insn.rep !== Rep.None;
    const down = (getFlags(u) & DF) !== 0;
    const step = down ? -size : size;
    const RCX = 1, RSI = 6, RDI = 7;
    let count = 1;
    if (rep) {
      readAddrReg(u, RCX, as, t);
      count = t[1]! * TWO32 + t[0]!;
    }
    while (count > 0) {
      if (movs) {
        readAddrReg(u, RSI, as, t);
        this.truncateAndSegment(insn, u, t[0]!, t[1]!, insn.segment >= 0 ? insn.segment : 3);
        if (!mem.readLinear(this.linLo, this.linHi, size, a)) return ASSIST_FAULT;
      } else {
        readReg(u, size === 8 ? 160 : size === 4 ? 128 : size === 2 ? 96 : 32, a); // rAX of the element size
      }
      readAddrReg(u, RDI, as, t);
      this.truncateAndSegment(insn, u, t[0]!, t[1]!, 0); // ES, never overridable
      if (!mem.writeLinear(this.linLo, this.linHi, size, a)) return ASSIST_FAULT;
      if (movs) this.stepReg(u, RSI, as, step);
      this.stepReg(u, RDI, as, step);
      if (rep) this.stepReg(u, RCX, as, -1);
      count--;
    }
    return ASSIST_OK;
  }

  /** Adds `delta` to a GPR used at address size `as` (only its low `as` bits change, SDM Vol. 1 §3.6). */
  private stepReg(u: Uint32Array, n: number, as: number, delta: number): void {
    const o = S_GPR + 2 * n;
    if (as === 16) {
      u[o] = (u[o]! & 0xffff_0000) | ((u[o]! + delta) & 0xffff);
    } else if (as === 32) {
      // A 32-bit register write zero-extends in 64-bit mode (SDM Vol. 1 §3.4.1.1); outside it the
      // high half is not visible, so zeroing it is correct in every mode.
      u[o] = (u[o]! + delta) >>> 0;
      u[o + 1] = 0;
    } else {
      const s = u[o]! + delta;
      u[o + 1] = (u[o + 1]! + (s >= TWO32 ? 1 : s < 0 ? -1 : 0)) >>> 0;
      u[o] = s >>> 0;
    }
  }
}
