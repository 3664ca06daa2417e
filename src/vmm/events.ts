/**
 * Events the monitor injects into a vCPU, and the one place where nested exceptions are resolved
 * (as bhyve's vm_entry_intinfo / vm_exit_intinfo do, seed 001).
 *
 * - Classes and the double-fault table: SDM Vol. 3A §6.15, Table 6-4 (benign, contributory, page
 *   fault) and Table 6-5 (which combination becomes #DF). A fault while delivering #DF is a triple
 *   fault: the processor enters shutdown (§6.15 "Interrupt 8", §6.3 "shutdown").
 * - Injection order on entry (bhyve's comment, seed 001): a pending hardware exception first, then
 *   an NMI, then a maskable interrupt; an NMI waits while NMIs are blocked, an interrupt while
 *   RFLAGS.IF = 0 or an interrupt shadow is active (SDM Vol. 3A §6.8.3, §26.3.1.5 for the shadow),
 *   and then the caller may ask for an nmi-window / interrupt-window exit.
 * - Exit-intinfo: when an exit interrupts the delivery of an event (an EPT violation on the IDT or
 *   the stack), the event is recorded and redelivered on the next entry, unless delivering the
 *   event raised an exception, in which case the two combine by the table above.
 */
import { InvalidArgumentError, InvalidStateError, hex } from '../util/errors.js';
import { exceptionClassOf, nestedException, NESTED_DOUBLE_FAULT, NESTED_TRIPLE_FAULT } from '../cpu/system/system.js';

export type EventKind = 'exception' | 'nmi' | 'interrupt' | 'software-interrupt';

/** An event to deliver through the IDT (the shape of VMX's VM-entry interruption information). */
export interface VcpuEvent {
  kind: EventKind;
  vector: number;
  /** Only exceptions that push one (8, 10-14, 17, 21, 29, 30) carry an error code. */
  errorCode?: number;
}

/** Exception vectors (SDM Vol. 3A Table 6-1). */
export const VEC = {
  DE: 0, DB: 1, NMI: 2, BP: 3, OF: 4, BR: 5, UD: 6, NM: 7, DF: 8, TS: 10, NP: 11, SS: 12, GP: 13,
  PF: 14, MF: 16, AC: 17, MC: 18, XM: 19, VE: 20, CP: 21,
} as const;

/** Vectors whose delivery pushes an error code (SDM Vol. 3A Table 6-1 "Error Code" column). */
export function exceptionHasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17 || vector === 21 || vector === 29 || vector === 30;
}

export type ExceptionClass = 'benign' | 'contributory' | 'page-fault';

const CLASS_NAMES: readonly ExceptionClass[] = ['benign', 'contributory', 'page-fault'];

/** Table 6-4, as the core classifies (src/cpu/system). Interrupts (external, NMI, software) are benign. */
export function exceptionClass(vector: number): ExceptionClass {
  return CLASS_NAMES[exceptionClassOf(vector)]!;
}

/** What happens when `second` (an exception) is raised while delivering `first`. */
export type NestedDisposition =
  | { action: 'serial' } // deliver `second` (the first is lost or re-raised by the guest's retry)
  | { action: 'double-fault' } // deliver #DF with error code 0
  | { action: 'triple-fault' }; // shutdown

/** Table 6-5, plus "a fault during #DF delivery is a triple fault": the core's nestedException. */
export function nestedDisposition(first: VcpuEvent, secondVector: number): NestedDisposition {
  if (first.kind !== 'exception') return { action: 'serial' };
  const n = nestedException(first.vector, secondVector);
  return n === NESTED_TRIPLE_FAULT ? { action: 'triple-fault' } : n === NESTED_DOUBLE_FAULT ? { action: 'double-fault' } : { action: 'serial' };
}

/** Checks an event from the API (vector range, error code only where the vector has one). */
export function checkEvent(e: VcpuEvent): void {
  if (!Number.isInteger(e.vector) || e.vector < 0 || e.vector > 255) {
    throw new InvalidArgumentError(`event vector ${e.vector} is outside 0-255`);
  }
  switch (e.kind) {
    case 'exception':
      if (e.vector > 31) throw new InvalidArgumentError(`exception vector ${e.vector} is above 31`);
      if (e.vector === VEC.NMI) throw new InvalidArgumentError('vector 2 is the NMI: inject { kind: "nmi" }');
      if (e.errorCode !== undefined && !exceptionHasErrorCode(e.vector)) {
        throw new InvalidArgumentError(`exception ${e.vector} does not push an error code, but errorCode ${hex(e.errorCode)} was given`);
      }
      if (e.errorCode !== undefined && (!Number.isInteger(e.errorCode) || e.errorCode < 0 || e.errorCode > 0xffff_ffff)) {
        throw new InvalidArgumentError(`error code ${e.errorCode} is not a uint32`);
      }
      break;
    case 'nmi':
      if (e.vector !== VEC.NMI) throw new InvalidArgumentError(`an NMI has vector 2, not ${e.vector}`);
      break;
    case 'interrupt':
      if (e.vector < 16) throw new InvalidArgumentError(`external interrupt vector ${e.vector} is below 16 (SDM Vol. 3A §6.2)`);
      if (e.errorCode !== undefined) throw new InvalidArgumentError('an interrupt has no error code');
      break;
    case 'software-interrupt':
      if (e.errorCode !== undefined) throw new InvalidArgumentError('a software interrupt has no error code');
      break;
    default:
      throw new InvalidArgumentError(`event kind '${(e as VcpuEvent).kind}' is not exception, nmi, interrupt or software-interrupt`);
  }
}

/** What the injector can tell about the guest right now (read from the vCPU before an entry). */
export interface Deliverability {
  /** RFLAGS.IF. */
  interruptsEnabled: boolean;
  /** STI / MOV SS shadow on the next instruction. */
  interruptShadow: boolean;
  /** NMIs blocked until the next IRET. */
  nmiBlocked: boolean;
}

/** The event chosen for the next entry, or the window exit to request when one is pending but blocked. */
export type InjectionChoice =
  | { kind: 'none' }
  | { kind: 'deliver'; event: VcpuEvent }
  | { kind: 'window'; window: 'interrupt-window' | 'nmi-window' };

/**
 * A vCPU's pending events, in the injection order: one exception (with nested combination), one
 * NMI, one maskable interrupt (the caller's or the interrupt controller's). Plain data: it is part
 * of the vCPU's saved state.
 */
export class EventQueue {
  exception: VcpuEvent | null = null;
  nmi = false;
  interrupt: VcpuEvent | null = null;
  /** The event whose delivery an exit interrupted (exit-intinfo); redelivered first. */
  exitIntInfo: VcpuEvent | null = null;
  /** Set by a triple fault found while queueing: the vCPU must shut down. */
  tripleFault = false;
  /** The caller asked to be told when an interrupt / NMI can be injected. */
  wantInterruptWindow = false;
  wantNmiWindow = false;

  /** Queues an event (the API's vcpu.inject). Throws if that slot is already taken. */
  inject(e: VcpuEvent): void {
    checkEvent(e);
    switch (e.kind) {
      case 'exception':
        this.raiseException(e.vector, e.errorCode);
        return;
      case 'nmi':
        if (this.nmi) throw new InvalidStateError('an NMI is already pending on this vCPU');
        this.nmi = true;
        return;
      case 'interrupt':
      case 'software-interrupt':
        if (this.interrupt) {
          throw new InvalidStateError(`interrupt vector ${this.interrupt.vector} is still pending; wait for the interrupt-window exit`);
        }
        this.interrupt = { kind: e.kind, vector: e.vector };
        return;
    }
  }

  /**
   * Raises an exception: combined with the exception already pending or being delivered
   * (exit-intinfo) by Table 6-5. Returns the disposition taken.
   */
  raiseException(vector: number, errorCode?: number): NestedDisposition {
    const first = this.exitIntInfo ?? this.exception;
    const exc: VcpuEvent = { kind: 'exception', vector };
    if (exceptionHasErrorCode(vector)) exc.errorCode = errorCode ?? 0;
    if (first === null) {
      this.exception = exc;
      return { action: 'serial' };
    }
    const d = nestedDisposition(first, vector);
    this.exitIntInfo = null;
    if (d.action === 'triple-fault') {
      this.exception = null;
      this.tripleFault = true;
    } else if (d.action === 'double-fault') {
      this.exception = { kind: 'exception', vector: VEC.DF, errorCode: 0 };
    } else {
      // Serial: the second is delivered; an interrupted external interrupt or NMI is put back
      // (it was not acknowledged by the guest), an interrupted exception is re-raised by the retry.
      if (first.kind === 'nmi') this.nmi = true;
      else if (first.kind === 'interrupt' && this.interrupt === null) this.interrupt = first;
      this.exception = exc;
    }
    return d;
  }

  /** Records that delivery of `e` was interrupted by an exit (exit-intinfo). */
  setExitIntInfo(e: VcpuEvent | null): void {
    this.exitIntInfo = e;
  }

  /**
   * Chooses the event to deliver on this entry (and removes it from the queue), or a window exit
   * to request. Exit-intinfo first, then exception, NMI, maskable interrupt.
   */
  choose(now: Deliverability): InjectionChoice {
    if (this.exitIntInfo) {
      const e = this.exitIntInfo;
      this.exitIntInfo = null;
      return { kind: 'deliver', event: e };
    }
    if (this.exception) {
      const e = this.exception;
      this.exception = null;
      return { kind: 'deliver', event: e };
    }
    if (this.nmi) {
      if (!now.nmiBlocked && !now.interruptShadow) {
        this.nmi = false;
        return { kind: 'deliver', event: { kind: 'nmi', vector: VEC.NMI } };
      }
      if (this.wantNmiWindow) return { kind: 'window', window: 'nmi-window' };
    }
    if (this.interrupt) {
      if (this.interrupt.kind === 'software-interrupt') {
        const e = this.interrupt;
        this.interrupt = null;
        return { kind: 'deliver', event: e };
      }
      if (now.interruptsEnabled && !now.interruptShadow) {
        const e = this.interrupt;
        this.interrupt = null;
        return { kind: 'deliver', event: e };
      }
    }
    if (this.wantInterruptWindow && now.interruptsEnabled && !now.interruptShadow) {
      return { kind: 'window', window: 'interrupt-window' };
    }
    return { kind: 'none' };
  }

  /** True when an interrupt waits for IF=1 (the run loop then watches for the window). */
  interruptBlocked(now: Deliverability): boolean {
    return this.interrupt !== null && this.interrupt.kind === 'interrupt' && (!now.interruptsEnabled || now.interruptShadow);
  }

  save(): EventQueueState {
    return {
      exception: this.exception && { ...this.exception },
      nmi: this.nmi,
      interrupt: this.interrupt && { ...this.interrupt },
      exitIntInfo: this.exitIntInfo && { ...this.exitIntInfo },
      tripleFault: this.tripleFault,
      wantInterruptWindow: this.wantInterruptWindow,
      wantNmiWindow: this.wantNmiWindow,
    };
  }

  restore(s: EventQueueState): void {
    this.exception = s.exception && { ...s.exception };
    this.nmi = s.nmi;
    this.interrupt = s.interrupt && { ...s.interrupt };
    this.exitIntInfo = s.exitIntInfo && { ...s.exitIntInfo };
    this.tripleFault = s.tripleFault;
    this.wantInterruptWindow = s.wantInterruptWindow;
    this.wantNmiWindow = s.wantNmiWindow;
  }
}

export interface EventQueueState {
  exception: VcpuEvent | null;
  nmi: boolean;
  interrupt: VcpuEvent | null;
  exitIntInfo: VcpuEvent | null;
  tripleFault: boolean;
  wantInterruptWindow: boolean;
  wantNmiWindow: boolean;
}
