/** CPUID leaf 0BH as a guest of a multi-vCPU machine sees it (SDM Vol. 2A CPUID, Table 3-8). */
import { describe, it } from 'vitest';
import { TestGuest, HARNESS_PORTS } from '../../src/testing.js';

describe('CPUID leaf 0BH on a machine', () => {
  it('reports the machine\'s vCPU count at the core level and the vCPU\'s APIC ID', () => {
    const SYNC = [0x66, 0xba, HARNESS_PORTS.SYNC & 0xff, HARNESS_PORTS.SYNC >> 8, 0xef];
    // mov eax, 0xb; mov ecx, 1; cpuid; mov esi, edx; mov eax, ebx; SYNC; mov eax, esi; SYNC
    const code = [0xb8, 0x0b, 0, 0, 0, 0xb9, 1, 0, 0, 0, 0x0f, 0xa2, 0x89, 0xd6, 0x89, 0xd8, ...SYNC, 0x89, 0xf0, ...SYNC];
    const g = TestGuest.flat(code, { mode: 'long', vcpus: 3 });
    g.expectSync(3);
    g.expectSync(0);
  });
});
