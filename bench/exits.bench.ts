/**
 * Exit and assist rates of the monitor (src/vmm): how many VM exits per second the dispatcher
 * handles for a guest that does nothing but exit. Four loops in 64-bit mode, each one instruction
 * plus a JMP:
 *   - port I/O handled in-process (OUT to the 16550's scratch register, 3FFH),
 *   - port I/O returned to the caller (OUT to an unowned port; the caller's loop calls run() again),
 *   - MMIO completed in-process by the memory assist (a MOV to a caller range with a write handler),
 *   - MMIO returned to the caller (a MOV to a caller range without a handler: an `mmio` exit).
 * Rates are exits per second of wall time (the guest's JMP costs little next to an exit).
 */
import { TestGuest, GUEST_MAP } from '../src/testing.js';
import { measure, report } from './util.js';

// out dx, al; jmp $-3
const OUT_LOOP = [0xee, 0xeb, 0xfd];
// mov [rbx], eax; jmp $-4
const MMIO_LOOP = [0x89, 0x03, 0xeb, 0xfc];

function guest(code: number[], rdx: bigint, rbx: bigint): TestGuest {
  const g = TestGuest.flat(code, { mode: 'long' });
  const r = g.vcpu.getRegisters();
  g.vcpu.setRegisters({ ...r, rdx, rbx });
  return g;
}

export function run(): void {
  {
    const g = guest(OUT_LOOP, 0x3ffn, 0n);
    // every other instruction exits; run() keeps going because the UART owns the port
    const rate = measure((n) => { g.machine.run({ maxInstructions: 2 * n }); });
    report('exits.io_in_process', rate / 1e6, 'M exits/s');
  }
  {
    const g = guest(OUT_LOOP, 0x1234n, 0n);
    const rate = measure((n) => {
      for (let i = 0; i < n; i++) {
        const s = g.machine.run({ maxInstructions: 10 });
        if (s.kind !== 'exit') throw new Error(`expected an io exit, got ${s.kind}`);
      }
    });
    report('exits.io_to_caller', rate / 1e6, 'M exits/s');
  }
  {
    const g = guest(MMIO_LOOP, 0n, BigInt(GUEST_MAP.mmioWindow));
    let sink = 0;
    g.machine.onMmio({ base: GUEST_MAP.mmioWindow, length: 0x1000 }, { read: () => 0, write: (_a, _s, v) => { sink ^= v; } });
    const rate = measure((n) => { g.machine.run({ maxInstructions: 2 * n }); });
    report('exits.mmio_assist_in_process', rate / 1e6, 'M exits/s');
    void sink;
  }
  {
    const g = guest(MMIO_LOOP, 0n, BigInt(GUEST_MAP.mmioWindow));
    g.machine.onMmio({ base: GUEST_MAP.mmioWindow, length: 0x1000 });
    const rate = measure((n) => {
      for (let i = 0; i < n; i++) {
        const s = g.machine.run({ maxInstructions: 10 });
        if (s.kind !== 'exit' || s.exit.reason !== 'mmio') throw new Error(`expected an mmio exit, got ${s.kind}`);
      }
    });
    report('exits.mmio_to_caller', rate / 1e6, 'M exits/s');
  }
}
