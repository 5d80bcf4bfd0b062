import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck, gradgradcheck } from '../gradcheck.js';
import { randomTensor, seedArb } from '../testing/arbitraries.js';
import * as D from './decoder.js';

// Property: each Llama-family op's gradient equals central finite differences in float64 on random shapes;
// and the forward values equal a plain-loop transcription of the formula.

const RUNS = { numRuns: 20 };
const dimArb = fc.integer({ min: 1, max: 3 });

describe('gradcheck: decoder ops', () => {
  it('rmsNorm with and without weight', () => {
    fc.assert(
      fc.property(dimArb, dimArb, fc.integer({ min: 1, max: 5 }), fc.boolean(), seedArb, (a, b, d, weighted, seed) => {
        const x = randomTensor([a, b, d], seed);
        if (!weighted) return gradcheck((t) => D.rmsNorm(t, null, 1e-6), [x]);
        return gradcheck((t, w) => D.rmsNorm(t, w, 1e-6), [x, randomTensor([d], seed + 1)]);
      }),
      RUNS,
    );
  });
  it('silu', () => {
    fc.assert(fc.property(dimArb, dimArb, seedArb, (a, b, seed) => gradcheck(D.silu, [randomTensor([a, b], seed)])), RUNS);
  });
  it('applyRotary at random positions', () => {
    fc.assert(
      fc.property(dimArb, dimArb, dimArb, fc.integer({ min: 1, max: 3 }), seedArb, (b, h, t, half, seed) => {
        const dh = 2 * half;
        const positions = Array.from({ length: b * t }, (_, i) => (i * 7 + seed) % 50);
        const { cos, sin } = D.rotaryTables(positions, b, t, dh, 10000, 'float64');
        return gradcheck((x) => D.applyRotary(x, cos, sin), [randomTensor([b, h, t, dh], seed)]);
      }),
      RUNS,
    );
  });
  it('repeatKv', () => {
    fc.assert(
      fc.property(dimArb, dimArb, dimArb, fc.integer({ min: 1, max: 3 }), seedArb, (b, h, t, g, seed) =>
        gradcheck((x) => D.repeatKv(x, g), [randomTensor([b, h, t, 2], seed)]),
      ),
      RUNS,
    );
  });
  it('second derivatives of rmsNorm and silu', () => {
    expect(gradgradcheck((x, w) => D.rmsNorm(x, w), [randomTensor([2, 3], 5), randomTensor([3], 6)])).toBe(true);
    expect(gradgradcheck((x) => D.silu(x), [randomTensor([2, 3], 7)])).toBe(true);
  });
});

describe('decoder ops: values against the formulas', () => {
  it('rmsNorm on hand-computed values', () => {
    const x = randomTensor([1, 2], 1);
    x.assign(Float64Array.from([3, 4]));
    // mean(x²) = 12.5; y = x / √12.5 · w
    const w = randomTensor([2], 2);
    w.assign(Float64Array.from([1, 2]));
    const y = D.rmsNorm(x, w, 0).toFlat();
    expect(y[0]).toBeCloseTo(3 / Math.sqrt(12.5), 12);
    expect(y[1]).toBeCloseTo((4 / Math.sqrt(12.5)) * 2, 12);
  });
  it('rotary embeddings rotate each (i, i + dh/2) pair by position·θ^(−2i/dh)', () => {
    const dh = 4;
    const theta = 100;
    const x = randomTensor([1, 1, 2, dh], 3);
    const { cos, sin } = D.rotaryTables([0, 5], 1, 2, dh, theta, 'float64');
    const y = D.applyRotary(x, cos, sin).toFlat();
    const xs = x.toFlat();
    for (let t = 0; t < 2; t++) {
      const pos = [0, 5][t];
      for (let i = 0; i < dh / 2; i++) {
        const a = pos * theta ** ((-2 * i) / dh);
        const x1 = xs[t * dh + i];
        const x2 = xs[t * dh + i + dh / 2];
        expect(y[t * dh + i]).toBeCloseTo(x1 * Math.cos(a) - x2 * Math.sin(a), 12);
        expect(y[t * dh + i + dh / 2]).toBeCloseTo(x2 * Math.cos(a) + x1 * Math.sin(a), 12);
      }
    }
  });
  it('repeatKv repeats each head for its group, in order', () => {
    const x = randomTensor([1, 2, 1, 2], 4);
    const y = D.repeatKv(x, 3).toFlat();
    const xs = x.toFlat();
    expect(y).toEqual([...xs.slice(0, 2), ...xs.slice(0, 2), ...xs.slice(0, 2), ...xs.slice(2), ...xs.slice(2), ...xs.slice(2)]);
  });
  it('silu(x) = x·σ(x) at known points', () => {
    const x = randomTensor([3], 1);
    x.assign(Float64Array.from([0, 1, -2]));
    const y = D.silu(x).toFlat();
    expect(y[0]).toBe(0);
    expect(y[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(y[2]).toBeCloseTo(-2 / (1 + Math.exp(2)), 12);
  });
});
