/**
 * SIMD availability checks and MMX state (SDM Vol. 3A Table 2-2, §6.15; Vol. 1 §9.5.1 Table 9-2),
 * matching fixtures/system/exc_simd.asm's expectations.
 */
import { describe, expect, it } from 'vitest';
import { S_CR0, S_CR4, S_FSW, S_FTW, S_FPR } from '../../../src/cpu/state.js';
import { machine, go, setXmm, xmm, setMm, mm, DATA, CODE_BASE } from './simd-harness.js';

const EM = 4, TS = 8, NE = 0x20;
// paddb xmm1, xmm2
const PADDB_X = '66 0f fc ca';
// paddb mm1, mm2
const PADDB_M = '0f fc ca';

describe('SIMD availability (Table 2-2)', () => {
  it('an SSE instruction with CR4.OSFXSR = 0 raises #UD', () => {
    const mc = machine(32, PADDB_X);
    mc.cpu.state.u32[S_CR4] = 0;
    expect(go(mc).end).toBe('exception:6');
  });
  it('an MMX instruction runs with CR4.OSFXSR = 0', () => {
    const mc = machine(32, PADDB_M);
    mc.cpu.state.u32[S_CR4] = 0;
    expect(go(mc).end).toBe('hlt');
  });
  it('CR0.EM = 1 raises #UD for SSE and MMX, before CR0.TS', () => {
    for (const code of [PADDB_X, PADDB_M, '0f 77' /* emms */]) {
      const mc = machine(32, code);
      mc.cpu.state.u32[S_CR0] |= EM | TS;
      expect(go(mc).end).toBe('exception:6');
    }
  });
  it('CR0.TS = 1 raises #NM for SSE, MMX and EMMS', () => {
    for (const code of [PADDB_X, PADDB_M, '0f 77']) {
      const mc = machine(32, code);
      mc.cpu.state.u32[S_CR0] |= TS;
      expect(go(mc).end).toBe('exception:7');
    }
  });
  it('OSFXSR = 0 is #UD even when CR0.TS = 1 (the #UD rows come first)', () => {
    const mc = machine(32, PADDB_X);
    mc.cpu.state.u32[S_CR4] = 0;
    mc.cpu.state.u32[S_CR0] |= TS;
    expect(go(mc).end).toBe('exception:6');
  });
  it('a LOCK prefix raises #UD even when CR0.TS = 1', () => {
    const mc = machine(32, 'f0 66 0f fc ca'); // lock paddb xmm1, xmm2
    mc.cpu.state.u32[S_CR0] |= TS;
    expect(go(mc).end).toBe('exception:6');
  });
  it('CRC32 and MOVNTI need no FP state: they run with CR0.EM|TS and OSFXSR = 0', () => {
    // crc32 eax, bl ; movnti [0x20000], eax
    const mc = machine(32, 'f2 0f 38 f0 c3  0f c3 05 00 00 02 00');
    mc.cpu.state.u32[S_CR0] |= EM | TS;
    mc.cpu.state.u32[S_CR4] = 0;
    expect(go(mc).end).toBe('hlt');
  });
});

describe('pending x87 exception at an MMX instruction', () => {
  it('FSW.ES = 1 with CR0.NE = 1 raises #MF before the MMX instruction', () => {
    const mc = machine(32, PADDB_M);
    mc.cpu.state.u32[S_CR0] |= NE;
    mc.cpu.state.u32[S_FSW] = 0x8081; // B, ES, IE
    setMm(mc, 1, [1, 2]);
    expect(go(mc).end).toBe('exception:16');
    expect(mm(mc, 1)).toEqual([1, 2]);
  });
  it('an SSE instruction without MMX registers ignores FSW.ES', () => {
    const mc = machine(32, PADDB_X);
    mc.cpu.state.u32[S_CR0] |= NE;
    mc.cpu.state.u32[S_FSW] = 0x8081;
    expect(go(mc).end).toBe('hlt');
  });
  it('with CR0.NE = 0 the MMX instruction signals FERR# and executes', () => {
    const mc = machine(32, PADDB_M);
    mc.cpu.state.u32[S_FSW] = 0x8081;
    let ferr = 0;
    mc.cpu.onFerr = () => { ferr++; };
    setMm(mc, 1, [0x01010101, 0]);
    setMm(mc, 2, [0x01010101, 0]);
    expect(go(mc).end).toBe('hlt');
    expect(ferr).toBe(1);
    expect(mm(mc, 1)).toEqual([0x02020202, 0]);
  });
});

describe('MMX state (Vol. 1 §9.5.1, Table 9-2)', () => {
  it('an MMX instruction sets TOP = 0, all tags valid, and the written register exponent to all ones', () => {
    const mc = machine(32, PADDB_M);
    const u = mc.cpu.state.u32;
    u[S_FSW] = 5 << 11;
    u[S_FTW] = 0;
    go(mc);
    expect((u[S_FSW]! >> 11) & 7).toBe(0);
    expect(u[S_FTW]).toBe(0xff);
    expect(u[S_FPR + 1 * 4 + 2]).toBe(0xffff);
    expect(u[S_FPR + 2 * 4 + 2]).toBe(0); // a source register keeps its exponent
  });
  it('EMMS empties every tag and sets TOP = 0 (Table 9-2 EMMS row)', () => {
    const mc = machine(32, '0f 77');
    mc.cpu.state.u32[S_FTW] = 0xff;
    mc.cpu.state.u32[S_FSW] = 0x4c00; // C3, TOP = 1
    go(mc);
    expect(mc.cpu.state.u32[S_FTW]).toBe(0);
    expect(mc.cpu.state.u32[S_FSW]).toBe(0x4400);
  });
  it('an SSE-only instruction leaves the x87 tags alone', () => {
    const mc = machine(32, PADDB_X);
    mc.cpu.state.u32[S_FTW] = 0x0f;
    go(mc);
    expect(mc.cpu.state.u32[S_FTW]).toBe(0x0f);
  });
});

describe('alignment of 16-byte operands', () => {
  it('MOVDQA from a misaligned address raises #GP(0); MOVDQU loads it', () => {
    // movdqa xmm3, [0x20001]
    let mc = machine(32, '66 0f 6f 1d 01 00 02 00');
    let r = go(mc);
    expect(r.end).toBe('exception:13');
    expect(r.errorCode).toBe(0);
    expect(r.ripLo).toBe(CODE_BASE);
    // movdqu xmm3, [0x20001]
    mc = machine(32, 'f3 0f 6f 1d 01 00 02 00');
    for (let k = 0; k < 17; k++) mc.mem[DATA + k] = k;
    r = go(mc);
    expect(r.end).toBe('hlt');
    expect(xmm(mc, 3)).toEqual([0x04030201, 0x08070605, 0x0c0b0a09, 0x100f0e0d]);
  });
  it('PADDB xmm, m128 requires alignment; PADDB mm, m64 and MOVSD xmm, m64 do not', () => {
    let mc = machine(32, '66 0f fc 0d 08 00 02 00'); // paddb xmm1, [0x20008]
    expect(go(mc).end).toBe('exception:13');
    mc = machine(32, '0f fc 0d 01 00 02 00'); // paddb mm1, [0x20001]
    expect(go(mc).end).toBe('hlt');
    mc = machine(32, 'f2 0f 10 0d 01 00 02 00'); // movsd xmm1, [0x20001]
    expect(go(mc).end).toBe('hlt');
  });
  it('MOVAPS store to a misaligned address writes nothing', () => {
    const mc = machine(32, '0f 29 0d 04 00 02 00'); // movaps [0x20004], xmm1
    setXmm(mc, 1, [1, 2, 3, 4]);
    expect(go(mc).end).toBe('exception:13');
    expect(Array.from(mc.mem.slice(DATA, DATA + 24)).every(x => x === 0)).toBe(true);
  });
});
