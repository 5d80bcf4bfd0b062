import { int, num, oneOf, problemsFromErrors, propsOf, renderProblem } from '@ganpo/codecs';
import type { ExportDType } from '@ganpo/models';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { UsageError } from '../errors.js';
import { valueFromText } from './flagValues.js';
import { DataModeCodec, EvalFields, SeedCodec } from './runConfig.js';

/**
 * What commander hands each command's action, as io-ts codecs: the single source of each command's flag types
 * (the commands' `…Flags` types are derived from them) and the check at the boundary, in place of a cast. A flag's
 * text becomes its value exactly as `ganpo train`'s do (see flagValues.ts): numbers through ranged codecs from
 * @ganpo/codecs, lists split on commas, and a bad value is reported by the one shared formatter with the flag's
 * name (`--seed: expected an integer ≥ 0, got "x"`). Where a flag sets what a run config key holds (the
 * evaluation's temperatures, the seed), its codec is that key's codec. `ganpo train`'s flags are decoded by the
 * run-config codecs (see flags.ts and runConfig.ts).
 */

const text = t.string;
const flag = t.boolean;

const count = int({ ge: 0 });
const positiveCount = int({ ge: 1 });

export const EvalFlagsCodec = t.intersection([
  t.type({ run: text }),
  t.partial({
    temperatures: EvalFields.temperatures, prompts: EvalFields.prompts, pairs: count, maxNewTokens: EvalFields.maxNewTokens,
    seed: SeedCodec, backend: text, write: flag, json: flag, quiet: flag,
  }),
]);
export type EvalFlags = t.TypeOf<typeof EvalFlagsCodec>;

export const SampleFlagsCodec = t.intersection([
  t.type({ prompt: text }),
  t.partial({
    run: text, model: text, temperature: num({ ge: 0 }), topP: num({ gt: 0, le: 1 }), topK: count, n: int({ ge: 1, le: 1000 }), seed: SeedCodec,
    maxNewTokens: positiveCount, backend: text, json: flag,
  }),
]);
export type SampleFlags = t.TypeOf<typeof SampleFlagsCodec>;

export const ValidateFlagsCodec = t.partial({ format: text, maxErrors: count, json: flag });
export type ValidateFlags = t.TypeOf<typeof ValidateFlagsCodec>;

export const StatsFlagsCodec = t.partial({ format: text, tokenizer: text, dataMode: DataModeCodec, json: flag });
export type StatsFlags = t.TypeOf<typeof StatsFlagsCodec>;

/** The embedded task's splits `data make-task --split` writes. */
export const TASK_SPLITS = ['train', 'eval', 'sft', 'heldout'] as const;

export const MakeTaskFlagsCodec = t.partial({ out: text, outDir: text, split: oneOf(TASK_SPLITS), seed: SeedCodec, json: flag });
export type MakeTaskFlags = t.TypeOf<typeof MakeTaskFlagsCodec>;

export const BenchFlagsCodec = t.partial({
  preset: text,
  /** The former name of --preset (model presets tiny and small). */
  model: text,
  width: positiveCount, layers: positiveCount, heads: positiveCount, seq: int({ ge: 2 }), pairs: positiveCount,
  /** The former name of --pairs. */
  batchSize: positiveCount,
  modes: text, steps: positiveCount, warmup: count, backend: text, json: flag,
});
export type BenchFlags = t.TypeOf<typeof BenchFlagsCodec>;

export const InfoFlagsCodec = t.partial({ backend: text, json: flag });
export type InfoFlags = t.TypeOf<typeof InfoFlagsCodec>;

export const ModelInfoFlagsCodec = t.intersection([
  t.type({ model: text }),
  t.partial({ backend: text, batchSize: positiveCount, maxLength: positiveCount, loraR: count, loraTargets: text, json: flag }),
]);
export type ModelInfoFlags = t.TypeOf<typeof ModelInfoFlagsCodec>;

/** The precisions `ganpo export --dtype` writes. */
const EXPORT_DTYPES = ['f32', 'bf16', 'f16'] as const satisfies readonly ExportDType[];

export const ExportFlagsCodec = t.intersection([
  t.type({ out: text }),
  t.partial({ run: text, model: text, dtype: oneOf(EXPORT_DTYPES), overwrite: flag, adapterOut: text, json: flag }),
]);
export type ExportFlags = t.TypeOf<typeof ExportFlagsCodec>;

export const ExperimentFlagsCodec = t.partial({ quick: flag, out: text, jobs: positiveCount, only: text, threads: positiveCount, sftOnly: flag });
export type ExperimentFlags = t.TypeOf<typeof ExperimentFlagsCodec>;

export const ReportFlagsCodec = t.type({ run: text });
export type ReportFlags = t.TypeOf<typeof ReportFlagsCodec>;

/** The flag commander reads into `attribute` (`maxNewTokens` → `--max-new-tokens`); a list item reports as its list's flag. */
export const flagOfAttribute = (attribute: string): string =>
  attribute === '' ? '(flags)' : `--${attribute.replace(/(\[\d+\])+$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Decodes the flags of `command`: each flag's text becomes the value its codec reads (as for `ganpo train`), then the
 * codec checks it. Every bad value is one line, `--flag: expected …, got …`, of one usage error (exit code 2).
 */
export function decodeFlags<A>(command: string, codec: t.Decoder<unknown, A>, flags: unknown): A {
  const props = propsOf(codec) ?? {};
  const values =
    typeof flags === 'object' && flags !== null
      ? Object.fromEntries(Object.entries(flags).map(([key, raw]) => [key, valueFromText(props[key], raw)]))
      : flags;
  const r = codec.decode(values);
  if (E.isRight(r)) return r.right;
  const problems = problemsFromErrors(r.left).map((p) => renderProblem({ path: flagOfAttribute(p.path), reason: p.reason }));
  throw new UsageError(problems.length === 1 ? `ganpo ${command}: invalid flag value` : `ganpo ${command}: invalid flag values (${problems.length} problems)`, problems, `run \`ganpo ${command} --help\` for the flags`);
}
