import type { Pooling } from '@ganpo/adversarial';

/** What the page lets a visitor choose; `runConfigOf` (runConfig.ts) turns it into the `ganpo train` run config it trains. */
export interface WebRunConfig {
  readonly seed: number;
  /** The embedded task, or the text of a dropped preference JSONL file. */
  readonly data: { readonly kind: 'embedded' } | { readonly kind: 'file'; readonly name: string; readonly bytes: Uint8Array };
  readonly model: 'tiny' | 'small';
  readonly maxLength: number;
  readonly sft: LoopSettings;
  readonly preference: LoopSettings & { readonly loss: string; readonly beta: number };
  readonly ganpo: { readonly enabled: boolean; readonly lambda: number; readonly twoDiscriminators: boolean; readonly pooling: Pooling };
  /** Held-out pairs for the eval metrics and prompts for the ground-truth reward, per evaluation. */
  readonly evalPairs: number;
  readonly rewardPrompts: number;
  /** Evaluate every this many steps (and at the end of each stage). */
  readonly evalInterval: number;
}

export interface LoopSettings {
  readonly steps: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly warmup: number;
}

/** A quick run of the small preset on the embedded task (a few minutes in a page on one core). */
export const defaultWebRunConfig = (): WebRunConfig => ({
  seed: 0,
  data: { kind: 'embedded' },
  model: 'small',
  maxLength: 64,
  sft: { steps: 60, batchSize: 16, lr: 3e-3, warmup: 10 },
  preference: { steps: 30, batchSize: 8, lr: 1e-4, warmup: 5, loss: 'sigmoid', beta: 0.1 },
  ganpo: { enabled: true, lambda: 1, twoDiscriminators: true, pooling: 'masked' },
  evalPairs: 16,
  rewardPrompts: 8,
  evalInterval: 10,
});

/**
 * The embedded task of `ganpo train`'s default run (a noisy teacher: exact answers a quarter of the time,
 * otherwise chatter or a missing EOS, which the preference pairs teach the policy to drop), at the page's
 * smaller sizes: the data is generated in the tab.
 */
export const WEB_TASK = {
  seed: 0, nSft: 400, nTrain: 240, nEval: 48, nHeldOut: 32,
  sftAccuracy: 0.25, corruptionMix: { extra_text: 1, missing_eos: 1 }, trainLengths: { min: 2, max: 4 },
} as const;
