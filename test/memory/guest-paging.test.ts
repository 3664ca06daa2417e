import { describe, expect, it } from 'vitest';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, MEMTYPE_UC, MEMTYPE_WB, MEMTYPE_WT } from '../../src/arch/ept.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_LA57, CR4_PAE, CR4_PCIDE, CR4_PGE, CR4_PKE, CR4_PSE, CR4_SMAP, CR4_SMEP, EFER_LMA, EFER_LME, EFER_NXE } from '../../src/arch/paging.js';
import { TRANSLATE_EPT_VIOLATION, TRANSLATE_OK, TRANSLATE_PAGE_FAULT, type AdMode } from '../../src/memory/ept.js';
import {
  GuestPaging,
  GuestTranslation,
  PAGING_AC,
  PAGING_IMPLICIT_SUPERVISOR,
  PAGING_PROBE,
  PAGING_USER,
  PTE_FLAG_EXEC,
  PTE_FLAG_GLOBAL,
  PTE_FLAG_USER,
  PTE_FLAG_WRITABLE,
  PagingContext,
  TRANSLATE_PDPTE_RESERVED,
} from '../../src/memory/guest-paging.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';

// Entry bits written out from SDM Tables 4-4..4-20 (not imported from the code under test).
const P = 1n, RW = 2n, US = 4n, PWT = 8n, PCD = 16n, A = 32n, D = 64n, PS = 128n, G = 256n, XD = 1n << 63n;

function machine(adMode: AdMode = 'off') {
  const gm = new GuestMemory({ adMode, chunkSize: 1 << 20 });
  const seg = gm.createSegment('ram', 64 << 20);
  gm.map(0, seg, 0, 64 << 20);
  const paging = new GuestPaging(gm.ept);
  const ctx = new PagingContext();
  const out = new GuestTranslation();
  const w64 = (gpa: number, v: bigint) => gm.writeU64(gpa, v);
  const w32 = (gpa: number, v: number) => gm.writeU32(gpa, v);
  const tr = (la: bigint | number, access: number) => {
    const v = BigInt(la);
    return paging.translate(Number(v & 0xffffffffn), Number(v >> 32n), access, ctx, out);
  };
  return { gm, paging, ctx, out, w64, w32, tr };
}

/** 4-level tables at 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD), 0x4000 (PT) mapping la 0x400000 -> 0x800000. */
function long4(m: ReturnType<typeof machine>, leafBits = P | RW | US, upper = P | RW | US) {
  m.w64(0x1000, 0x2000n | upper);
  m.w64(0x2000, 0x3000n | upper);
  m.w64(0x3000 + 2 * 8, 0x4000n | upper); // PD index 2 = la 0x400000
  m.w64(0x4000, 0x800000n | leafBits);
  m.ctx.cr0 = CR0_PE | CR0_PG | CR0_WP;
  m.ctx.cr4 = CR4_PAE;
  m.ctx.efer = EFER_LME | EFER_LMA | EFER_NXE;
  m.ctx.cr3Lo = 0x1000;
}

describe('paging disabled', () => {
  it('linear equals guest-physical and everything is allowed', () => {
    const m = machine();
    expect(m.tr(0x123456, ACCESS_WRITE | PAGING_USER)).toBe(TRANSLATE_OK);
    expect(m.out.gpa).toBe(0x123456);
  });
  it('an unmapped GPA is an EPT violation on the final translation', () => {
    const m = machine();
    expect(m.tr(0x8000000, ACCESS_READ)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(m.out.ept.qualification & 0x181).toBe(0x181);
  });
});

describe('32-bit paging (SDM 4.3)', () => {
  function setup32() {
    const m = machine();
    m.w32(0x1000 + 1 * 4, 0x2000 | 7); // PDE 1 -> PT at 0x2000 (la 0x400000..)
    m.w32(0x2000 + 5 * 4, 0x7000 | 7); // PTE 5 -> 0x7000
    m.ctx.cr0 = CR0_PE | CR0_PG;
    m.ctx.cr3Lo = 0x1000;
    return m;
  }
  it('translates through PDE and PTE and sets A and D', () => {
    const m = setup32();
    expect(m.tr(0x405abc, ACCESS_WRITE)).toBe(TRANSLATE_OK);
    expect(m.out.gpa).toBe(0x7abc);
    expect(m.gm.readU32(0x1004) & 0x60).toBe(0x20); // PDE: A only
    expect(m.gm.readU32(0x2014) & 0x60).toBe(0x60); // PTE: A and D
  });
  it('a 4 MiB page needs CR4.PSE; PSE-36 puts bits 20:13 at physical 39:32', () => {
    const m = machine();
    m.w32(0x1000 + 2 * 4, 0x00c00000 | (0x01 << 13) | 0x80 | 7);
    m.ctx.cr0 = CR0_PE | CR0_PG;
    m.ctx.cr3Lo = 0x1000;
    m.ctx.cr4 = CR4_PSE;
    expect(m.tr(0x812345, ACCESS_READ | PAGING_PROBE)).toBe(TRANSLATE_EPT_VIOLATION); // GPA 0x1_00c1_2345 unmapped
    expect(m.out.gpa).toBe(0x1_00c1_2345);
    expect(m.out.pageShift).toBe(22);
    m.w32(0x1000 + 2 * 4, 0x00c00000 | 0x80 | 7);
    expect(m.tr(0x812345, ACCESS_READ)).toBe(TRANSLATE_OK);
    expect(m.out.gpa).toBe(0xc12345);
  });
  it('bit 21 of a 4 MiB PDE is reserved (RSVD fault, P=1)', () => {
    const m = machine();
    m.w32(0x1000 + 2 * 4, 0x00c00000 | (1 << 21) | 0x80 | 7);
    m.ctx.cr0 = CR0_PE | CR0_PG;
    m.ctx.cr3Lo = 0x1000;
    m.ctx.cr4 = CR4_PSE;
    expect(m.tr(0x812345, ACCESS_READ)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.errorCode).toBe(0b1001);
  });
  it('not-present PTE: error code 0 for a supervisor read, 6 for a user write', () => {
    const m = setup32();
    expect(m.tr(0x406000, ACCESS_READ)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.errorCode).toBe(0);
    expect(m.out.linearLo).toBe(0x406000);
    expect(m.tr(0x406000, ACCESS_WRITE | PAGING_USER)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.errorCode).toBe(6);
  });
  it('I/D is not reported for a fetch in 32-bit paging without SMEP', () => {
    const m = setup32();
    m.ctx.efer = EFER_NXE;
    expect(m.tr(0x406000, ACCESS_FETCH)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.errorCode).toBe(0);
    m.ctx.cr4 = CR4_SMEP;
    expect(m.tr(0x406000, ACCESS_FETCH)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.errorCode).toBe(0x10);
  });
});

describe('PAE paging (SDM 4.4)', () => {
  function setupPae() {
    const m = machine();
    m.w64(0x1000 + 8, 0x2000n | P); // PDPTE 1 (la 0x40000000..)
    m.w64(0x2000, 0x3000n | P | RW | US);
    m.w64(0x3000 + 3 * 8, 0x9000n | P | RW | US | XD);
    m.w64(0x2000 + 8, 0x600000n | P | RW | PS); // 2 MiB page at la 0x40200000
    m.ctx.cr0 = CR0_PE | CR0_PG | CR0_WP;
    m.ctx.cr4 = CR4_PAE;
    m.ctx.efer = EFER_NXE;
    m.ctx.cr3Lo = 0x1000;
    expect(m.paging.loadPdptes(m.ctx, m.out)).toBe(TRANSLATE_OK);
    return m;
  }
  it('walks from the PDPTE registers', () => {
    const m = setupPae();
    expect(m.tr(0x40003123, ACCESS_READ | PAGING_USER)).toBe(TRANSLATE_OK);
    expect(m.out.gpa).toBe(0x9123);
    expect(m.out.flags & 7).toBe(PTE_FLAG_WRITABLE | PTE_FLAG_USER);
    expect(m.tr(0x40234567, ACCESS_READ)).toBe(TRANSLATE_OK);
    expect(m.out.gpa).toBe(0x634567);
    expect(m.out.pageShift).toBe(21);
  });
  it('XD with NXE: a fetch faults with P and I/D', () => {
    const m = setupPae();
    expect(m.tr(0x40003000, ACCESS_FETCH)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.errorCode).toBe(0x11);
  });
  it('XD without NXE is a reserved bit', () => {
    const m = setupPae();
    m.ctx.efer = 0;
    expect(m.tr(0x40003000, ACCESS_READ)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.errorCode).toBe(0x9);
  });
  it('a not-present PDPTE register faults without reading memory', () => {
    const m = setupPae();
    expect(m.tr(0x80000000, ACCESS_WRITE)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.errorCode).toBe(2);
  });
  it('a PDPTE with reserved bits 2:1 set makes the load fail (#GP)', () => {
    const m = setupPae();
    m.w64(0x1000 + 16, 0x2000n | P | RW);
    expect(m.paging.loadPdptes(m.ctx, m.out)).toBe(TRANSLATE_PDPTE_RESERVED);
  });
  it('a PDPTE load from an unmapped GPA is an EPT violation without a linear address', () => {
    const m = setupPae();
    m.ctx.cr3Lo = 0x8000000;
    expect(m.paging.loadPdptes(m.ctx, m.out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(m.out.ept.qualification & 0x180).toBe(0);
  });
});

describe('4-level and 5-level paging (SDM 4.5)', () => {
  it('4 KiB, 2 MiB and 1 GiB leaves', () => {
    const m = machine();
    long4(m);
    expect(m.tr(0x400abc, ACCESS_READ)).toBe(TRANSLATE_OK);
    expect(m.out.gpa).toBe(0x800abc);
    m.w64(0x3000 + 3 * 8, 0x1200000n | P | RW | PS); // 2 MiB at la 0x600000
    expect(m.tr(0x6abcde, ACCESS_READ)).toBe(TRANSLATE_OK);
    expect(m.out.gpa).toBe(0x12abcde);
    expect(m.out.pageShift).toBe(21);
    m.w64(0x2000 + 8, 0n | P | RW | PS); // 1 GiB at la 0x40000000 -> 0
    expect(m.tr(0x40123456, ACCESS_READ)).toBe(TRANSLATE_OK);
    expect(m.out.gpa).toBe(0x123456);
    expect(m.out.pageShift).toBe(30);
  });
  it('bits 47:39 index the PML4 (the upper half of a canonical address)', () => {
    const m = machine();
    long4(m);
    m.w64(0x1000 + 511 * 8, 0x2000n | P | RW);
    expect(m.tr(0xffff_ff80_0040_0123n, ACCESS_READ)).toBe(TRANSLATE_OK);
    expect(m.out.gpa).toBe(0x800123);
  });
  it('PS in a PML4E is reserved; bits 20:13 of a 2 MiB PDE are reserved; bit 51 above MAXPHYADDR is reserved', () => {
    const m = machine();
    long4(m);
    m.w64(0x1000, 0x2000n | P | RW | PS);
    expect(m.tr(0x400000, ACCESS_READ | PAGING_USER)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.errorCode).toBe(0b1101);
    long4(m);
    m.w64(0x3000 + 2 * 8, 0x1200000n | (1n << 13n) | P | PS);
    expect(m.tr(0x400000, ACCESS_READ)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.errorCode).toBe(0b1001);
    long4(m);
    m.w64(0x4000, 0x800000n | (1n << 51n) | P);
    expect(m.tr(0x400000, ACCESS_READ)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.errorCode).toBe(0b1001);
  });
  it('5-level paging adds the PML5 (bits 56:48)', () => {
    const m = machine();
    long4(m);
    m.w64(0x5000 + 1 * 8, 0x1000n | P | RW | US); // PML5 index 1 -> PML4 at 0x1000
    m.ctx.cr4 = CR4_PAE | CR4_LA57;
    m.ctx.cr3Lo = 0x5000;
    expect(m.tr(0x0001_0000_0040_0010n, ACCESS_READ)).toBe(TRANSLATE_OK);
    expect(m.out.gpa).toBe(0x800010);
    expect(m.tr(0x0040_0010, ACCESS_READ)).toBe(TRANSLATE_PAGE_FAULT);
  });
  it('accessed flags on every level and dirty on the leaf for a write (SDM 4.8)', () => {
    const m = machine();
    long4(m);
    m.tr(0x400000, ACCESS_WRITE);
    for (const a of [0x1000, 0x2000, 0x3010]) expect(m.gm.readU64(a) & (A | D)).toBe(A);
    expect(m.gm.readU64(0x4000) & (A | D)).toBe(A | D);
  });
  it('a probe sets no flags', () => {
    const m = machine();
    long4(m);
    m.tr(0x400000, ACCESS_WRITE | PAGING_PROBE);
    expect(m.gm.readU64(0x4000) & (A | D)).toBe(0n);
  });
  it('global pages need CR4.PGE; PCID comes from CR3[11:0] with CR4.PCIDE', () => {
    const m = machine();
    long4(m, P | RW | G);
    m.ctx.cr3Lo = 0x1000 | 0x5a;
    m.tr(0x400000, ACCESS_READ);
    expect(m.out.flags & PTE_FLAG_GLOBAL).toBe(0);
    expect(m.out.pcid).toBe(0);
    m.ctx.cr4 |= CR4_PGE | CR4_PCIDE;
    m.tr(0x400000, ACCESS_READ);
    expect(m.out.flags & PTE_FLAG_GLOBAL).toBe(PTE_FLAG_GLOBAL);
    expect(m.out.pcid).toBe(0x5a);
  });
  it('memory type: the guest PAT index combines with the EPT type when ignore-PAT is clear', () => {
    const gm = new GuestMemory({ adMode: 'off' });
    const seg = gm.createSegment('ram', 16 << 20);
    gm.map(0, seg, 0, 16 << 20, { ignorePat: false, memoryType: MEMTYPE_WB });
    const paging = new GuestPaging(gm.ept);
    gm.writeU64(0x1000, 0x2000n | P | RW);
    gm.writeU64(0x2000, 0x3000n | P | RW);
    gm.writeU64(0x3010, 0x4000n | P | RW);
    gm.writeU64(0x4000, 0x800000n | P | PCD | PWT); // PAT entry 3 = UC after reset
    gm.writeU64(0x4008, 0x801000n | P | PWT); // PAT entry 1 = WT
    const ctx = new PagingContext();
    ctx.cr0 = CR0_PE | CR0_PG;
    ctx.cr4 = CR4_PAE;
    ctx.efer = EFER_LMA;
    ctx.cr3Lo = 0x1000;
    const out = new GuestTranslation();
    expect(paging.translate(0x400000, 0, ACCESS_READ, ctx, out)).toBe(TRANSLATE_OK);
    expect(out.patIndex).toBe(3);
    expect(out.memoryType).toBe(MEMTYPE_UC);
    paging.translate(0x401000, 0, ACCESS_READ, ctx, out);
    expect(out.memoryType).toBe(MEMTYPE_WT);
  });
});

describe('access rights and #PF error codes (SDM 4.6, 4.7)', () => {
  const cases: [string, bigint, number, (m: ReturnType<typeof machine>) => void, number | 'ok'][] = [
    ['user read of a supervisor page', P | RW, ACCESS_READ | PAGING_USER, () => {}, 0b101],
    ['user write of a read-only user page', P | US, ACCESS_WRITE | PAGING_USER, () => {}, 0b111],
    ['supervisor write of a read-only page with CR0.WP', P, ACCESS_WRITE, () => {}, 0b011],
    ['supervisor write of a read-only page without CR0.WP', P, ACCESS_WRITE, (m) => (m.ctx.cr0 &= ~CR0_WP), 'ok'],
    ['user fetch of an XD page', P | US | XD, ACCESS_FETCH | PAGING_USER, () => {}, 0b10101],
    ['supervisor fetch of a user page with SMEP', P | US, ACCESS_FETCH, (m) => (m.ctx.cr4 |= CR4_SMEP), 0b10001],
    ['supervisor fetch of a user page without SMEP', P | US, ACCESS_FETCH, () => {}, 'ok'],
    ['supervisor read of a user page with SMAP and AC=0', P | US, ACCESS_READ, (m) => (m.ctx.cr4 |= CR4_SMAP), 0b001],
    ['supervisor read of a user page with SMAP and AC=1', P | US, ACCESS_READ | PAGING_AC, (m) => (m.ctx.cr4 |= CR4_SMAP), 'ok'],
    ['implicit supervisor read of a user page with SMAP, even with AC=1', P | US, ACCESS_READ | PAGING_AC | PAGING_IMPLICIT_SUPERVISOR, (m) => (m.ctx.cr4 |= CR4_SMAP), 0b001],
    ['implicit supervisor access at CPL 3 reports U/S = 0', P, ACCESS_WRITE | PAGING_USER | PAGING_IMPLICIT_SUPERVISOR, () => {}, 0b011],
    ['supervisor write of a user read-only page with WP=0 and no SMAP', P | US, ACCESS_WRITE, (m) => (m.ctx.cr0 &= ~CR0_WP), 'ok'],
    ['PKRU.AD for the page key denies a user read', P | US | (3n << 59n), ACCESS_READ | PAGING_USER, (m) => { m.ctx.cr4 |= CR4_PKE; m.ctx.pkru = 1 << 6; }, 0b100101],
    ['PKRU.WD for the page key denies a user write', P | RW | US | (3n << 59n), ACCESS_WRITE | PAGING_USER, (m) => { m.ctx.cr4 |= CR4_PKE; m.ctx.pkru = 2 << 6; }, 0b100111],
    ['PKRU does not apply to fetches', P | US | (3n << 59n), ACCESS_FETCH | PAGING_USER, (m) => { m.ctx.cr4 |= CR4_PKE; m.ctx.pkru = 3 << 6; }, 'ok'],
  ];
  it.each(cases)('%s', (_name, leaf, access, tweak, expected) => {
    const m = machine();
    long4(m, leaf);
    tweak(m);
    const st = m.tr(0x400000, access);
    if (expected === 'ok') expect(st).toBe(TRANSLATE_OK);
    else {
      expect(st).toBe(TRANSLATE_PAGE_FAULT);
      expect(m.out.errorCode).toBe(expected);
    }
  });
  it('R/W and U/S are the AND over all levels; XD the OR', () => {
    const m = machine();
    long4(m, P | RW | US, P | US);
    m.w64(0x2000, 0x3000n | P | RW | US | XD);
    expect(m.tr(0x400000, ACCESS_READ)).toBe(TRANSLATE_OK);
    expect(m.out.flags & 7).toBe(PTE_FLAG_USER);
    expect(m.out.flags & PTE_FLAG_EXEC).toBe(0);
  });
  it('no A/D flags are written when the access faults', () => {
    const m = machine();
    long4(m, P | US);
    m.tr(0x400000, ACCESS_WRITE | PAGING_USER);
    expect(m.gm.readU64(0x4000) & (A | D)).toBe(0n);
  });
});

describe('guest paging through EPT', () => {
  it('a paging-structure read that EPT does not map is an EPT violation with bit 7 set and bit 8 clear', () => {
    const m = machine();
    long4(m);
    m.gm.unmap(0x3000, 0x1000);
    expect(m.tr(0x400000, ACCESS_READ)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(m.out.ept.gpa).toBe(0x3010);
    expect(m.out.ept.qualification).toBe(0x1 | 0x80);
  });
  it('the A/D write to a read-only guest table is an EPT write violation on a paging structure', () => {
    const m = machine();
    long4(m);
    m.gm.protect(0x4000, 0x1000, 'r');
    expect(m.tr(0x400000, ACCESS_READ)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(m.out.ept.gpa).toBe(0x4000);
    expect(m.out.ept.qualification).toBe(0x2 | 0x8 | 0x80);
  });
  it('the final access is checked against EPT (final translation: bits 7 and 8)', () => {
    const m = machine();
    long4(m);
    m.gm.protect(0x800000, 0x1000, 'rw');
    expect(m.tr(0x400000, ACCESS_FETCH)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(m.out.ept.qualification).toBe(0x4 | 0x8 | 0x10 | 0x180);
    expect(m.out.gpa).toBe(0x800000);
  });
  it('hardware EPT A/D: guest table reads set EPT dirty on the table page', () => {
    const m = machine('hardware');
    long4(m);
    expect(m.gm.ept.readEntry(0x4000, 2) & 0x300n).toBe(0n);
    m.tr(0x400000, ACCESS_READ);
    // RAM is mapped with 2 MiB EPT leaves: the leaf covering the table page is at level 2
    expect(m.gm.ept.readEntry(0x4000, 2) & 0x300n).toBe(0x300n);
  });
});

describe('copy in/out of guest-linear ranges', () => {
  it('copies across a page boundary and faults without copying anything', () => {
    const m = machine('emulated');
    long4(m);
    m.w64(0x4008, 0x900000n | P | RW); // la 0x401000 -> 0x900000
    const src = new Uint8Array(32).map((_, i) => i + 1);
    expect(m.paging.copyToLinear(0x400ff0, 0, 0, m.ctx, src, m.out)).toBe(TRANSLATE_OK);
    expect([...m.gm.read(0x800ff0, new Uint8Array(16))]).toEqual([...src.subarray(0, 16)]);
    expect([...m.gm.read(0x900000, new Uint8Array(16))]).toEqual([...src.subarray(16)]);
    const back = new Uint8Array(32);
    expect(m.paging.copyFromLinear(0x400ff0, 0, 0, m.ctx, back, m.out)).toBe(TRANSLATE_OK);
    expect([...back]).toEqual([...src]);
    const none = new Uint8Array(32);
    expect(m.paging.copyToLinear(0x401ff0, 0, 0, m.ctx, src, m.out)).toBe(TRANSLATE_PAGE_FAULT);
    expect(m.out.linearLo).toBe(0x402000);
    expect([...m.gm.read(0x901ff0, none.subarray(0, 16))]).toEqual(new Array(16).fill(0));
    expect(m.gm.ept.adFaults).toBeGreaterThan(0);
  });
});
