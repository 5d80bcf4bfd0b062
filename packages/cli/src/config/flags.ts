import { type Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { defaultRunConfig, type RunConfig, type Stage } from './runConfig.js';

/**
 * The `ganpo train` flags that set run-config values, as data: the flag, its config path, how its text
 * becomes a value. Loop flags (`--steps`, `--lr`, ...) set the preference stage, or the SFT stage under
 * `--stage sft`; the `--sft-*` flags always set the SFT stage.
 */

type Kind = 'number' | 'string' | 'boolean' | 'numberList';

export interface ConfigFlag {
  /** Commander flag syntax: '--lr <rate>'. */
  readonly flags: string;
  /** Commander's attribute name for it ('lr'). */
  readonly attr: string;
  readonly description: string;
  /** Config path; 'loop.x' means the stage's loop (preference, or sft under --stage sft). */
  readonly path: string;
  readonly kind: Kind;
  readonly group: string;
  /** Part of the objective's options (merged into `preference.objective`). */
  readonly objectiveOption?: boolean;
  readonly hidden?: boolean;
  /** What a null default means, in the help ("auto" unless said). */
  readonly nullDefault?: string;
}

const f = (flags: string, attr: string, path: string, kind: Kind, group: string, description: string, extra: Partial<ConfigFlag> = {}): ConfigFlag => ({
  flags,
  attr,
  path,
  kind,
  group,
  description,
  ...extra,
});

export const CONFIG_FLAGS: readonly ConfigFlag[] = [
  f('--stage <stage>', 'stage', 'stage', 'string', 'Run', 'all (SFT then preference), sft, or preference'),
  f('--out <dir>', 'out', 'out', 'string', 'Run', 'run directory: config, metrics, checkpoints, report'),
  f('--seed <n>', 'seed', 'seed', 'number', 'Run', 'seed of every random choice (init, data order, dropout, sampling)'),
  f('--backend <name>', 'backend', 'backend', 'string', 'Run', 'compute backend: auto, cpu, fast, gpujs'),

  f('--data <path>', 'data', 'data.path', 'string', 'Data', 'preference data: a JSONL/JSON file or a directory of shards', { nullDefault: 'the embedded task' }),
  f('--sft-data <path>', 'sftData', 'data.sftPath', 'string', 'Data', 'SFT data (prompt/completion)', { nullDefault: 'the chosen responses of --data' }),
  f('--format <name>', 'format', 'data.format', 'string', 'Data', 'row format (trl_explicit, trl_implicit, hh_rlhf, ...) or auto'),
  f('--data-mode <mode>', 'dataMode', 'data.mode', 'string', 'Data', 'strict: stop at the first bad row; skip: report bad rows and go on'),
  f('--tokenizer <name>', 'tokenizer', 'data.tokenizer', 'string', 'Data', "auto (the checkpoint's, else bytes), byte, gpt2, a tokenizer.json path or a Hugging Face model directory"),
  f('--max-length <n>', 'maxLength', 'data.maxLength', 'number', 'Data', 'longest tokenized sequence (BOS, prompt, completion, EOS); longer rows are truncated (see --truncation-mode) and rows left with no completion are dropped, both counted at the start'),
  f('--max-prompt-length <n>', 'maxPromptLength', 'data.maxPromptLength', 'number', 'Data', 'longest prompt (BOS included), cut to its last tokens before --max-length applies', { nullDefault: 'no limit of its own' }),
  f('--truncation-mode <mode>', 'truncationMode', 'data.truncationMode', 'string', 'Data', 'keep_start: cut the end of the completion; keep_end: cut the start of the prompt (TRL)'),
  f('--eval-fraction <f>', 'evalFraction', 'data.evalFraction', 'number', 'Data', 'fraction of user pairs held out for evaluation'),

  f('--model <preset|dir>', 'model', 'model.init', 'string', 'Model', 'size preset (tiny, small), a model config JSON file, a ganpo checkpoint, or a Hugging Face GPT-2 / Llama / Qwen2 / Mistral directory'),
  f('--dropout <p>', 'dropout', 'model.dropout', 'number', 'Model', "policy dropout", { nullDefault: "the preset's or checkpoint's" }),
  f('--lora-r <r>', 'loraR', 'model.lora.r', 'number', 'Model', 'LoRA rank: train only adapters of this rank (0: full fine-tuning)'),
  f('--lora-alpha <a>', 'loraAlpha', 'model.lora.alpha', 'number', 'Model', 'LoRA alpha (the update is scaled by alpha/r)'),
  f('--lora-dropout <p>', 'loraDropout', 'model.lora.dropout', 'number', 'Model', 'dropout on the adapters\' input'),
  f('--lora-targets <names>', 'loraTargets', 'model.lora.targets', 'string', 'Model', 'comma-separated Linear layer names (auto: q_proj,v_proj; c_attn for GPT-2)'),

  f('--objective <name>', 'objective', 'preference.objective.loss', 'string', 'Objective', 'preference loss: sigmoid (DPO), ipo, simpo, hinge, robust, ... (any TRL loss_type)'),
  f('--beta <b>', 'beta', 'preference.objective.beta', 'number', 'Objective', 'β, the inverse temperature (0.1; simpo 2.0)', { objectiveOption: true }),
  f('--label-smoothing <e>', 'labelSmoothing', 'preference.objective.labelSmoothing', 'number', 'Objective', 'ε, label smoothing (cDPO, robust, exo_pair, ...)', { objectiveOption: true }),
  f('--gamma <g>', 'gamma', 'preference.objective.gamma', 'number', 'Objective', "SimPO's target margin γ", { objectiveOption: true }),
  f('--alpha <a>', 'alpha', 'preference.objective.alpha', 'number', 'Objective', "CPO's NLL weight α", { objectiveOption: true }),
  f('--tau <t>', 'tau', 'preference.objective.tau', 'number', 'Objective', "DiscoPOP's temperature τ", { objectiveOption: true }),
  f('--reference-free', 'referenceFree', 'preference.objective.referenceFree', 'boolean', 'Objective', 'uniform reference (rc = rr = 0)', { objectiveOption: true }),
  f('--f-divergence <name>', 'fDivergence', 'preference.objective.fDivergence', 'string', 'Objective', 'reverse_kl, forward_kl, js_divergence, alpha_divergence', { objectiveOption: true }),
  f('--ld-alpha <a>', 'ldAlpha', 'preference.objective.ldAlpha', 'number', 'Objective', "LD-DPO's weight of tokens beyond the shorter response", { objectiveOption: true }),
  f('--length-penalty <a>', 'lengthPenalty', 'preference.objective.lengthPenalty', 'number', 'Objective', 'R-DPO length regularisation α', { objectiveOption: true }),

  f('--lambda <l>', 'lambda', 'ganpo.lambda', 'number', 'GANPO', 'λ, the weight of the adversarial term'),
  f('--disc-lr <rate>', 'discLr', 'ganpo.discLr', 'number', 'GANPO', 'discriminator learning rate; ten times the policy lr by default, not the method\'s lr/2, because these discriminators start from scratch and must catch up within a short run'),
  f('--disc-kind <kind>', 'discKind', 'ganpo.architecture', 'string', 'GANPO', 'transformer (docs/method.md §6) or mlp (on pooled latents)'),
  f('--disc-layers <n>', 'discLayers', 'ganpo.discLayers', 'number', 'GANPO', 'discriminator layers'),
  f('--disc-width <n>', 'discWidth', 'ganpo.width', 'number', 'GANPO', 'discriminator width'),
  f('--disc-heads <n>', 'discHeads', 'ganpo.heads', 'number', 'GANPO', 'attention heads of the transformer discriminator'),
  f('--pooling <mode>', 'pooling', 'ganpo.pooling', 'string', 'GANPO', 'masked (real tokens), completion (response tokens) or all (every position, as the reference code)'),
  f('--means <mode>', 'means', 'ganpo.means', 'string', 'GANPO', 'relativistic means: ema (reference code) or batch (paper)'),
  f('--momentum <mu>', 'momentum', 'ganpo.momentum', 'number', 'GANPO', 'μ of the EMA means'),
  f('--variant <name>', 'variant', 'ganpo.variant', 'string', 'GANPO', 'quad (docs/method.md §4), ragan, nonsaturating, hinge, wasserstein'),

  f('--steps <n>', 'steps', 'loop.steps', 'number', 'Training', 'optimizer steps of the preference stage (of SFT under --stage sft)'),
  f('--epochs <e>', 'epochs', 'loop.epochs', 'number', 'Training', 'passes over the data instead of --steps'),
  f('--batch-size <n>', 'batchSize', 'loop.batchSize', 'number', 'Training', 'pairs (SFT: examples) per micro-batch'),
  f('--grad-accum <n>', 'gradAccum', 'loop.gradAccum', 'number', 'Training', 'micro-batches per optimizer step'),
  f('--lr <rate>', 'lr', 'loop.lr', 'number', 'Training', 'peak learning rate'),
  f('--schedule <name>', 'schedule', 'loop.schedule', 'string', 'Training', 'cosine, linear or constant (after warmup)'),
  f('--warmup <steps>', 'warmup', 'loop.warmup', 'number', 'Training', 'linear warmup steps'),
  f('--clip <norm>', 'clip', 'loop.clip', 'number', 'Training', 'gradient-norm clipping (0: off)'),
  f('--weight-decay <w>', 'weightDecay', 'loop.weightDecay', 'number', 'Training', 'AdamW weight decay'),
  f('--sft-steps <n>', 'sftSteps', 'sft.steps', 'number', 'Training', 'SFT optimizer steps'),
  f('--sft-epochs <e>', 'sftEpochs', 'sft.epochs', 'number', 'Training', 'SFT passes over the data instead of --sft-steps'),
  f('--sft-batch-size <n>', 'sftBatchSize', 'sft.batchSize', 'number', 'Training', 'SFT examples per micro-batch'),
  f('--sft-lr <rate>', 'sftLr', 'sft.lr', 'number', 'Training', 'SFT peak learning rate'),

  f('--log-interval <n>', 'logInterval', 'log.interval', 'number', 'Logging', 'steps between metrics lines'),
  f('--eval-interval <n>', 'evalInterval', 'log.evalInterval', 'number', 'Logging', 'steps between held-out evaluations (0: only at the end)'),
  f('--save-interval <n>', 'saveInterval', 'log.saveInterval', 'number', 'Logging', 'steps between checkpoints (0: only at the end of each stage)'),
  f('--keep-checkpoints <n>', 'keepCheckpoints', 'log.keepCheckpoints', 'number', 'Logging', 'periodic checkpoints kept'),
  f('--eval-prompts <n>', 'evalPrompts', 'eval.prompts', 'number', 'Evaluation', 'held-out prompts sampled at the end (0: all)'),
  f('--temperatures <list>', 'temperatures', 'eval.temperatures', 'numberList', 'Evaluation', 'comma-separated sampling temperatures for the final evaluation (0: greedy)'),
];

/** Parses a number flag: the number, or the text itself (the codec then reports it with the flag's name). */
export function parseNumberText(s: string): number | string {
  const trimmed = s.trim();
  if (trimmed === '') return s;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : s;
}

/** Adds the config flags to a command, showing the default of each. */
export function addConfigFlags(cmd: Command): Command {
  const defaults = defaultRunConfig();
  for (const flag of CONFIG_FLAGS) {
    const path = flag.path.replace(/^loop\./, 'preference.');
    const def = getPath(defaults, path);
    const shownDefault = def === undefined || flag.kind === 'boolean' ? '' : ` (default: ${def === null ? (flag.nullDefault ?? 'auto') : Array.isArray(def) ? def.join(',') : String(def)})`;
    const opt = new Option(flag.flags, flag.description + shownDefault);
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
    const raw = opts[flag.attr];
    if (raw === undefined) continue;
    const path = flag.path.replace(/^loop\./, `${loop}.`);
    let value: unknown = raw;
    if (flag.kind === 'number') value = parseNumberText(String(raw));
    else if (flag.kind === 'numberList') value = String(raw).split(',').map((s) => parseNumberText(s));
    setPath(overrides, path, value);
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
