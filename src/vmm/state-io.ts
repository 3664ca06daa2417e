/**
 * Conversion between the API's state records (records.ts, bigint at the boundary) and the vCPU's
 * register file (src/cpu/state.ts, uint32 halves in one buffer). Segment attributes use the VMCS
 * access-rights layout of the register file (SDM Vol. 3C §24.4.1, Table 24-2).
 */
import {
  S_GPR, S_RIP, S_SEG, SEG_STRIDE, SEG_SEL, SEG_BASE, SEG_BASE_HI, SEG_LIMIT, SEG_ATTR,
  S_CR0, S_CR2, S_CR3, S_CR4, S_CR8, S_EFER, S_DR, S_DR6, S_DR7, S_GDTR, S_IDTR,
  ATTR_TYPE, ATTR_S, ATTR_DPL_SHIFT, ATTR_P, ATTR_AVL, ATTR_L, ATTR_DB, ATTR_G, ATTR_UNUSABLE,
  ES, CS, SS, DS, FS, GS, LDTR, TR,
  S_FPR, FPR_STRIDE, FPR_LO, FPR_HI, FPR_SE, S_FCW, S_FSW, S_FTW, S_FOP, S_FIP, S_FCS, S_FDP, S_FDS, S_MXCSR,
  S_XMM, XMM_STRIDE,
} from '../cpu/state.js';
import { getFlags, setFlags } from '../cpu/flags.js';
import type { DebugRegisters, FpuState, Registers, Segment, SpecialRegisters } from './records.js';
import { GPR_NAMES } from './records.js';
import { InvalidArgumentError, hex } from '../util/errors.js';

const lo32 = (v: bigint): number => Number(v & 0xffff_ffffn);
const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffff_ffffn);
const join = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

function u64(name: string, v: unknown): bigint {
  if (typeof v !== 'bigint') throw new InvalidArgumentError(`${name} must be a bigint, got ${typeof v}`);
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new InvalidArgumentError(`${name} ${hex(v)} is not a 64-bit unsigned value`);
  return v;
}

export function readRegisters(u: Uint32Array): Registers {
  const r = {} as Registers;
  GPR_NAMES.forEach((name, i) => {
    r[name] = join(u[S_GPR + 2 * i]!, u[S_GPR + 2 * i + 1]!);
  });
  r.rip = join(u[S_RIP]!, u[S_RIP + 1]!);
  r.rflags = BigInt(getFlags(u) >>> 0);
  return r;
}

/** Validates a full record (a failed call changes nothing), then writes it. */
export function writeRegisters(u: Uint32Array, r: Registers): void {
  for (const name of GPR_NAMES) u64(name, r[name]);
  u64('rip', r.rip);
  const fl = u64('rflags', r.rflags);
  if (fl > 0x3f_ffffn) throw new InvalidArgumentError(`rflags ${hex(fl)} sets bits above 21 (reserved, SDM Vol. 1 §3.4.3)`);
  GPR_NAMES.forEach((name, i) => {
    u[S_GPR + 2 * i] = lo32(r[name]);
    u[S_GPR + 2 * i + 1] = hi32(r[name]);
  });
  u[S_RIP] = lo32(r.rip);
  u[S_RIP + 1] = hi32(r.rip);
  setFlags(u, (Number(fl) | 0x2) >>> 0);
}

function readSegment(u: Uint32Array, seg: number): Segment {
  const o = S_SEG + seg * SEG_STRIDE;
  const a = u[o + SEG_ATTR]!;
  return {
    selector: u[o + SEG_SEL]!,
    base: join(u[o + SEG_BASE]!, u[o + SEG_BASE_HI]!),
    limit: u[o + SEG_LIMIT]!,
    type: a & ATTR_TYPE,
    s: (a & ATTR_S) !== 0,
    dpl: (a >>> ATTR_DPL_SHIFT) & 3,
    present: (a & ATTR_P) !== 0,
    avl: (a & ATTR_AVL) !== 0,
    l: (a & ATTR_L) !== 0,
    db: (a & ATTR_DB) !== 0,
    g: (a & ATTR_G) !== 0,
    unusable: (a & ATTR_UNUSABLE) !== 0,
  };
}

function checkSegment(name: string, s: Segment): void {
  if (!s || typeof s !== 'object') throw new InvalidArgumentError(`segment ${name} must be a Segment record`);
  if (!Number.isInteger(s.selector) || s.selector < 0 || s.selector > 0xffff) throw new InvalidArgumentError(`${name}.selector ${s.selector} is not 16-bit`);
  u64(`${name}.base`, s.base);
  if (!Number.isInteger(s.limit) || s.limit < 0 || s.limit > 0xffff_ffff) throw new InvalidArgumentError(`${name}.limit ${s.limit} is not a uint32`);
  if (!Number.isInteger(s.type) || s.type < 0 || s.type > 15) throw new InvalidArgumentError(`${name}.type ${s.type} is not 0-15`);
  if (!Number.isInteger(s.dpl) || s.dpl < 0 || s.dpl > 3) throw new InvalidArgumentError(`${name}.dpl ${s.dpl} is not 0-3`);
}

export function segmentAttr(s: Segment): number {
  return (
    (s.type & 0xf) |
    (s.s ? ATTR_S : 0) |
    ((s.dpl & 3) << ATTR_DPL_SHIFT) |
    (s.present ? ATTR_P : 0) |
    (s.avl ? ATTR_AVL : 0) |
    (s.l ? ATTR_L : 0) |
    (s.db ? ATTR_DB : 0) |
    (s.g ? ATTR_G : 0) |
    (s.unusable ? ATTR_UNUSABLE : 0)
  ) >>> 0;
}

function writeSegment(u: Uint32Array, seg: number, s: Segment): void {
  const o = S_SEG + seg * SEG_STRIDE;
  u[o + SEG_SEL] = s.selector;
  u[o + SEG_BASE] = lo32(s.base);
  u[o + SEG_BASE_HI] = hi32(s.base);
  u[o + SEG_LIMIT] = s.limit >>> 0;
  u[o + SEG_ATTR] = segmentAttr(s);
}

const SEGS: Array<[keyof SpecialRegisters, number]> = [
  ['es', ES], ['cs', CS], ['ss', SS], ['ds', DS], ['fs', FS], ['gs', GS], ['ldt', LDTR], ['tr', TR],
];

export function readSpecialRegisters(u: Uint32Array, apicBase: bigint): SpecialRegisters {
  const r = {} as SpecialRegisters;
  for (const [name, idx] of SEGS) (r as unknown as Record<string, Segment>)[name] = readSegment(u, idx);
  r.gdt = { base: join(u[S_GDTR]!, u[S_GDTR + 1]!), limit: u[S_GDTR + 2]! };
  r.idt = { base: join(u[S_IDTR]!, u[S_IDTR + 1]!), limit: u[S_IDTR + 2]! };
  r.cr0 = BigInt(u[S_CR0]!);
  r.cr2 = join(u[S_CR2]!, u[S_CR2 + 1]!);
  r.cr3 = join(u[S_CR3]!, u[S_CR3 + 1]!);
  r.cr4 = BigInt(u[S_CR4]!);
  r.cr8 = BigInt(u[S_CR8]!);
  r.efer = BigInt(u[S_EFER]!);
  r.apicBase = apicBase;
  return r;
}

export function writeSpecialRegisters(u: Uint32Array, r: SpecialRegisters): void {
  for (const [name, _] of SEGS) checkSegment(name, (r as unknown as Record<string, Segment>)[name]!);
  for (const t of ['gdt', 'idt'] as const) {
    u64(`${t}.base`, r[t].base);
    if (!Number.isInteger(r[t].limit) || r[t].limit < 0 || r[t].limit > 0xffff) throw new InvalidArgumentError(`${t}.limit ${r[t].limit} is not 16-bit`);
  }
  for (const c of ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'apicBase'] as const) u64(c, r[c]);
  if (r.cr0 > 0xffff_ffffn) throw new InvalidArgumentError(`cr0 ${hex(r.cr0)} sets bits 63:32 (reserved, SDM Vol. 3A §2.5)`);
  if (r.cr4 > 0xffff_ffffn) throw new InvalidArgumentError(`cr4 ${hex(r.cr4)} sets bits 63:32 (reserved)`);
  if (r.cr8 > 15n) throw new InvalidArgumentError(`cr8 ${hex(r.cr8)} is above 15 (only bits 3:0 exist)`);
  if (r.efer > 0xffff_ffffn) throw new InvalidArgumentError(`efer ${hex(r.efer)} sets bits 63:32 (reserved)`);
  for (const [name, idx] of SEGS) writeSegment(u, idx, (r as unknown as Record<string, Segment>)[name]!);
  u[S_GDTR] = lo32(r.gdt.base);
  u[S_GDTR + 1] = hi32(r.gdt.base);
  u[S_GDTR + 2] = r.gdt.limit;
  u[S_IDTR] = lo32(r.idt.base);
  u[S_IDTR + 1] = hi32(r.idt.base);
  u[S_IDTR + 2] = r.idt.limit;
  u[S_CR0] = Number(r.cr0);
  u[S_CR2] = lo32(r.cr2);
  u[S_CR2 + 1] = hi32(r.cr2);
  u[S_CR3] = lo32(r.cr3);
  u[S_CR3 + 1] = hi32(r.cr3);
  u[S_CR4] = Number(r.cr4);
  u[S_CR8] = Number(r.cr8);
  u[S_EFER] = Number(r.efer);
}

export function readDebugRegisters(u: Uint32Array): DebugRegisters {
  return {
    dr0: join(u[S_DR]!, u[S_DR + 1]!),
    dr1: join(u[S_DR + 2]!, u[S_DR + 3]!),
    dr2: join(u[S_DR + 4]!, u[S_DR + 5]!),
    dr3: join(u[S_DR + 6]!, u[S_DR + 7]!),
    dr6: BigInt(u[S_DR6]!),
    dr7: BigInt(u[S_DR7]!),
  };
}

export function writeDebugRegisters(u: Uint32Array, d: DebugRegisters): void {
  for (const k of ['dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7'] as const) u64(k, d[k]);
  if (d.dr6 > 0xffff_ffffn || d.dr7 > 0xffff_ffffn) throw new InvalidArgumentError('dr6/dr7 bits 63:32 must be zero (SDM Vol. 3A §18.2)');
  [d.dr0, d.dr1, d.dr2, d.dr3].forEach((v, i) => {
    u[S_DR + 2 * i] = lo32(v);
    u[S_DR + 2 * i + 1] = hi32(v);
  });
  u[S_DR6] = Number(d.dr6);
  u[S_DR7] = Number(d.dr7);
}

/** MXCSR bits the CPU model implements (SDM Vol. 1 §10.2.3; DAZ supported): the MXCSR_MASK. */
export const MXCSR_MASK = 0xffff;

export function readFpuState(u: Uint32Array): FpuState {
  const top = (u[S_FSW]! >>> 11) & 7;
  const st = [];
  for (let i = 0; i < 8; i++) {
    const o = S_FPR + ((top + i) & 7) * FPR_STRIDE;
    st.push({ significand: join(u[o + FPR_LO]!, u[o + FPR_HI]!), signExponent: u[o + FPR_SE]! & 0xffff });
  }
  const xmm = [];
  for (let i = 0; i < 16; i++) {
    const o = S_XMM + i * XMM_STRIDE;
    xmm.push((join(u[o + 2]!, u[o + 3]!) << 64n) | join(u[o]!, u[o + 1]!));
  }
  return {
    fcw: u[S_FCW]! & 0xffff, fsw: u[S_FSW]! & 0xffff, ftw: u[S_FTW]! & 0xff, fop: u[S_FOP]! & 0x7ff,
    fip: join(u[S_FIP]!, u[S_FIP + 1]!), fcs: u[S_FCS]! & 0xffff,
    fdp: join(u[S_FDP]!, u[S_FDP + 1]!), fds: u[S_FDS]! & 0xffff,
    st, mxcsr: u[S_MXCSR]!, xmm,
  };
}

function bits(name: string, v: unknown, n: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= 2 ** n) {
    throw new InvalidArgumentError(`${name} ${typeof v === 'number' ? hex(v) : typeof v} is not a ${n}-bit unsigned integer`);
  }
  return v;
}

/** Validates a full record (a failed call changes nothing), then writes it. */
export function writeFpuState(u: Uint32Array, f: FpuState): void {
  bits('fcw', f.fcw, 16);
  bits('fsw', f.fsw, 16);
  bits('ftw', f.ftw, 8);
  bits('fop', f.fop, 11);
  bits('fcs', f.fcs, 16);
  bits('fds', f.fds, 16);
  u64('fip', f.fip);
  u64('fdp', f.fdp);
  bits('mxcsr', f.mxcsr, 32);
  if ((f.mxcsr & ~MXCSR_MASK) !== 0) {
    throw new InvalidArgumentError(`mxcsr ${hex(f.mxcsr)} sets reserved bits (MXCSR_MASK ${hex(MXCSR_MASK)}; LDMXCSR would #GP, SDM Vol. 1 §10.2.3.1)`);
  }
  if (!Array.isArray(f.st) || f.st.length !== 8) throw new InvalidArgumentError(`st must list the 8 registers ST(0)..ST(7), got ${Array.isArray(f.st) ? f.st.length : typeof f.st}`);
  f.st.forEach((r, i) => {
    u64(`st[${i}].significand`, r?.significand);
    bits(`st[${i}].signExponent`, r.signExponent, 16);
  });
  if (!Array.isArray(f.xmm) || f.xmm.length !== 16) throw new InvalidArgumentError(`xmm must list XMM0..XMM15, got ${Array.isArray(f.xmm) ? f.xmm.length : typeof f.xmm}`);
  f.xmm.forEach((v, i) => {
    if (typeof v !== 'bigint' || v < 0n || v >= 1n << 128n) throw new InvalidArgumentError(`xmm[${i}] ${typeof v === 'bigint' ? hex(v) : typeof v} is not a 128-bit unsigned value`);
  });
  u[S_FCW] = f.fcw;
  u[S_FSW] = f.fsw;
  u[S_FTW] = f.ftw;
  u[S_FOP] = f.fop;
  u[S_FIP] = lo32(f.fip);
  u[S_FIP + 1] = hi32(f.fip);
  u[S_FCS] = f.fcs;
  u[S_FDP] = lo32(f.fdp);
  u[S_FDP + 1] = hi32(f.fdp);
  u[S_FDS] = f.fds;
  u[S_MXCSR] = f.mxcsr;
  const top = (f.fsw >>> 11) & 7;
  f.st.forEach((r, i) => {
    const o = S_FPR + ((top + i) & 7) * FPR_STRIDE;
    u[o + FPR_LO] = lo32(r.significand);
    u[o + FPR_HI] = hi32(r.significand);
    u[o + FPR_SE] = r.signExponent;
  });
  f.xmm.forEach((v, i) => {
    const o = S_XMM + i * XMM_STRIDE;
    const low = v & 0xffff_ffff_ffff_ffffn, high = v >> 64n;
    u[o] = lo32(low);
    u[o + 1] = hi32(low);
    u[o + 2] = lo32(high);
    u[o + 3] = hi32(high);
  });
}

/** The x87/SSE power-up values (SDM Vol. 3A Table 9-1): FCW 0040H, MXCSR 1F80H, everything else 0. */
export function writeFpuPowerOn(u: Uint32Array): void {
  u.fill(0, S_FPR, S_XMM + 16 * XMM_STRIDE);
  u[S_FCW] = 0x0040;
  u[S_MXCSR] = 0x1f80;
}
