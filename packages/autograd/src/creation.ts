import { allocLike, formatShape, sizeOf } from '@ganpo/kernels';
import type { DType } from '@ganpo/kernels';
import type { Rng } from './rng.js';
import { type NestedNumbers, Tensor } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

function make(data: Float32Array | Float64Array, shape: readonly number[], options: CreateOptions): Tensor {
  const t = new Tensor(data, shape, null);
  if (options.requiresGrad) t.requireGrad();
  return t;
}

function inferShape(value: NestedNumbers): number[] {
  const shape: number[] = [];
  let v: NestedNumbers = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

/**
 * A tensor from a number, nested arrays, or a flat array/typed array with an explicit shape.
 * float32 unless a dtype is given (a Float64Array defaults to float64).
 */
export function tensor(
  values: NestedNumbers | ArrayLike<number>,
  options: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  const dtype = options.dtype ?? (values instanceof Float64Array ? 'float64' : 'float32');
  let flat: ArrayLike<number>;
  let shape: readonly number[];
  if (typeof values === 'number') {
    flat = [values];
    shape = options.shape ?? [];
  } else if (ArrayBuffer.isView(values) || (Array.isArray(values) && !values.some(Array.isArray))) {
    flat = values as ArrayLike<number>;
    shape = options.shape ?? [flat.length];
  } else {
    shape = options.shape ?? inferShape(values as NestedNumbers);
    flat = (values as NestedNumbers[]).flat(Infinity as 1) as number[];
    if (flat.length !== sizeOf(inferShape(values as NestedNumbers))) throw new Error('tensor: ragged nested array');
  }
  if (flat.length !== sizeOf(shape)) throw new Error(`tensor: ${flat.length} values do not fit shape ${formatShape(shape)}`);
  const data = allocLike(dtype, flat.length);
  data.set(flat);
  return make(data, shape, options);
}

export const full = (shape: readonly number[], value: number, options: CreateOptions = {}): Tensor =>
  make(allocLike(options.dtype ?? 'float32', sizeOf(shape)).fill(value), shape, options);
export const zeros = (shape: readonly number[], options: CreateOptions = {}): Tensor => full(shape, 0, options);
export const ones = (shape: readonly number[], options: CreateOptions = {}): Tensor => full(shape, 1, options);
export const zerosLike = (t: Tensor): Tensor => zeros(t.shape, { dtype: t.dtype });
export const onesLike = (t: Tensor): Tensor => ones(t.shape, { dtype: t.dtype });
export const scalar = (value: number, options: CreateOptions = {}): Tensor => full([], value, options);

/** [start, stop) in steps of `step`; arange(n) is 0..n−1. */
export function arange(start: number, stop?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop];
  const n = Math.max(Math.ceil((hi - lo) / step), 0);
  const data = allocLike(options.dtype ?? 'float32', n);
  for (let i = 0; i < n; i++) data[i] = lo + i * step;
  return make(data, [n], options);
}

/** Uniform in [low, high) from an explicit generator. */
export function rand(shape: readonly number[], rng: Rng, options: CreateOptions & { low?: number; high?: number } = {}): Tensor {
  const { low = 0, high = 1 } = options;
  const data = allocLike(options.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * rng.uniform();
  return make(data, shape, options);
}

/** Normal(mean, std²) from an explicit generator. */
export function randn(shape: readonly number[], rng: Rng, options: CreateOptions & { mean?: number; std?: number } = {}): Tensor {
  const { mean = 0, std = 1 } = options;
  const data = allocLike(options.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return make(data, shape, options);
}
