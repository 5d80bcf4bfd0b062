import { decodeRunConfig, deepMerge, defaultRunConfig, type RunConfig } from '@ganpo/cli/browser';
import { type LoopSettings, WEB_TASK, type WebRunConfig } from './config.js';

// Apart from config.ts so that the page's own script (which imports the settings) does not pull in the CLI's code.

/**
 * The `ganpo train` configuration of a page run: the CLI's defaults with the page's settings over them (the page
 * trains with the CLI's own stages and optimizer step, so this is the whole run). `ganpo train --config` on this
 * object (as JSON, with `out` and `backend` set) trains the same run; tests/web.e2e.test.ts does exactly that.
 * Evaluation settings only change what is measured, never the training steps.
 */
export function runConfigOf(web: WebRunConfig): RunConfig {
  const loop = (l: LoopSettings) => ({ steps: l.steps, epochs: null, batchSize: l.batchSize, lr: l.lr, warmup: l.warmup });
  return decodeRunConfig(
    deepMerge(defaultRunConfig(), {
      seed: web.seed,
      data: { maxLength: web.maxLength, task: { ...WEB_TASK } },
      model: { init: web.model },
      sft: loop(web.sft),
      preference: { ...loop(web.preference), objective: { loss: web.preference.loss, beta: web.preference.beta } },
      ganpo: { enabled: web.ganpo.enabled, lambda: web.ganpo.lambda, twoDiscriminators: web.ganpo.twoDiscriminators, pooling: web.ganpo.pooling },
      log: { evalInterval: web.evalInterval, evalPairs: web.evalPairs },
      eval: { prompts: web.rewardPrompts, maxNewTokens: 24, atEnd: false },
    }),
  );
}
