/**
 * Device-side costs the run loop pays: the clock's per-exit retire() with timers pending, port
 * dispatch through the IoBus, the PIT's computed counter reads (Linux's calibration loop polls
 * port 0x61), and a serial byte out through the UART.
 */
import { measure, report } from './util.js';
import { VirtualClock } from '../src/time/clock.js';
import { IoBus } from '../src/devices/bus.js';
import { Pit8254 } from '../src/devices/pit8254.js';
import { Uart16550 } from '../src/devices/uart16550.js';
import { Pic8259 } from '../src/devices/pic8259.js';
import { NO_IRQ } from '../src/devices/irq-line.js';

export function run(): void {
  {
    // 16 timers armed far away, one periodic at 1 us: retire(100) per call
    const clock = new VirtualClock();
    for (let i = 0; i < 16; i++) clock.createTimer(`idle${i}`, () => {}).arm(1e15);
    const t = clock.createTimer('tick', () => t.arm(clock.now() + 1000));
    t.arm(1000);
    report('clock retire(100) with 17 timers', measure((n) => {
      for (let i = 0; i < n; i++) clock.retire(100);
    }), 'calls/s');
  }
  {
    const clock = new VirtualClock();
    const bus = new IoBus();
    const pit = new Pit8254(clock, NO_IRQ);
    pit.attach(bus);
    const pic = new Pic8259();
    pic.attach(bus);
    pit.writePortB(0x01);
    pit.writePort(0x43, 0xb0);
    pit.writePort(0x42, 0xff);
    pit.writePort(0x42, 0xff);
    report('IoBus dispatchRead 0x21 (PIC IMR)', measure((n) => {
      for (let i = 0; i < n; i++) bus.dispatchRead(0x21, 1);
    }), 'reads/s');
    report('IoBus dispatchRead 0x61 (PIT OUT2 computed)', measure((n) => {
      for (let i = 0; i < n; i++) {
        clock.retire(10);
        bus.dispatchRead(0x61, 1);
      }
    }), 'reads/s');
    report('IoBus dispatchRead 0x42 (PIT count computed)', measure((n) => {
      for (let i = 0; i < n; i++) {
        clock.retire(10);
        bus.dispatchRead(0x42, 1);
      }
    }), 'reads/s');
  }
  {
    const clock = new VirtualClock();
    const bus = new IoBus();
    const uart = new Uart16550(clock, NO_IRQ, { bufferOutput: false, onOutput: () => {} });
    uart.attach(bus);
    report('UART THR write (COM1, no IRQ)', measure((n) => {
      for (let i = 0; i < n; i++) bus.dispatchWrite(0x3f8, 1, 0x41);
    }), 'bytes/s');
  }
}
