import fc from 'fast-check';
import { Rng, Tensor, concat, noGrad, randn, tensor } from '@ganpo/autograd';
import { describe, expect, it } from 'vitest';
import { MlpDiscriminator, TransformerDiscriminator } from './discriminators.js';
import { type Pooling, poolLatents } from './pooling.js';
import { prefixMask, spanMask } from './testing/fixtures.js';

const close = (a: Tensor, b: Tensor, tol = 1e-10) => {
  expect(a.shape).toEqual(b.shape);
  a.toFlat().forEach((v, i) => expect(Math.abs(v - b.data[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(v))));
};

describe('poolLatents', () => {
  const h = tensor(
    [
      [[1, 2], [3, 4], [100, 100]],
      [[5, 6], [7, 8], [9, 10]],
    ],
    { dtype: 'float64' },
  );
  const mask = prefixMask([2, 3], 3, 'float64');
  const completion = spanMask([1, 2], [2, 3], 3, 'float64');

  it("'masked' is the mean over real tokens", () => {
    expect(poolLatents(h, 'masked', { mask }).toArray()).toEqual([[2, 3], [7, 8]]);
  });
  it("'all' is the unmasked mean over every position (the reference implementation)", () => {
    expect(poolLatents(h, 'all', { mask }).toArray()).toEqual([[104 / 3, 106 / 3], [7, 8]]);
  });
  it("'completion' is the mean over completion tokens (and never over padding)", () => {
    expect(poolLatents(h, 'completion', { mask, completionMask: completion }).toArray()).toEqual([[3, 4], [9, 10]]);
    // A completion mask that wrongly covers padding is cut by the attention mask.
    const sloppy = spanMask([1, 2], [3, 3], 3, 'float64');
    expect(poolLatents(h, 'completion', { mask, completionMask: sloppy }).toArray()).toEqual([[3, 4], [9, 10]]);
  });
  it("'completion' without a completion mask is an error; masks must match the latents", () => {
    expect(() => poolLatents(h, 'completion', { mask })).toThrow(/completion mask/);
    expect(() => poolLatents(h, 'masked', { mask: prefixMask([1], 3) })).toThrow(/mask \[1, 3\] must be \[2, 3\]/);
  });
  it('an empty row pools to zeros (finite), and masks in float32 work with float64 latents', () => {
    const out = poolLatents(h, 'masked', { mask: prefixMask([0, 3], 3, 'float32') });
    expect(out.toArray()).toEqual([[0, 0], [7, 8]]);
  });
  it('the gradient reaches real tokens only', () => {
    const x = h.detach().requireGrad();
    poolLatents(x, 'masked', { mask }).sum().backward();
    expect(x.grad!.toArray()).toEqual([
      [[0.5, 0.5], [0.5, 0.5], [0, 0]],
      [[1 / 3, 1 / 3], [1 / 3, 1 / 3], [1 / 3, 1 / 3]],
    ]);
  });
});

/** Appends `extra` padding positions with random latents (mask 0) to every sequence. */
function withPadding(latents: Tensor, mask: Tensor, completion: Tensor, extra: number, seed: number) {
  const [b, , d] = latents.shape;
  const rng = Rng.seeded(seed);
  const pad = randn([b, extra, d], rng, { dtype: 'float64', std: 3 });
  const zeros = Tensor.zeros([b, extra], 'float64');
  return { latents: concat([latents, pad], 1), mask: concat([mask, zeros], 1), completion: concat([completion, zeros], 1) };
}

describe('padding never changes a masked score (property)', () => {
  const arb = fc.record({
    b: fc.integer({ min: 1, max: 3 }),
    t: fc.integer({ min: 1, max: 5 }),
    extra: fc.integer({ min: 1, max: 4 }),
    seed: fc.integer({ min: 1, max: 1e6 }),
  });
  for (const pooling of ['masked', 'completion'] as Pooling[]) {
    for (const arch of ['transformer', 'mlp'] as const) {
      it(`${arch}, '${pooling}' pooling`, () => {
        fc.assert(
          fc.property(arb, ({ b, t, extra, seed }) => {
            const rng = Rng.seeded(seed);
            const d = 3;
            const disc =
              arch === 'transformer'
                ? new TransformerDiscriminator({ inputDim: d, rng, width: 8, heads: 2, layers: 2, maxLen: 16, pooling, dtype: 'float64', dropout: 0.1 })
                : new MlpDiscriminator({ inputDim: d, rng, width: 8, pooling, dtype: 'float64' });
            disc.eval();
            const lengths = Array.from({ length: b }, () => rng.int(1, t));
            const latents = randn([b, t, d], rng, { dtype: 'float64' });
            const mask = prefixMask(lengths, t, 'float64');
            // Random padding inside the original length too: the first `lengths` tokens are real, the rest padding.
            const completion = spanMask(lengths.map((n) => Math.min(1, n - 1)), lengths, t, 'float64');
            const padded = withPadding(latents, mask, completion, extra, seed + 1);
            const [a, p] = noGrad(() => [
              disc.forward(latents, { mask, completionMask: completion }),
              disc.forward(padded.latents, { mask: padded.mask, completionMask: padded.completion }),
            ]);
            close(a, p, 1e-9);
          }),
          { numRuns: 12 },
        );
      });
    }
  }
  it("'all' pooling does see padding (the reference's behaviour)", () => {
    const rng = Rng.seeded(5);
    const disc = new TransformerDiscriminator({ inputDim: 3, rng, width: 8, heads: 2, pooling: 'all', dtype: 'float64' }).eval();
    const latents = randn([2, 4, 3], rng, { dtype: 'float64' });
    const mask = prefixMask([4, 4], 4, 'float64');
    const padded = withPadding(latents, mask, mask, 2, 9);
    const a = disc.forward(latents, { mask });
    const p = disc.forward(padded.latents, { mask: padded.mask });
    expect(Math.abs(a.data[0] - p.data[0])).toBeGreaterThan(1e-6);
  });
});
