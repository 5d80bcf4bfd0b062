import type { Tensor } from '@ganpo/autograd';

/**
 * What an objective returns: a scalar loss (with gradient) and metrics to log.
 * Metric values are detached scalar tensors or plain numbers: metrics never carry gradient.
 */
export interface LossTerm {
  loss: Tensor /* scalar */;
  metrics: Record<string, Tensor | number>;
}

/** An objective is a pure function from a step input to a loss term (docs/architecture.md). */
export type Objective<A> = (input: A) => LossTerm;

/**
 * Per-token inputs, for the options that work below the sequence level (LD-DPO's `ldAlpha`, WPO's `useWeighting`).
 * Every tensor of one side (chosen or rejected) has the same shape [B, T]; the two sides may use different T.
 * Log-probs are those of the completion tokens; masks are 1 on completion tokens and 0 elsewhere (prompt, padding).
 * Masks are data: they are read as 0/1 (a position counts as a completion token when its mask is > 0.5)
 * and enter the loss as multiplicative weights.
 */
export interface TokenLogps {
  /** log π(y_t | x, y_<t) of the policy, [B, T]. */
  policyChosen: Tensor;
  policyRejected: Tensor;
  /** The same under the reference model (needed by LD-DPO unless `referenceFree`). */
  refChosen?: Tensor;
  refRejected?: Tensor;
  /** 1 on completion tokens, 0 elsewhere, [B, T]. */
  maskChosen: Tensor;
  maskRejected: Tensor;
  /** log Σ_v p(v)² of the policy's next-token distribution at each position, [B, T] (WPO). */
  logSumSquaredProbsChosen?: Tensor;
  logSumSquaredProbsRejected?: Tensor;
}

/**
 * Sequence log-probabilities of a batch of preference pairs, as `sequenceLogps` produces them.
 * All sequence-level tensors are [B] and share one dtype.
 */
export interface PairLogps {
  /** Σ_t log π(y_t) over the completion tokens of the chosen / rejected response. */
  policyChosen: Tensor;
  policyRejected: Tensor;
  /** The same under the reference model; absent for reference-free losses. */
  refChosen?: Tensor;
  refRejected?: Tensor;
  /** Number of completion tokens |y_c|, |y_r| (≥ 1), as float tensors of the same dtype. */
  chosenLengths: Tensor;
  rejectedLengths: Tensor;
  /** Per-token tensors, for LD-DPO and WPO. */
  tokens?: TokenLogps;
}

/**
 * Sequence log-probabilities of an unpaired batch (KTO): each example is desirable or undesirable, and a
 * second set of mismatched (prompt, completion) pairs gives the batch estimate of KL(π‖π_ref).
 */
export interface UnpairedLogps {
  /** Σ_t log π(y_t | x) of each completion, [N]. */
  policy: Tensor;
  /** The same under the reference model, [N]. */
  ref: Tensor;
  /** 1 for desirable, 0 for undesirable examples, [N]. */
  desirable: Tensor;
  /** Policy and reference log-probs of mismatched pairs (x_i, y_j), i ≠ j, [M]; absent only with `klEstimate: 'none'`. */
  klPolicy?: Tensor;
  klRef?: Tensor;
}
