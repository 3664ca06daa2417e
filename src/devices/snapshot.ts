/**
 * The save/restore contract every stateful device follows (shared/STYLE.md, after bhyve's one
 * snapshot function per device and crosvm's suspendable.rs):
 * - `saveState()` returns plain JSON-able data (numbers, booleans, strings, arrays, plain objects;
 *   no typed arrays, no bigint, no functions), a fresh object the device never aliases.
 * - `restoreState(s)` accepts exactly what saveState produced, validates it (InvalidArgumentError
 *   naming the bad field; a failed restore changes nothing) and re-arms the device's clock timers
 *   from the restored state (restore the VirtualClock first).
 * - save, restore, save again gives an equal object.
 */
import { InvalidArgumentError } from '../util/errors.js';

export interface Snapshottable<S> {
  saveState(): S;
  restoreState(state: S): void;
}

/** Reads field `key` of a saved state as an integer in [min, max], or throws naming the device and field. */
export function stateInt(s: unknown, key: string, min: number, max: number, device: string): number {
  const v = (s as Record<string, unknown> | null)?.[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${device} state: '${key}' = ${String(v)} is not an integer in [${min}, ${max}]`);
  }
  return v;
}

/** Reads field `key` of a saved state as a boolean. */
export function stateBool(s: unknown, key: string, device: string): boolean {
  const v = (s as Record<string, unknown> | null)?.[key];
  if (typeof v !== 'boolean') throw new InvalidArgumentError(`${device} state: '${key}' = ${String(v)} is not a boolean`);
  return v;
}

/** Reads field `key` as an array of integers in [min, max] of the given length (any length if undefined). */
export function stateIntArray(
  s: unknown,
  key: string,
  min: number,
  max: number,
  device: string,
  length?: number,
): number[] {
  const v = (s as Record<string, unknown> | null)?.[key];
  if (!Array.isArray(v) || (length !== undefined && v.length !== length)) {
    throw new InvalidArgumentError(
      `${device} state: '${key}' is not an array${length !== undefined ? ` of ${length} integers` : ''}`,
    );
  }
  for (const x of v) {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
      throw new InvalidArgumentError(`${device} state: '${key}' holds ${String(x)}, not an integer in [${min}, ${max}]`);
    }
  }
  return v.slice() as number[];
}

/** A timer deadline field: -1 (disarmed) or a non-negative integer ns. */
export function stateDeadline(s: unknown, key: string, device: string): number {
  return stateInt(s, key, -1, Number.MAX_SAFE_INTEGER, device);
}
