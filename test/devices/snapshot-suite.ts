/**
 * The generic save/restore test stamped out for every device (shared/STYLE.md, after crosvm's
 * suspendable.rs): save, restore into a fresh device, save again is equal; a mutation changes the
 * snapshot; the state survives JSON; timers are re-armed from restored state.
 */
import { expect, it } from 'vitest';
import type { VirtualClock } from '../../src/time/clock.js';

export interface SnapshotSubject<S> {
  saveState(): S;
  restoreState(s: S): void;
}

export interface SnapshotCase<D extends SnapshotSubject<unknown>> {
  /** A device in an interesting, programmed state, with the clock it uses (if any). */
  make(): { device: D; clock?: VirtualClock };
  /** A fresh device on a fresh clock restored to the given clock time (the restore target). */
  fresh(clockState?: ReturnType<VirtualClock['saveState']>): { device: D; clock?: VirtualClock };
  /** Changes guest-visible state. */
  mutate(device: D): void;
}

export function snapshotRoundTrip<D extends SnapshotSubject<unknown>>(name: string, c: SnapshotCase<D>): void {
  it(`${name}: save, restore, save again is equal (through JSON)`, () => {
    const { device, clock } = c.make();
    const s1 = device.saveState();
    const json = JSON.parse(JSON.stringify(s1));
    expect(json).toEqual(s1);
    const target = c.fresh(clock?.saveState());
    target.device.restoreState(json);
    expect(target.device.saveState()).toEqual(s1);
    if (clock && target.clock) expect(target.clock.nextDeadline()).toBe(clock.nextDeadline());
  });

  it(`${name}: a mutation changes the snapshot, and the snapshot is not aliased`, () => {
    const { device } = c.make();
    const s1 = device.saveState();
    const copy = JSON.parse(JSON.stringify(s1));
    c.mutate(device);
    expect(device.saveState()).not.toEqual(s1);
    expect(s1).toEqual(copy);
  });

  it(`${name}: a malformed state is rejected and changes nothing`, () => {
    const { device } = c.make();
    const s1 = device.saveState();
    expect(() => device.restoreState({} as never)).toThrow();
    expect(() => device.restoreState(null as never)).toThrow();
    expect(device.saveState()).toEqual(s1);
  });
}
