import { describe, expect, it } from 'vitest';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE } from '../../src/arch/ept.js';
import { EptTranslation, TRANSLATE_EPT_VIOLATION, TRANSLATE_OK } from '../../src/memory/ept.js';
import { GuestMemory, mapPcMemory } from '../../src/memory/guest-memory.js';
import { HostMemory } from '../../src/memory/host.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../src/util/errors.js';

const GiB = 2 ** 30;

describe('host memory segments', () => {
  it('an 8 GiB guest allocates nothing up front and one chunk on first touch', () => {
    const gm = new GuestMemory();
    const { lowSize, highSize } = mapPcMemory(gm, 8 * GiB);
    expect(lowSize).toBe(3 * GiB);
    expect(highSize).toBe(5 * GiB);
    expect(gm.host.allocatedBytes).toBe(0);
    gm.write(6 * GiB, new Uint8Array([1, 2, 3]));
    expect(gm.host.allocatedBytes).toBe(gm.host.chunkSize);
    expect([...gm.read(6 * GiB, new Uint8Array(4))]).toEqual([1, 2, 3, 0]);
    // reading an untouched page gives zeros and allocates nothing
    expect([...gm.read(0x1000, new Uint8Array(2))]).toEqual([0, 0]);
    expect(gm.host.allocatedBytes).toBe(gm.host.chunkSize);
  });

  it('segments may be SharedArrayBuffer-backed or use a caller buffer', () => {
    const host = new HostMemory({ shared: true, chunkSize: 4096 });
    const s = host.createSegment('ram', 0x2000);
    expect(host.ensureChunk(host.chunkOf(s.hostBase)).buffer).toBeInstanceOf(SharedArrayBuffer);
    const fb = new ArrayBuffer(0x3000);
    const seg = host.createSegment('framebuffer', 0x3000, { kind: 'devmem', buffer: fb });
    host.write8(host.chunkOf(seg.hostBase + 0x2000), 5, 0xaa);
    expect(new Uint8Array(fb)[0x2005]).toBe(0xaa);
  });

  it('rejects bad segments with messages naming the value', () => {
    const host = new HostMemory();
    expect(() => host.createSegment('a', 0x1800)).toThrow(/0x1800.*multiple of 0x1000/);
    host.createSegment('a', 0x1000);
    expect(() => host.createSegment('a', 0x1000)).toThrow(ConflictError);
    expect(() => new HostMemory({ chunkSize: 3000 })).toThrow(InvalidArgumentError);
    expect(() => host.segment('nope')).toThrow(NotFoundError);
  });
});

describe('the guest-physical space', () => {
  function pc() {
    const gm = new GuestMemory({ chunkSize: 1 << 20 });
    mapPcMemory(gm, 4 * GiB);
    const rom = gm.createSegment('bootrom', 0x20000, { kind: 'devmem' });
    gm.map(2 ** 32 - 0x20000, rom, 0, 0x20000, { prot: 'rx' });
    gm.unmap(0xe0000, 0x20000); // the legacy BIOS area is not RAM
    gm.map(0xe0000, rom, 0, 0x20000, { prot: 'rx' }); // alias below 1 MiB
    return { gm, rom, out: new EptTranslation() };
  }

  it('RAM below 3 GiB, a PCI hole, RAM from 4 GiB and an aliased boot ROM', () => {
    const { gm, out } = pc();
    expect(gm.translate(3 * GiB - 1, ACCESS_READ, out)).toBe(TRANSLATE_OK);
    expect(gm.translate(3 * GiB, ACCESS_READ, out)).toBe(TRANSLATE_EPT_VIOLATION); // PCI hole
    expect(gm.translate(2 ** 32, ACCESS_READ, out)).toBe(TRANSLATE_OK);
    gm.write(2 ** 32 - 0x10, new Uint8Array([0xea, 0x5b, 0xe0])); // the reset vector, written by the loader
    expect([...gm.read(0xffff0, new Uint8Array(3))]).toEqual([0xea, 0x5b, 0xe0]);
    expect(gm.translate(0xffff0, ACCESS_FETCH, out)).toBe(TRANSLATE_OK);
    expect(gm.translate(0xffff0, ACCESS_WRITE, out)).toBe(TRANSLATE_EPT_VIOLATION);
    expect(out.qualification & 0x3f).toBe(0x2 | 0x8 | 0x20);
  });

  it('moves a devmem mapping at run time and bumps the generation', () => {
    const gm = new GuestMemory();
    const fb = gm.createSegment('framebuffer', 0x100000, { kind: 'devmem' });
    gm.map(0xc000_0000, fb, 0, 0x100000);
    gm.write(0xc000_0010, new Uint8Array([7]));
    const gen = gm.generation;
    gm.remap(0xc000_0000, 0xd000_0000);
    expect(gm.generation).toBeGreaterThan(gen);
    expect(gm.read(0xd000_0010, new Uint8Array(1))[0]).toBe(7);
    expect(() => gm.read(0xc000_0010, new Uint8Array(1))).toThrow(NotFoundError);
    const out = new EptTranslation();
    expect(gm.translate(0xd000_0000, ACCESS_FETCH, out)).toBe(TRANSLATE_EPT_VIOLATION); // devmem is RW, not X, by default
  });

  it('overlapping maps name both ranges and change nothing', () => {
    const { gm } = pc();
    const before = gm.mappings.length;
    expect(() => gm.map(0xf0000, gm.host.segment('bootrom'), 0, 0x1000)).toThrow(/0xf0000\+0x1000 overlaps the mapping of segment "bootrom" at 0xe0000\+0x20000/);
    expect(() => gm.map(0x100000, gm.host.segment('bootrom'), 0, 0x1000)).toThrow(/overlaps the mapping of segment "sysmem" at 0x100000\+0xbff00000/);
    expect(gm.mappings.length).toBe(before);
  });

  it('rejects unaligned, out-of-range and non-page-multiple requests', () => {
    const gm = new GuestMemory({ physAddrBits: 39 });
    const s = gm.createSegment('ram', 0x10000);
    expect(() => gm.map(0x1001, s, 0, 0x1000)).toThrow(/0x1001.*aligned/);
    expect(() => gm.map(0x1000, s, 0, 0x1001)).toThrow(/0x1001.*multiple/);
    expect(() => gm.map(2 ** 39, s, 0, 0x1000)).toThrow(/MAXPHYADDR/);
    expect(() => gm.map(0, s, 0x8000, 0x10000)).toThrow(/inside segment "ram"/);
    expect(() => gm.map(0, s, 0, 0x1000, { prot: 'w' })).toThrow(/write requires read/);
    expect(() => gm.map(0, s, 0, 0x1000, { prot: 'rwq' })).toThrow(InvalidArgumentError);
    expect(() => gm.unmap(0, 0x1000)).toThrow(NotFoundError);
    expect(gm.mappings.length).toBe(0);
  });

  it('read/write/fill/copy cross pages and segments; a partly unmapped write writes nothing', () => {
    const gm = new GuestMemory({ chunkSize: 4096 });
    const a = gm.createSegment('a', 0x2000);
    const b = gm.createSegment('b', 0x2000);
    gm.map(0x10000, a, 0, 0x2000);
    gm.map(0x12000, b, 0, 0x2000);
    gm.fill(0x11ff0, 0x20, 0x5a);
    expect([...gm.read(0x11fee, new Uint8Array(4))]).toEqual([0, 0, 0x5a, 0x5a]);
    expect(gm.read(0x1200f, new Uint8Array(1))[0]).toBe(0x5a);
    gm.copy(0x10000, 0x11ff0, 0x20);
    expect(gm.read(0x1001f, new Uint8Array(1))[0]).toBe(0x5a);
    expect(() => gm.write(0x13ff0, new Uint8Array(0x20).fill(1))).toThrow(NotFoundError);
    expect(gm.read(0x13ff0, new Uint8Array(1))[0]).toBe(0);
  });

  it('hold returns the host view of a page, blocks unmap while held, and marks the page dirty', () => {
    const gm = new GuestMemory();
    const s = gm.createSegment('ram', 0x10000);
    gm.map(0, s, 0, 0x10000);
    gm.getDirtyLog(0, 0x10000);
    const h = gm.hold(0x3456, true);
    expect(h.gpa).toBe(0x3000);
    h.bytes[0x456] = 0x99;
    expect(gm.read(0x3456, new Uint8Array(1))[0]).toBe(0x99);
    expect(() => gm.unmap(0x3000, 0x1000)).toThrow(/held/);
    gm.release(h);
    expect(() => gm.release(h)).toThrow(InvalidArgumentError);
    gm.unmap(0x3000, 0x1000);
    gm.protect(0, 0x1000, 'r');
    expect(() => gm.hold(0, true)).toThrow(ConflictError);
  });

  it('the dirty log merges guest writes (through EPT) and monitor writes, then clears', () => {
    const gm = new GuestMemory({ adMode: 'hardware' });
    const s = gm.createSegment('ram', 0x100000);
    gm.map(0, s, 0, 0x100000, { maxPageSize: 4096 });
    const out = new EptTranslation();
    gm.translate(0x5000, ACCESS_WRITE, out);
    gm.write(0x9ffe, new Uint8Array(4)); // crosses into page 0xa
    const log = gm.getDirtyLog(0, 0x10000);
    expect([...log]).toEqual([0b0010_0000, 0b0000_0110]);
    expect([...gm.getDirtyLog(0, 0x10000)]).toEqual([0, 0]);
  });

  it('dirty logging with A/D off is refused', () => {
    const gm = new GuestMemory({ adMode: 'off' });
    expect(() => gm.getDirtyLog(0, 0x1000)).toThrow(/adMode/);
  });
});
