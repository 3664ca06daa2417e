/**
 * SSE4.2: PCMPxSTRx worked from SDM Vol. 2 §4.1 (Tables 4-6, 4-7, polarity, output selection and the
 * pages' flag definitions) and CRC32 against the CRC-32C check value.
 */
import { describe, expect, it } from 'vitest';
import { CF, ZF, SF, OF, PF, AF } from '../../../src/cpu/state.js';
import { getFlags } from '../../../src/cpu/flags.js';
import { machine, go, setXmm, xmm, setGpr, gpr, gprHi, DATA } from './simd-harness.js';

/** A string as XMM contents (bytes, NUL padded). */
function s8(s: string): number[] {
  const out = [0, 0, 0, 0];
  for (let k = 0; k < s.length && k < 16; k++) out[k >> 2]! |= s.charCodeAt(k) << (8 * (k & 3));
  return out.map(v => v >>> 0);
}
/** A string as XMM contents (words). */
function s16(s: string): number[] {
  const out = [0, 0, 0, 0];
  for (let k = 0; k < s.length && k < 8; k++) out[k >> 1]! |= s.charCodeAt(k) << (16 * (k & 1));
  return out.map(v => v >>> 0);
}
const FL = CF | ZF | SF | OF | PF | AF;

interface R { ecx: number; rcxHi: number; flags: number; x0: number[] }
function run(code: string, a: number[], b: number[], rax = [0, 0], rdx = [0, 0]): R {
  const mc = machine(64, code);
  setXmm(mc, 1, a);
  setXmm(mc, 2, b);
  setGpr(mc, 0, rax[0]!, rax[1]!);
  setGpr(mc, 2, rdx[0]!, rdx[1]!);
  setGpr(mc, 1, 0xdeadbeef, 0xdeadbeef);
  mc.cpu.state.u32[34] |= PF | AF;
  expect(go(mc).end).toBe('hlt');
  return { ecx: gpr(mc, 1), rcxHi: gprHi(mc, 1), flags: getFlags(mc.cpu.state.u32) & FL, x0: xmm(mc, 0) };
}

describe('PCMPISTRI', () => {
  it('equal any: first vowel of "hello world" (imm 0x00)', () => {
    // IntRes1 = bits 1 (e), 4 (o), 7 (o); both strings shorter than 16: ZF, SF; bit 0 clear: OF = 0
    const r = run('66 0f 3a 63 ca 00', s8('aeiou'), s8('hello world'));
    expect(r.ecx).toBe(1);
    expect(r.rcxHi).toBe(0);
    expect(r.flags).toBe(CF | ZF | SF);
  });
  it('equal any, most significant index (imm 0x40) gives the last vowel', () => {
    expect(run('66 0f 3a 63 ca 40', s8('aeiou'), s8('hello world')).ecx).toBe(7);
  });
  it('ranges: first lower-case letter (imm 0x04)', () => {
    const r = run('66 0f 3a 63 ca 04', s8('az'), s8('AbC'));
    expect(r.ecx).toBe(1);
    expect(r.flags).toBe(CF | ZF | SF);
  });
  it('equal each, negative polarity: index of the first difference (imm 0x18)', () => {
    // IntRes1 = 0xffe7 (bits 3, 4 clear: 'l' vs 'p', then 'o' vs end); negated: 0x0018
    const r = run('66 0f 3a 63 ca 18', s8('hello'), s8('help'));
    expect(r.ecx).toBe(3);
    expect(r.flags).toBe(CF | ZF | SF);
  });
  it('equal each, masked negative (imm 0x38) negates only valid source-2 elements', () => {
    // IntRes2 = 0xffe7 ^ 0x000f = 0xffe8: lowest set bit 3, bit 0 clear
    expect(run('66 0f 3a 63 ca 38', s8('hello'), s8('help')).ecx).toBe(3);
    // identical strings: IntRes1 = 0xffff, IntRes2 = 0xfff0 -> index 4 (the end of "help")
    expect(run('66 0f 3a 63 ca 38', s8('help'), s8('help')).ecx).toBe(4);
  });
  it('equal ordered: substring "lo" in "hello world" at 3 (imm 0x0c)', () => {
    const r = run('66 0f 3a 63 ca 0c', s8('lo'), s8('hello world'));
    expect(r.ecx).toBe(3);
  });
  it('equal ordered: a needle cut off by the end of a full register matches (index 15)', () => {
    const r = run('66 0f 3a 63 ca 0c', s8('lo'), s8('aaaaaaaaaaaaaaal'));
    expect(r.ecx).toBe(15);
    expect(r.flags).toBe(CF | SF); // source 2 has no NUL: ZF = 0
  });
  it('no match gives 16 and CF = 0', () => {
    const r = run('66 0f 3a 63 ca 00', s8('xyz'), s8('hello'));
    expect(r.ecx).toBe(16);
    expect(r.flags).toBe(ZF | SF);
  });
  it('an empty needle with equal each and first elements both null sets OF', () => {
    // both strings empty: every pair "both invalid" -> true; IntRes1 = 0xffff
    const r = run('66 0f 3a 63 ca 08', s8(''), s8(''));
    expect(r.ecx).toBe(0);
    expect(r.flags).toBe(CF | ZF | SF | OF);
  });
});

describe('PCMPESTRI (explicit lengths)', () => {
  it('words, equal any, |EAX| = 3, EDX = 100 saturates to 8', () => {
    // set "abc" (length -3 -> 3), text "xxxxxxxc" of 8 words: match at 7; ZF = 0 (length 8), SF = 1
    const r = run('66 0f 3a 61 ca 01', s16('abcd'), s16('xxxxxxxc'), [0xfffffffd, 0], [100, 0]);
    expect(r.ecx).toBe(7);
    expect(r.flags).toBe(CF | SF);
  });
  it('the d (4th) set element is excluded by the length', () => {
    const r = run('66 0f 3a 61 ca 01', s16('abcd'), s16('ddddddd'), [3, 0], [7, 0]);
    expect(r.ecx).toBe(8);
    expect(r.flags).toBe(ZF | SF);
  });
  it('REX.W takes 64-bit lengths from RAX/RDX (2^32 is huge, -2 is 2)', () => {
    // pcmpestri64 xmm1, xmm2, 0: set = first 2 bytes of "ab..", text = 16 bytes
    const r = run('66 48 0f 3a 61 ca 00', s8('abcdefghijklmnop'), s8('zzzzzzzzzzzzzzzb'), [0xfffffffe, 0xffffffff], [0, 1]);
    expect(r.ecx).toBe(15);
    expect(r.flags).toBe(CF | SF);
  });
});

describe('PCMPxSTRM', () => {
  it('bit mask (imm 0x00) into XMM0', () => {
    expect(run('66 0f 3a 62 ca 00', s8('aeiou'), s8('hello world')).x0).toEqual([0x92, 0, 0, 0]);
  });
  it('byte mask (imm 0x40) into XMM0', () => {
    expect(run('66 0f 3a 62 ca 40', s8('aeiou'), s8('hello world')).x0).toEqual([0x0000ff00, 0xff0000ff, 0, 0]);
  });
  it('word mask (explicit, imm 0x41)', () => {
    const r = run('66 0f 3a 60 ca 41', s16('ab'), s16('xaxbxxxx'), [2, 0], [8, 0]);
    expect(r.x0).toEqual([0xffff0000, 0xffff0000, 0, 0]);
  });
});

describe('CRC32 (CRC-32C, no inversions)', () => {
  // the standard check value crc32c("123456789") = 0xE3069283 uses initial value and final XOR
  // 0xFFFFFFFF; the instruction does neither, so start with 0xFFFFFFFF and invert at the end
  it('dword, dword, byte sources', () => {
    // crc32 eax, dword [rsi]; crc32 eax, dword [rsi+4]; crc32 eax, byte [rsi+8]
    const mc = machine(64, 'f2 0f 38 f1 06  f2 0f 38 f1 46 04  f2 0f 38 f0 46 08');
    mc.mem.set([...'123456789'].map(c => c.charCodeAt(0)), DATA);
    setGpr(mc, 6, DATA);
    setGpr(mc, 0, 0xffffffff, 0x12345678);
    go(mc);
    expect((~gpr(mc, 0)) >>> 0).toBe(0xe3069283);
    expect(gprHi(mc, 0)).toBe(0);
  });
  it('qword source with REX.W, then a byte', () => {
    // crc32 rax, qword [rsi]; crc32 rax, byte [rsi+8]
    const mc = machine(64, 'f2 48 0f 38 f1 06  f2 48 0f 38 f0 46 08');
    mc.mem.set([...'123456789'].map(c => c.charCodeAt(0)), DATA);
    setGpr(mc, 6, DATA);
    setGpr(mc, 0, 0xffffffff, 0xffffffff);
    go(mc);
    expect((~gpr(mc, 0)) >>> 0).toBe(0xe3069283);
    expect(gprHi(mc, 0)).toBe(0);
  });
  it('word and register byte sources agree with the byte-at-a-time definition', () => {
    // crc32 eax, word [rsi] ; then the same two bytes through crc32 eax, bl twice
    const a = machine(64, '66 f2 0f 38 f1 06');
    a.mem.set([0x31, 0x32], DATA);
    setGpr(a, 6, DATA);
    setGpr(a, 0, 0xffffffff);
    go(a);
    const b = machine(64, 'f2 0f 38 f0 c3  b3 32  f2 0f 38 f0 c3'); // crc32 eax, bl; mov bl, 0x32; crc32 eax, bl
    setGpr(b, 0, 0xffffffff);
    setGpr(b, 3, 0x31);
    go(b);
    expect(gpr(a, 0)).toBe(gpr(b, 0));
  });
});
