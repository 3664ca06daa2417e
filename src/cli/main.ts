#!/usr/bin/env node
/**
 * The x86vmm command line: `x86vmm run <image> [options]` (see args.ts for the options and --help).
 * COM1 is on stdin/stdout, the debug console (port 0xE9) on stderr; the process exit code is the
 * guest's isa-debug-exit code. Errors are one line on stderr, status 2.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs, USAGE, UsageError, type RunArgs } from './args.js';
import { Machine } from '../vmm/machine.js';
import { planImage } from '../boot/image.js';
import { applyPlan } from '../boot/apply.js';
import type { VcpuExit } from '../cpu/exit.js';
import { VmmError } from '../util/errors.js';

function fail(message: string): never {
  process.stderr.write(`x86vmm: ${message}\n`);
  process.exit(2);
}

function readFile(what: string, path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(`cannot read ${what} '${path}': ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

function describeExit(vcpu: number, x: VcpuExit): string {
  const rip = `rip=0x${(x.ripHi * 2 ** 32 + x.ripLo).toString(16)}`;
  switch (x.reason) {
    case 'io': return `vcpu${vcpu} io ${x.write ? 'out' : 'in'} port=0x${x.port.toString(16)} size=${x.size}${x.write ? ` value=0x${x.value.toString(16)}` : ''} ${rip}`;
    case 'mmio': return `vcpu${vcpu} mmio ${x.write ? 'write' : 'read'} gpa=0x${(x.gpaHi * 2 ** 32 + x.gpaLo).toString(16)} size=${x.size} ${rip}`;
    case 'ept-violation':
    case 'ept-misconfig': return `vcpu${vcpu} ${x.reason} gpa=0x${(x.gpaHi * 2 ** 32 + x.gpaLo).toString(16)} qual=0x${x.qualification.toString(16)} ${rip}`;
    case 'rdmsr':
    case 'wrmsr': return `vcpu${vcpu} ${x.reason} msr=0x${x.msr.toString(16)} ${rip}`;
    case 'cpuid': return `vcpu${vcpu} cpuid leaf=0x${x.leaf.toString(16)} ${rip}`;
    case 'exception': return `vcpu${vcpu} exception vector=${x.vector}${x.hasErrorCode ? ` error=0x${x.errorCode.toString(16)}` : ''} ${rip}`;
    case 'invalid-state': return `vcpu${vcpu} invalid-state: ${x.message} ${rip}`;
    default: return `vcpu${vcpu} ${x.reason} ${rip}`;
  }
}

async function run(args: RunArgs): Promise<number> {
  const image = readFile('image', args.image);
  const modules = args.initrd.map((spec) => {
    const file = spec.split(' ')[0]!;
    return { bytes: readFile('initrd', file), cmdline: spec };
  });
  const machine = new Machine({
    memoryMiB: args.memoryMiB,
    vcpus: args.smp,
    onSerialOutput: (b) => process.stdout.write(b),
    onConsoleOutput: (b) => process.stderr.write(b),
    onExit: args.trace ? (v, x) => process.stderr.write(`[trace] ${describeExit(v, x)}\n`) : undefined,
  });
  let plan;
  try {
    plan = planImage(image, {
      ramBytes: machine.ramBytes,
      mode: args.mode,
      loadAddress: args.loadAddress,
      imageName: basename(args.image),
      append: args.append,
      modules,
    });
    applyPlan(machine, plan);
  } catch (e) {
    if (e instanceof VmmError) fail(`${args.image}: ${e.message}`);
    throw e;
  }
  if (args.trace) process.stderr.write(`[trace] loaded ${plan.format} (${plan.mode} mode) entry=0x${plan.entry.toString(16)}\n`);

  // Serial input: stdin bytes go to COM1's receiver.
  let inputOpen = true;
  let wakeInput: (() => void) | null = null;
  if (process.stdin.isTTY) process.stdin.setRawMode?.(true);
  process.stdin.on('data', (b: Buffer) => {
    machine.uart?.feed(b);
    wakeInput?.();
  });
  process.stdin.on('end', () => {
    inputOpen = false;
    wakeInput?.();
  });
  process.stdin.on('error', () => {
    inputOpen = false;
  });

  const chunk = 2_000_000;
  let left = args.maxInstructions ?? Infinity;
  try {
    for (;;) {
      const stop = machine.run({ maxInstructions: Math.min(chunk, left) });
      switch (stop.kind) {
        case 'budget':
          left -= stop.instructions;
          if (left <= 0) {
            process.stderr.write(`x86vmm: stopped after ${args.maxInstructions} instructions (--max-instructions)\n`);
            return 3;
          }
          await new Promise((r) => setImmediate(r));
          continue;
        case 'suspended':
          if (stop.disposition === 'poweroff') return stop.exitCode ?? 0;
          if (stop.disposition === 'triple-fault') {
            process.stderr.write('x86vmm: the guest triple-faulted (shutdown)\n');
            return 2;
          }
          return 0;
        case 'all-halted':
          if (!inputOpen) return 0;
          await new Promise<void>((r) => (wakeInput = r));
          wakeInput = null;
          continue;
        case 'exit': {
          const x = stop.exit;
          const v = machine.vcpus[stop.vcpu]!;
          switch (x.reason) {
            case 'io':
              // Nothing on this port: reads float high, writes are dropped (an empty ISA bus).
              if (!x.write) x.value = x.size === 4 ? 0xffff_ffff : x.size === 2 ? 0xffff : 0xff;
              continue;
            case 'mmio':
              if (!x.write) {
                x.value = 0xffff_ffff;
                x.valueHi = 0xffff_ffff;
              }
              continue;
            case 'rdmsr':
            case 'wrmsr':
              // An MSR nobody implements: #GP(0), as bhyve does.
              v.inject({ kind: 'exception', vector: 13, errorCode: 0 });
              continue;
            case 'cpuid':
              continue;
            case 'shutdown':
              process.stderr.write(`x86vmm: vCPU ${stop.vcpu} triple-faulted (shutdown)\n`);
              return 2;
            default:
              process.stderr.write(`x86vmm: unhandled exit: ${describeExit(stop.vcpu, x)}\n`);
              return 2;
          }
        }
      }
    }
  } finally {
    if (process.stdin.isTTY) process.stdin.setRawMode?.(false);
    process.stdin.pause();
  }
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) fail(e.message);
    throw e;
  }
  if (args.command === 'help') {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const code = await run(args);
  process.exit(code);
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
