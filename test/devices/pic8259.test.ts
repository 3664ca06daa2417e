/**
 * Dual 8259A tests. Expected values follow the Intel 8259A datasheet (231468) and the PIIX ELCR;
 * the init sequences are the ones Linux (arch/x86/kernel/i8259.c) and FreeBSD (sys/x86/isa/atpic.c) use.
 */
import { describe, expect, it } from 'vitest';
import { Pic8259 } from '../../src/devices/pic8259.js';
import { LatchedIrqLine } from '../../src/devices/irq-line.js';
import { IoBus } from '../../src/devices/bus.js';
import { snapshotRoundTrip } from './snapshot-suite.js';

/** Linux init_8259A(auto_eoi = 0), byte by byte. */
function linuxInit(pic: Pic8259, autoEoi = false): void {
  pic.writePort(0x21, 0xff); // mask all of 8259A-1
  pic.writePort(0xa1, 0xff); // mask all of 8259A-2
  pic.writePort(0x20, 0x11); // ICW1: edge, cascade (SNGL=0), ICW4 needed
  pic.writePort(0x21, 0x30); // ICW2: IR0-7 -> vectors 0x30-0x37 (ISA_IRQ_VECTOR(0))
  pic.writePort(0x21, 0x04); // ICW3: master has a slave on IR2
  pic.writePort(0x21, autoEoi ? 0x03 : 0x01); // ICW4: 8086 mode (+ AEOI)
  pic.writePort(0xa0, 0x11); // ICW1: select 8259A-2 init
  pic.writePort(0xa1, 0x38); // ICW2: IR0-7 -> vectors 0x38-0x3f
  pic.writePort(0xa1, 0x02); // ICW3: slave identity 2 (on master IR2)
  pic.writePort(0xa1, 0x01); // ICW4: 8086 mode, normal EOI
  pic.writePort(0x21, 0xfb); // restore cached master mask: all but the cascade
  pic.writePort(0xa1, 0xff); // restore cached slave mask
}

/** FreeBSD atpic i8259_init for both chips (BIOS-style bases 0x20/0x28, no AEOI). */
function freebsdInit(pic: Pic8259): void {
  // master
  pic.writePort(0x20, 0x11); // ICW1_RESET | ICW1_IC4
  pic.writePort(0x21, 0x20); // ICW2: at_intbase = IDT_IO_INTS (32)
  pic.writePort(0x21, 0x04); // ICW3: IRQ_MASK(ICU_SLAVEID), slave on IR2
  pic.writePort(0x21, 0x01); // ICW4: MASTER_MODE = ICW4_8086
  pic.writePort(0x21, 0xff); // OCW1: at_imen, all masked
  pic.writePort(0x20, 0x0a); // OCW3_SEL | OCW3_RR: read IRR
  pic.writePort(0x20, 0xc2); // OCW2_R | OCW2_SL | OCW2_L1: IR2 lowest, so 3-7, 0-2 (com2 first)
  // slave
  pic.writePort(0xa0, 0x11);
  pic.writePort(0xa1, 0x28); // ICW2: 32 + 8
  pic.writePort(0xa1, 0x02); // ICW3: ICU_SLAVEID
  pic.writePort(0xa1, 0x01); // ICW4: SLAVE_MODE = ICW4_8086
  pic.writePort(0xa1, 0xff);
  pic.writePort(0xa0, 0x0a);
}

function setup(autoEoi = false): { pic: Pic8259; int: LatchedIrqLine } {
  const int = new LatchedIrqLine();
  const pic = new Pic8259(int);
  linuxInit(pic, autoEoi);
  return { pic, int };
}

describe('8259A initialisation', () => {
  it('linux_init: vector bases from ICW2, masks from OCW1, no request', () => {
    const { pic, int } = setup();
    expect(pic.vectorBases).toEqual([0x30, 0x38]);
    expect(pic.readPort(0x21)).toBe(0xfb);
    expect(pic.readPort(0xa1)).toBe(0xff);
    expect(pic.hasInterrupt()).toBe(false);
    expect(int.level).toBe(false);
  });

  it('icw1_resets_state: IMR cleared, ISR cleared, IRR edge latches cleared, reads select IRR', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
    pic.setIrq(3, true);
    pic.writePort(0x20, 0x0b); // read ISR
    expect(pic.readPort(0x20)).toBe(0x02);
    pic.writePort(0x21, 0x55);
    pic.writePort(0x20, 0x11); // ICW1 again
    expect(pic.readPort(0x21)).toBe(0x00); // "IMR is cleared"
    pic.writePort(0x21, 0x40); // ICW2
    pic.writePort(0x21, 0x04); // ICW3
    pic.writePort(0x21, 0x01); // ICW4
    expect(pic.readPort(0x20)).toBe(0x00); // IRR (not ISR): edge latches reset, the high IRQ1/3 do not re-request
    pic.writePort(0x20, 0x0b);
    expect(pic.readPort(0x20)).toBe(0x00); // ISR cleared
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('icw_2_step: without IC4 and in single mode only ICW2 follows ICW1', () => {
    const pic = new Pic8259();
    pic.writePort(0x20, 0x12); // ICW1: SNGL=1, IC4=0
    pic.writePort(0x21, 0x08); // ICW2: vectors 0x08-0x0f
    pic.writePort(0x21, 0xfe); // OCW1 already: mask all but IR0
    expect(pic.readPort(0x21)).toBe(0xfe);
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x08);
  });

  it('icw2 ignores the low three bits of the vector base (T7-T3 only)', () => {
    const pic = new Pic8259();
    pic.writePort(0x20, 0x13);
    pic.writePort(0x21, 0x0f);
    pic.writePort(0x21, 0x01);
    pic.writePort(0x21, 0x00);
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x0d);
  });

  it('freebsd_init: set-priority command makes IR3 the highest priority (IR2 lowest)', () => {
    const int = new LatchedIrqLine();
    const pic = new Pic8259(int);
    freebsdInit(pic);
    pic.writePort(0x21, 0x00);
    pic.setIrq(0, true);
    pic.setIrq(4, true);
    pic.setIrq(3, true);
    // priority order 3,4,5,6,7,0,1,2
    expect(pic.acknowledge()).toBe(0x23);
    pic.writePort(0x20, 0x20); // OCW2_EOI, non-specific
    expect(pic.acknowledge()).toBe(0x24);
    pic.writePort(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x20);
    pic.writePort(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('detects the PIC the way Linux probe_8259A does: the IMR reads back 0xa5', () => {
    const pic = new Pic8259();
    pic.writePort(0xa1, 0xff);
    pic.writePort(0x21, 0xa5);
    expect(pic.readPort(0x21)).toBe(0xa5);
  });
});

describe('8259A requests, priority and EOI', () => {
  it('presents the highest priority request, IR0 first, then nested after EOI', () => {
    const { pic, int } = setup();
    pic.writePort(0x21, 0x00);
    pic.setIrq(4, true);
    pic.setIrq(1, true);
    expect(int.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x31);
    // IR4 is lower priority than the in-service IR1: fully nested mode holds it back
    expect(pic.hasInterrupt()).toBe(false);
    expect(int.level).toBe(false);
    // but a higher-priority IR0 interrupts IR1's handler
    pic.setIrq(0, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x30);
    pic.writePort(0x20, 0x0b);
    expect(pic.readPort(0x20)).toBe(0x03); // ISR: IR0 and IR1
    pic.writePort(0x20, 0x20); // non-specific EOI clears the highest in service: IR0
    expect(pic.readPort(0x20)).toBe(0x02);
    pic.writePort(0x20, 0x20);
    expect(pic.readPort(0x20)).toBe(0x00);
    expect(pic.acknowledge()).toBe(0x34);
  });

  it('specific EOI (Linux 0x60 + irq) clears only the named ISR bit', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    pic.setIrq(3, true);
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x33);
    pic.writePort(0x20, 0x65); // specific EOI IR5: not in service, no effect on IR3
    pic.writePort(0x20, 0x0b);
    expect(pic.readPort(0x20)).toBe(0x08);
    pic.writePort(0x20, 0x63);
    expect(pic.readPort(0x20)).toBe(0x00);
    expect(pic.acknowledge()).toBe(0x35);
  });

  it('reads IRR or ISR per OCW3 RR/RIS, and the setting persists', () => {
    const { pic } = setup();
    pic.setIrq(6, true); // masked (0xfb): still latched in IRR
    pic.setIrq(7, true);
    pic.writePort(0x20, 0x0a);
    expect(pic.readPort(0x20)).toBe(0xc0);
    expect(pic.readPort(0x20)).toBe(0xc0);
    pic.writePort(0x20, 0x0b);
    expect(pic.readPort(0x20)).toBe(0x00);
    pic.writePort(0x20, 0x08); // OCW3 with RR=0: no change to the read selection
    expect(pic.readPort(0x20)).toBe(0x00);
  });

  it('masking holds a request in IRR; unmasking delivers it', () => {
    const { pic, int } = setup();
    pic.setIrq(1, true);
    expect(int.level).toBe(false);
    pic.writePort(0x21, 0xf9);
    expect(int.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x31);
  });

  it('rotate on non-specific EOI makes the serviced IR the lowest priority (equal priority devices)', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    pic.setIrq(1, true);
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x31);
    pic.writePort(0x20, 0xa0); // rotate on non-specific EOI: IR1 lowest, order 2..7,0,1
    pic.setIrq(0, false);
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x35); // IR5 now beats IR0
    pic.writePort(0x20, 0xa0); // IR5 lowest: order 6,7,0,...
    expect(pic.acknowledge()).toBe(0x30);
  });

  it('rotate on specific EOI and the set-priority command', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    pic.setIrq(6, true);
    expect(pic.acknowledge()).toBe(0x36);
    pic.writePort(0x20, 0xe6); // rotate on specific EOI IR6: IR6 lowest, IR7 highest
    pic.setIrq(7, true);
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x37);
    pic.writePort(0x20, 0x20);
    pic.writePort(0x20, 0xc7); // set priority: IR7 lowest -> IR0 highest again
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x30);
  });

  it('OCW2 no-operation (0x40) changes nothing', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    pic.setIrq(3, true);
    pic.acknowledge();
    pic.writePort(0x20, 0x40);
    pic.writePort(0x20, 0x0b);
    expect(pic.readPort(0x20)).toBe(0x08);
  });
});

describe('8259A poll, special mask mode, auto-EOI', () => {
  it('poll: the read returns 0x80 | level and acts as the acknowledge; 0 when nothing is pending', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    pic.writePort(0x20, 0x0c); // OCW3 P=1
    expect(pic.readPort(0x20)).toBe(0x00);
    pic.setIrq(5, true);
    pic.writePort(0x20, 0x0c);
    expect(pic.readPort(0x20)).toBe(0x85);
    pic.writePort(0x20, 0x0b);
    expect(pic.readPort(0x20)).toBe(0x20); // IR5 in service
    expect(pic.readPort(0x20)).toBe(0x20); // the poll applied to one read only
  });

  it('special mask mode: masking an in-service level lets lower priorities through', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    pic.setIrq(2 + 1, true);
    expect(pic.acknowledge()).toBe(0x33); // IR3 in service
    pic.setIrq(6, true);
    expect(pic.hasInterrupt()).toBe(false); // nested: IR6 blocked by IR3
    pic.writePort(0x20, 0x68); // OCW3 ESMM=1 SMM=1
    pic.writePort(0x21, 0x08); // mask IR3 (in service)
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x36);
    pic.writePort(0x20, 0x48); // reset special mask mode
    pic.writePort(0x21, 0x00);
    pic.setIrq(7, true);
    expect(pic.hasInterrupt()).toBe(false); // IR3 and IR6 in service block again
  });

  it('auto-EOI: no ISR bit is set and the next request is presented at once', () => {
    const { pic } = setup(true);
    pic.writePort(0x21, 0x00);
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x34);
    pic.writePort(0x20, 0x0b);
    expect(pic.readPort(0x20)).toBe(0x00);
    pic.setIrq(6, true);
    expect(pic.acknowledge()).toBe(0x36);
  });

  it('rotate in auto-EOI mode rotates priority on each acknowledge', () => {
    const { pic } = setup(true);
    pic.writePort(0x21, 0x00);
    pic.writePort(0x20, 0x80); // set rotate in AEOI mode
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
    pic.setIrq(0, true);
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x33); // IR1 lowest: IR2.. first
    pic.writePort(0x20, 0x00); // clear rotate in AEOI mode
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x34); // IR3 lowest now: 4 before 0
    pic.setIrq(4, false);
    pic.setIrq(4, true); // IR0 still pending: had IR4 become the lowest, IR0 would win
    expect(pic.acknowledge()).toBe(0x34);
  });
});

describe('8259A cascade and spurious interrupts', () => {
  it('a slave request goes through master IR2 and gives the slave vector; Linux EOIs both', () => {
    const { pic, int } = setup();
    pic.writePort(0xa1, 0xef); // unmask IRQ12 (slave IR4)
    pic.setIrq(12, true);
    expect(int.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x3c);
    pic.writePort(0x20, 0x0b);
    pic.writePort(0xa0, 0x0b);
    expect(pic.readPort(0x20)).toBe(0x04);
    expect(pic.readPort(0xa0)).toBe(0x10);
    pic.writePort(0xa0, 0x64); // specific EOI to slave IR4
    pic.writePort(0x20, 0x62); // specific EOI to master IR2
    expect(pic.readPort(0x20)).toBe(0x00);
    expect(pic.readPort(0xa0)).toBe(0x00);
  });

  it('master priority: IRQ1 beats the cascade (IRQ8-15), which beats IRQ3', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    pic.writePort(0xa1, 0x00);
    pic.setIrq(3, true);
    pic.setIrq(9, true);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
    pic.writePort(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x39);
    pic.writePort(0xa0, 0x20);
    pic.writePort(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x33);
  });

  it('spurious IRQ7: a request withdrawn before INTA gives master base + 7 and sets no ISR bit', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    pic.writePort(0x4d0, 0x08); // IRQ3 level-triggered
    pic.setIrq(3, true);
    expect(pic.hasInterrupt()).toBe(true);
    pic.setIrq(3, false); // withdrawn
    expect(pic.acknowledge()).toBe(0x37);
    pic.writePort(0x20, 0x0b);
    expect(pic.readPort(0x20)).toBe(0x00); // Linux's i8259A_irq_real sees ISR bit 7 clear: spurious
  });

  it('spurious IRQ15: the slave request masked between INT and INTA gives slave base + 7, master IR2 in service', () => {
    const { pic } = setup();
    pic.writePort(0xa1, 0x00);
    pic.setIrq(10, true);
    expect(pic.hasInterrupt()).toBe(true);
    // the slave INT fell, but master IR2 is edge-latched until its INTA
    pic.writePort(0xa1, 0x04);
    expect(pic.acknowledge()).toBe(0x3f);
    pic.writePort(0xa0, 0x0b);
    pic.writePort(0x20, 0x0b);
    expect(pic.readPort(0xa0)).toBe(0x00);
    expect(pic.readPort(0x20)).toBe(0x04); // Linux sends the master an EOI for the spurious IRQ15
  });

  it('special fully nested mode lets a higher slave request through while the cascade is in service', () => {
    const pic = new Pic8259();
    pic.writePort(0x20, 0x11);
    pic.writePort(0x21, 0x08);
    pic.writePort(0x21, 0x04);
    pic.writePort(0x21, 0x11); // ICW4: SFNM, 8086
    pic.writePort(0xa0, 0x11);
    pic.writePort(0xa1, 0x70);
    pic.writePort(0xa1, 0x02);
    pic.writePort(0xa1, 0x01);
    pic.setIrq(13, true);
    expect(pic.acknowledge()).toBe(0x75);
    pic.setIrq(9, true); // higher priority on the slave
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x71);
  });

  it('auto-EOI on the slave with two requests delivers both through the cascade', () => {
    const pic = new Pic8259();
    for (const [p, v] of [[0x20, 0x11], [0x21, 0x08], [0x21, 0x04], [0x21, 0x03], [0xa0, 0x11], [0xa1, 0x70], [0xa1, 0x02], [0xa1, 0x03]] as const) pic.writePort(p, v);
    pic.setIrq(9, true);
    pic.setIrq(11, true);
    expect(pic.acknowledge()).toBe(0x71);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x73);
    expect(pic.hasInterrupt()).toBe(false);
  });
});

describe('8259A edge and level triggering (ELCR)', () => {
  it('write_read_elcr: reserved bits (IRQ0-2, 8, 13) read as 0', () => {
    const pic = new Pic8259();
    pic.writePort(0x4d0, 0xff);
    pic.writePort(0x4d1, 0xff);
    expect(pic.readPort(0x4d0)).toBe(0xf8);
    expect(pic.readPort(0x4d1)).toBe(0xde);
    expect(pic.elcr).toBe(0xdef8);
  });

  it('edge: a pulse latches one request; holding the line high does not repeat it', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    pic.setIrq(4, true);
    pic.setIrq(4, false);
    expect(pic.acknowledge()).toBe(0x34);
    pic.writePort(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x34);
    pic.writePort(0x20, 0x20);
    pic.setIrq(4, true); // still high, no new edge
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('level: the request re-asserts after EOI while the line stays high and vanishes when it falls', () => {
    const { pic, int } = setup();
    pic.writePort(0xa1, 0x00);
    pic.writePort(0x4d1, 0x08); // IRQ11 level (a PCI INTx)
    pic.setIrq(11, true);
    expect(pic.acknowledge()).toBe(0x3b);
    pic.writePort(0xa0, 0x20);
    pic.writePort(0x20, 0x20);
    expect(int.level).toBe(true); // still high: requests again
    expect(pic.acknowledge()).toBe(0x3b);
    pic.setIrq(11, false);
    pic.writePort(0xa0, 0x20);
    pic.writePort(0x20, 0x20);
    expect(int.level).toBe(false);
    pic.writePort(0xa0, 0x0a);
    expect(pic.readPort(0xa0)).toBe(0x00);
  });

  it('ICW1.LTIM makes every input level-triggered', () => {
    const pic = new Pic8259();
    pic.writePort(0x20, 0x1b); // ICW1: LTIM, SNGL, IC4
    pic.writePort(0x21, 0x08);
    pic.writePort(0x21, 0x01);
    pic.setIrq(1, true);
    pic.setIrq(1, false);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('output follows INT and a newly connected line is driven to the current level', () => {
    const { pic, int } = setup();
    pic.writePort(0x21, 0x00);
    pic.setIrq(0, true);
    expect(int.risingEdges).toBe(1);
    const other = new LatchedIrqLine();
    pic.setOutput(other);
    expect(other.level).toBe(true);
    pic.acknowledge();
    expect(other.level).toBe(false);
    expect(int.level).toBe(true); // the old line is no longer driven
  });

  it('rejects IRQ numbers outside 0-15 and unknown ports; IRQ 2 (the cascade) has no effect', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    expect(() => pic.setIrq(16, true)).toThrow(/0-15/);
    expect(() => pic.readPort(0x22)).toThrow(/PIC port/);
    pic.setIrq(2, true);
    expect(pic.hasInterrupt()).toBe(false);
    const line = pic.line(5);
    line.pulse();
    expect(pic.acknowledge()).toBe(0x35);
  });

  it('attaches to the I/O bus at 0x20, 0xA0 and 0x4D0', () => {
    const bus = new IoBus();
    const pic = new Pic8259();
    pic.attach(bus);
    bus.write(0x21, 1, 0x5a);
    expect(bus.read(0x21, 1)).toBe(0x5a);
    bus.write(0x4d1, 1, 0x02);
    expect(pic.elcr).toBe(0x0200);
    bus.write(0x4d0, 2, 0x0820); // one 16-bit OUT sets both ELCR bytes (two byte cycles)
    expect(pic.elcr).toBe(0x0820);
    expect(bus.read(0x4d0, 2)).toBe(0x0820);
    expect(bus.find(0xa1)?.name).toBe('pic-slave');
  });
});

describe('8259A snapshot', () => {
  snapshotRoundTrip('pic8259', {
    make: () => {
      const { pic } = setup();
      pic.writePort(0x21, 0x00);
      pic.writePort(0x4d1, 0x08);
      pic.setIrq(11, true);
      pic.setIrq(4, true);
      pic.acknowledge();
      pic.writePort(0xa0, 0x0b);
      return { device: pic };
    },
    fresh: () => ({ device: new Pic8259() }),
    mutate: (pic) => pic.setIrq(6, true),
  });

  it('restoring drives the output line to the restored INT level', () => {
    const { pic } = setup();
    pic.writePort(0x21, 0x00);
    pic.setIrq(3, true);
    const s = pic.saveState();
    const out = new LatchedIrqLine();
    const other = new Pic8259(out);
    other.restoreState(s);
    expect(out.level).toBe(true);
    expect(other.acknowledge()).toBe(0x33);
  });
});
