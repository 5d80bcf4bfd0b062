import { type Tensor, backward, clipGradNorm, noGrad } from '@ganpo/autograd';
import type { Ganpo, PairLatents } from '@ganpo/adversarial';
import { type Batch, collatePairs, collateSequences, type SequenceBatch, type Tokenizer } from '@ganpo/datasets';
import { type CausalLM, pairHalf, pairMaskHalf, sequenceLogps, sftLoss } from '@ganpo/models';
import { getObjectiveMonoid, metricValues, type Objective, type PairLogps, contramap } from '@ganpo/objectives';
import type { Optimizer } from '@ganpo/autograd';
import type { Pair } from './data.js';

/*
 * One optimizer step of each stage, composed from the library packages in the order `ganpo train` uses
 * (docs/method.md §5): policy forward on chosen and rejected rows in one [2B, T] pass, reference forward without
 * gradient, one discriminator step on detached latents, then L_pref ⊕ λ·L_adv with the updated
 * discriminators frozen, clipped gradients and an AdamW step.
 */

export interface StepResult {
  readonly values: Record<string, number>;
  readonly tokens: number;
}

const realTokens = (mask: Float32Array): number => mask.reduce((a, v) => a + v, 0);

export function sftStep(model: CausalLM, optimizer: Optimizer, demos: readonly { prompt: string; completion: string }[], tokenizer: Tokenizer, maxLength: number): StepResult {
  model.train();
  const { batch } = collateSequences(demos, tokenizer, { maxLength });
  const loss = sftLoss(model.forward(batch).logits, batch);
  const value = loss.item();
  backward(loss);
  const norm = clipGradNorm(model.parameters(), 1);
  optimizer.step();
  optimizer.zeroGrad();
  return { values: { loss: value, grad_norm: norm, learning_rate: optimizer.lr }, tokens: realTokens(batch.attentionMask) };
}

interface StepInput {
  readonly logps: PairLogps;
  readonly latents: PairLatents;
}

/** The objective's inputs from one policy forward and one reference forward over a pair batch. */
export function pairInputs(policy: CausalLM, reference: CausalLM, batch: Batch): StepInput {
  const ref = noGrad(() => {
    const out = reference.forward(batch);
    return { logps: sequenceLogps(out.logits, batch), latents: out.latents };
  });
  const out = policy.forward(batch);
  const lp = sequenceLogps(out.logits, batch);
  const { rows, seqLen } = batch;
  return {
    logps: {
      policyChosen: pairHalf(lp.sum, 0),
      policyRejected: pairHalf(lp.sum, 1),
      chosenLengths: pairHalf(lp.counts, 0),
      rejectedLengths: pairHalf(lp.counts, 1),
      refChosen: pairHalf(ref.logps.sum, 0),
      refRejected: pairHalf(ref.logps.sum, 1),
    },
    latents: {
      policyChosen: pairHalf(out.latents, 0),
      policyRejected: pairHalf(out.latents, 1),
      refChosen: pairHalf(ref.latents, 0),
      refRejected: pairHalf(ref.latents, 1),
      maskChosen: pairMaskHalf(batch.attentionMask, rows, seqLen, 0),
      maskRejected: pairMaskHalf(batch.attentionMask, rows, seqLen, 1),
      completionMaskChosen: pairMaskHalf(batch.lossMask, rows, seqLen, 0),
      completionMaskRejected: pairMaskHalf(batch.lossMask, rows, seqLen, 1),
    },
  };
}

export interface PreferenceStepState {
  /** The GANPO regularizer (it owns and updates its discriminators), or null without GANPO. */
  readonly ganpo: Ganpo | null;
}

export function preferenceStep(
  policy: CausalLM,
  reference: CausalLM,
  optimizer: Optimizer,
  objective: Objective<PairLogps>,
  state: PreferenceStepState,
  pairs: readonly Pair[],
  tokenizer: Tokenizer,
  maxLength: number,
): StepResult {
  policy.train();
  const { batch } = collatePairs(pairs, tokenizer, { maxLength });
  const input = pairInputs(policy, reference, batch);
  let total: Objective<StepInput> = contramap((s: StepInput) => s.logps, objective);
  let discMetrics: Record<string, number> = {};
  if (state.ganpo) {
    discMetrics = state.ganpo.discriminatorStep(input.latents);
    total = getObjectiveMonoid<StepInput>().concat(total, contramap((s: StepInput) => s.latents, state.ganpo.term()));
  }
  const term = total(input);
  const values = { loss: term.loss.item(), ...metricValues(term.metrics), ...discMetrics };
  backward(term.loss);
  const norm = clipGradNorm(policy.parameters(), 1);
  optimizer.step();
  optimizer.zeroGrad();
  return { values: { ...values, grad_norm: norm, learning_rate: optimizer.lr }, tokens: realTokens(batch.attentionMask) };
}

/** Held-out preference metrics: mean loss, reward accuracy and margin of the objective, without gradient. */
export function preferenceEval(policy: CausalLM, reference: CausalLM, objective: Objective<PairLogps>, pairs: readonly Pair[], tokenizer: Tokenizer, maxLength: number): Record<string, number> {
  if (pairs.length === 0) return {};
  const was = policy.training;
  policy.eval();
  try {
    return noGrad(() => {
      const { batch } = collatePairs(pairs, tokenizer, { maxLength });
      const term = objective(pairInputs(policy, reference, batch).logps);
      const m = metricValues(term.metrics);
      return { 'eval/loss': term.loss.item(), 'eval/rewards/accuracies': m['rewards/accuracies'], 'eval/rewards/margins': m['rewards/margins'] };
    });
  } finally {
    policy.train(was);
  }
}

/** Held-out SFT loss (no gradient). */
export function sftEval(model: CausalLM, demos: readonly { prompt: string; completion: string }[], tokenizer: Tokenizer, maxLength: number): number {
  const was = model.training;
  model.eval();
  try {
    return noGrad(() => {
      const { batch }: { batch: SequenceBatch } = collateSequences(demos, tokenizer, { maxLength });
      return sftLoss(model.forward(batch).logits, batch).item();
    });
  } finally {
    model.train(was);
  }
}
