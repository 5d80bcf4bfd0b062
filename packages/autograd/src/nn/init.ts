import { allocLike, formatShape, sizeOf } from '@ganpo/kernels';
import type { DType } from '@ganpo/kernels';
import type { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';

/**
 * Parameter initializers. Each returns a fresh leaf tensor (not yet marked for gradient: `Module.registerParameter`
 * does that) and draws only from the explicit generator it is given, so the same seed gives the same weights.
 */

export interface InitOptions {
  dtype?: DType;
}

/**
 * Fans of a weight shape. ganpo stores linear weights as [in, out] (GPT-2's Conv1D layout), so for a 2-D shape
 * fanIn = shape[0] and fanOut = shape[1]. For rank > 2 the trailing axes are a receptive field:
 * fanIn = shape[0]·rf, fanOut = shape[1]·rf. Xavier only uses fanIn + fanOut, so the layout does not change it.
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fans: cannot compute fan-in and fan-out of a tensor of shape ${formatShape(shape)} (rank < 2)`);
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: shape[0] * receptive, fanOut: shape[1] * receptive };
}

/** Glorot/Xavier uniform: U(−a, a) with a = gain·√(6 / (fanIn + fanOut)) (torch.nn.init.xavier_uniform_). */
export function xavierUniform(shape: readonly number[], rng: Rng, options: InitOptions & { gain?: number } = {}): Tensor {
  const { gain = 1, dtype = 'float32' } = options;
  const { fanIn, fanOut } = fans(shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  const data = allocLike(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = (2 * rng.uniform() - 1) * bound;
  return new Tensor(data, shape, null);
}

/** N(mean, std²), std 0.02 by default (GPT-2's initializer for weights and embeddings). */
export function normalInit(shape: readonly number[], rng: Rng, options: InitOptions & { std?: number; mean?: number } = {}): Tensor {
  const { std = 0.02, mean = 0, dtype = 'float32' } = options;
  const data = allocLike(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return new Tensor(data, shape, null);
}

export function zerosInit(shape: readonly number[], options: InitOptions = {}): Tensor {
  return new Tensor(allocLike(options.dtype ?? 'float32', sizeOf(shape)), shape, null);
}

export function onesInit(shape: readonly number[], options: InitOptions = {}): Tensor {
  return new Tensor(allocLike(options.dtype ?? 'float32', sizeOf(shape)).fill(1), shape, null);
}
