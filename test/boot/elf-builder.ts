/**
 * Builds minimal ELF executables for loader tests, field by field from the System V ABI's
 * ELF header and program header layouts (independent of src/boot/elf.ts's parser).
 */
export interface TestSegment {
  vaddr: number;
  paddr: number;
  data: Uint8Array;
  memsz: number;
  type?: number;
}

export function buildElf(opts: { cls: 32 | 64; machine: number; entry: number; segments: TestSegment[] }): Uint8Array {
  const is64 = opts.cls === 64;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const phoff = ehsize;
  let dataOff = phoff + phentsize * opts.segments.length;
  const offsets: number[] = [];
  for (const s of opts.segments) {
    offsets.push(dataOff);
    dataOff += s.data.length;
  }
  const out = new Uint8Array(dataOff);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]); // magic, class, LSB, EV_CURRENT
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, opts.machine, true);
  dv.setUint32(20, 1, true); // e_version
  if (is64) {
    dv.setBigUint64(24, BigInt(opts.entry), true);
    dv.setBigUint64(32, BigInt(phoff), true);
    dv.setUint16(52, ehsize, true);
    dv.setUint16(54, phentsize, true);
    dv.setUint16(56, opts.segments.length, true);
  } else {
    dv.setUint32(24, opts.entry, true);
    dv.setUint32(28, phoff, true);
    dv.setUint16(40, ehsize, true);
    dv.setUint16(42, phentsize, true);
    dv.setUint16(44, opts.segments.length, true);
  }
  opts.segments.forEach((s, i) => {
    const p = phoff + i * phentsize;
    dv.setUint32(p, s.type ?? 1, true);
    if (is64) {
      dv.setUint32(p + 4, 5, true); // R|X
      dv.setBigUint64(p + 8, BigInt(offsets[i]!), true);
      dv.setBigUint64(p + 16, BigInt(s.vaddr), true);
      dv.setBigUint64(p + 24, BigInt(s.paddr), true);
      dv.setBigUint64(p + 32, BigInt(s.data.length), true);
      dv.setBigUint64(p + 40, BigInt(s.memsz), true);
      dv.setBigUint64(p + 48, 0x1000n, true);
    } else {
      dv.setUint32(p + 4, offsets[i]!, true);
      dv.setUint32(p + 8, s.vaddr, true);
      dv.setUint32(p + 12, s.paddr, true);
      dv.setUint32(p + 16, s.data.length, true);
      dv.setUint32(p + 20, s.memsz, true);
      dv.setUint32(p + 24, 5, true);
      dv.setUint32(p + 28, 0x1000, true);
    }
    out.set(s.data, offsets[i]!);
  });
  return out;
}

/** A multiboot v1 header (spec §3.1.1/§3.1.3); address fields only when `aout` is given. */
export function multibootHeader(flags: number, aout?: { header: number; load: number; loadEnd: number; bssEnd: number; entry: number }): Uint8Array {
  const out = new Uint8Array(aout ? 32 : 12);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x1badb002, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, (-(0x1badb002 + flags)) >>> 0, true);
  if (aout) {
    dv.setUint32(12, aout.header, true);
    dv.setUint32(16, aout.load, true);
    dv.setUint32(20, aout.loadEnd, true);
    dv.setUint32(24, aout.bssEnd, true);
    dv.setUint32(28, aout.entry, true);
  }
  return out;
}
