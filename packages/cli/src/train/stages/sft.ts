import { deriveSeed, type Tokenizer } from '@ganpo/datasets';
import { type CausalLM, sftLoss } from '@ganpo/models';
import type { LoopConfig } from '../../config/runConfig.js';
import type { Demo } from '../data.js';
import type { StageDescription } from '../loop.js';
import { realTokens, type RowLimit, sequenceBatch } from '../pairs.js';
import { BatchOrder } from '../schedule.js';

/** Supervised fine-tuning on demonstrations: the mean next-token loss over completion tokens. */

export interface SftStageInput {
  readonly model: CausalLM;
  readonly tokenizer: Tokenizer;
  readonly loop: LoopConfig;
  readonly totalSteps: number;
  readonly demos: readonly Demo[];
  readonly seed: number;
  readonly maxLength: RowLimit;
  readonly evaluate: () => Record<string, number>;
}

export function sftStage(s: SftStageInput): StageDescription<Demo> {
  return {
    name: 'sft',
    label: 'SFT       ',
    loop: s.loop,
    totalSteps: s.totalSteps,
    order: new BatchOrder(s.demos, s.loop.batchSize, deriveSeed(s.seed, 'sft')),
    microBatch: (items) => {
      const { batch } = sequenceBatch(items, s.tokenizer, s.maxLength);
      if (batch.rows === 0) return null;
      const { logits } = s.model.forward(batch);
      return { loss: sftLoss(logits, batch), values: {}, tokens: realTokens(batch) };
    },
    evaluate: s.evaluate,
    progress: (v) => ({ loss: v.loss, 'tok/s': Math.round(v.tokens_per_s) }),
    adversary: () => null,
  };
}
