/**
 * The interpreter (src/cpu/vcpu.ts) as the monitor's CpuCore, over a GuestMemory:
 * - EptPhysicalSpace: the vCPU's PhysicalSpace contract implemented by the memory room's EPT walk;
 * - the core delivers exceptions and interrupts itself (its exception bitmap is cleared, as a
 *   full-system monitor does with VMX's); injection hands the event to the core's VM-entry
 *   injection and performs it at once (a run of zero instructions), so the monitor learns whether
 *   delivery completed, shut down (triple fault) or stopped on an EPT violation (exit-intinfo);
 * - guest-linear translation for the memory assist through the core's guest-paging walk.
 */
import { Vcpu } from '../cpu/vcpu.js';
import type { ExitRecord } from '../cpu/exit.js';
import { InvalidArgumentError } from '../util/errors.js';
import type { PlatformLinks } from './core.js';
import type { PhysicalSpace, PhysResult } from '../cpu/phys.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { EptTranslation, TRANSLATE_OK, TRANSLATE_EPT_MISCONFIG } from '../memory/ept.js';
import type { HostMemory } from '../memory/host.js';
import {
  LIN_OK, LIN_FAULT, DELIVERED, DELIVERY_EPT_EXIT, DELIVERY_SHUTDOWN, EV_EXCEPTION, EV_NMI, EV_INTERRUPT, type CpuCore,
  type CorePending,
} from './core.js';
import type { ExitReason } from '../cpu/exit.js';

/** The interpreter's completion state (src/cpu/vcpu.ts private fields, read for snapshots only). */
interface VcpuPendingFields {
  pendingIn: number;
  pendingInSize: number;
  pendingAsz: number;
  pendingRep: boolean;
}

/** Exit-record fields a completion reads (vcpu.ts completeIn, this adapter's run()). */
const PENDING_FIELDS = ['value', 'valueLo', 'valueHi', 'eax', 'ebx', 'ecx', 'edx', 'ripLo', 'ripHi', 'nextRipLo', 'nextRipHi', 'msr', 'port', 'size'] as const;
import { LIN_OK as CORE_LIN_OK, LIN_PAGE_FAULT } from '../cpu/system/linear.js';
import { ACC_READ, ACC_WRITE } from '../cpu/phys.js';
import { S_RIP, S_MODE, S_SEG, SEG_STRIDE, SEG_BASE, CS } from '../cpu/state.js';


/** PhysicalSpace over the machine's EPT (the access bits 1/2/4 are the EPT R/W/X bits). */
export class EptPhysicalSpace implements PhysicalSpace {
  private readonly tr = new EptTranslation();
  constructor(private readonly memory: GuestMemory) {}

  get host(): HostMemory {
    return this.memory.host;
  }

  get generation(): number {
    return this.memory.generation;
  }

  translate(gpaLo: number, gpaHi: number, access: number, out: PhysResult): boolean {
    const gpa = gpaHi * 0x1_0000_0000 + (gpaLo - (gpaLo & 0xfff));
    if (gpaHi >= 0x1_0000) {
      out.misconfig = false;
      out.entryPerm = 0;
      return false;
    }
    const st = this.memory.ept.translate(gpa, access, this.tr);
    if (st !== TRANSLATE_OK) {
      out.misconfig = st === TRANSLATE_EPT_MISCONFIG;
      out.entryPerm = (this.tr.qualification >>> 3) & 7;
      return false;
    }
    out.hpa = this.tr.hpa - (this.tr.hpa & 0xfff);
    out.perm = this.tr.perms;
    return true;
  }
}

export class InterpreterCore implements CpuCore {
  readonly vcpu: Vcpu;
  gpa = 0;
  faultErrorCode = 0;
  /** After translateLinear LIN_OK: where the RAM byte is (chunk, offset), or chunk -1 for a device GPA. */
  hostChunk = -1;
  hostOffset = 0;
  /** Not used: this core applies Table 6-5 itself while delivering. */
  readonly nestedErrorCode = 0;

  constructor(private readonly memory: GuestMemory, id: number) {
    this.vcpu = new Vcpu(new EptPhysicalSpace(memory));
    this.vcpu.apicId = id;
    // The core delivers every exception and INT n through the guest's IDT (VMX exception bitmap 0).
    this.vcpu.exceptionBitmap = 0;
    this.vcpu.softwareInterruptExits = false;
  }

  get u32(): Uint32Array {
    return this.vcpu.u;
  }

  get exit(): ExitRecord {
    return this.vcpu.exitRecord;
  }

  run(maxInstructions: number): void {
    const ex = this.vcpu.exitRecord;
    // The core completes RDMSR/WRMSR, CPUID and IN exits itself at its next run, and raises
    // `tpr-below-threshold` after a MOV to CR8 (System.tprThreshold).
    this.vcpu.run({ maxInstructions });
    if ((ex.reason === 'ept-violation' || ex.reason === 'ept-misconfig' || ex.reason === 'mmio') && ex.insnLength === 0) {
      this.fetchInsnBytes(ex);
    }
  }

  configure(pauseExiting: boolean, cpuidExitLeaves: readonly number[], tprThreshold: number, debugExits = false): void {
    this.vcpu.pauseExiting = pauseExiting;
    // #DB (1) and #BP (3) exit when the caller intercepts debug events (KVM_GUESTDBG).
    this.vcpu.exceptionBitmap = debugExits ? (1 << 1) | (1 << 3) : 0;
    this.vcpu.cpuidExitLeaves.clear();
    for (const l of cpuidExitLeaves) this.vcpu.cpuidExitLeaves.add(l >>> 0);
    this.vcpu.sys.tprThreshold = tprThreshold;
  }

  attachPlatform(links: PlatformLinks): void {
    this.vcpu.onFerr = links.ferr;
    const sys = this.vcpu.sys;
    sys.tprLink = links.tpr;
    sys.apicMsrExits = links.apic;
    sys.platform.apic = links.apic;
    sys.platform.tscLeaves = links.tscLeaves;
    sys.platform.logicalProcessors = links.logicalProcessors;
    sys.tscSource = links.tsc;
  }

  codeWritten(ppn: number): void {
    this.vcpu.codeWritten(ppn);
  }

  savePending(): CorePending | null {
    const f = this.vcpu as unknown as VcpuPendingFields;
    if (f.pendingIn === 0) return null;
    const ex = this.vcpu.exitRecord;
    // value 4 is reserved (0): it held an adapter-side MSR completion that the core now does itself
    const values = [f.pendingIn, f.pendingInSize, f.pendingAsz, f.pendingRep ? 1 : 0, 0];
    for (const k of PENDING_FIELDS) values.push(ex[k] as number);
    return { reason: ex.reason, values };
  }

  restorePending(p: CorePending): void {
    const f = this.vcpu as unknown as VcpuPendingFields;
    const v = p.values;
    if (!Array.isArray(v) || v.length !== 5 + PENDING_FIELDS.length || v.some((x) => typeof x !== 'number')) {
      throw new InvalidArgumentError(`snapshot pending completion has ${Array.isArray(v) ? v.length : 'no'} values, expected ${5 + PENDING_FIELDS.length} numbers`);
    }
    const ex = this.vcpu.exitRecord;
    ex.reason = p.reason as ExitReason;
    f.pendingIn = v[0]!;
    f.pendingInSize = v[1]!;
    f.pendingAsz = v[2]!;
    f.pendingRep = v[3] === 1;
    PENDING_FIELDS.forEach((k, i) => {
      (ex as unknown as Record<string, number>)[k] = v[5 + i]!;
    });
  }

  resetTsc(): void {
    this.vcpu.sys.resetTsc();
  }

  saveMsrs(): number[] {
    return this.vcpu.sys.msr.save();
  }

  restoreMsrs(values: readonly number[]): boolean {
    return this.vcpu.sys.msr.restore(values);
  }

  resetMsrs(): void {
    this.vcpu.sys.msr.reset();
  }

  /**
   * Fills the exit's instruction bytes (up to 15, as NVMM's exit does) from guest memory at CS:RIP,
   * stopping at the first byte without RAM behind it.
   */
  private fetchInsnBytes(ex: ExitRecord): void {
    const u = this.vcpu.u;
    const mode = u[S_MODE]!;
    const base = mode === 64 ? 0 : u[S_SEG + CS * SEG_STRIDE + SEG_BASE]!;
    const rip = ex.ripLo + ex.ripHi * 0x1_0000_0000;
    const lin = mode === 64 ? rip : (base + ex.ripLo) >>> 0;
    let n = 0;
    while (n < 15) {
      const m = this.memory.findMapping(lin + n);
      if (!m || (m.perms & 4) === 0 && (m.perms & 1) === 0) break;
      const end = Math.min(15, m.gpa + m.size - lin);
      this.memory.read(lin + n, ex.insnBytes.subarray(n, end));
      n = end;
    }
    ex.insnLength = n;
  }

  stateChanged(): void {
    this.vcpu.updateMode();
    this.vcpu.flushTlb();
  }

  interruptShadow(): boolean {
    return this.vcpu.sys.shadow;
  }

  nmiBlocked(): boolean {
    return this.vcpu.nmiBlocked;
  }

  setWindowExits(interrupt: boolean, nmi: boolean): void {
    this.vcpu.interruptWindowExiting = interrupt;
    this.vcpu.nmiWindowExiting = nmi;
  }

  deliverEvent(kind: number, vector: number, hasErrorCode: boolean, errorCode: number): number {
    const v = this.vcpu;
    const ex = v.exitRecord;
    const u = v.u;
    const rLo = u[S_RIP]!;
    const rHi = u[S_RIP + 1]!;
    v.injectEvent(
      kind === EV_EXCEPTION ? 'exception' : kind === EV_NMI ? 'nmi' : kind === EV_INTERRUPT ? 'interrupt' : 'software-interrupt',
      vector,
      hasErrorCode ? errorCode : undefined,
    );
    // A run of zero instructions performs the injection (the core's Table 6-5 handling included).
    v.run({ maxInstructions: 0 });
    if (ex.reason === 'budget') return DELIVERED;
    if (ex.reason === 'shutdown') return DELIVERY_SHUTDOWN;
    if (ex.reason === 'ept-violation' || ex.reason === 'ept-misconfig') {
      // Delivery stopped on the IDT, GDT or stack: the state is as before it (exit-intinfo).
      u[S_RIP] = rLo;
      u[S_RIP + 1] = rHi;
      if (ex.insnLength === 0) ex.insnLength = 0;
      return DELIVERY_EPT_EXIT;
    }
    return DELIVERY_EPT_EXIT;
  }

  /**
   * Guest-linear -> guest-physical for a data access, through the core's paging walk (A/D bits set
   * as the hardware would). A page the EPT does not map gives its GPA with hostChunk = -1 (a device,
   * or an EPT violation for the monitor to report).
   */
  translateLinear(lo: number, hi: number, write: boolean): number {
    const mem = this.vcpu.sys.mem;
    const st = mem.translate(lo, hi, write ? ACC_WRITE : ACC_READ);
    if (st === CORE_LIN_OK) {
      this.hostChunk = mem.hostChunk;
      this.hostOffset = mem.hostOffset;
      this.gpa = mem.pagingOn ? mem.gt.gpa : hi * 0x1_0000_0000 + lo;
      return LIN_OK;
    }
    if (st === LIN_PAGE_FAULT) {
      this.faultErrorCode = mem.pfError;
      return LIN_FAULT;
    }
    this.hostChunk = -1;
    this.gpa = mem.eptGpa - (mem.eptGpa % 0x1000) + (lo & 0xfff);
    return LIN_OK;
  }

  flush(): void {
    this.vcpu.flushCodeCache();
  }
}

/** The default core factory for Machine. */
export function interpreterCore(machine: { memory: GuestMemory }, id: number): CpuCore {
  return new InterpreterCore(machine.memory, id);
}
