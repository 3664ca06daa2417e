import { describe, expect, it } from 'vitest';
import { planFlat } from '../../src/boot/flat.js';
import { planElf, parseElf } from '../../src/boot/elf.js';
import { planMultiboot, findMultibootHeader } from '../../src/boot/multiboot.js';
import { planImage } from '../../src/boot/image.js';
import type { BootPlan } from '../../src/boot/plan.js';
import { InvalidArgumentError } from '../../src/util/errors.js';
import { buildElf, multibootHeader } from './elf-builder.js';

/** Flattens a plan's writes into a sparse byte map so tests can read guest memory as a loader left it. */
function memoryOf(plan: BootPlan): (gpa: number, len: number) => Uint8Array {
  return (gpa, len) => {
    const out = new Uint8Array(len);
    for (const w of plan.writes) {
      for (let i = 0; i < len; i++) {
        const off = gpa + i - w.gpa;
        if (off >= 0 && off < w.bytes.length) out[i] = w.bytes[off]!;
      }
    }
    return out;
  };
}
const u32 = (b: Uint8Array, o = 0): number => new DataView(b.buffer, b.byteOffset).getUint32(o, true);
const cstr = (read: (g: number, l: number) => Uint8Array, gpa: number): string => {
  const b = read(gpa, 256);
  return new TextDecoder().decode(b.subarray(0, b.indexOf(0)));
};

/** Decodes a segment descriptor per SDM Vol. 3A Figure 3-8. */
function descriptor(b: Uint8Array): { base: number; limit: number; type: number; s: number; p: number; l: number; db: number; g: number } {
  const lo = u32(b, 0);
  const hi = u32(b, 4);
  return {
    limit: (lo & 0xffff) | (hi & 0xf_0000),
    base: ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff00_0000)) >>> 0,
    type: (hi >>> 8) & 0xf,
    s: (hi >>> 12) & 1,
    p: (hi >>> 15) & 1,
    l: (hi >>> 21) & 1,
    db: (hi >>> 22) & 1,
    g: (hi >>> 23) & 1,
  };
}

describe('flat loader', () => {
  it('starts a real-mode boot sector at 0000:7C00 with the image at 0x7C00', () => {
    const plan = planFlat(new Uint8Array([0xf4]), { mode: 'real' });
    expect(plan.sregs.cs.selector).toBe(0);
    expect(plan.sregs.cs.base).toBe(0n);
    expect(plan.regs.rip).toBe(0x7c00n);
    expect(plan.sregs.cr0 & 1n).toBe(0n);
    expect(memoryOf(plan)(0x7c00, 1)[0]).toBe(0xf4);
  });

  it('enters a real-mode image above 64 KiB through a segment whose base is the 64-KiB block', () => {
    const plan = planFlat(new Uint8Array(16), { mode: 'real', loadAddress: 0x1_2340 });
    expect(plan.sregs.cs.selector).toBe(0x1000);
    expect(plan.sregs.cs.base).toBe(0x1_0000n);
    expect(plan.regs.rip).toBe(0x2340n);
  });

  it('rejects a real-mode image that does not fit below 1 MiB', () => {
    expect(() => planFlat(new Uint8Array(0x100), { mode: 'real', loadAddress: 0xfff80 })).toThrow(InvalidArgumentError);
  });

  it('builds a flat 32-bit protected-mode GDT: code 0x08 and data 0x10 with base 0 and a 4-GiB limit', () => {
    const plan = planFlat(new Uint8Array([0x90]), { mode: 'protected' });
    const read = memoryOf(plan);
    const gdtBase = Number(plan.sregs.gdt.base);
    expect(plan.sregs.gdt.limit + 1).toBeGreaterThanOrEqual(0x18);
    const code = descriptor(read(gdtBase + plan.sregs.cs.selector, 8));
    expect(code).toMatchObject({ base: 0, limit: 0xfffff, g: 1, db: 1, l: 0, s: 1, p: 1 });
    expect(code.type & 0x8).toBe(8); // code segment
    const data = descriptor(read(gdtBase + plan.sregs.ds.selector, 8));
    expect(data).toMatchObject({ base: 0, limit: 0xfffff, g: 1, s: 1, p: 1 });
    expect(data.type & 0xa).toBe(0x2); // data, writable
    expect(plan.sregs.cr0 & 0x8000_0001n).toBe(1n); // PE, no PG
    expect(plan.sregs.cs.limit).toBe(0xffff_ffff);
    expect(plan.regs.rip).toBe(0x1_0000n);
  });

  it('enters long mode with PAE, LME/LMA, paging on and a 64-bit code segment from the GDT', () => {
    const plan = planFlat(new Uint8Array([0x90]), { mode: 'long' });
    const read = memoryOf(plan);
    expect(plan.sregs.cr0 & 0x8000_0001n).toBe(0x8000_0001n);
    expect(plan.sregs.cr4 & 0x20n).toBe(0x20n);
    expect(plan.sregs.efer & 0x500n).toBe(0x500n);
    const code = descriptor(read(Number(plan.sregs.gdt.base) + plan.sregs.cs.selector, 8));
    expect(code.l).toBe(1);
    expect(code.db).toBe(0); // L=1 requires D=0 (SDM Vol. 3A §5.2.1)
    expect(plan.sregs.cs.l).toBe(true);
  });

  it('identity-maps the low 4 GiB with 2-MiB pages (PML4 -> PDPT -> PD, PS=1)', () => {
    const plan = planFlat(new Uint8Array([0x90]), { mode: 'long' });
    const read = memoryOf(plan);
    // Walk by hand (SDM Vol. 3A §4.5.4): translate a few linear addresses.
    const translate = (linear: number): number => {
      const pml4 = Number(plan.sregs.cr3) & ~0xfff;
      const e4 = u32(read(pml4 + 0 * 8, 8));
      expect(e4 & 1).toBe(1);
      const pdpt = e4 & ~0xfff;
      const e3 = u32(read(pdpt + Math.floor(linear / 2 ** 30) * 8, 8));
      expect(e3 & 0x81).toBe(0x01);
      const pd = e3 & ~0xfff;
      const e2 = u32(read(pd + ((linear >>> 21) & 511) * 8, 8));
      expect(e2 & 0x83).toBe(0x83); // P, RW, PS
      return ((e2 & 0xffe0_0000) >>> 0) + (linear & 0x1f_ffff);
    };
    for (const a of [0, 0x1_0000, 0x20_1234, 0x7fff_ffff, 0xc000_0000, 0xfee0_0000, 0xffff_fff0]) {
      expect(translate(a)).toBe(a);
    }
  });
});

describe('ELF loader', () => {
  it('loads ELF32 PT_LOAD segments at p_paddr and zeroes memsz beyond filesz', () => {
    const image = buildElf({
      cls: 32, machine: 3, entry: 0x10_0010,
      segments: [
        { vaddr: 0x10_0000, paddr: 0x10_0000, data: new Uint8Array([1, 2, 3, 4]), memsz: 4 },
        { vaddr: 0x20_0000, paddr: 0x20_0000, data: new Uint8Array([9, 9]), memsz: 0x10 },
        { vaddr: 0, paddr: 0, data: new Uint8Array([7]), memsz: 1, type: 4 }, // PT_NOTE: ignored
      ],
    });
    const plan = planElf(image);
    const read = memoryOf(plan);
    expect(plan.format).toBe('elf32');
    expect(plan.mode).toBe('protected');
    expect(Array.from(read(0x10_0000, 4))).toEqual([1, 2, 3, 4]);
    expect(Array.from(read(0x20_0000, 0x10))).toEqual([9, 9, ...new Array(14).fill(0)]);
    const bss = plan.writes.find((w) => w.gpa === 0x20_0000)!;
    expect(bss.bytes.length).toBe(0x10);
    expect(plan.regs.rip).toBe(0x10_0010n);
    expect(plan.imageStart).toBe(0x10_0000);
    expect(plan.imageEnd).toBe(0x20_0010);
  });

  it('starts an ELF64 in long mode and translates a higher-half entry through its segment', () => {
    const image = buildElf({
      cls: 64, machine: 62, entry: 0xffff_8000_0010_0020 as unknown as number,
      segments: [{ vaddr: 0x10_0000, paddr: 0x10_0000, data: new Uint8Array(0x40), memsz: 0x40 }],
    });
    // A 64-bit higher-half address cannot be a JS number exactly, so the parser rejects it:
    expect(() => parseElf(image)).toThrow(/beyond 2\^53/);
    const low = buildElf({
      cls: 64, machine: 62, entry: 0x80_0020,
      segments: [{ vaddr: 0x80_0000, paddr: 0x10_0000, data: new Uint8Array(0x40), memsz: 0x1000 }],
    });
    const plan = planElf(low);
    expect(plan.format).toBe('elf64');
    expect(plan.mode).toBe('long');
    expect(plan.regs.rip).toBe(0x10_0020n);
    expect(plan.sregs.efer & 0x400n).toBe(0x400n);
  });

  it('rejects a non-ELF, a non-x86 machine and a segment whose file bytes run past the end', () => {
    expect(() => planElf(new Uint8Array(64))).toThrow(/not ELF/);
    const arm = buildElf({ cls: 32, machine: 40, entry: 0, segments: [{ vaddr: 0x1000, paddr: 0x1000, data: new Uint8Array(4), memsz: 4 }] });
    expect(() => planElf(arm)).toThrow(/e_machine 40/);
    const trunc = buildElf({ cls: 32, machine: 3, entry: 0, segments: [{ vaddr: 0x10_0000, paddr: 0x10_0000, data: new Uint8Array(16), memsz: 16 }] });
    expect(() => planElf(trunc.subarray(0, trunc.length - 4))).toThrow(/past the image end/);
  });

  it('rejects p_filesz larger than p_memsz', () => {
    const img = buildElf({ cls: 32, machine: 3, entry: 0, segments: [{ vaddr: 0x10_0000, paddr: 0x10_0000, data: new Uint8Array(16), memsz: 8 }] });
    expect(() => planElf(img)).toThrow(/exceeds p_memsz/);
  });
});

describe('multiboot v1 loader', () => {
  const RAM = 32 * 1024 * 1024;

  function aoutKernel(pad: number): Uint8Array {
    // Image layout: `pad` bytes of code, then the header, then more code; loaded at 1 MiB.
    const load = 0x10_0000;
    const header = multibootHeader(0x1_0003, {
      header: load + pad, load, loadEnd: load + pad + 32 + 16, bssEnd: load + 0x2000, entry: load + 4,
    });
    const img = new Uint8Array(pad + 32 + 16 + 100); // trailing bytes beyond load_end are not loaded
    img.fill(0xaa, 0, pad);
    img.set(header, pad);
    img.fill(0xbb, pad + 32, pad + 48);
    img.fill(0xcc, pad + 48);
    return img;
  }

  it('finds the header only at a 4-byte-aligned offset inside the first 8192 bytes with a valid checksum', () => {
    const h = multibootHeader(0);
    const at = (off: number): Uint8Array => { const img = new Uint8Array(0x3000); img.set(h, off); return img; };
    expect(findMultibootHeader(at(0x1ff4))?.offset).toBe(0x1ff4);
    expect(findMultibootHeader(at(0x2000))).toBeUndefined();
    expect(findMultibootHeader(at(0x102))).toBeUndefined();
    const bad = at(0x100);
    bad[0x108] ^= 1;
    expect(findMultibootHeader(bad)).toBeUndefined();
  });

  it('loads through the a.out kludge: file offset = header offset - (header_addr - load_addr), bss zeroed', () => {
    const plan = planMultiboot(aoutKernel(64), { ramBytes: RAM });
    const read = memoryOf(plan);
    expect(Array.from(read(0x10_0000, 2))).toEqual([0xaa, 0xaa]);
    expect(u32(read(0x10_0040, 4))).toBe(0x1badb002);
    expect(read(0x10_0000 + 64 + 32, 1)[0]).toBe(0xbb);
    expect(read(0x10_0000 + 64 + 48, 1)[0]).toBe(0); // past load_end_addr: bss, zero
    const kernel = plan.writes.find((w) => w.what === 'multiboot kernel')!;
    expect(kernel.bytes.length).toBe(0x2000); // up to bss_end_addr
    expect(plan.regs.rip).toBe(0x10_0004n);
  });

  it('enters 32-bit protected mode with EAX=0x2BADB002, EBX=info, paging off and IF clear', () => {
    const plan = planMultiboot(aoutKernel(0), { ramBytes: RAM });
    expect(plan.regs.rax).toBe(0x2badb002n);
    expect(plan.sregs.cr0 & 0x8000_0001n).toBe(1n);
    expect(plan.regs.rflags & 0x200n).toBe(0n);
    expect(plan.sregs.cs.db).toBe(true);
    expect(plan.sregs.cs.limit).toBe(0xffff_ffff);
    expect(plan.sregs.ss.limit).toBe(0xffff_ffff);
    expect(plan.mode).toBe('protected');
  });

  it('fills the information structure: memory bounds, cmdline with the image name first, loader name, mmap', () => {
    const plan = planMultiboot(aoutKernel(0), { ramBytes: RAM, imageName: 'kernel.elf', append: 'console=ttyS0 quiet' });
    const read = memoryOf(plan);
    const mbi = Number(plan.regs.rbx);
    const info = read(mbi, 72);
    const flags = u32(info, 0);
    for (const bit of [0, 2, 3, 6, 9]) expect((flags >>> bit) & 1).toBe(1);
    expect(u32(info, 4)).toBe(640); // mem_lower in KiB
    expect(u32(info, 8)).toBe(31 * 1024); // mem_upper: KiB above 1 MiB
    expect(cstr(read, u32(info, 16))).toBe('kernel.elf console=ttyS0 quiet');
    expect(cstr(read, u32(info, 64)).length).toBeGreaterThan(0);
    const mmapLen = u32(info, 44);
    const mmapAddr = u32(info, 48);
    const entries: Array<[number, number, number]> = [];
    for (let o = 0; o < mmapLen;) {
      const e = read(mmapAddr + o, 24);
      entries.push([u32(e, 4), u32(e, 12), u32(e, 20)]);
      o += u32(e, 0) + 4; // size does not count itself (§3.3)
    }
    expect(entries[0]).toEqual([0, 0x9fc00, 1]);
    expect(entries).toContainEqual([0x10_0000, RAM - 0x10_0000, 1]);
    const ram = entries.filter((e) => e[2] === 1).reduce((s, e) => s + e[1], 0);
    expect(ram).toBe(0x9fc00 + RAM - 0x10_0000);
  });

  it('places modules page aligned after the kernel, each with its string', () => {
    const m1 = new Uint8Array(5000).fill(1);
    const m2 = new Uint8Array(10).fill(2);
    const plan = planMultiboot(aoutKernel(0), {
      ramBytes: RAM, modules: [{ bytes: m1, cmdline: 'initrd.img arg=1' }, { bytes: m2, cmdline: 'second' }],
    });
    const read = memoryOf(plan);
    const info = read(Number(plan.regs.rbx), 72);
    expect(u32(info, 20)).toBe(2);
    const table = read(u32(info, 24), 32);
    const start1 = u32(table, 0);
    expect(start1 % 0x1000).toBe(0);
    expect(start1).toBeGreaterThanOrEqual(plan.imageEnd);
    expect(u32(table, 4)).toBe(start1 + 5000);
    expect(cstr(read, u32(table, 8))).toBe('initrd.img arg=1');
    const start2 = u32(table, 16);
    expect(start2).toBe(start1 + 0x2000);
    expect(Array.from(read(start2, 10))).toEqual(new Array(10).fill(2));
    expect(cstr(read, u32(table, 24))).toBe('second');
  });

  it('without the a.out flag loads an ELF32 from its program headers', () => {
    const header = multibootHeader(0x3);
    const elf = buildElf({
      cls: 32, machine: 3, entry: 0x10_0000,
      segments: [{ vaddr: 0x10_0000, paddr: 0x10_0000, data: header, memsz: 0x100 }],
    });
    const plan = planMultiboot(elf, { ramBytes: RAM });
    expect(plan.regs.rip).toBe(0x10_0000n);
    expect(u32(memoryOf(plan)(0x10_0000, 4))).toBe(0x1badb002);
  });

  it('refuses a 64-bit ELF without address fields and a header-only image that is not ELF', () => {
    const elf64 = buildElf({
      cls: 64, machine: 62, entry: 0x10_0000,
      segments: [{ vaddr: 0x10_0000, paddr: 0x10_0000, data: multibootHeader(0), memsz: 0x100 }],
    });
    expect(() => planMultiboot(elf64, { ramBytes: RAM })).toThrow(/ELF32/);
    const raw = new Uint8Array(64);
    raw.set(multibootHeader(0), 8);
    expect(() => planMultiboot(raw, { ramBytes: RAM })).toThrow(/not ELF/);
  });

  it('planImage prefers multiboot, then ELF, and rejects an unknown image with its first bytes', () => {
    expect(planImage(aoutKernel(0), { ramBytes: RAM }).format).toBe('multiboot');
    const elf = buildElf({ cls: 32, machine: 3, entry: 0x10_0000, segments: [{ vaddr: 0x10_0000, paddr: 0x10_0000, data: new Uint8Array(4), memsz: 4 }] });
    expect(planImage(elf, { ramBytes: RAM }).format).toBe('elf32');
    expect(() => planImage(new Uint8Array([0xde, 0xad, 0xbe, 0xef]), { ramBytes: RAM })).toThrow(/starts de ad be ef/);
    expect(planImage(new Uint8Array([0xf4]), { ramBytes: RAM, mode: 'real' }).format).toBe('flat');
  });
});
