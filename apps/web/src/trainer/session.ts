import { AdamW, cosineWithWarmup, Rng } from '@ganpo/autograd';
import { Ganpo } from '@ganpo/adversarial';
import { byteTokenizer, deriveSeed, epochBatches, rewardBreakdown, type TaskInstance, type Tokenizer } from '@ganpo/datasets';
import { CausalLM, freezeReference, generateWithDetails, presetConfig } from '@ganpo/models';
import { preferenceObjective, type Objective, type PairLogps } from '@ganpo/objectives';
import type { LoopSettings, WebRunConfig } from './config.js';
import { loadWebRunData, type WebRunData } from './data.js';
import { preferenceEval, preferenceStep, sftEval, sftStep, type PreferenceStepState } from './steps.js';

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
  readonly data: WebRunData;
  readonly tokenizer: Tokenizer;
  readonly policy: CausalLM;
  readonly metrics: MetricsLine[];
}

/** Batches of a stage in the order `ganpo train` uses: reshuffled each epoch with a seed derived from (seed, stage, epoch). */
function batchAt<T>(items: readonly T[], batchSize: number, seed: number, i: number): T[] {
  const perEpoch = Math.max(1, Math.floor(items.length / batchSize));
  const epoch = Math.floor(i / perEpoch);
  const batches = epochBatches(items, epoch, { batchSize, seed, dropLast: items.length >= batchSize });
  return batches[i % perEpoch];
}

function optimizerFor(model: CausalLM, loop: LoopSettings): AdamW {
  const warmupSteps = Math.min(loop.warmup, loop.steps);
  const schedule = cosineWithWarmup({ lr: loop.lr, warmupSteps, totalSteps: Math.max(loop.steps, warmupSteps), minLr: 0 });
  return new AdamW(model.namedParameters(), { lr: loop.lr, weightDecay: 0, schedule } as never);
}

/** Mean ground-truth reward of greedy answers to the first `n` held-out prompts of the embedded task. */
export function greedyReward(model: CausalLM, heldOut: readonly TaskInstance[], tokenizer: Tokenizer, n: number, maxNewTokens = 24): number {
  const instances = heldOut.slice(0, n);
  const samples = sample(model, tokenizer, instances.map((h) => h.prompt), { temperature: 0, maxNewTokens, seed: 0 });
  return instances.reduce((acc, h, i) => acc + rewardBreakdown(h.prompt, samples[i]).reward, 0) / Math.max(instances.length, 1);
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

/**
 * Trains: SFT, then the preference objective with (optionally) GANPO against the SFT model as reference.
 * Calls `onLine` after every step (and yields to the event loop, so a page or worker stays responsive);
 * `shouldStop` ends the run early after the current step.
 */
export async function trainWebRun(config: WebRunConfig, onLine: (line: MetricsLine, run: WebRun) => void, shouldStop: () => boolean = () => false): Promise<WebRun> {
  const data = await loadWebRunData(config);
  const tokenizer = byteTokenizer();
  const modelConfig = presetConfig(config.model, { vocabSize: tokenizer.vocabSize, contextLength: Math.max(config.maxLength, 16), dropout: 0 });
  const policy = new CausalLM(modelConfig, { seed: config.seed });
  const run: WebRun = { config, data, tokenizer, policy, metrics: [] };
  const heldOutSft = data.evalPairs.slice(0, config.evalPairs).map((p) => ({ prompt: p.prompt, completion: p.chosen }));
  const evalPairs = data.evalPairs.slice(0, config.evalPairs);
  const rewardNow = (): Record<string, number> =>
    data.heldOut && config.rewardPrompts > 0 ? { 'eval/greedy_reward': greedyReward(policy, data.heldOut, tokenizer, config.rewardPrompts) } : {};
  const emit = (stage: MetricsLine['stage'], step: number, total: number, ms: number, values: Record<string, number>) => {
    const line: MetricsLine = { stage, step, total, step_ms: ms, ...values };
    run.metrics.push(line);
    onLine(line, run);
  };
  const evalDue = (k: number, total: number) => config.evalInterval > 0 && (k % config.evalInterval === 0 || k === total);

  // SFT.
  const sftOpt = optimizerFor(policy, config.sft);
  const sftSeed = deriveSeed(config.seed, 'sft');
  for (let k = 1; k <= config.sft.steps && !shouldStop(); k++) {
    const t0 = performance.now();
    const r = sftStep(policy, sftOpt, batchAt(data.sft, config.sft.batchSize, sftSeed, k - 1), tokenizer, config.maxLength);
    const ms = performance.now() - t0;
    const extra = evalDue(k, config.sft.steps) ? { 'eval/loss': sftEval(policy, heldOutSft, tokenizer, config.maxLength), ...rewardNow() } : {};
    emit('sft', k, config.sft.steps, ms, { ...r.values, tokens_per_s: (r.tokens * 1000) / Math.max(ms, 1e-6), ...extra });
    await pause();
  }

  // Preference optimisation (+ GANPO) against the SFT model.
  const p = config.preference;
  const reference = freezeReference(policy);
  const objective: Objective<PairLogps> = preferenceObjective([{ loss: p.loss, beta: p.beta }] as never, { available: { reference: true, tokens: true, tokenReference: true, logSumSquaredProbs: true } });
  const state: PreferenceStepState = {
    ganpo: config.ganpo.enabled
      ? Ganpo.create(
          {
            lambda: config.ganpo.lambda, twoDiscriminators: config.ganpo.twoDiscriminators, pooling: config.ganpo.pooling,
            architecture: 'transformer', width: 32, discLayers: 1, heads: 2, dropout: 0, means: 'ema', momentum: 0.9, discLr: 1e-3,
            policyLr: p.lr, schedule: 'cosine', warmupSteps: Math.min(p.warmup, p.steps), totalSteps: p.steps, seed: config.seed,
          },
          { latentDim: policy.config.dModel },
        )
      : null,
  };
  const prefOpt = optimizerFor(policy, p);
  const prefSeed = deriveSeed(config.seed, 'preference');
  for (let k = 1; k <= p.steps && !shouldStop(); k++) {
    const t0 = performance.now();
    const r = preferenceStep(policy, reference, prefOpt, objective, state, batchAt(data.trainPairs, p.batchSize, prefSeed, k - 1), tokenizer, config.maxLength);
    const ms = performance.now() - t0;
    const extra = evalDue(k, p.steps) ? { ...preferenceEval(policy, reference, objective, evalPairs, tokenizer, config.maxLength), ...rewardNow() } : {};
    emit('preference', k, p.steps, ms, { ...r.values, tokens_per_s: (r.tokens * 1000) / Math.max(ms, 1e-6), ...extra });
    await pause();
  }
  return run;
}
