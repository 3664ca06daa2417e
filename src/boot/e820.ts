/**
 * The BIOS memory map (ACPI 6.5 §15, "System Address Map Interfaces", INT 15h E820h) for a
 * machine with `ramBytes` of RAM starting at 0: conventional memory below the EBDA, the EBDA and
 * the BIOS area reserved, RAM from 1 MiB up to the RAM size (below the 32-bit PCI hole at 3 GiB; RAM
 * above 3 GiB continues at 4 GiB, as bhyve lays it out and memory.mapPcMemory maps it).
 */

/** E820 address range types (ACPI 6.5 Table 15.312). */
export const E820 = { RAM: 1, RESERVED: 2, ACPI: 3, NVS: 4, UNUSABLE: 5 } as const;

export interface E820Entry {
  base: number;
  length: number;
  type: number;
}

/** Start of the extended BIOS data area reserved at the top of conventional memory (639 KiB). */
export const EBDA_START = 0x9_fc00;
/** The 32-bit PCI/MMIO hole starts here; RAM beyond it is relocated above 4 GiB. */
export const LOW_RAM_LIMIT = 0xc000_0000;

export function e820Map(ramBytes: number): E820Entry[] {
  const map: E820Entry[] = [
    { base: 0, length: Math.min(EBDA_START, ramBytes), type: E820.RAM },
  ];
  if (ramBytes > EBDA_START) {
    map.push({ base: EBDA_START, length: 0xa_0000 - EBDA_START, type: E820.RESERVED });
    // System BIOS area 0xF0000-0xFFFFF (the reset-vector ROM alias).
    map.push({ base: 0xf_0000, length: 0x1_0000, type: E820.RESERVED });
  }
  if (ramBytes > 0x10_0000) {
    const low = Math.min(ramBytes, LOW_RAM_LIMIT);
    map.push({ base: 0x10_0000, length: low - 0x10_0000, type: E820.RAM });
    if (ramBytes > LOW_RAM_LIMIT) {
      map.push({ base: 0x1_0000_0000, length: ramBytes - LOW_RAM_LIMIT, type: E820.RAM });
    }
  }
  return map;
}
