/**
 * The platform of the QEMU-golden system fixtures (docs/system-fixtures.md): a 64-KiB ROM at
 * 0xFFFF0000 aliased at 0xF0000, 32 MiB RAM, reset vector F000:FFF0, text on port 0xE9, stop via
 * isa-debug-exit at 0xF4. Checked here with ROMs built in the test; the golden comparison itself
 * belongs to the system-architecture work (issue 5) and uses the same runSystemFixture.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runSystemFixture, parseGolden } from '../../src/testing.js';

/** A ROM whose reset vector (F000:FFF0) jumps to `code` at F000:0000. */
function rom(code: number[]): Uint8Array {
  const r = new Uint8Array(0x1_0000);
  r.set(code, 0);
  r.set([0xe9, 0x0d, 0x00], 0xfff0); // jmp near 0000 (IP wraps at 64 KiB: 0xFFF3 + 0x000D)
  return r;
}

describe('system fixture platform', () => {
  it('starts at F000:FFF0 in real mode with the ROM aliased below 1 MiB; 0xE9 text and a debug-exit status', () => {
    const r = runSystemFixture(rom([
      0xb0, 0x6f, 0xe6, 0xe9, // mov al,'o' ; out 0xe9,al
      0xb0, 0x6b, 0xe6, 0xe9, // mov al,'k' ; out 0xe9,al
      0xb0, 0x0a, 0xe6, 0xe9, // mov al,10  ; out 0xe9,al
      0xb0, 0x00, 0xe6, 0xf4, // mov al,0   ; out 0xf4,al
    ]));
    expect(r).toMatchObject({ console: 'ok\n', outcome: 'debug-exit 0x00' });
    const v = r.machine.vcpus[0]!.getSpecialRegisters();
    expect(v.cs.selector).toBe(0xf000);
  });

  it('reports a triple fault as the goldens do', () => {
    // ud2 in real mode with an IDTR limit of 0: #UD -> #GP -> #DF -> shutdown (SDM Vol. 3A §20.1.4:
    // an IVT entry beyond the limit is a #GP).
    const r = runSystemFixture(rom([0x0f, 0x0b]), {
      setup: (m) => {
        const v = m.vcpus[0]!;
        v.setSpecialRegisters({ ...v.getSpecialRegisters(), idt: { base: 0n, limit: 0 } });
      },
    });
    expect(r.outcome).toBe('triple-fault');
    expect(r.console).toBe('');
  });

  it('parses a golden file: console lines and the outcome without its comment', () => {
    const g = parseGolden(readFileSync(new URL('../../fixtures/system/smoke.golden', import.meta.url), 'utf8'));
    expect(g.console.startsWith('real mode\n')).toBe(true);
    expect(g.outcome).toBe('debug-exit 0x00');
    const t = parseGolden('@@ fixture x\nline\n@@ exit triple-fault (QEMU -no-reboot: shutdown on the reset request)\n');
    expect(t).toEqual({ console: 'line\n', outcome: 'triple-fault' });
  });
});
