import { type Tensor, logSoftmax, logSumExp, mul, noGrad, slice, tensor } from '@ganpo/autograd';
import type { PairLatents } from '@ganpo/adversarial';
import { type Batch, ChatTemplateError, collatePairs, collateSequences, type SequenceBatch, type Tokenizer } from '@ganpo/datasets';
import { type CausalLM, type SequenceLogps, sequenceLogps } from '@ganpo/models';
import type { InputRequirements, PairLogps } from '@ganpo/objectives';
import type { LengthLimit } from './truncation.js';
import { DataError } from '../errors.js';

/**
 * From one batched forward pass over a preference batch ([2B, T]: chosen rows, then rejected rows) to the
 * two inputs of a GANPO step: PairLogps for the preference objective and PairLatents for the adversarial
 * term. The reference outputs come from one no-gradient forward over the same batch.
 */

export interface Pair {
  readonly prompt: string;
  readonly chosen: string;
  readonly rejected: string;
}

/** A row limit: `--max-length` alone, or with `--max-prompt-length` and `--truncation-mode` (see truncation.ts). */
export type RowLimit = number | LengthLimit;
const limitOptions = (limit: RowLimit): LengthLimit => (typeof limit === 'number' ? { maxLength: limit } : limit);

/** Collates pairs, truncated to `limit`; pairs that cannot fit are left out (and counted in `dropped`). */
export function pairBatch(pairs: readonly Pair[], tokenizer: Tokenizer, limit: RowLimit): { batch: Batch; dropped: number } {
  const { batch, dropped } = withTemplateErrors(() => collatePairs(pairs, tokenizer, limitOptions(limit)));
  return { batch, dropped: dropped.length };
}

export function sequenceBatch(demos: readonly { prompt: string; completion: string }[], tokenizer: Tokenizer, limit: RowLimit): { batch: SequenceBatch; dropped: number } {
  const { batch, dropped } = withTemplateErrors(() => collateSequences(demos, tokenizer, limitOptions(limit)));
  return { batch, dropped: dropped.length };
}

/** A model's chat template that cannot render the data is a problem of the inputs, reported as such. */
export function withTemplateErrors<A>(collate: () => A): A {
  try {
    return collate();
  } catch (e) {
    if (e instanceof ChatTemplateError) throw new DataError(`the model's chat template cannot be used for conversational rows: ${e.message}`);
    throw e;
  }
}

/** Rows [0, n) of a tensor whose first axis is 2n (the chosen half), or [n, 2n) (the rejected half). */
export function half(t: Tensor, which: 0 | 1): Tensor {
  const n = t.shape[0] / 2;
  const begin = t.shape.map((_, i) => (i === 0 ? which * n : 0));
  const end = t.shape.map((d, i) => (i === 0 ? (which + 1) * n : d));
  return slice(t, begin, end);
}

function maskHalf(mask: Float32Array, rows: number, seqLen: number, which: 0 | 1): Tensor {
  const n = rows / 2;
  return tensor(mask.subarray(which * n * seqLen, (which + 1) * n * seqLen), { shape: [n, seqLen], dtype: 'float32' });
}

/** What the reference gives for a batch: constants, computed once per batch without gradient. */
export interface ReferenceOut {
  readonly logps: SequenceLogps;
  readonly latents: Tensor | null;
}

export function referenceForward(reference: CausalLM, batch: Batch, needLatents: boolean): ReferenceOut {
  return noGrad(() => {
    const out = reference.forward(batch);
    return { logps: sequenceLogps(out.logits, batch), latents: needLatents ? out.latents : null };
  });
}

export interface StepInput {
  readonly logps: PairLogps;
  readonly latents: PairLatents;
}

/**
 * PairLogps (policy with gradient, reference constant) and PairLatents from the policy's forward outputs and
 * the reference's. `requirements` says which optional inputs the objective reads (per-token log-probs for
 * LD-DPO, log Σp² for WPO). Latents are the empty placeholder when GANPO is off and the reference gave none.
 */
export function stepInput(
  batch: Batch,
  policy: { logits: Tensor; latents: Tensor; logps: SequenceLogps },
  ref: ReferenceOut | null,
  requirements: InputRequirements,
): StepInput {
  const { rows, seqLen } = batch;
  const lp = policy.logps;
  const logps: PairLogps = {
    policyChosen: half(lp.sum, 0),
    policyRejected: half(lp.sum, 1),
    chosenLengths: half(lp.counts, 0),
    rejectedLengths: half(lp.counts, 1),
    ...(ref ? { refChosen: half(ref.logps.sum, 0), refRejected: half(ref.logps.sum, 1) } : {}),
  };
  if (requirements.tokens || requirements.tokenReference || requirements.logSumSquaredProbs) {
    const tokens: NonNullable<PairLogps['tokens']> = {
      policyChosen: half(lp.perToken, 0),
      policyRejected: half(lp.perToken, 1),
      maskChosen: half(lp.mask, 0),
      maskRejected: half(lp.mask, 1),
    };
    if (ref && requirements.tokenReference) {
      tokens.refChosen = half(ref.logps.perToken, 0);
      tokens.refRejected = half(ref.logps.perToken, 1);
    }
    if (requirements.logSumSquaredProbs) {
      const lss = noGrad(() => {
        const shifted = slice(policy.logits.detach(), [0, 0, 0], [rows, seqLen - 1, policy.logits.shape[2]]);
        return mul(logSumExp(mul(logSoftmax(shifted, -1), 2), -1), lp.mask);
      });
      tokens.logSumSquaredProbsChosen = half(lss, 0);
      tokens.logSumSquaredProbsRejected = half(lss, 1);
    }
    (logps as { tokens?: unknown }).tokens = tokens;
  }
  const refLatents = ref?.latents ?? policy.latents.detach();
  const latents: PairLatents = {
    policyChosen: half(policy.latents, 0),
    policyRejected: half(policy.latents, 1),
    refChosen: half(refLatents, 0),
    refRejected: half(refLatents, 1),
    maskChosen: maskHalf(batch.attentionMask, rows, seqLen, 0),
    maskRejected: maskHalf(batch.attentionMask, rows, seqLen, 1),
    completionMaskChosen: maskHalf(batch.lossMask, rows, seqLen, 0),
    completionMaskRejected: maskHalf(batch.lossMask, rows, seqLen, 1),
  };
  return { logps, latents };
}

/** Number of real tokens in a batch (what tokens/s counts). */
export function realTokens(batch: { attentionMask: Float32Array }): number {
  let n = 0;
  for (const v of batch.attentionMask) n += v;
  return n;
}
