import { Rng, type Tensor, functionalCall, gradcheck, gradgradcheck, mul, randn, sum, tensor } from '@ganpo/autograd';
import { describe, expect, it } from 'vitest';
import { type Discriminator, MlpDiscriminator, TransformerDiscriminator } from './discriminators.js';
import { inputGradientSquaredNorm, penaltyInput, r1Penalty, r2Penalty, wassersteinGradientPenalty, zeroCenteredGradientPenalty } from './penalties.js';
import { prefixMask } from './testing/fixtures.js';

/** A linear critic C(h) = Σ_{t,k} a_{tk}·h_{tk}: its input gradient is a, whatever h. */
const linearCritic = (a: Tensor) => (h: Tensor) => sum(mul(h, a), [1, 2]);

describe('gradient penalties', () => {
  const h = randn([3, 2, 2], Rng.seeded(1), { dtype: 'float64' });
  it('R1/R2 of a linear critic is ‖a‖², and the scores come back for the loss', () => {
    const a = tensor([[[1, 2], [0, -2]]], { dtype: 'float64' });
    expect(r1Penalty(linearCritic(a), h).item()).toBeCloseTo(9, 12);
    expect(r2Penalty(linearCritic(a), h).item()).toBeCloseTo(9, 12);
    const { scores } = zeroCenteredGradientPenalty(linearCritic(a), h);
    expect(scores.shape).toEqual([3]);
  });

  it('WGAN-GP of a linear critic is (‖a‖ − 1)²', () => {
    const real = randn([4, 2, 2], Rng.seeded(2), { dtype: 'float64' });
    const unit = tensor([[[0.6, 0], [0, 0.8]]], { dtype: 'float64' });
    const fake = randn([4, 2, 2], Rng.seeded(4), { dtype: 'float64' });
    expect(wassersteinGradientPenalty(linearCritic(unit), real, fake, Rng.seeded(3)).item()).toBeCloseTo(0, 9);
    const two = tensor([[[1.2, 0], [0, 1.6]]], { dtype: 'float64' });
    expect(wassersteinGradientPenalty(linearCritic(two), real, fake, Rng.seeded(3)).item()).toBeCloseTo(1, 9);
  });

  /** The R1 penalty at fixed latents as a function of the discriminator's parameters (what training differentiates). */
  const penaltyOfParams = (disc: Discriminator, latents: Tensor, mask: Tensor) => {
    const names = disc.namedParameters().map(([n]) => n);
    return (...params: Tensor[]) =>
      functionalCall(disc, Object.fromEntries(names.map((n, i) => [n, params[i]])), () => {
        const x = penaltyInput(latents);
        return inputGradientSquaredNorm(disc.forward(x, { mask }), x);
      });
  };

  it('gradcheck of the R1 penalty with respect to every parameter (gradients of gradients), MLP and transformer', () => {
    const latents = randn([2, 3, 2], Rng.seeded(5), { dtype: 'float64' });
    const mask = prefixMask([3, 2], 3, 'float64');
    const mlp = new MlpDiscriminator({ inputDim: 2, rng: Rng.seeded(6), width: 3, layers: 1, dtype: 'float64' }).eval();
    expect(gradcheck(penaltyOfParams(mlp, latents, mask), mlp.parameters())).toBe(true);
    const tr = new TransformerDiscriminator({ inputDim: 2, rng: Rng.seeded(7), width: 4, heads: 2, ffDim: 4, maxLen: 3, dtype: 'float64' }).eval();
    expect(gradcheck(penaltyOfParams(tr, latents, mask), tr.parameters(), { fastMode: true })).toBe(true);
  });

  it('gradgradcheck through the R1 penalty with respect to the latents', () => {
    const mask = prefixMask([2, 1], 2, 'float64');
    const asInput = (x: Tensor) => (x.requiresGrad ? x : penaltyInput(x));
    const mlp = new MlpDiscriminator({ inputDim: 2, rng: Rng.seeded(8), width: 3, layers: 1, dtype: 'float64' }).eval();
    const r1 = (disc: Discriminator) => (latents: Tensor) => {
      const x = asInput(latents);
      return inputGradientSquaredNorm(disc.forward(x, { mask }), x);
    };
    const latents = randn([2, 2, 2], Rng.seeded(9), { dtype: 'float64' });
    expect(gradcheck(r1(mlp), [latents])).toBe(true);
    expect(gradgradcheck(r1(mlp), [latents])).toBe(true);
    const tr = new TransformerDiscriminator({ inputDim: 2, rng: Rng.seeded(10), width: 4, heads: 2, ffDim: 4, maxLen: 2, dtype: 'float64' }).eval();
    expect(gradgradcheck(r1(tr), [latents], { fastMode: true })).toBe(true);
  });
});
