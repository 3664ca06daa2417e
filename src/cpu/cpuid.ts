/**
 * The CPUID model of the CPU (SDM Vol. 2A CPUID, Tables 3-8 .. 3-20). One coherent model: every
 * feature bit set here is implemented by src/cpu (integer core, system unit, x87 and SIMD units up to
 * SSE4.2); nothing else is advertised (no AVX, XSAVE/OSXSAVE, AES-NI, PCLMULQDQ, BMI, ADX, RDRAND).
 */

export const VENDOR = 'GenuineIntel';

/** Leaf 1 EDX bits we implement (Table 3-11). */
export const CPUID1_EDX_DE = 1 << 2; // CR4.DE, DR4/DR5 #UD (src/cpu/system)
export const CPUID1_EDX_PSE = 1 << 3;
export const CPUID1_EDX_TSC = 1 << 4;
export const CPUID1_EDX_MSR = 1 << 5;
export const CPUID1_EDX_PAE = 1 << 6;
export const CPUID1_EDX_CX8 = 1 << 8;
export const CPUID1_EDX_SEP = 1 << 11; // SYSENTER/SYSEXIT
export const CPUID1_EDX_MTRR = 1 << 12; // MTRRs stored (system/msr.ts)
export const CPUID1_EDX_PGE = 1 << 13;
export const CPUID1_EDX_CMOV = 1 << 15;
export const CPUID1_EDX_PAT = 1 << 16;
export const CPUID1_EDX_PSE36 = 1 << 17;
export const CPUID1_EDX_CLFSH = 1 << 19;
/**
 * Leaf 1 EDX: x87 FPU on chip (0), MMX (23), FXSAVE/FXRSTOR and CR4.OSFXSR (24), SSE (25), SSE2 (26):
 * the x87 and SIMD units of src/cpu/fpu (Table 3-11).
 */
export const CPUID1_EDX_FPU = 1 << 0;
export const CPUID1_EDX_MMX = 1 << 23;
export const CPUID1_EDX_FXSR = 1 << 24;
export const CPUID1_EDX_SSE = 1 << 25;
export const CPUID1_EDX_SSE2 = 1 << 26;
/** Leaf 1 ECX: SSE3 (0), SSSE3 (9), SSE4.1 (19), SSE4.2 (20, with CRC32 and PCMPxSTRx) (Table 3-10). */
export const CPUID1_ECX_SSE3 = 1 << 0;
export const CPUID1_ECX_SSSE3 = 1 << 9;
export const CPUID1_ECX_SSE41 = 1 << 19;
export const CPUID1_ECX_SSE42 = 1 << 20;
/** Leaf 1 ECX: PCID (17). */
export const CPUID1_ECX_PCID = 1 << 17;
/** Leaf 7 subleaf 0 EBX: FSGSBASE (0), SMEP (7), SMAP (20); ECX: UMIP (2). */
export const CPUID7_EBX_FSGSBASE = 1 << 0;
export const CPUID7_EBX_SMEP = 1 << 7;
export const CPUID7_EBX_SMAP = 1 << 20;
export const CPUID7_ECX_UMIP = 1 << 2;
/** Leaf 7 subleaf 0 ECX: LA57 (16), 5-level paging and 57-bit linear addresses. */
export const CPUID7_ECX_LA57 = 1 << 16;
/** Leaf 0x80000001 EDX: SYSCALL (11), NX (20), 1 GiB pages (26). */
export const EXT1_EDX_SYSCALL = 1 << 11;
export const EXT1_EDX_NX = 1 << 20;
export const EXT1_EDX_PAGE1GB = 1 << 26;
/** Leaf 1 ECX bits (Table 3-10). */
export const CPUID1_ECX_CX16 = 1 << 13;
export const CPUID1_ECX_MOVBE = 1 << 22;
export const CPUID1_ECX_POPCNT = 1 << 23;
/** Leaf 0x80000001 ECX: LAHF/SAHF in 64-bit mode (bit 0), LZCNT (bit 5). EDX: LM (bit 29), RDTSCP (27). */
export const EXT1_ECX_LAHF = 1 << 0;
export const EXT1_ECX_LZCNT = 1 << 5;
export const EXT1_EDX_RDTSCP = 1 << 27;
export const EXT1_EDX_LM = 1 << 29;

function str4(s: string, i: number): number {
  return (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
}

const BRAND = 'x86vmm virtual CPU (TypeScript)'.padEnd(48, '\0');

/** Leaf 1 EDX: APIC on chip (9). ECX: x2APIC (21), TSC-deadline timer mode (24) (Table 3-10/3-11). */
export const CPUID1_EDX_APIC = 1 << 9;
export const CPUID1_ECX_X2APIC = 1 << 21;
export const CPUID1_ECX_TSC_DEADLINE = 1 << 24;
/** Leaf 7 subleaf 0 EBX: IA32_TSC_ADJUST (1), implemented by src/cpu/system. */
export const CPUID7_EBX_TSC_ADJUST = 1 << 1;
/** Leaf 0x80000007 EDX: invariant TSC (8). */
export const EXT7_EDX_INVARIANT_TSC = 1 << 8;

/**
 * What the platform around the core adds to the model (set by the monitor, not by the core):
 * a local APIC per vCPU (xAPIC and x2APIC, TSC-deadline timer), and a TSC that follows the
 * machine clock at a fixed frequency (leaves 15H and 16H, invariant TSC).
 */
export class CpuidPlatform {
  /** A LAPIC is attached: CPUID.1 EDX.APIC, ECX.x2APIC and ECX.TSC-deadline. */
  apic = false;
  /**
   * Leaves 15H and 16H as [eax, ebx, ecx, edx] each (8 values), when the TSC runs at a constant
   * advertised frequency; then the maximum basic leaf is 16H and 80000007H reports an invariant TSC.
   */
  tscLeaves: readonly number[] | null = null;
  /** Logical processors in the package (one thread per core, one core per vCPU): leaf 0BH. */
  logicalProcessors = 1;
}

const NO_PLATFORM = new CpuidPlatform();

/** Output record for cpuidModel (reused). */
export class CpuidResult {
  eax = 0;
  ebx = 0;
  ecx = 0;
  edx = 0;
}

/**
 * Fills `out` with the model's values for leaf/subleaf. `apicId` goes to leaf 1 EBX[31:24].
 * Leaves above the maximum return the highest basic leaf's values, as Intel processors do
 * (SDM CPUID: "If a value entered for CPUID.EAX is higher than the maximum input value ...").
 */
export function cpuidModel(leaf: number, subleaf: number, apicId: number, out: CpuidResult, platform: CpuidPlatform = NO_PLATFORM): void {
  leaf >>>= 0;
  out.eax = out.ebx = out.ecx = out.edx = 0;
  const tsc = platform.tscLeaves;
  // leaf 0BH exists with the x2APIC (SDM Vol. 2A CPUID: x2APIC topology); 15H/16H with a clock TSC
  const maxBasic = tsc !== null ? 0x16 : platform.apic ? 0xb : 0x7;
  if (leaf > maxBasic && leaf < 0x80000000) leaf = maxBasic;
  if (leaf > 0x80000008) leaf = maxBasic;
  switch (leaf) {
    case 0:
      out.eax = maxBasic;
      out.ebx = str4(VENDOR, 0);
      out.edx = str4(VENDOR, 4);
      out.ecx = str4(VENDOR, 8);
      return;
    case 1:
      // family 6, model 0x3A-like signature; stepping 9
      out.eax = 0x000306a9;
      out.ebx = ((apicId & 0xff) << 24) | (1 << 16) | (8 << 8);
      out.ecx = CPUID1_ECX_CX16 | CPUID1_ECX_MOVBE | CPUID1_ECX_POPCNT | CPUID1_ECX_PCID |
        CPUID1_ECX_SSE3 | CPUID1_ECX_SSSE3 | CPUID1_ECX_SSE41 | CPUID1_ECX_SSE42;
      out.edx = CPUID1_EDX_TSC | CPUID1_EDX_CX8 | CPUID1_EDX_CMOV | CPUID1_EDX_DE | CPUID1_EDX_PSE | CPUID1_EDX_MSR |
        CPUID1_EDX_PAE | CPUID1_EDX_SEP | CPUID1_EDX_MTRR | CPUID1_EDX_PGE | CPUID1_EDX_PAT | CPUID1_EDX_PSE36 | CPUID1_EDX_CLFSH |
        CPUID1_EDX_FPU | CPUID1_EDX_MMX | CPUID1_EDX_FXSR | CPUID1_EDX_SSE | CPUID1_EDX_SSE2;
      if (platform.apic) {
        out.ecx |= CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE;
        out.edx |= CPUID1_EDX_APIC;
      }
      return;
    case 7:
      // subleaf 0: EAX = max subleaf 0; the system features src/cpu/system implements
      if (subleaf === 0) {
        out.ebx = CPUID7_EBX_FSGSBASE | CPUID7_EBX_TSC_ADJUST | CPUID7_EBX_SMEP | CPUID7_EBX_SMAP;
        out.ecx = CPUID7_ECX_UMIP | CPUID7_ECX_LA57;
      }
      return;
    case 0x80000000:
      out.eax = 0x80000008;
      return;
    case 0x80000001:
      out.ecx = EXT1_ECX_LAHF | EXT1_ECX_LZCNT;
      out.edx = EXT1_EDX_LM | EXT1_EDX_RDTSCP | EXT1_EDX_SYSCALL | EXT1_EDX_NX | EXT1_EDX_PAGE1GB;
      return;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {
      const o = (leaf - 0x80000002) * 16;
      out.eax = str4(BRAND, o);
      out.ebx = str4(BRAND, o + 4);
      out.ecx = str4(BRAND, o + 8);
      out.edx = str4(BRAND, o + 12);
      return;
    }
    case 0x80000007:
      if (tsc !== null) out.edx = EXT7_EDX_INVARIANT_TSC;
      return;
    case 0x80000008:
      out.eax = 0x3928; // 57 linear (LA57), 40 physical address bits
      return;
    case 0xb: {
      // x2APIC topology (Table 3-8, leaf 0BH): level 0 SMT with one thread per core, level 1 core
      // with every vCPU a core of one package; EDX the x2APIC ID at every subleaf; leaves 8H-0AH and
      // 0BH without a LAPIC read as zero (nothing implemented there)
      if (!platform.apic) return;
      out.edx = apicId >>> 0;
      const sub = subleaf >>> 0;
      if (sub === 0) {
        out.eax = 0;
        out.ebx = 1;
        out.ecx = (1 << 8) | 0;
      } else if (sub === 1) {
        const n = Math.max(1, platform.logicalProcessors);
        out.eax = n <= 1 ? 0 : 32 - Math.clz32(n - 1); // bits of the x2APIC ID below the package ID
        out.ebx = n & 0xffff;
        out.ecx = (2 << 8) | 1;
      } else {
        out.ecx = sub & 0xff; // level type 0: invalid, EAX = EBX = 0
      }
      return;
    }
    case 0x15:
    case 0x16: {
      // only reachable with tscLeaves (maxBasic 16H); leaves 8H-14H report nothing implemented
      const o = leaf === 0x15 ? 0 : 4;
      out.eax = tsc![o]! >>> 0;
      out.ebx = tsc![o + 1]! >>> 0;
      out.ecx = tsc![o + 2]! >>> 0;
      out.edx = tsc![o + 3]! >>> 0;
      return;
    }
    default:
      return;
  }
}
