/**
 * Semantic helpers against values worked out from the SDM's operation sections (Vol. 2) and the
 * flag definitions of Vol. 1 §3.4.3.1. The host-CPU differential test covers them at scale.
 */
import { describe, expect, it } from 'vitest';
import { CpuState, CF, PF, AF, ZF, SF, OF, S_T, RFLAGS_FIXED1 } from '../../src/cpu/state.js';
import { getFlags, setFlags, cond } from '../../src/cpu/flags.js';
import { alu, alu64, inc, dec, neg, neg64 } from '../../src/cpu/exec/alu.js';
import { shift, shift64, shiftDouble, shiftDouble64 } from '../../src/cpu/exec/shift.js';
import { mul64, imul64, prod, divu128, divs128, divq, divSmall } from '../../src/cpu/exec/muldiv.js';

const ST = CF | PF | AF | ZF | SF | OF;
function fresh(flags = 0): Uint32Array {
  const s = new CpuState();
  setFlags(s.u32, flags);
  return s.u32;
}
const status = (u: Uint32Array): number => getFlags(u) & ST;

describe('ADD/SUB/ADC/SBB flags', () => {
  it('ADD 0x7fffffff + 1 overflows into the sign bit (OF, SF, AF, PF of low byte 00)', () => {
    const u = fresh();
    expect(alu(u, 0, 32, 0x7fffffff, 1)).toBe(0x80000000);
    expect(status(u)).toBe(OF | SF | AF | PF);
  });
  it('ADD 0xff + 1 in 8 bits carries out and gives zero', () => {
    const u = fresh();
    expect(alu(u, 0, 8, 0xff, 1)).toBe(0);
    expect(status(u)).toBe(CF | ZF | AF | PF);
  });
  it('SUB 0 - 1 borrows (CF) and is negative', () => {
    const u = fresh();
    expect(alu(u, 5, 16, 0, 1)).toBe(0xffff);
    expect(status(u)).toBe(CF | SF | AF | PF);
  });
  it('CMP 0x80000000, 1 sets OF (negative minus positive gives positive)', () => {
    const u = fresh();
    alu(u, 7, 32, 0x80000000, 1);
    expect(status(u)).toBe(OF | AF | PF);
  });
  it('ADC adds the carry and carries out of 0xffffffff + 0 + 1', () => {
    const u = fresh(CF);
    expect(alu(u, 2, 32, 0xffffffff, 0)).toBe(0);
    expect(status(u)).toBe(CF | ZF | PF | AF);
  });
  it('SBB 0 - 0 - CF borrows', () => {
    const u = fresh(CF);
    expect(alu(u, 3, 8, 0, 0)).toBe(0xff);
    expect(status(u)).toBe(CF | SF | PF | AF);
  });
  it('64-bit ADD carries from the low half and out of the top', () => {
    const u = fresh();
    expect(alu64(u, 0, 0xffffffff, 0xffffffff, 1, 0)).toBe(0);
    expect(u[S_T + 1]).toBe(0);
    expect(status(u)).toBe(CF | ZF | PF | AF);
  });
  it('64-bit SUB 0x8000000000000000 - 1 overflows', () => {
    const u = fresh();
    expect(alu64(u, 5, 0, 0x80000000, 1, 0)).toBe(0xffffffff);
    expect(u[S_T + 1]).toBe(0x7fffffff);
    expect(status(u)).toBe(OF | PF | AF);
  });
  it('logic ops clear CF and OF', () => {
    const u = fresh(CF | OF);
    expect(alu(u, 4, 32, 0xf0, 0x0f)).toBe(0);
    expect(status(u)).toBe(ZF | PF);
  });
  it('INC keeps a lazily computed CF', () => {
    const u = fresh();
    alu(u, 0, 8, 0xff, 1); // CF = 1
    expect(inc(u, 32, 0x7fffffff)).toBe(0x80000000);
    expect(status(u)).toBe(CF | OF | SF | AF | PF);
  });
  it('DEC 1 gives ZF, CF untouched', () => {
    const u = fresh();
    expect(dec(u, 16, 1)).toBe(0);
    expect(status(u)).toBe(ZF | PF);
  });
  it('NEG sets CF unless the operand is 0; NEG 0x80 overflows', () => {
    const u = fresh();
    expect(neg(u, 8, 0x80)).toBe(0x80);
    expect(status(u)).toBe(CF | OF | SF);
    neg(u, 32, 0);
    expect(status(u)).toBe(ZF | PF);
    expect(neg64(u, 1, 0)).toBe(0xffffffff);
    expect(u[S_T + 1]).toBe(0xffffffff);
    expect(status(u)).toBe(CF | SF | PF | AF);
  });
  it('condition codes follow Table B-1', () => {
    const u = fresh();
    alu(u, 7, 32, 1, 2); // 1 < 2: B, L, NE
    expect(cond(u, 2)).toBe(true); // B
    expect(cond(u, 12)).toBe(true); // L
    expect(cond(u, 5)).toBe(true); // NE
    expect(cond(u, 7)).toBe(false); // A
    alu(u, 7, 32, 0x80000000, 1); // signed: min < 1 (L), unsigned: above
    expect(cond(u, 12)).toBe(true);
    expect(cond(u, 7)).toBe(true);
    expect(getFlags(u) & RFLAGS_FIXED1).toBe(RFLAGS_FIXED1);
  });
});

describe('shifts and rotates', () => {
  it('a masked count of 0 changes no flag', () => {
    const u = fresh(CF | ZF);
    expect(shift(u, 4, 32, 5, 32)).toBe(5);
    expect(status(u)).toBe(CF | ZF);
  });
  it('SHL 8-bit by 1 moves the MSB into CF; OF = MSB XOR CF', () => {
    const u = fresh();
    expect(shift(u, 4, 8, 0xc0, 1)).toBe(0x80);
    expect(status(u) & (CF | OF | SF | ZF)).toBe(CF | SF);
  });
  it('SHR sets OF to the original MSB for a count of 1', () => {
    const u = fresh();
    expect(shift(u, 5, 16, 0x8001, 1)).toBe(0x4000);
    expect(status(u) & (CF | OF)).toBe(CF | OF);
  });
  it('SAR keeps the sign and clears OF', () => {
    const u = fresh(OF);
    expect(shift(u, 7, 8, 0x81, 2)).toBe(0xe0);
    expect(status(u) & (CF | OF | SF)).toBe(SF);
  });
  it('ROL 8-bit by 9 rotates by 1 and touches only CF/OF', () => {
    const u = fresh(ZF);
    expect(shift(u, 0, 8, 0x81, 9)).toBe(0x03);
    expect(status(u)).toBe(CF | ZF | OF);
  });
  it('RCR through carry, OF from the original', () => {
    const u = fresh(CF);
    expect(shift(u, 3, 8, 0x01, 1)).toBe(0x80);
    expect(status(u) & (CF | OF)).toBe(CF | OF);
  });
  it('RCL 16-bit by 17 is the identity', () => {
    const u = fresh(CF);
    expect(shift(u, 2, 16, 0x1234, 17)).toBe(0x1234);
    expect(status(u) & CF).toBe(CF);
  });
  it('64-bit SHL by 33 and SAR by 63', () => {
    const u = fresh();
    expect(shift64(u, 4, 0x80000001, 0, 33)).toBe(0);
    expect(u[S_T + 1]).toBe(2);
    expect(status(u) & CF).toBe(CF); // bit 31 of the original was the last shifted out
    expect(shift64(u, 7, 0, 0x80000000, 63)).toBe(0xffffffff);
    expect(u[S_T + 1]).toBe(0xffffffff);
  });
  it('64-bit ROR by 4', () => {
    const u = fresh();
    expect(shift64(u, 1, 0x12345678, 0x9abcdef0, 4)).toBe(0x01234567);
    expect(u[S_T + 1]).toBe(0x89abcdef);
  });
  it('SHLD/SHRD 32 and 64', () => {
    const u = fresh();
    expect(shiftDouble(u, false, 32, 0x12345678, 0x9abcdef0, 8)).toBe(0x3456789a);
    expect(shiftDouble(u, true, 32, 0x12345678, 0x9abcdef0, 8)).toBe(0xf0123456);
    expect(shiftDouble(u, false, 16, 0x1234, 0xabcd, 4)).toBe(0x234a);
    expect(shiftDouble64(u, false, 0, 1, 0xffffffff, 0xffffffff, 4)).toBe(0xf);
    expect(u[S_T + 1]).toBe(0x10);
  });
});

describe('multiply and divide', () => {
  it('64 x 64 -> 128 unsigned and signed', () => {
    mul64(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff); // (2^64-1)^2 = 2^128 - 2^65 + 1
    expect([...prod]).toEqual([1, 0, 0xfffffffe, 0xffffffff]);
    imul64(0xffffffff, 0xffffffff, 2, 0); // -1 * 2 = -2
    expect([...prod]).toEqual([0xfffffffe, 0xffffffff, 0xffffffff, 0xffffffff]);
  });
  it('128 / 64 division, slow path, and #DE on overflow and zero', () => {
    // (2^64 + 5) / 3 = 6148914691236517207 rem 0
    expect(divu128(5, 0, 1, 0, 3, 0)).toBe(true);
    const q = (BigInt(divq[1]!) << 32n) | BigInt(divq[0]!);
    expect(q).toBe((2n ** 64n + 5n) / 3n);
    expect(divq[2]).toBe(Number((2n ** 64n + 5n) % 3n));
    expect(divu128(0, 0, 5, 0, 5, 0)).toBe(false); // quotient >= 2^64
    expect(divu128(1, 0, 0, 0, 0, 0)).toBe(false);
  });
  it('division with a large divisor uses the bitwise path correctly', () => {
    const n = (0x123456789abcdefn << 64n) | 0xfedcba9876543210n;
    const d = 0x7edcba9876543211n;
    const w = (x: bigint, i: number): number => Number((x >> BigInt(32 * i)) & 0xffffffffn);
    expect(divu128(w(n, 0), w(n, 1), w(n, 2), w(n, 3), w(d, 0), w(d, 1))).toBe(true);
    expect((BigInt(divq[1]!) << 32n) | BigInt(divq[0]!)).toBe(n / d);
    expect((BigInt(divq[3]!) << 32n) | BigInt(divq[2]!)).toBe(n % d);
  });
  it('IDIV truncates toward zero; -2^63 / -1 is #DE', () => {
    expect(divs128(0xfffffff9, 0xffffffff, 0xffffffff, 0xffffffff, 2, 0)).toBe(true); // -7 / 2
    expect(divq[0]).toBe(0xfffffffd); // -3
    expect(divq[2]).toBe(0xffffffff); // -1
    expect(divs128(0, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)).toBe(false);
  });
  it('8/16/32-bit DIV and IDIV', () => {
    expect(divSmall(false, 8, 0x1234, 0, 0x10)).toBe(false); // quotient 0x123 > 0xff: #DE
    expect(divSmall(false, 8, 0x0fff, 0, 0x10)).toBe(true);
    expect(divq[0]).toBe(0xff);
    expect(divSmall(true, 8, 0xff80, 0, 0xff)).toBe(false); // -128 / -1 = 128 does not fit
    expect(divSmall(false, 32, 0, 1, 2)).toBe(true); // 2^32 / 2
    expect(divq[0]).toBe(0x80000000);
    expect(divSmall(true, 32, 0xfffffff9, 0xffffffff, 2)).toBe(true);
    expect(divq[0]).toBe(0xfffffffd);
  });
});
