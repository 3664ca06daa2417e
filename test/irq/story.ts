/**
 * Shared helpers of the guest-level interrupt tests (fixtures/irq/): load a fixture, and run it to
 * the end recording each SYNC value with the virtual-clock time (ns) at which the guest sent it.
 *
 * Timing conventions of the Machine these tests rely on (checked at the first SYNC of each story):
 * - the clock advances 1 ns per retired instruction (VirtualClock default) and jumps to the next
 *   timer deadline while every vCPU is halted;
 * - an OUT is retired before its port write is dispatched, so a SYNC's time includes its OUT;
 * - a device timer firing at a deadline makes its interrupt taken at that instruction boundary;
 * - an instruction completed by the MMIO assist retires (1 ns) before its device access, so the
 *   device sees the time including it (MMIO_NS = 1).
 */
import { readFileSync } from 'node:fs';
import { HARNESS_PORTS, Machine, TestGuest, type TestGuestOptions } from '../../src/testing.js';

/** Virtual ns an MMIO instruction (completed by the assist) adds to the clock. */
export const MMIO_NS = 1;

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../../fixtures/irq/${name}.bin`, import.meta.url)));
}

export interface Story {
  /** [SYNC value, clock ns at the SYNC]. */
  syncs: Array<[number, number]>;
  end: string;
  guest: TestGuest;
}

export function runStory(name: string, options: TestGuestOptions = {}): Story {
  const guest = TestGuest.flat(fixture(name), { mode: 'long', ...options });
  return continueStory(guest);
}

export function continueStory(guest: TestGuest): Story {
  const syncs: Array<[number, number]> = [];
  for (;;) {
    const e = guest.next();
    if (e.kind === 'sync') {
      syncs.push([Number(e.value), guest.machine.clock.now()]);
      continue;
    }
    const end = e.kind === 'done' ? 'done' : e.kind === 'assert' ? `assert: ${e.message}` : JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? `${v}` : v));
    return { syncs, end, guest };
  }
}

/**
 * Runs a machine restored from a snapshot (no TestGuest around it) to its DONE, handling the
 * harness ports the same way: the SYNC values and times from there on, then the end.
 */
export function runRestored(m: Machine, maxInstructions = 10_000_000): { syncs: Array<[number, number]>; end: string } {
  const syncs: Array<[number, number]> = [];
  for (;;) {
    const stop = m.run({ maxInstructions });
    if (stop.kind !== 'exit' || stop.exit.reason !== 'io' || !stop.exit.write) return { syncs, end: stop.kind === 'exit' ? stop.exit.reason : stop.kind };
    const x = stop.exit;
    if (x.port === HARNESS_PORTS.SYNC) syncs.push([x.value >>> 0, m.clock.now()]);
    else if (x.port === HARNESS_PORTS.DONE) return { syncs, end: x.value === 0 ? 'done' : `fail ${x.value}` };
    else return { syncs, end: `io ${x.port}` };
  }
}
