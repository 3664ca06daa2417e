/**
 * The #GP/#NP/#SS/#TS/#UD checks of the system architecture, one instruction at a time, with the
 * expected vector and error code taken from the SDM (Vol. 2 instruction pages, Vol. 3A chapters named
 * per test). Exceptions exit (exceptionBitmap) unless a test asks for delivery.
 */
import { describe, expect, it } from 'vitest';
import { CODE, GDT_BASE, IDT_BASE, SEL, STACK, desc, le32, rig, expectFault } from './harness.js';
import {
  CS, DS, S_CR0, S_CR2, S_CR3, S_CR4, S_DR6, S_DR7, S_EFER, S_RFLAGS, S_RIP, S_SEG, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, SEG_STRIDE, SS, TR,
  ATTR_P, ATTR_S, S_IDTR,
} from '../../src/cpu/state.js';

const MOV_CR0_EAX = [0x0f, 0x22, 0xc0];
const MOV_CR4_EAX = [0x0f, 0x22, 0xe0];
const MOV_CR3_EAX = [0x0f, 0x22, 0xd8];
const WRMSR = [0x0f, 0x30];
const RDMSR = [0x0f, 0x32];
const HLT = [0xf4];
const movEax = (v: number): number[] => [0xb8, ...le32(v)];
const movEcx = (v: number): number[] => [0xb9, ...le32(v)];
const movEdx = (v: number): number[] => [0xba, ...le32(v)];
const movAx = (v: number): number[] => [0x66, 0xb8, v & 0xff, (v >>> 8) & 0xff];

describe('control registers (SDM Vol. 3A 2.5, Vol. 2 MOV to CR)', () => {
  it('CR0.PG without PE is #GP(0)', () => {
    const r = rig();
    r.code([...movEax(0x80000000), ...MOV_CR0_EAX]);
    expectFault(r.run(), 13, 0);
    expect(r.cpu.state.u32[S_CR0]).toBe(0x60000011);
  });
  it('CR0.NW without CD is #GP(0)', () => {
    const r = rig();
    r.code([...movEax(0x20000011), ...MOV_CR0_EAX]);
    expectFault(r.run(), 13, 0);
  });
  it('CR0.PG with EFER.LME and CR4.PAE = 0 is #GP(0) (9.8.5)', () => {
    const r = rig();
    r.cpu.state.u32[S_EFER] = 1 << 8;
    r.code([...movEax(0x80000011), ...MOV_CR0_EAX]);
    expectFault(r.run(), 13, 0);
  });
  it('CR0.PG with EFER.LME and CR4.PAE activates IA-32e mode (EFER.LMA)', () => {
    const r = rig();
    const u = r.cpu.state.u32;
    u[S_EFER] = 1 << 8;
    u[S_CR4] = 1 << 5;
    r.w32(0x20000, 0x21003); // PML4[0] -> PDPT at 0x21000
    r.w32(0x21000, 0x83); // 1 GiB page at 0
    u[S_CR3] = 0x20000;
    r.code([...movEax(0x80000011), ...MOV_CR0_EAX, ...HLT]);
    expect(r.run().reason).toBe('hlt');
    expect(u[S_EFER]! & (1 << 10)).toBe(1 << 10);
  });
  it('a CR4 bit the model does not implement (PKE) is #GP(0)', () => {
    const r = rig();
    r.code([...movEax(1 << 22), ...MOV_CR4_EAX]);
    expectFault(r.run(), 13, 0);
  });
  it('changing CR4.LA57 in IA-32e mode is #GP(0)', () => {
    const r = rig();
    const u = r.cpu.state.u32;
    u[S_EFER] = (1 << 8) | (1 << 10);
    u[S_CR4] = 1 << 5;
    r.w32(0x20000, 0x21003);
    r.w32(0x21000, 0x83);
    u[S_CR3] = 0x20000;
    u[S_CR0] = 0x80000011;
    r.cpu.updateMode(); // compatibility mode (CS.L = 0)
    r.code([...movEax((1 << 5) | (1 << 12)), ...MOV_CR4_EAX]);
    expectFault(r.run(), 13, 0);
  });
  it('CR4.PCIDE outside IA-32e mode is #GP(0)', () => {
    const r = rig();
    r.code([...movEax(1 << 17), ...MOV_CR4_EAX]);
    expectFault(r.run(), 13, 0);
  });
  it('MOV to CR1 is #UD', () => {
    const r = rig();
    r.code([0x0f, 0x22, 0xc8]);
    expectFault(r.run(), 6);
  });
  it('MOV to CR3 at CPL 3 is #GP(0)', () => {
    const r = rig();
    r.cpu.state.setSegment(CS, SEL.ucode32, 0, 0, 0xffffffff, 0xfb | ATTR_S | ATTR_P | (1 << 14) | (1 << 15));
    r.cpu.updateMode();
    r.code([...movEax(0x1000), ...MOV_CR3_EAX]);
    expectFault(r.run(), 13, 0);
  });
  it('entering PAE paging loads the PDPTEs: a reserved bit with P = 1 is #GP(0) (4.4.1)', () => {
    const r = rig();
    const u = r.cpu.state.u32;
    r.w32(0x5000, 0x6001);
    r.w32(0x5008, 0x7001 | (1 << 5)); // PDPTE 1: reserved bit 5 with P = 1
    u[S_CR4] = 1 << 5;
    u[S_CR3] = 0x5000;
    r.code([...movEax(0x80000011), ...MOV_CR0_EAX]);
    expectFault(r.run(), 13, 0);
    expect(u[S_CR0]! >>> 31).toBe(0);
  });
  it('CLTS clears CR0.TS; LMSW cannot clear PE (Vol. 2 LMSW)', () => {
    const r = rig();
    r.cpu.state.u32[S_CR0] = 0x60000019;
    r.code([0x0f, 0x06, ...movAx(0x0000), 0x0f, 0x01, 0xf0, ...HLT]); // clts; mov ax,0; lmsw ax; hlt
    expect(r.run().reason).toBe('hlt');
    expect(r.cpu.state.u32[S_CR0]! & 0x9).toBe(0x1);
  });
});

describe('MSRs (SDM Vol. 2 RDMSR/WRMSR, Vol. 4 Table 2-2)', () => {
  it('a reserved EFER bit is #GP(0)', () => {
    const r = rig();
    r.code([...movEcx(0xc0000080), ...movEax(1 << 9), ...movEdx(0), ...WRMSR]);
    expectFault(r.run(), 13, 0);
  });
  it('changing EFER.LME with paging on is #GP(0) (9.8.5)', () => {
    const r = rig();
    const u = r.cpu.state.u32;
    r.w32(0x20000, 0x83); // 32-bit paging, 4 MiB page 0 (needs PSE)
    u[S_CR4] = 1 << 4;
    u[S_CR3] = 0x20000;
    u[S_CR0] = 0x80000011;
    r.cpu.updateMode();
    r.code([...movEcx(0xc0000080), ...movEax(1 << 8), ...movEdx(0), ...WRMSR]);
    expectFault(r.run(), 13, 0);
  });
  it('a non-canonical FS_BASE is #GP(0); a canonical one loads FS.base', () => {
    const r = rig();
    r.code([...movEcx(0xc0000100), ...movEax(0), ...movEdx(0x8000), ...WRMSR]);
    expectFault(r.run(), 13, 0);
    r.code([...movEcx(0xc0000100), ...movEax(0x1234), ...movEdx(0xffff8000), ...WRMSR, ...HLT]);
    expect(r.run().reason).toBe('hlt');
    expect(r.cpu.state.u32[S_SEG + 4 * SEG_STRIDE + SEG_BASE]).toBe(0x1234);
  });
  it('an invalid PAT memory type (2) is #GP(0); the reset PAT reads 0007040600070406', () => {
    const r = rig();
    r.code([...movEcx(0x277), ...RDMSR, ...HLT]);
    expect(r.run().reason).toBe('hlt');
    expect([r.cpu.state.u32[0], r.cpu.state.u32[4]]).toEqual([0x00070406, 0x00070406]);
    r.code([...movEcx(0x277), ...movEax(0x02), ...movEdx(0), ...WRMSR]);
    expectFault(r.run(), 13, 0);
  });
  it('an unknown MSR leaves with rdmsr/wrmsr exits; the monitor value lands in EDX:EAX', () => {
    const r = rig();
    r.code([...movEcx(0x12345678), ...RDMSR, ...HLT]);
    const e = r.run();
    expect(e.reason).toBe('rdmsr');
    if (e.reason !== 'rdmsr') return;
    expect(e.msr).toBe(0x12345678);
    e.valueLo = 0xaabbccdd;
    e.valueHi = 0x11223344;
    expect(r.run().reason).toBe('hlt');
    expect([r.cpu.state.u32[0], r.cpu.state.u32[4]]).toEqual([0xaabbccdd, 0x11223344]);
    r.code([...movEcx(0x12345678), ...movEax(5), ...movEdx(6), ...WRMSR]);
    const w = r.run();
    expect(w.reason).toBe('wrmsr');
    if (w.reason === 'wrmsr') expect([w.msr, w.valueLo, w.valueHi]).toEqual([0x12345678, 5, 6]);
  });
  it('RDMSR at CPL 3 is #GP(0)', () => {
    const r = rig();
    r.cpu.state.setSegment(CS, SEL.ucode32, 0, 0, 0xffffffff, 0xfb | ATTR_S | ATTR_P | (1 << 14) | (1 << 15));
    r.cpu.updateMode();
    r.code([...movEcx(0x10), ...RDMSR]);
    expectFault(r.run(), 13, 0);
  });
});

describe('segment loads (SDM Vol. 2 MOV/POP, Vol. 3A 5.4-5.6)', () => {
  const load = (sel: number, sreg: 'ds' | 'ss'): ReturnType<typeof rig> => {
    const r = rig();
    r.code([...movAx(sel), 0x8e, sreg === 'ds' ? 0xd8 : 0xd0, ...HLT]);
    return r;
  };
  it('a selector beyond the GDT limit is #GP(selector)', () => expectFault(load(0x80, 'ds').run(), 13, 0x80));
  it('a data segment that is not present is #NP(selector)', () => expectFault(load(SEL.notPresent, 'ds').run(), 11, SEL.notPresent));
  it('an execute-only code segment in DS is #GP(selector)', () => expectFault(load(SEL.codeXO, 'ds').run(), 13, SEL.codeXO));
  it('DS with RPL 3 > DPL 0 is #GP(selector)', () => expectFault(load(SEL.data | 3, 'ds').run(), 13, SEL.data));
  it('a null selector in DS is allowed and marks DS unusable', () => {
    const r = load(0, 'ds');
    expect(r.run().reason).toBe('hlt');
    expect(r.cpu.state.u32[S_SEG + DS * SEG_STRIDE + SEG_ATTR]! & (1 << 16)).not.toBe(0);
  });
  it('a null SS outside 64-bit mode is #GP(0)', () => expectFault(load(0, 'ss').run(), 13, 0));
  it('SS with RPL != CPL is #GP(selector)', () => expectFault(load(SEL.data | 1, 'ss').run(), 13, SEL.data));
  it('a read-only data segment in SS is #GP(selector)', () => expectFault(load(SEL.roData, 'ss').run(), 13, SEL.roData));
  it('SS with DPL != CPL is #GP(selector)', () => expectFault(load(SEL.dpl1Data, 'ss').run(), 13, SEL.dpl1Data));
  it('a non-present SS is #SS(selector)', () => {
    const r = rig();
    r.setDesc(SEL.freeSlot, desc(0, 0xfffff, 0x13, 0xc));
    r.code([...movAx(SEL.freeSlot), 0x8e, 0xd0]);
    expectFault(r.run(), 12, SEL.freeSlot);
  });
  it('a load sets the descriptor accessed bit and the hidden part (base, limit)', () => {
    const r = rig();
    r.setDesc(SEL.freeSlot, desc(0x12345, 0xfff, 0x92, 0x4));
    r.code([...movAx(SEL.freeSlot), 0x8e, 0xd8, ...HLT]);
    expect(r.run().reason).toBe('hlt');
    const u = r.cpu.state.u32;
    expect(u[S_SEG + DS * SEG_STRIDE + SEG_BASE]).toBe(0x12345);
    expect(u[S_SEG + DS * SEG_STRIDE + SEG_LIMIT]).toBe(0xfff);
    expect(r.mem[GDT_BASE + SEL.freeSlot + 5]).toBe(0x93);
  });
  it('MOV CS is #UD', () => {
    const r = rig();
    r.code([0x8e, 0xc8]);
    expectFault(r.run(), 6);
  });
});

describe('far transfers (SDM Vol. 2 JMP/CALL/RET, Vol. 3A 5.8)', () => {
  it('JMP far to a non-conforming segment with DPL != CPL is #GP(selector)', () => {
    const r = rig();
    r.setDesc(SEL.freeSlot, desc(0, 0xfffff, 0xbb, 0xc)); // code, DPL 1
    r.code([0xea, ...le32(0), SEL.freeSlot, 0]);
    expectFault(r.run(), 13, SEL.freeSlot);
  });
  it('JMP far to a data segment is #GP(selector); to a null selector #GP(0)', () => {
    const r = rig();
    r.code([0xea, ...le32(0), SEL.data, 0]);
    expectFault(r.run(), 13, SEL.data);
    r.code([0xea, ...le32(0), 0, 0]);
    expectFault(r.run(), 13, 0);
  });
  it('CALL far pushes CS and EIP; RETF returns (same privilege)', () => {
    const r = rig();
    r.code([0x9a, ...le32(CODE + 0x100), SEL.code32, 0, ...HLT]);
    r.mem.set([0xcb], CODE + 0x100);
    r.cpu.state.u32[S_RIP] = CODE;
    expect(r.run().reason).toBe('hlt');
    expect(r.cpu.state.u32[S_RIP]).toBe(CODE + 8);
    expect(r.r32(STACK - 4)).toBe(SEL.code32);
    expect(r.r32(STACK - 8)).toBe(CODE + 7);
  });
  it('a 32-bit call gate to ring 0 from ring 3 switches to the TSS stack and copies parameters', () => {
    const r = rig();
    const u = r.cpu.state.u32;
    // TSS at 0x3000: ESP0 = 0x70000, SS0 = data
    r.w32(0x3004, 0x70000);
    r.w32(0x3008, SEL.data);
    u[S_SEG + TR * SEG_STRIDE + SEG_SEL] = SEL.tss;
    u[S_SEG + TR * SEG_STRIDE + SEG_BASE] = 0x3000;
    u[S_SEG + TR * SEG_STRIDE + SEG_LIMIT] = 0x67;
    u[S_SEG + TR * SEG_STRIDE + SEG_ATTR] = 0x8b;
    // call gate (DPL 3, 2 parameters) -> code32:CODE+0x200
    const off = CODE + 0x200;
    r.w32(GDT_BASE + SEL.freeSlot, ((SEL.code32 << 16) | (off & 0xffff)) >>> 0);
    r.w32(GDT_BASE + SEL.freeSlot + 4, ((off & 0xffff0000) | 0xec00 | 2) >>> 0);
    r.mem.set(HLT, off);
    const s = r.cpu.state;
    s.setSegment(CS, SEL.ucode32, 0, 0, 0xffffffff, 0xfb | (1 << 14) | (1 << 15));
    s.setSegment(SS, SEL.udata, 0, 0, 0xffffffff, 0xf3 | (1 << 14) | (1 << 15));
    u[8] = 0x60000;
    r.w32(0x60000, 0x11111111);
    r.w32(0x60004, 0x22222222);
    r.cpu.updateMode();
    r.code([0x9a, ...le32(0), SEL.freeSlot | 3, 0]);
    expect(r.run().reason).toBe('hlt');
    expect(u[S_SEG + CS * SEG_STRIDE + SEG_SEL]).toBe(SEL.code32);
    expect(u[S_SEG + SS * SEG_STRIDE + SEG_SEL]).toBe(SEL.data);
    // new stack: SS, ESP, param 1, param 2, CS, EIP (SDM Figure 5-13)
    expect(u[8]).toBe(0x70000 - 24);
    expect([r.r32(0x70000 - 4), r.r32(0x70000 - 8), r.r32(0x70000 - 12), r.r32(0x70000 - 16), r.r32(0x70000 - 20), r.r32(0x70000 - 24)])
      .toEqual([SEL.udata, 0x60000, 0x22222222, 0x11111111, SEL.ucode32, CODE + 7]);
  });
});

describe('event delivery (SDM Vol. 3A 6.12-6.15, 20.1.4)', () => {
  it('real mode: INT n pushes FLAGS, CS, IP and jumps through the IVT', () => {
    const r = rig();
    r.deliver();
    const s = r.cpu.state;
    const u = s.u32;
    u[S_CR0] = 0x60000010;
    s.setSegment(CS, 0x1000, 0x10000, 0, 0xffff, 0x9b);
    s.setSegment(SS, 0, 0, 0, 0xffff, 0x93);
    u[S_IDTR] = 0; u[S_IDTR + 2] = 0x3ff;
    u[8] = 0x7c00;
    r.cpu.updateMode();
    r.w16(0x21 * 4, 0x0200);
    r.w16(0x21 * 4 + 2, 0x2000);
    r.mem.set(HLT, 0x20200);
    r.code([0xcd, 0x21], 0x10000);
    u[S_RIP] = 0;
    expect(r.run().reason).toBe('hlt');
    expect(u[S_SEG + CS * SEG_STRIDE + SEG_SEL]).toBe(0x2000);
    expect(u[8]).toBe(0x7c00 - 6);
    expect([r.r16(0x7bfa), r.r16(0x7bfc), r.r16(0x7bfe)]).toEqual([2, 0x1000, 0x0002]);
  });
  it('real mode: IRETD popping an EIP beyond the CS limit is #GP(0) and changes nothing (SDM IRET, real-address mode exceptions)', () => {
    const r = rig();
    const s = r.cpu.state;
    const u = s.u32;
    u[S_CR0] = 0x60000010;
    s.setSegment(CS, 0x1000, 0x10000, 0, 0xffff, 0x9b);
    s.setSegment(SS, 0, 0, 0, 0xffff, 0x93);
    u[8] = 0x7c00;
    r.cpu.updateMode();
    r.w32(0x7c00, 0x00012345); // EIP above 0xFFFF
    r.w32(0x7c04, 0x2000);     // CS
    r.w32(0x7c08, 0x0002);     // EFLAGS
    r.code([0x66, 0xcf], 0x10000); // iretd
    u[S_RIP] = 0;
    const e = r.run();
    expect(e.reason === 'exception' && [e.vector, e.errorCode]).toEqual([13, 0]);
    expect(u[S_SEG + CS * SEG_STRIDE + SEG_SEL]).toBe(0x1000);
    expect(u[8]).toBe(0x7c00);
  });
  it('#UD with an IDT too small escalates #GP -> #DF -> triple fault: a shutdown exit', () => {
    const r = rig();
    r.deliver();
    r.cpu.state.u32[S_IDTR + 2] = 0;
    r.code([0x0f, 0x0b]);
    expect(r.run().reason).toBe('shutdown');
  });
  it('#PF through a 32-bit interrupt gate: error code, CR2, IF cleared', () => {
    const r = rig();
    r.deliver();
    const u = r.cpu.state.u32;
    // 32-bit paging: PDE 0 -> page table at 0x21000 identity for 0..4 MiB except page 0x200 (not present)
    r.w32(0x20000, 0x21003);
    for (let p = 0; p < 1024; p++) r.w32(0x21000 + p * 4, p === 0x200 ? 0 : (p << 12) | 3);
    u[S_CR3] = 0x20000;
    u[S_CR0] = 0x80000011;
    u[S_RFLAGS] = 0x202;
    r.cpu.updateMode();
    const handler = CODE + 0x400;
    r.w32(IDT_BASE + 14 * 8, ((SEL.code32 << 16) | (handler & 0xffff)) >>> 0);
    r.w32(IDT_BASE + 14 * 8 + 4, ((handler & 0xffff0000) | 0x8e00) >>> 0);
    r.mem.set(HLT, handler);
    r.code([0xc7, 0x05, ...le32(0x200010), ...le32(7)]); // mov dword [0x200010], 7
    expect(r.run().reason).toBe('hlt');
    expect(u[S_CR2]).toBe(0x200010);
    expect(r.r32(STACK - 16)).toBe(2); // error code: write, not present, supervisor
    expect(r.r32(STACK - 12)).toBe(CODE);
    expect(u[S_RFLAGS]! & 0x200).toBe(0);
  });
  it('INT n through a DPL 0 gate from CPL 3 is #GP(vector*8+2)', () => {
    const r = rig();
    r.deliver();
    const u = r.cpu.state.u32;
    r.w32(IDT_BASE + 0x40 * 8, (SEL.code32 << 16) >>> 0);
    r.w32(IDT_BASE + 0x40 * 8 + 4, 0x8e00);
    // #GP handler: hlt
    const gp = CODE + 0x800;
    r.w32(IDT_BASE + 13 * 8, ((SEL.code32 << 16) | (gp & 0xffff)) >>> 0);
    r.w32(IDT_BASE + 13 * 8 + 4, ((gp & 0xffff0000) | 0x8e00) >>> 0);
    r.mem.set(HLT, gp);
    r.w32(0x3004, 0x70000);
    r.w32(0x3008, SEL.data);
    u[S_SEG + TR * SEG_STRIDE + SEG_SEL] = SEL.tss;
    u[S_SEG + TR * SEG_STRIDE + SEG_BASE] = 0x3000;
    u[S_SEG + TR * SEG_STRIDE + SEG_LIMIT] = 0x67;
    u[S_SEG + TR * SEG_STRIDE + SEG_ATTR] = 0x8b;
    const s = r.cpu.state;
    s.setSegment(CS, SEL.ucode32, 0, 0, 0xffffffff, 0xfb | (1 << 14) | (1 << 15));
    s.setSegment(SS, SEL.udata, 0, 0, 0xffffffff, 0xf3 | (1 << 14) | (1 << 15));
    u[8] = 0x60000;
    r.cpu.updateMode();
    r.code([0xcd, 0x40]);
    expect(r.run().reason).toBe('hlt');
    expect(r.r32(0x70000 - 24)).toBe(0x40 * 8 + 2); // error code on the ring-0 stack
    expect(r.r32(0x70000 - 20)).toBe(CODE); // EIP of the INT instruction (a fault)
  });
});

describe('system instructions', () => {
  it('LTR marks the TSS busy; LTR of a busy TSS is #GP(selector)', () => {
    const r = rig();
    r.code([...movAx(SEL.tss), 0x0f, 0x00, 0xd8, ...HLT]);
    expect(r.run().reason).toBe('hlt');
    expect(r.mem[GDT_BASE + SEL.tss + 5]).toBe(0x8b);
    expect(r.cpu.state.u32[S_SEG + TR * SEG_STRIDE + SEG_BASE]).toBe(0x3000);
    r.code([...movAx(SEL.tss), 0x0f, 0x00, 0xd8]);
    expectFault(r.run(), 13, SEL.tss);
  });
  it('LAR/LSL: ZF and the access rights / limit; beyond the GDT limit ZF = 0', () => {
    const r = rig();
    const u = r.cpu.state.u32;
    r.code([...movEcx(SEL.data), 0x0f, 0x02, 0xc1, 0x0f, 0x03, 0xd9, ...HLT]); // lar eax, ecx; lsl ebx, ecx
    expect(r.run().reason).toBe('hlt');
    // SDM LAR: DEST = second dword AND 00FxFF00H (bits 19:16 undefined; QEMU and x86vmm give 0)
    expect(u[0]).toBe(0x00c09300);
    expect(u[6]).toBe(0xffffffff);
    expect(u[S_RFLAGS]! & 0x40).toBe(0x40);
    r.code([...movEcx(0x100), ...movEax(0), 0x0f, 0x02, 0xc1, ...HLT]);
    expect(r.run().reason).toBe('hlt');
    expect(u[0]).toBe(0);
  });
  it('SYSCALL with EFER.SCE = 0 is #UD', () => {
    const r = rig();
    r.code([0x0f, 0x05]);
    expectFault(r.run(), 6);
  });
  it('SYSENTER with SYSENTER_CS = 0 is #GP(0)', () => {
    const r = rig();
    r.code([0x0f, 0x34]);
    expectFault(r.run(), 13, 0);
  });
  it('IN at CPL 3 above IOPL: the TSS bitmap allows a clear bit and faults on a set one (Vol. 1 19.5.2)', () => {
    const r = rig();
    const u = r.cpu.state.u32;
    r.setDesc(SEL.tss, desc(0x3000, 0x68 + 0x2000, 0x8b, 0));
    r.w16(0x3066, 0x68);
    r.w8(0x3068 + (0x80 >>> 3), 0x01); // port 0x80 denied, 0x81 allowed
    u[S_SEG + TR * SEG_STRIDE + SEG_SEL] = SEL.tss;
    u[S_SEG + TR * SEG_STRIDE + SEG_BASE] = 0x3000;
    u[S_SEG + TR * SEG_STRIDE + SEG_LIMIT] = 0x68 + 0x2000;
    u[S_SEG + TR * SEG_STRIDE + SEG_ATTR] = 0x8b;
    r.cpu.state.setSegment(CS, SEL.ucode32, 0, 0, 0xffffffff, 0xfb | (1 << 14) | (1 << 15));
    r.cpu.updateMode();
    r.code([0xe4, 0x81]);
    const e = r.run();
    expect(e.reason).toBe('io');
    r.code([0xe4, 0x80]);
    expectFault(r.run(), 13, 0);
  });
  it('DR7.GD: MOV to a debug register is #DB with DR6.BD and GD cleared (18.2.4)', () => {
    const r = rig();
    const u = r.cpu.state.u32;
    u[S_DR7] = 0x2400;
    u[S_DR6] = 0xffff0ff0;
    r.code([0x0f, 0x23, 0xc0]);
    expectFault(r.run(), 1);
    expect(u[S_DR6]! & 0x2000).toBe(0x2000);
    expect(u[S_DR7]! & 0x2000).toBe(0);
  });
  it('SGDT stores limit and base; LGDT at CPL 3 is #GP(0)', () => {
    const r = rig();
    r.code([0x0f, 0x01, 0x05, ...le32(0x9000), ...HLT]);
    expect(r.run().reason).toBe('hlt');
    expect([r.r16(0x9000), r.r32(0x9002)]).toEqual([0x7f, GDT_BASE]);
    r.cpu.state.setSegment(CS, SEL.ucode32, 0, 0, 0xffffffff, 0xfb | (1 << 14) | (1 << 15));
    r.cpu.updateMode();
    r.code([0x0f, 0x01, 0x15, ...le32(0x9000)]);
    expectFault(r.run(), 13, 0);
  });
});

describe('interrupt shadow and event injection (SDM Vol. 3A 6.8.3, 6.7.1; Vol. 2 STI)', () => {
  it('STI blocks interrupts for one instruction: the window opens after the instruction after STI', () => {
    const r = rig();
    const u = r.cpu.state.u32;
    u[S_RFLAGS] = 0x2;
    r.cpu.interruptWindowExiting = true;
    r.code([0xfb, 0x90, 0x90, ...HLT]); // sti; nop; nop; hlt
    const e = r.run();
    expect(e.reason).toBe('interrupt-window');
    expect(u[S_RIP]).toBe(CODE + 2);
  });
  it('MOV SS blocks interrupts for one instruction', () => {
    const r = rig();
    const u = r.cpu.state.u32;
    u[S_RFLAGS] = 0x202;
    r.code([...movAx(SEL.data), 0x8e, 0xd0, 0x90, ...HLT]); // mov ax, data; mov ss, ax; nop; hlt
    expect(r.run(2).reason).toBe('budget');
    expect(r.cpu.interruptible).toBe(false);
    r.cpu.interruptWindowExiting = true;
    const e = r.run();
    expect(e.reason).toBe('interrupt-window');
    expect(u[S_RIP]).toBe(CODE + 4 + 2 + 1);
  });
  it('an injected external interrupt is delivered through the IDT with IF cleared; NMI blocking lasts until IRET', () => {
    const r = rig();
    r.deliver();
    const u = r.cpu.state.u32;
    u[S_RFLAGS] = 0x202;
    const h = CODE + 0x100;
    r.w32(IDT_BASE + 0x40 * 8, ((SEL.code32 << 16) | (h & 0xffff)) >>> 0);
    r.w32(IDT_BASE + 0x40 * 8 + 4, ((h & 0xffff0000) | 0x8e00) >>> 0);
    r.w32(IDT_BASE + 2 * 8, ((SEL.code32 << 16) | (h & 0xffff)) >>> 0);
    r.w32(IDT_BASE + 2 * 8 + 4, ((h & 0xffff0000) | 0x8e00) >>> 0);
    r.mem.set([...HLT, 0xcf], h); // hlt; iretd
    r.code([0x90, ...HLT]);
    expect(r.cpu.interruptible).toBe(true);
    r.cpu.injectEvent('interrupt', 0x40);
    expect(r.run().reason).toBe('hlt');
    expect(u[S_RIP]).toBe(h + 1);
    expect(u[S_RFLAGS]! & 0x200).toBe(0);
    expect(r.r32(STACK - 4)).toBe(0x202); // EFLAGS, CS, EIP of the interrupted code
    expect(r.r32(STACK - 12)).toBe(CODE);
    r.cpu.injectEvent('nmi', 2);
    expect(r.run().reason).toBe('hlt');
    expect(r.cpu.nmiBlocked).toBe(true);
    expect(r.run().reason).toBe('hlt'); // IRETD from the NMI handler back to the first handler's HLT
    expect(r.cpu.nmiBlocked).toBe(false);
  });
});

describe('time-stamp counter MSR', () => {
  it('WRMSR to IA32_TIME_STAMP_COUNTER sets what RDTSC reads next', () => {
    const r = rig();
    // mov ecx, 40; loop $ (41 instructions retired first); mov ecx, 0x10; mov eax, 1000; mov edx, 0;
    // wrmsr; rdtsc; hlt
    r.code([...movEcx(40), 0xe2, 0xfe, ...movEcx(0x10), ...movEax(1000), ...movEdx(0), ...WRMSR, 0x0f, 0x31, ...HLT]);
    expect(r.run().reason).toBe('hlt');
    // the TSC counts retired instructions (virtual time, per block): RDTSC reads 1000 plus at most
    // the instructions of this snippet, never the count from before the write
    expect(r.cpu.state.u32[0]).toBeGreaterThanOrEqual(1000);
    expect(r.cpu.state.u32[0]).toBeLessThan(1008);
    expect(r.cpu.state.u32[4]).toBe(0);
  });
});

describe('virtual-8086 mode (SDM Vol. 3A 20.2-20.3, Vol. 2 INT n)', () => {
  it('INT n with IOPL < 3 is #GP(0), delivered to ring 0 with GS, FS, DS, ES, SS, ESP pushed', () => {
    const r = rig();
    r.deliver();
    const u = r.cpu.state.u32;
    const s = r.cpu.state;
    // TSS: ESP0 = 0x70000, SS0 = data
    r.w32(0x3004, 0x70000);
    r.w32(0x3008, SEL.data);
    u[S_SEG + TR * SEG_STRIDE + SEG_SEL] = SEL.tss;
    u[S_SEG + TR * SEG_STRIDE + SEG_BASE] = 0x3000;
    u[S_SEG + TR * SEG_STRIDE + SEG_LIMIT] = 0x67;
    u[S_SEG + TR * SEG_STRIDE + SEG_ATTR] = 0x8b;
    const gp = CODE + 0x800;
    r.w32(IDT_BASE + 13 * 8, ((SEL.code32 << 16) | (gp & 0xffff)) >>> 0);
    r.w32(IDT_BASE + 13 * 8 + 4, ((gp & 0xffff0000) | 0x8e00) >>> 0);
    r.mem.set(HLT, gp);
    // virtual-8086 task state: CS = 0x1000 (code at 0x10000), SS = 0x2000, SP = 0x100, IOPL 0
    s.setSegment(CS, 0x1000, 0x10000, 0, 0xffff, 0xf3 | ATTR_S | ATTR_P);
    s.setSegment(SS, 0x2000, 0x20000, 0, 0xffff, 0xf3 | ATTR_S | ATTR_P);
    s.setSegment(DS, 0x3000, 0x30000, 0, 0xffff, 0xf3 | ATTR_S | ATTR_P);
    u[8] = 0x100;
    u[S_RFLAGS] = 0x20002; // VM
    r.cpu.updateMode();
    r.code([0xcd, 0x21], 0x10000);
    u[S_RIP] = 0;
    expect(r.run().reason).toBe('hlt');
    expect(u[S_SEG + CS * SEG_STRIDE + SEG_SEL]).toBe(SEL.code32);
    // ring-0 stack, top down: GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP, error code (SDM Figure 20-5)
    const top = 0x70000;
    expect([r.r32(top - 12), r.r32(top - 20), r.r32(top - 24), r.r32(top - 32), r.r32(top - 36), r.r32(top - 40)])
      .toEqual([0x3000, 0x2000, 0x100, 0x1000, 0, 0]);
    expect(r.r32(top - 28) & 0x20000).toBe(0x20000);
    // the data segment registers are null in ring 0
    expect(u[S_SEG + DS * SEG_STRIDE + SEG_SEL]).toBe(0);
  });
});
