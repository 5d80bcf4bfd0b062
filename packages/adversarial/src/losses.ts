import { type Tensor, type TensorLike, add, mean, mul, neg, relu, softplus, sub } from '@ganpo/autograd';

/**
 * GAN losses over critic scores, as pure functions: every score argument is a tensor of logits [B] (one per
 * sequence), every mean a number or a scalar tensor. Nothing here touches a discriminator, so each loss can be
 * checked (gradcheck) with respect to the scores and the means directly.
 *
 * Notation (docs/method.md §3): ℓ(z, 1) = −log σ(z) = softplus(−z), ℓ(z, 0) = −log(1 − σ(z)) = softplus(z), each
 * averaged over the batch. The BCE-based losses average their ℓ terms (docs/method.md §4's ¼ over four terms; ½ over
 * two); hinge and Wasserstein losses take their usual unaveraged forms.
 */

/** ℓ(z, label) averaged over the batch: BCE with logits in its stable softplus form. */
export function bceWithLogits(z: Tensor, label: 0 | 1): Tensor {
  return mean(softplus(label === 1 ? neg(z) : z));
}

// ---- Relativistic average GAN (Jolicoeur-Martineau 2018) ----------------------------------------------

/** Means of the critic scores of each set (constants in `ema` mode, batch means in `batch` mode). */
export interface RealFakeMeans {
  readonly real: TensorLike;
  readonly fake: TensorLike;
}

/** RaGAN discriminator loss: ½ [ℓ(C(real) − m_fake, 1) + ℓ(C(fake) − m_real, 0)]. */
export function raganDiscriminatorLoss(real: Tensor, fake: Tensor, means: RealFakeMeans): Tensor {
  return mul(add(bceWithLogits(sub(real, means.fake), 1), bceWithLogits(sub(fake, means.real), 0)), 0.5);
}

/**
 * RaGAN generator loss, both halves: ½ [ℓ(C(fake) − m_real, 1) + ℓ(C(real) − m_fake, 0)]. With constant means the
 * second half does not depend on the generator; `raganGeneratorFakeLoss` is the part that does.
 */
export function raganGeneratorLoss(real: Tensor, fake: Tensor, means: RealFakeMeans): Tensor {
  return mul(add(bceWithLogits(sub(fake, means.real), 1), bceWithLogits(sub(real, means.fake), 0)), 0.5);
}

/** The generator-dependent half of the RaGAN generator loss: ℓ(C(fake) − m_real, 1). */
export function raganGeneratorFakeLoss(fake: Tensor, meanReal: TensorLike): Tensor {
  return bceWithLogits(sub(fake, meanReal), 1);
}

// ---- GANPO's quad ordering (docs/method.md §4) ---------------------------------------------------------------

/**
 * Scores of one GANPO discriminator on its three sets. For C_w (chosen): real = R_w, policy = P_w, opposite = R_l
 * (ordering R_w > P_w > R_l). For C_l (rejected), the mirror: real = R_l, policy = P_l, opposite = R_w.
 */
export interface QuadScores {
  readonly real: Tensor;
  readonly policy: Tensor;
  readonly opposite: Tensor;
}

/** The running means of the same three sets under the same discriminator. */
export interface QuadMeans {
  readonly real: TensorLike;
  readonly policy: TensorLike;
  readonly opposite: TensorLike;
}

/**
 * The quad ordering loss of one discriminator (L_Cw or L_Cl):
 *   ¼ [ ℓ(C(real) − m(policy), 1) + ℓ(C(policy) − m(real), 0) + ℓ(C(policy) − m(opposite), 1) + ℓ(C(opposite) − m(policy), 0) ].
 * The first pair teaches real > policy, the second policy > opposite.
 */
export function quadDiscriminatorLoss(scores: QuadScores, means: QuadMeans): Tensor {
  const terms = [
    bceWithLogits(sub(scores.real, means.policy), 1),
    bceWithLogits(sub(scores.policy, means.real), 0),
    bceWithLogits(sub(scores.policy, means.opposite), 1),
    bceWithLogits(sub(scores.opposite, means.policy), 0),
  ];
  return mul(terms.reduce((a, b) => add(a, b)), 0.25);
}

/** One discriminator's contribution to the generator term: its policy scores and its running mean of the real set. */
export interface GeneratorSide {
  readonly policy: Tensor;
  readonly meanReal: TensorLike;
}

/**
 * GANPO's generator term L_adv: the mean over discriminators of ℓ(C(policy) − m(real), 1), i.e. with two
 * discriminators ½ [ℓ(C_w(P_w) − m_w(R_w), 1) + ℓ(C_l(P_l) − m_l(R_l), 1)]; with one, ℓ(C_w(P_w) − m_w(R_w), 1).
 */
export function ganpoGeneratorLoss(chosen: GeneratorSide, rejected?: GeneratorSide): Tensor {
  const lc = raganGeneratorFakeLoss(chosen.policy, chosen.meanReal);
  return rejected ? mul(add(lc, raganGeneratorFakeLoss(rejected.policy, rejected.meanReal)), 0.5) : lc;
}

// ---- Standard alternatives (ablations) -----------------------------------------------------------------

/** Non-saturating GAN (Goodfellow et al. 2014), discriminator: ½ [ℓ(C(real), 1) + ℓ(C(fake), 0)]. */
export function nonSaturatingDiscriminatorLoss(real: Tensor, fake: Tensor): Tensor {
  return mul(add(bceWithLogits(real, 1), bceWithLogits(fake, 0)), 0.5);
}

/** Non-saturating generator loss: ℓ(C(fake), 1) = −E log σ(C(fake)). */
export function nonSaturatingGeneratorLoss(fake: Tensor): Tensor {
  return bceWithLogits(fake, 1);
}

/** Hinge discriminator loss (Lim & Ye 2017; SN-GAN): E max(0, 1 − C(real)) + E max(0, 1 + C(fake)). */
export function hingeDiscriminatorLoss(real: Tensor, fake: Tensor): Tensor {
  return add(mean(relu(sub(1, real))), mean(relu(add(fake, 1))));
}

/** Hinge generator loss: −E C(fake). */
export function hingeGeneratorLoss(fake: Tensor): Tensor {
  return neg(mean(fake));
}

/** Wasserstein critic loss (Arjovsky et al. 2017): E C(fake) − E C(real); add `wassersteinGradientPenalty` (WGAN-GP). */
export function wassersteinCriticLoss(real: Tensor, fake: Tensor): Tensor {
  return sub(mean(fake), mean(real));
}

/** Wasserstein generator loss: −E C(fake). */
export function wassersteinGeneratorLoss(fake: Tensor): Tensor {
  return neg(mean(fake));
}

// ---- Accuracies (metrics, no gradient) -----------------------------------------------------------------

/** Fraction of rows i with a[i] > b[i]. */
export function pairwiseAccuracy(a: Tensor, b: Tensor): number {
  if (a.size !== b.size) throw new Error(`pairwiseAccuracy: ${a.size} vs ${b.size} scores`);
  let hits = 0;
  for (let i = 0; i < a.size; i++) if (a.data[i] > b.data[i]) hits++;
  return a.size === 0 ? 0 : hits / a.size;
}

/**
 * Ordering accuracies of one discriminator on its quad (pairs compared row by row, i.e. within one preference pair):
 * `realOverPolicy` = P[C(real) > C(policy)], `policyOverOpposite` = P[C(policy) > C(opposite)], `pairwise` their
 * mean (chance ½), and `chain` = P[C(real) > C(policy) > C(opposite)] (chance 1/6).
 */
export function quadAccuracies(scores: QuadScores): { realOverPolicy: number; policyOverOpposite: number; pairwise: number; chain: number } {
  const realOverPolicy = pairwiseAccuracy(scores.real, scores.policy);
  const policyOverOpposite = pairwiseAccuracy(scores.policy, scores.opposite);
  let chain = 0;
  const n = scores.real.size;
  for (let i = 0; i < n; i++) if (scores.real.data[i] > scores.policy.data[i] && scores.policy.data[i] > scores.opposite.data[i]) chain++;
  return { realOverPolicy, policyOverOpposite, pairwise: (realOverPolicy + policyOverOpposite) / 2, chain: n === 0 ? 0 : chain / n };
}
