import fc from 'fast-check';
import { Rng } from '@ganpo/autograd';
import type { ScalarPair, ScalarTokens } from './scalar-reference.js';

/**
 * Random preference batches from an explicit seed (fast-check draws the seed and the sizes, the generator the values,
 * so values are continuous and never tie: sorting (AOT) and kinks (hinge) stay away from their non-smooth points).
 */
export interface RandomPairOptions {
  batch: number;
  /** Per-token inputs with this many positions (sequence sums are then the masked token sums). */
  positions?: number;
  /** Typical magnitude of a summed log-prob. */
  scale?: number;
}

export function randomPair(seed: number, options: RandomPairOptions): ScalarPair {
  const rng = Rng.seeded(seed);
  const { batch, positions, scale = 20 } = options;
  const logp = () => -(0.05 + scale * rng.uniform());
  const length = () => 1 + Math.floor(rng.uniform() * 12);
  const vec = (f: () => number) => Array.from({ length: batch }, f);
  if (positions === undefined) {
    return {
      policyChosen: vec(logp),
      policyRejected: vec(logp),
      refChosen: vec(logp),
      refRejected: vec(logp),
      chosenLengths: vec(length),
      rejectedLengths: vec(length),
    };
  }
  const mask = () =>
    Array.from({ length: batch }, () => {
      const row = Array.from({ length: positions }, () => (rng.uniform() < 0.7 ? 1 : 0));
      if (!row.includes(1)) row[Math.floor(rng.uniform() * positions)] = 1;
      return row;
    });
  const tok = (lo: number) => Array.from({ length: batch }, () => Array.from({ length: positions }, () => -(0.02 + lo * rng.uniform())));
  const tokens: ScalarTokens = {
    policyChosen: tok(4),
    policyRejected: tok(4),
    refChosen: tok(4),
    refRejected: tok(4),
    maskChosen: mask(),
    maskRejected: mask(),
    logSumSquaredProbsChosen: tok(2),
    logSumSquaredProbsRejected: tok(2),
  };
  const sums = (rows: number[][], m: number[][]) => rows.map((r, b) => r.reduce((a, v, t) => a + m[b][t] * v, 0));
  const counts = (m: number[][]) => m.map((r) => r.reduce((a, v) => a + v, 0));
  return {
    policyChosen: sums(tokens.policyChosen, tokens.maskChosen),
    policyRejected: sums(tokens.policyRejected, tokens.maskRejected),
    refChosen: sums(tokens.refChosen!, tokens.maskChosen),
    refRejected: sums(tokens.refRejected!, tokens.maskRejected),
    chosenLengths: counts(tokens.maskChosen),
    rejectedLengths: counts(tokens.maskRejected),
    tokens,
  };
}

export const seedArb = fc.integer({ min: 1, max: 2 ** 30 });
export const batchArb = fc.integer({ min: 1, max: 5 });

/** Swaps chosen and rejected everywhere (sequence and per-token inputs). */
export function swapPair(x: ScalarPair): ScalarPair {
  const t = x.tokens;
  return {
    policyChosen: x.policyRejected,
    policyRejected: x.policyChosen,
    refChosen: x.refRejected,
    refRejected: x.refChosen,
    chosenLengths: x.rejectedLengths,
    rejectedLengths: x.chosenLengths,
    tokens: t && {
      policyChosen: t.policyRejected,
      policyRejected: t.policyChosen,
      refChosen: t.refRejected,
      refRejected: t.refChosen,
      maskChosen: t.maskRejected,
      maskRejected: t.maskChosen,
      logSumSquaredProbsChosen: t.logSumSquaredProbsRejected,
      logSumSquaredProbsRejected: t.logSumSquaredProbsChosen,
    },
  };
}
