import {
  type Module,
  Optimizer,
  Rng,
  Tensor,
  add,
  adamw,
  cast,
  concat,
  cosineWithWarmup,
  functionalCall,
  mean,
  mul,
  noGrad,
  ones,
  randn,
  slice,
} from '@ganpo/autograd';
import type { OptimizerStateDict, Schedule, TensorLike } from '@ganpo/autograd';
import type { LossTerm, Objective } from '@ganpo/objectives';
import { type GanpoConfig, type GanpoConfigInput, GanpoConfig as GanpoConfigCodec, ganpoConfig, instanceNoiseSigma, resolveDiscLr } from './config.js';
import { type Discriminator, MlpDiscriminator, TransformerDiscriminator } from './discriminators.js';
import { type LatentBatch, type PairLatents, checkPairLatents, detachLatents } from './latents.js';
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
import { type ChosenMeans, type GanpoMeans, type RejectedMeans, updateMeans } from './means.js';
import { inputGradientSquaredNorm, penaltyInput, wassersteinGradientPenalty } from './penalties.js';

/**
 * The GANPO regularizer (docs/method.md §3–§5) as explicit state and two functions:
 *   discriminatorStep(state, latents) → { state, metrics }   (§5 step 3: means, L_Cw, L_Cl, one AdamW step each)
 *   ganpoTerm(state, { lambda })      : Objective<PairLatents> (§5 step 4: λ·L_adv through frozen discriminators)
 *
 * State. The discriminators' parameters and the optimizers' moments are updated in place by `Optimizer.step()`
 * (the engine's way); everything else (running means, step count, configuration) is immutable data: each
 * discriminator step returns a new state object. `ganpoStateDict` / `loadGanpoState` save and restore all of it,
 * dropout streams included, so that training resumes bit for bit.
 */
export interface GanpoState {
  readonly config: GanpoConfig;
  /** Width d of the latents the discriminators score. */
  readonly latentDim: number;
  /** C_w: learns R_w > P_w > R_l. */
  readonly chosen: Discriminator;
  /** C_l: learns R_l > P_l > R_w (absent with `twoDiscriminators: false`). */
  readonly rejected?: Discriminator;
  readonly optimizers: { readonly chosen: Optimizer; readonly rejected?: Optimizer };
  /** Running means, plain numbers; undefined before the first discriminator step. */
  readonly means: GanpoMeans | undefined;
  /** Discriminator steps taken (= policy steps, one discriminator step call per policy step). */
  readonly step: number;
}

export interface CreateGanpoStateOptions {
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

/**
 * Fresh GANPO state: discriminators initialised from `config.seed` (C_w and C_l from independent streams), in
 * evaluation mode, AdamW optimizers, no means yet, step 0. `config` may be partial (defaults filled, checked).
 */
export function createGanpoState(config: GanpoConfigInput | GanpoConfig, options: CreateGanpoStateOptions): GanpoState {
  const cfg = ganpoConfig(config as GanpoConfigInput);
  resolveDiscLr(cfg);
  const { latentDim } = options;
  if (!(Number.isInteger(latentDim) && latentDim >= 1)) throw new Error(`createGanpoState: latentDim = ${latentDim} must be an integer ≥ 1`);
  const root = Rng.seeded(cfg.seed);
  const chosenRng = root.split();
  const rejectedRng = root.split();
  const chosen = createDiscriminator(cfg, latentDim, chosenRng).eval();
  const rejected = cfg.twoDiscriminators ? createDiscriminator(cfg, latentDim, rejectedRng).eval() : undefined;
  return Object.freeze({
    config: cfg,
    latentDim,
    chosen,
    rejected,
    optimizers: Object.freeze({ chosen: discOptimizer(cfg, chosen), rejected: rejected && discOptimizer(cfg, rejected) }),
    means: undefined,
    step: 0,
  });
}

// ---- scoring ----------------------------------------------------------------------------------------------

/** A generator for the instance noise of (step, inner step, purpose): a pure function of the seed, no state. */
function noiseRng(cfg: GanpoConfig, step: number, inner: number, purpose: number): Rng {
  const mix = (Math.imul(cfg.seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(step + 1, 0xc2b2ae35) + Math.imul(inner + 1, 0x27d4eb2f) + purpose * 0x165667b1) | 0;
  return Rng.seeded(mix);
}

function withNoise(latents: Tensor, sigma: number, rng: Rng): Tensor {
  return sigma > 0 ? add(latents, randn(latents.shape, rng, { std: sigma, dtype: latents.dtype })) : latents;
}

const asDtype = (t: Tensor, dtype: 'float32' | 'float64') => (t.dtype === dtype ? t : cast(t, dtype));

/**
 * Scores several latent sets with one discriminator, concatenating the sets that share a length T into one
 * forward pass (each forward in training mode is one power-iteration step of spectral normalisation). Sets of
 * equal T are concatenated as they are, with no padding added, so every pooling mode sees exactly its own tokens.
 */
export function scoreSets(disc: Discriminator, sets: readonly LatentBatch[]): Tensor[] {
  const groups = new Map<number, number[]>();
  sets.forEach((s, i) => {
    const t = s.latents.shape[1];
    groups.set(t, [...(groups.get(t) ?? []), i]);
  });
  const out: Tensor[] = new Array(sets.length);
  const needCompletion = disc.pooling === 'completion';
  for (const members of groups.values()) {
    const group = members.map((i) => sets[i]);
    const maskOf = (s: LatentBatch) => s.mask ?? ones([s.latents.shape[0], s.latents.shape[1]], { dtype: s.latents.dtype });
    const cat = (xs: Tensor[]) => (xs.length === 1 ? xs[0] : concat(xs, 0));
    const latents = cat(group.map((s) => s.latents));
    const mask = group.some((s) => s.mask) ? cat(group.map(maskOf)) : undefined;
    let completionMask: Tensor | undefined;
    if (needCompletion) {
      const missing = group.find((s) => !s.completionMask);
      if (missing) throw new Error("pooling 'completion' needs completion masks (completionMaskChosen / completionMaskRejected)");
      completionMask = cat(group.map((s) => s.completionMask!));
    }
    const scores = disc.forward(latents, { mask, completionMask });
    let start = 0;
    for (const i of members) {
      const n = sets[i].latents.shape[0];
      out[i] = members.length === 1 ? scores : slice(scores, [start], [start + n]);
      start += n;
    }
  }
  return out;
}

/** Runs `fn` with the discriminator in evaluation mode and its parameters replaced by detached copies (frozen). */
export function withFrozen<T>(disc: Discriminator, fn: () => T): T {
  const wasTraining = disc.training;
  disc.eval();
  try {
    const frozen = Object.fromEntries(disc.namedParameters().map(([n, p]) => [n, p.detach()]));
    return functionalCall(disc, frozen, fn);
  } finally {
    disc.train(wasTraining);
  }
}

// ---- the discriminator step --------------------------------------------------------------------------------

type Side = 'chosen' | 'rejected';
type Variant = GanpoConfig['variant'];

/** The three sets of one discriminator: C_w sees (R_w, P_w, R_l), C_l the mirror (R_l, P_l, R_w). */
function quadSets(x: PairLatents, side: Side): { real: LatentBatch; policy: LatentBatch; opposite: LatentBatch } {
  const chosen = { mask: x.maskChosen, completionMask: x.completionMaskChosen };
  const rejected = { mask: x.maskRejected, completionMask: x.completionMaskRejected };
  return side === 'chosen'
    ? { real: { latents: x.refChosen, ...chosen }, policy: { latents: x.policyChosen, ...chosen }, opposite: { latents: x.refRejected, ...rejected } }
    : { real: { latents: x.refRejected, ...rejected }, policy: { latents: x.policyRejected, ...rejected }, opposite: { latents: x.refChosen, ...chosen } };
}

/** A discriminator's loss for `variant` from its scores and the means used in the loss. */
export function discriminatorLoss(variant: Variant, scores: QuadScores, means: QuadMeans): Tensor {
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

interface SideResult {
  loss: Tensor;
  scores: QuadScores;
  batchMeans: { real: number; policy: number; opposite: number };
  metrics: Record<string, number>;
}

const meanOf = (t: Tensor) => noGrad(() => mean(t).item());

function sideMeans(side: Side, m: { real: number; policy: number; opposite: number }): ChosenMeans | RejectedMeans {
  return side === 'chosen'
    ? { refChosen: m.real, policyChosen: m.policy, refRejected: m.opposite }
    : { refRejected: m.real, policyRejected: m.policy, refChosen: m.opposite };
}

function quadOf(side: Side, m: ChosenMeans | RejectedMeans): { real: number; policy: number; opposite: number } {
  if (side === 'chosen') {
    const c = m as ChosenMeans;
    return { real: c.refChosen, policy: c.policyChosen, opposite: c.refRejected };
  }
  const r = m as RejectedMeans;
  return { real: r.refRejected, policy: r.policyRejected, opposite: r.refChosen };
}

/**
 * One discriminator step (docs/method.md §5, step 3). The latents are detached here (whatever the caller passes), then,
 * `discSteps` times: each discriminator scores its three sets in training mode; the running means are updated with
 * this batch's scores BEFORE the losses are formed; L_Cw and L_Cl (plus R1/R2/WGAN-GP penalties when configured)
 * are backpropagated and each discriminator takes one AdamW step. The discriminators are left in evaluation mode.
 * Returns the new state (new means, step + 1) and metrics of the last inner step (plain numbers):
 * `ganpo/d_loss_chosen`, `ganpo/d_loss_rejected`, `ganpo/d_acc_*` (ordering accuracies, see `quadAccuracies`),
 * `ganpo/means/*`, `ganpo/disc_lr`, `ganpo/noise_sigma`, and the penalties when on.
 */
export function discriminatorStep(state: GanpoState, latents: PairLatents): { state: GanpoState; metrics: Record<string, number> } {
  checkPairLatents(latents, 'discriminatorStep');
  if (latents.policyChosen.shape[2] !== state.latentDim) {
    throw new Error(`discriminatorStep: latents of width ${latents.policyChosen.shape[2]}, discriminators built for ${state.latentDim}`);
  }
  const cfg = state.config;
  const detached = detachLatents(latents);
  const x: PairLatents = {
    ...detached,
    policyChosen: asDtype(detached.policyChosen, cfg.dtype),
    policyRejected: asDtype(detached.policyRejected, cfg.dtype),
    refChosen: asDtype(detached.refChosen, cfg.dtype),
    refRejected: asDtype(detached.refRejected, cfg.dtype),
  };
  const sides: [Side, Discriminator, Optimizer][] = [['chosen', state.chosen, state.optimizers.chosen]];
  if (state.rejected && state.optimizers.rejected) sides.push(['rejected', state.rejected, state.optimizers.rejected]);
  const lr = discLearningRate(cfg, state.step);
  const sigma = instanceNoiseSigma(cfg, state.step);
  let means = state.means;
  let metrics: Record<string, number> = {};

  try {
    for (let inner = 0; inner < cfg.discSteps; inner++) {
      const rng = noiseRng(cfg, state.step, inner, 1);
      const noisy: PairLatents = sigma > 0
        ? {
            ...x,
            policyChosen: withNoise(x.policyChosen, sigma, rng),
            policyRejected: withNoise(x.policyRejected, sigma, rng),
            refChosen: withNoise(x.refChosen, sigma, rng),
            refRejected: withNoise(x.refRejected, sigma, rng),
          }
        : x;
      const results = new Map<Side, SideResult>();
      const newMeans: { chosen?: ChosenMeans; rejected?: RejectedMeans } = {};
      for (const [side, disc, opt] of sides) {
        disc.train();
        opt.zeroGrad();
        const sets = quadSets(noisy, side);
        // Penalties differentiate the scores with respect to the inputs: score differentiable copies.
        const realIn = cfg.r1 > 0 ? penaltyInput(sets.real.latents) : sets.real.latents;
        const policyIn = cfg.r2 > 0 ? penaltyInput(sets.policy.latents) : sets.policy.latents;
        const [real, policy, opposite] = scoreSets(disc, [
          { ...sets.real, latents: realIn },
          { ...sets.policy, latents: policyIn },
          sets.opposite,
        ]);
        const scores = { real, policy, opposite };
        const batchMeans = { real: meanOf(real), policy: meanOf(policy), opposite: meanOf(opposite) };
        // Means first (docs/method.md §4: updated with the current batch's scores before the losses are formed).
        const meanOptions = { mode: cfg.means, momentum: cfg.momentum };
        const batchSide = sideMeans(side, batchMeans);
        const updated: ChosenMeans | RejectedMeans =
          side === 'chosen'
            ? (newMeans.chosen = updateMeans(means?.chosen, batchSide as ChosenMeans, meanOptions))
            : (newMeans.rejected = updateMeans(means?.rejected, batchSide as RejectedMeans, meanOptions));
        const lossMeans: QuadMeans = cfg.means === 'batch' && cfg.meanGradient ? { real: mean(real), policy: mean(policy), opposite: mean(opposite) } : quadOf(side, updated);
        let loss = discriminatorLoss(cfg.variant, scores, lossMeans);
        const m: Record<string, number> = { [`ganpo/d_loss_${side}`]: loss.item() };
        if (cfg.r1 > 0) {
          const pen = inputGradientSquaredNorm(real, realIn);
          m[`ganpo/r1_${side}`] = pen.item();
          loss = add(loss, mul(pen, cfg.r1 / 2));
        }
        if (cfg.r2 > 0) {
          const pen = inputGradientSquaredNorm(policy, policyIn);
          m[`ganpo/r2_${side}`] = pen.item();
          loss = add(loss, mul(pen, cfg.r2 / 2));
        }
        if (cfg.variant === 'wasserstein' && cfg.gpWeight > 0) {
          const critic = (h: Tensor) => disc.forward(h, { mask: sets.real.mask, completionMask: sets.real.completionMask });
          const gp = wassersteinGradientPenalty(critic, sets.real.latents, sets.policy.latents, noiseRng(cfg, state.step, inner, side === 'chosen' ? 2 : 3));
          m[`ganpo/gp_${side}`] = gp.item();
          loss = add(loss, mul(gp, cfg.gpWeight));
        }
        const acc = quadAccuracies(scores);
        m[`ganpo/d_acc_${side}`] = acc.pairwise;
        m[`ganpo/d_acc_${side}/real_vs_policy`] = acc.realOverPolicy;
        m[`ganpo/d_acc_${side}/policy_vs_opposite`] = acc.policyOverOpposite;
        m[`ganpo/d_order_${side}`] = acc.chain;
        results.set(side, { loss, scores, batchMeans, metrics: m });
      }
      // Parameters of C_w and C_l are disjoint: one backward of the sum gives each its own gradient.
      const total = [...results.values()].map((r) => r.loss).reduce((a, b) => add(a, b));
      total.backward();
      for (const [, , opt] of sides) {
        opt.lr = lr;
        opt.step();
        opt.zeroGrad();
      }
      means = Object.freeze({ chosen: newMeans.chosen!, rejected: newMeans.rejected });
      metrics = Object.assign({}, ...[...results.values()].map((r) => r.metrics));
    }
  } finally {
    // Back to evaluation mode (and no stale gradients) even when a step throws.
    for (const [, disc, opt] of sides) {
      disc.eval();
      opt.zeroGrad();
    }
  }
  const m = means!;
  const meanMetrics: Record<string, number> = {
    'ganpo/means/chosen/ref_chosen': m.chosen.refChosen,
    'ganpo/means/chosen/policy_chosen': m.chosen.policyChosen,
    'ganpo/means/chosen/ref_rejected': m.chosen.refRejected,
  };
  if (m.rejected) {
    meanMetrics['ganpo/means/rejected/ref_rejected'] = m.rejected.refRejected;
    meanMetrics['ganpo/means/rejected/policy_rejected'] = m.rejected.policyRejected;
    meanMetrics['ganpo/means/rejected/ref_chosen'] = m.rejected.refChosen;
  }
  return {
    state: Object.freeze({ ...state, means: m, step: state.step + 1 }),
    metrics: { ...metrics, ...meanMetrics, 'ganpo/disc_lr': lr, 'ganpo/noise_sigma': sigma },
  };
}

// ---- the generator term --------------------------------------------------------------------------------------

export interface GanpoTermOptions {
  /** λ (default: config.lambda). */
  lambda?: number;
}

function generatorLoss(variant: Variant, sides: { policy: Tensor; meanReal: TensorLike }[]): Tensor {
  if (variant === 'quad' || variant === 'ragan') return ganpoGeneratorLoss(sides[0], sides[1]);
  const each = sides.map(({ policy }) =>
    variant === 'nonsaturating' ? nonSaturatingGeneratorLoss(policy) : variant === 'hinge' ? hingeGeneratorLoss(policy) : wassersteinGeneratorLoss(policy),
  );
  return each.length === 1 ? each[0] : mul(add(each[0], each[1]), 0.5);
}

/**
 * The GANPO term of the policy loss (docs/method.md §4–§5 step 4), an `Objective<PairLatents>`:
 *   λ·L_adv,  L_adv = ½ [ℓ(C_w(P_w) − m_w(R_w), 1) + ℓ(C_l(P_l) − m_l(R_l), 1)]
 * with the discriminators frozen (detached parameters: no parameter gradients) and in evaluation mode (no dropout,
 * no power iteration), and the means as updated by the last `discriminatorStep`. Gradient flows through the policy
 * latents P_w, P_l into the policy; reference latents enter only through the means. Only the policy latents are read
 * (and their masks), so a reference-free base objective (SimPO) still needs the reference latents for the step.
 * Metrics: `ganpo/g_loss` (L_adv, unweighted), `ganpo/g_loss_chosen`, `ganpo/g_loss_rejected`, `ganpo/lambda`,
 * `ganpo/score/policy_chosen`, `ganpo/score/policy_rejected` (mean evaluation-mode scores).
 */
export function ganpoTerm(state: GanpoState, options: GanpoTermOptions = {}): Objective<PairLatents> {
  const cfg = state.config;
  const lambda = options.lambda ?? cfg.lambda;
  if (!(lambda >= 0 && Number.isFinite(lambda))) throw new Error(`ganpoTerm: lambda = ${lambda} must be a finite number ≥ 0`);
  return (latents: PairLatents): LossTerm => {
    checkPairLatents(latents, 'ganpoTerm');
    const means = state.means;
    if (!means) throw new Error('ganpoTerm: the running means are not initialised; run discriminatorStep on this batch first (docs/method.md §5)');
    const sigma = cfg.instanceNoise.generator ? instanceNoiseSigma(cfg, Math.max(state.step - 1, 0)) : 0;
    const rng = noiseRng(cfg, state.step, 0, 4);
    const score = (disc: Discriminator, policy: Tensor, mask: Tensor, completionMask: Tensor | undefined) =>
      withFrozen(disc, () => disc.forward(withNoise(asDtype(policy, cfg.dtype), sigma, rng), { mask, completionMask }));
    const sides = [{ policy: score(state.chosen, latents.policyChosen, latents.maskChosen, latents.completionMaskChosen), meanReal: means.chosen.refChosen }];
    if (state.rejected && means.rejected) {
      sides.push({ policy: score(state.rejected, latents.policyRejected, latents.maskRejected, latents.completionMaskRejected), meanReal: means.rejected.refRejected });
    }
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

// ---- checkpoints --------------------------------------------------------------------------------------------

/** JSON part of a saved GANPO state. */
export interface GanpoStateMeta {
  readonly format: 'ganpo-adversarial/1';
  readonly config: GanpoConfig;
  readonly latentDim: number;
  readonly step: number;
  readonly means: GanpoMeans | null;
  readonly optimizers: Record<string, Omit<OptimizerStateDict, 'params'> & { params: Record<string, { step: number }> }>;
  /** States of the random streams held by the discriminators' modules (dropout), by path. */
  readonly rngs: Record<string, Record<string, number[]>>;
}

/** A GANPO state as named tensors (discriminator parameters and buffers, optimizer moments) plus JSON. */
export interface GanpoStateDict {
  readonly tensors: Record<string, Tensor>;
  readonly meta: GanpoStateMeta;
}

const copyTensor = (t: Tensor): Tensor => new Tensor(t.data.slice(), t.shape, null);

/**
 * Saves everything needed to resume exactly: discriminator parameters and buffers (`chosen.*`, `rejected.*`),
 * AdamW moments (`optim.chosen.<param>.m|v`), and as JSON the configuration, step, means, optimizer counters and
 * learning rates, and the dropout streams. Tensors are copies.
 */
export function ganpoStateDict(state: GanpoState): GanpoStateDict {
  const tensors: Record<string, Tensor> = {};
  const optimizers: GanpoStateMeta['optimizers'] = {};
  const rngs: GanpoStateMeta['rngs'] = {};
  const entries: [Side, Discriminator, Optimizer][] = [['chosen', state.chosen, state.optimizers.chosen]];
  if (state.rejected && state.optimizers.rejected) entries.push(['rejected', state.rejected, state.optimizers.rejected]);
  for (const [side, disc, opt] of entries) {
    for (const [name, t] of Object.entries(disc.stateDict())) tensors[`${side}.${name}`] = copyTensor(t);
    const sd = opt.stateDict();
    const params: Record<string, { step: number }> = {};
    opt.names.forEach((name, i) => {
      const entry = sd.params[name];
      params[name] = { step: entry.step };
      for (const [slot, buf] of Object.entries(entry.slots)) tensors[`optim.${side}.${name}.${slot}`] = new Tensor(buf.slice(), opt.params[i].shape, null);
    });
    optimizers[side] = { transform: sd.transform, config: sd.config, lr: sd.lr, step: sd.step, params };
    rngs[side] = disc.rngStateDict();
  }
  const meta: GanpoStateMeta = {
    format: 'ganpo-adversarial/1',
    config: GanpoConfigCodec.encode(state.config),
    latentDim: state.latentDim,
    step: state.step,
    means: state.means ?? null,
    optimizers,
    rngs,
  };
  return { tensors, meta: JSON.parse(JSON.stringify(meta)) as GanpoStateMeta };
}

/** Rebuilds a GANPO state from `ganpoStateDict` output (after, e.g., a round trip through a checkpoint file). */
export function loadGanpoState(dict: GanpoStateDict): GanpoState {
  const { meta, tensors } = dict;
  if (meta.format !== 'ganpo-adversarial/1') throw new Error(`loadGanpoState: unknown format '${String(meta.format)}'`);
  const fresh = createGanpoState(meta.config, { latentDim: meta.latentDim });
  const entries: [Side, Discriminator, Optimizer][] = [['chosen', fresh.chosen, fresh.optimizers.chosen]];
  if (fresh.rejected && fresh.optimizers.rejected) entries.push(['rejected', fresh.rejected, fresh.optimizers.rejected]);
  const used = new Set<string>();
  for (const [side, disc, opt] of entries) {
    const own = Object.fromEntries(
      Object.entries(tensors)
        .filter(([k]) => k.startsWith(`${side}.`))
        .map(([k, t]) => {
          used.add(k);
          return [k.slice(side.length + 1), t];
        }),
    );
    disc.loadStateDict(own);
    const om = meta.optimizers[side];
    if (!om) throw new Error(`loadGanpoState: no optimizer state for the ${side} discriminator`);
    const params: OptimizerStateDict['params'] = {};
    for (const [name, { step }] of Object.entries(om.params)) {
      const slots: Record<string, Tensor['data']> = {};
      for (const slot of opt.transform.slotNames) {
        const key = `optim.${side}.${name}.${slot}`;
        const t = tensors[key];
        if (!t) throw new Error(`loadGanpoState: missing ${key}`);
        used.add(key);
        slots[slot] = t.data;
      }
      params[name] = { step, slots };
    }
    opt.loadStateDict({ transform: om.transform, config: om.config, lr: om.lr, step: om.step, params });
    disc.loadRngStateDict(meta.rngs[side] ?? {});
  }
  const unexpected = Object.keys(tensors).filter((k) => !used.has(k));
  if (unexpected.length > 0) throw new Error(`loadGanpoState: unexpected tensors ${unexpected.join(', ')}`);
  return Object.freeze({ ...fresh, means: meta.means ?? undefined, step: meta.step });
}
