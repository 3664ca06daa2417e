// The interrupt-controller facade: ISA/GSI routing to the 8259 and IOAPIC, MSI destinations (SDM
// Vol. 3A 10.11, 10.6.2), IPIs between LAPICs, EOI broadcast, ExtINT through LINT0, HPET legacy mux.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/time/clock.js';
import { IrqChip } from '../../src/devices/irqchip.js';
import { ApicReg, Esr, type LocalApic } from '../../src/devices/lapic.js';
import { DeliveryMode, msiAddress, msiData } from '../../src/devices/msi.js';
import { Hpet, HpetTimerCnf } from '../../src/devices/hpet.js';
import { Pit8254 } from '../../src/devices/pit8254.js';

function setup(cpus = 1, opts: { acceptErrors?: boolean } = {}) {
  const clock = new VirtualClock();
  const woken: number[] = [];
  const chip = new IrqChip(clock, { cpus, wake: (c) => woken.push(c), ...opts });
  for (const a of chip.lapics) a.write(ApicReg.SVR, 4, 0x1ff);
  return { clock, chip, woken };
}
/** Linux's init_8259A: ICW1 0x11 (edge, cascade, ICW4), ICW2 0x20/0x28 (vector bases), ICW3 0x04/0x02, ICW4 0x01 (8086 mode). */
function linuxPicInit(chip: IrqChip) {
  const m = chip.pic.masterPorts;
  const s = chip.pic.slavePorts;
  m.write(0, 1, 0x11); // ICW1: edge, cascade, ICW4 needed
  m.write(1, 1, 0x20); // ICW2: IRQ0-7 -> 0x20-0x27
  m.write(1, 1, 0x04); // ICW3: slave on IR2
  m.write(1, 1, 0x01); // ICW4: 8086 mode, normal EOI
  s.write(0, 1, 0x11);
  s.write(1, 1, 0x28); // ICW2: IRQ8-15 -> 0x28-0x2f
  s.write(1, 1, 0x02); // ICW3: cascade identity 2
  s.write(1, 1, 0x01);
  m.write(1, 1, 0x00); // OCW1: unmask all
  s.write(1, 1, 0x00);
}
/** IOAPIC redirection entry for `pin`. */
function ioapicRoute(chip: IrqChip, pin: number, lo: number, dest = 0) {
  chip.ioapic.write(0, 4, 0x11 + 2 * pin);
  chip.ioapic.write(0x10, 4, dest << 24);
  chip.ioapic.write(0, 4, 0x10 + 2 * pin);
  chip.ioapic.write(0x10, 4, lo);
}
const w = (a: LocalApic, reg: number, v: number) => a.write(reg, 4, v);

describe('ISA and GSI routing', () => {
  it('an ISA IRQ reaches the 8259 and, through LINT0 ExtINT, the BSP with the ICW2 vector', () => {
    const { chip, woken } = setup();
    linuxPicInit(chip);
    chip.pulseIsaIrq(4);
    expect(woken).toContain(0);
    expect(chip.extIntPending(0)).toBe(true);
    expect(chip.hasInterrupt(0)).toBe(true);
    expect(chip.acknowledgeInterrupt(0)).toBe(0x24);
    expect(chip.hasInterrupt(0)).toBe(false);
  });

  it('a slave IRQ gives the slave vector through the cascade', () => {
    const { chip } = setup();
    linuxPicInit(chip);
    chip.pulseIsaIrq(12);
    expect(chip.acknowledgeInterrupt(0)).toBe(0x2c);
  });

  it('ISA IRQ 0 goes to IOAPIC pin 2 (not pin 0); other IRQs to their own pin', () => {
    const { chip } = setup();
    const a = chip.lapic(0);
    w(a, ApicReg.LVT_LINT0, 0x10700); // 8259 path masked: only the IOAPIC speaks
    ioapicRoute(chip, 0, 0x40);
    ioapicRoute(chip, 2, 0x30);
    ioapicRoute(chip, 4, 0x34);
    chip.pulseIsaIrq(0);
    expect(a.irrBit(0x30)).toBe(true);
    expect(a.irrBit(0x40)).toBe(false);
    chip.isaLine(4).pulse();
    expect(a.irrBit(0x34)).toBe(true);
    expect(chip.extIntPending(0)).toBe(false);
  });

  it('rejects IRQ 2 (the cascade) and GSIs past 23', () => {
    const { chip } = setup();
    expect(() => chip.isaLine(2)).toThrow(/cascade/);
    expect(() => chip.gsiLine(24)).toThrow(/GSI 24/);
  });

  it('GSI lines are wired-OR: the pin stays high while any source asserts it', () => {
    const { chip } = setup();
    const a = chip.lapic(0);
    ioapicRoute(chip, 17, 0x8000 | 0x51);
    const l1 = chip.gsiLine(17);
    const l2 = chip.gsiLine(17);
    l1.assert();
    l2.assert();
    l1.deassert();
    expect(chip.ioapic.pinLevel(17)).toBe(true);
    l2.deassert();
    expect(chip.ioapic.pinLevel(17)).toBe(false);
    expect(a.irrBit(0x51)).toBe(true);
  });

  it('level-triggered pin: LAPIC EOI broadcast clears remote IRR and re-delivers while asserted', () => {
    const { chip } = setup();
    const a = chip.lapic(0);
    ioapicRoute(chip, 16, 0x8000 | 0x60);
    chip.assertGsi(16);
    expect(chip.acknowledgeInterrupt(0)).toBe(0x60);
    expect(a.tmrBit(0x60)).toBe(true);
    w(a, ApicReg.EOI, 0); // broadcast: still asserted -> delivered again
    expect(a.irrBit(0x60)).toBe(true);
    expect(chip.acknowledgeInterrupt(0)).toBe(0x60);
    chip.deassertGsi(16);
    w(a, ApicReg.EOI, 0);
    expect(a.irrBit(0x60)).toBe(false);
    chip.ioapic.write(0, 4, 0x10 + 32);
    expect(chip.ioapic.read(0x10, 4) & 0x4000).toBe(0);
  });

  it('with suppressed EOI broadcast the guest EOIs the IOAPIC itself (version 0x20 EOI register)', () => {
    const { chip } = setup();
    const a = chip.lapic(0);
    w(a, ApicReg.SVR, 0x11ff);
    ioapicRoute(chip, 18, 0x8000 | 0x61);
    chip.assertGsi(18);
    chip.acknowledgeInterrupt(0);
    chip.deassertGsi(18);
    w(a, ApicReg.EOI, 0);
    chip.ioapic.write(0, 4, 0x10 + 36);
    expect(chip.ioapic.read(0x10, 4) & 0x4000).toBe(0x4000);
    chip.ioapic.write(0x40, 4, 0x61);
    expect(chip.ioapic.read(0x10, 4) & 0x4000).toBe(0);
  });

  it('a globally disabled LAPIC passes the 8259 INT straight to the CPU (INTR)', () => {
    const { chip } = setup();
    linuxPicInit(chip);
    const a = chip.lapic(0);
    w(a, ApicReg.LVT_LINT0, 0x10700);
    chip.pulseIsaIrq(1);
    expect(chip.hasInterrupt(0)).toBe(false);
    a.writeMsr(0x1b, 0xfee0_0100, 0); // EN = 0
    expect(chip.hasInterrupt(0)).toBe(true);
    expect(chip.acknowledgeInterrupt(0)).toBe(0x21);
  });

  it('an IOAPIC ExtINT entry (virtual wire B) makes the LAPIC run the 8259 INTA', () => {
    const { chip } = setup();
    linuxPicInit(chip);
    w(chip.lapic(0), ApicReg.LVT_LINT0, 0x10700);
    chip.pulseIsaIrq(3); // 8259 side
    ioapicRoute(chip, 5, 0x700);
    chip.pulseGsi(5);
    expect(chip.lapic(0).extIntRequested()).toBe(true);
    expect(chip.acknowledgeInterrupt(0)).toBe(0x23);
    expect(chip.lapic(0).extIntRequested()).toBe(false);
  });

  it('nmi() pulses LINT1 (NMI) on every vCPU', () => {
    const { chip } = setup(2);
    for (const a of chip.lapics) w(a, ApicReg.LVT_LINT1, 0x400);
    chip.nmi();
    expect(chip.lapics.map((a) => a.takeNmi())).toEqual([true, true]);
  });
});

describe('PIT IRQ 0 through IOAPIC pin 2', () => {
  it('PIT channel 0 rate generator at N = 1193 gives 10 LAPIC interrupts in 10 ms', () => {
    const { chip, clock } = setup();
    const a = chip.lapic(0);
    w(a, ApicReg.LVT_LINT0, 0x10700); // the 8259 path off, as Linux's IOAPIC mode does
    ioapicRoute(chip, 2, 0x30);
    const pit = new Pit8254(clock, chip.isaLine(0));
    pit.ports.write(3, 1, 0x34); // channel 0, LSB then MSB, mode 2, binary
    pit.ports.write(0, 1, 1193 & 0xff);
    pit.ports.write(0, 1, 1193 >> 8);
    // The control word drives OUT high (8254 datasheet, mode 2): that first edge is not a period.
    if (chip.hasInterrupt(0)) {
      chip.acknowledgeInterrupt(0);
      w(a, ApicReg.EOI, 0);
    }
    let n = 0;
    for (;;) {
      const next = clock.nextDeadline();
      if (next > 10_000_000) break;
      clock.advanceTo(next);
      if (chip.hasInterrupt(0)) {
        expect(chip.acknowledgeInterrupt(0)).toBe(0x30);
        w(a, ApicReg.EOI, 0);
        n++;
      }
    }
    // period = 1193 / 1.193182 MHz = 999.85 us: the 10th edge before 10 ms, the 11th at ~11 ms
    expect(n).toBe(10);
  });
});

describe('MSI destinations (SDM 10.11, 10.6.2)', () => {
  function four() {
    const s = setup(4);
    // logical flat: LDR bit i for vCPU i
    s.chip.lapics.forEach((a, i) => w(a, ApicReg.LDR, (1 << i) << 24));
    return s;
  }
  const irr = (chip: IrqChip, v: number) => chip.lapics.map((a) => a.irrBit(v));

  it('physical destination: the APIC whose ID matches; 0xFF broadcasts', () => {
    const { chip } = four();
    expect(chip.sendMsi(msiAddress(2), 0, msiData(0x41))).toBe(true);
    expect(irr(chip, 0x41)).toEqual([false, false, true, false]);
    chip.sendMsi(msiAddress(0xff), 0, msiData(0x42));
    expect(irr(chip, 0x42)).toEqual([true, true, true, true]);
  });

  it('logical flat: every APIC whose LDR bit is in the destination mask', () => {
    const { chip } = four();
    chip.sendMsi(msiAddress(0b1010, true), 0, msiData(0x43));
    expect(irr(chip, 0x43)).toEqual([false, true, false, true]);
  });

  it('logical cluster: cluster nibble and member bits', () => {
    const { chip } = setup(4);
    chip.lapics.forEach((a, i) => {
      w(a, ApicReg.DFR, 0x0fff_ffff);
      w(a, ApicReg.LDR, ((i < 2 ? 0x10 : 0x20) | (1 << (i & 1))) << 24); // clusters 1 and 2, members 1/2
    });
    chip.sendMsi(msiAddress(0x22, true), 0, msiData(0x44));
    expect(irr(chip, 0x44)).toEqual([false, false, false, true]);
    chip.sendMsi(msiAddress(0x13, true), 0, msiData(0x45));
    expect(irr(chip, 0x45)).toEqual([true, true, false, false]);
  });

  it('RH = 1, DM = 1: one processor of the logical group, the lowest priority one', () => {
    const { chip } = four();
    w(chip.lapic(1), ApicReg.TPR, 0x20);
    w(chip.lapic(3), ApicReg.TPR, 0x10);
    chip.sendMsi(msiAddress(0b1010, true, true), 0, msiData(0x46));
    expect(irr(chip, 0x46)).toEqual([false, false, false, true]);
  });

  it('RH = 1, DM = 0: physical destination, no redirection', () => {
    const { chip } = four();
    w(chip.lapic(2), ApicReg.TPR, 0xf0);
    chip.sendMsi(msiAddress(2, false, true), 0, msiData(0x47));
    expect(irr(chip, 0x47)).toEqual([false, false, true, false]);
  });

  it('lowest-priority delivery mode picks the lowest APR, ties to the lowest index', () => {
    const { chip } = four();
    chip.sendMsi(msiAddress(0b1110, true), 0, msiData(0x48, DeliveryMode.LOWEST_PRIORITY));
    expect(irr(chip, 0x48)).toEqual([false, true, false, false]);
  });

  it('NMI and SMI delivery modes; a level-triggered deassert message carries nothing', () => {
    const { chip } = four();
    chip.sendMsi(msiAddress(1), 0, msiData(0, DeliveryMode.NMI));
    chip.sendMsi(msiAddress(3), 0, msiData(0, DeliveryMode.SMI));
    expect(chip.lapic(1).takeNmi()).toBe(true);
    expect(chip.lapic(3).takeSmi()).toBe(true);
    chip.sendMsi(msiAddress(0), 0, msiData(0x49, DeliveryMode.FIXED, true, false));
    expect(chip.lapic(0).irrBit(0x49)).toBe(false);
    chip.sendMsi(msiAddress(0), 0, msiData(0x49, DeliveryMode.FIXED, true, true));
    expect(chip.lapic(0).tmrBit(0x49)).toBe(true);
  });

  it('an address outside 0xFEExxxxx is not an interrupt', () => {
    const { chip } = four();
    expect(chip.sendMsi(0xfed0_0000, 0, msiData(0x50))).toBe(false);
    expect(chip.sendMsi(msiAddress(0), 1, msiData(0x50))).toBe(false);
    expect(irr(chip, 0x50)).toEqual([false, false, false, false]);
  });

  it('a message no APIC accepts sets Receive Accept Error (unless turned off)', () => {
    const { chip } = setup(2);
    chip.sendMsi(msiAddress(9), 0, msiData(0x51));
    w(chip.lapic(1), ApicReg.ESR, 0);
    expect(chip.lapic(1).read(ApicReg.ESR, 4)).toBe(Esr.RECEIVE_ACCEPT);
    const quiet = setup(1, { acceptErrors: false }).chip;
    quiet.sendMsi(msiAddress(9), 0, msiData(0x51));
    w(quiet.lapic(0), ApicReg.ESR, 0);
    expect(quiet.lapic(0).read(ApicReg.ESR, 4)).toBe(0);
  });
});

describe('IPIs between LAPICs', () => {
  it('fixed physical IPI from vCPU 0 to vCPU 1 wakes vCPU 1', () => {
    const { chip, woken } = setup(2);
    const a0 = chip.lapic(0);
    w(a0, ApicReg.ICR_HI, 0x0100_0000);
    w(a0, ApicReg.ICR_LO, 0x4000 | 0xf1);
    expect(chip.lapic(1).irrBit(0xf1)).toBe(true);
    expect(a0.irrBit(0xf1)).toBe(false);
    expect(woken).toEqual([1]);
    expect(chip.acknowledgeInterrupt(1)).toBe(0xf1);
  });

  it('INIT-SIPI-SIPI to all excluding self', () => {
    const { chip } = setup(3);
    const a0 = chip.lapic(0);
    w(a0, ApicReg.ICR_LO, (3 << 18) | 0x4500); // INIT assert
    w(a0, ApicReg.ICR_LO, (3 << 18) | 0x8500); // INIT de-assert (no-op)
    w(a0, ApicReg.ICR_LO, (3 << 18) | 0x4600 | 0x10); // SIPI vector 0x10 (start at 0x10000)
    expect(chip.lapics.map((a) => a.takeInit())).toEqual([false, true, true]);
    expect(chip.lapics.map((a) => a.takeSipi())).toEqual([-1, 0x10, 0x10]);
  });

  it('a lowest-priority IPI, then all including self', () => {
    const { chip } = setup(3);
    const a0 = chip.lapic(0);
    w(chip.lapic(0), ApicReg.TPR, 0x30);
    w(chip.lapic(1), ApicReg.TPR, 0x20);
    w(chip.lapic(2), ApicReg.TPR, 0x20);
    w(a0, ApicReg.ICR_HI, 0xff00_0000);
    w(a0, ApicReg.ICR_LO, 0x100 | 0x53); // lowest priority, physical broadcast: APRs 0x30, 0x20, 0x20
    expect(chip.lapics.map((a) => a.irrBit(0x53))).toEqual([false, true, false]);
    w(a0, ApicReg.ICR_LO, (2 << 18) | 0x52);
    expect(chip.lapics.map((a) => a.irrBit(0x52))).toEqual([true, true, true]);
  });

  it('x2APIC: 32-bit destinations, logical cluster from the derived LDR', () => {
    const clock = new VirtualClock();
    const chip = new IrqChip(clock, { cpus: 3, apicIds: [0, 0x11, 0x12] });
    for (const a of chip.lapics) {
      a.writeMsr(0x1b, 0xfee0_0c00 | (a.bsp ? 0x100 : 0), 0);
      a.writeMsr(0x80f, 0x1ff, 0);
    }
    // cluster 1 holds IDs 0x11 (bit 1) and 0x12 (bit 2)
    chip.lapic(0).writeMsr(0x830, 0x800 | 0x61, 0x0001_0006);
    expect(chip.lapics.map((a) => a.irrBit(0x61))).toEqual([false, true, true]);
    chip.lapic(0).writeMsr(0x830, 0x62, 0x12);
    expect(chip.lapics.map((a) => a.irrBit(0x62))).toEqual([false, false, true]);
    chip.lapic(0).writeMsr(0x830, 0x63, 0xffff_ffff);
    expect(chip.lapics.map((a) => a.irrBit(0x63))).toEqual([true, true, true]);
    // an 8-bit IOAPIC message still reaches an x2APIC-mode LAPIC
    ioapicRoute(chip, 9, 0x64, 0x11);
    chip.pulseGsi(9);
    expect(chip.lapic(1).irrBit(0x64)).toBe(true);
  });
});

describe('HPET wiring and calibration', () => {
  it('legacy replacement disconnects the PIT from IRQ 0 and drives it from HPET timer 0', () => {
    const { chip, clock } = setup();
    const a = chip.lapic(0);
    w(a, ApicReg.LVT_LINT0, 0x10700);
    ioapicRoute(chip, 2, 0x30);
    const pit = chip.isaLine(0);
    const hpet = new Hpet(clock, { wiring: chip.hpetWiring() });
    hpet.write(0x100, 4, HpetTimerCnf.INT_ENB);
    hpet.write(0x108, 4, 10);
    hpet.write(0x10c, 4, 0);
    hpet.write(0x10, 4, 3);
    pit.pulse();
    expect(a.irrBit(0x30)).toBe(false); // PIT disconnected
    clock.advanceTo(400); // 10 ticks at 40 ns
    expect(a.irrBit(0x30)).toBe(true);
    a.acknowledge();
    hpet.write(0x10, 4, 1); // legacy off: the PIT is back
    pit.pulse();
    expect(a.irrBit(0x30)).toBe(true);
  });

  it('HPET FSB delivery goes through the MSI path', () => {
    const { chip, clock } = setup(2);
    const hpet = new Hpet(clock, { wiring: chip.hpetWiring() });
    hpet.write(0x110 + 0x20 * 3, 4, msiData(0x70));
    hpet.write(0x114 + 0x20 * 3, 4, msiAddress(1));
    hpet.write(0x100 + 0x20 * 3, 4, HpetTimerCnf.INT_ENB | HpetTimerCnf.FSB_EN);
    hpet.write(0x108 + 0x20 * 3, 4, 25);
    hpet.write(0x10c + 0x20 * 3, 4, 0);
    hpet.write(0x10, 4, 1);
    clock.advanceTo(1000);
    expect(chip.lapic(1).irrBit(0x70)).toBe(true);
  });

  it('LAPIC timer calibrated against the HPET: 25 MHz / 16 vs 25 MHz over 10 ms', () => {
    const { chip, clock } = setup();
    const a = chip.lapic(0);
    const hpet = new Hpet(clock, { wiring: chip.hpetWiring() });
    hpet.write(0x10, 4, 1);
    w(a, ApicReg.TIMER_DCR, 0x3);
    w(a, ApicReg.LVT_TIMER, 0x10000);
    w(a, ApicReg.TIMER_INITIAL, 0xffff_ffff);
    const h0 = hpet.read(0xf0, 4);
    const l0 = a.read(ApicReg.TIMER_CURRENT, 4);
    clock.advanceBy(10_000_000);
    const h1 = hpet.read(0xf0, 4);
    const l1 = a.read(ApicReg.TIMER_CURRENT, 4);
    const hpetTicks = h1 - h0;
    expect(hpetTicks * hpet.read(4, 4)).toBe(10_000_000 * 1e6); // 10 ms in fs
    const seconds = (hpetTicks * hpet.read(4, 4)) / 1e15;
    const lapicBusHz = ((l0 - l1) * 16) / seconds;
    expect(lapicBusHz).toBe(25_000_000);
  });
});

describe('IrqChip snapshot', () => {
  it('save, restore, save again is equal; line levels survive; a mutation changes it', () => {
    const make = () => {
      const s = setup(2);
      const line = s.chip.gsiLine(20);
      return { ...s, line };
    };
    const a = make();
    linuxPicInit(a.chip);
    ioapicRoute(a.chip, 20, 0x8000 | 0x55);
    a.line.assert();
    const st = JSON.parse(JSON.stringify(a.chip.saveState()));
    const b = make();
    b.chip.restoreState(st);
    expect(b.chip.saveState()).toEqual(st);
    expect(b.chip.ioapic.pinLevel(20)).toBe(true);
    b.line.deassert();
    expect(b.chip.ioapic.pinLevel(20)).toBe(false);
    expect(b.chip.saveState()).not.toEqual(st);
  });
});
