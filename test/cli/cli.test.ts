/** The CLI as a user runs it: a child process, stdio, exit codes (QEMU's isa-debug-exit convention). */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, input: '', encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/npm warn.*\n/g, '') };
}

describe('x86vmm run', () => {
  it('boots a multiboot kernel with --append and --initrd and exits with its debug-exit code', () => {
    const r = cli('run', 'fixtures/guests/mb-aout.bin', '--append', 'quiet', '--initrd', 'fixtures/guests/demo.bin arg');
    expect(r.stderr).toBe("mb-aout: cmdline='mb-aout.bin quiet' mem_upper=00007c00 module='fixtures/guests/demo.bin arg\n");
    expect(r.status).toBe((0x10 << 1) | 1);
  });

  it('boots a 64-bit ELF; --memory sets the RAM size the multiboot info reports', () => {
    expect(cli('run', 'fixtures/guests/elf64.elf').status).toBe((0x12 << 1) | 1);
    const r = cli('run', 'fixtures/guests/mb-aout.bin', '--memory', '64');
    expect(r.stderr).toContain('mem_upper=0000fc00'); // 63 MiB above 1 MiB, in KiB
  });

  it('runs a flat binary given --mode, with serial output on stdout', () => {
    // Real-mode demo guest: its first line goes out through COM1 before it needs issue 5's LGDT.
    const r = cli('run', 'fixtures/guests/demo.bin', '--mode', 'real', '--max-instructions', '100000');
    expect(r.stdout).toContain('demo: hello from real mode');
  });

  it('explains itself with --help and fails with one line for an unreadable or unrecognised image', () => {
    const h = cli('--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/usage: x86vmm run <image>/);
    const missing = cli('run', 'no/such/image.bin');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe("x86vmm: cannot read image 'no/such/image.bin': no such file\n");
    const junk = cli('run', 'package.json');
    expect(junk.status).toBe(2);
    expect(junk.stderr.trim().split('\n')).toHaveLength(1);
    expect(junk.stderr).toMatch(/unrecognised image/);
  });
});
