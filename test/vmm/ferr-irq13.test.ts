/**
 * FERR#: with CR0.NE = 0 (MS-DOS compatible x87 error reporting, SDM Vol. 1 §8.7, Vol. 3A §2.5) a
 * pending unmasked x87 exception at the next waiting instruction asserts FERR#, which a PC routes to
 * IRQ 13 on the slave 8259 (with CR0.NE = 1 the same instruction raises #MF instead: fixture
 * exc_fpu and test/cpu/fpu/x87.test.ts).
 */
import { describe, it } from 'vitest';
import { TestGuest, HARNESS_PORTS } from '../../src/testing.js';

const SYNC = [0xba, HARNESS_PORTS.SYNC & 0xff, HARNESS_PORTS.SYNC >> 8, 0x66, 0xef]; // mov dx, port; out dx, eax (16-bit code)
// fninit; fnstcw [0x600]; and word [0x600], ~4 (unmask ZE); fldcw [0x600]; fldz; fld1; fdiv st0, st1
const DIV_BY_ZERO = [
  0xdb, 0xe3, 0xd9, 0x3e, 0x00, 0x06, 0x83, 0x26, 0x00, 0x06, 0xfb, 0xd9, 0x2e, 0x00, 0x06,
  0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xf1,
];
// mov al, 0x0a; out 0xa0, al (OCW3: read IRR); in al, 0xa0; movzx eax, al
const READ_SLAVE_IRR = [0xb0, 0x0a, 0xe6, 0xa0, 0xe4, 0xa0, 0x66, 0x0f, 0xb6, 0xc0];

describe('x87 errors with CR0.NE = 0', () => {
  it('FWAIT with a pending unmasked divide-by-zero raises IRQ 13 (slave 8259 IRR bit 5) and goes on', () => {
    // real mode after RESET: CR0 = 60000010H, so NE = 0
    const g = TestGuest.flat([...DIV_BY_ZERO, 0x9b /* fwait */, ...READ_SLAVE_IRR, ...SYNC], { mode: 'real' });
    g.expectSync(1 << 5);
  });

  it('without the waiting instruction nothing is signalled', () => {
    const g = TestGuest.flat([...DIV_BY_ZERO, ...READ_SLAVE_IRR, ...SYNC], { mode: 'real' });
    g.expectSync(0);
  });
});
