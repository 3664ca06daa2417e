/**
 * Test harness for the integer core: a flat guest-physical space (GPA = HPA in one segment), code at
 * CODE_BASE, a stack below STACK_TOP, and a vCPU in 16-, 32- or 64-bit mode with flat segments.
 */
import { HostMemory } from '../../src/memory/host.js';
import { FlatPhysical } from '../../src/cpu/phys.js';
import { Vcpu } from '../../src/cpu/vcpu.js';
import { CS, DS, ES, FS, GS, SS, S_CR0, S_EFER, S_RIP, CR0_PE, EFER_LMA, EFER_LME, codeAttr, dataAttr } from '../../src/cpu/state.js';

export const CODE_BASE = 0x1000;
export const STACK_TOP = 0x80000;
export const MEM_SIZE = 0x400000;

export interface Machine {
  host: HostMemory;
  phys: FlatPhysical;
  cpu: Vcpu;
  mem: Uint8Array;
}

export function makeCpu(mode: 16 | 32 | 64, code: Uint8Array | number[], memSize = MEM_SIZE): Machine {
  const host = new HostMemory({ chunkSize: memSize });
  const seg = host.createSegment('ram', memSize);
  const mem = host.ensureChunk(host.chunkOf(seg.hostBase));
  mem.set(code, CODE_BASE);
  const phys = new FlatPhysical(host, seg.hostBase, memSize);
  const cpu = new Vcpu(phys);
  setMode(cpu, mode);
  cpu.state.u32[S_RIP] = CODE_BASE;
  cpu.state.u32[8] = STACK_TOP; // RSP
  return { host, phys, cpu, mem };
}

/** Flat segments for the mode; 64-bit mode runs with paging treated as identity. */
export function setMode(cpu: Vcpu, mode: 16 | 32 | 64): void {
  const s = cpu.state;
  const u = s.u32;
  if (mode === 16) {
    u[S_CR0] = 0;
    u[S_EFER] = 0;
    s.setSegment(CS, 0, 0, 0, 0xffff, codeAttr(16));
    for (const g of [DS, ES, FS, GS, SS]) s.setSegment(g, 0, 0, 0, 0xffff, dataAttr(16));
  } else {
    u[S_CR0] = CR0_PE;
    u[S_EFER] = mode === 64 ? EFER_LME | EFER_LMA : 0;
    s.setSegment(CS, 8, 0, 0, 0xffffffff, codeAttr(mode));
    for (const g of [DS, ES, FS, GS, SS]) s.setSegment(g, 16, 0, 0, 0xffffffff, dataAttr(32));
  }
  cpu.updateMode();
}
