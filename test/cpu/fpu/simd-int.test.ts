/**
 * MMX/SSE/SSSE3/SSE4.1 integer operations through the interpreter. Expected values are worked out by
 * hand from each instruction's Operation section (SDM Vol. 2).
 */
import { describe, expect, it } from 'vitest';
import { CF, ZF, SF, OF, PF, AF } from '../../../src/cpu/state.js';
import { getFlags } from '../../../src/cpu/flags.js';
import { machine, go, setXmm, xmm, setMm, mm, setGpr, gpr, gprHi, DATA } from './simd-harness.js';

/** Runs `code` (64-bit) with xmm1 = a, xmm2 = b; returns xmm1. */
function x2(code: string, a: number[], b: number[], x0?: number[]): number[] {
  const mc = machine(64, code);
  setXmm(mc, 1, a);
  setXmm(mc, 2, b);
  if (x0) setXmm(mc, 0, x0);
  expect(go(mc).end).toBe('hlt');
  return xmm(mc, 1);
}
/** Runs `code` with mm1 = a, mm2 = b; returns mm1. */
function m2(code: string, a: number[], b: number[]): number[] {
  const mc = machine(64, code);
  setMm(mc, 1, a);
  setMm(mc, 2, b);
  expect(go(mc).end).toBe('hlt');
  return mm(mc, 1);
}
const bytes = (f: (k: number) => number): number[] => {
  const out = [0, 0, 0, 0];
  for (let k = 0; k < 16; k++) out[k >> 2]! |= (f(k) & 0xff) << (8 * (k & 3));
  return out.map(v => v >>> 0);
};

describe('saturating add/subtract', () => {
  it('PADDSB clamps to 0x7f / 0x80', () => {
    expect(x2('66 0f ec ca', [0xff01807f, 0, 0, 0], [0x807fff01, 0, 0, 0])).toEqual([0x807f807f, 0, 0, 0]);
  });
  it('PADDUSW clamps to 0xffff', () => {
    expect(x2('66 0f dd ca', [0x8000ffff, 1, 0, 0], [0x80000001, 2, 0, 0])).toEqual([0xffffffff, 3, 0, 0]);
  });
  it('PSUBUSB (MMX) clamps at 0', () => {
    expect(m2('0f d8 ca', [0xff000305, 0], [0xfe010503, 0])).toEqual([0x01000002, 0]);
  });
});

describe('pack', () => {
  it('PACKUSWB turns negative words into 0 and large ones into 0xff', () => {
    expect(x2('66 0f 67 ca', [0x00ff8000, 0x7fff0100, 0x0001ffff, 0x00800000], [0, 0, 0, 0]))
      .toEqual([0xffffff00, 0x80000100, 0, 0]);
  });
  it('PACKSSWB (MMX) saturates signed, destination words first', () => {
    expect(m2('0f 63 ca', [0xff7f0080, 0xfffb0005], [0x00010000, 0x00030002])).toEqual([0xfb05807f, 0x03020100]);
  });
  it('PACKUSDW clamps dwords to 0..0xffff', () => {
    expect(x2('66 0f 38 2b ca', [0xffffffff, 0x10000, 0x8000, 5], [0, 0, 0, 0])).toEqual([0xffff0000, 0x00058000, 0, 0]);
  });
});

describe('shuffles', () => {
  it('PSHUFB zeroes bytes whose index has bit 7 set and uses index bits 3:0', () => {
    expect(x2('66 0f 38 00 ca', bytes(k => 0x10 + k), [0x1f010f80, 0, 0, 0]))
      .toEqual([0x1f111f00, 0x10101010, 0x10101010, 0x10101010]);
  });
  it('PSHUFB (MMX) uses index bits 2:0', () => {
    expect(m2('0f 38 00 ca', [0x13121110, 0x17161514], [0x0308800f, 0])).toEqual([0x13100017, 0x10101010]);
  });
  it('SHUFPS 0x1b takes two destination then two source dwords', () => {
    expect(x2('0f c6 ca 1b', [1, 2, 3, 4], [5, 6, 7, 8])).toEqual([4, 3, 6, 5]);
  });
  it('PSHUFD 0x1b reverses the source', () => {
    expect(x2('66 0f 70 ca 1b', [1, 2, 3, 4], [5, 6, 7, 8])).toEqual([8, 7, 6, 5]);
  });
  it('PSHUFHW 0x1b reverses the high words and copies the low quadword', () => {
    expect(x2('f3 0f 70 ca 1b', [0, 0, 0, 0], [0x00010000, 0x00030002, 0x00050004, 0x00070006]))
      .toEqual([0x00010000, 0x00030002, 0x00060007, 0x00040005]);
  });
  it('PALIGNR xmm, 5 takes bytes 5.. of source:destination', () => {
    expect(x2('66 0f 3a 0f ca 05', bytes(k => 0x40 + k), bytes(k => 0x20 + k)))
      .toEqual([0x28272625, 0x2c2b2a29, 0x402f2e2d, 0x44434241]);
  });
  it('PALIGNR mm, 3 on 8-byte registers', () => {
    expect(m2('0f 3a 0f ca 03', [0x43424140, 0x47464544], [0x23222120, 0x27262524])).toEqual([0x26252423, 0x42414027]);
  });
  it('INSERTPS 0x94: source dword 2 into destination dword 1, dword 2 zeroed', () => {
    expect(x2('66 0f 3a 21 ca 94', [1, 2, 3, 4], [5, 6, 7, 8])).toEqual([1, 7, 0, 4]);
  });
  it('UNPCKLPS / UNPCKHPD / PUNPCKHWD interleave', () => {
    expect(x2('0f 14 ca', [1, 2, 3, 4], [5, 6, 7, 8])).toEqual([1, 5, 2, 6]);
    expect(x2('66 0f 15 ca', [1, 2, 3, 4], [5, 6, 7, 8])).toEqual([3, 4, 7, 8]);
    expect(x2('66 0f 69 ca', [0, 0, 0x00020001, 0x00040003], [0, 0, 0x000b000a, 0x000d000c]))
      .toEqual([0x000a0001, 0x000b0002, 0x000c0003, 0x000d0004]);
  });
});

describe('multiply', () => {
  it('PMADDWD: 0x8000*0x8000 twice wraps to 0x80000000', () => {
    expect(x2('66 0f f5 ca', [0x80008000, 0x00030002, 0, 0], [0x80008000, 0x0004ffff, 0, 0])).toEqual([0x80000000, 10, 0, 0]);
  });
  it('PMULHRSW rounds the scaled product', () => {
    expect(x2('66 0f 38 0b ca', [0x80004000, 0x0000ffff, 0, 0], [0x80004000, 0x00000001, 0, 0])).toEqual([0x80002000, 0, 0, 0]);
  });
  it('PMADDUBSW saturates the pair sums', () => {
    expect(x2('66 0f 38 04 ca', [0xffffffff, 0, 0, 0], [0x80807f7f, 0, 0, 0])).toEqual([0x80007fff, 0, 0, 0]);
  });
  it('PMULUDQ multiplies dwords 0 and 2 into 64-bit products', () => {
    expect(x2('66 0f f4 ca', [0xffffffff, 9, 0x12345678, 9], [0xffffffff, 9, 0x10, 9]))
      .toEqual([1, 0xfffffffe, 0x23456780, 1]);
  });
  it('PMULDQ is signed', () => {
    expect(x2('66 0f 38 28 ca', [0xfffffffe, 0, 0x80000000, 0], [3, 0, 0x80000000, 0]))
      .toEqual([0xfffffffa, 0xffffffff, 0, 0x40000000]);
  });
});

describe('shifts', () => {
  it('PSRAW by 16 (and by a count >= 2^32) fills with the sign', () => {
    expect(x2('66 0f e1 ca', [0x7fff8000, 0, 0, 0], [16, 0, 0, 0])).toEqual([0x0000ffff, 0, 0, 0]);
    expect(x2('66 0f e1 ca', [0x7fff8000, 0, 0, 0], [1, 1, 0, 0])).toEqual([0x0000ffff, 0, 0, 0]);
  });
  it('PSRLQ by imm 33', () => {
    expect(x2('66 0f 73 d1 21', [0, 0x80000000, 0xffffffff, 0xffffffff], [0, 0, 0, 0]))
      .toEqual([0x40000000, 0, 0x7fffffff, 0]);
  });
  it('PSLLQ mm by 4 and by 64', () => {
    expect(m2('0f f3 ca', [0x12345678, 0x9abcdef0], [4, 0])).toEqual([0x23456780, 0xabcdef01]);
    expect(m2('0f f3 ca', [0x12345678, 0x9abcdef0], [64, 0])).toEqual([0, 0]);
  });
  it('PSLLDQ 5 shifts bytes up; PSRLDQ 17 clears', () => {
    expect(x2('66 0f 73 f9 05', bytes(k => k), [0, 0, 0, 0])).toEqual([0, 0x02010000, 0x06050403, 0x0a090807]);
    expect(x2('66 0f 73 d9 11', bytes(k => k), [0, 0, 0, 0])).toEqual([0, 0, 0, 0]);
  });
});

describe('compare, min, sums', () => {
  it('PCMPGTQ is a signed 64-bit compare', () => {
    expect(x2('66 0f 38 37 ca', [1, 0, 0xfffffffe, 0xffffffff], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]))
      .toEqual([0xffffffff, 0xffffffff, 0, 0]);
  });
  it('PMINSD is signed', () => {
    expect(x2('66 0f 38 39 ca', [0xffffffff, 5, 0x80000000, 0x7fffffff], [1, 4, 0x7fffffff, 0x80000000]))
      .toEqual([0xffffffff, 4, 0x80000000, 0x80000000]);
  });
  it('PHMINPOSUW finds the first smallest word', () => {
    expect(x2('66 0f 38 41 ca', [0, 0, 0, 0], [0x00030005, 0x00030009, 0x0004ffff, 0x00080007])).toEqual([0x00010003, 0, 0, 0]);
  });
  it('MPSADBW imm 5: source block 1 against destination bytes 4..', () => {
    expect(x2('66 0f 3a 42 ca 05', bytes(k => k), [0, 0x04030201, 0, 0]))
      .toEqual([0x0010000c, 0x00180014, 0x0020001c, 0x00280024]);
  });
  it('PSADBW sums each quadword separately', () => {
    expect(x2('66 0f f6 ca', [0xff, 0, 1, 0], [0xff00, 0, 3, 0])).toEqual([0x1fe, 0, 2, 0]);
  });
  it('PHADDSW saturates horizontal sums', () => {
    expect(x2('66 0f 38 03 ca', [0x00017fff, 0xffff8000, 0x00020001, 0x00040003], [0, 0, 0, 0]))
      .toEqual([0x80007fff, 0x00070003, 0, 0]);
  });
  it('PSIGNW negates, zeroes or keeps; -0x8000 stays 0x8000', () => {
    expect(x2('66 0f 38 09 ca', [0x00050005, 0x80000005, 0, 0], [0x0000ffff, 0xfffd0007, 0, 0]))
      .toEqual([0x0000fffb, 0x80000005, 0, 0]);
  });
  it('PABSB of 0x80 is 0x80', () => {
    expect(x2('66 0f 38 1c ca', [0, 0, 0, 0], [0x007fff80, 0, 0, 0])).toEqual([0x007f0180, 0, 0, 0]);
  });
});

describe('SSE4.1 extension, blends, PTEST', () => {
  it('PMOVSXBQ sign-extends the two low bytes', () => {
    expect(x2('66 0f 38 22 ca', [0, 0, 0, 0], [0x7f80, 0, 0, 0])).toEqual([0xffffff80, 0xffffffff, 0x7f, 0]);
  });
  it('PMOVZXWD reads only 8 bytes from memory, unaligned', () => {
    const mc = machine(64, '66 0f 38 33 08'); // pmovzxwd xmm1, [rax]
    setGpr(mc, 0, DATA + 1);
    mc.mem.set([0xff, 0xff, 1, 0, 0, 0x80, 2, 0], DATA + 1);
    expect(go(mc).end).toBe('hlt');
    expect(xmm(mc, 1)).toEqual([0xffff, 1, 0x8000, 2]);
  });
  it('PBLENDVB picks source bytes where XMM0 bytes have bit 7 set', () => {
    expect(x2('66 0f 38 10 ca', bytes(() => 0x11), bytes(() => 0x22), [0x00ff7f80, 0, 0, 0]))
      .toEqual([0x11221122, 0x11111111, 0x11111111, 0x11111111]);
  });
  it('BLENDVPD uses the sign bit of each XMM0 quadword', () => {
    expect(x2('66 0f 38 15 ca', [1, 2, 3, 4], [5, 6, 7, 8], [0, 0x80000000, 0xffffffff, 0x7fffffff])).toEqual([5, 6, 3, 4]);
  });
  it('PTEST sets ZF from AND and CF from ANDN, clears the rest', () => {
    const run = (a: number[], b: number[]): number => {
      const mc = machine(64, '66 0f 38 17 ca');
      setXmm(mc, 1, a);
      setXmm(mc, 2, b);
      mc.cpu.state.u32[34] |= OF | SF | PF | AF;
      go(mc);
      return getFlags(mc.cpu.state.u32) & (CF | ZF | SF | OF | PF | AF);
    };
    expect(run([0xf0, 0, 0, 0], [0x0f, 0, 0, 0])).toBe(ZF);
    expect(run([0xf0, 0, 0, 0], [0xf0, 0, 0, 0])).toBe(CF);
    expect(run([0, 0, 0, 0], [0, 0, 0, 0])).toBe(ZF | CF);
  });
});

describe('insert / extract / mask moves', () => {
  it('EXTRACTPS rax, xmm1, 2 zero-extends into RAX', () => {
    const mc = machine(64, '66 48 0f 3a 17 c8 02');
    setXmm(mc, 1, [1, 2, 0xdeadbeef, 4]);
    setGpr(mc, 0, 0xffffffff, 0xffffffff);
    go(mc);
    expect([gpr(mc, 0), gprHi(mc, 0)]).toEqual([0xdeadbeef, 0]);
  });
  it('PEXTRW eax, xmm1, 5 zero-extends the word', () => {
    const mc = machine(64, '66 0f c5 c1 05');
    setXmm(mc, 1, [1, 2, 0xabcd1234, 4]);
    setGpr(mc, 0, 0xffffffff, 0xffffffff);
    go(mc);
    expect([gpr(mc, 0), gprHi(mc, 0)]).toEqual([0xabcd, 0]);
  });
  it('PEXTRW eax, mm1, 7 uses index bits 1:0', () => {
    const mc = machine(64, '0f c5 c1 07');
    setMm(mc, 1, [0x11112222, 0x33334444]);
    go(mc);
    expect(gpr(mc, 0)).toBe(0x3333);
  });
  it('PEXTRB [rax], xmm1, 15 stores one byte', () => {
    const mc = machine(64, '66 0f 3a 14 08 0f');
    setXmm(mc, 1, [0, 0, 0, 0xab000000]);
    setGpr(mc, 0, DATA);
    mc.mem.fill(0x55, DATA, DATA + 4);
    go(mc);
    expect(Array.from(mc.mem.slice(DATA, DATA + 4))).toEqual([0xab, 0x55, 0x55, 0x55]);
  });
  it('PINSRQ xmm1, rbx, 1 and PINSRW mm1, ebx, 2', () => {
    let mc = machine(64, '66 48 0f 3a 22 cb 01');
    setGpr(mc, 3, 0x55667788, 0x11223344);
    go(mc);
    expect(xmm(mc, 1)).toEqual([0, 0, 0x55667788, 0x11223344]);
    mc = machine(64, '0f c4 cb 02');
    setMm(mc, 1, [0x11111111, 0x22222222]);
    setGpr(mc, 3, 0x1234abcd);
    go(mc);
    expect(mm(mc, 1)).toEqual([0x11111111, 0x2222abcd]);
  });
  it('MOVMSKPS and PMOVMSKB (MMX) gather sign bits', () => {
    let mc = machine(64, '0f 50 c1');
    setXmm(mc, 1, [0x80000000, 0, 0xffffffff, 1]);
    setGpr(mc, 0, 0xffffffff, 0xffffffff);
    go(mc);
    expect([gpr(mc, 0), gprHi(mc, 0)]).toEqual([5, 0]);
    mc = machine(64, '0f d7 c1');
    setMm(mc, 1, [0xff000080, 0x80000000]);
    go(mc);
    expect(gpr(mc, 0)).toBe(0x89);
  });
  it('MASKMOVDQU stores the selected bytes at DS:RDI', () => {
    const mc = machine(64, '66 0f f7 ca');
    setXmm(mc, 1, bytes(k => 0xa0 + k));
    setXmm(mc, 2, bytes(k => (k === 0 || k === 5 || k === 15 ? 0x80 : 0x7f)));
    setGpr(mc, 7, DATA + 3);
    mc.mem.fill(0x55, DATA, DATA + 24);
    expect(go(mc).end).toBe('hlt');
    const got = Array.from(mc.mem.slice(DATA + 3, DATA + 19));
    expect(got).toEqual(got.map((_, k) => (k === 0 || k === 5 || k === 15 ? 0xa0 + k : 0x55)));
  });
  it('MASKMOVQ with a faulting address writes nothing and raises the fault', () => {
    const mc = machine(64, '0f f7 ca');
    setMm(mc, 1, [0x44332211, 0x88776655]);
    setMm(mc, 2, [0x80808080, 0x80808080]);
    setGpr(mc, 7, 0x3ffffc); // last 4 bytes of RAM, then beyond
    const r = go(mc);
    expect(r.end).not.toBe('hlt');
    expect(Array.from(mc.mem.slice(0x3ffffc, 0x400000))).toEqual([0, 0, 0, 0]);
  });
});

describe('MASKMOVQ addressing outside 64-bit mode', () => {
  it('uses the DS base with EDI (32-bit) and honours a segment override', async () => {
    const { DS, ES, dataAttr } = await import('../../../src/cpu/state.js');
    for (const [code, where] of [['0f f7 ca', 0x10100], ['26 0f f7 ca', 0x20100]] as const) {
      const mc = machine(32, code); // maskmovq mm1, mm2 (26 = ES override)
      mc.cpu.state.setSegment(DS, 0x10, 0x10000, 0, 0xffffffff, dataAttr(32));
      mc.cpu.state.setSegment(ES, 0x10, 0x20000, 0, 0xffffffff, dataAttr(32));
      setMm(mc, 1, [0x44332211, 0x88776655]);
      setMm(mc, 2, [0x00800080, 0]);
      setGpr(mc, 7, 0x100);
      expect(go(mc).end).toBe('hlt');
      expect(Array.from(mc.mem.slice(where, where + 4))).toEqual([0x11, 0, 0x33, 0]);
    }
  });
  it('checks the DS limit over all 8 bytes and the segment type (SDM MASKMOVQ: #GP(0))', async () => {
    const { DS, dataAttr } = await import('../../../src/cpu/state.js');
    // DS limit 0x103: bytes 0x100..0x107 straddle it; a read-only DS (type 1) refuses the store
    for (const [limit, attr] of [[0x103, dataAttr(32)], [0xffffffff, (dataAttr(32) & ~0xf) | 0x1]] as const) {
      const mc = machine(32, '0f f7 ca');
      mc.cpu.state.setSegment(DS, 0x10, 0x10000, 0, limit, attr);
      mc.cpu.updateMode();
      setMm(mc, 1, [0x44332211, 0x88776655]);
      setMm(mc, 2, [0x80, 0]); // only byte 0 selected: still the 8-byte operand is checked
      setGpr(mc, 7, 0x100);
      const r = go(mc);
      expect(r.end).toBe('exception:13');
      expect(r.errorCode).toBe(0);
      expect(mc.mem[0x10100]).toBe(0);
    }
  });
  it('uses DI only in 16-bit addressing', () => {
    const mc = machine(16, '0f f7 ca');
    setMm(mc, 1, [0x000000aa, 0]);
    setMm(mc, 2, [0x80, 0]);
    setGpr(mc, 7, 0x12345);
    expect(go(mc).end).toBe('hlt');
    expect(mc.mem[0x2345]).toBe(0xaa);
  });
});
