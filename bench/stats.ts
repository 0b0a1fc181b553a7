// Summaries of timing samples: median/min/max and nearest-rank percentiles, plus number formatting for the tables.

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p50: number;
  p99: number;
  mean: number;
}

/** Nearest-rank percentile of an already sorted array (p in 0..100). */
function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mid = n === 0 ? Number.NaN : n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return {
    n,
    median: mid,
    min: n === 0 ? Number.NaN : sorted[0]!,
    max: n === 0 ? Number.NaN : sorted[n - 1]!,
    p50: percentileSorted(sorted, 50),
    p99: percentileSorted(sorted, 99),
    mean: n === 0 ? Number.NaN : sorted.reduce((a, b) => a + b, 0) / n,
  };
}

/** Three significant digits, no exponent for the magnitudes we print. */
export function fmt(value: number | null | undefined): string {
  // null: a NaN or Infinity that went through JSON (a failed measurement).
  if (value === undefined || value === null || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}
