/**
 * softfloat throughput (src/cpu/fpu/softfloat.ts): M operations per second on a fixed set of 1024
 * normal operands, RNE, exceptions masked (the common guest case). f32/f64 add/mul/div/sqrt take the
 * native-double fast path when it applies; f80 always takes the exact integer path; "exact" figures
 * force the exact path (rc = RC_DOWN on positive operands is never eligible for the fast path).
 */
import * as S from '../src/cpu/fpu/softfloat.js';
import { measure, report } from './util.js';

const N = 1024;
const lo = new Uint32Array(N), hi = new Uint32Array(N), f32 = new Uint32Array(N);
// f80 operands: the same values with full 64-bit significands (random low bits).
const xlo = new Uint32Array(N), xhi = new Uint32Array(N), xse = new Uint32Array(N);

function fill(): void {
  const d = new Float64Array(1), u = new Uint32Array(d.buffer), f = new Float32Array(1), fu = new Uint32Array(f.buffer);
  const e = new S.FpEnv();
  let s = 12345;
  for (let i = 0; i < N; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const v = (1 + s / 2 ** 32) * 2 ** ((i % 40) - 20);
    d[0] = v; lo[i] = u[0]!; hi[i] = u[1]!;
    f[0] = v; f32[i] = fu[0]!;
    S.f64ToF80(e, u[0]!, u[1]!);
    xlo[i] = (e.lo | (s & 0x7ff)) >>> 0; xhi[i] = e.hi; xse[i] = e.se;
  }
}

export function run(): void {
  fill();
  const e = new S.FpEnv();
  const m = (name: string, body: (n: number) => void): void => report(`softfloat ${name}`, measure(body) / 1e6, 'M ops/s');
  const f64 = (name: string, fn: typeof S.f64Add, rc: number): void => m(name, (n) => {
    e.rc = rc;
    for (let k = 0; k < n; k++) { const i = k & (N - 1), j = (k * 7 + 3) & (N - 1); e.flags = 0; fn(e, lo[i]!, hi[i]!, lo[j]!, hi[j]!); }
  });
  f64('f64 add', S.f64Add, S.RC_NEAREST);
  f64('f64 mul', S.f64Mul, S.RC_NEAREST);
  f64('f64 div', S.f64Div, S.RC_NEAREST);
  f64('f64 add exact', S.f64Add, S.RC_DOWN);
  f64('f64 mul exact', S.f64Mul, S.RC_DOWN);
  f64('f64 div exact', S.f64Div, S.RC_DOWN);
  m('f64 sqrt', (n) => { e.rc = 0; for (let k = 0; k < n; k++) { const i = k & (N - 1); e.flags = 0; S.f64Sqrt(e, lo[i]!, hi[i]!); } });
  m('f32 add', (n) => { e.rc = 0; for (let k = 0; k < n; k++) { const i = k & (N - 1), j = (k * 7 + 3) & (N - 1); e.flags = 0; S.f32Add(e, f32[i]!, f32[j]!); } });
  m('f32 add exact', (n) => { e.rc = S.RC_DOWN; for (let k = 0; k < n; k++) { const i = k & (N - 1), j = (k * 7 + 3) & (N - 1); e.flags = 0; S.f32Add(e, f32[i]!, f32[j]!); } });
  e.rc = 0; e.x87 = true; e.prec = 64;
  const f80 = (name: string, fn: typeof S.f80Add): void => m(name, (n) => {
    for (let k = 0; k < n; k++) {
      const i = k & (N - 1), j = (k * 7 + 3) & (N - 1);
      e.flags = 0;
      fn(e, xlo[i]!, xhi[i]!, xse[i]!, xlo[j]!, xhi[j]!, xse[j]!);
    }
  });
  f80('f80 add', S.f80Add);
  f80('f80 mul', S.f80Mul);
  f80('f80 div', S.f80Div);
  m('f80 sqrt', (n) => { for (let k = 0; k < n; k++) { const i = k & (N - 1); e.flags = 0; S.f80Sqrt(e, xlo[i]!, xhi[i]!, xse[i]!); } });
}
