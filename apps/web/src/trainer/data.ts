import { embeddedTaskData, type RunData } from '@ganpo/cli/browser';
import { decodePreferenceBytes, isPreferenceExample, splitTrainEval } from '@ganpo/datasets';
import type { WebRunConfig } from './config.js';
import { runConfigOf } from './runConfig.js';

/** A data problem the page shows as is (file, line and field come from the datasets package). */
export class WebDataError extends Error {
  override name = 'WebDataError';
}

/**
 * The run's data, in the shape `ganpo train` trains on: the embedded task (generated in the tab by the CLI's own
 * `embeddedTaskData`, from the run config's task options), or a dropped preference file (SFT on its chosen responses,
 * 10% of the pairs held out).
 */
export async function loadWebRunData(config: WebRunConfig): Promise<RunData> {
  if (config.data.kind === 'embedded') return embeddedTaskData(runConfigOf(config).data.task);
  const { name, bytes } = config.data;
  const records = await decodePreferenceBytes(name, bytes);
  const pairs: { prompt: string; chosen: string; rejected: string }[] = [];
  for (const r of records) {
    if (r.kind === 'error') throw new WebDataError(r.error.message);
    const ex = r.example;
    if (!isPreferenceExample(ex)) throw new WebDataError(`${name}:${r.line}: not a preference row (needs chosen and rejected)`);
    pairs.push({ prompt: ex.prompt, chosen: ex.chosen, rejected: ex.rejected });
  }
  if (pairs.length < 4) throw new WebDataError(`${name}: ${pairs.length} preference rows; at least 4 are needed (some are held out)`);
  const { train, eval: held } = splitTrainEval(pairs, { evalFraction: 0.1, seed: config.seed });
  return {
    kind: 'user',
    description: `${name} (${train.length} train pairs, ${held.length} eval pairs; SFT on the chosen responses)`,
    sft: train.map((p) => ({ prompt: p.prompt, completion: p.chosen })),
    trainPairs: train,
    evalPairs: held,
    unpaired: [],
    heldOut: null,
    warnings: [],
  };
}
