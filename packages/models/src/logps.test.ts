import { Rng, gradcheck, noGrad, randn, sum } from '@ganpo/autograd';
import { describe, expect, it } from 'vitest';
import { logSumSquaredProbs, sequenceLogps, sftLoss, splitPairs } from './logps.js';
import { CausalLM, freezeReference } from './model.js';
import { precomputeReference, referencePairs, referenceTensors } from './reference.js';
import type { ModelBatch } from './types.js';

/** log-softmax of one row, plainly. */
function logSoftmaxRow(z: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += Math.exp(z[i] - m);
  const lse = m + Math.log(s);
  return Array.from(z, (v) => v - lse);
}

function batchOf(ids: number[][], lossStart: number[], lengths: number[], T: number): ModelBatch {
  const rows = ids.length;
  const flat = new Int32Array(rows * T);
  const att = new Float32Array(rows * T);
  const loss = new Float32Array(rows * T);
  ids.forEach((r, i) =>
    r.forEach((id, t) => {
      flat[i * T + t] = id;
      if (t < lengths[i]) att[i * T + t] = 1;
      if (t >= lossStart[i] && t < lengths[i]) loss[i * T + t] = 1;
    }),
  );
  return { ids: flat, attentionMask: att, lossMask: loss, rows, seqLen: T };
}

const V = 6;
const T = 5;
const batch = batchOf(
  [
    [1, 2, 3, 4, 5],
    [2, 2, 1, 0, 0],
    [3, 1, 4, 1, 5],
    [0, 5, 5, 2, 1],
  ],
  [2, 1, 3, 1],
  [5, 3, 5, 2],
  T,
);

/** The reference answer computed plainly from the logits: token t is scored by the logits at t − 1. */
function plain(logits: ArrayLike<number>, b: ModelBatch) {
  const sums: number[] = [];
  const counts: number[] = [];
  const per: number[][] = [];
  for (let r = 0; r < b.rows; r++) {
    let s = 0;
    let c = 0;
    const row: number[] = [];
    for (let t = 1; t < b.seqLen; t++) {
      const i = r * b.seqLen + t;
      const lp = logSoftmaxRow(Array.from(logits).slice((i - 1) * V, i * V));
      if (b.lossMask[i] && b.attentionMask[i]) {
        s += lp[b.ids[i]];
        c++;
        row.push(lp[b.ids[i]]);
      } else row.push(0);
    }
    sums.push(s);
    counts.push(c);
    per.push(row);
  }
  return { sums, counts, per };
}

describe('sequenceLogps', () => {
  const logits = randn([4, T, V], Rng.seeded(1), { dtype: 'float64', std: 2 });

  it('shifts once: token t is scored by the logits at t − 1, only where lossMask (and the attention mask) is 1', () => {
    const lp = sequenceLogps(logits, batch);
    const want = plain(logits.data, batch);
    expect(lp.counts.toFlat()).toEqual([3, 2, 2, 1]);
    expect(want.counts).toEqual([3, 2, 2, 1]);
    lp.sum.toFlat().forEach((v, i) => expect(v).toBeCloseTo(want.sums[i], 12));
    lp.mean.toFlat().forEach((v, i) => expect(v).toBeCloseTo(want.sums[i] / want.counts[i], 12));
    expect(lp.perToken.shape).toEqual([4, T - 1]);
    lp.perToken.toFlat().forEach((v, i) => expect(v).toBeCloseTo(want.per[Math.floor(i / (T - 1))][i % (T - 1)], 12));
    expect(lp.mask.toFlat()).toEqual(want.per.flatMap((r, i) => r.map((_, t) => (batch.lossMask[i * T + t + 1] && batch.attentionMask[i * T + t + 1] ? 1 : 0))));
  });

  it('a row without completion tokens has sum 0, mean 0 and count 0', () => {
    const b = batchOf([[1, 2, 3]], [3], [3], 3);
    const lp = sequenceLogps(randn([1, 3, V], Rng.seeded(2)), b);
    expect([lp.sum.item(), lp.mean.item(), lp.counts.item()]).toEqual([0, 0, 0]);
  });

  it('has correct gradients (gradcheck in float64)', () => {
    expect(gradcheck((z) => sequenceLogps(z, batch).sum, [logits])).toBe(true);
    expect(gradcheck((z) => sequenceLogps(z, batch).mean, [logits], { fastMode: true })).toBe(true);
    expect(gradcheck((z) => sftLoss(z, batch), [logits], { fastMode: true })).toBe(true);
  });

  it('splits a preference batch into chosen (first half) and rejected (second half) rows', () => {
    const lp = sequenceLogps(logits, batch);
    const pairs = splitPairs(lp);
    expect(pairs.policyChosen.toFlat()).toEqual(lp.sum.toFlat().slice(0, 2));
    expect(pairs.policyRejected.toFlat()).toEqual(lp.sum.toFlat().slice(2));
    expect(pairs.chosenLengths.toFlat()).toEqual([3, 2]);
    expect(pairs.rejectedLengths.toFlat()).toEqual([2, 1]);
    expect(splitPairs(lp, { average: true }).policyRejected.toFlat()).toEqual(lp.mean.toFlat().slice(2));
    expect(() => splitPairs(sequenceLogps(logits.slice([0], [3]), { ...batch, rows: 3, ids: batch.ids.slice(0, 15), attentionMask: batch.attentionMask.slice(0, 15), lossMask: batch.lossMask.slice(0, 15) }))).toThrow(/even number of rows/);
  });

  it('sftLoss is the token-mean NLL over every completion token of the batch', () => {
    const want = plain(logits.data, batch);
    const total = want.sums.reduce((a, b) => a + b, 0);
    const n = want.counts.reduce((a, b) => a + b, 0);
    expect(sftLoss(logits, batch).item()).toBeCloseTo(-total / n, 12);
  });

  it('logSumSquaredProbs gives log Σ_v p(v)² of each next-token distribution, aligned with perToken', () => {
    const got = logSumSquaredProbs(logits, batch).toFlat();
    for (let r = 0; r < 4; r++) {
      for (let t = 0; t < T - 1; t++) {
        const lp = logSoftmaxRow(Array.from(logits.data).slice((r * T + t) * V, (r * T + t + 1) * V));
        const want = Math.log(lp.reduce((a, l) => a + Math.exp(2 * l), 0));
        const counted = batch.lossMask[r * T + t + 1] && batch.attentionMask[r * T + t + 1];
        expect(got[r * (T - 1) + t]).toBeCloseTo(counted ? want : 0, 12);
      }
    }
  });

  it('rejects logits that do not match the batch', () => {
    expect(() => sequenceLogps(randn([4, T + 1, V], Rng.seeded(3)), batch)).toThrow(/logits \[4, 6, 6\] do not match the batch \[4, 5, V\]/);
  });
});

describe('reference log-probs', () => {
  it('precomputes the reference outputs once, equal to a forward pass, without gradient', () => {
    const policy = new CausalLM({ vocabSize: V, contextLength: 8, dModel: 8, nLayers: 1, nHeads: 2, dropout: 0.1 }, { seed: 3 });
    const ref = freezeReference(policy);
    const [entry] = precomputeReference(ref, [batch], { latents: true });
    const { logits, latents } = noGrad(() => ref.forward(batch));
    const lp = sequenceLogps(logits, batch);
    expect(Array.from(entry.sum)).toEqual(lp.sum.toFlat());
    expect(Array.from(entry.mean)).toEqual(lp.mean.toFlat());
    expect(entry.latents!.shape).toEqual([4, T, 8]);
    expect(Array.from(entry.latents!.data)).toEqual(latents.toFlat());
    const ts = referenceTensors(entry);
    expect(ts.latents!.shape).toEqual([4, T, 8]);
    expect(ts.sum.requiresGrad).toBe(false);
    const pairs = referencePairs(entry);
    expect(pairs.refChosen.toFlat()).toEqual(Array.from(Float32Array.from(entry.sum.subarray(0, 2))));
    // The policy keeps its mode; precompute leaves the reference's mode as it was.
    expect(policy.training).toBe(true);
    expect(ref.training).toBe(false);
    expect(sum(ref.forward(batch).logits).requiresGrad).toBe(false);
  });
});
