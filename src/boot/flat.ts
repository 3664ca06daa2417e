/**
 * The flat-binary loader: the image's bytes at one guest-physical address, the vCPU started at that
 * address in the chosen mode (real, 32-bit protected flat, or 64-bit long mode with the loader's
 * identity paging and GDT; see plan.ts for the map and the SDM sections).
 */
import type { BootMode, BootPlan } from './plan.js';
import { checkNoOverlap, modeState, modeWrites, BOOT_STACK_TOP } from './plan.js';
import { InvalidArgumentError, hex } from '../util/errors.js';

export interface FlatOptions {
  /** Guest-physical load address (default 0x10000 in protected/long mode, 0x7C00 in real mode). */
  loadAddress?: number;
  /** Entry point (default: the load address). */
  entry?: number;
  mode?: BootMode;
  /** Initial stack pointer (default 0x7000, or 0x7C00 in real mode below a boot sector). */
  stackTop?: number;
}

export const FLAT_DEFAULT_LOAD = 0x1_0000;
export const FLAT_REAL_DEFAULT_LOAD = 0x7c00;

export function planFlat(image: Uint8Array, options: FlatOptions = {}): BootPlan {
  const mode = options.mode ?? 'protected';
  const load = options.loadAddress ?? (mode === 'real' ? FLAT_REAL_DEFAULT_LOAD : FLAT_DEFAULT_LOAD);
  if (!Number.isSafeInteger(load) || load < 0) {
    throw new InvalidArgumentError(`flat load address ${load} is not a non-negative integer`);
  }
  if (mode === 'real' && load + image.length > 0x10_0000) {
    throw new InvalidArgumentError(
      `real-mode image of ${image.length} bytes at ${hex(load)} does not fit below 1 MiB`,
    );
  }
  const entry = options.entry ?? load;
  const stack = options.stackTop ?? (mode === 'real' ? FLAT_REAL_DEFAULT_LOAD : BOOT_STACK_TOP);
  const { regs, sregs } = modeState(mode, entry, stack);
  const writes = [...modeWrites(mode), { gpa: load, bytes: image, what: 'flat image' }];
  checkNoOverlap(writes);
  return { format: 'flat', mode, writes, regs, sregs, entry, imageStart: load, imageEnd: load + image.length };
}
