// Order statistics for benchmark results: percentiles of samples, and the
// run-to-run spread of a figure over repetitions.

export interface Spread { median: number; min: number; max: number }

/** The percentiles latency reports carry (100: the maximum). */
export const PERCENTILES = [50, 90, 99, 99.9, 99.99, 100] as const;

/** The percentiles of a timer's wake-up latency (cyclictest's histogram, 1 µs bins) the reports carry. */
export const TIMER_PERCENTILES = [50, 99, 99.9, 100] as const;

export function median(values: number[]): number {
  const sorted = ascending(values);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The nearest rank (1 to n) of the p-th percentile of n samples: the least k with k/n >= p/100, with (p/100)*n
 * rounded off its binary noise first (99.9 % of 1000 is 999.0000000000001 in floating point, which is rank 999).
 */
function nearestRank(p: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(Number(((p / 100) * n).toPrecision(12)))));
}

/** The p-th percentile of ascending samples, by nearest rank (p=100: the maximum). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[nearestRank(p, sorted.length) - 1];
}

export function spread(values: number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** An ascending copy. */
export function ascending(values: number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/**
 * Points of the empirical CDF of ascending samples, at most ~600 of them:
 * evenly spaced ranks for the body, and the tail down to the last sample.
 */
export function cdfPoints(sorted: number[]): [number, number][] {
  const n = sorted.length;
  if (n === 0) return [];
  const ranks = new Set<number>();
  for (let k = 0; k <= 400; k++) ranks.add(Math.round((k * (n - 1)) / 400));
  for (let tail = 0.1; tail * n >= 1; tail /= 1.25) ranks.add(Math.min(n - 1, Math.floor((1 - tail) * n)));
  ranks.add(n - 1);
  return [...ranks].sort((a, b) => a - b).map((r) => [sorted[r], (r + 1) / n]);
}

/**
 * The p-th percentile of samples counted in bins (ascending [value, count] pairs, as a latency histogram gives
 * them), by nearest rank as percentile() takes it; beyond: samples past the last bin (a histogram's overflows),
 * which count as most (their exact maximum), as does p=100.
 */
export function binnedPercentile(bins: readonly (readonly [number, number])[], beyond: number, most: number, p: number): number {
  const n = bins.reduce((sum, [, count]) => sum + count, 0) + beyond;
  if (n === 0) return NaN;
  const rank = nearestRank(p, n);
  if (p === 100) return most;
  let seen = 0;
  for (const [value, count] of bins) {
    seen += count;
    if (seen >= rank) return value;
  }
  return most;
}

/** Points of the CDF of samples counted in bins (as binnedPercentile takes them): one at each bin's top. */
export function binnedCdfPoints(bins: readonly (readonly [number, number])[], beyond: number, most: number): [number, number][] {
  const n = bins.reduce((sum, [, count]) => sum + count, 0) + beyond;
  let seen = 0;
  const points = bins.map(([value, count]): [number, number] => [value, (seen += count) / n]);
  return beyond ? [...points, [most, 1]] : points;
}
