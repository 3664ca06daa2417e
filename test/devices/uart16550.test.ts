/**
 * 16550A tests; expected values from the PC16550D datasheet (register reset values, Table IV
 * interrupt priorities, FIFO trigger levels and the character timeout) and the init sequences of
 * the OSDev serial example and Linux's 8250 autoconfig.
 */
import { describe, expect, it } from 'vitest';
import { Uart16550, COM1_PORT } from '../../src/devices/uart16550.js';
import { LatchedIrqLine } from '../../src/devices/irq-line.js';
import { VirtualClock } from '../../src/time/clock.js';
import { IoBus } from '../../src/devices/bus.js';
import { snapshotRoundTrip } from './snapshot-suite.js';

const RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

function rig(opts: { out2GatesIrq?: boolean } = {}): { clock: VirtualClock; u: Uart16550; irq: LatchedIrqLine; out: number[] } {
  const clock = new VirtualClock();
  const irq = new LatchedIrqLine();
  const out: number[] = [];
  const u = new Uart16550(clock, irq, { onOutput: (b) => out.push(...b), ...opts });
  return { clock, u, irq, out };
}

describe('16550A registers', () => {
  it('reset values: IER 0, IIR 01, LCR 0, MCR 0, LSR 60, MSR inputs (CTS DSR DCD), SCR 0', () => {
    const { u } = rig();
    expect([u.read(IER), u.read(IIR), u.read(LCR), u.read(MCR), u.read(LSR), u.read(MSR), u.read(SCR)]).toEqual([
      0x00, 0x01, 0x00, 0x00, 0x60, 0xb0, 0x00,
    ]);
  });

  it('divisor latch: DLAB selects DLL/DLM at offsets 0/1 without touching THR or IER', () => {
    const { u, out } = rig();
    u.write(LCR, 0x80);
    u.write(DLL, 0x01);
    u.write(DLM, 0x00);
    expect(out).toEqual([]);
    expect(u.read(IER)).toBe(0x00); // this is DLM
    u.write(LCR, 0x03);
    expect(u.read(IER)).toBe(0x00);
    expect(u.baud).toBe(115200);
    u.write(LCR, 0x83);
    expect([u.read(DLL), u.read(DLM)]).toEqual([0x01, 0x00]);
    u.write(DLL, 0x80);
    u.write(DLM, 0x01);
    u.write(LCR, 0x03);
    expect(u.baud).toBe(300); // divisor 0x180 = 384
  });

  it('IER keeps bits 0-3 only; scratch holds any byte; LSR/MSR writes are ignored', () => {
    const { u } = rig();
    u.write(IER, 0xff);
    expect(u.read(IER)).toBe(0x0f);
    u.write(SCR, 0x5a);
    expect(u.read(SCR)).toBe(0x5a);
    u.write(LSR, 0x00);
    u.write(MSR, 0x00);
    expect(u.read(LSR)).toBe(0x60);
    expect(u.read(MSR)).toBe(0xb0);
    u.write(MCR, 0xff);
    expect(u.read(MCR)).toBe(0x1f);
  });

  it('transmits THR bytes to the output hook and buffer; THRE and TEMT stay set', () => {
    const { u, out } = rig();
    for (const c of 'hi\n') u.write(THR, c.charCodeAt(0));
    expect(out).toEqual([0x68, 0x69, 0x0a]);
    expect(u.takeOutputText()).toBe('hi\n');
    expect(u.takeOutput().length).toBe(0);
    expect(u.read(LSR) & 0x60).toBe(0x60);
  });

  it('OSDev init sequence and loopback self-test return the byte sent', () => {
    const { u, out } = rig();
    u.write(IER, 0x00); // disable all interrupts
    u.write(LCR, 0x80); // DLAB
    u.write(DLL, 0x03); // 38400 baud
    u.write(DLM, 0x00);
    u.write(LCR, 0x03); // 8N1
    u.write(FCR, 0xc7); // FIFO on, clear both, 14-byte trigger
    u.write(MCR, 0x0b); // DTR, RTS, OUT2
    u.write(MCR, 0x1e); // loopback, RTS, OUT1, OUT2
    u.write(THR, 0xae);
    expect(u.read(RBR)).toBe(0xae);
    expect(out).toEqual([]); // loopback keeps it off the wire
    u.write(MCR, 0x0f);
    expect(u.baud).toBe(38400);
  });

  it('Linux 8250 autoconfig: IER probe, FIFO detection as 16550A (IIR bits 7:6 = 11), no 16750 bit', () => {
    const { u } = rig();
    u.write(IER, 0x00);
    expect(u.read(IER) & 0x0f).toBe(0);
    u.write(IER, 0x0f);
    expect(u.read(IER) & 0x0f).toBe(0x0f);
    u.write(IER, 0x00);
    u.write(FCR, 0x01);
    expect(u.read(IIR) >> 6).toBe(3);
    u.write(LCR, 0xbf); // UART_LCR_CONF_MODE_B: the 16650 EFR probe reads offset 2
    expect(u.read(2)).not.toBe(0);
    u.write(LCR, 0x00);
    u.write(FCR, 0x21); // FIFO enable + 64-byte bit (16750)
    expect(u.read(IIR) & 0xe0).toBe(0xc0);
    u.write(FCR, 0x00);
    expect(u.read(IIR)).toBe(0x01);
  });
});

describe('16550A receive, FIFO and interrupts', () => {
  it('non-FIFO mode: one byte in RBR raises RDA (IIR 04); reading it clears', () => {
    const { u, irq } = rig();
    u.write(MCR, 0x08);
    u.write(IER, 0x01);
    u.feed('AB');
    expect(irq.level).toBe(true);
    expect(u.read(IIR)).toBe(0x04);
    expect(u.read(LSR) & 0x01).toBe(1);
    expect(u.pendingInput).toBe(1); // 16450 mode holds one byte; the rest waits host-side
    expect(u.read(RBR)).toBe(0x41);
    expect(u.read(RBR)).toBe(0x42);
    expect(u.read(IIR)).toBe(0x01);
    expect(irq.level).toBe(false);
    expect(u.read(LSR) & 0x01).toBe(0);
    expect(u.read(RBR)).toBe(0x42); // an empty RBR reads its last byte
  });

  for (const [fcr, level] of [[0x01, 1], [0x41, 4], [0x81, 8], [0xc1, 14]] as const) {
    it(`FIFO trigger level ${level} (FCR ${fcr.toString(16)}): RDA at ${level} bytes, not before`, () => {
      const { u } = rig();
      u.write(FCR, fcr);
      u.write(IER, 0x01);
      if (level > 1) {
        u.feed(new Uint8Array(level - 1));
        expect(u.read(IIR)).toBe(0xc1);
      }
      u.feed([0x55]);
      expect(u.read(IIR)).toBe(0xc4);
      u.read(RBR);
      expect(u.read(IIR)).toBe(0xc1); // below the trigger again (or empty)
    });
  }

  it('FIFO holds 16 bytes; further host input waits and refills as the guest reads', () => {
    const { u } = rig();
    u.write(FCR, 0x07);
    u.feed(Array.from({ length: 20 }, (_, i) => i));
    expect(u.pendingInput).toBe(4);
    const got: number[] = [];
    while (u.read(LSR) & 0x01) got.push(u.read(RBR));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('a large host feed is delivered in order as the guest drains the FIFO', () => {
    const { u } = rig();
    u.write(FCR, 0x01);
    const data = Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);
    u.feed(data);
    expect(u.pendingInput).toBe(100_000 - 16);
    let ok = true;
    for (let i = 0; i < data.length; i++) if (u.read(RBR) !== data[i]) ok = false;
    expect(ok).toBe(true);
    expect(u.pendingInput).toBe(0);
    expect(u.read(LSR) & 1).toBe(0);
  });

  it('Linux serial8250 THRE re-assert probe: IER=THRI, read IIR, IER=0, IER=THRI again shows THRE again', () => {
    const { u } = rig();
    u.write(IER, 0x02);
    const iir1 = u.read(IIR);
    u.write(IER, 0x00);
    u.write(IER, 0x02);
    const iir = u.read(IIR);
    u.write(IER, 0x00);
    expect(iir1 & 0x0f).toBe(0x02);
    expect(iir & 0x01).toBe(0); // not UART_IIR_NO_INT: no UART_BUG_THRE
  });

  it('character timeout: bytes below the trigger raise IIR 0C four character times after the last activity', () => {
    const { u, irq, clock } = rig();
    u.write(LCR, 0x80);
    u.write(DLL, 1); // 115200 baud
    u.write(DLM, 0);
    u.write(LCR, 0x03); // 8N1: 10 bits a character
    u.write(FCR, 0xc7);
    u.write(IER, 0x01);
    u.write(MCR, 0x08);
    clock.advanceTo(1000);
    u.feed('abc');
    // 4 * 10 bits / 115200 baud = 347222.2 ns
    clock.advanceTo(1000 + 347_222);
    expect(irq.level).toBe(false);
    clock.advanceTo(1000 + 347_223);
    expect(irq.level).toBe(true);
    expect(u.read(IIR)).toBe(0xcc);
    expect(u.read(RBR)).toBe(0x61); // a read clears the timeout and restarts the timer
    expect(u.read(IIR)).toBe(0xc1);
    clock.advanceBy(347_223);
    expect(u.read(IIR)).toBe(0xcc);
    u.read(RBR);
    u.read(RBR);
    clock.advanceBy(10_000_000);
    expect(u.read(IIR)).toBe(0xc1); // an empty FIFO never times out
  });

  it('the timeout follows the frame: 7E2 at 9600 baud is 4 * 11 bits = 4583334 ns', () => {
    const { u, clock } = rig();
    u.write(LCR, 0x80);
    u.write(DLL, 12);
    u.write(DLM, 0);
    u.write(LCR, 0x1e); // 7 data bits, 2 stop, parity even
    u.write(FCR, 0xc1);
    u.write(IER, 0x01);
    u.feed('x');
    clock.advanceTo(4_583_333);
    expect(u.read(IIR)).toBe(0xc1);
    clock.advanceTo(4_583_334);
    expect(u.read(IIR)).toBe(0xcc);
  });

  it('THRE interrupt: raised when ETBEI is enabled with THR empty, cleared by reading IIR, re-raised by a THR write', () => {
    const { u, irq } = rig();
    u.write(MCR, 0x08);
    u.write(IER, 0x02);
    expect(irq.risingEdges).toBe(1);
    expect(u.read(IIR)).toBe(0x02);
    expect(u.read(IIR)).toBe(0x01);
    expect(irq.level).toBe(false);
    u.write(THR, 0x41);
    expect(irq.risingEdges).toBe(2);
    u.write(THR, 0x42); // without reading IIR: the line still makes an edge
    expect(irq.risingEdges).toBe(3);
    u.write(IER, 0x00);
    expect(irq.level).toBe(false);
  });

  it('RLS interrupt: a parity error in the FIFO head shows in LSR and IIR 06; reading LSR clears it', () => {
    const { u } = rig();
    u.write(FCR, 0x01);
    u.write(IER, 0x05);
    u.feed('o');
    u.feedError(0x6b, 'parity');
    expect(u.read(IIR)).toBe(0xc4); // RDA for 'o' (trigger 1); the error is not at the head yet
    expect(u.read(LSR)).toBe(0xe1); // DR, THRE, TEMT, FIFO error
    expect(u.read(RBR)).toBe(0x6f);
    expect(u.read(IIR)).toBe(0xc6); // now the bad byte is at the head: RLS outranks RDA
    expect(u.read(LSR)).toBe(0xe5); // PE | DR | THRE | TEMT | FIFO error
    expect(u.read(IIR)).toBe(0xc4);
    expect(u.read(RBR)).toBe(0x6b);
    expect(u.read(LSR)).toBe(0x60);
  });

  it('break and framing errors; 16450 mode shows a byte\'s error as it arrives', () => {
    const { u } = rig();
    u.write(IER, 0x04);
    u.feedError(0x33, 'break');
    expect(u.read(IIR)).toBe(0x06);
    expect(u.read(LSR)).toBe(0x71); // BI, DR, THRE, TEMT
    expect(u.read(RBR)).toBe(0x00);
    u.feedError(0x33, 'framing');
    expect(u.read(LSR)).toBe(0x69);
  });

  it('overrun (OE) through loopback: 16450 mode overwrites RBR, FIFO mode drops the 17th byte', () => {
    const { u } = rig();
    u.write(MCR, 0x10);
    u.write(THR, 1);
    u.write(THR, 2);
    expect(u.read(LSR) & 0x02).toBe(0x02);
    expect(u.read(LSR) & 0x02).toBe(0x00);
    expect(u.read(RBR)).toBe(2);
    u.write(FCR, 0x01);
    for (let i = 0; i < 17; i++) u.write(THR, i);
    expect(u.read(LSR) & 0x03).toBe(0x03);
    const got: number[] = [];
    while (u.read(LSR) & 0x01) got.push(u.read(RBR));
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  it('interrupt priority RLS > RDA > THRE > MSR, each cleared its own way', () => {
    const { u } = rig();
    u.write(IER, 0x0f);
    u.setModemInputs({ dcd: false });
    expect(u.read(IIR)).toBe(0x02); // enabling ETBEI raised THRE, above MSR
    expect(u.read(IIR)).toBe(0x00); // THRE cleared by that read: MSR now
    u.feedError(0x11, 'framing');
    expect(u.read(IIR)).toBe(0x06);
    u.read(LSR);
    expect(u.read(IIR)).toBe(0x04);
    u.read(RBR);
    expect(u.read(IIR)).toBe(0x00);
    expect(u.read(MSR)).toBe(0x38); // CTS, DSR, DDCD
    expect(u.read(IIR)).toBe(0x01);
  });

  it('FCR: clearing the RX FIFO and toggling FIFO enable discard received bytes', () => {
    const { u } = rig();
    u.write(FCR, 0x01);
    u.feed('xyz');
    u.write(FCR, 0x03);
    expect(u.read(LSR) & 1).toBe(0);
    u.feed('q');
    u.write(FCR, 0x00);
    expect(u.read(LSR) & 1).toBe(0);
    expect(u.read(IIR)).toBe(0x01);
  });
});

describe('16550A modem control and loopback', () => {
  it('loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD with delta bits', () => {
    const { u } = rig();
    u.write(MCR, 0x10);
    expect(u.read(MSR)).toBe(0x0b); // CTS, DSR, DCD fell: DCTS, DDSR, DDCD
    u.write(MCR, 0x11);
    expect(u.read(MSR)).toBe(0x22); // DSR, DDSR
    u.write(MCR, 0x1f);
    expect(u.read(MSR)).toBe(0xf9); // all lines; DCTS, DDCD (RI rose: TERI is for a falling RI only)
    u.write(MCR, 0x1b);
    expect(u.read(MSR)).toBe(0xb4); // RI fell: TERI
  });

  it('the IRQ leaves the chip only with OUT2 set and loopback off (PC wiring)', () => {
    const { u, irq } = rig();
    u.write(IER, 0x02);
    expect(u.read(IIR)).toBe(0x02); // pending internally (and cleared by this read)
    u.write(THR, 0);
    expect(irq.level).toBe(false);
    u.write(MCR, 0x08);
    expect(irq.level).toBe(true);
    u.write(MCR, 0x18);
    expect(irq.level).toBe(false);
    const other = rig({ out2GatesIrq: false });
    other.u.write(IER, 0x02);
    expect(other.irq.level).toBe(true);
  });
});

describe('16550A on the bus and snapshot', () => {
  it('attaches 8 ports at COM1 and splits wider accesses into bytes', () => {
    const bus = new IoBus();
    const { u } = rig();
    u.attach(bus);
    expect(bus.find(COM1_PORT + 7)?.name).toBe('uart16550');
    bus.write(COM1_PORT + 7, 1, 0x99);
    expect(bus.read(COM1_PORT + 6, 2)).toBe(0x99b0);
  });

  snapshotRoundTrip('uart16550', {
    make: () => {
      const r = rig();
      r.u.write(LCR, 0x80);
      r.u.write(DLL, 3);
      r.u.write(LCR, 0x03);
      r.u.write(FCR, 0xc1);
      r.u.write(IER, 0x0f);
      r.u.write(MCR, 0x0b);
      r.u.feed(new Uint8Array(20).fill(0x41));
      r.u.feedError(0x42, 'parity');
      r.clock.advanceBy(100);
      return { device: r.u, clock: r.clock };
    },
    fresh: (cs) => {
      const clock = new VirtualClock();
      const u = new Uart16550(clock, new LatchedIrqLine());
      if (cs) clock.restoreState(cs);
      return { device: u, clock };
    },
    mutate: (u) => u.write(SCR, 0x77),
  });
});
