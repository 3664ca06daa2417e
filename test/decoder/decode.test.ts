/**
 * Hand-checked vectors for the decoder's prefix, addressing and length rules. Each expectation
 * comes from the Intel SDM Vol. 2 (section named in the test), not from our output.
 */
import { describe, expect, it } from 'vitest';
import { decode, decodeInto } from '../../src/cpu/decoder/decode.js';
import { format } from '../../src/cpu/decoder/format.js';
import { DecodeStatus, Encoding, Insn, Mnemonic, OpKind, Reg, Rep, Seg } from '../../src/cpu/decoder/insn.js';

function d(hex: string, mode: 16 | 32 | 64): Insn {
  return decode(Uint8Array.from(hex.split(' ').map((h) => parseInt(h, 16))), 0, mode);
}

describe('prefixes (SDM 2.1.1, 2.2.1)', () => {
  it('a REX prefix followed by a legacy prefix is ignored', () => {
    const i = d('48 66 89 c8', 64); // REX.W then 66: REX ignored -> mov ax, cx
    expect(i.status).toBe(DecodeStatus.Ok);
    expect(i.rex).toBe(0);
    expect(i.opSize).toBe(16);
    expect([i.reg0, i.reg1]).toEqual([Reg.Ax, Reg.Cx]);
  });
  it('REX.W takes precedence over 66', () => {
    const i = d('66 48 89 c8', 64);
    expect(i.opSize).toBe(64);
    expect([i.reg0, i.reg1]).toEqual([Reg.Rax, Reg.Rcx]);
  });
  it('with REX, byte registers 4-7 are SPL..DIL; without, AH..BH', () => {
    expect(d('40 88 e0', 64).reg0).toBe(Reg.Al);
    expect(d('40 88 e0', 64).reg1).toBe(Reg.Spl);
    expect(d('88 e0', 64).reg1).toBe(Reg.Ah);
  });
  it('the last of F2/F3 is the repeat prefix', () => {
    expect(d('f2 f3 a4', 32).rep).toBe(Rep.Rep);
    expect(d('f3 f2 a4', 32).rep).toBe(Rep.Repne);
  });
  it('F3 is the mandatory prefix over 66 (MOVSS, not MOVUPD)', () => {
    expect(d('66 f3 0f 10 c1', 32).mnemonic).toBe(Mnemonic.Movss);
  });
  it('LOCK is #UD without a memory destination or on a non-lockable instruction', () => {
    expect(d('f0 01 c0', 32).status).toBe(DecodeStatus.Invalid);
    expect(d('f0 90', 32).status).toBe(DecodeStatus.Invalid);
    const ok = d('f0 01 00', 32);
    expect(ok.status).toBe(DecodeStatus.Ok);
    expect(ok.lock).toBe(1);
  });
  it('in 64-bit mode FS/GS overrides win over ES/CS/SS/DS', () => {
    expect(d('64 26 8b 00', 64).segment).toBe(Seg.Fs);
  });
  it('segment override applies in 16-bit code', () => {
    expect(d('26 8b 07', 16).segment).toBe(Seg.Es);
  });
});

describe('addressing forms (SDM Tables 2-1, 2-2, 2-3; 2.2.1.6)', () => {
  it('16-bit [bp+si] defaults to SS', () => {
    const i = d('8b 02', 16);
    expect([i.memBase, i.memIndex, i.segment]).toEqual([Reg.Bp, Reg.Si, Seg.Ss]);
  });
  it('16-bit mod=00 r/m=110 is a bare disp16', () => {
    const i = d('8b 06 34 12', 16);
    expect([i.memBase, i.memIndex, i.memDisp, i.length]).toEqual([0, 0, 0x1234, 4]);
  });
  it('16-bit disp8 is sign-extended', () => {
    const i = d('8b 46 fe', 16); // [bp-2]
    expect([i.memBase, i.memDisp, i.memDispHi]).toEqual([Reg.Bp, 0xfffffffe, 0xffffffff]);
  });
  it('SIB with base=101 and mod=00 has no base and a disp32', () => {
    const i = d('8b 04 8d 78 56 34 12', 32);
    expect([i.memBase, i.memIndex, i.memScale, i.memDisp, i.length]).toEqual([0, Reg.Ecx, 4, 0x12345678, 7]);
  });
  it('SIB index=100 means no index; [esp] defaults to SS', () => {
    const i = d('8b 04 24', 32);
    expect([i.memBase, i.memIndex, i.segment]).toEqual([Reg.Esp, 0, Seg.Ss]);
  });
  it('REX.X extends the SIB index (index 100 with REX.X is R12)', () => {
    const i = d('4a 8b 04 20', 64);
    expect([i.memBase, i.memIndex]).toEqual([Reg.Rax, Reg.R12]);
  });
  it('mod=00 r/m=101 is RIP-relative in 64-bit mode, EIP-relative with 67', () => {
    const i = d('8b 05 10 00 00 00', 64);
    expect([i.ripRelative, i.memBase, i.memDisp]).toEqual([1, Reg.Rip, 0x10]);
    expect(d('67 8b 05 10 00 00 00', 64).memBase).toBe(Reg.Eip);
    expect(d('8b 05 10 00 00 00', 32).ripRelative).toBe(0);
  });
  it('moffs is an address-size offset: 8 bytes in 64-bit mode', () => {
    const i = d('48 a1 88 77 66 55 44 33 22 11', 64);
    expect([i.length, i.opKind1, i.memDisp, i.memDispHi]).toEqual([10, OpKind.Mem, 0x55667788, 0x11223344]);
    expect(d('67 a0 01 02 03 04', 64).length).toBe(6);
  });
});

describe('immediates and branches', () => {
  it('far pointer ptr16:16 puts the offset in imm and the selector in imm2', () => {
    const i = d('ea 00 10 00 f0', 16);
    expect([i.mnemonic, i.opKind0, i.imm, i.imm2, i.length]).toEqual([Mnemonic.Jmp, OpKind.FarPtr, 0x1000, 0xf000, 5]);
  });
  it('imm8 of 83 /0 is sign-extended to the operand size', () => {
    const i = d('83 c0 ff', 32);
    expect([i.opKind1, i.imm, i.immHi]).toEqual([OpKind.Imm8Sx, 0xffffffff, 0xffffffff]);
  });
  it('B8+r with REX.W carries an imm64; C7 /0 an imm32 sign-extended', () => {
    const i = d('48 b8 01 02 03 04 05 06 07 88', 64);
    expect([i.opKind1, i.imm, i.immHi, i.length]).toEqual([OpKind.Imm64, 0x04030201, 0x88070605, 10]);
    const j = d('48 c7 c0 00 00 00 80', 64);
    expect([j.opKind1, j.imm, j.immHi]).toEqual([OpKind.Imm32Sx, 0x80000000, 0xffffffff]);
  });
  it('a short jump gives the displacement, not the target', () => {
    const i = d('eb fe', 64);
    expect([i.opKind0, i.imm | 0, i.length, i.opSize]).toEqual([OpKind.Rel, -2, 2, 64]);
  });
  it('ENTER has an imm16 and a second imm8', () => {
    const i = d('c8 10 00 02', 32);
    expect([i.opKind0, i.imm, i.opKind1, i.imm2]).toEqual([OpKind.Imm16, 0x10, OpKind.Imm8_2, 2]);
  });
});

describe('length limit and partial fetches (SDM 2.3.11 / 22.25)', () => {
  it('15 bytes decode; 16 bytes are #GP (TooLong)', () => {
    expect(d('66 '.repeat(13) + '89 c0', 32).status).toBe(DecodeStatus.Ok);
    expect(d('66 '.repeat(14) + '89 c0', 32).status).toBe(DecodeStatus.TooLong);
  });
  it('an instruction crossing the end of the available bytes asks for the rest', () => {
    const b = Uint8Array.from([0x90, 0xb8, 0x01, 0x02, 0x03, 0x04]);
    const i = new Insn();
    expect(decodeInto(i, b, 1, 3, 32)).toBe(DecodeStatus.NeedMore); // mov eax, imm32 needs 5 bytes
    expect(i.need).toBe(3);
    expect(decodeInto(i, b, 1, 6, 32)).toBe(DecodeStatus.Ok);
    expect(i.length).toBe(5);
  });
  it('a ModRM-less escape at the end asks for one more byte', () => {
    const i = new Insn();
    expect(decodeInto(i, Uint8Array.from([0x0f, 0x38]), 0, 2, 64)).toBe(DecodeStatus.NeedMore);
    expect(i.need).toBe(1);
  });
});

describe('VEX / EVEX (SDM 2.3, 2.6)', () => {
  it('C4/C5 in 32-bit mode are LES/LDS unless the next byte has mod=11', () => {
    expect(d('c4 00', 32).mnemonic).toBe(Mnemonic.Les);
    const v = d('c5 f8 77', 32); // VZEROUPPER
    expect([v.status, v.encoding, v.length, v.mnemonic]).toEqual([DecodeStatus.Ok, Encoding.Vex, 3, Mnemonic.VexUnsupported]);
  });
  it('VEX after 66, F2, F3, LOCK or REX is #UD', () => {
    expect(d('66 c5 f8 77', 64).status).toBe(DecodeStatus.Invalid);
    expect(d('40 c5 f8 77', 64).status).toBe(DecodeStatus.Invalid);
  });
  it('VEX gathers are #UD when destination, index and mask are not all different (SDM VPGATHERDD)', () => {
    expect(d('c4 e2 75 90 04 10', 64).status).toBe(DecodeStatus.Ok); // vpgatherdd xmm0, [rax+xmm2], xmm1
    expect(d('c4 e2 75 90 04 08', 64).status).toBe(DecodeStatus.Invalid); // index = mask = xmm1
    expect(d('c4 e2 75 90 0c 10', 64).status).toBe(DecodeStatus.Invalid); // dest = mask = xmm1
  });
});

describe('EVEX validity per instruction (SDM 2.6, 2.7 and the instruction pages)', () => {
  const ok = (hex: string, mode: 16 | 32 | 64 = 64): number => d(hex, mode).status;
  it('EVEX.b on a register form is rounding for {er} instructions and SAE for {sae} ones, #UD otherwise', () => {
    expect(ok('62 f1 7c 58 58 c1')).toBe(DecodeStatus.Ok); // vaddps zmm0 {ru-sae}, zmm0, zmm1
    expect(ok('62 f1 7c 78 5f c1')).toBe(DecodeStatus.Ok); // vmaxps zmm0 {sae}, zmm0, zmm1 (L'L ignored)
    expect(ok('62 f1 7c 18 28 c1')).toBe(DecodeStatus.Invalid); // vmovaps has neither
  });
  it('EVEX.b on a memory form is a broadcast, #UD where the instruction has none', () => {
    expect(ok('62 f1 7c 58 58 00')).toBe(DecodeStatus.Ok); // vaddps zmm0, zmm0, [rax]{1to16}
    expect(ok('62 f1 7c 18 28 00')).toBe(DecodeStatus.Invalid); // vmovaps xmm0, [rax] with b
    expect(ok('62 f1 7e 18 58 00')).toBe(DecodeStatus.Invalid); // vaddss: no broadcast
  });
  it("EVEX.L'L must be a length the instruction has (512-only, 256/512-only, 128-only forms)", () => {
    expect(ok('62 f1 7c 68 58 c1')).toBe(DecodeStatus.Invalid); // L'L = 11b without rounding
    expect(ok('62 f2 7d 2a 1a 00')).toBe(DecodeStatus.Ok); // vbroadcastf32x4 ymm0 {k2}, [rax]
    expect(ok('62 f2 7d 0a 1a 00')).toBe(DecodeStatus.Invalid); // ... has no 128-bit form
    expect(ok('62 f1 7d 28 7e c0')).toBe(DecodeStatus.Invalid); // vmovd is 128-bit only
  });
  it('zeroing is #UD for a memory destination and for a mask destination; masking is #UD where not allowed', () => {
    expect(ok('62 f1 7c 0a 29 00')).toBe(DecodeStatus.Ok); // vmovaps [rax] {k2}, xmm0
    expect(ok('62 f1 7c 8a 29 00')).toBe(DecodeStatus.Invalid); // ... {z}
    expect(ok('62 f1 7c 8a 29 c1')).toBe(DecodeStatus.Ok); // vmovaps xmm1 {k2}{z}, xmm0 (register)
    expect(ok('62 f1 7d 8a 76 c1')).toBe(DecodeStatus.Invalid); // vpcmpeqd k0 {k2}{z}
    expect(ok('62 f1 7d 0a 7e c0')).toBe(DecodeStatus.Invalid); // vmovd eax {k2}, xmm0
  });
  it('EVEX.vvvv and V\' must be unused (1111b, 1) where the instruction has no NDS operand', () => {
    expect(ok('62 f1 74 08 28 c1')).toBe(DecodeStatus.Invalid); // vmovaps with vvvv = 1
    expect(ok('62 f1 7c 00 28 c1')).toBe(DecodeStatus.Invalid); // vmovaps with V' = 0
  });
  it('an opmask register in ModRM.reg may not be extended by EVEX.R or R\' (64-bit mode)', () => {
    expect(ok('62 f1 7d 08 76 c1')).toBe(DecodeStatus.Ok); // vpcmpeqd k0, xmm0, xmm1
    expect(ok('62 71 7d 08 76 c1')).toBe(DecodeStatus.Invalid);
    expect(ok('62 e1 7d 08 76 c1')).toBe(DecodeStatus.Invalid);
  });
  it('gathers need an opmask other than k0, no zeroing, a SIB byte and an index other than the destination', () => {
    expect(ok('62 f2 7d 09 90 04 08')).toBe(DecodeStatus.Ok); // vpgatherdd xmm0 {k1}, [rax+xmm1]
    expect(ok('62 f2 7d 08 90 04 08')).toBe(DecodeStatus.Invalid); // k0
    expect(ok('62 f2 7d 89 90 04 08')).toBe(DecodeStatus.Invalid); // {z}
    expect(ok('62 f2 7d 09 90 00')).toBe(DecodeStatus.Invalid); // no SIB
    expect(ok('62 f2 7d 09 90 04 00')).toBe(DecodeStatus.Invalid); // index = destination = xmm0
  });
  it('an opcode with no EVEX form is #UD (0F 77 has only VEX VZEROUPPER/VZEROALL)', () => {
    expect(ok('62 f1 7c 08 77 c0')).toBe(DecodeStatus.Invalid);
  });
});

describe('format (Intel syntax)', () => {
  it('prints prefixes, sizes and addressing', () => {
    expect(format(d('f0 01 44 88 10', 64))).toBe('lock add dword ptr [rax+rcx*4+0x10], eax');
    expect(format(d('f3 a4', 64))).toBe('rep movsb byte ptr es:[rdi], byte ptr [rsi]');
    expect(format(d('eb fe', 64), 0x1000n)).toBe('jmp 0x1000');
    expect(format(d('de c1', 32))).toBe('faddp st(1), st');
  });
});

describe('opcode maps and operand forms (SDM Appendix A)', () => {
  it('BMI2 SHLX: ModRM.reg is the destination, ModRM.rm the source, VEX.vvvv the count', () => {
    // VEX.LZ.66.0F38.W1 F7 /r: SHLX r64a, r/m64, r64b; vvvv=1110b (inverted) = RCX
    const i = d('c4 e2 f1 f7 c2', 64);
    expect([i.mnemonic, i.opSize, i.reg0, i.reg1, i.reg2]).toEqual([Mnemonic.Shlx, 64, Reg.Rax, Reg.Rdx, Reg.Rcx]);
  });
  it('BMI1 BLSR is VEX.0F38 F3 /1 with the destination in vvvv', () => {
    const i = d('c4 e2 78 f3 c9', 64); // blsr eax, ecx
    expect([i.mnemonic, i.reg0, i.reg1]).toEqual([Mnemonic.Blsr, Reg.Eax, Reg.Ecx]);
  });
  it('x87 register forms: DC E8+i is FSUB ST(i), ST(0); D9 C8+i FXCH', () => {
    const i = d('dc e9', 32);
    expect([i.mnemonic, i.reg0, i.reg1]).toEqual([Mnemonic.Fsub, Reg.St0 + 1, Reg.St0]);
    expect(d('d9 c9', 32).mnemonic).toBe(Mnemonic.Fxch);
  });
  it('x87 memory forms carry the operand width: DD /0 is FLD m64fp, DB /5 FLD m80fp', () => {
    expect([d('dd 00', 32).mnemonic, d('dd 00', 32).operandWidth]).toEqual([Mnemonic.Fld, 8]);
    expect(d('db 28', 32).operandWidth).toBe(10);
  });
  it('a mandatory 66 is not an operand-size prefix: 66 0F 6E is MOVD xmm, r/m32', () => {
    const i = d('66 0f 6e c1', 64);
    expect([i.mnemonic, i.reg0, i.reg1]).toEqual([Mnemonic.Movd, Reg.Xmm0, Reg.Ecx]);
    expect(d('66 48 0f 6e c1', 64).mnemonic).toBe(Mnemonic.Movq);
  });
  it('F3 0F B8 is POPCNT and a 66 there is still an operand-size prefix', () => {
    const i = d('66 f3 0f b8 c1', 64);
    expect([i.mnemonic, i.reg0]).toEqual([Mnemonic.Popcnt, Reg.Ax]);
  });
  it('Jcc rel16 in 16-bit code; near branches are 64-bit in 64-bit mode whatever 66 says', () => {
    const i = d('0f 84 fe ff', 16);
    expect([i.mnemonic, i.length, i.imm | 0, i.opSize]).toEqual([Mnemonic.Je, 4, -2, 16]);
    const j = d('66 e8 00 00 00 00', 64);
    expect([j.length, j.opSize]).toEqual([6, 64]);
  });
  it('FF /3 is CALL m16:32 (6-byte pointer) and needs a memory operand', () => {
    const i = d('ff 18', 32);
    expect([i.mnemonic, i.opKind0, i.operandWidth]).toEqual([Mnemonic.Call, OpKind.Mem, 6]);
    expect(d('ff d8', 32).status).toBe(DecodeStatus.Invalid);
  });
  it('MOV to CR8 with REX.R; CR1 is #UD; the ModRM mod bits are ignored', () => {
    const i = d('44 0f 22 c0', 64);
    expect([i.reg0, i.reg1]).toEqual([Reg.Cr0 + 8, Reg.Rax]);
    expect(d('0f 22 c8', 64).status).toBe(DecodeStatus.Invalid);
    expect(d('0f 20 00', 64).length).toBe(3);
  });
  it('string instructions report implicit operands with the address size', () => {
    const i = d('67 a5', 64); // movsd with 32-bit addressing: es:[edi], [esi]
    expect([i.mnemonic, i.opKind0, i.opKind1, i.addrSize, i.operandWidth]).toEqual([Mnemonic.Movsd, OpKind.StrDst, OpKind.StrSrc, 32, 4]);
  });
});
