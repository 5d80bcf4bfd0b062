import type { PreferenceEval } from './types.js';

/**
 * The arithmetic of the evaluation metrics, apart from the models that produce their inputs, so it can be checked on
 * hand-computed data: implicit-reward statistics of held-out pairs, and the sampling win rate.
 */

/** Summed sequence log-probs of B pairs under the policy and the reference. */
export interface PairLogpValues {
  readonly policyChosen: ArrayLike<number>;
  readonly policyRejected: ArrayLike<number>;
  readonly refChosen: ArrayLike<number>;
  readonly refRejected: ArrayLike<number>;
}

/** Accumulates TRL's implicit-reward statistics (rewards β·Δ, Δ = policy − reference log-prob) over batches of pairs. */
export class PairRewardTally {
  private n = 0;
  private correct = 0;
  private margin = 0;
  private chosen = 0;
  private rejected = 0;
  private policyCorrect = 0;
  private referenceCorrect = 0;
  private lossSum = 0;

  constructor(private readonly beta: number) {}

  /** Adds B pairs, and their mean preference loss (NaN when the objective cannot be evaluated on them). */
  add(v: PairLogpValues, meanLoss: number): void {
    const b = v.policyChosen.length;
    for (let i = 0; i < b; i++) {
      const dc = v.policyChosen[i] - v.refChosen[i];
      const dr = v.policyRejected[i] - v.refRejected[i];
      this.correct += dc > dr ? 1 : 0;
      this.margin += this.beta * (dc - dr);
      this.chosen += this.beta * dc;
      this.rejected += this.beta * dr;
      this.policyCorrect += v.policyChosen[i] > v.policyRejected[i] ? 1 : 0;
      this.referenceCorrect += v.refChosen[i] > v.refRejected[i] ? 1 : 0;
    }
    this.lossSum += meanLoss * b;
    this.n += b;
  }

  /** The means over every pair added; null when none was. */
  result(): PreferenceEval | null {
    const n = this.n;
    if (n === 0) return null;
    return {
      pairs: n,
      accuracy: this.correct / n,
      margin: this.margin / n,
      chosenReward: this.chosen / n,
      rejectedReward: this.rejected / n,
      loss: this.lossSum / n,
      policyLogpAccuracy: this.policyCorrect / n,
      referenceLogpAccuracy: this.referenceCorrect / n,
    };
  }
}

/** Fraction of prompts where the policy's reward beats the reference's on the same prompt; a tie counts ½. */
export function winRate(policyRewards: readonly number[], referenceRewards: readonly number[]): number {
  if (policyRewards.length !== referenceRewards.length) {
    throw new Error(`winRate: ${policyRewards.length} policy rewards but ${referenceRewards.length} reference rewards`);
  }
  let wins = 0;
  policyRewards.forEach((r, k) => (wins += r > referenceRewards[k] ? 1 : r === referenceRewards[k] ? 0.5 : 0));
  return wins / Math.max(policyRewards.length, 1);
}
