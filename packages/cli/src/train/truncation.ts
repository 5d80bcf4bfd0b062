import { pairRows, sequenceRow, type TokenizedRow, type Tokenizer, truncateRow, type TruncationMode } from '@ganpo/datasets';
import type { RunConfig } from '../config/runConfig.js';
import { DataError } from '../errors.js';
import type { TrainStage } from './checkpoints.js';
import type { RunData } from './data.js';
import { withTemplateErrors } from './pairs.js';

/**
 * TRL's truncation applied to a run's data before training: `--max-prompt-length` cuts the prompt first (keeping its
 * end), then `--max-length` cuts the row (`keep_start`: the completion's end; `keep_end`: the prompt's start). Rows
 * with no completion token left cannot be trained on: they are counted, reported and left out, and a stage left
 * with no rows at all is an error before training starts (never a "successful" run with loss 0).
 */

/** The length limits every batch of a run is collated with. */
export interface LengthLimit {
  readonly maxLength: number;
  readonly maxPromptLength?: number;
  readonly truncationMode?: TruncationMode;
}

/** The run's limits; `maxLength` never exceeds the model's context. */
export function lengthLimitOf(config: RunConfig, contextLength: number): LengthLimit {
  const d = config.data;
  return { maxLength: Math.min(d.maxLength, contextLength), maxPromptLength: d.maxPromptLength ?? undefined, truncationMode: d.truncationMode };
}

interface Fit {
  readonly cut: number;
  readonly unfit: number;
}

/** Rows of `items` that keep a completion, and how many were cut or left out. */
function fit<T>(items: readonly T[], rowsOf: (item: T) => TokenizedRow[], limit: LengthLimit): { kept: T[] } & Fit {
  let cut = 0;
  let unfit = 0;
  const kept = items.filter((item) => {
    const rows = rowsOf(item);
    const out = rows.map((r) => truncateRow(r, limit));
    if (out.some((r) => r === null)) {
      unfit++;
      return false;
    }
    if (out.some((r, i) => r!.prompt.length !== rows[i].prompt.length || r!.completion.length !== rows[i].completion.length)) cut++;
    return true;
  });
  return { kept, cut, unfit };
}

const describe = (what: string, total: number, f: Fit) =>
  f.cut + f.unfit === 0 ? null : `${f.cut} of ${total} ${what} truncated${f.unfit > 0 ? `, ${f.unfit} left out (no completion token left)` : ''}`;

/**
 * The run's data with the rows that cannot fit left out, and the lines that report what truncation did. Throws a
 * DataError when a stage of the run is left with nothing to train on.
 */
export function fitRunData(data: RunData, tokenizer: Tokenizer, limit: LengthLimit, stages: readonly TrainStage[], kto: boolean): { data: RunData; report: string[] } {
  // Rows tokenized exactly as collation will (chat templates included), then truncated.
  const rowsOfPair = (p: RunData['trainPairs'][number]) => pairRows(p, tokenizer);
  const sft = withTemplateErrors(() => fit(data.sft, (d) => [sequenceRow(d, tokenizer)], limit));
  const train = withTemplateErrors(() => fit(data.trainPairs, rowsOfPair, limit));
  const evalPairs = withTemplateErrors(() => fit(data.evalPairs, rowsOfPair, limit));
  const unpaired = withTemplateErrors(() => fit(data.unpaired, (u) => [sequenceRow(u, tokenizer)], limit));
  const settings = `--max-length ${limit.maxLength}${limit.maxPromptLength !== undefined ? `, --max-prompt-length ${limit.maxPromptLength}` : ''}, ${limit.truncationMode ?? 'keep_start'}`;
  const parts = [
    stages.includes('sft') ? describe('SFT examples', data.sft.length, sft) : null,
    stages.includes('preference') ? describe('training pairs', data.trainPairs.length, train) : null,
    describe('held-out pairs', data.evalPairs.length, evalPairs),
    kto ? describe('unpaired examples', data.unpaired.length, unpaired) : null,
  ].filter((p): p is string => p !== null);
  const report = parts.length > 0 ? [`truncation (${settings}): ${parts.join('; ')}`] : [];
  const none = (what: string, n: number) =>
    new DataError(`none of the ${n} ${what} fits ${settings}: every one would be left with no completion token`, [], 'raise --max-length, or set --max-prompt-length to cut long prompts first, or use --truncation-mode keep_end');
  if (stages.includes('sft') && data.sft.length > 0 && sft.kept.length === 0) throw none('SFT examples', data.sft.length);
  if (stages.includes('preference')) {
    const usable = train.kept.length + (kto ? unpaired.kept.length : 0);
    const total = data.trainPairs.length + (kto ? data.unpaired.length : 0);
    if (total > 0 && usable === 0) throw none(kto ? 'training examples' : 'training pairs', total);
  }
  return { data: { ...data, sft: sft.kept, trainPairs: train.kept, evalPairs: evalPairs.kept, unpaired: unpaired.kept }, report };
}
