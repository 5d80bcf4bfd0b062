import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type DType, Tensor, gradients } from '@ganpo/autograd';
import { metricValues } from './combinators.js';
import { kto } from './kto.js';
import { preferenceLoss } from './preference.js';
import { LOSS_CASES } from './testing/cases.js';
import { fieldTensors, pairFields, pairLogpsFrom, toUnpairedLogps } from './testing/fixtures.js';
import type { ScalarPair } from './testing/scalar-reference.js';

/**
 * The stability contract: no NaN or Inf in the loss, its gradient or the metrics, in float32 and float64, for log-probs
 * anywhere in [−1e4, 0] (both ends included), lengths of 1, and |βh| up to 1e4 and beyond.
 */

/** Log-probs drawn from the edges of the range and a few points inside. */
const logp = fc.constantFrom(-1e4, -9999, -5000, -1234.5, -60, -1, -1e-3, -1e-7, 0);
const length = fc.constantFrom(1, 1, 2, 1000);
const beta = fc.constantFrom(0.1, 1, 5);

const batchArb = fc.integer({ min: 1, max: 4 }).chain((b) => {
  const vec = <T>(a: fc.Arbitrary<T>) => fc.array(a, { minLength: b, maxLength: b });
  return fc.record({
    policyChosen: vec(logp),
    policyRejected: vec(logp),
    refChosen: vec(logp),
    refRejected: vec(logp),
    chosenLengths: vec(length),
    rejectedLengths: vec(length),
  });
});

/** Per-token inputs at the edges: T positions of log-probs in [−1e4, 0] and log Σp² in [−1e4, 0]. */
const tokenBatchArb = fc.record({ b: fc.integer({ min: 1, max: 3 }), t: fc.integer({ min: 1, max: 4 }) }).chain(({ b, t }) => {
  const mat = <T>(a: fc.Arbitrary<T>) => fc.array(fc.array(a, { minLength: t, maxLength: t }), { minLength: b, maxLength: b });
  const mask = mat(fc.constantFrom(0, 1)).map((m) => m.map((row) => (row.includes(1) ? row : row.map((_, i) => (i === 0 ? 1 : 0)))));
  return fc.record({
    policyChosen: mat(logp), policyRejected: mat(logp), refChosen: mat(logp), refRejected: mat(logp),
    maskChosen: mask, maskRejected: mask,
    logSumSquaredProbsChosen: mat(logp), logSumSquaredProbsRejected: mat(logp),
  }).map((tokens): ScalarPair => {
    const sums = (rows: number[][], m: number[][]) => rows.map((r, i) => r.reduce((a, v, j) => a + m[i][j] * v, 0));
    const counts = (m: number[][]) => m.map((r) => r.reduce((a, v) => a + v, 0));
    return {
      policyChosen: sums(tokens.policyChosen, tokens.maskChosen),
      policyRejected: sums(tokens.policyRejected, tokens.maskRejected),
      refChosen: sums(tokens.refChosen, tokens.maskChosen),
      refRejected: sums(tokens.refRejected, tokens.maskRejected),
      chosenLengths: counts(tokens.maskChosen),
      rejectedLengths: counts(tokens.maskRejected),
      tokens,
    };
  });
});

function allFinite(k: (typeof LOSS_CASES)[number], x: ScalarPair, b: number, dtype: DType): void {
  const fields = pairFields(x);
  const leaves = fieldTensors(fields, dtype).map((t) => t.requireGrad());
  const config = { ...k.config, ...(k.name === 'sft' ? {} : { beta: b }) };
  const term = preferenceLoss(k.name, config)(pairLogpsFrom(fields, leaves));
  const where = `${k.label} (${dtype}, β = ${b}) on ${JSON.stringify(x)}`;
  if (!Number.isFinite(term.loss.item())) throw new Error(`${where}: loss ${term.loss.item()}`);
  const grads = gradients(term.loss, leaves, undefined, { allowUnused: true });
  grads.forEach((g, i) => {
    const bad = g.toFlat().find((v) => !Number.isFinite(v));
    if (bad !== undefined) throw new Error(`${where}: gradient for ${fields[i].path} has ${bad}`);
  });
  for (const [name, value] of Object.entries(metricValues(term.metrics))) {
    if (!Number.isFinite(value)) throw new Error(`${where}: metric ${name} is ${value}`);
  }
}

describe.each(['float64', 'float32'] as const)('no NaN or Inf at the limits (%s)', (dtype) => {
  test.each(LOSS_CASES.filter((k) => !k.tokens))('$label', (k) => {
    fc.assert(fc.property(batchArb, beta, (x, b) => allFinite(k, x, b, dtype)), { numRuns: 15 });
  });
  test.each(LOSS_CASES.filter((k) => k.tokens))('$label (per-token)', (k) => {
    fc.assert(fc.property(tokenBatchArb, beta, (x, b) => allFinite(k, x, b, dtype)), { numRuns: 15 });
  });

  test('|βh| = 1e4 exactly, both signs, every loss', () => {
    // Δc = 4999, Δr = −4999: βh = ±9998 at β = 1 (and ±5e4 at β = 5 in the property above).
    const up: ScalarPair = {
      policyChosen: [-1], policyRejected: [-9999], refChosen: [-5000], refRejected: [-5000], chosenLengths: [1], rejectedLengths: [1],
    };
    const down: ScalarPair = { ...up, policyChosen: [-9999], policyRejected: [-1] };
    for (const k of LOSS_CASES.filter((c) => !c.tokens)) {
      allFinite(k, up, 1, dtype);
      allFinite(k, down, 1, dtype);
    }
  });

  test('kto', () => {
    const v = fc.array(logp, { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(v, v, v, v, fc.array(fc.constantFrom(0, 1), { minLength: 4, maxLength: 4 }), beta, (p, r, kp, kr, d, b) => {
        const n = Math.min(p.length, r.length);
        const m = Math.min(kp.length, kr.length);
        const input = toUnpairedLogps(
          { policy: p.slice(0, n), ref: r.slice(0, n), desirable: d.slice(0, n), klPolicy: kp.slice(0, m), klRef: kr.slice(0, m) },
          dtype,
        );
        const policy = input.policy.requireGrad();
        const term = kto({ beta: b })({ ...input, policy });
        expect(Number.isFinite(term.loss.item())).toBe(true);
        expect(gradients(term.loss, [policy])[0].toFlat().every(Number.isFinite)).toBe(true);
        expect(Object.values(metricValues(term.metrics)).every(Number.isFinite)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});

test('metric tensors are detached scalars', () => {
  const x: ScalarPair = {
    policyChosen: [-3, -4], policyRejected: [-5, -2], refChosen: [-3.5, -4], refRejected: [-4, -2.5], chosenLengths: [2, 3], rejectedLengths: [4, 1],
  };
  for (const k of LOSS_CASES.filter((c) => !c.tokens)) {
    const fields = pairFields(x);
    const term = preferenceLoss(k.name, k.config)(pairLogpsFrom(fields, fieldTensors(fields).map((t) => t.requireGrad())));
    for (const v of Object.values(term.metrics)) {
      if (v instanceof Tensor) {
        expect(v.shape).toEqual([]);
        expect(v.requiresGrad).toBe(false);
      }
    }
  }
});
