/**
 * MSR ownership for the monitor. The vCPU model implements the MSRs it knows (EFER, STAR, FS/GS
 * base ...) and raises RDMSR/WRMSR exits for the others (NVMM's separate RDMSR/WRMSR exits,
 * seed 004). The monitor then:
 *  1. gives the access to a caller handler that claimed the MSR (`machine.onMsr`): the filter,
 *  2. else serves it from its own table of stored MSRs (below: the ones a platform keeps but no
 *     device interprets, e.g. MTRRs and the PAT as plain storage),
 *  3. else returns the exit to the caller, who may complete it or inject #GP(0) (bhyve injects #GP
 *     for unimplemented MSRs; the default platform run by the CLI does exactly that).
 */
import { InvalidArgumentError, ConflictError, hex } from '../util/errors.js';

/** A caller's MSR handler: return undefined from read (false from write) to decline. */
export interface MsrHandler {
  read?(msr: number): bigint | undefined;
  write?(msr: number, value: bigint): boolean;
}

/** MSR numbers (SDM Vol. 4, Table 2-2). */
export const MSR = {
  IA32_TSC: 0x10,
  IA32_APIC_BASE: 0x1b,
  IA32_MTRRCAP: 0xfe,
  IA32_MISC_ENABLE: 0x1a0,
  IA32_MTRR_PHYSBASE0: 0x200,
  IA32_MTRR_DEF_TYPE: 0x2ff,
  IA32_PAT: 0x277,
  IA32_EFER: 0xc000_0080,
} as const;

/** Stored MSRs with their power-on values (SDM Vol. 4 and Vol. 3A §11.11, §11.12.4). */
function defaultStore(): Map<number, bigint> {
  const m = new Map<number, bigint>();
  m.set(MSR.IA32_MTRRCAP, 0x508n); // 8 variable ranges, fixed ranges and WC supported
  m.set(MSR.IA32_MTRR_DEF_TYPE, 0n);
  for (let i = 0; i < 16; i++) m.set(MSR.IA32_MTRR_PHYSBASE0 + i, 0n);
  for (const f of [0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f]) m.set(f, 0n);
  m.set(MSR.IA32_PAT, 0x0007_0406_0007_0406n); // power-on PAT (SDM Vol. 3A §11.12.4)
  m.set(MSR.IA32_MISC_ENABLE, 0x1n); // fast strings enabled
  return m;
}

export class MsrModel {
  private readonly store = defaultStore();
  private readonly handlers = new Map<number, MsrHandler>();

  /** Claims `msrs` for `handler` (the filter); a claimed MSR never reaches the store. */
  claim(msrs: readonly number[], handler: MsrHandler): void {
    for (const m of msrs) {
      if (!Number.isInteger(m) || m < 0 || m > 0xffff_ffff) throw new InvalidArgumentError(`MSR ${m} is not a uint32 index`);
      if (this.handlers.has(m)) throw new ConflictError(`MSR ${hex(m)} is already claimed by another handler`);
    }
    for (const m of msrs) this.handlers.set(m >>> 0, handler);
  }

  release(msrs: readonly number[]): void {
    for (const m of msrs) this.handlers.delete(m >>> 0);
  }

  /** Reads an MSR the monitor owns; undefined = nobody here (the exit goes to the caller). */
  read(msr: number): bigint | undefined {
    const h = this.handlers.get(msr >>> 0);
    if (h) return h.read ? h.read(msr >>> 0) : undefined;
    return this.store.get(msr >>> 0);
  }

  /** Writes an MSR the monitor owns; false = nobody here. */
  write(msr: number, value: bigint): boolean {
    const h = this.handlers.get(msr >>> 0);
    if (h) return h.write ? h.write(msr >>> 0, value) : false;
    if (!this.store.has(msr >>> 0)) return false;
    this.store.set(msr >>> 0, BigInt.asUintN(64, value));
    return true;
  }

  save(): Array<[number, string]> {
    return [...this.store].map(([k, v]) => [k, v.toString(16)]);
  }

  restore(s: Array<[number, string]>): void {
    this.store.clear();
    for (const [k, v] of s) this.store.set(k, BigInt('0x' + v));
  }

  reset(): void {
    this.store.clear();
    for (const [k, v] of defaultStore()) this.store.set(k, v);
  }
}
