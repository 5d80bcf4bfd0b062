import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/**
 * Statistics over seeds: mean and sample standard deviation of a cell, and the paired difference between a
 * treatment and a baseline run with the same seed, with a 95 % Student-t interval over the seeds (seeds are
 * the unit of replication: the same seed gives both methods the same SFT model and data order).
 * The t quantile comes from stdlib's Student-t distribution, not a hand-written table.
 */

export interface Summary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n − 1 in the denominator); NaN for n < 2. */
  readonly sd: number;
}

export function summarize(xs: readonly number[]): Summary {
  const v = xs.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { n, mean: Number.NaN, sd: Number.NaN };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = n < 2 ? Number.NaN : Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd };
}

export interface PairedDifference extends Summary {
  /** The 95 % t interval of the mean difference (NaN ends for n < 2). */
  readonly lo: number;
  readonly hi: number;
  /** The interval excludes 0: a difference at this confidence level. */
  readonly excludesZero: boolean;
}

/** Half-width of the two-sided `level` t interval of a mean: t(1 − α/2, n − 1) · sd / √n. */
export function tHalfWidth(sd: number, n: number, level = 0.95): number {
  if (n < 2 || !Number.isFinite(sd)) return Number.NaN;
  return tQuantile(1 - (1 - level) / 2, n - 1) * (sd / Math.sqrt(n));
}

/**
 * Treatment − baseline, paired by key (the seed): only keys present in both with finite values count.
 */
export function pairedDifference(treatment: ReadonlyMap<number, number>, baseline: ReadonlyMap<number, number>, level = 0.95): PairedDifference {
  const diffs: number[] = [];
  for (const [k, t] of treatment) {
    const b = baseline.get(k);
    if (b !== undefined && Number.isFinite(t) && Number.isFinite(b)) diffs.push(t - b);
  }
  const s = summarize(diffs);
  const h = tHalfWidth(s.sd, s.n, level);
  const lo = s.mean - h;
  const hi = s.mean + h;
  // sd = 0 with n ≥ 2 gives a zero-width interval: a constant non-zero difference excludes 0.
  return { ...s, lo, hi, excludesZero: Number.isFinite(lo) && (lo > 0 || hi < 0) };
}

/** `0.462 ± 0.013` (mean ± sd), or the mean alone for one seed. */
export function fmtMeanSd(s: Summary, digits = 3): string {
  if (s.n === 0) return '–';
  return Number.isFinite(s.sd) ? `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}` : s.mean.toFixed(digits);
}

/** `+0.021 [−0.004, +0.046]`. */
export function fmtDifference(d: PairedDifference, digits = 3): string {
  if (d.n === 0) return '–';
  const sign = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
  return Number.isFinite(d.lo) ? `${sign(d.mean)} [${sign(d.lo)}, ${sign(d.hi)}]` : `${sign(d.mean)} (one seed: no interval)`;
}
