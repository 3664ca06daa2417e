/**
 * The loaders on real images built by nasm + GNU ld (fixtures/guests, rebuilt by build.sh), run to
 * their debug-exit on a machine. The expected console lines are what the same images print under
 * QEMU's -kernel (checked when the fixtures were made), except mem_upper: QEMU's firmware reports
 * 0x7b80 KiB for 32 MiB (it reserves the top 128 KiB), x86vmm the whole 31 MiB above 1 MiB.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Machine } from '../../src/vmm/machine.js';
import { planImage } from '../../src/boot/image.js';
import { applyPlan } from '../../src/boot/apply.js';
import { parseElf } from '../../src/boot/elf.js';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../fixtures/guests/${name}`, import.meta.url)));

function boot(name: string, extra: Parameters<typeof planImage>[1] extends infer O ? Partial<O> : never = {}) {
  const m = new Machine({ memoryMiB: 32 });
  const plan = planImage(fixture(name), { ramBytes: m.ramBytes, imageName: name, ...extra });
  applyPlan(m, plan);
  const stop = m.run({ maxInstructions: 5_000_000 });
  return { m, plan, stop, console: m.debugcon!.takeOutputText() };
}

describe('booting the fixture kernels', () => {
  it('mb-aout.bin: multiboot through the a.out kludge, with a command line and a module', () => {
    const r = boot('mb-aout.bin', { append: 'console=ttyS0 x=1', modules: [{ bytes: new Uint8Array([1, 2, 3]), cmdline: 'mod.txt arg' }] });
    expect(r.plan.format).toBe('multiboot');
    expect(r.console).toBe("mb-aout: cmdline='mb-aout.bin console=ttyS0 x=1' mem_upper=00007c00 module='mod.txt arg\n");
    expect(r.stop).toEqual({ kind: 'suspended', disposition: 'poweroff', exitCode: 0x21 });
  });

  it('mb-elf.elf: multiboot from ELF32 program headers (nasm + ld), .bss zeroed', () => {
    const elf = parseElf(fixture('mb-elf.elf'));
    expect(elf.elfClass).toBe(32);
    expect(elf.segments[0]!.memsz).toBeGreaterThan(elf.segments[0]!.filesz); // has a .bss
    const r = boot('mb-elf.elf', { append: 'hello' });
    expect(r.console).toBe('mb-elf: mb-elf.elf hello\n');
    expect(r.stop).toEqual({ kind: 'suspended', disposition: 'poweroff', exitCode: 0x23 });
  });

  it('elf64.elf: a 64-bit ELF entered in long mode, .data loaded and .bss zeroed', () => {
    const r = boot('elf64.elf');
    expect(r.plan.format).toBe('elf64');
    expect(r.console).toBe('elf64: ok\n');
    expect(r.stop).toEqual({ kind: 'suspended', disposition: 'poweroff', exitCode: 0x25 });
  });
});
