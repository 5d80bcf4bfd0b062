import { type Rng, type Tensor, add, gradients, mean, mul, rand, sqrt, square, sub, sum } from '@ganpo/autograd';

/**
 * Gradient penalties on a critic's input (the latents). Each differentiates the critic's scores with respect to
 * its input WITH the graph kept (create-graph), so the penalty can itself be backpropagated into the critic's
 * parameters: a gradient of a gradient, which the engine supports because every vjp is written with ops.
 */

/** A critic as a function of its input latents [B, T, d] → scores [B] (masks and mode closed over). */
export type Critic = (latents: Tensor) => Tensor;

const rowAxes = (t: Tensor) => Array.from({ length: t.rank - 1 }, (_, i) => i + 1);

/**
 * E_b ‖∂(Σ scores)/∂input_b‖²: the mean over the batch of each sequence's squared input-gradient norm.
 * `input` must be a tensor that `scores` was computed from and that requires gradient. Since the sequences of a
 * batch are scored independently, ∂(Σ_b scores_b)/∂input_b = ∂scores_b/∂input_b.
 */
export function inputGradientSquaredNorm(scores: Tensor, input: Tensor): Tensor {
  const [g] = gradients(sum(scores), [input], undefined, { createGraph: true });
  return mean(sum(square(g), rowAxes(g)));
}

/** A differentiable copy of the latents: the penalty differentiates with respect to their values only. */
export const penaltyInput = (latents: Tensor): Tensor => latents.detach().requireGrad();

/**
 * Zero-centred gradient penalty E‖∇_h C(h)‖² at the given latents (Mescheder et al. 2018): on real (reference)
 * latents this is R1, on fake (policy) latents R2. The usual regularizer is (γ/2)·penalty; the caller scales.
 * Returns the scores too, so the same forward can feed the discriminator loss.
 */
export function zeroCenteredGradientPenalty(critic: Critic, latents: Tensor): { penalty: Tensor; scores: Tensor } {
  const h = penaltyInput(latents);
  const scores = critic(h);
  return { penalty: inputGradientSquaredNorm(scores, h), scores };
}

/** R1: E_{h∼real}‖∇C(h)‖² (times γ/2 in the loss). */
export const r1Penalty = (critic: Critic, real: Tensor): Tensor => zeroCenteredGradientPenalty(critic, real).penalty;

/** R2: E_{h∼fake}‖∇C(h)‖² (times γ/2 in the loss). */
export const r2Penalty = (critic: Critic, fake: Tensor): Tensor => zeroCenteredGradientPenalty(critic, fake).penalty;

/**
 * WGAN-GP (Gulrajani et al. 2017): E (‖∇C(ĥ)‖ − 1)² at ĥ = α·real + (1 − α)·fake, α ∼ U(0, 1) per sequence.
 * Real and fake must have the same shape and share the masks the critic closes over (e.g. R_w and P_w).
 * The norm is √(‖g‖² + 1e−12) so that its gradient stays finite at g = 0.
 */
export function wassersteinGradientPenalty(critic: Critic, real: Tensor, fake: Tensor, rng: Rng): Tensor {
  if (real.rank !== fake.rank || real.shape.some((d, i) => d !== fake.shape[i])) {
    throw new Error(`wassersteinGradientPenalty: real [${real.shape.join(', ')}] and fake [${fake.shape.join(', ')}] differ`);
  }
  const b = real.shape[0];
  const alpha = rand([b, ...real.shape.slice(1).map(() => 1)], rng, { dtype: real.dtype });
  const mixed = add(mul(real.detach(), alpha), mul(fake.detach(), sub(1, alpha))).detach().requireGrad();
  const [g] = gradients(sum(critic(mixed)), [mixed], undefined, { createGraph: true });
  const norms = sqrt(add(sum(square(g), rowAxes(g)), 1e-12));
  return mean(square(sub(norms, 1)));
}

