import { allocLike, formatShape } from '@ganpo/kernels';
import type { DType } from '@ganpo/kernels';
import { constant } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { add, mul, neg, rsqrt, sigmoid, square } from './elementwise.js';
import { broadcastTo, concat, reshape, split } from './movement.js';
import { mean } from './reduce.js';

// The Llama-family decoder's ops (RMSNorm, SiLU, rotary position embeddings, grouped-query key/value sharing),
// composed of existing differentiable ops: every backend runs them with its own kernels, and their gradients
// (and gradients of gradients) follow from the parts.

/** RMSNorm over the last axis: x / √(mean(x²) + eps) · weight (weight [d], optional). */
export function rmsNorm(x: Tensor, weight: Tensor | null = null, eps = 1e-6): Tensor {
  const d = x.shape[x.rank - 1];
  if (weight && (weight.rank !== 1 || weight.shape[0] !== d)) {
    throw new Error(`rmsNorm: weight ${formatShape(weight.shape)} does not match input ${formatShape(x.shape)}`);
  }
  const y = mul(x, rsqrt(add(mean(square(x), -1, true), eps)));
  return weight ? mul(y, weight) : y;
}

/** SiLU (swish): x·σ(x). */
export function silu(x: Tensor): Tensor {
  return mul(x, sigmoid(x));
}

/**
 * The cos and sin tables of rotary position embeddings, [rows, 1, T, headDim], for position ids [rows, T]
 * (Hugging Face's convention: inverse frequencies θ^(−2i/headDim) for i < headDim/2, each angle used twice,
 * `cat(freqs, freqs)`). Constants; computed in float64 and stored in `dtype`.
 */
export function rotaryTables(positions: ArrayLike<number>, rows: number, t: number, headDim: number, theta: number, dtype: DType): { cos: Tensor; sin: Tensor } {
  if (headDim % 2 !== 0) throw new Error(`rotaryTables: head dimension ${headDim} must be even`);
  if (positions.length !== rows * t) throw new Error(`rotaryTables: ${positions.length} positions for [${rows}, ${t}]`);
  const half = headDim / 2;
  const invFreq = Array.from({ length: half }, (_, i) => 1 / theta ** ((2 * i) / headDim));
  const cos = allocLike(dtype, rows * t * headDim);
  const sin = allocLike(dtype, rows * t * headDim);
  for (let p = 0; p < rows * t; p++) {
    for (let i = 0; i < half; i++) {
      const angle = positions[p] * invFreq[i];
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[p * headDim + i] = c;
      cos[p * headDim + half + i] = c;
      sin[p * headDim + i] = s;
      sin[p * headDim + half + i] = s;
    }
  }
  return { cos: constant(cos, [rows, 1, t, headDim]), sin: constant(sin, [rows, 1, t, headDim]) };
}

/** rotate_half: [x1, x2] → [−x2, x1] over the last axis. */
export function rotateHalf(x: Tensor): Tensor {
  const [x1, x2] = split(x, 2, -1);
  return concat([neg(x2), x1], -1);
}

/** x·cos + rotate_half(x)·sin for x [B, H, T, dh] and tables [B, 1, T, dh] (see {@link rotaryTables}). */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  if (x.rank !== 4 || cos.rank !== 4 || cos.shape[2] !== x.shape[2] || cos.shape[3] !== x.shape[3]) {
    throw new Error(`applyRotary: input ${formatShape(x.shape)} and tables ${formatShape(cos.shape)} do not match`);
  }
  return add(mul(x, cos), mul(rotateHalf(x), sin));
}

/** Grouped-query attention's sharing: [B, Hkv, T, dh] → [B, Hkv·groups, T, dh], each kv head repeated for its group. */
export function repeatKv(x: Tensor, groups: number): Tensor {
  if (groups === 1) return x;
  const [b, h, t, dh] = x.shape;
  return reshape(broadcastTo(reshape(x, [b, h, 1, t, dh]), [b, h, groups, t, dh]), [b, h * groups, t, dh]);
}
