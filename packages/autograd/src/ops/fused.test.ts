import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { vjp } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { randomTensor, seedArb } from '../testing/arbitraries.js';
import * as E from './elementwise.js';
import * as N from './nn.js';

// The plain backward pass of softmax, layerNorm and GELU runs fused kernels (@ganpo/kernels fused.ts); a
// recorded one (createGraph, what gradcheck exercises) runs the composite differentiable ops. Properties, in
// float64 on random shapes and values: the fused gradient equals central finite differences of the forward,
// and equals the composite gradient.

const RUNS = { numRuns: 25 };
const shapeArb = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 7 }));

/** Central differences of Σ f(xs) ⊙ w with respect to input `which`. */
function finiteDifferences(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], w: Tensor, which: number, h = 1e-6): Float64Array {
  const x = xs[which];
  const out = new Float64Array(x.size);
  const value = () => {
    const y = f(...xs).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * w.data[i];
    return s;
  };
  const data = x.data as Float64Array;
  for (let i = 0; i < x.size; i++) {
    const keep = data[i];
    data[i] = keep + h;
    const up = value();
    data[i] = keep - h;
    const down = value();
    data[i] = keep;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

function check(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], seed: number): void {
  const { out, pullback } = vjp(f, ...xs);
  const w = randomTensor(out.shape, seed + 99);
  const fused = pullback(w, { createGraph: false });
  const composite = pullback(w, { createGraph: true });
  xs.forEach((_, i) => {
    const fd = finiteDifferences(f, xs, w, i);
    fused[i].data.forEach((v, j) => {
      expect(Math.abs(v - fd[j]), `input ${i}[${j}] vs finite differences`).toBeLessThan(1e-6 * (1 + Math.abs(fd[j])));
      expect(Math.abs(v - composite[i].data[j]), `input ${i}[${j}] vs the composite backward`).toBeLessThan(1e-11 * (1 + Math.abs(v)));
    });
  });
}

describe('fused backward kernels (float64, reference backend)', () => {
  it('softmax: the fused gradient is the finite-difference and the composite one', () => {
    fc.assert(fc.property(shapeArb, seedArb, (s, seed) => check((x) => N.softmax(x), [randomTensor(s, seed)], seed)), RUNS);
  });

  it('layerNorm with and without gamma and beta', () => {
    fc.assert(
      fc.property(shapeArb, seedArb, fc.boolean(), fc.boolean(), (s, seed, withGamma, withBeta) => {
        const d = s[s.length - 1];
        const x = randomTensor(s, seed);
        if (withGamma && withBeta) check((a, g, b) => N.layerNorm(a, g, b), [x, randomTensor([d], seed + 1), randomTensor([d], seed + 2)], seed);
        else if (withGamma) check((a, g) => N.layerNorm(a, g), [x, randomTensor([d], seed + 1)], seed);
        else check((a) => N.layerNorm(a), [x], seed);
      }),
      RUNS,
    );
  });

  it('gelu, tanh approximation and exact', () => {
    fc.assert(
      fc.property(shapeArb, seedArb, fc.constantFrom('tanh' as const, 'none' as const), (s, seed, flavour) =>
        check((x) => E.gelu(x, flavour), [randomTensor(s, seed)], seed),
      ),
      RUNS,
    );
  });
});
