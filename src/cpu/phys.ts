/**
 * What the vCPU needs from guest-physical memory: a translation of a guest-physical page to a host
 * address (chunk id + offset in the HostMemory of src/memory/host.ts) with the permission to check,
 * and a generation number that changes whenever any mapping changes (bhyve's EPT generation, seed
 * 000), so each vCPU flushes its soft TLB on its next entry.
 *
 * The memory room's EPT/NPT space implements this contract; `FlatPhysical` below is the trivial
 * implementation (guest-physical = host-physical inside one segment) used by CPU-only tests and
 * benches.
 */
import type { HostMemory } from '../memory/host.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { EptTranslation, TRANSLATE_EPT_MISCONFIG, TRANSLATE_OK } from '../memory/ept.js';

/** Access kinds, also the EPT exit-qualification bits 0..2 (SDM Vol. 3C Table 27-7). */
export const ACC_READ = 1;
export const ACC_WRITE = 2;
export const ACC_FETCH = 4;

/** Result of a guest-physical translation: filled by `translate`, reused (allocation-free). */
export class PhysResult {
  /** Host-physical address of the page (multiple of 4096) when ok. */
  hpa = 0;
  /** Permissions the mapping grants (ACC_* bits). */
  perm = 0;
  /** On failure: 'ept-violation' (not mapped / not allowed) or 'ept-misconfig'. */
  misconfig = false;
  /** On failure: exit qualification bits 3..5 = the entry's R/W/X (SDM Vol. 3C Table 27-7). */
  entryPerm = 0;
}

export interface PhysicalSpace {
  readonly host: HostMemory;
  /** Changes whenever a mapping changes; vCPUs flush their soft TLB when it differs from theirs. */
  readonly generation: number;
  /** Translates the 4 KiB guest-physical page holding gpaHi:gpaLo for `access`; false = exit. */
  translate(gpaLo: number, gpaHi: number, access: number, out: PhysResult): boolean;
}

/** Guest-physical = host-physical over the first `size` bytes of one segment (tests, benches). */
export class FlatPhysical implements PhysicalSpace {
  generation = 0;
  constructor(readonly host: HostMemory, readonly hostBase: number, readonly size: number) {}

  translate(gpaLo: number, gpaHi: number, _access: number, out: PhysResult): boolean {
    const page = gpaLo - (gpaLo & 0xfff);
    if (gpaHi !== 0 || page >= this.size) {
      out.misconfig = false;
      out.entryPerm = 0;
      return false;
    }
    out.hpa = this.hostBase + page;
    out.perm = ACC_READ | ACC_WRITE | ACC_FETCH;
    return true;
  }
}

/**
 * The memory room's guest-physical space (EPT/NPT tree of src/memory) as a PhysicalSpace: every
 * translation walks the EPT honestly (setting A/D bits as configured); a violation or
 * misconfiguration becomes the vCPU's exit with the SDM's qualification.
 */
export class EptPhysical implements PhysicalSpace {
  private readonly te = new EptTranslation();
  constructor(readonly memory: GuestMemory) {}
  get host(): HostMemory {
    return this.memory.host;
  }
  get generation(): number {
    return this.memory.generation;
  }
  translate(gpaLo: number, gpaHi: number, access: number, out: PhysResult): boolean {
    const te = this.te;
    const st = this.memory.ept.translate(gpaHi * 4294967296 + gpaLo, access, te);
    if (st !== TRANSLATE_OK) {
      out.misconfig = st === TRANSLATE_EPT_MISCONFIG;
      out.entryPerm = (te.qualification >>> 3) & 7;
      return false;
    }
    const host = this.memory.host;
    out.hpa = te.chunk * host.chunkSize + te.offset - (te.offset & 0xfff);
    out.perm = te.perms;
    return true;
  }
}
