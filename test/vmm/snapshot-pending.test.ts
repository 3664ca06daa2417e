/**
 * A snapshot taken while an exit waits for the caller's value (an IN from a port nobody owns, an
 * RDMSR of an unknown MSR) keeps that completion: the restored machine finishes the instruction
 * with the value the exit record held, as the original does.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/vmm/machine.js';
import { TestGuest, HARNESS_PORTS } from '../../src/testing.js';

const SYNC = [0x66, 0xba, HARNESS_PORTS.SYNC & 0xff, HARNESS_PORTS.SYNC >> 8, 0xef]; // mov dx, port; out dx, eax
const DONE = [0x31, 0xc0, 0x66, 0xba, HARNESS_PORTS.DONE & 0xff, HARNESS_PORTS.DONE >> 8, 0xef];

function finish(m: Machine): number[] {
  const values: number[] = [];
  for (;;) {
    const s = m.run({ maxInstructions: 100_000 });
    if (s.kind !== 'exit' || s.exit.reason !== 'io' || !s.exit.write) throw new Error(`unexpected stop ${s.kind}`);
    if (s.exit.port === HARNESS_PORTS.DONE) return values;
    values.push(s.exit.value >>> 0);
  }
}

describe('snapshots with a pending completion', () => {
  it('IN: the value stored in the exit before saving is what the restored guest reads', () => {
    // xor eax, eax; mov dx, 0x1234; in al, dx; SYNC; DONE
    const g = TestGuest.flat(new Uint8Array([0x31, 0xc0, 0x66, 0xba, 0x34, 0x12, 0xec, ...SYNC, ...DONE]), { mode: 'long' });
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'io') throw new Error('expected the IN exit');
    expect(e.exit.port).toBe(0x1234);
    e.exit.value = 0x5a;
    const state = g.machine.saveState();
    expect(finish(Machine.restoreState(state))).toEqual([0x5a]);
    expect(finish(g.machine)).toEqual([0x5a]);
  });

  it('RDMSR of an MSR nobody owns: EDX:EAX from the exit', () => {
    // mov ecx, 0x4b564d99; rdmsr; SYNC (eax); mov eax, edx... SYNC clobbers dx: mov ebx, edx first
    const code = [0xb9, 0x99, 0x4d, 0x56, 0x4b, 0x0f, 0x32, 0x89, 0xd3, ...SYNC, 0x89, 0xd8, ...SYNC, ...DONE];
    const g = TestGuest.flat(new Uint8Array(code), { mode: 'long' });
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'rdmsr') throw new Error('expected the rdmsr exit');
    e.exit.valueLo = 0x1122_3344;
    e.exit.valueHi = 0x5566_7788;
    const state = structuredClone(g.machine.saveState());
    expect(finish(Machine.restoreState(state))).toEqual([0x1122_3344, 0x5566_7788]);
  });
});
