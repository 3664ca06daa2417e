/**
 * The VM-exit vocabulary: one closed union on `reason`, owned by the CPU side (shared/DESIGN.md,
 * "The data path"; modelled on KVM's kvm_run exit reasons and NVMM's nvmm_vcpu_exit).
 *
 * Each vCPU owns ONE ExitRecord object that every exit reuses, so a hot exit allocates nothing. The
 * object carries every field of every reason (one hidden class for V8); the `VcpuExit` type is the
 * discriminated view callers switch on. 64-bit values are uint32 halves (`...Lo`/`...Hi`).
 *
 * Completion protocol (as KVM's): for `io` IN and `mmio` reads the caller stores the value into
 * `exit.value` (or calls Vcpu.completeIo/completeMmio) before the next run(); the vCPU finishes the
 * instruction at the start of that run. OUT and MMIO writes need nothing back.
 */

export type ExitReason =
  | 'io'
  | 'mmio'
  | 'ept-violation'
  | 'ept-misconfig'
  | 'rdmsr'
  | 'wrmsr'
  | 'cpuid'
  | 'hlt'
  | 'shutdown'
  | 'interrupt-window'
  | 'nmi-window'
  | 'tpr-below-threshold'
  | 'invalid-state'
  | 'budget'
  | 'debug'
  | 'pause'
  | 'exception';

/** Numeric ids for the reasons, for statistics arrays (same order as ExitReason). */
export const EXIT_REASONS: readonly ExitReason[] = [
  'io', 'mmio', 'ept-violation', 'ept-misconfig', 'rdmsr', 'wrmsr', 'cpuid', 'hlt', 'shutdown',
  'interrupt-window', 'nmi-window', 'tpr-below-threshold', 'invalid-state', 'budget', 'debug', 'pause',
  'exception',
];

interface ExitBase {
  /** RIP of the instruction that exited (for `budget`: the next instruction to run). */
  readonly ripLo: number;
  readonly ripHi: number;
  /** RIP after the instruction (where the vCPU continues once the exit is completed). */
  readonly nextRipLo: number;
  readonly nextRipHi: number;
  /** Instructions retired by this run() call. */
  readonly instructions: number;
}

/** Port I/O (IN/OUT/INS/OUTS). String forms exit once per element; `count` is the REP count left. */
export interface IoExit extends ExitBase {
  readonly reason: 'io';
  readonly port: number;
  readonly size: 1 | 2 | 4;
  readonly write: boolean;
  /** OUT: the value written. IN: the caller stores the value read here. */
  value: number;
  readonly string: boolean;
  readonly rep: boolean;
  readonly count: number;
}

/** An access to a guest-physical address that the memory model marks as MMIO. */
export interface MmioExit extends ExitBase {
  readonly reason: 'mmio';
  readonly gpaLo: number;
  readonly gpaHi: number;
  readonly size: number;
  readonly write: boolean;
  /** Write: the low 32 bits written (`valueHi` the high 32 of an 8-byte write). Read: caller fills. */
  value: number;
  valueHi: number;
  /** The instruction's bytes (first `insnLength` are valid), for callers that emulate. */
  readonly insnBytes: Uint8Array;
  readonly insnLength: number;
}

/** The guest-physical access is not allowed by EPT (or not mapped). */
export interface EptViolationExit extends ExitBase {
  readonly reason: 'ept-violation' | 'ept-misconfig';
  readonly gpaLo: number;
  readonly gpaHi: number;
  readonly linearLo: number;
  readonly linearHi: number;
  readonly linearValid: boolean;
  /** Exit qualification in the SDM's layout (Vol. 3C Table 27-7): bit 0 read, 1 write, 2 fetch, 3-5 the entry's R/W/X. */
  readonly qualification: number;
  readonly insnBytes: Uint8Array;
  readonly insnLength: number;
}

export interface MsrExit extends ExitBase {
  readonly reason: 'rdmsr' | 'wrmsr';
  readonly msr: number;
  /** WRMSR: EDX:EAX. RDMSR: the caller stores the value here. */
  valueLo: number;
  valueHi: number;
}

export interface CpuidExit extends ExitBase {
  readonly reason: 'cpuid';
  readonly leaf: number;
  readonly subleaf: number;
  /** The model's values; the caller may change them before the next run(). */
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

/** An exception the vCPU cannot deliver yet (system delivery is issue 5): vector and error code. */
export interface ExceptionExit extends ExitBase {
  readonly reason: 'exception';
  readonly vector: number;
  readonly hasErrorCode: boolean;
  readonly errorCode: number;
  /** #PF: the faulting linear address (CR2). */
  readonly cr2Lo: number;
  readonly cr2Hi: number;
}

export interface InvalidStateExit extends ExitBase {
  readonly reason: 'invalid-state';
  /** Which entry check failed, in words. */
  readonly message: string;
}

export interface SimpleExit extends ExitBase {
  readonly reason:
    | 'hlt' | 'shutdown' | 'interrupt-window' | 'nmi-window' | 'tpr-below-threshold' | 'budget' | 'debug' | 'pause';
}

export type VcpuExit =
  | IoExit | MmioExit | EptViolationExit | MsrExit | CpuidExit | ExceptionExit | InvalidStateExit | SimpleExit;

/** The one reused object behind every VcpuExit of a vCPU (all fields, one shape). */
export class ExitRecord {
  reason: ExitReason = 'budget';
  ripLo = 0;
  ripHi = 0;
  nextRipLo = 0;
  nextRipHi = 0;
  instructions = 0;
  port = 0;
  size = 0;
  write = false;
  value = 0;
  valueHi = 0;
  string = false;
  rep = false;
  count = 0;
  gpaLo = 0;
  gpaHi = 0;
  linearLo = 0;
  linearHi = 0;
  linearValid = false;
  qualification = 0;
  readonly insnBytes = new Uint8Array(15);
  insnLength = 0;
  msr = 0;
  valueLo = 0;
  leaf = 0;
  subleaf = 0;
  eax = 0;
  ebx = 0;
  ecx = 0;
  edx = 0;
  vector = 0;
  hasErrorCode = false;
  errorCode = 0;
  cr2Lo = 0;
  cr2Hi = 0;
  message = '';

  /** The typed view. */
  get view(): VcpuExit {
    return this as unknown as VcpuExit;
  }
}
