import { type Problem, decodeWith, num, oneOf, problem, renderProblem, strict, validation } from '@ganpo/codecs';
import { sequenceT } from 'fp-ts/lib/Apply.js';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';

/** TRL's `loss_type` names, in docs/objectives.md's order. */
export const PREFERENCE_LOSS_NAMES = [
  'sigmoid', 'hinge', 'ipo', 'exo_pair', 'nca_pair', 'robust', 'bco_pair', 'sppo_hard', 'aot', 'aot_unpaired',
  'apo_zero', 'apo_down', 'discopop', 'sft', 'sigmoid_norm', 'simpo', 'cpo', 'orpo',
] as const;
export type PreferenceLossName = (typeof PREFERENCE_LOSS_NAMES)[number];

/** Losses that compare the policy with a reference model (TRL's DPOTrainer family, less `sft`). */
export const REFERENCE_LOSS_NAMES = [
  'sigmoid', 'hinge', 'ipo', 'exo_pair', 'nca_pair', 'robust', 'bco_pair', 'sppo_hard', 'aot', 'aot_unpaired',
  'apo_zero', 'apo_down', 'discopop', 'sigmoid_norm',
] as const satisfies readonly PreferenceLossName[];

export const F_DIVERGENCE_NAMES = ['reverse_kl', 'forward_kl', 'js_divergence', 'alpha_divergence'] as const;

export type ReferenceLossName = (typeof REFERENCE_LOSS_NAMES)[number];
/** Losses without a reference model: `sft`, `simpo`, `cpo`, `orpo`. */
export type ReferenceFreeLossName = Exclude<PreferenceLossName, ReferenceLossName>;

export const PreferenceLossNameCodec = oneOf(PREFERENCE_LOSS_NAMES);

export const FDivergenceCodec = t.union(
  [oneOf(F_DIVERGENCE_NAMES), t.type({ type: t.literal('alpha_divergence'), alpha: num({ ge: 0, lt: 1 }) })],
  `one of ${F_DIVERGENCE_NAMES.join(', ')} or { type: 'alpha_divergence', alpha }`,
);

/**
 * Every option of `preferenceLoss`, as io-ts codecs: the single source of each option's name, type and
 * loss-independent range. The `PreferenceConfig` type, the known keys and the CLI's decoding all derive from it;
 * defaults are {@link DEFAULTS}; which loss reads which option is {@link OPTIONS}.
 */
const OPTION_CODECS = {
  /** β, the inverse temperature (0.1; SimPO 2.0). */
  beta: num({ gt: 0 }),
  /** ε, label smoothing (0; `exo_pair` 1e-3); [0, ½], and narrower for `robust` and `exo_pair` (see LOSS_CHECKS). */
  labelSmoothing: num({ ge: 0, le: 0.5 }),
  /** SimPO's target margin γ (0.25·β). */
  gamma: num({ ge: 0 }),
  /** SimPO's hinge variant max(0, 1 − (β(π̄c − π̄r) − γ)) instead of the sigmoid (false). */
  simpoHinge: t.boolean,
  /** CPO's NLL weight α (1). */
  alpha: num({ ge: 0 }),
  /** DiscoPOP's temperature τ (0.05). */
  tau: num({ gt: 0 }),
  /** Treat the reference as uniform: rc = rr = 0 (false). */
  referenceFree: t.boolean,
  /** TRL's `f_divergence_type` (reverse_kl). */
  fDivergence: FDivergenceCodec,
  /** LD-DPO's weight of the tokens beyond min(|yc|, |yr|) (off). */
  ldAlpha: num({ ge: 0, le: 1 }),
  /** R-DPO's length regularization α in −log σ(βh − α(|yc| − |yr|)) (0). */
  lengthPenalty: num({ ge: 0 }),
  /** WPO's per-pair weights (false). */
  useWeighting: t.boolean,
};

/** Decodes a `PreferenceConfig`: types, ranges and unknown keys (ranges that depend on the loss: `resolvePreferenceConfig`). */
export const PreferenceConfigCodec = strict(t.partial(OPTION_CODECS), 'PreferenceConfig');
/** Options of `preferenceLoss`, as written (every field optional; defaults in the README). */
export type PreferenceConfig = t.OutputOf<typeof PreferenceConfigCodec>;
export type PreferenceOption = keyof typeof OPTION_CODECS;
export type FDivergenceName = (typeof F_DIVERGENCE_NAMES)[number];
/** A divergence by name, or the α-divergence with its α (default 0.5). */
export type FDivergence = NonNullable<PreferenceConfig['fDivergence']>;
/** The option names, from the codec. */
export const PREFERENCE_OPTIONS = Object.keys(OPTION_CODECS) as PreferenceOption[];

/** A configuration with every default filled in and every range checked. */
export type ResolvedPreferenceConfig = Required<Omit<PreferenceConfig, 'fDivergence' | 'ldAlpha'>> & {
  fDivergence: { type: FDivergenceName; alpha: number };
  /** null: LD-DPO off. */
  ldAlpha: number | null;
};

/** Which tensors of `PairLogps` an objective reads. */
export interface InputRequirements {
  /** `refChosen`, `refRejected`. */
  reference: boolean;
  /** `tokens.policyChosen`, `tokens.policyRejected`, `tokens.maskChosen`, `tokens.maskRejected`. */
  tokens: boolean;
  /** `tokens.refChosen`, `tokens.refRejected` (LD-DPO with a reference). */
  tokenReference: boolean;
  /** `tokens.logSumSquaredProbsChosen`, `tokens.logSumSquaredProbsRejected` (WPO). */
  logSumSquaredProbs: boolean;
}

/** What a data pipeline provides; given to `preferenceLoss`, a missing input is an error at build time. */
export type AvailableInputs = Partial<InputRequirements>;

export const isReferenceLoss = (name: PreferenceLossName): name is ReferenceLossName =>
  (REFERENCE_LOSS_NAMES as readonly string[]).includes(name);

type OptionKey = PreferenceOption;

/**
 * The options each loss reads (TRL applies them to the same losses). Any other option given is rejected, unless it is
 * at its neutral value (labelSmoothing 0, fDivergence 'reverse_kl', lengthPenalty 0, useWeighting false, simpoHinge false).
 */
const OPTIONS: Record<PreferenceLossName, readonly OptionKey[]> = (() => {
  const dpoCommon: OptionKey[] = ['beta', 'referenceFree', 'ldAlpha', 'useWeighting'];
  const withF: OptionKey[] = [...dpoCommon, 'fDivergence'];
  return {
    sigmoid: [...withF, 'labelSmoothing', 'lengthPenalty'],
    hinge: withF,
    ipo: withF,
    exo_pair: [...withF, 'labelSmoothing'],
    nca_pair: dpoCommon,
    robust: [...withF, 'labelSmoothing'],
    bco_pair: dpoCommon,
    sppo_hard: dpoCommon,
    aot: [...dpoCommon, 'labelSmoothing'],
    aot_unpaired: [...dpoCommon, 'labelSmoothing'],
    apo_zero: dpoCommon,
    apo_down: dpoCommon,
    discopop: [...dpoCommon, 'tau'],
    sigmoid_norm: dpoCommon,
    sft: ['referenceFree'],
    simpo: ['beta', 'gamma', 'labelSmoothing', 'simpoHinge', 'referenceFree'],
    cpo: ['beta', 'alpha', 'labelSmoothing', 'referenceFree'],
    orpo: ['beta', 'referenceFree'],
  };
})();

/** The options `name` reads. */
export const optionsOf = (name: PreferenceLossName): readonly (keyof PreferenceConfig)[] => OPTIONS[name];

/** Options at a value that changes nothing; a loss that does not read them accepts them. */
const NEUTRAL: Partial<Record<OptionKey, unknown>> = {
  labelSmoothing: 0,
  fDivergence: 'reverse_kl',
  lengthPenalty: 0,
  useWeighting: false,
  simpoHinge: false,
};

/** The defaults every loss starts from; {@link LOSS_DEFAULTS} overrides some per loss. `gamma` defaults to 0.25·β. */
const DEFAULTS: Omit<ResolvedPreferenceConfig, 'gamma' | 'referenceFree'> = {
  beta: 0.1,
  labelSmoothing: 0,
  simpoHinge: false,
  alpha: 1,
  tau: 0.05,
  fDivergence: { type: 'reverse_kl', alpha: 0.5 },
  ldAlpha: null,
  lengthPenalty: 0,
  useWeighting: false,
};
const LOSS_DEFAULTS: Partial<Record<PreferenceLossName, Partial<typeof DEFAULTS>>> = {
  simpo: { beta: 2.0 },
  exo_pair: { labelSmoothing: 1e-3 },
};

/** Checks that depend on the loss, beyond the codec's ranges (each returns its problems). */
const LOSS_CHECKS: Partial<Record<PreferenceLossName, (c: PreferenceConfig) => Problem[]>> = {
  robust: (c) => (c.labelSmoothing !== undefined && c.labelSmoothing >= 0.5 ? [problem('labelSmoothing', `expected a number in [0, 0.5) for robust (it divides by 1 − 2ε), got ${c.labelSmoothing}`)] : []),
  exo_pair: (c) => (c.labelSmoothing === 0 ? [problem('', 'EXO needs labelSmoothing ε > 0 (its loss has a log ε term); 1e-3 is recommended')] : []),
};

/** Options given that `name` does not read (unless at their neutral value), and reference-free by definition. */
function applicability(name: PreferenceLossName, config: Record<string, unknown>): Problem[] {
  const allowed = new Set<string>(OPTIONS[name]);
  const problems = Object.keys(config)
    .filter((key) => (PREFERENCE_OPTIONS as string[]).includes(key) && !allowed.has(key) && !(key in NEUTRAL && NEUTRAL[key as OptionKey] === config[key]))
    .map((key) => problem('', `option '${key}' does not apply to this loss (it reads ${OPTIONS[name].join(', ') || 'no options'})`));
  if (!isReferenceLoss(name) && config.referenceFree === false) {
    problems.push(problem('', 'this loss is reference-free by definition; referenceFree: false cannot apply'));
  }
  return problems;
}

/** A problem as one line naming the loss and the option. */
const renderFor = (where: string) => (p: Problem) => `${where}: ${p.path ? `${p.path}: ` : ''}${p.reason}`;

const withoutUndefined = (u: unknown): unknown =>
  typeof u === 'object' && u !== null && !Array.isArray(u) ? Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined)) : u;

/**
 * Decodes and checks `config` for loss `name` and fills in the defaults. Every problem is reported (types, ranges,
 * unknown keys, options the loss does not read, loss-specific ranges), each as one line naming the loss and the option.
 */
export function resolvePreferenceConfig(name: PreferenceLossName, config: unknown = {}): E.Either<string[], ResolvedPreferenceConfig> {
  const where = `preferenceLoss('${name}')`;
  if (!(PREFERENCE_LOSS_NAMES as readonly string[]).includes(name)) {
    return E.left([`unknown preference loss '${String(name)}'; expected one of ${PREFERENCE_LOSS_NAMES.join(', ')}`]);
  }
  const raw = withoutUndefined(config);
  const applies: E.Either<Problem[], null> = (() => {
    const problems = typeof raw === 'object' && raw !== null ? applicability(name, raw as Record<string, unknown>) : [];
    return problems.length > 0 ? E.left(problems) : E.right(null);
  })();
  return pipe(
    sequenceT(validation)(decodeWith(PreferenceConfigCodec)(raw), applies),
    E.chain(([c]) => {
      const problems = LOSS_CHECKS[name]?.(c) ?? [];
      return problems.length > 0 ? E.left(problems) : E.right(c);
    }),
    E.map((c): ResolvedPreferenceConfig => {
      const base = { ...DEFAULTS, ...LOSS_DEFAULTS[name] };
      const f = c.fDivergence;
      const beta = c.beta ?? base.beta;
      return {
        ...base,
        ...c,
        beta,
        gamma: c.gamma ?? 0.25 * beta,
        referenceFree: isReferenceLoss(name) ? (c.referenceFree ?? false) : true,
        fDivergence: f === undefined ? base.fDivergence : typeof f === 'string' ? { type: f, alpha: 0.5 } : { type: f.type, alpha: f.alpha },
        ldAlpha: c.ldAlpha ?? null,
      };
    }),
    E.mapLeft((problems) => problems.map(renderFor(where))),
  );
}

/** The inputs loss `name` reads under `config`. */
export function requirementsOf(name: PreferenceLossName, config: ResolvedPreferenceConfig): InputRequirements {
  const ref = isReferenceLoss(name) && !config.referenceFree;
  const ld = isReferenceLoss(name) && config.ldAlpha !== null;
  const wpo = isReferenceLoss(name) && config.useWeighting;
  return {
    reference: ref && !ld,
    tokens: ld || wpo,
    tokenReference: ref && ld,
    logSumSquaredProbs: wpo,
  };
}

/** Errors for each required input that `available` says is missing. */
export function missingInputs(name: string, required: InputRequirements, available: AvailableInputs): string[] {
  const why: Record<keyof InputRequirements, string> = {
    reference: 'reference log-probs (refChosen, refRejected); pass them, or set referenceFree: true for a uniform reference',
    tokens: 'per-token log-probs and masks (tokens.policyChosen/policyRejected/maskChosen/maskRejected), needed by ldAlpha and useWeighting',
    tokenReference: 'per-token reference log-probs (tokens.refChosen, tokens.refRejected), needed by ldAlpha',
    logSumSquaredProbs: 'per-token log Σ p² (tokens.logSumSquaredProbsChosen/Rejected), needed by useWeighting',
  };
  return (Object.keys(why) as (keyof InputRequirements)[])
    .filter((k) => required[k] && available[k] === false)
    .map((k) => `${name}: needs ${why[k]}, which the inputs do not provide`);
}

// ---------------------------------------------------------------------------------------------------------
// Objectives as config files and the CLI write them.

/** One weighted term of an objective, as a CLI flag or config file writes it: `{ "loss": "sigmoid", "beta": 0.1, "weight": 0.8 }`. */
export const PreferenceSpecCodec = strict(
  t.intersection([
    t.type({ loss: PreferenceLossNameCodec }),
    t.partial({
      ...OPTION_CODECS,
      /** TRL's loss_weights entry (1). */
      weight: num(),
      /** Prefix of this term's metrics when several terms are combined (the loss name). */
      name: t.string,
    }),
  ]),
  'PreferenceSpec',
);
/** One weighted term of an objective, as a CLI flag or config file writes it: `{ "loss": "sigmoid", "beta": 0.1, "weight": 0.8 }`. */
export type PreferenceSpec = t.OutputOf<typeof PreferenceSpecCodec>;

/** Decodes and checks one config for loss `name`: types, ranges, unknown keys and applicability. */
export const decodePreferenceConfig = (name: PreferenceLossName, u: unknown): E.Either<string[], ResolvedPreferenceConfig> => resolvePreferenceConfig(name, u);

/** Decodes one spec or a list of specs (a weighted sum), checking every config; problems of term i start with `term i: `. */
export function decodePreferenceSpecs(u: unknown): E.Either<string[], PreferenceSpec[]> {
  const list = Array.isArray(u) ? u : [u];
  if (list.length === 0) return E.left(['an objective needs at least one term']);
  const terms = list.map((item: unknown, i) => {
    const at = Array.isArray(u) ? `term ${i}: ` : '';
    return pipe(
      decodeWith(PreferenceSpecCodec)(item),
      E.mapLeft((problems) => problems.map((p) => at + renderProblem(p))),
      E.chain((spec) => {
        const { loss, weight: _w, name: _n, ...config } = spec;
        return pipe(resolvePreferenceConfig(loss, config), E.bimap((ms) => ms.map((m) => at + m), () => spec as PreferenceSpec));
      }),
    );
  });
  const errors = terms.flatMap((r) => (E.isLeft(r) ? r.left : []));
  const specs = terms.flatMap((r) => (E.isRight(r) ? [r.right] : []));
  const names = specs.map((s) => s.name ?? s.loss);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (specs.length > 1 && dup !== undefined) errors.push(`two terms are named '${dup}'; give one a distinct "name" (its metric prefix)`);
  return errors.length > 0 ? E.left(errors) : E.right(specs);
}
