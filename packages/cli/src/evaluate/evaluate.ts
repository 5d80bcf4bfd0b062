import { noGrad, Rng } from '@ganpo/autograd';
import { isFormatCompliant, rewardBreakdown, type TaskInstance, type Tokenizer } from '@ganpo/datasets';
import { type CausalLM, generateWithDetails, sequenceLogps } from '@ganpo/models';
import type { Objective, PairLogps } from '@ganpo/objectives';
import { type Pair, pairBatch, referenceForward, type RowLimit, sequenceBatch, stepInput } from '../train/pairs.js';
import { PairRewardTally, winRate } from './stats.js';
import type { DriftEval, EvalResult, PreferenceEval, SampleStats, SamplingEval } from './types.js';

/**
 * Evaluation of a policy against its reference: held-out preference accuracy and margins (TRL's implicit
 * rewards), token-level KL and latent drift, and, on the embedded task, the ground-truth reward of sampled
 * responses. Everything runs without gradient and in evaluation mode; sampling is seeded.
 */

const chunks = <T>(xs: readonly T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

function evalMode<T>(models: CausalLM[], fn: () => T): T {
  const modes = models.map((m) => m.training);
  for (const m of models) m.eval();
  try {
    return noGrad(fn);
  } finally {
    models.forEach((m, i) => m.train(modes[i]));
  }
}

export interface PreferenceEvalOptions {
  readonly objective: Objective<PairLogps>;
  readonly beta: number;
  readonly maxLength: RowLimit;
  readonly batchSize?: number;
}

/** Held-out preference metrics of `policy` against `reference` (implicit rewards β·Δ, TRL's names). */
export function preferenceEval(policy: CausalLM, reference: CausalLM, pairs: readonly Pair[], tokenizer: Tokenizer, o: PreferenceEvalOptions): PreferenceEval | null {
  if (pairs.length === 0) return null;
  return evalMode([policy, reference], () => {
    const tally = new PairRewardTally(o.beta);
    for (const group of chunks(pairs, o.batchSize ?? 16)) {
      const { batch } = pairBatch(group, tokenizer, o.maxLength);
      if (batch.rows === 0) continue;
      const out = policy.forward(batch);
      const ref = referenceForward(reference, batch, false);
      const input = stepInput(batch, { ...out, logps: sequenceLogps(out.logits, batch) }, ref, { reference: true, tokens: false, tokenReference: false, logSumSquaredProbs: false });
      let loss: number;
      try {
        loss = o.objective(input.logps).loss.item();
      } catch {
        // An objective that needs per-token inputs: the held-out loss is left out (NaN), the rest stands.
        loss = Number.NaN;
      }
      const lp = input.logps;
      tally.add({ policyChosen: lp.policyChosen.data, policyRejected: lp.policyRejected.data, refChosen: lp.refChosen!.data, refRejected: lp.refRejected!.data }, loss);
    }
    return tally.result();
  });
}

/**
 * KL(π ‖ π_ref) of the next-token distributions, averaged over response tokens, and the distance between
 * the mean-pooled latents of policy and reference (over real tokens), on the chosen sequences of `pairs`.
 */
export function driftEval(policy: CausalLM, reference: CausalLM, pairs: readonly Pair[], tokenizer: Tokenizer, maxLength: RowLimit): DriftEval | null {
  if (pairs.length === 0) return null;
  return evalMode([policy, reference], () => {
    let klSum = 0;
    let klCount = 0;
    let drift = 0;
    let rel = 0;
    let seqs = 0;
    for (const group of chunks(pairs, 16)) {
      const { batch } = sequenceBatch(group.map((p) => ({ prompt: p.prompt, completion: p.chosen })), tokenizer, maxLength);
      if (batch.rows === 0) continue;
      const p = policy.forward(batch);
      const q = reference.forward(batch);
      const V = p.logits.shape[2];
      const d = p.latents.shape[2];
      const T = batch.seqLen;
      const pl = p.logits.data;
      const ql = q.logits.data;
      const lp = new Float64Array(V);
      const lq = new Float64Array(V);
      for (let r = 0; r < batch.rows; r++) {
        for (let t = 0; t + 1 < T; t++) {
          const next = r * T + t + 1;
          if (batch.lossMask[next] === 0 || batch.attentionMask[next] === 0) continue;
          const base = (r * T + t) * V;
          logSoftmaxInto(pl, base, V, lp);
          logSoftmaxInto(ql, base, V, lq);
          let kl = 0;
          for (let v = 0; v < V; v++) kl += Math.exp(lp[v]) * (lp[v] - lq[v]);
          klSum += Math.max(kl, 0);
          klCount++;
        }
        // Latent drift: masked mean pooling.
        const pm = new Float64Array(d);
        const qm = new Float64Array(d);
        let real = 0;
        for (let t = 0; t < T; t++) {
          if (batch.attentionMask[r * T + t] === 0) continue;
          real++;
          const base = (r * T + t) * d;
          for (let k = 0; k < d; k++) {
            pm[k] += p.latents.data[base + k];
            qm[k] += q.latents.data[base + k];
          }
        }
        let dist = 0;
        let norm = 0;
        for (let k = 0; k < d; k++) {
          const a = pm[k] / Math.max(real, 1);
          const b = qm[k] / Math.max(real, 1);
          dist += (a - b) ** 2;
          norm += b * b;
        }
        drift += Math.sqrt(dist / d);
        rel += Math.sqrt(dist) / Math.max(Math.sqrt(norm), 1e-12);
        seqs++;
      }
    }
    if (seqs === 0) return null;
    return { tokenKl: klCount > 0 ? klSum / klCount : 0, latentDrift: drift / seqs, relativeLatentDrift: rel / seqs };
  });
}

function logSoftmaxInto(src: ArrayLike<number>, base: number, n: number, out: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, src[base + i]);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(src[base + i] - max);
  const lse = max + Math.log(s);
  for (let i = 0; i < n; i++) out[i] = src[base + i] - lse;
}

export interface SampleOptions {
  readonly temperature: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly maxNewTokens: number;
  readonly seed: number;
}

export interface Sample {
  readonly text: string;
  readonly endedWithEos: boolean;
  readonly tokens: number;
}

/**
 * A prompt's token ids (BOS first) that leave room for at least one new token in a context of `ctx`: a longer
 * prompt keeps BOS and its last tokens, and `cut` says how many were dropped (`ganpo sample` warns about it).
 */
export function fitPrompt(ids: readonly number[], ctx: number): { ids: number[]; cut: number } {
  if (ids.length < ctx) return { ids: [...ids], cut: 0 };
  const kept = [ids[0], ...ids.slice(ids.length - ctx + 2)];
  return { ids: kept, cut: ids.length - kept.length };
}

/** Generates one response per prompt (seeded; greedy at temperature 0), prompts batched together. */
export function sampleResponses(model: CausalLM, prompts: readonly string[], tokenizer: Tokenizer, o: SampleOptions, batchSize = 32): Sample[] {
  const rng = Rng.seeded(o.seed);
  const out: Sample[] = [];
  const ctx = model.config.contextLength;
  for (const group of chunks(prompts, batchSize)) {
    const ids = group.map((p) => fitPrompt([tokenizer.bos, ...tokenizer.encode(p)], ctx).ids);
    const g = generateWithDetails(model, ids, {
      maxNewTokens: o.maxNewTokens,
      temperature: o.temperature,
      topP: o.topP,
      topK: o.topK,
      eos: tokenizer.eos,
      pad: tokenizer.pad,
      rng: o.temperature > 0 ? rng : undefined,
    });
    g.tokens.forEach((t, i) => out.push({ text: tokenizer.decode(t.filter((id) => id !== tokenizer.pad && id !== tokenizer.bos)), endedWithEos: g.stopReasons[i] === 'eos', tokens: t.length }));
  }
  return out;
}

/** Mean ground-truth reward, format compliance and length of responses to task prompts. */
export function scoreSamples(instances: readonly TaskInstance[], samples: readonly Sample[]): SampleStats & { rewards: number[] } {
  const rewards = samples.map((s, i) => rewardBreakdown(instances[i].prompt, s).reward);
  const compliant = samples.filter((s, i) => isFormatCompliant(instances[i].prompt, s)).length;
  const n = Math.max(samples.length, 1);
  return {
    reward: rewards.reduce((a, b) => a + b, 0) / n,
    formatCompliance: compliant / n,
    meanLength: samples.reduce((a, s) => a + s.text.length, 0) / n,
    rewards,
  };
}

/** Mean ground-truth reward of greedy responses on the first `n` held-out prompts (the eval curve). */
export function greedyReward(model: CausalLM, heldOut: readonly TaskInstance[], tokenizer: Tokenizer, n: number, maxNewTokens: number): number {
  const instances = heldOut.slice(0, n);
  const samples = sampleResponses(model, instances.map((h) => h.prompt), tokenizer, { temperature: 0, maxNewTokens, seed: 0 });
  return scoreSamples(instances, samples).reward;
}

export interface SamplingEvalOptions {
  readonly temperatures: readonly number[];
  readonly prompts: number;
  readonly maxNewTokens: number;
  readonly seed: number;
}

/** Policy and reference responses to the same held-out prompts, at each temperature, with the same seed. */
export function samplingEval(policy: CausalLM, reference: CausalLM, heldOut: readonly TaskInstance[], tokenizer: Tokenizer, o: SamplingEvalOptions, firstIndex = 0): SamplingEval[] {
  const instances = o.prompts > 0 ? heldOut.slice(0, o.prompts) : heldOut;
  const prompts = instances.map((h) => h.prompt);
  return o.temperatures.map((temperature, j) => {
    const i = firstIndex + j;
    const seed = (o.seed * 1000003 + i * 7919) | 0;
    const ps = scoreSamples(instances, sampleResponses(policy, prompts, tokenizer, { temperature, maxNewTokens: o.maxNewTokens, seed }));
    const rs = scoreSamples(instances, sampleResponses(reference, prompts, tokenizer, { temperature, maxNewTokens: o.maxNewTokens, seed }));
    const strip = ({ rewards: _r, ...s }: SampleStats & { rewards: number[] }): SampleStats => s;
    return { temperature, prompts: instances.length, policy: strip(ps), reference: strip(rs), winRate: winRate(ps.rewards, rs.rewards) };
  });
}

export interface EvaluateInput {
  readonly policy: CausalLM;
  readonly reference: CausalLM;
  readonly policyDir: string;
  readonly referenceDir: string;
  readonly tokenizer: Tokenizer;
  readonly evalPairs: readonly Pair[];
  readonly heldOut: readonly TaskInstance[] | null;
  readonly objective: Objective<PairLogps>;
  readonly beta: number;
  readonly maxLength: RowLimit;
  readonly sampling: SamplingEvalOptions;
  /** Held-out pairs used (0: all). */
  readonly pairs?: number;
  readonly onProgress?: (what: string) => void;
}

/** The held-out pairs evaluated: the first `input.pairs`, or all. */
const evalPairsOf = (input: EvaluateInput): readonly Pair[] => (input.pairs ? input.evalPairs.slice(0, input.pairs) : input.evalPairs);

/** The result of an evaluation that began at `started` (performance.now()). */
function resultOf(input: EvaluateInput, parts: Pick<EvalResult, 'preference' | 'sampling' | 'drift'>, started: number): EvalResult {
  return {
    policy: input.policyDir,
    reference: input.referenceDir,
    task: input.heldOut ? 'embedded' : 'user',
    ...parts,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * {@link evaluate}, yielding to the event loop between its parts (so a Ctrl-C handler can run) and
 * stopping with null when `stop()` says so.
 */
export async function evaluateAsync(input: EvaluateInput, stop: () => boolean = () => false): Promise<EvalResult | null> {
  const started = performance.now();
  const tick = () => new Promise<void>((r) => setImmediate(r));
  const pairs = evalPairsOf(input);
  input.onProgress?.(`held-out preferences (${pairs.length} pairs)`);
  const preference = preferenceEval(input.policy, input.reference, pairs, input.tokenizer, { objective: input.objective, beta: input.beta, maxLength: input.maxLength });
  await tick();
  if (stop()) return null;
  input.onProgress?.('token KL and latent drift');
  const drift = driftEval(input.policy, input.reference, pairs, input.tokenizer, input.maxLength);
  const sampling: SamplingEval[] = [];
  if (input.heldOut) {
    for (const temperature of input.sampling.temperatures) {
      await tick();
      if (stop()) return null;
      input.onProgress?.(`sampling ${input.sampling.prompts || input.heldOut.length} held-out prompts at temperature ${temperature}`);
      const i = input.sampling.temperatures.indexOf(temperature);
      // The same seed per temperature as `samplingEval` over the whole list.
      const [one] = samplingEval(input.policy, input.reference, input.heldOut, input.tokenizer, { ...input.sampling, temperatures: [temperature], seed: input.sampling.seed }, i);
      sampling.push(one);
    }
  }
  await tick();
  if (stop()) return null;
  return resultOf(input, { preference, sampling, drift }, started);
}

export function evaluate(input: EvaluateInput): EvalResult {
  const started = performance.now();
  const pairs = evalPairsOf(input);
  input.onProgress?.(`held-out preferences (${pairs.length} pairs)`);
  const preference = preferenceEval(input.policy, input.reference, pairs, input.tokenizer, { objective: input.objective, beta: input.beta, maxLength: input.maxLength });
  input.onProgress?.('token KL and latent drift');
  const drift = driftEval(input.policy, input.reference, pairs, input.tokenizer, input.maxLength);
  let sampling: SamplingEval[] = [];
  if (input.heldOut && input.sampling.temperatures.length > 0) {
    input.onProgress?.(`sampling ${input.sampling.prompts || input.heldOut.length} held-out prompts at temperature ${input.sampling.temperatures.join(', ')}`);
    sampling = samplingEval(input.policy, input.reference, input.heldOut, input.tokenizer, input.sampling);
  }
  return resultOf(input, { preference, sampling, drift }, started);
}

