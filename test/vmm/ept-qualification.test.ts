/**
 * EPT-violation exit qualification bits 7 and 8 (SDM Vol. 3C Table 28-7): bit 7 - the guest
 * linear-address field is valid; bit 8 (if bit 7) - set when the access is to the translation of a
 * linear address, clear when it is to a paging-structure entry during the guest's page walk.
 */
import { describe, expect, it } from 'vitest';
import { TestGuest, HARNESS_PORTS, GUEST_MAP } from '../../src/testing.js';

const SYNC = [0x66, 0xba, HARNESS_PORTS.SYNC & 0xff, HARNESS_PORTS.SYNC >> 8, 0xef];
// SYNC; mov ebx, 0xC0000000 (the harness's unmapped window); mov eax, [rbx]; hlt
const CODE = [...SYNC, 0xbb, 0x00, 0x00, 0x00, 0xc0, 0x8b, 0x03, 0xf4];

describe('EPT violation qualification: paging-structure access or final translation', () => {
  it('a data read of an unmapped GPA: bits 7 and 8 set, bit 0 (read)', () => {
    const g = TestGuest.flat(new Uint8Array(CODE), { mode: 'long' });
    expect(g.next().kind).toBe('sync');
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'ept-violation') throw new Error(`expected an ept-violation, got ${e.kind}`);
    expect(e.exit.gpaLo).toBe(0xc000_0000);
    expect(e.exit.qualification & 0x187).toBe(0x181);
  });

  it('the walk reading a guest page table the EPT does not allow: bit 7 set, bit 8 clear, GPA in the table', () => {
    const g = TestGuest.flat(new Uint8Array(CODE), { mode: 'long' });
    expect(g.next().kind).toBe('sync');
    // The PML4 (CR3 = 0x1000, x86vmm/testing's map) becomes execute-only: the walk's read faults.
    g.machine.memory.protect(GUEST_MAP.pageTables, 0x1000, 'x');
    const e = g.next();
    if (e.kind !== 'exit' || e.exit.reason !== 'ept-violation') throw new Error(`expected an ept-violation, got ${e.kind}`);
    expect(Math.floor(e.exit.gpaLo / 0x1000) * 0x1000).toBe(GUEST_MAP.pageTables);
    expect(e.exit.qualification & 0x181).toBe(0x081);
    expect(e.exit.linearValid).toBe(true);
  });
});
