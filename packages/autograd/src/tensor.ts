import { allocLike, dtypeOf, formatShape, materialize, sizeOf } from '@ganpo/kernels';
import type { Buf, DType, Shape } from '@ganpo/kernels';
import { backward, type Node } from './engine.js';
import * as E from './ops/elementwise.js';
import * as L from './ops/linalg.js';
import * as M from './ops/movement.js';
import * as N from './ops/nn.js';
import * as R from './ops/reduce.js';

export type TensorLike = Tensor | number;

/**
 * The brand every Tensor carries: a registered symbol, the same in the ESM and CJS builds of this package (a
 * class identity is not), so `isTensor` and `instanceof Tensor` accept a tensor made by either build.
 */
export const TENSOR_BRAND: unique symbol = Symbol.for('@ganpo/autograd/Tensor') as never;

/** True for a Tensor from any build of this package (ESM or CJS, or another copy in node_modules). */
export const isTensor = (value: unknown): value is Tensor =>
  typeof value === 'object' && value !== null && (value as { [TENSOR_BRAND]?: unknown })[TENSOR_BRAND] === true;
type Axes = number | readonly number[];

/**
 * An n-dimensional array of float32 or float64 with an optional gradient.
 * Tensors are values: ops never mutate their inputs. The buffer of a parameter is replaced
 * (not written into) by optimizers through `assign`, so views taken earlier keep their values.
 */
export class Tensor {
  /** See {@link TENSOR_BRAND} (set once on the prototype: no per-tensor cost). */
  declare readonly [TENSOR_BRAND]: true;
  /** `x instanceof Tensor` checks the brand, so it holds across builds (see {@link isTensor}). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return isTensor(value);
  }
  /** The buffer as the backend returned it: on a device backend its values may still be pending on the device. */
  private buffer: Buf;
  readonly shape: readonly number[];
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /** How this tensor was computed; null for leaves and constants. */
  readonly node: Node | null;
  /** Optional name (parameters get their state-dict path). */
  name?: string;

  constructor(data: Buf, shape: Shape, node: Node | null) {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`Tensor: buffer of ${data.length} elements does not fit shape ${formatShape(shape)}`);
    }
    this.buffer = data;
    this.shape = Object.freeze([...shape]);
    this.node = node;
    this.requiresGrad = node !== null;
  }

  static zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
    return new Tensor(allocLike(dtype, sizeOf(shape)), shape, null);
  }

  static ones(shape: Shape, dtype: DType = 'float32'): Tensor {
    return new Tensor(allocLike(dtype, sizeOf(shape)).fill(1), shape, null);
  }

  /**
   * The values, readable on the CPU: a result a device backend still holds (gpu.js keeps outputs as textures)
   * is read back first, once (see `materialize` in @ganpo/kernels).
   */
  get data(): Buf {
    return materialize(this.buffer);
  }
  set data(values: Buf) {
    this.buffer = values;
  }
  /** The buffer without reading it back: for handing to backend kernels, which take device results as they are. */
  get raw(): Buf {
    return this.buffer;
  }

  get dtype(): DType {
    return dtypeOf(this.buffer);
  }
  get size(): number {
    return this.buffer.length;
  }
  get rank(): number {
    return this.shape.length;
  }
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** The same values, cut from the tape. */
  detach(): Tensor {
    return new Tensor(this.buffer, this.shape, null);
  }

  /** Marks a leaf as a differentiable input (a parameter). */
  requireGrad(flag = true): this {
    if (this.node) throw new Error('requireGrad: only leaf tensors can be marked; use detach() first');
    this.requiresGrad = flag;
    return this;
  }

  /** Replaces the values of a leaf (optimizer updates, loading weights); shape and dtype must match. */
  assign(values: Buf | Tensor): this {
    const data = values instanceof Tensor ? values.raw : values;
    if (data.length !== this.size) throw new Error(`assign: ${data.length} values for shape ${formatShape(this.shape)}`);
    if (dtypeOf(data) === this.dtype) {
      this.buffer = data;
    } else {
      const host = materialize(data);
      this.buffer = allocLike(this.dtype, data.length).map((_, i) => host[i]) as Buf;
    }
    return this;
  }

  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${formatShape(this.shape)} has ${this.size} elements`);
    return this.data[0];
  }

  /** Values as a flat array of numbers. */
  toFlat(): number[] {
    return Array.from(this.data);
  }

  /** Values as nested arrays (a number for a scalar). */
  toArray(): NestedNumbers {
    const data = this.data;
    const build = (offset: number, dim: number): NestedNumbers => {
      if (dim === this.shape.length) return data[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(offset + i * stride, dim + 1));
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  backward(seed?: Tensor, options?: { createGraph?: boolean }): void {
    backward(this, seed, options);
  }

  // Chainable forms of the ops (each documented where it is defined).
  add(o: TensorLike) { return E.add(this, o); }
  sub(o: TensorLike) { return E.sub(this, o); }
  mul(o: TensorLike) { return E.mul(this, o); }
  div(o: TensorLike) { return E.div(this, o); }
  pow(o: TensorLike) { return E.pow(this, o); }
  maximum(o: TensorLike) { return E.maximum(this, o); }
  minimum(o: TensorLike) { return E.minimum(this, o); }
  neg() { return E.neg(this); }
  exp() { return E.exp(this); }
  log() { return E.log(this); }
  log1p() { return E.log1p(this); }
  sqrt() { return E.sqrt(this); }
  rsqrt() { return E.rsqrt(this); }
  abs() { return E.abs(this); }
  square() { return E.square(this); }
  tanh() { return E.tanh(this); }
  sigmoid() { return E.sigmoid(this); }
  relu() { return E.relu(this); }
  gelu(approximate: 'tanh' | 'none' = 'tanh') { return E.gelu(this, approximate); }
  softplus() { return E.softplus(this); }
  logSigmoid() { return E.logSigmoid(this); }
  clamp(min: number, max: number) { return E.clamp(this, min, max); }
  eq(o: TensorLike) { return E.eq(this, o); }
  ne(o: TensorLike) { return E.ne(this, o); }
  lt(o: TensorLike) { return E.lt(this, o); }
  le(o: TensorLike) { return E.le(this, o); }
  gt(o: TensorLike) { return E.gt(this, o); }
  ge(o: TensorLike) { return E.ge(this, o); }
  sum(axes?: Axes, keepDims = false) { return R.sum(this, axes, keepDims); }
  mean(axes?: Axes, keepDims = false) { return R.mean(this, axes, keepDims); }
  max(axes?: Axes, keepDims = false) { return R.max(this, axes, keepDims); }
  min(axes?: Axes, keepDims = false) { return R.min(this, axes, keepDims); }
  logSumExp(axes?: Axes, keepDims = false) { return R.logSumExp(this, axes, keepDims); }
  variance(axes?: Axes, keepDims = false, correction = 0) { return R.variance(this, axes, keepDims, correction); }
  reshape(shape: readonly number[]) { return M.reshape(this, shape); }
  flatten() { return M.reshape(this, [this.size]); }
  permute(perm: readonly number[]) { return M.permute(this, perm); }
  transpose(a = -2, b = -1) { return M.transpose(this, a, b); }
  broadcastTo(shape: readonly number[]) { return M.broadcastTo(this, shape); }
  expand(shape: readonly number[]) { return M.broadcastTo(this, shape); }
  squeeze(axis?: number) { return M.squeeze(this, axis); }
  unsqueeze(axis: number) { return M.unsqueeze(this, axis); }
  slice(begin: readonly number[], end?: readonly (number | undefined)[]) { return M.slice(this, begin, end); }
  matmul(o: Tensor) { return L.matmul(this, o); }
  softmax(axis = -1) { return N.softmax(this, axis); }
  logSoftmax(axis = -1) { return N.logSoftmax(this, axis); }
  cast(dtype: DType) { return E.cast(this, dtype); }
}

Object.defineProperty(Tensor.prototype, TENSOR_BRAND, { value: true });

export type NestedNumbers = number | NestedNumbers[];
