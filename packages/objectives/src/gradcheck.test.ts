import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type Tensor, gradcheck, gradients } from '@ganpo/autograd';
import { PREFERENCE_LOSS_NAMES } from './config.js';
import { kto } from './kto.js';
import { preferenceLoss } from './preference.js';
import { LOSS_CASES, type LossCase } from './testing/cases.js';
import { type Field, fieldTensors, pairFields, pairLogpsFrom, toUnpairedLogps } from './testing/fixtures.js';
import { batchArb, randomPair, seedArb } from './testing/random.js';
import type { ScalarPair } from './testing/scalar-reference.js';

/**
 * gradcheck (float64 central differences, the engine's public checker) of every loss with respect to every input
 * tensor that carries gradient, on random batches and on batches at the stability limits. Inputs that reach a loss
 * only through a stop-gradient (WPO's weights) are held fixed there and checked to receive exactly zero gradient.
 */

function check(k: LossCase, x: ScalarPair, eps = 1e-6): void {
  const fields = pairFields(x);
  const tensors = fieldTensors(fields);
  const objective = preferenceLoss(k.name, k.config);
  const free = fields.map((f, i) => ({ f, i })).filter(({ f }) => !k.stopGradient.includes(f.path));
  const f = (...xs: Tensor[]) => {
    const all = [...tensors];
    free.forEach(({ i }, j) => (all[i] = xs[j]));
    return objective(pairLogpsFrom(fields, all)).loss;
  };
  // Central differences of a loss of magnitude L lose about ulp(L)/eps to rounding: the tolerance says so.
  const magnitude = Math.abs(f(...free.map(({ i }) => tensors[i])).item());
  gradcheck(f, free.map(({ i }) => tensors[i]), { eps, atol: 1e-5 + (8 * magnitude * Number.EPSILON) / eps });
  if (k.stopGradient.length > 0) zeroGradient(k, fields, tensors);
}

function zeroGradient(k: LossCase, fields: Field[], tensors: Tensor[]): void {
  const leaves = tensors.map((t) => t.detach().requireGrad());
  const loss = preferenceLoss(k.name, k.config)(pairLogpsFrom(fields, leaves)).loss;
  const grads = gradients(loss, leaves, undefined, { allowUnused: true });
  fields.forEach((f, i) => {
    // With LD-DPO the per-token log-probs and masks also form the sequence log-probs: only pure stop-gradient inputs are 0.
    const onlyWeights = f.path.startsWith('tokens.logSumSquaredProbs') || k.config.ldAlpha === undefined;
    if (k.stopGradient.includes(f.path) && onlyWeights) expect(grads[i].toFlat().every((g) => g === 0)).toBe(true);
  });
}

describe('gradcheck on random batches', () => {
  test('the cases cover every loss', () => {
    expect(new Set(LOSS_CASES.map((k) => k.name))).toEqual(new Set(PREFERENCE_LOSS_NAMES));
  });

  test.each(LOSS_CASES)('$label', (k) => {
    fc.assert(
      fc.property(seedArb, batchArb, fc.integer({ min: 1, max: 5 }), (seed, batch, positions) => {
        // Exponential scores are checked where e^{|Δ|} stays moderate (near the clamp, below).
        check(k, randomPair(seed, { batch, positions: k.tokens ? positions : undefined, scale: k.exponential ? 4 : 20 }));
      }),
      { numRuns: 5 },
    );
  });
});

/** Batches at the documented limits: log-probs down to −1e4, lengths of 1, |βh| large, log-probs at 0 (ORPO's clamp side). */
const EXTREME_BATCHES: Record<string, ScalarPair> = {
  'log-probs near −1e4, lengths 1': {
    policyChosen: [-9999.5, -1.5, -5000.25],
    policyRejected: [-2.5, -9998.75, -4990.5],
    refChosen: [-9000.5, -3.25, -5003.75],
    refRejected: [-4.5, -9997.5, -4995.25],
    chosenLengths: [1, 1, 3],
    rejectedLengths: [1, 2, 1],
  },
  'large margins (βh ≈ ±60 at β = 0.1)': {
    policyChosen: [-100.5, -700.25, -40.75],
    policyRejected: [-700.5, -100.75, -45.5],
    refChosen: [-400.5, -400.25, -41.5],
    refRejected: [-400.25, -400.75, -44.25],
    chosenLengths: [1, 40, 2],
    rejectedLengths: [30, 1, 2],
  },
  'per-token log-probs near 0': {
    policyChosen: [-2e-4, -0.35, -3e-3],
    policyRejected: [-0.5, -1e-4, -7e-3],
    refChosen: [-0.25, -0.5, -1.5],
    refRejected: [-0.75, -0.125, -1.25],
    chosenLengths: [1, 3, 5],
    rejectedLengths: [2, 1, 5],
  },
};

describe('gradcheck at the stability limits', () => {
  const sequenceCases = LOSS_CASES.filter((k) => !k.tokens && !k.exponential);
  for (const [label, x] of Object.entries(EXTREME_BATCHES)) {
    test.each(sequenceCases)(`${label}: $label`, (k) => check(k, x));
  }
  test.each(LOSS_CASES.filter((k) => k.tokens))('token inputs down to −1e4: $label', (k) => {
    const x = randomPair(7, { batch: 3, positions: 4 });
    const t = x.tokens!;
    t.policyChosen[0] = [-9999.5, -1.5, -2.25, -3.5];
    t.refRejected![1] = [-0.5, -9000.25, -1.75, -7.5];
    check(k, x);
  });

  // Exponential scores, one pair at a time, with the exponent just below EXP_CLAMP (30) on one side.
  const exponentialCases = LOSS_CASES.filter((k) => k.exponential);
  const nearClamp: ScalarPair = {
    policyChosen: [-40.5],
    policyRejected: [-12.25],
    refChosen: [-14.0],
    refRejected: [-13.5],
    chosenLengths: [1],
    rejectedLengths: [1],
  };
  test.each(exponentialCases)('exponent near the clamp: $label', (k) => check(k, nearClamp));
  test.each(exponentialCases)('exponent beyond the clamp: $label (clamped side gets gradient 0, the rest finite)', (k) => {
    const x = { ...nearClamp, policyChosen: [-9999.5] };
    const fields = pairFields(x);
    const leaves = fieldTensors(fields).map((t) => t.requireGrad());
    const term = preferenceLoss(k.name, k.config)(pairLogpsFrom(fields, leaves));
    expect(Number.isFinite(term.loss.item())).toBe(true);
    const grads = gradients(term.loss, leaves, undefined, { allowUnused: true }).map((g) => g.item());
    expect(grads.every(Number.isFinite)).toBe(true);
    if (k.config.fDivergence) expect(grads[0] === 0).toBe(true);
  });
});

describe('kto gradcheck', () => {
  test('random batches, with respect to policy and ref; z0 inputs get zero gradient', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 1, max: 6 }), (seed, n) => {
        const x = randomPair(seed, { batch: n });
        const input = toUnpairedLogps({
          policy: x.policyChosen,
          ref: x.refChosen!,
          desirable: x.chosenLengths.map((l) => (l % 2 === 0 ? 1 : 0)),
          klPolicy: x.policyRejected,
          klRef: x.refRejected!,
        });
        const objective = kto({ beta: 0.2, desirableWeight: 1.3, undesirableWeight: 0.6 });
        gradcheck((policy, ref) => objective({ ...input, policy, ref }).loss, [input.policy, input.ref]);
        const klPolicy = input.klPolicy!.requireGrad();
        const klRef = input.klRef!.requireGrad();
        const grads = gradients(objective({ ...input, klPolicy, klRef }).loss, [klPolicy, klRef], undefined, { allowUnused: true });
        expect(grads.every((g) => g.toFlat().every((v) => v === 0))).toBe(true);
      }),
      { numRuns: 10 },
    );
  });
});
