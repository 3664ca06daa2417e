/**
 * The Vcpu run loop: budget exits, HLT, I/O exits and completion, CPUID, exceptions as exits, and
 * self-modifying code (a write into a page with decoded code invalidates it, SDM Vol. 3A §11.6).
 * Every byte is commented with its assembly.
 */
import { describe, expect, it } from 'vitest';
import { makeCpu, CODE_BASE, STACK_TOP } from './harness.js';
import { S_RIP } from '../../src/cpu/state.js';
import { getFlags } from '../../src/cpu/flags.js';

describe('Vcpu.run', () => {
  it('sums 10..1 in a loop and stops at HLT', () => {
    const m = makeCpu(64, [
      0xb9, 10, 0, 0, 0, // mov ecx, 10
      0x31, 0xc0, //       xor eax, eax
      0x01, 0xc8, //       l: add eax, ecx
      0xff, 0xc9, //       dec ecx
      0x75, 0xfa, //       jnz l
      0xf4, //             hlt
    ]);
    const e = m.cpu.run({ maxInstructions: 1000 });
    expect(e.reason).toBe('hlt');
    expect(m.cpu.state.u32[0]).toBe(55);
    expect(e.instructions).toBe(2 + 3 * 10 + 1);
    expect(m.cpu.state.u32[S_RIP]).toBe(CODE_BASE + 14);
  });

  it('ends an endless loop with a budget exit at exactly the budget', () => {
    const m = makeCpu(32, [0xeb, 0xfe]); // l: jmp l
    const e = m.cpu.run({ maxInstructions: 12345 });
    expect(e.reason).toBe('budget');
    expect(e.instructions).toBe(12345);
  });

  it('produces io exits for OUT and completes IN with the monitor value', () => {
    const m = makeCpu(32, [
      0xb0, 0x41, //       mov al, 'A'
      0xe6, 0xe9, //       out 0xe9, al
      0x66, 0xba, 0xf8, 0x03, // mov dx, 0x3f8
      0xec, //             in al, dx
      0xf4, //             hlt
    ]);
    let e = m.cpu.run({ maxInstructions: 100 });
    expect(e.reason).toBe('io');
    if (e.reason !== 'io') return;
    expect([e.port, e.size, e.write, e.value]).toEqual([0xe9, 1, true, 0x41]);
    e = m.cpu.run({ maxInstructions: 100 });
    expect(e.reason).toBe('io');
    if (e.reason !== 'io') return;
    expect([e.port, e.size, e.write]).toEqual([0x3f8, 1, false]);
    e.value = 0x5a;
    e = m.cpu.run({ maxInstructions: 100 });
    expect(e.reason).toBe('hlt');
    expect(m.cpu.state.u32[0]! & 0xff).toBe(0x5a);
  });

  it('reports #DE from DIV by zero as an exception exit at the faulting instruction', () => {
    const m = makeCpu(64, [
      0x31, 0xc9, //       xor ecx, ecx
      0xf7, 0xf1, //       div ecx
    ]);
    const e = m.cpu.run({ maxInstructions: 10 });
    expect(e.reason).toBe('exception');
    if (e.reason !== 'exception') return;
    expect(e.vector).toBe(0);
    expect(e.ripLo).toBe(CODE_BASE + 2);
    expect(m.cpu.state.u32[S_RIP]).toBe(CODE_BASE + 2);
    expect(e.instructions).toBe(1);
  });

  it('raises #UD for UD2 and #GP for a non-canonical memory operand', () => {
    let m = makeCpu(64, [0x0f, 0x0b]); // ud2
    let e = m.cpu.run({ maxInstructions: 10 });
    expect(e.reason === 'exception' && e.vector).toBe(6);
    m = makeCpu(64, [
      0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x80, // mov rax, 0x8000000000000000
      0x8b, 0x00, //                          mov eax, [rax]
    ]);
    e = m.cpu.run({ maxInstructions: 10 });
    expect(e.reason === 'exception' && e.vector).toBe(13);
  });

  it('executes code it has just rewritten (self-modifying code)', () => {
    // the loop patches the immediate of a later `mov eax, imm32` on its second pass
    const m = makeCpu(32, [
      0xb9, 2, 0, 0, 0, //            0: mov ecx, 2
      0xb8, 1, 0, 0, 0, //            5: l: mov eax, 1        (imm at CODE_BASE+6)
      0xc7, 0x05, ...le32(CODE_BASE + 6), 7, 0, 0, 0, // 10: mov dword [CODE_BASE+6], 7
      0x49, //                       20: dec ecx
      0x75, 0xee, //                 21: jnz l
      0xf4, //                       23: hlt
    ]);
    const e = m.cpu.run({ maxInstructions: 100 });
    expect(e.reason).toBe('hlt');
    expect(m.cpu.state.u32[0]).toBe(7);
  });

  it('sees a store into the block that is running', () => {
    const m = makeCpu(32, [
      0x31, 0xc0, //                            0: xor eax, eax
      0xc6, 0x05, ...le32(CODE_BASE + 9), 0x40, // 2: mov byte [CODE_BASE+9], 0x40 (NOP -> INC EAX)
      0x90, //                                  9: nop, rewritten before it runs
      0xf4, //                                 10: hlt
    ]);
    const e = m.cpu.run({ maxInstructions: 100 });
    expect(e.reason).toBe('hlt');
    expect(m.cpu.state.u32[0]).toBe(1);
  });

  it('pushes and pops through the stack, CALL/RET', () => {
    const m = makeCpu(64, [
      0xe8, 3, 0, 0, 0, //  call f
      0xf4, //              hlt
      0x90, 0x90, //        pad
      0x48, 0xc7, 0xc0, 0x2a, 0, 0, 0, // f: mov rax, 42
      0x50, //              push rax
      0x5b, //              pop rbx
      0xc3, //              ret
    ]);
    // call target: next (CODE_BASE+5) + 3 = CODE_BASE+8
    const e = m.cpu.run({ maxInstructions: 100 });
    expect(e.reason).toBe('hlt');
    expect(m.cpu.state.u32[6]).toBe(42);
    expect(m.cpu.state.u32[8]).toBe(STACK_TOP);
    expect(getFlags(m.cpu.state.u32) & 2).toBe(2);
  });
});

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
