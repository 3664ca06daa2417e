/**
 * The Bochs/QEMU debug console: one port (0xE9 by default) where every byte written is output
 * and a read returns the port's own number (0xE9), the presence check guests use (QEMU
 * hw/char/debugcon.c "readback" default; Bochs' port E9 hack). Stateless apart from host-side
 * output, so it has no snapshot.
 */
import type { BusDevice, IoBus } from './bus.js';

export const DEBUGCON_PORT = 0xe9;

export interface DebugConsoleOptions {
  /** Called with each byte written. */
  onOutput?: (bytes: Uint8Array) => void;
  /** Keep output for takeOutput() (default true). */
  bufferOutput?: boolean;
  /** The value reads return (default 0xE9). */
  readback?: number;
}

export class DebugConsole implements BusDevice {
  private out: number[] = [];
  private readonly onOutput: ((bytes: Uint8Array) => void) | undefined;
  private readonly bufferOutput: boolean;
  private readonly readback: number;

  constructor(options: DebugConsoleOptions = {}) {
    this.onOutput = options.onOutput;
    this.bufferOutput = options.bufferOutput ?? true;
    this.readback = (options.readback ?? DEBUGCON_PORT) & 0xff;
  }

  attach(bus: IoBus, port = DEBUGCON_PORT): void {
    bus.register(port, 1, this, 'debugcon');
  }

  read(_offset: number, _size: number): number {
    return this.readback;
  }

  /** Only the low byte is output (a wider OUT to the one-port device writes its low byte). */
  write(_offset: number, _size: number, value: number): void {
    const b = value & 0xff;
    if (this.bufferOutput) this.out.push(b);
    if (this.onOutput) this.onOutput(Uint8Array.of(b));
  }

  takeOutput(): Uint8Array {
    const b = Uint8Array.from(this.out);
    this.out = [];
    return b;
  }

  takeOutputText(): string {
    return new TextDecoder().decode(this.takeOutput());
  }
}
