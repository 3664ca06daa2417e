/**
 * Differential testing of the integer core against the host CPU (test/oracle/hostcpu.ts).
 *
 * Every instruction form below is encoded with random registers, random operand values (biased to
 * boundaries), random status flags and, for memory forms, a random address inside the oracle's
 * scratch area; the same case runs on the host CPU (user mode, docs/oracle.md) and on a Vcpu whose
 * guest-physical space maps exactly the oracle's code page (R+X) and scratch (R+W). We compare
 * every GPR, the scratch bytes, the outcome (completed / the fault vector) and every flag the SDM
 * defines for the form; the flags the SDM leaves undefined are masked by UNDEFINED_FLAGS below.
 */
import { HostMemory } from '../../src/memory/host.js';
import { ACC_FETCH, ACC_READ, ACC_WRITE, type PhysicalSpace, type PhysResult } from '../../src/cpu/phys.js';
import { Vcpu } from '../../src/cpu/vcpu.js';
import type { VcpuExit } from '../../src/cpu/exit.js';
import { getFlags, setFlags } from '../../src/cpu/flags.js';
import { CS, DS, ES, FS, GS, SS, S_CR0, S_EFER, S_RIP, CR0_PE, EFER_LMA, EFER_LME, codeAttr, dataAttr, CF, PF, AF, ZF, SF, OF, DF } from '../../src/cpu/state.js';
import { HostCpuOracle, ORACLE_CODE_ADDR, ORACLE_SCRATCH_ADDR, ORACLE_SCRATCH_SIZE, type OracleCase, type OracleResult } from '../oracle/hostcpu.js';

const ALL = CF | PF | AF | ZF | SF | OF;

/**
 * The masked-flags table: every flag the SDM leaves undefined for a form, in the SDM's words
 * (Vol. 2 "Flags Affected" sections). Keyed by the form family; `when` narrows it to the cases the
 * SDM names (e.g. only counts other than 1).
 */
export const UNDEFINED_FLAGS: readonly { family: string; flags: number; sdm: string }[] = [
  { family: 'logic', flags: AF, sdm: 'AND/OR/XOR/TEST: "The state of the AF flag is undefined."' },
  { family: 'shift', flags: AF, sdm: 'SAL/SAR/SHL/SHR: "For a non-zero count, the AF flag is undefined."' },
  { family: 'shift-count-not-1', flags: OF, sdm: 'SAL/SAR/SHL/SHR: "The OF flag is affected only on 1-bit shifts. For shifts greater than 1 bit, the OF flag is undefined."' },
  { family: 'shift-count-ge-width', flags: CF, sdm: 'SHL/SHR: "The CF flag contents are undefined for SHL and SHR instructions where the count is greater than or equal to the size (in bits) of the destination operand."' },
  { family: 'rotate-count-not-1', flags: OF, sdm: 'RCL/RCR/ROL/ROR: "The OF flag is defined only for the 1-bit rotates; it is undefined in all other cases (except RCL and RCR instructions only: a zero-bit rotate does nothing, that is affects no flags)."' },
  { family: 'shld-count-not-1', flags: OF | AF, sdm: 'SHLD/SHRD: "For a 1-bit shift, the OF flag is set if a sign change occurred; otherwise, it is cleared. For shifts greater than 1 bit, the OF flag is undefined. ... The AF flag is undefined."' },
  { family: 'shld-count-gt-width', flags: ALL, sdm: 'SHLD/SHRD: "If the count operand is greater than the operand size, the result is undefined" (and so are the flags) — 16-bit forms with counts 17..31.' },
  { family: 'mul', flags: SF | ZF | AF | PF, sdm: 'MUL/IMUL: "The SF, ZF, AF, and PF flags are undefined."' },
  { family: 'div', flags: ALL, sdm: 'DIV/IDIV: "The CF, OF, SF, ZF, AF, and PF flags are undefined."' },
  { family: 'bt', flags: OF | SF | AF | PF, sdm: 'BT/BTS/BTR/BTC: "The ZF flag is unaffected. The OF, SF, AF, and PF flags are undefined."' },
  { family: 'bsf', flags: CF | OF | SF | AF | PF, sdm: 'BSF/BSR: "The CF, OF, SF, AF, and PF flags are undefined."' },
  { family: 'lzcnt', flags: OF | SF | PF | AF, sdm: 'LZCNT/TZCNT: "The OF, SF, PF and AF flags are undefined."' },
  { family: 'daa', flags: OF, sdm: 'DAA/DAS: "The OF flag is undefined."' },
  { family: 'aaa', flags: OF | SF | ZF | PF, sdm: 'AAA/AAS: "The OF, SF, ZF, and PF flags are undefined."' },
  { family: 'aam', flags: OF | AF | CF, sdm: 'AAM/AAD: "The OF, AF, and CF flags are undefined."' },
];

/** Undefined destination values (not flags), also masked: BSF/BSR with a zero source. */
export const UNDEFINED_RESULTS: readonly { family: string; sdm: string }[] = [
  { family: 'bsf', sdm: 'BSF/BSR: "If the content of the source operand is 0, the content of the destination operand is undefined."' },
  { family: 'shld-count-gt-width', sdm: 'SHLD/SHRD: "If the count operand is greater than the operand size, the result is undefined."' },
];

/* ---------------- random numbers (deterministic) ---------------- */

export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  u32(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  int(n: number): number { return this.u32() % n; }
  /** A 64-bit value biased toward boundaries. */
  v64(): bigint {
    const k = this.int(10);
    const small = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn,
      0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn];
    if (k === 0) return small[this.int(small.length)]!;
    if (k === 1) return BigInt(this.int(64));
    if (k === 2) return BigInt.asUintN(64, -BigInt(this.int(64)));
    if (k === 3) return BigInt(this.u32());
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

/* ---------------- the forms ---------------- */

export interface Form {
  name: string;
  family: string;
  modes: readonly (32 | 64)[];
  /** Builds code bytes and adjusts the state; returns extra masks for this case. */
  gen(r: Rng, mode: 32 | 64, st: CaseState): void;
}

export interface CaseState {
  gprs: bigint[];
  rflags: number;
  code: number[];
  scratch: Uint8Array;
  /** Flags masked for this case (beyond the family's). */
  mask: number;
  /** Registers whose value is undefined after this case. */
  undefRegs: number[];
  /** Register that must not be used as an operand (e.g. the memory base). */
}

const SIZES = [8, 16, 32, 64] as const;
/** Bytes of scratch each case initialises (memory operands and stacks stay inside it). */
const SCRATCH_LEN = 1024;

/** Picks a GPR number valid for the mode (64: 0..15, 32: 0..7), excluding `not`. */
function pickReg(r: Rng, mode: number, not: number[] = []): number {
  for (;;) {
    const x = r.int(mode === 64 ? 16 : 8);
    if (x !== 4 && !not.includes(x)) return x;
  }
}

/**
 * Encodes prefix + REX + opcode + ModRM(/SIB/disp) for `reg` and an r/m that is a register (rmReg >= 0)
 * or memory [base + disp32] with the base pointing into scratch.
 */
function encode(
  st: CaseState, mode: number, size: number, opcode: number[], reg: number, rm: { r: number } | { base: number; disp: number; index?: number; scale?: number },
  byteRegs = false,
): void {
  const c = st.code;
  if (size === 16) c.push(0x66);
  let rex = 0;
  if (size === 64) rex |= 8;
  if (reg >= 8) rex |= 4;
  let modrm: number;
  const tail: number[] = [];
  if ('r' in rm) {
    if (rm.r >= 8) rex |= 1;
    modrm = 0xc0 | ((reg & 7) << 3) | (rm.r & 7);
  } else {
    if (rm.base >= 8) rex |= 1;
    if (rm.index !== undefined && rm.index >= 8) rex |= 2;
    if (rm.index !== undefined) {
      modrm = 0x80 | ((reg & 7) << 3) | 4;
      tail.push(((Math.log2(rm.scale ?? 1)) << 6) | ((rm.index & 7) << 3) | (rm.base & 7));
    } else if ((rm.base & 7) === 4) {
      modrm = 0x80 | ((reg & 7) << 3) | 4;
      tail.push(0x24);
    } else modrm = 0x80 | ((reg & 7) << 3) | (rm.base & 7);
    const d = rm.disp >>> 0;
    tail.push(d & 0xff, (d >>> 8) & 0xff, (d >>> 16) & 0xff, (d >>> 24) & 0xff);
  }
  if (mode === 64 && (rex !== 0 || (byteRegs && size === 8))) c.push(0x40 | rex);
  c.push(...opcode, modrm, ...tail);
}

/** Memory operand: a base register pointing at scratch + offset, with a small displacement. */
function memOperand(r: Rng, mode: number, st: CaseState, not: number[], width: number): { base: number; disp: number } {
  const base = pickReg(r, mode, not);
  const off = 64 + r.int(SCRATCH_LEN - 192 - width);
  const disp = r.int(64) - 32;
  st.gprs[base] = BigInt(ORACLE_SCRATCH_ADDR + off - disp);
  return { base, disp };
}

function imm(st: CaseState, bytes: number, r: Rng): void {
  for (let i = 0; i < bytes; i++) st.code.push(r.int(4) === 0 ? [0, 0xff, 0x80, 0x7f][r.int(4)]! : r.int(256));
}

const forms: Form[] = [];
function add(name: string, family: string, gen: Form['gen'], modes: readonly (32 | 64)[] = [64, 32]): void {
  forms.push({ name, family, modes, gen });
}

/** One form over several operand sizes: each case picks a size valid in its mode. */
function addSized(name: string, family: string, sizes: readonly number[], gen: (r: Rng, m: 32 | 64, st: CaseState, size: number) => void, modes: readonly (32 | 64)[] = [64, 32]): void {
  add(name, family, (r, m, st) => {
    const ok = sizes.filter((x) => x !== 64 || m === 64);
    gen(r, m, st, ok[r.int(ok.length)]!);
  }, modes);
}

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
for (let op = 0; op < 8; op++) {
  const fam = op === 1 || op === 4 || op === 6 ? 'logic' : 'arith';
  addSized(`${ALU[op]} r/m,r (reg)`, fam, SIZES, (r, m, st, size) => {
    encode(st, m, size, [op * 8 + (size === 8 ? 0 : 1)], pickReg(r, m), { r: pickReg(r, m) }, true);
  });
  addSized(`${ALU[op]} r,r/m (mem)`, fam, SIZES, (r, m, st, size) => {
    const reg = pickReg(r, m);
    encode(st, m, size, [op * 8 + 2 + (size === 8 ? 0 : 1)], reg, memOperand(r, m, st, [reg], 8), true);
  });
  addSized(`${ALU[op]} r/m,r (mem)`, fam, SIZES, (r, m, st, size) => {
    const reg = pickReg(r, m);
    encode(st, m, size, [op * 8 + (size === 8 ? 0 : 1)], reg, memOperand(r, m, st, [reg], 8), true);
  });
  addSized(`${ALU[op]} r/m,imm`, fam, SIZES, (r, m, st, size) => {
    if (size !== 8 && r.int(2) === 0) {
      encode(st, m, size, [0x83], op, memOperand(r, m, st, [], 8));
      imm(st, 1, r);
      return;
    }
    encode(st, m, size, [size === 8 ? 0x80 : 0x81], op, { r: pickReg(r, m) }, true);
    imm(st, size === 8 ? 1 : size === 16 ? 2 : 4, r);
  });
}
addSized('test r/m,r', 'logic', SIZES, (r, m, st, size) => encode(st, m, size, [0x84 + (size === 8 ? 0 : 1)], pickReg(r, m), { r: pickReg(r, m) }, true));
addSized('not', 'none', SIZES, (r, m, st, size) => encode(st, m, size, [0xf6 + (size === 8 ? 0 : 1)], 2, { r: pickReg(r, m) }, true));
addSized('neg', 'arith', SIZES, (r, m, st, size) => encode(st, m, size, [0xf6 + (size === 8 ? 0 : 1)], 3, { r: pickReg(r, m) }, true));
addSized('inc mem', 'arith', SIZES, (r, m, st, size) => encode(st, m, size, [0xfe + (size === 8 ? 0 : 1)], 0, memOperand(r, m, st, [], 8)));
addSized('dec reg', 'arith', SIZES, (r, m, st, size) => encode(st, m, size, [0xfe + (size === 8 ? 0 : 1)], 1, { r: pickReg(r, m) }, true));
for (let op = 0; op < 8; op++) {
  if (op === 6) continue;
  const rot = op < 4;
  addSized(['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'][op]!, rot ? 'rotate' : 'shift', SIZES, (r, m, st, size) => {
    const cnt = r.int(3);
    const opc = cnt === 0 ? 0xd0 : cnt === 1 ? 0xd2 : 0xc0;
    const dst = pickReg(r, m, [1]);
    encode(st, m, size, [opc + (size === 8 ? 0 : 1)], op, r.int(3) === 0 ? memOperand(r, m, st, [1], 8) : { r: dst }, true);
    let c = 1;
    if (cnt === 2) { c = r.int(4) === 0 ? r.int(256) : r.int(size + 2); st.code.push(c); }
    if (cnt === 1) { c = r.int(4) === 0 ? r.int(256) : r.int(size + 2); st.gprs[1] = (st.gprs[1]! & ~0xffn) | BigInt(c); }
    const mc = c & (size === 64 ? 63 : 31);
    if (mc !== 0) {
      if (!rot) st.mask |= AF;
      if (mc !== 1) st.mask |= OF;
      if (!rot && (op === 4 || op === 5) && mc >= size) st.mask |= CF;
    }
  });
}
const WIDE = [16, 32, 64] as const;
for (const right of [false, true]) {
  addSized(`sh${right ? 'r' : 'l'}d imm/cl`, 'shld', WIDE, (r, m, st, size) => {
    const useCl = r.int(2) === 0;
    encode(st, m, size, [0x0f, (right ? 0xac : 0xa4) + (useCl ? 1 : 0)], pickReg(r, m, [1]), { r: pickReg(r, m, [1]) });
    const c = r.int(4) === 0 ? r.int(256) : r.int(size + 1);
    if (useCl) st.gprs[1] = (st.gprs[1]! & ~0xffn) | BigInt(c); else st.code.push(c);
    const mc = c & (size === 64 ? 63 : 31);
    if (mc !== 0) {
      st.mask |= AF;
      if (mc !== 1) st.mask |= OF;
      if (mc > size) { st.mask |= ALL; st.undefRegs.push(-1); }
    }
  });
}
addSized('imul r,r/m', 'mul', WIDE, (r, m, st, size) => encode(st, m, size, [0x0f, 0xaf], pickReg(r, m), { r: pickReg(r, m) }));
addSized('imul r,r/m,imm', 'mul', WIDE, (r, m, st, size) => {
  if (r.int(2) === 0) { encode(st, m, size, [0x6b], pickReg(r, m), { r: pickReg(r, m) }); imm(st, 1, r); return; }
  encode(st, m, size, [0x69], pickReg(r, m), memOperand(r, m, st, [], 8));
  imm(st, size === 16 ? 2 : 4, r);
});
addSized('movzx/movsx', 'none', WIDE, (r, m, st, size) => {
  const op = [0xb6, 0xb7, 0xbe, 0xbf][r.int(4)]!;
  if (r.int(2) === 0) encode(st, m, size, [0x0f, op], pickReg(r, m), { r: pickReg(r, m) }, true);
  else encode(st, m, size, [0x0f, op], pickReg(r, m), memOperand(r, m, st, [], 8));
});
addSized('cmovcc', 'none', WIDE, (r, m, st, size) => {
  if (r.int(2) === 0) encode(st, m, size, [0x0f, 0x40 + r.int(16)], pickReg(r, m), { r: pickReg(r, m) });
  else { const reg = pickReg(r, m); encode(st, m, size, [0x0f, 0x40 + r.int(16)], reg, memOperand(r, m, st, [reg], 8)); }
});
addSized('bt/bts/btr/btc r,r', 'bt', WIDE, (r, m, st, size) => encode(st, m, size, [0x0f, [0xa3, 0xab, 0xb3, 0xbb][r.int(4)]!], pickReg(r, m), { r: pickReg(r, m) }));
addSized('bt/bts/btr/btc m,r', 'bt', WIDE, (r, m, st, size) => {
  const reg = pickReg(r, m);
  const mo = memOperand(r, m, st, [reg], 8);
  // a bit offset within +-1024 bits keeps the access inside scratch
  st.gprs[mo.base] = st.gprs[mo.base]! + 160n;
  mo.disp = 0;
  st.gprs[mo.base] = BigInt(ORACLE_SCRATCH_ADDR + 200 + r.int(300));
  st.gprs[reg] = BigInt.asUintN(64, BigInt(r.int(2048) - 1024));
  encode(st, m, size, [0x0f, [0xa3, 0xab, 0xb3, 0xbb][r.int(4)]!], reg, mo);
});
addSized('bt/bts/btr/btc r/m,imm', 'bt', WIDE, (r, m, st, size) => { encode(st, m, size, [0x0f, 0xba], 4 + r.int(4), r.int(2) ? memOperand(r, m, st, [], 8) : { r: pickReg(r, m) }); st.code.push(r.int(256)); });
addSized('bsf/bsr', 'bsf', WIDE, (r, m, st, size) => {
  const dst = pickReg(r, m), src = pickReg(r, m);
  if (r.int(4) === 0) st.gprs[src] = 0n;
  encode(st, m, size, [0x0f, 0xbc + r.int(2)], dst, { r: src });
  st.undefRegs.push(dst);
});
addSized('popcnt', 'none', WIDE, (r, m, st, size) => { if (size === 16) st.code.push(0x66); st.code.push(0xf3); encode(st, m, size === 16 ? 32 : size, [0x0f, 0xb8], pickReg(r, m), { r: pickReg(r, m) }); });
addSized('lzcnt', 'lzcnt', WIDE, (r, m, st, size) => { if (size === 16) st.code.push(0x66); st.code.push(0xf3); encode(st, m, size === 16 ? 32 : size, [0x0f, 0xbd], pickReg(r, m), { r: pickReg(r, m) }); });
addSized('xadd m,r', 'arith', SIZES, (r, m, st, size) => { const reg = pickReg(r, m); encode(st, m, size, [0x0f, size === 8 ? 0xc0 : 0xc1], reg, memOperand(r, m, st, [reg], 8), true); });
addSized('cmpxchg r,r', 'arith', SIZES, (r, m, st, size) => {
  const a = pickReg(r, m, [0]), b = pickReg(r, m, [0]);
  if (r.int(2) === 0) st.gprs[0] = st.gprs[a]!;
  encode(st, m, size, [0x0f, size === 8 ? 0xb0 : 0xb1], b, { r: a }, true);
});
addSized('xchg r,m', 'none', SIZES, (r, m, st, size) => { const reg = pickReg(r, m); encode(st, m, size, [size === 8 ? 0x86 : 0x87], reg, memOperand(r, m, st, [reg], 8), true); });
addSized('lea', 'none', WIDE, (r, m, st, size) => {
  const base = pickReg(r, m), index = pickReg(r, m);
  if (size === 16) st.code.push(0x66);
  const rex = 0x40 | (size === 64 ? 8 : 0) | (base >= 8 ? 1 : 0) | (index >= 8 ? 2 : 0);
  if (m === 64 && rex !== 0x40) st.code.push(rex);
  const dst = pickReg(r, m) & 7;
  const d = r.u32();
  st.code.push(0x8d, 0x84 | (dst << 3), ((r.int(4)) << 6) | ((index & 7) << 3) | (base & 7), d & 0xff, (d >>> 8) & 0xff, (d >>> 16) & 0xff, d >>> 24);
});
addSized('mul/imul r/m', 'mul', SIZES, (r, m, st, size) => encode(st, m, size, [size === 8 ? 0xf6 : 0xf7], 4 + r.int(2), r.int(2) ? { r: pickReg(r, m) } : memOperand(r, m, st, [], 8), true));
addSized('div/idiv r/m', 'div', SIZES, (r, m, st, size) => {
  const src = pickReg(r, m, [0, 2]);
  if (r.int(2) === 0) st.gprs[2] = BigInt(r.int(4));
  encode(st, m, size, [size === 8 ? 0xf6 : 0xf7], 6 + r.int(2), { r: src }, true);
});
add('setcc', 'none', (r, m, st) => encode(st, m, 8, [0x0f, 0x90 + r.int(16)], 0, r.int(2) ? memOperand(r, m, st, [], 8) : { r: pickReg(r, m) }, true));
addSized('mov r/m,r / r,r/m / imm', 'none', SIZES, (r, m, st, size) => {
  const k = r.int(3);
  const reg = pickReg(r, m);
  const rm = r.int(2) ? memOperand(r, m, st, [reg], 8) : { r: pickReg(r, m) };
  if (k === 2) { encode(st, m, size, [size === 8 ? 0xc6 : 0xc7], 0, rm, true); imm(st, size === 8 ? 1 : size === 16 ? 2 : 4, r); return; }
  encode(st, m, size, [(k === 0 ? 0x88 : 0x8a) + (size === 8 ? 0 : 1)], reg, rm, true);
});
add('bswap32', 'none', (r, m, st) => { const x = pickReg(r, m); if (x >= 8) st.code.push(0x41); st.code.push(0x0f, 0xc8 + (x & 7)); });
add('bswap64', 'none', (r, m, st) => { const x = pickReg(r, m); st.code.push(x >= 8 ? 0x49 : 0x48, 0x0f, 0xc8 + (x & 7)); }, [64]);
add('movsxd', 'none', (r, m, st) => encode(st, m, 64, [0x63], pickReg(r, m), { r: pickReg(r, m) }), [64]);
add('movbe32 r,m', 'none', (r, m, st) => { const reg = pickReg(r, m); encode(st, m, 32, [0x0f, 0x38, 0xf0], reg, memOperand(r, m, st, [reg], 8)); });
add('cmpxchg8b', 'none', (r, m, st) => {
  const mo = memOperand(r, m, st, [0, 1, 2, 3], 8);
  if (r.int(2) === 0) { st.gprs[0] = 0n; st.gprs[2] = 0n; }
  encode(st, m, 32, [0x0f, 0xc7], 1, mo);
  st.mask |= ALL & ~ZF;
});
add('cbw/cwde/cdqe/cwd/cdq/cqo', 'none', (r, m, st) => {
  const k = r.int(m === 64 ? 6 : 4);
  const forms64 = [[0x66, 0x98], [0x98], [0x48, 0x98], [0x66, 0x99], [0x99], [0x48, 0x99]];
  const f = forms64[k === 2 && m === 32 ? 1 : k === 5 && m === 32 ? 4 : k]!;
  st.code.push(...f);
});
add('lahf/sahf/clc/stc/cmc', 'none', (r, m, st) => st.code.push([0x9f, 0x9e, 0xf8, 0xf9, 0xf5][r.int(5)]!));
add('push/pop r', 'none', (r, m, st) => {
  st.gprs[4] = BigInt(ORACLE_SCRATCH_ADDR + 1024);
  const a = pickReg(r, m), b = pickReg(r, m);
  if (m === 64 && a >= 8) st.code.push(0x41);
  st.code.push(0x50 + (a & 7));
  if (m === 64 && b >= 8) st.code.push(0x41);
  st.code.push(0x58 + (b & 7));
});
add('pushf/popf', 'none', (r, m, st) => { st.gprs[4] = BigInt(ORACLE_SCRATCH_ADDR + 1024); st.code.push(0x9c, 0x58, 0x9c, 0x9d); });
add('enter/leave', 'none', (r, m, st) => {
  st.gprs[4] = BigInt(ORACLE_SCRATCH_ADDR + 1024);
  st.gprs[5] = BigInt(ORACLE_SCRATCH_ADDR + 512 + r.int(64) * 8);
  st.code.push(0xc8, r.int(256), 0, r.int(4), 0xc9);
});
add('call/ret', 'none', (r, m, st) => { st.gprs[4] = BigInt(ORACLE_SCRATCH_ADDR + 1024); st.code.push(0xe8, 1, 0, 0, 0, 0xc3, 0x5b); });
add('jcc', 'none', (r, m, st) => st.code.push(0x70 + r.int(16), 2, 0x31, 0xc0));
add('loop/jrcxz', 'none', (r, m, st) => {
  st.gprs[1] = BigInt(r.int(3));
  st.code.push([0xe0, 0xe1, 0xe2, 0xe3][r.int(4)]!, 2, 0x31, 0xc0);
});
add('xlat', 'none', (r, m, st) => { st.gprs[3] = BigInt(ORACLE_SCRATCH_ADDR + r.int(768)); if (m === 64) st.code.push(0x48); st.code.push(0xd7); });
add('rep movs/stos/lods', 'none', (r, m, st) => {
  const size = [1, 2, 4, 8][r.int(m === 64 ? 4 : 3)]!;
  st.gprs[6] = BigInt(ORACLE_SCRATCH_ADDR + 256 + r.int(256));
  st.gprs[7] = BigInt(ORACLE_SCRATCH_ADDR + 256 + r.int(256));
  st.gprs[1] = BigInt(r.int(64));
  if (r.int(2) === 0) st.code.push(0xf3);
  if (size === 2) st.code.push(0x66);
  if (size === 8) st.code.push(0x48);
  const k = r.int(3);
  st.code.push((k === 0 ? 0xa4 : k === 1 ? 0xaa : 0xac) + (size === 1 ? 0 : 1));
  st.rflags &= ~DF;
  if (r.int(4) === 0) { st.rflags |= DF; }
});
add('repe/repne cmps/scas', 'arith', (r, m, st) => {
  const size = [1, 2, 4, 8][r.int(m === 64 ? 4 : 3)]!;
  st.gprs[6] = BigInt(ORACLE_SCRATCH_ADDR + 256 + r.int(256));
  st.gprs[7] = BigInt(ORACLE_SCRATCH_ADDR + 256 + r.int(256));
  st.gprs[1] = BigInt(r.int(40));
  st.code.push(r.int(2) === 0 ? 0xf3 : 0xf2);
  if (size === 2) st.code.push(0x66);
  if (size === 8) st.code.push(0x48);
  st.code.push((r.int(2) === 0 ? 0xa6 : 0xae) + (size === 1 ? 0 : 1));
  st.rflags &= ~DF;
});
add('daa/das', 'daa', (r, m, st) => st.code.push(r.int(2) === 0 ? 0x27 : 0x2f), [32]);
add('aaa/aas', 'aaa', (r, m, st) => st.code.push(r.int(2) === 0 ? 0x37 : 0x3f), [32]);
add('aam/aad', 'aam', (r, m, st) => { st.code.push(r.int(2) === 0 ? 0xd4 : 0xd5, r.int(8) === 0 ? 0 : r.int(256)); }, [32]);

export const FORMS: readonly Form[] = forms;

/* ---------------- the emulator side ---------------- */

/**
 * The GPRs as the oracle reports them (modes 32/16: low halves, R8-R15 zero) and the outcome of a
 * case that ran from ORACLE_CODE_ADDR: the HLT after the code raises #GP at CPL 3, so reaching it
 * (as HLT or that #GP) means the code completed; any other exception is the case's fault.
 */
export function caseOutcome(u: Uint32Array, mode: number, e: VcpuExit, codeLength: number): { outcome: 'completed' | 'fault'; vector: number; gprs: bigint[] } {
  const gprs: bigint[] = [];
  for (let r = 0; r < 16; r++) gprs.push(mode === 64 ? (BigInt(u[2 * r + 1]!) << 32n) | BigInt(u[2 * r]!) : r >= 8 ? 0n : BigInt(u[2 * r]!));
  let outcome: 'completed' | 'fault' = 'fault';
  let vector = -1;
  const end = ORACLE_CODE_ADDR + codeLength;
  if ((e.reason === 'hlt' || (e.reason === 'exception' && e.vector === 13)) && e.ripLo === end && e.ripHi === 0) outcome = 'completed';
  else if (e.reason === 'exception') vector = e.vector;
  else if (e.reason === 'ept-violation') vector = 14;
  else if (e.reason === 'hlt') vector = 13; // HLT reached elsewhere: CPL 3 would #GP
  return { outcome, vector, gprs };
}

/** Guest-physical space = the oracle's map: code page R+X at ORACLE_CODE_ADDR, 8 KiB scratch R+W. */
export class OracleSpace implements PhysicalSpace {
  generation = 0;
  constructor(readonly host: HostMemory, readonly codeHpa: number, readonly scratchHpa: number) {}
  translate(lo: number, hi: number, _acc: number, out: PhysResult): boolean {
    const page = lo - (lo & 0xfff);
    out.misconfig = false;
    out.entryPerm = 0;
    if (hi !== 0) return false;
    if (page === ORACLE_CODE_ADDR) { out.hpa = this.codeHpa; out.perm = ACC_READ | ACC_FETCH; return true; }
    if (page === ORACLE_SCRATCH_ADDR || page === ORACLE_SCRATCH_ADDR + 0x1000) {
      out.hpa = this.scratchHpa + (page - ORACLE_SCRATCH_ADDR);
      out.perm = ACC_READ | ACC_WRITE;
      return true;
    }
    return false;
  }
}

export class Emulator {
  readonly host = new HostMemory({ chunkSize: 0x4000 });
  readonly cpu: Vcpu;
  readonly code: Uint8Array;
  readonly scratch: Uint8Array;
  private dirty = ORACLE_SCRATCH_SIZE;
  constructor() {
    const seg = this.host.createSegment('ram', 0x4000);
    const bytes = this.host.ensureChunk(this.host.chunkOf(seg.hostBase));
    this.code = bytes.subarray(0, 0x1000);
    this.scratch = bytes.subarray(0x1000, 0x3000);
    this.cpu = new Vcpu(new OracleSpace(this.host, seg.hostBase, seg.hostBase + 0x1000));
  }

  run(c: OracleCase): { outcome: 'completed' | 'fault'; vector: number; gprs: bigint[]; rflags: number; scratch: Uint8Array; rip: bigint } {
    const cpu = this.cpu;
    const s = cpu.state;
    const u = s.u32;
    const mode = c.mode;
    u[S_CR0] = CR0_PE;
    u[S_EFER] = EFER_LME | EFER_LMA;
    s.setSegment(CS, mode === 64 ? 0x33 : 0x23, 0, 0, 0xffffffff, codeAttr(mode === 64 ? 64 : 32));
    for (const g of [DS, ES, SS]) s.setSegment(g, 0x2b, 0, 0, 0xffffffff, dataAttr(32));
    for (const g of [FS, GS]) s.setSegment(g, 0, 0, 0, 0, 1 << 16);
    this.code.fill(0xcc);
    this.code.set(c.code, 0);
    this.code[c.code.length] = 0xf4; // HLT where the oracle jumps back to its harness
    this.scratch.fill(0, 0, this.dirty);
    if (c.scratch) this.scratch.set(c.scratch);
    this.dirty = ORACLE_SCRATCH_SIZE;
    for (let r = 0; r < 16; r++) {
      const v = c.gprs?.[r] ?? 0n;
      const lo = Number(v & 0xffffffffn), hi = mode === 64 ? Number((v >> 32n) & 0xffffffffn) : 0;
      u[2 * r] = lo;
      u[2 * r + 1] = mode === 32 && r >= 8 ? 0 : hi;
    }
    setFlags(u, (c.rflags ?? 0) | 0x202);
    u[S_RIP] = ORACLE_CODE_ADDR;
    u[S_RIP + 1] = 0;
    cpu.updateMode();
    cpu.flushCodeCache();
    // CPL 3 as in the oracle
    u[48 + 5 * CS] = mode === 64 ? 0x33 : 0x23;
    cpu.updateMode();
    const e = cpu.run({ maxInstructions: 100000 });
    const { outcome, vector, gprs } = caseOutcome(u, mode, e, c.code.length);
    return { outcome, vector, gprs, rflags: getFlags(u), scratch: this.scratch, rip: (BigInt(u[S_RIP + 1]!) << 32n) | BigInt(u[S_RIP]!) };
  }
}

/* ---------------- the comparison ---------------- */

export interface Mismatch { form: string; mode: number; what: string; code: string; gprs: string[]; rflags: number }

export function generateCase(form: Form, mode: 32 | 64, r: Rng): { c: OracleCase; st: CaseState } {
  const st: CaseState = {
    gprs: Array.from({ length: 16 }, () => r.v64()),
    rflags: r.u32() & (CF | PF | AF | ZF | SF | OF),
    code: [],
    scratch: new Uint8Array(SCRATCH_LEN),
    mask: 0,
    undefRegs: [],
  };
  for (let i = 0; i < st.scratch.length; i += 4) { const v = r.u32(); st.scratch[i] = v; st.scratch[i + 1] = v >>> 8; st.scratch[i + 2] = v >>> 16; st.scratch[i + 3] = v >>> 24; }
  st.gprs[4] = BigInt(ORACLE_SCRATCH_ADDR + 1024); // a usable stack by default
  form.gen(r, mode, st);
  if (mode === 32) st.gprs = st.gprs.map((v) => v & 0xffffffffn);
  return { c: { mode, code: st.code, gprs: st.gprs, rflags: st.rflags, scratch: st.scratch }, st };
}

function familyMask(family: string): number {
  let m = 0;
  for (const row of UNDEFINED_FLAGS) if (row.family === family) m |= row.flags;
  return m;
}

export function compare(form: Form, c: OracleCase, st: CaseState, o: OracleResult, e: ReturnType<Emulator['run']>): string | null {
  if (o.outcome === 'killed' || o.outcome === 'harness-error' || o.outcome === 'timeout' || o.outcome === 'unsupported') return null;
  if (o.outcome === 'fault') {
    if (e.outcome !== 'fault') return `host faulted with vector ${o.fault!.vector}, emulator completed`;
    if (e.vector !== o.fault!.vector) return `fault vector host ${o.fault!.vector} emulator ${e.vector}`;
    return null;
  }
  if (e.outcome !== 'completed') return `host completed, emulator stopped with vector ${e.vector}`;
  const undefAll = st.undefRegs.includes(-1);
  for (let r = 0; r < 16; r++) {
    if (st.undefRegs.includes(r)) continue;
    if (undefAll) continue;
    if (o.gprs[r] !== e.gprs[r]) return `${['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'][r]} host ${o.gprs[r]!.toString(16)} emulator ${e.gprs[r]!.toString(16)}`;
  }
  const fm = familyMask(form.family) | st.mask;
  const care = (ALL | DF) & ~fm;
  if ((o.rflags & care) !== (e.rflags & care)) return `rflags host ${o.rflags.toString(16)} emulator ${e.rflags.toString(16)} (compared ${care.toString(16)})`;
  if (!undefAll) {
    for (let i = 0; i < o.scratch.length; i++) if (o.scratch[i] !== e.scratch[i]) return `scratch byte ${i} host ${o.scratch[i]} emulator ${e.scratch[i]}`;
  }
  return null;
}

/** Runs `perForm` cases of every form (matching `filter`) in each mode the host supports. */
export function runDiff(perForm: number, seed: number, filter?: string, oracle = HostCpuOracle.open(), onlyMode?: 32 | 64): { cases: number; compared: number; forms: number; mismatches: Mismatch[] } {
  const emu = new Emulator();
  const mismatches: Mismatch[] = [];
  let cases = 0, compared = 0, nforms = 0;
  for (const form of FORMS) {
    if (filter && !form.name.includes(filter)) continue;
    for (const mode of form.modes) {
      if (mode === 32 && !oracle.supportsCompat) continue;
      if (onlyMode !== undefined && mode !== onlyMode) continue;
      nforms++;
      const r = new Rng(seed ^ hash(form.name + mode));
      const batch: { c: OracleCase; st: CaseState }[] = [];
      for (let k = 0; k < perForm; k++) batch.push(generateCase(form, mode, r));
      const res = oracle.run(batch.map((b) => b.c));
      for (let k = 0; k < batch.length; k++) {
        const { c, st } = batch[k]!;
        cases++;
        const o = res[k]!;
        if (o.outcome === 'killed' || o.outcome === 'harness-error' || o.outcome === 'timeout') continue;
        compared++;
        const e = emu.run(c);
        const why = compare(form, c, st, o, e);
        if (why !== null && mismatches.length < 200) {
          mismatches.push({ form: form.name, mode, what: why, code: Array.from(c.code, (x) => x.toString(16).padStart(2, '0')).join(' '), gprs: (c.gprs as bigint[]).map((v) => v.toString(16)), rflags: c.rflags ?? 0 });
        }
      }
    }
  }
  return { cases, compared, forms: nforms, mismatches };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  return h >>> 0;
}
