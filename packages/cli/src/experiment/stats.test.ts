import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { fmtDifference, fmtMeanSd, pairedDifference, summarize, tHalfWidth } from './stats.js';

const seeds = (xs: readonly number[]) => new Map(xs.map((x, i) => [i, x]));

describe('statistics over seeds (hand-computed values)', () => {
  it('mean and sample standard deviation', () => {
    // [1, 2, 3, 4]: mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5; sd = √(5/3).
    const s = summarize([1, 2, 3, 4]);
    expect(s.n).toBe(4);
    expect(s.mean).toBe(2.5);
    expect(s.sd).toBeCloseTo(Math.sqrt(5 / 3), 12);
    // Lopsided: one outlier dominates the spread. [0, 0, 0, 10]: mean 2.5; SS = 3·6.25 + 56.25 = 75; sd = 5.
    expect(summarize([0, 0, 0, 10])).toEqual({ n: 4, mean: 2.5, sd: 5 });
    expect(summarize([7]).sd).toBeNaN();
    expect(summarize([]).mean).toBeNaN();
    expect(summarize([1, Number.NaN, 3]).mean).toBe(2);
  });

  it('paired difference with a 95 % t interval', () => {
    // Differences by seed: 3−1, 5−2, 4−3 = [2, 3, 1]: mean 2, sd 1, n 3; t(0.975, 2) = 4.302653 → ± 4.302653/√3 = 2.484138.
    const d = pairedDifference(seeds([3, 5, 4]), seeds([1, 2, 3]));
    expect(d.n).toBe(3);
    expect(d.mean).toBe(2);
    expect(d.sd).toBe(1);
    expect(d.lo).toBeCloseTo(2 - 2.484138, 5);
    expect(d.hi).toBeCloseTo(2 + 2.484138, 5);
    expect(d.excludesZero).toBe(false);
    // Five seeds, differences [0.1, 0.2, 0.15, 0.12, 0.18]: mean 0.15, SS = 0.0025+0.0025+0+0.0009+0.0009 = 0.0068,
    // sd = √0.0017 = 0.041231; t(0.975, 4) = 2.776445 → half-width 0.051194: [0.098806, 0.201194], excludes 0.
    const e = pairedDifference(seeds([1.1, 1.2, 1.15, 1.12, 1.18]), seeds([1, 1, 1, 1, 1]));
    expect(e.mean).toBeCloseTo(0.15, 12);
    expect(e.sd).toBeCloseTo(0.041231, 6);
    expect(e.lo).toBeCloseTo(0.098806, 5);
    expect(e.hi).toBeCloseTo(0.201194, 5);
    expect(e.excludesZero).toBe(true);
  });

  it('pairs by seed: a seed missing on one side (a crashed run) is left out, not matched to another', () => {
    const d = pairedDifference(new Map([[0, 5], [1, 7], [2, 100]]), new Map([[0, 4], [1, 6], [3, 0]]));
    expect(d.n).toBe(2);
    expect(d.mean).toBe(1);
    expect(d.sd).toBe(0);
    expect(d.excludesZero).toBe(true);
  });

  it('formats', () => {
    expect(fmtMeanSd(summarize([1, 2, 3, 4]))).toBe('2.500 ± 1.291');
    expect(fmtDifference(pairedDifference(seeds([3, 5, 4]), seeds([1, 2, 3])))).toBe('+2.000 [−0.484, +4.484]');
    expect(fmtDifference(pairedDifference(seeds([3]), seeds([1])))).toMatch(/one seed/);
  });
});

const finite = fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true });
const sample = fc.array(finite, { minLength: 2, maxLength: 12 });

describe('statistics: properties', () => {
  test.prop([sample, sample])('the interval contains the mean difference', (a, b) => {
    const n = Math.min(a.length, b.length);
    const d = pairedDifference(seeds(a.slice(0, n)), seeds(b.slice(0, n)));
    expect(d.lo).toBeLessThanOrEqual(d.mean + 1e-12);
    expect(d.hi).toBeGreaterThanOrEqual(d.mean - 1e-12);
  });

  test.prop([sample, finite])('shifting the treatment by c shifts the interval by c', (diffs, c) => {
    const zero = seeds(diffs.map(() => 0));
    const d = pairedDifference(seeds(diffs), zero);
    const e = pairedDifference(seeds(diffs.map((x) => x + c)), zero);
    expect(e.lo).toBeCloseTo(d.lo + c, 6);
    expect(e.hi).toBeCloseTo(d.hi + c, 6);
  });

  test.prop([sample])('the same spread over more seeds gives a narrower interval', (diffs) => {
    const zero = (k: number) => seeds(Array.from({ length: k }, () => 0));
    const once = pairedDifference(seeds(diffs), zero(diffs.length));
    const twice = pairedDifference(seeds([...diffs, ...diffs]), zero(2 * diffs.length));
    expect(twice.hi - twice.lo).toBeLessThanOrEqual(once.hi - once.lo + 1e-12);
  });

  it('the t half-width tends to the normal one (1.96 σ/√n) for many seeds', () => {
    expect(tHalfWidth(1, 10_000) * Math.sqrt(10_000)).toBeCloseTo(1.96, 2);
  });
});
