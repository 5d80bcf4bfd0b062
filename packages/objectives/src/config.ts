import * as E from 'fp-ts/lib/Either.js';
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
export type FDivergenceName = (typeof F_DIVERGENCE_NAMES)[number];
/** A divergence by name, or the α-divergence with its α (default 0.5). */
export type FDivergence = FDivergenceName | { type: 'alpha_divergence'; alpha: number };

/** Options of `preferenceLoss`. Every field is optional; defaults are docs/objectives.md's (see README). */
export interface PreferenceConfig {
  /** β, the inverse temperature (0.1; SimPO 2.0). */
  beta?: number;
  /** ε, label smoothing (0; `exo_pair` 1e-3). */
  labelSmoothing?: number;
  /** SimPO's target margin γ (0.25·β). */
  gamma?: number;
  /** SimPO's hinge variant max(0, 1 − (β(π̄c − π̄r) − γ)) instead of the sigmoid (false). */
  simpoHinge?: boolean;
  /** CPO's NLL weight α (1). */
  alpha?: number;
  /** DiscoPOP's temperature τ (0.05). */
  tau?: number;
  /** Treat the reference as uniform: rc = rr = 0 (false). */
  referenceFree?: boolean;
  /** TRL's `f_divergence_type` (reverse_kl). */
  fDivergence?: FDivergence;
  /** LD-DPO's weight of the tokens beyond min(|yc|, |yr|) (off). */
  ldAlpha?: number;
  /** R-DPO's length regularization α in −log σ(βh − α(|yc| − |yr|)) (0). */
  lengthPenalty?: number;
  /** WPO's per-pair weights (false). */
  useWeighting?: boolean;
}

/** A configuration with every default filled in and every range checked. */
export interface ResolvedPreferenceConfig {
  beta: number;
  labelSmoothing: number;
  gamma: number;
  simpoHinge: boolean;
  alpha: number;
  tau: number;
  referenceFree: boolean;
  fDivergence: { type: FDivergenceName; alpha: number };
  ldAlpha: number | null;
  lengthPenalty: number;
  useWeighting: boolean;
}

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

export const isReferenceLoss = (name: PreferenceLossName): boolean =>
  (REFERENCE_LOSS_NAMES as readonly string[]).includes(name);

type OptionKey = keyof PreferenceConfig;

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

/** Label-smoothing ranges: [lo, hi] with open ends where marked. */
const SMOOTHING_RANGE: Partial<Record<PreferenceLossName, { lo: number; hi: number; loOpen: boolean; hiOpen: boolean }>> = {
  sigmoid: { lo: 0, hi: 0.5, loOpen: false, hiOpen: false },
  aot: { lo: 0, hi: 0.5, loOpen: false, hiOpen: false },
  aot_unpaired: { lo: 0, hi: 0.5, loOpen: false, hiOpen: false },
  simpo: { lo: 0, hi: 0.5, loOpen: false, hiOpen: false },
  cpo: { lo: 0, hi: 0.5, loOpen: false, hiOpen: false },
  robust: { lo: 0, hi: 0.5, loOpen: false, hiOpen: true },
  exo_pair: { lo: 0, hi: 0.5, loOpen: true, hiOpen: false },
};

const fmtRange = (r: { lo: number; hi: number; loOpen: boolean; hiOpen: boolean }) =>
  `${r.loOpen ? '(' : '['}${r.lo}, ${r.hi}${r.hiOpen ? ')' : ']'}`;
const inRange = (x: number, r: { lo: number; hi: number; loOpen: boolean; hiOpen: boolean }) =>
  (r.loOpen ? x > r.lo : x >= r.lo) && (r.hiOpen ? x < r.hi : x <= r.hi);

/**
 * Checks `config` for loss `name` and fills in the defaults. Every problem is reported, each as one message
 * that names the loss and the option.
 */
export function resolvePreferenceConfig(
  name: PreferenceLossName,
  config: PreferenceConfig = {},
): E.Either<string[], ResolvedPreferenceConfig> {
  const where = `preferenceLoss('${name}')`;
  if (!(PREFERENCE_LOSS_NAMES as readonly string[]).includes(name)) {
    return E.left([`unknown preference loss '${String(name)}'; expected one of ${PREFERENCE_LOSS_NAMES.join(', ')}`]);
  }
  const errors: string[] = [];
  const allowed = new Set<string>(OPTIONS[name]);
  for (const key of Object.keys(config) as (keyof PreferenceConfig)[]) {
    if (config[key] === undefined) continue;
    if (!KNOWN_KEYS.has(key)) errors.push(`${where}: unknown option '${key}'`);
    else if (!allowed.has(key) && !(key in NEUTRAL && NEUTRAL[key] === config[key])) {
      errors.push(`${where}: option '${key}' does not apply to this loss (it reads ${OPTIONS[name].join(', ') || 'no options'})`);
    }
  }
  const num = (key: keyof PreferenceConfig, value: unknown, ok: (x: number) => boolean, range: string) => {
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
      errors.push(`${where}: ${key} must be a finite number ${range} (got ${JSON.stringify(value)})`);
    }
  };
  const bool = (key: keyof PreferenceConfig) => {
    const v = config[key];
    if (v !== undefined && typeof v !== 'boolean') errors.push(`${where}: ${key} must be a boolean (got ${JSON.stringify(v)})`);
  };

  const beta = config.beta ?? (name === 'simpo' ? 2.0 : 0.1);
  num('beta', config.beta, (x) => x > 0, '> 0');

  const smoothing = SMOOTHING_RANGE[name];
  const labelSmoothing = config.labelSmoothing ?? (name === 'exo_pair' ? 1e-3 : 0);
  if (smoothing && config.labelSmoothing !== undefined) {
    if (name === 'exo_pair' && config.labelSmoothing === 0) {
      errors.push(`${where}: EXO needs labelSmoothing ε > 0 (its loss has a log ε term); 1e-3 is recommended`);
    } else {
      num('labelSmoothing', config.labelSmoothing, (x) => inRange(x, smoothing), `in ${fmtRange(smoothing)}`);
    }
  }

  num('gamma', config.gamma, (x) => x >= 0, '≥ 0');
  num('alpha', config.alpha, (x) => x >= 0, '≥ 0');
  num('tau', config.tau, (x) => x > 0, '> 0');
  num('ldAlpha', config.ldAlpha, (x) => x >= 0 && x <= 1, 'in [0, 1]');
  num('lengthPenalty', config.lengthPenalty, (x) => x >= 0, '≥ 0');
  bool('referenceFree');
  bool('useWeighting');
  bool('simpoHinge');
  if (!isReferenceLoss(name) && config.referenceFree === false) {
    errors.push(`${where}: this loss is reference-free by definition; referenceFree: false cannot apply`);
  }

  let fDivergence: ResolvedPreferenceConfig['fDivergence'] = { type: 'reverse_kl', alpha: 0.5 };
  const f = config.fDivergence;
  if (f !== undefined) {
    if (typeof f === 'string' && (F_DIVERGENCE_NAMES as readonly string[]).includes(f)) {
      fDivergence = { type: f, alpha: 0.5 };
    } else if (typeof f === 'object' && f !== null && f.type === 'alpha_divergence') {
      num('fDivergence' as keyof PreferenceConfig, f.alpha, (x) => x >= 0 && x < 1, 'α in [0, 1)');
      fDivergence = { type: 'alpha_divergence', alpha: f.alpha };
    } else {
      errors.push(`${where}: fDivergence must be one of ${F_DIVERGENCE_NAMES.join(', ')} or { type: 'alpha_divergence', alpha } (got ${JSON.stringify(f)})`);
    }
  }

  if (errors.length > 0) return E.left(errors);
  return E.right({
    beta,
    labelSmoothing,
    gamma: config.gamma ?? 0.25 * beta,
    simpoHinge: config.simpoHinge ?? false,
    alpha: config.alpha ?? 1,
    tau: config.tau ?? 0.05,
    referenceFree: isReferenceLoss(name) ? (config.referenceFree ?? false) : true,
    fDivergence,
    ldAlpha: config.ldAlpha ?? null,
    lengthPenalty: config.lengthPenalty ?? 0,
    useWeighting: config.useWeighting ?? false,
  });
}

/** Options at a value that changes nothing; a loss that does not read them accepts them. */
const NEUTRAL: Partial<Record<keyof PreferenceConfig, unknown>> = {
  labelSmoothing: 0,
  fDivergence: 'reverse_kl',
  lengthPenalty: 0,
  useWeighting: false,
  simpoHinge: false,
};

const KNOWN_KEYS = new Set<string>([
  'beta', 'labelSmoothing', 'gamma', 'simpoHinge', 'alpha', 'tau', 'referenceFree', 'fDivergence', 'ldAlpha',
  'lengthPenalty', 'useWeighting',
]);

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
// io-ts codecs, for the CLI and config files.

/** A partial record codec that rejects unknown fields (a typo in a config file is an error, not a no-op). */
export function strictPartial<P extends t.Props>(props: P, name: string) {
  const inner = t.partial(props);
  return new t.Type<t.TypeOf<typeof inner>, t.OutputOf<typeof inner>, unknown>(
    name,
    (u): u is t.TypeOf<typeof inner> => inner.is(u) && Object.keys(u as object).every((k) => k in props),
    (u, c) => {
      if (typeof u === 'object' && u !== null && !Array.isArray(u)) {
        const extra = Object.keys(u).filter((k) => !(k in props));
        if (extra.length > 0) return t.failure(u, c, `unknown field(s) ${extra.map((k) => `'${k}'`).join(', ')}; known: ${Object.keys(props).join(', ')}`);
      }
      return inner.validate(u, c);
    },
    inner.encode,
  );
}

const keyofArray = <K extends string>(names: readonly K[], name: string) =>
  t.keyof(Object.fromEntries(names.map((n) => [n, null])) as { [P in K]: null }, name);

export const PreferenceLossNameCodec = keyofArray(PREFERENCE_LOSS_NAMES, 'PreferenceLossName');

export const FDivergenceCodec: t.Type<FDivergence, FDivergence, unknown> = t.union(
  [keyofArray(F_DIVERGENCE_NAMES, 'FDivergenceName'), t.type({ type: t.literal('alpha_divergence'), alpha: t.number })],
  'FDivergence',
);

const configProps = {
  beta: t.number,
  labelSmoothing: t.number,
  gamma: t.number,
  simpoHinge: t.boolean,
  alpha: t.number,
  tau: t.number,
  referenceFree: t.boolean,
  fDivergence: FDivergenceCodec,
  ldAlpha: t.number,
  lengthPenalty: t.number,
  useWeighting: t.boolean,
};

/** Decodes a `PreferenceConfig` (types only; ranges are checked by `resolvePreferenceConfig`). */
export const PreferenceConfigCodec = strictPartial(configProps, 'PreferenceConfig');

/** One weighted term of an objective, as a CLI flag or config file writes it: `{ "loss": "sigmoid", "beta": 0.1, "weight": 0.8 }`. */
export interface PreferenceSpec extends PreferenceConfig {
  loss: PreferenceLossName;
  /** TRL's loss_weights entry (1). */
  weight?: number;
  /** Prefix of this term's metrics when several terms are combined (the loss name). */
  name?: string;
}

export const PreferenceSpecCodec: t.Type<PreferenceSpec, PreferenceSpec, unknown> = t.intersection(
  [t.type({ loss: PreferenceLossNameCodec }), strictPartial({ ...configProps, loss: PreferenceLossNameCodec, weight: t.number, name: t.string }, 'PreferenceSpecOptions')],
  'PreferenceSpec',
);

const isComposite = (type: t.Decoder<unknown, unknown>): boolean => {
  const tag = (type as { _tag?: string })._tag;
  return tag === 'UnionType' || tag === 'IntersectionType';
};

/** io-ts errors as one line each: the path, what was expected and what was found. */
export function formatValidationErrors(errors: t.Errors): string[] {
  return errors.map((e) => {
    // Union and intersection members appear in the context under their index: not part of the user's path.
    const path = e.context
      .filter((c, i) => c.key !== '' && !(i > 0 && isComposite(e.context[i - 1].type)))
      .map((c) => c.key)
      .join('.');
    const at = path ? `at ${path}: ` : '';
    if (e.message) return `${at}${e.message}`;
    const expected = e.context[e.context.length - 1]?.type.name ?? 'a value';
    return `${at}expected ${expected}, got ${JSON.stringify(e.value)}`;
  });
}

/** Decodes and checks one config for loss `name`: types (io-ts) and then ranges and applicability. */
export function decodePreferenceConfig(name: PreferenceLossName, u: unknown): E.Either<string[], ResolvedPreferenceConfig> {
  const decoded = PreferenceConfigCodec.decode(u);
  if (E.isLeft(decoded)) return E.left(formatValidationErrors(decoded.left));
  return resolvePreferenceConfig(name, decoded.right);
}

/** Decodes one spec or a list of specs (a weighted sum), checking every config. */
export function decodePreferenceSpecs(u: unknown): E.Either<string[], PreferenceSpec[]> {
  const list = Array.isArray(u) ? u : [u];
  if (list.length === 0) return E.left(['an objective needs at least one term']);
  const errors: string[] = [];
  const specs: PreferenceSpec[] = [];
  list.forEach((item, i) => {
    const at = Array.isArray(u) ? `term ${i}: ` : '';
    const decoded = PreferenceSpecCodec.decode(item);
    if (E.isLeft(decoded)) {
      errors.push(...formatValidationErrors(decoded.left).map((m) => at + m));
      return;
    }
    const { loss, weight, name, ...config } = decoded.right;
    if (weight !== undefined && !Number.isFinite(weight)) errors.push(`${at}weight must be a finite number (got ${weight})`);
    const resolved = resolvePreferenceConfig(loss, config);
    if (E.isLeft(resolved)) errors.push(...resolved.left.map((m) => at + m));
    else specs.push(decoded.right);
  });
  const names = specs.map((s) => s.name ?? s.loss);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (specs.length > 1 && dup !== undefined) errors.push(`two terms are named '${dup}'; give one a distinct "name" (its metric prefix)`);
  return errors.length > 0 ? E.left(errors) : E.right(specs);
}
