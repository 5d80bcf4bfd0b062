import { type Tensor, logSoftmax, logSumExp, mul, noGrad, slice } from '@ganpo/autograd';
import type { PairLatents } from '@ganpo/adversarial';
import { type Batch, ChatTemplateError, collatePairs, collateSequences, type SequenceBatch, type Tokenizer } from '@ganpo/datasets';
import { type CausalLM, pairHalf, pairMaskHalf, type SequenceLogps, sequenceLogps } from '@ganpo/models';
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
    policyChosen: pairHalf(lp.sum, 0),
    policyRejected: pairHalf(lp.sum, 1),
    chosenLengths: pairHalf(lp.counts, 0),
    rejectedLengths: pairHalf(lp.counts, 1),
    ...(ref ? { refChosen: pairHalf(ref.logps.sum, 0), refRejected: pairHalf(ref.logps.sum, 1) } : {}),
  };
  if (requirements.tokens || requirements.tokenReference || requirements.logSumSquaredProbs) {
    const tokens: NonNullable<PairLogps['tokens']> = {
      policyChosen: pairHalf(lp.perToken, 0),
      policyRejected: pairHalf(lp.perToken, 1),
      maskChosen: pairHalf(lp.mask, 0),
      maskRejected: pairHalf(lp.mask, 1),
    };
    if (ref && requirements.tokenReference) {
      tokens.refChosen = pairHalf(ref.logps.perToken, 0);
      tokens.refRejected = pairHalf(ref.logps.perToken, 1);
    }
    if (requirements.logSumSquaredProbs) {
      const lss = noGrad(() => {
        const shifted = slice(policy.logits.detach(), [0, 0, 0], [rows, seqLen - 1, policy.logits.shape[2]]);
        return mul(logSumExp(mul(logSoftmax(shifted, -1), 2), -1), lp.mask);
      });
      tokens.logSumSquaredProbsChosen = pairHalf(lss, 0);
      tokens.logSumSquaredProbsRejected = pairHalf(lss, 1);
    }
    (logps as { tokens?: unknown }).tokens = tokens;
  }
  const refLatents = ref?.latents ?? policy.latents.detach();
  const latents: PairLatents = {
    policyChosen: pairHalf(policy.latents, 0),
    policyRejected: pairHalf(policy.latents, 1),
    refChosen: pairHalf(refLatents, 0),
    refRejected: pairHalf(refLatents, 1),
    maskChosen: pairMaskHalf(batch.attentionMask, rows, seqLen, 0),
    maskRejected: pairMaskHalf(batch.attentionMask, rows, seqLen, 1),
    completionMaskChosen: pairMaskHalf(batch.lossMask, rows, seqLen, 0),
    completionMaskRejected: pairMaskHalf(batch.lossMask, rows, seqLen, 1),
  };
  return { logps, latents };
}

/** Number of real tokens in a batch (what tokens/s counts). */
export function realTokens(batch: { attentionMask: Float32Array }): number {
  let n = 0;
  for (const v of batch.attentionMask) n += v;
  return n;
}
