import { existsSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import {
  byteTokenizer,
  isFormatName,
  isPreferenceExample,
  isSftExample,
  isUnpairedExample,
  loadHfTokenizer,
  loadPreferenceDataset,
  splitTrainEval,
  summarizeSkipped,
  tokenizerFromJSON,
  FORMAT_NAMES,
  type DatasetExample,
  type FormatName,
  type LoadedDataset,
  type PairMessages,
  type SequenceMessages,
  type TaskInstance,
  type Tokenizer,
} from '@ganpo/datasets';
import type { RunConfig } from '../config/runConfig.js';
import { ConfigError, DataError } from '../errors.js';
import { embeddedTaskData } from './embedded.js';

/**
 * The data of a run: SFT demonstrations, training and evaluation pairs, and (on the embedded task) held-out
 * prompts with a ground-truth reward. User files are read through the datasets package (any format it reads);
 * errors become a DataError naming file and line (strict mode) or a one-line summary (skip mode).
 */

export interface Pair {
  readonly prompt: string;
  readonly chosen: string;
  readonly rejected: string;
  /** Conversational rows: the messages, rendered by the model's own chat template when its tokenizer has one. */
  readonly messages?: PairMessages;
}

export interface Unpaired {
  readonly prompt: string;
  readonly completion: string;
  readonly desirable: boolean;
}

export interface Demo {
  readonly prompt: string;
  readonly completion: string;
  readonly messages?: SequenceMessages;
}

export interface RunData {
  readonly kind: 'embedded' | 'user';
  readonly description: string;
  readonly sft: readonly Demo[];
  readonly trainPairs: readonly Pair[];
  readonly evalPairs: readonly Pair[];
  /** Unpaired rows (prompt, completion, desirable or not): KTO's data, used with `--objective kto` only. */
  readonly unpaired: readonly Unpaired[];
  /** Embedded task only: prompts with a known answer, scored by the task's reward. */
  readonly heldOut: readonly TaskInstance[] | null;
  /** Things the user should know (skipped lines, dropped examples). */
  readonly warnings: readonly string[];
}

export { EMBEDDED_TASK_SEED, EMBEDDED_TASK_SIZES, embeddedTaskData } from './embedded.js';

function checkFormat(format: string, flag: string): FormatName | 'auto' {
  if (format === 'auto' || isFormatName(format)) return format as FormatName | 'auto';
  throw new ConfigError(`${flag}: unknown format '${format}'`, [`known formats: auto, ${FORMAT_NAMES.join(', ')}`]);
}

/** Reads a data file; strict mode turns the first error into a DataError, skip mode into a warning. */
export async function readDataFile(path: string, format: string, mode: 'strict' | 'skip', what: string): Promise<{ data: LoadedDataset; warnings: string[] }> {
  if (!existsSync(path)) throw new DataError(`${what} ${path} does not exist`);
  const fmt = checkFormat(format, '--format');
  let data: LoadedDataset;
  try {
    data = await loadPreferenceDataset(path, { format: fmt, mode, maxErrors: 20 });
  } catch (e) {
    throw new DataError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  const warnings: string[] = [];
  const fatal = data.errors.find((e) => e.fatal);
  if (fatal) throw new DataError(fatal.message, [], fatal.line === null ? `check the file's format (--format; known: ${FORMAT_NAMES.join(', ')})` : undefined);
  if (mode === 'strict' && data.errors.length > 0) {
    throw new DataError(data.errors[0].message, [], 'fix the line, or pass --data-mode skip to skip bad lines (they are counted and reported)');
  }
  if (data.counts.invalid > 0) {
    warnings.push(`${path}: ${summarizeSkipped(data.counts)}`);
    for (const e of data.errors.slice(0, 5)) warnings.push(`  ${e.message}`);
    if (data.errors.length > 5) warnings.push(`  ... (\`ganpo data validate ${path}\` lists them all)`);
  }
  if (data.examples.length === 0) throw new DataError(`${what} ${path} has no valid rows`, data.errors.slice(0, 5).map((e) => e.message));
  return { data, warnings };
}

const pairsOf = (examples: readonly DatasetExample[]): Pair[] =>
  examples.filter(isPreferenceExample).map(({ prompt, chosen, rejected, messages }) => ({ prompt, chosen, rejected, ...(messages ? { messages } : {}) }));
const demosOf = (examples: readonly DatasetExample[]): Demo[] =>
  examples.filter(isSftExample).map(({ prompt, completion, messages }) => ({ prompt, completion, ...(messages ? { messages } : {}) }));

export async function userData(config: RunConfig): Promise<RunData> {
  const d = config.data;
  const path = d.path!;
  const { data, warnings } = await readDataFile(path, d.format, d.mode, 'data');
  const pairs = pairsOf(data.examples);
  const unpaired = data.examples.filter(isUnpairedExample).map(({ prompt, completion, label }) => ({ prompt, completion, desirable: label }));
  const kinds = new Set(data.examples.map((e) => e.kind));
  const kto = isKtoObjective(config);
  const needsPairs = config.stage !== 'sft' && !kto;
  let sft: Demo[];
  if (d.sftPath) {
    const s = await readDataFile(d.sftPath, 'auto', d.mode, 'SFT data');
    warnings.push(...s.warnings);
    sft = demosOf(s.data.examples);
    if (sft.length === 0) throw new DataError(`SFT data ${d.sftPath} has no prompt/completion rows (found ${[...new Set(s.data.examples.map((e) => e.kind))].join(', ')})`);
  } else {
    // SFT on the chosen responses (TRL's usual recipe), or on prompt/completion rows if the file has them.
    const demos = demosOf(data.examples);
    sft =
      demos.length > 0
        ? demos
        : [
            ...pairs.map((p) => ({ prompt: p.prompt, completion: p.chosen, ...(p.messages ? { messages: { prompt: p.messages.prompt, completion: p.messages.chosen } } : {}) })),
            ...unpaired.filter((u) => u.desirable),
          ];
  }
  if (kto && config.stage !== 'sft' && pairs.length === 0 && unpaired.length === 0) {
    throw new DataError(`data ${path} has no examples for KTO (rows are ${[...kinds].join(', ')}); it needs prompt/completion/label rows or preference pairs`);
  }
  if (needsPairs && pairs.length === 0) {
    const hint = unpaired.length > 0 ? 'the rows are unpaired (prompt/completion/label): train on them with --objective kto' : 'use --stage sft to fine-tune on prompt/completion rows only';
    throw new DataError(`data ${path} has no preference pairs (rows are ${[...kinds].join(', ')}); the preference stage needs prompt/chosen/rejected rows`, [], hint);
  }
  const split = splitTrainEval(pairs, { seed: config.seed, evalFraction: pairs.length >= 10 ? d.evalFraction : 0 });
  if (needsPairs && split.train.length === 0) throw new DataError(`data ${path}: no training pairs left after holding out ${split.eval.length} for evaluation`, [], 'lower --eval-fraction');
  const formats = [...new Set(Object.values(data.formats))].join(', ');
  return {
    kind: 'user',
    description: `${path} (${formats}; ${split.train.length} train pairs, ${split.eval.length} held-out pairs, ${unpaired.length > 0 ? `${unpaired.length} unpaired examples, ` : ''}${sft.length} SFT examples${data.counts.invalid > 0 ? `, ${data.counts.invalid} bad lines skipped` : ''})`,
    sft,
    trainPairs: split.train,
    evalPairs: split.eval,
    unpaired,
    heldOut: null,
    warnings,
  };
}

/** Whether the run's objective is KTO (unpaired examples). */
export const isKtoObjective = (config: RunConfig): boolean => {
  const o = config.preference.objective as unknown;
  return !Array.isArray(o) && (o as { loss?: unknown } | null)?.loss === 'kto';
};

export async function loadRunData(config: RunConfig): Promise<RunData> {
  return config.data.path === null ? embeddedTaskData(config.data.task) : userData(config);
}

// ---------------------------------------------------------------------------------------------------------
// Tokenizers.

/**
 * The datasets package's tokenizer for one the models package hands back: always one of ours, since we give
 * it the loaders (`tokenizerFromJSON`, `tokenizerFromDirectory` below).
 */
export function asDatasetsTokenizer(t: { toJSON(): unknown; kind?: string }): Tokenizer {
  if (t.kind === 'byte' || t.kind === 'hf') return t as Tokenizer;
  throw new Error(`a tokenizer not built by @ganpo/datasets (kind ${JSON.stringify(t.kind)})`);
}

/** Rebuilds a tokenizer from a checkpoint's tokenizer.json (also the formats earlier versions saved). */
export function reviveTokenizer(json: unknown): Tokenizer {
  const r = tokenizerFromJSON(json);
  if (E.isLeft(r)) throw new Error(r.left);
  return r.right;
}

/** The tokenizer of a Hugging Face model directory (tokenizer.json or vocab.json + merges.txt, tokenizer_config.json). */
export function tokenizerFromDirectory(dir: string): Tokenizer {
  const r = loadHfTokenizer(dir);
  if (E.isLeft(r)) throw new Error(r.left);
  return r.right;
}

/**
 * The tokenizer named by `--tokenizer`: `byte`, `gpt2` (the tokenizer files of the --model directory), a
 * tokenizer.json path or a Hugging Face model directory, or `auto` (the model checkpoint's if it has one, else bytes).
 */
export function resolveTokenizer(spec: string, fromModel: Tokenizer | undefined, modelDir: string | null): Tokenizer {
  if (spec === 'auto') return fromModel ?? byteTokenizer();
  if (spec === 'byte') return byteTokenizer();
  if (spec === 'gpt2') {
    if (fromModel) return fromModel;
    if (modelDir && ['vocab.json', 'tokenizer.json'].some((f) => existsSync(`${modelDir}/${f}`))) {
      const r = loadHfTokenizer(modelDir);
      if (E.isLeft(r)) throw new ConfigError(`--tokenizer gpt2: cannot read the tokenizer files in ${modelDir}: ${r.left}`);
      return r.right;
    }
    throw new ConfigError('--tokenizer gpt2 needs a GPT-2 model directory with vocab.json and merges.txt (or tokenizer.json) in --model');
  }
  if (!existsSync(spec)) {
    throw new ConfigError(`--tokenizer '${spec}': expected auto, byte, gpt2, the path of a tokenizer.json file or a Hugging Face model directory`);
  }
  const r = loadHfTokenizer(spec);
  if (E.isLeft(r)) throw new ConfigError(`--tokenizer ${spec}: ${r.left}`);
  return r.right;
}
