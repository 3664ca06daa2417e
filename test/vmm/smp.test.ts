import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { TestGuest } from '../../src/testing.js';

const SMP = new Uint8Array(readFileSync(new URL('../../fixtures/guests/smp.bin', import.meta.url)));

describe('two vCPUs', () => {
  it('the AP waits for SIPI; the BSP starts it with INIT + SIPI through the xAPIC ICR', () => {
    const g = TestGuest.flat(SMP, { mode: 'long', loadAddress: 0x8000, entry: 0x8100, vcpus: 2, quantum: 500 });
    expect(g.machine.vcpus[1]!.runState).toBe('wait-for-sipi');
    const story = g.runToEnd();
    // The AP (started at 0800:0000 in real mode) reports first, then the BSP sees its flag.
    expect(story.syncs).toEqual([0xa1n, 0xb5n]);
    expect(story.end).toEqual({ kind: 'done' });
    const ap = g.machine.vcpus[1]!;
    expect(ap.getSpecialRegisters().cs.selector).toBe(0x0800);
    expect(ap.getSpecialRegisters().cs.base).toBe(0x8000n);
    expect(ap.runState).toBe('halted');
  });

  it('is deterministic: the same run gives the same exits and instruction counts', () => {
    const run = () => {
      const g = TestGuest.flat(SMP, { mode: 'long', loadAddress: 0x8000, entry: 0x8100, vcpus: 2, quantum: 37 });
      g.runToEnd();
      return JSON.stringify(g.machine.stats()) + g.machine.vcpus.map((v) => v.stats.instructions).join(',');
    };
    expect(run()).toBe(run());
  });

  it('a SIPI to a vCPU that is not waiting for one is ignored (SDM Vol. 3A §9.4.4)', () => {
    const g = TestGuest.flat([0xf4], { mode: 'long', vcpus: 2 });
    const bsp = g.vcpu;
    const rip = bsp.getRegisters().rip;
    bsp.sipi(0x10);
    expect(bsp.getRegisters().rip).toBe(rip);
    g.machine.vcpus[1]!.sipi(0x10);
    expect(g.machine.vcpus[1]!.getRegisters().rip).toBe(0n);
    expect(g.machine.vcpus[1]!.runState).toBe('active');
  });
});
