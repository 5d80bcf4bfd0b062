import * as E from 'fp-ts/lib/Either.js';
import { createRng, deriveSeed, pickWeighted, randomInt } from '../random/rng.js';
import { resolveEmbeddedTaskOptions, type EmbeddedTaskOptions, type LengthRange } from './embeddedTaskOptions.js';
import { teacherPair, type TaskPair } from './teacherPairs.js';
import { sampleTaskInstance, TASK_NAMES, type TaskInstance, type TaskName } from './tasks.js';

/**
 * A distribution-shifted held-out split of the embedded task: inputs longer than any seen in training and a
 * task mixture unlike the training one. Robustness evaluations sample from it next to the ordinary held-out
 * prompts. It draws from its own stream ("shifted"), so it never changes the other splits.
 */

export interface ShiftOptions {
  /** Held-out prompts (default 200). */
  readonly nPrompts?: number;
  /** Clean-label preference pairs on the same distribution (default 200). */
  readonly nPairs?: number;
  /** Input lengths (default: train max + 2 … train max + 4, so every input is longer than in training). */
  readonly lengths?: LengthRange;
  /**
   * Task weights (default: the inverse of the training weights, normalised; tasks absent from training stay
   * absent). With uniform training weights the default mixture is uniform too, and only the lengths shift.
   */
  readonly taskMix?: Partial<Record<TaskName, number>>;
}

export interface ShiftedSplit {
  readonly lengths: LengthRange;
  readonly taskMix: Readonly<Record<TaskName, number>>;
  readonly heldOut: TaskInstance[];
  readonly pairs: TaskPair[];
}

/** Training weights w ↦ 1/w (0 stays 0), scaled so the largest is 1. */
export function inverseTaskMix(train: Readonly<Record<TaskName, number>>): Record<TaskName, number> {
  const inv = TASK_NAMES.map((t) => (train[t] > 0 ? 1 / train[t] : 0));
  const max = Math.max(...inv);
  return Object.fromEntries(TASK_NAMES.map((t, i) => [t, inv[i] / max])) as Record<TaskName, number>;
}

/** The shifted split of the embedded task with these (training) options. Throws RangeError on bad options. */
export function shiftedSplit(task: EmbeddedTaskOptions, shift: ShiftOptions = {}): ShiftedSplit {
  const base = resolveEmbeddedTaskOptions(task);
  if (E.isLeft(base)) throw new RangeError(base.left);
  const o = base.right;
  const trainMax = o.trainLengths.max;
  const lengths = shift.lengths ?? { min: trainMax + 2, max: trainMax + 4 };
  // The shifted lengths and mix are checked by the same rules as the task's own options.
  const checked = resolveEmbeddedTaskOptions({ ...task, evalLengths: lengths, taskMix: shift.taskMix ?? inverseTaskMix(o.taskMix) });
  if (E.isLeft(checked)) throw new RangeError(checked.left.replace('embedded task:', 'shifted split:').replace(/evalLengths/g, 'lengths'));
  const mix = checked.right.taskMix;
  const nPrompts = shift.nPrompts ?? 200;
  const nPairs = shift.nPairs ?? 200;
  for (const [name, n] of [['nPrompts', nPrompts], ['nPairs', nPairs]] as const) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`shifted split: ${name} must be a non-negative integer, got ${n}`);
  }
  const rng = createRng(deriveSeed(o.seed, 'shifted'));
  const weights = TASK_NAMES.map((t) => mix[t]);
  const draw = (): TaskInstance => sampleTaskInstance(rng, TASK_NAMES[pickWeighted(rng, weights)], randomInt(rng, lengths.min, lengths.max));
  const heldOut = Array.from({ length: nPrompts }, draw);
  const pairs: TaskPair[] = [];
  for (let attempt = 0; pairs.length < nPairs; attempt++) {
    if (attempt >= 50 * nPairs + 1000) throw new RangeError(`shifted split: only ${pairs.length} of ${nPairs} pairs; teacher samples tie too often`);
    const pair = teacherPair(rng, draw(), o.pairAccuracy, o.corruptionMix);
    if (pair) pairs.push(pair);
  }
  return { lengths, taskMix: mix, heldOut, pairs };
}
