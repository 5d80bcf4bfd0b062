import { broadcastShapes, broadcastStrides, contiguousStrides, formatShape, getBackend, shapeEquals, sizeOf } from '@ganpo/kernels';
import { constant, record } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { normAxis } from './util.js';
import { sum } from './reduce.js';

/** Integer indices (token ids, gather positions) with a shape. They never carry gradient. */
export interface Indices {
  readonly data: Int32Array;
  readonly shape: readonly number[];
}

export function indices(data: ArrayLike<number>, shape: readonly number[] = [data.length]): Indices {
  const buf = data instanceof Int32Array ? data : Int32Array.from(data);
  if (buf.length !== sizeOf(shape)) throw new Error(`indices: ${buf.length} values do not fit shape ${formatShape(shape)}`);
  return { data: buf, shape };
}

/** Same values, new shape; one dimension may be −1. Shares the buffer (tensors are never mutated). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  if (sizeOf(resolved) !== x.size || resolved.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`reshape: cannot reshape ${formatShape(x.shape)} to ${formatShape(shape)}`);
  }
  if (shapeEquals(resolved, x.shape)) return x;
  return record('reshape', x.raw, resolved, [x], (g) => [reshape(g, x.shape)]);
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(`permute: [${perm.join(', ')}] is not a permutation of the axes of ${formatShape(x.shape)}`);
  }
  if (perm.every((p, i) => p === i)) return x;
  const strides = contiguousStrides(x.shape);
  const outShape = perm.map((p) => x.shape[p]);
  const data = getBackend().copyStrided(x.raw, outShape, perm.map((p) => strides[p]), 0);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return record('permute', data, outShape, [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  const i = normAxis('transpose', a, x.rank);
  const j = normAxis('transpose', b, x.rank);
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

/** NumPy broadcasting to `shape` (materialized); the gradient sums back. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  if (shapeEquals(x.shape, shape)) return x;
  const out = broadcastShapes('broadcastTo', x.shape, shape);
  if (!shapeEquals(out, shape)) throw new Error(`broadcastTo: ${formatShape(x.shape)} does not broadcast to ${formatShape(shape)}`);
  const data = getBackend().copyStrided(x.raw, shape, broadcastStrides(x.shape, shape), 0);
  return record('broadcastTo', data, shape, [x], (g) => {
    const lead = shape.length - x.rank;
    const axes = shape.map((_, d) => d).filter((d) => d < lead || (x.shape[d - lead] === 1 && shape[d] !== 1));
    return [reshape(sum(g, axes, true), x.shape)];
  });
}

export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis('squeeze', axis, x.rank);
  if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${axis} of ${formatShape(x.shape)} is not of size 1`);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = axis < 0 ? axis + x.rank + 1 : axis;
  if (a < 0 || a > x.rank) throw new Error(`unsqueeze: axis ${axis} out of range for rank ${x.rank}`);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** x[begin[0]:end[0], begin[1]:end[1], ...]; missing entries mean the whole axis; negatives count from the end. */
export function slice(x: Tensor, begin: readonly number[], end: readonly (number | undefined)[] = []): Tensor {
  const starts = x.shape.map((d, i) => clampIndex(begin[i] ?? 0, d));
  const stops = x.shape.map((d, i) => clampIndex(end[i] ?? d, d));
  const outShape = starts.map((s, i) => Math.max(stops[i] - s, 0));
  if (shapeEquals(outShape, x.shape)) return x;
  const strides = contiguousStrides(x.shape);
  const offset = starts.reduce((acc, s, i) => acc + s * strides[i], 0);
  const data = getBackend().copyStrided(x.raw, outShape, strides, offset);
  return record('slice', data, outShape, [x], (g) => [
    pad(g, starts, x.shape.map((d, i) => d - starts[i] - outShape[i])),
  ]);
}

const clampIndex = (i: number, d: number) => Math.min(Math.max(i < 0 ? i + d : i, 0), d);

/** Pads each axis with `before[d]` and `after[d]` copies of `value`; the gradient is the inner slice. */
export function pad(x: Tensor, before: readonly number[], after: readonly number[], value = 0): Tensor {
  const b = x.shape.map((_, i) => before[i] ?? 0);
  const a = x.shape.map((_, i) => after[i] ?? 0);
  if (b.some((v) => v < 0) || a.some((v) => v < 0)) throw new Error('pad: negative padding');
  const outShape = x.shape.map((d, i) => d + b[i] + a[i]);
  const data = getBackend().pad(x.raw, x.shape, b, a, value);
  return record('pad', data, outShape, [x], (g) => [slice(g, b, b.map((v, i) => v + x.shape[i]))]);
}

export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: no tensors');
  const ax = normAxis('concat', axis, xs[0].rank);
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.shape.some((d, i) => i !== ax && d !== xs[0].shape[i]) || t.dtype !== xs[0].dtype) {
      throw new Error(`concat: shapes ${xs.map((s) => formatShape(s.shape)).join(', ')} differ outside axis ${axis}`);
    }
  }
  if (xs.length === 1) return xs[0];
  const outShape = xs[0].shape.map((d, i) => (i === ax ? xs.reduce((n, t) => n + t.shape[ax], 0) : d));
  const data = getBackend().concat(xs.map((t) => t.raw), xs.map((t) => t.shape), ax);
  return record('concat', data, outShape, xs, (g) => {
    let start = 0;
    return xs.map((t) => {
      const begin = t.shape.map((_, i) => (i === ax ? start : 0));
      start += t.shape[ax];
      return slice(g, begin, t.shape.map((d, i) => (i === ax ? start : d)));
    });
  });
}

export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  const a = axis < 0 ? axis + xs[0].rank + 1 : axis;
  return concat(xs.map((t) => unsqueeze(t, a)), a);
}

/** Splits along `axis` into `sections` equal parts, or into parts of the given sizes. */
export function split(x: Tensor, sections: number | readonly number[], axis = 0): Tensor[] {
  const ax = normAxis('split', axis, x.rank);
  const d = x.shape[ax];
  const sizes = typeof sections === 'number' ? Array.from({ length: sections }, () => d / sections) : sections;
  if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((a, b) => a + b, 0) !== d) {
    throw new Error(`split: cannot split axis ${axis} of ${formatShape(x.shape)} into [${sizes.join(', ')}]`);
  }
  let start = 0;
  return sizes.map((s) => {
    const begin = x.shape.map((_, i) => (i === ax ? start : 0));
    start += s;
    return slice(x, begin, x.shape.map((dim, i) => (i === ax ? start : dim)));
  });
}

function checkIndices(op: string, idx: Indices, bound: number): void {
  for (let i = 0; i < idx.data.length; i++) {
    const v = idx.data[i];
    if (v < 0 || v >= bound) throw new Error(`${op}: index ${v} out of range [0, ${bound})`);
  }
}

/** take_along_axis: out[..., i, ...] = x[..., idx[..., i, ...], ...]; idx has x's rank. */
export function gather(x: Tensor, axis: number, idx: Indices): Tensor {
  const ax = normAxis('gather', axis, x.rank);
  if (idx.shape.length !== x.rank || idx.shape.some((d, i) => i !== ax && d !== x.shape[i])) {
    throw new Error(`gather: index shape ${formatShape(idx.shape)} does not match ${formatShape(x.shape)} outside axis ${axis}`);
  }
  checkIndices('gather', idx, x.shape[ax]);
  const data = getBackend().gather(x.raw, x.shape, ax, idx.data, idx.shape);
  return record('gather', data, idx.shape, [x], (g) => [scatterAdd(g, x.shape, ax, idx)]);
}

/** The adjoint of gather: zeros of `shape` with src added at the indexed positions. */
export function scatterAdd(src: Tensor, shape: readonly number[], axis: number, idx: Indices): Tensor {
  const ax = normAxis('scatterAdd', axis, shape.length);
  checkIndices('scatterAdd', idx, shape[ax]);
  const data = getBackend().scatterAdd(shape, ax, idx.data, idx.shape, src.raw);
  return record('scatterAdd', data, shape, [src], (g) => [gather(g, ax, idx)]);
}

/** index_select: slices of x along `axis` in the order of idx (a flat list). */
export function indexSelect(x: Tensor, axis: number, idx: Indices): Tensor {
  const ax = normAxis('indexSelect', axis, x.rank);
  checkIndices('indexSelect', idx, x.shape[ax]);
  const outShape = x.shape.map((d, i) => (i === ax ? idx.data.length : d));
  const data = getBackend().indexSelect(x.raw, x.shape, ax, idx.data);
  return record('indexSelect', data, outShape, [x], (g) => [indexAdd(g, x.shape, ax, idx)]);
}

/** The adjoint of indexSelect (scatter-add of whole slices). */
export function indexAdd(src: Tensor, shape: readonly number[], axis: number, idx: Indices): Tensor {
  const ax = normAxis('indexAdd', axis, shape.length);
  const data = getBackend().indexAdd(shape, ax, idx.data, src.raw);
  return record('indexAdd', data, shape, [src], (g) => [indexSelect(g, ax, idx)]);
}

/** Embedding lookup: table [V, d] and ids of any shape give [...ids.shape, d]; the backward scatter-adds rows. */
export function embedding(table: Tensor, ids: Indices): Tensor {
  if (table.rank !== 2) throw new Error(`embedding: table must be [V, d], got ${formatShape(table.shape)}`);
  const rows = indexSelect(table, 0, { data: ids.data, shape: [ids.data.length] });
  return reshape(rows, [...ids.shape, table.shape[1]]);
}

/** Sorts along `axis`; values are differentiable (a gather of x), indices are plain integers. */
export function sort(x: Tensor, axis = -1, descending = false): { values: Tensor; indices: Indices } {
  const ax = normAxis('sort', axis, x.rank);
  const last = x.rank - 1;
  if (ax !== last) {
    const perm = Array.from({ length: x.rank }, (_, i) => i);
    [perm[ax], perm[last]] = [perm[last], perm[ax]];
    const inner = sort(permute(x, perm), -1, descending);
    const idxT = constant(Float64Array.from(inner.indices.data), inner.indices.shape);
    const back = permute(idxT, perm);
    return { values: permute(inner.values, perm), indices: indices(Int32Array.from(back.data), back.shape) };
  }
  const cols = x.shape[last] ?? 1;
  const rows = x.size / Math.max(cols, 1);
  const { indices: order } = getBackend().sort(x.raw, rows, cols, descending);
  const idx = indices(order, x.shape);
  return { values: gather(x, last, idx), indices: idx };
}

