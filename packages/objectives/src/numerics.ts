import {
  exp, log, log1p, logSigmoid, lt, maximum, minimum, mul, neg, softplus, sub, tanh, where,
} from '@ganpo/autograd';
import type { Tensor } from '@ganpo/autograd';
import type { ResolvedPreferenceConfig } from './config.js';

/**
 * Exponents of the exponential scores (forward-KL and α-divergence scores, DiscoPOP's e^{−z} term when τ > 1) are
 * clamped to at most this value: e^30 ≈ 1e13 keeps every loss and gradient, and IPO's square of such a score, finite
 * in float32. Inside the bound the formula is exact; beyond it the clamped score is constant (its gradient is 0).
 */
export const EXP_CLAMP = 30;

/** Inputs of `log1mexp` above this ceiling are clamped to it: log(1 − e^x) → −∞ as x → 0⁻. */
export const LOG1MEXP_CEILING = -1e-6;

/** −log σ(z) = softplus(−z), stable for any z. */
export const negLogSigmoid = (z: Tensor): Tensor => softplus(neg(z));

/**
 * The conservative-DPO form −(1−ε) log σ(z) − ε log σ(−z) = (1−ε)·softplus(−z) + ε·softplus(z).
 * With ε = 0 it is exactly softplus(−z).
 */
export function smoothedSigmoidLoss(z: Tensor, eps: number): Tensor {
  const main = negLogSigmoid(z);
  return eps === 0 ? main : mul(main, 1 - eps).add(mul(softplus(z), eps));
}

/**
 * log(1 − eˣ) for x ≤ 0 (Mächler's log1mexp): log1p(−eˣ) below −log 2, log(−expm1(x)) above, where
 * −expm1(x) = −2t/(1 − t) with t = tanh(x/2), free of cancellation near 0. x is clamped to ≤ LOG1MEXP_CEILING.
 * Each branch is evaluated on inputs clamped into its own range, so the branch not taken has a finite gradient.
 */
export function log1mexp(x: Tensor): Tensor {
  const xc = minimum(x, LOG1MEXP_CEILING);
  const far = minimum(xc, -Math.LN2);
  const near = maximum(xc, -Math.LN2);
  const viaLog1p = log1p(neg(exp(far)));
  const t = tanh(mul(near, 0.5));
  const viaTanh = sub(log(mul(t, -2)), log1p(neg(t)));
  return where(lt(xc, -Math.LN2), viaLog1p, viaTanh);
}

/**
 * The f-divergence score s(Δ) that replaces a log-ratio Δ before h = s(Δc) − s(Δr) is formed (TRL's f_divergence_type):
 * reverse KL Δ; forward KL −e^{−Δ}; Jensen–Shannon log σ(Δ); α-divergence e^{(α−1)Δ}/(α−1).
 * The exponents are clamped to ≤ EXP_CLAMP (there the score is constant and its gradient 0).
 */
export function fScore(delta: Tensor, f: ResolvedPreferenceConfig['fDivergence']): Tensor {
  switch (f.type) {
    case 'reverse_kl':
      return delta;
    case 'js_divergence':
      return logSigmoid(delta);
    case 'forward_kl':
      return neg(exp(minimum(neg(delta), EXP_CLAMP)));
    case 'alpha_divergence':
      return mul(exp(minimum(mul(delta, f.alpha - 1), EXP_CLAMP)), 1 / (f.alpha - 1));
  }
}
