import { UNARY } from '../scalar.js';
import { broadcastStrides, sizeOf } from '../shape.js';
import type { BinaryOp, Shape, UnaryOp } from '../types.js';
import { outputF32 } from './runtime.js';

/*
 * Element-wise kernels in plain JavaScript, for what the WebAssembly kernels do not cover (pow, general
 * broadcasts, small arrays, the transcendental unary ops). Each op's loops are generated once with
 * `new Function` around the op's expression written inline (no call in the loop body), and compute in
 * float64 exactly like the reference's scalar functions, so results equal the reference's float32 results
 * bit for bit (the unary ops call the reference's own scalar function from a per-op loop, which V8 inlines).
 */

type Binary32 = (
  a: Float32Array, b: Float32Array, out: Float32Array,
  dims: Int32Array, as: Int32Array, bs: Int32Array, rank: number,
) => void;

/** The reference's binary functions (scalar.ts) as inline expressions of x and y. */
const BINARY_EXPR: Record<BinaryOp, string> = {
  add: 'x + y',
  sub: 'x - y',
  mul: 'x * y',
  div: 'x / y',
  pow: 'Math.pow(x, y)',
  maximum: '(x >= y || x !== x ? x : y)',
  minimum: '(x <= y || x !== x ? x : y)',
  eq: '(x === y ? 1 : 0)',
  ne: '(x !== y ? 1 : 0)',
  lt: '(x < y ? 1 : 0)',
  le: '(x <= y ? 1 : 0)',
  gt: '(x > y ? 1 : 0)',
  ge: '(x >= y ? 1 : 0)',
};

/** Same-shape, scalar-operand and strided (broadcast) loops for one binary op; E is the op's expression. */
const binarySource = (E: string) => `
return function binary(a, b, out, dims, as, bs, rank) {
  const n = out.length;
  if (rank === 1) {
    const sa = as[0], sb = bs[0];
    if (sa === 1 && sb === 1) { for (let i = 0; i < n; i++) { const x = a[i], y = b[i]; out[i] = ${E}; } return; }
    if (sa === 1 && sb === 0) { const y = b[0]; for (let i = 0; i < n; i++) { const x = a[i]; out[i] = ${E}; } return; }
    if (sa === 0 && sb === 1) { const x = a[0]; for (let i = 0; i < n; i++) { const y = b[i]; out[i] = ${E}; } return; }
  }
  // Odometer over the outer axes, a strided loop over the innermost one.
  const inner = dims[rank - 1], ia = as[rank - 1], ib = bs[rank - 1];
  const idx = new Int32Array(rank);
  let pa = 0, pb = 0;
  for (let o = 0; o < n; o += inner) {
    let qa = pa, qb = pb;
    for (let j = 0; j < inner; j++, qa += ia, qb += ib) { const x = a[qa], y = b[qb]; out[o + j] = ${E}; }
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      pa += as[d];
      pb += bs[d];
      if (idx[d] < dims[d]) break;
      pa -= as[d] * dims[d];
      pb -= bs[d] * dims[d];
      idx[d] = 0;
    }
  }
};`;

const binaryKernels = new Map<BinaryOp, Binary32>();

function binaryKernel(op: BinaryOp): Binary32 {
  let k = binaryKernels.get(op);
  if (!k) {
    k = new Function(binarySource(BINARY_EXPR[op]))() as Binary32;
    binaryKernels.set(op, k);
  }
  return k;
}

/** The broadcast iteration space of a binary op with adjacent axes merged: dims and element strides of a and b. */
export interface Collapsed {
  dims: number[];
  as: number[];
  bs: number[];
}

/**
 * Operand strides against the output shape, with adjacent axes merged wherever both operands stay linear
 * across them: same-shape or scalar operands become one axis, [r, c] + [c] or [r, c] − [r, 1] two.
 */
export function collapse(aShape: Shape, bShape: Shape, outShape: Shape): Collapsed {
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const dims: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  for (let d = 0; d < outShape.length; d++) {
    const size = outShape[d];
    if (size === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && as[last] === sa[d] * size && bs[last] === sb[d] * size) {
      // axis d continues the previous one linearly for both operands: merge
      dims[last] *= size;
      as[last] = sa[d];
      bs[last] = sb[d];
    } else {
      dims.push(size);
      as.push(sa[d]);
      bs.push(sb[d]);
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    as.push(0);
    bs.push(0);
  }
  return { dims, as, bs };
}

/** Broadcasting binary op in float32 as JavaScript loops over the collapsed iteration space. */
export function binary32(op: BinaryOp, a: Float32Array, b: Float32Array, outShape: Shape, c: Collapsed): Float32Array {
  const out = outputF32(sizeOf(outShape));
  if (out.length === 0) return out;
  binaryKernel(op)(a, b, out, Int32Array.from(c.dims), Int32Array.from(c.as), Int32Array.from(c.bs), c.dims.length);
  return out;
}

type Unary32 = (x: Float32Array, out: Float32Array) => void;
const unaryKernels = new Map<UnaryOp, Unary32>();

/** out[i] = UNARY[op](x[i]) as a per-op loop (the reference function, inlined). */
export function unary32js(op: UnaryOp, x: Float32Array): Float32Array {
  let k = unaryKernels.get(op);
  if (!k) {
    k = new Function('f', 'return function unary(x, out) { for (let i = 0; i < x.length; i++) out[i] = f(x[i]); };')(UNARY[op]) as Unary32;
    unaryKernels.set(op, k);
  }
  const out = outputF32(x.length);
  k(x, out);
  return out;
}
