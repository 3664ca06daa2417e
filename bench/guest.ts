/**
 * Shared scaffolding of the guest-MIPS benches: a 64-bit flat vCPU over its own RAM, a loop body
 * given as hex run ITER times (counter in a chosen GPR, DEC/JNZ, then HLT), and the best-of-three
 * measurement in MIPS of wall time and per CPU-second (the figure that does not depend on other
 * processes sharing the cores).
 */
import { HostMemory } from '../src/memory/host.js';
import { FlatPhysical } from '../src/cpu/phys.js';
import { Vcpu } from '../src/cpu/vcpu.js';
import { CS, DS, ES, FS, GS, SS, S_CR0, S_CR4, S_EFER, S_RIP, CR0_PE, EFER_LMA, EFER_LME, codeAttr, dataAttr } from '../src/cpu/state.js';
import { report } from './util.js';

/** Bytes of a hex string (spaces ignored). */
export function hexBytes(h: string): number[] {
  const t = h.replace(/\s+/g, '');
  const out: number[] = [];
  for (let k = 0; k < t.length; k += 2) out.push(parseInt(t.slice(k, k + 2), 16));
  return out;
}

/**
 * A vCPU in 64-bit mode (flat segments, paging treated as identity, CR4.OSFXSR set) with `memBytes`
 * of RAM, `code` at 0x1000, RSP 0x80000; returns the vCPU and the RAM bytes.
 */
export function longModeVcpu(code: number[] | Uint8Array, memBytes = 1 << 20): { cpu: Vcpu; mem: Uint8Array } {
  const host = new HostMemory({ chunkSize: memBytes });
  const seg = host.createSegment('ram', memBytes);
  const mem = host.ensureChunk(host.chunkOf(seg.hostBase));
  mem.set(code, 0x1000);
  const cpu = new Vcpu(new FlatPhysical(host, seg.hostBase, memBytes));
  resetLongMode(cpu);
  return { cpu, mem };
}

/** Puts the vCPU back at 0x1000 in 64-bit mode with zeroed GPRs and flags. */
export function resetLongMode(cpu: Vcpu): void {
  const s = cpu.state;
  const u = s.u32;
  u.fill(0, 0, 34);
  u[S_CR0] = CR0_PE;
  u[S_CR4] = 1 << 9; // OSFXSR
  u[S_EFER] = EFER_LME | EFER_LMA;
  s.setSegment(CS, 8, 0, 0, 0xffffffff, codeAttr(64));
  for (const g of [DS, ES, FS, GS, SS]) s.setSegment(g, 16, 0, 0, 0xffffffff, dataAttr(32));
  u[S_RIP] = 0x1000;
  u[8] = 0x80000;
  cpu.updateMode();
}

/** `mov r32, iter; body; dec r32; jnz body; hlt` with the counter in GPR `counter` (0-7). */
export function loopCode(body: number[], iter: number, counter: number): number[] {
  const back = -(body.length + 4) & 0xff;
  return [0xb8 + counter, iter & 0xff, (iter >> 8) & 0xff, (iter >> 16) & 0xff, iter >>> 24, ...body, 0xff, 0xc8 + counter, 0x75, back, 0xf4];
}

/** Runs to HLT once; instructions, wall ms and CPU ms of this process. */
export function runToHlt(cpu: Vcpu, what: string): { instructions: number; ms: number; cpuMs: number } {
  let instructions = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (;;) {
    const e = cpu.run({ maxInstructions: 50_000_000 });
    instructions += e.instructions;
    if (e.reason === 'hlt') break;
    if (e.reason !== 'budget') throw new Error(`${what} stopped with ${e.reason}`);
  }
  const c = process.cpuUsage(c0);
  return { instructions, ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
}

/** Best of three runs of `fresh()` to HLT, reported as MIPS and MIPS per CPU-second. */
export function reportMips(label: string, fresh: () => Vcpu): void {
  let best = 0, bestCpu = 0;
  for (let k = 0; k < 3; k++) {
    const r = runToHlt(fresh(), label);
    best = Math.max(best, r.instructions / r.ms / 1000);
    bestCpu = Math.max(bestCpu, r.instructions / Math.max(r.cpuMs, 1e-3) / 1000);
  }
  report(label, best, 'MIPS');
  report(`${label} per CPU-second`, bestCpu, 'MIPS');
}
