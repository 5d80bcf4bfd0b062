import { Rng } from '@ganpo/autograd';
import { Ganpo } from '@ganpo/adversarial';
import {
  evalSetsOf, fitRunData, lengthLimitOf, newOptimizer, optimizerStep, preferenceEvalHook, preferenceStage, presetPolicy, resolveRun, type RunData,
  sftEvalHook, sftStage, type StageDescription, type StageStart, stageSteps,
} from '@ganpo/cli/browser';
import { byteTokenizer, type Tokenizer } from '@ganpo/datasets';
import { type CausalLM, freezeReference, generateWithDetails } from '@ganpo/models';
import { preferenceObjective } from '@ganpo/objectives';
import type { WebRunConfig } from './config.js';
import { runConfigOf } from './runConfig.js';
import { loadWebRunData } from './data.js';

/** One logged step: TRL's metric names plus `ganpo/*`, as `ganpo train` writes them in metrics.jsonl. */
export interface MetricsLine {
  readonly stage: 'sft' | 'preference';
  readonly step: number;
  readonly total: number;
  readonly step_ms: number;
  readonly [name: string]: number | string;
}

/** A run in progress or done: the models, for sampling and download, and every metrics line so far. */
export interface WebRun {
  readonly config: WebRunConfig;
  readonly data: RunData;
  readonly tokenizer: Tokenizer;
  readonly policy: CausalLM;
  readonly metrics: MetricsLine[];
}

/** Continuations of `prompts` (greedy at temperature 0, else seeded sampling), as `ganpo sample` makes them. */
export function sample(model: CausalLM, tokenizer: Tokenizer, prompts: readonly string[], o: { temperature: number; maxNewTokens: number; seed: number }): { text: string; endedWithEos: boolean }[] {
  const ids = prompts.map((p) => [tokenizer.bos, ...tokenizer.encode(p)].slice(-(model.config.contextLength - 1)));
  const was = model.training;
  model.eval();
  try {
    const g = generateWithDetails(model, ids, {
      maxNewTokens: o.maxNewTokens,
      temperature: o.temperature,
      eos: tokenizer.eos,
      pad: tokenizer.pad,
      rng: o.temperature > 0 ? Rng.seeded(o.seed) : undefined,
    });
    return g.tokens.map((t, i) => ({ text: tokenizer.decode(t.filter((id) => id !== tokenizer.pad && id !== tokenizer.bos)), endedWithEos: g.stopReasons[i] === 'eos' }));
  } finally {
    model.train(was);
  }
}

const pause = () => new Promise<void>((r) => setTimeout(r, 0));

type Emit = (stage: MetricsLine['stage'], step: number, total: number, ms: number, values: Record<string, number>) => void;

/**
 * The steps of one stage, each the CLI's own `optimizerStep` (as `ganpo train`'s loop runs it, minus checkpoints
 * and resume): a metrics line after every step, with the evaluation every `evalInterval` steps and at the end.
 */
async function runStage<Item>(stage: StageDescription<Item>, start: StageStart, evalInterval: number, emit: Emit, shouldStop: () => boolean): Promise<void> {
  const total = stage.totalSteps;
  for (let k = start.step; k < total && !shouldStop(); k++) {
    const t0 = performance.now();
    const out = optimizerStep(stage, start, k, null, null);
    const ms = performance.now() - t0;
    const done = k + 1;
    const values: Record<string, number> = { ...out.values, tokens_per_s: (out.tokens * 1000) / Math.max(ms, 1e-6), epoch: out.epoch };
    if (evalInterval > 0 && (done % evalInterval === 0 || done === total)) Object.assign(values, stage.evaluate());
    emit(stage.name, done, total, ms, values);
    await pause();
  }
}

const fresh = (model: CausalLM, optimizer: StageStart['optimizer']): StageStart => ({ model, optimizer, step: 0, seconds: 0, tokens: 0, checkpoint: null });

/**
 * Trains `ganpo train`'s run for these settings (see `runConfigOf`): the same data, fresh policy, length limits,
 * stages, batch order and optimizer steps, built by the CLI's browser entry. SFT, then the preference objective
 * with (optionally) GANPO against the SFT model as reference. Calls `onLine` after every step (and yields to the
 * event loop, so a page or worker stays responsive); `shouldStop` ends the run early after the current step.
 */
export async function trainWebRun(config: WebRunConfig, onLine: (line: MetricsLine, run: WebRun) => void, shouldStop: () => boolean = () => false): Promise<WebRun> {
  const runConfig = runConfigOf(config);
  const loaded = await loadWebRunData(config);
  const tokenizer = byteTokenizer(); // what `ganpo train` resolves for a preset (--tokenizer auto)
  const init = presetPolicy(config.model, runConfig, tokenizer);
  const maxLength = lengthLimitOf(runConfig, init.model.config.contextLength);
  const { data } = fitRunData(loaded, tokenizer, maxLength, ['sft', 'preference'], false);
  const sftSteps = stageSteps(runConfig.sft, data.sft.length);
  const prefSteps = stageSteps(runConfig.preference, data.trainPairs.length);
  const resolved = resolveRun(runConfig, prefSteps);
  const objective = preferenceObjective(resolved.specs, { available: { reference: true, tokens: true, tokenReference: true, logSumSquaredProbs: true } });
  const policy = init.model;
  const run: WebRun = { config, data, tokenizer, policy, metrics: [] };
  const sets = evalSetsOf(data, runConfig);
  // The page's "reward prompts: 0" turns the greedy-reward curve off (the CLI's 0 means all of them).
  const curve = config.rewardPrompts > 0 ? sets.curve : { ...sets.curve, prompts: 0 };
  const emit: Emit = (stage, step, total, ms, values) => {
    const line: MetricsLine = { stage, step, total, step_ms: ms, ...values };
    run.metrics.push(line);
    onLine(line, run);
  };
  const seed = runConfig.seed;

  // SFT.
  const sftStart = fresh(policy, newOptimizer(policy, runConfig.sft, sftSteps));
  const sft = sftStage({ model: policy, tokenizer, loop: runConfig.sft, totalSteps: sftSteps, demos: data.sft, seed, maxLength, evaluate: sftEvalHook(policy, tokenizer, sets.sftDemos, maxLength, curve) });
  await runStage(sft, sftStart, runConfig.log.evalInterval, emit, shouldStop);
  if (shouldStop()) return run;

  // Preference optimisation (+ GANPO) against the SFT model, in `ganpo train`'s order: reference, optimizer, GANPO.
  const reference = freezeReference(policy);
  const prefStart = fresh(policy, newOptimizer(policy, runConfig.preference, prefSteps));
  const ganpo = resolved.ganpo ? Ganpo.create(resolved.ganpo, { latentDim: policy.config.dModel }) : null;
  const evaluate = preferenceEvalHook({ model: policy, reference, tokenizer, pairs: sets.pairs, objective, beta: resolved.beta, maxLength, curve });
  const pref = preferenceStage({
    model: policy, reference, tokenizer, loop: runConfig.preference, totalSteps: prefSteps, seed, maxLength, label: 'preference', evaluate,
    pairs: data.trainPairs, run: resolved, objective, ganpo,
  });
  await runStage(pref, prefStart, runConfig.log.evalInterval, emit, shouldStop);
  return run;
}
