/**
 * Checks made on every USE of a segment and by the debug registers on implicit operands, one
 * instruction at a time (32-bit protected mode, the rig of harness.ts). Expected vectors and error
 * codes come from the SDM: Vol. 3A §5.3 (limit checking, every byte of the access, expand-down by
 * the B flag), §5.5 (type checking: writes to code and read-only data segments, reads of
 * execute-only code segments), §17.2.4-17.2.5 and §17.3.1.2 (data and I/O breakpoints are traps).
 */
import { describe, expect, it } from 'vitest';
import { CODE, GDT_BASE, SEL, STACK, desc, le32, rig, expectFault } from './harness.js';
import {
  CS, DS, S_CR0, S_CR3, S_CR4, S_DR, S_DR6, S_DR7, S_EFER, S_GDTR, S_RIP, S_SEG, SEG_ATTR, SEG_STRIDE, ATTR_DB, ATTR_G, ATTR_L, ATTR_P, ATTR_S,
} from '../../src/cpu/state.js';

const HLT = [0xf4];
const movAx = (v: number): number[] => [0x66, 0xb8, v & 0xff, (v >>> 8) & 0xff];
const movEsi = (v: number): number[] => [0xbe, ...le32(v)];
const movEdi = (v: number): number[] => [0xbf, ...le32(v)];
const movEcx = (v: number): number[] => [0xb9, ...le32(v)];
const movEsp = (v: number): number[] => [0xbc, ...le32(v)];
const movDsAx = [0x8e, 0xd8];
const movEsAx = [0x8e, 0xc0];
const movSsAx = [0x8e, 0xd0];

type Exit = ReturnType<ReturnType<typeof rig>['run']>;
/** Runs `pre` (segment setup, ends in a block boundary) then `body`; returns the exit of body. */
function runWith(pre: number[], body: number[], setup?: (r: ReturnType<typeof rig>) => void): { r: ReturnType<typeof rig>; e: Exit } {
  const r = rig();
  setup?.(r);
  r.code([...pre, ...body, ...HLT]);
  const e = r.run();
  return { r, e };
}

describe('type checks on use (SDM Vol. 3A 5.5)', () => {
  const ro = [...movAx(SEL.roData), ...movDsAx];
  it('a write through a read-only data segment is #GP(0) and writes nothing', () => {
    const { r, e } = runWith(ro, [0xc7, 0x05, ...le32(0x9000), ...le32(0x12345678)]); // mov dword [0x9000], imm
    expectFault(e, 13, 0);
    expect(r.r32(0x9000)).toBe(0);
  });
  it('a read through a read-only data segment is allowed', () => {
    const { e } = runWith(ro, [0x8b, 0x05, ...le32(0x9000)]); // mov eax, [0x9000]
    expect(e.reason).toBe('hlt');
  });
  it('a read-modify-write (ADD) through a read-only data segment is #GP(0)', () => {
    const { e } = runWith(ro, [0x01, 0x05, ...le32(0x9000)]); // add [0x9000], eax
    expectFault(e, 13, 0);
  });
  it('CMP and PUSH of a read-only memory operand are reads (no fault)', () => {
    const { e } = runWith(ro, [0x39, 0x05, ...le32(0x9000), 0xff, 0x35, ...le32(0x9000)]);
    expect(e.reason).toBe('hlt');
  });
  it('POP to a read-only memory operand is #GP(0) (the destination is written)', () => {
    const { e } = runWith(ro, [0x6a, 0x01, 0x8f, 0x05, ...le32(0x9000)]); // push 1; pop dword [0x9000]
    expectFault(e, 13, 0);
  });
  it('a write through CS (a readable code segment) is #GP(0); a read is allowed', () => {
    expectFault(runWith([], [0x2e, 0x89, 0x05, ...le32(0x9000)]).e, 13, 0); // mov cs:[0x9000], eax
    expect(runWith([], [0x2e, 0x8b, 0x05, ...le32(0x9000)]).e.reason).toBe('hlt');
  });
  it('a read through an execute-only CS is #GP(0)', () => {
    const { e } = runWith([], [0x2e, 0x8b, 0x05, ...le32(0x9000)], (r) => {
      r.cpu.state.setSegment(CS, SEL.codeXO, 0, 0, 0xffffffff, 0x9 | ATTR_S | ATTR_P | ATTR_DB | ATTR_G);
      r.cpu.updateMode();
    });
    expectFault(e, 13, 0);
  });
  it('STOSD through a read-only ES is #GP(0); EDI and memory unchanged', () => {
    const { r, e } = runWith([...movAx(SEL.roData), ...movEsAx], [...movEdi(0x9000), 0xab]);
    expectFault(e, 13, 0);
    expect(r.cpu.state.u32[14]).toBe(0x9000);
    expect(r.r32(0x9000)).toBe(0);
  });
  it('MOVSD with a read-only ES is #GP(0); SCASD and CMPSD through it are reads', () => {
    const ro2 = [...movAx(SEL.roData), ...movEsAx];
    expectFault(runWith(ro2, [...movEsi(0x8000), ...movEdi(0x9000), 0xa5]).e, 13, 0);
    expect(runWith(ro2, [...movEsi(0x8000), ...movEdi(0x9000), 0xaf, 0xa7]).e.reason).toBe('hlt');
  });
  it('LODSD with a CS override through an execute-only CS is #GP(0)', () => {
    const { e } = runWith([], [...movEsi(0x9000), 0x2e, 0xad], (r) => {
      r.cpu.state.setSegment(CS, SEL.codeXO, 0, 0, 0xffffffff, 0x9 | ATTR_S | ATTR_P | ATTR_DB | ATTR_G);
      r.cpu.updateMode();
    });
    expectFault(e, 13, 0);
  });
  it('no type checks in 64-bit mode: a write through a read-only DS works', () => {
    const { r, e } = runWith([], [0xc7, 0x04, 0x25, ...le32(0x9000), ...le32(0x11223344)], (r) => {
      r.w32(0x20000, 0x21003);
      r.w32(0x21000, 0x83);
      r.cpu.state.u32[S_SEG + DS * SEG_STRIDE + SEG_ATTR] = 0x1 | ATTR_S | ATTR_P; // DS read-only
      setLong(r);
    });
    expect(e.reason).toBe('hlt');
    expect(r.r32(0x9000)).toBe(0x11223344);
  });
});

/** IA-32e mode (CS.L = 1) with the identity map the caller wrote at 0x20000. */
function setLong(r: ReturnType<typeof rig>): void {
  const u = r.cpu.state.u32;
  u[S_SEG + CS * SEG_STRIDE + SEG_ATTR] = 0xb | ATTR_S | ATTR_P | ATTR_L | ATTR_G;
  u[S_CR4] = u[S_CR4]! | (1 << 5);
  u[S_EFER] = (1 << 8) | (1 << 10);
  u[S_CR3] = 0x20000;
  u[S_CR0] = 0x80000011;
  r.cpu.updateMode();
}

describe('limit checks cover every byte of implicit operands (SDM Vol. 3A 5.3)', () => {
  const es16 = [...movAx(SEL.data16), ...movEsAx];
  const ds16 = [...movAx(SEL.data16), ...movDsAx];
  it('STOSD whose last byte is beyond the ES limit is #GP(0); STOSB at the limit is not', () => {
    expectFault(runWith(es16, [...movEdi(0xfffd), 0xab]).e, 13, 0);
    expect(runWith(es16, [...movEdi(0xffff), 0xaa]).e.reason).toBe('hlt');
  });
  it('LODSD whose last byte is beyond the DS limit is #GP(0)', () => {
    expectFault(runWith(ds16, [...movEsi(0xfffe), 0xad]).e, 13, 0);
  });
  it('REP MOVSD stops at the element that crosses the ES limit: earlier elements are done', () => {
    // elements at 0xFFF6 and 0xFFFA fit; the one at 0xFFFE..0x10001 does not
    const { r, e } = runWith(es16, [...movEsi(0x8000), ...movEdi(0xfff6), ...movEcx(4), 0xf3, 0xa5]);
    expectFault(e, 13, 0);
    expect([r.cpu.state.u32[14], r.cpu.state.u32[2]]).toEqual([0xfffe, 2]);
  });
  it('PUSH of a dword with a 16-bit SS: the bytes beyond the limit are #SS(0), ESP unchanged', () => {
    const { r, e } = runWith([...movAx(SEL.data16), ...movSsAx, ...movEsp(2)], [0x50]);
    expectFault(e, 12, 0);
    expect(r.cpu.state.u32[8]).toBe(2);
  });
  it('POP of a dword at SP = 0xFFFE with a 16-bit SS is #SS(0)', () => {
    const { e } = runWith([...movAx(SEL.data16), ...movSsAx, ...movEsp(0xfffe)], [0x58]);
    expectFault(e, 12, 0);
  });
  it('expand-down SS (B = 1, limit 0xFFF): a push reaching offset 0xFFF is #SS(0), above it works', () => {
    const setup = (r: ReturnType<typeof rig>): void => r.setDesc(SEL.freeSlot, desc(0, 0x00fff, 0x97, 0x4));
    expectFault(runWith([...movAx(SEL.freeSlot), ...movSsAx, ...movEsp(0x1002)], [0x50], setup).e, 12, 0);
    expect(runWith([...movAx(SEL.freeSlot), ...movSsAx, ...movEsp(0x1004)], [0x50], setup).e.reason).toBe('hlt');
  });
  it('expand-down data segment with B = 0: the top is 0xFFFF, a dword at 0xFFFE is #GP(0)', () => {
    const setup = (r: ReturnType<typeof rig>): void => r.setDesc(SEL.freeSlot, desc(0, 0x00fff, 0x97, 0x0));
    const pre = [...movAx(SEL.freeSlot), ...movDsAx];
    expectFault(runWith(pre, [0x8b, 0x05, ...le32(0xfffe)], setup).e, 13, 0);
    expect(runWith(pre, [0x8b, 0x05, ...le32(0xfffc)], setup).e.reason).toBe('hlt');
  });
  it('LGDT and JMP FAR m16:32 read 6 bytes: crossing the DS limit is #GP(0) and changes nothing', () => {
    const { r, e } = runWith(ds16, [0x0f, 0x01, 0x15, ...le32(0xfffb)]); // lgdt [0xfffb]
    expectFault(e, 13, 0);
    expect(r.cpu.state.u32[S_GDTR]).toBe(GDT_BASE);
    expectFault(runWith(ds16, [0xff, 0x2d, ...le32(0xfffb)]).e, 13, 0); // jmp far [0xfffb]
  });
  it('LDS reading a 6-byte far pointer that crosses the DS limit is #GP(0)', () => {
    expectFault(runWith(ds16, [0xc5, 0x05, ...le32(0xfffb)]).e, 13, 0);
    expect(runWith(ds16, [0x8b, 0x05, ...le32(0xfffa)]).e.reason).toBe('hlt');
  });
});

/** DR7 for breakpoint n enabled locally with R/W and LEN codes (SDM Vol. 3A Figure 17-1). */
const dr7 = (n: number, rw: number, len: number): number => ((1 << (n * 2)) | (rw << (16 + n * 4)) | (len << (18 + n * 4))) >>> 0;
const W = 1, IO = 2, RW = 3;
const L1 = 0, L2 = 1, L4 = 3;

function bp(r: ReturnType<typeof rig>, n: number, addr: number, rw: number, len: number): void {
  const u = r.cpu.state.u32;
  u[S_DR + n * 2] = addr;
  u[S_DR7] = (u[S_DR7]! | dr7(n, rw, len)) >>> 0;
  u[S_DR6] = 0xffff0ff0;
}
function expectDbTrap(r: ReturnType<typeof rig>, e: Exit, bits: number, rip: number): void {
  expectFault(e, 1);
  expect(r.cpu.state.u32[S_DR6]! & 0xf).toBe(bits);
  expect(r.cpu.state.u32[S_RIP]).toBe(rip);
}

describe('data breakpoints on implicit operands (SDM Vol. 3A 17.2.4-17.2.5, 17.3.1.2)', () => {
  it('PUSH hits a write breakpoint on the stack slot: a trap after it, the push done', () => {
    const r = rig();
    bp(r, 0, STACK - 4, W, L4);
    r.code([0x50, ...HLT]); // push eax
    expectDbTrap(r, r.run(), 1, CODE + 1);
    expect(r.cpu.state.u32[8]).toBe(STACK - 4);
  });
  it('POP hits a read/write breakpoint but not a write-only one', () => {
    const r = rig();
    bp(r, 0, STACK + 2, RW, L2);
    r.code([0x58, ...HLT]); // pop eax: reads STACK..STACK+3
    expectDbTrap(r, r.run(), 1, CODE + 1);
    const r2 = rig();
    bp(r2, 0, STACK, W, L4);
    r2.code([0x58, ...HLT]);
    expect(r2.run().reason).toBe('hlt');
  });
  it('CALL pushes the return address (trap at the target); RET reads it', () => {
    const r = rig();
    bp(r, 3, STACK - 4, W, L1);
    r.code([0xe8, ...le32(1), ...HLT, 0xc3]); // call +1 (to the RET); ret
    expectDbTrap(r, r.run(), 8, CODE + 6);
    const r2 = rig();
    bp(r2, 1, STACK - 4, RW, L4);
    r2.cpu.state.u32[S_DR7] = dr7(1, W, L4);
    r2.code([0xe8, ...le32(1), ...HLT, 0xc3]);
    expectDbTrap(r2, r2.run(), 2, CODE + 6); // the CALL's write
    r2.cpu.state.u32[S_DR7] = dr7(1, RW, L4);
    expectDbTrap(r2, r2.run(), 2, CODE + 5); // the RET's read, trap at the return address
  });
  it('far CALL: the CS:EIP frame pushed by the system unit is matched', () => {
    const r = rig();
    bp(r, 0, STACK - 8, W, L4); // EIP slot (CS is at STACK - 4)
    r.code([0x9a, ...le32(CODE + 7), SEL.code32, 0, ...HLT]); // call far 08:CODE+7 (the HLT)
    expectDbTrap(r, r.run(), 1, CODE + 7);
  });
  it('REP STOSB: the trap comes after the iteration that hit, RIP still on the instruction', () => {
    const r = rig();
    bp(r, 1, 0x9005, W, L1);
    r.code([...movEdi(0x9000), ...movEcx(16), 0xf3, 0xaa, ...HLT]);
    const rep = CODE + 10;
    expectDbTrap(r, r.run(), 2, rep);
    expect([r.cpu.state.u32[14], r.cpu.state.u32[2]]).toEqual([0x9006, 10]);
    expect(r.run().reason).toBe('hlt'); // the remaining iterations do not hit
    expect([r.cpu.state.u32[14], r.cpu.state.u32[2]]).toEqual([0x9010, 0]);
  });
  it('TF single-steps a REP string one iteration at a time, RIP on the instruction until the last', () => {
    const r = rig();
    r.code([...movEdi(0x9000), ...movEcx(3), 0xf3, 0xaa, ...HLT]);
    const u = r.cpu.state.u32;
    const rep = CODE + 10;
    expect(r.run(2).reason).toBe('budget'); // the two MOVs, TF still clear
    u[34] = (u[34]! | 0x100) >>> 0; // TF
    for (const [edi, ecx, rip] of [[0x9001, 2, rep], [0x9002, 1, rep], [0x9003, 0, rep + 2]]) {
      expectFault(r.run(), 1);
      expect(r.cpu.state.u32[S_DR6]! & 0x4000).toBe(0x4000); // BS
      expect([u[14], u[2], u[S_RIP]]).toEqual([edi, ecx, rip]);
      r.cpu.state.u32[S_DR6] = 0xffff0ff0;
    }
  });
  it('the last iteration of a REP string traps with RIP at the next instruction', () => {
    const r = rig();
    bp(r, 0, 0x9003, W, L1);
    r.code([...movEdi(0x9000), ...movEcx(4), 0xf3, 0xaa, ...HLT]);
    expectDbTrap(r, r.run(), 1, CODE + 12);
  });
  it('MOVSD: the source read and the destination write are both matched', () => {
    const src = rig();
    bp(src, 0, 0x8004, RW, L4);
    src.code([...movEsi(0x8004), ...movEdi(0x9000), 0xa5, ...HLT]);
    expectDbTrap(src, src.run(), 1, CODE + 11);
    const dst = rig();
    bp(dst, 2, 0x9002, W, L2);
    bp(dst, 0, 0x8004, W, L4); // a write breakpoint on the source does not hit
    dst.code([...movEsi(0x8004), ...movEdi(0x9000), 0xa5, ...HLT]);
    expectDbTrap(dst, dst.run(), 4, CODE + 11);
  });
  it('OUTSB reads DS:ESI: the trap follows the io exit', () => {
    const r = rig();
    bp(r, 0, 0x8000, RW, L1);
    r.code([...movEsi(0x8000), 0x66, 0xba, 0x80, 0x00, 0x6e, ...HLT]); // mov dx, 0x80; outsb
    expect(r.run().reason).toBe('io');
    expectDbTrap(r, r.run(), 1, CODE + 10);
  });
});

describe('I/O breakpoints (SDM Vol. 3A 17.2.4, 17.3.1.2)', () => {
  const withDe = (r: ReturnType<typeof rig>): void => { r.cpu.state.u32[S_CR4] = 1 << 3; };
  it('OUT to a port in the range with CR4.DE = 1 and R/W = 10: a trap after the I/O', () => {
    const r = rig();
    withDe(r);
    bp(r, 2, 0x80, IO, L1);
    r.code([0xe6, 0x80, ...HLT]); // out 0x80, al
    const e = r.run();
    expect(e.reason).toBe('io');
    expectDbTrap(r, r.run(), 4, CODE + 2);
  });
  it('the port range overlaps: IN AX at 0x7F hits a 1-byte breakpoint at 0x80; 0x82 misses a 2-byte one at 0x80', () => {
    const r = rig();
    withDe(r);
    bp(r, 0, 0x80, IO, L1);
    r.code([0x66, 0xba, 0x7f, 0x00, 0x66, 0xed, ...HLT]); // mov dx, 0x7f; in ax, dx
    expect(r.run().reason).toBe('io');
    expectDbTrap(r, r.run(), 1, CODE + 6);
    const r2 = rig();
    withDe(r2);
    bp(r2, 0, 0x81, IO, L2); // aligned down: 0x80..0x81
    r2.code([0xe4, 0x82, 0xe4, 0x81, ...HLT]); // in al, 0x82; in al, 0x81
    expect(r2.run().reason).toBe('io');
    expect(r2.run().reason).toBe('io');
    expectDbTrap(r2, r2.run(), 1, CODE + 4);
  });
  it('with CR4.DE = 0 the R/W = 10 encoding matches nothing (undefined; ignored by this model)', () => {
    const r = rig();
    bp(r, 2, 0x80, IO, L1);
    r.code([0xe6, 0x80, ...HLT]);
    expect(r.run().reason).toBe('io');
    expect(r.run().reason).toBe('hlt');
  });
  it('a data breakpoint does not match a port number (R/W = 11 on address 0x80)', () => {
    const r = rig();
    withDe(r);
    bp(r, 0, 0x80, RW, L1);
    r.code([0xe6, 0x80, ...HLT]);
    expect(r.run().reason).toBe('io');
    expect(r.run().reason).toBe('hlt');
  });
  it('REP OUTSB: the I/O breakpoint traps after the first iteration, RIP on the instruction', () => {
    const r = rig();
    withDe(r);
    bp(r, 1, 0x80, IO, L1);
    r.code([...movEsi(0x8000), ...movEcx(3), 0x66, 0xba, 0x80, 0x00, 0xf3, 0x6e, ...HLT]);
    expect(r.run().reason).toBe('io');
    expectDbTrap(r, r.run(), 2, CODE + 14);
    expect(r.cpu.state.u32[2]).toBe(2);
  });
});

describe('data breakpoints on descriptor-table accesses (SDM Vol. 3A 17.2.5: any byte of an access)', () => {
  it('MOV DS reads the GDT descriptor: a read/write breakpoint on it traps after the load', () => {
    const r = rig();
    bp(r, 1, GDT_BASE + SEL.data + 4, RW, L4); // the descriptor's high dword
    r.code([...movAx(SEL.data), ...movDsAx, ...HLT]);
    expectDbTrap(r, r.run(), 2, CODE + 6);
  });
  it('a write-only breakpoint on the descriptor does not hit (the accessed bit is already set)', () => {
    const r = rig();
    r.w8(GDT_BASE + SEL.data + 5, 0x93);
    bp(r, 1, GDT_BASE + SEL.data + 4, W, L4);
    r.code([...movAx(SEL.data), ...movDsAx, ...HLT]);
    expect(r.run().reason).toBe('hlt');
  });
});
