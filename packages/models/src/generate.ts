import { type Rng, indices, noGrad } from '@ganpo/autograd';
import type { CausalLM, LMCache } from './model.js';

/** How the next token is chosen from a row of logits. */
export interface SamplingOptions {
  /** 0 (default) is greedy decoding (arg-max, lowest id on ties); > 0 divides the logits before sampling. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches p (1 or undefined: all). */
  topP?: number;
}

function checkSampling(o: SamplingOptions): void {
  const { temperature = 0, topK, topP } = o;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`sampling: temperature ${temperature} must be a finite number ≥ 0`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 0)) throw new Error(`sampling: topK ${topK} must be an integer ≥ 0`);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new Error(`sampling: topP ${topP} must be in (0, 1]`);
}

/** The arg-max of a row (the lowest index among equal maxima; NaN never wins). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] > bestValue) {
      bestValue = logits[i];
      best = i;
    }
  }
  return best;
}

/**
 * The distribution sampling draws from, after temperature, top-k and top-p: token ids in decreasing
 * probability (ties by lower id) with their renormalized probabilities. Greedy (temperature 0) gives the
 * arg-max with probability 1.
 */
export function samplingDistribution(logits: ArrayLike<number>, options: SamplingOptions = {}): { ids: number[]; probs: number[] } {
  checkSampling(options);
  const { temperature = 0, topK = 0, topP = 1 } = options;
  if (logits.length === 0) throw new Error('sampling: empty logits');
  if (temperature === 0) return { ids: [argmax(logits)], probs: [1] };
  const order = Array.from({ length: logits.length }, (_, i) => i);
  const score = (i: number) => (Number.isNaN(logits[i]) ? -Infinity : logits[i] / temperature);
  order.sort((a, b) => score(b) - score(a) || a - b);
  let kept = topK > 0 ? order.slice(0, topK) : order;
  const max = score(kept[0]);
  if (max === -Infinity) throw new Error('sampling: every logit is −∞ or NaN');
  let weights = kept.map((i) => Math.exp(score(i) - max));
  let total = weights.reduce((a, b) => a + b, 0);
  if (topP < 1) {
    // Keep a token while the probability of the tokens before it is still below p.
    let cum = 0;
    let n = 0;
    while (n < kept.length && cum < topP * total) cum += weights[n++];
    kept = kept.slice(0, Math.max(n, 1));
    weights = weights.slice(0, kept.length);
    total = weights.reduce((a, b) => a + b, 0);
  }
  return { ids: kept, probs: weights.map((w) => w / total) };
}

/** One token from a row of logits; needs `rng` unless decoding greedily. */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions = {}, rng?: Rng): number {
  const { ids, probs } = samplingDistribution(logits, options);
  if (ids.length === 1) return ids[0];
  if (!rng) throw new Error('sampleToken: sampling with temperature > 0 needs a seeded generator (rng)');
  const u = rng.uniform();
  let cum = 0;
  for (let i = 0; i < ids.length; i++) {
    cum += probs[i];
    if (u < cum) return ids[i];
  }
  return ids[ids.length - 1];
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Token id(s) that end a row; the EOS itself is not included in the output. */
  eos?: number | readonly number[];
  /** The seeded generator for sampling (required when temperature > 0). */
  rng?: Rng;
  /** Key-value cache (default true): each new token costs one forward step of one position. */
  useCache?: boolean;
  /** Id placed in padding positions (never attended to); default 0. */
  pad?: number;
}

export type StopReason = 'eos' | 'length' | 'context';

export interface Generation {
  /** New tokens per row, without the prompt and without the EOS. */
  tokens: number[][];
  /** Why each row stopped: EOS, maxNewTokens, or the model's context length. */
  stopReasons: StopReason[];
}

/**
 * Generates continuations of a batch of prompts of different lengths.
 *
 * Prompts are left-padded to a common length; padding is masked out of attention and position ids count real
 * tokens only (see CausalLM.forward), so each row is generated exactly as it would be alone. Rows that have
 * stopped keep being fed a masked pad token until every row is done. The model runs without gradient and in
 * evaluation mode (its mode is restored afterwards). With useCache the prompt is run once and then every step
 * feeds one position per row; without it, every step re-runs the whole sequence (for testing; same tokens).
 */
export function generateWithDetails(model: CausalLM, prompts: readonly (readonly number[])[], options: GenerateOptions): Generation {
  checkSampling(options);
  const { maxNewTokens, rng, useCache = true, pad = 0 } = options;
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 0)) throw new Error(`generate: maxNewTokens ${maxNewTokens} must be an integer ≥ 0`);
  const eos = new Set(options.eos === undefined ? [] : typeof options.eos === 'number' ? [options.eos] : options.eos);
  const { vocabSize, contextLength } = model.config;
  const rows = prompts.length;
  const tokens: number[][] = prompts.map(() => []);
  const stopReasons: StopReason[] = prompts.map(() => 'length');
  if (rows === 0) return { tokens, stopReasons };
  prompts.forEach((p, r) => {
    if (p.length === 0) throw new Error(`generate: prompt ${r} is empty (start it with a BOS token)`);
    if (p.length > contextLength) throw new Error(`generate: prompt ${r} has ${p.length} tokens, over the context length ${contextLength}`);
    for (const id of p) if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) throw new Error(`generate: prompt ${r} has token ${id} outside [0, ${vocabSize})`);
  });
  if (maxNewTokens === 0) return { tokens, stopReasons };
  if ((options.temperature ?? 0) > 0 && !rng) throw new Error('generate: sampling with temperature > 0 needs a seeded generator (rng)');

  const width = Math.max(...prompts.map((p) => p.length));
  // Left-padded prompt matrix; `seq` and `mask` grow by one column per step (the uncached path reads them whole).
  let seq: number[][] = prompts.map((p) => [...new Array<number>(width - p.length).fill(pad), ...p]);
  let mask: number[][] = prompts.map((p) => [...new Array<number>(width - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);
  const done = new Array<boolean>(rows).fill(false);

  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      let cache: LMCache | undefined;
      const step = (newCols: number): Float32Array | Float64Array => {
        const t = useCache && cache ? newCols : seq[0].length;
        const from = seq[0].length - t;
        const ids = Int32Array.from(seq.flatMap((s) => s.slice(from)));
        const m = Float32Array.from(mask.flatMap((s) => s.slice(from)));
        const out = model.forward(indices(ids, [rows, t]), m, {
          lastPositionOnly: true,
          useCache,
          past: useCache ? cache : undefined,
        });
        cache = out.cache;
        return out.logits.data;
      };
      let logits = step(width);
      for (let s = 0; s < maxNewTokens; s++) {
        const next = new Array<number>(rows).fill(pad);
        const nextMask = new Array<number>(rows).fill(0);
        for (let r = 0; r < rows; r++) {
          if (done[r]) continue;
          const row = logits.subarray(r * vocabSize, (r + 1) * vocabSize);
          const token = sampleToken(row, options, rng);
          if (eos.has(token)) {
            done[r] = true;
            stopReasons[r] = 'eos';
            continue;
          }
          tokens[r].push(token);
          if (tokens[r].length >= maxNewTokens) {
            done[r] = true;
            stopReasons[r] = 'length';
          } else if (prompts[r].length + tokens[r].length >= contextLength) {
            done[r] = true;
            stopReasons[r] = 'context';
          } else {
            next[r] = token;
            nextMask[r] = 1;
          }
        }
        if (done.every(Boolean)) break;
        seq = seq.map((row, r) => [...row, next[r]]);
        mask = mask.map((row, r) => [...row, nextMask[r]]);
        logits = step(1);
      }
      return { tokens, stopReasons };
    });
  } finally {
    model.train(wasTraining);
  }
}

/** New tokens per prompt (without the prompt and without the EOS); see {@link generateWithDetails}. */
export function generate(model: CausalLM, prompts: readonly (readonly number[])[], options: GenerateOptions): number[][] {
  return generateWithDetails(model, prompts, options).tokens;
}
