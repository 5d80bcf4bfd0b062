import { describe, expect, it } from 'vitest';
import { tensor } from '@ganpo/autograd';
import { rewardMetrics } from './metrics.js';

/** TRL's reward metrics on lopsided, hand-computed data (a wrong side or an inverted comparison shows at once). */
describe('rewardMetrics', () => {
  // Δc − Δr per pair: +1, +2, +0.5, −1  → 3 of 4 pairs right.
  const dc = tensor([1, 3, 0.5, -2]);
  const dr = tensor([0, 1, 0, -1]);
  const policyChosen = tensor([-10, -12, -8, -6]);
  const policyRejected = tensor([-20, -14, -9, -2]);
  const m = Object.fromEntries(Object.entries(rewardMetrics(0.5, dc, dr, policyChosen, policyRejected)).map(([k, v]) => [k, v.item()]));

  it('counts the pairs whose chosen implicit reward is higher: 3 of 4 → 0.75', () => {
    expect(m['rewards/accuracies']).toBe(0.75);
  });

  it('means β·Δ of each side and of the margin', () => {
    expect(m['rewards/chosen']).toBeCloseTo((0.5 * (1 + 3 + 0.5 - 2)) / 4, 6); // 0.3125
    expect(m['rewards/rejected']).toBeCloseTo((0.5 * (0 + 1 + 0 - 1)) / 4, 6); // 0
    expect(m['rewards/margins']).toBeCloseTo((0.5 * (1 + 2 + 0.5 - 1)) / 4, 6); // 0.3125
  });

  it('reports the policy log-probs of each side, not the other', () => {
    expect(m['logps/chosen']).toBe(-9);
    expect(m['logps/rejected']).toBe(-11.25);
  });

  it('a tie is not a win', () => {
    expect(rewardMetrics(1, tensor([1, 2]), tensor([1, 1]), tensor([0, 0]), tensor([0, 0]))['rewards/accuracies'].item()).toBe(0.5);
  });
});
