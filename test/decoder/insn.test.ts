import { describe, expect, it } from 'vitest';
import { Insn, Mnemonic, Reg, RegClass, regClass, regIndex, mnemonicName } from '../../src/cpu/decoder/insn.js';

describe('Insn record contract', () => {
  it('register ids give the GPR number in the low 4 bits for every GPR class (SDM Table 2-2 encodings)', () => {
    expect(Reg.R15b & 15).toBe(15);
    expect(Reg.Bh & 15).toBe(3); // BH is bits 15:8 of rBX (GPR 3)
    expect(regClass(Reg.Bh)).toBe(RegClass.Gpr8High);
    expect(Reg.Esp & 15).toBe(4);
    expect(regClass(Reg.R9)).toBe(RegClass.Gpr64);
    expect(regIndex(Reg.Gs)).toBe(5); // Sreg encoding GS = 101b
  });
  it('condition-code families are contiguous in tttn order (SDM Appendix B.1.4.7)', () => {
    expect(Mnemonic.Jg - Mnemonic.Jo).toBe(15);
    expect(Mnemonic.Sete - Mnemonic.Seto).toBe(4); // tttn 0100 = E/Z
    expect(Mnemonic.Cmovbe - Mnemonic.Cmovo).toBe(6);
    expect(Mnemonic.Cmp - Mnemonic.Add).toBe(7); // group 1 /7
    expect(Mnemonic.Sar - Mnemonic.Rol).toBe(7); // group 2 /7
  });
  it('names follow the oracle spelling', () => {
    expect(mnemonicName(Mnemonic.Cmpxchg16b)).toBe('Cmpxchg16b');
  });
  it('a fresh record has every field as a number', () => {
    const r = new Insn();
    for (const v of Object.values(r)) expect(typeof v).toBe('number');
  });
});
