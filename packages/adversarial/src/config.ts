import { completed, decodeWith, int, num, oneOf, orString, problem, type Problem, refineWith, renderProblem, strict } from '@ganpo/codecs';
import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

/**
 * Configuration of the GANPO regularizer, decoded at the edge (CLI flags, config files) with io-ts. The option codecs
 * below are the single source of each option's type and range; the types, the known keys and the error messages (the
 * shared formatter of @ganpo/codecs) derive from them. `GanpoConfig.decode(input)` accepts a partial object, fills
 * every default, checks ranges and rejects unknown keys (a typo in a config file is an error, not a silently ignored
 * option). Numbers may be given as numeric strings and booleans as "true"/"false", so decoded command-line flags can
 * be passed as they are.
 */

/** A number (or boolean) that may also be written as text, as command-line flags arrive. */
const numberIn = (bounds: Parameters<typeof num>[0], integer = false) => orString(num(bounds, { integer }));
const booleanish = orString(t.boolean);
const nonNegative = numberIn({ ge: 0 });
const positive = numberIn({ gt: 0 });
const positiveInt = numberIn({ ge: 1 }, true);
const nonNegativeInt = numberIn({ ge: 0 }, true);
const unitInterval = numberIn({ ge: 0, lt: 1 });

export const PoolingCodec = oneOf(['masked', 'completion', 'all']);
export const MeanModeCodec = oneOf(['ema', 'batch']);
/**
 * - `quad`: docs/method.md §4, each discriminator learns a three-way ordering (R_w > P_w > R_l for C_w).
 * - `ragan`: plain RaGAN, each discriminator tells its real set from its policy set (R_w vs P_w, R_l vs P_l).
 * - `nonsaturating`, `hinge`, `wasserstein`: the standard non-relativistic GAN losses on the same pairs (ablations);
 *   `wasserstein` adds the WGAN-GP penalty (weight `gpWeight`).
 * The generator term of `quad` and `ragan` is the same L_adv (only its real-set means enter it).
 */
export const VariantCodec = oneOf(['quad', 'ragan', 'nonsaturating', 'hinge', 'wasserstein']);
export const ArchitectureCodec = oneOf(['transformer', 'mlp']);
export const ScheduleCodec = oneOf(['constant', 'cosine']);
export const DTypeCodec = oneOf(['float32', 'float64']);

const InstanceNoiseFields = {
  /** Initial σ of the Gaussian noise added to every latent the discriminators see (0: off). */
  sigma0: nonNegative,
  /** σ_t = σ0·max(0, 1 − t/annealSteps) at policy step t; 0 keeps σ0 constant. */
  annealSteps: nonNegativeInt,
  /** Also perturb the policy latents in the generator term (default true: the critic is trained on noisy inputs). */
  generator: booleanish,
};
const InstanceNoisePartial = strict(t.partial(InstanceNoiseFields), 'InstanceNoise');

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
  seed: orString(int()),
  dtype: DTypeCodec,
};

/** The options as a partial object: what a config file or the CLI gives. */
export const GanpoOptionsCodec = strict(t.partial(fields), 'GanpoConfig');
/** A (partial) GANPO configuration as written. */
export type GanpoConfigInput = t.OutputOf<typeof GanpoOptionsCodec>;
type Options = Required<GanpoConfigInput>;

export type InstanceNoise = Required<t.OutputOf<typeof InstanceNoisePartial>>;

/** Options without a default: the rates and sizes that follow the policy's run unless set. */
type Undefaulted = 'policyLr' | 'discLr' | 'ffDim' | 'totalSteps';

/** The full configuration (every default filled). `policyLr`, `discLr`, `ffDim`, `totalSteps` may stay undefined. */
export type GanpoConfig = Omit<Options, Undefaulted | 'instanceNoise'> & Partial<Pick<Options, Undefaulted>> & { instanceNoise: InstanceNoise };

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
} satisfies GanpoConfig);

/** Constraints between options, each as a problem. */
function crossChecks(cfg: GanpoConfig): Problem[] {
  const problems: Problem[] = [];
  if (cfg.architecture === 'transformer' && cfg.width % cfg.heads !== 0) problems.push(problem('width', `${cfg.width} must be divisible by heads ${cfg.heads}`));
  if (cfg.schedule === 'cosine' && cfg.totalSteps === undefined) problems.push(problem('totalSteps', "missing: schedule 'cosine' needs totalSteps"));
  if (cfg.totalSteps !== undefined && cfg.totalSteps < cfg.warmupSteps) problems.push(problem('totalSteps', `${cfg.totalSteps} < warmupSteps ${cfg.warmupSteps}`));
  if (cfg.meanGradient && cfg.means !== 'batch') problems.push(problem('meanGradient', "meanGradient needs means 'batch' (EMA means are constants)"));
  return problems;
}

/** Fills defaults into a (valid) partial configuration. */
export function withDefaults(input: GanpoConfigInput = {}): GanpoConfig {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as GanpoConfigInput;
  return {
    ...defaultGanpoConfig,
    ...defined,
    instanceNoise: { ...defaultGanpoConfig.instanceNoise, ...(input.instanceNoise ?? {}) },
  };
}

/**
 * The io-ts codec: decodes a partial object (or nothing) into a full `GanpoConfig` (options, then defaults, then the
 * constraints between options); encodes a config as plain JSON.
 */
export const GanpoConfig = completed(GanpoOptionsCodec, (options) => refineWith(crossChecks)(withDefaults(options)), {
  name: 'GanpoConfig',
  absent: {},
  is: (u): u is GanpoConfig => GanpoOptionsCodec.is(u) && Object.keys(defaultGanpoConfig).every((k) => k in (u as object)),
  encode: (cfg) => JSON.parse(JSON.stringify(cfg)) as GanpoConfig,
});

/** Decodes a configuration, with one readable message per problem (`GANPO config: momentum: expected …`). */
export function decodeGanpoConfig(input: unknown): Either<string[], GanpoConfig> {
  const r = decodeWith(GanpoConfig)(input);
  return isLeft(r) ? left(r.left.map((p) => `GANPO config: ${renderProblem(p)}`)) : right(r.right);
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
