import * as E from 'fp-ts/lib/Either.js';
import { createRng, deriveSeed, pickWeighted, randomInt, type Rng } from '../random/rng.js';
import { flipPreferenceLabels } from './labelNoise.js';
import { resolveEmbeddedTaskOptions, type EmbeddedTaskOptions, type LengthRange, type ResolvedEmbeddedTaskOptions } from './embeddedTaskOptions.js';
import { flipTaskPair, teacherDemonstration, teacherPair, type TaskDemonstration, type TaskPair } from './teacherPairs.js';
import { sampleTaskInstance, TASK_NAMES, type TaskInstance } from './tasks.js';

export interface EmbeddedTask {
  readonly options: ResolvedEmbeddedTaskOptions;
  /** Teacher demonstrations for SFT (train lengths). */
  readonly sft: TaskDemonstration[];
  /** Preference pairs for training (train lengths), with label noise applied. */
  readonly trainPairs: TaskPair[];
  /** Preference pairs for evaluation (eval lengths), clean labels. */
  readonly evalPairs: TaskPair[];
  /** Prompts with reference answers for generation and reward (eval lengths). */
  readonly heldOut: TaskInstance[];
  readonly stats: {
    /** Pairs of teacher samples dropped because their rewards tied. */
    readonly tiesDropped: number;
    /** Indices into `trainPairs` whose labels were flipped. */
    readonly flippedIndices: number[];
    /** Evaluation pairs / held-out prompts whose prompt also occurs in training data (avoided when possible). */
    readonly evalPromptsSeenInTraining: number;
    readonly heldOutPromptsSeenInTraining: number;
  };
}

/** Tries per prompt to find one not used in training before accepting a repeat. */
const FRESH_PROMPT_TRIES = 20;

/**
 * Generates the embedded task: SFT demonstrations, train and eval preference pairs, held-out prompts.
 * Deterministic in `seed`; each part draws from its own stream, so changing one count leaves the
 * other parts as they were. Throws with one message when an option is invalid.
 */
export function embeddedTask(options: EmbeddedTaskOptions): EmbeddedTask {
  const resolved = resolveEmbeddedTaskOptions(options);
  if (E.isLeft(resolved)) throw new RangeError(resolved.left);
  const o = resolved.right;
  const stream = (name: string): Rng => createRng(deriveSeed(o.seed, name));
  const taskWeights = TASK_NAMES.map((t) => o.taskMix[t]);
  const drawInstance = (rng: Rng, lengths: LengthRange): TaskInstance =>
    sampleTaskInstance(rng, TASK_NAMES[pickWeighted(rng, taskWeights)], randomInt(rng, lengths.min, lengths.max));

  const sftRng = stream('sft');
  const sft = Array.from({ length: o.nSft }, () => teacherDemonstration(sftRng, drawInstance(sftRng, o.trainLengths), o.sftAccuracy, o.corruptionMix));

  let tiesDropped = 0;
  const makePairs = (rng: Rng, n: number, next: () => TaskInstance): TaskPair[] => {
    const pairs: TaskPair[] = [];
    const maxAttempts = 50 * n + 1000;
    for (let attempt = 0; pairs.length < n; attempt++) {
      if (attempt >= maxAttempts)
        throw new RangeError(`embedded task: only ${pairs.length} of ${n} pairs after ${attempt} tries; teacher samples tie too often (pairAccuracy ${o.pairAccuracy})`);
      const pair = teacherPair(rng, next(), o.pairAccuracy, o.corruptionMix);
      if (pair) pairs.push(pair);
      else tiesDropped++;
    }
    return pairs;
  };

  const trainRng = stream('train');
  const cleanTrain = makePairs(trainRng, o.nTrain, () => drawInstance(trainRng, o.trainLengths));
  const noisy = flipPreferenceLabels(cleanTrain, { rate: o.labelNoise, seed: deriveSeed(o.seed, 'label-noise') }, flipTaskPair);

  const seen = new Set<string>([...sft.map((d) => d.prompt), ...cleanTrain.map((p) => p.prompt)]);
  let evalSeen = 0;
  let heldOutSeen = 0;
  /** An instance at eval lengths whose prompt is not in training data, if one turns up in a few tries. */
  const freshInstance = (rng: Rng, onSeen: () => void): TaskInstance => {
    let instance = drawInstance(rng, o.evalLengths);
    for (let i = 1; i < FRESH_PROMPT_TRIES && seen.has(instance.prompt); i++) instance = drawInstance(rng, o.evalLengths);
    if (seen.has(instance.prompt)) onSeen();
    return instance;
  };
  const evalRng = stream('eval');
  const evalPairs = makePairs(evalRng, o.nEval, () => freshInstance(evalRng, () => evalSeen++));
  const heldOutRng = stream('held-out');
  const heldOut = Array.from({ length: o.nHeldOut }, () => freshInstance(heldOutRng, () => heldOutSeen++));

  return {
    options: o,
    sft,
    trainPairs: noisy.pairs,
    evalPairs,
    heldOut,
    stats: {
      tiesDropped,
      flippedIndices: noisy.flippedIndices,
      evalPromptsSeenInTraining: evalSeen,
      heldOutPromptsSeenInTraining: heldOutSeen,
    },
  };
}
