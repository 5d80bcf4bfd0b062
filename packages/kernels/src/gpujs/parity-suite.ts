/**
 * The gpu.js parity suite, shared by the per-mode test files (parity.<mode>.test.ts): every primitive kernel
 * of the gpujs backend against the float64 reference (the cpu backend on float64 copies of the same float32
 * inputs), on random shapes that include the awkward sizes 0, 1, 3, 7, 33, 129, 257 and broadcasting.
 *
 * Which modes run: $GANPO_GPUJS_MODES (default cpu,webasm,headlessgl). A listed mode that is unavailable on this
 * machine is skipped with the reason in the test name, except that GANPO_REQUIRE_HEADLESSGL=1 turns a skipped
 * headlessgl into a failure, so CI cannot pass without actually running it. GANPO_GPUJS_RUNS sets the runs per
 * property (default 12; each new shape costs a gpu.js compile, ~0.1 s on llvmpipe).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { cpuBackend } from '../cpu.js';
import { materialize } from '../pending.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS, type BinaryOp, type Buf, type MatmulSpec, type ReduceOp, type UnaryOp } from '../types.js';
import { gpujsAvailability } from './availability.js';
import { createGpujsBackend, type GpujsBackend } from './backend.js';

export type ParityMode = 'cpu' | 'webasm' | 'headlessgl';

/** Runs per property: gpu.js compiles one kernel per shape, so a few random shapes per kernel. */
const RUNS = Number(process.env.GANPO_GPUJS_RUNS ?? 12);

export function listedModes(): string[] {
  return (process.env.GANPO_GPUJS_MODES ?? 'cpu,webasm,headlessgl').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Why `mode` cannot run here (not listed, or its availability probe failed), or null when it can. */
function unavailable(mode: ParityMode): string | null {
  if (!listedModes().includes(mode)) return `not in GANPO_GPUJS_MODES=${process.env.GANPO_GPUJS_MODES}`;
  const probe = gpujsAvailability().modes[mode];
  return probe.ok ? null : probe.reason ?? 'unavailable';
}

// ---------------------------------------------------------------------------------------------------------
// Data

/** mulberry32: the values of a case come from one fast-check integer, so shrinking acts on shapes. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f32 = (n: number, seed: number, lo = -3, hi = 3): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
};
const f64 = (x: Buf): Float64Array => Float64Array.from(x);

const AWKWARD = [1, 3, 7, 33, 129, 257];
const seedArb = fc.integer({ min: 1, max: 2 ** 31 - 1 });
/** A length: awkward sizes, 0, or anything up to 300. */
const lenArb = fc.oneof(fc.constantFrom(0, ...AWKWARD), fc.integer({ min: 1, max: 300 }));
const dimArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(1, 2, 3, 7) }, { weight: 1, arbitrary: fc.constantFrom(0, 5, 33) });
/** A shape of rank 0..4 with at most ~4k elements. */
const shapeArb = fc.array(dimArb, { minLength: 0, maxLength: 4 }).filter((s) => sizeOf(s) <= 4096);

/** A broadcasting pair: both shapes are the output shape with some axes set to 1 or dropped from the front. */
const broadcastArb = fc
  .tuple(shapeArb, fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 12, maxLength: 12 }), fc.array(fc.nat(4), { minLength: 3, maxLength: 3 }))
  .map(([out, mask, drop]) => {
    const derive = (k: number): number[] => out.map((d, i) => (mask[4 * k + i] === 0 ? 1 : d)).slice(Math.min(drop[k], out.length));
    return { out, a: derive(0), b: derive(1), c: derive(2) };
  });
type Bcast = { out: number[]; a: number[]; b: number[]; c: number[] };

// ---------------------------------------------------------------------------------------------------------
// Comparison

interface Tol {
  atol: number;
  rtol: number;
}
const EXACT: Tol = { atol: 0, rtol: 0 };

/** got (float32) matches want (float64 reference) within atol + rtol·|want|; NaN matches NaN, ±Inf itself. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol, what: string): void {
  // A backend result may be pending on the device (GL modes): reading it on the CPU goes through materialize.
  if (got instanceof Float32Array || got instanceof Float64Array) materialize(got);
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) throw new Error(`${what}: [${i}] got ${g}, want ${w}`);
      continue;
    }
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (g !== w) throw new Error(`${what}: [${i}] got ${g}, want ${w}`);
      continue;
    }
    const err = Math.abs(g - w);
    if (err > tol.atol + tol.rtol * Math.abs(w)) {
      throw new Error(`${what}: [${i}] got ${g}, want ${w} (|err| ${err.toExponential(3)} > ${tol.atol} + ${tol.rtol}·|want|)`);
    }
  }
}

const maxAbs = (x: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) m = Math.max(m, Math.abs(x[i]));
  return m;
};

// ---------------------------------------------------------------------------------------------------------
// Op domains and tolerances

const UNARY_DOMAIN: Partial<Record<UnaryOp, [number, number]>> = {
  log: [0.01, 20],
  sqrt: [0, 20],
  rsqrt: [0.01, 20],
  reciprocal: [0.1, 10],
  exp: [-20, 20],
  log1p: [-0.9, 10],
  sin: [-10, 10],
  cos: [-10, 10],
  softplus: [-40, 40],
  logSigmoid: [-40, 40],
  sigmoid: [-40, 40],
  tanh: [-12, 12],
  geluTanh: [-8, 8],
  geluErf: [-8, 8],
  erf: [-4, 4],
};

const UNARY_TOL: Partial<Record<UnaryOp, Tol>> = {
  neg: EXACT,
  abs: EXACT,
  sign: EXACT,
  relu: EXACT,
  square: { atol: 0, rtol: 1e-7 },
};

const BINARY_TOL: Partial<Record<BinaryOp, Tol>> = {
  pow: { atol: 1e-6, rtol: 2e-5 },
  div: { atol: 0, rtol: 2e-7 },
};

// ---------------------------------------------------------------------------------------------------------
// The suite

/** Declares the whole parity suite for one gpu.js mode. */
export function paritySuite(mode: ParityMode): void {
  const reason = unavailable(mode);
  const requireGl = mode === 'headlessgl' && process.env.GANPO_REQUIRE_HEADLESSGL === '1';
  if (reason !== null) {
    if (requireGl) {
      test(`gpujs ${mode}: required by GANPO_REQUIRE_HEADLESSGL=1 but unavailable`, () => {
        throw new Error(`headlessgl is required (GANPO_REQUIRE_HEADLESSGL=1) but unavailable: ${reason}`);
      });
      return;
    }
    // Visible in the run: the skipped test's name carries the reason, and a warning is printed at collection.
    console.warn(`[gpujs] parity suite for mode '${mode}' SKIPPED: ${reason}`);
    test.skip(`gpujs ${mode} parity suite SKIPPED: ${reason}`, () => {});
    return;
  }

  describe(`gpujs parity (${mode})`, () => {
    const backend: GpujsBackend = createGpujsBackend({ mode });
    afterAll(() => backend.dispose());
    const check = (name: string, arb: fc.Arbitrary<unknown>, body: (v: never) => void, runs = RUNS): void => {
      test(name, () => {
        fc.assert(fc.property(arb, body as (v: unknown) => void), { numRuns: runs });
      });
    };

    test('runs in the requested mode', () => {
      expect(backend.mode.actual).toBe(mode);
      expect(backend.describe()).toContain(mode);
      if (mode === 'headlessgl') expect(backend.describe()).toContain('renderer');
    });

    for (const op of UNARY_OPS) {
      const [lo, hi] = UNARY_DOMAIN[op] ?? [-6, 6];
      check(`unary ${op}`, fc.tuple(lenArb, seedArb), ([n, seed]: [number, number]) => {
        const x = f32(n, seed, lo, hi);
        const got = backend.unary(op, x);
        expect(got).toBeInstanceOf(Float32Array);
        expectClose(got, cpuBackend.unary(op, f64(x)), UNARY_TOL[op] ?? { atol: 2e-6, rtol: 2e-5 }, `unary ${op} n=${n}`);
      }, Math.ceil(RUNS / 1.5));
    }

    for (const op of BINARY_OPS) {
      check(`binary ${op} with broadcasting`, fc.tuple(broadcastArb, seedArb), ([s, seed]: [Bcast, number]) => {
        const small = op === 'pow';
        let a = f32(sizeOf(s.a), seed, small ? 0.05 : -4, 4);
        let b = f32(sizeOf(s.b), seed + 1, small ? -3 : -4, 3);
        if (['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'maximum', 'minimum'].includes(op)) {
          // Ties matter for comparisons: draw from a few integers.
          a = a.map((v) => Math.round(v));
          b = b.map((v) => Math.round(v));
        }
        if (op === 'div') b = b.map((v) => (Math.abs(v) < 0.1 ? 0.5 : v));
        const got = backend.binary(op, a, s.a, b, s.b, s.out);
        const want = cpuBackend.binary(op, f64(a), s.a, f64(b), s.b, s.out);
        expectClose(got, want, BINARY_TOL[op] ?? { atol: 0, rtol: 1e-7 }, `binary ${op} ${JSON.stringify(s)}`);
      });
    }

    test('binary pow with negative bases and integer exponents', () => {
      const a = new Float32Array([-2, -2, -1.5, -3, 0, 0, 2, -0.5]);
      const b = new Float32Array([3, 2, -1, 0, 2, -1, 0.5, 4]);
      expectClose(backend.binary('pow', a, [8], b, [8], [8]), cpuBackend.binary('pow', f64(a), [8], f64(b), [8], [8]), { atol: 0, rtol: 2e-6 }, 'pow');
    });

    check('where with broadcasting', fc.tuple(broadcastArb, seedArb), ([s, seed]: [Bcast, number]) => {
      const condShape = s.c;
      const cond = f32(sizeOf(condShape), seed, -1, 1).map((v) => (v > 0 ? 1 : 0));
      const a = f32(sizeOf(s.a), seed + 1);
      const b = f32(sizeOf(s.b), seed + 2);
      const got = backend.where(cond, condShape, a, s.a, b, s.b, s.out);
      expectClose(got, cpuBackend.where(f64(cond), condShape, f64(a), s.a, f64(b), s.b, s.out), EXACT, `where ${JSON.stringify(s)}`);
    });

    for (const op of REDUCE_OPS) {
      check(`reduce ${op} over random axes`, fc.tuple(shapeArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), seedArb), ([shape, pick, seed]: [number[], boolean[], number]) => {
        const axes = shape.map((_, d) => d).filter((d) => pick[d]);
        const x = f32(sizeOf(shape), seed);
        const got = backend.reduce(op, x, shape, axes);
        const want = cpuBackend.reduce(op, f64(x), shape, axes);
        const count = axes.reduce((a, d) => a * shape[d], 1);
        const tol = op === 'sum' ? { atol: 1e-6 * (1 + count * maxAbs(x)), rtol: 1e-6 } : EXACT;
        expectClose(got, want, tol, `reduce ${op} ${JSON.stringify({ shape, axes })}`);
      });
    }

    check('reduce over a long axis (two-pass path)', fc.tuple(fc.constantFrom(4096, 5003, 9000), fc.constantFrom(1, 3), fc.constantFrom(...REDUCE_OPS), seedArb), ([len, rows, op, seed]: [number, number, ReduceOp, number]) => {
      const x = f32(len * rows, seed);
      for (const [shape, axes] of [[[rows, len], [1]], [[len, rows], [0]]] as [number[], number[]][]) {
        const got = backend.reduce(op, x, shape, axes);
        const tol = op === 'sum' ? { atol: 1e-6 * (1 + len * maxAbs(x)), rtol: 1e-6 } : EXACT;
        expectClose(got, cpuBackend.reduce(op, f64(x), shape, axes), tol, `reduce ${op} ${JSON.stringify({ shape, axes })}`);
      }
    }, 4);

    check('copyStrided (permute, slice, expand, flip)', fc.tuple(shapeArb.filter((s) => s.length > 0 && sizeOf(s) > 0), seedArb), ([shape, seed]: [number[], number]) => {
      const r = rng(seed);
      const x = f32(sizeOf(shape), seed);
      const src = contiguousStrides(shape);
      // A random permutation of axes, a random start/stop per axis, some axes expanded (stride 0) or flipped.
      const perm = shape.map((_, d) => d).sort(() => r() - 0.5);
      const outShape: number[] = [];
      const strides: number[] = [];
      let offset = 0;
      for (const d of perm) {
        const mode = Math.floor(r() * 4);
        if (mode === 0 && shape[d] === 1) {
          outShape.push(3);
          strides.push(0);
        } else if (mode === 1) {
          outShape.push(shape[d]);
          strides.push(-src[d]);
          offset += (shape[d] - 1) * src[d];
        } else {
          const start = Math.floor(r() * shape[d]);
          const len = 1 + Math.floor(r() * (shape[d] - start));
          outShape.push(len);
          strides.push(src[d]);
          offset += start * src[d];
        }
      }
      const got = backend.copyStrided(x, outShape, strides, offset);
      expectClose(got, cpuBackend.copyStrided(f64(x), outShape, strides, offset), EXACT, `copyStrided ${JSON.stringify({ shape, outShape, strides, offset })}`);
    });

    check('pad', fc.tuple(shapeArb.filter((s) => s.length > 0), fc.array(fc.nat(2), { minLength: 8, maxLength: 8 }), fc.constantFrom(0, -1.5, 7, -Infinity), seedArb), ([shape, p, value, seed]: [number[], number[], number, number]) => {
      const before = shape.map((_, d) => p[d]);
      const after = shape.map((_, d) => p[d + 4]);
      const x = f32(sizeOf(shape), seed);
      const got = backend.pad(x, shape, before, after, value);
      expectClose(got, cpuBackend.pad(f64(x), shape, before, after, value), EXACT, `pad ${JSON.stringify({ shape, before, after })}`);
    });

    check('concat (including empty pieces and more than 8 pieces)', fc.tuple(shapeArb.filter((s) => s.length > 0), fc.nat(3), fc.array(fc.constantFrom(0, 1, 2, 3, 7), { minLength: 1, maxLength: 11 }), seedArb), ([base, axisPick, sizes, seed]: [number[], number, number[], number]) => {
      const axis = axisPick % base.length;
      const shapes = sizes.map((k) => base.map((d, i) => (i === axis ? k : d)));
      const xs = shapes.map((s, j) => f32(sizeOf(s), seed + j));
      const got = backend.concat(xs, shapes, axis);
      expectClose(got, cpuBackend.concat(xs.map(f64), shapes, axis), EXACT, `concat ${JSON.stringify({ shapes, axis })}`);
    });

    /** A shape, an axis, and an index shape that fits inside it (index dims ≤ shape dims off the axis). */
    const gatherArb = fc.tuple(shapeArb.filter((s) => s.length > 0 && sizeOf(s) > 0), fc.nat(3), fc.array(fc.nat(7), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 9 }), seedArb)
      .map(([shape, axisPick, shrink, k, seed]) => {
        const axis = axisPick % shape.length;
        const indexShape = shape.map((d, i) => (i === axis ? k : Math.max(1, d - (shrink[i] % d))));
        const r = rng(seed);
        const indices = Int32Array.from({ length: sizeOf(indexShape) }, () => Math.floor(r() * shape[axis]));
        return { shape, axis, indexShape, indices, seed };
      });

    check('gather (take_along_axis)', gatherArb, (c: { shape: number[]; axis: number; indexShape: number[]; indices: Int32Array; seed: number }) => {
      const x = f32(sizeOf(c.shape), c.seed);
      const got = backend.gather(x, c.shape, c.axis, c.indices, c.indexShape);
      expectClose(got, cpuBackend.gather(f64(x), c.shape, c.axis, c.indices, c.indexShape), EXACT, `gather ${JSON.stringify({ ...c, indices: undefined })}`);
    });

    check('scatterAdd (the adjoint of gather, repeated indices)', gatherArb, (c: { shape: number[]; axis: number; indexShape: number[]; indices: Int32Array; seed: number }) => {
      const src = f32(sizeOf(c.indexShape), c.seed);
      const got = backend.scatterAdd(c.shape, c.axis, c.indices, c.indexShape, src);
      const tol = { atol: 1e-6 * (1 + c.indexShape[c.axis] * maxAbs(src)), rtol: 1e-6 };
      expectClose(got, cpuBackend.scatterAdd(c.shape, c.axis, c.indices, c.indexShape, f64(src)), tol, `scatterAdd ${JSON.stringify({ ...c, indices: undefined })}`);
    });

    const selectArb = fc.tuple(shapeArb.filter((s) => s.length > 0 && sizeOf(s) > 0), fc.nat(3), fc.oneof(fc.constantFrom(0, 1, 3, 7, 33), fc.nat(40)), seedArb)
      .map(([shape, axisPick, count, seed]) => {
        const axis = axisPick % shape.length;
        const r = rng(seed);
        return { shape, axis, indices: Int32Array.from({ length: count }, () => Math.floor(r() * shape[axis])), seed };
      });

    check('indexSelect', selectArb, (c: { shape: number[]; axis: number; indices: Int32Array; seed: number }) => {
      const x = f32(sizeOf(c.shape), c.seed);
      const got = backend.indexSelect(x, c.shape, c.axis, c.indices);
      expectClose(got, cpuBackend.indexSelect(f64(x), c.shape, c.axis, c.indices), EXACT, `indexSelect ${JSON.stringify({ ...c, indices: Array.from(c.indices) })}`);
    });

    check('indexAdd (the adjoint of indexSelect, repeated indices)', selectArb, (c: { shape: number[]; axis: number; indices: Int32Array; seed: number }) => {
      const srcShape = c.shape.map((d, i) => (i === c.axis ? c.indices.length : d));
      const src = f32(sizeOf(srcShape), c.seed);
      const got = backend.indexAdd(c.shape, c.axis, c.indices, src);
      const tol = { atol: 1e-6 * (1 + c.indices.length * maxAbs(src)), rtol: 1e-6 };
      expectClose(got, cpuBackend.indexAdd(c.shape, c.axis, c.indices, f64(src)), tol, `indexAdd ${JSON.stringify({ ...c, indices: Array.from(c.indices) })}`);
    });

    const matDim = fc.constantFrom(0, 1, 3, 7, 33);
    check('matmul (transposes, batch strides, broadcast batch)', fc.tuple(fc.constantFrom(1, 2, 3), matDim, fc.oneof(matDim, fc.constantFrom(129, 257)), matDim, fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), seedArb), ([batch, m, k, n, tA, tB, shareA, shareB, seed]: [number, number, number, number, boolean, boolean, boolean, boolean, number]) => {
      const spec: MatmulSpec = { batch, m, k, n, transA: tA, transB: tB, aBatchStride: shareA ? 0 : m * k, bBatchStride: shareB ? 0 : k * n };
      const a = f32((shareA ? 1 : batch) * m * k, seed);
      const b = f32((shareB ? 1 : batch) * k * n, seed + 1);
      const got = backend.matmul(a, b, spec);
      const tol = { atol: 1e-6 * (1 + k * maxAbs(a) * maxAbs(b)), rtol: 1e-6 };
      expectClose(got, cpuBackend.matmul(f64(a), f64(b), spec), tol, `matmul ${JSON.stringify(spec)}`);
    });

    const rowsCols = fc.tuple(fc.constantFrom(0, 1, 3, 7, 33), fc.constantFrom(1, 3, 7, 33, 129, 257), seedArb);

    check('softmax', rowsCols, ([rows, cols, seed]: [number, number, number]) => {
      const x = f32(rows * cols, seed, -10, 10);
      expectClose(backend.softmax(x, rows, cols), cpuBackend.softmax(f64(x), rows, cols), { atol: 1e-7, rtol: 2e-5 }, `softmax ${rows}x${cols}`);
    });

    check('logSoftmax', rowsCols, ([rows, cols, seed]: [number, number, number]) => {
      const x = f32(rows * cols, seed, -10, 10);
      expectClose(backend.logSoftmax(x, rows, cols), cpuBackend.logSoftmax(f64(x), rows, cols), { atol: 1e-5, rtol: 1e-6 }, `logSoftmax ${rows}x${cols}`);
    });

    check('layerNorm (with and without gamma/beta)', fc.tuple(rowsCols, fc.boolean(), fc.boolean()), ([[rows, cols, seed], withGamma, withBeta]: [[number, number, number], boolean, boolean]) => {
      const x = f32(rows * cols, seed, -5, 5);
      const gamma = withGamma ? f32(cols, seed + 1, 0.5, 2) : null;
      const beta = withBeta ? f32(cols, seed + 2) : null;
      const got = backend.layerNorm(x, rows, cols, gamma, beta, 1e-5);
      const want = cpuBackend.layerNorm(f64(x), rows, cols, gamma && f64(gamma), beta && f64(beta), 1e-5);
      expectClose(got.mean, want.mean, { atol: 1e-6, rtol: 1e-5 }, 'layerNorm mean');
      expectClose(got.rstd, want.rstd, { atol: 1e-6, rtol: 1e-4 }, 'layerNorm rstd');
      expectClose(got.y, want.y, { atol: 2e-5, rtol: 1e-4 }, `layerNorm y ${rows}x${cols}`);
    });

    check('crossEntropy (ignored targets give 0)', rowsCols, ([rows, cols, seed]: [number, number, number]) => {
      const x = f32(rows * cols, seed, -10, 10);
      const r = rng(seed);
      const targets = Int32Array.from({ length: rows }, () => (r() < 0.2 ? -100 : Math.floor(r() * cols)));
      expectClose(backend.crossEntropy(x, rows, cols, targets), cpuBackend.crossEntropy(f64(x), rows, cols, targets), { atol: 2e-5, rtol: 1e-6 }, `crossEntropy ${rows}x${cols}`);
    });

    check('crossEntropyBackward (ignored targets give 0)', rowsCols, ([rows, cols, seed]: [number, number, number]) => {
      const x = f32(rows * cols, seed, -10, 10);
      const g = f32(rows, seed + 1, -2, 2);
      const r = rng(seed);
      const targets = Int32Array.from({ length: rows }, () => (r() < 0.2 ? -100 : Math.floor(r() * cols)));
      expectClose(backend.crossEntropyBackward(x, rows, cols, targets, g), cpuBackend.crossEntropyBackward(f64(x), rows, cols, targets, f64(g)), { atol: 2e-5, rtol: 1e-4 }, `crossEntropyBackward ${rows}x${cols}`);
    });

    check('sort (stable, both directions, ties)', fc.tuple(rowsCols, fc.boolean(), fc.boolean()), ([[rows, cols, seed], descending, ties]: [[number, number, number], boolean, boolean]) => {
      let x = f32(rows * cols, seed, -10, 10);
      if (ties) x = x.map((v) => Math.round(v / 4));
      const got = backend.sort(x, rows, cols, descending);
      const want = cpuBackend.sort(f64(x), rows, cols, descending);
      expectClose(got.values, want.values, EXACT, `sort values ${rows}x${cols}`);
      expect(got.indices).toBeInstanceOf(Int32Array);
      expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
    });

    test('NaN semantics: sort puts NaN last, max/maximum propagate NaN', () => {
      const x = new Float32Array([3, NaN, -1, 2, NaN, 0, 5]);
      for (const descending of [false, true]) {
        const got = backend.sort(x, 1, 7, descending);
        const want = cpuBackend.sort(f64(x), 1, 7, descending);
        expectClose(got.values, want.values, EXACT, 'sort NaN');
        expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
      }
      expectClose(backend.reduce('max', x, [7], [0]), [NaN], EXACT, 'max NaN');
      const y = new Float32Array([1, 1, 1, 1, 1, 1, 1]);
      expectClose(backend.binary('maximum', x, [7], y, [7], [7]), cpuBackend.binary('maximum', f64(x), [7], f64(y), [7], [7]), EXACT, 'maximum NaN');
    });

    test('numerically stable forms at extreme inputs', () => {
      const x = new Float32Array([-100, -30, -1e-6, 0, 1e-6, 30, 100]);
      for (const op of ['softplus', 'logSigmoid', 'sigmoid', 'tanh', 'geluTanh', 'geluErf', 'erf', 'log1p'] as const) {
        const input = op === 'log1p' ? x.map((v) => Math.abs(v)) : x;
        expectClose(backend.unary(op, input), cpuBackend.unary(op, f64(input)), { atol: 1e-6, rtol: 2e-5 }, `unary ${op} extremes`);
      }
      const logits = new Float32Array([1000, 0, -1000, 50]);
      expectClose(backend.logSoftmax(logits, 1, 4), cpuBackend.logSoftmax(f64(logits), 1, 4), { atol: 1e-4, rtol: 1e-6 }, 'logSoftmax extremes');
      expectClose(backend.crossEntropy(logits, 1, 4, Int32Array.of(2)), cpuBackend.crossEntropy(f64(logits), 1, 4, Int32Array.of(2)), { atol: 1e-3, rtol: 1e-6 }, 'crossEntropy extremes');
    });

    test('masked rows (-Infinity logits) in softmax, logSoftmax and crossEntropy', () => {
      const x = new Float32Array([-Infinity, 1, 2, -Infinity, 0.5, -Infinity, -Infinity, 3, 0]);
      expectClose(backend.softmax(x, 3, 3), cpuBackend.softmax(f64(x), 3, 3), { atol: 1e-7, rtol: 1e-5 }, 'softmax masked');
      expectClose(backend.logSoftmax(x, 3, 3), cpuBackend.logSoftmax(f64(x), 3, 3), { atol: 1e-6, rtol: 1e-6 }, 'logSoftmax masked');
      const t = Int32Array.of(2, 1, 0);
      expectClose(backend.crossEntropy(x, 3, 3, t), cpuBackend.crossEntropy(f64(x), 3, 3, t), { atol: 1e-6, rtol: 1e-6 }, 'crossEntropy masked');
    });

    test('large buffers: 2^20 + 3 elements (a near-square 2-D texture on GL) and a wide broadcast', () => {
      const n = 2 ** 20 + 3;
      const x = f32(n, 7);
      expectClose(backend.unary('neg', x), cpuBackend.unary('neg', f64(x)), EXACT, 'neg 2^20+3');
      const row = f32(1021, 8);
      const got = backend.binary('add', x.subarray(0, 1027 * 1021), [1027, 1021], row, [1021], [1027, 1021]);
      expectClose(got, cpuBackend.binary('add', f64(x.subarray(0, 1027 * 1021)), [1027, 1021], f64(row), [1021], [1027, 1021]), { atol: 0, rtol: 1e-7 }, 'add 1027x1021');
      const sum = backend.reduce('sum', x, [n], [0]);
      expectClose(sum, cpuBackend.reduce('sum', f64(x), [n], [0]), { atol: 1e-6 * n, rtol: 0 }, 'sum 2^20+3');
    });

    test('float64 inputs run the reference kernels and stay float64', () => {
      const x = Float64Array.from([0.1, -0.2, 0.3]);
      const got = backend.unary('exp', x);
      expect(got).toBeInstanceOf(Float64Array);
      expect(Array.from(got)).toEqual(Array.from(cpuBackend.unary('exp', x)));
    });

    test('no kernel fell back to gpu.js cpu', () => {
      const s = backend.stats();
      expect(s.degraded).toEqual([]);
      expect(s.compiles).toBeGreaterThan(0);
    });
  });
}
