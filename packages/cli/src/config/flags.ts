import { type Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { codecAt, valueFromText } from './flagValues.js';
import { defaultRunConfig, type RunConfig, type Stage } from './runConfig.js';

/**
 * The `ganpo train` flags that set run-config values, as data: the flag, its config path and its help. A flag has
 * no type of its own: its text is read by the codec of the config key it sets (flagValues.ts). Loop flags
 * (`--steps`, `--lr`, ...) set the preference stage, or the SFT stage under `--stage sft`; the `--sft-*` flags
 * always set the SFT stage.
 */

export interface ConfigFlag {
  /** Commander flag syntax: '--lr <rate>'; a flag without a value ('--reference-free') sets `true`. */
  readonly flags: string;
  readonly description: string;
  /** Config path; 'loop.x' means the stage's loop (preference, or sft under --stage sft). */
  readonly path: string;
  readonly group: string;
  /** Part of the objective's options (merged into `preference.objective`). */
  readonly objectiveOption?: boolean;
  readonly hidden?: boolean;
  /** What a null default means, in the help ("auto" unless said). */
  readonly nullDefault?: string;
}

const f = (flags: string, path: string, group: string, description: string, extra: Partial<ConfigFlag> = {}): ConfigFlag => ({
  flags,
  path,
  group,
  description,
  ...extra,
});

export const CONFIG_FLAGS: readonly ConfigFlag[] = [
  f('--stage <stage>', 'stage', 'Run', 'all (SFT then preference), sft, or preference'),
  f('--out <dir>', 'out', 'Run', 'run directory: config, metrics, checkpoints, report'),
  f('--seed <n>', 'seed', 'Run', 'seed of every random choice (init, data order, dropout, sampling)'),
  f('--backend <name>', 'backend', 'Run', 'compute backend: auto, cpu, fast, gpujs'),

  f('--data <path>', 'data.path', 'Data', 'preference data: a JSONL/JSON file or a directory of shards', { nullDefault: 'the embedded task' }),
  f('--sft-data <path>', 'data.sftPath', 'Data', 'SFT data (prompt/completion)', { nullDefault: 'the chosen responses of --data' }),
  f('--format <name>', 'data.format', 'Data', 'row format (trl_explicit, trl_implicit, hh_rlhf, ...) or auto'),
  f('--data-mode <mode>', 'data.mode', 'Data', 'strict: stop at the first bad row; skip: report bad rows and go on'),
  f('--tokenizer <name>', 'data.tokenizer', 'Data', "auto (the checkpoint's, else bytes), byte, gpt2, a tokenizer.json path or a Hugging Face model directory"),
  f('--max-length <n>', 'data.maxLength', 'Data', 'longest tokenized sequence (BOS, prompt, completion, EOS); longer rows are truncated (see --truncation-mode) and rows left with no completion are dropped, both counted at the start'),
  f('--max-prompt-length <n>', 'data.maxPromptLength', 'Data', 'longest prompt (BOS included), cut to its last tokens before --max-length applies', { nullDefault: 'no limit of its own' }),
  f('--truncation-mode <mode>', 'data.truncationMode', 'Data', 'keep_start: cut the end of the completion; keep_end: cut the start of the prompt (TRL)'),
  f('--eval-fraction <f>', 'data.evalFraction', 'Data', 'fraction of user pairs held out for evaluation'),

  f('--model <preset|dir>', 'model.init', 'Model', 'size preset (tiny, small), a model config JSON file, a ganpo checkpoint, or a Hugging Face GPT-2 / Llama / Qwen2 / Mistral directory'),
  f('--dropout <p>', 'model.dropout', 'Model', "policy dropout", { nullDefault: "the preset's or checkpoint's" }),
  f('--lora-r <r>', 'model.lora.r', 'Model', 'LoRA rank: train only adapters of this rank (0: full fine-tuning)'),
  f('--lora-alpha <a>', 'model.lora.alpha', 'Model', 'LoRA alpha (the update is scaled by alpha/r)'),
  f('--lora-dropout <p>', 'model.lora.dropout', 'Model', 'dropout on the adapters\' input'),
  f('--lora-targets <names>', 'model.lora.targets', 'Model', 'comma-separated Linear layer names (auto: q_proj,v_proj; c_attn for GPT-2)'),

  f('--objective <name>', 'preference.objective.loss', 'Objective', 'preference loss: sigmoid (DPO), ipo, simpo, hinge, robust, ... (any TRL loss_type)'),
  f('--beta <b>', 'preference.objective.beta', 'Objective', 'β, the inverse temperature (0.1; simpo 2.0)', { objectiveOption: true }),
  f('--label-smoothing <e>', 'preference.objective.labelSmoothing', 'Objective', 'ε, label smoothing (cDPO, robust, exo_pair, ...)', { objectiveOption: true }),
  f('--gamma <g>', 'preference.objective.gamma', 'Objective', "SimPO's target margin γ", { objectiveOption: true }),
  f('--alpha <a>', 'preference.objective.alpha', 'Objective', "CPO's NLL weight α", { objectiveOption: true }),
  f('--tau <t>', 'preference.objective.tau', 'Objective', "DiscoPOP's temperature τ", { objectiveOption: true }),
  f('--reference-free', 'preference.objective.referenceFree', 'Objective', 'uniform reference (rc = rr = 0)', { objectiveOption: true }),
  f('--f-divergence <name>', 'preference.objective.fDivergence', 'Objective', 'reverse_kl, forward_kl, js_divergence, alpha_divergence', { objectiveOption: true }),
  f('--ld-alpha <a>', 'preference.objective.ldAlpha', 'Objective', "LD-DPO's weight of tokens beyond the shorter response", { objectiveOption: true }),
  f('--length-penalty <a>', 'preference.objective.lengthPenalty', 'Objective', 'R-DPO length regularisation α', { objectiveOption: true }),

  f('--lambda <l>', 'ganpo.lambda', 'GANPO', 'λ, the weight of the adversarial term'),
  f('--disc-lr <rate>', 'ganpo.discLr', 'GANPO', 'discriminator learning rate; ten times the policy lr by default, not the method\'s lr/2, because these discriminators start from scratch and must catch up within a short run'),
  f('--disc-kind <kind>', 'ganpo.architecture', 'GANPO', 'transformer (docs/method.md §6) or mlp (on pooled latents)'),
  f('--disc-layers <n>', 'ganpo.discLayers', 'GANPO', 'discriminator layers'),
  f('--disc-width <n>', 'ganpo.width', 'GANPO', 'discriminator width'),
  f('--disc-heads <n>', 'ganpo.heads', 'GANPO', 'attention heads of the transformer discriminator'),
  f('--pooling <mode>', 'ganpo.pooling', 'GANPO', 'masked (real tokens), completion (response tokens) or all (every position, as the reference code)'),
  f('--means <mode>', 'ganpo.means', 'GANPO', 'relativistic means: ema (reference code) or batch (paper)'),
  f('--momentum <mu>', 'ganpo.momentum', 'GANPO', 'μ of the EMA means'),
  f('--variant <name>', 'ganpo.variant', 'GANPO', 'quad (docs/method.md §4), ragan, nonsaturating, hinge, wasserstein'),

  f('--steps <n>', 'loop.steps', 'Training', 'optimizer steps of the preference stage (of SFT under --stage sft)'),
  f('--epochs <e>', 'loop.epochs', 'Training', 'passes over the data instead of --steps'),
  f('--batch-size <n>', 'loop.batchSize', 'Training', 'pairs (SFT: examples) per micro-batch'),
  f('--grad-accum <n>', 'loop.gradAccum', 'Training', 'micro-batches per optimizer step'),
  f('--lr <rate>', 'loop.lr', 'Training', 'peak learning rate'),
  f('--schedule <name>', 'loop.schedule', 'Training', 'cosine, linear or constant (after warmup)'),
  f('--warmup <steps>', 'loop.warmup', 'Training', 'linear warmup steps'),
  f('--clip <norm>', 'loop.clip', 'Training', 'gradient-norm clipping (0: off)'),
  f('--weight-decay <w>', 'loop.weightDecay', 'Training', 'AdamW weight decay'),
  f('--sft-steps <n>', 'sft.steps', 'Training', 'SFT optimizer steps'),
  f('--sft-epochs <e>', 'sft.epochs', 'Training', 'SFT passes over the data instead of --sft-steps'),
  f('--sft-batch-size <n>', 'sft.batchSize', 'Training', 'SFT examples per micro-batch'),
  f('--sft-lr <rate>', 'sft.lr', 'Training', 'SFT peak learning rate'),

  f('--log-interval <n>', 'log.interval', 'Logging', 'steps between metrics lines'),
  f('--eval-interval <n>', 'log.evalInterval', 'Logging', 'steps between held-out evaluations (0: only at the end)'),
  f('--save-interval <n>', 'log.saveInterval', 'Logging', 'steps between checkpoints (0: only at the end of each stage)'),
  f('--keep-checkpoints <n>', 'log.keepCheckpoints', 'Logging', 'periodic checkpoints kept'),
  f('--eval-prompts <n>', 'eval.prompts', 'Evaluation', 'held-out prompts sampled at the end (0: all)'),
  f('--temperatures <list>', 'eval.temperatures', 'Evaluation', 'comma-separated sampling temperatures for the final evaluation (0: greedy)'),
];

/** Commander's attribute name for a flag ('--batch-size <n>' → 'batchSize'). */
const attributeOf = (flag: ConfigFlag): string => new Option(flag.flags).attributeName();

/** Adds the config flags to a command, showing the default of each. */
export function addConfigFlags(cmd: Command): Command {
  const defaults = defaultRunConfig();
  for (const flag of CONFIG_FLAGS) {
    const path = flag.path.replace(/^loop\./, 'preference.');
    const def = getPath(defaults, path);
    const opt = new Option(flag.flags);
    const shownDefault = def === undefined || opt.isBoolean() ? '' : ` (default: ${def === null ? (flag.nullDefault ?? 'auto') : Array.isArray(def) ? def.join(',') : String(def)})`;
    opt.description = flag.description + shownDefault;
    opt.helpGroup(`${flag.group} options:`);
    if (flag.hidden) opt.hideHelp();
    cmd.addOption(opt);
  }
  // --ganpo / --no-ganpo: undefined unless given.
  cmd.addOption(new Option('--ganpo', 'add the GANPO latent adversarial term (default: on)').helpGroup('GANPO options:'));
  cmd.addOption(new Option('--no-ganpo', 'plain preference optimisation (no discriminators)').helpGroup('GANPO options:'));
  return cmd;
}

export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null || Array.isArray(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]] = value;
}

export interface FlagOverrides {
  /** A partial run config holding what the flags set. */
  readonly overrides: Record<string, unknown>;
  /** Config path → the flag that set it, for error messages. */
  readonly flagOf: Map<string, string>;
  /** The objective was named on the command line: it replaces the configured one instead of merging. */
  readonly replacesObjective: boolean;
}

/**
 * The config values set by the parsed flags. `stage` is the run's stage (after the config file), which
 * decides where the loop flags go.
 */
export function flagOverrides(opts: Record<string, unknown>, stage: Stage): FlagOverrides {
  const overrides: Record<string, unknown> = {};
  const flagOf = new Map<string, string>();
  const loop = stage === 'sft' ? 'sft' : 'preference';
  for (const flag of CONFIG_FLAGS) {
    const raw = opts[attributeOf(flag)];
    if (raw === undefined) continue;
    const path = flag.path.replace(/^loop\./, `${loop}.`);
    setPath(overrides, path, valueFromText(codecAt(path), raw));
    flagOf.set(path, flag.flags.split(' ')[0]);
  }
  if (opts.ganpo !== undefined) {
    setPath(overrides, 'ganpo.enabled', opts.ganpo);
    flagOf.set('ganpo.enabled', opts.ganpo ? '--ganpo' : '--no-ganpo');
  }
  return { overrides, flagOf, replacesObjective: opts.objective !== undefined };
}

/** Builds the merged config input: base (defaults or a resumed run's config) ← file ← flags. */
export function applyOverrides(base: RunConfig, file: Record<string, unknown> | null, flags: FlagOverrides, merge: <T>(a: T, b: unknown) => T): unknown {
  let merged: Record<string, unknown> = merge(base as unknown as Record<string, unknown>, file ?? {});
  const prefOverrides = (flags.overrides.preference ?? {}) as Record<string, unknown>;
  const objectiveFlags = (prefOverrides.objective ?? {}) as Record<string, unknown>;
  const pref = merged.preference as Record<string, unknown>;
  if (flags.replacesObjective) {
    // A new loss: its options start from the loss's own defaults, not the previous loss's values.
    merged = { ...merged, preference: { ...pref, objective: { ...objectiveFlags } } };
  } else if (Object.keys(objectiveFlags).length > 0) {
    const current = pref.objective;
    if (Array.isArray(current)) {
      const given = Object.keys(objectiveFlags).map((k) => flags.flagOf.get(`preference.objective.${k}`) ?? k);
      throw new ConfigError(
        `${given.join(', ')} cannot apply to a weighted list of objectives (preference.objective in the config file)`,
        [],
        'set the options inside each term of the list, or name a single loss with --objective',
      );
    }
    merged = { ...merged, preference: { ...pref, objective: { ...(current as object), ...objectiveFlags } } };
  }
  const { objective: _o, ...restPref } = prefOverrides;
  return merge(merged, { ...flags.overrides, preference: restPref });
}
