/**
 * The decoded-code cache: instructions decoded once, grouped in straight-line blocks, cached by
 * host-physical address (so two guest-physical aliases of one page share, and a write through
 * either invalidates), and dropped when their page is written (self-modifying code).
 */
import { Insn } from './decoder/insn.js';
import type { CompiledBlock } from './jit/compile.js';

/** One cached instruction: the decoder's record plus what the interpreter precomputes from it. */
export class DI {
  readonly i = new Insn();
  /** Interpreter operation id (vcpu.ts `Op`). */
  op = 0;
  /** Offsets of this instruction's first byte and of the next instruction from the block start. */
  start = 0;
  end = 0;
  /** Main operand size in bits (8/16/32/64): the destination's, or the r/m operand's. */
  size = 0;
  /** Fast-path operands: GPR numbers (0..15) of operand 0/1, or -1. */
  r0 = -1;
  r1 = -1;
  /** Sub-operation: ALU/shift op number, condition code. */
  sub = 0;
  /** Memory operand: base/index GPR (-1 none, 16 = RIP), scale as a multiplier, displacement halves. */
  hasMem = false;
  base = -1;
  index = -1;
  scale = 1;
  dLo = 0;
  dHi = 0;
  seg = 3;
  asz = 64;
  /** Width of the memory operand in bits. */
  memBits = 0;
  /** The instruction writes its memory operand (segment type checks on use, data breakpoints). */
  memWr = false;
  imm = 0;
  immHi = 0;
}

/** A run of instructions that starts at one physical address and ends at a control transfer. */
export class Block {
  readonly insns: DI[] = [];
  n = 0;
  /** Code mode the block was decoded in (16/32/64). */
  mode = 0;
  /** Interpreted runs so far (the block compiler takes it at the vCPU's `jitThreshold`). */
  hits = 0;
  /** The code page the block was decoded from (its `valid` drops when the page is written). */
  page: CodePage | null = null;
  /** The compiled form (jit/compile.ts), or null while interpreted, and the DI records it indexes. */
  fn: CompiledBlock | null = null;
  jitD: DI[] | null = null;
}

/** The blocks decoded from one host-physical page. */
export class CodePage {
  /** Page offset -> block starting there. */
  readonly blocks = new Map<number, Block>();
  valid = true;
  constructor(readonly ppn: number) {}
}
