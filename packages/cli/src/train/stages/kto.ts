import { concat, noGrad, tensor } from '@ganpo/autograd';
import { deriveSeed, type Tokenizer } from '@ganpo/datasets';
import { type CausalLM, sequenceLogps } from '@ganpo/models';
import { contramap, kto, type KtoConfig, metricValues, type Objective, type PairLogps, type UnpairedLogps } from '@ganpo/objectives';
import type { LoopConfig } from '../../config/runConfig.js';
import type { RunData, Unpaired } from '../data.js';
import type { StageDescription } from '../loop.js';
import { realTokens, type RowLimit, sequenceBatch } from '../pairs.js';
import { BatchOrder } from '../schedule.js';
import { withLossMetric } from './lossMetric.js';

/**
 * KTO (Ethayarajh et al. 2024) on unpaired examples: each completion is desirable or not, with no partner. The
 * loss is the objectives package's `kto`; the KL reference point z0 comes from mismatched pairs (x_i, y_{i+1}) of
 * the same micro-batch (TRL's estimate), scored without gradient. This file is the whole of the stage: the loop,
 * checkpoints and resume are the driver's.
 */


/** The stage's examples: unpaired rows of the data, and each preference pair as a desirable and an undesirable one. */
export function unpairedItems(data: RunData): Unpaired[] {
  return [
    ...data.unpaired,
    ...data.trainPairs.flatMap((p) => [
      { prompt: p.prompt, completion: p.chosen, desirable: true },
      { prompt: p.prompt, completion: p.rejected, desirable: false },
    ]),
  ];
}

/**
 * KTO's loss on held-out pairs (for `eval/loss`): each pair as a desirable and an undesirable example, z0 = 0 (the
 * pairs of an evaluation batch are not a KL sample).
 */
export function ktoOnPairs(config: KtoConfig): Objective<PairLogps> {
  return contramap((p: PairLogps): UnpairedLogps => {
    const b = p.policyChosen.shape[0];
    return {
      policy: concat([p.policyChosen, p.policyRejected], 0),
      ref: concat([p.refChosen!, p.refRejected!], 0),
      desirable: tensor(Array.from({ length: 2 * b }, (_, i) => (i < b ? 1 : 0)), { dtype: p.policyChosen.dtype }),
    };
  }, kto({ ...config, klEstimate: 'none' }));
}

export interface KtoStageInput {
  readonly model: CausalLM;
  readonly reference: CausalLM;
  readonly tokenizer: Tokenizer;
  readonly loop: LoopConfig;
  readonly totalSteps: number;
  readonly examples: readonly Unpaired[];
  readonly kto: KtoConfig;
  readonly seed: number;
  readonly maxLength: RowLimit;
  readonly label: string;
  readonly evaluate: () => Record<string, number>;
}

export function ktoStage(s: KtoStageInput): StageDescription<Unpaired> {
  const objective = withLossMetric('loss/preference', kto(s.kto));
  const needsKl = (s.kto.klEstimate ?? 'batch') === 'batch';
  const logps = (m: CausalLM, items: readonly { prompt: string; completion: string }[]) => {
    const { batch } = sequenceBatch(items, s.tokenizer, s.maxLength);
    return { batch, sum: sequenceLogps(m.forward(batch).logits, batch).sum };
  };
  return {
    name: 'preference',
    label: s.label,
    loop: s.loop,
    totalSteps: s.totalSteps,
    order: new BatchOrder(s.examples, s.loop.batchSize, deriveSeed(s.seed, 'preference')),
    microBatch: (items) => {
      const policy = logps(s.model, items);
      if (policy.batch.rows === 0) return null;
      const ref = noGrad(() => sequenceLogps(s.reference.forward(policy.batch).logits, policy.batch).sum);
      const input: UnpairedLogps = { policy: policy.sum, ref, desirable: tensor(items.map((e) => (e.desirable ? 1 : 0)), { dtype: policy.sum.dtype }) };
      if (needsKl) {
        // Mismatched pairs: prompt i with completion i+1 (constants: z0 carries no gradient).
        const mismatched = items.map((e, i) => ({ prompt: e.prompt, completion: items[(i + 1) % items.length].completion }));
        const kl = noGrad(() => ({ policy: logps(s.model, mismatched).sum, ref: logps(s.reference, mismatched).sum }));
        Object.assign(input, { klPolicy: kl.policy, klRef: kl.ref });
      }
      const term = objective(input);
      return { loss: term.loss, values: metricValues(term.metrics), tokens: realTokens(policy.batch) };
    },
    evaluate: s.evaluate,
    progress: (v) => ({ loss: v.loss, kl: v.kl, 'tok/s': Math.round(v.tokens_per_s) }),
    adversary: () => null,
  };
}
