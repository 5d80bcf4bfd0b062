/** Element types the engine computes in: float32 for training, float64 for gradient checks. */
export type DType = 'float32' | 'float64';
/** A flat, contiguous, row-major buffer of one dtype. */
export type Buf = Float32Array | Float64Array;
export type Shape = readonly number[];

export const UNARY_OPS = [
  'neg', 'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'abs', 'sign', 'tanh', 'sigmoid', 'relu',
  'softplus', 'logSigmoid', 'geluTanh', 'geluErf', 'erf', 'square', 'reciprocal', 'sin', 'cos',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Comparisons return 1 or 0 in the input dtype. */
export const BINARY_OPS = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

export const REDUCE_OPS = ['sum', 'max', 'min'] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

/**
 * One batched matrix product: for b in [0, batch), C[b] = op(A[b]) · op(B[b]), where op transposes when asked.
 * A[b] starts at b·aBatchStride (0 repeats one matrix across the batch), likewise B; C is contiguous [batch, m, n].
 * Stored layouts: A is [m, k] (or [k, m] when transA), B is [k, n] (or [n, k] when transB).
 */
export interface MatmulSpec {
  batch: number;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  aBatchStride: number;
  bBatchStride: number;
}

export interface LayerNormResult {
  y: Buf;
  /** Per-row mean and reciprocal standard deviation, [rows]. */
  mean: Buf;
  rstd: Buf;
}

/** Layer normalisation's gradients (dgamma, dbeta are [cols]; the caller drops what it does not need). */
export interface LayerNormGrads {
  dx: Buf;
  dgamma: Buf;
  dbeta: Buf;
}

/** Activations with a fused backward kernel (their composite vector-Jacobian products are long). */
export const UNARY_BACKWARD_OPS = ['geluTanh', 'geluErf'] as const;
export type UnaryBackwardOp = (typeof UNARY_BACKWARD_OPS)[number];

export interface SortResult {
  values: Buf;
  indices: Int32Array;
}

/**
 * The primitive kernel set every backend implements. Kernels know nothing of gradients;
 * they never mutate their inputs and always return fresh buffers of the input dtype.
 * Shapes are row-major; broadcasting follows NumPy (the caller passes the output shape).
 */
export interface Backend {
  readonly name: string;
  /** Human-readable detail, e.g. the gpu.js mode in use. */
  describe(): string;

  fill(size: number, value: number, dtype: DType): Buf;
  cast(x: Buf, dtype: DType): Buf;

  unary(op: UnaryOp, x: Buf): Buf;
  binary(op: BinaryOp, a: Buf, aShape: Shape, b: Buf, bShape: Shape, outShape: Shape): Buf;
  /** out = cond != 0 ? a : b, all three broadcast to outShape. */
  where(cond: Buf, condShape: Shape, a: Buf, aShape: Shape, b: Buf, bShape: Shape, outShape: Shape): Buf;

  /** Reduces over `axes`; the result has the kept-dims shape (reduced axes of size 1). */
  reduce(op: ReduceOp, x: Buf, shape: Shape, axes: readonly number[]): Buf;

  /** out[i] = x[offset + Σ_d i_d · strides[d]] for every index i of outShape (permute, slice, expand). */
  copyStrided(x: Buf, outShape: Shape, strides: readonly number[], offset: number): Buf;
  /** Pads each axis d with before[d] and after[d] elements of `value`. */
  pad(x: Buf, shape: Shape, before: readonly number[], after: readonly number[], value: number): Buf;
  concat(xs: readonly Buf[], shapes: readonly Shape[], axis: number): Buf;

  /** take_along_axis: indices has x's rank, out has the indices' shape. */
  gather(x: Buf, shape: Shape, axis: number, indices: Int32Array, indexShape: Shape): Buf;
  /** The adjoint of gather: zeros(shape) with src[i] added at out[..., indices[i], ...]. */
  scatterAdd(shape: Shape, axis: number, indices: Int32Array, indexShape: Shape, src: Buf): Buf;
  /** index_select: picks entries along `axis` (rows of an embedding table when axis = 0). */
  indexSelect(x: Buf, shape: Shape, axis: number, indices: Int32Array): Buf;
  /** The adjoint of indexSelect: zeros(shape) with src slices added at their indices. */
  indexAdd(shape: Shape, axis: number, indices: Int32Array, src: Buf): Buf;

  matmul(a: Buf, b: Buf, spec: MatmulSpec): Buf;

  // Fused kernels over the last axis of a [rows, cols] view.
  softmax(x: Buf, rows: number, cols: number): Buf;
  logSoftmax(x: Buf, rows: number, cols: number): Buf;
  /** gamma and beta are [cols] or null (identity). */
  layerNorm(x: Buf, rows: number, cols: number, gamma: Buf | null, beta: Buf | null, eps: number): LayerNormResult;
  /** Per-row logsumexp(logits) − logits[target]; targets < 0 are ignored and give 0. */
  crossEntropy(logits: Buf, rows: number, cols: number, targets: Int32Array): Buf;
  /**
   * Its gradient with respect to the logits for per-row output cotangents g: (softmax(row) − onehot(target))·g[row],
   * zero rows where the target is < 0. One pass, so the backward never holds more than this one [rows, cols] array.
   */
  crossEntropyBackward(logits: Buf, rows: number, cols: number, targets: Int32Array, g: Buf): Buf;
  /** Sorts each row; stable, NaN last. */
  sort(x: Buf, rows: number, cols: number, descending: boolean): SortResult;

  // Fused backward kernels (the plain backward pass; see fused.ts).
  /** The softmax's input gradient from its output y and cotangent g: y ⊙ (g − Σ_row g ⊙ y). */
  softmaxBackward(y: Buf, g: Buf, rows: number, cols: number): Buf;
  /** layerNorm's gradients from its saved per-row mean and rstd (gamma null: identity). */
  layerNormBackward(x: Buf, mean: Buf, rstd: Buf, gamma: Buf | null, g: Buf, rows: number, cols: number): LayerNormGrads;
  /** g ⊙ f′(x) for an activation of UNARY_BACKWARD_OPS. */
  unaryBackward(op: UnaryBackwardOp, x: Buf, g: Buf): Buf;
}

/** The kernels of a backend (everything but its name and description). */
export type Kernels = Omit<Backend, 'name' | 'describe'>;
export type KernelName = keyof Kernels;

/** Every kernel by name; a Record so that the compiler rejects a kernel missing here. */
const KERNEL_SET: Record<KernelName, true> = {
  fill: true, cast: true, unary: true, binary: true, where: true, reduce: true, copyStrided: true, pad: true, concat: true,
  gather: true, scatterAdd: true, indexSelect: true, indexAdd: true, matmul: true, softmax: true, logSoftmax: true,
  layerNorm: true, crossEntropy: true, crossEntropyBackward: true, sort: true, softmaxBackward: true,
  layerNormBackward: true, unaryBackward: true,
};
export const KERNEL_NAMES = Object.keys(KERNEL_SET) as readonly KernelName[];

/**
 * What a backend implements: its name, description and the kernels it speeds up. Every kernel it leaves
 * out runs the reference `cpu` kernel (see `resolveBackend` in registry.ts), as in TF.js's kernel registry.
 */
export type BackendImpl = {
  readonly name: string;
  describe(): string;
  /**
   * True for a backend whose results may still be on its device (pending placeholders, see pending.ts): the
   * reference kernels it falls back to then read their inputs back first.
   */
  readonly pendingResults?: boolean;
} & Partial<Kernels>;
