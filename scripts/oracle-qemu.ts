/**
 * The system-level golden oracle (issue 5, "The oracles: QEMU and Bochs"; docs/system-fixtures.md).
 *
 *   npm run oracle:qemu [-- [--check] [--bochs] [name ...]]
 *
 * Builds fixtures/system (fixtures/build.sh), boots each <name>.bin as the BIOS of a QEMU i440FX PC
 * under TCG, and writes fixtures/system/<name>.golden: a header naming the exact command line, the
 * debug-console (port 0xE9) text verbatim, and a trailer with the outcome (debug-exit status or
 * triple fault). Lines where QEMU disagrees with the SDM are replaced by the SDM's answer as the
 * fixture's `; sdm-fix:` directives say, and the header records the case. Rerunning leaves every
 * committed file unchanged (the guests print nothing timing-dependent).
 *   --check  compare with the committed goldens instead of writing them (exit 1 on a difference)
 *   --bochs  run the same images under Bochs 2.7 and write fixtures/system/bochs/<name>.out, then
 *            report where Bochs and the golden differ (the second opinion for sdm-fix cases)
 * QEMU and Bochs are installed with apt-get when missing. /dev/kvm is never used.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const sysDir = join(root, 'fixtures', 'system');

interface Directives {
  cpu: string;
  smp: number;
  timeout: number;
  bochsCpu: string;
  /** 'bochs' when QEMU cannot survive the fixture (a missing check wrecks the machine state) */
  golden: 'qemu' | 'bochs';
  /** 'shutdown': the guest ends in a triple fault and the golden adds QEMU's `info registers` then */
  regs: '' | 'shutdown';
  goldenWhy: string;
  fixes: { qemu: string; sdm: string; why: string }[];
}

function parseDirectives(src: string): Directives {
  const d: Directives = { cpu: 'max', smp: 1, timeout: 20, bochsCpu: 'corei7_icelake_u', golden: 'qemu', goldenWhy: '', regs: '', fixes: [] };
  for (const line of src.split('\n')) {
    const m = /^;\s*(oracle-cpu|oracle-smp|oracle-timeout|bochs-cpu|sdm-fix|sdm-why|golden-from-bochs|oracle-regs):\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    switch (key) {
      case 'oracle-cpu': d.cpu = value.trim(); break;
      case 'oracle-smp': d.smp = Number(value); break;
      case 'oracle-timeout': d.timeout = Number(value); break;
      case 'bochs-cpu': d.bochsCpu = value.trim(); break;
      case 'oracle-regs':
        if (value.trim() !== 'shutdown') throw new Error(`oracle-regs: only "shutdown" is supported: ${value}`);
        d.regs = 'shutdown';
        break;
      case 'golden-from-bochs':
        d.golden = 'bochs';
        d.goldenWhy = d.goldenWhy ? `${d.goldenWhy} ${value.trim()}` : value.trim();
        break;
      case 'sdm-fix': {
        const parts = value.split(' => ');
        if (parts.length !== 2) throw new Error(`bad sdm-fix (want "<qemu line> => <sdm line>"): ${value}`);
        d.fixes.push({ qemu: parts[0]!, sdm: parts[1]!, why: '' });
        break;
      }
      case 'sdm-why': {
        const last = d.fixes[d.fixes.length - 1];
        if (!last) throw new Error('sdm-why without a preceding sdm-fix');
        last.why = last.why ? `${last.why} ${value.trim()}` : value.trim();
        break;
      }
    }
  }
  return d;
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ensure(cmd: string, pkg: string): void {
  if (have(cmd)) return;
  console.error(`${cmd} missing: apt-get install -y ${pkg}`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const r = spawnSync(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'install', '-y', pkg], {
    stdio: 'inherit',
  });
  if (r.status !== 0 || !have(cmd)) throw new Error(`could not install ${pkg}`);
}

function qemuArgs(name: string, d: Directives, bios: string, out: string): string[] {
  return [
    '-machine', 'pc', '-accel', 'tcg', '-cpu', d.cpu, '-m', '32', '-smp', String(d.smp),
    '-nodefaults', '-display', 'none', '-no-reboot',
    '-bios', bios, '-debugcon', `file:${out}`, '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
  ];
}

interface Run { text: string; outcome: string }

function runQemu(name: string, d: Directives, qemuVersion: string): Run & { header: string } {
  const tmp = mkdtempSync(join(tmpdir(), `oracle-${name}-`));
  try {
    const out = join(tmp, 'debugcon.txt');
    const args = qemuArgs(name, d, join(sysDir, `${name}.bin`), out);
    const r = spawnSync('qemu-system-x86_64', args, { timeout: d.timeout * 1000, encoding: 'utf8' });
    const text = existsSync(out) ? readFileSync(out, 'latin1') : '';
    let outcome: string;
    if (r.error || r.signal) outcome = `timeout after ${d.timeout} s`;
    else if (r.status !== null && (r.status & 1) === 1) outcome = `debug-exit 0x${((r.status >> 1) & 0xff).toString(16).padStart(2, '0')}`;
    else if (r.status === 0) outcome = 'triple-fault (QEMU -no-reboot: shutdown on the reset request)';
    else outcome = `qemu status ${r.status}: ${(r.stderr ?? '').trim()}`;
    const shown = qemuArgs(name, d, `${name}.bin`, '<out>').join(' ');
    return { text, outcome, header: `@@ oracle ${qemuVersion} TCG: qemu-system-x86_64 ${shown}` };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * For `; oracle-regs: shutdown` fixtures: QEMU pauses at the shutdown (-action shutdown=pause)
 * instead of exiting, the runner polls the HMP monitor until the VM status is "paused (shutdown)",
 * then records `info registers` (the system lines: EIP/EFL/CPL, segments with their hidden base,
 * limit and flags, descriptor tables, control and debug registers, EFER; the general registers
 * are left out, EDX holding the model's reset signature).
 */
async function qemuRegsAtShutdown(name: string, d: Directives): Promise<string[]> {
  const tmp = mkdtempSync(join(tmpdir(), `oracle-regs-${name}-`));
  try {
    const args = [...qemuArgs(name, d, join(sysDir, `${name}.bin`), join(tmp, 'out.txt')),
      '-action', 'shutdown=pause', '-monitor', 'stdio'];
    const child = spawn('qemu-system-x86_64', args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (c: string) => { out += c; });
    const deadline = Date.now() + d.timeout * 1000;
    while (!out.includes('paused (shutdown)')) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill();
        throw new Error(`${name}: QEMU did not reach a shutdown (triple fault)`);
      }
      child.stdin.write('info status\n');
      await new Promise((r) => setTimeout(r, 200));
    }
    const mark = out.length;
    child.stdin.write('info registers\n');
    while (!/EFER=/.test(out.slice(mark))) await new Promise((r) => setTimeout(r, 50));
    child.stdin.write('quit\n');
    await new Promise((r) => child.on('exit', r));
    // eslint-disable-next-line no-control-regex
    const dump = out.slice(mark).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/\r?\n/);
    const keep = /^(EIP=|RIP=|[ECSDFG]S =|LDT=|TR =|GDT=|IDT=|CR0=|DR[06]=|EFER=)/;
    return dump.filter((l) => keep.test(l)).map((l) => `@@ regs ${l.trimEnd()}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function runBochs(name: string, d: Directives): Run {
  const tmp = mkdtempSync(join(tmpdir(), `bochs-${name}-`));
  try {
    const rc = join(tmp, 'bochsrc');
    writeFileSync(rc, [
      'megs: 32',
      `romimage: file=${join(sysDir, `${name}.bin`)}, address=0xffff0000`,
      // ignore_bad_msrs=0: an unimplemented MSR raises #GP as the SDM says (Bochs' default ignores it)
      `cpu: model=${d.bochsCpu}, count=${d.smp}, ips=10000000, reset_on_triple_fault=0, ignore_bad_msrs=0`,
      'port_e9_hack: enabled=1',
      // Debian's Bochs has neither the nogui nor the x display libraries; rfb without waiting for a
      // client works headless. Its built-in debugger is driven by a command file ("c", "quit").
      'display_library: rfb, options="timeout=0"',
      'speaker: enabled=0',
      'clock: sync=none, time0=1',
      `log: ${join(tmp, 'bochs.log')}`,
      'panic: action=fatal',
      'error: action=report',
      'info: action=report',
      'debug: action=ignore',
      '',
    ].join('\n'));
    writeFileSync(join(tmp, 'cmds'), 'c\nquit\n');
    const r = spawnSync('bochs', ['-q', '-f', rc, '-rc', join(tmp, 'cmds')], {
      timeout: d.timeout * 1000, encoding: 'latin1', cwd: tmp,
    });
    // stdout: banner, the debugger's "Next at t=0" and first-instruction lines, then the port E9
    // text, then the debugger's line for the instruction that stopped the simulation.
    let text = r.stdout ?? '';
    const start = /^\(0\) \[0x0000fffffff0\].*\n/m.exec(text);
    if (start) text = text.slice(start.index + start[0].length);
    const stop = /^\(0\)\.\[\d+\]/m.exec(text);
    if (stop) text = text.slice(0, stop.index);
    const log = existsSync(join(tmp, 'bochs.log')) ? readFileSync(join(tmp, 'bochs.log'), 'latin1') : '';
    let outcome: string;
    const m = /@@bochs-exit ([0-9a-f]{2})\n/.exec(text);
    if (m) {
      outcome = `debug-exit 0x${m[1]}`;
      text = text.slice(0, m.index);
    } else if (/3rd \(\d+\) exception with no resolution/.test(log)) outcome = 'triple-fault (QEMU -no-reboot: shutdown on the reset request)';
    else if (r.error || r.signal) outcome = `timeout after ${d.timeout} s`;
    else outcome = `bochs status ${r.status}: ${log.split('\n').filter((l) => /\bp\[|\be\[/.test(l)).slice(-3).join(' | ')}`;
    return { text, outcome };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function golden(name: string, d: Directives, run: Run & { header: string }): string {
  const lines = run.text.split('\n');
  const finalNewline = run.text.endsWith('\n') || run.text === '';
  if (finalNewline && run.text !== '') lines.pop();
  const notes: string[] = [];
  for (const fix of d.fixes) {
    const i = lines.indexOf(fix.qemu);
    if (i < 0) {
      console.error(`${name}: sdm-fix line not printed by QEMU (QEMU fixed? fixture changed?): ${fix.qemu}`);
      continue;
    }
    // "\n" in the SDM text stands for a line break: the SDM's answer may be several lines
    lines.splice(i, 1, ...fix.sdm.split('\\n'));
    notes.push(`@@ sdm line ${i + 1}: QEMU printed "${fix.qemu}"; golden has the SDM's answer. ${fix.why}`);
  }
  const head = [`@@ fixture ${name}`, run.header, ...notes];
  const tail = [...(finalNewline ? [] : ['@@ note: the guest output did not end with a newline']), `@@ exit ${run.outcome}`];
  return [...head, ...lines, ...tail].join('\n') + '\n';
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const check = argv.includes('--check');
  const bochs = argv.includes('--bochs');
  const names = argv.filter((a) => !a.startsWith('--'));
  ensure('nasm', 'nasm');
  ensure('qemu-system-x86_64', 'qemu-system-x86');
  if (bochs) ensure('bochs', 'bochs');
  const build = spawnSync('sh', [join(root, 'fixtures', 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('fixtures/build.sh failed');
  const qemuVersion = (spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout ?? '')
    .split('\n')[0]!.replace(/^QEMU emulator version /, 'QEMU ');
  const all = readdirSync(sysDir).filter((f) => f.endsWith('.asm')).map((f) => f.slice(0, -4)).sort();
  const list = names.length ? names : all;
  let bad = 0;
  for (const name of list) {
    if (!all.includes(name)) throw new Error(`no fixture fixtures/system/${name}.asm`);
    const d = parseDirectives(readFileSync(join(sysDir, `${name}.asm`), 'utf8'));
    let q = runQemu(name, d, qemuVersion);
    if (d.golden === 'bochs') {
      // QEMU lacks checks this fixture depends on; its outcome is recorded, the golden is Bochs'.
      ensure('bochs', 'bochs');
      const b = runBochs(name, d);
      q = {
        text: b.text,
        outcome: b.outcome,
        header: [
          `@@ oracle Bochs 2.7 (cpu ${d.bochsCpu}, ignore_bad_msrs=0; see scripts/oracle-qemu.ts runBochs) instead of QEMU: ${d.goldenWhy}`,
          `@@ qemu ${q.header.replace(/^@@ oracle /, '')} -> ${q.outcome}, ${q.text.split('\n').length - 1} line(s) of output`,
        ].join('\n'),
      };
    }
    let g = golden(name, d, q);
    if (d.regs === 'shutdown' && d.golden === 'qemu') {
      const regs = await qemuRegsAtShutdown(name, d);
      const how = '@@ regs: QEMU rerun with -action shutdown=pause -monitor stdio, HMP `info registers` at the shutdown';
      g = g.replace(/(@@ exit [^\n]*\n)$/, `${how}\n${regs.join('\n')}\n$1`);
    }
    const path = join(sysDir, `${name}.golden`);
    const old = existsSync(path) ? readFileSync(path, 'latin1') : null;
    if (q.outcome.startsWith('timeout') || q.outcome.startsWith('qemu status')) {
      console.error(`${name}: ${q.outcome}; golden not written`);
      bad++;
      continue;
    }
    if (check) {
      if (old !== g) { console.error(`${name}: golden differs`); bad++; } else console.log(`${name}: ok`);
    } else if (old !== g) {
      writeFileSync(path, g, 'latin1');
      console.log(`${name}: ${old === null ? 'written' : 'CHANGED'} (${q.outcome})`);
    } else console.log(`${name}: unchanged`);
    if (bochs) {
      const b = runBochs(name, d);
      mkdirSync(join(sysDir, 'bochs'), { recursive: true });
      const bt = `@@ fixture ${name} (Bochs 2.7, cpu ${d.bochsCpu})\n${b.text}${b.text.endsWith('\n') || !b.text ? '' : '\n'}@@ exit ${b.outcome}\n`;
      writeFileSync(join(sysDir, 'bochs', `${name}.out`), bt, 'latin1');
      const gBody = g.split('\n').filter((l) => !l.startsWith('@@'));
      const bBody = bt.split('\n').filter((l) => !l.startsWith('@@'));
      const gExit = g.split('\n').find((l) => l.startsWith('@@ exit'));
      const bExit = bt.split('\n').find((l) => l.startsWith('@@ exit'));
      const diffs: string[] = [];
      for (let i = 0; i < Math.max(gBody.length, bBody.length); i++) {
        if (gBody[i] !== bBody[i]) diffs.push(`  line ${i + 1}: golden "${gBody[i] ?? ''}" bochs "${bBody[i] ?? ''}"`);
      }
      if (gExit !== bExit) diffs.push(`  exit: golden "${gExit}" bochs "${bExit}"`);
      console.log(diffs.length ? `${name}: Bochs differs\n${diffs.join('\n')}` : `${name}: Bochs agrees`);
    }
  }
  if (bad) {
    console.error(`${bad} problem(s)`);
    process.exit(1);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
