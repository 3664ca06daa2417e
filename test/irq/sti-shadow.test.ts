/**
 * The monitor takes an interrupt pending while IF = 0 at the exact instruction boundary where it
 * becomes deliverable: the vCPU enters with interrupt-window exiting, so the core stops there.
 *
 * fixtures/irq/sti_shadow.asm: COM1's THRE interrupt is pending at the 8259 (IRQ 4, unmasked)
 * while IF = 0; the guest runs STI then INC CX three times. SDM Vol. 2B STI: "external, maskable
 * interrupts [are] recognized after the instruction following STI" - so INT 0Ch is taken after the
 * first INC CX.
 */
import { describe, expect, it } from 'vitest';
import { runStory } from './story.js';

describe('STI shadow at guest level (8259 interrupt pending while IF = 0)', () => {
  it('is taken after exactly one instruction following STI', () => {
    const { syncs, end } = runStory('sti_shadow', { mode: 'real' });
    expect(end).toBe('done');
    const t1 = syncs[0]![1];
    // handler: movzx, add, mov, mov, out; CX = 1 (one INC CX retired); sti + inc = 2 before it
    expect(syncs[1]).toEqual([0x10c + 1, t1 + 2 + 5]);
    expect(syncs[2]![0]).toBe(3);
  });
});
