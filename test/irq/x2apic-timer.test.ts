/**
 * x2APIC from a guest: IA32_APIC_BASE and the MSRs 0x800-0x8FF reach the vCPU's LocalApic (the core
 * exits on them; CPUID.1:ECX[21] advertises x2APIC when the machine has an interrupt controller).
 *
 * fixtures/irq/x2apic_timer.asm: periodic timer, divide by 2, initial count 125 (125 x 2 x 40 ns =
 * 10 us), armed by WRMSR 0x838 (EDX = 0: bits 63:32 of the x2APIC registers other than the ICR
 * are reserved, SDM Vol. 3A §10.12.1.3) while the vCPU spins in a cmp/jb loop; EOI by WRMSR 0x80B.
 * A WRMSR the machine completes is retired before its write is dispatched (as an OUT is).
 */
import { describe, expect, it } from 'vitest';
import { runStory } from './story.js';

const PERIOD = 125 * 2 * 40;
/** inc r15d, then SYNC (mov eax, mov dx, out). */
const HANDLER = 4;

describe('x2APIC timer, guest level', () => {
  it('interrupt k arrives k x 10 us after the initial-count WRMSR; the count reloads', () => {
    const { syncs, end } = runStory('x2apic_timer');
    expect(end).toBe('done');
    expect(syncs.map((s) => s[0])).toEqual([0, 1, 1, 2, 3, 100]);
    const start = syncs[1]![1] + 4; // mov ecx, mov eax, xor edx, wrmsr
    expect(syncs.slice(2, 5).map(([, t]) => t - HANDLER)).toEqual([1, 2, 3].map((k) => start + k * PERIOD));
    // The CCR read: after the third arrival, the handler (4 + 11), cmp, jb, cli, mov ebx,
    // 1000 x (dec, jnz), mov ecx, rdmsr = 2021 instructions: 400 counts, 25 into the period.
    const readAt = start + 3 * PERIOD + 2021;
    expect(125 - (Math.floor((readAt - start) / 80) % 125)).toBe(100);
    expect(syncs[5]![1]).toBe(readAt + 3);
  });
});
