/**
 * SIMD moves: register/memory forms, zeroing vs merging (SDM Vol. 2 MOVD/MOVQ, MOVSS, MOVSD, MOVLPS,
 * MOVHPS, MOVDDUP, INSERTPS, PINSRB), stores that fault write nothing, 16- and 32-bit modes.
 */
import { describe, expect, it } from 'vitest';
import { machine, go, setXmm, xmm, setMm, mm, setGpr, gpr, gprHi, DATA } from './simd-harness.js';

const F = [0xf1f1f1f1, 0xf2f2f2f2, 0xf3f3f3f3, 0xf4f4f4f4];
const MEM = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01];

/** 64-bit run with RAX = DATA (+off), xmm1 = F, memory at DATA = MEM. */
function run(code: string, off = 0, setup?: (mc: ReturnType<typeof machine>) => void): ReturnType<typeof go> {
  const mc = machine(64, code);
  mc.mem.set(MEM, DATA + off);
  setGpr(mc, 0, DATA + off);
  setXmm(mc, 1, F);
  if (setup) setup(mc);
  const r = go(mc);
  return r;
}
const memAt = (r: { mem: Uint8Array }, off: number, n: number): number[] => Array.from(r.mem.slice(DATA + off, DATA + off + n));

describe('loads to XMM', () => {
  it('MOVD xmm, m32 and MOVQ xmm, m64 zero the rest of the register', () => {
    expect(xmm(run('66 0f 6e 08'), 1)).toEqual([0x44332211, 0, 0, 0]);
    expect(xmm(run('f3 0f 7e 08'), 1)).toEqual([0x44332211, 0x88776655, 0, 0]);
  });
  it('MOVSS/MOVSD xmm, m zero the rest; MOVSS xmm, xmm merges', () => {
    expect(xmm(run('f3 0f 10 08'), 1)).toEqual([0x44332211, 0, 0, 0]);
    expect(xmm(run('f2 0f 10 08'), 1)).toEqual([0x44332211, 0x88776655, 0, 0]);
    const r = run('f3 0f 10 ca', 0, mc => setXmm(mc, 2, [1, 2, 3, 4])); // movss xmm1, xmm2
    expect(xmm(r, 1)).toEqual([1, F[1], F[2], F[3]]);
    const s = run('f2 0f 10 ca', 0, mc => setXmm(mc, 2, [1, 2, 3, 4])); // movsd xmm1, xmm2
    expect(xmm(s, 1)).toEqual([1, 2, F[2], F[3]]);
  });
  it('MOVQ xmm, xmm zeroes the high quadword', () => {
    const r = run('f3 0f 7e ca', 0, mc => setXmm(mc, 2, [1, 2, 3, 4]));
    expect(xmm(r, 1)).toEqual([1, 2, 0, 0]);
  });
  it('MOVHPS/MOVLPS xmm, m64 replace one quadword and keep the other', () => {
    expect(xmm(run('0f 16 08'), 1)).toEqual([F[0], F[1], 0x44332211, 0x88776655]);
    expect(xmm(run('0f 12 08'), 1)).toEqual([0x44332211, 0x88776655, F[2], F[3]]);
  });
  it('MOVDDUP xmm, m64 duplicates; LDDQU loads unaligned', () => {
    expect(xmm(run('f2 0f 12 08', 3), 1)).toEqual([0x44332211, 0x88776655, 0x44332211, 0x88776655]);
    expect(xmm(run('f2 0f f0 08', 3), 1)).toEqual([0x44332211, 0x88776655, 0xccbbaa99, 0x01ffeedd]);
  });
  it('INSERTPS xmm, m32 ignores imm[7:6] (count_s) for memory sources', () => {
    // imm 0xd0: count_s 3 (ignored), count_d 1, no zeroing
    expect(xmm(run('66 0f 3a 21 08 d0'), 1)).toEqual([F[0], 0x44332211, F[2], F[3]]);
  });
  it('PINSRB xmm, m8 reads one byte', () => {
    expect(xmm(run('66 0f 3a 20 08 03'), 1)).toEqual([0x11f1f1f1, F[1], F[2], F[3]]);
  });
  it('MOVD mm, m32 zero-extends into the MMX register', () => {
    const r = run('0f 6e 08', 0, mc => setMm(mc, 1, [7, 7]));
    expect(mm(r, 1)).toEqual([0x44332211, 0]);
  });
});

describe('stores', () => {
  it('MOVD m32, MOVQ m64, MOVSS m32 write exactly their width', () => {
    expect(memAt(run('66 0f 7e 08'), 0, 8)).toEqual([0xf1, 0xf1, 0xf1, 0xf1, 0x55, 0x66, 0x77, 0x88]);
    expect(memAt(run('66 0f d6 08'), 0, 9)).toEqual([0xf1, 0xf1, 0xf1, 0xf1, 0xf2, 0xf2, 0xf2, 0xf2, 0x99]);
    expect(memAt(run('f3 0f 11 08'), 0, 5)).toEqual([0xf1, 0xf1, 0xf1, 0xf1, 0x55]);
  });
  it('MOVHPS m64 stores the high quadword', () => {
    expect(memAt(run('0f 17 08'), 0, 9)).toEqual([0xf3, 0xf3, 0xf3, 0xf3, 0xf4, 0xf4, 0xf4, 0xf4, 0x99]);
  });
  it('MOVNTI m64, MOVNTQ m64, MOVNTDQ m128', () => {
    expect(memAt(run('48 0f c3 18', 0, mc => setGpr(mc, 3, 0x04030201, 0x08070605)), 0, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(memAt(run('0f e7 08', 0, mc => setMm(mc, 1, [0x04030201, 0x08070605])), 0, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(memAt(run('66 0f e7 08'), 0, 16)).toEqual([...Array(4).fill(0xf1), ...Array(4).fill(0xf2), ...Array(4).fill(0xf3), ...Array(4).fill(0xf4)]);
  });
  it('MOVNTDQ to a misaligned address is #GP(0)', () => {
    expect(run('66 0f e7 08', 8).end).toBe('exception:13');
  });
  it('MOVDQU m128 that runs off the end of memory faults and writes nothing', () => {
    const mc = machine(64, 'f3 0f 7f 08');
    setXmm(mc, 1, F);
    setGpr(mc, 0, 0x3ffff8); // last 8 bytes of RAM
    const r = go(mc);
    expect(r.end).not.toBe('hlt');
    expect(Array.from(mc.mem.slice(0x3ffff8, 0x400000))).toEqual(Array(8).fill(0));
  });
});

describe('general registers', () => {
  it('MOVD eax, xmm1 zeroes RAX bits 63:32; MOVQ rax, xmm1 writes all 64', () => {
    const a = run('66 0f 7e c8', 0, mc => setGpr(mc, 0, 0xffffffff, 0xffffffff));
    expect([gpr(a, 0), gprHi(a, 0)]).toEqual([F[0], 0]);
    const b = run('66 48 0f 7e c8');
    expect([gpr(b, 0), gprHi(b, 0)]).toEqual([F[0], F[1]]);
  });
  it('MOVQ xmm1, rax zero-extends to 128 bits', () => {
    const r = run('66 48 0f 6e c8', 0, mc => setGpr(mc, 0, 0x11111111, 0x22222222));
    expect(xmm(r, 1)).toEqual([0x11111111, 0x22222222, 0, 0]);
  });
});

describe('16- and 32-bit modes', () => {
  it('16-bit: MOVD xmm1, [bx]; MOVDQU [bx+si], xmm1; MOVD eax, xmm1', () => {
    const mc = machine(16, '66 0f 6e 0f  f3 0f 7f 08  66 0f 7e c8');
    mc.mem.set([0x78, 0x56, 0x34, 0x12], 0x3000);
    setGpr(mc, 3, 0x3000); // bx
    setGpr(mc, 6, 0x100); // si
    setXmm(mc, 1, F);
    expect(go(mc).end).toBe('hlt');
    expect(xmm(mc, 1)).toEqual([0x12345678, 0, 0, 0]);
    expect(Array.from(mc.mem.slice(0x3100, 0x3110))).toEqual([0x78, 0x56, 0x34, 0x12, ...Array(12).fill(0)]);
    expect(gpr(mc, 0)).toBe(0x12345678);
  });
  it('32-bit: MOVQ xmm1, [eax]; PEXTRD [eax], xmm1, 2', () => {
    const mc = machine(32, 'f3 0f 7e 08  66 0f 3a 16 08 02');
    mc.mem.set(MEM, DATA);
    setGpr(mc, 0, DATA);
    expect(go(mc).end).toBe('hlt');
    expect(xmm(mc, 1)).toEqual([0x44332211, 0x88776655, 0, 0]);
    expect(Array.from(mc.mem.slice(DATA, DATA + 4))).toEqual([0, 0, 0, 0]);
  });
});
