/**
 * x86vmm public API. Re-exports only; each room documents its own part.
 */
export { VmmError, InvalidArgumentError, ConflictError, NotFoundError, InvalidStateError } from './util/errors.js';
export { split64, join64 } from './util/u64.js';
export { VirtualClock, ClockTimer } from './time/clock.js';
export type { ClockMode, VirtualClockOptions, VirtualClockState } from './time/clock.js';
export { TscModel, tscTicksAt, nsAtTscTicks, cpuidLeaf15, cpuidLeaf16, checkTscHz, MAX_TSC_HZ } from './time/tsc.js';
export type { CpuidRegs } from './time/tsc.js';
export { CallbackIrqLine, LatchedIrqLine, NO_IRQ } from './devices/irq-line.js';
export type { IrqLine } from './devices/irq-line.js';
export { IoBus, MmioBus } from './devices/bus.js';
export type { BusDevice, BusRange } from './devices/bus.js';
export type { Snapshottable } from './devices/snapshot.js';
export { Pic8259, PIC_MASTER_PORT, PIC_SLAVE_PORT, PIC_ELCR_PORT } from './devices/pic8259.js';
export type { Pic8259State, Pic8259ChipState } from './devices/pic8259.js';
