/**
 * Per-vCPU CPUID configuration, leaf by leaf (NVMM's NVMM_VCPU_CONF_CPUID, seed 004): a leaf either
 * passes the CPU model's values through, has bits masked (cleared and/or set per register), or
 * exits to the caller with the model's values already in the exit record so the caller can edit
 * them. A configuration may name one subleaf or all of them.
 */
import { InvalidArgumentError, hex } from '../util/errors.js';

export interface CpuidRegs {
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

export type CpuidLeafConfig =
  | { leaf: number; subleaf?: number; action: 'pass' }
  | { leaf: number; subleaf?: number; action: 'mask'; clear?: Partial<CpuidRegs>; set?: Partial<CpuidRegs> }
  | { leaf: number; subleaf?: number; action: 'exit' };

const ALL = -1;
const key = (leaf: number, subleaf: number): string => `${leaf >>> 0}:${subleaf}`;

export class CpuidConfig {
  private readonly rules = new Map<string, CpuidLeafConfig>();

  /** Sets (or with action 'pass', resets) the behaviour of a leaf. */
  configure(c: CpuidLeafConfig): void {
    const check = (v: number | undefined, what: string): void => {
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff)) {
        throw new InvalidArgumentError(`CPUID ${what} ${v} is not a uint32`);
      }
    };
    check(c.leaf, 'leaf');
    check(c.subleaf, 'subleaf');
    if (c.action !== 'pass' && c.action !== 'mask' && c.action !== 'exit') {
      throw new InvalidArgumentError(`CPUID leaf ${hex((c as { leaf: number }).leaf)} action '${(c as { action: string }).action}' is not pass, mask or exit`);
    }
    if (c.action === 'mask') {
      for (const part of [c.clear, c.set]) {
        for (const r of ['eax', 'ebx', 'ecx', 'edx'] as const) check(part?.[r], `mask ${r}`);
      }
    }
    const k = key(c.leaf, c.subleaf ?? ALL);
    if (c.action === 'pass') this.rules.delete(k);
    else this.rules.set(k, structuredClone(c));
  }

  /** The rule for a leaf/subleaf (an exact subleaf rule wins over an all-subleaves rule). */
  rule(leaf: number, subleaf: number): CpuidLeafConfig | undefined {
    return this.rules.get(key(leaf, subleaf >>> 0)) ?? this.rules.get(key(leaf, ALL));
  }

  /** True if any leaf has a rule (the vCPU then exits to the monitor on CPUID). */
  get active(): boolean {
    return this.rules.size > 0;
  }

  /** Leaves that have a rule. */
  leaves(): number[] {
    return [...new Set([...this.rules.values()].map((r) => r.leaf >>> 0))];
  }

  /** Applies a mask rule in place: (reg & ~clear) | set. Returns the action for the caller. */
  apply(leaf: number, subleaf: number, regs: CpuidRegs): 'pass' | 'exit' {
    const r = this.rule(leaf, subleaf);
    if (!r) return 'pass';
    if (r.action === 'exit') return 'exit';
    if (r.action === 'mask') {
      for (const n of ['eax', 'ebx', 'ecx', 'edx'] as const) {
        regs[n] = ((regs[n] & ~(r.clear?.[n] ?? 0)) | (r.set?.[n] ?? 0)) >>> 0;
      }
    }
    return 'pass';
  }

  save(): CpuidLeafConfig[] {
    return [...this.rules.values()].map((r) => structuredClone(r));
  }

  restore(list: CpuidLeafConfig[]): void {
    this.rules.clear();
    for (const r of list) this.configure(r);
  }
}
