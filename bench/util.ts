/** Shared timing helpers for benches: run a body repeatedly for a time budget and report a rate. */

/** Runs `body(n)` with growing n until it takes at least `minMs`; returns operations per second. */
export function measure(body: (iterations: number) => void, minMs = 500): number {
  let n = 1;
  body(1); // warm up the code path once before timing
  for (;;) {
    const t0 = performance.now();
    body(n);
    const dt = performance.now() - t0;
    if (dt >= minMs) return (n * 1000) / dt;
    n = dt < 1 ? n * 10 : Math.ceil(n * Math.min(10, (minMs * 1.2) / dt));
  }
}

/** Prints one figure line: "name: value unit". */
export function report(name: string, value: number, unit: string): void {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  console.log(`${name}: ${value.toFixed(digits)} ${unit}`);
}
