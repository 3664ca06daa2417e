/** The x86 decoder room: bytes -> Insn (decode/decodeInto) and Insn -> Intel syntax (format). */
export { decode, decodeInto } from './decode.js';
export { format, regName } from './format.js';
export {
  Insn, DecodeStatus, Encoding, Rep, Pp, OpKind, RegClass, Reg, Seg, Mnemonic, mnemonicName, regClass, regIndex,
  PFX_OPSIZE, PFX_ADSIZE, PFX_LOCK, PFX_REP, PFX_REPNE, PFX_SEG, PFX_REX,
} from './insn.js';
