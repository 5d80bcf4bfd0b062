/**
 * Token sequences laid out row-major as `[rows, seqLen]`, right-padded.
 *
 * Each row is `BOS prompt… completion… EOS PAD…`:
 * - `attentionMask[r, t] = 1` on real tokens (BOS, prompt, completion, EOS), 0 on padding.
 * - `lossMask[r, t] = 1` when token t is a completion token (EOS included): the token positions the
 *   model is scored on. With the usual next-token shift, the logits at position t − 1 predict token t,
 *   so a sequence's log-probability is Σ_t lossMask[r, t] · log p(ids[r, t] | ids[r, < t]) using the
 *   logits of position t − 1. Position 0 is always BOS (a prompt token), so t − 1 ≥ 0 wherever the mask is 1.
 * - `promptLengths[r]` counts BOS and the prompt tokens; `completionLengths[r]` the completion tokens
 *   (EOS included) = the sum of the row's lossMask. Padding is never in either mask.
 */
export interface SequenceBatch {
  readonly ids: Int32Array;
  readonly attentionMask: Float32Array;
  readonly lossMask: Float32Array;
  readonly rows: number;
  readonly seqLen: number;
  readonly promptLengths: Int32Array;
  readonly completionLengths: Int32Array;
}

/** Preference pairs: rows 0..pairs−1 are the chosen sequences, rows pairs..2·pairs−1 the rejected ones, in the same order. */
export interface Batch extends SequenceBatch {
  readonly pairs: number;
}

/** Unpaired (KTO) rows: `labels[r] = 1` for a desirable completion, 0 for an undesirable one. */
export interface UnpairedBatch extends SequenceBatch {
  readonly labels: Uint8Array;
}
