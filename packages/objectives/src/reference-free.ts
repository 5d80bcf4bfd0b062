import { div, logSigmoid, mean, mul, neg, relu, sub, sum } from '@ganpo/autograd';
import type { Tensor } from '@ganpo/autograd';
import type { ReferenceFreeLossName, ResolvedPreferenceConfig } from './config.js';
import { meanMetric, rewardMetrics } from './metrics.js';
import { log1mexp, smoothedSigmoidLoss } from './numerics.js';
import type { LossTerm, PairLogps } from './types.js';

type C = ResolvedPreferenceConfig;

/**
 * Negative log-likelihood of the chosen completions, averaged over all their tokens in the batch:
 * −Σ_b πc_b / Σ_b |yc_b| (TRL's cross-entropy with ignore_index over the chosen rows).
 */
export const chosenNll = (input: PairLogps): Tensor => neg(div(sum(input.policyChosen), sum(input.chosenLengths)));

/** Per-token mean log-probs π̄ = π/|y|. */
const perToken = (input: PairLogps) => ({
  c: div(input.policyChosen, input.chosenLengths),
  r: div(input.policyRejected, input.rejectedLengths),
});

/** One function per loss without a reference model (typed by name: a loss missing here is a compile error). */
export const REFERENCE_FREE: Record<ReferenceFreeLossName, (input: PairLogps, c: C) => LossTerm> = {
  sft(input) {
    const nll = chosenNll(input);
    return { loss: nll, metrics: { nll_loss: nll.detach() } };
  },
  simpo(input, c) {
    const m = perToken(input);
    const z = sub(mul(sub(m.c, m.r), c.beta), c.gamma);
    const losses = c.simpoHinge ? relu(sub(1, z)) : smoothedSigmoidLoss(z, c.labelSmoothing);
    return { loss: mean(losses), metrics: rewardMetrics(c.beta, m.c, m.r, input.policyChosen, input.policyRejected) };
  },
  cpo(input, c) {
    const z = mul(sub(input.policyChosen, input.policyRejected), c.beta);
    const nll = chosenNll(input);
    const loss = mean(smoothedSigmoidLoss(z, c.labelSmoothing)).add(mul(nll, c.alpha));
    const metrics = rewardMetrics(c.beta, input.policyChosen, input.policyRejected, input.policyChosen, input.policyRejected);
    return { loss, metrics: { ...metrics, nll_loss: nll.detach() } };
  },
  orpo(input, c) {
    const m = perToken(input);
    // log odds(y) = π̄ − log(1 − e^{π̄}); the ratio of the chosen and rejected odds, in log space.
    const logOdds = sub(sub(m.c, m.r), sub(log1mexp(m.c), log1mexp(m.r)));
    const ratio = logSigmoid(logOdds);
    const nll = chosenNll(input);
    const loss = sub(nll, mul(mean(ratio), c.beta));
    return {
      loss,
      metrics: {
        ...rewardMetrics(c.beta, m.c, m.r, input.policyChosen, input.policyRejected),
        nll_loss: nll.detach(),
        log_odds_ratio: meanMetric(ratio),
        log_odds_chosen: meanMetric(logOdds),
      },
    };
  },
};
