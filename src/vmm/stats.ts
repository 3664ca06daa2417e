/**
 * Exit statistics: how many exits of each reason a vCPU or machine took, how many the dispatcher
 * handled in-process, and the instructions retired (kvm's per-vCPU stats, bhyve's vmm_stat).
 */
import { EXIT_REASONS, type ExitReason } from '../cpu/exit.js';

const INDEX = new Map<ExitReason, number>(EXIT_REASONS.map((r, i) => [r, i]));

export class ExitStats {
  /** Exits per reason id (EXIT_REASONS order). */
  readonly byReason = new Float64Array(EXIT_REASONS.length);
  /** Of those, handled in-process by the dispatcher. */
  readonly handled = new Float64Array(EXIT_REASONS.length);
  instructions = 0;
  /** MMIO accesses completed by the memory assist, string I/O elements moved, A/D faults resolved. */
  mmioAssists = 0;
  ioStringElements = 0;
  adFaults = 0;

  count(reason: ExitReason, handled: boolean): void {
    const i = INDEX.get(reason)!;
    this.byReason[i]!++;
    if (handled) this.handled[i]!++;
  }

  /** A plain object: reason -> count (only reasons seen), plus the other counters. */
  snapshot(): StatsSnapshot {
    const exits: Partial<Record<ExitReason, number>> = {};
    const handled: Partial<Record<ExitReason, number>> = {};
    EXIT_REASONS.forEach((r, i) => {
      if (this.byReason[i]! > 0) exits[r] = this.byReason[i]!;
      if (this.handled[i]! > 0) handled[r] = this.handled[i]!;
    });
    return {
      exits,
      handled,
      instructions: this.instructions,
      mmioAssists: this.mmioAssists,
      ioStringElements: this.ioStringElements,
      adFaults: this.adFaults,
    };
  }

  reset(): void {
    this.byReason.fill(0);
    this.handled.fill(0);
    this.instructions = 0;
    this.mmioAssists = 0;
    this.ioStringElements = 0;
    this.adFaults = 0;
  }

  add(other: ExitStats): void {
    for (let i = 0; i < this.byReason.length; i++) {
      this.byReason[i]! += other.byReason[i]!;
      this.handled[i]! += other.handled[i]!;
    }
    this.instructions += other.instructions;
    this.mmioAssists += other.mmioAssists;
    this.ioStringElements += other.ioStringElements;
    this.adFaults += other.adFaults;
  }
}

export interface StatsSnapshot {
  exits: Partial<Record<ExitReason, number>>;
  handled: Partial<Record<ExitReason, number>>;
  instructions: number;
  mmioAssists: number;
  ioStringElements: number;
  adFaults: number;
}
