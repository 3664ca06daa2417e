/**
 * Decoder throughput: instructions decoded per second (a) over the .text of a gcc -O2 x86-64
 * program (fixtures/bench/program.text.bin, the realistic stream) and (b) over random valid
 * instructions in all three modes (biased random bytes kept only where our decoder says Ok).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeInto } from '../src/cpu/decoder/decode.js';
import { DecodeStatus, Insn } from '../src/cpu/decoder/insn.js';
import { measure, report } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));

function streamBench(): void {
  const text = new Uint8Array(readFileSync(join(here, '../fixtures/bench/program.text.bin')));
  const insn = new Insn();
  // Count the instructions of one pass (gcc pads with NOPs; every byte of .text decodes).
  let perPass = 0;
  for (let p = 0; p < text.length;) {
    decodeInto(insn, text, p, text.length, 64);
    p += insn.status === DecodeStatus.Ok ? insn.length : 1;
    perPass++;
  }
  let sink = 0;
  const passes = measure((n) => {
    for (let k = 0; k < n; k++) {
      for (let p = 0; p < text.length;) {
        decodeInto(insn, text, p, text.length, 64);
        p += insn.status === DecodeStatus.Ok ? insn.length : 1;
        sink += insn.mnemonic;
      }
    }
  });
  if (sink === -1) console.log('');
  report('decoder realistic stream (gcc -O2 x86-64 .text, 64-bit)', (passes * perPass) / 1e6, 'M decodes/s');
}

function randomBench(mode: 16 | 32 | 64): void {
  // Deterministic biased random bytes (prefix run, escape, opcode, ModRM, tail), keep valid ones.
  let s = 12345 + mode;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 16;
  };
  const N = 20000;
  const buf = new Uint8Array(N * 16);
  const offs = new Int32Array(N);
  const insn = new Insn();
  const tmp = new Uint8Array(16);
  let count = 0;
  while (count < N) {
    for (let i = 0; i < 16; i++) tmp[i] = rnd() & 255;
    let p = 0;
    if ((rnd() & 3) === 0) tmp[p++] = [0x66, 0x67, 0xf3, 0xf2, 0x2e, 0xf0][rnd() % 6]!;
    if (mode === 64 && (rnd() & 1) === 0) tmp[p++] = 0x40 | (rnd() & 15);
    const e = rnd() % 10;
    if (e < 3) { tmp[p++] = 0x0f; if (e === 0) tmp[p++] = 0x38; }
    decodeInto(insn, tmp, 0, 16, mode);
    if (insn.status !== DecodeStatus.Ok) continue;
    buf.set(tmp, count * 16);
    offs[count++] = count * 16 - 16;
  }
  let sink = 0;
  const rate = measure((n) => {
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < N; i++) {
        const o = offs[i]!;
        decodeInto(insn, buf, o, o + 16, mode);
        sink += insn.length;
      }
    }
  });
  if (sink === -1) console.log('');
  report(`decoder random valid instructions (${mode}-bit)`, (rate * N) / 1e6, 'M decodes/s');
}

export function run(): void {
  streamBench();
  randomBench(64);
  randomBench(32);
  randomBench(16);
}
