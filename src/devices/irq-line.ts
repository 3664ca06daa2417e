/**
 * IRQ lines: the only way a device raises an interrupt (shared/STYLE.md: "interrupts leave through a
 * one-method trigger passed in"). A device is given an IrqLine and never sees which controller(s)
 * (8259, IOAPIC, both) sit behind it; the interrupt-controller facade decides that.
 *
 * Semantics follow bhyve's ISA IRQ API (seed 001): assert raises the line (level stays high),
 * deassert lowers it, pulse is an edge (assert then deassert) for edge-triggered sources such as
 * the 8254 output and the UART.
 */

export interface IrqLine {
  /** Drives the line high (active). Idempotent. */
  assert(): void;
  /** Drives the line low (inactive). Idempotent. */
  deassert(): void;
  /** An edge: assert then deassert. */
  pulse(): void;
}

/** A line that goes nowhere: for devices whose interrupt is not wired. */
export const NO_IRQ: IrqLine = Object.freeze({
  assert(): void {},
  deassert(): void {},
  pulse(): void {},
});

/** An IrqLine that forwards level changes to one callback (e.g. `(l) => pic.setIrq(4, l)`). */
export class CallbackIrqLine implements IrqLine {
  constructor(private readonly setLevel: (level: boolean) => void) {}
  assert(): void {
    this.setLevel(true);
  }
  deassert(): void {
    this.setLevel(false);
  }
  pulse(): void {
    this.setLevel(true);
    this.setLevel(false);
  }
}

/**
 * An IrqLine that remembers its level and counts rising edges: for tests and for callers that
 * poll a device's interrupt instead of wiring it. `onChange` (optional) sees every real transition.
 */
export class LatchedIrqLine implements IrqLine {
  level = false;
  /** Number of low-to-high transitions so far. */
  risingEdges = 0;
  constructor(private readonly onChange?: (level: boolean) => void) {}
  assert(): void {
    if (this.level) return;
    this.level = true;
    this.risingEdges++;
    this.onChange?.(true);
  }
  deassert(): void {
    if (!this.level) return;
    this.level = false;
    this.onChange?.(false);
  }
  pulse(): void {
    this.assert();
    this.deassert();
  }
}
