import { noGrad } from '@ganpo/autograd';
import type { Ganpo, PairLatents } from '@ganpo/adversarial';
import { deriveSeed, type Tokenizer } from '@ganpo/datasets';
import { type CausalLM, sequenceLogps } from '@ganpo/models';
import { contramap, getObjectiveMonoid, metricValues, type Objective, type PairLogps } from '@ganpo/objectives';
import type { LoopConfig } from '../../config/runConfig.js';
import type { ResolvedRun } from '../../config/resolve.js';
import type { StageDescription } from '../loop.js';
import { type Pair, pairBatch, realTokens, referenceForward, type RowLimit, type StepInput, stepInput } from '../pairs.js';
import { BatchOrder } from '../schedule.js';
import { withLossMetric } from './lossMetric.js';

/**
 * Preference optimisation with the GANPO term (docs/method.md §5), one step:
 *   1–2. policy forward on the chosen and rejected rows in one [2B, T] pass; reference forward without gradient;
 *   3.   one discriminator update on the step's detached latents (means, L_Cw, L_Cl, one AdamW step each);
 *   4.   L_OPO ⊕ λ·L_adv with the just-updated discriminators frozen.
 * With gradient accumulation, step 3 runs once per optimizer step on the latents of all its micro-batches (taken
 * from a forward pass without gradient before them), so the discriminators' schedule counts policy steps.
 */

export interface PreferenceStageInput {
  readonly model: CausalLM;
  readonly reference: CausalLM | null;
  readonly tokenizer: Tokenizer;
  readonly loop: LoopConfig;
  readonly totalSteps: number;
  readonly pairs: readonly Pair[];
  readonly seed: number;
  readonly maxLength: RowLimit;
  readonly run: ResolvedRun;
  readonly objective: Objective<PairLogps>;
  /** The GANPO regularizer (fresh, or restored from the checkpoint), or null without GANPO. */
  readonly ganpo: Ganpo | null;
  readonly label: string;
  readonly evaluate: () => Record<string, number>;
}

export function preferenceStage(s: PreferenceStageInput): StageDescription<Pair> {
  const { model, ganpo, run } = s;
  const reference = run.needsReference ? s.reference : null;
  const monoid = getObjectiveMonoid<StepInput>();
  const pref = contramap((x: StepInput) => x.logps, withLossMetric('loss/preference', s.objective));
  const adversarial = ganpo ? contramap((x: StepInput) => x.latents, withLossMetric('loss/ganpo', ganpo.term())) : null;
  const objective = adversarial ? monoid.concat(pref, adversarial) : pref;
  let discMetrics: Record<string, number> = {};

  const forward = (items: readonly Pair[]) => {
    const { batch } = pairBatch(items, s.tokenizer, s.maxLength);
    if (batch.rows === 0) return null;
    const ref = reference ? referenceForward(reference, batch, run.ganpo !== null) : null;
    const out = model.forward(batch);
    return { batch, input: stepInput(batch, { ...out, logps: sequenceLogps(out.logits, batch) }, ref, run.requirements) };
  };

  return {
    name: 'preference',
    label: s.label,
    loop: s.loop,
    totalSteps: s.totalSteps,
    order: new BatchOrder(s.pairs, s.loop.batchSize, deriveSeed(s.seed, 'preference')),
    beforeStep: (_k, batches) => {
      if (!ganpo || batches.length === 1) return;
      const latents = noGrad(() => batches.map(forward).filter((f) => f !== null).map((f) => f.input.latents));
      if (latents.length > 0) discMetrics = ganpo.discriminatorStep(latents);
    },
    microBatch: (items) => {
      const f = forward(items);
      if (!f) return null;
      // Without accumulation the discriminators learn from this very forward pass (no extra one).
      if (ganpo && s.loop.gradAccum === 1) discMetrics = ganpo.discriminatorStep(f.input.latents as PairLatents);
      const term = objective(f.input);
      return { loss: term.loss, values: { ...metricValues(term.metrics), ...discMetrics }, tokens: realTokens(f.batch) };
    },
    evaluate: s.evaluate,
    progress: (v) => ({ loss: v.loss, acc: v['rewards/accuracies'], margin: v['rewards/margins'], 'tok/s': Math.round(v.tokens_per_s) }),
    adversary: () => ganpo,
  };
}
