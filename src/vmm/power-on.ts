/**
 * The architectural power-on / RESET state of an x86-64 processor (SDM Vol. 3A §9.1.1, Table 9-1),
 * as state records. Table 9-1 gives the same values for RESET and INIT for everything these
 * records hold; INIT leaves x87/SSE state, MTRRs and machine-check state alone (§9.1), which
 * live outside these records.
 */
import type { DebugRegisters, Registers, Segment, SpecialRegisters } from './records.js';
import { segment } from './records.js';

/** EDX after reset: family/model/stepping signature (CPUID.1:EAX of the modelled CPU, family 6). */
export const RESET_EDX = 0x0000_0600n;

/** General registers after RESET: all zero except RIP=0xFFF0, RFLAGS=0x2 and EDX=signature. */
export function powerOnRegisters(): Registers {
  return {
    rax: 0n, rbx: 0n, rcx: 0n, rdx: RESET_EDX, rsi: 0n, rdi: 0n, rsp: 0n, rbp: 0n,
    r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n,
    rip: 0xfff0n, rflags: 0x2n,
  };
}

/** A real-mode data segment: base = selector << 4, limit 0xFFFF, read/write accessed, present. */
export function realModeSegment(selector: number, type = 0x3): Segment {
  return segment({ selector, base: BigInt((selector & 0xffff) << 4), limit: 0xffff, type });
}

/** Segments, tables and control registers after RESET (Table 9-1). */
export function powerOnSpecialRegisters(): SpecialRegisters {
  const data = (): Segment => realModeSegment(0);
  return {
    // CS: selector F000H, base FFFF0000H, limit FFFFH, present, execute/read accessed.
    cs: segment({ selector: 0xf000, base: 0xffff_0000n, limit: 0xffff, type: 0xb }),
    ds: data(), es: data(), fs: data(), gs: data(), ss: data(),
    // LDTR: selector 0, base 0, limit FFFFH, present, read/write (type 2 = LDT).
    ldt: segment({ selector: 0, limit: 0xffff, type: 0x2, s: false }),
    // TR: selector 0, base 0, limit FFFFH, present, read/write (type 3 = busy 16-bit TSS).
    tr: segment({ selector: 0, limit: 0xffff, type: 0x3, s: false }),
    gdt: { base: 0n, limit: 0xffff },
    idt: { base: 0n, limit: 0xffff },
    // CR0 = 60000010H: CD, NW and ET set.
    cr0: 0x6000_0010n, cr2: 0n, cr3: 0n, cr4: 0n, cr8: 0n,
    efer: 0n,
    // IA32_APIC_BASE: FEE00000H | enable (bit 11) | BSP (bit 8) for the BSP (SDM Vol. 3A §11.4.4).
    apicBase: 0xfee0_0900n,
  };
}

/** DR0-DR3 = 0, DR6 = FFFF0FF0H, DR7 = 00000400H (Table 9-1). */
export function powerOnDebugRegisters(): DebugRegisters {
  return { dr0: 0n, dr1: 0n, dr2: 0n, dr3: 0n, dr6: 0xffff_0ff0n, dr7: 0x400n };
}
