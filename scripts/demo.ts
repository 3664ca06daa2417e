/**
 * `npm run demo`: the memory model on a real scenario (until the CPU runs guests).
 *
 * 1. An 8 GiB PC guest: RAM below 3 GiB, the PCI hole, RAM from 4 GiB; a 128 KiB boot ROM at the top of
 *    4 GiB aliased below 1 MiB (0xE0000), mapped read/execute. Nothing is allocated until touched.
 * 2. EPT with emulated A/D bits (bhyve's scheme): the first touch of a page faults and is resolved.
 * 3. 4-level guest paging built in guest RAM; a walk through EPT, then a #PF and an EPT violation.
 * 4. A dirty-log harvest.
 */
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE } from '../src/arch/ept.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE } from '../src/arch/paging.js';
import { TRANSLATE_EPT_VIOLATION, TRANSLATE_OK, TRANSLATE_PAGE_FAULT } from '../src/memory/ept.js';
import { GuestMemory, mapPcMemory } from '../src/memory/guest-memory.js';
import { GuestPaging, GuestTranslation, PAGING_USER, PagingContext } from '../src/memory/guest-paging.js';

const hex = (n: number | bigint) => '0x' + n.toString(16);
const GiB = 2 ** 30;
const STATUS = ['ok', 'EPT violation', 'EPT misconfiguration', 'page fault'];

const gm = new GuestMemory({ adMode: 'emulated' });
const { lowSize, highSize } = mapPcMemory(gm, 8 * GiB);
gm.unmap(0xe0000, 0x20000); // the legacy BIOS window is ROM, not RAM
const rom = gm.createSegment('bootrom', 0x20000, { kind: 'devmem' });
gm.map(2 ** 32 - 0x20000, rom, 0, 0x20000, { prot: 'rx' });
gm.map(0xe0000, rom, 0, 0x20000, { prot: 'rx' });
console.log(`guest memory: ${lowSize / GiB} GiB below 3 GiB + ${highSize / GiB} GiB from 4 GiB, host bytes allocated: ${gm.host.allocatedBytes}`);
for (const m of gm.mappings) console.log(`  GPA ${hex(m.gpa).padStart(12)} +${hex(m.size).padEnd(12)} ${m.segment.name.padEnd(8)} @${hex(m.segmentOffset).padEnd(10)} perms ${'r'.repeat(m.perms & 1)}${'w'.repeat((m.perms >> 1) & 1)}${'x'.repeat((m.perms >> 2) & 1)}`);
console.log(`EPT table pages: ${gm.ept.tablePages} (1 GiB and 2 MiB leaves where alignment allows)`);

// The loader writes the reset vector through the top-of-4-GiB mapping; the alias shows it at 0xFFFF0.
gm.write(2 ** 32 - 16, new Uint8Array([0xea, 0x5b, 0xe0, 0x00, 0xf0]));
console.log(`reset vector via alias 0xFFFF0: ${[...gm.read(0xffff0, new Uint8Array(5))].map((b) => b.toString(16)).join(' ')}`);

// 4-level paging: PML4 at 0x1000 .. PT at 0x4000, mapping linear 0x400000 -> GPA 0x1_0000_0000 (high RAM).
gm.writeU64(0x1000, 0x2000n | 7n);
gm.writeU64(0x2000, 0x3000n | 7n);
gm.writeU64(0x3000 + 2 * 8, 0x4000n | 7n);
gm.writeU64(0x4000, 0x1_0000_0000n | 3n); // present, writable, supervisor
const ctx = new PagingContext();
ctx.cr0 = CR0_PE | CR0_PG | CR0_WP;
ctx.cr4 = CR4_PAE;
ctx.efer = EFER_LME | EFER_LMA | EFER_NXE;
ctx.cr3Lo = 0x1000;
const paging = new GuestPaging(gm.ept);
const out = new GuestTranslation();

function access(la: number, kind: number, what: string): void {
  for (;;) {
    const st = paging.translate(la, 0, kind, ctx, out);
    if (st === TRANSLATE_EPT_VIOLATION && out.ept.emulatedAD && gm.ept.resolveEmulatedAD(out.ept.gpa, (out.ept.qualification & 2) !== 0)) {
      console.log(`  ${what}: emulated A/D fault at GPA ${hex(out.ept.gpa)} (qualification ${hex(out.ept.qualification)}), resolved, restart`);
      continue;
    }
    let detail = '';
    if (st === TRANSLATE_OK) detail = `GPA ${hex(out.gpa)} -> host chunk ${out.chunk} offset ${hex(out.offset)}`;
    else if (st === TRANSLATE_PAGE_FAULT) detail = `#PF error code ${hex(out.errorCode)} at ${hex(out.linearLo)}`;
    else detail = `GPA ${hex(out.ept.gpa)} qualification ${hex(out.ept.qualification)} (bits: ${out.ept.qualification & 0x100 ? 'final translation' : 'paging structure'})`;
    console.log(`  ${what}: ${STATUS[st]}, ${detail}`);
    return;
  }
}

console.log('guest-paging walks (every table read is an EPT access):');
access(0x400123, ACCESS_WRITE, 'supervisor write 0x400123');
console.log(`  guest PTE after the write: ${hex(gm.readU64(0x4000))} (A and D set by the walk)`);
access(0x400123, ACCESS_READ | PAGING_USER, 'user read 0x400123');
access(0x401000, ACCESS_READ, 'read 0x401000 (PTE not present)');
gm.writeU64(0x4008, 0xc000_0000n | 3n); // a PTE pointing into the PCI hole
access(0x401000, ACCESS_READ, 'read 0x401000 (-> PCI hole)');
gm.writeU64(0x4010, 0xffff0n | 1n);
access(0x402000, ACCESS_FETCH, 'fetch 0x402000 (-> boot ROM alias)');
access(0x402000, ACCESS_WRITE, 'write 0x402000 (guest PTE read-only, WP=1)');
console.log(`emulated A/D faults resolved: ${gm.ept.adFaults}; EPT generation ${gm.generation}`);

const log = gm.getDirtyLog(0, 0x10000);
const dirty: string[] = [];
log.forEach((b, i) => {
  for (let j = 0; j < 8; j++) if (b & (1 << j)) dirty.push(hex((i * 8 + j) * 4096));
});
console.log(`dirty pages in the first 64 KiB: ${dirty.join(', ')}`);
console.log(`high-RAM page 0x100000000 dirty (guest write): ${(gm.getDirtyLog(2 ** 32, 0x1000)[0]! & 1) === 1}`);
console.log(`host bytes allocated after all that: ${gm.host.allocatedBytes} (chunk ${gm.host.chunkSize} bytes)`);
