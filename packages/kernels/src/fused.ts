import { erf } from './scalar.js';
import { allocLike, dtypeOf } from './shape.js';
import type { Buf, LayerNormGrads, UnaryBackwardOp } from './types.js';

/*
 * The fused backward kernels: one pass over rows (or elements) instead of the four to a dozen element-wise
 * kernels, reductions and temporaries of the composite vector-Jacobian products in @ganpo/autograd. Each is
 * written once, here, in plain loops with float64 accumulation, and parameterised by how an output is
 * allocated: the reference `cpu` backend uses fresh arrays, the `fast` backend resident WebAssembly memory
 * (so its results are bit for bit the reference's). The composite formulas stay the recorded path (for
 * gradients of gradients); the property tests check each kernel against them and against finite differences.
 */

/** Allocates a float output of the given dtype-of-`like` and length (contents unspecified: kernels write all of it). */
export type Alloc = (like: Buf, length: number) => Buf;
export const freshAlloc: Alloc = (like, length) => allocLike(dtypeOf(like), length);

/** dx = y ⊙ (g − Σ_row g ⊙ y): the softmax's input gradient from its output y and the output cotangent g. */
export function softmaxBackwardWith(alloc: Alloc, y: Buf, g: Buf, rows: number, cols: number): Buf {
  const dx = alloc(y, rows * cols);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += g[o + c] * y[o + c];
    for (let c = 0; c < cols; c++) dx[o + c] = y[o + c] * (g[o + c] - dot);
  }
  return dx;
}

/**
 * Layer normalisation's gradients from the forward's saved per-row mean and reciprocal standard deviation:
 * with x̂ = (x − μ)·rstd and d = g ⊙ γ, dx = rstd·(d − mean(d) − x̂·mean(d ⊙ x̂)); dγ = Σ_rows g ⊙ x̂; dβ = Σ_rows g.
 */
export function layerNormBackwardWith(
  alloc: Alloc,
  x: Buf,
  mean: Buf,
  rstd: Buf,
  gamma: Buf | null,
  g: Buf,
  rows: number,
  cols: number,
): LayerNormGrads {
  const dx = alloc(x, rows * cols);
  const dgamma = new Float64Array(cols);
  const dbeta = new Float64Array(cols);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const mu = mean[r];
    const rs = rstd[r];
    let sumD = 0;
    let sumDX = 0;
    for (let c = 0; c < cols; c++) {
      const xhat = (x[o + c] - mu) * rs;
      const gc = g[o + c];
      const d = gamma ? gc * gamma[c] : gc;
      sumD += d;
      sumDX += d * xhat;
      dgamma[c] += gc * xhat;
      dbeta[c] += gc;
    }
    const meanD = sumD / cols;
    const meanDX = sumDX / cols;
    for (let c = 0; c < cols; c++) {
      const xhat = (x[o + c] - mu) * rs;
      const d = gamma ? g[o + c] * gamma[c] : g[o + c];
      dx[o + c] = rs * (d - meanD - xhat * meanDX);
    }
  }
  const cast = (v: Float64Array) => {
    const out = alloc(x, cols);
    out.set(v);
    return out;
  };
  return { dx, dgamma: cast(dgamma), dbeta: cast(dbeta) };
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** The argument of the tanh in GELU's tanh approximation: u = √(2/π)(v + 0.044715v³). */
export const geluTanhArg = (v: number): number => SQRT_2_OVER_PI * (v + GELU_C * v * v * v);
/** gelu′(v) from t = tanh(u): ½(1 + t) + ½v(1 − t²)·u′. */
export const geluTanhSlope = (v: number, t: number): number => 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * v * v);

/** g ⊙ f′(x) for the activations whose composite backward is long (GELU, both flavours). */
export function unaryBackwardWith(alloc: Alloc, op: UnaryBackwardOp, x: Buf, g: Buf): Buf {
  const dx = alloc(x, x.length);
  if (op === 'geluTanh') {
    for (let i = 0; i < x.length; i++) dx[i] = g[i] * geluTanhSlope(x[i], Math.tanh(geluTanhArg(x[i])));
  } else {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      dx[i] = g[i] * (0.5 * (1 + erf(v * Math.SQRT1_2)) + v * Math.exp(-0.5 * v * v) * INV_SQRT_2PI);
    }
  }
  return dx;
}
