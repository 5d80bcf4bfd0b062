import * as E from 'fp-ts/lib/Either.js';
import { decodeEmbeddedTaskOptions, embeddedTask } from '@ganpo/datasets';
import { ConfigError } from '../errors.js';
import type { RunData } from './data.js';

// The embedded task's data, apart from data.ts's file readers: no file system here, so the web page (apps/web)
// generates the very data `ganpo train` trains on.

/** The embedded task's data is fixed (its own seed), so runs with different seeds train on the same task. */
export const EMBEDDED_TASK_SEED = 0;
export const EMBEDDED_TASK_SIZES = { nSft: 2000, nTrain: 1000, nEval: 200, nHeldOut: 200 } as const;

export function embeddedTaskData(options: Record<string, unknown> = {}): RunData {
  // The datasets package's codec checks the knobs (unknown keys included); problems are reported at their path.
  const resolved = decodeEmbeddedTaskOptions({ seed: EMBEDDED_TASK_SEED, ...EMBEDDED_TASK_SIZES, ...options });
  if (E.isLeft(resolved)) throw new ConfigError('invalid embedded task options', resolved.left.map((p) => `data.task${p.path ? `.${p.path}` : ''}: ${p.reason}`));
  const task = embeddedTask(resolved.right);
  return {
    kind: 'embedded',
    description: `embedded task (${task.sft.length} SFT demos at ${resolved.right.sftAccuracy} teacher accuracy, ${task.trainPairs.length} train pairs, ${task.evalPairs.length} eval pairs, ${task.heldOut.length} held-out prompts)`,
    sft: task.sft,
    trainPairs: task.trainPairs,
    evalPairs: task.evalPairs,
    unpaired: [],
    heldOut: task.heldOut,
    warnings: [],
  };
}
