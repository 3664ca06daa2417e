/**
 * EVEX (AVX-512) opcode validity: which (map, opcode, pp, W, L'L, ModRM form) exist and what each
 * instruction allows of EVEX.b (broadcast / rounding / SAE), EVEX.aaa and EVEX.z, so an EVEX
 * encoding is reported exactly as valid or #UD. The CPU model has no AVX-512 (it raises #UD for
 * all of them); this table only makes the decoder's verdict exact.
 * Spec: Intel SDM Vol. 2 2.6 (EVEX: 2.6.1 bit fields, 2.6.4 opmask, 2.6.8 L'L and rounding,
 * 2.6.10 vector SIB), 2.7 (exception classes E1..E12 with their #UD conditions: EVEX.vvvv != 1111b,
 * EVEX.z with a memory destination, EVEX.b where not supported, k0 for gathers/scatters), the
 * instruction pages (each EVEX form's W, L'L, pp, map and {k1}{z}/{er}/{sae}/bcst), and the
 * AVX512-FP16 specification (maps 5 and 6).
 *
 * Row syntax:  MAP OPCODES PPS L W [flags]
 *   MAP      0F, 0F38, 0F3A, M5 (map 5), M6 (map 6)
 *   OPCODES  hex list with ranges: `58,59,5C-5F`
 *   PPS      NP, 66, F3, F2 joined by commas
 *   L        vector lengths allowed by EVEX.L'L: L* (128/256/512), L0, L12 (256/512), L2 (512),
 *            LIG (scalar: L'L ignored, but 11b is reserved)
 *   W        W0, W1, WIG
 *   flags    nv  EVEX.vvvv = 1111b and EVEX.V' = 1 (no NDS operand)
 *            m / r  memory / register form of ModRM only;  /n  ModRM.reg = n
 *            b   EVEX.b on a memory form: embedded broadcast
 *            er / sae  EVEX.b on a register form: rounding control / suppress all exceptions
 *                (L'L is then the rounding mode, not a vector length)
 *            nz  no zeroing-masking (EVEX.z = 0): compares into k, opmask-only forms
 *            nk  no masking at all (EVEX.aaa = 000b, z = 0)
 *            mk  an opmask is required (aaa != 000b, z = 0): gathers, scatters, gather prefetches
 *            st  memory destination: EVEX.z = 0 on the memory form
 *            kr  ModRM.reg names an opmask register: EVEX.R and EVEX.R' must not extend it
 *            vsib  vector SIB memory operand (SIB required, no 16-bit addressing); V' extends
 *                the index, so only vvvv must be 1111b
 *            g   gather: the destination may not be the index register
 *            c   complex FP16 multiply: the destination may not be either source register
 */

const EVEX_ROWS: readonly string[] = [
  // ---- map 0F ----
  '0F 10 NP L* W0 nv', '0F 10 66 L* W1 nv', '0F 10 F3 LIG W0 r', '0F 10 F3 LIG W0 m nv', '0F 10 F2 LIG W1 r', '0F 10 F2 LIG W1 m nv',
  '0F 11 NP L* W0 nv st', '0F 11 66 L* W1 nv st', '0F 11 F3 LIG W0 r', '0F 11 F3 LIG W0 m nv st', '0F 11 F2 LIG W1 r',
  '0F 11 F2 LIG W1 m nv st',
  '0F 12 NP L0 W0 nk', '0F 12 66 L0 W1 m nk', '0F 12 F3 L* W0 nv', '0F 12 F2 L* W1 nv',
  '0F 13 NP L0 W0 m nv nk', '0F 13 66 L0 W1 m nv nk',
  '0F 14,15 NP L* W0 b', '0F 14,15 66 L* W1 b',
  '0F 16 NP L0 W0 nk', '0F 16 66 L0 W1 m nk', '0F 16 F3 L* W0 nv',
  '0F 17 NP L0 W0 m nv nk', '0F 17 66 L0 W1 m nv nk',
  '0F 28 NP L* W0 nv', '0F 28 66 L* W1 nv', '0F 29 NP L* W0 nv st', '0F 29 66 L* W1 nv st',
  '0F 2A F3,F2 LIG WIG er nk',
  '0F 2B NP L* W0 m nv nk', '0F 2B 66 L* W1 m nv nk',
  '0F 2C F3,F2 LIG WIG nv nk sae', '0F 2D F3,F2 LIG WIG nv nk er',
  '0F 2E,2F NP LIG W0 nv nk sae', '0F 2E,2F 66 LIG W1 nv nk sae',
  '0F 51 NP L* W0 nv b er', '0F 51 66 L* W1 nv b er', '0F 51 F3 LIG W0 er', '0F 51 F2 LIG W1 er',
  '0F 54-57 NP L* W0 b', '0F 54-57 66 L* W1 b',
  '0F 58,59,5C,5E NP L* W0 b er', '0F 58,59,5C,5E 66 L* W1 b er', '0F 58,59,5C,5E F3 LIG W0 er',
  '0F 58,59,5C,5E F2 LIG W1 er',
  '0F 5D,5F NP L* W0 b sae', '0F 5D,5F 66 L* W1 b sae', '0F 5D,5F F3 LIG W0 sae', '0F 5D,5F F2 LIG W1 sae',
  '0F 5A NP L* W0 nv b sae', '0F 5A 66 L* W1 nv b er', '0F 5A F3 LIG W0 sae', '0F 5A F2 LIG W1 er',
  '0F 5B NP L* WIG nv b er', '0F 5B 66 L* W0 nv b er', '0F 5B F3 L* W0 nv b sae',
  '0F 60,61,63,67,68,69 66 L* WIG', '0F 62,6A,6B 66 L* W0 b', '0F 6C,6D 66 L* W1 b',
  '0F 64,65 66 L* WIG kr nz', '0F 66 66 L* W0 b kr nz',
  '0F 6E 66 L0 WIG nv nk',
  '0F 6F 66,F3,F2 L* WIG nv',
  '0F 70 66 L* W0 nv b', '0F 70 F3,F2 L* WIG nv',
  '0F 71 66 L* WIG /2', '0F 71 66 L* WIG /4', '0F 71 66 L* WIG /6',
  '0F 72 66 L* WIG b /0', '0F 72 66 L* WIG b /1', '0F 72 66 L* W0 b /2', '0F 72 66 L* WIG b /4', '0F 72 66 L* W0 b /6',
  '0F 73 66 L* W1 b /2', '0F 73 66 L* WIG nk /3', '0F 73 66 L* W1 b /6', '0F 73 66 L* WIG nk /7',
  '0F 74,75 66 L* WIG kr nz', '0F 76 66 L* W0 b kr nz',
  '0F 78 NP,66 L* WIG nv b sae', '0F 78 F3,F2 LIG WIG nv nk sae',
  '0F 79 NP,66 L* WIG nv b er', '0F 79 F3,F2 LIG WIG nv nk er',
  '0F 7A 66 L* WIG nv b sae', '0F 7A F3 L* W0 nv b', '0F 7A F3 L* W1 nv b er', '0F 7A F2 L* WIG nv b er',
  '0F 7B 66 L* WIG nv b er', '0F 7B F3,F2 LIG WIG er nk',
  '0F 7E 66 L0 WIG nv nk', '0F 7E F3 L0 W1 nv nk',
  '0F 7F 66,F3,F2 L* WIG nv st',
  '0F C2 NP L* W0 b sae kr nz', '0F C2 66 L* W1 b sae kr nz', '0F C2 F3 LIG W0 sae kr nz', '0F C2 F2 LIG W1 sae kr nz',
  '0F C4 66 L0 WIG nk', '0F C5 66 L0 WIG r nv nk',
  '0F C6 NP L* W0 b', '0F C6 66 L* W1 b',
  '0F D1,D5,D8,D9,DA,DC,DD,DE,E0,E1,E3,E4,E5,E8,E9,EA,EC,ED,EE,F1,F5,F8,F9,FC,FD 66 L* WIG',
  '0F D2,F2 66 L* W0', '0F D3,F3 66 L* W1', '0F E2 66 L* WIG',
  '0F D4,F4,FB 66 L* W1 b', '0F FA,FE 66 L* W0 b', '0F DB,DF,EB,EF 66 L* WIG b',
  '0F D6 66 L0 W1 nv nk',
  '0F E6 66 L* W1 nv b sae', '0F E6 F3 L* W0 nv b', '0F E6 F3 L* W1 nv b er', '0F E6 F2 L* W1 nv b er',
  '0F E7 66 L* W0 m nv nk',
  '0F F6 66 L* WIG nk',

  // ---- map 0F 38 ----
  '0F38 00,04,0B,38,3A,3C,3E 66 L* WIG', '0F38 1C,1D 66 L* WIG nv',
  '0F38 0C 66 L* W0 b', '0F38 0D 66 L* W1 b',
  '0F38 10-12 66 L* W1', '0F38 10-15,20-25,30-35 F3 L* W0 nv st',
  '0F38 13 66 L* W0 nv sae', '0F38 14,15 66 L* WIG b',
  '0F38 16 66 L12 WIG b', '0F38 18 66 L* W0 nv', '0F38 19 66 L12 WIG nv',
  '0F38 1A 66 L12 WIG m nv', '0F38 1B 66 L2 WIG m nv',
  '0F38 1E 66 L* W0 nv b', '0F38 1F 66 L* W1 nv b',
  '0F38 20-24,30-34 66 L* WIG nv', '0F38 25,35 66 L* W0 nv',
  '0F38 26 66,F3 L* WIG kr nz', '0F38 27 66,F3 L* WIG b kr nz',
  '0F38 28 66 L* W1 b', '0F38 28,38 F3 L* WIG r nv nk',
  '0F38 29 66 L* W1 b kr nz', '0F38 29,39 F3 L* WIG r nv nk kr',
  '0F38 2A 66 L* W0 m nv nk', '0F38 2A F3 L* W1 r nv nk', '0F38 3A F3 L* W0 r nv nk',
  '0F38 2B 66 L* W0 b', '0F38 2C 66 L* WIG b er', '0F38 2D 66 LIG WIG er',
  '0F38 36 66 L12 WIG b', '0F38 37 66 L* W1 b kr nz',
  '0F38 39,3B,3D,3F,40 66 L* WIG b',
  '0F38 42 66 L* WIG nv b sae', '0F38 43 66 LIG WIG sae', '0F38 44 66 L* WIG nv b',
  '0F38 45-47 66 L* WIG b',
  '0F38 4C,4E 66 L* WIG nv b', '0F38 4D,4F 66 LIG WIG',
  '0F38 50-53 66 L* W0 b', '0F38 52 F3 L* W0 b', '0F38 52,53 F2 L2 W0 m',
  '0F38 54 66 L* WIG nv', '0F38 55 66 L* WIG nv b',
  '0F38 58,79 66 L* W0 nv', '0F38 78 66 L* W0 nv', '0F38 59 66 L* WIG nv',
  '0F38 5A 66 L12 WIG m nv', '0F38 5B 66 L2 WIG m nv',
  '0F38 62 66 L* WIG nv', '0F38 63 66 L* WIG nv st',
  '0F38 64,65 66 L* WIG b', '0F38 66 66 L* WIG',
  '0F38 68 F2 L* WIG b kr nk',
  '0F38 70,72 66 L* W1', '0F38 71,73 66 L* WIG b', '0F38 72 F3 L* W0 nv b', '0F38 72 F2 L* W0 b',
  '0F38 75,7D,8D 66 L* WIG', '0F38 76,77,7E,7F 66 L* WIG b',
  '0F38 7A,7B 66 L* W0 r nv', '0F38 7C 66 L* WIG r nv',
  '0F38 83 66 L* W1 b',
  '0F38 88,89 66 L* WIG nv', '0F38 8A,8B 66 L* WIG nv st',
  '0F38 8F 66 L* W0 kr nz',
  '0F38 90-93 66 L* WIG vsib mk g', '0F38 A0-A3 66 L* WIG vsib mk',
  '0F38 96-98,9A,9C,9E,A6-A8,AA,AC,AE,B6-B8,BA,BC,BE 66 L* WIG b er',
  '0F38 99,9B,9D,9F,A9,AB,AD,AF,B9,BB,BD,BF 66 LIG WIG er',
  '0F38 9A,AA F2 L2 W0 m', '0F38 9B,AB F2 LIG W0 m',
  '0F38 B4,B5 66 L* W1 b',
  '0F38 C4 66 L* WIG nv b',
  '0F38 C6,C7 66 L2 WIG vsib mk /1', '0F38 C6,C7 66 L2 WIG vsib mk /2', '0F38 C6,C7 66 L2 WIG vsib mk /5',
  '0F38 C6,C7 66 L2 WIG vsib mk /6',
  '0F38 C8,CA,CC 66 L2 WIG nv b sae', '0F38 CB,CD 66 LIG WIG sae',
  '0F38 CF 66 L* W0',
  '0F38 DC-DF 66 L* WIG nk',

  // ---- map 0F 3A ----
  '0F3A 00,01 66 L12 W1 nv b', '0F3A 03 66 L* WIG b', '0F3A 04 66 L* W0 nv b', '0F3A 05 66 L* W1 nv b',
  '0F3A 08 66 L* W0 nv b sae', '0F3A 09 66 L* W1 nv b sae', '0F3A 0A 66 LIG W0 sae', '0F3A 0B 66 LIG W1 sae', '0F3A 0F 66 L* WIG',
  '0F3A 14-17 66 L0 WIG nv nk',
  '0F3A 18,38 66 L12 WIG', '0F3A 19,39 66 L12 WIG nv st', '0F3A 1A,3A 66 L2 WIG', '0F3A 1B,3B 66 L2 WIG nv st',
  '0F3A 1D 66 L* W0 nv st sae',
  '0F3A 1E,1F 66 L* WIG b kr nz', '0F3A 3E,3F 66 L* WIG kr nz',
  '0F3A 20,22 66 L0 WIG nk', '0F3A 21 66 L0 W0 nk',
  '0F3A 23,43 66 L12 WIG b', '0F3A 25 66 L* WIG b',
  '0F3A 26 66 L* WIG nv b sae', '0F3A 27 66 LIG WIG sae',
  '0F3A 42 66 L* W0', '0F3A 44 66 L* WIG nk',
  '0F3A 50,54 66 L* WIG b sae', '0F3A 51,55 66 LIG WIG sae',
  '0F3A 56 66 L* WIG nv b sae', '0F3A 57 66 LIG WIG sae',
  '0F3A 66 66 L* WIG nv b kr nz', '0F3A 67 66 LIG WIG nv kr nz',
  '0F3A 70,72 66 L* W1', '0F3A 71,73 66 L* WIG b',
  '0F3A CE,CF 66 L* W1 b',
  // AVX512-FP16 rows in map 0F 3A
  '0F3A 08,26,56 NP L* W0 nv b sae', '0F3A 0A,27,57 NP LIG W0 sae',
  '0F3A 66 NP L* W0 nv b kr nz', '0F3A 67 NP LIG W0 nv kr nz',
  '0F3A C2 NP L* W0 b sae kr nz', '0F3A C2 F3 LIG W0 sae kr nz',

  // ---- map 5 (AVX512-FP16) ----
  'M5 10 F3 LIG W0 r', 'M5 10 F3 LIG W0 m nv', 'M5 11 F3 LIG W0 r', 'M5 11 F3 LIG W0 m nv st',
  'M5 1D 66 L* W0 nv b er', 'M5 1D NP LIG W0 er',
  'M5 2A,7B F3 LIG WIG er nk', 'M5 2C,78 F3 LIG WIG nv nk sae', 'M5 2D,79 F3 LIG WIG nv nk er',
  'M5 2E,2F NP LIG W0 nv nk sae',
  'M5 51 NP L* W0 nv b er', 'M5 51 F3 LIG W0 er',
  'M5 58,59,5C,5E NP L* W0 b er', 'M5 58,59,5C,5E F3 LIG W0 er',
  'M5 5D,5F NP L* W0 b sae', 'M5 5D,5F F3 LIG W0 sae',
  'M5 5A NP L* W0 nv b sae', 'M5 5A 66 L* W1 nv b er', 'M5 5A F3 LIG W0 sae', 'M5 5A F2 LIG W1 er',
  'M5 5B NP L* WIG nv b er', 'M5 5B 66 L* W0 nv b er', 'M5 5B F3 L* W0 nv b sae',
  'M5 6E,7E 66 L0 W0 nv nk',
  'M5 78,7C NP,66 L* W0 nv b sae', 'M5 79,7D NP,66 L* W0 nv b er',
  'M5 7A 66 L* W0 nv b sae', 'M5 7A F2 L* WIG nv b er', 'M5 7B 66 L* W0 nv b er',
  'M5 7D F3,F2 L* W0 nv b er',

  // ---- map 6 (AVX512-FP16) ----
  'M6 13 66 L* W0 nv b sae', 'M6 13 NP LIG W0 sae',
  'M6 2C 66 L* W0 b er', 'M6 2D 66 LIG W0 er',
  'M6 42 66 L* W0 nv b sae', 'M6 43 66 LIG W0 sae',
  'M6 4C,4E 66 L* W0 nv b', 'M6 4D,4F 66 LIG W0',
  'M6 56,D6 F3,F2 L* W0 b er c', 'M6 57,D7 F3,F2 LIG W0 er c',
  'M6 96-98,9A,9C,9E,A6-A8,AA,AC,AE,B6-B8,BA,BC,BE 66 L* W0 b er',
  'M6 99,9B,9D,9F,A9,AB,AD,AF,B9,BB,BD,BF 66 LIG W0 er',
];

/** Flag bits of an EVEX row. */
const F_NV = 1, F_BCST = 2, F_ER = 4, F_SAE = 8, F_NZ = 16, F_NK = 32, F_MK = 64, F_ST = 128, F_KR = 256, F_VSIB = 512, F_G = 1024, F_C = 2048;

/** One EVEX row: its constraints (see the row syntax above). */
class EvexRow {
  constructor(
    /** Bit n set: EVEX.L'L = n allowed (without rounding/SAE). */
    readonly lMask: number,
    readonly w: number, // -1 any
    readonly mod: number, // -1 any, 0 memory, 1 register
    readonly reg: number, // -1 any
    readonly flags: number,
  ) {}
}

/** key: map << 10 | pp << 8 | opcode (map 1, 2, 3, 5, 6). */
const EVEX_TABLE = new Map<number, EvexRow[]>();

{
  const MAPS: Record<string, number> = { '0F': 1, '0F38': 2, '0F3A': 3, M5: 5, M6: 6 };
  const LS: Record<string, number> = { 'L*': 7, L0: 1, L12: 6, L2: 4, LIG: 7 };
  const FLAGS: Record<string, number> = { nv: F_NV, b: F_BCST, er: F_ER, sae: F_SAE, nz: F_NZ, nk: F_NK, mk: F_MK, st: F_ST, kr: F_KR, vsib: F_VSIB, g: F_G, c: F_C };
  for (const text of EVEX_ROWS) {
    const tok = text.trim().split(/\s+/);
    const map = MAPS[tok[0]!];
    const lMask = LS[tok[3]!];
    if (map === undefined || lMask === undefined) throw new Error(`evex table: bad map or L in '${text}'`);
    const ops: number[] = [];
    for (const part of tok[1]!.split(',')) {
      const [a, b] = part.split('-');
      for (let o = parseInt(a!, 16); o <= parseInt(b ?? a!, 16); o++) ops.push(o);
    }
    const pps = tok[2]!.split(',').map((p) => ['NP', '66', 'F3', 'F2'].indexOf(p));
    const w = tok[4] === 'W0' ? 0 : tok[4] === 'W1' ? 1 : tok[4] === 'WIG' ? -1 : NaN;
    if (Number.isNaN(w)) throw new Error(`evex table: bad W in '${text}'`);
    let mod = -1;
    let reg = -1;
    let flags = 0;
    for (const f of tok.slice(5)) {
      if (f === 'm') mod = 0;
      else if (f === 'r') mod = 1;
      else if (/^\/[0-7]$/.test(f)) reg = +f[1]!;
      else if (FLAGS[f] !== undefined) flags |= FLAGS[f];
      else throw new Error(`evex table: bad flag '${f}' in '${text}'`);
    }
    const row = new EvexRow(lMask, w, mod, reg, flags);
    for (const op of ops) {
      for (const pp of pps) {
        if (pp < 0) throw new Error(`evex table: bad pp in '${text}'`);
        const key = (map << 10) | (pp << 8) | op;
        let list = EVEX_TABLE.get(key);
        if (!list) EVEX_TABLE.set(key, (list = []));
        list.push(row);
      }
    }
  }
}

/** Whether any row exists for (map, pp, opcode): the opcode is an EVEX instruction at all. */
export function evexOpcodeExists(map: number, pp: number, opcode: number): boolean {
  return EVEX_TABLE.has((map << 10) | (pp << 8) | opcode);
}

/**
 * Whether an EVEX encoding is a defined instruction (the general rules of SDM 2.6.1 are checked
 * by the caller). p0..p2 are the three payload bytes after 62h, `sib` the SIB byte or -1.
 */
export function evexValid(map: number, opcode: number, p0: number, p1: number, p2: number, modrm: number, sib: number, mode: number, asz16: boolean): boolean {
  const list = EVEX_TABLE.get((map << 10) | ((p1 & 3) << 8) | opcode);
  if (list === undefined) return false;
  const w = p1 >> 7;
  const l = (p2 >> 5) & 3;
  const b = (p2 >> 4) & 1;
  const z = p2 >> 7;
  const aaa = p2 & 7;
  const vvvv4 = (~p1 >> 3) & 15;
  const vHigh = (~p2 >> 3) & 1; // EVEX.V' un-inverted
  const isReg = modrm >= 0xc0;
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    const f = r.flags;
    if (r.w >= 0 && r.w !== w) continue;
    if (r.mod === 0 && isReg) continue;
    if (r.mod === 1 && !isReg) continue;
    if (r.reg >= 0 && ((modrm >> 3) & 7) !== r.reg) continue;
    // EVEX.b: broadcast on memory forms, rounding/SAE on register forms (then L'L is not a length).
    if (b) {
      if (isReg ? (f & (F_ER | F_SAE)) === 0 : (f & F_BCST) === 0) continue;
    }
    if (!(b && isReg) && ((r.lMask >> l) & 1) === 0) continue;
    if ((f & F_VSIB) !== 0) {
      if (isReg || sib < 0 || asz16 || vvvv4 !== 0) continue;
    } else if ((f & F_NV) !== 0 && (vvvv4 !== 0 || vHigh !== 0)) continue;
    if ((f & F_NK) !== 0 && aaa !== 0) continue;
    if ((f & (F_NZ | F_MK)) !== 0 && z !== 0) continue;
    if ((f & F_MK) !== 0 && aaa === 0) continue;
    if ((f & F_ST) !== 0 && !isReg && z !== 0) continue;
    if ((f & F_KR) !== 0 && mode === 64 && (p0 & 0x90) !== 0x90) continue;
    if ((f & F_G) !== 0) {
      // The destination may not be the index vector (SDM VPGATHERDD etc.: #UD if they are the same).
      let dest = (modrm >> 3) & 7;
      let index = (sib >> 3) & 7;
      if (mode === 64) {
        dest |= ((~p0 >> 4) & 8) | (~p0 & 16);
        index |= ((~p0 >> 3) & 8) | (vHigh << 4);
      }
      if (dest === index) continue;
    }
    if ((f & F_C) !== 0) {
      // VFMULCPH and friends: #UD if the destination is a source (AVX512-FP16 spec, the instruction pages).
      let dest = (modrm >> 3) & 7;
      let src1 = vvvv4 & 7;
      let src2 = isReg ? modrm & 7 : -1;
      if (mode === 64) {
        dest |= ((~p0 >> 4) & 8) | (~p0 & 16);
        src1 = vvvv4 | (vHigh << 4);
        if (isReg) src2 |= ((~p0 >> 2) & 8) | ((~p0 >> 2) & 16);
      }
      if (dest === src1 || dest === src2) continue;
    }
    return true;
  }
  return false;
}
