/**
 * VEX / EVEX / XOP opcode facts: which (map, opcode, pp, L, W, ModRM form) are defined, so an
 * encoding is reported exactly as valid or #UD; and the full decode of the VEX-encoded
 * general-purpose instructions the CPU model implements (BMI1, BMI2).
 * Spec: Intel SDM Vol. 2 2.3 (VEX), 2.6 (EVEX), Appendix A.3 (the "v" rows of Tables A-3..A-5),
 * the instruction pages for L/W requirements; AMD APM Vol. 3 for XOP maps 8/9/A.
 *
 * Row syntax:  MAP OPCODES PPS L W [flags] [= MNEMONIC operands]
 *   MAP      0F, 0F38, 0F3A
 *   OPCODES  hex list with ranges: `54-57,5C`
 *   PPS      NP, 66, F3, F2 joined by commas
 *   L        L0, L1, LIG (ignored), L* (0 or 1)
 *   W        W0, W1, WIG
 *   flags    nv (VEX.vvvv must be 1111b), m (memory form only), r (register form only),
 *            /n (ModRM.reg), x64 (64-bit mode only), vsib (memory form with SIB required),
 *            k (opmask operands: VEX.R and vvvv[3] must be 0, only k0-k7 exist),
 *            tr (ModRM.reg is a tile register: VEX.R = 0), rm0 (ModRM.rm = 000b), sib (memory form
 *            with a SIB byte), t3 (tile reg, rm, vvvv: tmm0-7 only, all three different)
 *   = ...    a fully decoded row (operands in tables.ts notation plus `By`: GPR in VEX.vvvv)
 *
 * EVEX validity per instruction is in evex.ts.
 */
import { mnemonicId, parseOperand } from './build.js';
import { Encoding, Mnemonic } from './insn.js';

export const VEX_VALID = 1;
export const VEX_IMM8 = 2;
export const VEX_NO_MODRM = 4;

const VEX_ROWS: readonly string[] = [
  // ---- BMI1 / BMI2 (in the CPU model: decoded in full) ----
  '0F38 F2 NP L0 WIG = ANDN Gy,By,Ey',
  '0F38 F3 NP L0 WIG /1 = BLSR By,Ey', '0F38 F3 NP L0 WIG /2 = BLSMSK By,Ey', '0F38 F3 NP L0 WIG /3 = BLSI By,Ey',
  '0F38 F5 NP L0 WIG = BZHI Gy,Ey,By', '0F38 F5 F3 L0 WIG = PEXT Gy,By,Ey', '0F38 F5 F2 L0 WIG = PDEP Gy,By,Ey',
  '0F38 F6 F2 L0 WIG = MULX Gy,By,Ey',
  '0F38 F7 NP L0 WIG = BEXTR Gy,Ey,By', '0F38 F7 66 L0 WIG = SHLX Gy,Ey,By', '0F38 F7 F3 L0 WIG = SARX Gy,Ey,By',
  '0F38 F7 F2 L0 WIG = SHRX Gy,Ey,By',
  '0F3A F0 F2 L0 WIG nv = RORX Gy,Ey,Ib',

  // ---- AVX / AVX2 / F16C / FMA / AES / PCLMULQDQ / GFNI / AVX-VNNI (validity only) ----
  '0F 10,11 NP,66 L* WIG nv', '0F 10,11 F3,F2 LIG WIG r', '0F 10,11 F3,F2 LIG WIG m nv',
  '0F 12 NP L0 WIG', '0F 12 66 L0 WIG m', '0F 12 F3,F2 L* WIG nv', '0F 13 NP,66 L0 WIG m nv',
  '0F 14,15 NP,66 L* WIG', '0F 16 NP L0 WIG', '0F 16 66 L0 WIG m', '0F 16 F3 L* WIG nv', '0F 17 NP,66 L0 WIG m nv',
  '0F 28,29 NP,66 L* WIG nv', '0F 2A F3,F2 LIG WIG', '0F 2B NP,66 L* WIG m nv', '0F 2C,2D F3,F2 LIG WIG nv',
  '0F 2E,2F NP,66 LIG WIG nv',
  '0F 50 NP,66 L* WIG r nv', '0F 51 NP,66 L* WIG nv', '0F 51 F3,F2 LIG WIG', '0F 52,53 NP L* WIG nv',
  '0F 52,53 F3 LIG WIG', '0F 54-57 NP,66 L* WIG', '0F 58,59,5C-5F NP,66 L* WIG', '0F 58,59,5C-5F F3,F2 LIG WIG',
  '0F 5A NP,66 L* WIG nv', '0F 5A F3,F2 LIG WIG', '0F 5B NP,66,F3 L* WIG nv',
  '0F 60-6D 66 L* WIG', '0F 6E 66 L0 WIG nv', '0F 6F 66,F3 L* WIG nv', '0F 70 66,F3,F2 L* WIG nv',
  '0F 71 66 L* WIG r /2', '0F 71 66 L* WIG r /4', '0F 71 66 L* WIG r /6',
  '0F 72 66 L* WIG r /2', '0F 72 66 L* WIG r /4', '0F 72 66 L* WIG r /6',
  '0F 73 66 L* WIG r /2', '0F 73 66 L* WIG r /3', '0F 73 66 L* WIG r /6', '0F 73 66 L* WIG r /7',
  '0F 74-76 66 L* WIG', '0F 77 NP L* WIG nv', '0F 7C,7D 66,F2 L* WIG', '0F 7E 66 L0 WIG nv', '0F 7E F3 L0 WIG nv',
  '0F 7F 66,F3 L* WIG nv',
  '0F C2 NP,66 L* WIG', '0F C2 F3,F2 LIG WIG', '0F C4 66 L0 WIG', '0F C5 66 L0 WIG r nv', '0F C6 NP,66 L* WIG',
  '0F D0 66,F2 L* WIG', '0F D1-D5 66 L* WIG', '0F D6 66 L0 WIG nv', '0F D7 66 L* WIG r nv', '0F D8-DF 66 L* WIG',
  '0F E0-E5 66 L* WIG', '0F E6 66,F3,F2 L* WIG nv', '0F E7 66 L* WIG m nv', '0F E8-EF 66 L* WIG',
  '0F F0 F2 L* WIG m nv', '0F F1-F6 66 L* WIG', '0F F7 66 L0 WIG r nv', '0F F8-FE 66 L* WIG',
  '0F38 00-0B 66 L* WIG', '0F38 0C,0D 66 L* W0', '0F38 0E,0F 66 L* W0 nv', '0F38 13 66 L* W0 nv',
  '0F38 16 66 L1 W0', '0F38 17 66 L* WIG nv', '0F38 18 66 L* W0 nv', '0F38 19 66 L1 W0 nv', '0F38 1A 66 L1 W0 m nv',
  '0F38 1C-1E 66 L* WIG nv', '0F38 20-25 66 L* WIG nv', '0F38 28,29,2B 66 L* WIG', '0F38 2A 66 L* WIG m nv',
  '0F38 2C-2F 66 L* W0 m', '0F38 30-35 66 L* WIG nv', '0F38 36 66 L1 W0', '0F38 37-40 66 L* WIG',
  '0F38 41 66 L0 WIG nv', '0F38 45,47 66 L* WIG', '0F38 46 66 L* W0', '0F38 50-53 66 L* W0',
  '0F38 58,59 66 L* W0 nv', '0F38 5A 66 L1 W0 m nv', '0F38 78,79 66 L* W0 nv', '0F38 8C,8E 66 L* WIG m',
  '0F38 90-93 66 L* WIG vsib',
  '0F38 96-98,9A,9C,9E,A6-A8,AA,AC,AE,B6-B8,BA,BC,BE 66 L* WIG',
  '0F38 99,9B,9D,9F,A9,AB,AD,AF,B9,BB,BD,BF 66 LIG WIG',
  '0F38 CF 66 L* W0', '0F38 DB 66 L0 WIG nv', '0F38 DC-DF 66 L* WIG',
  '0F3A 00,01 66 L1 W1 nv', '0F3A 02 66 L* W0', '0F3A 04,05 66 L* W0 nv', '0F3A 06 66 L1 W0',
  '0F3A 08,09 66 L* WIG nv', '0F3A 0A,0B 66 LIG WIG', '0F3A 0C-0F 66 L* WIG', '0F3A 14-17 66 L0 WIG nv',
  '0F3A 18 66 L1 W0', '0F3A 19 66 L1 W0 nv', '0F3A 1D 66 L* W0 nv', '0F3A 20-22 66 L0 WIG',
  '0F3A 38 66 L1 W0', '0F3A 39 66 L1 W0 nv', '0F3A 40 66 L* WIG', '0F3A 41 66 L0 WIG', '0F3A 42,44 66 L* WIG',
  '0F3A 46 66 L1 W0', '0F3A 4A-4C 66 L* W0', '0F3A 60-63 66 L0 WIG nv', '0F3A CE,CF 66 L* W1',
  '0F3A DF 66 L0 WIG nv', '0F AE NP L0 WIG m nv /2', '0F AE NP L0 WIG m nv /3',
  // AVX-512 opmask instructions (VEX-encoded, SDM Vol. 2 KANDW etc.)
  '0F 41,42,45-47,4A NP,66 L1 WIG r k', '0F 44 NP,66 L0 WIG r nv k', '0F 4B 66 L1 W0 r k', '0F 4B NP L1 WIG r k',
  '0F 90 NP,66 L0 WIG nv k', '0F 91 NP,66 L0 WIG m nv k', '0F 92 NP,66 L0 W0 r nv k', '0F 92 F2 L0 WIG r nv k', '0F 93 NP,66 L0 W0 r nv', '0F 93 F2 L0 WIG r nv',
  '0F 98,99 NP,66 L0 WIG r nv k', '0F3A 30-33 66 L0 WIG r nv k',
  // AVX-VNNI-INT8/INT16, AVX-NE-CONVERT, AVX-IFMA, SM3, SM4, SHA512, CMPccXADD (newer VEX rows)
  '0F38 50,51 NP,F3,F2 L* W0', '0F38 D2,D3 NP,66,F3 L* W0', '0F38 B0 NP,66,F3,F2 L* W0 m nv',
  '0F38 B1 66,F3 L* W0 m nv', '0F38 72 F3 L* W0 nv', '0F38 B4,B5 66 L* W1', '0F38 DA NP,66 L0 W0',
  '0F38 DA F3,F2 L* W0', '0F3A DE 66 L0 W0',
  // AMX (64-bit mode only; SDM Vol. 2 LDTILECFG, TILELOADD, TDPBSSD ...)
  '0F38 49 NP,66 L0 W0 m nv x64 /0', '0F38 49 NP L0 W0 r nv x64 /0 rm0', '0F38 49 F2 L0 W0 r nv x64 rm0 tr',
  '0F38 4B 66,F3,F2 L0 W0 m nv x64 sib tr',
  '0F38 5E NP,66,F3,F2 L0 W0 r x64 t3', '0F38 5C F3,F2 L0 W0 r x64 t3', '0F38 6C NP,66 L0 W0 r x64 t3', '0F38 CB F2 L1 W0 r', '0F38 CC,CD F2 L1 W0 r nv', '0F38 E0-EF 66 L0 WIG m x64',
];

/** One VEX row: constraints plus, for the implemented rows, the decode (mnemonic id and operand specs). */
export class VexRow {
  constructor(
    readonly l: number, // -1 any, 0, 1
    readonly w: number, // -1 any, 0, 1
    readonly nv: boolean,
    readonly mod: number, // -1 any, 0 memory, 1 register
    readonly reg: number, // -1 any
    readonly x64: boolean,
    readonly vsib: boolean,
    readonly k: boolean,
    /** AMX checks: 1 tr, 2 rm0, 4 sib, 8 t3. */
    readonly amx: number,
    /** Mnemonic id; VexUnsupported for validity-only rows. */
    readonly mnemonic: number,
    readonly opCount: number,
    readonly op0: number,
    readonly op1: number,
    readonly op2: number,
  ) {}
}

/** key: map << 10 | pp << 8 | opcode (map 1..3). */
export const VEX_TABLE = new Map<number, VexRow[]>();

{
  for (const text of VEX_ROWS) {
    const [head, decodeText = ''] = text.split(' = ');
    const tok = head!.trim().split(/\s+/);
    const map = tok[0] === '0F' ? 1 : tok[0] === '0F38' ? 2 : tok[0] === '0F3A' ? 3 : 0;
    if (!map) throw new Error(`vex table: bad map in '${text}'`);
    const ops: number[] = [];
    for (const part of tok[1]!.split(',')) {
      const [a, b] = part.split('-');
      for (let o = parseInt(a!, 16); o <= parseInt(b ?? a!, 16); o++) ops.push(o);
    }
    const pps = tok[2]!.split(',').map((p) => ['NP', '66', 'F3', 'F2'].indexOf(p));
    const l = tok[3] === 'L0' ? 0 : tok[3] === 'L1' ? 1 : -1;
    const w = tok[4] === 'W0' ? 0 : tok[4] === 'W1' ? 1 : -1;
    const flags = tok.slice(5);
    let reg = -1;
    for (const f of flags) if (/^\/[0-7]$/.test(f)) reg = +f[1]!;
    const dt = decodeText.trim().split(/\s+/);
    const mnem = dt[0] ? mnemonicId(dt[0], text) : Mnemonic.VexUnsupported;
    const specs = dt[1] ? dt[1].split(',').map((o) => parseOperand(o, text)) : [];
    const row = new VexRow(l, w, flags.includes('nv'), flags.includes('m') ? 0 : flags.includes('r') ? 1 : -1, reg,
      flags.includes('x64'), flags.includes('vsib'), flags.includes('k'),
      (flags.includes('tr') ? 1 : 0) | (flags.includes('rm0') ? 2 : 0) | (flags.includes('sib') ? 4 : 0) | (flags.includes('t3') ? 8 : 0), mnem, specs.length, specs[0] ?? 0, specs[1] ?? 0, specs[2] ?? 0);
    for (const op of ops) {
      for (const pp of pps) {
        if (pp < 0) throw new Error(`vex table: bad pp in '${text}'`);
        const key = (map << 10) | (pp << 8) | op;
        let list = VEX_TABLE.get(key);
        if (!list) VEX_TABLE.set(key, (list = []));
        list.push(row);
      }
    }
  }
}

/**
 * Finds the VEX row for an encoding, or null (#UD). `vvvvAll1` is whether VEX.vvvv is 1111b
 * (all four bits, even outside 64-bit mode where only three select a register).
 */
export function findVexRow(map: number, opcode: number, pp: number, l: number, w: number, modrm: number, vvvvAll1: boolean, mode: number, asz16: boolean, rxb: number, vvvv: number, sib = -1): VexRow | null {
  const list = VEX_TABLE.get((map << 10) | (pp << 8) | opcode);
  if (list === undefined) return null;
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (r.l >= 0 && r.l !== l) continue;
    if (r.w >= 0 && r.w !== w) continue;
    if (r.mod === 0 && modrm >= 0xc0) continue;
    if (r.mod === 1 && modrm < 0xc0) continue;
    if (r.reg >= 0 && ((modrm >> 3) & 7) !== r.reg) continue;
    if (r.x64 && mode !== 64) continue;
    if (r.nv && !vvvvAll1) continue;
    if (r.k && ((rxb & 4) !== 0 || vvvv > 7)) continue;
    if (r.amx !== 0) {
      const reg = (modrm >> 3) & 7;
      if ((r.amx & 1) !== 0 && (rxb & 4) !== 0) continue;
      if ((r.amx & 2) !== 0 && (modrm & 7) !== 0) continue;
      if ((r.amx & 4) !== 0 && (modrm & 7) !== 4) continue;
      // TDP*: #UD unless the three tiles are tmm0-7 and all different (SDM Vol. 2 TDPBSSD).
      if ((r.amx & 8) !== 0 && ((rxb & 5) !== 0 || vvvv > 7 || reg === (modrm & 7) || reg === vvvv || (modrm & 7) === vvvv)) continue;
    }
    if (r.vsib) {
      if (modrm >= 0xc0 || (modrm & 7) !== 4 || asz16) continue;
      // Gathers: #UD if any two of destination, index and mask are the same register (SDM VGATHERDPS etc.).
      const dest = ((modrm >> 3) & 7) | ((rxb & 4) << 1);
      const index = ((sib >> 3) & 7) | ((rxb & 2) << 2);
      if (dest === index || dest === vvvv || index === vvvv) continue;
    }
    return r;
  }
  return null;
}

/** Returns VEX_IMM8 / VEX_NO_MODRM bits for an opcode (they depend only on map and opcode). */
export function vexInfo(kind: number, map: number, opcode: number): number {
  if (kind === Encoding.Xop) {
    if (map === 8) return VEX_VALID | VEX_IMM8;
    if (map === 9) return VEX_VALID;
    return 0;
  }
  if (map === 1) {
    if (opcode === 0x77 && kind === Encoding.Vex) return VEX_VALID | VEX_NO_MODRM;
    if ((opcode >= 0x70 && opcode <= 0x73) || opcode === 0xc2 || opcode === 0xc4 || opcode === 0xc5 || opcode === 0xc6) {
      return VEX_VALID | VEX_IMM8;
    }
    return VEX_VALID;
  }
  if (map === 2) return VEX_VALID;
  if (map === 3) return VEX_VALID | VEX_IMM8;
  if (kind === Encoding.Evex && (map === 5 || map === 6)) return VEX_VALID;
  return 0;
}
