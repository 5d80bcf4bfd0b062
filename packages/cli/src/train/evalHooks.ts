import { noGrad } from '@ganpo/autograd';
import type { TaskInstance, Tokenizer } from '@ganpo/datasets';
import { type CausalLM, sftLoss } from '@ganpo/models';
import type { Objective, PairLogps } from '@ganpo/objectives';
import { greedyReward, preferenceEval } from '../evaluate/evaluate.js';
import type { RunConfig } from '../config/runConfig.js';
import type { Demo, Pair, RunData } from './data.js';
import { type RowLimit, sequenceBatch } from './pairs.js';

/**
 * The evaluations a stage runs every `--eval-interval` steps, as metrics by name: the held-out loss of SFT, the
 * held-out implicit-reward statistics of preference training, and on the embedded task the ground-truth reward of
 * greedy responses (`eval/greedy_reward`, the learning curve that matters).
 */

/** Mean next-token loss of `model` on demonstrations (evaluation mode, no gradient). */
export function sftEval(model: CausalLM, demos: readonly Demo[], tokenizer: Tokenizer, maxLength: RowLimit): number {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      let total = 0;
      let n = 0;
      for (let i = 0; i < demos.length; i += 32) {
        const { batch } = sequenceBatch(demos.slice(i, i + 32), tokenizer, maxLength);
        if (batch.rows === 0) continue;
        const rows = batch.rows;
        total += sftLoss(model.forward(batch).logits, batch).item() * rows;
        n += rows;
      }
      return n > 0 ? total / n : Number.NaN;
    });
  } finally {
    model.train(wasTraining);
  }
}

/** Greedy responses to the first prompts of the embedded task's held-out set, scored (nothing off the embedded task). */
export interface GreedyCurve {
  readonly heldOut: readonly TaskInstance[] | null;
  readonly prompts: number;
  readonly maxNewTokens: number;
}

function greedy(model: CausalLM, tokenizer: Tokenizer, curve: GreedyCurve, into: Record<string, number>): void {
  if (curve.heldOut && curve.prompts > 0) into['eval/greedy_reward'] = greedyReward(model, curve.heldOut, tokenizer, curve.prompts, curve.maxNewTokens);
}

export function sftEvalHook(model: CausalLM, tokenizer: Tokenizer, heldOut: readonly Demo[], maxLength: RowLimit, curve: GreedyCurve): () => Record<string, number> {
  return () => {
    const v: Record<string, number> = {};
    if (heldOut.length > 0) v['eval/loss'] = sftEval(model, heldOut, tokenizer, maxLength);
    greedy(model, tokenizer, curve, v);
    return v;
  };
}

export interface PreferenceEvalHookInput {
  readonly model: CausalLM;
  readonly reference: CausalLM;
  readonly tokenizer: Tokenizer;
  readonly pairs: readonly Pair[];
  readonly objective: Objective<PairLogps>;
  readonly beta: number;
  readonly maxLength: RowLimit;
  readonly curve: GreedyCurve;
}

export function preferenceEvalHook(h: PreferenceEvalHookInput): () => Record<string, number> {
  return () => {
    const v: Record<string, number> = {};
    const e = preferenceEval(h.model, h.reference, h.pairs, h.tokenizer, { objective: h.objective, beta: h.beta, maxLength: h.maxLength });
    if (e) {
      v['eval/loss'] = e.loss;
      v['eval/rewards/accuracies'] = e.accuracy;
      v['eval/rewards/margins'] = e.margin;
      v['eval/rewards/chosen'] = e.chosenReward;
      v['eval/rewards/rejected'] = e.rejectedReward;
    }
    greedy(h.model, h.tokenizer, h.curve, v);
    return v;
  };
}

/**
 * What a run evaluates on while it trains (`ganpo train` and the web page alike): held-out demos for the SFT loss
 * (the task's held-out answers, or the chosen responses of the eval pairs), the eval pairs, and the greedy-reward curve.
 */
export function evalSetsOf(data: RunData, config: RunConfig): { sftDemos: Demo[]; pairs: readonly Pair[]; curve: GreedyCurve } {
  const demos: Demo[] = data.heldOut ? data.heldOut.map((h) => ({ prompt: h.prompt, completion: h.answer })) : data.evalPairs.map((p) => ({ prompt: p.prompt, completion: p.chosen }));
  return {
    sftDemos: demos.slice(0, Math.max(config.log.evalPairs, 1) * 2),
    pairs: config.log.evalPairs > 0 ? data.evalPairs.slice(0, config.log.evalPairs) : data.evalPairs,
    curve: { heldOut: data.heldOut, prompts: data.heldOut ? Math.min(16, config.eval.prompts || 16, data.heldOut.length) : 0, maxNewTokens: config.eval.maxNewTokens },
  };
}
