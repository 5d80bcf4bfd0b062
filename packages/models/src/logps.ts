import {
  type Tensor,
  crossEntropy,
  div,
  indices,
  logSoftmax,
  logSumExp,
  maximum,
  mul,
  slice,
  sub,
  sum,
  tensor,
} from '@ganpo/autograd';
import { type ModelBatch, checkBatch } from './types.js';

/**
 * Completion log-probabilities of a batch, with the next-token shift done once, here:
 * the log-probability of token t (t ≥ 1) comes from the logits at position t − 1, and counts when
 * lossMask[t] = 1 (and attentionMask[t] = 1). Position 0 never counts (nothing predicts it).
 */
export interface SequenceLogps {
  /** Σ over completion tokens of log p(token), [rows]. */
  sum: Tensor;
  /** sum / count (0 for a row without completion tokens), [rows]. */
  mean: Tensor;
  /** log p(ids[t+1] | ids[..t]) at index t where counted, 0 elsewhere, [rows, T − 1]. */
  perToken: Tensor;
  /** 1 where perToken counts, [rows, T − 1] (a constant). */
  mask: Tensor;
  /** Completion tokens per row, [rows] (a constant). */
  counts: Tensor;
}

/**
 * Targets [rows, T] for the fused cross-entropy: targets[r, t] = ids[r, t + 1] where that token counts,
 * −1 (ignored) elsewhere, and −1 in the last column (nothing to predict).
 */
export function shiftedTargets(batch: ModelBatch): { targets: Int32Array; mask: Float32Array; counts: Float32Array } {
  const { rows, seqLen: T, ids, lossMask, attentionMask } = batch;
  const targets = new Int32Array(rows * T).fill(-1);
  const mask = new Float32Array(rows * (T - 1));
  const counts = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t + 1 < T; t++) {
      const next = r * T + t + 1;
      if (lossMask[next] !== 0 && attentionMask[next] !== 0) {
        targets[r * T + t] = ids[next];
        mask[r * (T - 1) + t] = 1;
        counts[r]++;
      }
    }
  }
  return { targets, mask, counts };
}

function checkLogits(op: string, logits: Tensor, batch: ModelBatch): void {
  checkBatch(op, batch);
  if (logits.rank !== 3 || logits.shape[0] !== batch.rows || logits.shape[1] !== batch.seqLen) {
    throw new Error(`${op}: logits [${logits.shape.join(', ')}] do not match the batch [${batch.rows}, ${batch.seqLen}, V]`);
  }
}

/**
 * Per-sequence summed and mean completion log-probs, per-token log-probs and token counts. Uses the fused
 * cross-entropy kernel over the unshifted logits [B, T, V] with shifted targets, so no log-softmax [B, T, V]
 * is materialized in the forward pass and the logits are not sliced (copied).
 */
export function sequenceLogps(logits: Tensor, batch: ModelBatch): SequenceLogps {
  checkLogits('sequenceLogps', logits, batch);
  const { rows, seqLen: T } = batch;
  const dtype = logits.dtype;
  const { targets, mask, counts } = shiftedTargets(batch);
  const nll = crossEntropy(logits, indices(targets, [rows, T])); // [rows, T], 0 where ignored
  // 0 − x rather than −x: a row without completion tokens gets +0, not −0.
  const total = sub(0, sum(nll, -1));
  const countT = tensor(counts, { shape: [rows], dtype });
  return {
    sum: total,
    mean: div(total, maximum(countT, 1)),
    perToken: sub(0, slice(nll, [0, 0], [rows, T - 1])),
    mask: tensor(mask, { shape: [rows, T - 1], dtype }),
    counts: countT,
  };
}

/**
 * Supervised fine-tuning loss: the token-mean negative log-likelihood over every completion token of the
 * batch (Σ NLL / Σ count; 0 when the batch has none).
 */
export function sftLoss(logits: Tensor, batch: ModelBatch): Tensor {
  checkLogits('sftLoss', logits, batch);
  const { targets, counts } = shiftedTargets(batch);
  const n = counts.reduce((a, b) => a + b, 0);
  const nll = crossEntropy(logits, indices(targets, [batch.rows, batch.seqLen]));
  return div(sum(nll), Math.max(n, 1));
}

/**
 * The pair layout of a preference batch: rows [0, n) are chosen, rows [n, 2n) rejected. Field names follow
 * the objectives package's PairLogps. `average: true` takes the length-normalized (mean) log-probs.
 */
export interface PolicyPairLogps {
  policyChosen: Tensor;
  policyRejected: Tensor;
  chosenLengths: Tensor;
  rejectedLengths: Tensor;
}

export function splitPairs(logps: SequenceLogps, options: { average?: boolean } = {}): PolicyPairLogps {
  const rows = logps.sum.shape[0];
  if (rows % 2 !== 0) throw new Error(`splitPairs: a preference batch has an even number of rows (chosen then rejected), got ${rows}`);
  const n = rows / 2;
  const values = options.average ? logps.mean : logps.sum;
  const first = (t: Tensor) => slice(t, [0], [n]);
  const second = (t: Tensor) => slice(t, [n], [rows]);
  return {
    policyChosen: first(values),
    policyRejected: second(values),
    chosenLengths: first(logps.counts),
    rejectedLengths: second(logps.counts),
  };
}

/**
 * log Σ_v p(v)² of each next-token distribution, [rows, T − 1], aligned with `perToken` (0 where not counted):
 * what WPO's weights need. This one materializes a log-softmax [B, T − 1, V]; detach it if the weights
 * should carry no gradient.
 */
export function logSumSquaredProbs(logits: Tensor, batch: ModelBatch): Tensor {
  checkLogits('logSumSquaredProbs', logits, batch);
  const { rows, seqLen: T } = batch;
  const { mask } = shiftedTargets(batch);
  const shifted = slice(logits, [0, 0, 0], [rows, T - 1, logits.shape[2]]);
  const lse = logSumExp(mul(logSoftmax(shifted, -1), 2), -1);
  return mul(lse, tensor(mask, { shape: [rows, T - 1], dtype: logits.dtype }));
}

/**
 * Rows [0, n) of a tensor whose first axis is 2n (the chosen half of a preference batch), or [n, 2n) (the rejected
 * half): collation puts every chosen row before every rejected one.
 */
export function pairHalf(t: Tensor, which: 0 | 1): Tensor {
  const n = t.shape[0] / 2;
  const begin = t.shape.map((_, i) => (i === 0 ? which * n : 0));
  const end = t.shape.map((d, i) => (i === 0 ? (which + 1) * n : d));
  return slice(t, begin, end);
}

/** The chosen (0) or rejected (1) half of a batch's [rows, seqLen] float mask, as a float32 [rows/2, seqLen] tensor (no copy). */
export function pairMaskHalf(mask: Float32Array, rows: number, seqLen: number, which: 0 | 1): Tensor {
  const n = rows / 2;
  return tensor(mask.subarray(which * n * seqLen, (which + 1) * n * seqLen), { shape: [n, seqLen], dtype: 'float32' });
}
