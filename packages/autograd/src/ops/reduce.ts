import { getBackend } from '@ganpo/kernels';
import type { ReduceOp } from '@ganpo/kernels';
import { constant, record } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { add, div, eq, exp, log, mul, square, sub, where } from './elementwise.js';
import { broadcastTo, reshape } from './movement.js';
import { normAxes } from './util.js';

type Axes = number | readonly number[] | undefined;

const keptShape = (shape: readonly number[], axes: readonly number[]) => shape.map((d, i) => (axes.includes(i) ? 1 : d));
const droppedShape = (shape: readonly number[], axes: readonly number[]) => shape.filter((_, i) => !axes.includes(i));

function reduceRaw(op: ReduceOp, x: Tensor, axes: readonly number[]) {
  return getBackend().reduce(op, x.raw, x.shape, axes);
}

/** Sum over `axes` (all by default). The gradient broadcasts back. */
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normAxes('sum', axes, x.rank);
  const kept = keptShape(x.shape, ax);
  return record('sum', reduceRaw('sum', x, ax), keepDims ? kept : droppedShape(x.shape, ax), [x], (g) => [
    broadcastTo(reshape(g, kept), x.shape),
  ]);
}

export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normAxes('mean', axes, x.rank);
  const count = ax.reduce((n, a) => n * x.shape[a], 1);
  return div(sum(x, ax, keepDims), count);
}

/** Max over `axes`; the gradient goes to the arg-max (split evenly between exact ties). */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return extremum('max', x, axes, keepDims);
}

export function min(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return extremum('min', x, axes, keepDims);
}

function extremum(op: 'max' | 'min', x: Tensor, axes: Axes, keepDims: boolean): Tensor {
  const ax = normAxes(op, axes, x.rank);
  const kept = keptShape(x.shape, ax);
  const value = reduceRaw(op, x, ax);
  return record(op, value, keepDims ? kept : droppedShape(x.shape, ax), [x], (g) => {
    const hits = eq(x, constant(value, kept));
    const count = constant(reduceRaw('sum', hits, ax), kept);
    return [div(mul(hits, broadcastTo(reshape(g, kept), x.shape)), count)];
  });
}

/** log Σ exp(x), shifted by the (constant) max so that it never overflows. */
export function logSumExp(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normAxes('logSumExp', axes, x.rank);
  const kept = keptShape(x.shape, ax);
  const m = constant(reduceRaw('max', x, ax), kept);
  // An all −∞ slice has max −∞; shift by 0 there so the result is −∞ rather than NaN.
  const shift = where(m.abs().lt(Infinity), m, 0);
  const out = add(log(sum(exp(sub(x, shift)), ax, true)), shift);
  return keepDims ? out : reshape(out, droppedShape(x.shape, ax));
}

/** Variance over `axes` with `correction` (0: population, 1: Bessel). */
export function variance(x: Tensor, axes?: Axes, keepDims = false, correction = 0): Tensor {
  const ax = normAxes('variance', axes, x.rank);
  const count = ax.reduce((n, a) => n * x.shape[a], 1);
  const centred = sub(x, mean(x, ax, true));
  return div(sum(square(centred), ax, keepDims), Math.max(count - correction, 0));
}
