/**
 * The system instructions (SDM Vol. 2 pages of each): operand plumbing between the interpreter and
 * the system unit (system.ts). The interpreter's generic path calls `execSystem` for every mnemonic it
 * does not implement itself; this file reads the operands through the interpreter's own accessors
 * (so memory operands get the normal soft-TLB path, paging and #PF) and returns the interpreter's
 * step codes.
 */
import { Mnemonic, OpKind } from '../decoder/insn.js';
import type { DI } from '../block.js';
import { setStatus } from '../flags.js';
import { AC, FS, GS, S_CR0, S_RFLAGS, S_SEG, SEG_BASE, SEG_BASE_HI, SEG_SEL, SEG_STRIDE, ZF, LDTR, TR } from '../state.js';
import { CR4_SMAP, ST_EXIT, ST_OK, type System } from './system.js';

/** Interpreter step codes (vcpu.ts). */
export const C_NEXT = 0, C_JUMP = 1, C_DONE = 2, C_FAULT = 3;

/** What the system instructions need from the interpreter (implemented by Vcpu). */
export interface SysCpu {
  readonly sys: System;
  readonly u: Uint32Array;
  readonly codeMode: number;
  /** Operand k's value (memory at its width; -1 on fault); high half in opHi. */
  opGet(d: DI, k: number): number;
  readonly opHi: number;
  opPut(d: DI, k: number, size: number, lo: number, hi: number): boolean;
  /** Linear address of the instruction's memory operand (computed before execSystem runs). */
  readonly memLo: number;
  readonly memHi: number;
  memRead(lo: number, hi: number, bytes: number): number;
  memWrite(lo: number, hi: number, bytes: number, v: number, vh: number): boolean;
  /** RIP of the next instruction (lo/hi). */
  nextRipLo(d: DI): number;
  nextRipHi(d: DI): number;
  /** Sets RIP to the next instruction; returns C_JUMP. */
  nextInsn(d: DI): number;
  /** Fills the exit record's RIP fields for the current instruction. */
  markExit(): void;
  /** Raises an exception for the current instruction (returns C_FAULT). */
  raise(vector: number, hasErr: boolean, err: number): number;
  /** The TSC value as RDTSC would read it now. */
  tscLo(): number;
  tscHi(): number;
  /** Sets the TSC as RDTSC will read it now (WRMSR IA32_TIME_STAMP_COUNTER). */
  setTsc(lo: number, hi: number): void;
  /** An RDMSR exit waits for the monitor's value (EDX:EAX) at the next run. */
  awaitMsr(): void;
  flushTlb(): void;
  notYet(what: string): number;
}

const UD = 6, GP = 13;

function st(cpu: SysCpu, r: number): number {
  if (r === ST_OK) return C_NEXT;
  if (r === ST_EXIT) cpu.markExit();
  return C_FAULT;
}

/** Like st() but a success ends the block (mode, CPL, CS or RIP may have changed). */
function stJump(cpu: SysCpu, d: DI, r: number): number {
  if (r === ST_OK) return cpu.nextInsn(d);
  if (r === ST_EXIT) cpu.markExit();
  return C_FAULT;
}

function pmodeOnly(cpu: SysCpu): boolean {
  return (cpu.u[S_CR0]! & 1) !== 0 && (cpu.u[S_RFLAGS]! & (1 << 17)) === 0;
}

export function execSystem(cpu: SysCpu, d: DI, m: number): number {
  const sys = cpu.sys;
  const u = cpu.u;
  const i = d.i;
  const mode64 = cpu.codeMode === 64;
  switch (m) {
    case Mnemonic.Lgdt: case Mnemonic.Lidt: {
      if (i.opKind0 !== OpKind.Mem) return cpu.raise(UD, false, 0);
      if (sys.cpl !== 0) return cpu.raise(GP, true, 0);
      const limit = cpu.memRead(cpu.memLo, cpu.memHi, 2);
      if (limit < 0) return C_FAULT;
      const a = cpu.memLo + 2;
      const alo = a >>> 0, ahi = a >= 4294967296 ? (cpu.memHi + 1) >>> 0 : cpu.memHi;
      const base = cpu.memRead(alo, ahi, mode64 ? 8 : 4);
      if (base < 0) return C_FAULT;
      const baseHi = mode64 ? cpu.opHi : 0;
      return stJump(cpu, d, sys.loadTableReg(m === Mnemonic.Lidt, limit, base, baseHi, i.opSize));
    }
    case Mnemonic.Sgdt: case Mnemonic.Sidt: {
      if (i.opKind0 !== OpKind.Mem) return cpu.raise(UD, false, 0);
      if (sys.umipBlocked()) return cpu.raise(GP, true, 0);
      const o = m === Mnemonic.Sidt ? 109 : 106; // S_IDTR / S_GDTR
      if (!cpu.memWrite(cpu.memLo, cpu.memHi, 2, u[o + 2]!, 0)) return C_FAULT;
      const a = cpu.memLo + 2;
      const alo = a >>> 0, ahi = a >= 4294967296 ? (cpu.memHi + 1) >>> 0 : cpu.memHi;
      if (!cpu.memWrite(alo, ahi, mode64 ? 8 : 4, u[o]!, mode64 ? u[o + 1]! : 0)) return C_FAULT;
      return C_NEXT;
    }
    case Mnemonic.Lldt: case Mnemonic.Ltr: {
      if (!pmodeOnly(cpu)) return cpu.raise(UD, false, 0);
      if (sys.cpl !== 0) return cpu.raise(GP, true, 0);
      const v = cpu.opGet(d, 0);
      if (v < 0) return C_FAULT;
      return st(cpu, m === Mnemonic.Lldt ? sys.lldt(v & 0xffff) : sys.ltr(v & 0xffff));
    }
    case Mnemonic.Sldt: case Mnemonic.Str: {
      if (!pmodeOnly(cpu)) return cpu.raise(UD, false, 0);
      if (sys.umipBlocked()) return cpu.raise(GP, true, 0);
      const v = u[S_SEG + (m === Mnemonic.Sldt ? LDTR : TR) * SEG_STRIDE + SEG_SEL]!;
      const size = i.opKind0 === OpKind.Mem ? 16 : i.opSize;
      return cpu.opPut(d, 0, size, v, 0) ? C_NEXT : C_FAULT;
    }
    case Mnemonic.Smsw: {
      if (sys.umipBlocked()) return cpu.raise(GP, true, 0);
      const size = i.opKind0 === OpKind.Mem ? 16 : i.opSize;
      const v = u[S_CR0]!;
      return cpu.opPut(d, 0, size, size === 16 ? v & 0xffff : v, 0) ? C_NEXT : C_FAULT;
    }
    case Mnemonic.Lmsw: {
      const v = cpu.opGet(d, 0);
      if (v < 0) return C_FAULT;
      return stJump(cpu, d, sys.lmsw(v & 0xffff));
    }
    case Mnemonic.Clts: return st(cpu, sys.clts());
    case Mnemonic.Lar: case Mnemonic.Lsl: case Mnemonic.Verr: case Mnemonic.Verw: {
      if (!pmodeOnly(cpu)) return cpu.raise(UD, false, 0);
      const k = m === Mnemonic.Verr || m === Mnemonic.Verw ? 0 : 1;
      const v = cpu.opGet(d, k);
      if (v < 0) return C_FAULT;
      const which = m === Mnemonic.Lar ? 0 : m === Mnemonic.Lsl ? 1 : m === Mnemonic.Verr ? 2 : 3;
      const r = sys.checkSelector(which, v & 0xffff);
      if (r < 0) return st(cpu, sys.pendVector === -2 ? ST_EXIT : 3);
      setStatus(u, ZF, r === 1 ? ZF : 0);
      if (r === 1 && which <= 1) {
        const sz = i.opSize;
        let val = sys.lslValue;
        if (sz === 16) val &= 0xffff;
        cpu.opPut(d, 0, sz, val, 0);
      }
      return C_NEXT;
    }
    case Mnemonic.Arpl: {
      if (!pmodeOnly(cpu)) return cpu.raise(UD, false, 0);
      const dst = cpu.opGet(d, 0);
      if (dst < 0) return C_FAULT;
      const src = cpu.opGet(d, 1);
      if ((dst & 3) < (src & 3)) {
        if (!cpu.opPut(d, 0, 16, (dst & 0xfffc) | (src & 3), 0)) return C_FAULT;
        setStatus(u, ZF, ZF);
      } else setStatus(u, ZF, 0);
      return C_NEXT;
    }
    case Mnemonic.Invlpg: {
      if (i.opKind0 !== OpKind.Mem) return cpu.raise(UD, false, 0);
      if (sys.cpl !== 0) return cpu.raise(GP, true, 0);
      cpu.flushTlb();
      return cpu.nextInsn(d);
    }
    case Mnemonic.Invd: case Mnemonic.Wbinvd: case Mnemonic.Wbnoinvd:
      if (sys.cpl !== 0) return cpu.raise(GP, true, 0);
      return C_NEXT;
    case Mnemonic.Clflush: case Mnemonic.Clflushopt: case Mnemonic.Clwb: {
      // no caches to flush; the access is still checked like a read (SDM CLFLUSH: #PF, #GP)
      const v = cpu.memRead(cpu.memLo, cpu.memHi, 1);
      return v < 0 ? C_FAULT : C_NEXT;
    }
    case Mnemonic.Rdmsr: {
      const r = sys.rdmsr(u[2]!, cpu.tscLo(), cpu.tscHi());
      if (r === ST_OK) {
        u[0] = sys.msrLo; u[1] = 0; u[4] = sys.msrHi; u[5] = 0;
        return C_NEXT;
      }
      if (r === ST_EXIT) {
        cpu.markExit();
        cpu.awaitMsr();
        cpu.nextInsn(d);
        return C_DONE;
      }
      return C_FAULT;
    }
    case Mnemonic.Wrmsr: {
      const r = sys.wrmsr(u[2]!, u[0]!, u[4]!);
      if (r === ST_OK && sys.tscWritten) {
        sys.tscWritten = false;
        cpu.setTsc(u[0]!, u[4]!);
      }
      if (r === ST_OK) return C_NEXT; // no MSR changes how the following bytes decode
      if (r === ST_EXIT) {
        cpu.markExit();
        cpu.nextInsn(d);
        return C_DONE;
      }
      return C_FAULT;
    }
    case Mnemonic.Syscall: {
      cpu.nextInsn(d);
      const r = sys.syscall();
      return r === ST_OK ? C_JUMP : C_FAULT;
    }
    case Mnemonic.Sysret: case Mnemonic.Sysretq: {
      const r = sys.sysret(m === Mnemonic.Sysretq ? 64 : 32);
      return r === ST_OK ? C_JUMP : C_FAULT;
    }
    case Mnemonic.Sysenter: return sys.sysenter() === ST_OK ? C_JUMP : C_FAULT;
    case Mnemonic.Sysexit: case Mnemonic.Sysexitq:
      return sys.sysexit(m === Mnemonic.Sysexitq ? 64 : 32) === ST_OK ? C_JUMP : C_FAULT;
    case Mnemonic.Swapgs: return st(cpu, sys.swapgs());
    case Mnemonic.Rdfsbase: case Mnemonic.Rdgsbase: case Mnemonic.Wrfsbase: case Mnemonic.Wrgsbase: {
      if (!sys.fsgsbaseOk()) return cpu.raise(UD, false, 0);
      const o = S_SEG + (m === Mnemonic.Rdfsbase || m === Mnemonic.Wrfsbase ? FS : GS) * SEG_STRIDE;
      const sz = i.opSize;
      if (m === Mnemonic.Rdfsbase || m === Mnemonic.Rdgsbase) {
        cpu.opPut(d, 0, sz, u[o + SEG_BASE]!, sz === 64 ? u[o + SEG_BASE_HI]! : 0);
        return C_NEXT;
      }
      const lo = cpu.opGet(d, 0);
      const hi = sz === 64 ? cpu.opHi : 0;
      if (!sys.canon(hi)) return cpu.raise(GP, true, 0);
      u[o + SEG_BASE] = lo >>> 0;
      u[o + SEG_BASE_HI] = hi >>> 0;
      return C_NEXT;
    }
    case Mnemonic.Stac: case Mnemonic.Clac: {
      // SMAP (CPUID.7:EBX[20]): #UD at CPL > 0 (SDM STAC/CLAC)
      if (sys.cpl !== 0) return cpu.raise(UD, false, 0);
      u[S_RFLAGS] = m === Mnemonic.Stac ? u[S_RFLAGS]! | AC : u[S_RFLAGS]! & ~AC;
      // soft-TLB entries of user pages taken under SMAP depend on AC
      if ((sys.mem.ctx.cr4 & CR4_SMAP) !== 0) cpu.flushTlb();
      return cpu.nextInsn(d);
    }
    case Mnemonic.Retf: {
      const imm = i.opCount > 0 ? i.imm & 0xffff : 0;
      cpu.nextInsn(d); // a fault puts RIP back on the instruction
      const r = sys.farReturn(i.opSize, imm);
      if (r === ST_OK) return C_JUMP;
      return st(cpu, r);
    }
    case Mnemonic.Iret: case Mnemonic.Iretd: case Mnemonic.Iretq: {
      cpu.nextInsn(d); // saved as the old task's EIP by a task return; a fault puts RIP back
      const r = sys.iret(m === Mnemonic.Iret ? 16 : m === Mnemonic.Iretd ? 32 : 64);
      if (r === ST_OK) return C_JUMP;
      return st(cpu, r);
    }
    case Mnemonic.Invpcid: case Mnemonic.Monitor: case Mnemonic.Mwait: case Mnemonic.Xgetbv: case Mnemonic.Xsetbv:
    case Mnemonic.Rdpmc: case Mnemonic.Rsm: case Mnemonic.Rdsspd: case Mnemonic.Rdsspq:
      // not advertised by the CPUID model: #UD as on such a processor
      return cpu.raise(UD, false, 0);
    default:
      // XSAVE and its variants (CPUID.1:ECX.XSAVE = 0) and anything else the model lacks
      if (m >= Mnemonic.Xsave && m <= Mnemonic.Xrstors64) return cpu.raise(UD, false, 0);
      return cpu.notYet(Mnemonic[m] ?? `mnemonic ${m}`);
  }
}

/** MOV to/from CRn / DRn (SDM Vol. 2 MOV—Move to/from Control/Debug Registers). */
export function execMovCrDr(cpu: SysCpu, d: DI): number {
  const i = d.i;
  const sys = cpu.sys;
  const c0 = i.reg0 >> 5, c1 = i.reg1 >> 5;
  const mode64 = cpu.codeMode === 64;
  if (c0 === 7 || c0 === 8) {
    // MOV CRn/DRn, r (the r/m operand is always a register; operand size 32, or 64 in 64-bit mode)
    const n = i.reg0 & 15;
    const r = (i.reg1 & 15) << 1;
    const lo = cpu.u[r]!, hi = mode64 ? cpu.u[r + 1]! : 0;
    const res = c0 === 7 ? sys.movToCr(n, lo, hi) : sys.movToDr(n, lo, hi);
    if (res === ST_EXIT) {
      // MOV to CR8 below the TPR threshold: the instruction completed, the exit is a trap after it
      cpu.markExit();
      sys.exitAfterInstruction();
      cpu.nextInsn(d);
      return C_DONE;
    }
    return stJump(cpu, d, res);
  }
  const n = i.reg1 & 15;
  const v = c1 === 7 ? sys.movFromCr(n) : sys.movFromDr(n);
  if (v < 0) return C_FAULT;
  const hi = c1 === 7 ? sys.crHi : sys.drHi;
  const r = (i.reg0 & 15) << 1;
  cpu.u[r] = v >>> 0;
  cpu.u[r + 1] = mode64 ? hi : 0;
  return C_NEXT;
}

