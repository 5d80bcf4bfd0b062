import fc from 'fast-check';
import { Rng, type Tensor, gradcheck, randn, scalar, tensor } from '@ganpo/autograd';
import { describe, expect, it } from 'vitest';
import {
  bceWithLogits,
  ganpoGeneratorLoss,
  hingeDiscriminatorLoss,
  hingeGeneratorLoss,
  nonSaturatingDiscriminatorLoss,
  nonSaturatingGeneratorLoss,
  quadAccuracies,
  quadDiscriminatorLoss,
  raganDiscriminatorLoss,
  raganGeneratorFakeLoss,
  raganGeneratorLoss,
  wassersteinCriticLoss,
  wassersteinGeneratorLoss,
} from './losses.js';

const f64 = (n: number, seed: number, std = 1.5) => randn([n], Rng.seeded(seed), { dtype: 'float64', std });
const m = (v: number) => scalar(v, { dtype: 'float64' });
const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const l1 = (zs: number[]) => avg(zs.map((z) => softplus(-z)));
const l0 = (zs: number[]) => avg(zs.map((z) => softplus(z)));
const shift = (t: Tensor, c: number) => t.toFlat().map((v) => v - c);

describe('loss values against the formulas of docs/method.md', () => {
  const real = f64(5, 1);
  const policy = f64(5, 2);
  const opposite = f64(5, 3);
  const [mr, mp, mo] = [0.3, -0.2, -0.9];

  it('ℓ(z, 1) = softplus(−z), ℓ(z, 0) = softplus(z), batch-averaged, stable for |z| = 1e4', () => {
    expect(bceWithLogits(real, 1).item()).toBeCloseTo(l1(real.toFlat()), 12);
    expect(bceWithLogits(real, 0).item()).toBeCloseTo(l0(real.toFlat()), 12);
    const big = tensor([1e4, -1e4], { dtype: 'float64' });
    expect(bceWithLogits(big, 1).item()).toBeCloseTo(5e3, 9);
    expect(bceWithLogits(big, 0).item()).toBeCloseTo(5e3, 9);
  });

  it('quad: ¼[ℓ(R−m_P,1) + ℓ(P−m_R,0) + ℓ(P−m_O,1) + ℓ(O−m_P,0)]', () => {
    const expected = 0.25 * (l1(shift(real, mp)) + l0(shift(policy, mr)) + l1(shift(policy, mo)) + l0(shift(opposite, mp)));
    expect(quadDiscriminatorLoss({ real, policy, opposite }, { real: mr, policy: mp, opposite: mo }).item()).toBeCloseTo(expected, 12);
  });

  it('RaGAN discriminator and generator, and the generator-only half', () => {
    expect(raganDiscriminatorLoss(real, policy, { real: mr, fake: mp }).item()).toBeCloseTo(0.5 * (l1(shift(real, mp)) + l0(shift(policy, mr))), 12);
    expect(raganGeneratorLoss(real, policy, { real: mr, fake: mp }).item()).toBeCloseTo(0.5 * (l1(shift(policy, mr)) + l0(shift(real, mp))), 12);
    expect(raganGeneratorFakeLoss(policy, mr).item()).toBeCloseTo(l1(shift(policy, mr)), 12);
  });

  it('L_adv = ½[ℓ(C_w(P_w) − m_w(R_w), 1) + ℓ(C_l(P_l) − m_l(R_l), 1)]; one discriminator: its own term', () => {
    const both = ganpoGeneratorLoss({ policy, meanReal: mr }, { policy: opposite, meanReal: mo }).item();
    expect(both).toBeCloseTo(0.5 * (l1(shift(policy, mr)) + l1(shift(opposite, mo))), 12);
    expect(ganpoGeneratorLoss({ policy, meanReal: mr }).item()).toBeCloseTo(l1(shift(policy, mr)), 12);
  });

  it('non-saturating, hinge and Wasserstein', () => {
    expect(nonSaturatingDiscriminatorLoss(real, policy).item()).toBeCloseTo(0.5 * (l1(real.toFlat()) + l0(policy.toFlat())), 12);
    expect(nonSaturatingGeneratorLoss(policy).item()).toBeCloseTo(l1(policy.toFlat()), 12);
    const hinge = avg(real.toFlat().map((r) => Math.max(0, 1 - r))) + avg(policy.toFlat().map((p) => Math.max(0, 1 + p)));
    expect(hingeDiscriminatorLoss(real, policy).item()).toBeCloseTo(hinge, 12);
    expect(hingeGeneratorLoss(policy).item()).toBeCloseTo(-avg(policy.toFlat()), 12);
    expect(wassersteinCriticLoss(real, policy).item()).toBeCloseTo(avg(policy.toFlat()) - avg(real.toFlat()), 12);
    expect(wassersteinGeneratorLoss(policy).item()).toBeCloseTo(-avg(policy.toFlat()), 12);
  });
});

describe('gradcheck of every loss with respect to the scores and the means (float64)', () => {
  const seeds = fc.integer({ min: 1, max: 1e6 });
  const sizes = fc.integer({ min: 1, max: 5 });
  const runs = { numRuns: 8 };
  it('quad ordering loss', () => {
    fc.assert(
      fc.property(sizes, seeds, (n, s) =>
        gradcheck(
          (r, p, o, mr, mp, mo) => quadDiscriminatorLoss({ real: r, policy: p, opposite: o }, { real: mr, policy: mp, opposite: mo }),
          [f64(n, s), f64(n, s + 1), f64(n, s + 2), m(0.4), m(-0.3), m(-1.1)],
        ),
      ),
      runs,
    );
  });
  it('RaGAN discriminator and generator losses', () => {
    fc.assert(
      fc.property(sizes, seeds, (n, s) => {
        gradcheck((r, f, mr, mf) => raganDiscriminatorLoss(r, f, { real: mr, fake: mf }), [f64(n, s), f64(n, s + 1), m(0.5), m(-0.5)]);
        return gradcheck((r, f, mr, mf) => raganGeneratorLoss(r, f, { real: mr, fake: mf }), [f64(n, s), f64(n, s + 1), m(0.5), m(-0.5)]);
      }),
      runs,
    );
  });
  it('GANPO generator term L_adv (two and one discriminators)', () => {
    fc.assert(
      fc.property(sizes, seeds, (n, s) => {
        gradcheck((pw, mw, pl, ml) => ganpoGeneratorLoss({ policy: pw, meanReal: mw }, { policy: pl, meanReal: ml }), [f64(n, s), m(0.2), f64(n, s + 1), m(-0.7)]);
        return gradcheck((pw, mw) => ganpoGeneratorLoss({ policy: pw, meanReal: mw }), [f64(n, s), m(0.2)]);
      }),
      runs,
    );
  });
  it('non-saturating, hinge (away from the kinks) and Wasserstein losses', () => {
    fc.assert(
      fc.property(sizes, seeds, (n, s) => {
        const awayFromKinks = (t: Tensor) => tensor(t.toFlat().map((v) => (Math.abs(Math.abs(v) - 1) < 0.05 ? v + 0.2 : v)), { dtype: 'float64' });
        gradcheck(nonSaturatingDiscriminatorLoss, [f64(n, s), f64(n, s + 1)]);
        gradcheck(nonSaturatingGeneratorLoss, [f64(n, s)]);
        gradcheck(hingeDiscriminatorLoss, [awayFromKinks(f64(n, s)), awayFromKinks(f64(n, s + 1))]);
        gradcheck(hingeGeneratorLoss, [f64(n, s)]);
        gradcheck(wassersteinCriticLoss, [f64(n, s), f64(n, s + 1)]);
        return gradcheck(wassersteinGeneratorLoss, [f64(n, s)]);
      }),
      runs,
    );
  });
});

describe('ordering accuracies', () => {
  it('pairwise and chain accuracies row by row', () => {
    const real = tensor([3, 3, 0, 2]);
    const policy = tensor([2, 2, 1, 2]);
    const opposite = tensor([1, 5, 0, 1]);
    expect(quadAccuracies({ real, policy, opposite })).toEqual({ realOverPolicy: 0.5, policyOverOpposite: 0.75, pairwise: 0.625, chain: 0.25 });
  });
});
