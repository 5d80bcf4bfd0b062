import { test as fcTest } from '@fast-check/vitest';
import fc from 'fast-check';
import { concatAll } from 'fp-ts/lib/Monoid.js';
import { describe, expect, test } from 'vitest';
import { type Tensor, gradients, mean, mul, scalar, square, tensor } from '@ganpo/autograd';
import {
  contramap, getObjectiveMonoid, metricValues, namespaced, plus, scale, sumObjectives, weighted, zero,
} from './combinators.js';
import { preferenceLoss } from './preference.js';
import { fieldTensors, pairFields, pairLogpsFrom } from './testing/fixtures.js';
import { batchArb, randomPair, seedArb } from './testing/random.js';
import type { ScalarPair } from './testing/scalar-reference.js';
import type { Objective, PairLogps } from './types.js';

const pairArb = fc.tuple(seedArb, batchArb).map(([seed, batch]) => randomPair(seed, { batch }));

function evaluate(objective: Objective<PairLogps>, x: ScalarPair) {
  const fields = pairFields(x);
  const leaves = fieldTensors(fields).map((t) => t.requireGrad());
  const term = objective(pairLogpsFrom(fields, leaves));
  const grads = gradients(term.loss, leaves, undefined, { allowUnused: true }).flatMap((g) => g.toFlat());
  return { loss: term.loss.item(), grads, metrics: metricValues(term.metrics), term };
}

const expectClose = (a: { loss: number; grads: number[] }, b: { loss: number; grads: number[] }, tol = 1e-12) => {
  expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b.loss)));
  a.grads.forEach((g, i) => expect(Math.abs(g - b.grads[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b.grads[i]))));
};

const dpo = namespaced('dpo', preferenceLoss('sigmoid'));
const bco = namespaced('bco', preferenceLoss('bco_pair', { beta: 0.2 }));
const ipo = namespaced('ipo', preferenceLoss('ipo', { beta: 0.5 }));
const sft = preferenceLoss('sft');
const M = getObjectiveMonoid<PairLogps>();
const weightArb = fc.double({ min: -3, max: 3, noNaN: true });

describe('the objective monoid', () => {
  fcTest.prop([pairArb])('associativity', (x) => {
    const left = evaluate(M.concat(M.concat(dpo, bco), ipo), x);
    const right = evaluate(M.concat(dpo, M.concat(bco, ipo)), x);
    expectClose(left, right);
    expect(left.metrics).toEqual(right.metrics);
  });

  fcTest.prop([pairArb])('identity on both sides, exactly', (x) => {
    const plain = evaluate(dpo, x);
    for (const o of [M.concat(M.empty, dpo), M.concat(dpo, M.empty)]) {
      const r = evaluate(o, x);
      expect(r.loss).toBe(plain.loss);
      expect(r.grads).toEqual(plain.grads);
      expect(r.metrics).toEqual(plain.metrics);
    }
  });

  test('the identity works for float32 and float64 losses alike', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const o: Objective<number> = () => ({ loss: scalar(2, { dtype }), metrics: {} });
      const term = plus(zero<number>(), scale(3, o))(0);
      expect(term.loss.dtype).toBe(dtype);
      expect(term.loss.item()).toBe(6);
    }
    expect(sumObjectives<number>([])(0).loss.item()).toBe(0);
  });

  fcTest.prop([pairArb])('concatAll (fp-ts) is the sum of the losses', (x) => {
    const total = evaluate(concatAll(M)([dpo, bco, ipo, sft]), x);
    const parts = [dpo, bco, ipo, sft].map((o) => evaluate(o, x));
    expectClose(total, {
      loss: parts.reduce((a, p) => a + p.loss, 0),
      grads: parts[0].grads.map((_, i) => parts.reduce((a, p) => a + p.grads[i], 0)),
    });
  });

  test('two terms with the same metric names are an error unless namespaced', () => {
    const x = randomPair(1, { batch: 2 });
    expect(() => evaluate(plus(preferenceLoss('sigmoid'), preferenceLoss('bco_pair')), x)).toThrow(/rewards\/chosen.*namespaced/);
    const ok = evaluate(plus(preferenceLoss('sigmoid'), namespaced('bco_pair', preferenceLoss('bco_pair'))), x);
    expect(Object.keys(ok.metrics)).toContain('rewards/margins');
    expect(Object.keys(ok.metrics)).toContain('bco_pair/rewards/margins');
  });
});

describe('scale is linear', () => {
  fcTest.prop([pairArb, weightArb, weightArb])('scale(a)∘scale(b) = scale(a·b)', (x, a, b) => {
    expectClose(evaluate(scale(a, scale(b, dpo)), x), evaluate(scale(a * b, dpo), x), 1e-12);
  });
  fcTest.prop([pairArb, weightArb])('scale distributes over the sum', (x, w) => {
    expectClose(evaluate(scale(w, plus(dpo, bco)), x), evaluate(plus(scale(w, dpo), scale(w, bco)), x), 1e-12);
  });
  fcTest.prop([pairArb, weightArb, weightArb])('scale(a + b) = scale(a) + scale(b)', (x, a, b) => {
    const twice = plus(scale(a, dpo), scale(b, namespaced('again', dpo)));
    expectClose(evaluate(scale(a + b, dpo), x), evaluate(twice, x), 1e-11);
  });
  fcTest.prop([pairArb])('scale(1) is the identity and scale(0) zeroes the loss and gradient', (x) => {
    const plain = evaluate(dpo, x);
    expect(evaluate(scale(1, dpo), x).loss).toBe(plain.loss);
    const none = evaluate(scale(0, dpo), x);
    expect(none.loss).toBe(0);
    expect(none.grads.every((g) => g === 0)).toBe(true);
    expect(none.metrics).toEqual(plain.metrics);
  });
  test('weights must be finite', () => {
    expect(() => scale(Number.NaN, dpo)).toThrow(/finite/);
  });
});

describe('weighted (TRL loss_weights)', () => {
  fcTest.prop([pairArb])('the MPO recipe: 0.8·sigmoid + 0.2·bco_pair + 1.0·sft', (x) => {
    const mpo = weighted([
      [0.8, preferenceLoss('sigmoid')],
      [0.2, namespaced('bco_pair', preferenceLoss('bco_pair'))],
      [1.0, preferenceLoss('sft')],
    ]);
    const r = evaluate(mpo, x);
    const parts = [preferenceLoss('sigmoid'), preferenceLoss('bco_pair'), preferenceLoss('sft')].map((o) => evaluate(o, x).loss);
    expect(Math.abs(r.loss - (0.8 * parts[0] + 0.2 * parts[1] + parts[2]))).toBeLessThan(1e-12);
    expect(Object.keys(r.metrics).sort()).toEqual(
      ['bco_pair/logps/chosen', 'bco_pair/logps/rejected', 'bco_pair/rewards/accuracies', 'bco_pair/rewards/chosen',
        'bco_pair/rewards/margins', 'bco_pair/rewards/rejected', 'logps/chosen', 'logps/rejected', 'nll_loss',
        'rewards/accuracies', 'rewards/chosen', 'rewards/margins', 'rewards/rejected'].sort(),
    );
  });
});

describe('contramap and a second term over a shared step input', () => {
  /** A stand-in for a latent regularizer: any objective over another part of the step input. */
  interface Latents {
    policy: Tensor;
    reference: Tensor;
  }
  interface Step {
    logps: PairLogps;
    latents: Latents;
  }
  const latentTerm: Objective<Latents> = ({ policy, reference }) => {
    const loss = mean(square(policy.sub(reference)));
    return { loss, metrics: { 'latent/distance': loss.detach() } };
  };

  test('the total is exactly the sum of the two terms, loss and gradient', () => {
    const x = randomPair(3, { batch: 3 });
    const fields = pairFields(x);
    const leaves = fieldTensors(fields).map((t) => t.requireGrad());
    const policy = tensor([[0.5, -1.0], [2.0, 0.25], [1.5, -0.5]], { dtype: 'float64' }).requireGrad();
    const reference = tensor([[0.0, -1.5], [1.0, 0.75], [1.0, 0.5]], { dtype: 'float64' });
    const step: Step = { logps: pairLogpsFrom(fields, leaves), latents: { policy, reference } };

    const lambda = 0.7;
    const total = plus(
      contramap((s: Step) => s.logps, preferenceLoss('sigmoid', { beta: 0.1 })),
      contramap((s: Step) => s.latents)(scale(lambda, latentTerm)),
    );
    const term = total(step);
    const dpoPart = preferenceLoss('sigmoid', { beta: 0.1 })(step.logps).loss.item();
    const latentPart = latentTerm(step.latents).loss.item();
    expect(term.loss.item()).toBe(dpoPart + lambda * latentPart);
    const [gPolicy] = gradients(term.loss, [policy]);
    const expected = mul(policy.detach().sub(reference), (2 * lambda) / policy.size);
    gPolicy.toFlat().forEach((g, i) => expect(g).toBeCloseTo(expected.toFlat()[i], 14));
    expect(Object.keys(term.metrics)).toContain('latent/distance');
    expect(Object.keys(term.metrics)).toContain('rewards/margins');
  });

  fcTest.prop([pairArb])('contramap(f)(o)(b) = o(f(b))', (x) => {
    const fields = pairFields(x);
    const input = pairLogpsFrom(fields, fieldTensors(fields));
    const direct = preferenceLoss('ipo')(input).loss.item();
    const adapted = contramap((s: { logps: PairLogps }) => s.logps)(preferenceLoss('ipo'))({ logps: input }).loss.item();
    expect(adapted).toBe(direct);
  });
});

describe('namespaced', () => {
  test('prefixes every metric and keeps the loss', () => {
    const x = randomPair(5, { batch: 2 });
    const plain = evaluate(preferenceLoss('orpo'), x);
    const spaced = evaluate(namespaced('orpo', preferenceLoss('orpo')), x);
    expect(spaced.loss).toBe(plain.loss);
    expect(Object.keys(spaced.metrics)).toEqual(Object.keys(plain.metrics).map((k) => `orpo/${k}`));
    expect(() => namespaced('', dpo)).toThrow(/empty/);
  });
  test('metricValues reads every metric as a plain number', () => {
    const fields = pairFields(randomPair(2, { batch: 3 }));
    const values = metricValues(preferenceLoss('sigmoid')(pairLogpsFrom(fields, fieldTensors(fields))).metrics);
    expect(Object.values(values).every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
  });
});
