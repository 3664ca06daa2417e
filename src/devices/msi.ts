/**
 * Interrupt messages: the delivery-mode vocabulary shared by the LAPIC ICR, the IOAPIC redirection
 * entries and MSI, and the MSI address/data format.
 * Spec: Intel SDM Vol. 3A 10.11 "Message Signalled Interrupts" (Figure 10-24 address, Figure 10-25
 * data; chapter 11 in editions since 2022), 10.6.1 (ICR delivery modes).
 *
 * An MSI is a DWORD write to 0xFEExxxxx: address bits 19:12 destination ID, bit 3 redirection hint
 * (RH), bit 2 destination mode (DM, 1 = logical); data bits 7:0 vector, 10:8 delivery mode, 14 level
 * (assert), 15 trigger mode (1 = level). The address high dword must be 0 (no interrupt remapping).
 *
 * Deviation from the SDM text, on purpose: the SDM says that with RH = 0 "the DM bit is ignored";
 * we honour DM whatever RH says, as QEMU and KVM do, because Linux in flat logical mode sends
 * logical MSIs with RH = 0. RH = 1 turns the message into lowest-priority delivery among the
 * destinations (only one processor receives it), as the SDM describes.
 */

/** Delivery modes (ICR bits 10:8, redirection entry bits 10:8, MSI data bits 10:8). */
export const DeliveryMode = {
  FIXED: 0,
  LOWEST_PRIORITY: 1,
  SMI: 2,
  NMI: 4,
  INIT: 5,
  STARTUP: 6,
  EXTINT: 7,
} as const;

/** The interrupt-message region: MSI writes land in 0xFEE00000-0xFEEFFFFF. */
export const MSI_ADDRESS_BASE = 0xfee0_0000;

/**
 * Where interrupt messages go: the interrupt-controller facade implements this for the IOAPIC,
 * MSI-capable devices and the LAPICs' IPIs share the same routing.
 */
export interface InterruptMessageSink {
  /**
   * Delivers one message from an IOAPIC or an MSI (8-bit xAPIC-format destination).
   * `lowestPriority` is true for lowest-priority delivery mode or RH = 1. Returns the number of
   * LAPICs that accepted it.
   */
  deliverMessage(
    dest: number,
    logical: boolean,
    mode: number,
    vector: number,
    levelTriggered: boolean,
    lowestPriority: boolean,
  ): number;
}

/** A device's way to send an MSI (HPET FSB delivery, PCI MSI/MSI-X). */
export interface MsiSender {
  /** Sends the message; false if the address is not in the interrupt region (it is then dropped). */
  sendMsi(addressLo: number, addressHi: number, data: number): boolean;
}

/** An MSI decoded into fields (for tests, tracing and the API; the hot path decodes inline). */
export interface MsiMessage {
  dest: number;
  logical: boolean;
  redirectionHint: boolean;
  vector: number;
  mode: number;
  /** Data bit 14: assert (1) or deassert (0) for level-triggered messages. */
  level: boolean;
  levelTriggered: boolean;
}

/** True if the address pair is an interrupt message (0xFEExxxxx, high dword 0). */
export function isMsiAddress(addressLo: number, addressHi: number): boolean {
  return addressHi === 0 && (addressLo & 0xfff0_0000) >>> 0 === MSI_ADDRESS_BASE;
}

/** Splits an MSI address/data pair into its fields (no validity check; see isMsiAddress). */
export function decodeMsi(addressLo: number, data: number): MsiMessage {
  return {
    dest: (addressLo >>> 12) & 0xff,
    logical: (addressLo & 0x4) !== 0,
    redirectionHint: (addressLo & 0x8) !== 0,
    vector: data & 0xff,
    mode: (data >>> 8) & 7,
    level: (data & 0x4000) !== 0,
    levelTriggered: (data & 0x8000) !== 0,
  };
}

/** Builds an MSI address (SDM Figure 10-24). */
export function msiAddress(dest: number, logical = false, redirectionHint = false): number {
  return (MSI_ADDRESS_BASE | ((dest & 0xff) << 12) | (redirectionHint ? 8 : 0) | (logical ? 4 : 0)) >>> 0;
}

/** Builds MSI data (SDM Figure 10-25). Edge-triggered messages ignore `level`. */
export function msiData(vector: number, mode: number = DeliveryMode.FIXED, levelTriggered = false, level = true): number {
  return (vector & 0xff) | ((mode & 7) << 8) | (level ? 0x4000 : 0) | (levelTriggered ? 0x8000 : 0);
}

/**
 * Delivers an MSI through a message sink. Returns false if the address is outside the interrupt
 * region (the write is then an ordinary memory write, not ours). A level-triggered deassert
 * message (data bit 14 = 0) carries no interrupt and is dropped, as on the system bus.
 */
export function deliverMsi(sink: InterruptMessageSink, addressLo: number, addressHi: number, data: number): boolean {
  if (!isMsiAddress(addressLo, addressHi)) return false;
  const levelTriggered = (data & 0x8000) !== 0;
  if (levelTriggered && (data & 0x4000) === 0) return true;
  const mode = (data >>> 8) & 7;
  sink.deliverMessage(
    (addressLo >>> 12) & 0xff,
    (addressLo & 0x4) !== 0,
    mode,
    data & 0xff,
    levelTriggered,
    mode === DeliveryMode.LOWEST_PRIORITY || (addressLo & 0x8) !== 0,
  );
  return true;
}
