import { gt, mean, mul, noGrad, sub } from '@ganpo/autograd';
import type { Tensor } from '@ganpo/autograd';

/** A detached scalar: the batch mean of x, computed without recording. */
export const meanMetric = (x: Tensor): Tensor => noGrad(() => mean(x.detach()));

/**
 * TRL's reward metrics for implicit rewards βΔ:
 * `rewards/chosen` = mean βΔc, `rewards/rejected` = mean βΔr, `rewards/margins` = mean β(Δc − Δr),
 * `rewards/accuracies` = mean[Δc > Δr], `logps/chosen` and `logps/rejected` = mean summed policy log-probs.
 */
export function rewardMetrics(beta: number, dc: Tensor, dr: Tensor, policyChosen: Tensor, policyRejected: Tensor): Record<string, Tensor> {
  return noGrad(() => {
    const c = dc.detach();
    const r = dr.detach();
    return {
      'rewards/chosen': mean(mul(c, beta)),
      'rewards/rejected': mean(mul(r, beta)),
      'rewards/margins': mean(mul(sub(c, r), beta)),
      'rewards/accuracies': mean(gt(c, r)),
      'logps/chosen': mean(policyChosen.detach()),
      'logps/rejected': mean(policyRejected.detach()),
    };
  });
}
