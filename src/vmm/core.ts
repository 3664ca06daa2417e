/**
 * What the monitor needs from a CPU core: the seam between vmm/ and cpu/. The interpreter's Vcpu
 * is adapted to this interface in cpu-core.ts; monitor tests can drive the dispatcher with a
 * scripted core. Everything here is allocation-free on the run path.
 */
import type { ExitRecord } from '../cpu/exit.js';
import type { TprLink, TscSource } from '../cpu/system/system.js';

/** Result of a guest-linear translation for the monitor (assist, copyin/copyout). */
export const LIN_OK = 0;
/** The translation would raise a page fault; the monitor injects #PF with CR2 = the address. */
export const LIN_FAULT = 1;

export interface CpuCore {
  /** The register file (src/cpu/state.ts slot layout). */
  readonly u32: Uint32Array;
  /** The one reused exit record. */
  readonly exit: ExitRecord;
  /** Runs at most `maxInstructions` instructions, until an exit; the exit is in `this.exit`. */
  run(maxInstructions: number): void;
  /** Called after the monitor changed the register file (mode, paging, TLB must be re-derived). */
  stateChanged(): void;
  /** RFLAGS.IF and the interrupt-shadow / NMI-blocking state at the current instruction boundary. */
  interruptShadow(): boolean;
  nmiBlocked(): boolean;
  /**
   * Delivers an event through the IDT now (VM-entry event injection). Returns DELIVERED; the vector
   * of an exception raised while delivering it, for a core that leaves Table 6-5 to the monitor;
   * DELIVERY_SHUTDOWN / DELIVERY_EPT_EXIT (exit record filled); or NO_DELIVERY when this core cannot
   * deliver at all (the monitor then reports the event as an `exception` exit).
   */
  deliverEvent(kind: number, vector: number, hasErrorCode: boolean, errorCode: number): number;
  /** Error code of the exception `deliverEvent` returned. */
  readonly nestedErrorCode: number;
  /**
   * Translates a guest-linear address for a data access (write = true for a write) through the
   * current paging mode; on LIN_OK the GPA is in `gpa`. A fault is not raised architecturally here.
   */
  translateLinear(lo: number, hi: number, write: boolean): number;
  /** After LIN_OK: the guest-physical address. */
  readonly gpa: number;
  /** After LIN_OK: the RAM behind it (chunk id and offset in the host memory), or chunk -1 (no RAM). */
  readonly hostChunk: number;
  readonly hostOffset: number;
  /** After LIN_FAULT: the #PF error code (SDM Vol. 3A §4.7). */
  readonly faultErrorCode: number;
  /** The soft TLB and decoded-code cache must be dropped (EPT generation change). */
  flush(): void;
  /** Cancels the completion of the last exit (the caller injected an exception instead). */
  abortExit?(): void;
  /**
   * Execution controls: PAUSE exiting, the CPUID leaves that exit to the monitor, and the TPR
   * threshold (a MOV to CR8 below it exits with `tpr-below-threshold`; -1 = off).
   */
  /** Interrupt-window and NMI-window exiting (SDM Vol. 3C §25.2) for the next run. */
  setWindowExits(interrupt: boolean, nmi: boolean): void;
  configure(pauseExiting: boolean, cpuidExitLeaves: readonly number[], tprThreshold: number, debugExits?: boolean): void;
  /** The platform around the core, set once by the Machine (PlatformLinks). */
  attachPlatform?(links: PlatformLinks): void;
  /** Host page `ppn` (hpa / 4096) was written outside the core (the memory assist): stale decoded code there. */
  codeWritten?(ppn: number): void;
  /**
   * An exit that waits for the caller's completion (IN, RDMSR, CPUID values) as plain data for a
   * snapshot, or null when none waits; restorePending puts it back into a fresh core.
   */
  savePending?(): CorePending | null;
  restorePending?(p: CorePending): void;
  /** RESET of the TSC: it reads 0 from now, IA32_TSC_ADJUST = 0 (SDM Vol. 3A Table 9-1). */
  resetTsc?(): void;
  /**
   * The MSRs the core keeps outside the register file (SYSENTER, STAR family, KERNEL_GS_BASE, PAT,
   * MTRRs, MISC_ENABLE, TSC_ADJUST) as plain numbers for snapshots; restoreMsrs returns false for
   * a list it cannot take; resetMsrs puts back the RESET values.
   */
  saveMsrs?(): number[];
  restoreMsrs?(values: readonly number[]): boolean;
  resetMsrs?(): void;
}

/** What the Machine connects a core to (CpuCore.attachPlatform). */
export interface PlatformLinks {
  /**
   * A LAPIC outside the core owns IA32_APIC_BASE (RDMSR/WRMSR of it exit) and CPUID advertises
   * APIC, x2APIC, TSC-deadline and the x2APIC topology leaf 0BH.
   */
  apic: boolean;
  /** The TSC follows the machine clock. */
  tsc: TscSource | null;
  /** CPUID leaves 15H and 16H (8 values), or null. */
  tscLeaves: readonly number[] | null;
  /** The LAPIC's TPR as CR8 (SDM Vol. 3A §10.8.6.1). */
  tpr: TprLink | null;
  /** The board's FERR# line (IRQ 13 on a PC, SDM Vol. 1 §8.7.1). */
  ferr: (() => void) | null;
  /** Logical processors in the package (the machine's vCPUs), for CPUID leaf 0BH. */
  logicalProcessors: number;
}

/** A pending completion in a snapshot: the exit's reason and the numbers the core needs. */
export interface CorePending {
  reason: string;
  values: number[];
}

/** Event kinds as small ints for the core (EventKind order). */
export const EV_EXCEPTION = 0;
export const EV_NMI = 1;
export const EV_INTERRUPT = 2;
export const EV_SOFTWARE = 3;
/** deliverEvent: delivered. */
export const DELIVERED = -1;
/** deliverEvent: this core cannot deliver events. */
export const NO_DELIVERY = 256;
/** deliverEvent: a table or stack access hit a GPA the EPT does not map (the exit record says which). */
export const DELIVERY_EPT_EXIT = 257;
/** deliverEvent: delivery ended in a triple fault (the exit record is a `shutdown` exit). */
export const DELIVERY_SHUTDOWN = 258;
