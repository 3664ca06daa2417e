/**
 * Guest-linear memory for the system unit (SDM Vol. 3A ch. 4): the vCPU's guest-paging walk and the
 * accesses the processor makes on its own (descriptor tables, the TSS, the stacks of event delivery
 * and far transfers), which bypass the soft TLB.
 *
 * The walk is the memory room's GuestPaging (src/memory/guest-paging.ts: every mode, exact #PF error
 * codes, A/D updates). It walks an `Ept`; the vCPU only has the PhysicalSpace contract (cpu/phys.ts),
 * so `PhysEpt` presents a PhysicalSpace as the small part of the Ept interface GuestPaging uses
 * (translate, host, format). The walk marks its accesses (EPT_ACCESS_TABLE for a paging-structure
 * entry, EPT_ACCESS_LINEAR for the final translation), and PhysEpt turns them into the exit
 * qualification's bits 7 and 8 (SDM Vol. 3C Table 28-7), as the memory room's Ept does.
 */
import { EptTranslation, EPT_ACCESS_LINEAR, EPT_ACCESS_TABLE, TRANSLATE_EPT_MISCONFIG, TRANSLATE_EPT_VIOLATION, TRANSLATE_OK, type Ept } from '../../memory/ept.js';
import { EPTQ_FINAL_TRANSLATION, EPTQ_LINEAR_VALID } from '../../arch/ept.js';
import { GuestPaging, GuestTranslation, PagingContext, PAGING_AC, PAGING_IMPLICIT_SUPERVISOR, PAGING_USER } from '../../memory/guest-paging.js';
import { TRANSLATE_PAGE_FAULT } from '../../memory/ept.js';
import type { HostMemory } from '../../memory/host.js';
import { PhysResult, type PhysicalSpace } from '../phys.js';

/** Physical-address width of the CPU model (CPUID 80000008H:EAX[7:0], cpuid.ts). */
export const PHYS_ADDR_BITS = 40;

/** The subset of `Ept` GuestPaging uses, over a PhysicalSpace. */
class PhysEpt {
  readonly format = { name: 'ept' };
  private readonly pr = new PhysResult();
  constructor(private readonly phys: PhysicalSpace) {}

  get host(): HostMemory {
    return this.phys.host;
  }

  translate(gpa: number, access: number, out: EptTranslation): number {
    const kind = access & 7;
    const lo = gpa >>> 0;
    const hi = Math.floor(gpa / 4294967296);
    const pr = this.pr;
    out.gpa = gpa;
    out.emulatedAD = 0;
    out.entryCount = 0;
    if (!this.phys.translate(lo, hi, kind, pr) || (pr.perm & kind) !== kind) {
      // bit 7: the linear address is valid; bit 8: set for the final translation, clear for a
      // paging-structure entry (SDM Vol. 3C Table 28-7)
      const q = (access & EPT_ACCESS_TABLE) !== 0 ? EPTQ_LINEAR_VALID
        : (access & EPT_ACCESS_LINEAR) !== 0 ? EPTQ_LINEAR_VALID | EPTQ_FINAL_TRANSLATION : 0;
      out.qualification = (kind & 7) | (pr.entryPerm << 3) | q;
      out.status = pr.misconfig ? TRANSLATE_EPT_MISCONFIG : TRANSLATE_EPT_VIOLATION;
      return out.status;
    }
    const host = this.phys.host;
    const hpa = pr.hpa + (lo & 0xfff);
    const chunk = Math.floor(hpa / host.chunkSize);
    host.ensureChunk(chunk);
    out.hpa = hpa;
    out.chunk = chunk;
    out.offset = hpa - chunk * host.chunkSize;
    out.perms = pr.perm;
    out.memoryType = 6;
    out.ignorePat = 1;
    out.level = 1;
    out.pageShift = 12;
    out.status = TRANSLATE_OK;
    return TRANSLATE_OK;
  }

  resolveEmulatedAD(): boolean {
    return false;
  }
}

/** Result codes of LinearMemory.translate. */
export const LIN_OK = 0;
export const LIN_PAGE_FAULT = 1;
export const LIN_EPT = 2;

/** Access flags for LinearMemory (low 3 bits: ACC_READ/WRITE/FETCH of cpu/phys.ts). */
export const LA_USER = PAGING_USER;
export const LA_SUPERVISOR_IMPLICIT = PAGING_IMPLICIT_SUPERVISOR;
export const LA_AC = PAGING_AC;

export class LinearMemory {
  readonly paging: GuestPaging;
  readonly ctx = new PagingContext();
  readonly gt = new GuestTranslation();
  /** True when CR0.PG = 1 (the walk is needed). */
  pagingOn = false;
  /** On LIN_PAGE_FAULT: the error code (CR2 = the address given). On LIN_EPT: gpa, qualification. */
  pfError = 0;
  eptGpa = 0;
  eptQual = 0;
  eptMisconfig = false;
  /** Host page address and offset of the last successful translate. */
  hostChunk = 0;
  hostOffset = 0;
  private readonly pr = new PhysResult();

  constructor(private readonly phys: PhysicalSpace) {
    this.paging = new GuestPaging(new PhysEpt(phys) as unknown as Ept, { physAddrBits: PHYS_ADDR_BITS });
  }

  /**
   * Translates the linear address for `access` (ACC_* | LA_* flags) into hostChunk/hostOffset.
   * Without paging the linear address is the guest-physical one.
   */
  translate(lo: number, hi: number, access: number): number {
    if (this.pagingOn) {
      const st = this.paging.translate(lo, hi, access, this.ctx, this.gt);
      if (st === TRANSLATE_OK) {
        this.hostChunk = this.gt.chunk;
        this.hostOffset = this.gt.offset;
        return LIN_OK;
      }
      if (st === TRANSLATE_PAGE_FAULT) {
        this.pfError = this.gt.errorCode;
        return LIN_PAGE_FAULT;
      }
      this.eptGpa = this.gt.ept.gpa;
      this.eptQual = this.gt.ept.qualification;
      this.eptMisconfig = st === TRANSLATE_EPT_MISCONFIG;
      return LIN_EPT;
    }
    const kind = access & 7;
    const pr = this.pr;
    if (!this.phys.translate(lo, hi, kind, pr) || (pr.perm & kind) !== kind) {
      this.eptGpa = hi * 4294967296 + lo;
      // paging off: the GPA is the linear address itself (Table 28-7 bits 7 and 8 set)
      this.eptQual = kind | (pr.entryPerm << 3) | EPTQ_LINEAR_VALID | EPTQ_FINAL_TRANSLATION;
      this.eptMisconfig = pr.misconfig;
      return LIN_EPT;
    }
    const host = this.phys.host;
    const hpa = pr.hpa + (lo & 0xfff);
    const chunk = Math.floor(hpa / host.chunkSize);
    host.ensureChunk(chunk);
    this.hostChunk = chunk;
    this.hostOffset = hpa - chunk * host.chunkSize;
    return LIN_OK;
  }
}
