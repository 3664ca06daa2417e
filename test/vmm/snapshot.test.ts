import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Machine, type MachineState } from '../../src/vmm/machine.js';
import { planImage } from '../../src/boot/image.js';
import { planFlat } from '../../src/boot/flat.js';
import { applyPlan } from '../../src/boot/apply.js';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../fixtures/guests/${name}`, import.meta.url)));

/** Runs to the end; returns everything observable: output, stop, per-reason exits, instructions. */
function finish(m: Machine): string {
  const stops: string[] = [];
  for (let i = 0; i < 100; i++) {
    const s = m.run({ maxInstructions: 5_000_000 });
    if (s.kind === 'exit' && s.exit.reason === 'io') {
      stops.push(`io ${s.exit.port.toString(16)} ${s.exit.value.toString(16)}`);
      if (s.exit.port === 0xef00) break; // the harness's DONE port ends the story
      continue;
    }
    stops.push(JSON.stringify(s.kind === 'exit' ? s.exit.reason : s));
    break;
  }
  return JSON.stringify({
    console: m.debugcon!.takeOutputText(),
    serial: new TextDecoder().decode(m.uart!.takeOutput()),
    stops,
    vcpus: m.vcpus.map((v) => [Array.from(v.core.u32), v.runState]),
  });
}

function bootKernel(): Machine {
  const m = new Machine({ memoryMiB: 32 });
  applyPlan(m, planImage(fixture('mb-aout.bin'), { ramBytes: m.ramBytes, imageName: 'k', append: 'snap', modules: [{ bytes: new Uint8Array(8), cmdline: 'm' }] }));
  return m;
}

/** A snapshot with each memory chunk replaced by a digest, so equality checks stay fast. */
function digest(state: MachineState): unknown {
  return {
    ...state,
    segments: state.segments.map((seg) => ({
      ...seg,
      chunks: seg.chunks.map((c) => ({ offset: c.offset, sha: createHash('sha256').update(c.bytes).digest('hex') })),
    })),
  };
}

describe('saveState / restoreState', () => {
  it('a restored machine produces the same subsequent output, stop and register state as the original', () => {
    const m = bootKernel();
    expect(m.run({ maxInstructions: 300 }).kind).toBe('budget');
    m.debugcon!.takeOutputText();
    const snap = m.saveState();
    const r = Machine.restoreState(snap);
    const a = finish(m);
    const b = finish(r);
    expect(b).toBe(a);
    expect(JSON.parse(a).stops.at(-1)).toContain('poweroff');
  });

  it('round-trips: save, restore, save again gives an equal snapshot; a mutation changes it', () => {
    const m = bootKernel();
    m.run({ maxInstructions: 500 });
    const s1 = m.saveState();
    const s2 = Machine.restoreState(s1).saveState();
    expect(digest(s2)).toEqual(digest(s1));
    const r = Machine.restoreState(s1);
    r.memory.write(0x20_0000, Uint8Array.of(1));
    expect(digest(r.saveState())).not.toEqual(digest(s1));
  });

  it('survives structured cloning (postMessage to a worker) and keeps two vCPUs in step', () => {
    const smp = fixture('smp.bin');
    const m = new Machine({ memoryMiB: 4, vcpus: 2, quantum: 50 });
    applyPlan(m, planFlat(smp, { mode: 'long', loadAddress: 0x8000, entry: 0x8100 }));
    m.run({ maxInstructions: 20 }); // the BSP has not sent the IPIs yet
    const snap: MachineState = structuredClone(m.saveState());
    const r = Machine.restoreState(snap);
    expect(finish(r)).toBe(finish(m));
  });

  it('keeps memory the caller mapped after boot and the suspended disposition', () => {
    const m = new Machine({ memoryMiB: 2 });
    applyPlan(m, planFlat(Uint8Array.of(0xb0, 0x07, 0xe6, 0xf4), { mode: 'long' })); // mov al,7; out 0xf4,al
    const late = m.memory.createSegment('late', 0x1000);
    m.memory.map(0x4000_0000, late, 0, 0x1000);
    m.memory.write(0x4000_0010, Uint8Array.of(0xab));
    expect(m.run()).toEqual({ kind: 'suspended', disposition: 'poweroff', exitCode: 15 });
    const r = Machine.restoreState(m.saveState());
    const b = new Uint8Array(1);
    r.memory.read(0x4000_0010, b);
    expect(b[0]).toBe(0xab);
    expect(r.run()).toEqual({ kind: 'suspended', disposition: 'poweroff', exitCode: 15 });
  });
});
