import {
  decodePreferenceBytes,
  embeddedTask,
  isPreferenceExample,
  splitTrainEval,
  type TaskInstance,
} from '@ganpo/datasets';
import { WEB_TASK, type WebRunConfig } from './config.js';

export interface Pair {
  readonly prompt: string;
  readonly chosen: string;
  readonly rejected: string;
}

export interface WebRunData {
  readonly description: string;
  readonly sft: readonly { readonly prompt: string; readonly completion: string }[];
  readonly trainPairs: readonly Pair[];
  readonly evalPairs: readonly Pair[];
  /** Embedded task only: prompts with a ground-truth reward. */
  readonly heldOut: readonly TaskInstance[] | null;
}

/** A data problem the page shows as is (file, line and field come from the datasets package). */
export class WebDataError extends Error {
  override name = 'WebDataError';
}

/** The run's data: the embedded task, or a dropped preference file (SFT on its chosen responses). */
export async function loadWebRunData(config: WebRunConfig): Promise<WebRunData> {
  if (config.data.kind === 'embedded') {
    const task = embeddedTask(WEB_TASK);
    return {
      description: `embedded task (${task.sft.length} SFT demos, ${task.trainPairs.length} train pairs, ${task.evalPairs.length} eval pairs)`,
      sft: task.sft,
      trainPairs: task.trainPairs,
      evalPairs: task.evalPairs,
      heldOut: task.heldOut,
    };
  }
  const { name, bytes } = config.data;
  const records = await decodePreferenceBytes(name, bytes);
  const pairs: Pair[] = [];
  for (const r of records) {
    if (r.kind === 'error') throw new WebDataError(r.error.message);
    const ex = r.example;
    if (!isPreferenceExample(ex)) throw new WebDataError(`${name}:${r.line}: not a preference row (needs chosen and rejected)`);
    pairs.push({ prompt: ex.prompt, chosen: ex.chosen, rejected: ex.rejected });
  }
  if (pairs.length < 4) throw new WebDataError(`${name}: ${pairs.length} preference rows; at least 4 are needed (some are held out)`);
  const { train, eval: held } = splitTrainEval(pairs, { evalFraction: 0.1, seed: config.seed });
  return {
    description: `${name} (${train.length} train pairs, ${held.length} eval pairs; SFT on the chosen responses)`,
    sft: train.map((p) => ({ prompt: p.prompt, completion: p.chosen })),
    trainPairs: train,
    evalPairs: held,
    heldOut: null,
  };
}
