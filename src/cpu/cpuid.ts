/**
 * The CPUID model of the integer core (SDM Vol. 2A CPUID, Tables 3-8 .. 3-20). One coherent model:
 * every feature bit set here is implemented by src/cpu; nothing else is advertised. The system issue
 * extends it (APIC, MSR, SYSCALL, NX, paging features) as it implements them.
 */

export const VENDOR = 'GenuineIntel';

/** Leaf 1 EDX bits we implement (Table 3-11). */
export const CPUID1_EDX_TSC = 1 << 4;
export const CPUID1_EDX_CX8 = 1 << 8;
export const CPUID1_EDX_CMOV = 1 << 15;
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
export function cpuidModel(leaf: number, subleaf: number, apicId: number, out: CpuidResult): void {
  leaf >>>= 0;
  out.eax = out.ebx = out.ecx = out.edx = 0;
  if (leaf > 0x7 && leaf < 0x80000000) leaf = 0x7;
  if (leaf > 0x80000008) leaf = 0x7;
  switch (leaf) {
    case 0:
      out.eax = 0x7;
      out.ebx = str4(VENDOR, 0);
      out.edx = str4(VENDOR, 4);
      out.ecx = str4(VENDOR, 8);
      return;
    case 1:
      // family 6, model 0x3A-like signature; stepping 9
      out.eax = 0x000306a9;
      out.ebx = ((apicId & 0xff) << 24) | (1 << 16) | (8 << 8);
      out.ecx = CPUID1_ECX_CX16 | CPUID1_ECX_MOVBE | CPUID1_ECX_POPCNT;
      out.edx = CPUID1_EDX_TSC | CPUID1_EDX_CX8 | CPUID1_EDX_CMOV;
      return;
    case 7:
      // subleaf 0: EAX = max subleaf 0; no structured extended features advertised yet
      return;
    case 0x80000000:
      out.eax = 0x80000008;
      return;
    case 0x80000001:
      out.ecx = EXT1_ECX_LAHF | EXT1_ECX_LZCNT;
      out.edx = EXT1_EDX_LM | EXT1_EDX_RDTSCP;
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
    case 0x80000008:
      out.eax = 0x3028; // 48 linear, 40 physical address bits
      return;
    default:
      return;
  }
}
