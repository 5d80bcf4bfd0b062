import type { PreferenceExample, SftExample } from '../formats/examples.js';
import type { Rng } from '../random/rng.js';
import { reward } from './reward.js';
import { teacherSample, type CorruptionWeights } from './teacher.js';
import type { TaskInstance, TaskName } from './tasks.js';

export type TaskPairMeta = {
  readonly task: TaskName;
  readonly chosenReward: number;
  readonly rejectedReward: number;
  /** `none` for the exact answer. */
  readonly chosenCorruption: string;
  readonly rejectedCorruption: string;
  /** True when label noise swapped this pair: `chosen` is then the worse response. */
  readonly labelFlipped: boolean;
};

export interface TaskPair extends PreferenceExample {
  readonly meta: TaskPairMeta;
}

export type TaskDemonstrationMeta = { readonly task: TaskName; readonly corruption: string };

export interface TaskDemonstration extends SftExample {
  readonly meta: TaskDemonstrationMeta;
}

/** A teacher demonstration for SFT: the answer with probability `accuracy`, else a corruption. */
export function teacherDemonstration(rng: Rng, instance: TaskInstance, accuracy: number, weights: CorruptionWeights): TaskDemonstration {
  const sample = teacherSample(rng, instance, accuracy, weights);
  return {
    kind: 'sft',
    prompt: instance.prompt,
    completion: sample.text,
    meta: { task: instance.task, corruption: sample.corruption ?? 'none' },
  };
}

/** Two teacher samples ranked by the reward; null on a tie (equal rewards), which is dropped. */
export function teacherPair(rng: Rng, instance: TaskInstance, accuracy: number, weights: CorruptionWeights): TaskPair | null {
  const a = teacherSample(rng, instance, accuracy, weights);
  const b = teacherSample(rng, instance, accuracy, weights);
  const ra = reward(instance.prompt, a.text);
  const rb = reward(instance.prompt, b.text);
  if (ra === rb) return null;
  const [win, lose, rw, rl] = ra > rb ? [a, b, ra, rb] : [b, a, rb, ra];
  return {
    kind: 'pair',
    prompt: instance.prompt,
    chosen: win.text,
    rejected: lose.text,
    meta: {
      task: instance.task,
      chosenReward: rw,
      rejectedReward: rl,
      chosenCorruption: win.corruption ?? 'none',
      rejectedCorruption: lose.corruption ?? 'none',
      labelFlipped: false,
    },
  };
}

/** Label noise for task pairs: texts, rewards and corruptions all swap, and the pair is marked. */
export function flipTaskPair(pair: TaskPair): TaskPair {
  const m = pair.meta;
  return {
    ...pair,
    chosen: pair.rejected,
    rejected: pair.chosen,
    meta: {
      ...m,
      chosenReward: m.rejectedReward,
      rejectedReward: m.chosenReward,
      chosenCorruption: m.rejectedCorruption,
      rejectedCorruption: m.chosenCorruption,
      labelFlipped: !m.labelFlipped,
    },
  };
}
