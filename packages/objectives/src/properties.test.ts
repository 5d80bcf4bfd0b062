import { test as fcTest } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type Tensor, gradients } from '@ganpo/autograd';
import { namespaced, plus, scale } from './combinators.js';
import { type PreferenceConfig, type PreferenceLossName, isReferenceLoss } from './config.js';
import { kto } from './kto.js';
import { preferenceLoss } from './preference.js';
import { LOSS_CASES } from './testing/cases.js';
import { fieldTensors, pairFields, pairLogpsFrom, toUnpairedLogps } from './testing/fixtures.js';
import { batchArb, randomPair, seedArb, swapPair } from './testing/random.js';
import type { ScalarPair } from './testing/scalar-reference.js';
import type { LossTerm, Objective, PairLogps } from './types.js';

/** Evaluates an objective on a ScalarPair (float64), returning the term and the gradient with respect to every field. */
function run(objective: Objective<PairLogps>, x: ScalarPair): { term: LossTerm; loss: number; grads: Map<string, number[]> } {
  const fields = pairFields(x);
  const leaves = fieldTensors(fields).map((t) => t.requireGrad());
  const term = objective(pairLogpsFrom(fields, leaves));
  const grads = gradients(term.loss, leaves, undefined, { allowUnused: true });
  return { term, loss: term.loss.item(), grads: new Map(fields.map((f, i) => [f.path, grads[i].toFlat()])) };
}

const lossOf = (name: PreferenceLossName, config: PreferenceConfig, x: ScalarPair) => run(preferenceLoss(name, config), x).loss;
const metric = (term: LossTerm, name: string) => (term.metrics[name] as Tensor).item();
const close = (a: number, b: number, tol = 1e-10) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));

const pairArb = fc.tuple(seedArb, batchArb).map(([seed, batch]) => randomPair(seed, { batch }));
const tokenPairArb = fc.tuple(seedArb, batchArb, fc.integer({ min: 1, max: 6 })).map(([seed, batch, positions]) => randomPair(seed, { batch, positions }));

/** Rewrites the rejected reference so that Δr = Δc − margin·(|yr| or 1) per pair. */
function withMargin(x: ScalarPair, margin: (i: number) => number, perToken = false): ScalarPair {
  const dc = x.policyChosen.map((p, i) => p - x.refChosen![i]);
  const refRejected = x.policyRejected.map((p, i) =>
    perToken
      ? p - x.rejectedLengths[i] * (dc[i] / x.chosenLengths[i] - margin(i))
      : p - (dc[i] - margin(i)),
  );
  return { ...x, refRejected };
}

describe('identities of docs/objectives.md', () => {
  fcTest.prop([pairArb, fc.double({ min: 0.01, max: 5, noNaN: true })])('sigmoid DPO is log 2 at h = 0', (x, beta) => {
    close(lossOf('sigmoid', { beta }, withMargin(x, () => 0)), Math.LN2, 1e-12);
  });

  fcTest.prop([pairArb, fc.double({ min: -20, max: 20, noNaN: true }), fc.double({ min: 1e-3, max: 20, noNaN: true })])(
    'sigmoid DPO decreases in h',
    (x, h, step) => {
      const at = (m: number) => lossOf('sigmoid', { beta: 0.5 }, withMargin(x, () => m));
      expect(at(h + step)).toBeLessThan(at(h));
    },
  );

  fcTest.prop([pairArb, fc.double({ min: 0.01, max: 2, noNaN: true })])('robust with ε = 0 equals sigmoid, loss and gradient', (x, beta) => {
    const a = run(preferenceLoss('robust', { beta, labelSmoothing: 0 }), x);
    const b = run(preferenceLoss('sigmoid', { beta }), x);
    expect(a.loss).toBe(b.loss);
    for (const [k, g] of a.grads) expect(g).toEqual(b.grads.get(k));
  });

  fcTest.prop([pairArb, fc.double({ min: 0.01, max: 2, noNaN: true })])('cDPO with ε = 0.5 is symmetric in chosen and rejected', (x, beta) => {
    close(lossOf('sigmoid', { beta, labelSmoothing: 0.5 }, x), lossOf('sigmoid', { beta, labelSmoothing: 0.5 }, swapPair(x)), 1e-12);
  });

  fcTest.prop([pairArb, fc.double({ min: 0.01, max: 2, noNaN: true })])("IPO's gradient is zero at h̄ = 1/(2β)", (x, beta) => {
    const { grads, loss } = run(preferenceLoss('ipo', { beta }), withMargin(x, () => 1 / (2 * beta), true));
    expect(loss).toBeLessThan(1e-20);
    for (const g of grads.values()) for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-9);
  });

  const withMargins = LOSS_CASES.filter((k) => k.name !== 'sft');
  test.each(withMargins)('swapping chosen and rejected negates rewards/margins: $label', (k) => {
    fc.assert(
      fc.property(k.tokens ? tokenPairArb : pairArb, (x) => {
        const a = run(preferenceLoss(k.name, k.config), x).term;
        const b = run(preferenceLoss(k.name, k.config), swapPair(x)).term;
        close(metric(b, 'rewards/margins'), -metric(a, 'rewards/margins'), 1e-12);
        close(metric(b, 'rewards/chosen'), metric(a, 'rewards/rejected'), 1e-12);
      }),
      { numRuns: 15 },
    );
  });

  /** A batch whose πc − πr and rc − rr (and Δc, Δr) are all sorted ascending in the same order. */
  const sortedArb = fc.tuple(seedArb, batchArb).map(([seed, batch]) => {
    const x = randomPair(seed, { batch });
    const up = (n: number, start: number, step: number) => Array.from({ length: n }, (_, i) => start + step * i + 0.01 * i * i);
    const margins = up(batch, -3, 1.7);
    const refMargins = up(batch, -1, 0.9);
    const policyRejected = x.policyChosen.map((p, i) => p - margins[i]);
    const refChosen = x.policyChosen.map((p, i) => p - 0.5 * i);
    const refRejected = refChosen.map((r, i) => r - refMargins[i]);
    return { ...x, policyRejected, refChosen, refRejected };
  });
  fcTest.prop([sortedArb, fc.double({ min: 0.01, max: 2, noNaN: true }), fc.constantFrom(0, 0.1, 0.3)])(
    'aot on an already-sorted batch equals sigmoid DPO on the pairs',
    (x, beta, eps) => {
      const dpo = lossOf('sigmoid', { beta, labelSmoothing: eps }, x);
      close(lossOf('aot', { beta, labelSmoothing: eps }, x), dpo, 1e-12);
    },
  );

  const referenceCases = LOSS_CASES.filter((k) => isReferenceLoss(k.name) && !k.config.referenceFree);
  test.each(referenceCases)('reference-free mode equals zero reference log-probs: $label', (k) => {
    fc.assert(
      fc.property(k.tokens ? tokenPairArb : pairArb, (x) => {
        const zeroRefs: ScalarPair = {
          ...x,
          refChosen: x.refChosen!.map(() => 0),
          refRejected: x.refRejected!.map(() => 0),
          tokens: x.tokens && {
            ...x.tokens,
            refChosen: x.tokens.refChosen!.map((r) => r.map(() => 0)),
            refRejected: x.tokens.refRejected!.map((r) => r.map(() => 0)),
          },
        };
        const free = run(preferenceLoss(k.name, { ...k.config, referenceFree: true }), x);
        const zero = run(preferenceLoss(k.name, k.config), zeroRefs);
        expect(free.loss).toBe(zero.loss);
        for (const path of ['policyChosen', 'policyRejected', 'chosenLengths', 'rejectedLengths']) {
          expect(free.grads.get(path)).toEqual(zero.grads.get(path));
        }
      }),
      { numRuns: 10 },
    );
  });
});

describe('options', () => {
  fcTest.prop([tokenPairArb])('LD-DPO with ldAlpha = 1 equals the plain loss on consistent inputs', (x) => {
    for (const name of ['sigmoid', 'ipo', 'bco_pair', 'aot_unpaired'] as const) {
      close(lossOf(name, { ldAlpha: 1 }, x), lossOf(name, {}, x), 1e-10);
    }
  });

  fcTest.prop([tokenPairArb, fc.double({ min: 0, max: 1, noNaN: true })])('LD-DPO changes nothing when both sides have the same length', (x, alpha) => {
    const t = x.tokens!;
    const same: ScalarPair = { ...x, tokens: { ...t, maskRejected: t.maskChosen } };
    const sums = (rows: number[][], m: number[][]) => rows.map((r, b) => r.reduce((a, v, i) => a + m[b][i] * v, 0));
    const consistent: ScalarPair = {
      ...same,
      policyRejected: sums(t.policyRejected, t.maskChosen),
      refRejected: sums(t.refRejected!, t.maskChosen),
      rejectedLengths: x.chosenLengths,
    };
    close(lossOf('sigmoid', { ldAlpha: alpha }, consistent), lossOf('sigmoid', {}, consistent), 1e-10);
  });

  fcTest.prop([tokenPairArb])('WPO weights are 1 (no change) when log p(y_t) equals log Σ p² everywhere', (x) => {
    const t = x.tokens!;
    const flat: ScalarPair = { ...x, tokens: { ...t, logSumSquaredProbsChosen: t.policyChosen, logSumSquaredProbsRejected: t.policyRejected } };
    close(lossOf('sigmoid', { useWeighting: true }, flat), lossOf('sigmoid', {}, flat), 1e-14);
  });

  fcTest.prop([pairArb, fc.integer({ min: 1, max: 30 })])('sigmoid_norm with equal lengths L is sigmoid with β/L', (x, len) => {
    const y = { ...x, chosenLengths: x.chosenLengths.map(() => len), rejectedLengths: x.rejectedLengths.map(() => len) };
    close(lossOf('sigmoid_norm', { beta: 0.3 }, y), lossOf('sigmoid', { beta: 0.3 / len }, y), 1e-12);
  });

  fcTest.prop([pairArb, fc.double({ min: 0, max: 2, noNaN: true })])('cpo is reference-free DPO plus α·sft', (x, alpha) => {
    const composed = plus(preferenceLoss('sigmoid', { referenceFree: true }), scale(alpha, namespaced('sft', preferenceLoss('sft'))));
    const a = run(preferenceLoss('cpo', { alpha }), x);
    const b = run(composed, x);
    close(a.loss, b.loss, 1e-12);
    for (const [k, g] of a.grads) g.forEach((v, i) => close(v, b.grads.get(k)![i], 1e-10));
  });

  fcTest.prop([pairArb, fc.double({ min: 0.05, max: 1, noNaN: true })])('simpo is reference-free sigmoid_norm shifted by γ', (x, gamma) => {
    // With γ = 0 SimPO is length-normalized DPO without a reference.
    close(lossOf('simpo', { beta: 2, gamma: 0 }, x), lossOf('sigmoid_norm', { beta: 2, referenceFree: true }, x), 1e-12);
    // A larger margin can only increase the loss.
    expect(lossOf('simpo', { beta: 2, gamma: gamma + 0.1 }, x)).toBeGreaterThan(lossOf('simpo', { beta: 2, gamma }, x));
  });

  fcTest.prop([pairArb])('an R-DPO penalty of 0 is plain DPO; a positive one penalizes longer chosen responses', (x) => {
    close(lossOf('sigmoid', { lengthPenalty: 0 }, x), lossOf('sigmoid', {}, x), 0);
    const longer = { ...x, chosenLengths: x.rejectedLengths.map((l) => l + 5) };
    expect(lossOf('sigmoid', { lengthPenalty: 0.1 }, longer)).toBeGreaterThan(lossOf('sigmoid', {}, longer));
  });
});

describe('kto', () => {
  const unpairedArb = fc.tuple(seedArb, fc.integer({ min: 1, max: 6 })).map(([seed, n]) => {
    const x = randomPair(seed, { batch: n });
    return {
      policy: x.policyChosen,
      ref: x.refChosen!,
      desirable: x.chosenLengths.map((l) => (l % 2 === 0 ? 1 : 0)),
      klPolicy: x.policyRejected,
      klRef: x.refRejected!,
    };
  });
  fcTest.prop([unpairedArb, fc.double({ min: 0.1, max: 3, noNaN: true })])('the loss is linear in the class weights', (x, w) => {
    const input = toUnpairedLogps(x);
    close(kto({ desirableWeight: w, undesirableWeight: w })(input).loss.item(), w * kto()(input).loss.item(), 1e-12);
  });
  fcTest.prop([unpairedArb])('z0 is max(0, mean KL estimate) and klEstimate none means z0 = 0', (x) => {
    const input = toUnpairedLogps(x);
    const mean = x.klPolicy.reduce((a, p, i) => a + p - x.klRef[i], 0) / x.klPolicy.length;
    close((kto()(input).metrics.kl as Tensor).item(), Math.max(0, mean), 1e-12);
    const noKl = { ...input, klPolicy: undefined, klRef: undefined };
    expect((kto({ klEstimate: 'none' })(noKl).metrics.kl as Tensor).item()).toBe(0);
  });
  test('metrics of a batch with one class only leave out the other class', () => {
    const input = toUnpairedLogps({ policy: [-3, -4], ref: [-3.5, -3], desirable: [1, 1], klPolicy: [-5], klRef: [-5.5] });
    const m = kto()(input).metrics;
    expect(m['count/desirable']).toBe(2);
    expect(m['count/undesirable']).toBe(0);
    expect(m['rewards/rejected']).toBeUndefined();
    expect(m['rewards/margins']).toBeUndefined();
    close((m['rewards/chosen'] as Tensor).item(), 0.1 * ((0.5 + -1) / 2), 1e-12);
  });
});
