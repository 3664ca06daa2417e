/**
 * TPR threshold in the core (VMX TPR-below-threshold, SDM Vol. 3C §29.1.2; NVMM's TPR exit): a MOV
 * to CR8 that lowers it below the threshold completes and then exits (trap-like: RIP is the next
 * instruction); raising CR8, or lowering it to a value at or above the threshold, does not exit.
 */
import { describe, expect, it } from 'vitest';
import { InterpreterCore } from '../../src/vmm/cpu-core.js';
import { TestGuest, GUEST_MAP } from '../../src/testing.js';

const MOV_CR8 = (v: number) => [0xb8, v, 0, 0, 0, 0x44, 0x0f, 0x22, 0xc0]; // mov eax, v; mov cr8, rax
const LOAD = GUEST_MAP.load;

describe('tpr-below-threshold from the core', () => {
  const code = [...MOV_CR8(8), ...MOV_CR8(5), ...MOV_CR8(3), 0x90, 0xf4]; // 8, 5 (>= 4), 3 (< 4), nop, hlt

  it('exits after the MOV that drops CR8 below the threshold, RIP at the next instruction', () => {
    const g = TestGuest.flat(new Uint8Array(code), { mode: 'long' });
    g.vcpu.setIntercepts({ tprThreshold: 4 });
    const x = g.vcpu.run({ maxInstructions: 1000 });
    expect(x.reason).toBe('tpr-below-threshold');
    expect(x.instructions).toBe(6);
    expect(x.ripLo).toBe(LOAD + 27);
    expect(g.vcpu.getSpecialRegisters().cr8).toBe(3n);
    expect(Number(g.vcpu.getRegisters().rip)).toBe(LOAD + 27);
    expect(g.vcpu.run({ maxInstructions: 1000 }).reason).toBe('hlt');
  });

  it('the core itself raises it: the interpreter runs the whole snippet in one entry', () => {
    const g = TestGuest.flat(new Uint8Array(code), { mode: 'long' });
    const c = g.vcpu.core as InterpreterCore;
    expect(c).toBeInstanceOf(InterpreterCore);
    let entries = 0;
    const run = c.vcpu.run.bind(c.vcpu);
    c.vcpu.run = (o) => { entries++; return run(o); };
    g.vcpu.setIntercepts({ tprThreshold: 4 });
    expect(g.vcpu.run({ maxInstructions: 1000 }).reason).toBe('tpr-below-threshold');
    expect(entries).toBe(1); // no single-stepping in the adapter
  });

  it('no exit without a threshold', () => {
    const g = TestGuest.flat(new Uint8Array(code), { mode: 'long' });
    expect(g.vcpu.run({ maxInstructions: 1000 }).reason).toBe('hlt');
  });
});
