import { broadcastShapes, formatShape, getBackend, sizeOf } from '@ganpo/kernels';
import { record } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { broadcastTo, reshape, squeeze, unsqueeze } from './movement.js';
import { sum } from './reduce.js';

/**
 * The one matmul op the engine differentiates: a and b are [batch or 1, rows, cols] (or 2-D),
 * each optionally read transposed, so no transposed copy is ever made, forward or backward.
 */
export function bmm(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  if (a.dtype !== b.dtype) throw new Error(`matmul: dtype mismatch ${a.dtype} vs ${b.dtype}`);
  const a3 = a.rank === 2 ? [1, ...a.shape] : a.shape;
  const b3 = b.rank === 2 ? [1, ...b.shape] : b.shape;
  const [ba, ra, ca] = a3;
  const [bb, rb, cb] = b3;
  const m = transA ? ca : ra;
  const k = transA ? ra : ca;
  const kb = transB ? cb : rb;
  const n = transB ? rb : cb;
  if (k !== kb || (ba !== bb && ba !== 1 && bb !== 1)) {
    throw new Error(`matmul: shapes ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} and ${formatShape(b.shape)}${transB ? 'ᵀ' : ''} do not match`);
  }
  const batch = Math.max(ba, bb);
  const data = getBackend().matmul(a.raw, b.raw, {
    batch, m, k, n, transA, transB,
    aBatchStride: ba === 1 ? 0 : ra * ca,
    bBatchStride: bb === 1 ? 0 : rb * cb,
  });
  const outShape = a.rank === 2 && b.rank === 2 ? [m, n] : [batch, m, n];
  return record('matmul', data, outShape, [a, b], (g) => {
    // C = op(A)·op(B): d op(A) = dC·op(B)ᵀ and d op(B) = op(A)ᵀ·dC, each transposed back where stored transposed.
    const ga = a.requiresGrad ? (transA ? bmm(b, g, transB, true) : bmm(g, b, false, !transB)) : null;
    const gb = b.requiresGrad ? (transB ? bmm(g, a, true, transA) : bmm(a, g, !transA, false)) : null;
    return [ga && fold(ga, a.shape), gb && fold(gb, b.shape)];
  });
}

/** A gradient computed per batch entry for an operand that was broadcast over the batch is summed back. */
function fold(g: Tensor, shape: readonly number[]): Tensor {
  if (g.size === sizeOf(shape)) return reshape(g, shape);
  return reshape(sum(g, 0), shape);
}

/**
 * NumPy matmul: 1-D operands are promoted (and the added axis removed), leading dimensions broadcast.
 * [..., m, k] · [k, n] folds the leading dimensions into m, the common case for linear layers.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 0 || b.rank === 0) throw new Error(`matmul: scalar operand ${formatShape(a.shape)} · ${formatShape(b.shape)}`);
  if (a.rank === 1 && b.rank === 1) return reshape(matmul(reshape(a, [1, a.size]), reshape(b, [b.size, 1])), []);
  if (a.rank === 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.rank === 1) return squeeze(matmul(a, unsqueeze(b, -1)), -1);
  const [m, k] = a.shape.slice(-2);
  const [kb, n] = b.shape.slice(-2);
  if (k !== kb) throw new Error(`matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not match (${k} vs ${kb})`);
  if (b.rank === 2) {
    const lead = a.shape.slice(0, -2);
    return reshape(bmm(reshape(a, [sizeOf(lead) * m, k]), b), [...lead, m, n]);
  }
  const batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(batchShape);
  const as3 = toBatch(a, batchShape, batch);
  const bs3 = toBatch(b, batchShape, batch);
  return reshape(bmm(as3, bs3), [...batchShape, m, n]);
}

/** [..., r, c] as [batch, r, c], or [1, r, c] when it has no batch of its own (read with stride 0). */
function toBatch(x: Tensor, batchShape: readonly number[], batch: number): Tensor {
  const [r, c] = x.shape.slice(-2);
  const own = sizeOf(x.shape.slice(0, -2));
  if (own === 1) return reshape(x, [1, r, c]);
  if (own === batch) return reshape(x, [batch, r, c]);
  return reshape(broadcastTo(x, [...batchShape, r, c]), [batch, r, c]);
}
