/**
 * The tiny PC the system fixtures boot on (docs/system-fixtures.md), until the Machine exists:
 * 32 MiB of RAM at guest-physical 0, the 64 KiB ROM at 0xFFFF0000 aliased at 0xF0000 (read/execute
 * only, as QEMU's i440FX maps the BIOS), the debug console on port 0xE9 and isa-debug-exit on 0xF4
 * (exit status (v << 1) | 1, reported here as v). Other ports read as 0xFF and ignore writes.
 * The vCPU starts in the RESET state of SDM Vol. 3A Table 9-1.
 */
import { HostMemory } from '../../src/memory/host.js';
import { ACC_FETCH, ACC_READ, ACC_WRITE, type PhysicalSpace, type PhysResult } from '../../src/cpu/phys.js';
import { Vcpu } from '../../src/cpu/vcpu.js';
import { CS, DS, ES, FS, GS, LDTR, SS, TR, S_CR0, S_GDTR, S_IDTR, S_RIP, S_DR6, S_DR7, ATTR_P, ATTR_S } from '../../src/cpu/state.js';

const RAM_SIZE = 32 * 1024 * 1024;
const ROM_SIZE = 0x10000;

class PcPhysical implements PhysicalSpace {
  generation = 0;
  constructor(readonly host: HostMemory, private readonly ramBase: number, private readonly romBase: number) {}
  translate(gpaLo: number, gpaHi: number, _access: number, out: PhysResult): boolean {
    const page = gpaLo - (gpaLo & 0xfff);
    out.misconfig = false;
    out.entryPerm = 0;
    if (gpaHi !== 0) return false;
    if (page >= 0xffff0000) {
      out.hpa = this.romBase + (page - 0xffff0000);
      out.perm = ACC_READ | ACC_FETCH;
      return true;
    }
    if (page >= 0xf0000 && page < 0x100000) {
      out.hpa = this.romBase + (page - 0xf0000);
      out.perm = ACC_READ | ACC_FETCH;
      return true;
    }
    if (page < RAM_SIZE) {
      out.hpa = this.ramBase + page;
      out.perm = ACC_READ | ACC_WRITE | ACC_FETCH;
      return true;
    }
    return false;
  }
}

export interface RunResult {
  text: string;
  outcome: string;
  instructions: number;
}

export function bootRom(image: Uint8Array): Vcpu {
  if (image.length !== ROM_SIZE) throw new Error(`ROM image must be 64 KiB, got ${image.length}`);
  const host = new HostMemory();
  const ram = host.createSegment('ram', RAM_SIZE);
  const rom = host.createSegment('rom', ROM_SIZE, { kind: 'devmem' });
  const bytes = host.ensureChunk(host.chunkOf(rom.hostBase));
  bytes.set(image, rom.hostBase - host.chunkOf(rom.hostBase) * host.chunkSize);
  const cpu = new Vcpu(new PcPhysical(host, ram.hostBase, rom.hostBase));
  // the CPU delivers every exception and INT n through the guest's IVT/IDT
  cpu.exceptionBitmap = 0;
  cpu.softwareInterruptExits = false;
  const s = cpu.state;
  const u = s.u32;
  // RESET state (SDM Vol. 3A 9.1.1, Table 9-1)
  s.setSegment(CS, 0xf000, 0xffff0000, 0, 0xffff, 0xb | ATTR_S | ATTR_P);
  for (const g of [DS, ES, FS, GS, SS]) s.setSegment(g, 0, 0, 0, 0xffff, 0x3 | ATTR_S | ATTR_P);
  s.setSegment(LDTR, 0, 0, 0, 0xffff, 0x2 | ATTR_P);
  s.setSegment(TR, 0, 0, 0, 0xffff, 0xb | ATTR_P);
  u[S_CR0] = 0x60000010;
  u[S_GDTR] = 0; u[S_GDTR + 1] = 0; u[S_GDTR + 2] = 0xffff;
  u[S_IDTR] = 0; u[S_IDTR + 1] = 0; u[S_IDTR + 2] = 0xffff;
  u[S_DR6] = 0xffff0ff0;
  u[S_DR7] = 0x400;
  u[S_RIP] = 0xfff0;
  u[4] = 0x600; // EDX: signature
  cpu.updateMode();
  return cpu;
}

/** Runs the ROM until isa-debug-exit, shutdown, or `maxInstructions`. */
export function runRom(image: Uint8Array, maxInstructions = 50_000_000): RunResult {
  const cpu = bootRom(image);
  let text = '';
  let total = 0;
  for (;;) {
    const ex = cpu.run({ maxInstructions: Math.min(1_000_000, maxInstructions - total) });
    total += ex.instructions;
    switch (ex.reason) {
      case 'io':
        if (ex.write) {
          if (ex.port === 0xe9) text += String.fromCharCode(ex.value & 0xff);
          else if (ex.port >= 0xf4 && ex.port < 0xf8) return { text, outcome: `debug-exit 0x${(ex.value & 0xff).toString(16).padStart(2, '0')}`, instructions: total };
        } else ex.value = ex.size === 1 ? 0xff : ex.size === 2 ? 0xffff : 0xffffffff;
        break;
      case 'rdmsr':
      case 'wrmsr':
        // no MSR beyond the CPU's own: the monitor answers as the SDM says, #GP(0)
        cpu.injectEvent('exception', 13, 0);
        break;
      case 'shutdown':
        return { text, outcome: 'triple-fault (QEMU -no-reboot: shutdown on the reset request)', instructions: total };
      case 'budget':
        if (total >= maxInstructions) return { text, outcome: `budget exhausted after ${total} instructions`, instructions: total };
        break;
      case 'hlt':
        return { text, outcome: `hlt with nothing to wake it at rip ${ex.ripLo.toString(16)}`, instructions: total };
      default:
        return { text, outcome: `exit ${ex.reason} at rip ${ex.ripHi.toString(16)}:${ex.ripLo.toString(16)}${'vector' in ex && ex.reason === 'exception' ? ` vector ${ex.vector} err ${ex.errorCode.toString(16)}` : ''}${ex.reason === 'invalid-state' ? ` ${ex.message}` : ''}${ex.reason === 'ept-violation' ? ` gpa ${ex.gpaLo.toString(16)} q ${ex.qualification}` : ''}`, instructions: total };
    }
  }
}
