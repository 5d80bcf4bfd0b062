import { allocLike, formatShape, getBackend } from '@ganpo/kernels';
import type { DType } from '@ganpo/kernels';
import { constant, isGradEnabled, record } from '../engine.js';
import type { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { add, mul, rsqrt, sub, where } from './elementwise.js';
import { type Indices, reshape, transpose } from './movement.js';
import { mean, sum } from './reduce.js';
import { normAxis } from './util.js';

// Fused kernels in the forward pass; vector-Jacobian products written with differentiable ops,
// so that gradients of gradients (R1 penalties, gradgradcheck) come for free.

/** Applies a last-axis kernel along any axis by moving that axis last and back. */
function alongAxis(x: Tensor, axis: number, op: string, f: (x: Tensor) => Tensor): Tensor {
  const a = normAxis(op, axis, x.rank);
  if (a === x.rank - 1) return f(x);
  return transpose(f(transpose(x, a, -1)), a, -1);
}

const rowsCols = (x: Tensor): [number, number] => {
  const cols = x.shape[x.rank - 1];
  return [x.size / cols, cols];
};

export function softmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(x, axis, 'softmax', (v) => {
    const [rows, cols] = rowsCols(v);
    return record('softmax', getBackend().softmax(v.raw, rows, cols), v.shape, [v], (g, y) => [
      // A plain backward uses the fused kernel (one pass, one array); a recorded one the differentiable ops.
      isGradEnabled() ? mul(y, sub(g, sum(mul(g, y), -1, true))) : constant(getBackend().softmaxBackward(y.raw, g.raw, rows, cols), v.shape),
    ]);
  });
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(x, axis, 'logSoftmax', (v) => {
    const [rows, cols] = rowsCols(v);
    return record('logSoftmax', getBackend().logSoftmax(v.raw, rows, cols), v.shape, [v], (g) => [
      sub(g, mul(softmax(v), sum(g, -1, true))),
    ]);
  });
}

/**
 * Layer normalization over the last axis: (x − mean)/√(var + eps)·gamma + beta (gamma, beta optional, [d]).
 * The backward uses the kernel's saved statistics, or recomputes them with ops when the graph is recorded.
 */
export function layerNorm(x: Tensor, gamma: Tensor | null = null, beta: Tensor | null = null, eps = 1e-5): Tensor {
  const d = x.shape[x.rank - 1];
  for (const p of [gamma, beta]) {
    if (p && (p.rank !== 1 || p.shape[0] !== d)) throw new Error(`layerNorm: parameter ${formatShape(p.shape)} does not match input ${formatShape(x.shape)}`);
  }
  const rows = x.size / d;
  const res = getBackend().layerNorm(x.raw, rows, d, gamma?.raw ?? null, beta?.raw ?? null, eps);
  const inputs = [x, gamma, beta].filter((t): t is Tensor => t !== null);
  const statShape = [...x.shape.slice(0, -1), 1];
  return record('layerNorm', res.y, x.shape, inputs, (g) => {
    const recompute = isGradEnabled();
    if (!recompute) {
      // A plain backward: one fused kernel from the saved statistics instead of a dozen element-wise ops.
      const k = getBackend().layerNormBackward(x.raw, res.mean, res.rstd, gamma?.raw ?? null, g.raw, rows, d);
      const plain: (Tensor | null)[] = [x.requiresGrad ? constant(k.dx, x.shape) : null];
      if (gamma) plain.push(constant(k.dgamma, gamma.shape));
      if (beta) plain.push(constant(k.dbeta, beta.shape));
      return plain;
    }
    const mu = recompute ? mean(x, -1, true) : constant(res.mean, statShape);
    const centred = sub(x, mu);
    const rstd = recompute ? rsqrt(add(mean(mul(centred, centred), -1, true), eps)) : constant(res.rstd, statShape);
    const xhat = mul(centred, rstd);
    const dxhat = gamma ? mul(g, gamma) : g;
    const dx = x.requiresGrad
      ? mul(rstd, sub(sub(dxhat, mean(dxhat, -1, true)), mul(xhat, mean(mul(dxhat, xhat), -1, true))))
      : null;
    const lead = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const grads: (Tensor | null)[] = [dx];
    if (gamma) grads.push(sum(mul(g, xhat), lead));
    if (beta) grads.push(sum(g, lead));
    return grads;
  });
}

/**
 * Cross-entropy of logits [..., V] against integer targets [...] (targets < 0 are ignored and give 0):
 * per-position losses logsumexp(z) − z[target], without materializing the log-softmax.
 */
export function crossEntropy(logits: Tensor, targets: Indices): Tensor {
  const v = logits.shape[logits.rank - 1];
  const lead = logits.shape.slice(0, -1);
  if (targets.data.length * v !== logits.size) {
    throw new Error(`crossEntropy: targets ${formatShape(targets.shape)} do not match logits ${formatShape(logits.shape)}`);
  }
  for (const t of targets.data) if (t >= v) throw new Error(`crossEntropy: target ${t} out of range [0, ${v})`);
  const rows = targets.data.length;
  const data = getBackend().crossEntropy(logits.raw, rows, v, targets.data);
  return record('crossEntropy', data, lead, [logits], (g) => {
    // A plain backward uses the fused kernel: one [rows, V] array instead of softmax, one-hot and two products.
    if (!isGradEnabled()) {
      return [constant(getBackend().crossEntropyBackward(logits.raw, rows, v, targets.data, g.raw), logits.shape)];
    }
    // Recorded (create-graph) backward: the same gradient composed of differentiable ops.
    const active = constant(activeMask(targets, logits.dtype), [...lead, 1]);
    const target = oneHot(targets, v, logits.dtype);
    return [mul(mul(sub(softmax(logits), target), reshape(g, [...lead, 1])), active)];
  });
}

function activeMask(targets: Indices, dtype: DType) {
  const m = allocLike(dtype, targets.data.length);
  targets.data.forEach((t, i) => (m[i] = t < 0 ? 0 : 1));
  return m;
}

/** One-hot rows of width n (negative indices give all-zero rows); a constant. */
export function oneHot(idx: Indices, n: number, dtype: DType = 'float32'): Tensor {
  const out = allocLike(dtype, idx.data.length * n);
  idx.data.forEach((t, i) => {
    if (t >= n) throw new Error(`oneHot: index ${t} out of range [0, ${n})`);
    if (t >= 0) out[i * n + t] = 1;
  });
  return constant(out, [...idx.shape, n]);
}

/** Inverted dropout with an explicit generator; identity when not training or p = 0. */
export function dropout(x: Tensor, p: number, rng: Rng, training = true): Tensor {
  if (p < 0 || p >= 1) throw new Error(`dropout: p = ${p} must be in [0, 1)`);
  if (!training || p === 0) return x;
  const keep = allocLike(x.dtype, x.size);
  const scale = 1 / (1 - p);
  for (let i = 0; i < keep.length; i++) keep[i] = rng.uniform() >= p ? scale : 0;
  return mul(x, constant(keep, x.shape));
}

/** Replaces entries where mask != 0 by `value` (e.g. −∞ before a softmax); no gradient flows to them. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}
