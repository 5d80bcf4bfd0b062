// Helpers shared by the nn and optim tests (not exported from the package).
import fc from 'fast-check';
import { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';
import { functionalCall } from './functional.js';
import type { Module } from './module.js';

export const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

export function randomTensor(shape: readonly number[], seed: number, options: { dtype?: 'float32' | 'float64'; std?: number } = {}): Tensor {
  const rng = Rng.seeded(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = options.dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
  for (let i = 0; i < size; i++) data[i] = (options.std ?? 1) * rng.normal();
  return new Tensor(data, shape, null);
}

/**
 * A module as a function of (input, ...parameters), for gradcheck: the parameters are substituted with
 * functionalCall. Returns the function and the module's current parameter values in order.
 */
export function asFunctionOfParams<I>(module: Module, forward: (input: I) => Tensor) {
  const named = module.namedParameters();
  const names = named.map(([n]) => n);
  const f = (input: I, ...params: Tensor[]) =>
    functionalCall(module, Object.fromEntries(names.map((n, i) => [n, params[i]])), () => forward(input));
  return { names, params: named.map(([, t]) => t), f };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

export function bitEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
