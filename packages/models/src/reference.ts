import { type Tensor, noGrad, tensor } from '@ganpo/autograd';
import { sequenceLogps } from './logps.js';
import type { CausalLM } from './model.js';
import type { ModelBatch } from './types.js';

/**
 * The reference model's outputs for one batch, as plain arrays (no tape, no graph): what a training loop
 * needs from π_ref, computed once for a dataset instead of on every epoch.
 */
export interface ReferenceOutputs {
  rows: number;
  seqLen: number;
  /** Σ completion log-probs per row, [rows]. */
  sum: Float64Array;
  /** Mean completion log-probs per row, [rows]. */
  mean: Float64Array;
  counts: Float64Array;
  /** Final hidden states [rows, seqLen, d] in the model's dtype, when requested. */
  latents?: { data: Float32Array | Float64Array; shape: [number, number, number] };
}

/**
 * Runs the (frozen) reference over `batches` once, without gradient and in evaluation mode, and returns one
 * {@link ReferenceOutputs} per batch, in order. Keep the batching deterministic (same seed) so entry i matches
 * batch i on every epoch. Latents cost rows·seqLen·d values per batch: ask for them only when the adversarial
 * term needs them.
 */
export function precomputeReference(
  ref: CausalLM,
  batches: Iterable<ModelBatch>,
  options: { latents?: boolean } = {},
): ReferenceOutputs[] {
  const wasTraining = ref.training;
  ref.eval();
  try {
    const out: ReferenceOutputs[] = [];
    for (const batch of batches) out.push(referenceOutputs(ref, batch, options));
    return out;
  } finally {
    ref.train(wasTraining);
  }
}

/** The reference outputs of one batch (see {@link precomputeReference}); runs in whatever mode `ref` is in. */
export function referenceOutputs(ref: CausalLM, batch: ModelBatch, options: { latents?: boolean } = {}): ReferenceOutputs {
  return noGrad(() => {
    const { logits, latents } = ref.forward(batch);
    const lp = sequenceLogps(logits, batch);
    const result: ReferenceOutputs = {
      rows: batch.rows,
      seqLen: batch.seqLen,
      sum: Float64Array.from(lp.sum.data),
      mean: Float64Array.from(lp.mean.data),
      counts: Float64Array.from(lp.counts.data),
    };
    if (options.latents) {
      result.latents = { data: latents.data, shape: [latents.shape[0], latents.shape[1], latents.shape[2]] };
    }
    return result;
  });
}

/** Tensors (constants, in `dtype`) of stored reference outputs, ready to combine with the policy's. */
export function referenceTensors(
  r: ReferenceOutputs,
  dtype: 'float32' | 'float64' = 'float32',
): { sum: Tensor; mean: Tensor; counts: Tensor; latents?: Tensor } {
  const out: { sum: Tensor; mean: Tensor; counts: Tensor; latents?: Tensor } = {
    sum: tensor(r.sum, { shape: [r.rows], dtype }),
    mean: tensor(r.mean, { shape: [r.rows], dtype }),
    counts: tensor(r.counts, { shape: [r.rows], dtype }),
  };
  if (r.latents) out.latents = tensor(r.latents.data, { shape: r.latents.shape, dtype });
  return out;
}

/** The reference half of a PairLogps from stored outputs (the objectives' field names, so it spreads into one): rows [0, n) chosen, [n, 2n) rejected. */
export function referencePairs(
  r: ReferenceOutputs,
  options: { average?: boolean; dtype?: 'float32' | 'float64' } = {},
): { refChosen: Tensor; refRejected: Tensor } {
  if (r.rows % 2 !== 0) throw new Error(`referencePairs: a preference batch has an even number of rows, got ${r.rows}`);
  const n = r.rows / 2;
  const values = options.average ? r.mean : r.sum;
  const dtype = options.dtype ?? 'float32';
  return {
    refChosen: tensor(values.subarray(0, n), { shape: [n], dtype }),
    refRejected: tensor(values.subarray(n), { shape: [n], dtype }),
  };
}
