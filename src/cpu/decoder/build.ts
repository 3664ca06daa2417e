/**
 * Turns the readable rows of tables.ts into the decode trees the hot path walks: one tree per
 * (map, opcode byte), split on the encoding fields in the order mode, mandatory prefix, ModRM.mod,
 * ModRM.reg, ModRM.rm, REX.W, REX.B, operand size, address size. Runs once at module load.
 * Spec: Intel SDM Vol. 2 Appendix A (operand codes A.2.1/A.2.2, opcode-extension groups A.4).
 */
import { Mnemonic, Reg } from './insn.js';
import { LEGACY_ROWS } from './tables.js';

// Operand addressing methods (SDM A.2.1 letters plus our implicit kinds).
export const A_NONE = 0;
export const A_E = 1; // ModRM r/m: GPR or memory
export const A_G = 2; // ModRM reg: GPR
export const A_I = 3; // immediate of the operand's size
export const A_J = 4; // relative branch displacement
export const A_M = 5; // ModRM r/m: memory only
export const A_O = 6; // moffs
export const A_S = 7; // ModRM reg: segment register
export const A_C = 8; // ModRM reg: control register
export const A_D = 9; // ModRM reg: debug register
export const A_V = 10; // ModRM reg: XMM
export const A_W = 11; // ModRM r/m: XMM or memory
export const A_U = 12; // ModRM r/m: XMM only
export const A_P = 13; // ModRM reg: MMX
export const A_Q = 14; // ModRM r/m: MMX or memory
export const A_N = 15; // ModRM r/m: MMX only
export const A_A = 16; // far pointer immediate
export const A_X = 17; // seg:[rSI]
export const A_Y = 18; // ES:[rDI]
export const A_R = 19; // ModRM r/m: GPR only
export const A_Z = 20; // GPR in the opcode's low 3 bits (+REX.B)
export const A_FIX = 21; // a fixed register (id in the operand's reg field)
export const A_ACC = 22; // rAX of the operand's size
export const A_STI = 23; // x87 ST(i) from ModRM.rm
export const A_ONE = 24; // the constant 1 of D0/D1
export const A_IB2 = 25; // ENTER's second immediate
export const A_XLAT = 26; // XLAT's [rBX+AL]
export const A_XDI = 27; // MASKMOVQ's seg:[rDI]
export const A_IBS = 28; // imm8 sign-extended to the operand size
export const A_B = 29; // VEX.vvvv: GPR

// Operand size codes (SDM A.2.2).
export const S_0 = 0; // no size (LEA's M, address only)
export const S_B = 1;
export const S_W = 2;
export const S_D = 3;
export const S_Q = 4;
export const S_V = 5; // 2/4/8 by operand size
export const S_Z = 6; // 2 for 16-bit operand size, else 4
export const S_Y = 7; // 8 with 64-bit operand size, else 4
export const S_DQ = 8; // 16
export const S_N = 9; // native: 8 in 64-bit mode, else 4 (MOV CR/DR, INVPCID)
export const S_P = 10; // far pointer in memory: 2 + v
export const S_S = 11; // pseudo-descriptor: 6, or 10 in 64-bit mode
export const S_T = 12; // 10 bytes (m80fp, m80bcd)
export const S_E = 13; // FPU environment: 14 or 28
export const S_ST = 14; // FPU state: 94 or 108
export const S_FX = 15; // FXSAVE area: 512
export const S_A = 16; // BOUND pair: 2 * v

/** Packs one operand: method, register size, memory size, fixed register id. */
function packOp(method: number, rsz: number, msz: number, reg: number): number {
  return method | (rsz << 6) | (msz << 11) | (reg << 16);
}

// Row flags.
export const F_LOCK = 1;
export const F_D64 = 2;
export const F_F64 = 4;
export const F_O66 = 8;
export const F_MODRM = 16;
/** The row's pp constraint is 66 (so a 66 prefix is mandatory, not operand size, unless F_O66). */
export const F_PP66 = 32;

// Operand patterns the hot path decodes inline (decode.ts); FK_GENERIC goes through operand().
export const FK_GENERIC = 0;
export const FK_NONE = 1; // no operands
export const FK_EG = 2; // E, G of the same register size (ADD Ev,Gv; MOV Eb,Gb; TEST ...)
export const FK_GE = 3; // G, E or G, M of the same register size (MOV Gv,Ev; LEA Gv,M ...)
export const FK_EI = 4; // E, Ib/Iz/Ibs (group 1, MOV Ev,Iz, shifts by Ib ...)
export const FK_Z = 5; // one register in the opcode byte (PUSH/POP r, BSWAP ...)
export const FK_J = 6; // one relative branch (Jcc, JMP, CALL ...)

/** The fast-path kind of a row's operand list (FK_*). */
export function fastKind(ops: readonly number[]): number {
  const m = (i: number): number => ops[i]! & 63;
  const rsz = (i: number): number => (ops[i]! >> 6) & 31;
  if (ops.length === 0) return FK_NONE;
  if (ops.length === 1) return m(0) === A_Z ? FK_Z : m(0) === A_J ? FK_J : FK_GENERIC;
  if (ops.length !== 2) return FK_GENERIC;
  if (m(0) === A_E && m(1) === A_G && rsz(0) === rsz(1)) return FK_EG;
  if (m(0) === A_G && (m(1) === A_E || m(1) === A_M) && (m(1) === A_M || rsz(0) === rsz(1))) return FK_GE;
  if (m(0) === A_E && (m(1) === A_IBS || (m(1) === A_I && rsz(1) !== S_V))) return FK_EI;
  return FK_GENERIC;
}

/** One decodable form: what the hot path needs once the tree has selected it. */
export class Row {
  constructor(
    readonly mnemonic: number,
    readonly opCount: number,
    readonly op0: number,
    readonly op1: number,
    readonly op2: number,
    readonly op3: number,
    readonly flags: number,
    readonly cond: number,
    readonly pp: number,
    /** Number of qualifiers: the more, the more specific (see tables.ts). */
    readonly weight: number,
    readonly order: number,
    /** FK_*: the operand pattern's fast path. */
    readonly fast: number,
  ) {}
}

// Tree node kinds: what field the node splits on.
export const N_LEAF = 0;
export const N_MODE = 1; // 0: 16/32-bit, 1: 64-bit
export const N_PP = 2; // Pp
export const N_MOD = 3; // 0: memory, 1: register
export const N_REG = 4;
export const N_RM = 5;
export const N_W = 6;
export const N_B = 7;
export const N_OSZ = 8; // 0: 16, 1: 32, 2: 64
export const N_ASZ = 9; // 0: 16, 1: 32, 2: 64

/** A decode-tree node. Leaves carry a row (or null = invalid); inner nodes carry children. */
export class Node {
  constructor(
    readonly kind: number,
    readonly row: Row | null,
    readonly children: Node[],
    /** For N_OSZ nodes: the flags that decide the operand size (F_D64/F_F64/F_O66/F_PP66). */
    readonly flags: number,
  ) {}
}

interface Spec {
  row: Row;
  mode?: number; pp?: number; mod?: number; reg?: number; rm?: number; w?: number; b?: number;
  osz?: number; asz?: number;
}

const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

const FIXED: Record<string, number> = {
  AL: Reg.Al, CL: Reg.Cl, DX: Reg.Dx, AX: Reg.Ax, ES: Reg.Es, CS: Reg.Cs, SS: Reg.Ss, DS: Reg.Ds,
  FS: Reg.Fs, GS: Reg.Gs, ST0: Reg.St0,
};

const SIZES: Record<string, number> = {
  '': S_0, b: S_B, w: S_W, d: S_D, q: S_Q, v: S_V, z: S_Z, y: S_Y, dq: S_DQ, x: S_DQ, ps: S_DQ, pd: S_DQ,
  ss: S_D, sd: S_Q, n: S_N, p: S_P, s: S_S, a: S_A, f4: S_D, f8: S_Q, f10: S_T, e: S_E, st: S_ST, fx: S_FX,
};

const METHODS: Record<string, number> = {
  E: A_E, G: A_G, I: A_I, J: A_J, M: A_M, O: A_O, S: A_S, C: A_C, D: A_D, V: A_V, W: A_W, U: A_U,
  P: A_P, Q: A_Q, N: A_N, A: A_A, X: A_X, Y: A_Y, R: A_R, Z: A_Z, B: A_B,
};

function size(code: string, row: string): number {
  const s = SIZES[code];
  if (s === undefined) throw new Error(`decoder table: unknown size '${code}' in row '${row}'`);
  return s;
}

export function parseOperand(text: string, row: string): number {
  if (text in FIXED) return packOp(A_FIX, 0, 0, FIXED[text]!);
  switch (text) {
    case 'rAX': return packOp(A_ACC, S_V, 0, 0);
    case 'eAX': return packOp(A_ACC, S_Z, 0, 0);
    case 'STi': return packOp(A_STI, 0, 0, 0);
    case '1': return packOp(A_ONE, 0, 0, 0);
    case 'Ibs': return packOp(A_IBS, S_B, 0, 0);
    case 'Ib2': return packOp(A_IB2, S_B, 0, 0);
    case 'Iv': return packOp(A_I, S_V, 0, 0);
    case 'Xlat': return packOp(A_XLAT, 0, S_B, 0);
    case 'Xdi': return packOp(A_XDI, 0, S_0, 0);
    case 'Mf4': return packOp(A_M, 0, S_D, 0);
    case 'Mf8': return packOp(A_M, 0, S_Q, 0);
    case 'Mf10': return packOp(A_M, 0, S_T, 0);
    case 'Me': return packOp(A_M, 0, S_E, 0);
    case 'Mst': return packOp(A_M, 0, S_ST, 0);
    case 'Mfx': return packOp(A_M, 0, S_FX, 0);
  }
  // Split forms: "Ew/v" (memory w, register v), "Ry/Mb" (register y, memory b).
  let m = /^([A-Z])([a-z0-9]*)\/([a-z]+)$/.exec(text);
  if (m) {
    const method = METHODS[m[1]!]!;
    if (method === A_E) return packOp(A_E, size(m[3]!, row), size(m[2]!, row), 0);
    throw new Error(`decoder table: bad split operand '${text}' in row '${row}'`);
  }
  m = /^R([a-z]+)\/M([a-z]+)$/.exec(text);
  if (m) return packOp(A_E, size(m[1]!, row), size(m[2]!, row), 0);
  m = /^([A-Z])([a-z0-9]*)$/.exec(text);
  if (!m || METHODS[m[1]!] === undefined) throw new Error(`decoder table: unknown operand '${text}' in row '${row}'`);
  const s = size(m[2]!, row);
  return packOp(METHODS[m[1]!]!, s, s, 0);
}

function usesModrm(op: number): boolean {
  const a = op & 63;
  return a === A_E || a === A_G || a === A_M || a === A_S || a === A_C || a === A_D || a === A_V ||
    a === A_W || a === A_U || a === A_P || a === A_Q || a === A_N || a === A_R || a === A_STI;
}

export function mnemonicId(name: string, row: string): number {
  const key = name.charAt(0) + name.slice(1).toLowerCase();
  const id = (Mnemonic as unknown as Record<string, number>)[key];
  if (id === undefined) throw new Error(`decoder table: unknown mnemonic '${name}' in row '${row}'`);
  return id;
}

/** Parses every row into specs keyed by map << 8 | opcode. */
function parseRows(rows: readonly string[]): Map<number, Spec[]> {
  const out = new Map<number, Spec[]>();
  let order = 0;
  for (const text of rows) {
    const tok = text.trim().split(/\s+/);
    let opText = tok.shift()!;
    let expand = 1;
    let isCc = false;
    if (opText.endsWith('+r')) { expand = 8; opText = opText.slice(0, -2); }
    else if (opText.endsWith('+cc')) { expand = 16; isCc = true; opText = opText.slice(0, -3); }
    let map = 0;
    if (opText.startsWith('0F38')) { map = 2; opText = opText.slice(4); }
    else if (opText.startsWith('0F3A')) { map = 3; opText = opText.slice(4); }
    else if (opText.startsWith('0F') && opText.length === 4) { map = 1; opText = opText.slice(2); }
    const opcode = parseInt(opText, 16);
    const q: Omit<Spec, 'row'> = {};
    let weight = 0;
    let pp = -1;
    let flags = 0;
    let name = '';
    // Qualifiers until the mnemonic (the first all-letter token longer than 2 that is not a qualifier).
    while (tok.length) {
      const t = tok[0]!;
      let used = true;
      if (/^\/[0-7]$/.test(t)) q.reg = +t[1]!;
      else if (t === 'm') q.mod = 0;
      else if (t === 'r') q.mod = 1;
      else if (/^:[0-9A-F]{2}$/.test(t)) {
        const b = parseInt(t.slice(1), 16);
        q.mod = 1; q.reg = (b >> 3) & 7; q.rm = b & 7; weight += 2;
      } else if (t === 'NP') pp = 0;
      else if (t === '66') pp = 1;
      else if (t === 'F3') pp = 2;
      else if (t === 'F2') pp = 3;
      else if (t === 'W0' || t === 'W1') q.w = +t[1]!;
      else if (t === 'B0' || t === 'B1') q.b = +t[1]!;
      else if (t === 'o16' || t === 'o32' || t === 'o64') q.osz = t === 'o16' ? 0 : t === 'o32' ? 1 : 2;
      else if (t === 'a16' || t === 'a32' || t === 'a64') q.asz = t === 'a16' ? 0 : t === 'a32' ? 1 : 2;
      else if (t === 'i64') q.mode = 0;
      else if (t === 'x64') q.mode = 1;
      else used = false;
      if (!used) break;
      weight++;
      tok.shift();
    }
    if (pp >= 0) q.pp = pp;
    name = tok.shift() ?? '';
    if (!name) throw new Error(`decoder table: no mnemonic in row '${text}'`);
    let ops: number[] = [];
    for (const t of tok) {
      if (t === 'lock') flags |= F_LOCK;
      else if (t === 'd64') flags |= F_D64;
      else if (t === 'f64') flags |= F_F64;
      else if (t === 'o66') flags |= F_O66;
      else if (ops.length === 0 && /[A-Za-z0-9]/.test(t)) ops = t.split(',').map((o) => parseOperand(o, text));
      else throw new Error(`decoder table: unexpected '${t}' in row '${text}'`);
    }
    if (pp === 1) flags |= F_PP66;
    if (ops.some(usesModrm) || q.mod !== undefined || q.reg !== undefined || map >= 2 || (map === 0 && opcode >= 0xd8 && opcode <= 0xdf)) {
      flags |= F_MODRM;
    }
    for (let i = 0; i < expand; i++) {
      const mnem = isCc ? mnemonicId(name + CC[i]!.toUpperCase(), text) : mnemonicId(name, text);
      const row = new Row(mnem, ops.length, ops[0] ?? 0, ops[1] ?? 0, ops[2] ?? 0, ops[3] ?? 0, flags,
        isCc ? i : -1, pp < 0 ? 0 : pp, weight, order++, fastKind(ops));
      const key = (map << 8) | (opcode + i);
      let list = out.get(key);
      if (!list) out.set(key, (list = []));
      list.push({ row, ...q });
    }
  }
  return out;
}

type Dim = 'mode' | 'pp' | 'mod' | 'reg' | 'rm' | 'w' | 'b' | 'osz' | 'asz';
const DIMS: [Dim, number, number][] = [
  ['mode', N_MODE, 2], ['pp', N_PP, 4], ['mod', N_MOD, 2], ['reg', N_REG, 8], ['rm', N_RM, 8],
  ['w', N_W, 2], ['b', N_B, 2], ['osz', N_OSZ, 3], ['asz', N_ASZ, 3],
];

function buildNode(specs: Spec[], dim: number, where: string): Node {
  for (let d = dim; d < DIMS.length; d++) {
    const [key, kind, n] = DIMS[d]!;
    if (!specs.some((s) => s[key] !== undefined)) continue;
    let flags = 0;
    if (kind === N_OSZ) {
      flags = specs[0]!.row.flags & (F_D64 | F_F64 | F_O66 | F_PP66);
      for (const s of specs) {
        if ((s.row.flags & (F_D64 | F_F64 | F_O66 | F_PP66)) !== flags) {
          throw new Error(`decoder table: rows of ${where} split on operand size disagree on d64/f64/o66`);
        }
      }
    }
    const children: Node[] = [];
    for (let v = 0; v < n; v++) {
      children.push(buildNode(specs.filter((s) => s[key] === undefined || s[key] === v), d + 1, where));
    }
    return new Node(kind, null, children, flags);
  }
  let best: Row | null = null;
  for (const s of specs) {
    if (!best || s.row.weight > best.weight || (s.row.weight === best.weight && s.row.order > best.order)) best = s.row;
  }
  return new Node(N_LEAF, best, [], 0);
}

/** Decode trees for the four legacy maps: index map << 8 | opcode. */
export const LEGACY_TREES: Node[] = [];
/** 1 if the (map, opcode) has a ModRM byte. */
export const HAS_MODRM = new Uint8Array(4 * 256);

{
  const INVALID = new Node(N_LEAF, null, [], 0);
  const specs = parseRows(LEGACY_ROWS);
  for (let key = 0; key < 4 * 256; key++) {
    const list = specs.get(key);
    if (!list) { LEGACY_TREES.push(INVALID); continue; }
    const modrm = list.some((s) => (s.row.flags & F_MODRM) !== 0);
    if (modrm && !list.every((s) => (s.row.flags & F_MODRM) !== 0)) {
      throw new Error(`decoder table: opcode ${key.toString(16)} mixes rows with and without ModRM`);
    }
    HAS_MODRM[key] = modrm ? 1 : 0;
    LEGACY_TREES.push(buildNode(list, 0, key.toString(16)));
  }
  // Maps 0F 38 and 0F 3A always have a ModRM byte (SDM 2.1.2), even for undefined rows.
  for (let op = 0; op < 256; op++) { HAS_MODRM[0x200 | op] = 1; HAS_MODRM[0x300 | op] = 1; }
}
