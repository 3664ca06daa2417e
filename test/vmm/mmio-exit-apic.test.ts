/**
 * An `mmio` exit a core reports itself reaches the xAPIC page of the vCPU that exited: each vCPU
 * sees its own LAPIC at the same address (SDM Vol. 3A §11.4.1), whichever path completes the access.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/vmm/machine.js';
import { ExitRecord } from '../../src/cpu/exit.js';
import { STATE_SLOTS } from '../../src/cpu/state.js';
import { DELIVERED, LIN_OK, type CpuCore } from '../../src/vmm/core.js';

/** A core that reads the LAPIC ID register (FEE00020H) with an `mmio` exit, one per run. */
class MmioReadingCore implements CpuCore {
  readonly u32 = new Uint32Array(STATE_SLOTS);
  readonly exit = new ExitRecord();
  readonly nestedErrorCode = 0;
  readonly gpa = 0;
  readonly hostChunk = -1;
  readonly hostOffset = 0;
  readonly faultErrorCode = 0;
  run(): void {
    const x = this.exit;
    x.reason = 'mmio';
    x.gpaLo = 0xfee0_0020;
    x.gpaHi = 0;
    x.size = 4;
    x.write = false;
    x.value = 0;
    x.instructions = 1;
  }
  stateChanged(): void {}
  interruptShadow(): boolean { return false; }
  nmiBlocked(): boolean { return false; }
  deliverEvent(): number { return DELIVERED; }
  translateLinear(): number { return LIN_OK; }
  flush(): void {}
  setWindowExits(): void {}
  configure(): void {}
}

describe('mmio exits and the per-vCPU xAPIC page', () => {
  it('vCPU 1 reading the ID register gets APIC ID 1 (ID in bits 31:24)', () => {
    const m = new Machine({ vcpus: 2, memoryMiB: 4, createCore: () => new MmioReadingCore() });
    m.vcpus[0]!.runState = 'shutdown';
    m.vcpus[1]!.runState = 'active';
    const stop = m.run({ maxInstructions: 1 });
    expect(stop.kind).toBe('budget');
    expect(m.vcpus[1]!.core.exit.value >>> 0).toBe(1 << 24);
    expect(m.vcpus[1]!.core.exit.reason).toBe('mmio');
  });
});
