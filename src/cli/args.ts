/**
 * Command-line parsing for `x86vmm` (pure: no Node API, so it is unit-tested directly).
 * Every error is one line naming the offending argument and the rule.
 */
import type { BootMode } from '../boot/plan.js';
import { parseBootMode } from '../boot/plan.js';

export const USAGE = `usage: x86vmm run <image> [options]
       x86vmm --help

Boots <image> on an x86vmm machine with COM1 (16550A UART) on stdin/stdout, the debug console
(port 0xE9) on stderr, and QEMU's isa-debug-exit at port 0xF4: the process exits with the guest's
code, (value << 1) | 1. Without a debug-exit the process exits 0 when the guest powers off or
halts for good, and 2 on a triple fault (shutdown) or an exit nobody handles.

Images: a multiboot v1 kernel (a.out-kludge or ELF32, booted as QEMU's -kernel does), an ELF32 or
ELF64 executable (32-bit protected mode / 64-bit long mode with identity paging), or, with --mode,
a flat binary.

options:
  --mode real|protected|long   load the image as a flat binary and enter it in this mode
                               (real: at 0000:7C00; protected/long: at 0x10000)
  --load-address ADDR          flat binary load address (hex with 0x or decimal)
  --memory MiB                 RAM size in MiB (default 32)
  --smp N                      number of vCPUs (default 1); APs wait for INIT/SIPI
  --append CMDLINE             kernel command line (multiboot: after the image name)
  --initrd FILE[,FILE...]      multiboot modules; a module's string is its file name plus any
                               words after it ("--initrd 'mod.bin arg1 arg2'")
  --max-instructions N         stop after N instructions (default: unlimited)
  --trace                      print each VM exit to stderr
  -h, --help                   this text
`;

export interface RunArgs {
  command: 'run';
  image: string;
  mode?: BootMode;
  loadAddress?: number;
  memoryMiB: number;
  smp: number;
  append: string;
  initrd: string[];
  maxInstructions?: number;
  trace: boolean;
}

export type CliArgs = RunArgs | { command: 'help' };

/** A command-line mistake; main prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function parseNumber(flag: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined) throw new UsageError(`${flag} needs a value`);
  const v = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text.slice(2), 16) : /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new UsageError(`${flag} '${text}' is not a whole number in ${min}..${max}`);
  }
  return v;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help') || argv[0] === 'help') {
    return { command: 'help' };
  }
  if (argv[0] !== 'run') throw new UsageError(`unknown command '${argv[0]}' (try 'x86vmm run <image>' or --help)`);
  const out: RunArgs = { command: 'run', image: '', memoryMiB: 32, smp: 1, append: '', initrd: [], trace: false };
  let image: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--mode': {
        const m = value();
        if (m === undefined) throw new UsageError('--mode needs a value: real, protected or long');
        try {
          out.mode = parseBootMode(m);
        } catch {
          throw new UsageError(`--mode '${m}' is not real, protected or long`);
        }
        break;
      }
      case '--load-address':
        out.loadAddress = parseNumber(flag, value(), 0, 2 ** 52);
        break;
      case '--memory':
        out.memoryMiB = parseNumber(flag, value(), 1, 64 * 1024);
        break;
      case '--smp':
        out.smp = parseNumber(flag, value(), 1, 64);
        break;
      case '--append': {
        const v = value();
        if (v === undefined) throw new UsageError('--append needs a value');
        out.append = v;
        break;
      }
      case '--initrd': {
        const v = value();
        if (v === undefined || v === '') throw new UsageError('--initrd needs a file name');
        out.initrd.push(...v.split(','));
        break;
      }
      case '--max-instructions':
        out.maxInstructions = parseNumber(flag, value(), 1, Number.MAX_SAFE_INTEGER);
        break;
      case '--trace':
        out.trace = true;
        break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option '${a}' (see --help)`);
        if (image !== undefined) throw new UsageError(`more than one image given: '${image}' and '${a}'`);
        image = a;
    }
  }
  if (image === undefined) throw new UsageError('no image given: x86vmm run <image>');
  out.image = image;
  return out;
}
