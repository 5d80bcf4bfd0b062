import { formatShape } from '@ganpo/kernels';
import { gradients, vjp } from './engine.js';
import { cast } from './ops/elementwise.js';
import { concat, reshape } from './ops/movement.js';
import { Rng } from './rng.js';
import { Tensor } from './tensor.js';

export interface GradcheckOptions {
  /** Finite-difference step (PyTorch's default 1e-6). */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Compare one random projection uᵀJv instead of the full Jacobian (one backward, two forwards per input). */
  fastMode?: boolean;
  /**
   * Seed for fast mode's random projection (u, v). Default: the next seed of a process-wide stream, so each call
   * probes new directions (a wrong gradient orthogonal to one fixed projection cannot hide in every check) while a
   * test run stays reproducible; a failure names its seed so it can be replayed with this option.
   */
  seed?: number;
  /** Throw a GradcheckError on failure (default) or return false. */
  raiseException?: boolean;
}

export class GradcheckError extends Error {
  override name = 'GradcheckError';
}

type Fn = (...inputs: Tensor[]) => Tensor;

const toFloat64Leaf = (t: Tensor): Tensor => cast(t.detach(), 'float64').detach().requireGrad();

function evaluate(f: Fn, inputs: Tensor[]): Float64Array {
  // Recording stays on: f may differentiate internally (gradgradcheck's f is itself a gradient).
  return Float64Array.from(cast(f(...inputs.map((t) => t.detach())), 'float64').data);
}

/** The output with input `i`'s buffer shifted by `delta` along direction `dir` (a one-hot or a random vector). */
function shifted(f: Fn, inputs: Tensor[], i: number, dir: Float64Array, delta: number): Float64Array {
  const moved = inputs.map((t, j) => {
    if (j !== i) return t.detach();
    const data = Float64Array.from(t.data, (v, k) => v + delta * dir[k]);
    return new Tensor(data, t.shape, null);
  });
  return evaluate(f, moved);
}

/** Seeds drawn per call: a process-wide stream with a fixed start, so runs are reproducible. */
const seedStream = Rng.seeded(0x5eed);
const freshSeed = (): number => Math.floor(seedStream.uniform() * 0x7fffffff);

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let acc = 0;
  for (let k = 0; k < a.length; k++) acc += a[k] * b[k];
  return acc;
};

function fail(options: GradcheckOptions, message: string): boolean {
  if (options.raiseException ?? true) throw new GradcheckError(message);
  return false;
}

/**
 * Checks the analytical gradients of f against central finite differences in float64
 * (PyTorch's gradcheck: eps 1e-6, atol 1e-5, rtol 1e-3). Inputs are cast to float64 copies.
 * Full mode compares every Jacobian entry; fast mode a random projection uᵀJv per input.
 * A failure names the worst entry, both values and the input shapes.
 */
export function gradcheck(f: Fn, inputs: readonly Tensor[], options: GradcheckOptions = {}): boolean {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, fastMode = false } = options;
  const seed = options.seed ?? freshSeed();
  const xs = inputs.map(toFloat64Leaf);
  const shapes = xs.map((x) => formatShape(x.shape)).join(', ');
  const out = f(...xs);
  if (out.dtype !== 'float64') return fail(options, `gradcheck: f returned ${out.dtype}; it must compute in the inputs' float64`);
  const nOut = out.size;
  const rng = Rng.seeded(seed);
  const within = (analytic: number, numeric: number) => Math.abs(analytic - numeric) <= atol + rtol * Math.abs(numeric);

  if (fastMode) {
    const u = Float64Array.from({ length: nOut }, () => rng.normal());
    const grads = gradients([out], xs, [new Tensor(u, out.shape, null)], { allowUnused: true });
    for (let i = 0; i < xs.length; i++) {
      const v = Float64Array.from({ length: xs[i].size }, () => rng.normal());
      const analytic = dot(grads[i].data, v);
      const plus = shifted(f, xs, i, v, eps);
      const minus = shifted(f, xs, i, v, -eps);
      const numeric = plus.reduce((acc, p, j) => acc + (u[j] * (p - minus[j])) / (2 * eps), 0);
      if (!within(analytic, numeric)) {
        return fail(options, `gradcheck (fast mode): input ${i} of [${shapes}]: analytical uᵀJv ${analytic} vs numerical ${numeric} (seed ${seed})`);
      }
    }
    return true;
  }

  // Analytical Jacobian, one row per output element (a one-hot cotangent each).
  const rows: Float64Array[][] = [];
  for (let j = 0; j < nOut; j++) {
    const seedBuf = new Float64Array(nOut);
    seedBuf[j] = 1;
    rows.push(gradients([out], xs, [new Tensor(seedBuf, out.shape, null)], { allowUnused: true }).map((g) => Float64Array.from(g.data)));
  }
  let worst = { excess: 0, message: '' };
  for (let i = 0; i < xs.length; i++) {
    const dir = new Float64Array(xs[i].size);
    for (let k = 0; k < xs[i].size; k++) {
      dir.fill(0);
      dir[k] = 1;
      const plus = shifted(f, xs, i, dir, eps);
      const minus = shifted(f, xs, i, dir, -eps);
      for (let j = 0; j < nOut; j++) {
        const numeric = (plus[j] - minus[j]) / (2 * eps);
        const analytic = rows[j][i][k];
        const excess = Math.abs(analytic - numeric) - (atol + rtol * Math.abs(numeric));
        if (!(excess <= 0) && !(excess <= worst.excess)) {
          worst = {
            excess: Number.isNaN(excess) ? Infinity : excess,
            message: `gradcheck: d output[${j}] / d input ${i}[${k}]: analytical ${analytic} vs numerical ${numeric} (input shapes [${shapes}], output ${formatShape(out.shape)})`,
          };
        }
      }
    }
  }
  return worst.message ? fail(options, worst.message) : true;
}

/**
 * Checks second derivatives: gradcheck of (inputs, v) ↦ vᵀ∂f/∂inputs, the vector-Jacobian product
 * computed with create-graph, against finite differences of that first gradient.
 */
export function gradgradcheck(f: Fn, inputs: readonly Tensor[], options: GradcheckOptions = {}): boolean {
  const rng = Rng.seeded(options.seed ?? 1);
  const probe = f(...inputs.map((t) => cast(t.detach(), 'float64')));
  const v = new Tensor(Float64Array.from({ length: probe.size }, () => rng.normal()), probe.shape, null);
  const firstGrad = (...args: Tensor[]) => {
    const xs = args.slice(0, inputs.length);
    const cot = args[inputs.length];
    const grads = vjp(f, ...xs).pullback(cot, { createGraph: true });
    return concat(grads.map((g) => reshape(g, [g.size])), 0);
  };
  return gradcheck(firstGrad, [...inputs, v], options);
}
