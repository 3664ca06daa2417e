/**
 * The system architecture of the vCPU (Intel SDM Vol. 3A ch. 2-9, 17; Vol. 2 instruction pages):
 * segment loads with their checks (§5.4-5.10, MOV/POP/LDS pages), far JMP/CALL/RET and call gates
 * (§5.8), IRET (Vol. 2 IRET pseudocode), exception and interrupt delivery through the IVT and the IDT
 * (§6.12, §6.14, §20.1.4) with the nested-exception rules (§6.15 Table 6-5: #DF, triple fault),
 * hardware task switches (ch. 8), SYSCALL/SYSRET and SYSENTER/SYSEXIT (§5.8.7-5.8.8), control
 * registers and EFER (§2.5, §9.8.5, §2.2.1), the architectural MSRs (msr.ts), the descriptor-table
 * instructions, LAR/LSL/VERR/VERW/ARPL, and I/O permission (§19.5: IOPL and the TSS bitmap).
 *
 * The interpreter (cpu/vcpu.ts) owns the register file and the soft TLB; it calls in here for every
 * instruction and event that crosses a system boundary. Everything here is off the hot path: these
 * are the rare instructions, so clarity wins, but nothing allocates per call.
 *
 * Status codes returned to the interpreter: ST_OK (done), ST_FAULT (an exception is pending in
 * pendVector/pendErr, the interpreter delivers it with RIP at the faulting instruction), ST_EXIT
 * (the exit record is filled; the run stops).
 */
import { getFlags, setFlags } from '../flags.js';
import { ACC_READ, ACC_WRITE } from '../phys.js';
import {
  AC, ATTR_DB, ATTR_G, ATTR_L, ATTR_P, ATTR_S, ATTR_UNUSABLE, CS, DS, ES, FS, GS, IF, IOPL, LDTR, NT, RF, S_CR0, S_CR2,
  S_CR3, S_CR4, S_CR8, S_DR, S_DR6, S_DR7, S_EFER, S_GDTR, S_IDTR, S_RFLAGS, S_RIP, S_SEG, S_TSC, S_TSC_AUX, SEG_ATTR,
  SEG_BASE, SEG_BASE_HI, SEG_LIMIT, SEG_SEL, SEG_STRIDE, SS, TF, TR, VIF, VIP, VM, ID, type CpuState,
} from '../state.js';
import type { ExitRecord } from '../exit.js';
import { CpuidPlatform } from '../cpuid.js';
import type { PhysicalSpace } from '../phys.js';
import { LA_AC, LA_SUPERVISOR_IMPLICIT, LA_USER, LIN_EPT, LIN_OK, LinearMemory, PHYS_ADDR_BITS } from './linear.js';
import {
  MSR_APIC_BASE, MSR_TSC_ADJUST, MSR_CSTAR, MSR_EFER, MSR_FMASK, MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_LSTAR,
  MSR_MISC_ENABLE, MSR_MTRRCAP, MSR_MTRR_DEF_TYPE, MSR_MTRR_FIX16K_80000, MSR_MTRR_FIX16K_A0000, MSR_MTRR_FIX4K_C0000,
  MSR_MTRR_FIX64K, MSR_MTRR_PHYSBASE0, MSR_PAT, MSR_STAR, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP,
  MSR_TSC, MSR_TSC_AUX, MTRRCAP_VALUE, MsrStore, validMemType, validTypeBytes,
} from './msr.js';

export const ST_OK = 0;
export const ST_FAULT = 3;
export const ST_EXIT = 2;

/** Exception vectors (SDM Vol. 3A Table 6-1). */
export const V_DE = 0, V_DB = 1, V_NMI = 2, V_BP = 3, V_OF = 4, V_UD = 6, V_NM = 7, V_DF = 8, V_TS = 10, V_NP = 11,
  V_SS = 12, V_GP = 13, V_PF = 14, V_AC = 17;

/** Event kinds (what raised the event decides privilege checks, EXT and the pushed RIP). */
export const EV_EXCEPTION = 0; // hardware exception (fault/trap/abort)
export const EV_SOFT_INT = 1; // INT n
export const EV_SOFT_EXC = 2; // INT3, INTO
export const EV_ICEBP = 3; // INT1 (privileged software exception)
export const EV_EXTERNAL = 4; // external interrupt
export const EV_NMI = 5;

/** CR0 bits (SDM Vol. 3A §2.5). */
const CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 0x10, CR0_NE = 0x20, CR0_WP = 1 << 16, CR0_AM = 1 << 18,
  CR0_NW = 1 << 29, CR0_CD = 1 << 30, CR0_PG = 1 << 31;
const CR0_VALID = (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG) >>> 0;
/** CR4 bits the model implements (and advertises through CPUID). */
export const CR4_TSD = 1 << 2, CR4_DE = 1 << 3, CR4_PSE = 1 << 4, CR4_PAE = 1 << 5, CR4_MCE = 1 << 6, CR4_PGE = 1 << 7,
  CR4_PCE = 1 << 8, CR4_OSFXSR = 1 << 9, CR4_OSXMMEXCPT = 1 << 10, CR4_UMIP = 1 << 11, CR4_FSGSBASE = 1 << 16,
  CR4_PCIDE = 1 << 17, CR4_SMEP = 1 << 20, CR4_SMAP = 1 << 21, CR4_LA57 = 1 << 12;
const CR4_VALID = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT |
  CR4_UMIP | CR4_LA57 | CR4_FSGSBASE | CR4_PCIDE | CR4_SMEP | CR4_SMAP;
const EFER_SCE = 1, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

const TWO32 = 4294967296;

/** What the system unit needs from the interpreter. */
export interface SystemHost {
  /** Recomputes the interpreter's mode/CPL caches from the register file (flushes the TLB as needed). */
  updateMode(): void;
  /** Drops the soft TLB (paging state changed). */
  flushTlb(): void;
  /** A system write reached host page `ppn` (hpa / 4096): decoded code there is stale. */
  codeWritten(ppn: number): void;
}

/**
 * The time base of the TSC when the vCPU runs in a machine (the monitor's clock): TSC ticks after
 * `instructions` instructions of the current run (the current one included), before the vCPU's
 * offset. Exact below 2^53. `offsetChanged` tells the monitor the vCPU's offset (TSC minus time
 * base, 64-bit two's complement) after WRMSR to IA32_TIME_STAMP_COUNTER or IA32_TSC_ADJUST, so a
 * TSC-deadline timer compares with the same TSC.
 */
export interface TscSource {
  ticks(instructions: number): number;
  offsetChanged(lo: number, hi: number): void;
}

/**
 * The local APIC's task-priority register as CR8 sees it (SDM Vol. 3A §10.8.6.1: CR8[3:0] is
 * TPR[7:4]). The monitor links each vCPU to its LAPIC; without one, CR8 is plain storage.
 */
export interface TprLink {
  getCr8(): number;
  setCr8(value: number): void;
}

/** The data segment registers, in the order the SDM's RET/IRET pseudocode checks them. */
const DATA_SEGS = new Uint8Array([ES, DS, FS, GS]);

/** Bit 47 (4-level paging) or bit 56 (5-level, CR4.LA57) sign-extends the canonical address (SDM §3.3.7.1, §4.5). */
const CANON48 = 0x8000, CANON57 = 0x1000000;

/** Table 6-4 class of an exception vector: 0 benign, 1 contributory, 2 page fault (#PF, #VE). */
export function exceptionClassOf(v: number): number {
  if (v === V_DE || (v >= V_TS && v <= V_GP) || v === 21) return 1;
  if (v === V_PF || v === 20) return 2;
  return 0;
}

/** nestedException results. */
export const NESTED_SERIAL = 0, NESTED_DOUBLE_FAULT = 1, NESTED_TRIPLE_FAULT = 2;

/**
 * SDM Vol. 3A Table 6-5 (and §6.15 Interrupt 8: a fault while delivering #DF is a triple fault):
 * exception `second`, raised while delivering exception `first`, is handled serially, becomes #DF,
 * or shuts the processor down. The one place the table is applied (the core's delivery and the
 * monitor's EventQueue both call it).
 */
export function nestedException(first: number, second: number): number {
  if (first === V_DF) return NESTED_TRIPLE_FAULT;
  const a = exceptionClassOf(first), b = exceptionClassOf(second);
  return (a === 1 && b === 1) || (a === 2 && b !== 0) ? NESTED_DOUBLE_FAULT : NESTED_SERIAL;
}

export class System {
  readonly mem: LinearMemory;
  readonly msr = new MsrStore();
  private readonly u: Uint32Array;
  /** CPUID additions of the platform (the monitor sets them; Vcpu passes them to cpuidModel). */
  readonly platform = new CpuidPlatform();
  /**
   * IA32_APIC_BASE belongs to a local APIC outside the core (the monitor's): RDMSR/WRMSR of it
   * become rdmsr/wrmsr exits, as the x2APIC MSRs 800H-8FFH and IA32_TSC_DEADLINE always are.
   */
  apicMsrExits = false;
  /** The TSC's time base; null: the count of retired instructions (a core without a machine). */
  tscSource: TscSource | null = null;
  /** The LAPIC TPR behind CR8 (set by the monitor), or null. */
  tprLink: TprLink | null = null;

  // ---- the pending exception (raised by the interpreter or by a check here) ----
  pendVector = -1;
  pendHasErr = false;
  pendErr = 0;

  /** NMI blocking (from NMI delivery until the next IRET, SDM §6.7.1). */
  nmiBlocked = false;
  /** Interrupt shadow after STI / MOV SS / POP SS: instructions retired count when it ends. */
  shadow = false;
  /** A #DB held back by MOV SS/POP SS (SDM §6.8.3): DR6 bits to report after the next instruction. */
  heldDb = 0;
  /**
   * Data breakpoints on the accesses made here for an instruction: stack frames (far CALL/RET, IRET,
   * INT n), descriptor tables, the TSS. Matched only while the vCPU single-steps an instruction with
   * DR7 enabled (`watch`; the delivery of the #DB itself is not watched); `watchBits` collects the
   * DR6.Bn bits of the hits. The SDM makes no exception for implicit accesses (§17.2.5: any access
   * to a byte in the range); QEMU 7.2 and Bochs 2.7 both report a GDT read by a segment load.
   */
  watch = false;
  watchBits = 0;

  /** Injected event (monitor): delivered at the start of the next run. */
  injKind = -1;
  injVector = 0;
  injHasErr = false;
  injErr = 0;

  // ---- scratch ----
  private vh = 0;
  private dLo = 0; // descriptor read by readDesc
  private dHi = 0;
  private dAddrLo = 0; // its linear address
  private dAddrHi = 0;
  private readonly frame = new Uint32Array(24);
  private readonly params = new Uint32Array(64);
  private readonly bytes = new Uint8Array(8);

  constructor(state: CpuState, phys: PhysicalSpace, private readonly host: SystemHost, private readonly ex: ExitRecord) {
    this.u = state.u32;
    this.mem = new LinearMemory(phys);
    this.refresh();
  }

  /** Half the canonical range of the high dword: 0x8000 (48-bit) or 0x1000000 (57-bit, LA57). */
  canonAdd = CANON48;

  /** True when a 64-bit address with high dword `hi` is canonical for the current paging width. */
  canon(hi: number): boolean {
    return ((hi + this.canonAdd) >>> 0) < this.canonAdd * 2;
  }

  /** Recomputes the paging context from CR0/CR3/CR4/EFER (after any of them or PAT changed). */
  refresh(): void {
    const u = this.u;
    const c = this.mem.ctx;
    c.cr0 = u[S_CR0]!;
    c.cr3Lo = u[S_CR3]!;
    c.cr3Hi = u[S_CR3 + 1]!;
    c.cr4 = u[S_CR4]!;
    c.efer = u[S_EFER]!;
    c.patLo = this.msr.patLo;
    c.patHi = this.msr.patHi;
    this.mem.pagingOn = (c.cr0 & CR0_PG) !== 0;
    this.canonAdd = (c.cr4 & CR4_LA57) !== 0 ? CANON57 : CANON48;
  }

  // =====================================================================================
  // Helpers: mode, privilege, faults
  // =====================================================================================

  private get long(): boolean {
    return (this.u[S_EFER]! & EFER_LMA) !== 0;
  }
  private get pmode(): boolean {
    return (this.u[S_CR0]! & CR0_PE) !== 0;
  }
  private get v86(): boolean {
    return (this.u[S_RFLAGS]! & VM) !== 0;
  }
  /** 64-bit mode (IA-32e with CS.L = 1). */
  private get mode64(): boolean {
    return this.long && (this.u[S_SEG + CS * SEG_STRIDE + SEG_ATTR]! & ATTR_L) !== 0;
  }
  get cpl(): number {
    if (!this.pmode) return 0;
    if (this.v86) return 3;
    return this.u[S_SEG + CS * SEG_STRIDE + SEG_SEL]! & 3;
  }

  /** Records a pending exception; returns ST_FAULT. */
  fault(vector: number, hasErr: boolean, err: number): number {
    this.pendVector = vector;
    this.pendHasErr = hasErr;
    this.pendErr = err & 0xffff;
    if (vector === V_PF) this.pendErr = err;
    return ST_FAULT;
  }
  private gp(err: number): number {
    return this.fault(V_GP, true, err);
  }
  private ud(): number {
    return this.fault(V_UD, false, 0);
  }

  // =====================================================================================
  // Linear memory accesses made by the processor itself
  // =====================================================================================

  /** Access flags for an access at privilege `cpl` (implicit supervisor accesses pass cpl = -1). */
  private acc(cpl: number): number {
    if (cpl < 0) return LA_SUPERVISOR_IMPLICIT | (this.cpl === 3 ? LA_USER : 0);
    return (cpl === 3 ? LA_USER : 0) | ((this.u[S_RFLAGS]! & AC) !== 0 ? LA_AC : 0);
  }

  /** Translates one byte's page; on failure records the #PF or the EPT exit. */
  private tr(lo: number, hi: number, kind: number, flags: number): boolean {
    const st = this.mem.translate(lo, hi, kind | flags);
    if (st === LIN_OK) return true;
    if (st === LIN_EPT) {
      const ex = this.ex;
      ex.reason = this.mem.eptMisconfig ? 'ept-misconfig' : 'ept-violation';
      ex.gpaLo = this.mem.eptGpa >>> 0;
      ex.gpaHi = Math.floor(this.mem.eptGpa / TWO32);
      ex.linearLo = lo;
      ex.linearHi = hi;
      ex.linearValid = true;
      ex.qualification = this.mem.eptQual;
      ex.insnLength = 0;
      this.pendVector = -2; // marks "exit" for callers that only see false
      return false;
    }
    this.u[S_CR2] = lo;
    this.u[S_CR2 + 1] = hi;
    this.fault(V_PF, true, this.mem.pfError);
    return false;
  }

  /** Status after a failed access. */
  private failSt(): number {
    return this.pendVector === -2 ? ST_EXIT : ST_FAULT;
  }

  /** Reads 1/2/4/8 bytes at a linear address (-1 on failure; high half of an 8-byte read in this.vh). */
  private rd(lo: number, hi: number, n: number, cpl: number): number {
    lo >>>= 0;
    // (a fault of the access discards the hit with the instruction)
    if (this.watch) this.watchBits |= this.dataBreakpoints(lo, hi, n, false, true);
    const flags = this.acc(cpl);
    const host = this.mem;
    if ((lo & 0xfff) + n <= 4096) {
      if (!this.tr(lo, hi, ACC_READ, flags)) return -1;
      const v = this.hostView(host.hostChunk);
      const o = host.hostOffset;
      this.vh = 0;
      switch (n) {
        case 1: return v.getUint8(o);
        case 2: return v.getUint16(o, true);
        case 4: return v.getUint32(o, true);
        default: this.vh = v.getUint32(o + 4, true); return v.getUint32(o, true);
      }
    }
    const b = this.bytes;
    for (let k = 0; k < n; k++) {
      const a = lo + k;
      if (!this.tr(a >>> 0, a >= TWO32 ? (hi + 1) >>> 0 : hi, ACC_READ, flags)) return -1;
      b[k] = this.hostView(host.hostChunk).getUint8(host.hostOffset);
    }
    let vlo = 0, vhi = 0;
    for (let k = 0; k < n; k++) {
      if (k < 4) vlo |= b[k]! << (8 * k); else vhi |= b[k]! << (8 * (k - 4));
    }
    this.vh = vhi >>> 0;
    return vlo >>> 0;
  }

  /** Writes 1/2/4/8 bytes (vhi: the high half of an 8-byte write). All pages are translated first. */
  private wr(lo: number, hi: number, n: number, v: number, vhi: number, cpl: number): boolean {
    lo >>>= 0;
    if (this.watch) this.watchBits |= this.dataBreakpoints(lo, hi, n, true, false);
    const flags = this.acc(cpl);
    const host = this.mem;
    if ((lo & 0xfff) + n <= 4096) {
      if (!this.tr(lo, hi, ACC_WRITE, flags)) return false;
      const dv = this.hostView(host.hostChunk);
      const o = host.hostOffset;
      switch (n) {
        case 1: dv.setUint8(o, v); break;
        case 2: dv.setUint16(o, v, true); break;
        case 4: dv.setUint32(o, v, true); break;
        default: dv.setUint32(o, v, true); dv.setUint32(o + 4, vhi, true); break;
      }
      this.written(host.hostChunk, o);
      return true;
    }
    const lo2 = (lo - (lo & 0xfff) + 4096) >>> 0;
    const hi2 = lo2 === 0 ? (hi + 1) >>> 0 : hi;
    if (!this.tr(lo2, hi2, ACC_WRITE, flags) || !this.tr(lo, hi, ACC_WRITE, flags)) return false;
    for (let k = 0; k < n; k++) {
      const a = lo + k;
      if (!this.tr(a >>> 0, a >= TWO32 ? (hi + 1) >>> 0 : hi, ACC_WRITE, flags)) return false;
      const byte = (k < 4 ? v >>> (8 * k) : vhi >>> (8 * (k - 4))) & 0xff;
      this.hostView(host.hostChunk).setUint8(host.hostOffset, byte);
      this.written(host.hostChunk, host.hostOffset);
    }
    return true;
  }

  private hostView(chunk: number): DataView {
    return this.mem.paging.ept.host.views[chunk]!;
  }
  private written(chunk: number, offset: number): void {
    const cs = this.mem.paging.ept.host.chunkSize;
    this.host.codeWritten(Math.floor((chunk * cs + offset) / 4096));
  }

  // =====================================================================================
  // Descriptors (SDM Vol. 3A §3.4.5, §5.2-5.6)
  // =====================================================================================

  /**
   * Reads the 8-byte descriptor for `sel` into dLo/dHi. Returns ST_OK, or raises `vec`(sel + ext)
   * when the selector is beyond the table limit (or points into an unusable LDT).
   */
  private readDesc(sel: number, vec: number, ext: number): number {
    const u = this.u;
    const idx = sel & 0xfff8;
    let baseLo: number, baseHi: number, limit: number;
    if ((sel & 4) !== 0) {
      const o = S_SEG + LDTR * SEG_STRIDE;
      if ((u[o + SEG_ATTR]! & ATTR_UNUSABLE) !== 0 || (u[o + SEG_SEL]! & 0xfffc) === 0) return this.fault(vec, true, (sel & 0xfffc) | ext);
      baseLo = u[o + SEG_BASE]!; baseHi = u[o + SEG_BASE_HI]!; limit = u[o + SEG_LIMIT]!;
    } else {
      baseLo = u[S_GDTR]!; baseHi = u[S_GDTR + 1]!; limit = u[S_GDTR + 2]!;
    }
    if (idx + 7 > limit) return this.fault(vec, true, (sel & 0xfffc) | ext);
    if (!this.long) baseHi = 0;
    const a = baseLo + idx;
    this.dAddrLo = a >>> 0;
    this.dAddrHi = a >= TWO32 ? (baseHi + 1) >>> 0 : baseHi;
    const lo = this.rd(this.dAddrLo, this.dAddrHi, 4, -1);
    if (lo < 0) return this.failSt();
    const a4 = this.dAddrLo + 4;
    const hi = this.rd(a4 >>> 0, a4 >= TWO32 ? (this.dAddrHi + 1) >>> 0 : this.dAddrHi, 4, -1);
    if (hi < 0) return this.failSt();
    this.dLo = lo;
    this.dHi = hi;
    return ST_OK;
  }

  /** Reads the upper 8 bytes of a 16-byte system descriptor (long mode) into vh:return. */
  private readDescUpper(): number {
    const a = this.dAddrLo + 8;
    const lo = this.rd(a >>> 0, a >= TWO32 ? (this.dAddrHi + 1) >>> 0 : this.dAddrHi, 4, -1);
    if (lo < 0) return -1;
    const a2 = this.dAddrLo + 12;
    const hi = this.rd(a2 >>> 0, a2 >= TWO32 ? (this.dAddrHi + 1) >>> 0 : this.dAddrHi, 4, -1);
    if (hi < 0) return -1;
    this.vh = hi;
    return lo;
  }

  /** Sets the accessed bit of the descriptor last read, if clear (SDM §3.4.5.1: a locked write). */
  private setAccessed(): number {
    if ((this.dHi & 0x100) !== 0) return ST_OK;
    this.dHi |= 0x100;
    const a = this.dAddrLo + 5;
    if (!this.wr(a >>> 0, a >= TWO32 ? (this.dAddrHi + 1) >>> 0 : this.dAddrHi, 1, (this.dHi >>> 8) & 0xff, 0, -1)) return this.failSt();
    return ST_OK;
  }

  private static attrOf(dHi: number): number {
    return ((dHi >>> 8) & 0xff) | (((dHi >>> 20) & 0xf) << 12);
  }
  private static baseOf(dLo: number, dHi: number): number {
    return ((dLo >>> 16) | ((dHi & 0xff) << 16) | (dHi & 0xff000000)) >>> 0;
  }
  private static limitOf(dLo: number, dHi: number): number {
    const l = (dLo & 0xffff) | (dHi & 0xf0000);
    return (dHi & 0x800000) !== 0 ? ((l << 12) | 0xfff) >>> 0 : l;
  }

  /** Loads segment register `seg` from the descriptor in dLo/dHi (hidden part) with selector `sel`. */
  private loadCache(seg: number, sel: number): void {
    const o = S_SEG + seg * SEG_STRIDE;
    const u = this.u;
    u[o + SEG_SEL] = sel & 0xffff;
    u[o + SEG_BASE] = System.baseOf(this.dLo, this.dHi);
    u[o + SEG_BASE_HI] = 0;
    u[o + SEG_LIMIT] = System.limitOf(this.dLo, this.dHi);
    u[o + SEG_ATTR] = System.attrOf(this.dHi);
  }

  /** A null selector in DS/ES/FS/GS (or SS in 64-bit mode): unusable (SDM §3.4.4, §5.4.1). */
  private loadNull(seg: number, sel: number): void {
    const o = S_SEG + seg * SEG_STRIDE;
    const u = this.u;
    u[o + SEG_SEL] = sel & 0xffff;
    if (!this.long || seg < FS) { u[o + SEG_BASE] = 0; u[o + SEG_BASE_HI] = 0; }
    u[o + SEG_LIMIT] = 0;
    u[o + SEG_ATTR] = ATTR_UNUSABLE | (seg === SS ? (sel & 3) << 5 : 0);
  }

  /** Real-mode / virtual-8086 segment load. */
  private loadReal(seg: number, sel: number): void {
    const o = S_SEG + seg * SEG_STRIDE;
    const u = this.u;
    u[o + SEG_SEL] = sel & 0xffff;
    u[o + SEG_BASE] = (sel & 0xffff) << 4;
    u[o + SEG_BASE_HI] = 0;
    if (this.v86) {
      u[o + SEG_LIMIT] = 0xffff;
      u[o + SEG_ATTR] = (seg === CS ? 0xb : 0x3) | ATTR_S | ATTR_P | (3 << 5);
    } else if (seg === CS) {
      // real mode keeps the limit and most attributes; CS is a readable code segment
      u[o + SEG_ATTR] = (u[o + SEG_ATTR]! & ~(ATTR_UNUSABLE | 0x6f)) | 0xb | ATTR_S | ATTR_P;
    } else if ((u[o + SEG_ATTR]! & ATTR_UNUSABLE) !== 0) {
      u[o + SEG_ATTR] = 0x3 | ATTR_S | ATTR_P;
    }
  }

  // =====================================================================================
  // MOV/POP Sreg, LDS/LES/LFS/LGS/LSS (SDM Vol. 2 MOV "Operation", Vol. 3A §5.4.1, §5.10)
  // =====================================================================================

  loadSegment(seg: number, sel: number): number {
    sel &= 0xffff;
    if (!this.pmode || this.v86) {
      this.loadReal(seg, sel);
      return ST_OK;
    }
    const cpl = this.cpl;
    const rpl = sel & 3;
    if ((sel & 0xfffc) === 0) {
      if (seg === SS) {
        // null SS: only in 64-bit mode at CPL < 3 with RPL = CPL (SDM MOV/POP "64-Bit Mode Exceptions")
        if (!this.mode64 || cpl === 3 || rpl !== cpl) return this.gp(0);
      }
      this.loadNull(seg, sel);
      return ST_OK;
    }
    const r = this.readDesc(sel, V_GP, 0);
    if (r !== ST_OK) return r;
    const attr = System.attrOf(this.dHi);
    const type = attr & 0xf;
    const dpl = (attr >>> 5) & 3;
    if ((attr & ATTR_S) === 0) return this.gp(sel & 0xfffc);
    if (seg === SS) {
      // writable data segment, RPL = CPL = DPL
      if (rpl !== cpl || (type & 0xa) !== 0x2 || dpl !== cpl) return this.gp(sel & 0xfffc);
      if ((attr & ATTR_P) === 0) return this.fault(V_SS, true, sel & 0xfffc);
    } else {
      // data or readable code
      if ((type & 0xa) === 0x8) return this.gp(sel & 0xfffc);
      const conforming = (type & 0xc) === 0xc;
      if (!conforming && (rpl > dpl || cpl > dpl)) return this.gp(sel & 0xfffc);
      if ((attr & ATTR_P) === 0) return this.fault(V_NP, true, sel & 0xfffc);
    }
    const a = this.setAccessed();
    if (a !== ST_OK) return a;
    this.loadCache(seg, sel);
    return ST_OK;
  }

  // =====================================================================================
  // Control registers (SDM Vol. 3A §2.5, Vol. 2 "MOV—Move to/from Control Registers")
  // =====================================================================================

  /** MOV CRn, r: value lo/hi (hi = 0 outside 64-bit mode). */
  movToCr(n: number, lo: number, hi: number): number {
    const u = this.u;
    if (this.cpl !== 0) return this.gp(0);
    if (!this.mode64) hi = 0;
    switch (n) {
      case 0: {
        if (hi !== 0) return this.gp(0);
        let v = ((lo & CR0_VALID) | CR0_ET) >>> 0;
        const old = u[S_CR0]!;
        if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) return this.gp(0);
        if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) return this.gp(0);
        const efer = u[S_EFER]!;
        const cr4 = u[S_CR4]!;
        if ((v & CR0_PG) !== 0 && (old & CR0_PG) === 0 && (efer & EFER_LME) !== 0) {
          // activating IA-32e mode (SDM §9.8.5): PAE required, CS.L must be 0, PCIDE must be 0
          if ((cr4 & CR4_PAE) === 0) return this.gp(0);
          if ((u[S_SEG + CS * SEG_STRIDE + SEG_ATTR]! & ATTR_L) !== 0) return this.gp(0);
        }
        if ((v & CR0_PG) === 0 && (old & CR0_PG) !== 0) {
          if (this.mode64) return this.gp(0); // paging cannot be turned off in 64-bit mode
          if ((cr4 & CR4_PCIDE) !== 0) return this.gp(0);
        }
        if ((v & CR0_PG) !== 0 && (cr4 & CR4_PAE) !== 0 && (efer & EFER_LME) === 0 &&
            ((old & CR0_PG) === 0 || ((old ^ v) & (CR0_CD | CR0_NW)) !== 0)) {
          // entering PAE paging loads the PDPTEs (SDM §4.4.1)
          const r = this.loadPdptes(v, cr4);
          if (r !== ST_OK) return r;
        }
        let newEfer = efer;
        if ((v & CR0_PG) !== 0 && (efer & EFER_LME) !== 0) newEfer |= EFER_LMA;
        else if ((v & CR0_PG) === 0) newEfer &= ~EFER_LMA;
        u[S_CR0] = v;
        u[S_EFER] = newEfer;
        if (((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) !== 0) this.host.flushTlb();
        v = 0;
        this.refresh();
        this.host.updateMode();
        return ST_OK;
      }
      case 2:
        u[S_CR2] = lo; u[S_CR2 + 1] = hi;
        return ST_OK;
      case 3: {
        const pcide = (u[S_CR4]! & CR4_PCIDE) !== 0;
        if (pcide) hi &= 0x7fffffff; // bit 63: no-flush hint, not stored
        if ((hi & ~((1 << (PHYS_ADDR_BITS - 32)) - 1)) !== 0) return this.gp(0);
        const old = u[S_CR3]!, oldHi = u[S_CR3 + 1]!;
        u[S_CR3] = lo; u[S_CR3 + 1] = hi;
        if ((u[S_CR0]! & CR0_PG) !== 0 && (u[S_CR4]! & CR4_PAE) !== 0 && !this.long) {
          const r = this.loadPdptes(u[S_CR0]!, u[S_CR4]!);
          if (r !== ST_OK) { u[S_CR3] = old; u[S_CR3 + 1] = oldHi; this.refresh(); return r; }
        }
        this.refresh();
        this.host.flushTlb();
        return ST_OK;
      }
      case 4: {
        if (hi !== 0 || (lo & ~CR4_VALID) !== 0) return this.gp(0);
        const old = u[S_CR4]!;
        if (this.long && (lo & CR4_PAE) === 0) return this.gp(0);
        // LA57 cannot change while IA-32e mode is active (SDM §2.5 CR4.LA57, MOV to CR4 #GP)
        if (this.long && ((old ^ lo) & CR4_LA57) !== 0) return this.gp(0);
        if ((lo & CR4_PCIDE) !== 0 && (old & CR4_PCIDE) === 0 && (!this.long || (u[S_CR3]! & 0xfff) !== 0)) return this.gp(0);
        if ((u[S_CR0]! & CR0_PG) !== 0 && (lo & CR4_PAE) !== 0 && !this.long &&
            ((old ^ lo) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP | CR4_SMAP)) !== 0) {
          const r = this.loadPdptes(u[S_CR0]!, lo);
          if (r !== ST_OK) return r;
        }
        u[S_CR4] = lo >>> 0;
        if (((old ^ lo) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_PCIDE)) !== 0) this.host.flushTlb();
        this.refresh();
        this.host.updateMode();
        return ST_OK;
      }
      case 8: {
        if (hi !== 0 || (lo & ~0xf) !== 0) return this.gp(0);
        const link = this.tprLink;
        const old = link !== null ? link.getCr8() : u[S_CR8]!;
        u[S_CR8] = lo & 0xf;
        if (link !== null) link.setCr8(lo & 0xf);
        // TPR below threshold (VMX "Use TPR shadow" / NVMM's TPR exit, SDM Vol. 3C §29.1.2): a
        // trap-like exit after a MOV to CR8 that lowers it below the threshold.
        if (lo < this.tprThreshold && lo < old) {
          this.ex.reason = 'tpr-below-threshold';
          return ST_EXIT;
        }
        return ST_OK;
      }
      default:
        return this.ud();
    }
  }

  /** A trap-like exit: its RIP is the next instruction's (after the interpreter's markExit filled both). */
  exitAfterInstruction(): void {
    this.ex.ripLo = this.ex.nextRipLo;
    this.ex.ripHi = this.ex.nextRipHi;
  }

  /** TPR threshold (0-15) for the `tpr-below-threshold` exit; -1 (or 0): none. */
  tprThreshold = -1;

  /** MOV r, CRn: returns the low half, high half in crHi (ST_FAULT as -1). */
  crHi = 0;
  movFromCr(n: number): number {
    const u = this.u;
    if (this.cpl !== 0) { this.gp(0); return -1; }
    this.crHi = 0;
    switch (n) {
      case 0: return u[S_CR0]!;
      case 2: this.crHi = u[S_CR2 + 1]!; return u[S_CR2]!;
      case 3: this.crHi = u[S_CR3 + 1]!; return u[S_CR3]!;
      case 4: return u[S_CR4]!;
      case 8: if (this.tprLink !== null) u[S_CR8] = this.tprLink.getCr8(); return u[S_CR8]!;
      default: this.ud(); return -1;
    }
  }

  /** Loads the four PAE PDPTE registers from CR3 (SDM §4.4.1); #GP(0) on a reserved bit. */
  private loadPdptes(cr0: number, cr4: number): number {
    const c = this.mem.ctx;
    c.cr0 = cr0;
    c.cr4 = cr4;
    c.cr3Lo = this.u[S_CR3]!;
    c.cr3Hi = this.u[S_CR3 + 1]!;
    const st = this.mem.paging.loadPdptes(c, this.mem.gt);
    this.refresh();
    if (st === 0) return ST_OK;
    if (st === 4) return this.gp(0);
    const ex = this.ex;
    ex.reason = 'ept-violation';
    ex.gpaLo = (c.cr3Lo & 0xffffffe0) >>> 0;
    ex.gpaHi = 0;
    ex.linearValid = false;
    ex.qualification = 1;
    return ST_EXIT;
  }

  /** LMSW (SDM Vol. 2): loads PE, MP, EM, TS; cannot clear PE. */
  lmsw(v: number): number {
    if (this.cpl !== 0) return this.gp(0);
    const u = this.u;
    const old = u[S_CR0]!;
    const nv = ((old & ~0xe) | (v & 0xf) | (old & CR0_PE)) >>> 0;
    return this.movToCr(0, nv, 0);
  }

  clts(): number {
    if (this.cpl !== 0) return this.gp(0);
    this.u[S_CR0] = this.u[S_CR0]! & ~CR0_TS;
    this.refresh();
    return ST_OK;
  }

  /** UMIP (SDM §2.5): SGDT/SIDT/SLDT/SMSW/STR at CPL > 0 are #GP(0). */
  umipBlocked(): boolean {
    return (this.u[S_CR4]! & CR4_UMIP) !== 0 && this.cpl > 0;
  }

  // =====================================================================================
  // Debug registers (SDM Vol. 3A §18.2, Vol. 2 "MOV—Move to/from Debug Registers")
  // =====================================================================================

  movToDr(n: number, lo: number, hi: number): number {
    const u = this.u;
    if (n === 4 || n === 5) {
      if ((u[S_CR4]! & CR4_DE) !== 0) return this.ud();
      n += 2;
    }
    if (this.cpl !== 0) return this.gp(0);
    if ((u[S_DR7]! & 0x2000) !== 0) {
      // general detect (DR7.GD): #DB fault with DR6.BD; GD cleared on entry (SDM §18.2.4)
      u[S_DR6] = ((u[S_DR6]! & ~0xf) | 0x2000) >>> 0;
      u[S_DR7] = u[S_DR7]! & ~0x2000;
      return this.fault(V_DB, false, 0);
    }
    if (!this.mode64) hi = 0;
    if (n <= 3) {
      u[S_DR + n * 2] = lo; u[S_DR + n * 2 + 1] = hi;
      return ST_OK;
    }
    if (hi !== 0) return this.gp(0);
    if (n === 6) { u[S_DR6] = ((lo & 0x0001e00f) | 0xffff0ff0) >>> 0; return ST_OK; }
    if (n === 7) { u[S_DR7] = ((lo & 0xffff2bff) | 0x400) >>> 0; return ST_OK; }
    return this.ud();
  }

  drHi = 0;
  movFromDr(n: number): number {
    const u = this.u;
    if (n === 4 || n === 5) {
      if ((u[S_CR4]! & CR4_DE) !== 0) { this.ud(); return -1; }
      n += 2;
    }
    if (this.cpl !== 0) { this.gp(0); return -1; }
    if ((u[S_DR7]! & 0x2000) !== 0) {
      u[S_DR6] = ((u[S_DR6]! & ~0xf) | 0x2000) >>> 0;
      u[S_DR7] = u[S_DR7]! & ~0x2000;
      this.fault(V_DB, false, 0);
      return -1;
    }
    this.drHi = 0;
    if (n <= 3) { this.drHi = u[S_DR + n * 2 + 1]!; return u[S_DR + n * 2]!; }
    if (n === 6) return u[S_DR6]!;
    if (n === 7) return u[S_DR7]!;
    this.ud();
    return -1;
  }

  // =====================================================================================
  // MSRs (msr.ts)
  // =====================================================================================

  /** Value of the last RDMSR (lo in msrLo, hi in msrHi). */
  msrLo = 0;
  msrHi = 0;

  /** RDMSR: ST_OK with msrLo/msrHi, ST_FAULT, or ST_EXIT (unknown MSR: rdmsr exit, filled here). */
  rdmsr(index: number, tscLo: number, tscHi: number): number {
    if (this.cpl !== 0) return this.gp(0);
    const m = this.msr;
    const u = this.u;
    let lo = 0, hi = 0;
    index >>>= 0;
    switch (index) {
      case MSR_TSC: lo = tscLo; hi = tscHi; break;
      case MSR_TSC_ADJUST: lo = m.tscAdjustLo; hi = m.tscAdjustHi; break;
      case MSR_APIC_BASE:
        if (this.apicMsrExits) return this.msrExit('rdmsr', index, 0, 0);
        lo = m.apicBaseLo; hi = m.apicBaseHi; break;
      case MSR_MTRRCAP: lo = MTRRCAP_VALUE; break;
      case MSR_SYSENTER_CS: lo = m.sysenterCs; break;
      case MSR_SYSENTER_ESP: lo = m.sysenterEspLo; hi = m.sysenterEspHi; break;
      case MSR_SYSENTER_EIP: lo = m.sysenterEipLo; hi = m.sysenterEipHi; break;
      case MSR_MISC_ENABLE: lo = m.miscEnableLo; hi = m.miscEnableHi; break;
      case MSR_PAT: lo = m.patLo; hi = m.patHi; break;
      case MSR_MTRR_DEF_TYPE: lo = m.mtrrDefType; break;
      case MSR_EFER: lo = u[S_EFER]!; break;
      case MSR_STAR: lo = m.starLo; hi = m.starHi; break;
      case MSR_LSTAR: lo = m.lstarLo; hi = m.lstarHi; break;
      case MSR_CSTAR: lo = m.cstarLo; hi = m.cstarHi; break;
      case MSR_FMASK: lo = m.fmask; break;
      case MSR_FS_BASE: lo = u[S_SEG + FS * SEG_STRIDE + SEG_BASE]!; hi = u[S_SEG + FS * SEG_STRIDE + SEG_BASE_HI]!; break;
      case MSR_GS_BASE: lo = u[S_SEG + GS * SEG_STRIDE + SEG_BASE]!; hi = u[S_SEG + GS * SEG_STRIDE + SEG_BASE_HI]!; break;
      case MSR_KERNEL_GS_BASE: lo = m.kgsLo; hi = m.kgsHi; break;
      case MSR_TSC_AUX: lo = u[S_TSC_AUX]!; break;
      default: {
        const f = this.mtrrIndex(index);
        if (f >= 0) { lo = f < 32 ? m.mtrrVar[f]! : m.mtrrFixed[f - 32]!; hi = f < 32 ? m.mtrrVar[f + 1]! : m.mtrrFixed[f - 31]!; break; }
        return this.msrExit('rdmsr', index, 0, 0);
      }
    }
    this.msrLo = lo >>> 0;
    this.msrHi = hi >>> 0;
    return ST_OK;
  }

  /** An MSR the core does not own: an rdmsr/wrmsr exit for the monitor. */
  private msrExit(reason: 'rdmsr' | 'wrmsr', index: number, lo: number, hi: number): number {
    const ex = this.ex;
    ex.reason = reason;
    ex.msr = index;
    ex.valueLo = lo;
    ex.valueHi = hi;
    return ST_EXIT;
  }

  // ---- the time-stamp counter (SDM Vol. 3B §17.17) ----

  /** TSC read by readTsc. */
  tscLo = 0;
  tscHi = 0;

  /**
   * TSC = time base + the vCPU's offset (S_TSC, 64-bit two's complement), where the time base is
   * the source's ticks after `instructions` instructions of this run, or that count itself.
   */
  readTsc(instructions: number): void {
    const src = this.tscSource;
    const base = src === null ? instructions : src.ticks(instructions);
    const bLo = base % TWO32;
    const lo = this.u[S_TSC]! + bLo;
    this.tscLo = lo >>> 0;
    this.tscHi = (this.u[S_TSC + 1]! + Math.floor(base / TWO32) + (lo >= TWO32 ? 1 : 0)) >>> 0;
  }

  /**
   * WRMSR IA32_TIME_STAMP_COUNTER: the TSC reads `lo:hi` now; the difference X it made is added to
   * IA32_TSC_ADJUST too (SDM §17.17.3).
   */
  writeTsc(lo: number, hi: number, instructions: number): void {
    this.readTsc(instructions);
    const dLo = (lo >>> 0) - this.tscLo;
    const dHi = ((hi >>> 0) - this.tscHi - (dLo < 0 ? 1 : 0)) >>> 0;
    this.addTsc(dLo >>> 0, dHi);
    const m = this.msr;
    const aLo = m.tscAdjustLo + (dLo >>> 0);
    m.tscAdjustHi = (m.tscAdjustHi + dHi + (aLo >= TWO32 ? 1 : 0)) >>> 0;
    m.tscAdjustLo = aLo >>> 0;
  }

  /** WRMSR IA32_TSC_ADJUST: the difference X written to it is added to the TSC (SDM §17.17.3). */
  private writeTscAdjust(lo: number, hi: number): void {
    const m = this.msr;
    const dLo = lo - m.tscAdjustLo;
    const dHi = (hi - m.tscAdjustHi - (dLo < 0 ? 1 : 0)) >>> 0;
    m.tscAdjustLo = lo;
    m.tscAdjustHi = hi;
    this.addTsc(dLo >>> 0, dHi);
  }

  /**
   * TSC at RESET (SDM Vol. 3A Table 9-1: 0, and IA32_TSC_ADJUST 0): the offset cancels the time base
   * at the start of the next run.
   */
  resetTsc(): void {
    this.u[S_TSC] = 0;
    this.u[S_TSC + 1] = 0;
    this.msr.tscAdjustLo = 0;
    this.msr.tscAdjustHi = 0;
    this.readTsc(0);
    this.addTsc((-this.tscLo) >>> 0, (~this.tscHi + (this.tscLo === 0 ? 1 : 0)) >>> 0);
  }

  private addTsc(dLo: number, dHi: number): void {
    const u = this.u;
    const lo = u[S_TSC]! + dLo;
    u[S_TSC + 1] = (u[S_TSC + 1]! + dHi + (lo >= TWO32 ? 1 : 0)) >>> 0;
    u[S_TSC] = lo >>> 0;
    if (this.tscSource !== null) this.tscSource.offsetChanged(u[S_TSC]!, u[S_TSC + 1]!);
  }

  /** Index into mtrrVar (0..30, even) or 32 + 2*k into mtrrFixed; -1 if not an MTRR. */
  private mtrrIndex(index: number): number {
    if (index >= MSR_MTRR_PHYSBASE0 && index < MSR_MTRR_PHYSBASE0 + 16) return (index - MSR_MTRR_PHYSBASE0) * 2;
    if (index === MSR_MTRR_FIX64K) return 32;
    if (index === MSR_MTRR_FIX16K_80000) return 34;
    if (index === MSR_MTRR_FIX16K_A0000) return 36;
    if (index >= MSR_MTRR_FIX4K_C0000 && index < MSR_MTRR_FIX4K_C0000 + 8) return 38 + (index - MSR_MTRR_FIX4K_C0000) * 2;
    return -1;
  }

  /** WRMSR: ST_OK, ST_FAULT (#GP on reserved bits / non-canonical addresses) or ST_EXIT (unknown MSR). */
  wrmsr(index: number, lo: number, hi: number): number {
    if (this.cpl !== 0) return this.gp(0);
    const m = this.msr;
    const u = this.u;
    index >>>= 0;
    lo >>>= 0;
    hi >>>= 0;
    const physHiMask = (1 << (PHYS_ADDR_BITS - 32)) - 1;
    switch (index) {
      case MSR_TSC: this.tscWritten = true; return ST_OK; // the caller applies it (writeTsc)
      case MSR_TSC_ADJUST: this.writeTscAdjust(lo, hi); return ST_OK;
      case MSR_APIC_BASE:
        if (this.apicMsrExits) return this.msrExit('wrmsr', index, lo, hi);
        // bits 7:0, 9, 10 (x2APIC not advertised) and above MAXPHYADDR are reserved
        if ((lo & 0x6ff) !== 0 || (hi & ~physHiMask) !== 0) return this.gp(0);
        m.apicBaseLo = (lo & ~0xff) | (m.apicBaseLo & 0x100); // BSP is read-only
        m.apicBaseHi = hi;
        return ST_OK;
      case MSR_MTRRCAP: return this.gp(0); // read-only
      case MSR_SYSENTER_CS: m.sysenterCs = lo & 0xffff; return ST_OK;
      case MSR_SYSENTER_ESP: if (!this.canon(hi)) return this.gp(0); m.sysenterEspLo = lo; m.sysenterEspHi = hi; return ST_OK;
      case MSR_SYSENTER_EIP: if (!this.canon(hi)) return this.gp(0); m.sysenterEipLo = lo; m.sysenterEipHi = hi; return ST_OK;
      case MSR_MISC_ENABLE: m.miscEnableLo = lo; m.miscEnableHi = hi; return ST_OK;
      case MSR_PAT:
        if (!validTypeBytes(lo, hi, true)) return this.gp(0);
        m.patLo = lo; m.patHi = hi;
        this.refresh();
        this.host.flushTlb();
        return ST_OK;
      case MSR_MTRR_DEF_TYPE:
        // type in 7:0, FE bit 10, E bit 11; everything else reserved
        if (hi !== 0 || (lo & ~0xcff) !== 0 || !validMemType(lo & 0xff, false)) return this.gp(0);
        m.mtrrDefType = lo;
        return ST_OK;
      case MSR_EFER: {
        // SCE (0), LME (8), LMA (10, read-only), NXE (11); the rest reserved (Vol. 4 Table 2-2)
        if (hi !== 0 || (lo & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) !== 0) return this.gp(0);
        const old = u[S_EFER]!;
        // LME cannot change while paging is on (SDM §9.8.5)
        if (((old ^ lo) & EFER_LME) !== 0 && (u[S_CR0]! & CR0_PG) !== 0) return this.gp(0);
        u[S_EFER] = ((lo & ~EFER_LMA) | (old & EFER_LMA)) >>> 0;
        if (((old ^ lo) & EFER_NXE) !== 0) this.host.flushTlb();
        this.refresh();
        return ST_OK;
      }
      case MSR_STAR: m.starLo = lo; m.starHi = hi; return ST_OK;
      case MSR_LSTAR: if (!this.canon(hi)) return this.gp(0); m.lstarLo = lo; m.lstarHi = hi; return ST_OK;
      case MSR_CSTAR: if (!this.canon(hi)) return this.gp(0); m.cstarLo = lo; m.cstarHi = hi; return ST_OK;
      case MSR_FMASK: m.fmask = lo; return ST_OK;
      case MSR_FS_BASE:
        if (!this.canon(hi)) return this.gp(0);
        u[S_SEG + FS * SEG_STRIDE + SEG_BASE] = lo; u[S_SEG + FS * SEG_STRIDE + SEG_BASE_HI] = hi;
        return ST_OK;
      case MSR_GS_BASE:
        if (!this.canon(hi)) return this.gp(0);
        u[S_SEG + GS * SEG_STRIDE + SEG_BASE] = lo; u[S_SEG + GS * SEG_STRIDE + SEG_BASE_HI] = hi;
        return ST_OK;
      case MSR_KERNEL_GS_BASE: if (!this.canon(hi)) return this.gp(0); m.kgsLo = lo; m.kgsHi = hi; return ST_OK;
      case MSR_TSC_AUX: if (hi !== 0) return this.gp(0); u[S_TSC_AUX] = lo; return ST_OK;
      default: {
        const f = this.mtrrIndex(index);
        if (f >= 0) {
          if (f < 32) {
            // PHYSBASE: type 7:0, bits 11:8 reserved; PHYSMASK: valid bit 11, bits 10:0 reserved; above MAXPHYADDR reserved
            const isMask = ((index - MSR_MTRR_PHYSBASE0) & 1) === 1;
            if ((hi & ~physHiMask) !== 0) return this.gp(0);
            if (isMask ? (lo & 0x7ff) !== 0 : (lo & 0xf00) !== 0 || !validMemType(lo & 0xff, false)) return this.gp(0);
            m.mtrrVar[f] = lo; m.mtrrVar[f + 1] = hi;
          } else {
            if (!validTypeBytes(lo, hi, false)) return this.gp(0);
            m.mtrrFixed[f - 32] = lo; m.mtrrFixed[f - 31] = hi;
          }
          return ST_OK;
        }
        return this.msrExit('wrmsr', index, lo, hi);
      }
    }
  }
  /** Set by a WRMSR to the TSC: the interpreter calls writeTsc with its instruction count. */
  tscWritten = false;

  // =====================================================================================
  // Descriptor-table instructions (SDM Vol. 2 LGDT/LIDT/LLDT/LTR/LAR/LSL/VERR/VERW)
  // =====================================================================================

  /** LGDT/LIDT from limit + base already read (64-bit base hi only in 64-bit mode). */
  loadTableReg(idt: boolean, limit: number, baseLo: number, baseHi: number, osz: number): number {
    if (this.cpl !== 0) return this.gp(0);
    if (this.mode64) {
      if (!this.canon(baseHi)) return this.gp(0);
    } else {
      baseHi = 0;
      if (osz === 16) baseLo &= 0xffffff;
    }
    const o = idt ? S_IDTR : S_GDTR;
    this.u[o] = baseLo >>> 0;
    this.u[o + 1] = baseHi >>> 0;
    this.u[o + 2] = limit & 0xffff;
    return ST_OK;
  }

  /** LLDT (SDM Vol. 2 LLDT). */
  lldt(sel: number): number {
    if (!this.pmode || this.v86) return this.ud();
    if (this.cpl !== 0) return this.gp(0);
    sel &= 0xffff;
    if ((sel & 0xfffc) === 0) {
      const o = S_SEG + LDTR * SEG_STRIDE;
      this.u[o + SEG_SEL] = sel;
      this.u[o + SEG_ATTR] = ATTR_UNUSABLE;
      return ST_OK;
    }
    if ((sel & 4) !== 0) return this.gp(sel & 0xfffc);
    const r = this.readDesc(sel, V_GP, 0);
    if (r !== ST_OK) return r;
    const attr = System.attrOf(this.dHi);
    if ((attr & 0x1f) !== 0x2) return this.gp(sel & 0xfffc);
    if ((attr & ATTR_P) === 0) return this.fault(V_NP, true, sel & 0xfffc);
    let baseHi = 0;
    if (this.long) {
      const up = this.readDescUpper();
      if (up < 0) return this.failSt();
      if ((this.vh & 0x1f00) !== 0 || !this.canon(up)) return this.gp(sel & 0xfffc);
      baseHi = up;
    }
    this.loadCache(LDTR, sel);
    this.u[S_SEG + LDTR * SEG_STRIDE + SEG_BASE_HI] = baseHi;
    return ST_OK;
  }

  /** LTR (SDM Vol. 2 LTR): marks the TSS busy. */
  ltr(sel: number): number {
    if (!this.pmode || this.v86) return this.ud();
    if (this.cpl !== 0) return this.gp(0);
    sel &= 0xffff;
    if ((sel & 0xfffc) === 0) return this.gp(0);
    if ((sel & 4) !== 0) return this.gp(sel & 0xfffc);
    const r = this.readDesc(sel, V_GP, 0);
    if (r !== ST_OK) return r;
    const attr = System.attrOf(this.dHi);
    const t = attr & 0x1f;
    if (this.long ? t !== 0x9 : t !== 0x9 && t !== 0x1) return this.gp(sel & 0xfffc);
    if ((attr & ATTR_P) === 0) return this.fault(V_NP, true, sel & 0xfffc);
    let baseHi = 0;
    if (this.long) {
      const up = this.readDescUpper();
      if (up < 0) return this.failSt();
      if ((this.vh & 0x1f00) !== 0 || !this.canon(up)) return this.gp(sel & 0xfffc);
      baseHi = up;
    }
    // busy bit (type bit 1)
    this.dHi |= 0x200;
    const a = this.dAddrLo + 5;
    if (!this.wr(a >>> 0, a >= TWO32 ? (this.dAddrHi + 1) >>> 0 : this.dAddrHi, 1, (this.dHi >>> 8) & 0xff, 0, -1)) return this.failSt();
    this.loadCache(TR, sel);
    this.u[S_SEG + TR * SEG_STRIDE + SEG_BASE_HI] = baseHi;
    return ST_OK;
  }

  /**
   * LAR/LSL/VERR/VERW (SDM Vol. 2): which = 0 LAR, 1 LSL, 2 VERR, 3 VERW. Returns 1 (ZF = 1, value in
   * lslValue) or 0 (ZF = 0), or -1 on a fault while reading the descriptor.
   */
  lslValue = 0;
  checkSelector(which: number, sel: number): number {
    sel &= 0xffff;
    if ((sel & 0xfffc) === 0) return 0;
    // a selector beyond the table limit gives ZF = 0, not a fault
    const u = this.u;
    const limit = (sel & 4) !== 0 ? ((u[S_SEG + LDTR * SEG_STRIDE + SEG_ATTR]! & ATTR_UNUSABLE) !== 0 ? -1 : u[S_SEG + LDTR * SEG_STRIDE + SEG_LIMIT]!) : u[S_GDTR + 2]!;
    if ((sel & 0xfff8) + 7 > limit) return 0;
    const r = this.readDesc(sel, V_GP, 0);
    if (r !== ST_OK) return -1;
    const attr = System.attrOf(this.dHi);
    const type = attr & 0xf;
    const dpl = (attr >>> 5) & 3;
    const cpl = this.cpl;
    const rpl = sel & 3;
    if ((attr & ATTR_S) === 0) {
      // system descriptors LAR/LSL accept (SDM Vol. 2 LAR Table 3-53 / LSL Table 3-59)
      if (which >= 2) return 0;
      let ok: boolean;
      if (this.long) ok = type === 2 || type === 9 || type === 0xb || (which === 0 && type === 0xc);
      else ok = type === 1 || type === 2 || type === 3 || type === 9 || type === 0xb || (which === 0 && (type === 4 || type === 5 || type === 0xc));
      if (!ok) return 0;
      if (dpl < cpl || dpl < rpl) return 0;
    } else {
      const code = (type & 8) !== 0;
      const conforming = code && (type & 4) !== 0;
      if (!conforming && (dpl < cpl || dpl < rpl)) return 0;
      if (which === 2 && code && (type & 2) === 0) return 0; // VERR: readable
      if (which === 3 && (code || (type & 2) === 0)) return 0; // VERW: writable data
    }
    if (which === 0) this.lslValue = (this.dHi & 0x00f0ff00) >>> 0;
    else if (which === 1) this.lslValue = System.limitOf(this.dLo, this.dHi);
    return 1;
  }

  // =====================================================================================
  // Stack frames for delivery and far transfers
  // =====================================================================================

  /** Segment-limit check of an access of `n` bytes at `off` in a segment (SDM §5.3), expand-down aware. */
  private static inLimit(attr: number, limit: number, off: number, n: number): boolean {
    const end = off + n - 1;
    if ((attr & 0x1c) === 0x14) {
      // expand-down data segment: valid offsets limit+1 .. 0xFFFF or 0xFFFFFFFF
      const top = (attr & ATTR_DB) !== 0 ? 0xffffffff : 0xffff;
      return off > limit && end <= top;
    }
    return end <= limit;
  }

  /**
   * Pushes `count` items of `w` bytes from this.frame (lo/hi pairs, item 0 first) on the stack
   * ss(base, limit, attr):sp at privilege `cpl`; 64 = a 64-bit stack (no base, canonical check).
   * Returns the new stack pointer in pushLo/pushHi, or a fault (#SS(ssErr) on a limit violation).
   */
  pushLo = 0;
  pushHi = 0;
  private pushFrame(base: number, limit: number, attr: number, spLo: number, spHi: number, stackBits: number, w: number, count: number, cpl: number, ssErr: number): number {
    let lo = spLo, hi = spHi;
    const f = this.frame;
    for (let k = 0; k < count; k++) {
      let alo: number, ahi = 0;
      if (stackBits === 64) {
        const s = lo - w;
        if (s < 0) hi = (hi - 1) >>> 0;
        lo = s >>> 0;
        if (!this.canon(hi)) return this.fault(V_SS, true, ssErr);
        alo = lo; ahi = hi;
      } else {
        lo = stackBits === 32 ? (lo - w) >>> 0 : (lo - w) & 0xffff;
        if (!System.inLimit(attr, limit, lo, w)) return this.fault(V_SS, true, ssErr);
        alo = (base + lo) >>> 0;
      }
      const vlo = f[2 * k]!, vhi = f[2 * k + 1]!;
      if (!this.wr(alo, ahi, w, w === 2 ? vlo & 0xffff : vlo, vhi, cpl)) return this.failSt();
    }
    this.pushLo = lo;
    this.pushHi = stackBits === 64 ? hi : 0;
    return ST_OK;
  }

  /** Reads item `k` (w bytes) above the stack pointer of the current SS; -1 on fault (vh: high half). */
  private popItem(k: number, w: number): number {
    return this.popAt(k * w, w);
  }

  /** Reads w bytes at `off` bytes above the stack pointer; -1 on fault. */
  private popAt(off0: number, w: number): number {
    const u = this.u;
    const ssO = S_SEG + SS * SEG_STRIDE;
    if (this.mode64) {
      const s = u[8]! + off0;
      const lo = s >>> 0;
      const hi = s >= TWO32 ? (u[9]! + 1) >>> 0 : u[9]!;
      if (!this.canon(hi)) { this.fault(V_SS, true, 0); return -1; }
      return this.rd(lo, hi, w, this.cpl);
    }
    const big = (u[ssO + SEG_ATTR]! & ATTR_DB) !== 0;
    const off = big ? (u[8]! + off0) >>> 0 : (u[8]! + off0) & 0xffff;
    if (!System.inLimit(u[ssO + SEG_ATTR]!, u[ssO + SEG_LIMIT]!, off, w)) { this.fault(V_SS, true, 0); return -1; }
    return this.rd((u[ssO + SEG_BASE]! + off) >>> 0, 0, w, this.cpl);
  }

  /** Adds `bytes` to the stack pointer at the current stack size. */
  private addSp(bytes: number): void {
    const u = this.u;
    if (this.mode64) {
      const s = u[8]! + bytes;
      u[8] = s >>> 0;
      if (s >= TWO32) u[9] = (u[9]! + 1) >>> 0;
    } else if ((u[S_SEG + SS * SEG_STRIDE + SEG_ATTR]! & ATTR_DB) !== 0) u[8] = (u[8]! + bytes) >>> 0;
    else u[8] = (u[8]! & 0xffff0000) | ((u[8]! + bytes) & 0xffff);
  }

  private curStackBits(): number {
    if (this.mode64) return 64;
    return (this.u[S_SEG + SS * SEG_STRIDE + SEG_ATTR]! & ATTR_DB) !== 0 ? 32 : 16;
  }

  /** Pushes `count` frame items of `w` bytes on the current stack and commits RSP. */
  private pushCurrent(w: number, count: number): number {
    const u = this.u;
    const ssO = S_SEG + SS * SEG_STRIDE;
    const bits = this.curStackBits();
    const r = this.pushFrame(u[ssO + SEG_BASE]!, u[ssO + SEG_LIMIT]!, u[ssO + SEG_ATTR]!, u[8]!, u[9]!, bits, w, count, this.cpl, 0);
    if (r !== ST_OK) return r;
    this.commitSp(bits, this.pushLo, this.pushHi);
    return ST_OK;
  }

  private commitSp(bits: number, lo: number, hi: number): void {
    const u = this.u;
    if (bits === 64) { u[8] = lo; u[9] = hi; } else if (bits === 32) { u[8] = lo; u[9] = 0; } else u[8] = (u[8]! & 0xffff0000) | (lo & 0xffff);
  }

  // =====================================================================================
  // Inner-privilege stack from the TSS (SDM §6.12.1, §8.2.1, §8.7)
  // =====================================================================================

  private newSsSel = 0;
  private newSpLo = 0;
  private newSpHi = 0;

  /** Reads SS:ESP for privilege `dpl` from a 32-bit (or 16-bit) TSS into newSsSel/newSpLo. */
  private tssStack(dpl: number, ext: number): number {
    const u = this.u;
    const tr = S_SEG + TR * SEG_STRIDE;
    const trSel = u[tr + SEG_SEL]! & 0xfffc;
    const type = u[tr + SEG_ATTR]! & 0xf;
    const t32 = (type & 8) !== 0;
    const off = t32 ? 4 + dpl * 8 : 2 + dpl * 4;
    const n = t32 ? 8 : 4;
    if (off + n - 1 > u[tr + SEG_LIMIT]!) return this.fault(V_TS, true, trSel | ext);
    const base = u[tr + SEG_BASE]!;
    let sp: number, ss: number;
    if (t32) {
      sp = this.rd((base + off) >>> 0, 0, 4, -1);
      if (sp < 0) return this.failSt();
      ss = this.rd((base + off + 4) >>> 0, 0, 2, -1);
    } else {
      sp = this.rd((base + off) >>> 0, 0, 2, -1);
      if (sp < 0) return this.failSt();
      ss = this.rd((base + off + 2) >>> 0, 0, 2, -1);
    }
    if (ss < 0) return this.failSt();
    this.newSsSel = ss;
    this.newSpLo = sp;
    this.newSpHi = 0;
    return ST_OK;
  }

  /** Reads RSPn or ISTn from the 64-bit TSS into newSpLo/Hi (entry offset `off`). */
  private tss64(off: number, ext: number): number {
    const u = this.u;
    const tr = S_SEG + TR * SEG_STRIDE;
    if (off + 7 > u[tr + SEG_LIMIT]!) return this.fault(V_TS, true, (u[tr + SEG_SEL]! & 0xfffc) | ext);
    const a = u[tr + SEG_BASE]! + off;
    const lo = this.rd(a >>> 0, (u[tr + SEG_BASE_HI]! + (a >= TWO32 ? 1 : 0)) >>> 0, 8, -1);
    if (lo < 0) return this.failSt();
    this.newSpLo = lo;
    this.newSpHi = this.vh;
    return ST_OK;
  }

  /**
   * Checks and reads the new SS for an inner-privilege transfer to `dpl` (SDM §6.12.1 / CALL
   * pseudocode): the descriptor is left in ssLo/ssHi. #TS(sel + ext) for a bad SS, #SS for not present.
   */
  private ssLo = 0;
  private ssHi = 0;
  private checkNewSs(sel: number, dpl: number, ext: number): number {
    if ((sel & 0xfffc) === 0) return this.fault(V_TS, true, ext);
    const r = this.readDesc(sel, V_TS, ext);
    if (r !== ST_OK) return r;
    const attr = System.attrOf(this.dHi);
    if ((sel & 3) !== dpl || ((attr >>> 5) & 3) !== dpl || (attr & ATTR_S) === 0 || (attr & 0xa) !== 0x2) {
      return this.fault(V_TS, true, (sel & 0xfffc) | ext);
    }
    if ((attr & ATTR_P) === 0) return this.fault(V_SS, true, (sel & 0xfffc) | ext);
    const a = this.setAccessed();
    if (a !== ST_OK) return a;
    this.ssLo = this.dLo;
    this.ssHi = this.dHi;
    return ST_OK;
  }

  /** Loads CS from the descriptor (csLo/csHi) with RPL = cpl, and RIP. */
  private setCs(sel: number, dLo: number, dHi: number, cpl: number, ripLo: number, ripHi: number): void {
    const u = this.u;
    const o = S_SEG + CS * SEG_STRIDE;
    u[o + SEG_SEL] = ((sel & 0xfffc) | cpl) & 0xffff;
    u[o + SEG_BASE] = System.baseOf(dLo, dHi);
    u[o + SEG_BASE_HI] = 0;
    u[o + SEG_LIMIT] = System.limitOf(dLo, dHi);
    u[o + SEG_ATTR] = System.attrOf(dHi) | 0x1; // accessed
    u[S_RIP] = ripLo >>> 0;
    u[S_RIP + 1] = ripHi >>> 0;
  }

  /** After a privilege decrease: DS/ES/FS/GS whose DPL < CPL (data or non-conforming code) become null (SDM RET/IRET). */
  private nullifyDataSegs(cpl: number): void {
    const u = this.u;
    for (let k = 0; k < 4; k++) {
      const s = DATA_SEGS[k]!;
      const o = S_SEG + s * SEG_STRIDE;
      const attr = u[o + SEG_ATTR]!;
      if ((attr & ATTR_UNUSABLE) !== 0) continue;
      const dpl = (attr >>> 5) & 3;
      const confCode = (attr & 0x1c) === 0x1c;
      if (!confCode && dpl < cpl) {
        u[o + SEG_SEL] = 0;
        u[o + SEG_ATTR] = ATTR_UNUSABLE;
        if (!this.long || s < FS) { u[o + SEG_BASE] = 0; u[o + SEG_BASE_HI] = 0; }
      }
    }
  }

  // =====================================================================================
  // Event delivery (SDM Vol. 3A §6.12-6.15, §20.1.4; Vol. 2 INT n pseudocode)
  // =====================================================================================

  /**
   * Delivers an event with RIP already set to the address to push (the faulting instruction for a
   * fault, the next one for a trap or INT n). `instrLo/Hi` is the instruction that raised it (a fault
   * while delivering INT n is reported on it). Applies Table 6-5: #DF, then triple fault (shutdown
   * exit). Returns ST_OK (vCPU at the handler) or ST_EXIT (exit record filled).
   */
  deliver(kind: number, vector: number, hasErr: boolean, err: number, instrLo: number, instrHi: number): number {
    let k = kind, v = vector, he = hasErr, e = err;
    for (let guard = 0; guard < 4; guard++) {
      this.pendVector = -1;
      const r = this.deliverOnce(k, v, he, e);
      if (r === ST_OK) {
        if (k === EV_NMI) this.nmiBlocked = true;
        this.shadow = false;
        this.host.updateMode();
        return ST_OK;
      }
      if (r === ST_EXIT || this.pendVector < 0) return ST_EXIT;
      const second = this.pendVector;
      if (k === EV_SOFT_INT || k === EV_SOFT_EXC || k === EV_ICEBP) {
        // the fault belongs to the INT instruction
        this.u[S_RIP] = instrLo;
        this.u[S_RIP + 1] = instrHi;
      }
      if (k === EV_EXCEPTION) {
        const n = nestedException(v, second);
        if (n === NESTED_TRIPLE_FAULT) return this.shutdown();
        if (n === NESTED_DOUBLE_FAULT) {
          v = V_DF; he = true; e = 0; k = EV_EXCEPTION;
          continue;
        }
      }
      k = EV_EXCEPTION; v = second; he = this.pendHasErr; e = this.pendErr;
    }
    return this.shutdown();
  }

  /** Triple fault: the processor enters shutdown (SDM §6.15 Interrupt 8); the monitor decides. */
  private shutdown(): number {
    this.ex.reason = 'shutdown';
    this.pendVector = -1;
    return ST_EXIT;
  }

  private deliverOnce(kind: number, v: number, hasErr: boolean, err: number): number {
    const u = this.u;
    if (!this.pmode) return this.deliverReal(v);
    // INT n in virtual-8086 mode with IOPL < 3 (no VME): #GP(0) before the IDT is read (SDM Vol. 2 INT n)
    if (kind === EV_SOFT_INT && this.v86 && ((u[S_RFLAGS]! >>> 12) & 3) !== 3) return this.gp(0);
    const ext = kind === EV_SOFT_INT || kind === EV_SOFT_EXC ? 0 : 1;
    const long = this.long;
    const idtErr = v * 8 + 2 + ext;
    const entry = long ? 16 : 8;
    if (v * entry + entry - 1 > u[S_IDTR + 2]!) return this.gp(idtErr);
    const ga = u[S_IDTR]! + v * entry;
    const gHiBase = long ? u[S_IDTR + 1]! : 0;
    const gLo = this.rd(ga >>> 0, ga >= TWO32 ? (gHiBase + 1) >>> 0 : gHiBase, 4, -1);
    if (gLo < 0) return this.failSt();
    const gHi = this.rd((ga + 4) >>> 0, ga + 4 >= TWO32 ? (gHiBase + 1) >>> 0 : gHiBase, 4, -1);
    if (gHi < 0) return this.failSt();
    const type = (gHi >>> 8) & 0x1f;
    const gdpl = (gHi >>> 13) & 3;
    let gateBits = 32, trap = false;
    if (long) {
      if (type !== 0xe && type !== 0xf) return this.gp(idtErr);
      gateBits = 64;
      trap = type === 0xf;
    } else {
      switch (type) {
        case 0x5: gateBits = 0; break; // task gate
        case 0x6: gateBits = 16; break;
        case 0x7: gateBits = 16; trap = true; break;
        case 0xe: break;
        case 0xf: trap = true; break;
        default: return this.gp(idtErr);
      }
    }
    const cpl = this.cpl;
    if ((kind === EV_SOFT_INT || kind === EV_SOFT_EXC) && gdpl < cpl) return this.gp(v * 8 + 2);
    if ((gHi & 0x8000) === 0) return this.fault(V_NP, true, idtErr);
    if (gateBits === 0) return this.taskGateDelivery(gLo >>> 16, ext, hasErr, err);
    let offLo = ((gLo & 0xffff) | (gHi & 0xffff0000)) >>> 0;
    let offHi = 0;
    if (gateBits === 16) offLo &= 0xffff;
    let ist = 0;
    if (long) {
      offHi = this.rd((ga + 8) >>> 0, ga + 8 >= TWO32 ? (gHiBase + 1) >>> 0 : gHiBase, 4, -1);
      if (offHi < 0) return this.failSt();
      ist = gHi & 7;
    }
    const sel = gLo >>> 16;
    if ((sel & 0xfffc) === 0) return this.gp(ext);
    let r = this.readDesc(sel, V_GP, ext);
    if (r !== ST_OK) return r;
    const cLo = this.dLo, cHi = this.dHi;
    const cattr = System.attrOf(cHi);
    const cdpl = (cattr >>> 5) & 3;
    if ((cattr & 0x18) !== 0x18 || cdpl > cpl) return this.gp((sel & 0xfffc) | ext);
    if ((cattr & ATTR_P) === 0) return this.fault(V_NP, true, (sel & 0xfffc) | ext);
    if (long && ((cattr & ATTR_L) === 0 || (cattr & ATTR_DB) !== 0)) return this.gp((sel & 0xfffc) | ext);
    const conforming = (cattr & 0x4) !== 0;
    const inner = !conforming && cdpl < cpl;
    if (this.v86 && (!inner || cdpl !== 0)) return this.gp((sel & 0xfffc) | ext);
    const flags = getFlags(u);
    const oldSs = u[S_SEG + SS * SEG_STRIDE + SEG_SEL]!;
    const oldSpLo = u[8]!, oldSpHi = u[9]!;
    const newCpl = inner ? cdpl : cpl;
    const f = this.frame;
    if (long) {
      // 64-bit delivery: RSP from the TSS on a privilege change or IST, aligned to 16 (SDM §6.14.2-6.14.5)
      let spLo = oldSpLo, spHi = oldSpHi;
      if (ist !== 0) {
        r = this.tss64(0x24 + (ist - 1) * 8, ext);
        if (r !== ST_OK) return r;
        spLo = this.newSpLo; spHi = this.newSpHi;
      } else if (inner) {
        r = this.tss64(4 + cdpl * 8, ext);
        if (r !== ST_OK) return r;
        spLo = this.newSpLo; spHi = this.newSpHi;
      }
      if (!this.mode64 && !inner && ist === 0) spHi = 0; // from compatibility mode at the same privilege: zero-extended
      if (!this.canon(spHi)) return this.fault(V_SS, true, ext);
      spLo = (spLo & ~0xf) >>> 0;
      f[0] = oldSs; f[1] = 0;
      f[2] = oldSpLo; f[3] = this.mode64 ? oldSpHi : 0;
      f[4] = flags; f[5] = 0;
      f[6] = u[S_SEG + CS * SEG_STRIDE + SEG_SEL]!; f[7] = 0;
      f[8] = u[S_RIP]!; f[9] = this.mode64 ? u[S_RIP + 1]! : 0;
      f[10] = err >>> 0; f[11] = 0;
      const n = hasErr ? 6 : 5;
      r = this.pushFrame(0, 0, 0, spLo, spHi, 64, 8, n, newCpl, ext);
      if (r !== ST_OK) return r;
      if (!this.canon(offHi)) return this.gp(ext);
      if (inner) {
        // SS = null selector with RPL = new CPL (SDM §6.14.4)
        const so = S_SEG + SS * SEG_STRIDE;
        u[so + SEG_SEL] = newCpl;
        u[so + SEG_BASE] = 0; u[so + SEG_BASE_HI] = 0; u[so + SEG_LIMIT] = 0;
        u[so + SEG_ATTR] = ATTR_UNUSABLE | (newCpl << 5);
      }
      u[8] = this.pushLo; u[9] = this.pushHi;
      this.setCs(sel, cLo, cHi, newCpl, offLo, offHi);
    } else {
      const w = gateBits === 16 ? 2 : 4;
      let n = 0;
      if (inner) {
        r = this.tssStack(cdpl, ext);
        if (r !== ST_OK) return r;
        const ssSel = this.newSsSel;
        r = this.checkNewSs(ssSel, cdpl, ext);
        if (r !== ST_OK) return r;
        if (this.v86) {
          f[2 * n] = u[S_SEG + GS * SEG_STRIDE + SEG_SEL]!; f[2 * n++ + 1] = 0;
          f[2 * n] = u[S_SEG + FS * SEG_STRIDE + SEG_SEL]!; f[2 * n++ + 1] = 0;
          f[2 * n] = u[S_SEG + DS * SEG_STRIDE + SEG_SEL]!; f[2 * n++ + 1] = 0;
          f[2 * n] = u[S_SEG + ES * SEG_STRIDE + SEG_SEL]!; f[2 * n++ + 1] = 0;
        }
        f[2 * n] = oldSs; f[2 * n++ + 1] = 0;
        f[2 * n] = oldSpLo; f[2 * n++ + 1] = 0;
      }
      f[2 * n] = flags; f[2 * n++ + 1] = 0;
      f[2 * n] = u[S_SEG + CS * SEG_STRIDE + SEG_SEL]!; f[2 * n++ + 1] = 0;
      f[2 * n] = u[S_RIP]!; f[2 * n++ + 1] = 0;
      if (hasErr) { f[2 * n] = err >>> 0; f[2 * n++ + 1] = 0; }
      if (inner) {
        const sattr = System.attrOf(this.ssHi);
        const sbits = (sattr & ATTR_DB) !== 0 ? 32 : 16;
        r = this.pushFrame(System.baseOf(this.ssLo, this.ssHi), System.limitOf(this.ssLo, this.ssHi), sattr, this.newSpLo, 0, sbits, w, n, newCpl, (this.newSsSel & 0xfffc) | ext);
        if (r !== ST_OK) return r;
        if (offLo > System.limitOf(cLo, cHi)) return this.gp(ext);
        this.dLo = this.ssLo; this.dHi = this.ssHi;
        this.loadCache(SS, this.newSsSel);
        this.commitSp(sbits, this.pushLo, 0);
        if (this.v86) {
          for (let k = 0; k < 4; k++) this.loadNull(DATA_SEGS[k]!, 0);
        }
      } else {
        const bits = this.curStackBits();
        const so = S_SEG + SS * SEG_STRIDE;
        r = this.pushFrame(u[so + SEG_BASE]!, u[so + SEG_LIMIT]!, u[so + SEG_ATTR]!, oldSpLo, 0, bits, w, n, newCpl, ext);
        if (r !== ST_OK) return r;
        if (offLo > System.limitOf(cLo, cHi)) return this.gp(ext);
        this.commitSp(bits, this.pushLo, 0);
      }
      this.setCs(sel, cLo, cHi, newCpl, offLo, 0);
    }
    let nf = flags & ~(TF | NT | RF | VM);
    if (!trap) nf &= ~IF;
    setFlags(u, nf >>> 0);
    return ST_OK;
  }

  /** Real-address mode (SDM §20.1.4): IVT of 4-byte IP:CS vectors; push FLAGS, CS, IP. */
  private deliverReal(v: number): number {
    const u = this.u;
    if (v * 4 + 3 > u[S_IDTR + 2]!) return this.gp(0);
    const a = (u[S_IDTR]! + v * 4) >>> 0;
    const ip = this.rd(a, 0, 2, 0);
    if (ip < 0) return this.failSt();
    const cs = this.rd((a + 2) >>> 0, 0, 2, 0);
    if (cs < 0) return this.failSt();
    const flags = getFlags(u);
    const f = this.frame;
    f[0] = flags & 0xffff; f[2] = u[S_SEG + CS * SEG_STRIDE + SEG_SEL]!; f[4] = u[S_RIP]! & 0xffff;
    const r = this.pushCurrent(2, 3);
    if (r !== ST_OK) return r;
    this.loadReal(CS, cs);
    u[S_RIP] = ip;
    u[S_RIP + 1] = 0;
    setFlags(u, (flags & ~(IF | TF | AC | RF)) >>> 0);
    return ST_OK;
  }

  // =====================================================================================
  // Far JMP / CALL (SDM Vol. 2 JMP and CALL pseudocode, Vol. 3A §5.8)
  // =====================================================================================

  /**
   * Far JMP (call = false) or CALL to sel:offset. `osz` is the operand size; RIP holds the address
   * of the next instruction (pushed by CALL).
   */
  farTransfer(call: boolean, sel: number, offLo: number, offHi: number, osz: number): number {
    const u = this.u;
    sel &= 0xffff;
    if (!this.pmode || this.v86) {
      if (osz === 16) offLo &= 0xffff;
      // the target must lie within the (unchanged) CS limit (SDM JMP/CALL real-address mode)
      if (offLo > u[S_SEG + CS * SEG_STRIDE + SEG_LIMIT]!) return this.gp(0);
      if (call) {
        const f = this.frame;
        f[0] = u[S_SEG + CS * SEG_STRIDE + SEG_SEL]!; f[1] = 0;
        f[2] = osz === 16 ? u[S_RIP]! & 0xffff : u[S_RIP]!; f[3] = 0;
        const r = this.pushCurrent(osz >>> 3, 2);
        if (r !== ST_OK) return r;
      }
      this.loadReal(CS, sel);
      u[S_RIP] = offLo >>> 0;
      u[S_RIP + 1] = 0;
      this.host.updateMode();
      return ST_OK;
    }
    if ((sel & 0xfffc) === 0) return this.gp(0);
    let r = this.readDesc(sel, V_GP, 0);
    if (r !== ST_OK) return r;
    const attr = System.attrOf(this.dHi);
    const cpl = this.cpl;
    const rpl = sel & 3;
    const dpl = (attr >>> 5) & 3;
    if ((attr & ATTR_S) !== 0) {
      if ((attr & 0x8) === 0) return this.gp(sel & 0xfffc);
      if ((attr & 0x4) !== 0) { if (dpl > cpl) return this.gp(sel & 0xfffc); } else if (rpl > cpl || dpl !== cpl) return this.gp(sel & 0xfffc);
      if ((attr & ATTR_P) === 0) return this.fault(V_NP, true, sel & 0xfffc);
      const cLo = this.dLo, cHi = this.dHi;
      const m64 = this.long && (attr & ATTR_L) !== 0;
      if (this.long && (attr & ATTR_L) !== 0 && (attr & ATTR_DB) !== 0) return this.gp(sel & 0xfffc);
      if (osz === 16) { offLo &= 0xffff; offHi = 0; } else if (osz === 32) offHi = 0;
      if (m64) { if (!this.canon(offHi)) return this.gp(0); } else {
        offHi = 0;
        if (offLo > System.limitOf(cLo, cHi)) return this.gp(0);
      }
      if (call) {
        const f = this.frame;
        f[0] = u[S_SEG + CS * SEG_STRIDE + SEG_SEL]!; f[1] = 0;
        f[2] = osz === 16 ? u[S_RIP]! & 0xffff : u[S_RIP]!; f[3] = osz === 64 ? u[S_RIP + 1]! : 0;
        r = this.pushCurrent(osz >>> 3, 2);
        if (r !== ST_OK) return r;
      }
      r = this.setAccessed();
      if (r !== ST_OK) return r;
      this.setCs(sel, cLo, cHi, cpl, offLo, offHi);
      this.host.updateMode();
      return ST_OK;
    }
    const type = attr & 0xf;
    if (this.long) {
      if (type !== 0xc) return this.gp(sel & 0xfffc);
    } else if (type !== 0x4 && type !== 0xc && type !== 0x5 && type !== 0x1 && type !== 0x9) {
      return this.gp(sel & 0xfffc);
    }
    if (type === 0x5 || type === 0x1 || type === 0x9) {
      // task gate or TSS: a task switch (SDM §8.3)
      if (dpl < cpl || dpl < rpl) return this.gp(sel & 0xfffc);
      if ((attr & ATTR_P) === 0) return this.fault(V_NP, true, sel & 0xfffc);
      if (type === 0x5) {
        const tss = this.dLo >>> 16;
        return this.taskSwitchTo(tss, call ? TS_CALL : TS_JMP, 0, false, 0, true);
      }
      return this.taskSwitchDesc(sel, call ? TS_CALL : TS_JMP, 0, false, 0);
    }
    // call gate (SDM §5.8.3 - 5.8.6)
    if (dpl < cpl || dpl < rpl) return this.gp(sel & 0xfffc);
    if ((attr & ATTR_P) === 0) return this.fault(V_NP, true, sel & 0xfffc);
    const gLo = this.dLo, gHi = this.dHi;
    let gOffLo = ((gLo & 0xffff) | (gHi & 0xffff0000)) >>> 0;
    let gOffHi = 0;
    const gate16 = type === 0x4;
    if (gate16) gOffLo &= 0xffff;
    const pcount = gHi & 0x1f;
    if (this.long) {
      const up = this.readDescUpper();
      if (up < 0) return this.failSt();
      if ((this.vh & 0x1f00) !== 0) return this.gp(sel & 0xfffc);
      gOffHi = up;
    }
    const tsel = gLo >>> 16;
    if ((tsel & 0xfffc) === 0) return this.gp(0);
    r = this.readDesc(tsel, V_GP, 0);
    if (r !== ST_OK) return r;
    const tattr = System.attrOf(this.dHi);
    const tdpl = (tattr >>> 5) & 3;
    if ((tattr & 0x18) !== 0x18 || tdpl > cpl) return this.gp(tsel & 0xfffc);
    if (this.long && ((tattr & ATTR_L) === 0 || (tattr & ATTR_DB) !== 0)) return this.gp(tsel & 0xfffc);
    if ((tattr & ATTR_P) === 0) return this.fault(V_NP, true, tsel & 0xfffc);
    const tLo = this.dLo, tHi = this.dHi;
    const conforming = (tattr & 0x4) !== 0;
    if (!call) {
      if (!conforming && tdpl !== cpl) return this.gp(tsel & 0xfffc);
      if (this.long ? !this.canon(gOffHi) : gOffLo > System.limitOf(tLo, tHi)) return this.gp(0);
      this.setCs(tsel, tLo, tHi, cpl, gOffLo, gOffHi);
      this.host.updateMode();
      return ST_OK;
    }
    const w = this.long ? 8 : gate16 ? 2 : 4;
    const f = this.frame;
    if (!conforming && tdpl < cpl) {
      // more privilege: new stack from the TSS, copy parameters (32/16-bit gates), push old SS:SP
      const retCs = u[S_SEG + CS * SEG_STRIDE + SEG_SEL]!;
      const retLo = u[S_RIP]!, retHi = u[S_RIP + 1]!;
      const oldSs = u[S_SEG + SS * SEG_STRIDE + SEG_SEL]!;
      const oldSpLo = u[8]!, oldSpHi = u[9]!;
      if (this.long) {
        r = this.tss64(4 + tdpl * 8, 0);
        if (r !== ST_OK) return r;
        if (!this.canon(this.newSpHi)) return this.fault(V_SS, true, 0);
        f[0] = oldSs; f[1] = 0;
        f[2] = oldSpLo; f[3] = this.mode64 ? oldSpHi : 0;
        f[4] = retCs; f[5] = 0;
        f[6] = retLo; f[7] = this.mode64 ? retHi : 0;
        r = this.pushFrame(0, 0, 0, this.newSpLo, this.newSpHi, 64, 8, 4, tdpl, 0);
        if (r !== ST_OK) return r;
        if (!this.canon(gOffHi)) return this.gp(0);
        const so = S_SEG + SS * SEG_STRIDE;
        u[so + SEG_SEL] = tdpl;
        u[so + SEG_BASE] = 0; u[so + SEG_BASE_HI] = 0; u[so + SEG_LIMIT] = 0;
        u[so + SEG_ATTR] = ATTR_UNUSABLE | (tdpl << 5);
        u[8] = this.pushLo; u[9] = this.pushHi;
        this.setCs(tsel, tLo, tHi, tdpl, gOffLo, gOffHi);
        this.host.updateMode();
        return ST_OK;
      }
      r = this.tssStack(tdpl, 0);
      if (r !== ST_OK) return r;
      const ssSel = this.newSsSel;
      r = this.checkNewSs(ssSel, tdpl, 0);
      if (r !== ST_OK) return r;
      // parameters from the old stack (read at the old CPL)
      for (let i = 0; i < pcount; i++) {
        const v = this.popItem(pcount - 1 - i, w);
        if (v < 0) return this.failSt();
        this.params[i] = v;
      }
      let n = 0;
      f[2 * n] = oldSs; f[2 * n++ + 1] = 0;
      f[2 * n] = oldSpLo; f[2 * n++ + 1] = 0;
      for (let i = 0; i < pcount; i++) { f[2 * n] = this.params[i]!; f[2 * n++ + 1] = 0; }
      f[2 * n] = retCs; f[2 * n++ + 1] = 0;
      f[2 * n] = retLo; f[2 * n++ + 1] = 0;
      const sattr = System.attrOf(this.ssHi);
      const sbits = (sattr & ATTR_DB) !== 0 ? 32 : 16;
      r = this.pushFrame(System.baseOf(this.ssLo, this.ssHi), System.limitOf(this.ssLo, this.ssHi), sattr, this.newSpLo, 0, sbits, w, n, tdpl, ssSel & 0xfffc);
      if (r !== ST_OK) return r;
      if (gOffLo > System.limitOf(tLo, tHi)) return this.gp(0);
      this.dLo = this.ssLo; this.dHi = this.ssHi;
      this.loadCache(SS, ssSel);
      this.commitSp(sbits, this.pushLo, 0);
      this.setCs(tsel, tLo, tHi, tdpl, gOffLo, 0);
      this.host.updateMode();
      return ST_OK;
    }
    // same privilege through the gate
    f[0] = u[S_SEG + CS * SEG_STRIDE + SEG_SEL]!; f[1] = 0;
    f[2] = w === 2 ? u[S_RIP]! & 0xffff : u[S_RIP]!; f[3] = w === 8 ? u[S_RIP + 1]! : 0;
    if (this.long ? !this.canon(gOffHi) : gOffLo > System.limitOf(tLo, tHi)) return this.gp(0);
    r = this.pushCurrent(w, 2);
    if (r !== ST_OK) return r;
    this.setCs(tsel, tLo, tHi, cpl, gOffLo, gOffHi);
    this.host.updateMode();
    return ST_OK;
  }

  // =====================================================================================
  // RETF and IRET (SDM Vol. 2 RET and IRET pseudocode)
  // =====================================================================================

  /** Far RET with `imm` bytes to release, at operand size osz. */
  farReturn(osz: number, imm: number): number {
    const u = this.u;
    const w = osz >>> 3;
    const ipLo = this.popItem(0, w);
    if (ipLo < 0) return this.failSt();
    const ipHi = w === 8 ? this.vh : 0;
    const csSel = this.popItem(1, w);
    if (csSel < 0) return this.failSt();
    const sel = csSel & 0xffff;
    if (!this.pmode || this.v86) {
      if ((osz === 16 ? ipLo & 0xffff : ipLo) > u[S_SEG + CS * SEG_STRIDE + SEG_LIMIT]!) return this.gp(0);
      this.addSp(2 * w + imm);
      this.loadReal(CS, sel);
      u[S_RIP] = osz === 16 ? ipLo & 0xffff : ipLo;
      u[S_RIP + 1] = 0;
      this.host.updateMode();
      return ST_OK;
    }
    const r = this.protectedReturn(false, sel, ipLo, ipHi, w, imm);
    if (r === ST_OK) this.host.updateMode();
    return r;
  }

  /**
   * The common part of RETF and IRET in protected mode: checks the return CS, and for an outer
   * privilege level pops SS:SP (after `imm` bytes for RETF). `flags` for IRET is applied by the caller.
   */
  private protectedReturn(iret: boolean, sel: number, ipLo: number, ipHi: number, w: number, imm: number): number {
    const u = this.u;
    const cpl = this.cpl;
    if ((sel & 0xfffc) === 0) return this.gp(0);
    let r = this.readDesc(sel, V_GP, 0);
    if (r !== ST_OK) return r;
    const attr = System.attrOf(this.dHi);
    const rpl = sel & 3;
    const dpl = (attr >>> 5) & 3;
    if ((attr & 0x18) !== 0x18) return this.gp(sel & 0xfffc);
    if (rpl < cpl) return this.gp(sel & 0xfffc);
    if ((attr & 0x4) !== 0 ? dpl > rpl : dpl !== rpl) return this.gp(sel & 0xfffc);
    if ((attr & ATTR_P) === 0) return this.fault(V_NP, true, sel & 0xfffc);
    const cLo = this.dLo, cHi = this.dHi;
    const to64 = this.long && (attr & ATTR_L) !== 0;
    if (this.long && (attr & ATTR_L) !== 0 && (attr & ATTR_DB) !== 0) return this.gp(sel & 0xfffc);
    const first = iret ? 3 : 2; // items before SP/SS
    if (w === 2) ipLo &= 0xffff;
    if (!to64) ipHi = 0;
    // IRET in 64-bit mode always pops SS:RSP (SDM IRET "IA-32e-MODE")
    const outer = rpl > cpl || (iret && this.mode64);
    if (!outer) {
      if (to64 ? !this.canon(ipHi) : ipLo > System.limitOf(cLo, cHi)) return this.gp(0);
      this.addSp(first * w + imm);
      this.setCs(sel, cLo, cHi, cpl, ipLo, ipHi);
      return ST_OK;
    }
    // outer privilege (or IRETQ): pop SS:SP
    const spLo = this.popAt(first * w + imm, w);
    if (spLo < 0) return this.failSt();
    const spHi = w === 8 ? this.vh : 0;
    const ssv = this.popAt(first * w + imm + w, w);
    if (ssv < 0) return this.failSt();
    const ssSel = ssv & 0xffff;
    let ssLo = 0, ssHi = 0, ssNull = false;
    if ((ssSel & 0xfffc) === 0) {
      // null SS: only returning to 64-bit mode at CPL < 3 (SDM IRET "IA-32e mode" / RET)
      if (!(this.long && to64 && rpl !== 3)) return this.gp(0);
      ssNull = true;
    } else {
      r = this.readDesc(ssSel, V_GP, 0);
      if (r !== ST_OK) return r;
      const sattr = System.attrOf(this.dHi);
      if ((ssSel & 3) !== rpl || ((sattr >>> 5) & 3) !== rpl || (sattr & ATTR_S) === 0 || (sattr & 0xa) !== 0x2) return this.gp(ssSel & 0xfffc);
      if ((sattr & ATTR_P) === 0) return this.fault(V_SS, true, ssSel & 0xfffc);
      r = this.setAccessed();
      if (r !== ST_OK) return r;
      ssLo = this.dLo; ssHi = this.dHi;
    }
    if (to64 ? !this.canon(ipHi) : ipLo > System.limitOf(cLo, cHi)) return this.gp(0);
    this.dLo = cLo; this.dHi = cHi;
    this.setCs(sel, cLo, cHi, rpl, ipLo, ipHi);
    if (ssNull) {
      const so = S_SEG + SS * SEG_STRIDE;
      u[so + SEG_SEL] = ssSel;
      u[so + SEG_BASE] = 0; u[so + SEG_BASE_HI] = 0; u[so + SEG_LIMIT] = 0;
      u[so + SEG_ATTR] = ATTR_UNUSABLE | (rpl << 5);
    } else {
      this.dLo = ssLo; this.dHi = ssHi;
      this.loadCache(SS, ssSel);
    }
    const sattr = u[S_SEG + SS * SEG_STRIDE + SEG_ATTR]!;
    if (to64 || w === 8) { u[8] = spLo; u[9] = to64 ? spHi : 0; } else if ((sattr & ATTR_DB) !== 0 || w === 4) { u[8] = w === 2 ? (u[8]! & 0xffff0000) | (spLo & 0xffff) : spLo; u[9] = 0; } else u[8] = (u[8]! & 0xffff0000) | (spLo & 0xffff);
    if (!iret && imm !== 0) this.addSp(imm);
    if (rpl > cpl) this.nullifyDataSegs(rpl);
    return ST_OK;
  }

  /** IRET/IRETD/IRETQ (osz 16/32/64). */
  iret(osz: number): number {
    const u = this.u;
    const w = osz >>> 3;
    this.nmiBlocked = false;
    if (!this.pmode) {
      const ip = this.popItem(0, w);
      if (ip < 0) return this.failSt();
      const cs = this.popItem(1, w);
      if (cs < 0) return this.failSt();
      const fl = this.popItem(2, w);
      if (fl < 0) return this.failSt();
      // SDM IRET, real-address mode exceptions: #GP(0) if the return IP is beyond the CS limit
      // (an IRETD can pop an EIP above 0xFFFF); nothing has changed yet
      if ((w === 2 ? ip & 0xffff : ip) > u[S_SEG + CS * SEG_STRIDE + SEG_LIMIT]!) return this.gp(0);
      this.addSp(3 * w);
      this.loadReal(CS, cs & 0xffff);
      u[S_RIP] = w === 2 ? ip & 0xffff : ip;
      u[S_RIP + 1] = 0;
      const old = getFlags(u);
      const mask = w === 2 ? 0x7fd7 : 0x257fd7; // VM, RF, VIF, VIP unchanged in real mode
      setFlags(u, ((old & ~mask) | (fl & mask)) >>> 0);
      this.host.updateMode();
      return ST_OK;
    }
    if (this.v86) {
      // virtual-8086 IRET: only with IOPL 3 (VME not advertised)
      if (((u[S_RFLAGS]! >>> 12) & 3) !== 3) return this.gp(0);
      const ip = this.popItem(0, w);
      if (ip < 0) return this.failSt();
      const cs = this.popItem(1, w);
      if (cs < 0) return this.failSt();
      const fl = this.popItem(2, w);
      if (fl < 0) return this.failSt();
      // SDM IRET, virtual-8086 mode exceptions: #GP(0) if the return IP is beyond the 64 KiB limit
      if ((w === 2 ? ip & 0xffff : ip) > 0xffff) return this.gp(0);
      this.addSp(3 * w);
      this.loadReal(CS, cs & 0xffff);
      u[S_RIP] = w === 2 ? ip & 0xffff : ip;
      const old = getFlags(u);
      const mask = w === 2 ? 0xcfd7 : 0x24cfd7; // IOPL, VM, RF, VIF, VIP kept
      setFlags(u, ((old & ~mask) | (fl & mask)) >>> 0);
      this.host.updateMode();
      return ST_OK;
    }
    const flagsNow = getFlags(u);
    if ((flagsNow & NT) !== 0) {
      if (this.long) return this.gp(0);
      return this.taskReturn();
    }
    const ipLo = this.popItem(0, w);
    if (ipLo < 0) return this.failSt();
    const ipHi = w === 8 ? this.vh : 0;
    const csv = this.popItem(1, w);
    if (csv < 0) return this.failSt();
    const fl = this.popItem(2, w);
    if (fl < 0) return this.failSt();
    const cpl = this.cpl;
    if ((fl & VM) !== 0 && cpl === 0 && !this.long && w === 4) return this.iretToV86(ipLo, csv & 0xffff, fl);
    const r = this.protectedReturn(true, csv & 0xffff, ipLo, ipHi, w, 0);
    if (r !== ST_OK) return r;
    // flags (SDM IRET: IOPL only at CPL 0, IF only when CPL <= IOPL, VIF/VIP only at CPL 0)
    const iopl = (flagsNow >>> 12) & 3;
    let mask = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | TF | 0x400 | 0x800 | NT | RF | AC | ID;
    if (cpl <= iopl) mask |= IF;
    if (cpl === 0) mask |= IOPL | VIF | VIP;
    if (w === 2) mask &= 0xffff;
    setFlags(u, ((flagsNow & ~mask) | (fl & mask)) >>> 0);
    this.host.updateMode();
    return ST_OK;
  }

  /** IRET from CPL 0 to virtual-8086 mode (SDM IRET "RETURN-TO-VIRTUAL-8086-MODE"). */
  private iretToV86(ip: number, cs: number, fl: number): number {
    const u = this.u;
    const vals = this.params;
    for (let i = 0; i < 6; i++) {
      const v = this.popItem(3 + i, 4);
      if (v < 0) return this.failSt();
      vals[i] = v; // ESP, SS, ES, DS, FS, GS
    }
    setFlags(u, (fl | 2) >>> 0);
    this.loadReal(CS, cs);
    u[S_RIP] = ip & 0xffff;
    u[S_RIP + 1] = 0;
    this.loadReal(ES, vals[2]! & 0xffff);
    this.loadReal(DS, vals[3]! & 0xffff);
    this.loadReal(FS, vals[4]! & 0xffff);
    this.loadReal(GS, vals[5]! & 0xffff);
    this.loadReal(SS, vals[1]! & 0xffff);
    u[8] = vals[0]!;
    u[9] = 0;
    this.host.updateMode();
    return ST_OK;
  }

  // =====================================================================================
  // SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS (SDM Vol. 2 pseudocode, Vol. 3A §5.8.7-5.8.8)
  // =====================================================================================

  private flatCs(sel: number, dpl: number, long: boolean): void {
    const u = this.u;
    const o = S_SEG + CS * SEG_STRIDE;
    u[o + SEG_SEL] = sel & 0xffff;
    u[o + SEG_BASE] = 0; u[o + SEG_BASE_HI] = 0;
    u[o + SEG_LIMIT] = 0xffffffff;
    u[o + SEG_ATTR] = 0xb | ATTR_S | (dpl << 5) | ATTR_P | ATTR_G | (long ? ATTR_L : ATTR_DB);
  }
  private flatSs(sel: number, dpl: number): void {
    const u = this.u;
    const o = S_SEG + SS * SEG_STRIDE;
    u[o + SEG_SEL] = sel & 0xffff;
    u[o + SEG_BASE] = 0; u[o + SEG_BASE_HI] = 0;
    u[o + SEG_LIMIT] = 0xffffffff;
    u[o + SEG_ATTR] = 0x3 | ATTR_S | (dpl << 5) | ATTR_P | ATTR_G | ATTR_DB;
  }

  /** SYSCALL: RIP holds the next instruction. */
  syscall(): number {
    const u = this.u;
    if ((u[S_EFER]! & EFER_SCE) === 0 || !this.mode64) return this.ud();
    const m = this.msr;
    u[2] = u[S_RIP]!; u[3] = u[S_RIP + 1]!; // RCX
    const fl = getFlags(u);
    u[22] = (fl & ~RF) >>> 0; u[23] = 0; // R11
    const sel = (m.starHi & 0xffff) & 0xfffc;
    this.flatCs(sel, 0, true);
    this.flatSs(sel + 8, 0);
    u[S_RIP] = m.lstarLo; u[S_RIP + 1] = m.lstarHi;
    setFlags(u, (fl & ~m.fmask & ~RF) >>> 0);
    this.host.updateMode();
    return ST_OK;
  }

  sysret(osz: number): number {
    const u = this.u;
    if ((u[S_EFER]! & EFER_SCE) === 0 || !this.mode64) return this.ud();
    if (this.cpl !== 0) return this.gp(0);
    const m = this.msr;
    const base = (m.starHi >>> 16) & 0xffff;
    if (osz === 64) {
      if (!this.canon(u[3]!)) return this.gp(0);
      this.flatCs(((base + 16) & 0xfffc) | 3, 3, true);
      u[S_RIP] = u[2]!; u[S_RIP + 1] = u[3]!;
    } else {
      this.flatCs((base & 0xfffc) | 3, 3, false);
      u[S_RIP] = u[2]!; u[S_RIP + 1] = 0;
    }
    // SS selector = STAR[63:48] + 8 with RPL 3; its cache is fixed (SDM SYSRET)
    this.flatSs(((base + 8) & 0xfffc) | 3, 3);
    setFlags(u, ((u[22]! & 0x3c7fd7) | 2) >>> 0);
    this.host.updateMode();
    return ST_OK;
  }

  sysenter(): number {
    const u = this.u;
    const m = this.msr;
    if (!this.pmode) return this.gp(0);
    if ((m.sysenterCs & 0xfffc) === 0) return this.gp(0);
    const fl = getFlags(u);
    setFlags(u, (fl & ~(VM | IF | RF)) >>> 0);
    const long = this.long;
    this.flatCs(m.sysenterCs & 0xfffc, 0, long);
    this.flatSs((m.sysenterCs + 8) & 0xfffc, 0);
    if (long) {
      u[S_RIP] = m.sysenterEipLo; u[S_RIP + 1] = m.sysenterEipHi;
      u[8] = m.sysenterEspLo; u[9] = m.sysenterEspHi;
    } else {
      u[S_RIP] = m.sysenterEipLo; u[S_RIP + 1] = 0;
      u[8] = m.sysenterEspLo; u[9] = 0;
    }
    this.host.updateMode();
    return ST_OK;
  }

  sysexit(osz: number): number {
    const u = this.u;
    const m = this.msr;
    if (!this.pmode || this.cpl !== 0) return this.gp(0);
    if ((m.sysenterCs & 0xfffc) === 0) return this.gp(0);
    if (osz === 64) {
      if (!this.canon(u[5]!) || !this.canon(u[3]!)) return this.gp(0);
      this.flatCs(((m.sysenterCs + 32) & 0xfffc) | 3, 3, true);
      this.flatSs(((m.sysenterCs + 40) & 0xfffc) | 3, 3);
      u[S_RIP] = u[4]!; u[S_RIP + 1] = u[5]!;
      u[8] = u[2]!; u[9] = u[3]!;
    } else {
      this.flatCs(((m.sysenterCs + 16) & 0xfffc) | 3, 3, false);
      this.flatSs(((m.sysenterCs + 24) & 0xfffc) | 3, 3);
      u[S_RIP] = u[4]!; u[S_RIP + 1] = 0;
      u[8] = u[2]!; u[9] = 0;
    }
    this.host.updateMode();
    return ST_OK;
  }

  swapgs(): number {
    if (!this.mode64) return this.ud();
    if (this.cpl !== 0) return this.gp(0);
    const u = this.u;
    const o = S_SEG + GS * SEG_STRIDE;
    const lo = u[o + SEG_BASE]!, hi = u[o + SEG_BASE_HI]!;
    u[o + SEG_BASE] = this.msr.kgsLo; u[o + SEG_BASE_HI] = this.msr.kgsHi;
    this.msr.kgsLo = lo; this.msr.kgsHi = hi;
    return ST_OK;
  }

  /** RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE availability (64-bit mode and CR4.FSGSBASE). */
  fsgsbaseOk(): boolean {
    return this.mode64 && (this.u[S_CR4]! & CR4_FSGSBASE) !== 0;
  }

  // =====================================================================================
  // Segment limits on use (SDM Vol. 3A §5.3; Vol. 2 "Protected Mode Exceptions" of every memory
  // instruction; real mode §20.1.1 keeps the limit of the hidden part)
  // =====================================================================================

  /**
   * True when accesses through `seg` need the checks below: not a flat 4 GiB expand-up segment, or
   * (protected mode, not virtual-8086) a segment whose type forbids some access: a code segment
   * (never writable; execute-only ones not readable) or a read-only data segment (§5.5).
   */
  needsSegCheck(seg: number): boolean {
    const u = this.u;
    const o = S_SEG + seg * SEG_STRIDE;
    const attr = u[o + SEG_ATTR]!;
    if ((attr & ATTR_UNUSABLE) !== 0) return this.pmode && !this.v86;
    if (this.pmode && !this.v86 && ((attr & 0x8) !== 0 || (attr & 0x2) === 0)) return true;
    return u[o + SEG_LIMIT] !== 0xffffffff || (attr & 0x1c) === 0x14;
  }

  /**
   * 0 when an access of `size` bytes at offset `ea` of `seg` is allowed, else the vector (error
   * code 0): a null (unusable) segment is #GP; in protected mode a write (`write`) to a code or
   * read-only data segment, or a read of an execute-only code segment, is #GP (SDM Vol. 3A §5.5
   * "Type checking": "writing into a code segment or a read-only data segment", "reading from an
   * execute-only code segment"); then every byte must lie within the limit (§5.3, expand-down
   * segments by their B flag), #SS for SS and #GP for the others.
   */
  segFault(seg: number, ea: number, size: number, write: boolean): number {
    const u = this.u;
    const o = S_SEG + seg * SEG_STRIDE;
    const attr = u[o + SEG_ATTR]!;
    const vec = seg === SS ? V_SS : V_GP;
    if ((attr & ATTR_UNUSABLE) !== 0) return this.pmode && !this.v86 ? vec : 0;
    if (this.pmode && !this.v86) {
      // SS is always a writable data segment (checked when it is loaded): never a type fault
      if ((attr & 0x8) !== 0 ? write || (attr & 0x2) === 0 : write && (attr & 0x2) === 0) return V_GP;
    }
    return System.inLimit(attr, u[o + SEG_LIMIT]!, ea, size) ? 0 : vec;
  }

  // =====================================================================================
  // Debug breakpoints (SDM Vol. 3A §18.2.4-18.2.5, §18.3.1)
  // =====================================================================================

  /** DR6.B0-B3 bits of the enabled instruction breakpoints (R/W = 00) at linear address lo/hi. */
  codeBreakpoints(lo: number, hi: number): number {
    const u = this.u;
    const dr7 = u[S_DR7]!;
    let bits = 0;
    for (let n = 0; n < 4; n++) {
      if (((dr7 >>> (n * 2)) & 3) === 0 || ((dr7 >>> (16 + n * 4)) & 3) !== 0) continue;
      if (u[S_DR + n * 2] === lo && (!this.long || u[S_DR + n * 2 + 1] === hi)) bits |= 1 << n;
    }
    return bits;
  }

  /**
   * DR6.B0-B3 bits of the enabled data breakpoints hit by an access of `size` bytes at lo/hi:
   * R/W = 01 matches writes, 11 reads and writes; LEN 00/01/11/10 = 1/2/4/8 bytes, the DR address
   * aligned down to the length (§18.2.5).
   */
  dataBreakpoints(lo: number, hi: number, size: number, write: boolean, read: boolean): number {
    const u = this.u;
    const dr7 = u[S_DR7]!;
    let bits = 0;
    for (let n = 0; n < 4; n++) {
      if (((dr7 >>> (n * 2)) & 3) === 0) continue;
      const rw = (dr7 >>> (16 + n * 4)) & 3;
      if (rw === 1 ? !write : rw === 3 ? !(read || write) : true) continue;
      const lenCode = (dr7 >>> (18 + n * 4)) & 3;
      const len = lenCode === 0 ? 1 : lenCode === 1 ? 2 : lenCode === 3 ? 4 : 8;
      if (this.long && u[S_DR + n * 2 + 1] !== hi) continue;
      const a = (u[S_DR + n * 2]! & ~(len - 1)) >>> 0;
      if (lo < a + len && a < lo + size) bits |= 1 << n;
    }
    return bits;
  }

  /**
   * DR6.B0-B3 bits of the enabled I/O breakpoints hit by an IN/OUT/INS/OUTS of `size` bytes at
   * `port`: only with CR4.DE = 1 and R/W = 10 (§17.2.4; with CR4.DE = 0 the encoding is undefined
   * and this model ignores it). The port is zero-extended and compared with the DRn range of LEN
   * bytes, the address aligned down to the length (§17.2.5).
   */
  ioBreakpoints(port: number, size: number): number {
    const u = this.u;
    if ((u[S_CR4]! & CR4_DE) === 0) return 0;
    const dr7 = u[S_DR7]!;
    let bits = 0;
    for (let n = 0; n < 4; n++) {
      if (((dr7 >>> (n * 2)) & 3) === 0 || ((dr7 >>> (16 + n * 4)) & 3) !== 2) continue;
      const lenCode = (dr7 >>> (18 + n * 4)) & 3;
      const len = lenCode === 0 ? 1 : lenCode === 1 ? 2 : lenCode === 3 ? 4 : 8;
      if (this.long && u[S_DR + n * 2 + 1] !== 0) continue;
      const a = (u[S_DR + n * 2]! & ~(len - 1)) >>> 0;
      if (port < a + len && a < port + size) bits |= 1 << n;
    }
    return bits;
  }

  /** Sets DR6 for a #DB: B0-B3 replaced by `bits`' low four, BS/BD/BT bits added (§18.2.3). */
  reportDb(bits: number): void {
    const u = this.u;
    u[S_DR6] = (((u[S_DR6]! & ~0xf) | bits) | 0xffff0ff0) >>> 0;
  }

  // =====================================================================================
  // I/O permission (SDM Vol. 1 §19.5)
  // =====================================================================================

  /** ST_OK when the port access is allowed at the current privilege, else #GP(0). */
  ioAllowed(port: number, size: number): number {
    const u = this.u;
    if (!this.pmode) return ST_OK;
    if (!this.v86 && this.cpl <= ((u[S_RFLAGS]! >>> 12) & 3)) return ST_OK;
    // the TSS I/O permission bitmap
    const tr = S_SEG + TR * SEG_STRIDE;
    const type = u[tr + SEG_ATTR]! & 0xf;
    const limit = u[tr + SEG_LIMIT]!;
    if ((type !== 0x9 && type !== 0xb) || limit < 0x67) return this.gp(0);
    const baseLo = u[tr + SEG_BASE]!, baseHi = this.long ? u[tr + SEG_BASE_HI]! : 0;
    const a = baseLo + 0x66;
    const mapOff = this.rd(a >>> 0, a >= TWO32 ? (baseHi + 1) >>> 0 : baseHi, 2, -1);
    if (mapOff < 0) return this.failSt();
    const byteOff = mapOff + (port >>> 3);
    if (byteOff + 1 > limit) return this.gp(0);
    const b = baseLo + byteOff;
    const bits = this.rd(b >>> 0, b >= TWO32 ? (baseHi + 1) >>> 0 : baseHi, 2, -1);
    if (bits < 0) return this.failSt();
    const mask = ((1 << size) - 1) << (port & 7);
    if ((bits & mask) !== 0) return this.gp(0);
    return ST_OK;
  }

  // =====================================================================================
  // Task switches (SDM Vol. 3A ch. 8) — filled in by task.ts's logic below
  // =====================================================================================

  /** A task gate in the IDT (SDM INT n pseudocode, TASK-GATE): a nested task switch, then the error code. */
  private taskGateDelivery(tssSel: number, ext: number, hasErr: boolean, err: number): number {
    if ((tssSel & 4) !== 0 || (tssSel & 0xfffc) === 0) return this.gp((tssSel & 0xfffc) | ext);
    return this.taskSwitch(tssSel, TS_INT, ext, hasErr, err);
  }

  /** CALL/JMP through a task gate (its TSS selector must be a GDT selector). */
  private taskSwitchTo(tssSel: number, reason: number, ext: number, hasErr: boolean, err: number, _viaGate: boolean): number {
    if ((tssSel & 4) !== 0 || (tssSel & 0xfffc) === 0) return this.gp(tssSel & 0xfffc);
    return this.taskSwitch(tssSel, reason, ext, hasErr, err);
  }

  /** CALL/JMP to a TSS descriptor. */
  private taskSwitchDesc(sel: number, reason: number, ext: number, hasErr: boolean, err: number): number {
    return this.taskSwitch(sel, reason, ext, hasErr, err);
  }

  /** IRET with NT = 1: back to the task in the current TSS's back link (SDM IRET "TASK-RETURN"). */
  private taskReturn(): number {
    const u = this.u;
    const tr = S_SEG + TR * SEG_STRIDE;
    const link = this.rd(u[tr + SEG_BASE]!, 0, 2, -1);
    if (link < 0) return this.failSt();
    if ((link & 4) !== 0 || (link & 0xfffc) === 0) return this.fault(V_TS, true, link & 0xfffc);
    return this.taskSwitch(link, TS_IRET, 0, false, 0);
  }

  /** Writes one byte of the GDT descriptor of `sel` (busy-bit updates): offset 5 = the type byte. */
  private setDescType(sel: number, set: number, clear: number): number {
    const u = this.u;
    const a = u[S_GDTR]! + (sel & 0xfff8) + 5;
    const hi = this.long ? u[S_GDTR + 1]! : 0;
    const alo = a >>> 0, ahi = a >= TWO32 ? (hi + 1) >>> 0 : hi;
    const b = this.rd(alo, ahi, 1, -1);
    if (b < 0) return this.failSt();
    if (!this.wr(alo, ahi, 1, ((b & ~clear) | set) & 0xff, 0, -1)) return this.failSt();
    return ST_OK;
  }

  /**
   * The hardware task switch (SDM Vol. 3A §8.3, Vol. 2 "TASK-SWITCH"): checks the new TSS, saves the
   * current state in the current TSS, updates busy bits and the back link, loads TR, CR3, the
   * registers, LDTR and the segments of the new task (faults from here on are taken in the new task,
   * as #TS with the offending selector), then pushes an error code for an exception through a gate.
   */
  private taskSwitch(sel: number, reason: number, ext: number, hasErr: boolean, err: number): number {
    const u = this.u;
    const bad = reason === TS_IRET ? V_TS : V_GP;
    let r = this.readDesc(sel, bad, ext);
    if (r !== ST_OK) return r;
    const nLo = this.dLo, nHi = this.dHi;
    const attr = System.attrOf(nHi);
    const type = attr & 0x1f;
    if (reason === TS_IRET) {
      if (type !== 0xb && type !== 0x3) return this.fault(V_TS, true, (sel & 0xfffc) | ext);
    } else if (type !== 0x9 && type !== 0x1) return this.gp((sel & 0xfffc) | ext);
    if ((attr & ATTR_P) === 0) return this.fault(V_NP, true, (sel & 0xfffc) | ext);
    const t32 = (type & 8) !== 0;
    if (System.limitOf(nLo, nHi) < (t32 ? 0x67 : 0x2b)) return this.fault(V_TS, true, (sel & 0xfffc) | ext);
    const nb = System.baseOf(nLo, nHi);
    // read the new task's state first: a fault here leaves the old task untouched
    const v = this.params; // [0] cr3, [1] eip, [2] eflags, [3..10] gprs, [11..16] es..gs, [17] ldt
    if (t32) {
      for (let k = 0; k < 11; k++) {
        const x = this.rd((nb + 0x1c + k * 4) >>> 0, 0, 4, -1);
        if (x < 0) return this.failSt();
        v[k] = x;
      }
      for (let k = 0; k < 7; k++) {
        const x = this.rd((nb + 0x48 + k * 4) >>> 0, 0, 2, -1);
        if (x < 0) return this.failSt();
        v[11 + k] = x;
      }
    } else {
      v[0] = u[S_CR3]!;
      for (let k = 0; k < 10; k++) {
        const x = this.rd((nb + 0x0e + k * 2) >>> 0, 0, 2, -1);
        if (x < 0) return this.failSt();
        v[1 + k] = x;
      }
      for (let k = 0; k < 4; k++) {
        const x = this.rd((nb + 0x22 + k * 2) >>> 0, 0, 2, -1);
        if (x < 0) return this.failSt();
        v[11 + k] = x;
      }
      v[15] = 0; v[16] = 0;
      const l = this.rd((nb + 0x2a) >>> 0, 0, 2, -1);
      if (l < 0) return this.failSt();
      v[17] = l;
    }
    // save the current task (TR.base)
    const tr = S_SEG + TR * SEG_STRIDE;
    const ob = u[tr + SEG_BASE]!;
    const o32 = (u[tr + SEG_ATTR]! & 8) !== 0;
    const oldSel = u[tr + SEG_SEL]!;
    let flags = getFlags(u);
    if (reason === TS_IRET) flags &= ~NT;
    if (o32) {
      if (!this.wr((ob + 0x20) >>> 0, 0, 4, u[S_RIP]!, 0, -1) || !this.wr((ob + 0x24) >>> 0, 0, 4, flags, 0, -1)) return this.failSt();
      for (let k = 0; k < 8; k++) if (!this.wr((ob + 0x28 + k * 4) >>> 0, 0, 4, u[k * 2]!, 0, -1)) return this.failSt();
      for (let k = 0; k < 6; k++) if (!this.wr((ob + 0x48 + k * 4) >>> 0, 0, 2, u[S_SEG + k * SEG_STRIDE + SEG_SEL]!, 0, -1)) return this.failSt();
    } else {
      if (!this.wr((ob + 0x0e) >>> 0, 0, 2, u[S_RIP]!, 0, -1) || !this.wr((ob + 0x10) >>> 0, 0, 2, flags, 0, -1)) return this.failSt();
      for (let k = 0; k < 8; k++) if (!this.wr((ob + 0x12 + k * 2) >>> 0, 0, 2, u[k * 2]!, 0, -1)) return this.failSt();
      for (let k = 0; k < 4; k++) if (!this.wr((ob + 0x22 + k * 2) >>> 0, 0, 2, u[S_SEG + k * SEG_STRIDE + SEG_SEL]!, 0, -1)) return this.failSt();
    }
    if (reason === TS_JMP || reason === TS_IRET) {
      r = this.setDescType(oldSel, 0, 0x02);
      if (r !== ST_OK) return r;
    }
    let nflags = v[2]!;
    if (reason === TS_CALL || reason === TS_INT) {
      if (!this.wr(nb, 0, 2, oldSel, 0, -1)) return this.failSt();
      nflags |= NT;
    }
    if (reason !== TS_IRET) {
      r = this.setDescType(sel, 0x02, 0);
      if (r !== ST_OK) return r;
    }
    // TR, CR0.TS, CR3
    this.dLo = nLo;
    this.dHi = nHi | 0x200;
    this.loadCache(TR, sel);
    u[S_CR0] = (u[S_CR0]! | CR0_TS) >>> 0;
    if (t32 && (u[S_CR0]! & CR0_PG) !== 0 && v[0] !== u[S_CR3]) {
      u[S_CR3] = v[0]!;
      u[S_CR3 + 1] = 0;
      if ((u[S_CR4]! & CR4_PAE) !== 0) {
        r = this.loadPdptes(u[S_CR0]!, u[S_CR4]!);
        if (r !== ST_OK) return r;
      }
      this.host.flushTlb();
    }
    this.refresh();
    // registers
    u[S_RIP] = v[1]!;
    u[S_RIP + 1] = 0;
    setFlags(u, ((t32 ? nflags : (nflags & 0xffff) | (flags & 0xffff0000 & ~(VM | RF))) | 2) >>> 0);
    for (let k = 0; k < 8; k++) { u[k * 2] = t32 ? v[3 + k]! : (u[k * 2]! & 0xffff0000) | (v[3 + k]! & 0xffff); u[k * 2 + 1] = 0; }
    // selectors first (so a fault below leaves the new task's selectors visible), then descriptors
    for (let k = 0; k < 6; k++) u[S_SEG + k * SEG_STRIDE + SEG_SEL] = v[11 + k]!;
    u[S_SEG + LDTR * SEG_STRIDE + SEG_SEL] = v[17]!;
    this.host.updateMode();
    if ((nflags & VM) !== 0 && t32) {
      for (let k = 0; k < 6; k++) this.loadReal(k, v[11 + k]!);
      this.host.updateMode();
    } else {
      r = this.taskLoadSegments(v[17]!, v[11 + CS]!);
      this.host.updateMode();
      if (r !== ST_OK) return r;
    }
    if (hasErr) {
      const f = this.frame;
      f[0] = err >>> 0; f[1] = 0;
      r = this.pushCurrent(t32 ? 4 : 2, 1);
      if (r !== ST_OK) return r;
    }
    if (u[S_RIP]! > u[S_SEG + CS * SEG_STRIDE + SEG_LIMIT]!) return this.gp(ext);
    return ST_OK;
  }

  /** LDTR, CS, SS, DS, ES, FS, GS of the new task with the checks of SDM Table 8-? (#TS with the selector). */
  private taskLoadSegments(ldt: number, cs: number): number {
    const u = this.u;
    let r: number;
    // LDTR
    if ((ldt & 0xfffc) === 0) {
      u[S_SEG + LDTR * SEG_STRIDE + SEG_ATTR] = ATTR_UNUSABLE;
    } else {
      if ((ldt & 4) !== 0) return this.fault(V_TS, true, ldt & 0xfffc);
      r = this.readDesc(ldt, V_TS, 0);
      if (r !== ST_OK) return r;
      const a = System.attrOf(this.dHi);
      if ((a & 0x1f) !== 0x2) return this.fault(V_TS, true, ldt & 0xfffc);
      if ((a & ATTR_P) === 0) return this.fault(V_TS, true, ldt & 0xfffc);
      this.loadCache(LDTR, ldt);
    }
    // CS
    if ((cs & 0xfffc) === 0) return this.fault(V_TS, true, 0);
    r = this.readDesc(cs, V_TS, 0);
    if (r !== ST_OK) return r;
    let a = System.attrOf(this.dHi);
    const rpl = cs & 3;
    const dpl = (a >>> 5) & 3;
    if ((a & 0x18) !== 0x18 || ((a & 4) !== 0 ? dpl > rpl : dpl !== rpl)) return this.fault(V_TS, true, cs & 0xfffc);
    if ((a & ATTR_P) === 0) return this.fault(V_NP, true, cs & 0xfffc);
    r = this.setAccessed();
    if (r !== ST_OK) return r;
    this.loadCache(CS, cs);
    const cpl = rpl;
    // SS
    const ss = u[S_SEG + SS * SEG_STRIDE + SEG_SEL]!;
    if ((ss & 0xfffc) === 0) return this.fault(V_TS, true, 0);
    r = this.readDesc(ss, V_TS, 0);
    if (r !== ST_OK) return r;
    a = System.attrOf(this.dHi);
    if ((ss & 3) !== cpl || ((a >>> 5) & 3) !== cpl || (a & 0x1a) !== 0x12) return this.fault(V_TS, true, ss & 0xfffc);
    if ((a & ATTR_P) === 0) return this.fault(V_SS, true, ss & 0xfffc);
    r = this.setAccessed();
    if (r !== ST_OK) return r;
    this.loadCache(SS, ss);
    for (let k = 0; k < 4; k++) {
      const s = DATA_SEGS[k]!;
      const sel = u[S_SEG + s * SEG_STRIDE + SEG_SEL]!;
      if ((sel & 0xfffc) === 0) { this.loadNull(s, sel); continue; }
      r = this.readDesc(sel, V_TS, 0);
      if (r !== ST_OK) return r;
      a = System.attrOf(this.dHi);
      const d = (a >>> 5) & 3;
      if ((a & ATTR_S) === 0 || (a & 0xa) === 0x8) return this.fault(V_TS, true, sel & 0xfffc);
      if ((a & 0xc) !== 0xc && (d < cpl || d < (sel & 3))) return this.fault(V_TS, true, sel & 0xfffc);
      if ((a & ATTR_P) === 0) return this.fault(V_NP, true, sel & 0xfffc);
      r = this.setAccessed();
      if (r !== ST_OK) return r;
      this.loadCache(s, sel);
    }
    return ST_OK;
  }
}

/** Task-switch reasons (SDM §8.3 Table 8-2). */
export const TS_JMP = 0, TS_CALL = 1, TS_IRET = 2, TS_INT = 3;
