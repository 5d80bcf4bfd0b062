import { BINARY, UNARY } from './scalar.js';
import { allocLike, broadcastStrides, contiguousStrides, dtypeOf, sizeOf } from './shape.js';
import { freshAlloc, layerNormBackwardWith, softmaxBackwardWith, unaryBackwardWith } from './fused.js';
import type { Backend, BinaryOp, Buf, DType, MatmulSpec, ReduceOp, Shape, SortResult, UnaryOp } from './types.js';

/**
 * Visits every index of `shape` in row-major order, calling `f(flat, offsets)` where offsets[j] is the
 * position in operand j given that operand's strides. The simple loop the reference backend is built on.
 */
function forEachIndex(shape: Shape, operandStrides: readonly (readonly number[])[], f: (flat: number, offsets: number[]) => void): void {
  const rank = shape.length;
  const total = sizeOf(shape);
  const idx = new Array<number>(rank).fill(0);
  const offsets = operandStrides.map(() => 0);
  for (let flat = 0; flat < total; flat++) {
    f(flat, offsets);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      for (let j = 0; j < offsets.length; j++) offsets[j] += operandStrides[j][d];
      if (idx[d] < shape[d]) break;
      for (let j = 0; j < offsets.length; j++) offsets[j] -= operandStrides[j][d] * shape[d];
      idx[d] = 0;
    }
  }
}

const like = (x: Buf, size: number): Buf => allocLike(dtypeOf(x), size);

/** The reference backend: plain loops in float64 or float32, simple enough to be obviously right. */
export const cpuBackend: Backend = {
  name: 'cpu',
  describe: () => 'reference JavaScript loops',

  fill(size: number, value: number, dtype: DType): Buf {
    return allocLike(dtype, size).fill(value);
  },

  cast(x: Buf, dtype: DType): Buf {
    const out = allocLike(dtype, x.length);
    out.set(x);
    return out;
  },

  unary(op: UnaryOp, x: Buf): Buf {
    const f = UNARY[op];
    const out = like(x, x.length);
    for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
    return out;
  },

  binary(op: BinaryOp, a: Buf, aShape: Shape, b: Buf, bShape: Shape, outShape: Shape): Buf {
    const f = BINARY[op];
    const out = like(a, sizeOf(outShape));
    forEachIndex(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)], (i, o) => {
      out[i] = f(a[o[0]], b[o[1]]);
    });
    return out;
  },

  where(cond: Buf, condShape: Shape, a: Buf, aShape: Shape, b: Buf, bShape: Shape, outShape: Shape): Buf {
    const out = like(a, sizeOf(outShape));
    const strides = [condShape, aShape, bShape].map((s) => broadcastStrides(s, outShape));
    forEachIndex(outShape, strides, (i, o) => {
      out[i] = cond[o[0]] !== 0 ? a[o[1]] : b[o[2]];
    });
    return out;
  },

  reduce(op: ReduceOp, x: Buf, shape: Shape, axes: readonly number[]): Buf {
    const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const init = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
    const out = like(x, sizeOf(outShape)).fill(init);
    // Each input element lands in the output cell found by zeroing the reduced axes' strides.
    const outStrides = contiguousStrides(outShape).map((s, d) => (axes.includes(d) ? 0 : s));
    forEachIndex(shape, [outStrides], (i, o) => {
      const v = x[i];
      const acc = out[o[0]];
      out[o[0]] = op === 'sum' ? acc + v : op === 'max' ? (v > acc || Number.isNaN(v) ? v : acc) : v < acc || Number.isNaN(v) ? v : acc;
    });
    return out;
  },

  copyStrided(x: Buf, outShape: Shape, strides: readonly number[], offset: number): Buf {
    const out = like(x, sizeOf(outShape));
    forEachIndex(outShape, [strides], (i, o) => {
      out[i] = x[offset + o[0]];
    });
    return out;
  },

  pad(x: Buf, shape: Shape, before: readonly number[], after: readonly number[], value: number): Buf {
    const outShape = shape.map((d, i) => d + before[i] + after[i]);
    const out = like(x, sizeOf(outShape)).fill(value);
    const outStrides = contiguousStrides(outShape);
    const start = before.reduce((acc, b, d) => acc + b * outStrides[d], 0);
    forEachIndex(shape, [outStrides], (i, o) => {
      out[start + o[0]] = x[i];
    });
    return out;
  },

  concat(xs: readonly Buf[], shapes: readonly Shape[], axis: number): Buf {
    const outShape = shapes[0].map((d, i) => (i === axis ? shapes.reduce((acc, s) => acc + s[axis], 0) : d));
    const out = allocLike(dtypeOf(xs[0]), sizeOf(outShape));
    const outStrides = contiguousStrides(outShape);
    let start = 0;
    xs.forEach((x, j) => {
      const base = start * outStrides[axis];
      forEachIndex(shapes[j], [outStrides], (i, o) => {
        out[base + o[0]] = x[i];
      });
      start += shapes[j][axis];
    });
    return out;
  },

  gather(x: Buf, shape: Shape, axis: number, indices: Int32Array, indexShape: Shape): Buf {
    const out = like(x, sizeOf(indexShape));
    const strides = contiguousStrides(shape);
    const xStrides = strides.map((s, d) => (d === axis ? 0 : s));
    forEachIndex(indexShape, [xStrides], (i, o) => {
      out[i] = x[o[0] + indices[i] * strides[axis]];
    });
    return out;
  },

  scatterAdd(shape: Shape, axis: number, indices: Int32Array, indexShape: Shape, src: Buf): Buf {
    const out = like(src, sizeOf(shape));
    const strides = contiguousStrides(shape);
    const outStrides = strides.map((s, d) => (d === axis ? 0 : s));
    forEachIndex(indexShape, [outStrides], (i, o) => {
      out[o[0] + indices[i] * strides[axis]] += src[i];
    });
    return out;
  },

  indexSelect(x: Buf, shape: Shape, axis: number, indices: Int32Array): Buf {
    const outShape = shape.map((d, i) => (i === axis ? indices.length : d));
    const out = like(x, sizeOf(outShape));
    const strides = contiguousStrides(shape);
    const pick = contiguousStrides(shape).map((s, d) => (d === axis ? 0 : s));
    const outStrides = contiguousStrides(outShape);
    forEachIndex(outShape, [pick], (i, o) => {
      const j = Math.floor(i / outStrides[axis]) % indices.length;
      out[i] = x[o[0] + indices[j] * strides[axis]];
    });
    return out;
  },

  indexAdd(shape: Shape, axis: number, indices: Int32Array, src: Buf): Buf {
    const srcShape = shape.map((d, i) => (i === axis ? indices.length : d));
    const out = like(src, sizeOf(shape));
    const strides = contiguousStrides(shape);
    const place = strides.map((s, d) => (d === axis ? 0 : s));
    const srcStrides = contiguousStrides(srcShape);
    forEachIndex(srcShape, [place], (i, o) => {
      const j = Math.floor(i / srcStrides[axis]) % indices.length;
      out[o[0] + indices[j] * strides[axis]] += src[i];
    });
    return out;
  },

  matmul(a: Buf, b: Buf, s: MatmulSpec): Buf {
    const { batch, m, k, n } = s;
    const out = like(a, batch * m * n);
    for (let p = 0; p < batch; p++) {
      const ao = p * s.aBatchStride;
      const bo = p * s.bBatchStride;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let q = 0; q < k; q++) {
            const av = s.transA ? a[ao + q * m + i] : a[ao + i * k + q];
            const bv = s.transB ? b[bo + j * k + q] : b[bo + q * n + j];
            acc += av * bv;
          }
          out[p * m * n + i * n + j] = acc;
        }
      }
    }
    return out;
  },

  softmax(x: Buf, rows: number, cols: number): Buf {
    const out = like(x, x.length);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, x[o + c]);
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += out[o + c] = Math.exp(x[o + c] - max);
      for (let c = 0; c < cols; c++) out[o + c] /= sum;
    }
    return out;
  },

  logSoftmax(x: Buf, rows: number, cols: number): Buf {
    const out = like(x, x.length);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const lse = logSumExpRow(x, o, cols);
      for (let c = 0; c < cols; c++) out[o + c] = x[o + c] - lse;
    }
    return out;
  },

  layerNorm(x: Buf, rows: number, cols: number, gamma: Buf | null, beta: Buf | null, eps: number) {
    const y = like(x, x.length);
    const mean = like(x, rows);
    const rstd = like(x, rows);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mu = 0;
      for (let c = 0; c < cols; c++) mu += x[o + c];
      mu /= cols;
      let v = 0;
      for (let c = 0; c < cols; c++) v += (x[o + c] - mu) ** 2;
      const rs = 1 / Math.sqrt(v / cols + eps);
      mean[r] = mu;
      rstd[r] = rs;
      for (let c = 0; c < cols; c++) {
        y[o + c] = (x[o + c] - mu) * rs * (gamma ? gamma[c] : 1) + (beta ? beta[c] : 0);
      }
    }
    return { y, mean, rstd };
  },

  crossEntropy(logits: Buf, rows: number, cols: number, targets: Int32Array): Buf {
    const out = like(logits, rows);
    for (let r = 0; r < rows; r++) {
      const t = targets[r];
      out[r] = t < 0 ? 0 : logSumExpRow(logits, r * cols, cols) - logits[r * cols + t];
    }
    return out;
  },

  crossEntropyBackward(logits: Buf, rows: number, cols: number, targets: Int32Array, g: Buf): Buf {
    const out = like(logits, logits.length);
    for (let r = 0; r < rows; r++) {
      const t = targets[r];
      if (t < 0) continue;
      const o = r * cols;
      const lse = logSumExpRow(logits, o, cols);
      for (let c = 0; c < cols; c++) out[o + c] = (Math.exp(logits[o + c] - lse) - (c === t ? 1 : 0)) * g[r];
    }
    return out;
  },

  softmaxBackward: (y, g, rows, cols) => softmaxBackwardWith(freshAlloc, y, g, rows, cols),
  layerNormBackward: (x, mean, rstd, gamma, g, rows, cols) => layerNormBackwardWith(freshAlloc, x, mean, rstd, gamma, g, rows, cols),
  unaryBackward: (op, x, g) => unaryBackwardWith(freshAlloc, op, x, g),

  sort(x: Buf, rows: number, cols: number, descending: boolean): SortResult {
    const values = like(x, x.length);
    const indices = new Int32Array(x.length);
    const order = Array.from({ length: cols }, (_, i) => i);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const row = order.map((i) => i);
      row.sort((i, j) => compareForSort(x[o + i], x[o + j], descending) || i - j);
      row.forEach((src, c) => {
        values[o + c] = x[o + src];
        indices[o + c] = src;
      });
    }
    return { values, indices };
  },
};

function logSumExpRow(x: Buf, o: number, cols: number): number {
  let max = -Infinity;
  for (let c = 0; c < cols; c++) max = Math.max(max, x[o + c]);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let c = 0; c < cols; c++) sum += Math.exp(x[o + c] - max);
  return max + Math.log(sum);
}

/** Orders numbers ascending or descending with NaN always last. */
export function compareForSort(a: number, b: number, descending: boolean): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  return descending ? b - a : a - b;
}
