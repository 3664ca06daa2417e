/**
 * VEX / EVEX / XOP opcode facts: which (map, opcode, pp, L, W) are defined instructions, and whether
 * they carry a ModRM and an imm8. Spec: Intel SDM Vol. 2 Appendix A.3 (VEX/EVEX columns of
 * Tables A-3..A-5) and AMD APM Vol. 3 (XOP maps 8/9/A).
 * The CPU model implements none of these (no AVX), so only length and validity matter here.
 */
import { Encoding } from './insn.js';

export const VEX_VALID = 1;
export const VEX_IMM8 = 2;
export const VEX_NO_MODRM = 4;

/** Returns VEX_* bits for one VEX/EVEX/XOP opcode. */
export function vexInfo(kind: number, map: number, opcode: number, _pp: number, _l: number, _w: number, _mode: number): number {
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
  return 0;
}
