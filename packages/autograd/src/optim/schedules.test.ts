import { test as fcTest } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantSchedule, cosineWithWarmup, linearWarmup, linearWithWarmup } from '../index.js';

const cfg = fc
  .record({ lr: fc.double({ min: 1e-5, max: 1, noNaN: true }), warmupSteps: fc.integer({ min: 0, max: 50 }), extra: fc.integer({ min: 0, max: 200 }), minFrac: fc.double({ min: 0, max: 1, noNaN: true }) })
  .map(({ lr, warmupSteps, extra, minFrac }) => ({ lr, warmupSteps, totalSteps: warmupSteps + extra, minLr: lr * minFrac }));

describe('schedules (step counted from 0)', () => {
  it('exact values at the landmarks', () => {
    expect(constantSchedule(0.3)(1234)).toBe(0.3);
    const w = linearWarmup({ lr: 1, warmupSteps: 4 });
    expect([0, 1, 2, 3, 4, 100].map(w)).toEqual([0, 0.25, 0.5, 0.75, 1, 1]);
    const lin = linearWithWarmup({ lr: 1, warmupSteps: 2, totalSteps: 6 });
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(lin)).toEqual([0, 0.5, 1, 0.75, 0.5, 0.25, 0, 0]);
    const cos = cosineWithWarmup({ lr: 1, warmupSteps: 2, totalSteps: 6, minLr: 0.2 });
    expect(cos(0)).toBe(0);
    expect(cos(2)).toBe(1);
    expect(cos(4)).toBeCloseTo(0.6, 12);
    expect(cos(6)).toBeCloseTo(0.2, 12);
    expect(cos(1000)).toBeCloseTo(0.2, 12);
    expect(linearWarmup({ lr: 0.5, warmupSteps: 0 })(0)).toBe(0.5);
  });

  fcTest.prop([cfg])('warmup rises linearly to lr; decay is monotone from lr to minLr and stays there', (c) => {
    for (const s of [cosineWithWarmup(c), linearWithWarmup(c)]) {
      let prev = Infinity;
      for (let k = 0; k <= c.totalSteps + 5; k++) {
        const v = s(k);
        expect(v).toBeGreaterThanOrEqual(k < c.warmupSteps ? 0 : c.minLr - 1e-12);
        expect(v).toBeLessThanOrEqual(c.lr + 1e-12);
        if (k < c.warmupSteps) expect(v).toBeCloseTo((c.lr * k) / c.warmupSteps, 12);
        else {
          expect(v).toBeLessThanOrEqual(prev + 1e-12);
          prev = v;
        }
        if (k >= c.totalSteps) expect(v).toBeCloseTo(c.minLr, 12);
      }
      if (c.totalSteps > c.warmupSteps) expect(s(c.warmupSteps)).toBeCloseTo(c.lr, 12);
    }
  });

  it('rejects bad configurations', () => {
    expect(() => cosineWithWarmup({ lr: 1, warmupSteps: 10, totalSteps: 5 })).toThrow(/totalSteps/);
    expect(() => linearWarmup({ lr: 1, warmupSteps: 1.5 })).toThrow(/warmupSteps/);
    expect(() => linearWithWarmup({ lr: 1, warmupSteps: 1, totalSteps: 5, minLr: 2 })).toThrow(/minLr/);
  });
});
