/**
 * An instruction the memory assist completes is an instruction the guest retired: it advances the
 * virtual clock (1 ns at the default rate) before its device access, as an OUT retires before its
 * port write is dispatched, and it counts in stats().instructions. RAM the assist writes (a MOVS
 * from a device) invalidates decoded code there, as a store by the core would (SDM Vol. 3A §8.1.3).
 */
import { describe, expect, it } from 'vitest';
import { TestGuest, HARNESS_PORTS } from '../../src/testing.js';

const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const SYNC = [0x66, 0xba, HARNESS_PORTS.SYNC & 0xff, HARNESS_PORTS.SYNC >> 8, 0xef]; // mov dx, port; out dx, eax
const DONE = [0xb8, ...le32(0), 0x66, 0xba, HARNESS_PORTS.DONE & 0xff, HARNESS_PORTS.DONE >> 8, 0xef];
const DEV = 0xc000_0000;

function run(code: number[], read: (gpa: number) => number) {
  const g = TestGuest.flat(new Uint8Array(code), { mode: 'long' });
  const reads: number[] = [];
  g.machine.onMmio({ base: DEV, length: 0x1000 }, {
    read: (a) => {
      reads.push(g.machine.clock.now());
      return read(a);
    },
  });
  const syncs: Array<[number, number]> = [];
  for (;;) {
    const e = g.next();
    if (e.kind !== 'sync') {
      expect(e.kind).toBe('done');
      return { syncs, reads, g };
    }
    syncs.push([Number(e.value), g.machine.clock.now()]);
  }
}

describe('instructions completed by the memory assist', () => {
  it('retire before the device access: 1 ns of virtual time and one instruction in the statistics', () => {
    // SYNC; mov ebx, DEV; mov eax, [rbx]; SYNC
    const code = [...SYNC, 0xbb, ...le32(DEV), 0x8b, 0x03, ...SYNC, ...DONE];
    const { syncs, reads, g } = run(code, () => 0x1234);
    const t0 = syncs[0]![1];
    expect(reads).toEqual([t0 + 2]); // mov ebx, then the MMIO load itself
    expect(syncs[1]).toEqual([0x1234, t0 + 2 + 2]);
    // mov dx, out, mov ebx, mov eax (assist), mov dx, out, mov eax, mov dx, out (DONE)
    expect(g.machine.stats().instructions).toBe(9);
  });

  it('a MOVS from a device into decoded code takes effect when that code runs again', () => {
    const target = 0x1_0000 + 14;
    const code = [
      0xbe, ...le32(DEV), // mov esi, DEV
      0xbf, ...le32(target + 1), // mov edi, the immediate of the MOV below
      0x31, 0xed, // xor ebp, ebp
      0xeb, 0x00, // jmp target: a block of its own, decoded on the first pass
      0xb8, ...le32(0x11), // target: mov eax, 0x11
      ...SYNC,
      0x85, 0xed, // test ebp, ebp
      0x75, 5, // jnz done
      0xff, 0xc5, // inc ebp
      0xa4, // movsb: [rdi] <- [rsi] through the assist
      0xeb, 0xed, // jmp target
      ...DONE,
    ];
    const { syncs } = run(code, () => 0x22);
    expect(syncs.map((s) => s[0])).toEqual([0x11, 0x22]);
  });
});
