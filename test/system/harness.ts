/**
 * A tiny protected-mode machine for system-unit tests: 4 MiB of flat RAM (GPA = HPA), a GDT at
 * GDT_BASE with the descriptors below, code at CODE, a stack below STACK, and a vCPU in 32-bit
 * protected mode at CPL 0. By default every exception exits (exceptionBitmap all ones) so a test
 * reads the vector and error code from the exit record; `deliver()` switches to IDT delivery.
 */
import { HostMemory } from '../../src/memory/host.js';
import { FlatPhysical } from '../../src/cpu/phys.js';
import { Vcpu } from '../../src/cpu/vcpu.js';
import { CS, DS, ES, FS, GS, SS, S_CR0, S_GDTR, S_IDTR, S_RIP, ATTR_DB, ATTR_G, ATTR_P, ATTR_S } from '../../src/cpu/state.js';
import type { VcpuExit } from '../../src/cpu/exit.js';
import { expect } from 'vitest';

export const MEM = 0x400000;
export const GDT_BASE = 0x800;
export const IDT_BASE = 0x1000;
export const CODE = 0x10000;
export const STACK = 0x80000;

/** Selectors of the test GDT. */
export const SEL = {
  code32: 0x08, data: 0x10, code64: 0x18, code16: 0x20, data16: 0x28,
  ucode32: 0x33, udata: 0x3b, notPresent: 0x40, codeXO: 0x48, roData: 0x50, tss: 0x58, conforming: 0x60,
  dpl1Data: 0x68, ldt: 0x70, freeSlot: 0x78,
} as const;
export const GDT_LIMIT = 0x7f;

/** A segment descriptor (SDM Vol. 3A Figure 3-8): base, limit (20 bits), type byte (P DPL S type), flags nibble (G D/B L AVL). */
export function desc(base: number, limit: number, access: number, flags: number): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = ((base >>> 16) & 0xff) | (access << 8) | (limit & 0xf0000) | ((flags & 0xf) << 20) | (base & 0xff000000);
  return [lo >>> 0, hi >>> 0];
}

export interface Rig {
  cpu: Vcpu;
  mem: Uint8Array;
  view: DataView;
  run(max?: number): VcpuExit;
  /** Writes code at CODE (or `at`) and points RIP there. */
  code(bytes: number[], at?: number): void;
  w32(addr: number, v: number): void;
  w16(addr: number, v: number): void;
  w8(addr: number, v: number): void;
  r32(addr: number): number;
  r16(addr: number): number;
  setDesc(sel: number, d: [number, number]): void;
  /** Let the vCPU deliver exceptions and INT n through the guest's IDT/IVT. */
  deliver(): void;
}

export function rig(): Rig {
  const host = new HostMemory({ chunkSize: MEM });
  const seg = host.createSegment('ram', MEM);
  const mem = host.ensureChunk(host.chunkOf(seg.hostBase));
  const view = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  const cpu = new Vcpu(new FlatPhysical(host, seg.hostBase, MEM));
  const r: Rig = {
    cpu, mem, view,
    run: (max = 100) => cpu.run({ maxInstructions: max }),
    code: (bytes, at = CODE) => { mem.set(bytes, at); cpu.state.u32[S_RIP] = at; cpu.flushCodeCache(); },
    w32: (a, v) => view.setUint32(a, v >>> 0, true),
    w16: (a, v) => view.setUint16(a, v & 0xffff, true),
    w8: (a, v) => view.setUint8(a, v & 0xff),
    r32: (a) => view.getUint32(a, true),
    r16: (a) => view.getUint16(a, true),
    setDesc: (sel, d) => { view.setUint32(GDT_BASE + (sel & ~7), d[0], true); view.setUint32(GDT_BASE + (sel & ~7) + 4, d[1], true); },
    deliver: () => { cpu.exceptionBitmap = 0; cpu.softwareInterruptExits = false; },
  };
  // GDT (access bytes: 0x9B code r0, 0x93 data r0, 0xFB code r3, 0xF3 data r3)
  r.setDesc(SEL.code32, desc(0, 0xfffff, 0x9b, 0xc));
  r.setDesc(SEL.data, desc(0, 0xfffff, 0x93, 0xc));
  r.setDesc(SEL.code64, desc(0, 0xfffff, 0x9b, 0xa));
  r.setDesc(SEL.code16, desc(0, 0xffff, 0x9b, 0));
  r.setDesc(SEL.data16, desc(0, 0xffff, 0x93, 0));
  r.setDesc(SEL.ucode32, desc(0, 0xfffff, 0xfb, 0xc));
  r.setDesc(SEL.udata, desc(0, 0xfffff, 0xf3, 0xc));
  r.setDesc(SEL.notPresent, desc(0, 0xfffff, 0x13, 0xc)); // data, P = 0
  r.setDesc(SEL.codeXO, desc(0, 0xfffff, 0x99, 0xc)); // execute-only code
  r.setDesc(SEL.roData, desc(0, 0xfffff, 0x91, 0xc)); // read-only data
  r.setDesc(SEL.tss, desc(0x3000, 0x67, 0x89, 0)); // available 32-bit TSS
  r.setDesc(SEL.conforming, desc(0, 0xfffff, 0x9f, 0xc)); // conforming code, DPL 0
  r.setDesc(SEL.dpl1Data, desc(0, 0xfffff, 0xb3, 0xc)); // data, DPL 1
  r.setDesc(SEL.ldt, desc(0x2000, 0xff, 0x82, 0)); // LDT
  const s = cpu.state;
  const u = s.u32;
  u[S_CR0] = 0x60000011; // PE, ET, CD, NW
  u[S_GDTR] = GDT_BASE; u[S_GDTR + 1] = 0; u[S_GDTR + 2] = GDT_LIMIT;
  u[S_IDTR] = IDT_BASE; u[S_IDTR + 1] = 0; u[S_IDTR + 2] = 0x7ff;
  s.setSegment(CS, SEL.code32, 0, 0, 0xffffffff, 0xb | ATTR_S | ATTR_P | ATTR_DB | ATTR_G);
  for (const g of [DS, ES, FS, GS, SS]) s.setSegment(g, SEL.data, 0, 0, 0xffffffff, 0x3 | ATTR_S | ATTR_P | ATTR_DB | ATTR_G);
  u[8] = STACK;
  cpu.updateMode();
  return r;
}

/** Little-endian bytes of a 32-bit value. */
export function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Asserts an `exception` exit with `vector` and, when given, the error code `err`. */
export function expectFault(e: VcpuExit, vector: number, err?: number): void {
  expect(e.reason).toBe('exception');
  if (e.reason !== 'exception') return;
  expect(e.vector).toBe(vector);
  if (err !== undefined) {
    expect(e.hasErrorCode).toBe(true);
    expect(e.errorCode).toBe(err);
  }
}
