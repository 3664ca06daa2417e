/**
 * Measures the host-CPU oracle's throughput end to end (encode, helper, decode), in cases per second:
 *   npx tsx test/oracle/throughput.ts [cases-per-batch] [workload-name-filter]
 * Workloads: a register-only ADD in 64-bit and compatibility mode, a store into 64 bytes of
 * scratch, and #UD (every case a signal round trip through the kernel).
 */
import { HostCpuOracle, type OracleCase } from './hostcpu.js';

const batch = Number(process.argv[2] ?? 20_000);
const filter = process.argv[3] ?? '';
const oracle = HostCpuOracle.open();

function seq(make: (i: number) => OracleCase): OracleCase[] {
  return Array.from({ length: batch }, (_, i) => make(i));
}
const g = (i: number): bigint[] => [BigInt(i) * 0x9e37_79b9_7f4a_7c15n & 0xffff_ffff_ffff_ffffn, 0n, 0n, BigInt(i), 0x1001_0100n, 0n, 0x1001_0000n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n];
const workloads: [string, () => OracleCase[]][] = [
  ['add64', () => seq((i) => ({ mode: 64, code: [0x48, 0x01, 0xd8], gprs: g(i), rflags: i & 0xfff }))],
  ['add32-compat', () => seq((i) => ({ mode: 32, code: [0x01, 0xd8], gprs: g(i), rflags: i & 0xfff }))],
  ['add16', () => seq((i) => ({ mode: 16, code: [0x01, 0xd8], gprs: g(i), rflags: i & 0xfff }))],
  ['store64-scratch64', () => seq((i) => ({ mode: 64, code: [0x48, 0x89, 0x46, 0x08], gprs: g(i), scratch: new Uint8Array(64).fill(i & 0xff) }))],
  ['ud2-fault', () => seq(() => ({ mode: 64, code: [0x0f, 0x0b] }))],
];
for (const [name, make] of workloads) {
  if (!name.includes(filter)) continue;
  const cases = make(); // built per workload, so earlier ones do not weigh on the heap
  oracle.run(cases); // warm up (JIT, page cache)
  const t0 = performance.now();
  const res = oracle.run(cases);
  const dt = performance.now() - t0;
  if (res.length !== cases.length) throw new Error('lost results');
  console.log(`oracle ${name}: ${Math.round((cases.length * 1000) / dt)} cases/s`);
}
