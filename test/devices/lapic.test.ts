// Local APIC: every register, the timer with exact ns, IPIs, x2APIC. Expected values from the SDM
// Vol. 3A chapter 10 (figure/table cited per test) and the configured frequencies.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/time/clock.js';
import { TscModel } from '../../src/time/tsc.js';
import {
  APIC_VERSION,
  ApicReg,
  Esr,
  LocalApic,
  Lvt,
  MSR_GP,
  MSR_OK,
  type ApicBus,
} from '../../src/devices/lapic.js';
import { DeliveryMode } from '../../src/devices/msi.js';

function setup(opts: { apicId?: number; bsp?: boolean } = {}) {
  const clock = new VirtualClock();
  const wakes = { n: 0 };
  const apic = new LocalApic(clock, 0, { ...opts, wake: () => wakes.n++ });
  return { clock, apic, wakes };
}
const r = (a: LocalApic, reg: number) => a.read(reg, 4);
const w = (a: LocalApic, reg: number, v: number) => a.write(reg, 4, v);
function enable(a: LocalApic) {
  w(a, ApicReg.SVR, 0x1ff);
}
function msr(a: LocalApic, index: number): number | 'GP' {
  return a.readMsr(index) === MSR_OK ? a.msrLo : 'GP';
}

describe('LAPIC power-up state (SDM 10.4.7.1, 10.12.5)', () => {
  it('has the documented reset values', () => {
    const { apic } = setup({ apicId: 3, bsp: false });
    expect(r(apic, ApicReg.ID)).toBe(0x0300_0000);
    expect(r(apic, ApicReg.VERSION)).toBe(APIC_VERSION);
    expect(APIC_VERSION & 0xff).toBe(0x14);
    expect((APIC_VERSION >>> 16) & 0xff).toBe(6); // 7 LVT entries
    expect(r(apic, ApicReg.SVR)).toBe(0xff);
    expect(r(apic, ApicReg.DFR)).toBe(0xffff_ffff);
    expect(r(apic, ApicReg.LDR)).toBe(0);
    expect(r(apic, ApicReg.TPR)).toBe(0);
    for (const reg of [0x2f0, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370]) expect(r(apic, reg)).toBe(0x10000);
    expect(apic.readMsr(0x1b)).toBe(MSR_OK);
    expect(apic.msrLo).toBe(0xfee0_0800); // EN, not BSP
    expect(apic.msrHi).toBe(0);
  });

  it('BSP has IA32_APIC_BASE.BSP and LINT0 in virtual-wire ExtINT', () => {
    const { apic } = setup({ apicId: 0 });
    expect(msr(apic, 0x1b)).toBe(0xfee0_0900);
    expect(r(apic, ApicReg.LVT_LINT0)).toBe(0x700);
  });

  it('reads a register at any byte offset within its first dword; bytes 4-15 read 0', () => {
    const { apic } = setup({ apicId: 0x12 });
    expect(apic.read(0x23, 1)).toBe(0x12);
    expect(apic.read(0x32, 2)).toBe(0x0106);
    expect(apic.read(0x24, 4)).toBe(0);
  });
});

describe('LAPIC priorities (SDM 10.8.3)', () => {
  it('PPR follows TPR and the in-service class', () => {
    const { apic } = setup();
    enable(apic);
    w(apic, ApicReg.TPR, 0x35);
    expect(r(apic, ApicReg.PPR)).toBe(0x35);
    apic.acceptMessage(DeliveryMode.FIXED, 0x51, false, true);
    expect(apic.pendingIntr()).toBe(0x51);
    apic.intrAccepted(0x51);
    expect(r(apic, ApicReg.PPR)).toBe(0x50); // ISRV class 5 > TPR class 3
    w(apic, ApicReg.TPR, 0x62);
    expect(r(apic, ApicReg.PPR)).toBe(0x62);
    w(apic, ApicReg.TPR, 0x5f);
    expect(r(apic, ApicReg.PPR)).toBe(0x5f); // TPR[7:4] >= ISRV[7:4]
  });

  it('a vector is deliverable only if its class is above PPR[7:4]', () => {
    const { apic } = setup();
    enable(apic);
    w(apic, ApicReg.TPR, 0x40);
    apic.acceptMessage(DeliveryMode.FIXED, 0x4f, false, true);
    expect(apic.pendingIntr()).toBe(-1);
    w(apic, ApicReg.TPR, 0x3f);
    expect(apic.pendingIntr()).toBe(0x4f);
  });

  it('APR per Figure 10-15', () => {
    const { apic } = setup();
    enable(apic);
    w(apic, ApicReg.TPR, 0x45);
    expect(r(apic, ApicReg.APR)).toBe(0x45); // nothing in IRR/ISR: APR = TPR
    apic.acceptMessage(DeliveryMode.FIXED, 0x80, false, true); // IRRV class 8 > TPR class 4
    expect(r(apic, ApicReg.APR)).toBe(0x80);
  });

  it('CR8 is TPR[7:4] (SDM 10.8.6.1)', () => {
    const { apic } = setup();
    apic.setCr8(0xa);
    expect(r(apic, ApicReg.TPR)).toBe(0xa0);
    w(apic, ApicReg.TPR, 0x7c);
    expect(apic.getCr8()).toBe(7);
  });

  it('acknowledge gives the spurious vector when nothing is deliverable (SDM 10.9)', () => {
    const { apic } = setup();
    w(apic, ApicReg.SVR, 0x1e7);
    expect(apic.acknowledge()).toBe(0xe7);
    apic.acceptMessage(DeliveryMode.FIXED, 0x30, false, true);
    expect(apic.acknowledge()).toBe(0x30);
    expect(apic.isrBit(0x30)).toBe(true);
  });
});

describe('LAPIC EOI (SDM 10.8.5)', () => {
  function withBus() {
    const { apic, clock } = setup();
    const eois: number[] = [];
    const bus: ApicBus = { sendIpi: () => 0, eoiBroadcast: (v) => eois.push(v) };
    apic.bus = bus;
    enable(apic);
    return { apic, eois, clock };
  }

  it('clears the highest in-service vector and broadcasts level-triggered EOIs', () => {
    const { apic, eois } = withBus();
    apic.acceptMessage(DeliveryMode.FIXED, 0x40, true, true);
    apic.intrAccepted(0x40);
    apic.acceptMessage(DeliveryMode.FIXED, 0x60, false, true);
    apic.intrAccepted(0x60);
    expect(r(apic, ApicReg.ISR + 0x20)).toBe(0x1 | 0); // ISR word 2 bit 0 = vector 0x40
    expect(r(apic, ApicReg.ISR + 0x30)).toBe(0x1); // vector 0x60
    expect(r(apic, ApicReg.TMR + 0x20)).toBe(0x1); // 0x40 was level-triggered
    w(apic, ApicReg.EOI, 0);
    expect(apic.isrBit(0x60)).toBe(false);
    expect(eois).toEqual([]); // 0x60 was edge
    w(apic, ApicReg.EOI, 0);
    expect(apic.isrBit(0x40)).toBe(false);
    expect(eois).toEqual([0x40]);
    w(apic, ApicReg.EOI, 0); // nothing in service: no effect
    expect(eois).toEqual([0x40]);
  });

  it('SVR bit 12 suppresses the EOI broadcast', () => {
    const { apic, eois } = withBus();
    w(apic, ApicReg.SVR, 0x11ff);
    expect(r(apic, ApicReg.SVR)).toBe(0x11ff);
    apic.acceptMessage(DeliveryMode.FIXED, 0x40, true, true);
    apic.intrAccepted(0x40);
    w(apic, ApicReg.EOI, 0);
    expect(eois).toEqual([]);
  });
});

describe('LAPIC ESR and error LVT (SDM 10.5.3)', () => {
  it('send illegal vector is latched by the next ESR write', () => {
    const { apic } = setup();
    enable(apic);
    w(apic, ApicReg.LVT_ERROR, 0xfe);
    w(apic, ApicReg.ICR_LO, 0x4000 | 0x05 | (1 << 18)); // fixed, self, vector 5
    expect(r(apic, ApicReg.ESR)).toBe(0); // not visible until ESR is written
    expect(apic.pendingIntr()).toBe(0xfe); // error LVT fired
    w(apic, ApicReg.ESR, 0);
    expect(r(apic, ApicReg.ESR)).toBe(Esr.SEND_ILLEGAL_VECTOR);
    w(apic, ApicReg.ESR, 0);
    expect(r(apic, ApicReg.ESR)).toBe(0);
  });

  it('receive illegal vector for a message or an LVT with a vector below 16', () => {
    const { apic, clock } = setup();
    enable(apic);
    apic.acceptMessage(DeliveryMode.FIXED, 3, false, true);
    w(apic, ApicReg.ESR, 0);
    expect(r(apic, ApicReg.ESR)).toBe(Esr.RECEIVE_ILLEGAL_VECTOR);
    expect(apic.irrBit(3)).toBe(false);
    w(apic, ApicReg.LVT_TIMER, 0x0f);
    w(apic, ApicReg.TIMER_DCR, 0xb);
    w(apic, ApicReg.TIMER_INITIAL, 1);
    clock.advanceTo(40);
    w(apic, ApicReg.ESR, 0);
    expect(r(apic, ApicReg.ESR)).toBe(Esr.RECEIVE_ILLEGAL_VECTOR);
  });

  it('an illegal error-LVT vector does not recurse', () => {
    const { apic } = setup();
    enable(apic);
    w(apic, ApicReg.LVT_ERROR, 0x02);
    apic.acceptMessage(DeliveryMode.FIXED, 3, false, true);
    w(apic, ApicReg.ESR, 0);
    expect(r(apic, ApicReg.ESR)).toBe(Esr.RECEIVE_ILLEGAL_VECTOR);
  });

  it('illegal register address for a reserved offset; send accept error for an unaccepted IPI', () => {
    const { apic } = setup();
    enable(apic);
    r(apic, 0x40);
    w(apic, ApicReg.ICR_HI, 0x0700_0000); // physical destination 7: nobody
    w(apic, ApicReg.ICR_LO, 0x4030);
    w(apic, ApicReg.ESR, 0);
    expect(r(apic, ApicReg.ESR)).toBe(Esr.ILLEGAL_REGISTER | Esr.SEND_ACCEPT);
  });
});

describe('LAPIC LVT registers (SDM Figure 10-8)', () => {
  it('ignores writes to reserved and read-only bits', () => {
    const { apic } = setup();
    enable(apic);
    const cases: [number, number][] = [
      [ApicReg.LVT_TIMER, 0x700ff],
      [ApicReg.LVT_CMCI, 0x107ff],
      [ApicReg.LVT_THERMAL, 0x107ff],
      [ApicReg.LVT_PMC, 0x107ff],
      [ApicReg.LVT_LINT0, 0x1a7ff],
      [ApicReg.LVT_LINT1, 0x1a7ff],
      [ApicReg.LVT_ERROR, 0x100ff],
    ];
    for (const [reg, expected] of cases) {
      w(apic, reg, 0xffff_ffff);
      expect(r(apic, reg), `LVT at ${reg.toString(16)}`).toBe(expected);
    }
  });

  it('software disable masks every LVT and keeps them masked (SDM 10.4.7.2)', () => {
    const { apic } = setup();
    enable(apic);
    w(apic, ApicReg.LVT_TIMER, 0x20);
    w(apic, ApicReg.SVR, 0xff);
    expect(r(apic, ApicReg.LVT_TIMER)).toBe(0x10020);
    w(apic, ApicReg.LVT_TIMER, 0x21);
    expect(r(apic, ApicReg.LVT_TIMER)).toBe(0x10021);
    expect(apic.acceptMessage(DeliveryMode.FIXED, 0x40, false, true)).toBe(false); // fixed discarded
    expect(apic.acceptMessage(DeliveryMode.NMI, 0, false, true)).toBe(true); // NMI still accepted
  });

  it('LINT1 as NMI fires on a rising edge; LINT0 ExtINT reports the 8259 level', () => {
    const { apic, wakes } = setup({ bsp: true });
    enable(apic);
    w(apic, ApicReg.LVT_LINT1, 0x400);
    apic.setLint(1, true);
    apic.setLint(1, true);
    expect(apic.takeNmi()).toBe(true);
    expect(apic.takeNmi()).toBe(false);
    expect(wakes.n).toBe(1);
    expect(apic.lintExtIntActive()).toBe(false);
    apic.setLint(0, true); // LINT0 reset value is ExtINT for the BSP
    expect(apic.lintExtIntActive()).toBe(true);
    w(apic, ApicReg.LVT_LINT0, 0x10700);
    expect(apic.lintExtIntActive()).toBe(false);
  });

  it('level-triggered fixed LINT sets remote IRR until EOI, then re-delivers while active', () => {
    const { apic } = setup();
    enable(apic);
    w(apic, ApicReg.LVT_LINT0, 0x8000 | 0x55);
    apic.setLint(0, true);
    expect(r(apic, ApicReg.LVT_LINT0)).toBe(0xc055); // remote IRR (bit 14)
    expect(apic.acknowledge()).toBe(0x55);
    expect(apic.tmrBit(0x55)).toBe(true);
    w(apic, ApicReg.EOI, 0);
    expect(apic.irrBit(0x55)).toBe(true); // still active: delivered again
    apic.acknowledge();
    apic.setLint(0, false);
    w(apic, ApicReg.EOI, 0);
    expect(r(apic, ApicReg.LVT_LINT0)).toBe(0x8055);
    expect(apic.irrBit(0x55)).toBe(false);
  });

  it('thermal/PMC/CMCI fire through triggerLvt with their delivery mode', () => {
    const { apic } = setup();
    enable(apic);
    w(apic, ApicReg.LVT_PMC, 0x400); // NMI
    w(apic, ApicReg.LVT_THERMAL, 0x61);
    w(apic, ApicReg.LVT_CMCI, 0x10062); // masked
    apic.triggerLvt(Lvt.PMC);
    apic.triggerLvt(Lvt.THERMAL);
    apic.triggerLvt(Lvt.CMCI);
    expect(apic.takeNmi()).toBe(true);
    expect(apic.irrBit(0x61)).toBe(true);
    expect(apic.irrBit(0x62)).toBe(false);
  });
});

describe('LAPIC timer (SDM 10.5.4) at 25 MHz (40 ns per bus tick)', () => {
  it('one-shot: fires exactly at initial * divisor * 40 ns, count read back from the clock', () => {
    const { apic, clock } = setup();
    enable(apic);
    w(apic, ApicReg.LVT_TIMER, 0x30);
    w(apic, ApicReg.TIMER_DCR, 0xb); // divide by 1
    w(apic, ApicReg.TIMER_INITIAL, 1000);
    expect(r(apic, ApicReg.TIMER_CURRENT)).toBe(1000);
    expect(clock.nextDeadline()).toBe(40_000);
    clock.advanceTo(20_000);
    expect(r(apic, ApicReg.TIMER_CURRENT)).toBe(500);
    clock.advanceTo(39_999);
    expect(r(apic, ApicReg.TIMER_CURRENT)).toBe(1);
    expect(apic.irrBit(0x30)).toBe(false);
    clock.advanceTo(40_000);
    expect(apic.irrBit(0x30)).toBe(true);
    expect(r(apic, ApicReg.TIMER_CURRENT)).toBe(0);
    expect(clock.nextDeadline()).toBe(Infinity);
  });

  it('divide configuration values 2..128 and 1 (SDM Figure 10-10)', () => {
    const table: [number, number][] = [
      [0x0, 2], [0x1, 4], [0x2, 8], [0x3, 16], [0x8, 32], [0x9, 64], [0xa, 128], [0xb, 1],
    ];
    for (const [dcr, div] of table) {
      const { apic, clock } = setup();
      enable(apic);
      w(apic, ApicReg.TIMER_DCR, dcr);
      expect(r(apic, ApicReg.TIMER_DCR)).toBe(dcr);
      w(apic, ApicReg.TIMER_INITIAL, 10);
      expect(clock.nextDeadline()).toBe(10 * div * 40);
    }
  });

  it('periodic: fires every period and reloads', () => {
    const { apic, clock } = setup();
    enable(apic);
    w(apic, ApicReg.LVT_TIMER, 0x20000 | 0x31);
    w(apic, ApicReg.TIMER_DCR, 0x0); // divide by 2: 80 ns per count
    w(apic, ApicReg.TIMER_INITIAL, 100); // 8000 ns period
    const fires: number[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advanceTo(clock.nextDeadline());
      fires.push(clock.now());
      expect(apic.acknowledge()).toBe(0x31);
      w(apic, ApicReg.EOI, 0);
    }
    expect(fires).toEqual([8000, 16000, 24000]);
    expect(r(apic, ApicReg.TIMER_CURRENT)).toBe(100);
    clock.advanceTo(24_080);
    expect(r(apic, ApicReg.TIMER_CURRENT)).toBe(99);
  });

  it('masked timer counts without interrupting; initial count 0 stops it', () => {
    const { apic, clock } = setup();
    enable(apic);
    w(apic, ApicReg.LVT_TIMER, 0x10040);
    w(apic, ApicReg.TIMER_DCR, 0xb);
    w(apic, ApicReg.TIMER_INITIAL, 10);
    clock.advanceTo(400);
    expect(apic.irrBit(0x40)).toBe(false);
    w(apic, ApicReg.LVT_TIMER, 0x20040);
    w(apic, ApicReg.TIMER_INITIAL, 10);
    w(apic, ApicReg.TIMER_INITIAL, 0);
    expect(clock.nextDeadline()).toBe(Infinity);
    expect(r(apic, ApicReg.TIMER_CURRENT)).toBe(0);
  });

  it('Linux calibrate_APIC_clock: 100 jiffies of count-down give lapic_timer_period = 25 MHz / HZ', () => {
    // Linux: LVTT periodic, divide by 16, initial 0xFFFFFFFF; read TMCCT at two global-clock
    // ticks 100 ms apart; lapic_timer_period = (t1 - t2) * 16 / 100 (bus ticks per jiffy, HZ=1000).
    const { apic, clock } = setup();
    enable(apic);
    w(apic, ApicReg.TIMER_DCR, 0x3);
    w(apic, ApicReg.LVT_TIMER, 0x20000 | 0x10000 | 0xef);
    w(apic, ApicReg.TIMER_INITIAL, 0xffff_ffff);
    clock.advanceTo(1_000_000);
    const t1 = r(apic, ApicReg.TIMER_CURRENT);
    clock.advanceTo(101_000_000);
    const t2 = r(apic, ApicReg.TIMER_CURRENT);
    expect(((t1 - t2) * 16) / 100).toBe(25_000_000 / 1000);
  });

  it('TSC-deadline: fires when the TSC reaches the deadline, then reads 0', () => {
    const clock = new VirtualClock();
    const tsc = new TscModel(clock, 2_000_000_000);
    const apic = new LocalApic(clock, 0, { tsc });
    enable(apic);
    apic.writeMsr(0x6e0, 1000, 0); // ignored outside TSC-deadline mode
    expect(msr(apic, 0x6e0)).toBe(0);
    w(apic, ApicReg.LVT_TIMER, 0x40000 | 0x50);
    w(apic, ApicReg.TIMER_INITIAL, 5); // ignored in TSC-deadline mode
    expect(r(apic, ApicReg.TIMER_INITIAL)).toBe(0);
    expect(apic.writeMsr(0x6e0, 2001, 0)).toBe(MSR_OK);
    expect(msr(apic, 0x6e0)).toBe(2001);
    expect(clock.nextDeadline()).toBe(1001); // ceil(2001 / 2 GHz)
    clock.advanceTo(1000);
    expect(apic.irrBit(0x50)).toBe(false);
    clock.advanceTo(1001);
    expect(apic.irrBit(0x50)).toBe(true);
    expect(msr(apic, 0x6e0)).toBe(0);
    // a TSC offset moves the deadline: guest TSC = machine TSC + 1000
    apic.setTscOffset(1000);
    apic.writeMsr(0x6e0, 5000, 0);
    expect(clock.nextDeadline()).toBe(2000);
    // leaving TSC-deadline mode disarms
    w(apic, ApicReg.LVT_TIMER, 0x50);
    expect(clock.nextDeadline()).toBe(Infinity);
  });
});

describe('LAPIC IPIs (SDM 10.6)', () => {
  it('standalone: self shorthand and own physical ID are accepted', () => {
    const { apic } = setup({ apicId: 5 });
    enable(apic);
    w(apic, ApicReg.ICR_LO, (1 << 18) | 0x41); // self
    expect(apic.irrBit(0x41)).toBe(true);
    w(apic, ApicReg.ICR_HI, 0x0500_0000);
    w(apic, ApicReg.ICR_LO, 0x42);
    expect(apic.irrBit(0x42)).toBe(true);
    expect(r(apic, ApicReg.ICR_LO)).toBe(0x42); // delivery status 0
    expect(r(apic, ApicReg.ICR_HI)).toBe(0x0500_0000);
    w(apic, ApicReg.ICR_LO, (3 << 18) | 0x43); // all excluding self: nobody, no accept error
    expect(apic.irrBit(0x43)).toBe(false);
    w(apic, ApicReg.ESR, 0);
    expect(r(apic, ApicReg.ESR)).toBe(0);
  });

  it('NMI, INIT, SIPI and SMI IPIs set their pending flags; INIT level de-assert is a no-op', () => {
    const { apic } = setup();
    enable(apic);
    w(apic, ApicReg.ICR_LO, (1 << 18) | 0x400);
    w(apic, ApicReg.ICR_LO, (1 << 18) | 0x200);
    w(apic, ApicReg.ICR_LO, (1 << 18) | 0x8500); // INIT level de-assert
    expect(apic.initPending).toBe(false);
    w(apic, ApicReg.ICR_LO, (1 << 18) | 0x4500);
    w(apic, ApicReg.ICR_LO, (1 << 18) | 0x4600 | 0x9a);
    expect(apic.takeNmi()).toBe(true);
    expect(apic.takeSmi()).toBe(true);
    expect(apic.takeInit()).toBe(true);
    expect(apic.takeSipi()).toBe(0x9a);
    expect(apic.takeSipi()).toBe(-1);
  });

  it('logical destinations: flat and cluster models (SDM 10.6.2.2)', () => {
    const { apic } = setup();
    w(apic, ApicReg.LDR, 0x2400_0000); // flat: bits 2 and 5
    expect(apic.matchesDestination(0x04, true, false)).toBe(true);
    expect(apic.matchesDestination(0x20, true, false)).toBe(true);
    expect(apic.matchesDestination(0x03, true, false)).toBe(false);
    expect(apic.matchesDestination(0xff, true, false)).toBe(true);
    w(apic, ApicReg.DFR, 0x0fff_ffff); // cluster model
    expect(r(apic, ApicReg.DFR)).toBe(0x0fff_ffff);
    w(apic, ApicReg.LDR, 0x3200_0000); // cluster 3, member bit 1
    expect(apic.matchesDestination(0x32, true, false)).toBe(true);
    expect(apic.matchesDestination(0x36, true, false)).toBe(true);
    expect(apic.matchesDestination(0x34, true, false)).toBe(false);
    expect(apic.matchesDestination(0x22, true, false)).toBe(false);
    expect(apic.matchesDestination(0xf2, true, false)).toBe(true); // all clusters
    // physical: own ID or 0xFF
    expect(apic.matchesDestination(0x00, false, false)).toBe(true);
    expect(apic.matchesDestination(0xff, false, false)).toBe(true);
    expect(apic.matchesDestination(0x01, false, false)).toBe(false);
  });
});

describe('LAPIC x2APIC mode (SDM 10.12)', () => {
  function x2(id = 0x23) {
    const { apic, clock } = setup({ apicId: id, bsp: false });
    expect(apic.writeMsr(0x1b, 0xfee0_0c00, 0)).toBe(MSR_OK);
    expect(apic.x2apicMode).toBe(true);
    return { apic, clock };
  }

  it('derives the logical ID from the x2APIC ID (10.12.10.2)', () => {
    const { apic } = x2(0x23);
    expect(msr(apic, 0x802)).toBe(0x23);
    expect(msr(apic, 0x80d)).toBe(0x0002_0008); // cluster 2, bit 3
    expect(apic.matchesDestination(0x0002_0008, true, true)).toBe(true);
    expect(apic.matchesDestination(0x0002_0001, true, true)).toBe(false);
    expect(apic.matchesDestination(0x0001_0008, true, true)).toBe(false);
    expect(apic.matchesDestination(0x23, false, true)).toBe(true);
    expect(apic.matchesDestination(0xffff_ffff, false, true)).toBe(true);
  });

  it('makes the MMIO page inert', () => {
    const { apic } = x2();
    expect(apic.mmioActive).toBe(false);
    expect(r(apic, ApicReg.VERSION)).toBe(0);
    w(apic, ApicReg.TPR, 0x50);
    expect(msr(apic, 0x808)).toBe(0);
  });

  it('#GP on write-only reads, read-only writes, reserved registers and reserved bits (Table 10-6)', () => {
    const { apic } = x2();
    expect(msr(apic, 0x80b)).toBe('GP'); // EOI is write-only
    expect(msr(apic, 0x83f)).toBe('GP'); // SELF IPI is write-only
    for (const m of [0x809, 0x80c, 0x80e, 0x831, 0x800, 0x801, 0x840]) expect(msr(apic, m), m.toString(16)).toBe('GP');
    expect(msr(apic, 0x803)).toBe(APIC_VERSION);
    expect(apic.writeMsr(0x802, 1, 0)).toBe(MSR_GP); // ID read-only
    expect(apic.writeMsr(0x80d, 1, 0)).toBe(MSR_GP); // LDR read-only
    expect(apic.writeMsr(0x839, 1, 0)).toBe(MSR_GP); // current count read-only
    expect(apic.writeMsr(0x80b, 1, 0)).toBe(MSR_GP); // EOI needs 0
    expect(apic.writeMsr(0x80b, 0, 0)).toBe(MSR_OK);
    expect(apic.writeMsr(0x828, 1, 0)).toBe(MSR_GP); // ESR needs 0
    expect(apic.writeMsr(0x808, 0x100, 0)).toBe(MSR_GP); // TPR reserved bits
    expect(apic.writeMsr(0x808, 0x10, 1)).toBe(MSR_GP); // high half reserved
    expect(apic.writeMsr(0x80f, 0x41ff, 0)).toBe(MSR_GP); // SVR bit 14 reserved
    expect(apic.writeMsr(0x80f, 0x1ff, 0)).toBe(MSR_OK);
    expect(apic.writeMsr(0x835, 0x800, 0)).toBe(MSR_GP); // LINT0 bit 11 reserved
    expect(apic.writeMsr(0x835, 0x5000, 0)).toBe(MSR_OK); // bits 12 and 14 are read-only, not reserved
    expect(apic.writeMsr(0x83e, 0x4, 0)).toBe(MSR_GP);
    expect(apic.writeMsr(0x830, 0x1000 | 0x40, 0)).toBe(MSR_GP); // ICR bit 12 reserved in x2APIC
  });

  it('ICR is one 64-bit MSR; SELF IPI MSR delivers a fixed edge interrupt', () => {
    const { apic } = x2(0x23);
    apic.writeMsr(0x80f, 0x1ff, 0);
    expect(apic.writeMsr(0x830, 0x44, 0x23)).toBe(MSR_OK);
    expect(apic.irrBit(0x44)).toBe(true);
    expect(apic.readMsr(0x830)).toBe(MSR_OK);
    expect([apic.msrLo, apic.msrHi]).toEqual([0x44, 0x23]);
    expect(apic.writeMsr(0x83f, 0x45, 0)).toBe(MSR_OK);
    expect(apic.irrBit(0x45)).toBe(true);
    expect(apic.writeMsr(0x83f, 0x145, 0)).toBe(MSR_GP);
    expect(msr(apic, 0x820 + 2)).toBe((1 << 4) | (1 << 5)); // IRR word 2: 0x44, 0x45
  });

  it('mode transitions of Figure 10-27', () => {
    const { apic } = setup({ bsp: false });
    expect(msr(apic, 0x802)).toBe('GP'); // xAPIC mode: x2APIC MSRs #GP
    expect(apic.writeMsr(0x1b, 0xfee0_0400, 0)).toBe(MSR_GP); // EXTD without EN
    expect(apic.writeMsr(0x1b, 0xfee0_0a00, 0)).toBe(MSR_GP); // reserved bit 9
    expect(apic.writeMsr(0x1b, 0xfee0_0800, 0x80)).toBe(MSR_GP); // above MAXPHYADDR 39
    expect(apic.writeMsr(0x1b, 0xfee0_0c00, 0)).toBe(MSR_OK); // xAPIC -> x2APIC
    expect(apic.writeMsr(0x1b, 0xfee0_0800, 0)).toBe(MSR_GP); // x2APIC -> xAPIC
    expect(apic.writeMsr(0x1b, 0xfee0_0000, 0)).toBe(MSR_OK); // -> disabled
    expect(apic.hardwareEnabled).toBe(false);
    expect(apic.writeMsr(0x1b, 0xfee0_0c00, 0)).toBe(MSR_GP); // disabled -> x2APIC
    expect(apic.writeMsr(0x1b, 0xfee0_0800, 0)).toBe(MSR_OK); // -> xAPIC
  });

  it('disabling through the MSR resets the registers (SDM 10.4.3)', () => {
    const { apic } = setup({ bsp: false });
    enable(apic);
    w(apic, ApicReg.TPR, 0x20);
    apic.acceptMessage(DeliveryMode.FIXED, 0x40, false, true);
    apic.writeMsr(0x1b, 0xfee0_0000, 0);
    expect(apic.acceptMessage(DeliveryMode.NMI, 0, false, true)).toBe(false);
    apic.writeMsr(0x1b, 0xfee0_0800, 0);
    expect(r(apic, ApicReg.TPR)).toBe(0);
    expect(r(apic, ApicReg.SVR)).toBe(0xff);
    expect(apic.irrBit(0x40)).toBe(false);
  });
});

describe('LAPIC relocation and snapshot', () => {
  it('moves the MMIO base and tells the monitor', () => {
    const clock = new VirtualClock();
    const moved: number[] = [];
    const apic = new LocalApic(clock, 0, { onBaseChange: (a) => moved.push(a.mmioBase) });
    expect(apic.mmioBase).toBe(0xfee0_0000);
    apic.writeMsr(0x1b, 0xfed0_0900, 0);
    expect(moved).toEqual([0xfed0_0000]);
    apic.writeMsr(0x1b, 0x0000_0800, 0x1); // base 0x1_00000000, BSP bit kept
    expect(apic.mmioBase).toBe(0x1_0000_0000);
    expect(msr(apic, 0x1b)).toBe(0x900);
  });

  it('save, restore, save again is equal; a mutation changes it; the timer is re-armed', () => {
    const { apic, clock } = setup();
    enable(apic);
    w(apic, ApicReg.LVT_TIMER, 0x20033);
    w(apic, ApicReg.TIMER_DCR, 0xb);
    w(apic, ApicReg.TIMER_INITIAL, 250);
    apic.acceptMessage(DeliveryMode.FIXED, 0x77, true, true);
    clock.advanceTo(1234);
    const s = JSON.parse(JSON.stringify(apic.saveState()));
    const clock2 = new VirtualClock();
    clock2.advanceTo(1234);
    const b = new LocalApic(clock2, 0);
    b.restoreState(s);
    expect(b.saveState()).toEqual(s);
    expect(clock2.nextDeadline()).toBe(clock.nextDeadline());
    expect(b.read(ApicReg.TIMER_CURRENT, 4)).toBe(r(apic, ApicReg.TIMER_CURRENT));
    w(b, ApicReg.TPR, 0x10);
    expect(b.saveState()).not.toEqual(s);
  });
});

describe('LAPIC restore validation', () => {
  it('rejects a bad field by name and changes nothing', () => {
    const { apic } = setup();
    w(apic, ApicReg.TPR, 0x30);
    const before = apic.saveState();
    const bad = { ...before, tpr: 0x1ff, lvt: before.lvt };
    expect(() => apic.restoreState(bad)).toThrow(/'tpr'/);
    expect(apic.saveState()).toEqual(before);
  });
});
