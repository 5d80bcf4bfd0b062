import type { TaskInstance, Tokenizer } from '@ganpo/datasets';
import type { CausalLM } from '@ganpo/models';
import type { Pair } from '../train/pairs.js';
import { driftEval, type PreferenceEvalOptions, preferenceEval, sampleResponses, scoreSamples } from './evaluate.js';
import type { DriftEval, PreferenceEval, SampleStats } from './types.js';

/**
 * Robustness evaluation for experiments: the ground-truth reward, format compliance and length of one
 * model's sampled responses across temperatures, and held-out preference accuracy, token KL and latent
 * drift to the reference, on one named evaluation set (the held-out split or the shifted one). Built from
 * the functions of `evaluate.ts`; only the policy is sampled (the reference's curve is measured once per
 * SFT model by the experiment runner).
 */

export interface TemperaturePoint extends SampleStats {
  readonly temperature: number;
}

export interface EvalSet {
  readonly name: string;
  readonly instances: readonly TaskInstance[];
  readonly pairs: readonly Pair[];
}

export interface SetEval {
  readonly name: string;
  readonly prompts: number;
  readonly sampling: readonly TemperaturePoint[];
  readonly preference: PreferenceEval | null;
  readonly drift: DriftEval | null;
}

export interface CurveOptions {
  readonly temperatures: readonly number[];
  readonly maxNewTokens: number;
  /** Sampling seed; temperature i uses a seed derived from it, so two models see the same random stream. */
  readonly seed: number;
}

/** Reward, compliance and length of `model`'s responses to `instances` at each temperature. */
export function temperatureCurve(model: CausalLM, instances: readonly TaskInstance[], tokenizer: Tokenizer, o: CurveOptions): TemperaturePoint[] {
  const wasTraining = model.training;
  model.eval();
  try {
    const prompts = instances.map((h) => h.prompt);
    return o.temperatures.map((temperature, i) => {
      const samples = sampleResponses(model, prompts, tokenizer, { temperature, maxNewTokens: o.maxNewTokens, seed: (o.seed * 1000003 + i * 7919) | 0 });
      const { rewards: _r, ...stats } = scoreSamples(instances, samples);
      return { temperature, ...stats };
    });
  } finally {
    model.train(wasTraining);
  }
}

/** Everything above on one evaluation set, for a policy against its reference. */
export function evaluateSet(policy: CausalLM, reference: CausalLM, set: EvalSet, tokenizer: Tokenizer, o: CurveOptions & PreferenceEvalOptions): SetEval {
  return {
    name: set.name,
    prompts: set.instances.length,
    sampling: temperatureCurve(policy, set.instances, tokenizer, o),
    preference: preferenceEval(policy, reference, set.pairs, tokenizer, o),
    drift: driftEval(policy, reference, set.pairs, tokenizer, o.maxLength),
  };
}

/** The flat metric names of a set's results (`reward@0.7`, `shifted/accuracy`, ...), as the experiment report reads them. */
export function flatMetrics(e: SetEval, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of e.sampling) {
    out[`${prefix}reward@${p.temperature}`] = p.reward;
    out[`${prefix}compliance@${p.temperature}`] = p.formatCompliance;
    out[`${prefix}length@${p.temperature}`] = p.meanLength;
  }
  if (e.preference) out[`${prefix}accuracy`] = e.preference.accuracy;
  if (e.drift) {
    out[`${prefix}tokenKl`] = e.drift.tokenKl;
    out[`${prefix}latentDrift`] = e.drift.latentDrift;
  }
  return out;
}
