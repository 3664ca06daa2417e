/**
 * The `debug` intercept covers the #DB the processor raises itself: the single-step trap of
 * EFLAGS.TF (SDM Vol. 3A §18.3.1.4) and instruction breakpoints in DR0-DR3 (§18.3.1.1), not only
 * INT3. With the intercept off they go to the guest's IDT (here: none, so a triple fault).
 */
import { describe, expect, it } from 'vitest';
import { TestGuest, GUEST_MAP } from '../../src/testing.js';

const LOAD = GUEST_MAP.load;
// pushfq; or qword [rsp], 0x100 (TF); popfq; nop; nop; hlt
const SINGLE_STEP = [0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x90, 0x90, 0xf4];
const AFTER_POPF = LOAD + 10;

describe('debug intercept for processor-raised #DB', () => {
  it('TF single-step: a debug exit (vector 1) after the instruction following POPF', () => {
    const g = TestGuest.flat(new Uint8Array(SINGLE_STEP), { mode: 'long' });
    g.vcpu.setIntercepts({ debug: true });
    const e = g.next();
    expect(e.kind === 'exit' && e.exit.reason).toBe('debug');
    if (e.kind !== 'exit' || e.exit.reason !== 'debug') return;
    expect((e.exit as unknown as { vector: number }).vector).toBe(1);
    // the trap comes after the first NOP (TF set by POPF takes effect after the next instruction)
    expect(Number(g.vcpu.getRegisters().rip)).toBe(AFTER_POPF + 1);
    expect((g.vcpu.getDebugRegisters().dr6 >> 14n) & 1n).toBe(1n); // DR6.BS
  });

  it('TF single-step without the intercept goes to the guest (no IDT: triple fault)', () => {
    const g = TestGuest.flat(new Uint8Array(SINGLE_STEP), { mode: 'long' });
    expect(g.next().kind).toBe('shutdown');
  });

  it('DR0 instruction breakpoint: a debug exit at the breakpoint address, before the instruction', () => {
    // nop x 4; hlt - breakpoint on the third NOP
    const g = TestGuest.flat(new Uint8Array([0x90, 0x90, 0x90, 0x90, 0xf4]), { mode: 'long' });
    const d = g.vcpu.getDebugRegisters();
    // DR7: L0 (bit 0), R/W0 = 00 (execute), LEN0 = 00 (SDM Table 18-2 / Figure 18-1)
    g.vcpu.setDebugRegisters({ ...d, dr0: BigInt(LOAD + 2), dr7: 0x401n });
    g.vcpu.setIntercepts({ debug: true });
    const e = g.next();
    expect(e.kind === 'exit' && e.exit.reason).toBe('debug');
    expect(Number(g.vcpu.getRegisters().rip)).toBe(LOAD + 2);
    expect(g.vcpu.getDebugRegisters().dr6 & 1n).toBe(1n); // DR6.B0
  });
});
