import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend as cpu } from '../cpu.js';
import { broadcastShapes, sizeOf } from '../shape.js';
import { BINARY_OPS, type BinaryOp, type MatmulSpec, UNARY_OPS, type UnaryOp } from '../types.js';
import {
  fastBackend as fast,
  fastPoolStats,
  fastThreads,
  setFastElementwiseParallelThreshold as setElementwiseParallelThreshold,
  setFastMatmulParallelThreshold as setParallelThreshold,
  shutdownFastBackend,
  startFastPool,
} from './index.js';

// Every fast kernel against the float64 reference: the cpu backend run on a float64 copy of the float32
// inputs, with tolerances derived from float32 error bounds (eps = 2^-24 is float32's unit roundoff).

const EPS = 2 ** -24;
const f64 = (x: Float32Array) => Float64Array.from(x);
const abs64 = (x: Float32Array) => Float64Array.from(x, Math.abs);
const AWKWARD = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33];
const dimArb = fc.constantFrom(...AWKWARD);

/** Deterministic float32 data from a seed (fast-check picks seeds; content need not be shrunk). */
function data(n: number, seed: number, scale = 2): Float32Array {
  const out = new Float32Array(n);
  let s = (seed >>> 0) || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

/** Asserts |got − want| <= tol[i] elementwise, NaN only where the reference is NaN; reports the worst index. */
function expectClose(got: Float32Array, want: ArrayLike<number>, tol: (i: number) => number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    if (Number.isNaN(w)) {
      if (!Number.isNaN(g)) expect.fail(`${what}[${i}]: got ${g}, want NaN`);
      continue;
    }
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (g !== Math.fround(w)) expect.fail(`${what}[${i}]: got ${g}, want ${w}`);
      continue;
    }
    const err = Math.abs(g - w);
    if (!(err <= tol(i))) expect.fail(`${what}[${i}]: got ${g}, want ${w} (|err| ${err} > tol ${tol(i)})`);
  }
}

const matmulSpecArb = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    m: dimArb,
    k: dimArb,
    n: dimArb,
    transA: fc.boolean(),
    transB: fc.boolean(),
    shareA: fc.boolean(),
    shareB: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ shareA, shareB, seed, ...s }) => ({
    spec: { ...s, aBatchStride: shareA ? 0 : s.m * s.k, bBatchStride: shareB ? 0 : s.k * s.n } as MatmulSpec,
    seed,
  }));

/** fast matmul vs the float64 reference; error bound γ_k·(|A|·|B|) with γ_k ≈ k·eps (doubled for safety). */
function checkMatmul(spec: MatmulSpec, seed: number): void {
  const aLen = (spec.aBatchStride === 0 ? 1 : spec.batch) * spec.m * spec.k;
  const bLen = (spec.bBatchStride === 0 ? 1 : spec.batch) * spec.k * spec.n;
  const a = data(aLen, seed);
  const b = data(bLen, seed ^ 0x5bd1e995);
  const got = fast.matmul(a, b, spec) as Float32Array;
  expect(got).toBeInstanceOf(Float32Array);
  const want = cpu.matmul(f64(a), f64(b), spec);
  const mag = cpu.matmul(abs64(a), abs64(b), spec);
  const name = `matmul ${JSON.stringify(spec)}`;
  expectClose(got, want, (i) => 2 * (spec.k + 2) * EPS * mag[i] + 1e-30, name);
}

describe('fast matmul matches the float64 reference', () => {
  it('NN / NT / TN / TT, batched, batch strides 0 and full, awkward sizes', () => {
    fc.assert(fc.property(matmulSpecArb, ({ spec, seed }) => checkMatmul(spec, seed)), { numRuns: 150 });
  });

  it('sizes around the cache blocks (k past KC = 256, m past MC = 128, n not a multiple of 8)', () => {
    const sizes: [number, number, number][] = [
      [129, 257, 33],
      [257, 3, 7],
      [7, 513, 9],
      [130, 260, 17],
      [1, 600, 1],
      [3, 1, 257],
    ];
    for (const [m, k, n] of sizes) {
      for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
        checkMatmul({ batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0 }, m * 131 + k * 7 + n);
      }
    }
  });

  it('empty products: m, n or batch 0 give empty output, k = 0 gives zeros', () => {
    const base = { batch: 1, m: 2, k: 3, n: 4, transA: false, transB: false, aBatchStride: 6, bBatchStride: 12 };
    expect(fast.matmul(new Float32Array(0), new Float32Array(12), { ...base, m: 0 }).length).toBe(0);
    expect(fast.matmul(new Float32Array(6), new Float32Array(0), { ...base, n: 0 }).length).toBe(0);
    expect(fast.matmul(new Float32Array(6), new Float32Array(12), { ...base, batch: 0 }).length).toBe(0);
    expect(Array.from(fast.matmul(new Float32Array(0), new Float32Array(0), { ...base, k: 0 }))).toEqual(new Array(8).fill(0));
  });

  it('reads only its operands: A and B are not mutated', () => {
    const a = data(12, 1);
    const b = data(20, 2);
    const a0 = a.slice();
    const b0 = b.slice();
    fast.matmul(a, b, { batch: 1, m: 3, k: 4, n: 5, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 });
    expect(a).toEqual(a0);
    expect(b).toEqual(b0);
  });
});

describe('fast kernels on the worker pool', () => {
  let previous = 0;
  let previousElementwise = 0;
  beforeAll(async () => {
    previous = setParallelThreshold(0); // every product goes through the pool
    previousElementwise = setElementwiseParallelThreshold(0);
    await startFastPool();
  });
  afterAll(async () => {
    setParallelThreshold(previous);
    setElementwiseParallelThreshold(previousElementwise);
    await shutdownFastBackend();
  });

  it('row and element-wise kernels split over threads give the single-threaded results, bit for bit', () => {
    const bits = (x: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) => Buffer.from(x.buffer as ArrayBuffer, x.byteOffset, x.byteLength).toString('base64');
    const run = () => {
      const out: string[] = [];
      for (const [rows, cols] of [[7, 33], [64, 260], [3, 5000]]) {
        const x = data(rows * cols, rows * 31 + cols, 6);
        const t = Int32Array.from({ length: rows }, (_, r) => (r * 13) % cols);
        out.push(bits(fast.softmax(x, rows, cols)), bits(fast.logSoftmax(x, rows, cols)), bits(fast.crossEntropy(x, rows, cols, t)));
        const ln = fast.layerNorm(x, rows, cols, data(cols, 3), data(cols, 4), 1e-5);
        out.push(bits(ln.y), bits(ln.mean), bits(ln.rstd));
        for (const op of ['exp', 'sigmoid', 'tanh', 'geluTanh', 'relu'] as const) out.push(bits(fast.unary(op, x)));
        const row = data(cols, 8);
        const col = data(rows, 9);
        for (const op of ['add', 'sub', 'maximum', 'lt'] as const) {
          out.push(bits(fast.binary(op, x, [rows, cols], x, [rows, cols], [rows, cols])));
          out.push(bits(fast.binary(op, x, [rows, cols], row, [cols], [rows, cols])));
          out.push(bits(fast.binary(op, col, [rows, 1], x, [rows, cols], [rows, cols])));
          out.push(bits(fast.binary(op, x, [rows, cols], col.subarray(0, 1), [], [rows, cols])));
        }
      }
      return out;
    };
    const before = fastPoolStats().parallel;
    const threaded = run();
    if (fastThreads() > 1) expect(fastPoolStats().parallel - before).toBeGreaterThanOrEqual(40);
    setElementwiseParallelThreshold(Number.MAX_SAFE_INTEGER);
    const single = run();
    setElementwiseParallelThreshold(0);
    expect(threaded).toEqual(single);
  });

  it('matches the reference with rows split over threads', () => {
    const before = fastPoolStats().parallel;
    fc.assert(fc.property(matmulSpecArb, ({ spec, seed }) => checkMatmul(spec, seed)), { numRuns: 60 });
    checkMatmul({ batch: 2, m: 129, k: 257, n: 33, transA: true, transB: false, aBatchStride: 129 * 257, bBatchStride: 0 }, 9);
    if (fastThreads() > 1) expect(fastPoolStats().parallel - before).toBeGreaterThan(10);
  });

  it('is bit-for-bit the single-threaded result', () => {
    const spec: MatmulSpec = { batch: 3, m: 67, k: 300, n: 45, transA: false, transB: true, aBatchStride: 67 * 300, bBatchStride: 0 };
    const a = data(3 * 67 * 300, 11);
    const b = data(300 * 45, 12);
    const threaded = fast.matmul(a, b, spec);
    setParallelThreshold(Number.MAX_SAFE_INTEGER);
    const single = fast.matmul(a, b, spec);
    setParallelThreshold(0);
    expect(Buffer.from(threaded.buffer, threaded.byteOffset, threaded.byteLength).equals(Buffer.from(single.buffer, single.byteOffset, single.byteLength))).toBe(true);
  });
});

const rowsArb = fc.integer({ min: 1, max: 6 });
const colsArb = fc.constantFrom(...AWKWARD, 63, 129, 257, 260);

/** Row data with a few special values mixed in when `special`. */
function rowData(rows: number, cols: number, seed: number, scale: number, special: boolean): Float32Array {
  const x = data(rows * cols, seed, scale);
  if (special && x.length > 2) {
    x[seed % x.length >>> 0] = -Infinity;
    x[(seed >>> 3) % x.length >>> 0] = scale * 3;
  }
  return x;
}

const maxAbsRow = (x: ArrayLike<number>, r: number, cols: number) => {
  let m = 0;
  for (let c = 0; c < cols; c++) if (Number.isFinite(x[r * cols + c])) m = Math.max(m, Math.abs(x[r * cols + c]));
  return m;
};

describe('fast row kernels match the float64 reference', () => {
  const args = fc.record({ rows: rowsArb, cols: colsArb, seed: fc.integer(), scale: fc.constantFrom(1, 10, 80), special: fc.boolean() });

  it('softmax', () => {
    fc.assert(
      fc.property(args, ({ rows, cols, seed, scale, special }) => {
        const x = rowData(rows, cols, seed, scale, special);
        const want = cpu.softmax(f64(x), rows, cols);
        const max = Array.from({ length: rows }, (_, r) => Math.max(...x.subarray(r * cols, (r + 1) * cols)));
        // exp within a few ulp, the sum within cols·eps, and the float32 rounding of x − max amplified by
        // |x − max| (exp's condition number): relative error ~ (8 + cols + 2|x − max|)·eps
        const tol = (i: number) =>
          want[i] === 0 ? 1e-37 : (8 + cols + 2 * Math.abs(x[i] - max[Math.floor(i / cols)])) * EPS * want[i] + 1e-37;
        expectClose(fast.softmax(x, rows, cols) as Float32Array, want, tol, 'softmax');
      }),
      { numRuns: 120 },
    );
  });

  it('logSoftmax', () => {
    fc.assert(
      fc.property(args, ({ rows, cols, seed, scale, special }) => {
        const x = rowData(rows, cols, seed, scale, special);
        const want = cpu.logSoftmax(f64(x), rows, cols);
        const tol = (i: number) => (8 + cols) * EPS * (1 + Math.abs(want[i]) + maxAbsRow(x, Math.floor(i / cols), cols));
        expectClose(fast.logSoftmax(x, rows, cols) as Float32Array, want, tol, 'logSoftmax');
      }),
      { numRuns: 120 },
    );
  });

  it('crossEntropy (targets < 0 give 0)', () => {
    fc.assert(
      fc.property(args, ({ rows, cols, seed, scale, special }) => {
        const x = rowData(rows, cols, seed, scale, special);
        const t = Int32Array.from({ length: rows }, (_, r) => ((seed >>> 0) + r * 7) % (cols + 1) - 1);
        const want = cpu.crossEntropy(f64(x), rows, cols, t);
        const tol = (r: number) => (8 + cols) * EPS * (1 + Math.abs(want[r]) + maxAbsRow(x, r, cols));
        expectClose(fast.crossEntropy(x, rows, cols, t) as Float32Array, want, tol, 'crossEntropy');
      }),
      { numRuns: 120 },
    );
  });

  it('crossEntropyBackward: (softmax − onehot)·g, rows with targets < 0 give 0', () => {
    fc.assert(
      fc.property(args, ({ rows, cols, seed, scale, special }) => {
        const x = rowData(rows, cols, seed, scale, special);
        const g = Float32Array.from({ length: rows }, (_, r) => ((r * 37 + seed) % 5) - 2);
        const t = Int32Array.from({ length: rows }, (_, r) => ((seed >>> 0) + r * 7) % (cols + 1) - 1);
        const want = cpu.crossEntropyBackward(f64(x), rows, cols, t, f64(g));
        if (!want.every(Number.isFinite)) return; // rows of ±inf logits have no finite gradient to compare
        const tol = (i: number) => (8 + cols) * EPS * (1 + Math.abs(g[Math.floor(i / cols)]));
        expectClose(fast.crossEntropyBackward(x, rows, cols, t, g) as Float32Array, want, tol, 'crossEntropyBackward');
      }),
      { numRuns: 120 },
    );
  });

  it('layerNorm, with and without gamma / beta', () => {
    fc.assert(
      fc.property(args, fc.boolean(), fc.boolean(), ({ rows, cols, seed, scale }, withGamma, withBeta) => {
        const x = data(rows * cols, seed, scale);
        const gamma = withGamma ? data(cols, seed ^ 77, 2) : null;
        const beta = withBeta ? data(cols, seed ^ 99, 2) : null;
        const eps = 1e-5;
        const want = cpu.layerNorm(f64(x), rows, cols, gamma && f64(gamma), beta && f64(beta), eps);
        const got = fast.layerNorm(x, rows, cols, gamma, beta, eps);
        const rowOf = (i: number) => Math.floor(i / cols);
        // y = (x − μ)·rstd·γ + β: the float32 error of x − μ (a few eps·max|x|) is scaled by rstd·|γ|
        const tolY = (i: number) => {
          const r = rowOf(i);
          const g = gamma ? Math.abs(gamma[i % cols]) : 1;
          return (8 + cols) * EPS * (Math.abs(want.y[i]) + maxAbsRow(x, r, cols) * want.rstd[r] * g + (beta ? Math.abs(beta[i % cols]) : 0)) + 1e-30;
        };
        expectClose(got.y as Float32Array, want.y, tolY, 'layerNorm y');
        expectClose(got.mean as Float32Array, want.mean, (r) => (4 + cols) * EPS * maxAbsRow(x, r, cols) + 1e-30, 'layerNorm mean');
        // rstd: relative error of the variance, whose cancellation error is bounded by (cols·eps·max|x|)² / eps_ln
        expectClose(
          got.rstd as Float32Array,
          want.rstd,
          (r) => want.rstd[r] * ((8 + cols) * EPS + ((cols + 4) * EPS * maxAbsRow(x, r, cols)) ** 2 / eps),
          'layerNorm rstd',
        );
      }),
      { numRuns: 120 },
    );
  });
});

const SPECIALS = [0, -0, Number.NaN, Infinity, -Infinity, 1e-40, -1e-40, 88.5, 89, -87.5, -104, -110, 0.625, -0.625];

describe('fast unary ops match the float64 reference', () => {
  const lenArb = fc.constantFrom(1, 2, 3, 4, 5, 7, 9, 33, 1023, 1024, 1025, 3001);
  /** Per-op error bounds (relative to the result, plus an absolute floor for subnormal results). */
  const tolerance: Partial<Record<UnaryOp, (x: number, want: number) => number>> = {
    // SIMD exp (Cephes polynomial): a few ulp
    exp: (_x, w) => 8 * EPS * Math.abs(w) + 1e-37,
    sigmoid: (_x, w) => 12 * EPS * Math.abs(w) + 1e-37,
    tanh: (_x, w) => 12 * EPS * Math.abs(w) + 1e-37,
    // x / (1 + exp(−2u)): the float32 rounding of u is amplified by |2u|, the condition number of exp.
    // The reference's 0.5·x·(1 + tanh u) cancels for x ≪ 0 (1 + tanh u loses float64 bits): allow |x|·2⁻⁵¹.
    geluTanh: (x, w) => (16 + 2 * Math.abs(1.6 * x * (1 + 0.045 * x * x))) * EPS * Math.abs(w) + Math.abs(x) * 2 ** -51 + 1e-37,
  };

  for (const op of UNARY_OPS) {
    it(op, () => {
      fc.assert(
        fc.property(lenArb, fc.integer(), fc.constantFrom(1, 5, 30, 100), fc.boolean(), (len, seed, scale, special) => {
          const x = data(len, seed, scale);
          if (special) for (let i = 0; i < x.length; i += 3) x[i] = SPECIALS[(i / 3 + (seed >>> 0)) % SPECIALS.length];
          const got = fast.unary(op, x) as Float32Array;
          expect(got).toBeInstanceOf(Float32Array);
          const want = cpu.unary(op, f64(x));
          const tol = tolerance[op];
          if (tol) {
            expectClose(got, want, (i) => tol(x[i], want[i]), op);
          } else {
            // computed like the reference, in float64 then rounded: exactly the rounded float64 result
            expectClose(got, Float32Array.from(want), () => 0, op);
          }
        }),
        { numRuns: 25 },
      );
    });
  }
});

/** A pair of shapes that broadcast: b is a with some dims set to 1 and maybe leading dims dropped, or swapped. */
const broadcastPairArb = fc
  .record({
    shape: fc.array(fc.constantFrom(1, 2, 3, 4, 5, 7, 33), { minLength: 0, maxLength: 4 }),
    ones: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    drop: fc.integer({ min: 0, max: 4 }),
    swap: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ shape, ones, drop, swap, seed }) => {
    const other = shape.map((d, i) => (ones[i] ? 1 : d)).slice(Math.min(drop, shape.length));
    return { aShape: swap ? other : shape, bShape: swap ? shape : other, seed };
  });

describe('fast binary ops match the float64 reference', () => {
  for (const op of BINARY_OPS) {
    it(`${op}: same shape, scalar, row and column broadcast, general broadcast`, () => {
      fc.assert(
        fc.property(broadcastPairArb, ({ aShape, bShape, seed }) => {
          const outShape = broadcastShapes(op, aShape, bShape);
          const a = data(sizeOf(aShape), seed, 3);
          const b = op === 'pow' ? data(sizeOf(bShape), seed ^ 5, 2) : data(sizeOf(bShape), seed ^ 5, 3);
          if (op !== 'pow' && a.length > 1 && b.length > 0) a[1] = b[0]; // exercise eq / le / ge on ties
          const got = fast.binary(op, a, aShape, b, bShape, outShape) as Float32Array;
          const want = cpu.binary(op, f64(a), aShape, f64(b), bShape, outShape);
          // float32 operands are exact in float64, so the float32 result is the rounded float64 one
          expectClose(got, Float32Array.from(want), () => 0, `${op} ${JSON.stringify([aShape, bShape])}`);
        }),
        { numRuns: 40 },
      );
    });
  }

  it('row broadcast [r, c] + [c] and column broadcast [r, c] − [r, 1] at model sizes', () => {
    const x = data(64 * 260, 3);
    const row = data(260, 4);
    const col = data(64, 5);
    for (const [op, bShape, b] of [['add', [260], row], ['sub', [64, 1], col], ['mul', [1, 260], row], ['div', [64, 1], col]] as const) {
      const got = fast.binary(op as BinaryOp, x, [64, 260], b, bShape, [64, 260]);
      const want = cpu.binary(op as BinaryOp, f64(x), [64, 260], f64(b), bShape, [64, 260]);
      expectClose(got as Float32Array, Float32Array.from(want), () => 0, op);
    }
  });
});

describe('a result does not depend on the size of the call it comes in', () => {
  // A model's cached one-token step must reproduce its full forward bit for bit: every kernel computes an
  // output element the same way whatever the batch, the number of rows or the array's length.
  const same = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) =>
    expect(Buffer.from(Float32Array.from(a).buffer).equals(Buffer.from(Float32Array.from(b).buffer)), what).toBe(true);

  it('unary and binary ops: each element as in a one-element call', () => {
    const x = data(700, 5, 6);
    const y = data(700, 6, 6);
    for (const op of UNARY_OPS) {
      const whole = fast.unary(op, x);
      for (const i of [0, 1, 130, 511, 699]) same([whole[i]], fast.unary(op, x.subarray(i, i + 1)), `${op}[${i}]`);
      same(whole.subarray(3, 300), fast.unary(op, x.subarray(3, 300)), `${op} slice`);
    }
    for (const op of BINARY_OPS) {
      const whole = fast.binary(op, x, [700], y, [700], [700]);
      for (const i of [0, 129, 699]) same([whole[i]], fast.binary(op, x.subarray(i, i + 1), [1], y.subarray(i, i + 1), [1], [1]), `${op}[${i}]`);
    }
  });

  it('matmul: row i of an m-row product is the one-row product of row i (NN, NT; TN via its own layout)', () => {
    const m = 37;
    const k = 300;
    const n = 21;
    const a = data(m * k, 7);
    const b = data(k * n, 8);
    for (const transB of [false, true]) {
      const spec = { batch: 1, m, k, n, transA: false, transB, aBatchStride: 0, bBatchStride: 0 };
      const whole = fast.matmul(a, b, spec);
      for (const i of [0, 5, 36]) {
        const row = fast.matmul(a.subarray(i * k, (i + 1) * k), b, { ...spec, m: 1 });
        same(whole.subarray(i * n, (i + 1) * n), row, `row ${i} transB=${transB}`);
      }
    }
  });

  it('softmax, logSoftmax, crossEntropy, layerNorm: each row as in a one-row call', () => {
    const rows = 9;
    const cols = 67;
    const x = data(rows * cols, 9, 5);
    const t = Int32Array.from({ length: rows }, (_, r) => (r * 5) % cols);
    const g = data(cols, 10);
    const sm = fast.softmax(x, rows, cols);
    const ls = fast.logSoftmax(x, rows, cols);
    const ce = fast.crossEntropy(x, rows, cols, t);
    const ln = fast.layerNorm(x, rows, cols, g, null, 1e-5);
    for (const r of [0, 4, 8]) {
      const xr = x.subarray(r * cols, (r + 1) * cols);
      same(sm.subarray(r * cols, (r + 1) * cols), fast.softmax(xr, 1, cols), `softmax row ${r}`);
      same(ls.subarray(r * cols, (r + 1) * cols), fast.logSoftmax(xr, 1, cols), `logSoftmax row ${r}`);
      same([ce[r]], fast.crossEntropy(xr, 1, cols, t.subarray(r, r + 1)), `crossEntropy row ${r}`);
      same(ln.y.subarray(r * cols, (r + 1) * cols), fast.layerNorm(xr, 1, cols, g, null, 1e-5).y, `layerNorm row ${r}`);
    }
  });
});

describe('float64 stays exactly the reference path', () => {
  it('every hot kernel on float64 input returns what cpu returns, bit for bit', () => {
    const x = Float64Array.from(data(6 * 9, 1, 4));
    const y = Float64Array.from(data(9 * 5, 2, 4));
    const same = (a: ArrayLike<number>, b: ArrayLike<number>) => expect(Array.from(a)).toEqual(Array.from(b));
    const spec: MatmulSpec = { batch: 1, m: 6, k: 9, n: 5, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 };
    const mm = fast.matmul(x, y, spec);
    expect(mm).toBeInstanceOf(Float64Array);
    same(mm, cpu.matmul(x, y, spec));
    same(fast.softmax(x, 6, 9), cpu.softmax(x, 6, 9));
    same(fast.logSoftmax(x, 6, 9), cpu.logSoftmax(x, 6, 9));
    const t = Int32Array.from([0, 3, -1, 8, 2, 1]);
    same(fast.crossEntropy(x, 6, 9, t), cpu.crossEntropy(x, 6, 9, t));
    const ln = fast.layerNorm(x, 6, 9, null, null, 1e-5);
    const lr = cpu.layerNorm(x, 6, 9, null, null, 1e-5);
    same(ln.y, lr.y);
    same(ln.rstd, lr.rstd);
    for (const op of UNARY_OPS) same(fast.unary(op, x), cpu.unary(op, x));
    for (const op of BINARY_OPS) same(fast.binary(op, x, [6, 9], y.subarray(0, 9), [9], [6, 9]), cpu.binary(op, x, [6, 9], y.subarray(0, 9), [9], [6, 9]));
  });

  it('is registered as "fast" and describes itself', () => {
    expect(fast.name).toBe('fast');
    expect(fast.describe()).toMatch(/WebAssembly SIMD/);
  });
});

describe('fast fused backward kernels', () => {
  // The fast backend runs the reference loops of fused.ts with resident float32 outputs: results must be
  // the reference backend's on the same float32 inputs, bit for bit (geluTanh's backward uses the SIMD tanh,
  // so it is held to float32 error bounds against the float64 reference instead).
  const args = fc.record({ rows: rowsArb, cols: colsArb, seed: fc.integer() });
  const same = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) =>
    expect(Buffer.from(Float32Array.from(got).buffer).equals(Buffer.from(Float32Array.from(want).buffer)), what).toBe(true);

  it('softmaxBackward, layerNormBackward and unaryBackward equal the reference kernels (geluTanh: within float32 rounding)', () => {
    fc.assert(
      fc.property(args, fc.boolean(), ({ rows, cols, seed }, withGamma) => {
        const x = data(rows * cols, seed, 3);
        const g = data(rows * cols, seed ^ 5, 1);
        const y = cpu.softmax(x, rows, cols);
        same(fast.softmaxBackward(y, g, rows, cols), cpu.softmaxBackward(y, g, rows, cols), 'softmaxBackward');
        const gamma = withGamma ? data(cols, seed ^ 7, 2) : null;
        const ln = cpu.layerNorm(x, rows, cols, gamma, null, 1e-5);
        const got = fast.layerNormBackward(x, ln.mean, ln.rstd, gamma, g, rows, cols);
        const want = cpu.layerNormBackward(x, ln.mean, ln.rstd, gamma, g, rows, cols);
        same(got.dx, want.dx, 'layerNorm dx');
        same(got.dgamma, want.dgamma, 'layerNorm dgamma');
        same(got.dbeta, want.dbeta, 'layerNorm dbeta');
        same(fast.unaryBackward('geluErf', x, g), cpu.unaryBackward('geluErf', x, g), 'geluErf');
        // geluTanh takes the WebAssembly tanh (as the forward does): float32 rounding of the float64 reference
        const gt = fast.unaryBackward('geluTanh', x, g);
        const wantGt = cpu.unaryBackward('geluTanh', f64(x), f64(g));
        expectClose(gt as Float32Array, wantGt, (i) => 64 * EPS * (Math.abs(g[i]) * (1 + Math.abs(x[i])) + 1e-30), 'geluTanh backward');
        expect(got.dx).toBeInstanceOf(Float32Array);
      }),
      { numRuns: 60 },
    );
  });
});
