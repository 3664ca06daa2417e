/**
 * Block compiler: turns a decoded block (block.ts) into one JavaScript function (`new Function`), so
 * the per-instruction switch dispatch, operand decoding and most lazy-flag stores compile away.
 * The interpreter stays the reference and the fallback: instructions without an inline form here
 * call the interpreter's `exec` for that one instruction, and a block that cannot be compiled
 * (no `new Function`, e.g. under a strict CSP) simply stays interpreted.
 *
 * Contract of a compiled block `fn(cpu, u, D)` (cpu = the Vcpu, u = its register file, D = the
 * block's DI records): it runs the block's instructions in order and returns `k << 2 | status`,
 * k = index of the last instruction it ran, status as in vcpu.ts: C_NEXT (instructions 0..k
 * retired, continue after instruction k: end of block or a write into decoded code), C_JUMP
 * (0..k retired, RIP already set), C_DONE (0..k retired, exit record filled), C_FAULT (instruction
 * k faulted, 0..k-1 retired, exit filled). The caller only runs it with a budget of at least the
 * block length, so budget exits stay exact.
 *
 * Flags: a compiled instruction stores the lazy-flag record (flags.ts) only if a later reader may
 * see it: the flags are live at the block end, before any instruction that may fault or leave the
 * block (so an exception or exit sees exact RFLAGS), and before readers (Jcc, ADC/SBB, INC/DEC of
 * live flags). A Jcc evaluates its condition straight from the producing instruction's operands
 * when the producer is in the same block (e.g. `cmp eax, edx; jbe` is `a <= b`), SDM Vol. 1
 * Appendix B Table B-1.
 *
 * Memory operands in 64-bit mode with 64-bit addressing are computed inline (SDM Vol. 1 §3.7.5)
 * and hit the vCPU's soft TLB inline (tag compare, DataView access); a miss, a page-crossing
 * access or a fault takes the vCPU's slow path, exactly as the interpreter does.
 */
import { Mnemonic, OpKind } from '../decoder/insn.js';
import type { Block, DI } from '../block.js';
import { alu, alu64, dec, dec64, inc, inc64 } from '../exec/alu.js';
import { shift, shift64 } from '../exec/shift.js';
import { cond, PARITY } from '../flags.js';
import { AF, CF, L_MASK, L_RES, L_SIZE, OF, PF, S_RFLAGS, S_RIP, S_T, SF, ZF } from '../state.js';

/** A compiled region (see the file comment for the contract). */
export type CompiledBlock = (cpu: unknown, u: Uint32Array, D: readonly DI[], left: number) => number;

/** The function and the DI records it indexes (all blocks of the region, in order). */
export interface CompiledRegion {
  fn: CompiledBlock;
  D: DI[];
}

/** The interpreter's op ids (vcpu.ts keeps them in a same-file const enum and passes them here). */
export interface JitOps {
  AluRR: number; AluRI: number; AluRM: number; AluMR: number; AluMI: number;
  MovRR: number; MovRI: number; MovRM: number; MovMR: number; MovMI: number;
  TestRR: number; TestRI: number; IncR: number; DecR: number;
  Jcc: number; JmpRel: number; Lea: number; ShiftRI: number; MovzxRR: number; MovzxRM: number; Nop: number;
}

const HELPERS = { alu, alu64, dec, dec64, inc, inc64, shift, shift64, cond, PARITY };

/** Flags behaviour of one instruction for the liveness pass. */
const F_NONE = 0, F_ALL = 1, F_PARTIAL = 2;

interface Plan {
  inline: boolean;
  /** May fault or leave the block (memory access, branch, fallback): flags must be exact before it. */
  barrier: boolean;
  write: number;
  read: boolean;
}

/** Producer of the current flags, for direct condition evaluation. */
interface Producer {
  kind: 'sub' | 'add' | 'logic' | 'incdec';
  size: number;
  a: string; ah: string; b: string; bh: string; r: string; rh: string;
  /** Locals holding CF and OF (0/1) when the producer computed them inline (shifts), else ''. */
  cf?: string; of?: string;
}

const C_NEXT = 0, C_JUMP = 1, C_FAULT = 3;

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

function isImm(k: number): boolean {
  return k >= OpKind.Imm8 && k <= OpKind.Imm32Sx;
}

function maskOf(size: number): number {
  return size === 8 ? 0xff : size === 16 ? 0xffff : 0xffffffff;
}

/** Narrow ALU/MOV forms (8/16-bit) the interpreter leaves to its generic path: 'rr', 'ri', 'rm', 'mr', 'mi' or ''. */
function narrowForm(d: DI): string {
  const i = d.i;
  if (i.lock !== 0 || (d.size !== 8 && d.size !== 16)) return '';
  const m = i.mnemonic;
  if (!((m >= Mnemonic.Add && m <= Mnemonic.Cmp) || m === Mnemonic.Mov)) return '';
  const k0 = i.opKind0, k1 = i.opKind1;
  if (k0 === OpKind.Reg && d.r0 >= 0) {
    if (k1 === OpKind.Reg && d.r1 >= 0) return 'rr';
    if (isImm(k1)) return 'ri';
    if (k1 === OpKind.Mem) return 'rm';
  } else if (k0 === OpKind.Mem) {
    if (k1 === OpKind.Reg && d.r1 >= 0) return 'mr';
    if (isImm(k1)) return 'mi';
  }
  return '';
}

export class BlockCompiler {
  private src: string[] = [];
  private tmp = 0;
  private prod: Producer | null = null;
  /** Region state while compiling: block page offsets, block count (1 = no chaining), current block. */
  private offs: readonly number[] = [];
  private region = 1;
  private kb = 0;
  private bi = 0;
  constructor(private readonly O: JitOps) {}

  /**
   * Compiles a region: `blocks[0]` is the entry; in 64-bit mode the others are blocks of the same
   * page (`offs` = their page offsets) that direct branches of the region reach, so a loop spanning
   * several blocks runs inside one function (`for (;;) switch (block)`), with the budget checked at
   * every block entry. Null if there is nothing worth compiling or `new Function` is unavailable.
   */
  compile(blocks: readonly Block[], offs: readonly number[]): CompiledRegion | null {
    const mode = blocks[0]!.mode;
    const flat: DI[] = [];
    let inlined = 0;
    const plansOf: Plan[][] = [];
    for (const b of blocks) {
      const plans: Plan[] = [];
      for (let k = 0; k < b.n; k++) {
        const p = this.plan(b.insns[k]!, mode);
        if (p.inline) inlined++;
        plans.push(p);
      }
      plansOf.push(plans);
    }
    if (inlined === 0) return null;
    this.src = [];
    this.tmp = 0;
    const s = this.src;
    this.offs = offs;
    this.region = mode === 64 ? blocks.length : 1;
    s.push('"use strict";');
    s.push('const tagR = cpu.tagR, tagW = cpu.tagW, tView = cpu.tView, tBytes = cpu.tBytes, tOff = cpu.tOff;');
    // RIP of the page start (64-bit mode: blocks of one page share it; RIP = linear address there)
    s.push(`const base = cpu.bLo - ${offs[0]!}, bHi = cpu.bHi;`);
    s.push('let n = 0, pc = 0;');
    s.push('for (;;) switch (pc) {');
    for (let bi = 0; bi < this.region; bi++) {
      const b = blocks[bi]!;
      const plans = plansOf[bi]!;
      const nb = b.n;
      // backward flag liveness: liveOut[k] = a later reader may see instruction k's flags
      const liveOut: boolean[] = new Array<boolean>(nb);
      let live = true;
      for (let k = nb - 1; k >= 0; k--) {
        liveOut[k] = live;
        const p = plans[k]!;
        if (p.barrier) live = true;
        else if (p.write === F_ALL) live = p.read;
        else if (p.write === F_PARTIAL) live = live || p.read;
        else if (p.read) live = true;
      }
      this.kb = flat.length;
      this.bi = bi;
      for (let k = 0; k < nb; k++) flat.push(b.insns[k]!);
      this.prod = null;
      s.push(`case ${bi}: {`);
      // entering a block (also the entry again, from a loop): budget first, then its RIP base
      s.push(`if (n + ${nb} > left) { u[${S_RIP}] = base + ${offs[bi]!}; u[${S_RIP + 1}] = bHi; cpu.jitN = n; return ${C_JUMP}; }`);
      s.push(`cpu.bLo = base + ${offs[bi]!};`);
      let ended = false;
      for (let k = 0; k < nb; k++) {
        const d = b.insns[k]!;
        const p = plans[k]!;
        s.push(`// ${bi}.${k}: ${Mnemonic[d.i.mnemonic] ?? d.i.mnemonic}`);
        if (p.inline) {
          if (this.emit(d, k, mode, liveOut[k]!) === 1) { ended = true; break; }
        } else {
          this.prod = null;
          s.push(`cpu.cur = ${this.di(k)}; cpu.jitN = n + ${k}; { const r = cpu.exec(${this.di(k)}); if (r !== 0) { if (r === ${C_FAULT}) ${this.exitFault(d, k)} cpu.jitN = n + ${k + 1}; return r; } }`);
          s.push(`if (cpu.smc) ${this.exitNext(d, k)}`);
        }
      }
      if (!ended) {
        // fell off the block's end: chain to the next block of the region only after an inlined instruction
        const last = b.insns[nb - 1]!;
        const t = this.regionIndex(offs[bi]! + last.end);
        if (t >= 0 && plans[nb - 1]!.inline) s.push(`n += ${nb}; pc = ${t}; continue;`);
        else s.push(this.exitNext(last, nb - 1));
      }
      s.push('}');
    }
    s.push(`default: return ${C_FAULT};`);
    s.push('}');
    const body = `const {alu, alu64, dec, dec64, inc, inc64, shift, shift64, cond, PARITY} = H;\nreturn function region(cpu, u, D, left) {\n${s.join('\n')}\n};`;
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      const factory = new Function('H', body) as (h: typeof HELPERS) => CompiledBlock;
      return { fn: factory(HELPERS), D: flat };
    } catch {
      return null;
    }
  }

  /** Index of the region block starting at page offset `off`, or -1. */
  private regionIndex(off: number): number {
    if (this.region <= 1) return -1;
    for (let i = 0; i < this.region; i++) if (this.offs[i] === off) return i;
    return -1;
  }

  /** The DI record of instruction k of the current block, as an expression. */
  private di(k: number): string {
    return `D[${this.kb + k}]`;
  }

  /** Leaves after instruction k faulted (exit or pending event already recorded by raise()). */
  private exitFault(d: DI, k: number): string {
    return `{ cpu.jitN = n + ${k}; cpu.setRipAt(${d.start}); return ${C_FAULT}; }`;
  }

  /** Leaves after instruction k completed without a jump (RIP = the next instruction). */
  private exitNext(d: DI, k: number): string {
    return `{ cpu.jitN = n + ${k + 1}; cpu.setRipAt(${d.end}); return ${C_NEXT}; }`;
  }

  private plan(d: DI, mode: number): Plan {
    const O = this.O;
    const op = d.op;
    const fallback: Plan = { inline: false, barrier: true, write: F_NONE, read: true };
    switch (op) {
      case O.AluRR: case O.AluRI:
        return { inline: true, barrier: false, write: F_ALL, read: d.sub === 2 || d.sub === 3 };
      case O.AluRM: case O.AluMR: case O.AluMI:
        return { inline: true, barrier: true, write: F_ALL, read: d.sub === 2 || d.sub === 3 };
      case O.TestRR: case O.TestRI:
        return { inline: true, barrier: false, write: F_ALL, read: false };
      case O.IncR: case O.DecR:
        return { inline: true, barrier: false, write: F_PARTIAL, read: false };
      case O.MovRR: case O.MovRI: case O.MovzxRR: case O.Nop:
        return { inline: true, barrier: false, write: F_NONE, read: false };
      case O.MovRM: case O.MovMR: case O.MovMI: case O.MovzxRM:
        return { inline: true, barrier: true, write: F_NONE, read: false };
      case O.Lea:
        return { inline: d.asz === 64 && mode === 64, barrier: false, write: F_NONE, read: false };
      case O.ShiftRI: {
        const c = d.imm & (d.size === 64 ? 63 : 31);
        if (d.sub >= 4) return { inline: true, barrier: false, write: c === 0 ? F_NONE : F_ALL, read: false };
        return { inline: true, barrier: false, write: F_NONE, read: true }; // rotates: CF/OF only (RCL/RCR read CF)
      }
      case O.Jcc: case O.JmpRel:
        return { inline: true, barrier: true, write: F_NONE, read: op === O.Jcc };
      default: {
        const f = narrowForm(d);
        if (f === '') return fallback;
        const isMov = d.i.mnemonic === Mnemonic.Mov;
        const mem = f === 'rm' || f === 'mr' || f === 'mi';
        const sub = d.i.mnemonic - Mnemonic.Add;
        return { inline: true, barrier: mem, write: isMov ? F_NONE : F_ALL, read: !isMov && (sub === 2 || sub === 3) };
      }
    }
  }

  private t(): string {
    return `t${this.tmp++}`;
  }

  /**
   * Emits code that leaves the operand's linear address in locals; returns their names. Inline for
   * 64-bit addressing in 64-bit mode without FS/GS; otherwise the interpreter's `lin`.
   */
  private addr(d: DI, k: number, mode: number): [string, string] {
    const s = this.src;
    const lo = this.t(), hi = this.t();
    if (mode === 64 && d.asz === 64 && d.seg < 4) {
      let el = hex(d.dLo), eh = hex(d.dHi);
      if (d.base === 16) { el += ` + cpu.bLo + ${d.end}`; eh += ' + cpu.bHi'; } else if (d.base >= 0) { el += ` + u[${d.base << 1}]`; eh += ` + u[${(d.base << 1) + 1}]`; }
      if (d.index >= 0) { el += ` + u[${d.index << 1}] * ${d.scale}`; eh += ` + u[${(d.index << 1) + 1}] * ${d.scale}`; }
      s.push(`let ${lo} = ${el}; const ${hi} = (${eh} + Math.floor(${lo} / 4294967296)) >>> 0; ${lo} >>>= 0;`);
    } else {
      s.push(`cpu.lin(${this.di(k)}); const ${lo} = cpu.aLo, ${hi} = cpu.aHi;`);
    }
    return [lo, hi];
  }

  /** Emits a read of `bytes` at (lo, hi) into a new local (high half of 8-byte reads in a second one). */
  private read(d: DI, k: number, lo: string, hi: string, bytes: number, forWrite: boolean): [string, string] {
    const s = this.src;
    const v = this.t(), vh = this.t(), ti = this.t();
    const tag = forWrite ? 'tagW' : 'tagR';
    let fast: string;
    switch (bytes) {
      case 1: fast = `${v} = tBytes[${ti}][tOff[${ti}] + (${lo} & 0xfff)];`; break;
      case 2: fast = `${v} = tView[${ti}].getUint16(tOff[${ti}] + (${lo} & 0xfff), true);`; break;
      case 4: fast = `${v} = tView[${ti}].getUint32(tOff[${ti}] + (${lo} & 0xfff), true);`; break;
      default: fast = `{ const p = tOff[${ti}] + (${lo} & 0xfff); ${v} = tView[${ti}].getUint32(p, true); ${vh} = tView[${ti}].getUint32(p + 4, true); }`;
    }
    s.push(`let ${v} = 0, ${vh} = 0; const ${ti} = (${lo} >>> 12) & 1023;`);
    s.push(`if (${tag}[${ti}] === ${hi} * 1048576 + (${lo} >>> 12) && (${lo} & 0xfff) <= ${4096 - bytes}) ${fast}`);
    s.push(`else { cpu.cur = ${this.di(k)}; cpu.aSeg = ${d.seg}; cpu.aLo = ${lo}; cpu.aHi = ${hi}; ${v} = cpu.rdSlow(${lo}, ${hi}, ${bytes}, ${forWrite ? 2 : 1}); if (${v} < 0) ${this.exitFault(d, k)} ${vh} = cpu.vh; }`);
    return [v, vh];
  }

  /** Emits a write of `bytes` at (lo, hi); on a fault returns, on a write into decoded code stops after this instruction. */
  private write(d: DI, k: number, lo: string, hi: string, bytes: number, v: string, vh: string): void {
    const s = this.src;
    const ti = this.t();
    let fast: string;
    switch (bytes) {
      case 1: fast = `tBytes[${ti}][tOff[${ti}] + (${lo} & 0xfff)] = ${v};`; break;
      case 2: fast = `tView[${ti}].setUint16(tOff[${ti}] + (${lo} & 0xfff), ${v}, true);`; break;
      case 4: fast = `tView[${ti}].setUint32(tOff[${ti}] + (${lo} & 0xfff), ${v}, true);`; break;
      default: fast = `{ const p = tOff[${ti}] + (${lo} & 0xfff); tView[${ti}].setUint32(p, ${v}, true); tView[${ti}].setUint32(p + 4, ${vh}, true); }`;
    }
    s.push(`{ const ${ti} = (${lo} >>> 12) & 1023;`);
    s.push(`if (tagW[${ti}] === ${hi} * 1048576 + (${lo} >>> 12) && (${lo} & 0xfff) <= ${4096 - bytes}) ${fast}`);
    s.push(`else { cpu.cur = ${this.di(k)}; cpu.aSeg = ${d.seg}; cpu.aLo = ${lo}; cpu.aHi = ${hi}; if (!cpu.wrSlow(${lo}, ${hi}, ${bytes}, ${v}, ${vh})) ${this.exitFault(d, k)} } }`);
    // a write into decoded code (found by this write's or the read-for-write's slow path) ends the block here
    s.push(`if (cpu.smc) ${this.exitNext(d, k)}`);
  }

  /** Writes a value of `size` bits to GPR r with the x86 merge rules (8 = low byte). */
  private setReg(r: number, size: number, v: string, vh: string): void {
    const s = this.src;
    const n = r << 1;
    if (size === 64) s.push(`u[${n}] = ${v}; u[${n + 1}] = ${vh};`);
    else if (size === 32) s.push(`u[${n}] = ${v}; u[${n + 1}] = 0;`);
    else if (size === 16) s.push(`u[${n}] = (u[${n}] & 0xffff0000) | ${v};`);
    else s.push(`u[${n}] = (u[${n}] & 0xffffff00) | ${v};`);
  }

  /** A register operand's value at `size` bits (low byte / word / dword), as an expression. */
  private regVal(r: number, size: number): string {
    const n = r << 1;
    return size === 8 ? `(u[${n}] & 0xff)` : size === 16 ? `(u[${n}] & 0xffff)` : `u[${n}]`;
  }

  /**
   * ALU op `sub` on (a, ah) and (b, bh) at `size`; returns the result locals. With live flags it
   * calls the shared semantic helpers (exec/alu.ts), otherwise it computes only the result.
   */
  private aluOp(sub: number, size: number, a: string, ah: string, b: string, bh: string, live: boolean): [string, string] {
    const s = this.src;
    const r = this.t(), rh = this.t();
    if (size === 64) {
      if (live || sub === 2 || sub === 3) {
        s.push(`const ${r} = alu64(u, ${sub}, ${a}, ${ah}, ${b}, ${bh}); const ${rh} = u[${S_T + 1}];`);
      } else {
        switch (sub) {
          case 0: s.push(`const ${r}s = ${a} + ${b}; const ${r} = ${r}s >>> 0; const ${rh} = (${ah} + ${bh} + (${r}s > 0xffffffff ? 1 : 0)) >>> 0;`); break;
          case 1: s.push(`const ${r} = (${a} | ${b}) >>> 0, ${rh} = (${ah} | ${bh}) >>> 0;`); break;
          case 4: s.push(`const ${r} = (${a} & ${b}) >>> 0, ${rh} = (${ah} & ${bh}) >>> 0;`); break;
          case 6: s.push(`const ${r} = (${a} ^ ${b}) >>> 0, ${rh} = (${ah} ^ ${bh}) >>> 0;`); break;
          default: s.push(`const ${r}s = ${a} - ${b}; const ${r} = ${r}s >>> 0; const ${rh} = (${ah} - ${bh} - (${r}s < 0 ? 1 : 0)) >>> 0;`); break;
        }
      }
    } else if (live || sub === 2 || sub === 3) {
      s.push(`const ${r} = alu(u, ${sub}, ${size}, ${a}, ${b}); const ${rh} = 0;`);
    } else {
      const m = hex(maskOf(size));
      switch (sub) {
        case 0: s.push(`const ${r} = ((${a} + ${b}) & ${m}) >>> 0, ${rh} = 0;`); break;
        case 1: s.push(`const ${r} = (${a} | ${b}) >>> 0, ${rh} = 0;`); break;
        case 4: s.push(`const ${r} = (${a} & ${b}) >>> 0, ${rh} = 0;`); break;
        case 6: s.push(`const ${r} = (${a} ^ ${b}) >>> 0, ${rh} = 0;`); break;
        default: s.push(`const ${r} = ((${a} - ${b}) & ${m}) >>> 0, ${rh} = 0;`); break;
      }
    }
    const kind = sub === 0 ? 'add' : sub === 1 || sub === 4 || sub === 6 ? 'logic' : sub === 5 || sub === 7 ? 'sub' : null;
    this.prod = kind === null ? null : { kind, size, a, ah, b, bh, r, rh };
    return [r, rh];
  }

  /** Emits instruction k; returns 1 if it ends the function (a branch). */
  private emit(d: DI, k: number, mode: number, live: boolean): number {
    const O = this.O;
    const s = this.src;
    const op = d.op;
    const sz = d.size;
    switch (op) {
      case O.AluRR: case O.AluRI: case O.AluRM: {
        const a = d.r0 << 1;
        const av = this.t(), ah = this.t();
        let bv: string, bh: string;
        if (op === O.AluRR) { bv = `u[${d.r1 << 1}]`; bh = `u[${(d.r1 << 1) + 1}]`; }
        else if (op === O.AluRI) { bv = hex(sz === 64 ? d.imm : d.imm & maskOf(sz)); bh = hex(d.immHi); }
        else {
          const [lo, hi] = this.addr(d, k, mode);
          [bv, bh] = this.read(d, k, lo, hi, sz >>> 3, false);
        }
        // operands in locals first: the result may overwrite a register both operands name
        const bl = this.t(), bhl = this.t();
        s.push(`const ${av} = u[${a}], ${ah} = ${sz === 64 ? `u[${a + 1}]` : '0'}, ${bl} = ${bv}, ${bhl} = ${sz === 64 ? bh : '0'};`);
        const [r, rh] = this.aluOp(d.sub, sz, av, ah, bl, bhl, live);
        if (d.sub !== 7) this.setReg(d.r0, sz, r, rh);
        return 0;
      }
      case O.AluMR: case O.AluMI: {
        const bytes = sz >>> 3;
        const [lo, hi] = this.addr(d, k, mode);
        const cmp = d.sub === 7;
        const [v, vh] = this.read(d, k, lo, hi, bytes, !cmp);
        const bl = this.t(), bhl = this.t();
        if (op === O.AluMR) s.push(`const ${bl} = u[${d.r1 << 1}], ${bhl} = ${sz === 64 ? `u[${(d.r1 << 1) + 1}]` : '0'};`);
        else s.push(`const ${bl} = ${hex(d.imm)}, ${bhl} = ${sz === 64 ? hex(d.immHi) : '0'};`);
        const [r, rh] = this.aluOp(d.sub, sz, v, sz === 64 ? vh : '0', bl, bhl, live);
        if (!cmp) this.write(d, k, lo, hi, bytes, r, rh);
        return 0;
      }
      case O.MovRR: {
        const a = d.r0 << 1, b = d.r1 << 1;
        if (sz === 64) s.push(`u[${a}] = u[${b}]; u[${a + 1}] = u[${b + 1}];`);
        else s.push(`u[${a}] = u[${b}]; u[${a + 1}] = 0;`);
        return 0;
      }
      case O.MovRI:
        this.setReg(d.r0, sz, hex(d.imm), hex(d.immHi));
        return 0;
      case O.MovRM: {
        const [lo, hi] = this.addr(d, k, mode);
        const [v, vh] = this.read(d, k, lo, hi, sz >>> 3, false);
        this.setReg(d.r0, sz, v, vh);
        return 0;
      }
      case O.MovMR: case O.MovMI: {
        const [lo, hi] = this.addr(d, k, mode);
        const v = this.t(), vh = this.t();
        if (op === O.MovMR) s.push(`const ${v} = u[${d.r1 << 1}], ${vh} = u[${(d.r1 << 1) + 1}];`);
        else s.push(`const ${v} = ${hex(d.imm)}, ${vh} = ${hex(d.immHi)};`);
        this.write(d, k, lo, hi, sz >>> 3, v, vh);
        return 0;
      }
      case O.TestRR: case O.TestRI: {
        const a = d.r0 << 1;
        const r = this.t(), rh = this.t();
        const b = op === O.TestRR ? `u[${d.r1 << 1}]` : hex(d.imm);
        const bh = op === O.TestRR ? `u[${(d.r1 << 1) + 1}]` : hex(d.immHi);
        s.push(`const ${r} = (u[${a}] & ${b}) >>> 0, ${rh} = ${sz === 64 ? `(u[${a + 1}] & ${bh}) >>> 0` : '0'};`);
        // lazyLogic (flags.ts): CF/OF/AF cleared, PF/ZF/SF lazy on the result
        if (live) s.push(`u[${S_RFLAGS}] &= ${~(CF | OF | AF)}; u[${L_MASK}] = ${PF | ZF | SF}; u[${L_SIZE}] = ${sz}; u[${L_RES}] = ${r}; u[${L_RES + 1}] = ${rh};`);
        this.prod = { kind: 'logic', size: sz, a: r, ah: rh, b: r, bh: rh, r, rh };
        return 0;
      }
      case O.IncR: case O.DecR: {
        const a = d.r0 << 1;
        const r = this.t(), rh = this.t();
        const isInc = op === O.IncR;
        if (sz === 64) {
          if (live) s.push(`const ${r} = ${isInc ? 'inc64' : 'dec64'}(u, u[${a}], u[${a + 1}]), ${rh} = u[${S_T + 1}];`);
          else if (isInc) s.push(`const ${r} = (u[${a}] + 1) >>> 0, ${rh} = ${r} === 0 ? (u[${a + 1}] + 1) >>> 0 : u[${a + 1}];`);
          else s.push(`const ${rh} = u[${a}] === 0 ? (u[${a + 1}] - 1) >>> 0 : u[${a + 1}], ${r} = (u[${a}] - 1) >>> 0;`);
          s.push(`u[${a}] = ${r}; u[${a + 1}] = ${rh};`);
        } else {
          if (live) s.push(`const ${r} = ${isInc ? 'inc' : 'dec'}(u, 32, u[${a}]), ${rh} = 0;`);
          else s.push(`const ${r} = (u[${a}] ${isInc ? '+' : '-'} 1) >>> 0, ${rh} = 0;`);
          s.push(`u[${a}] = ${r}; u[${a + 1}] = 0;`);
        }
        this.prod = { kind: 'incdec', size: sz, a: r, ah: rh, b: r, bh: rh, r, rh };
        return 0;
      }
      case O.Lea: {
        // 64-bit addressing (planned only then): EA mod 2^64, then the operand size (SDM LEA)
        let el = hex(d.dLo), eh = hex(d.dHi);
        if (d.base >= 0) { el += ` + u[${d.base << 1}]`; eh += ` + u[${(d.base << 1) + 1}]`; }
        if (d.index >= 0) { el += ` + u[${d.index << 1}] * ${d.scale}`; eh += ` + u[${(d.index << 1) + 1}] * ${d.scale}`; }
        const lo = this.t(), hi = this.t();
        s.push(`const ${lo} = ${el}; const ${hi} = (${eh} + Math.floor(${lo} / 4294967296)) >>> 0;`);
        if (sz === 64) s.push(`u[${d.r0 << 1}] = ${lo} >>> 0; u[${(d.r0 << 1) + 1}] = ${hi};`);
        else if (sz === 32) s.push(`u[${d.r0 << 1}] = ${lo} >>> 0; u[${(d.r0 << 1) + 1}] = 0;`);
        else this.setReg(d.r0, 16, `(${lo} & 0xffff)`, '0');
        return 0;
      }
      case O.ShiftRI: {
        const a = d.r0 << 1;
        const c = d.imm & (sz === 64 ? 63 : 31);
        if (c === 0) {
          // a masked count of 0 changes no flags, but a 32-bit destination is still zero-extended
          if (sz === 32) s.push(`u[${a + 1}] = 0;`);
          return 0;
        }
        const r = this.t();
        if (!live && (d.sub === 4 || d.sub === 5 || d.sub === 6 || d.sub === 7) && sz === 32) {
          const e = d.sub === 5 ? `u[${a}] >>> ${c}` : d.sub === 7 ? `(u[${a}] >> ${c}) >>> 0` : `(u[${a}] << ${c}) >>> 0`;
          s.push(`const ${r} = ${e};`);
          s.push(`u[${a}] = ${r}; u[${a + 1}] = 0;`);
        } else if (sz === 32 && d.sub >= 4) {
          // exec/shift.ts shiftFlags with a constant count 1..31: CF = last bit out, OF per the
          // count-1 rule (computed for every count, as the interpreter does), AF cleared, PF/ZF/SF lazy
          const a0 = this.t(), cf = this.t(), of = this.t();
          s.push(`const ${a0} = u[${a}];`);
          if (d.sub === 5) s.push(`const ${r} = ${a0} >>> ${c}, ${cf} = (${a0} >>> ${c - 1}) & 1, ${of} = ${a0} >>> 31;`);
          else if (d.sub === 7) s.push(`const ${r} = (${a0} >> ${c}) >>> 0, ${cf} = (${a0} >> ${c - 1}) & 1, ${of} = 0;`);
          else s.push(`const ${r} = (${a0} << ${c}) >>> 0, ${cf} = (${a0} >>> ${32 - c}) & 1, ${of} = (${r} >>> 31) ^ ${cf};`);
          s.push(`u[${S_RFLAGS}] = ((u[${S_RFLAGS}] & ${~(CF | OF | AF)}) | ${cf} | (${of} << 11)) >>> 0; u[${L_MASK}] = ${PF | ZF | SF}; u[${L_SIZE}] = 32; u[${L_RES}] = ${r}; u[${L_RES + 1}] = 0;`);
          s.push(`u[${a}] = ${r}; u[${a + 1}] = 0;`);
          this.prod = { kind: 'incdec', size: 32, a: r, ah: '0', b: r, bh: '0', r, rh: '0', cf, of };
          return 0;
        } else if (sz === 32) {
          s.push(`const ${r} = shift(u, ${d.sub}, 32, u[${a}], ${c}); u[${a}] = ${r}; u[${a + 1}] = 0;`);
        } else {
          s.push(`const ${r} = shift64(u, ${d.sub}, u[${a}], u[${a + 1}], ${c}); u[${a}] = ${r}; u[${a + 1}] = u[${S_T + 1}];`);
        }
        // SHL/SHR/SAR: ZF and SF follow the result (CF/OF come from the stored record)
        this.prod = d.sub >= 4 && sz === 32 ? { kind: 'incdec', size: 32, a: r, ah: '0', b: r, bh: '0', r, rh: '0' } : null;
        return 0;
      }
      case O.MovzxRR: {
        const id = d.i.reg1;
        const n = (id & 15) << 1;
        const e = (id >> 5) === 2 ? `((u[${n}] >>> 8) & 0xff)` : (id >> 5) === 1 ? `(u[${n}] & 0xff)` : `(u[${n}] & 0xffff)`;
        s.push(`u[${d.r0 << 1}] = ${e}; u[${(d.r0 << 1) + 1}] = 0;`);
        return 0;
      }
      case O.MovzxRM: {
        const [lo, hi] = this.addr(d, k, mode);
        const [v] = this.read(d, k, lo, hi, sz >>> 3, false);
        s.push(`u[${d.r0 << 1}] = ${v}; u[${(d.r0 << 1) + 1}] = 0;`);
        return 0;
      }
      case O.Nop:
        return 0;
      case O.Jcc: case O.JmpRel: {
        const taken = op === O.Jcc ? this.condExpr(d.sub) : 'true';
        this.prod = null;
        if (mode === 64 && d.i.opSize === 64) {
          // target = next RIP + rel (SDM Jcc); #GP(0) if non-canonical (48/57-bit: the vCPU's canonAdd/canonLim). A target that starts a block
          // of the region stays in the function (same page: canonical like this one).
          const rel = d.immHi === 0 ? d.imm : d.imm - 4294967296;
          const tIdx = this.regionIndex(this.offs[this.bi]! + d.end + rel);
          const fIdx = op === O.Jcc ? this.regionIndex(this.offs[this.bi]! + d.end) : -1;
          s.push(`if (${taken}) {`);
          if (tIdx >= 0) s.push(`n += ${k + 1}; pc = ${tIdx}; continue; }`);
          else {
            s.push(`const L = cpu.bLo + ${d.end + d.imm}; const H = (cpu.bHi + ${hex(d.immHi)} + Math.floor(L / 4294967296)) >>> 0;`);
            s.push(`if (((H + cpu.canonAdd) >>> 0) >= cpu.canonLim) { cpu.cur = ${this.di(k)}; cpu.raise(13, true, 0); ${this.exitFault(d, k)} }`);
            s.push(`u[${S_RIP}] = L >>> 0; u[${S_RIP + 1}] = H; cpu.jitN = n + ${k + 1}; return ${C_JUMP}; }`);
          }
          if (op === O.Jcc) {
            if (fIdx >= 0) s.push(`n += ${k + 1}; pc = ${fIdx}; continue;`);
            else s.push(`{ const L = cpu.bLo + ${d.end}; u[${S_RIP}] = L >>> 0; u[${S_RIP + 1}] = L >= 4294967296 ? (cpu.bHi + 1) >>> 0 : cpu.bHi; cpu.jitN = n + ${k + 1}; return ${C_JUMP}; }`);
          }
        } else {
          s.push(`cpu.cur = ${this.di(k)};`);
          s.push(`if (${taken}) { const r = cpu.relJump(${this.di(k)}); if (r === ${C_FAULT}) ${this.exitFault(d, k)} cpu.jitN = n + ${k + 1}; return r; }`);
          s.push(`cpu.fallThrough(${this.di(k)}); cpu.jitN = n + ${k + 1}; return ${C_JUMP};`);
        }
        return 1;
      }
      default: {
        // narrow (8/16-bit) ALU and MOV forms
        const f = narrowForm(d);
        const isMov = d.i.mnemonic === Mnemonic.Mov;
        const sub = d.i.mnemonic - Mnemonic.Add;
        const m = maskOf(sz);
        let lo = '', hi = '';
        if (f === 'rm' || f === 'mr' || f === 'mi') [lo, hi] = this.addr(d, k, mode);
        const src = f === 'rr' || f === 'mr' ? this.regVal(d.r1, sz) : f === 'rm' ? '' : hex(d.imm & m);
        if (isMov) {
          if (f === 'rm') {
            const [v] = this.read(d, k, lo, hi, sz >>> 3, false);
            this.setReg(d.r0, sz, v, '0');
          } else if (f === 'mr' || f === 'mi') {
            const v = this.t();
            s.push(`const ${v} = ${src};`);
            this.write(d, k, lo, hi, sz >>> 3, v, '0');
          } else {
            const v = this.t();
            s.push(`const ${v} = ${src};`);
            this.setReg(d.r0, sz, v, '0');
          }
          return 0;
        }
        const av = this.t(), bv = this.t();
        if (f === 'mr' || f === 'mi') {
          const [v] = this.read(d, k, lo, hi, sz >>> 3, sub !== 7);
          s.push(`const ${av} = ${v}, ${bv} = ${src};`);
        } else if (f === 'rm') {
          const [v] = this.read(d, k, lo, hi, sz >>> 3, false);
          s.push(`const ${av} = ${this.regVal(d.r0, sz)}, ${bv} = ${v};`);
        } else s.push(`const ${av} = ${this.regVal(d.r0, sz)}, ${bv} = ${src};`);
        const [r] = this.aluOp(sub, sz, av, '0', bv, '0', live);
        if (sub !== 7) {
          if (f === 'mr' || f === 'mi') this.write(d, k, lo, hi, sz >>> 3, r, '0');
          else this.setReg(d.r0, sz, r, '0');
        }
        return 0;
      }
    }
  }

  /**
   * Condition cc (SDM Vol. 1 Appendix B, Table B-1) as an expression: straight from the producing
   * instruction's operands when they are known, else from the lazy-flag record (`cond`).
   */
  private condExpr(cc: number): string {
    const p = this.prod;
    const neg = (cc & 1) !== 0;
    let e: string | null = null;
    const c = cc >> 1;
    if (p !== null && p.cf !== undefined && p.of !== undefined && c <= 1) {
      // a shift computed CF and OF inline: O and B straight from them
      e = c === 0 ? `${p.of} !== 0` : `${p.cf} !== 0`;
    } else if (p !== null) {
      const sz = p.size;
      const signR = sz === 64 ? `(${p.rh} >>> 31)` : sz === 32 ? `(${p.r} >>> 31)` : `(${p.r} >>> ${sz - 1})`;
      const zero = sz === 64 ? `(${p.r} === 0 && ${p.rh} === 0)` : `(${p.r} === 0)`;
      if (c === 2) e = zero; // E
      else if (c === 4) e = `${signR} !== 0`; // S
      else if (p.kind === 'sub') {
        // a - b: B = a < b unsigned, L = a < b signed (SDM Table B-1 for CMP)
        const sx = (v: string): string => (sz === 32 ? `(${v} | 0)` : `((${v} << ${32 - sz}) >> ${32 - sz})`);
        if (sz === 64) {
          const ltU = `(${p.ah} < ${p.bh} || (${p.ah} === ${p.bh} && ${p.a} < ${p.b}))`;
          const ltS = `((${p.ah} | 0) < (${p.bh} | 0) || (${p.ah} === ${p.bh} && ${p.a} < ${p.b}))`;
          if (c === 1) e = ltU;
          else if (c === 3) e = `(${ltU} || ${zero})`;
          else if (c === 6) e = ltS;
          else if (c === 7) e = `(${ltS} || ${zero})`;
        } else {
          if (c === 1) e = `(${p.a} < ${p.b})`;
          else if (c === 3) e = `(${p.a} <= ${p.b})`;
          else if (c === 6) e = `(${sx(p.a)} < ${sx(p.b)})`;
          else if (c === 7) e = `(${sx(p.a)} <= ${sx(p.b)})`;
        }
      } else if (p.kind === 'logic') {
        // CF = OF = 0
        if (c === 0 || c === 1) e = 'false';
        else if (c === 3) e = zero;
        else if (c === 6) e = `${signR} !== 0`;
        else if (c === 7) e = `(${zero} || ${signR} !== 0)`;
      }
    }
    if (e === null) return `cond(u, ${cc})`;
    return neg ? `!(${e})` : e;
  }
}
