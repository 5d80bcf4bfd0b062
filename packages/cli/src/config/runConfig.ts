import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { ConfigError } from '../errors.js';
import { type ConfigProblem, formatProblem, int, nonEmptyString, nullable, num, oneOf, problemsFromErrors, strict, unknownKeys } from './codecs.js';

/**
 * The configuration of one `ganpo train` run, as an io-ts codec. A run's configuration is the defaults,
 * overridden by a config file (`--config run.json`, any subset of the keys), overridden by command-line
 * flags. The merged object is decoded once; unknown keys and bad values are reported with their path.
 */

export const STAGES = ['all', 'sft', 'preference'] as const;
export type Stage = (typeof STAGES)[number];
export const SCHEDULES = ['cosine', 'linear', 'constant'] as const;
export const DATA_MODES = ['strict', 'skip'] as const;
/** How bad data rows are handled (also `ganpo data stats --data-mode`). */
export const DataModeCodec = oneOf(DATA_MODES);
export const TRUNCATION_MODES = ['keep_start', 'keep_end'] as const;

/** Options of one training loop (SFT or preference). */
const LoopFields = {
  /** Optimizer steps. With `epochs` set, the steps are derived from the data size instead. */
  steps: int({ ge: 0 }),
  /** Passes over the training data; null: use `steps`. */
  epochs: nullable(num({ gt: 0 }), 'a number > 0 or null'),
  /** Examples (SFT) or pairs (preference) per micro-batch. */
  batchSize: int({ ge: 1 }),
  /** Micro-batches per optimizer step. */
  gradAccum: int({ ge: 1 }),
  lr: num({ ge: 0 }),
  schedule: oneOf(SCHEDULES),
  /** Linear warmup, in optimizer steps. */
  warmup: int({ ge: 0 }),
  /** Global gradient-norm clipping; 0 turns it off. */
  clip: num({ ge: 0 }),
  weightDecay: num({ ge: 0 }),
};
export const LoopCodec = strict(t.type(LoopFields), 'LoopConfig');
/** A loop's options as written (plain numbers; decoded ones also carry the range brands). */
export type LoopConfig = t.OutputOf<typeof LoopCodec>;

/** A run's seed (also what `ganpo eval`, `sample` and `data make-task` take as --seed). */
export const SeedCodec = int({ ge: 0, le: 2 ** 31 - 1 });

/** The end-of-run evaluation (also the codecs of `ganpo eval`'s flags that override it). */
export const EvalFields = {
  /** Held-out prompts sampled for the ground-truth reward (embedded task; 0: all). */
  prompts: int({ ge: 0 }),
  /** Sampling temperatures at which the reward is measured (0 is greedy). */
  temperatures: t.array(num({ ge: 0 }), 'a list of numbers ≥ 0'),
  /** Longest sampled response, in tokens. */
  maxNewTokens: int({ ge: 1 }),
  /** Evaluate at the end of the run and write the results into the report. */
  atEnd: t.boolean,
};

export const RunConfigCodec = strict(t.type(
  {
    /** Which stages to run: `all` is SFT then preference optimisation. */
    stage: oneOf(STAGES),
    seed: SeedCodec,
    /** The run directory: config, metrics, checkpoints, report. */
    out: nonEmptyString,
    /** Compute backend: `auto` picks the fastest registered one (`fast` when present, else `cpu`). */
    backend: nonEmptyString,
    data: strict(t.type({
      /** A preference file or directory of shards; null: the embedded task. */
      path: nullable(nonEmptyString, 'a file path or null (the embedded task)'),
      /** An SFT file (prompt/completion); null: SFT on the chosen responses of `path`, or the task's demos. */
      sftPath: nullable(nonEmptyString, 'a file path or null'),
      /** Row format of the data files, or `auto` to detect it. */
      format: nonEmptyString,
      /** `strict` stops at the first bad row; `skip` reports bad rows and goes on. */
      mode: DataModeCodec,
      /** `auto` (the model checkpoint's, else bytes), `byte`, `gpt2` (needs vocab files in the model dir), a tokenizer.json path or a Hugging Face model directory. */
      tokenizer: nonEmptyString,
      /** Longest tokenized sequence (prompt + completion); longer ones are truncated (TRL's max_length). */
      maxLength: int({ ge: 2 }),
      /** Longest prompt (BOS included), cut first, keeping its end (TRL's max_prompt_length); null: no limit of its own. */
      maxPromptLength: nullable(int({ ge: 1 }), 'an integer ≥ 1 or null'),
      /** What a row longer than maxLength keeps: `keep_start` cuts the completion's end, `keep_end` the prompt's start. */
      truncationMode: oneOf(TRUNCATION_MODES),
      /** Fraction of user pairs held out for evaluation (the embedded task has its own held-out set). */
      evalFraction: num({ ge: 0, lt: 1 }),
      /**
       * Options of the embedded task (the datasets package's EmbeddedTaskOptions: seed, nSft, nTrain, nEval,
       * nHeldOut, sftAccuracy, pairAccuracy, labelNoise, trainLengths, evalLengths, taskMix, corruptionMix),
       * checked by that package. Used when `path` is null.
       */
      task: t.UnknownRecord,
    })),
    model: strict(t.intersection([
      t.type({
        /** A size preset (`tiny`, `small`, ...), a model config file, one of our checkpoints, or a Hugging Face GPT-2 / Llama-family directory. */
        init: nonEmptyString,
        /** Dropout for the policy during training (null: the preset's or checkpoint's). */
        dropout: nullable(num({ ge: 0, lt: 1 }), 'a number in [0, 1) or null'),
      }),
      t.partial({
        /**
         * LoRA (PEFT's names and defaults): r 0 trains every weight; r > 0 trains only adapters of rank r on the
         * `targets` layers (comma-separated names; `auto`: q_proj,v_proj, or c_attn for GPT-2), scaled alpha/r.
         */
        lora: strict(t.type({ r: int({ ge: 0 }), alpha: num({ gt: 0 }), dropout: num({ ge: 0, lt: 1 }), targets: nonEmptyString }), 'LoRA'),
      }),
    ])),
    sft: LoopCodec,
    preference: strict(t.intersection([
      t.type(LoopFields),
      t.type({
        /**
         * The preference objective: `{ "loss": "sigmoid", "beta": 0.1, ... }` with any option of the
         * objectives package, or a list of such terms with `weight`s (TRL's loss_weights).
         */
        objective: t.union([t.UnknownRecord, t.UnknownArray], 'an objective object or a list of them'),
      }),
    ])),
    /**
     * GANPO: `enabled`, plus any option of the adversarial package's GanpoConfig (lambda, discLr, architecture,
     * width, discLayers, heads, dropout, pooling, means, momentum, variant, r1, ...), checked by its codec.
     * The policy's learning rate, warmup, steps and the run seed are filled in from the preference stage.
     */
    ganpo: t.intersection([t.type({ enabled: t.boolean }), t.UnknownRecord], 'a GANPO section with enabled: boolean'),
    log: strict(t.type({
      /** Steps between metrics lines. */
      interval: int({ ge: 1 }),
      /** Steps between evaluations on held-out pairs (0: only at the end). */
      evalInterval: int({ ge: 0 }),
      /** Steps between checkpoints (0: only at the end of each stage). */
      saveInterval: int({ ge: 0 }),
      /** Periodic checkpoints kept (the newest ones). */
      keepCheckpoints: int({ ge: 1 }),
      /** Held-out pairs used by the periodic evaluation (0: all). */
      evalPairs: int({ ge: 0 }),
    })),
    eval: strict(t.type(EvalFields)),
  },
  'RunConfig',
));
/**
 * A run configuration as written (plain values). The codec is its single source: this type, the known keys (unknown
 * ones are errors, with a suggestion), the ranges (branded in decoded values) and the messages all derive from it.
 */
export type RunConfig = t.OutputOf<typeof RunConfigCodec>;

/** A config with any subset of the keys, at any depth. */
export type PartialRunConfig = { [K in keyof RunConfig]?: RunConfig[K] extends object ? (RunConfig[K] extends unknown[] ? RunConfig[K] : Partial<RunConfig[K]>) : RunConfig[K] };

/**
 * The embedded task of the default run. Its SFT demonstrations come from the same noisy teacher as its
 * preference pairs: an exact answer a quarter of the time, otherwise the answer wrapped in chatter
 * ("answer: ...", "... ok") or running on past where EOS belongs. SFT imitates those habits; the
 * preference pairs (ranked by the ground-truth reward) are what can teach the policy to drop them.
 */
export const DEFAULT_TASK = {
  seed: 0,
  nSft: 2000,
  nTrain: 1000,
  nEval: 200,
  nHeldOut: 200,
  sftAccuracy: 0.25,
  pairAccuracy: 0.5,
  corruptionMix: { extra_text: 1, missing_eos: 1 },
  trainLengths: { min: 2, max: 4 },
} as const;

/**
 * The default run: the embedded task, a small model, SFT then DPO (sigmoid, β = 0.1) with GANPO (λ = 1),
 * sized to take about a minute on two CPU cores (see the README for the measurement).
 */
export function defaultRunConfig(): RunConfig {
  return {
    stage: 'all',
    seed: 0,
    out: 'runs/ganpo',
    backend: 'auto',
    data: {
      path: null,
      sftPath: null,
      format: 'auto',
      mode: 'strict',
      tokenizer: 'auto',
      maxLength: 96,
      maxPromptLength: null,
      truncationMode: 'keep_start',
      evalFraction: 0.1,
      task: { ...DEFAULT_TASK },
    },
    model: { init: 'small', dropout: null, lora: { r: 0, alpha: 8, dropout: 0, targets: 'auto' } },
    sft: { steps: 150, epochs: null, batchSize: 16, gradAccum: 1, lr: 3e-3, schedule: 'cosine', warmup: 20, clip: 1, weightDecay: 0 },
    preference: {
      steps: 50,
      epochs: null,
      batchSize: 8,
      gradAccum: 1,
      lr: 1e-4,
      schedule: 'cosine',
      warmup: 5,
      clip: 1,
      weightDecay: 0,
      objective: { loss: 'sigmoid', beta: 0.1 },
    },
    ganpo: {
      enabled: true,
      lambda: 1,
      // docs/method.md §7 runs the discriminators at half the policy rate over thousands of steps; in a 50-step run
      // at 1e-4 they would barely move, so the default run gives them their own faster rate.
      discLr: 1e-3,
      architecture: 'transformer',
      width: 32,
      discLayers: 1,
      heads: 2,
      dropout: 0,
      pooling: 'masked',
      means: 'ema',
      momentum: 0.9,
    },
    log: { interval: 1, evalInterval: 25, saveInterval: 50, keepCheckpoints: 2, evalPairs: 32 },
    eval: { prompts: 32, temperatures: [0, 1], maxNewTokens: 48, atEnd: true },
  };
}

const isPlainObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/** `override` merged into `base` key by key (objects recursively; arrays and values replace). */
export function deepMerge<T>(base: T, override: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(override)) return (override === undefined ? base : override) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) continue;
    // An objective that names its loss replaces the previous one whole: options of one loss do not carry
    // over to another (the defaults' β = 0.1 must not become SimPO's β).
    const replaceWhole = k === 'objective' && isPlainObject(v) && 'loss' in v;
    out[k] = !replaceWhole && isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k], v) : v;
  }
  return out as T;
}

/** Where a config value came from, for error messages: a file or a flag. */
export interface Sources {
  /** The config file, if any (errors in its keys name it). */
  readonly file?: string;
  /** Config path → the flag that set it ("preference.lr" → "--lr"). */
  readonly flags?: ReadonlyMap<string, string>;
}

function describe(p: ConfigProblem, sources: Sources): string {
  // A list item (eval.temperatures[1]) reports as the list's flag.
  const flag = sources.flags?.get(p.path) ?? sources.flags?.get(p.path.replace(/(\[\d+\])+$/, ''));
  if (flag) return `${flag} (${p.path}): ${p.reason}`;
  return `${sources.file ? `${sources.file}: ` : ''}${formatProblem(p)}`;
}

/**
 * Checks a config file's content before merging: unknown keys anywhere (with suggestions). Values are
 * checked after merging, by {@link decodeRunConfig}.
 */
export function checkConfigKeys(u: unknown, source: string): void {
  if (!isPlainObject(u)) throw new ConfigError(`${source}: a run config must be a JSON object, got ${Array.isArray(u) ? 'an array' : JSON.stringify(u)}`);
  const problems = unknownKeys(RunConfigCodec, u);
  if (problems.length > 0) {
    throw new ConfigError(
      `${source}: ${problems.length === 1 ? 'an unknown key' : `${problems.length} unknown keys`}`,
      problems.map((p) => formatProblem(p)),
      'see `ganpo train --help` or packages/cli/README.md for the config keys',
    );
  }
}

/** Decodes a merged config, reporting every bad value with its path (or flag) and the reason. */
export function decodeRunConfig(u: unknown, sources: Sources = {}): RunConfig {
  const decoded = RunConfigCodec.decode(u);
  if (E.isLeft(decoded)) {
    const problems = problemsFromErrors(decoded.left);
    throw new ConfigError(
      problems.length === 1 ? 'invalid run configuration' : `invalid run configuration (${problems.length} problems)`,
      problems.map((p) => describe(p, sources)),
    );
  }
  const config = decoded.right;
  const extra: string[] = [];
  if (config.stage !== 'sft' && config.preference.steps === 0 && config.preference.epochs === null) {
    extra.push(describe({ path: 'preference.steps', reason: 'is 0 and no epochs are set: the preference stage would do nothing' }, sources));
  }
  if (config.stage !== 'preference' && config.sft.steps === 0 && config.sft.epochs === null) {
    extra.push(describe({ path: 'sft.steps', reason: 'is 0 and no epochs are set: the SFT stage would do nothing (use --stage preference to skip it)' }, sources));
  }
  if (extra.length > 0) throw new ConfigError('invalid run configuration', extra);
  return config;
}
