/**
 * VM-entry event injection: delivering one event through the guest's IVT/IDT, as VMX does when it
 * injects the VM-entry interruption information (SDM Vol. 3C §27.6 "Event Injection" says the
 * processor delivers it "as if it had been generated normally"). The integer core has no event
 * delivery of its own yet (issue 5), so the monitor's injection path uses this one.
 *
 * Covered (SDM Vol. 3A §6.12 "Exception and Interrupt Handling", §6.14 for IA-32e, §20.1.4 for
 * real mode):
 *   real mode      IVT at IDTR.base, push FLAGS, CS, IP; clear IF, TF, AC
 *   protected mode 32- and 16-bit interrupt/trap gates at the same privilege (CPL 0 -> DPL 0 code)
 *   IA-32e mode    64-bit gates, IST stacks from the TSS, RSP aligned to 16, push SS, RSP, RFLAGS,
 *                  CS, RIP and the error code; interrupt gates clear IF
 * Faults during delivery are returned as the vector of the new exception (the monitor combines
 * them, events.ts): an IDT limit overrun is #GP(vector*8|2 [+EXT]) (16 for IA-32e), a gate that is
 * not present #NP(same code), a bad gate type #GP, a software interrupt through a gate with DPL < CPL
 * #GP. A stack write to a guest-physical address without RAM stops delivery with an EPT-violation
 * exit (the monitor records the event as exit-intinfo and redelivers it).
 *
 * Not covered (returned as "cannot deliver"): privilege changes (delivery from CPL > 0), task gates,
 * virtual-8086 mode.
 */
import {
  S_GPR, S_RIP, S_SEG, SEG_STRIDE, SEG_SEL, SEG_BASE, SEG_BASE_HI, SEG_LIMIT, SEG_ATTR,
  S_CR0, S_EFER, S_GDTR, S_IDTR, CS, SS, TR, IF, TF, NT, RF, VM, AC, CR0_PE, EFER_LMA, ATTR_L, ATTR_DB, ATTR_P,
  ATTR_G, ATTR_S, ATTR_DPL_SHIFT,
} from '../cpu/state.js';
import { getFlags, setFlags } from '../cpu/flags.js';
import { DELIVERED, NO_DELIVERY, EV_INTERRUPT, EV_NMI, EV_SOFTWARE } from './core.js';

/** deliverEvent result: a stack or table access hit a GPA without RAM (exit filled by the caller). */
export const DELIVERY_EPT_EXIT = 257;

/** Guest-linear memory for delivery; returns false when the address has no RAM behind it. */
export interface DeliveryMemory {
  read(linear: number, size: number): number;
  write(linear: number, size: number, value: number): boolean;
  /** The linear address of the last failed access. */
  failedAt: number;
  /** true if the last read failed. */
  readFailed: boolean;
}

/** #GP, #NP, and #SS (a non-canonical stack in IA-32e mode, SDM §6.14.5). */
const GP = 13, NP = 11, SSV = 12;

export class EventDelivery {
  /** Error code of the nested exception returned by deliver(). */
  nestedErrorCode = 0;
  private readonly frame = new Uint32Array(12);

  constructor(private readonly mem: DeliveryMemory) {}

  deliver(u: Uint32Array, kind: number, vector: number, hasErr: boolean, err: number): number {
    const ext = kind === EV_INTERRUPT || kind === EV_NMI ? 1 : 0;
    if ((u[S_CR0]! & CR0_PE) === 0) return this.real(u, vector);
    if ((getFlags(u) & VM) !== 0) return NO_DELIVERY;
    const long = (u[S_EFER]! & EFER_LMA) !== 0;
    const cpl = u[S_SEG + CS * SEG_STRIDE + SEG_SEL]! & 3;
    const entry = long ? 16 : 8;
    const idtBase = u[S_IDTR]! + u[S_IDTR + 1]! * 2 ** 32;
    const idtLimit = u[S_IDTR + 2]!;
    const code = vector * 8 + 2 + ext; // IDT bit (1) set, EXT per source (SDM §6.13)
    if (vector * entry + entry - 1 > idtLimit) return this.fault(GP, code);
    const g = idtBase + vector * entry;
    const lo = this.mem.read(g, 4);
    const hi = this.mem.read(g + 4, 4);
    if (this.mem.readFailed) return DELIVERY_EPT_EXIT;
    const type = (hi >>> 8) & 0x1f; // S bit (4) and type (3:0)
    const dpl = (hi >>> 13) & 3;
    const present = (hi >>> 15) & 1;
    let gate32 = true;
    let trapGate = false;
    if (long) {
      if (type !== 0xe && type !== 0xf) return this.fault(GP, code);
      trapGate = type === 0xf;
    } else {
      switch (type) {
        case 0x6: gate32 = false; break;
        case 0x7: gate32 = false; trapGate = true; break;
        case 0xe: break;
        case 0xf: trapGate = true; break;
        case 0x5: return NO_DELIVERY; // task gate
        default: return this.fault(GP, code);
      }
    }
    if (kind === EV_SOFTWARE && dpl < cpl) return this.fault(GP, code);
    if (!present) return this.fault(NP, code);
    const sel = lo >>> 16;
    let offLo = (lo & 0xffff) | (hi & 0xffff_0000);
    let offHi = 0;
    if (long) {
      offHi = this.mem.read(g + 8, 4);
      if (this.mem.readFailed) return DELIVERY_EPT_EXIT;
    } else if (!gate32) offLo &= 0xffff;
    offLo >>>= 0;
    // Target code segment (same privilege only).
    if ((sel & 0xfffc) === 0) return this.fault(GP, ext);
    const gdtBase = u[S_GDTR]! + u[S_GDTR + 1]! * 2 ** 32;
    if ((sel & 4) !== 0 || (sel | 7) > u[S_GDTR + 2]!) return this.fault(GP, (sel & 0xfffc) + ext);
    const dlo = this.mem.read(gdtBase + (sel & 0xfff8), 4);
    const dhi = this.mem.read(gdtBase + (sel & 0xfff8) + 4, 4);
    if (this.mem.readFailed) return DELIVERY_EPT_EXIT;
    if (((dhi >>> 11) & 3) !== 3) return this.fault(GP, (sel & 0xfffc) + ext); // S=1 and code
    const cdpl = (dhi >>> 13) & 3;
    if (cdpl > cpl) return this.fault(GP, (sel & 0xfffc) + ext);
    if (((dhi >>> 15) & 1) === 0) return this.fault(NP, (sel & 0xfffc) + ext);
    if (cdpl < cpl) return NO_DELIVERY; // privilege change: needs the TSS stack switch
    const flags = getFlags(u);
    // Build the frame on the stack; 64-bit values as lo/hi pairs (addresses may exceed 2^53).
    let spLo: number;
    let spHi = 0;
    if (long) {
      spLo = u[S_GPR + 8]!;
      spHi = u[S_GPR + 9]!;
      const ist = hi & 7; // IST index, bits 2:0 of the gate's second dword (SDM Figure 6-8)
      if (ist !== 0) {
        const trLo = u[S_SEG + TR * SEG_STRIDE + SEG_BASE]! + 0x24 + (ist - 1) * 8;
        spLo = this.mem.read(trLo, 4);
        spHi = this.mem.read(trLo + 4, 4);
        if (this.mem.readFailed) return DELIVERY_EPT_EXIT;
      }
      spLo = (spLo & ~0xf) >>> 0; // aligned to 16 bytes (SDM §6.14.2)
      const f = this.frame;
      f[0] = u[S_SEG + SS * SEG_STRIDE + SEG_SEL]!; f[1] = 0;
      f[2] = u[S_GPR + 8]!; f[3] = u[S_GPR + 9]!;
      f[4] = flags; f[5] = 0;
      f[6] = u[S_SEG + CS * SEG_STRIDE + SEG_SEL]!; f[7] = 0;
      f[8] = u[S_RIP]!; f[9] = u[S_RIP + 1]!;
      f[10] = err >>> 0; f[11] = 0;
      const n = hasErr ? 6 : 5;
      for (let k = 0; k < n; k++) {
        const borrow = spLo < 8 ? 1 : 0;
        spLo = (spLo - 8) >>> 0;
        spHi = (spHi - borrow) >>> 0;
        if (spHi !== 0 && spHi !== 0xffff_ffff && spHi < 0xffff_8000 && spHi > 0x7fff) return this.fault(SSV, 0);
        if (!this.mem.write(spLo, 4, f[2 * k]!) || !this.mem.write(spLo + 4, 4, f[2 * k + 1]!)) return DELIVERY_EPT_EXIT;
      }
      u[S_GPR + 8] = spLo;
      u[S_GPR + 9] = spHi;
    } else {
      const w = gate32 ? 4 : 2;
      const ssAttr = u[S_SEG + SS * SEG_STRIDE + SEG_ATTR]!;
      const ssBase = u[S_SEG + SS * SEG_STRIDE + SEG_BASE]!;
      const big = (ssAttr & ATTR_DB) !== 0;
      let sp = big ? u[S_GPR + 8]! : u[S_GPR + 8]! & 0xffff;
      const f = this.frame;
      f[0] = flags; f[1] = u[S_SEG + CS * SEG_STRIDE + SEG_SEL]!; f[2] = u[S_RIP]!; f[3] = err >>> 0;
      const n = hasErr ? 4 : 3;
      for (let k = 0; k < n; k++) {
        sp = big ? (sp - w) >>> 0 : (sp - w) & 0xffff;
        if (!this.mem.write((ssBase + sp) >>> 0, w, w === 2 ? f[k]! & 0xffff : f[k]!)) return DELIVERY_EPT_EXIT;
      }
      u[S_GPR + 8] = big ? sp : (u[S_GPR + 8]! & 0xffff_0000) | sp;
    }
    // Commit CS (hidden part from the descriptor), RIP, RFLAGS.
    const cs = S_SEG + CS * SEG_STRIDE;
    const g1 = (dhi >>> 23) & 1;
    const rawLimit = (dlo & 0xffff) | (dhi & 0xf_0000);
    u[cs + SEG_SEL] = (sel & 0xfffc) | cpl;
    u[cs + SEG_BASE] = long ? 0 : ((dlo >>> 16) | ((dhi & 0xff) << 16) | (dhi & 0xff00_0000)) >>> 0;
    u[cs + SEG_BASE_HI] = 0;
    u[cs + SEG_LIMIT] = g1 ? ((rawLimit << 12) | 0xfff) >>> 0 : rawLimit;
    u[cs + SEG_ATTR] =
      ((dhi >>> 8) & 0xf) | ATTR_S | (cdpl << ATTR_DPL_SHIFT) | ATTR_P |
      ((dhi >>> 21) & 1 ? ATTR_L : 0) | ((dhi >>> 22) & 1 ? ATTR_DB : 0) | (g1 ? ATTR_G : 0);
    u[S_RIP] = offLo;
    u[S_RIP + 1] = long ? offHi : 0;
    let nf = flags & ~(TF | NT | RF | VM);
    if (!trapGate) nf &= ~IF;
    setFlags(u, nf >>> 0);
    return DELIVERED;
  }

  /** Real-address mode (SDM Vol. 3A §20.1.4): the IVT holds 4-byte CS:IP vectors. */
  private real(u: Uint32Array, vector: number): number {
    const idtBase = u[S_IDTR]!;
    if (vector * 4 + 3 > u[S_IDTR + 2]!) return this.fault(GP, 0);
    const ip = this.mem.read(idtBase + vector * 4, 2);
    const seg = this.mem.read(idtBase + vector * 4 + 2, 2);
    if (this.mem.readFailed) return DELIVERY_EPT_EXIT;
    const flags = getFlags(u);
    const ssBase = u[S_SEG + SS * SEG_STRIDE + SEG_BASE]!;
    let sp = u[S_GPR + 8]! & 0xffff;
    for (const v of [flags & 0xffff, u[S_SEG + CS * SEG_STRIDE + SEG_SEL]!, u[S_RIP]! & 0xffff]) {
      sp = (sp - 2) & 0xffff;
      if (!this.write((ssBase + sp) >>> 0, 2, v)) return DELIVERY_EPT_EXIT;
    }
    u[S_GPR + 8] = (u[S_GPR + 8]! & 0xffff_0000) | sp;
    const cs = S_SEG + CS * SEG_STRIDE;
    u[cs + SEG_SEL] = seg;
    u[cs + SEG_BASE] = seg << 4;
    u[cs + SEG_BASE_HI] = 0;
    u[S_RIP] = ip;
    u[S_RIP + 1] = 0;
    setFlags(u, (flags & ~(IF | TF | AC)) >>> 0);
    return DELIVERED;
  }

  private write(linear: number, size: number, value: number): boolean {
    return this.mem.write(linear, size, value >>> 0);
  }

  private fault(vector: number, code: number): number {
    this.nestedErrorCode = code;
    return vector;
  }
}
