import { broadcastShapes, getBackend } from '@ganpo/kernels';
import type { BinaryOp, DType, UnaryOp } from '@ganpo/kernels';
import { constant, isGradEnabled, record } from '../engine.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { lift, liftPair, unbroadcast } from './util.js';

// Each op: the forward (which kernel, which shape) and right beside it the vector-Jacobian product,
// written with other ops so that it is itself differentiable.

function unary(op: UnaryOp, x: Tensor, vjp: (g: Tensor, out: Tensor) => Tensor): Tensor {
  return record(op, getBackend().unary(op, x.raw), x.shape, [x], (g, out) => [vjp(g, out)]);
}

function binary(op: BinaryOp, a: TensorLike, b: TensorLike, vjp: (g: Tensor, a: Tensor, b: Tensor, out: Tensor) => [Tensor | null, Tensor | null]): Tensor {
  const [ta, tb] = liftPair(op, a, b);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  const data = getBackend().binary(op, ta.raw, ta.shape, tb.raw, tb.shape, shape);
  return record(op, data, shape, [ta, tb], (g, out) => {
    const [ga, gb] = vjp(g, ta, tb, out);
    return [ga && ta.requiresGrad ? unbroadcast(ga, ta.shape) : null, gb && tb.requiresGrad ? unbroadcast(gb, tb.shape) : null];
  });
}

/** A 0/1 mask: comparisons have no gradient. */
function compare(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = liftPair(op, a, b);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  return constant(getBackend().binary(op, ta.raw, ta.shape, tb.raw, tb.shape, shape), shape);
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b, (g) => [g, g]);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b, (g) => [g, neg(g)]);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b, (g, x, y) => [mul(g, y), mul(g, x)]);
export const div = (a: TensorLike, b: TensorLike): Tensor =>
  binary('div', a, b, (g, x, y) => [div(g, y), y.requiresGrad ? neg(div(mul(g, x), mul(y, y))) : null]);
/** a^b; the gradient for b uses log(a), so it exists only for a > 0. */
export const pow = (a: TensorLike, b: TensorLike): Tensor =>
  binary('pow', a, b, (g, x, y, out) => [
    x.requiresGrad ? mul(g, mul(y, pow(x, sub(y, 1)))) : null,
    y.requiresGrad ? mul(g, mul(out, log(x))) : null,
  ]);
/** Ties send the gradient to a. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor =>
  binary('maximum', a, b, (g, x, y) => {
    const m = ge(x, y);
    return [mul(g, m), mul(g, sub(1, m))];
  });
export const minimum = (a: TensorLike, b: TensorLike): Tensor =>
  binary('minimum', a, b, (g, x, y) => {
    const m = le(x, y);
    return [mul(g, m), mul(g, sub(1, m))];
  });

export const eq = (a: TensorLike, b: TensorLike) => compare('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike) => compare('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike) => compare('lt', a, b);
export const le = (a: TensorLike, b: TensorLike) => compare('le', a, b);
export const gt = (a: TensorLike, b: TensorLike) => compare('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike) => compare('ge', a, b);

export const neg = (x: Tensor): Tensor => unary('neg', x, (g) => neg(g));
export const exp = (x: Tensor): Tensor => unary('exp', x, (g, out) => mul(g, out));
export const log = (x: Tensor): Tensor => unary('log', x, (g) => div(g, x));
export const log1p = (x: Tensor): Tensor => unary('log1p', x, (g) => div(g, add(x, 1)));
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, (g, out) => div(mul(g, 0.5), out));
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x, (g, out) => mul(g, mul(-0.5, mul(out, square(out)))));
export const abs = (x: Tensor): Tensor => unary('abs', x, (g) => mul(g, sign(x)));
export const square = (x: Tensor): Tensor => unary('square', x, (g) => mul(g, mul(x, 2)));
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x, (g, out) => neg(mul(g, square(out))));
export const sin = (x: Tensor): Tensor => unary('sin', x, (g) => mul(g, cos(x)));
export const cos = (x: Tensor): Tensor => unary('cos', x, (g) => neg(mul(g, sin(x))));
export const tanh = (x: Tensor): Tensor => unary('tanh', x, (g, out) => mul(g, sub(1, square(out))));
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x, (g, out) => mul(g, mul(out, sub(1, out))));
/** The gradient at 0 is taken as 0. */
export const relu = (x: Tensor): Tensor => unary('relu', x, (g) => mul(g, gt(x, 0)));
/** log(1 + e^x), computed stably; d/dx = σ(x). */
export const softplus = (x: Tensor): Tensor => unary('softplus', x, (g) => mul(g, sigmoid(x)));
/** log σ(x) = −softplus(−x); d/dx = σ(−x). */
export const logSigmoid = (x: Tensor): Tensor => unary('logSigmoid', x, (g) => mul(g, sigmoid(neg(x))));
export const erf = (x: Tensor): Tensor => unary('erf', x, (g) => mul(g, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI))));
/** sign(x) is piecewise constant: no gradient. */
export const sign = (x: Tensor): Tensor => constant(getBackend().unary('sign', x.raw), x.shape);

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** GELU, with the tanh approximation (GPT-2's) or the exact erf form. */
export function gelu(x: Tensor, approximate: 'tanh' | 'none' = 'tanh'): Tensor {
  if (approximate === 'none') {
    // d/dx x·Φ(x) = Φ(x) + x·φ(x)
    return unary('geluErf', x, (g) => {
      if (!isGradEnabled()) return constant(getBackend().unaryBackward('geluErf', x.raw, g.raw), x.shape);
      const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
      const pdf = mul(exp(mul(square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return mul(g, add(cdf, mul(x, pdf)));
    });
  }
  // d/dx ½x(1 + tanh u) = ½(1 + tanh u) + ½x(1 − tanh² u)·u',  u = c(x + 0.044715x³)
  return unary('geluTanh', x, (g) => {
    // A plain backward: the fused kernel (one pass); a recorded one: the differentiable ops below.
    if (!isGradEnabled()) return constant(getBackend().unaryBackward('geluTanh', x.raw, g.raw), x.shape);
    const t = tanh(mul(add(x, mul(mul(square(x), x), GELU_C)), SQRT_2_OVER_PI));
    const du = mul(add(mul(square(x), 3 * GELU_C), 1), SQRT_2_OVER_PI);
    return mul(g, add(mul(add(t, 1), 0.5), mul(mul(mul(x, 0.5), sub(1, square(t))), du)));
  });
}

/** Clamps into [min, max]; the gradient passes where the input is inside (boundaries included). */
export function clamp(x: Tensor, min: number, max: number): Tensor {
  return minimum(maximum(x, min), max);
}

/** cond != 0 ? a : b, with broadcasting; cond carries no gradient. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const dtype = typeof a !== 'number' ? a.dtype : typeof b !== 'number' ? b.dtype : cond.dtype;
  const [ta, tb] = liftPair('where', lift(a, dtype), lift(b, dtype));
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
  const data = getBackend().where(cond.raw, cond.shape, ta.raw, ta.shape, tb.raw, tb.shape, shape);
  return record('where', data, shape, [ta, tb], (g) => [
    ta.requiresGrad ? unbroadcast(where(cond, g, 0), ta.shape) : null,
    tb.requiresGrad ? unbroadcast(where(cond, 0, g), tb.shape) : null,
  ]);
}

/** Converts the dtype; the gradient is cast back. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const from = x.dtype;
  return record('cast', getBackend().cast(x.raw, dtype), x.shape, [x], (g) => [cast(g, from)]);
}
