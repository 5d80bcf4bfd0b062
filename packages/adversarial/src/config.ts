import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';

/**
 * Configuration of the GANPO regularizer, decoded at the edge (CLI flags, config files) with io-ts.
 * `GanpoConfig.decode(input)` accepts a partial object, fills every default, checks ranges and rejects unknown
 * keys (a typo in a config file is an error, not a silently ignored option). Numbers may be given as numeric
 * strings and booleans as "true"/"false", so decoded command-line flags can be passed as they are.
 */

const numberish = new t.Type<number, number, unknown>(
  'number',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    if (typeof u === 'number') return Number.isNaN(u) ? t.failure(u, c, `GANPO config: ${pathOf(c)} is NaN`) : t.success(u);
    if (typeof u === 'string' && u.trim() !== '' && !Number.isNaN(Number(u))) return t.success(Number(u));
    return t.failure(u, c);
  },
  t.identity,
);

const booleanish = new t.Type<boolean, boolean, unknown>(
  'boolean',
  (u): u is boolean => typeof u === 'boolean',
  (u, c) => (typeof u === 'boolean' ? t.success(u) : u === 'true' ? t.success(true) : u === 'false' ? t.success(false) : t.failure(u, c)),
  t.identity,
);

/** The dotted path of a value being decoded (for messages). */
const pathOf = (c: t.Context): string => c.map((e) => e.key).filter((k) => k !== '').join('.') || '(root)';

/** A number satisfying `ok`, with `what` in the error message. */
const refined = (base: t.Type<number, number, unknown>, what: string, ok: (n: number) => boolean) =>
  new t.Type<number, number, unknown>(
    `number (${what})`,
    (u): u is number => base.is(u) && ok(u),
    (u, c) => {
      const r = base.validate(u, c);
      if (isLeft(r)) return r;
      return ok(r.right) ? t.success(r.right) : t.failure(u, c, `GANPO config: ${pathOf(c)} = ${JSON.stringify(u)} must be ${what}`);
    },
    t.identity,
  );

const nonNegative = refined(numberish, '≥ 0', (n) => n >= 0 && Number.isFinite(n));
const positive = refined(numberish, '> 0', (n) => n > 0 && Number.isFinite(n));
const positiveInt = refined(numberish, 'an integer ≥ 1', (n) => Number.isInteger(n) && n >= 1);
const nonNegativeInt = refined(numberish, 'an integer ≥ 0', (n) => Number.isInteger(n) && n >= 0);
const unitInterval = refined(numberish, 'in [0, 1)', (n) => n >= 0 && n < 1);
const int = refined(numberish, 'an integer', (n) => Number.isInteger(n));

export const PoolingCodec = t.keyof({ masked: null, completion: null, all: null }, 'Pooling');
export const MeanModeCodec = t.keyof({ ema: null, batch: null }, 'MeanMode');
/**
 * - `quad`: docs/method.md §4, each discriminator learns a three-way ordering (R_w > P_w > R_l for C_w).
 * - `ragan`: plain RaGAN, each discriminator tells its real set from its policy set (R_w vs P_w, R_l vs P_l).
 * - `nonsaturating`, `hinge`, `wasserstein`: the standard non-relativistic GAN losses on the same pairs (ablations);
 *   `wasserstein` adds the WGAN-GP penalty (weight `gpWeight`).
 * The generator term of `quad` and `ragan` is the same L_adv (only its real-set means enter it).
 */
export const VariantCodec = t.keyof({ quad: null, ragan: null, nonsaturating: null, hinge: null, wasserstein: null }, 'Variant');
export const ArchitectureCodec = t.keyof({ transformer: null, mlp: null }, 'Architecture');
export const ScheduleCodec = t.keyof({ constant: null, cosine: null }, 'DiscSchedule');
export const DTypeCodec = t.keyof({ float32: null, float64: null }, 'DType');

const InstanceNoiseFields = {
  /** Initial σ of the Gaussian noise added to every latent the discriminators see (0: off). */
  sigma0: nonNegative,
  /** σ_t = σ0·max(0, 1 − t/annealSteps) at policy step t; 0 keeps σ0 constant. */
  annealSteps: nonNegativeInt,
  /** Also perturb the policy latents in the generator term (default true: the critic is trained on noisy inputs). */
  generator: booleanish,
};
const InstanceNoisePartial = t.exact(t.partial(InstanceNoiseFields), 'InstanceNoise');

const fields = {
  /** λ, the adversarial weight (docs/method.md §4; 1.0 in the reference runs). */
  lambda: nonNegative,
  /** The policy's learning rate; the discriminators default to half of it. */
  policyLr: positive,
  /** Discriminator learning rate (default policyLr / 2). */
  discLr: positive,
  /** Discriminator steps per policy step (k, default 1). */
  discSteps: positiveInt,
  architecture: ArchitectureCodec,
  /** Discriminator width (default 64). */
  width: positiveInt,
  /** Transformer: encoder layers; MLP: hidden width×width layers (default 1). */
  discLayers: nonNegativeInt,
  heads: positiveInt,
  /** Feed-forward size of the encoder layers (default 4·width). */
  ffDim: positiveInt,
  dropout: unitInterval,
  maxLen: positiveInt,
  pooling: PoolingCodec,
  spectralNorm: booleanish,
  means: MeanModeCodec,
  momentum: unitInterval,
  /** In `batch` mode, let gradients flow through the batch means (the textbook RaGAN); default false (constants). */
  meanGradient: booleanish,
  variant: VariantCodec,
  twoDiscriminators: booleanish,
  /** γ of the R1 penalty (γ/2)·E_real‖∇C‖² on the discriminators (0: off). */
  r1: nonNegative,
  /** γ of the R2 penalty (γ/2)·E_policy‖∇C‖² (0: off). */
  r2: nonNegative,
  /** Weight of the WGAN-GP penalty (variant `wasserstein` only; default 10). */
  gpWeight: nonNegative,
  instanceNoise: InstanceNoisePartial,
  /** AdamW of the discriminators (docs/method.md §7). */
  beta1: unitInterval,
  beta2: unitInterval,
  eps: nonNegative,
  weightDecay: nonNegative,
  /** Learning-rate schedule of the discriminators: `cosine` follows the policy's warmup (needs totalSteps). */
  schedule: ScheduleCodec,
  warmupSteps: nonNegativeInt,
  totalSteps: nonNegativeInt,
  /** Seeds the discriminator weights, dropout and instance noise. */
  seed: int,
  dtype: DTypeCodec,
};

const Partial = t.partial(fields);
export type GanpoConfigInput = t.TypeOf<typeof Partial> & { instanceNoise?: Partial<InstanceNoise> };

export interface InstanceNoise {
  sigma0: number;
  annealSteps: number;
  generator: boolean;
}

/** The full configuration (every default filled). `policyLr`, `discLr`, `ffDim`, `totalSteps` may stay undefined. */
export interface GanpoConfig {
  lambda: number;
  policyLr?: number;
  discLr?: number;
  discSteps: number;
  architecture: 'transformer' | 'mlp';
  width: number;
  discLayers: number;
  heads: number;
  ffDim?: number;
  dropout: number;
  maxLen: number;
  pooling: 'masked' | 'completion' | 'all';
  spectralNorm: boolean;
  means: 'ema' | 'batch';
  momentum: number;
  meanGradient: boolean;
  variant: 'quad' | 'ragan' | 'nonsaturating' | 'hinge' | 'wasserstein';
  twoDiscriminators: boolean;
  r1: number;
  r2: number;
  gpWeight: number;
  instanceNoise: InstanceNoise;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  schedule: 'constant' | 'cosine';
  warmupSteps: number;
  totalSteps?: number;
  seed: number;
  dtype: 'float32' | 'float64';
}

export const defaultGanpoConfig: Readonly<GanpoConfig> = Object.freeze({
  lambda: 1.0,
  discSteps: 1,
  architecture: 'transformer',
  width: 64,
  discLayers: 1,
  heads: 4,
  dropout: 0.1,
  maxLen: 512,
  pooling: 'masked',
  spectralNorm: true,
  means: 'ema',
  momentum: 0.9,
  meanGradient: false,
  variant: 'quad',
  twoDiscriminators: true,
  r1: 0,
  r2: 0,
  gpWeight: 10,
  instanceNoise: Object.freeze({ sigma0: 0, annealSteps: 0, generator: true }),
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  schedule: 'constant',
  warmupSteps: 0,
  seed: 0,
  dtype: 'float32',
} as GanpoConfig);

const knownKeys = new Set(Object.keys(fields));
const knownNoiseKeys = new Set(Object.keys(InstanceNoiseFields));

function unknownKeys(u: Record<string, unknown>, c: t.Context): t.ValidationError[] {
  const errors: t.ValidationError[] = [];
  for (const k of Object.keys(u)) {
    if (!knownKeys.has(k)) errors.push({ value: u[k], context: [...c, { key: k, type: t.never, actual: u[k] }], message: `GANPO config: unknown option '${k}'` });
  }
  const noise = u.instanceNoise;
  if (noise && typeof noise === 'object') {
    for (const k of Object.keys(noise)) {
      if (!knownNoiseKeys.has(k)) errors.push({ value: noise, context: c, message: `GANPO config: unknown option 'instanceNoise.${k}'` });
    }
  }
  return errors;
}

function crossChecks(cfg: GanpoConfig): string[] {
  const problems: string[] = [];
  if (cfg.architecture === 'transformer' && cfg.width % cfg.heads !== 0) problems.push(`width ${cfg.width} must be divisible by heads ${cfg.heads}`);
  if (cfg.schedule === 'cosine' && cfg.totalSteps === undefined) problems.push("schedule 'cosine' needs totalSteps");
  if (cfg.totalSteps !== undefined && cfg.totalSteps < cfg.warmupSteps) problems.push(`totalSteps ${cfg.totalSteps} < warmupSteps ${cfg.warmupSteps}`);
  if (cfg.meanGradient && cfg.means !== 'batch') problems.push("meanGradient needs means 'batch' (EMA means are constants)");
  return problems;
}

/** Fills defaults into a (valid) partial configuration. */
export function withDefaults(input: GanpoConfigInput = {}): GanpoConfig {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  return {
    ...defaultGanpoConfig,
    ...defined,
    instanceNoise: { ...defaultGanpoConfig.instanceNoise, ...(input.instanceNoise ?? {}) },
  } as GanpoConfig;
}

/**
 * The io-ts codec: decodes a partial object (or nothing) into a full `GanpoConfig`; encodes a config as plain JSON.
 */
export const GanpoConfig = new t.Type<GanpoConfig, GanpoConfig, unknown>(
  'GanpoConfig',
  (u): u is GanpoConfig => typeof u === 'object' && u !== null && !isLeft(Partial.decode(u)) && Object.keys(defaultGanpoConfig).every((k) => k in u),
  (u, c) => {
    const raw = u === undefined || u === null ? {} : u;
    if (typeof raw !== 'object' || Array.isArray(raw)) return t.failure(u, c, 'GANPO config: the configuration must be an object');
    const unknown = unknownKeys(raw as Record<string, unknown>, c);
    if (unknown.length > 0) return t.failures(unknown);
    const partial = Partial.validate(raw, c);
    if (isLeft(partial)) return partial;
    const cfg = withDefaults(partial.right as GanpoConfigInput);
    const problems = crossChecks(cfg);
    return problems.length > 0 ? t.failures(problems.map((message) => ({ value: u, context: c, message: `GANPO config: ${message}` }))) : t.success(cfg);
  },
  (cfg) => JSON.parse(JSON.stringify(cfg)) as GanpoConfig,
);

/** Decodes a configuration, with one readable message per problem (path included). */
export function decodeGanpoConfig(input: unknown): Either<string[], GanpoConfig> {
  const r = GanpoConfig.decode(input);
  return isLeft(r) ? left(PathReporter.report(r).map((msg) => msg.replace(/^Invalid value/, 'GANPO config: invalid value'))) : right(r.right);
}

/** `decodeGanpoConfig` for trusted code and tests: throws the joined messages. */
export function ganpoConfig(input: GanpoConfigInput = {}): GanpoConfig {
  const r = decodeGanpoConfig(input);
  if (isLeft(r)) throw new Error(r.left.join('\n'));
  return r.right;
}

/** The discriminators' learning rate: discLr, else policyLr / 2 (docs/method.md §7). */
export function resolveDiscLr(cfg: GanpoConfig): number {
  if (cfg.discLr !== undefined) return cfg.discLr;
  if (cfg.policyLr !== undefined) return cfg.policyLr / 2;
  throw new Error('GANPO config: set discLr, or policyLr (the discriminators then use policyLr / 2)');
}

/** σ of the instance noise at policy step t (0-based). */
export function instanceNoiseSigma(cfg: GanpoConfig, step: number): number {
  const { sigma0, annealSteps } = cfg.instanceNoise;
  if (sigma0 === 0) return 0;
  if (annealSteps === 0) return sigma0;
  return sigma0 * Math.max(0, 1 - step / annealSteps);
}
