/**
 * Applies a boot plan to a machine: writes every block into guest memory (host-side writes) and
 * loads the initial state into a vCPU. Checks everything first, so a plan that does not fit the
 * machine changes nothing.
 */
import type { Machine } from '../vmm/machine.js';
import type { BootPlan } from './plan.js';
import { InvalidArgumentError, hex } from '../util/errors.js';

export function applyPlan(machine: Machine, plan: BootPlan, vcpu = 0): void {
  const v = machine.vcpus[vcpu];
  if (!v) throw new InvalidArgumentError(`vCPU ${vcpu} does not exist (the machine has ${machine.vcpus.length})`);
  for (const w of plan.writes) {
    if (w.bytes.length === 0) continue;
    const first = machine.memory.findMapping(w.gpa);
    const last = machine.memory.findMapping(w.gpa + w.bytes.length - 1);
    if (!first || !last || first.segment.kind !== 'sysmem' || last.segment.kind !== 'sysmem') {
      throw new InvalidArgumentError(
        `${w.what} at ${hex(w.gpa)}..${hex(w.gpa + w.bytes.length)} is not inside guest RAM (${hex(machine.ramBytes)} bytes)`,
      );
    }
  }
  for (const w of plan.writes) if (w.bytes.length > 0) machine.memory.write(w.gpa, w.bytes);
  v.setSpecialRegisters({ ...plan.sregs, apicBase: v.getSpecialRegisters().apicBase });
  v.setRegisters(plan.regs);
  v.runState = 'active';
  for (const c of machine.vcpus) c.core.flush();
}
