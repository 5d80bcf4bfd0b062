import {
  div, exp, logSigmoid, mean, minimum, mul, neg, relu, sigmoid, softplus, sort, square, sub, zerosLike,
} from '@ganpo/autograd';
import type { Tensor } from '@ganpo/autograd';
import type { ReferenceLossName, ResolvedPreferenceConfig } from './config.js';
import { ldWeights, weightedSequenceLogps, wpoWeights } from './inputs.js';
import { rewardMetrics } from './metrics.js';
import { EXP_CLAMP, fScore, negLogSigmoid, smoothedSigmoidLoss } from './numerics.js';
import type { LossTerm, PairLogps } from './types.js';

/** The sequence-level quantities every reference-based loss starts from (after LD-DPO weighting, if on). */
export interface PairSequences {
  pc: Tensor;
  pr: Tensor;
  /** Reference log-probs; zeros in reference-free mode. */
  rc: Tensor;
  rr: Tensor;
  /** Completion lengths |yc|, |yr|. */
  lc: Tensor;
  lr: Tensor;
}

/** Per-pair losses [B], and the log-ratios Δc, Δr the loss is built from (for the reward metrics). */
interface PerPair {
  losses: Tensor;
  dc: Tensor;
  dr: Tensor;
}

type C = ResolvedPreferenceConfig;

const logRatios = (x: PairSequences) => ({ dc: sub(x.pc, x.rc), dr: sub(x.pr, x.rr) });
/** Token-averaged log-ratios Δ/|y| (IPO, as TRL computes it; length-normalized DPO). */
const meanLogRatios = (x: PairSequences) => ({ dc: div(sub(x.pc, x.rc), x.lc), dr: div(sub(x.pr, x.rr), x.lr) });
/** h = s(Δc) − s(Δr), with the configured f-divergence score s (Δ itself for reverse KL). */
const scoredMargin = (dc: Tensor, dr: Tensor, c: C): Tensor =>
  c.fDivergence.type === 'reverse_kl' ? sub(dc, dr) : sub(fScore(dc, c.fDivergence), fScore(dr, c.fDivergence));
const smoothedAt = (d: Tensor, c: C) => smoothedSigmoidLoss(mul(d, c.beta), c.labelSmoothing);

/** One function per loss: docs/objectives.md's per-pair formula, nothing else. */
export const PAIRWISE: Record<ReferenceLossName, (x: PairSequences, c: C) => PerPair> = {
  sigmoid(x, c) {
    const { dc, dr } = logRatios(x);
    let z = mul(scoredMargin(dc, dr, c), c.beta);
    if (c.lengthPenalty !== 0) z = sub(z, mul(sub(x.lc, x.lr), c.lengthPenalty));
    return { losses: smoothedSigmoidLoss(z, c.labelSmoothing), dc, dr };
  },
  hinge(x, c) {
    const { dc, dr } = logRatios(x);
    return { losses: relu(sub(1, mul(scoredMargin(dc, dr, c), c.beta))), dc, dr };
  },
  ipo(x, c) {
    const { dc, dr } = meanLogRatios(x);
    return { losses: square(sub(scoredMargin(dc, dr, c), 1 / (2 * c.beta))), dc, dr };
  },
  exo_pair(x, c) {
    const { dc, dr } = logRatios(x);
    const z = mul(scoredMargin(dc, dr, c), c.beta);
    const eps = c.labelSmoothing;
    const chosen = mul(sigmoid(z), sub(logSigmoid(z), Math.log(1 - eps)));
    const rejected = mul(sigmoid(neg(z)), sub(logSigmoid(neg(z)), Math.log(eps)));
    return { losses: chosen.add(rejected), dc, dr };
  },
  nca_pair(x, c) {
    const { dc, dr } = logRatios(x);
    const zc = mul(dc, c.beta);
    const zr = mul(dr, c.beta);
    return { losses: negLogSigmoid(zc).add(mul(softplus(zc), 0.5)).add(mul(softplus(zr), 0.5)), dc, dr };
  },
  robust(x, c) {
    const { dc, dr } = logRatios(x);
    const z = mul(scoredMargin(dc, dr, c), c.beta);
    const eps = c.labelSmoothing;
    if (eps === 0) return { losses: negLogSigmoid(z), dc, dr };
    const losses = div(sub(mul(negLogSigmoid(z), 1 - eps), mul(softplus(z), eps)), 1 - 2 * eps);
    return { losses, dc, dr };
  },
  bco_pair(x, c) {
    const { dc, dr } = logRatios(x);
    return { losses: negLogSigmoid(mul(dc, c.beta)).add(softplus(mul(dr, c.beta))), dc, dr };
  },
  sppo_hard(x, c) {
    const { dc, dr } = logRatios(x);
    const half = 1 / (2 * c.beta);
    return { losses: square(sub(dc, half)).add(square(dr.add(half))), dc, dr };
  },
  aot(x, c) {
    const { dc, dr } = logRatios(x);
    const d = sub(sort(sub(x.pc, x.pr), 0).values, sort(sub(x.rc, x.rr), 0).values);
    return { losses: smoothedAt(d, c), dc, dr };
  },
  aot_unpaired(x, c) {
    const { dc, dr } = logRatios(x);
    const d = sub(sort(dc, 0).values, sort(dr, 0).values);
    return { losses: smoothedAt(d, c), dc, dr };
  },
  apo_zero(x, c) {
    const { dc, dr } = logRatios(x);
    // (1 − σ(βΔc)) + σ(βΔr), with 1 − σ(u) = σ(−u).
    return { losses: sigmoid(mul(dc, -c.beta)).add(sigmoid(mul(dr, c.beta))), dc, dr };
  },
  apo_down(x, c) {
    const { dc, dr } = logRatios(x);
    return { losses: sigmoid(mul(dc, c.beta)).add(sigmoid(mul(sub(dc, dr), -c.beta))), dc, dr };
  },
  discopop(x, c) {
    const { dc, dr } = logRatios(x);
    const z = mul(sub(dc, dr), c.beta);
    // (1 − m)(−log σ(z)) + m·e^{−z} with m = σ(z/τ); m·e^{−z} = exp(log σ(z/τ) − z), which never overflows for τ < 1.
    const logistic = mul(sigmoid(mul(z, -1 / c.tau)), negLogSigmoid(z));
    const exponential = exp(minimum(sub(logSigmoid(mul(z, 1 / c.tau)), z), EXP_CLAMP));
    return { losses: logistic.add(exponential), dc, dr };
  },
  sigmoid_norm(x, c) {
    const { dc, dr } = meanLogRatios(x);
    return { losses: negLogSigmoid(mul(sub(dc, dr), c.beta)), dc, dr };
  },
};

/** The sequences a reference-based loss uses: LD-DPO-weighted per-token sums when `ldAlpha` is set; zeros for the reference when reference-free. */
export function pairSequences(input: PairLogps, c: C): PairSequences {
  let pc = input.policyChosen;
  let pr = input.policyRejected;
  let rc = input.refChosen;
  let rr = input.refRejected;
  if (c.ldAlpha !== null) {
    const tokens = input.tokens!;
    const w = ldWeights(tokens, c.ldAlpha);
    pc = weightedSequenceLogps(tokens.policyChosen, w.chosen);
    pr = weightedSequenceLogps(tokens.policyRejected, w.rejected);
    if (!c.referenceFree) {
      rc = weightedSequenceLogps(tokens.refChosen!, w.chosen);
      rr = weightedSequenceLogps(tokens.refRejected!, w.rejected);
    }
  }
  if (c.referenceFree) {
    rc = zerosLike(pc);
    rr = zerosLike(pr);
  }
  return { pc, pr, rc: rc!, rr: rr!, lc: input.chosenLengths, lr: input.rejectedLengths };
}

/** A reference-based loss over a batch: per-pair losses, WPO weights if on, batch mean, TRL's metrics. */
export function pairwiseTerm(name: ReferenceLossName, input: PairLogps, c: C): LossTerm {
  const x = pairSequences(input, c);
  const { losses, dc, dr } = PAIRWISE[name](x, c);
  const weighted = c.useWeighting ? mul(losses, wpoWeights(input.tokens!)) : losses;
  return { loss: mean(weighted), metrics: rewardMetrics(c.beta, dc, dr, input.policyChosen, input.policyRejected) };
}
