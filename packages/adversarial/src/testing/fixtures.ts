import { Rng, Tensor, randn } from '@ganpo/autograd';
import type { DType } from '@ganpo/autograd';
import type { PairLatents } from '../latents.js';

/** A [B, T] 0/1 mask with the first lengths[b] positions real. */
export function prefixMask(lengths: readonly number[], t: number, dtype: DType = 'float32'): Tensor {
  const data = dtype === 'float64' ? new Float64Array(lengths.length * t) : new Float32Array(lengths.length * t);
  lengths.forEach((n, b) => data.fill(1, b * t, b * t + n));
  return new Tensor(data, [lengths.length, t], null);
}

/** A [B, T] mask with positions [from[b], to[b]) set. */
export function spanMask(from: readonly number[], to: readonly number[], t: number, dtype: DType = 'float32'): Tensor {
  const data = dtype === 'float64' ? new Float64Array(from.length * t) : new Float32Array(from.length * t);
  from.forEach((f, b) => data.fill(1, b * t + f, b * t + to[b]));
  return new Tensor(data, [from.length, t], null);
}

export interface RandomPairOptions {
  b: number;
  tChosen: number;
  tRejected: number;
  d: number;
  seed: number;
  dtype?: DType;
  /** Offsets added to each set (distinguishes the distributions). */
  shift?: { refChosen?: number; policyChosen?: number; refRejected?: number; policyRejected?: number };
}

/** Random PairLatents with random lengths (at least 2 real tokens) and completion masks after a 1-token prompt. */
export function randomPairLatents(o: RandomPairOptions): PairLatents {
  const rng = Rng.seeded(o.seed);
  const dtype = o.dtype ?? 'float32';
  const lens = (t: number) => Array.from({ length: o.b }, () => rng.int(Math.min(2, t), t));
  const lc = lens(o.tChosen);
  const lr = lens(o.tRejected);
  const set = (t: number, shift = 0) => randn([o.b, t, o.d], rng, { dtype, mean: shift });
  return {
    refChosen: set(o.tChosen, o.shift?.refChosen),
    policyChosen: set(o.tChosen, o.shift?.policyChosen),
    refRejected: set(o.tRejected, o.shift?.refRejected),
    policyRejected: set(o.tRejected, o.shift?.policyRejected),
    maskChosen: prefixMask(lc, o.tChosen, dtype),
    maskRejected: prefixMask(lr, o.tRejected, dtype),
    completionMaskChosen: spanMask(lc.map(() => 1), lc, o.tChosen, dtype),
    completionMaskRejected: spanMask(lr.map(() => 1), lr, o.tRejected, dtype),
  };
}
