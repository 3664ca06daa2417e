/**
 * The host-CPU oracle itself: known instructions give the results the SDM specifies, faults are
 * reported with their vector, a system call is killed by seccomp without losing the rest of the
 * batch, and the harness state (scratch, code page, x87/SSE, segments) does not leak between cases.
 * If the helper cannot be built (no gcc), open() throws and every test here fails: never skipped.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureOracleBuilt, FLAG, FX, fxInitImage, GPR, HostCpuOracle, ORACLE_BINARY, ORACLE_CODE_ADDR, ORACLE_SCRATCH_ADDR,
  ORACLE_SCRATCH_SIZE, ORACLE_SEL16_CODE, VECTOR,
  type OracleCase, type OracleResult,
} from './hostcpu.js';

const CODE = BigInt(ORACLE_CODE_ADDR);
const SCRATCH = BigInt(ORACLE_SCRATCH_ADDR);
/** Status flags of SDM Vol. 1 3.4.3.1. */
const STATUS = FLAG.CF | FLAG.PF | FLAG.AF | FLAG.ZF | FLAG.SF | FLAG.OF;

function regs(values: Partial<Record<keyof typeof GPR, bigint>>): bigint[] {
  const g = new Array<bigint>(16).fill(0n);
  for (const [name, v] of Object.entries(values)) g[GPR[name as keyof typeof GPR]] = v;
  return g;
}

let oracle: HostCpuOracle;
beforeAll(() => {
  oracle = HostCpuOracle.open();
});
afterAll(() => oracle?.close());

function run1(c: OracleCase): OracleResult {
  return oracle.run([c])[0]!;
}

describe('host-CPU oracle: arithmetic flags (SDM Vol. 2 ADD)', () => {
  it('add eax, ebx: 0xFFFFFFFF + 1 wraps to 0 with CF ZF PF AF set and zero-extends RAX', () => {
    // 01 D8 = ADD r/m32, r32 with ModRM 11 011 000 (rm = EAX, reg = EBX)
    const r = run1({ mode: 64, code: [0x01, 0xd8], gprs: regs({ RAX: 0xdead_0000_ffff_ffffn, RBX: 1n }) });
    expect(r.outcome).toBe('completed');
    expect(r.gprs[GPR.RAX]).toBe(0n); // a 32-bit destination clears bits 63:32 (SDM Vol. 1 3.4.1.1)
    expect(r.rflags & STATUS).toBe(FLAG.CF | FLAG.ZF | FLAG.PF | FLAG.AF);
    expect(r.rip).toBe(CODE + 2n);
  });

  it('add eax, ebx: 0x7FFFFFFF + 1 overflows into the sign bit (OF SF AF PF, no CF)', () => {
    const r = run1({ mode: 64, code: [0x01, 0xd8], gprs: regs({ RAX: 0x7fff_ffffn, RBX: 1n }) });
    expect(r.gprs[GPR.RAX]).toBe(0x8000_0000n);
    expect(r.rflags & STATUS).toBe(FLAG.OF | FLAG.SF | FLAG.AF | FLAG.PF);
  });

  it('loads RFLAGS: the input CF feeds ADC, DF is kept and TF is never set', () => {
    // 11 D8 = ADC r/m32, r32: 5 + 0 + CF(1) = 6
    const r = run1({
      mode: 64, code: [0x11, 0xd8], gprs: regs({ RAX: 5n }), rflags: FLAG.CF | FLAG.DF | FLAG.TF,
    });
    expect(r.gprs[GPR.RAX]).toBe(6n);
    expect(r.rflags & (FLAG.DF | FLAG.TF)).toBe(FLAG.DF);
  });

  it('passes all sixteen 64-bit registers through unchanged', () => {
    const g = Array.from({ length: 16 }, (_, i) => 0x0102_0304_0506_0708n * BigInt(i + 1));
    const r = run1({ mode: 64, code: [0x90], gprs: g });
    expect(Array.from(r.gprs)).toEqual(g.map((v) => BigInt.asUintN(64, v)));
  });

  it('runs code at the documented address (lea rax, [rip])', () => {
    const r = run1({ mode: 64, code: [0x48, 0x8d, 0x05, 0, 0, 0, 0] });
    expect(r.gprs[GPR.RAX]).toBe(CODE + 7n);
  });
});

describe('host-CPU oracle: faults', () => {
  it('div ecx with ECX = 0 raises #DE at the instruction, registers unchanged', () => {
    // F7 F1 = DIV r/m32, ModRM 11 110 001 (/6, ECX)
    const r = run1({ mode: 64, code: [0xf7, 0xf1], gprs: regs({ RAX: 7n, RDX: 0n, RCX: 0n }) });
    expect(r.outcome).toBe('fault');
    expect(r.fault?.vector).toBe(VECTOR.DE);
    expect(r.rip).toBe(CODE);
    expect(r.gprs[GPR.RAX]).toBe(7n);
  });

  it('ud2 raises #UD at the instruction', () => {
    const r = run1({ mode: 64, code: [0x0f, 0x0b] });
    expect(r.outcome).toBe('fault');
    expect(r.fault?.vector).toBe(VECTOR.UD);
    expect(r.rip).toBe(CODE);
  });

  it('int3 raises #BP as a trap: RIP points after it', () => {
    const r = run1({ mode: 64, code: [0x90, 0xcc] });
    expect(r.fault?.vector).toBe(VECTOR.BP);
    expect(r.rip).toBe(CODE + 2n);
  });

  it('a jump into the rest of the code page lands on INT3 filler', () => {
    // EB 10 = JMP rel8 +0x10 -> CODE + 0x12, which holds 0xCC
    const r = run1({ mode: 64, code: [0xeb, 0x10] });
    expect(r.fault?.vector).toBe(VECTOR.BP);
    expect(r.rip).toBe(CODE + 0x13n);
  });

  it('a read just past the scratch area is #PF with the address and a user read, not-present code', () => {
    // 48 8B 06 = MOV r64, r/m64 with ModRM 00 000 110 ([RSI]); reads SCRATCH+8192-4 .. +4 crosses
    const r = run1({ mode: 64, code: [0x48, 0x8b, 0x06], gprs: regs({ RSI: SCRATCH + 8188n }) });
    expect(r.fault?.vector).toBe(VECTOR.PF);
    expect(r.fault?.address).toBe(SCRATCH + 8192n);
    expect(r.fault?.errorCode).toBe(0x4n); // SDM Vol. 3 Figure 4-12: U/S=1, W/R=0, P=0
    expect(r.gprs[GPR.RAX]).toBe(0n);
  });

  it('a store to the code page is #PF with a protection-violation write code', () => {
    // 88 07 = MOV r/m8, r8 ([RDI], AL)
    const r = run1({ mode: 64, code: [0x88, 0x07], gprs: regs({ RDI: CODE + 0x100n }) });
    expect(r.fault?.vector).toBe(VECTOR.PF);
    expect(r.fault?.address).toBe(CODE + 0x100n);
    expect(r.fault?.errorCode).toBe(0x7n); // U/S=1, W/R=1, P=1
  });

  it('a misaligned load with RFLAGS.AC = 1 raises #AC (SDM Vol. 3 6.15, CR0.AM set by Linux)', () => {
    // 8B 06 = MOV r32, [RSI]
    const r = run1({ mode: 64, code: [0x8b, 0x06], gprs: regs({ RSI: SCRATCH + 1n }), rflags: FLAG.AC });
    expect(r.fault?.vector).toBe(VECTOR.AC);
  });

  it('TF set by the last instruction (POPF) is a completed case with TF in RFLAGS, in both modes', () => {
    // 50 9D = PUSH rAX; POPF: the single-step trap would come after the next instruction, which is
    // beyond the case (SDM Vol. 3 17.3.1.4)
    for (const mode of [64, 32] as const) {
      const r = run1({
        mode, code: [0x50, 0x9d], gprs: regs({ RAX: BigInt(FLAG.TF | FLAG.CF | 2), RSP: SCRATCH + 0x100n }),
        scratch: new Uint8Array(0x100),
      });
      expect(r.outcome).toBe('completed');
      expect(r.rip).toBe(CODE + 2n);
      expect(r.rflags & (FLAG.TF | FLAG.CF)).toBe(FLAG.TF | FLAG.CF);
    }
  });

  it('TF set before a further instruction raises #DB as a trap after that instruction', () => {
    // PUSH RAX; POPF; NOP; NOP: #DB with RIP after the first NOP
    const r = run1({
      mode: 64, code: [0x50, 0x9d, 0x90, 0x90], gprs: regs({ RAX: BigInt(FLAG.TF | 2), RSP: SCRATCH + 0x100n }),
      scratch: new Uint8Array(0x100),
    });
    expect(r.outcome).toBe('fault');
    expect(r.fault?.vector).toBe(VECTOR.DB);
    expect(r.rip).toBe(CODE + 3n);
  });

  it('int 0x21 through an IDT gate with DPL 0 is #GP with the IDT error code 0x21*8+2 (SDM Vol. 3 6.13)', () => {
    const r = run1({ mode: 64, code: [0xcd, 0x21] });
    expect(r.fault?.vector).toBe(VECTOR.GP);
    expect(r.fault?.errorCode).toBe(0x10an);
    expect(r.rip).toBe(CODE);
  });

  it('INTO with OF = 1 in compatibility mode is #OF, a trap (RIP after INTO)', () => {
    const r = run1({ mode: 32, code: [0xce], rflags: FLAG.OF });
    expect(r.fault?.vector).toBe(VECTOR.OF);
    expect(r.rip).toBe(CODE + 1n);
  });

  it('BOUND with the index above the upper bound is #BR, a fault (RIP at BOUND)', () => {
    // 62 06 = BOUND EAX, [ESI]; bounds 0 and 10, EAX = 20
    const r = run1({
      mode: 32, code: [0x62, 0x06], gprs: regs({ RAX: 20n, RSI: SCRATCH }),
      scratch: new Uint8Array([0, 0, 0, 0, 10, 0, 0, 0]),
    });
    expect(r.fault?.vector).toBe(VECTOR.BR);
    expect(r.rip).toBe(CODE);
  });

  it('an endless loop times out and the next case still runs', () => {
    const [a, b] = oracle.run([
      { mode: 64, code: [0xeb, 0xfe] }, // JMP $
      { mode: 64, code: [0x01, 0xd8], gprs: regs({ RAX: 2n, RBX: 3n }) },
    ]);
    expect(a!.outcome).toBe('timeout');
    expect(b!.outcome).toBe('completed');
    expect(b!.gprs[GPR.RAX]).toBe(5n);
  });
});

describe('host-CPU oracle: seccomp', () => {
  it('syscall is killed and reported as not comparable; the next case in the batch still runs', () => {
    const before = oracle.stats.killed;
    const res = oracle.run([
      { mode: 64, code: [0x01, 0xd8], gprs: regs({ RAX: 1n, RBX: 1n }) },
      // SYSCALL with RAX = 1 (write) and RDI = 1 (stdout): allowed by strict mode, killed here
      { mode: 64, code: [0x0f, 0x05], gprs: regs({ RAX: 1n, RDI: 1n, RSI: SCRATCH, RDX: 16n }) },
      { mode: 64, code: [0x01, 0xd8], gprs: regs({ RAX: 2n, RBX: 2n }) },
    ]);
    expect(res.map((r) => r.outcome)).toEqual(['completed', 'killed', 'completed']);
    expect(res[1]!.killedBy).toBe('SIGSYS');
    expect(res[0]!.gprs[GPR.RAX]).toBe(2n);
    expect(res[2]!.gprs[GPR.RAX]).toBe(4n);
    expect(oracle.stats.killed - before).toBe(1);
  });

  it('int 0x80 (the 32-bit system call gate) is killed as well, in both modes', () => {
    const res = oracle.run([
      { mode: 64, code: [0xcd, 0x80], gprs: regs({ RAX: 4n }) },
      { mode: 32, code: [0xcd, 0x80], gprs: regs({ RAX: 4n }) },
      { mode: 64, code: [0x90] },
    ]);
    expect(res.map((r) => r.outcome)).toEqual(['killed', oracle.supportsCompat ? 'killed' : 'unsupported', 'completed']);
  });

  it('keeps results in order across a kill deep inside a large batch', () => {
    const cases: OracleCase[] = [];
    for (let i = 0; i < 6000; i++) {
      const killer = i === 4321;
      cases.push(killer
        ? { mode: 64, code: [0x0f, 0x05], gprs: regs({ RAX: 39n }) } // getpid
        : { mode: 64, code: [0x01, 0xd8], gprs: regs({ RAX: BigInt(i), RBX: 1n }) });
    }
    const res = oracle.run(cases);
    expect(res).toHaveLength(6000);
    for (let i = 0; i < 6000; i++) {
      if (i === 4321) expect(res[i]!.outcome).toBe('killed');
      else expect(res[i]!.gprs[GPR.RAX]).toBe(BigInt(i + 1));
    }
  });
});

describe('host-CPU oracle: scratch memory', () => {
  it('a store into the supplied scratch bytes shows up in the result', () => {
    // 48 89 06 = MOV [RSI], RAX
    const r = run1({
      mode: 64, code: [0x48, 0x89, 0x06], gprs: regs({ RAX: 0x1122_3344_5566_7788n, RSI: SCRATCH + 8n }),
      scratch: new Uint8Array(32).fill(0xaa),
    });
    expect(r.scratch).toHaveLength(32);
    expect(Array.from(r.scratch.subarray(0, 24))).toEqual([
      0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
      0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
    ]);
  });

  it('a store beyond the supplied bytes returns the whole 8 KiB, and the next case sees zeros', () => {
    const [a, b] = oracle.run([
      { mode: 64, code: [0x48, 0x89, 0x06], gprs: regs({ RAX: 0xffn, RSI: SCRATCH + 0x1ff8n }), scratch: new Uint8Array(4) },
      { mode: 64, code: [0x48, 0x8b, 0x06], gprs: regs({ RAX: 5n, RSI: SCRATCH + 0x1ff8n }) },
    ]);
    expect(a!.scratch).toHaveLength(ORACLE_SCRATCH_SIZE);
    expect(a!.scratch[0x1ff8]).toBe(0xff);
    expect(b!.gprs[GPR.RAX]).toBe(0n);
    expect(b!.scratch).toHaveLength(0);
  });
});

describe('host-CPU oracle: 32-bit compatibility mode', () => {
  it('is available on this host', () => {
    expect(oracle.supportsCompat).toBe(true);
  });

  it('push/pop use 4-byte stack slots (SDM Vol. 1 6.2.2)', () => {
    // 50 53 59 = PUSH EAX; PUSH EBX; POP ECX
    const top = SCRATCH + 0x100n;
    const r = run1({
      mode: 32, code: [0x50, 0x53, 0x59],
      gprs: regs({ RAX: 0x1111_1111n, RBX: 0x2222_2222n, RSP: top }), scratch: new Uint8Array(0x100),
    });
    expect(r.outcome).toBe('completed');
    expect(r.gprs[GPR.RSP]).toBe(top - 4n);
    expect(r.gprs[GPR.RCX]).toBe(0x2222_2222n);
    expect(Array.from(r.scratch.subarray(0xf8, 0x100))).toEqual([0x22, 0x22, 0x22, 0x22, 0x11, 0x11, 0x11, 0x11]);
    expect(r.selectors.cs).toBe(0x23);
    expect(r.rip).toBe(CODE + 3n);
  });

  it('a case that ends by loading SS with the 16-bit LDT data segment still completes', () => {
    // 8E D0 = MOV SS, AX with AX = 0x0F (the mode-16 data segment, base = scratch)
    const r = run1({ mode: 32, code: [0x8e, 0xd0], gprs: regs({ RAX: 0x0fn }) });
    expect(r.outcome).toBe('completed');
    expect(r.selectors.ss).toBe(0x0f);
    expect(r.rip).toBe(CODE + 2n);
  });

  it('reports only the low 32 bits, with R8..R15 as zero', () => {
    const r = run1({ mode: 32, code: [0x40], gprs: regs({ RAX: 0x1_ffff_ffffn, R8: 5n }) }); // 40 = INC EAX
    expect(r.gprs[GPR.RAX]).toBe(0n);
    expect(r.gprs[GPR.R8]).toBe(0n);
    expect(r.rflags & STATUS).toBe(FLAG.ZF | FLAG.PF | FLAG.AF); // INC leaves CF alone
  });

  it('a memory access through the null FS raises #GP(0)', () => {
    const r = run1({ mode: 32, code: [0x64, 0xa1, 0, 0, 0, 0] }); // MOV EAX, FS:[0]
    expect(r.fault?.vector).toBe(VECTOR.GP);
    expect(r.fault?.errorCode).toBe(0n);
    expect(r.rip).toBe(CODE);
  });

  it('64-bit push uses 8-byte slots, for contrast', () => {
    const r = run1({ mode: 64, code: [0x50, 0x59], gprs: regs({ RAX: 0x1234n, RSP: SCRATCH + 0x100n }), scratch: new Uint8Array(0x100) });
    expect(r.gprs[GPR.RCX]).toBe(0x1234n);
    expect(Array.from(r.scratch.subarray(0xf8, 0x100))).toEqual([0x34, 0x12, 0, 0, 0, 0, 0, 0]);
  });
});

describe('host-CPU oracle: random byte streams do not break the harness', () => {
  it('gives every one of 3,000 random cases an outcome, none of them a harness error', () => {
    let x = 0x9e37_79b9;
    const r32 = (): number => {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      return x;
    };
    const cases: OracleCase[] = [];
    for (let i = 0; i < 3000; i++) {
      const code = Array.from({ length: 1 + (r32() % 16) }, () => r32() & 0xff);
      // half the registers point into the scratch area, so memory operands often hit it
      const gprs = Array.from({ length: 16 }, () =>
        r32() & 1 ? SCRATCH + BigInt(r32() % ORACLE_SCRATCH_SIZE) : (BigInt(r32()) << 32n) | BigInt(r32()));
      const mode = ([64, 32, 16] as const)[r32() % 3]!;
      cases.push({ mode, code, gprs, rflags: r32(), scratch: new Uint8Array(64).map(() => r32() & 0xff) });
    }
    const res = oracle.run(cases);
    expect(res).toHaveLength(cases.length);
    const outcomes = new Set(res.map((r) => r.outcome));
    expect(outcomes.has('harness-error')).toBe(false);
    for (let i = 0; i < res.length; i++) {
      const r = res[i]!;
      const len = BigInt(cases[i]!.code.length);
      if (r.outcome === 'completed') expect(r.rip).toBe(cases[i]!.mode === 16 ? len : CODE + len);
      if (r.outcome === 'fault' && r.fault!.vector === VECTOR.PF) expect(r.fault!.errorCode & 4n).toBe(4n); // U/S
    }
  });
});

describe('host-CPU oracle: 16-bit protected mode (LDT segments)', () => {
  it('is available on this host', () => {
    expect(oracle.supports16).toBe(true);
  });

  it('add ax, bx is a 16-bit operation by default and leaves the upper half of EAX', () => {
    // 01 D8 with a 16-bit default operand size (SDM Vol. 1 3.6): 0xFFFF + 1 = 0 with CF ZF
    const r = run1({ mode: 16, code: [0x01, 0xd8], gprs: regs({ RAX: 0x1234_ffffn, RBX: 1n }) });
    expect(r.outcome).toBe('completed');
    expect(r.gprs[GPR.RAX]).toBe(0x1234_0000n);
    expect(r.rflags & STATUS).toBe(FLAG.CF | FLAG.ZF | FLAG.PF | FLAG.AF);
    expect(r.rip).toBe(2n); // an offset in CS, whose base is the code page
    expect(r.selectors.cs).toBe(ORACLE_SEL16_CODE);
  });

  it('[bx+si+disp8] addresses the scratch area through DS (16-bit ModRM, SDM Vol. 2 Table 2-1)', () => {
    // 8B 40 02 = MOV AX, [BX+SI+2]
    const r = run1({
      mode: 16, code: [0x8b, 0x40, 0x02], gprs: regs({ RBX: 0x10n, RSI: 0x20n }),
      scratch: Uint8Array.from({ length: 0x40 }, (_, i) => i),
    });
    expect(r.gprs[GPR.RAX]).toBe(0x3332n);
  });

  it('push/pop use 2-byte stack slots in SS (base = scratch)', () => {
    // 50 53 59 = PUSH AX; PUSH BX; POP CX
    const r = run1({
      mode: 16, code: [0x50, 0x53, 0x59], gprs: regs({ RAX: 0xaaaa_1111n, RBX: 0xbbbb_2222n, RSP: 0x100n }),
      scratch: new Uint8Array(0x100),
    });
    expect(r.gprs[GPR.RSP]).toBe(0xfen);
    expect(r.gprs[GPR.RCX]).toBe(0x2222n);
    expect(Array.from(r.scratch.subarray(0xfc, 0x100))).toEqual([0x22, 0x22, 0x11, 0x11]);
  });

  it('a word read at offset 0xFFFF exceeds the data segment limit: #GP(0) (SDM Vol. 3 5.3)', () => {
    const r = run1({ mode: 16, code: [0x8b, 0x04], gprs: regs({ RSI: 0xffffn }) }); // MOV AX, [SI]
    expect(r.fault?.vector).toBe(VECTOR.GP);
    expect(r.fault?.errorCode).toBe(0n);
    expect(r.rip).toBe(0n);
  });

  it('a stack access beyond the SS limit is #SS', () => {
    const r = run1({ mode: 16, code: [0x67, 0x8b, 0x04, 0x24], gprs: regs({ RSP: 0x10000n }) }); // MOV AX, [ESP]
    expect(r.fault?.vector).toBe(VECTOR.SS);
  });
});

describe('host-CPU oracle: isolation and determinism', () => {
  it('resets SSE state between cases (movq xmm0, rax then movq rax, xmm0)', () => {
    const [, b] = oracle.run([
      { mode: 64, code: [0x66, 0x48, 0x0f, 0x6e, 0xc0], gprs: regs({ RAX: 0x55n }) },
      { mode: 64, code: [0x66, 0x48, 0x0f, 0x7e, 0xc0], gprs: regs({ RAX: 0x77n }) },
    ]);
    expect(b!.gprs[GPR.RAX]).toBe(0n);
  });

  it('runs 64-bit code with FS.base = 0, so FS: addresses the flat space', () => {
    // 64 48 8B 06 = MOV RAX, FS:[RSI]
    const r = run1({
      mode: 64, code: [0x64, 0x48, 0x8b, 0x06], gprs: regs({ RSI: SCRATCH }),
      scratch: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
    });
    expect(r.gprs[GPR.RAX]).toBe(0x0807_0605_0403_0201n);
  });

  it('a segment load in a case does not leak into the next one', () => {
    const [a, b] = oracle.run([
      { mode: 64, code: [0x8e, 0xe0], gprs: regs({ RAX: 0x2bn }) }, // MOV FS, AX
      { mode: 64, code: [0x64, 0x48, 0x8b, 0x06], gprs: regs({ RSI: SCRATCH }), scratch: new Uint8Array([9]) },
    ]);
    expect(a!.selectors.fs).toBe(0x2b);
    expect(b!.selectors.fs).toBe(0);
    expect(b!.gprs[GPR.RAX]).toBe(9n);
  });

  it('an SS load in 64-bit mode does not leak into the next case', () => {
    const [a, b] = oracle.run([
      { mode: 64, code: [0x8e, 0xd0], gprs: regs({ RAX: 0x0fn }) }, // MOV SS, AX
      { mode: 64, code: [0x90] },
    ]);
    expect(a!.selectors.ss).toBe(0x0f);
    expect(b!.selectors.ss).toBe(0x2b);
  });

  it('gives identical results for the same batch twice', () => {
    const cases: OracleCase[] = [];
    let x = 0x1234_5678;
    const rnd = (): bigint => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return BigInt(x) << 32n | BigInt(Math.imul(x, 69069) >>> 0);
    };
    for (let i = 0; i < 200; i++) {
      cases.push({ mode: ([64, 32, 16] as const)[i % 3]!, code: [0x0f, 0xaf, 0xc3], gprs: regs({ RAX: rnd(), RBX: rnd() }), rflags: Number(rnd() & 0xfffn) });
    }
    expect(oracle.run(cases)).toEqual(oracle.run(cases));
  });
});

/* ---- x87/SSE state in and out (version-2 records) ---- */

const u16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number): number => (u16(b, o) | (u16(b, o + 2) << 16)) >>> 0;
const put16 = (b: Uint8Array, o: number, v: number): void => { b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; };
const put32 = (b: Uint8Array, o: number, v: number): void => { put16(b, o, v & 0xffff); put16(b, o + 2, v >>> 16); };
/** ST(i) of an image as [significand (bigint), sign/exponent]. */
const stOf = (b: Uint8Array, i: number): [bigint, number] => {
  const o = FX.ST + 16 * i;
  return [(BigInt(u32(b, o + 4)) << 32n) | BigInt(u32(b, o)), u16(b, o + 8)];
};
const putSt = (b: Uint8Array, i: number, sig: bigint, se: number): void => {
  const o = FX.ST + 16 * i;
  put32(b, o, Number(sig & 0xffffffffn)); put32(b, o + 4, Number(sig >> 32n)); put16(b, o + 8, se);
};
const putXmmF32 = (b: Uint8Array, i: number, v: readonly number[]): void => {
  const dv = new DataView(b.buffer, b.byteOffset + FX.XMM + 16 * i, 16);
  v.forEach((x, k) => dv.setFloat32(4 * k, x, true));
};
const xmmU32 = (b: Uint8Array, i: number, k: number): number => u32(b, FX.XMM + 16 * i + 4 * k);

describe('host-CPU oracle: x87/SSE state (OXC2 records)', () => {
  it('without an image a case starts from the init state and reports it (FCW 0x037F, MXCSR 0x1F80)', () => {
    // SDM Vol. 1 13.6 / Table 13-1: the x87 init state is FCW 037FH, FSW 0, all tags empty; SSE init: XMM 0, MXCSR 1F80H
    const r = run1({ mode: 64, code: [0x90], fpState: true });
    const f = r.fxsave!;
    expect(u16(f, FX.FCW)).toBe(0x37f);
    expect(u16(f, FX.FSW)).toBe(0);
    expect(f[FX.FTW]).toBe(0);
    expect(u32(f, FX.MXCSR)).toBe(0x1f80);
    expect(f.subarray(FX.ST, FX.ST + 128).every((x) => x === 0)).toBe(true);
    expect(f.subarray(FX.XMM, FX.XMM + 256).every((x) => x === 0)).toBe(true);
  });

  it('an OXC1 case reports no FP state; OXC1 and OXC2 cases mix in one batch', () => {
    const [a, b, c] = oracle.run([
      { mode: 64, code: [0x90] },
      { mode: 64, code: [0x90], fpState: true },
      { mode: 64, code: [0x48, 0x83, 0xc0, 0x01], gprs: regs({ RAX: 41n }) },
    ]);
    expect(a!.fxsave).toBeNull();
    expect(b!.fxsave?.length).toBe(512);
    expect(c!.fxsave).toBeNull();
    expect(c!.gprs[GPR.RAX]).toBe(42n);
  });

  it('loads the x87 stack from the image: FLD1; FADDP onto ST(0) = 1.5 at TOP = 7 gives 2.5', () => {
    const img = fxInitImage();
    put16(img, FX.FSW, 7 << 11); // TOP = 7 (SDM Vol. 1 8.1.3)
    img[FX.FTW] = 0x80; // abridged tag: R7 valid (SDM Vol. 1 10.5.1.1)
    putSt(img, 0, 0xc000_0000_0000_0000n, 0x3fff); // 1.5
    const r = run1({ mode: 64, code: [0xd9, 0xe8, 0xde, 0xc1], fxsave: img }); // FLD1; FADDP ST(1), ST(0)
    expect(r.outcome).toBe('completed');
    const f = r.fxsave!;
    expect((u16(f, FX.FSW) >> 11) & 7).toBe(7);
    expect(f[FX.FTW]).toBe(0x80);
    expect(stOf(f, 0)).toEqual([0xa000_0000_0000_0000n, 0x4000]); // 2.5
  });

  it('loads XMM0-15 and MXCSR: DIVSS 1/3 rounds down under MXCSR.RC = 01 and sets PE', () => {
    const img = fxInitImage();
    put32(img, FX.MXCSR, 0x3f80); // RC = round down, all masked
    putXmmF32(img, 5, [1, 7, 7, 7]);
    putXmmF32(img, 12, [3, 0, 0, 0]);
    const r = run1({ mode: 64, code: [0xf3, 0x41, 0x0f, 0x5e, 0xec], fxsave: img }); // DIVSS XMM5, XMM12
    const f = r.fxsave!;
    expect(xmmU32(f, 5, 0)).toBe(0x3eaa_aaaa); // round-to-nearest would give 0x3EAAAAAB
    expect(xmmU32(f, 5, 1)).toBe(0x40e0_0000); // upper lanes unchanged (7.0)
    expect(u32(f, FX.MXCSR)).toBe(0x3f80 | 0x20); // PE (SDM Vol. 1 10.2.3.1)
  });

  it('the state persists into compatibility mode and back, XMM8-15 included', () => {
    const img = fxInitImage();
    for (let k = FX.XMM; k < FX.XMM + 256; k++) img[k] = (k * 7) & 0xff;
    const r = run1({ mode: 32, code: [0x0f, 0x28, 0xc1], fxsave: img }); // MOVAPS XMM0, XMM1
    const f = r.fxsave!;
    expect(Array.from(f.subarray(FX.XMM, FX.XMM + 16))).toEqual(Array.from(img.subarray(FX.XMM + 16, FX.XMM + 32)));
    expect(Array.from(f.subarray(FX.XMM + 16, FX.XMM + 256))).toEqual(Array.from(img.subarray(FX.XMM + 16, FX.XMM + 256)));
  });

  it('the state reaches 16-bit protected mode too: FLD1; FADDP there gives 2.5 from ST(0) = 1.5', () => {
    const img = fxInitImage();
    put16(img, FX.FSW, 7 << 11);
    img[FX.FTW] = 0x80;
    putSt(img, 0, 0xc000_0000_0000_0000n, 0x3fff);
    const r = run1({ mode: 16, code: [0xd9, 0xe8, 0xde, 0xc1], fxsave: img });
    expect(r.outcome).toBe('completed');
    expect(stOf(r.fxsave!, 0)).toEqual([0xa000_0000_0000_0000n, 0x4000]);
  });

  it('an unmasked x87 zero divide is pending after FDIV and raises #MF (SIGFPE) at the next FWAIT', () => {
    const img = fxInitImage();
    put16(img, FX.FCW, 0x37b); // ZM = 0
    const code = [0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xf1]; // FLDZ; FLD1; FDIV ST(0), ST(1)
    const [pending, waited] = oracle.run([
      { mode: 64, code, fxsave: img },
      { mode: 64, code: [...code, 0x9b], fxsave: img }, // ... FWAIT
    ]);
    // SDM Vol. 1 8.6: the exception is signalled at the next waiting x87 instruction
    expect(pending!.outcome).toBe('completed');
    expect(u16(pending!.fxsave!, FX.FSW) & 0x8087).toBe(0x8084); // B, ES, ZE (IE clear)
    expect(waited!.outcome).toBe('fault');
    expect(waited!.fault?.vector).toBe(VECTOR.MF);
    expect(waited!.fault?.signal).toBe(8); // SIGFPE
    expect(waited!.fault?.siCode).toBe(3); // FPE_FLTDIV
    expect(waited!.rip).toBe(CODE + 6n); // at the FWAIT
    const f = waited!.fxsave!; // the state at the fault, from the signal frame
    expect(u16(f, FX.FSW)).toBe(0x8084 | (6 << 11));
    expect(u16(f, FX.FOP)).toBe(0x0f1); // D8 F1: low 3 bits of the first byte, then the ModRM (SDM Vol. 1 8.1.10)
    expect(u32(f, FX.FIP)).toBe(ORACLE_CODE_ADDR + 4);
  });

  it('an unmasked SSE zero divide raises #XM (SIGFPE) and leaves the destination unchanged', () => {
    const img = fxInitImage();
    put32(img, FX.MXCSR, 0x1d80); // ZM = 0
    putXmmF32(img, 0, [1, 2, 3, 4]);
    const r = run1({ mode: 64, code: [0xf3, 0x0f, 0x5e, 0xc1], fxsave: img }); // DIVSS XMM0, XMM1 (= 0)
    expect(r.outcome).toBe('fault');
    expect(r.fault?.vector).toBe(VECTOR.XM);
    expect(r.fault?.signal).toBe(8);
    expect(r.rip).toBe(CODE);
    expect(xmmU32(r.fxsave!, 0, 0)).toBe(0x3f80_0000); // SDM Vol. 1 11.5.1: no result with an unmasked exception
    expect(u32(r.fxsave!, FX.MXCSR)).toBe(0x1d84); // ZE flagged
  });

  it('a misaligned MOVAPS is #GP (SIGSEGV) and the state at the fault is the one before it', () => {
    const img = fxInitImage();
    putXmmF32(img, 0, [9, 9, 9, 9]);
    const r = run1({ mode: 64, code: [0x0f, 0x28, 0x43, 0x01], gprs: regs({ RBX: SCRATCH }), scratch: new Uint8Array(64), fxsave: img });
    expect(r.fault?.vector).toBe(VECTOR.GP);
    expect(r.fault?.signal).toBe(11);
    expect(xmmU32(r.fxsave!, 0, 3)).toBe(0x4110_0000);
  });

  it('a fault after x87 work reports the state at the fault (FLD1; UD2), in both modes', () => {
    for (const mode of [64, 32] as const) {
      const r = run1({ mode, code: [0xd9, 0xe8, 0x0f, 0x0b], fpState: true });
      expect(r.fault?.vector).toBe(VECTOR.UD);
      expect((u16(r.fxsave!, FX.FSW) >> 11) & 7).toBe(7);
      expect(stOf(r.fxsave!, 0)).toEqual([0x8000_0000_0000_0000n, 0x3fff]);
    }
  });

  it('does not leak FP state into the next case, with or without an image', () => {
    const img = fxInitImage();
    put16(img, FX.FCW, 0x27f);
    put32(img, FX.MXCSR, 0x7f80);
    img.fill(0x5a, FX.XMM, FX.XMM + 256);
    const [, b, c] = oracle.run([
      { mode: 64, code: [0xd9, 0xe8], fxsave: img },
      { mode: 64, code: [0x90], fpState: true },
      { mode: 64, code: [0x66, 0x48, 0x0f, 0x7e, 0xc0] }, // MOVQ RAX, XMM0 in an OXC1 case
    ]);
    expect(Array.from(b!.fxsave!.subarray(0, 28))).toEqual(Array.from(fxInitImage().subarray(0, 28)));
    expect(b!.fxsave!.subarray(FX.ST, FX.XMM + 256).every((x) => x === 0)).toBe(true);
    expect(c!.gprs[GPR.RAX]).toBe(0n);
  });

  it('a killed OXC2 case is reported as killed and the batch goes on with FP state intact', () => {
    const img = fxInitImage();
    putXmmF32(img, 2, [5, 6, 7, 8]);
    const cases: OracleCase[] = [];
    for (let i = 0; i < 3000; i++) cases.push({ mode: 64, code: i === 2500 ? [0x0f, 0x05] : [0x0f, 0x28, 0xc2], fxsave: img });
    const res = oracle.run(cases);
    expect(res[2500]!.outcome).toBe('killed');
    expect(res[2999]!.outcome).toBe('completed');
    expect(xmmU32(res[2999]!.fxsave!, 0, 3)).toBe(0x4100_0000); // MOVAPS XMM0, XMM2: 8.0
  });

  it('refuses an image of the wrong size or with reserved MXCSR bits (FXRSTOR would #GP)', () => {
    expect(() => oracle.run([{ mode: 64, code: [0x90], fxsave: new Uint8Array(511) }])).toThrow(/fxsave is 511 bytes/);
    const img = fxInitImage();
    put32(img, FX.MXCSR, 0x11f80);
    expect(() => oracle.run([{ mode: 64, code: [0x90], fxsave: img }])).toThrow(/MXCSR 0x11f80 sets reserved bits/);
  });
});

describe('host-CPU oracle: building', () => {
  it('says loudly that gcc is missing when the helper must be built without it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostcpu-'));
    try {
      for (const f of ['hostcpu.c', 'switch.S', 'build.sh']) copyFileSync(join(ORACLE_BINARY, '..', '..', f), join(dir, f));
      expect(() => ensureOracleBuilt({ sourceDir: dir, gcc: 'gcc-that-is-not-installed' })).toThrow(
        /gcc-that-is-not-installed is not available.*Install gcc/s,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
