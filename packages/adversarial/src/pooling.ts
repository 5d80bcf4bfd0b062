import { type Tensor, div, maximum, mean, mul, reshape, sum } from '@ganpo/autograd';
import { maskAs } from './latents.js';

/**
 * How a discriminator turns a latent sequence [B, T, d] into one vector per sequence [B, d]:
 * - `masked` (our default): the mean over real tokens (mask = 1), prompt and completion; padding never counts.
 * - `completion`: the mean over completion tokens only (completionMask = 1, and mask = 1 where a mask is given).
 * - `all`: the reference implementation's unmasked mean over every position, padding included.
 */
export type Pooling = 'masked' | 'completion' | 'all';

export const POOLING_MODES: readonly Pooling[] = ['masked', 'completion', 'all'];

export interface PoolingMasks {
  /** [B, T], 1 for real tokens. Without it every position is real. */
  readonly mask?: Tensor;
  /** [B, T], 1 for completion tokens (required by `completion`). */
  readonly completionMask?: Tensor;
}

/**
 * Weights [B, T] of each position in the pooled mean for `mode`, or null for the plain mean over T.
 * They are constants (masks carry no gradient).
 */
export function poolingWeights(latents: Tensor, mode: Pooling, masks: PoolingMasks = {}): Tensor | null {
  switch (mode) {
    case 'all':
      return null;
    case 'masked':
      return masks.mask ? maskAs(masks.mask, latents) : null;
    case 'completion': {
      if (!masks.completionMask) throw new Error("pooling 'completion' needs a completion mask ([B, T], 1 on completion tokens)");
      const cm = maskAs(masks.completionMask, latents);
      return masks.mask ? mul(cm, maskAs(masks.mask, latents)).detach() : cm;
    }
    default:
      throw new Error(`unknown pooling mode '${mode as string}' (expected one of ${POOLING_MODES.join(', ')})`);
  }
}

/**
 * Pools latents [B, T, d] into [B, d] (see `Pooling`). A sequence with no selected position pools to the zero
 * vector (the count is floored at 1), so an empty completion gives a finite score rather than NaN.
 */
export function poolLatents(latents: Tensor, mode: Pooling, masks: PoolingMasks = {}): Tensor {
  if (latents.rank !== 3) throw new Error(`poolLatents: latents must be [B, T, d], got [${latents.shape.join(', ')}]`);
  const [b, t] = latents.shape;
  for (const [name, m] of [['mask', masks.mask], ['completionMask', masks.completionMask]] as const) {
    if (m && (m.rank !== 2 || m.shape[0] !== b || m.shape[1] !== t)) {
      throw new Error(`poolLatents: ${name} [${m.shape.join(', ')}] must be [${b}, ${t}] to match latents [${latents.shape.join(', ')}]`);
    }
  }
  const w = poolingWeights(latents, mode, masks);
  if (!w) return mean(latents, 1);
  const count = maximum(sum(w, 1, true), 1); // [B, 1]
  return div(sum(mul(latents, reshape(w, [b, t, 1])), 1), count);
}
