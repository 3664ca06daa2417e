import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.js';

describe('x86vmm command line', () => {
  it('asks for help with no arguments, -h or --help', () => {
    expect(parseArgs([])).toEqual({ command: 'help' });
    expect(parseArgs(['run', 'x', '--help'])).toEqual({ command: 'help' });
    expect(parseArgs(['-h'])).toEqual({ command: 'help' });
  });

  it('parses run with every option, in both --flag value and --flag=value forms', () => {
    const a = parseArgs(['run', 'k.elf', '--mode', 'long', '--memory=64', '--smp', '2', '--append', 'a b',
      '--initrd', 'm1 x,m2', '--initrd=m3', '--trace', '--load-address', '0x20000', '--max-instructions', '1000']);
    expect(a).toEqual({
      command: 'run', image: 'k.elf', mode: 'long', memoryMiB: 64, smp: 2, append: 'a b',
      initrd: ['m1 x', 'm2', 'm3'], trace: true, loadAddress: 0x20000, maxInstructions: 1000,
    });
  });

  it('defaults to 32 MiB, one vCPU, no command line', () => {
    expect(parseArgs(['run', 'img'])).toMatchObject({ memoryMiB: 32, smp: 1, append: '', initrd: [], trace: false });
  });

  it('rejects mistakes with one line naming the argument', () => {
    const msg = (argv: string[]): string => {
      try {
        parseArgs(argv);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(msg(['boot', 'x'])).toMatch(/unknown command 'boot'/);
    expect(msg(['run'])).toMatch(/no image/);
    expect(msg(['run', 'a', 'b'])).toMatch(/'a' and 'b'/);
    expect(msg(['run', 'a', '--memory', 'lots'])).toMatch(/--memory 'lots'/);
    expect(msg(['run', 'a', '--smp', '0'])).toMatch(/--smp '0'/);
    expect(msg(['run', 'a', '--mode', 'v86'])).toMatch(/--mode 'v86'/);
    expect(msg(['run', 'a', '--frobnicate'])).toMatch(/unknown option '--frobnicate'/);
    expect(msg(['run', 'a', '--append'])).not.toContain('\n');
  });
});
