/**
 * Guest-level IPIs between two vCPUs (SDM Vol. 3A §10.6): fixtures/irq/ipi.asm. The BSP (long mode)
 * starts the AP with INIT/SIPI; the AP (32-bit protected mode) takes vector 0x50 and answers with
 * vector 0x51 to logical destination 0x01 (flat model, the BSP's LDR). The BSP also sends itself
 * vector 0x52 (shorthand "self") and 0x50 to "all excluding self".
 *
 * Exact times: Machine.run schedules round robin and passes to the next runnable vCPU after every
 * exit (an MMIO write to the ICR is one), so an IPI to a halted vCPU is taken before the sender
 * retires another instruction; each vCPU's retired instructions advance the one clock.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MMIO_NS, runStory, type Story } from './story.js';

describe('IPIs between two vCPUs, guest level', () => {
  let story: Story;
  let s: Story['syncs'];
  beforeAll(() => {
    story = runStory('ipi', { loadAddress: 0x8000, entry: 0x8400, vcpus: 2 });
    s = story.syncs;
  });

  it('the guest reaches its end with the expected story', () => {
    expect(story.end).toBe('done');
    expect(s.map((x) => x[0])).toEqual([1, 0xa01, 1 << 24, 0xb01, 2, 0xc52, 3, 0xa02, 1 << 24, 0xb02]);
    expect(story.guest.machine.vcpus[1]!.getSpecialRegisters().cs.selector).toBe(0x08); // the AP is in protected mode
  });

  it('fixed IPI to APIC ID 1: the halted AP takes vector 0x50 right after the ICR write', () => {
    // BSP: SYNC 1, ICR write. AP: woken, its handler's SYNC is its first 3 instructions.
    expect(s[1]![1]).toBe(s[0]![1] + MMIO_NS + 3);
  });

  it('the AP reads APIC ID 1 and its reply (logical flat destination 0x01) wakes the BSP', () => {
    // After the AP's SYNC: the BSP's turn (sti, hlt: it halts), then the AP's inc esi, ID read,
    // SYNC (3); ICR high and low writes; then the BSP's handler: inc + 3.
    expect(s[2]![1]).toBe(s[1]![1] + 2 + 1 + MMIO_NS + 3);
    expect(s[3]![1]).toBe(s[2]![1] + 2 * MMIO_NS + 4);
  });

  it('a self-IPI is taken at the instruction boundary after the ICR write (IF = 1)', () => {
    expect(s[5]![1]).toBe(s[4]![1] + MMIO_NS + 3);
  });

  it('"all excluding self" reaches the AP only; its reply reaches the BSP', () => {
    // SYNC 3 with IF = 0, the ICR write, then the AP's handler.
    expect(s[7]![1]).toBe(s[6]![1] + MMIO_NS + 3);
    expect(s[8]![1]).toBe(s[7]![1] + 2 + 1 + MMIO_NS + 3);
    expect(s[9]![1]).toBe(s[8]![1] + 2 * MMIO_NS + 4);
  });
});
