import { contiguousStrides, sizeOf } from '../shape.js';
import type { Buf, ReduceOp, Shape } from '../types.js';
import { getRuntime, outputLike } from './runtime.js';

/**
 * Movement and reductions as tight JavaScript loops over the innermost axis: the reference backend visits
 * every element through a callback, which made these kernels a third of a training step. Results are
 * bit-identical to the reference (copies are exact; reductions add in the same order, rounding to float32
 * after every step as a Float32Array store does).
 */

/** Merges adjacent axes that one set of strides walks linearly (fewer, longer inner loops). */
function mergeAxes(shape: Shape, strides: readonly number[]): { dims: number[]; steps: number[] } {
  const dims: number[] = [];
  const steps: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && steps[last] === strides[d] * shape[d]) {
      dims[last] *= shape[d];
      steps[last] = strides[d];
    } else {
      dims.push(shape[d]);
      steps.push(strides[d]);
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    steps.push(0);
  }
  return { dims, steps };
}

/**
 * Steps a row-major multi-index over the leading axes (all but the innermost run) and returns the offset moved
 * to: `idx` is updated in place; `dims[d]` and `steps[d]` are axis d's size and offset stride.
 */
function advance(idx: number[], dims: readonly number[], steps: readonly number[], offset: number): number {
  for (let d = idx.length - 1; d >= 0; d--) {
    offset += steps[d];
    if (++idx[d] < dims[d]) return offset;
    offset -= steps[d] * dims[d];
    idx[d] = 0;
  }
  return offset;
}

/** Outputs: float32 resident in WebAssembly memory, float64 fresh; every kernel here writes or fills all of it. */
const alloc = outputLike;

/**
 * Copies runs of `n` elements from x (at `from`) to out (at `to`). When both lie in WebAssembly memory it is
 * copyWithin on one view of that memory, with no subarray made per run: measured 2-2.5x faster than
 * subarray + set for the 32-float runs of attention's head permutes.
 */
function runCopier(x: Buf, out: Buf): (from: number, to: number, n: number) => void {
  if (x instanceof Float32Array && out instanceof Float32Array && x.buffer === out.buffer && getRuntime().holds(out)) {
    const memory = getRuntime().F32;
    const xAt = x.byteOffset >>> 2;
    const outAt = out.byteOffset >>> 2;
    return (from, to, n) => memory.copyWithin(outAt + to, xAt + from, xAt + from + n);
  }
  return (from, to, n) => out.set(x.subarray(from, from + n), to);
}

/** out[i] = x[offset + Σ i_d·strides[d]]: one typed-array copy (or fill) per innermost run where possible. */
export function copyStridedFast(x: Buf, outShape: Shape, strides: readonly number[], offset: number): Buf {
  const out = alloc(x, sizeOf(outShape));
  const { dims, steps } = mergeAxes(outShape, strides);
  const rank = dims.length;
  const inner = dims[rank - 1];
  const step = steps[rank - 1];
  const outer = out.length / Math.max(inner, 1);
  const idx = new Array<number>(rank - 1).fill(0);
  let base = offset;
  if (step === 1) {
    const copy = runCopier(x, out);
    for (let o = 0, at = 0; o < outer; o++, at += inner) {
      copy(base, at, inner);
      base = advance(idx, dims, steps, base);
    }
    return out;
  }
  for (let o = 0, at = 0; o < outer; o++, at += inner) {
    if (step === 0) out.fill(x[base], at, at + inner);
    else for (let j = 0; j < inner; j++) out[at + j] = x[base + j * step];
    base = advance(idx, dims, steps, base);
  }
  return out;
}

export function reduceFast(op: ReduceOp, x: Buf, shape: Shape, axes: readonly number[]): Buf {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const init = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
  const out = alloc(x, sizeOf(outShape)).fill(init);
  if (x.length === 0) return out;
  const round = x instanceof Float32Array ? Math.fround : (v: number) => v;
  // Walk the input in row-major order, as the reference does: each element goes to the output cell found
  // with the reduced axes' strides zeroed. A row is a run along the last axis; its output cells advance
  // by 1 (last axis kept) or stay put (last axis reduced: accumulate in a local).
  const outStrides = contiguousStrides(outShape).map((st, d) => (axes.includes(d) ? 0 : st));
  const rank = shape.length;
  const inner = rank === 0 ? 1 : shape[rank - 1];
  const innerKept = rank > 0 && outStrides[rank - 1] !== 0;
  const outer = x.length / inner;
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let cell = 0;
  for (let o = 0, at = 0; o < outer; o++, at += inner) {
    if (!innerKept) {
      let acc = out[cell];
      if (op === 'sum') for (let j = 0; j < inner; j++) acc = round(acc + x[at + j]);
      else if (op === 'max') for (let j = 0; j < inner; j++) { const v = x[at + j]; if (v > acc || Number.isNaN(v)) acc = v; }
      else for (let j = 0; j < inner; j++) { const v = x[at + j]; if (v < acc || Number.isNaN(v)) acc = v; }
      out[cell] = acc;
    } else if (op === 'sum') {
      for (let j = 0; j < inner; j++) out[cell + j] += x[at + j];
    } else if (op === 'max') {
      for (let j = 0; j < inner; j++) { const v = x[at + j]; if (v > out[cell + j] || Number.isNaN(v)) out[cell + j] = v; }
    } else {
      for (let j = 0; j < inner; j++) { const v = x[at + j]; if (v < out[cell + j] || Number.isNaN(v)) out[cell + j] = v; }
    }
    cell = advance(idx, shape, outStrides, cell);
  }
  return out;
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** index_select: whole slices copied with `set`. */
export function indexSelectFast(x: Buf, shape: Shape, axis: number, indices: Int32Array): Buf {
  const outer = product(shape.slice(0, axis));
  const inner = product(shape.slice(axis + 1));
  const dim = shape[axis];
  const n = indices.length;
  const out = alloc(x, outer * n * inner);
  const copy = runCopier(x, out);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) copy((o * dim + indices[j]) * inner, (o * n + j) * inner, inner);
  }
  return out;
}

/** The adjoint of index_select, adding slices in the reference's order (so sums round identically). */
export function indexAddFast(shape: Shape, axis: number, indices: Int32Array, src: Buf): Buf {
  const outer = product(shape.slice(0, axis));
  const inner = product(shape.slice(axis + 1));
  const dim = shape[axis];
  const n = indices.length;
  const out = alloc(src, sizeOf(shape)).fill(0);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) {
      const to = (o * dim + indices[j]) * inner;
      const from = (o * n + j) * inner;
      for (let k = 0; k < inner; k++) out[to + k] += src[from + k];
    }
  }
  return out;
}

/** Concatenation along `axis`: per input, one contiguous block per index of the leading axes. */
export function concatFast(xs: readonly Buf[], shapes: readonly Shape[], axis: number): Buf {
  const outer = product(shapes[0].slice(0, axis));
  const inner = product(shapes[0].slice(axis + 1));
  const total = shapes.reduce((n, s) => n + s[axis], 0);
  const out = alloc(xs[0], outer * total * inner);
  let start = 0;
  xs.forEach((x, i) => {
    const block = shapes[i][axis] * inner;
    for (let o = 0; o < outer; o++) out.set(x.subarray(o * block, (o + 1) * block), (o * total + start) * inner);
    start += shapes[i][axis];
  });
  return out;
}

/** Padding: fill with `value`, then copy each innermost row of x into place. */
export function padFast(x: Buf, shape: Shape, before: readonly number[], after: readonly number[], value: number): Buf {
  const outShape = shape.map((d, i) => d + before[i] + after[i]);
  const out = alloc(x, sizeOf(outShape)).fill(value);
  if (x.length === 0) return out;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = x[0];
    return out;
  }
  const outStrides = contiguousStrides(outShape);
  const inner = shape[rank - 1];
  const idx = new Array<number>(rank - 1).fill(0);
  let base = before.reduce((acc, b, d) => acc + b * outStrides[d], 0);
  const copy = runCopier(x, out);
  for (let at = 0; at < x.length; at += inner) {
    copy(at, base, inner);
    base = advance(idx, shape, outStrides, base);
  }
  return out;
}
