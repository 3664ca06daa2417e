/**
 * QEMU's isa-debug-exit convention (hw/misc/debugexit.c): writing value v to the device's port
 * requests that the machine stop with exit code (v << 1) | 1, so a guest can report success or
 * failure to a test runner and no guest can produce exit code 0. Mapped as QEMU's
 * `-device isa-debug-exit,iobase=0xf4,iosize=0x04` is: ports 0xF4-0xF7. Reads return 0.
 *
 * A device cannot stop a machine: it records the request (`exitCode`) and calls `onExit`; the
 * monitor checks it after the I/O completes and ends the run with that code. The code is the full
 * value (v * 2 + 1, up to 2^33 - 1 for a 32-bit write); a process exit status keeps its low 8 bits.
 */
import type { BusDevice, IoBus } from './bus.js';
import { stateInt } from './snapshot.js';

export const DEBUG_EXIT_PORT = 0xf4;
export const DEBUG_EXIT_SIZE = 4;

export interface DebugExitState {
  /** The requested exit code, or -1 if none. */
  exitCode: number;
}

export class DebugExit implements BusDevice {
  /** The exit code requested by the guest, or null. */
  exitCode: number | null = null;

  constructor(private readonly onExit?: (code: number) => void) {}

  attach(bus: IoBus, port = DEBUG_EXIT_PORT, size = DEBUG_EXIT_SIZE): void {
    bus.register(port, size, this, 'debug-exit');
  }

  read(_offset: number, _size: number): number {
    return 0;
  }

  write(_offset: number, _size: number, value: number): void {
    const code = (value >>> 0) * 2 + 1;
    this.exitCode = code;
    this.onExit?.(code);
  }

  /** Forgets a handled request (e.g. after the monitor reported it and the caller resumes). */
  clear(): void {
    this.exitCode = null;
  }

  saveState(): DebugExitState {
    return { exitCode: this.exitCode ?? -1 };
  }

  restoreState(s: DebugExitState): void {
    const code = stateInt(s, 'exitCode', -1, 2 ** 33 - 1, 'debug-exit');
    this.exitCode = code < 0 ? null : code;
  }
}
