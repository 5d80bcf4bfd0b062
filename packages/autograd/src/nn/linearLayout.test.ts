import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../gradcheck.js';
import { mul } from '../ops/elementwise.js';
import { transpose } from '../ops/movement.js';
import { Rng } from '../rng.js';
import { Linear } from './layers.js';
import { asFunctionOfParams, maxAbsDiff, randomTensor, seedArb } from './test-helpers.js';

// Properties: an [out, in] Linear computes the same function as an [in, out] one holding the transposed weight;
// its gradients match finite differences; an attached delta adds its term (and nothing when it returns null).

describe('Linear with the nn.Linear [out, in] layout', () => {
  it('equals the [in, out] layout with the transposed weight, and gradchecks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), seedArb, (nIn, nOut, seed) => {
        const a = new Linear(nIn, nOut, { rng: Rng.seeded(seed), layout: 'out_in', dtype: 'float64' });
        expect(a.weight.shape).toEqual([nOut, nIn]);
        a.bias!.assign(randomTensor([nOut], seed + 2).data);
        const b = new Linear(nIn, nOut, { rng: Rng.seeded(seed), dtype: 'float64' });
        b.weight.assign(transpose(a.weight.detach()).data.slice());
        b.bias!.assign(a.bias!.data.slice());
        const x = randomTensor([2, 3, nIn], seed + 1);
        expect(maxAbsDiff(a.forward(x).toFlat(), b.forward(x).toFlat())).toBeLessThan(1e-12);
        const { f, params } = asFunctionOfParams(a, (input: typeof x) => a.forward(input));
        return gradcheck((xx, ...ps) => f(xx, ...ps), [x, ...params]);
      }),
      { numRuns: 15 },
    );
  });
  it('adds an attached delta, and nothing while the delta returns null', () => {
    const lin = new Linear(3, 2, { rng: Rng.seeded(1), layout: 'out_in', dtype: 'float64' });
    const x = randomTensor([4, 3], 3);
    const before = lin.forward(x).toFlat();
    let on = true;
    const extra = new Linear(3, 2, { rng: Rng.seeded(2), bias: false, dtype: 'float64' });
    lin.attachDelta({ extra }, (input) => (on ? mul(extra.forward(input), 2) : null));
    expect(lin.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias', 'extra.weight']);
    const expected = before.map((v, i) => v + 2 * extra.forward(x).toFlat()[i]);
    expect(maxAbsDiff(lin.forward(x).toFlat(), expected)).toBeLessThan(1e-12);
    on = false;
    expect(lin.forward(x).toFlat()).toEqual(before);
  });
});
