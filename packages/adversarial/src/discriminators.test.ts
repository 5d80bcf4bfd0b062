import fc from 'fast-check';
import { Rng, type Tensor, noGrad, randn, slice } from '@ganpo/autograd';
import { describe, expect, it } from 'vitest';
import { MlpDiscriminator, TransformerDiscriminator, spectralLayers } from './discriminators.js';
import { Ganpo } from './ganpo.js';
import { prefixMask, randomPairLatents } from './testing/fixtures.js';

/** σ_max of an [n, m] row-major matrix: √ of the top eigenvalue of AᵀA by power iteration (float64, many steps). */
function topSingularValue(a: ArrayLike<number>, n: number, m: number): number {
  let v = Array.from({ length: m }, (_, j) => 1 + 0.1 * Math.sin(j + 1));
  let lambda = 0;
  for (let it = 0; it < 3000; it++) {
    const av = Array.from({ length: n }, (_, i) => v.reduce((acc, x, j) => acc + a[i * m + j] * x, 0));
    const atav = Array.from({ length: m }, (_, j) => av.reduce((acc, x, i) => acc + a[i * m + j] * x, 0));
    const norm = Math.hypot(...atav);
    if (norm === 0) return 0;
    lambda = norm / Math.hypot(...v);
    v = atav.map((x) => x / norm);
  }
  return Math.sqrt(lambda);
}

const sigmaOf = (w: Tensor) => topSingularValue(w.data, w.shape[0], w.shape[1]);

describe('TransformerDiscriminator', () => {
  const make = (extra: Partial<ConstructorParameters<typeof TransformerDiscriminator>[0]> = {}) =>
    new TransformerDiscriminator({ inputDim: 6, rng: Rng.seeded(1), width: 8, heads: 2, layers: 2, maxLen: 10, ...extra });

  it('scores [B, T, d] latents to [B]; the documented parameters; Xavier weights, zero biases, N(0, 0.02²) positions', () => {
    const disc = make();
    const scores = disc.forward(randn([3, 5, 6], Rng.seeded(2)), { mask: prefixMask([5, 3, 1], 5) });
    expect(scores.shape).toEqual([3]);
    const names = disc.namedParameters().map(([n]) => n);
    expect(names.slice(0, 3)).toEqual(['positionEmbedding', 'inputProj.weight', 'inputProj.bias']);
    expect(names).toContain('layers.1.attn.q.weight');
    expect(names.slice(-4)).toEqual(['head0.weight', 'head0.bias', 'head1.weight', 'head1.bias']);
    expect(disc.namedBuffers().map(([n]) => n)).toEqual(['inputProj.u', 'inputProj.v', 'head0.u', 'head0.v', 'head1.u', 'head1.v']);
    const bound = Math.sqrt(6 / (6 + 8));
    expect(Math.max(...disc.inputProj.weight.toFlat().map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(disc.head0.bias!.toFlat().every((x) => x === 0)).toBe(true);
    const pe = disc.positionEmbedding.toFlat();
    const std = Math.sqrt(pe.reduce((a, x) => a + x * x, 0) / pe.length);
    expect(std).toBeGreaterThan(0.01);
    expect(std).toBeLessThan(0.03);
    expect(spectralLayers(disc)).toHaveLength(3);
    expect(spectralLayers(make({ spectralNorm: false }))).toHaveLength(0);
  });

  it('dropout is on in training mode and off in evaluation mode', () => {
    const disc = make({ dropout: 0.3 });
    const x = randn([4, 5, 6], Rng.seeded(3));
    disc.eval();
    const a = disc.forward(x).toFlat();
    expect(disc.forward(x).toFlat()).toEqual(a);
    disc.train();
    const b = disc.forward(x).toFlat();
    const c = disc.forward(x).toFlat();
    expect(b).not.toEqual(c);
  });

  it('cuts sequences longer than maxLen', () => {
    const disc = make().eval();
    const x = randn([2, 13, 6], Rng.seeded(4), { dtype: 'float32' });
    const mask = prefixMask([13, 12], 13);
    const cut = disc.forward(slice(x, [0, 0, 0], [2, 10, 6]), { mask: slice(mask, [0, 0], [2, 10]) });
    expect(disc.forward(x, { mask }).toFlat()).toEqual(cut.toFlat());
  });

  it('a frozen discriminator gets no parameter gradients, the latents still do', () => {
    const disc = make().freeze();
    expect(disc.training).toBe(false);
    const x = randn([2, 4, 6], Rng.seeded(5)).requireGrad();
    disc.forward(x).sum().backward();
    expect(disc.parameters().every((p) => p.grad === null)).toBe(true);
    expect(x.grad).not.toBeNull();
    disc.unfreeze();
    expect(disc.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it('rejects latents of the wrong width', () => {
    expect(() => make().forward(randn([2, 4, 5], Rng.seeded(6)))).toThrow(/must be \[B, T, 6\]/);
  });
});

describe('MlpDiscriminator', () => {
  it('pools first, then an MLP of spectral-normalised layers', () => {
    const disc = new MlpDiscriminator({ inputDim: 6, rng: Rng.seeded(1), width: 8, layers: 2 });
    expect(disc.namedParameters().map(([n]) => n)).toEqual([
      'layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias', 'layers.2.weight', 'layers.2.bias', 'layers.3.weight', 'layers.3.bias',
    ]);
    expect(spectralLayers(disc)).toHaveLength(4);
    const x = randn([3, 5, 6], Rng.seeded(2));
    expect(disc.forward(x, { mask: prefixMask([5, 2, 1], 5) }).shape).toEqual([3]);
    // Position-free: permuting real tokens does not change the score.
    const perm = randn([1, 2, 6], Rng.seeded(3));
    const swapped = perm.toFlat().slice(6).concat(perm.toFlat().slice(0, 6));
    const a = noGrad(() => disc.eval().forward(perm)).item();
    const b = noGrad(() => disc.forward(randn([1, 2, 6], Rng.seeded(3)).detach().assign(Float32Array.from(swapped)))).item();
    expect(b).toBeCloseTo(a, 6);
  });
});

describe('spectral normalisation keeps σ_max of every normalised weight at 1 after warm-up', () => {
  it('property over random weights (scale 0.05 to 20), both architectures', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.double({ min: Math.log(0.05), max: Math.log(20), noNaN: true }),
        fc.constantFrom('transformer', 'mlp'),
        (seed, logScale, arch) => {
          const rng = Rng.seeded(seed);
          const d = rng.int(2, 7);
          const disc =
            arch === 'transformer'
              ? new TransformerDiscriminator({ inputDim: d, rng, width: 8, heads: 2, maxLen: 8, dtype: 'float64', dropout: 0 })
              : new MlpDiscriminator({ inputDim: d, rng, width: rng.int(2, 9), layers: 1, dtype: 'float64' });
          const scale = Math.exp(logScale);
          for (const layer of spectralLayers(disc)) layer.weight.assign(randn(layer.weight.shape, rng, { dtype: 'float64', std: scale }).data);
          disc.train();
          const x = randn([2, 3, d], rng, { dtype: 'float64' });
          for (let i = 0; i < 40; i++) noGrad(() => disc.forward(x)); // warm-up: one power step per training forward
          for (const layer of spectralLayers(disc)) {
            const s = sigmaOf(noGrad(() => layer.normalizedWeight()));
            expect(Math.abs(s - 1)).toBeLessThan(1e-3);
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it('and stays there while the discriminators train', () => {
    const state = Ganpo.create({ discLr: 1e-2, width: 16, heads: 2, dropout: 0, seed: 4 }, { latentDim: 5 });
    for (let i = 0; i < 25; i++) state.discriminatorStep(randomPairLatents({ b: 4, tChosen: 5, tRejected: 4, d: 5, seed: i, shift: { refChosen: 1 } }));
    for (const disc of [state.chosen, state.rejected!]) {
      for (const layer of spectralLayers(disc)) expect(Math.abs(sigmaOf(noGrad(() => layer.normalizedWeight())) - 1)).toBeLessThan(2e-2);
    }
  });
});
