/**
 * Random code biased toward system instructions (far transfers, IRET, INT n, MOV CR/DR/Sreg, LGDT,
 * LTR, WRMSR, SYSCALL, SYSENTER ...) over random IDT/GDT bytes, in real, 32-bit and 64-bit mode with
 * delivery through the IDT: whatever the guest does must end in a defined exit, never a host error
 * (DESIGN.md "Errors and bad input"). Deterministic: a fixed LCG seed.
 */
import { describe, expect, it } from 'vitest';
import { CODE, GDT_BASE, IDT_BASE, SEL, rig } from './harness.js';
import { ATTR_L, CS, S_CR0, S_CR4, S_EFER, S_RIP, SS } from '../../src/cpu/state.js';

const SYSTEM_OPS = [
  [0x0f, 0x00], [0x0f, 0x01], [0x0f, 0x22], [0x0f, 0x20], [0x0f, 0x23], [0x0f, 0x21], [0xcf], [0xca], [0xcb], [0xea],
  [0x9a], [0x8e], [0xcd], [0x0f, 0x30], [0x0f, 0x32], [0x0f, 0x05], [0x0f, 0x07], [0x0f, 0x34], [0x0f, 0x35],
  [0x0f, 0x02], [0x0f, 0x03], [0xff], [0x17], [0x1f], [0xfb], [0x9d], [0x48, 0xcf],
];

describe('system fuzz', () => {
  it('150 random system-heavy streams end in exits without a host error', () => {
    let seed = 20261122;
    const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; };
    const failures: string[] = [];
    for (let n = 0; n < 150; n++) {
      const r = rig();
      r.deliver();
      const u = r.cpu.state.u32;
      const mode = n % 3;
      for (let k = 0; k < 64; k++) r.w32(IDT_BASE + ((rnd() % 0x800) & ~3), (rnd() | (rnd() << 16)) >>> 0);
      for (let k = 0; k < 4; k++) r.w32(GDT_BASE + 0x78 + (k & 1) * 4, (rnd() | (rnd() << 16)) >>> 0);
      if (mode === 0) {
        u[S_CR0] = 0x60000010;
        r.cpu.state.setSegment(CS, 0, 0, 0, 0xffff, 0x9b);
        r.cpu.state.setSegment(SS, 0, 0, 0, 0xffff, 0x93);
      } else if (mode === 2) {
        u[S_EFER] = 0x500;
        u[S_CR4] = 0x20;
        r.cpu.state.setSegment(CS, SEL.code64, 0, 0, 0xffffffff, 0x9b | ATTR_L | (1 << 15));
      }
      r.cpu.updateMode();
      const bytes: number[] = [];
      for (let k = 0; k < 64; k++) bytes.push(rnd() & 0xff);
      for (let k = 0; k < 8; k++) {
        const p = rnd() % 56;
        const op = SYSTEM_OPS[rnd() % SYSTEM_OPS.length]!;
        for (let j = 0; j < op.length; j++) bytes[p + j] = op[j]!;
      }
      r.code(bytes);
      if (mode === 0) u[S_RIP] = CODE & 0xffff;
      try {
        for (let k = 0; k < 10; k++) {
          const e = r.cpu.run({ maxInstructions: 200 });
          if (e.reason !== 'io' && e.reason !== 'rdmsr' && e.reason !== 'wrmsr' && e.reason !== 'budget') break;
        }
      } catch (err) {
        failures.push(`stream ${n} (mode ${mode}): ${(err as Error).message}`);
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });
});
