/**
 * Memory-model figures: EPT walks per second, guest-paging walks per second (4-level, every table
 * read through EPT), and guest-physical read/write throughput of the monitor helpers.
 */
import { ACCESS_READ, ACCESS_WRITE } from '../src/arch/ept.js';
import { CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME } from '../src/arch/paging.js';
import { EptTranslation, TRANSLATE_OK } from '../src/memory/ept.js';
import { GuestMemory } from '../src/memory/guest-memory.js';
import { GuestPaging, GuestTranslation, PagingContext } from '../src/memory/guest-paging.js';
import { measure, report } from './util.js';

export function run(): void {
  const gm = new GuestMemory({ adMode: 'hardware' });
  const seg = gm.createSegment('ram', 256 << 20);
  gm.map(0, seg, 0, 256 << 20, { maxPageSize: 4096 }); // 4 KiB leaves: full four-level walks
  const out = new EptTranslation();
  const pages = (256 << 20) / 4096;
  let sink = 0;
  const ept = measure((n) => {
    for (let i = 0; i < n; i++) {
      const gpa = ((i * 2654435761) % pages) * 4096 + (i & 0xfff);
      if (gm.ept.translate(gpa, ACCESS_READ, out) === TRANSLATE_OK) sink += out.offset;
    }
  });
  report('memory.ept_walks_4k', ept / 1e6, 'M walks/s');

  // 4-level guest paging identity-mapping the first 64 MiB with 4 KiB pages (tables at 16 MiB).
  const base = 16 << 20;
  gm.writeU64(base, BigInt(base + 0x1000) | 7n);
  gm.writeU64(base + 0x1000, BigInt(base + 0x2000) | 7n);
  for (let d = 0; d < 32; d++) {
    const pt = base + 0x3000 + d * 0x1000;
    gm.writeU64(base + 0x2000 + d * 8, BigInt(pt) | 7n);
    for (let e = 0; e < 512; e++) gm.writeU64(pt + e * 8, BigInt((d * 512 + e) * 4096) | 0x67n); // P RW US A D
  }
  const ctx = new PagingContext();
  ctx.cr0 = CR0_PE | CR0_PG;
  ctx.cr4 = CR4_PAE;
  ctx.efer = EFER_LME | EFER_LMA;
  ctx.cr3Lo = base;
  const paging = new GuestPaging(gm.ept);
  const gt = new GuestTranslation();
  const gpages = (64 << 20) / 4096;
  const walks = measure((n) => {
    for (let i = 0; i < n; i++) {
      const la = ((i * 2654435761) % gpages) * 4096;
      if (paging.translate(la, 0, ACCESS_WRITE, ctx, gt) === TRANSLATE_OK) sink += gt.offset;
    }
  });
  report('memory.guest_paging_walks_4level', walks / 1e6, 'M walks/s');

  const buf = new Uint8Array(1 << 20);
  const rd = measure((n) => {
    for (let i = 0; i < n; i++) gm.read((i % 200) << 20, buf);
  });
  report('memory.gpa_read', rd, 'MB/s');
  const wr = measure((n) => {
    for (let i = 0; i < n; i++) gm.write((i % 200) << 20, buf);
  });
  report('memory.gpa_write', wr, 'MB/s');

  const c = gm.ept.translate(0x5000, ACCESS_READ, out) === TRANSLATE_OK ? out.chunk : 0;
  const acc = measure((n) => {
    for (let i = 0; i < n; i++) sink += gm.host.read32(c, (i << 2) & 0xffc);
  });
  report('memory.host_read32_after_tlb_hit', acc / 1e6, 'M reads/s');
  if (sink === 0.5) console.log(sink);
}
