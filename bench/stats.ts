// Small helpers shared by the benchmarks: percentiles and a printed table row.
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  perSecond: number;
}

/** Latencies in ms; wallMs is the elapsed time of the whole sequential run. */
export function summarize(latencies: number[], wallMs: number): Summary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    perSecond: (sorted.length / wallMs) * 1000,
  };
}

/** One printed line; `rate` adds operations per second (meaningless for start-up runs). */
export function row(label: string, s: Summary, rate = true): string {
  const f = (ms: number) => `${ms.toFixed(3)} ms`.padStart(11);
  const perSecond = rate ? `  ${Math.round(s.perSecond).toString().padStart(7)}/s` : '';
  return `${label.padEnd(50)} n=${String(s.n).padStart(6)}  p50 ${f(s.p50)}  p99 ${f(s.p99)}  max ${f(s.max)}${perSecond}`;
}
