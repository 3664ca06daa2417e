/**
 * Client of the native floating-point oracle oracle/fpu/build/fpuop (oracle/fpu/fpuop.c): runs x87
 * and SSE scalar operations on the host CPU in batches. The helper is built with gcc on first use
 * (or when its sources are newer); if gcc or the helper cannot run, every call throws, so the
 * differential tests fail loudly instead of skipping.
 *
 * Record layouts: see the header of oracle/fpu/fpuop.c (40-byte cases in, 24-byte results out).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Operation ids, identical to the OP_* enum of fpuop.c. */
export const enum FOp {
  X_ADD = 1, X_SUB, X_MUL, X_DIV, X_SQRT, X_COM, X_UCOM, X_RNDINT,
  X_PREM, X_PREM1, X_SCALE,
  X_FIST16, X_FIST32, X_FIST64, X_FISTT16, X_FISTT32, X_FISTT64,
  X_FLD32, X_FLD64, X_FST32, X_FST64, X_FILD32, X_FILD64,
  S_ADDSS = 32, S_SUBSS, S_MULSS, S_DIVSS, S_SQRTSS,
  S_ADDSD, S_SUBSD, S_MULSD, S_DIVSD, S_SQRTSD,
  S_COMISS, S_UCOMISS, S_COMISD, S_UCOMISD,
  S_CVTSS2SD, S_CVTSD2SS,
  S_CVTSI2SS32, S_CVTSI2SS64, S_CVTSI2SD32, S_CVTSI2SD64,
  S_CVTSS2SI32, S_CVTSS2SI64, S_CVTTSS2SI32, S_CVTTSS2SI64,
  S_CVTSD2SI32, S_CVTSD2SI64, S_CVTTSD2SI32, S_CVTTSD2SI64,
  S_ROUNDSS, S_ROUNDSD,
}

export const IN_SIZE = 40, OUT_SIZE = 24;

/** A batch of cases in one buffer (the caller fills it with `set`). */
export class FpuBatch {
  readonly buf: Buffer;
  readonly v: DataView;
  count = 0;
  constructor(readonly capacity: number) {
    this.buf = Buffer.alloc(capacity * IN_SIZE);
    this.v = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }
  /**
   * Appends a case: a and b as lo/hi uint32 halves plus the f80 sign/exponent words. opt bit 0: the masks are
   * honoured natively: x87 register-result ops (only OE/UE/PE may be unmasked) and SSE ops (#XM is
   * caught; the result reports the faulting instruction's MXCSR).
   */
  add(op: number, ctl: number, alo: number, ahi: number, ase: number, blo: number, bhi: number, bse: number, imm = 0, opt = 0): number {
    const o = this.count++ * IN_SIZE, v = this.v;
    v.setUint32(o, op, true); v.setUint32(o + 4, ctl >>> 0, true);
    v.setUint32(o + 8, alo >>> 0, true); v.setUint32(o + 12, ahi >>> 0, true);
    v.setUint32(o + 16, ase >>> 0, true); v.setUint32(o + 20, imm >>> 0, true);
    v.setUint32(o + 24, blo >>> 0, true); v.setUint32(o + 28, bhi >>> 0, true);
    v.setUint32(o + 32, bse >>> 0, true); v.setUint32(o + 36, opt >>> 0, true);
    return this.count - 1;
  }
}

/** Results of a batch: accessors by case index. */
export class FpuResults {
  readonly v: DataView;
  constructor(readonly buf: Buffer) { this.v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength); }
  lo(i: number): number { return this.v.getUint32(i * OUT_SIZE, true); }
  hi(i: number): number { return this.v.getUint32(i * OUT_SIZE + 4, true); }
  se(i: number): number { return this.v.getUint32(i * OUT_SIZE + 8, true); }
  status(i: number): number { return this.v.getUint32(i * OUT_SIZE + 12, true); }
  cmp(i: number): number { return this.v.getUint32(i * OUT_SIZE + 16, true); }
  /** 1 when an SSE case raised an unmasked exception (#XM): then only status() is meaningful. */
  faulted(i: number): number { return this.v.getUint32(i * OUT_SIZE + 20, true); }
}

const here = dirname(fileURLToPath(import.meta.url));
const DIR = join(here, '..', '..', 'oracle', 'fpu');
const BIN = join(DIR, 'build', 'fpuop');
let built = false;

/** Builds the helper when missing or older than its sources; throws when that is impossible. */
export function ensureFpuOracle(): string {
  if (built) return BIN;
  const need = !existsSync(BIN) ||
    ['fpuop.c', 'build.sh'].some((f) => statSync(join(DIR, f)).mtimeMs > statSync(BIN).mtimeMs);
  if (need) {
    const r = spawnSync('sh', [join(DIR, 'build.sh')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`FP oracle: ${join(DIR, 'build.sh')} failed (status ${r.status}): ${r.stderr ?? r.error}`);
  }
  built = true;
  return BIN;
}

/** Runs a batch on the host CPU (one helper process). */
export function runFpuOracle(batch: FpuBatch): FpuResults {
  const bin = ensureFpuOracle();
  const input = batch.buf.subarray(0, batch.count * IN_SIZE);
  const r = spawnSync(bin, [], { input, maxBuffer: batch.count * OUT_SIZE + 1024 });
  if (r.status !== 0 || r.error) throw new Error(`FP oracle: helper failed (status ${r.status}, signal ${r.signal}): ${r.error ?? r.stderr}`);
  const out = r.stdout as Buffer;
  if (out.length !== batch.count * OUT_SIZE) throw new Error(`FP oracle: ${out.length} bytes of results for ${batch.count} cases`);
  return new FpuResults(out);
}
