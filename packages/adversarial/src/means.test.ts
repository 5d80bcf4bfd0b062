import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { updateMean, updateMeans } from './means.js';

const batches = fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 12 });
const momentum = fc.double({ min: 0, max: 0.99, noNaN: true });

describe('running means', () => {
  it('EMA law: initialised with the first batch mean, then m ← μ·m + (1 − μ)·b; closed form Σ', () => {
    fc.assert(
      fc.property(batches, momentum, (bs, mu) => {
        let m: number | undefined;
        for (const b of bs) m = updateMean(m, b, { mode: 'ema', momentum: mu });
        // m_n = μ^(n−1)·b_1 + Σ_{k≥2} (1 − μ)·μ^(n−k)·b_k
        const n = bs.length;
        const closed = bs.reduce((acc, b, k) => acc + (k === 0 ? mu ** (n - 1) : (1 - mu) * mu ** (n - 1 - k)) * b, 0);
        expect(m).toBeCloseTo(closed, 9);
      }),
    );
  });

  it('the first update returns the batch mean exactly, whatever μ', () => {
    expect(updateMean(undefined, 1.25, { mode: 'ema', momentum: 0.9 })).toBe(1.25);
    expect(updateMean(2, 1, { mode: 'ema' })).toBeCloseTo(0.9 * 2 + 0.1, 15);
  });

  it('batch mode equals EMA with μ = 0, at every step', () => {
    fc.assert(
      fc.property(batches, (bs) => {
        let e: number | undefined;
        let b: number | undefined;
        for (const x of bs) {
          e = updateMean(e, x, { mode: 'ema', momentum: 0 });
          b = updateMean(b, x, { mode: 'batch', momentum: 0.9 });
          expect(e).toBe(b);
          expect(b).toBe(x);
        }
      }),
    );
  });

  it('updates records key by key into a new object; rejects μ outside [0, 1)', () => {
    const prev = Object.freeze({ a: 1, b: 2 });
    const next = updateMeans(prev, { a: 3, b: 4 }, { mode: 'ema', momentum: 0.5 });
    expect(next).toEqual({ a: 2, b: 3 });
    expect(prev).toEqual({ a: 1, b: 2 });
    expect(() => updateMean(0, 1, { mode: 'ema', momentum: 1 })).toThrow(/momentum/);
  });
});
