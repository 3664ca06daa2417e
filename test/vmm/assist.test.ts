/**
 * The memory assist, table-driven in the manner of NetBSD's h_mem_assist: each row is an
 * instruction (bytes, with its assembly), the registers before, and what the device and the
 * registers hold after. Expected values are worked out from the SDM's operation sections.
 * The "device" is an 8-byte-wide register file at linear = physical 0xC0000000.
 */
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/cpu/decoder/decode.js';
import { CpuState, S_GPR, S_RIP, S_SEG, SEG_STRIDE, SEG_BASE, S_RFLAGS, DF, CF, ZF, OF, SF } from '../../src/cpu/state.js';
import { getFlags, setFlags } from '../../src/cpu/flags.js';
import { MemoryAssist, ASSIST_OK, ASSIST_UNSUPPORTED, type AssistMemory } from '../../src/vmm/assist.js';

const DEV = 0xc000_0000;
const RAX = 0, RCX = 1, RBX = 3, RSI = 6, RDI = 7;

class FakeMemory implements AssistMemory {
  readonly bytes = new Map<number, number>();
  readonly log: string[] = [];
  readLinear(lo: number, hi: number, size: number, buf: Uint32Array): boolean {
    let l = 0, h = 0;
    for (let i = 0; i < size; i++) {
      const b = this.bytes.get(hi * 2 ** 32 + lo + i) ?? 0;
      if (i < 4) l |= b << (8 * i); else h |= b << (8 * (i - 4));
    }
    buf[0] = l >>> 0; buf[1] = h >>> 0;
    this.log.push(`r${size}@${(hi * 2 ** 32 + lo).toString(16)}`);
    return true;
  }
  writeLinear(lo: number, hi: number, size: number, buf: Uint32Array): boolean {
    for (let i = 0; i < size; i++) {
      const v = i < 4 ? buf[0]! >>> (8 * i) : buf[1]! >>> (8 * (i - 4));
      this.bytes.set(hi * 2 ** 32 + lo + i, v & 0xff);
    }
    this.log.push(`w${size}@${(hi * 2 ** 32 + lo).toString(16)}`);
    return true;
  }
  set(addr: number, value: bigint, size = 8): void {
    for (let i = 0; i < size; i++) this.bytes.set(addr + i, Number((value >> BigInt(8 * i)) & 0xffn));
  }
  get(addr: number, size = 8): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes.get(addr + i) ?? 0);
    return v;
  }
}

function setup(mode: 16 | 32 | 64 = 64) {
  const s = new CpuState();
  const u = s.u32;
  const mem = new FakeMemory();
  const reg = (n: number, v?: bigint): bigint => {
    if (v !== undefined) {
      u[S_GPR + 2 * n] = Number(v & 0xffff_ffffn);
      u[S_GPR + 2 * n + 1] = Number((v >> 32n) & 0xffff_ffffn);
    }
    return (BigInt(u[S_GPR + 2 * n + 1]!) << 32n) | BigInt(u[S_GPR + 2 * n]!);
  };
  u[S_RIP] = 0x1000;
  const run = (bytes: number[]): number => {
    const insn = decode(new Uint8Array(bytes), 0, mode);
    expect(insn.status).toBe(0);
    return new MemoryAssist().emulate(insn, u, mem);
  };
  return { u, mem, reg, run };
}

describe('memory assist: MOV forms', () => {
  it('8B 03  mov eax, [rbx]: loads the device value, zero-extends into RAX, RIP += 2', () => {
    const { mem, reg, run, u } = setup();
    reg(RBX, BigInt(DEV));
    reg(RAX, 0xffff_ffff_ffff_ffffn);
    mem.set(DEV, 0x1122_3344n, 4);
    expect(run([0x8b, 0x03])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0x1122_3344n);
    expect(u[S_RIP]).toBe(0x1002);
  });

  it('89 43 08  mov [rbx+8], eax: stores 4 bytes at the displacement', () => {
    const { mem, reg, run } = setup();
    reg(RBX, BigInt(DEV));
    reg(RAX, 0xaabb_ccdd_1234_5678n);
    expect(run([0x89, 0x43, 0x08])).toBe(ASSIST_OK);
    expect(mem.get(DEV + 8, 8)).toBe(0x1234_5678n);
    expect(mem.log).toEqual([`w4@${(DEV + 8).toString(16)}`]);
  });

  it('48 C7 03 imm32  mov qword [rbx], -2: sign-extends the immediate to 64 bits', () => {
    const { mem, reg, run } = setup();
    reg(RBX, BigInt(DEV));
    expect(run([0x48, 0xc7, 0x03, 0xfe, 0xff, 0xff, 0xff])).toBe(ASSIST_OK);
    expect(mem.get(DEV, 8)).toBe(0xffff_ffff_ffff_fffen);
  });

  it('8A 3B  mov bh, [rbx]: writes only bits 15:8 of RBX', () => {
    const { mem, reg, run } = setup();
    reg(RBX, BigInt(DEV));
    mem.set(DEV, 0x5an, 1);
    expect(run([0x8a, 0x3b])).toBe(ASSIST_OK);
    expect(reg(RBX)).toBe(BigInt(DEV) | 0x5a00n);
  });

  it('66 8B 03  mov ax, [rbx]: writes only bits 15:0', () => {
    const { mem, reg, run } = setup();
    reg(RBX, BigInt(DEV));
    reg(RAX, 0x1111_2222_3333_4444n);
    mem.set(DEV, 0xbeefn, 2);
    expect(run([0x66, 0x8b, 0x03])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0x1111_2222_3333_beefn);
  });

  it('48 A1 moffs64  mov rax, [0xC0000010]: the absolute-offset form', () => {
    const { mem, reg, run, u } = setup();
    mem.set(DEV + 0x10, 0x0102_0304_0506_0708n);
    expect(run([0x48, 0xa1, 0x10, 0, 0, 0xc0, 0, 0, 0, 0])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0x0102_0304_0506_0708n);
    expect(u[S_RIP]).toBe(0x100a);
  });

  it('8B 05 rel32  mov eax, [rip+disp]: RIP-relative from the next instruction', () => {
    const { mem, reg, run, u } = setup();
    u[S_RIP] = DEV - 0x100;
    mem.set(DEV, 0x77n, 4);
    // next RIP = DEV - 0x100 + 6; disp = 0x100 - 6 = 0xFA
    expect(run([0x8b, 0x05, 0xfa, 0, 0, 0])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0x77n);
  });

  it('8B 04 8B  mov eax, [rbx+rcx*4]: SIB with scale', () => {
    const { mem, reg, run } = setup();
    reg(RBX, BigInt(DEV));
    reg(RCX, 3n);
    mem.set(DEV + 12, 0xcafen, 4);
    expect(run([0x8b, 0x04, 0x8b])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0xcafen);
  });

  it('64 8B 03  mov eax, fs:[rbx]: adds the FS base in 64-bit mode', () => {
    const { mem, reg, run, u } = setup();
    u[S_SEG + 4 * SEG_STRIDE + SEG_BASE] = 0x100;
    reg(RBX, BigInt(DEV));
    mem.set(DEV + 0x100, 0x99n, 4);
    expect(run([0x64, 0x8b, 0x03])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0x99n);
  });

  it('16-bit addressing: 8B 00  mov ax, [bx+si] in 16-bit mode with DS base', () => {
    const { mem, reg, run, u } = setup(16);
    u[S_SEG + 3 * SEG_STRIDE + SEG_BASE] = 0xc000_0000; // DS base (unreal-style)
    reg(RBX, 0x10n);
    reg(RSI, 0x20n);
    mem.set(DEV + 0x30, 0x4242n, 2);
    expect(run([0x8b, 0x00])).toBe(ASSIST_OK);
    expect(reg(RAX) & 0xffffn).toBe(0x4242n);
    expect(u[S_RIP]).toBe(0x1002);
  });
});

describe('memory assist: MOVZX/MOVSX', () => {
  it('0F B6 03  movzx eax, byte [rbx]', () => {
    const { mem, reg, run } = setup();
    reg(RBX, BigInt(DEV));
    reg(RAX, 0xffff_ffff_ffff_ffffn);
    mem.set(DEV, 0x80n, 1);
    expect(run([0x0f, 0xb6, 0x03])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0x80n);
  });

  it('48 0F BF 03  movsx rax, word [rbx]: sign-extends 0x8001 to 64 bits', () => {
    const { mem, reg, run } = setup();
    reg(RBX, BigInt(DEV));
    mem.set(DEV, 0x8001n, 2);
    expect(run([0x48, 0x0f, 0xbf, 0x03])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0xffff_ffff_ffff_8001n);
  });

  it('48 63 03  movsxd rax, dword [rbx]', () => {
    const { mem, reg, run } = setup();
    reg(RBX, BigInt(DEV));
    mem.set(DEV, 0xffff_fffen, 4);
    expect(run([0x48, 0x63, 0x03])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0xffff_ffff_ffff_fffen);
  });

  it('0F BE 03  movsx eax, byte [rbx]: 32-bit destination, upper half zero', () => {
    const { mem, reg, run } = setup();
    reg(RBX, BigInt(DEV));
    reg(RAX, 0x1234_5678_0000_0000n);
    mem.set(DEV, 0xffn, 1);
    expect(run([0x0f, 0xbe, 0x03])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0xffff_ffffn);
  });
});

describe('memory assist: ALU with a memory operand', () => {
  it('01 03  add [rbx], eax: read-modify-write with CF/ZF from the 32-bit sum', () => {
    const { mem, reg, run, u } = setup();
    reg(RBX, BigInt(DEV));
    reg(RAX, 1n);
    mem.set(DEV, 0xffff_ffffn, 4);
    expect(run([0x01, 0x03])).toBe(ASSIST_OK);
    expect(mem.get(DEV, 4)).toBe(0n);
    const f = getFlags(u);
    expect(f & CF).toBe(CF);
    expect(f & ZF).toBe(ZF);
    expect(mem.log).toEqual([`r4@c0000000`, `w4@c0000000`]);
  });

  it('83 3B 05  cmp dword [rbx], 5: flags only, no write', () => {
    const { mem, reg, run, u } = setup();
    reg(RBX, BigInt(DEV));
    mem.set(DEV, 3n, 4);
    expect(run([0x83, 0x3b, 0x05])).toBe(ASSIST_OK);
    const f = getFlags(u);
    expect(f & CF).toBe(CF); // 3 - 5 borrows
    expect(f & SF).toBe(SF);
    expect(mem.log).toEqual(['r4@c0000000']);
  });

  it('0B 03  or eax, [rbx]: memory source, register destination, OF=CF=0', () => {
    const { mem, reg, run, u } = setup();
    setFlags(u, CF | OF | 2);
    reg(RBX, BigInt(DEV));
    reg(RAX, 0xf0n);
    mem.set(DEV, 0x0fn, 4);
    expect(run([0x0b, 0x03])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0xffn);
    expect(getFlags(u) & (CF | OF)).toBe(0);
  });

  it('48 81 23 imm32  and qword [rbx], 0xFFFF0000 sign-extended', () => {
    const { mem, reg, run } = setup();
    reg(RBX, BigInt(DEV));
    mem.set(DEV, 0x1234_5678_9abc_def0n);
    expect(run([0x48, 0x81, 0x23, 0x00, 0x00, 0xff, 0xff])).toBe(ASSIST_OK);
    expect(mem.get(DEV)).toBe(0x1234_5678_9abc_0000n);
  });

  it('F7 03 imm32  test dword [rbx], 0x80000000: SF set, no write', () => {
    const { mem, reg, run, u } = setup();
    reg(RBX, BigInt(DEV));
    mem.set(DEV, 0x8000_0001n, 4);
    expect(run([0xf7, 0x03, 0, 0, 0, 0x80])).toBe(ASSIST_OK);
    expect(getFlags(u) & (SF | ZF)).toBe(SF);
    expect(mem.log).toEqual(['r4@c0000000']);
  });

  it('FE 03  inc byte [rbx] keeps CF; F6 13  not byte [rbx]', () => {
    const { mem, reg, run, u } = setup();
    setFlags(u, CF | 2);
    reg(RBX, BigInt(DEV));
    mem.set(DEV, 0xffn, 1);
    expect(run([0xfe, 0x03])).toBe(ASSIST_OK);
    expect(mem.get(DEV, 1)).toBe(0n);
    expect(getFlags(u) & (CF | ZF)).toBe(CF | ZF);
    expect(run([0xf6, 0x13])).toBe(ASSIST_OK);
    expect(mem.get(DEV, 1)).toBe(0xffn);
  });
});

describe('memory assist: XCHG and strings', () => {
  it('87 03  xchg [rbx], eax swaps register and device', () => {
    const { mem, reg, run } = setup();
    reg(RBX, BigInt(DEV));
    reg(RAX, 0x1111n);
    mem.set(DEV, 0x2222n, 4);
    expect(run([0x87, 0x03])).toBe(ASSIST_OK);
    expect(reg(RAX)).toBe(0x2222n);
    expect(mem.get(DEV, 4)).toBe(0x1111n);
  });

  it('F3 AB  rep stosd: RCX elements, RDI advanced, RCX = 0', () => {
    const { mem, reg, run } = setup();
    reg(RDI, BigInt(DEV));
    reg(RCX, 3n);
    reg(RAX, 0xdead_beefn);
    expect(run([0xf3, 0xab])).toBe(ASSIST_OK);
    for (let i = 0; i < 3; i++) expect(mem.get(DEV + 4 * i, 4)).toBe(0xdead_beefn);
    expect(mem.get(DEV + 12, 4)).toBe(0n);
    expect(reg(RDI)).toBe(BigInt(DEV + 12));
    expect(reg(RCX)).toBe(0n);
  });

  it('F3 A4  rep movsb with DF=1 copies downwards', () => {
    const { mem, reg, run, u } = setup();
    u[S_RFLAGS] |= DF;
    mem.set(0x5000, 0x0302_01n, 3);
    reg(RSI, 0x5002n);
    reg(RDI, BigInt(DEV + 2));
    reg(RCX, 3n);
    expect(run([0xf3, 0xa4])).toBe(ASSIST_OK);
    expect(mem.get(DEV, 3)).toBe(0x0302_01n);
    expect(reg(RSI)).toBe(0x4fffn);
    expect(reg(RDI)).toBe(BigInt(DEV - 1));
  });

  it('leaves instructions it does not emulate to the caller (RIP unchanged)', () => {
    const { run, u } = setup();
    expect(run([0x0f, 0xa2])).toBe(ASSIST_UNSUPPORTED); // cpuid
    expect(run([0x89, 0xd8])).toBe(ASSIST_UNSUPPORTED); // mov eax, ebx: no memory operand
    expect(u[S_RIP]).toBe(0x1000);
  });
});
