import { allocLike } from '@ganpo/kernels';
import type { Buf } from '@ganpo/kernels';
import { add, div, mul } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { sum } from '../ops/reduce.js';
import type { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';
import type { Linear } from './layers.js';
import { Module } from './module.js';

export interface SpectralNormOptions {
  /** Draws the initial u. */
  rng: Rng;
  /** Floor of the norms in normalize(x) = x / max(‖x‖, eps) (PyTorch's default 1e-12). */
  eps?: number;
  /** Power-iteration steps per training-mode forward (default 1). */
  nPowerIterations?: number;
  /** Power-iteration steps run once at construction, so that the first σ is already good (default 15, as torch.nn.utils.parametrizations.spectral_norm). */
  initIterations?: number;
}

/**
 * A Linear whose weight is divided by an estimate of its largest singular value (Miyato et al., 2018; PyTorch's
 * spectral_norm), so the layer is about 1-Lipschitz.
 *
 * Layout. ganpo stores W as [in, out]; as in PyTorch the matrix whose top singular pair is tracked is the
 * [out, in] one, M = Wᵀ, with u ∈ R^out and v ∈ R^in (σ(M) = σ(W), so only the bookkeeping differs).
 * One power-iteration step, in training mode, before each forward:
 *   v ← normalize(Mᵀu) = normalize(W·u),   u ← normalize(M·v) = normalize(Wᵀ·v),   σ = uᵀMv = vᵀ·W·u.
 * u and v are buffers (saved in the state dict, no gradient); they are updated outside the tape (plain loops),
 * in place of the old buffers through `assign`. In eval mode they are not updated: σ uses the stored pair.
 * Gradient: the forward computes σ = Σ_ij W_ij·v_i·u_j as an op of W with u and v constants, and W/σ, so the
 * gradient includes σ's dependence on W (−(g·W/σ²)·v uᵀ terms), exactly as PyTorch does.
 *
 * Parameters are the wrapped Linear's own tensors (weight, bias), shared, plus buffers u and v.
 */
export class SpectralNormLinear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  u: Tensor;
  v: Tensor;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly eps: number;
  readonly nPowerIterations: number;

  constructor(linear: Linear, options: SpectralNormOptions) {
    super();
    const { rng, eps = 1e-12, nPowerIterations = 1, initIterations = 15 } = options;
    this.eps = eps;
    this.nPowerIterations = nPowerIterations;
    this.inFeatures = linear.inFeatures;
    this.outFeatures = linear.outFeatures;
    const keepFlag = (t: Tensor, register: (t: Tensor) => Tensor) => {
      const flag = t.requiresGrad;
      return register(t).requireGrad(flag);
    };
    this.weight = keepFlag(linear.weight, (t) => this.registerParameter('weight', t));
    this.bias = linear.bias ? keepFlag(linear.bias, (t) => this.registerParameter('bias', t)) : null;
    const dtype = this.weight.dtype;
    const u0 = allocLike(dtype, this.outFeatures);
    for (let j = 0; j < u0.length; j++) u0[j] = rng.normal();
    normalizeInPlace(u0, eps);
    const v0 = allocLike(dtype, this.inFeatures);
    this.u = this.registerBuffer('u', new Tensor(u0, [this.outFeatures], null));
    this.v = this.registerBuffer('v', new Tensor(v0, [this.inFeatures], null));
    // v from u, so that the stored pair is consistent even with no warm-up.
    this.v.assign(normalized(multiplyWu(this.weight.data, u0, this.inFeatures, this.outFeatures), eps, dtype));
    this.powerIteration(initIterations);
  }

  /** Runs `steps` power-iteration steps on the current weight, replacing the buffers u and v (no tape). */
  powerIteration(steps = 1): void {
    const w = this.weight.data;
    const [n, m] = [this.inFeatures, this.outFeatures];
    const dtype = this.weight.dtype;
    let u: Buf = this.u.data;
    let v: Buf = this.v.data;
    for (let s = 0; s < steps; s++) {
      v = normalized(multiplyWu(w, u, n, m), this.eps, dtype);
      u = normalized(multiplyWtv(w, v, n, m), this.eps, dtype);
    }
    if (steps > 0) {
      this.v.assign(v);
      this.u.assign(u);
    }
  }

  /** σ = vᵀ·W·u with the stored u and v, as a tensor that depends on W (u and v constant). */
  sigma(): Tensor {
    const [n, m] = [this.inFeatures, this.outFeatures];
    const outer = allocLike(this.weight.dtype, n * m);
    const u = this.u.data;
    const v = this.v.data;
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) outer[i * m + j] = v[i] * u[j];
    return sum(mul(this.weight, new Tensor(outer, [n, m], null)));
  }

  /** W / σ with the stored u and v ([in, out]). */
  normalizedWeight(): Tensor {
    return div(this.weight, this.sigma());
  }

  /** One power-iteration step when training, then x·(W/σ) + b. */
  forward(x: Tensor): Tensor {
    if (this.training) this.powerIteration(this.nPowerIterations);
    const y = matmul(x, this.normalizedWeight());
    return this.bias ? add(y, this.bias) : y;
  }
}

/** Wraps a Linear in spectral normalization (sharing its weight and bias). */
export function spectralNorm(linear: Linear, options: SpectralNormOptions): SpectralNormLinear {
  return new SpectralNormLinear(linear, options);
}

/** W·u for W [n, m] row-major and u [m] (float64 accumulation). */
function multiplyWu(w: Buf, u: Buf, n: number, m: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let j = 0; j < m; j++) acc += w[i * m + j] * u[j];
    out[i] = acc;
  }
  return out;
}

/** Wᵀ·v for W [n, m] and v [n]. */
function multiplyWtv(w: Buf, v: Buf, n: number, m: number): Float64Array {
  const out = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const vi = v[i];
    for (let j = 0; j < m; j++) out[j] += w[i * m + j] * vi;
  }
  return out;
}

function norm(x: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < x.length; i++) acc += x[i] * x[i];
  return Math.sqrt(acc);
}

function normalizeInPlace(x: Buf | Float64Array, eps: number): void {
  const d = Math.max(norm(x), eps);
  for (let i = 0; i < x.length; i++) x[i] /= d;
}

function normalized(x: Float64Array, eps: number, dtype: 'float32' | 'float64'): Buf {
  normalizeInPlace(x, eps);
  const out = allocLike(dtype, x.length);
  out.set(x);
  return out;
}
