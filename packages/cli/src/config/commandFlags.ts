import { formatErrors } from '@ganpo/codecs';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { UsageError } from '../errors.js';

/**
 * What commander hands each command's action, as io-ts codecs: the single source of each command's flag types
 * (the commands' `…Flags` types are derived from them) and the check at the boundary, in place of a cast. Values are
 * the flags' text; each command parses its numbers itself, with messages that name the flag. `ganpo train`'s flags
 * are decoded by the run-config codecs (see flags.ts and runConfig.ts).
 */

const text = t.string;
const flag = t.boolean;

export const EvalFlagsCodec = t.intersection([
  t.type({ run: text }),
  t.partial({ temperatures: text, prompts: text, pairs: text, maxNewTokens: text, seed: text, backend: text, write: flag, json: flag, quiet: flag }),
]);
export type EvalFlags = t.TypeOf<typeof EvalFlagsCodec>;

export const SampleFlagsCodec = t.intersection([
  t.type({ prompt: text }),
  t.partial({ run: text, model: text, temperature: text, topP: text, topK: text, n: text, seed: text, maxNewTokens: text, backend: text, json: flag }),
]);
export type SampleFlags = t.TypeOf<typeof SampleFlagsCodec>;

export const ValidateFlagsCodec = t.partial({ format: text, maxErrors: text, json: flag });
export type ValidateFlags = t.TypeOf<typeof ValidateFlagsCodec>;

export const StatsFlagsCodec = t.partial({ format: text, tokenizer: text, dataMode: text, json: flag });
export type StatsFlags = t.TypeOf<typeof StatsFlagsCodec>;

export const MakeTaskFlagsCodec = t.partial({ out: text, outDir: text, split: text, seed: text, json: flag });
export type MakeTaskFlags = t.TypeOf<typeof MakeTaskFlagsCodec>;

export const BenchFlagsCodec = t.partial({
  preset: text, model: text, width: text, layers: text, heads: text, seq: text, pairs: text, batchSize: text, modes: text, steps: text, warmup: text,
  backend: text, json: flag,
});
export type BenchFlags = t.TypeOf<typeof BenchFlagsCodec>;

export const InfoFlagsCodec = t.partial({ backend: text, json: flag });
export type InfoFlags = t.TypeOf<typeof InfoFlagsCodec>;

export const ModelInfoFlagsCodec = t.intersection([
  t.type({ model: text }),
  t.partial({ backend: text, batchSize: text, maxLength: text, loraR: text, loraTargets: text, json: flag }),
]);
export type ModelInfoFlags = t.TypeOf<typeof ModelInfoFlagsCodec>;

export const ExportFlagsCodec = t.intersection([
  t.type({ out: text }),
  t.partial({ run: text, model: text, dtype: text, overwrite: flag, adapterOut: text, json: flag }),
]);
export type ExportFlags = t.TypeOf<typeof ExportFlagsCodec>;

export const ExperimentFlagsCodec = t.partial({ quick: flag, out: text, jobs: text, only: text, threads: text, sftOnly: flag });
export type ExperimentFlags = t.TypeOf<typeof ExperimentFlagsCodec>;

export const ReportFlagsCodec = t.type({ run: text });
export type ReportFlags = t.TypeOf<typeof ReportFlagsCodec>;

/** Decodes the flags of `command` (a usage error naming each bad flag, should commander ever hand over another shape). */
export function decodeFlags<A>(command: string, codec: t.Decoder<unknown, A>, flags: unknown): A {
  const r = codec.decode(flags);
  if (E.isLeft(r)) throw new UsageError(`ganpo ${command}: unexpected flag values`, formatErrors(r.left).map((l) => `--${l}`));
  return r.right;
}
