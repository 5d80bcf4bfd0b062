import { allocLike, formatShape, shapeEquals } from '@ganpo/kernels';
import type { DType, Shape } from '@ganpo/kernels';
import { Tensor, type TensorLike } from '../tensor.js';
import { reshape } from './movement.js';
import { sum } from './reduce.js';

/** A number becomes a scalar tensor of `dtype`. */
export function lift(x: TensorLike, dtype: DType): Tensor {
  return typeof x === 'number' ? new Tensor(allocLike(dtype, 1).fill(x), [], null) : x;
}

/** Lifts two operands to tensors of one dtype; mixing float32 and float64 tensors is an error, not a silent cast. */
export function liftPair(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const dtype = a instanceof Tensor ? a.dtype : b instanceof Tensor ? b.dtype : 'float32';
  const ta = lift(a, dtype);
  const tb = lift(b, dtype);
  if (ta.dtype !== tb.dtype) throw new Error(`${op}: dtype mismatch ${ta.dtype} ${formatShape(ta.shape)} vs ${tb.dtype} ${formatShape(tb.shape)}`);
  return [ta, tb];
}

/** Sums a gradient of a broadcast result back to the operand's shape (the adjoint of broadcasting). */
export function unbroadcast(g: Tensor, shape: Shape): Tensor {
  if (shapeEquals(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let d = 0; d < g.rank; d++) if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) axes.push(d);
  return reshape(sum(g, axes, true), shape);
}

/** Normalizes a possibly negative axis; throws with the op name when out of range. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1)) throw new Error(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function normAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => normAxis(op, a, rank)))].sort((x, y) => x - y);
}
