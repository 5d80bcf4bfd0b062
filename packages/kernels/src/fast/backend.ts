import { cpuBackend } from '../cpu.js';
import { sizeOf } from '../shape.js';
import type { Backend, BinaryOp, Buf, LayerNormResult, MatmulSpec, Shape, UnaryOp } from '../types.js';
import { WASM_OPCODES } from './kernels.wasm.generated.js';
import { binary32, collapse, type Collapsed, unary32js } from './elementwise.js';
import { matmul32, matmulBytes } from './matmul.js';
import { fastThreads, runSplit } from './pool.js';
import { concatFast, copyStridedFast, indexAddFast, indexSelectFast, padFast, reduceFast } from './strided.js';
import { getRuntime, outputF32, outputLike, runtimeAvailable, runtimeUnavailableReason } from './runtime.js';
import { resolveBackend } from '../registry.js';
import { geluTanhArg, geluTanhSlope, layerNormBackwardWith, softmaxBackwardWith, unaryBackwardWith } from '../fused.js';

/** Elements below which the row and element-wise kernels stay on the main thread (see bench/threshold.mjs). */
let elementwiseParallelMin = 1 << 15;

/** Sets the element count from which softmax, layerNorm, exp, ... are split over the pool; returns the old one. */
export function setElementwiseParallelThreshold(elements: number): number {
  const old = elementwiseParallelMin;
  elementwiseParallelMin = Math.max(0, elements);
  return old;
}

/** An op's code is its index in wasm/opcodes.json, the definition kernels.wat is assembled from. */
const codes = <Op extends string>(ops: readonly string[]): Partial<Record<Op, number>> =>
  Object.fromEntries(ops.map((op, code) => [op, code])) as Partial<Record<Op, number>>;

/** Binary ops the WebAssembly `binary` export computes (its op codes); pow stays in JavaScript. */
const WASM_BINARY = codes<BinaryOp>(WASM_OPCODES.binary);

/** Whether binary ops of rank <= 2 after collapsing run in WebAssembly (else all in JavaScript). */
let binaryInWasm = true;
export function setBinaryInWasm(on: boolean): boolean {
  const old = binaryInWasm;
  binaryInWasm = on;
  return old;
}

/**
 * The `binary` export on a collapsed space of rank 1 or 2 whose inner strides are 1 or 0 (a vector or a
 * repeated scalar per row); null when the space has another form (the JavaScript loops take it).
 */
function binaryWasm(code: number, a: Float32Array, b: Float32Array, c: Collapsed, size: number): Float32Array | null {
  const rank = c.dims.length;
  if (rank > 2) return null;
  const cols = c.dims[rank - 1];
  const rows = rank === 2 ? c.dims[0] : 1;
  const ai = c.as[rank - 1];
  const bi = c.bs[rank - 1];
  if ((ai !== 0 && ai !== 1) || (bi !== 0 && bi !== 1)) return null;
  const aRow = rank === 2 ? c.as[0] * 4 : 0;
  const bRow = rank === 2 ? c.bs[0] * 4 : 0;
  const rt = getRuntime();
  rt.reset();
  const A = rt.put(a);
  const B = rt.put(b);
  const O = rt.output(size * 4);
  const parallel = size >= elementwiseParallelMin;
  if (rows === 1) {
    // one long row: chunks of its elements, in whole vectors
    runSplit(rt, 'binary_flat', [code, A, ai ^ 1, B, bi ^ 1, O], cols, { parallel, align: 1024 });
  } else {
    runSplit(rt, 'binary', [code, A, aRow, ai ^ 1, B, bRow, bi ^ 1, O, cols], rows, { parallel, align: 1, minChunk: Math.ceil(1024 / cols) });
  }
  return rt.take(O, size);
}

/** Unary ops computed by the WebAssembly SIMD kernels (op code of the `unary` export). */
const WASM_UNARY = codes<UnaryOp>(WASM_OPCODES.unary);
/**
 * Below this many elements the JavaScript loops win over the copies into WebAssembly memory. Only for ops
 * whose JavaScript and WebAssembly results are identical (the exact ones: every wasm binary op, relu, neg,
 * abs, square, sqrt, reciprocal, sign): an element's result must not depend on the size of the array it
 * comes in (a model's cached one-token step must give what its full forward gives), so exp, sigmoid, tanh
 * and geluTanh always take the WebAssembly approximations.
 */
const WASM_MIN_ELEMENTS = 128;
const APPROXIMATE: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['exp', 'sigmoid', 'tanh', 'geluTanh']);

const isF32 = (x: Buf): x is Float32Array => x instanceof Float32Array;

/** Whether the runtime could take `bytes` more; beyond 2 GiB the reference backend runs instead. */
function fits(bytes: number): boolean {
  if (!runtimeAvailable()) return false;
  const rt = getRuntime();
  rt.reset();
  return rt.fits(bytes + 4096);
}

/** Row kernels: chunks of whole rows, at least ~1024 elements each. */
const rowSplit = (rows: number, cols: number) => ({
  parallel: rows * cols >= elementwiseParallelMin,
  align: 1,
  minChunk: Math.ceil(1024 / cols),
});

function unaryWasm(code: number, x: Float32Array): Float32Array {
  const rt = getRuntime();
  rt.reset();
  const at = rt.put(x);
  const out = rt.output(x.length * 4);
  // spans in multiples of the kernel's 1024-element blocks; each thread uses its own scratch as `tmp`
  runSplit(rt, 'unary', [code, at, out], x.length, { parallel: x.length >= elementwiseParallelMin, align: 1024 });
  return rt.take(out, x.length);
}

function rowsKernel(x: Float32Array, rows: number, cols: number, which: 'softmax' | 'log_softmax'): Float32Array {
  const rt = getRuntime();
  rt.reset();
  const at = rt.put(x.length === rows * cols ? x : x.subarray(0, rows * cols));
  const out = rt.output(rows * cols * 4);
  runSplit(rt, which, [at, out, cols], rows, rowSplit(rows, cols));
  return rt.take(out, rows * cols);
}

/**
 * g ⊙ gelu′(x) (tanh approximation) in three passes: u = geluTanhArg(x), t = tanh(u) by the WebAssembly SIMD
 * kernel (the one the forward uses; JavaScript's Math.tanh per element was 10 % of the GANPO step), then
 * geluTanhSlope. Within float32 rounding of the reference kernel, not bit-identical.
 */
function geluTanhBackward32(x: Float32Array, g: Float32Array): Float32Array {
  const n = x.length;
  const u = outputF32(n);
  for (let i = 0; i < n; i++) u[i] = geluTanhArg(x[i]);
  const t = unaryWasm(WASM_UNARY.tanh!, u);
  const dx = outputF32(n);
  for (let i = 0; i < n; i++) dx[i] = g[i] * geluTanhSlope(x[i], t[i]);
  return dx;
}

/** Out-of-range targets are a caller's bug; the reference backend gives them its NaN. */
function targetsInRange(t: Int32Array, rows: number, cols: number): boolean {
  if (t.length < rows) return false;
  for (let r = 0; r < rows; r++) if (t[r] >= cols) return false;
  return true;
}

/**
 * The fast float32 CPU backend: WebAssembly SIMD kernels (matmul, softmax, logSoftmax, layerNorm,
 * crossEntropy, the common unary ops, broadcasting binary ops), large calls shared with a worker pool, and
 * specialised JavaScript loops for the other element-wise cases, all with float32 outputs resident in WebAssembly
 * memory. Float64 buffers go to the reference `cpu` backend unchanged, so gradient checks in float64 are exactly
 * the reference path; kernels it does not implement (fill, cast, where, gather, scatterAdd, sort) are the
 * reference ones through `resolveBackend`.
 */
export const fastBackend: Backend = resolveBackend({
  name: 'fast',
  describe: () =>
    runtimeUnavailableReason() === null
      ? `WebAssembly SIMD float32 kernels on ${fastThreads()} thread(s); float64 and the other kernels on the reference cpu backend`
      : `reference cpu kernels (WebAssembly SIMD unavailable: ${runtimeUnavailableReason()})`,

  unary(op: UnaryOp, x: Buf): Buf {
    if (!isF32(x)) return cpuBackend.unary(op, x);
    const code = WASM_UNARY[op];
    if (code !== undefined && (x.length >= WASM_MIN_ELEMENTS || APPROXIMATE.has(op)) && x.length > 0 && fits(x.length * 4)) return unaryWasm(code, x);
    return unary32js(op, x);
  },

  binary(op: BinaryOp, a: Buf, aShape: Shape, b: Buf, bShape: Shape, outShape: Shape): Buf {
    if (!isF32(a) || !isF32(b)) return cpuBackend.binary(op, a, aShape, b, bShape, outShape);
    const c = collapse(aShape, bShape, outShape);
    const size = sizeOf(outShape);
    const code = WASM_BINARY[op];
    if (binaryInWasm && code !== undefined && size >= WASM_MIN_ELEMENTS && fits((a.length + b.length + size) * 4 + 256)) {
      const out = binaryWasm(code, a, b, c, size);
      if (out) return out;
    }
    return binary32(op, a, b, outShape, c);
  },

  reduce: (op, x, shape, axes) => (isF32(x) ? reduceFast(op, x, shape, axes) : cpuBackend.reduce(op, x, shape, axes)),
  copyStrided: (x, outShape, strides, offset) =>
    isF32(x) ? copyStridedFast(x, outShape, strides, offset) : cpuBackend.copyStrided(x, outShape, strides, offset),
  pad: (x, shape, before, after, value) => (isF32(x) ? padFast(x, shape, before, after, value) : cpuBackend.pad(x, shape, before, after, value)),
  concat: (xs, shapes, axis) => (xs.every(isF32) ? concatFast(xs, shapes, axis) : cpuBackend.concat(xs, shapes, axis)),
  indexSelect: (x, shape, axis, indices) => (isF32(x) ? indexSelectFast(x, shape, axis, indices) : cpuBackend.indexSelect(x, shape, axis, indices)),
  indexAdd: (shape, axis, indices, src) => (isF32(src) ? indexAddFast(shape, axis, indices, src) : cpuBackend.indexAdd(shape, axis, indices, src)),

  matmul(a: Buf, b: Buf, spec: MatmulSpec): Buf {
    if (!isF32(a) || !isF32(b) || !fits(matmulBytes(a.length, b.length, spec))) return cpuBackend.matmul(a, b, spec);
    return matmul32(a, b, spec);
  },

  softmax(x: Buf, rows: number, cols: number): Buf {
    if (!isF32(x) || rows * cols === 0 || !fits(rows * cols * 4)) return cpuBackend.softmax(x, rows, cols);
    return rowsKernel(x, rows, cols, 'softmax');
  },

  logSoftmax(x: Buf, rows: number, cols: number): Buf {
    if (!isF32(x) || rows * cols === 0 || !fits(rows * cols * 4)) return cpuBackend.logSoftmax(x, rows, cols);
    return rowsKernel(x, rows, cols, 'log_softmax');
  },

  layerNorm(x: Buf, rows: number, cols: number, gamma: Buf | null, beta: Buf | null, eps: number): LayerNormResult {
    if (!isF32(x) || (gamma && !isF32(gamma)) || (beta && !isF32(beta)) || rows * cols === 0 || !fits((rows * cols + 2 * rows + 2 * cols) * 4)) {
      return cpuBackend.layerNorm(x, rows, cols, gamma, beta, eps);
    }
    const rt = getRuntime();
    rt.reset();
    const X = rt.put(x.length === rows * cols ? x : x.subarray(0, rows * cols));
    const G = gamma ? rt.put(gamma) : 0;
    const B = beta ? rt.put(beta) : 0;
    const Y = rt.output(rows * cols * 4);
    const mean = rt.output(rows * 4);
    const rstd = rt.output(rows * 4);
    const epsAt = rt.alloc(8);
    new Float64Array(rt.memory.buffer, epsAt, 1)[0] = eps;
    runSplit(rt, 'layer_norm', [X, Y, mean, rstd, cols, G, B, epsAt], rows, rowSplit(rows, cols));
    return { y: rt.take(Y, rows * cols), mean: rt.take(mean, rows), rstd: rt.take(rstd, rows) };
  },

  /** The wasm softmax, then one JavaScript pass over the fresh result: subtract the target, scale by g. */
  crossEntropyBackward(logits: Buf, rows: number, cols: number, targets: Int32Array, g: Buf): Buf {
    if (!isF32(logits) || !isF32(g)) return cpuBackend.crossEntropyBackward(logits, rows, cols, targets, g);
    const p = fastBackend.softmax(logits, rows, cols);
    for (let r = 0; r < rows; r++) {
      const t = targets[r];
      const o = r * cols;
      if (t < 0) {
        p.fill(0, o, o + cols);
        continue;
      }
      p[o + t] -= 1;
      const scale = g[r];
      for (let c = 0; c < cols; c++) p[o + c] *= scale;
    }
    return p;
  },

  crossEntropy(logits: Buf, rows: number, cols: number, targets: Int32Array): Buf {
    if (!isF32(logits) || rows === 0 || cols === 0 || !targetsInRange(targets, rows, cols) || !fits((rows * cols + 2 * rows) * 4)) {
      return cpuBackend.crossEntropy(logits, rows, cols, targets);
    }
    const rt = getRuntime();
    rt.reset();
    const X = rt.put(logits.length === rows * cols ? logits : logits.subarray(0, rows * cols));
    const T = rt.put(targets.length === rows ? targets : targets.subarray(0, rows), 'i32');
    const out = rt.output(rows * 4);
    runSplit(rt, 'cross_entropy', [X, T, out, cols], rows, rowSplit(rows, cols));
    return rt.take(out, rows);
  },

  // The fused backward kernels: the reference loops, with float32 outputs resident in WebAssembly memory.
  softmaxBackward: (y, g, rows, cols) => softmaxBackwardWith(outputLike, y, g, rows, cols),
  layerNormBackward: (x, mean, rstd, gamma, g, rows, cols) => layerNormBackwardWith(outputLike, x, mean, rstd, gamma, g, rows, cols),
  unaryBackward(op, x, g) {
    if (op !== 'geluTanh' || !isF32(x) || !isF32(g) || x.length < WASM_MIN_ELEMENTS || !fits(x.length * 12)) return unaryBackwardWith(outputLike, op, x, g);
    return geluTanhBackward32(x, g);
  },
});
