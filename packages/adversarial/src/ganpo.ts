import {
  Optimizer,
  Rng,
  type Tensor,
  add,
  adamw,
  cast,
  cosineWithWarmup,
  mean,
  mul,
  noGrad,
  randn,
} from '@ganpo/autograd';
import type { Schedule, TensorLike } from '@ganpo/autograd';
import type { LossTerm, Objective } from '@ganpo/objectives';
import { type GanpoConfig, type GanpoConfigInput, ganpoConfig, instanceNoiseSigma, resolveDiscLr } from './config.js';
import { type Discriminator, MlpDiscriminator, TransformerDiscriminator } from './discriminators.js';
import { type PairLatents, checkPairLatents, detachLatents } from './latents.js';
import {
  type QuadMeans,
  type QuadScores,
  ganpoGeneratorLoss,
  hingeDiscriminatorLoss,
  hingeGeneratorLoss,
  nonSaturatingDiscriminatorLoss,
  nonSaturatingGeneratorLoss,
  quadAccuracies,
  quadDiscriminatorLoss,
  raganDiscriminatorLoss,
  wassersteinCriticLoss,
  wassersteinGeneratorLoss,
} from './losses.js';
import { type GanpoMeans, updateMeans } from './means.js';
import { inputGradientSquaredNorm, penaltyInput, wassersteinGradientPenalty } from './penalties.js';
import { type Quad, SIDES, type SideName, type SideSpec, namedMeans, quadMeans, quadSets, scoreQuads, sideMeansOf, withFrozen } from './sides.js';

/**
 * The GANPO regularizer (docs/method.md §3–§5) as one object that owns its parts:
 *   ganpo.discriminatorStep(latents) → metrics   (§5 step 3: means, L_Cw, L_Cl, one AdamW step each)
 *   ganpo.term({ lambda })           : Objective<PairLatents> (§5 step 4: λ·L_adv through frozen discriminators)
 *
 * Ownership. A `Ganpo` holds its discriminators, their optimizers, the running means and the step count, and
 * `discriminatorStep` changes them in place (parameters and moments through `Optimizer.step()`, the engine's way).
 * Nothing is shared with callers: `term()` reads the discriminators and means as they are when the objective is
 * evaluated. Saving and loading live in `state.ts` (`ganpoStateDict`, `loadGanpoState`), dropout streams included,
 * so that training resumes bit for bit.
 */

/** One discriminator and its optimizer, for one side of the symmetry. */
export interface GanpoSide {
  readonly spec: SideSpec;
  readonly discriminator: Discriminator;
  readonly optimizer: Optimizer;
}

export interface CreateGanpoOptions {
  /** Width of the latents (the language model's hidden size). */
  latentDim: number;
}

/** A discriminator of the configured architecture for latents of width `latentDim`. */
export function createDiscriminator(cfg: GanpoConfig, latentDim: number, rng: Rng): Discriminator {
  const common = { inputDim: latentDim, rng, width: cfg.width, pooling: cfg.pooling, spectralNorm: cfg.spectralNorm, dtype: cfg.dtype };
  return cfg.architecture === 'mlp'
    ? new MlpDiscriminator({ ...common, layers: cfg.discLayers, dropout: cfg.dropout })
    : new TransformerDiscriminator({ ...common, layers: cfg.discLayers, heads: cfg.heads, ffDim: cfg.ffDim, dropout: cfg.dropout, maxLen: cfg.maxLen });
}

function discOptimizer(cfg: GanpoConfig, disc: Discriminator): Optimizer {
  const transform = adamw({ lr: resolveDiscLr(cfg), betas: [cfg.beta1, cfg.beta2], eps: cfg.eps, weightDecay: cfg.weightDecay });
  return new Optimizer(transform, disc.namedParameters());
}

/** The discriminators' learning rate at policy step t (constant, or cosine with the policy's warmup). */
export function discLearningRate(cfg: GanpoConfig, step: number): number {
  const lr = resolveDiscLr(cfg);
  if (cfg.schedule === 'constant') return lr;
  const schedule: Schedule = cosineWithWarmup({ lr, warmupSteps: cfg.warmupSteps, totalSteps: cfg.totalSteps ?? cfg.warmupSteps });
  return schedule(step);
}

// ---- scoring helpers ------------------------------------------------------------------------------------------

/** A generator for the instance noise of (step, inner step, purpose): a pure function of the seed, no state. */
function noiseRng(cfg: GanpoConfig, step: number, inner: number, purpose: number): Rng {
  const mix = (Math.imul(cfg.seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(step + 1, 0xc2b2ae35) + Math.imul(inner + 1, 0x27d4eb2f) + purpose * 0x165667b1) | 0;
  return Rng.seeded(mix);
}

function withNoise(latents: Tensor, sigma: number, rng: Rng): Tensor {
  return sigma > 0 ? add(latents, randn(latents.shape, rng, { std: sigma, dtype: latents.dtype })) : latents;
}

const asDtype = (t: Tensor, dtype: 'float32' | 'float64') => (t.dtype === dtype ? t : cast(t, dtype));
const meanOf = (t: Tensor) => noGrad(() => mean(t).item());
/** The four latent sets in `dtype`, each with instance noise of std `sigma` (drawn in a fixed order from `rng`). */
function prepared(x: PairLatents, dtype: 'float32' | 'float64', sigma: number, rng: Rng | null): PairLatents {
  const f = (t: Tensor) => (rng && sigma > 0 ? withNoise(t, sigma, rng) : asDtype(t, dtype));
  // Object literals evaluate left to right: the noise streams are drawn in this order, P_w, P_l, R_w, R_l.
  return { ...x, policyChosen: f(x.policyChosen), policyRejected: f(x.policyRejected), refChosen: f(x.refChosen), refRejected: f(x.refRejected) };
}

/** A discriminator's loss for `variant` from its scores and the means used in the loss. */
export function discriminatorLoss(variant: GanpoConfig['variant'], scores: QuadScores, means: QuadMeans): Tensor {
  switch (variant) {
    case 'quad':
      return quadDiscriminatorLoss(scores, means);
    case 'ragan':
      return raganDiscriminatorLoss(scores.real, scores.policy, { real: means.real, fake: means.policy });
    case 'nonsaturating':
      return nonSaturatingDiscriminatorLoss(scores.real, scores.policy);
    case 'hinge':
      return hingeDiscriminatorLoss(scores.real, scores.policy);
    case 'wasserstein':
      return wassersteinCriticLoss(scores.real, scores.policy);
    default:
      throw new Error(`unknown GANPO variant '${variant as string}'`);
  }
}

function generatorLoss(variant: GanpoConfig['variant'], sides: { policy: Tensor; meanReal: TensorLike }[]): Tensor {
  if (variant === 'quad' || variant === 'ragan') return ganpoGeneratorLoss(sides[0], sides[1]);
  const each = sides.map(({ policy }) =>
    variant === 'nonsaturating' ? nonSaturatingGeneratorLoss(policy) : variant === 'hinge' ? hingeGeneratorLoss(policy) : wassersteinGeneratorLoss(policy),
  );
  return each.length === 1 ? each[0] : mul(add(each[0], each[1]), 0.5);
}

/** Mean of per-micro-batch values, each weighted equally (one micro-batch: the value itself). */
const averaged = (xs: readonly Tensor[]): Tensor => (xs.length === 1 ? xs[0] : mul(xs.reduce((a, b) => add(a, b)), 1 / xs.length));

export interface GanpoTermOptions {
  /** λ (default: config.lambda). */
  lambda?: number;
}

// ---- the regularizer ------------------------------------------------------------------------------------------

export class Ganpo {
  private currentMeans: GanpoMeans | undefined;
  private steps: number;

  private constructor(
    readonly config: GanpoConfig,
    /** Width d of the latents the discriminators score. */
    readonly latentDim: number,
    /** C_w, then C_l (absent with `twoDiscriminators: false`). */
    readonly sides: readonly GanpoSide[],
    means: GanpoMeans | undefined,
    step: number,
  ) {
    this.currentMeans = means;
    this.steps = step;
  }

  /**
   * A fresh regularizer: discriminators initialised from `config.seed` (C_w and C_l from independent streams), in
   * evaluation mode, AdamW optimizers, no means yet, step 0. `config` may be partial (defaults filled, checked).
   */
  static create(config: GanpoConfigInput | GanpoConfig, options: CreateGanpoOptions): Ganpo {
    const cfg = ganpoConfig(config as GanpoConfigInput);
    resolveDiscLr(cfg);
    const { latentDim } = options;
    if (!(Number.isInteger(latentDim) && latentDim >= 1)) throw new Error(`Ganpo.create: latentDim = ${latentDim} must be an integer ≥ 1`);
    const root = Rng.seeded(cfg.seed);
    const rngs = [root.split(), root.split()];
    const specs = cfg.twoDiscriminators ? SIDES : SIDES.slice(0, 1);
    const sides = specs.map((spec, i) => {
      const discriminator = createDiscriminator(cfg, latentDim, rngs[i]).eval();
      return { spec, discriminator, optimizer: discOptimizer(cfg, discriminator) };
    });
    return new Ganpo(cfg, latentDim, sides, undefined, 0);
  }

  /** Rebuilds a regularizer with restored means and step (its parts are then loaded by `loadGanpoState`). */
  static restored(config: GanpoConfig, latentDim: number, means: GanpoMeans | undefined, step: number): Ganpo {
    const fresh = Ganpo.create(config, { latentDim });
    return new Ganpo(fresh.config, latentDim, fresh.sides, means, step);
  }

  /** Running means, plain numbers; undefined before the first discriminator step. */
  get means(): GanpoMeans | undefined {
    return this.currentMeans;
  }
  /** Discriminator steps taken: one per policy step, whatever the gradient accumulation. */
  get step(): number {
    return this.steps;
  }
  /** C_w. */
  get chosen(): Discriminator {
    return this.sides[0].discriminator;
  }
  /** C_l, or undefined with one discriminator. */
  get rejected(): Discriminator | undefined {
    return this.sides[1]?.discriminator;
  }
  side(name: SideName): GanpoSide | undefined {
    return this.sides.find((s) => s.spec.name === name);
  }

  /**
   * One discriminator step (docs/method.md §5, step 3) on the latents of one policy step: one batch, or the micro-batches
   * of a step taken with gradient accumulation (scored together: one update per policy step, so the learning-rate
   * schedule and the noise annealing count policy steps). The latents are detached here. Then, `discSteps` times:
   * each discriminator scores its three sets in training mode; the running means are updated with this step's
   * scores BEFORE the losses are formed; L_Cw and L_Cl (plus R1/R2/WGAN-GP penalties when configured) are
   * backpropagated and each discriminator takes one AdamW step. The discriminators are left in evaluation mode.
   * Returns metrics of the last inner step (plain numbers): `ganpo/d_loss_<side>`, `ganpo/d_acc_*` (ordering
   * accuracies, see `quadAccuracies`), `ganpo/means/*`, `ganpo/disc_lr`, `ganpo/noise_sigma`, and the penalties.
   */
  discriminatorStep(latents: PairLatents | readonly PairLatents[]): Record<string, number> {
    const batches = Array.isArray(latents) ? (latents as readonly PairLatents[]) : [latents as PairLatents];
    if (batches.length === 0) throw new Error('discriminatorStep: no latents');
    for (const x of batches) {
      checkPairLatents(x, 'discriminatorStep');
      if (x.policyChosen.shape[2] !== this.latentDim) {
        throw new Error(`discriminatorStep: latents of width ${x.policyChosen.shape[2]}, discriminators built for ${this.latentDim}`);
      }
    }
    const cfg = this.config;
    const clean = batches.map((x) => prepared(detachLatents(x), cfg.dtype, 0, null));
    const lr = discLearningRate(cfg, this.steps);
    const sigma = instanceNoiseSigma(cfg, this.steps);
    let means = this.currentMeans;
    let metrics: Record<string, number> = {};
    try {
      for (let inner = 0; inner < cfg.discSteps; inner++) {
        const rng = noiseRng(cfg, this.steps, inner, 1);
        const noisy = sigma > 0 ? clean.map((x) => prepared(x, cfg.dtype, sigma, rng)) : clean;
        const updated: Record<string, ReturnType<typeof namedMeans>> = {};
        const losses: Tensor[] = [];
        const sideMetrics: Record<string, number>[] = [];
        for (const { spec, discriminator: disc, optimizer: opt } of this.sides) {
          disc.train();
          opt.zeroGrad();
          const quads = noisy.map((x) => quadSets(x, spec));
          // Penalties differentiate the scores with respect to the inputs: score differentiable copies.
          const inputs = quads.map((q) => ({
            ...q,
            real: { ...q.real, latents: cfg.r1 > 0 ? penaltyInput(q.real.latents) : q.real.latents },
            policy: { ...q.policy, latents: cfg.r2 > 0 ? penaltyInput(q.policy.latents) : q.policy.latents },
          }));
          const { scores, perBatch } = scoreQuads(disc, inputs);
          const batchMeans: Quad<number> = { real: meanOf(scores.real), policy: meanOf(scores.policy), opposite: meanOf(scores.opposite) };
          // Means first (docs/method.md §4: updated with the current batch's scores before the losses are formed).
          const previous = sideMeansOf(means, spec.name);
          const now = updateMeans(previous as ReturnType<typeof namedMeans> | undefined, namedMeans(spec, batchMeans), { mode: cfg.means, momentum: cfg.momentum });
          updated[spec.name] = now;
          // meanGradient (batch means only): the critic's loss differentiates through its own batch means.
          const lossMeans: QuadMeans = cfg.means === 'batch' && cfg.meanGradient ? { real: mean(scores.real), policy: mean(scores.policy), opposite: mean(scores.opposite) } : quadMeans(spec, now);
          let loss = discriminatorLoss(cfg.variant, scores, lossMeans);
          const side = spec.name;
          const m: Record<string, number> = { [`ganpo/d_loss_${side}`]: loss.item() };
          if (cfg.r1 > 0) {
            const pen = averaged(perBatch.map((s, i) => inputGradientSquaredNorm(s.real, inputs[i].real.latents)));
            m[`ganpo/r1_${side}`] = pen.item();
            loss = add(loss, mul(pen, cfg.r1 / 2));
          }
          if (cfg.r2 > 0) {
            const pen = averaged(perBatch.map((s, i) => inputGradientSquaredNorm(s.policy, inputs[i].policy.latents)));
            m[`ganpo/r2_${side}`] = pen.item();
            loss = add(loss, mul(pen, cfg.r2 / 2));
          }
          if (cfg.variant === 'wasserstein' && cfg.gpWeight > 0) {
            const gpRng = noiseRng(cfg, this.steps, inner, side === 'chosen' ? 2 : 3);
            const gp = averaged(
              quads.map((q) => wassersteinGradientPenalty((h: Tensor) => disc.forward(h, { mask: q.real.mask, completionMask: q.real.completionMask }), q.real.latents, q.policy.latents, gpRng)),
            );
            m[`ganpo/gp_${side}`] = gp.item();
            loss = add(loss, mul(gp, cfg.gpWeight));
          }
          const acc = quadAccuracies(scores);
          m[`ganpo/d_acc_${side}`] = acc.pairwise;
          m[`ganpo/d_acc_${side}/real_vs_policy`] = acc.realOverPolicy;
          m[`ganpo/d_acc_${side}/policy_vs_opposite`] = acc.policyOverOpposite;
          m[`ganpo/d_order_${side}`] = acc.chain;
          losses.push(loss);
          sideMetrics.push(m);
        }
        // Parameters of C_w and C_l are disjoint: one backward of the sum gives each its own gradient.
        losses.reduce((a, b) => add(a, b)).backward();
        for (const { optimizer } of this.sides) {
          optimizer.lr = lr;
          optimizer.step();
          optimizer.zeroGrad();
        }
        means = Object.freeze({ chosen: updated.chosen, rejected: updated.rejected });
        metrics = Object.assign({}, ...sideMetrics);
      }
    } finally {
      // Back to evaluation mode (and no stale gradients) even when a step throws.
      for (const { discriminator, optimizer } of this.sides) {
        discriminator.eval();
        optimizer.zeroGrad();
      }
    }
    this.currentMeans = means;
    this.steps += 1;
    return { ...metrics, ...meanMetrics(means!), 'ganpo/disc_lr': lr, 'ganpo/noise_sigma': sigma };
  }

  /**
   * The GANPO term of the policy loss (docs/method.md §4–§5 step 4), an `Objective<PairLatents>`:
   *   λ·L_adv,  L_adv = ½ [ℓ(C_w(P_w) − m_w(R_w), 1) + ℓ(C_l(P_l) − m_l(R_l), 1)]
   * with the discriminators frozen (detached parameters: no parameter gradients) and in evaluation mode (no dropout,
   * no power iteration). Gradient flows through the policy latents P_w, P_l into the policy. m(R):
   * - `means: 'ema'`: the running mean as updated by the last `discriminatorStep`;
   * - `means: 'batch'`: the mean score of this batch's reference latents under the critic as it is now (after its
   *   update), in evaluation mode: the paper's batch mean, from the critic the policy is pushed against.
   * `meanGradient` concerns the critic's loss only: m(R) has no gradient to the policy either way (it depends on the
   * reference latents alone), so the generator's loss is the same with or without it.
   * Metrics: `ganpo/g_loss` (L_adv, unweighted), `ganpo/g_loss_chosen`, `ganpo/g_loss_rejected`, `ganpo/lambda`,
   * `ganpo/score/policy_chosen`, `ganpo/score/policy_rejected` (mean evaluation-mode scores).
   */
  term(options: GanpoTermOptions = {}): Objective<PairLatents> {
    const cfg = this.config;
    const lambda = options.lambda ?? cfg.lambda;
    if (!(lambda >= 0 && Number.isFinite(lambda))) throw new Error(`ganpoTerm: lambda = ${lambda} must be a finite number ≥ 0`);
    return (latents: PairLatents): LossTerm => {
      checkPairLatents(latents, 'ganpoTerm');
      const means = this.currentMeans;
      if (!means) throw new Error('ganpoTerm: the running means are not initialised; run discriminatorStep on this batch first (docs/method.md §5)');
      const sigma = cfg.instanceNoise.generator ? instanceNoiseSigma(cfg, Math.max(this.steps - 1, 0)) : 0;
      const rng = noiseRng(cfg, this.steps, 0, 4);
      const score = (disc: Discriminator, x: Tensor, mask: Tensor, completionMask: Tensor | undefined, noise: number) =>
        withFrozen(disc, () => disc.forward(withNoise(asDtype(x, cfg.dtype), noise, rng), { mask, completionMask }));
      const sides = this.sides.map(({ spec, discriminator }) => {
        const masks = { mask: latents[spec.masks.mask], completion: latents[spec.masks.completionMask] };
        const policy = score(discriminator, latents[spec.latents.policy], masks.mask, masks.completion, sigma);
        const meanReal =
          cfg.means === 'batch'
            ? noGrad(() => mean(score(discriminator, latents[spec.latents.real].detach(), masks.mask, masks.completion, 0)).item())
            : quadMeans(spec, sideMeansOf(means, spec.name)!).real;
        return { policy, meanReal };
      });
      const adv = generatorLoss(cfg.variant, sides);
      const perSide = sides.map((s) => noGrad(() => generatorLoss(cfg.variant, [s]).item()));
      const metrics: Record<string, number> = {
        'ganpo/g_loss': adv.item(),
        'ganpo/g_loss_chosen': perSide[0],
        'ganpo/lambda': lambda,
        'ganpo/score/policy_chosen': meanOf(sides[0].policy),
      };
      if (sides[1]) {
        metrics['ganpo/g_loss_rejected'] = perSide[1];
        metrics['ganpo/score/policy_rejected'] = meanOf(sides[1].policy);
      }
      const loss = lambda === 1 ? adv : mul(adv, lambda);
      return { loss: adv.dtype === latents.policyChosen.dtype ? loss : cast(loss, latents.policyChosen.dtype), metrics };
    };
  }
}

function meanMetrics(m: GanpoMeans): Record<string, number> {
  const out: Record<string, number> = {
    'ganpo/means/chosen/ref_chosen': m.chosen.refChosen,
    'ganpo/means/chosen/policy_chosen': m.chosen.policyChosen,
    'ganpo/means/chosen/ref_rejected': m.chosen.refRejected,
  };
  if (m.rejected) {
    out['ganpo/means/rejected/ref_rejected'] = m.rejected.refRejected;
    out['ganpo/means/rejected/policy_rejected'] = m.rejected.policyRejected;
    out['ganpo/means/rejected/ref_chosen'] = m.rejected.refChosen;
  }
  return out;
}
