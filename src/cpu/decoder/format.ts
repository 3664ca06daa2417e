/**
 * Intel-syntax formatter for traces and error messages (SDM Vol. 2 notation: destination first,
 * `size ptr seg:[base+index*scale+disp]`, hexadecimal immediates). Not on the hot path.
 */
import { DecodeStatus, Insn, Mnemonic, OpKind, RegClass } from './insn.js';

const GPR8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'];
const GPR16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
const GPR32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const GPR64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const SEG = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

/** Lower-case name of a register id ("rax", "ah", "xmm3", "st(1)", "cr0"...). */
export function regName(id: number): string {
  const n = id & 31;
  switch (id >> 5) {
    case RegClass.None: return '';
    case RegClass.Gpr8: return GPR8[n] ?? '?';
    case RegClass.Gpr8High: return ['ah', 'ch', 'dh', 'bh'][n] ?? '?';
    case RegClass.Gpr16: return GPR16[n] ?? '?';
    case RegClass.Gpr32: return GPR32[n] ?? '?';
    case RegClass.Gpr64: return GPR64[n] ?? '?';
    case RegClass.Seg: return SEG[n] ?? '?';
    case RegClass.Cr: return `cr${n}`;
    case RegClass.Dr: return `dr${n}`;
    case RegClass.St: return n === 0 ? 'st' : `st(${n})`;
    case RegClass.Mm: return `mm${n}`;
    case RegClass.Xmm: return `xmm${n}`;
    case RegClass.Ymm: return `ymm${n}`;
    case RegClass.Zmm: return `zmm${n}`;
    case RegClass.K: return `k${n}`;
    case RegClass.Ip: return n === 0 ? 'rip' : 'eip';
    case RegClass.Tmm: return `tmm${n}`;
  }
  return '?';
}

function ptrName(bytes: number): string {
  switch (bytes) {
    case 1: return 'byte ptr ';
    case 2: return 'word ptr ';
    case 4: return 'dword ptr ';
    case 6: return 'fword ptr ';
    case 8: return 'qword ptr ';
    case 10: return 'tbyte ptr ';
    case 16: return 'xmmword ptr ';
    default: return '';
  }
}

function hex(v: bigint | number): string {
  return '0x' + v.toString(16);
}

function u64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function memText(insn: Insn): string {
  const seg = insn.segPrefix >= 0 ? SEG[insn.segPrefix] + ':' : '';
  let s = '';
  if (insn.memBase) s = regName(insn.memBase);
  if (insn.memIndex) s += (s ? '+' : '') + regName(insn.memIndex) + (insn.memScale > 1 ? `*${insn.memScale}` : '');
  const d = BigInt.asIntN(64, u64(insn.memDisp, insn.memDispHi));
  const bits = insn.addrSize;
  if (!s) s = hex(BigInt.asUintN(bits, d));
  else if (d < 0n) s += '-' + hex(-d);
  else if (d > 0n) s += '+' + hex(d);
  return `${ptrName(insn.operandWidth)}${seg}[${s}]`;
}

function strText(insn: Insn, kind: number): string {
  const a = insn.addrSize === 64 ? GPR64 : insn.addrSize === 32 ? GPR32 : GPR16;
  if (kind === OpKind.StrDst) return `${ptrName(insn.operandWidth)}es:[${a[7]}]`;
  const seg = insn.segPrefix >= 0 ? SEG[insn.segPrefix] + ':' : '';
  return `${ptrName(insn.operandWidth)}${seg}[${a[kind === OpKind.StrSrcDi ? 7 : 6]}]`;
}

function operandText(insn: Insn, kind: number, reg: number, ip: bigint): string {
  switch (kind) {
    case OpKind.Reg: return regName(reg);
    case OpKind.Mem: return memText(insn);
    case OpKind.Imm8:
    case OpKind.Imm16:
    case OpKind.Imm32:
    case OpKind.Imm64:
      return hex(u64(insn.imm, insn.immHi));
    case OpKind.Imm8Sx:
    case OpKind.Imm32Sx:
      return hex(BigInt.asUintN(insn.opSize, u64(insn.imm, insn.immHi)));
    case OpKind.Imm8_2: return hex(insn.imm2);
    case OpKind.Rel: {
      const t = BigInt.asUintN(insn.opSize, ip + BigInt(insn.length) + BigInt.asIntN(64, u64(insn.imm, insn.immHi)));
      return hex(t);
    }
    case OpKind.FarPtr: return `${hex(insn.imm2)}:${hex(insn.imm)}`;
    case OpKind.StrSrc:
    case OpKind.StrDst:
    case OpKind.StrSrcDi:
      return strText(insn, kind);
  }
  return '';
}

/**
 * Formats a decoded instruction in Intel syntax, e.g. "lock add dword ptr [rax+rcx*4+0x10], 0x1".
 * `ip` (the instruction's address) turns branch displacements into absolute targets.
 */
export function format(insn: Insn, ip: bigint | number = 0): string {
  if (insn.status !== DecodeStatus.Ok) return `(${DecodeStatus[insn.status] ?? 'invalid'})`;
  if (insn.mnemonic === Mnemonic.VexUnsupported) {
    return `(${['', 'vex', 'evex', 'xop'][insn.encoding]} map ${insn.op >> 8} opcode ${hex(insn.op & 255)})`;
  }
  const ipn = typeof ip === 'bigint' ? ip : BigInt(ip);
  let s = '';
  if (insn.lock) s += 'lock ';
  const k0 = insn.opKind0;
  const isString = k0 === OpKind.StrSrc || k0 === OpKind.StrDst || insn.opKind1 === OpKind.StrSrc || insn.opKind1 === OpKind.StrDst;
  if (isString && insn.rep === 1) s += 'rep ';
  if (isString && insn.rep === 2) s += 'repne ';
  s += (Mnemonic[insn.mnemonic] ?? '?').toLowerCase();
  const kinds = [insn.opKind0, insn.opKind1, insn.opKind2, insn.opKind3];
  const regs = [insn.reg0, insn.reg1, insn.reg2, insn.reg3];
  for (let i = 0; i < insn.opCount; i++) {
    s += (i === 0 ? ' ' : ', ') + operandText(insn, kinds[i]!, regs[i]!, ipn);
  }
  return s;
}
