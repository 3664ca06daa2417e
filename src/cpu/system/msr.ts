/**
 * Architectural MSRs the CPU model implements (SDM Vol. 4 Table 2-2 "IA-32 Architectural MSRs",
 * Vol. 3A §11.11 MTRRs, §11.12.2 PAT, §5.8.8 SYSCALL/SYSRET, §5.8.7 SYSENTER/SYSEXIT, §3.4.4 FS/GS
 * bases). WRMSR of a reserved bit or a non-canonical address is #GP(0) (SDM Vol. 2 WRMSR); an MSR
 * not listed here is not the CPU's: RDMSR/WRMSR of it leave the vCPU with an rdmsr/wrmsr exit.
 */

export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_TSC_ADJUST = 0x3b;
export const MSR_MTRRCAP = 0xfe;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_MTRR_PHYSBASE0 = 0x200; // 0x200..0x20F: PHYSBASE/PHYSMASK pairs (VCNT = 8)
export const MSR_MTRR_FIX64K = 0x250;
export const MSR_MTRR_FIX16K_80000 = 0x258;
export const MSR_MTRR_FIX16K_A0000 = 0x259;
export const MSR_MTRR_FIX4K_C0000 = 0x268; // .. 0x26F
export const MSR_PAT = 0x277;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_EFER = 0xc0000080;
export const MSR_STAR = 0xc0000081;
export const MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083;
export const MSR_FMASK = 0xc0000084;
export const MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101;
export const MSR_KERNEL_GS_BASE = 0xc0000102;
export const MSR_TSC_AUX = 0xc0000103;

/** IA32_MTRRCAP: VCNT = 8 variable ranges, FIX = 1, WC = 1 (Vol. 3A Figure 11-5). */
export const MTRRCAP_VALUE = 0x508;

/** Memory types valid in PAT entries and MTRRs: UC 0, WC 1, WT 4, WP 5, WB 6, UC- 7 (PAT only). */
export function validMemType(t: number, pat: boolean): boolean {
  return t === 0 || t === 1 || t === 4 || t === 5 || t === 6 || (pat && t === 7);
}

/** Every byte of a 64-bit value is a valid type (PAT, fixed-range MTRRs). */
export function validTypeBytes(lo: number, hi: number, pat: boolean): boolean {
  for (let i = 0; i < 4; i++) {
    if (!validMemType((lo >>> (i * 8)) & 0xff, pat) || !validMemType((hi >>> (i * 8)) & 0xff, pat)) return false;
  }
  return true;
}

/** Stored values of MSRs without a home in the register file: index -> [lo, hi]. */
export class MsrStore {
  apicBaseLo = 0xfee00900; // enabled, BSP (SDM Vol. 3A §11.4.4)
  apicBaseHi = 0;
  /** IA32_TSC_ADJUST (SDM Vol. 3B §17.17.3), 64-bit two's complement. */
  tscAdjustLo = 0;
  tscAdjustHi = 0;
  sysenterCs = 0;
  sysenterEspLo = 0;
  sysenterEspHi = 0;
  sysenterEipLo = 0;
  sysenterEipHi = 0;
  miscEnableLo = 1; // fast-strings enable (Vol. 4 Table 2-2, bit 0)
  miscEnableHi = 0;
  patLo = 0x00070406;
  patHi = 0x00070406;
  starLo = 0;
  starHi = 0;
  lstarLo = 0;
  lstarHi = 0;
  cstarLo = 0;
  cstarHi = 0;
  fmask = 0;
  kgsLo = 0;
  kgsHi = 0;
  mtrrDefType = 0;
  /** Variable MTRRs 0x200..0x20F and the 11 fixed-range MTRRs, as lo/hi pairs. */
  readonly mtrrVar = new Uint32Array(32);
  readonly mtrrFixed = new Uint32Array(22);

  /** Every stored value as uint32 numbers in a fixed order (snapshots). */
  save(): number[] {
    const out: number[] = SCALAR_FIELDS.map((k) => this[k] >>> 0);
    out.push(...this.mtrrVar, ...this.mtrrFixed);
    return out;
  }

  /** Puts back what `save` returned; returns false (and changes nothing) for a malformed list. */
  restore(v: readonly number[]): boolean {
    const n = SCALAR_FIELDS.length;
    if (!Array.isArray(v) || v.length !== n + 54 || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff)) return false;
    SCALAR_FIELDS.forEach((k, i) => { this[k] = v[i]!; });
    this.mtrrVar.set(v.slice(n, n + 32));
    this.mtrrFixed.set(v.slice(n + 32, n + 54));
    return true;
  }

  /**
   * RESET values (SDM Vol. 3A Table 9-1: PAT 0007040600070406H, MTRRs disabled; Vol. 4 Table 2-2);
   * IA32_APIC_BASE is the LAPIC's and is left to it.
   */
  reset(): void {
    const lo = this.apicBaseLo, hi = this.apicBaseHi;
    this.restore(POWER_ON);
    this.apicBaseLo = lo;
    this.apicBaseHi = hi;
  }
}

/** The scalar fields of MsrStore, in snapshot order. */
const SCALAR_FIELDS = [
  'apicBaseLo', 'apicBaseHi', 'tscAdjustLo', 'tscAdjustHi', 'sysenterCs', 'sysenterEspLo', 'sysenterEspHi',
  'sysenterEipLo', 'sysenterEipHi', 'miscEnableLo', 'miscEnableHi', 'patLo', 'patHi', 'starLo', 'starHi',
  'lstarLo', 'lstarHi', 'cstarLo', 'cstarHi', 'fmask', 'kgsLo', 'kgsHi', 'mtrrDefType',
] as const satisfies readonly (keyof MsrStore)[];

const POWER_ON = new MsrStore().save();
