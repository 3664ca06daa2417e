/**
 * machine.reset() returns the 8259 pair, the 8254 and COM1 to their power-on state: 16550A master
 * reset values (PC16550D datasheet, reset table: IER 0, IIR 01h, LCR 0, MCR 0, LSR 60h), the 8259A
 * state the ICW1 sequence starts from (IMR cleared, IRR/ISR clear; ELCR 0 = edge), and an 8254 with
 * no count written (read-back status null count, as at power-on).
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/vmm/machine.js';

function out(m: Machine, port: number, v: number): void {
  m.io.dispatchWrite(port, 1, v);
}
function inb(m: Machine, port: number): number {
  m.io.dispatchRead(port, 1);
  return m.io.value & 0xff;
}
/** 8254 read-back command (D7:6 = 11), status only (COUNT = 1), counter 0: the status byte. */
function pitStatus0(m: Machine): number {
  out(m, 0x43, 0xe2);
  return inb(m, 0x40);
}

describe('machine.reset() and the legacy devices', () => {
  it('COM1 to the 16550A reset values, its IRQ line released', () => {
    const m = new Machine({ memoryMiB: 4 });
    out(m, 0x3fb, 0x03); // LCR 8N1
    out(m, 0x3fa, 0xc7); // FCR: FIFOs on, cleared, trigger 14
    out(m, 0x3fc, 0x0b); // MCR: DTR, RTS, OUT2
    out(m, 0x3f9, 0x02); // IER: THRE -> interrupt pending, IRQ 4 asserted
    expect(inb(m, 0x3fa) & 0x0f).toBe(0x02);
    m.reset();
    expect([inb(m, 0x3f9), inb(m, 0x3fa), inb(m, 0x3fb), inb(m, 0x3fc), inb(m, 0x3fd)]).toEqual([0x00, 0x01, 0x00, 0x00, 0x60]);
    // the 8259 input pin 4 is low again: unmasked and edge-triggered, nothing requested
    out(m, 0x20, 0x0a); // OCW3: read IRR
    expect(inb(m, 0x20) & 0x10).toBe(0);
  });

  it('8259 pair: IMR, IRR, ISR and the ELCR cleared', () => {
    const m = new Machine({ memoryMiB: 4 });
    for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfb], [0xa0, 0x11], [0xa1, 0x28], [0xa1, 0x02], [0xa1, 0x01], [0xa1, 0xff], [0x4d0, 0x08]] as const) out(m, p, v);
    expect([inb(m, 0x21), inb(m, 0xa1), inb(m, 0x4d0)]).toEqual([0xfb, 0xff, 0x08]);
    m.reset();
    expect([inb(m, 0x21), inb(m, 0xa1), inb(m, 0x4d0)]).toEqual([0x00, 0x00, 0x00]);
    out(m, 0x20, 0x0b); // OCW3: read ISR
    expect(inb(m, 0x20)).toBe(0);
  });

  it('8254: counter 0 back to no count written (null count), as on a new machine', () => {
    const fresh = pitStatus0(new Machine({ memoryMiB: 4 }));
    expect(fresh & 0x40).toBe(0x40); // NULL COUNT (8254 datasheet, read-back status bit 6)
    const m = new Machine({ memoryMiB: 4 });
    out(m, 0x43, 0x34); // counter 0, LSB then MSB, mode 2
    out(m, 0x40, 0xa9);
    out(m, 0x40, 0x04);
    m.clock.advanceBy(10_000);
    expect(pitStatus0(m) & 0x7f).toBe(0x34); // count loaded, mode 2, LSB/MSB
    m.reset();
    expect(pitStatus0(m)).toBe(fresh);
  });
});
