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
export { IoBus, MmioBus, byteRegisters } from './devices/bus.js';
export type { BusDevice, BusRange } from './devices/bus.js';
export type { Snapshottable } from './devices/snapshot.js';
export { Pic8259, PIC_MASTER_PORT, PIC_SLAVE_PORT, PIC_ELCR_PORT } from './devices/pic8259.js';
export type { Pic8259State, Pic8259ChipState } from './devices/pic8259.js';
export * from './arch/ept.js';
export * from './arch/paging.js';
export { HostMemory, MemorySegment, PAGE_SIZE, PAGE_SHIFT, PAGE_MASK } from './memory/host.js';
export type { HostMemoryOptions, SegmentOptions, SegmentKind } from './memory/host.js';
export {
  Ept,
  EptTranslation,
  TRANSLATE_OK,
  TRANSLATE_EPT_VIOLATION,
  TRANSLATE_EPT_MISCONFIG,
  TRANSLATE_PAGE_FAULT,
  EPT_ACCESS_TABLE,
  EPT_ACCESS_LINEAR,
  EPT_ACCESS_PROBE,
  PERM_R,
  PERM_W,
  PERM_X,
} from './memory/ept.js';
export type { AdMode, NestedFormat, EptOptions, EptWalk, LeafAttributes, PageTableFormat } from './memory/ept.js';
export { GuestMemory, PageHold, parseProtection, mapPcMemory } from './memory/guest-memory.js';
export type { GuestMemoryOptions, GuestMapping, MapOptions, Protection } from './memory/guest-memory.js';
export { ticksAt, nsAtTick, mulDivFloor, mulDivCeil } from './time/ticks.js';
export {
  GuestPaging,
  GuestTranslation,
  PagingContext,
  pagingAccessFault,
  TRANSLATE_PDPTE_RESERVED,
  PAGING_USER,
  PAGING_IMPLICIT_SUPERVISOR,
  PAGING_AC,
  PAGING_PROBE,
  PTE_FLAG_WRITABLE,
  PTE_FLAG_USER,
  PTE_FLAG_EXEC,
  PTE_FLAG_GLOBAL,
  PTE_FLAG_DIRTY,
  PTE_FLAG_PK_SHIFT,
} from './memory/guest-paging.js';
export type { GuestPagingOptions } from './memory/guest-paging.js';
export { Pit8254, PIT_HZ, PIT_BASE_PORT, PORT_B } from './devices/pit8254.js';
export type { Pit8254State, Pit8254CounterState } from './devices/pit8254.js';
export {
  decode, decodeInto, format, regName, Insn, DecodeStatus, Encoding, Rep, Pp, OpKind, RegClass, Reg, Seg, Mnemonic,
  mnemonicName, regClass, regIndex,
} from './cpu/decoder/index.js';
export { Uart16550, COM1_PORT, COM1_IRQ, COM2_PORT, COM2_IRQ } from './devices/uart16550.js';
export type { Uart16550Options, Uart16550State, UartLineError } from './devices/uart16550.js';
export {
  LocalApic, ApicReg, Lvt, Esr, Shorthand, TimerMode, APIC_VERSION, APIC_DEFAULT_BASE, APIC_BASE_BSP, APIC_BASE_EXTD,
  APIC_BASE_ENABLE, MSR_OK, MSR_GP, MSR_IA32_APIC_BASE, MSR_IA32_TSC_DEADLINE, MSR_X2APIC_FIRST, MSR_X2APIC_LAST,
} from './devices/lapic.js';
export type { ApicBus, LocalApicOptions, LocalApicState } from './devices/lapic.js';
export { IoApic, IoApicReg, IoApicIndex, IOAPIC_DEFAULT_BASE, IOAPIC_PINS, IOAPIC_VERSION } from './devices/ioapic.js';
export type { IoApicState } from './devices/ioapic.js';
export { DeliveryMode, MSI_ADDRESS_BASE, isMsiAddress, decodeMsi, msiAddress, msiData, deliverMsi } from './devices/msi.js';
export type { InterruptMessageSink, MsiSender, MsiMessage } from './devices/msi.js';
export {
  Hpet, HpetReg, HpetTimerCnf, HPET_DEFAULT_BASE, HPET_MMIO_SIZE, HPET_TIMERS, HPET_VENDOR_ID, HPET_ENABLE_CNF, HPET_LEG_RT_CNF,
} from './devices/hpet.js';
export type { HpetOptions, HpetState, HpetWiring } from './devices/hpet.js';
export { IrqChip, isaIrqToPin } from './devices/irqchip.js';
export type { IrqChipOptions, IrqChipState } from './devices/irqchip.js';
export { DebugConsole, DEBUGCON_PORT } from './devices/debugcon.js';
export type { DebugConsoleOptions } from './devices/debugcon.js';
export { DebugExit, DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE } from './devices/debug-exit.js';
export type { DebugExitState } from './devices/debug-exit.js';
export { Vcpu, type RunOptions } from './cpu/vcpu.js';
export { CpuState } from './cpu/state.js';
export { System, EV_EXCEPTION, EV_SOFT_INT, EV_SOFT_EXC, EV_ICEBP, EV_EXTERNAL, EV_NMI } from './cpu/system/system.js';
export { LinearMemory } from './cpu/system/linear.js';
export {
  ExitRecord, EXIT_REASONS, type VcpuExit, type ExitReason, type IoExit, type MmioExit, type EptViolationExit,
  type MsrExit, type CpuidExit, type ExceptionExit, type InvalidStateExit, type SimpleExit,
} from './cpu/exit.js';
export { FlatPhysical, PhysResult, ACC_READ, ACC_WRITE, ACC_FETCH, type PhysicalSpace } from './cpu/phys.js';
export { cpuidModel, CpuidResult } from './cpu/cpuid.js';
export { getFlags, setFlags } from './cpu/flags.js';
export { Machine } from './vmm/machine.js';
export type {
  MachineOptions, MachineStop, MachineState, RunOptions as MachineRunOptions, SuspendDisposition, AccessHandler, AddressRange,
} from './vmm/machine.js';
export { MachineVcpu, entryCheck, type VcpuRunState, type Intercepts, type VcpuRunOptions } from './vmm/vcpu.js';
export type { Registers, Segment, DescriptorTable, SpecialRegisters, DebugRegisters, GprName, FpuState, X87Register } from './vmm/records.js';
export { GPR_NAMES, segment } from './vmm/records.js';
export { powerOnRegisters, powerOnSpecialRegisters, powerOnDebugRegisters } from './vmm/power-on.js';
export {
  EventQueue, VEC, exceptionClass, exceptionHasErrorCode, nestedDisposition, type VcpuEvent, type EventKind,
  type ExceptionClass, type NestedDisposition,
} from './vmm/events.js';
export { CpuidConfig, type CpuidLeafConfig } from './vmm/cpuid-config.js';
export { MsrModel, MSR, type MsrHandler } from './vmm/msr.js';
export { ExitStats, type StatsSnapshot } from './vmm/stats.js';
export { MemoryAssist, ASSIST_OK, ASSIST_UNSUPPORTED, ASSIST_FAULT, type AssistMemory } from './vmm/assist.js';
export type { CpuCore, PlatformLinks } from './vmm/core.js';
export { InterpreterCore, EptPhysicalSpace, interpreterCore } from './vmm/cpu-core.js';
export { planFlat, type FlatOptions } from './boot/flat.js';
export { planElf, parseElf, type ElfImage, type ElfSegment, type ElfOptions } from './boot/elf.js';
export {
  planMultiboot, findMultibootHeader, MULTIBOOT_BOOTLOADER_MAGIC, MULTIBOOT_HEADER_MAGIC, type MultibootHeader,
  type MultibootModule, type MultibootOptions,
} from './boot/multiboot.js';
export { planImage, detectFormat, type ImageFormat, type LoadImageOptions } from './boot/image.js';
export { applyPlan } from './boot/apply.js';
export { e820Map, E820, type E820Entry } from './boot/e820.js';
export type { BootPlan, BootMode, PlanWrite } from './boot/plan.js';
export { parseBootMode, BOOT_GDT, BOOT_PAGING, BOOT_STACK_TOP, SEL } from './boot/plan.js';
