/**
 * The block compiler (src/cpu/jit/compile.ts) against the interpreter, which is the reference (it
 * is itself checked against the host CPU in hostcpu-diff-*.test.ts): the same code from the same
 * state must give the same registers, RFLAGS, RIP, memory and exit records, at every budget.
 * Workloads: random loops built from the forms the compiler inlines (ALU at every width with
 * register/immediate/memory operands, TEST, INC/DEC, shifts, MOV/MOVZX/LEA, every Jcc condition after
 * every kind of flag producer), random byte streams in 16/32/64-bit mode (the fuzz corpus: faults,
 * exits, self-modifying stores), and self-modifying code inside a compiled loop.
 */
import { describe, expect, it } from 'vitest';
import { getFlags, setFlags } from '../../src/cpu/flags.js';
import { S_RIP } from '../../src/cpu/state.js';
import type { Vcpu } from '../../src/cpu/vcpu.js';
import type { VcpuExit } from '../../src/cpu/exit.js';
import { Rng } from './diff-core.js';
import { CODE_BASE, makeCpu, type Machine } from './harness.js';

const DATA = 0x200000;

/* ---- a tiny 64-bit encoder for the forms under test (SDM Vol. 2A ch. 2, Table 2-2/2-3) ---- */

function rex(w: boolean, reg: number, rm: number, force = false): number[] {
  const b = 0x40 | (w ? 8 : 0) | ((reg & 8) !== 0 ? 4 : 0) | ((rm & 8) !== 0 ? 1 : 0);
  return b !== 0x40 || force ? [b] : [];
}
const modrmReg = (reg: number, rm: number): number => 0xc0 | ((reg & 7) << 3) | (rm & 7);
/** [rbx + disp8] (mod 01, rm 011). */
const modrmMem = (reg: number, disp: number): number[] => [0x40 | ((reg & 7) << 3) | 3, disp & 0xff];
const imm32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** Destination registers: not RCX (1, the loop counter), RBX (3, the data pointer) or RSP (4). */
const DST = [0, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/** A random instruction; `flags` biases it toward flag producers with equal/near operands (for a Jcc after it). */
function randomInsn(r: Rng, flags = false): number[] {
  const dst = DST[r.int(DST.length)]!;
  const src = r.int(16) === 4 ? 0 : r.int(16);
  const op = flags && r.int(2) === 0 ? [5, 7][r.int(2)]! : r.int(8); // group-1 ALU op (SUB/CMP: the signed/unsigned compares)
  const w = r.int(2) === 1;
  const disp = r.int(8) * 8 + (r.int(4) === 0 ? r.int(8) : 0); // mostly aligned, sometimes not
  switch (flags && r.int(2) === 0 ? r.int(9) : r.int(17)) {
    case 0: return [...rex(w, src, dst), (op << 3) | 1, modrmReg(src, dst)]; // ALU r/m32|64, r
    case 1: return [...rex(w, 0, dst), 0x81, modrmReg(op, dst), ...imm32(r.u32())];
    case 2: return [...rex(w, 0, dst), 0x83, modrmReg(op, dst), r.int(2) === 0 ? r.int(4) : r.int(256)];
    case 3: return [...rex(false, src, dst, true), (op << 3) | 0, modrmReg(src, dst)]; // ALU r/m8, r8 (REX: no AH..BH)
    case 4: return [0x66, ...rex(false, src, dst), (op << 3) | 1, modrmReg(src, dst)]; // 16-bit
    case 5: return [...rex(w, dst, 3), (op << 3) | 3, ...modrmMem(dst, disp)]; // ALU r, [rbx+d]
    case 6: return [...rex(w, src, 3), (op << 3) | 1, ...modrmMem(src, disp)]; // ALU [rbx+d], r
    case 7: return [0x80, ...modrmMem(op, disp), r.int(2) === 0 ? r.int(4) : r.int(256)]; // ALU byte [rbx+d], imm8
    case 8: return [...rex(w, src, dst), 0x85, modrmReg(src, dst)]; // TEST
    case 9: return [...rex(w, 0, dst), 0xff, modrmReg(r.int(2), dst)]; // INC/DEC
    case 10: return [...rex(w, 0, dst), 0xc1, modrmReg([0, 1, 4, 5, 7][r.int(5)]!, dst), r.int(4) === 0 ? 0 : r.int(70)]; // ROL/ROR/SHL/SHR/SAR imm
    case 11: return [...rex(w, 0, dst), 0xd1, modrmReg(4 + r.int(4), dst)]; // shift by 1
    case 12: return [...rex(w, dst, 3), 0x8b, ...modrmMem(dst, disp)]; // MOV r, [rbx+d]
    case 13: return [...rex(w, src, 3), 0x89, ...modrmMem(src, disp)]; // MOV [rbx+d], r
    case 14: return [...rex(false, dst, 3), 0x0f, 0xb6 + r.int(2), ...modrmMem(dst, disp)]; // MOVZX r32, byte/word [rbx+d]
    case 15: return [...rex(true, dst, 0), 0x8d, 0x44 | ((dst & 7) << 3), (r.int(4) << 6) | ((src & 7) << 3) | 0, r.int(256)]; // LEA r64, [rax + src*scale + disp8]
    default: return [0xc6, ...modrmMem(0, disp), r.int(256)]; // MOV byte [rbx+d], imm8
  }
}

/** A loop of random instructions with a random Jcc skipping one of them, ended by `dec ecx; jnz`. */
function randomLoop(r: Rng): Uint8Array {
  const out: number[] = [];
  const n = 2 + r.int(6);
  for (let k = 0; k < n; k++) {
    const ins = randomInsn(r, true);
    // LEA's SIB encodes index = src; index 4 means none, which is fine too
    if (r.int(3) === 0) {
      const skip = randomInsn(r);
      out.push(...ins, 0x70 | r.int(16), skip.length, ...skip); // Jcc over `skip`, reading ins's flags
    } else out.push(...ins);
  }
  out.push(0xff, 0xc9, 0x75); // dec ecx; jnz loop
  out.push((-(out.length + 1)) & 0xff);
  out.push(0xf4); // hlt
  return new Uint8Array(out);
}

function setup(code: Uint8Array, r: Rng, threshold: number): Machine {
  const m = makeCpu(64, code);
  const u = m.cpu.state.u32;
  for (let g = 0; g < 16; g++) {
    const k = r.int(4);
    u[2 * g] = k === 0 ? r.int(4) : k === 1 ? 0x7fffffff + r.int(3) : r.u32();
    u[2 * g + 1] = k === 3 ? r.u32() : k === 2 ? 0xffffffff : 0;
  }
  u[2] = 2 + r.int(40); // RCX: loop count
  u[3] = 0;
  u[6] = DATA; // RBX: data
  u[7] = 0;
  u[8] = 0x80000;
  u[9] = 0;
  setFlags(u, r.u32() & 0x8d5);
  for (let i = 0; i < 128; i++) m.mem[DATA + i] = r.int(2) === 0 ? r.int(4) : r.int(256);
  m.cpu.jitThreshold = threshold;
  return m;
}

function snapshot(m: Machine, e: VcpuExit): string {
  const u = m.cpu.state.u32;
  const regs = Array.from(u.subarray(0, 34), (v) => v.toString(16)).join(' ');
  const data = Array.from(m.mem.subarray(DATA, DATA + 136), (v) => v.toString(16)).join('');
  return `${e.reason} n=${e.instructions} rip=${u[S_RIP + 1]!.toString(16)}:${u[S_RIP]!.toString(16)} fl=${getFlags(u).toString(16)} ${regs} ${data}${e.reason === 'exception' ? ` v${e.vector}` : ''}`;
}

/** Runs to HLT (or any other exit) in slices of `slice` instructions; returns every exit's snapshot. */
function runAll(m: Machine, slice: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < 400; i++) {
    const e = m.cpu.run({ maxInstructions: slice });
    out.push(snapshot(m, e));
    if (e.reason !== 'budget') break;
  }
  return out;
}

function compare(code: Uint8Array, seed: number, slice: number): { ref: string[]; jit: string[]; mixed: string[] } {
  const ref = runAll(setup(code, new Rng(seed), Infinity), slice);
  const jit = runAll(setup(code, new Rng(seed), 0), slice);
  const mixed = runAll(setup(code, new Rng(seed), 2), slice);
  return { ref, jit, mixed };
}

describe('block compiler vs interpreter', () => {
  it('random loops of inlined forms: same state, flags, memory and exits at every budget', () => {
    const r = new Rng(0x5eed);
    let compiled = 0;
    for (let c = 0; c < 600; c++) {
      const code = randomLoop(r);
      const seed = r.u32();
      const slice = [1_000_000, 1 + r.int(7), 3 + r.int(40)][c % 3]!;
      const { ref, jit, mixed } = compare(code, seed, slice);
      const hex = Array.from(code, (b) => b.toString(16).padStart(2, '0')).join(' ');
      expect(jit, `jit, code ${hex}, seed ${seed}, slice ${slice}`).toEqual(ref);
      expect(mixed, `mixed, code ${hex}, seed ${seed}, slice ${slice}`).toEqual(ref);
      compiled++;
    }
    expect(compiled).toBe(600);
  });

  it('random byte streams in 16/32/64-bit mode (faults, exits, stores into the code)', () => {
    const r = new Rng(0xf00d);
    for (const mode of [16, 32, 64] as const) {
      for (let c = 0; c < 700; c++) {
        const bytes = new Uint8Array(48);
        for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256);
        const seed = r.u32();
        const runs: string[][] = [];
        for (const threshold of [Infinity, 0]) {
          const m = makeCpu(mode, bytes);
          const u = m.cpu.state.u32;
          const rr = new Rng(seed);
          for (let g = 0; g < 16; g++) {
            const k = rr.int(3);
            u[2 * g] = k === 0 ? rr.int(16) : k === 1 ? CODE_BASE + rr.int(0x80) : rr.u32();
            u[2 * g + 1] = mode === 64 && k === 2 ? rr.u32() : 0;
          }
          u[8] = 0x80000;
          setFlags(u, rr.u32() & 0xcd5);
          m.cpu.jitThreshold = threshold;
          const out: string[] = [];
          for (let round = 0; round < 4; round++) {
            const e = m.cpu.run({ maxInstructions: 7 });
            const regs = Array.from(u.subarray(0, 34), (v) => v.toString(16)).join(' ');
            out.push(`${e.reason} n=${e.instructions} fl=${getFlags(u).toString(16)} ${regs} ${e.reason === 'exception' ? e.vector : ''}`);
            out.push(Array.from(m.mem.subarray(CODE_BASE - 0x100, CODE_BASE + 0x200), (v) => v.toString(16)).join(''));
            if (e.reason !== 'budget' && e.reason !== 'io' && e.reason !== 'cpuid') break;
          }
          runs.push(out);
        }
        const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
        expect(runs[1], `mode ${mode}, bytes ${hex}, seed ${seed}`).toEqual(runs[0]);
      }
    }
  });

  it('a store into a compiled loop takes effect at the next instruction (self-modifying code)', () => {
    // loop: add eax, 1 (83 C0 01); mov byte [rip - x], 2 rewrites that immediate on the 5th pass
    //   0: 83 c0 01          add eax, imm8
    //   3: 83 f9 05          cmp ecx, 5
    //   6: 75 07             jne +7 (to 15)
    //   8: c6 05 f3 ff ff ff 02   mov byte [rip - 13], 2  (address 2: the imm8 of the ADD)
    //  15: ff c9             dec ecx
    //  17: 75 ed             jnz 0
    //  19: f4                hlt
    const code = [0x83, 0xc0, 0x01, 0x83, 0xf9, 0x05, 0x75, 0x07, 0xc6, 0x05, 0xf3, 0xff, 0xff, 0xff, 0x02, 0xff, 0xc9, 0x75, 0xed, 0xf4];
    for (const threshold of [Infinity, 0, 1]) {
      const m = makeCpu(64, code);
      const u = m.cpu.state.u32;
      m.cpu.jitThreshold = threshold;
      u[0] = 0;
      u[2] = 10;
      const e = m.cpu.run({ maxInstructions: 1000 });
      expect(e.reason).toBe('hlt');
      // passes with ecx = 10..5 add 1 (6 passes), ecx = 4..1 add 2 (4 passes): 6 + 8
      expect(u[0], `threshold ${threshold}`).toBe(14);
      expect(m.mem[CODE_BASE + 2]).toBe(2);
    }
  });

  it('a store into the running compiled block changes the very next instruction', () => {
    //   0: c6 05 02 00 00 00 05   mov byte [rip + 2], 5   (address 9: the imm8 of the ADD)
    //   7: 83 c0 01               add eax, imm8
    //  10: ff c9                  dec ecx
    //  12: 75 f2                  jnz 0
    //  14: f4                     hlt
    const code = [0xc6, 0x05, 0x02, 0x00, 0x00, 0x00, 0x05, 0x83, 0xc0, 0x01, 0xff, 0xc9, 0x75, 0xf2, 0xf4];
    for (const threshold of [Infinity, 0, 1]) {
      const m = makeCpu(64, code);
      const u = m.cpu.state.u32;
      m.cpu.jitThreshold = threshold;
      u[0] = 0;
      u[2] = 10;
      const e = m.cpu.run({ maxInstructions: 1000 });
      expect(e.reason).toBe('hlt');
      expect(u[0], `threshold ${threshold}`).toBe(50);
      expect(e.instructions).toBe(41);
    }
  });

  it('compiles hot blocks (the compiled path is what runs the loop)', () => {
    const code = [0xff, 0xc0, 0xff, 0xc9, 0x75, 0xfa, 0xf4]; // inc eax; dec ecx; jnz; hlt
    const m = makeCpu(64, code);
    const cpu: Vcpu = m.cpu;
    cpu.jitThreshold = 4;
    m.cpu.state.u32[2] = 1000;
    const e = cpu.run({ maxInstructions: 10_000 });
    expect(e.reason).toBe('hlt');
    expect(m.cpu.state.u32[0]).toBe(1000);
    expect(cpu.compiledBlocks).toBeGreaterThan(0);
  });
});
