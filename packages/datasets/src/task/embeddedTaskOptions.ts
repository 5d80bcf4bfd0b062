import * as E from 'fp-ts/lib/Either.js';
import { CORRUPTIONS, type Corruption, type CorruptionWeights } from './teacher.js';
import { TASK_NAMES, type TaskName } from './tasks.js';

/** Input lengths, in letters or items, both ends included. */
export interface LengthRange {
  readonly min: number;
  readonly max: number;
}

export interface EmbeddedTaskOptions {
  readonly seed: number;
  /** SFT demonstrations (default 2000). */
  readonly nSft?: number;
  /** Training preference pairs (default 1000). */
  readonly nTrain?: number;
  /** Evaluation preference pairs, at `evalLengths`, never label-flipped (default 200). */
  readonly nEval?: number;
  /** Held-out prompts with reference answers, at `evalLengths`, for generation (default 200). */
  readonly nHeldOut?: number;
  /** Probability that an SFT demonstration is the exact answer (default 0.9). */
  readonly sftAccuracy?: number;
  /** Probability that each of a pair's two teacher samples is the exact answer (default 0.5). */
  readonly pairAccuracy?: number;
  /** Fraction of training pairs whose labels are swapped: exactly round(rate · nTrain) (default 0). */
  readonly labelNoise?: number;
  /** Input lengths for SFT and training pairs (default 3–5). */
  readonly trainLengths?: LengthRange;
  /** Input lengths for evaluation pairs and held-out prompts (default: same as train). Longer = distribution shift. */
  readonly evalLengths?: LengthRange;
  /** Relative weight of each task (default: all 1). A task with weight 0 is never drawn. */
  readonly taskMix?: Partial<Record<TaskName, number>>;
  /** Relative weight of each teacher corruption (default: all 1). */
  readonly corruptionMix?: Partial<Record<Corruption, number>>;
}

export interface ResolvedEmbeddedTaskOptions {
  readonly seed: number;
  readonly nSft: number;
  readonly nTrain: number;
  readonly nEval: number;
  readonly nHeldOut: number;
  readonly sftAccuracy: number;
  readonly pairAccuracy: number;
  readonly labelNoise: number;
  readonly trainLengths: LengthRange;
  readonly evalLengths: LengthRange;
  readonly taskMix: Readonly<Record<TaskName, number>>;
  readonly corruptionMix: CorruptionWeights;
}

const DEFAULT_LENGTHS: LengthRange = { min: 3, max: 5 };

/** Fills in defaults and checks every knob; Left is one message listing what is wrong. */
export function resolveEmbeddedTaskOptions(options: EmbeddedTaskOptions): E.Either<string, ResolvedEmbeddedTaskOptions> {
  const problems: string[] = [];
  const count = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < 0) problems.push(`${name} must be a non-negative integer, got ${v}`);
    return v;
  };
  const probability = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!(v >= 0 && v <= 1)) problems.push(`${name} must be in [0, 1], got ${v}`);
    return v;
  };
  const lengths = (name: string, value: LengthRange | undefined, fallback: LengthRange): LengthRange => {
    const v = value ?? fallback;
    if (!Number.isInteger(v.min) || !Number.isInteger(v.max) || v.min < 1 || v.min > v.max)
      problems.push(`${name} must have integers 1 ≤ min ≤ max, got ${JSON.stringify(v)}`);
    return v;
  };
  const weights = <K extends string>(name: string, keys: ReadonlyArray<K>, value: Partial<Record<K, number>> | undefined): Record<K, number> => {
    const out = Object.fromEntries(keys.map((k) => [k, value ? (value[k] ?? 0) : 1])) as Record<K, number>;
    for (const k of Object.keys(value ?? {})) if (!keys.includes(k as K)) problems.push(`${name}: unknown key "${k}" (known: ${keys.join(', ')})`);
    if (keys.some((k) => !(out[k] >= 0 && Number.isFinite(out[k])))) problems.push(`${name}: weights must be finite and ≥ 0`);
    else if (keys.every((k) => out[k] === 0)) problems.push(`${name}: at least one weight must be positive`);
    return out;
  };

  if (!Number.isInteger(options.seed)) problems.push(`seed must be an integer, got ${options.seed}`);
  const trainLengths = lengths('trainLengths', options.trainLengths, DEFAULT_LENGTHS);
  const resolved: ResolvedEmbeddedTaskOptions = {
    seed: options.seed,
    nSft: count('nSft', options.nSft, 2000),
    nTrain: count('nTrain', options.nTrain, 1000),
    nEval: count('nEval', options.nEval, 200),
    nHeldOut: count('nHeldOut', options.nHeldOut, 200),
    sftAccuracy: probability('sftAccuracy', options.sftAccuracy, 0.9),
    pairAccuracy: probability('pairAccuracy', options.pairAccuracy, 0.5),
    labelNoise: probability('labelNoise', options.labelNoise, 0),
    trainLengths,
    evalLengths: lengths('evalLengths', options.evalLengths, trainLengths),
    taskMix: weights('taskMix', TASK_NAMES, options.taskMix),
    corruptionMix: weights('corruptionMix', CORRUPTIONS, options.corruptionMix),
  };
  if (resolved.taskMix.sort > 0 && Math.max(resolved.trainLengths.max, resolved.evalLengths.max) > 26)
    problems.push('sort uses distinct letters: input lengths must be at most 26 while sort is in taskMix');
  if ((resolved.nTrain > 0 || resolved.nEval > 0) && resolved.pairAccuracy === 1)
    problems.push('pairAccuracy 1 makes both samples of every pair correct: every pair would be a tie');
  return problems.length > 0 ? E.left(`embedded task: ${problems.join('; ')}`) : E.right(resolved);
}
