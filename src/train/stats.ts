// Small statistics for reporting results over seeds: the mean and a percentile bootstrap
// confidence interval of the mean. Deterministic: the resampling stream comes from the project's
// counter-based PRNG under a fixed seed, so a figure regenerated from the same results is
// byte-identical.
import { keyFromSeed, Rng } from "../random.js";

export interface BootstrapOptions {
  /** Bootstrap resamples (default 10,000). */
  resamples?: number;
  /** Confidence level in (0, 1) (default 0.95). */
  level?: number;
  /** Seed of the resampling stream (default 0). */
  seed?: number;
}

export interface MeanCI {
  mean: number;
  /** Lower and upper bounds of the percentile bootstrap interval of the mean. */
  lo: number;
  hi: number;
}

/** Arithmetic mean (summed in order). Throws on an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new Error("mean of an empty list");
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Quantile of sorted values with linear interpolation between order statistics (R type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error("quantile of an empty list");
  const h = (n - 1) * q;
  const i = Math.floor(h);
  if (i >= n - 1) return sorted[n - 1];
  return sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]);
}

/**
 * Mean of `values` and its percentile bootstrap confidence interval: `resamples` times, draw
 * values.length values with replacement and take their mean; the interval is the
 * ((1 − level)/2, (1 + level)/2) quantiles of those means. With one value, or all values equal,
 * lo = hi = mean.
 */
export function bootstrapMeanCI(values: readonly number[], options: BootstrapOptions = {}): MeanCI {
  const resamples = options.resamples ?? 10_000;
  const level = options.level ?? 0.95;
  const seed = options.seed ?? 0;
  if (values.length === 0) throw new Error("bootstrapMeanCI: no values");
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`bootstrapMeanCI: values must be finite numbers, got ${v}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`bootstrapMeanCI: resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrapMeanCI: level must be in (0, 1), got ${level}`);
  const m = mean(values);
  const n = values.length;
  const rng = new Rng(keyFromSeed(seed));
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[rng.int(n)];
    means[r] = s / n;
  }
  means.sort();
  const a = (1 - level) / 2;
  return { mean: m, lo: quantileSorted(means, a), hi: quantileSorted(means, 1 - a) };
}

/**
 * Difference of means mean(b) − mean(a) of two independent samples and its percentile bootstrap
 * interval (each sample resampled with replacement on its own, `resamples` times). An interval
 * that contains 0 means the data do not separate the two.
 */
export function bootstrapDiffCI(a: readonly number[], b: readonly number[], options: BootstrapOptions = {}): MeanCI {
  const resamples = options.resamples ?? 10_000;
  const level = options.level ?? 0.95;
  if (a.length === 0 || b.length === 0) throw new Error("bootstrapDiffCI: both samples need values");
  for (const v of [...a, ...b]) if (!Number.isFinite(v)) throw new Error(`bootstrapDiffCI: values must be finite numbers, got ${v}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`bootstrapDiffCI: resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrapDiffCI: level must be in (0, 1), got ${level}`);
  const rng = new Rng(keyFromSeed(options.seed ?? 0));
  const diffs = new Float64Array(resamples);
  const resampleMean = (x: readonly number[]) => {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[rng.int(x.length)];
    return s / x.length;
  };
  for (let r = 0; r < resamples; r++) diffs[r] = resampleMean(b) - resampleMean(a);
  diffs.sort();
  const q = (1 - level) / 2;
  return { mean: mean(b) - mean(a), lo: quantileSorted(diffs, q), hi: quantileSorted(diffs, 1 - q) };
}
