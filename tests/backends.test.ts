import { gpujsAvailability } from '@ganpo/kernels';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AdamW, Embedding, LayerNorm, Linear, Rng, type Tensor, TransformerBlock, add, bmm, cast, concat, crossEntropy, gather, gelu,
  indices, layerNorm, logSoftmax, logSumExp, matmul, max, mean, mul, noGrad, pad, permute, randn, slice, softmax,
  softplus, sort, sub, sum, tanh, vjp, where, withBackend,
} from '@ganpo/autograd';

// Every accelerated backend computes in float32. Property: its analytical gradient of each op family, projected
// as uᵀJv, matches central finite differences of the same function computed in float64 on the reference backend,
// within float32 tolerance. And a small transformer trains to the same losses on every backend from one seed.

const headlessgl = gpujsAvailability().modes.headlessgl.ok;
const requireGl = process.env.GANPO_REQUIRE_HEADLESSGL === '1';
const backends: [string, string, Record<string, unknown>?][] = [
  ['fast', 'fast'],
  ['gpujs (cpu mode)', 'gpujs', { mode: 'cpu' }],
  ['gpujs (webasm mode)', 'gpujs', { mode: 'webasm' }],
  ...(headlessgl || requireGl ? [['gpujs (headlessgl mode)', 'gpujs', { mode: 'headlessgl' }] as [string, string, Record<string, unknown>]] : []),
];

type Fn = (...xs: Tensor[]) => Tensor;
const ids = indices([1, 0, 2, 2, 1, 0], [2, 3]);
const cases: [string, Fn, number[][]][] = [
  ['element-wise with broadcasting', (a, b) => mul(tanh(add(a, b)), softplus(sub(a, b))), [[3, 4], [4]]],
  ['gelu', (a) => gelu(a), [[5, 7]]],
  ['where', (a, b) => where(a.gt(0), a, mul(b, 2)), [[3, 4], [3, 1]]],
  ['reductions', (a) => concat([sum(a, 1), max(a, 0), logSumExp(a, 1), mean(a, [0, 1], false).reshape([1])], 0), [[3, 5]]],
  ['matmul NN / batched', (a, b) => matmul(a, b), [[2, 3, 5], [5, 4]]],
  ['bmm NT and TN', (a, b) => add(bmm(a, b, false, true), bmm(a, b, true, false).sum()), [[2, 4, 4], [2, 4, 4]]],
  ['movement', (a) => pad(slice(permute(a, [1, 0, 2]), [0, 1], [2, 3]), [1, 0, 0], [0, 1, 1], 0.5), [[3, 2, 4]]],
  ['gather and sort', (a) => add(gather(a, 1, ids), sort(a, 1).values.slice([0, 0], [2, 3])), [[2, 4]]],
  ['softmax and logSoftmax', (a) => add(softmax(a, 1), logSoftmax(a, 0)), [[3, 6]]],
  ['layerNorm', (a, g, b) => layerNorm(a, g, b), [[4, 8], [8], [8]]],
  ['crossEntropy', (a) => crossEntropy(a, indices([3, -1, 0, 5], [4])), [[4, 7]]],
];

function projectionCheck(backend: string, options: Record<string, unknown> | undefined, f: Fn, shapes: number[][], seed: number): void {
  const rng = Rng.seeded(seed);
  const x64 = shapes.map((s) => randn(s, rng, { dtype: 'float64' }));
  const out64 = noGrad(() => f(...x64));
  const u = randn(out64.shape, rng, { dtype: 'float64' });
  const v = x64.map((x) => randn(x.shape, rng, { dtype: 'float64' }));
  const eps = 1e-6;
  const dot = (a: Tensor, b: Tensor) => sum(mul(a, b)).item();
  const shifted = (sign: number) => noGrad(() => f(...x64.map((x, i) => add(x, mul(v[i], sign * eps)))));
  const numeric = (dot(u, shifted(1)) - dot(u, shifted(-1))) / (2 * eps);
  const analytic = withBackend(backend, () => {
    const { pullback } = vjp(f, ...x64.map((x) => cast(x, 'float32')));
    return pullback(cast(u, 'float32')).reduce((acc, g, i) => acc + dot(cast(g, 'float64'), v[i]), 0);
  }, options);
  const scale = Math.sqrt(v.reduce((a, t) => a + dot(t, t), 0) * dot(u, u));
  expect(Math.abs(analytic - numeric)).toBeLessThanOrEqual(2e-3 * scale + 1e-2 * Math.abs(numeric));
}

describe.each(backends)('%s', (_label, backend, options) => {
  for (const [name, f, shapes] of cases) {
    it(`gradient of ${name} matches float64 finite differences (float32 tolerance)`, () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 1e6 }), (seed) => projectionCheck(backend, options, f, shapes, seed)), { numRuns: 4 });
    });
  }
});

/** Trains a 1-block causal transformer on a copy task for a few AdamW steps; returns the losses. */
function trainLosses(): number[] {
  const rng = Rng.seeded(11);
  const d = 16;
  const emb = new Embedding(8, d, { rng });
  const pos = randn([6, d], rng, { std: 0.02 }).requireGrad();
  const block = new TransformerBlock(d, 2, 32, { rng, causal: true });
  const norm = new LayerNorm(d);
  const head = new Linear(d, 8, { rng });
  const params = [...emb.parameters(), pos, ...block.parameters(), ...norm.parameters(), ...head.parameters()];
  const opt = new AdamW(params, { lr: 1e-2 });
  const data = Rng.seeded(3);
  const losses: number[] = [];
  for (let step = 0; step < 8; step++) {
    const seq = Array.from({ length: 4 * 6 }, () => data.int(0, 7));
    const x = add(emb.forward(indices(seq, [4, 6])), pos);
    const logits = head.forward(norm.forward(block.forward(x)));
    const targets = indices(seq.map((t, i) => (i % 6 === 5 ? -1 : seq[i + 1])), [4, 6]);
    const loss = mean(crossEntropy(logits, targets));
    opt.zeroGrad();
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return losses;
}

describe('a small model trains to the same losses on every backend, from the same seed', () => {
  const reference = withBackend('cpu', trainLosses);
  it('the reference run learns', () => {
    expect(reference[reference.length - 1]).toBeLessThan(reference[0]);
  });
  for (const [label, backend, options] of backends) {
    it(label, () => {
      const losses = withBackend(backend, trainLosses, options);
      losses.forEach((l, i) => expect(Math.abs(l - reference[i])).toBeLessThan(2e-3 * Math.max(1, Math.abs(reference[i]))));
    });
  }
});

if (!headlessgl && !requireGl) it.skip('gpujs headlessgl backend checks (no gl context here; CI runs them under xvfb-run)', () => {});
