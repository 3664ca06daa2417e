/**
 * Recognises an image and plans it with the matching loader: a multiboot header in the first
 * 8 KiB wins (a multiboot kernel is usually also ELF), then ELF, then a flat binary when the caller
 * asked for one by naming a mode or load address. Anything else is an error naming what was seen.
 */
import type { BootMode, BootPlan } from './plan.js';
import { planFlat } from './flat.js';
import { isElf, planElf } from './elf.js';
import { findMultibootHeader, planMultiboot } from './multiboot.js';
import type { MultibootModule } from './multiboot.js';
import { InvalidArgumentError } from '../util/errors.js';

export type ImageFormat = 'multiboot' | 'elf' | 'flat';

export interface LoadImageOptions {
  ramBytes: number;
  /** Force a format; by default it is detected (flat only when `mode` or `loadAddress` is given). */
  format?: ImageFormat;
  /** Mode for flat images (and an override for ELF). */
  mode?: BootMode;
  loadAddress?: number;
  imageName?: string;
  append?: string;
  modules?: MultibootModule[];
}

export function detectFormat(image: Uint8Array): ImageFormat | undefined {
  if (findMultibootHeader(image)) return 'multiboot';
  if (isElf(image)) return 'elf';
  return undefined;
}

export function planImage(image: Uint8Array, options: LoadImageOptions): BootPlan {
  let format = options.format ?? detectFormat(image);
  if (format === undefined) {
    if (options.mode !== undefined || options.loadAddress !== undefined) format = 'flat';
    else {
      const head = Array.from(image.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new InvalidArgumentError(
        `unrecognised image (starts ${head || 'empty'}): no multiboot header in the first 8 KiB and not ELF; give a mode to load it as a flat binary`,
      );
    }
  }
  switch (format) {
    case 'multiboot':
      return planMultiboot(image, {
        ramBytes: options.ramBytes,
        imageName: options.imageName,
        append: options.append,
        modules: options.modules,
      });
    case 'elf':
      return planElf(image, { mode: options.mode });
    case 'flat':
      return planFlat(image, { mode: options.mode, loadAddress: options.loadAddress });
  }
}
