import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpuBackend as cpu } from './cpu.js';
import { broadcastShapes, sizeOf } from './shape.js';

// Independent oracles written over multi-indices (not strides), to check the reference backend itself.

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 });

function* multiIndices(shape: readonly number[]): Generator<number[]> {
  const idx = shape.map(() => 0);
  for (let n = 0; n < sizeOf(shape); n++) {
    yield [...idx];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

const flatIndex = (shape: readonly number[], idx: readonly number[]) => idx.reduce((acc, i, d) => acc * shape[d] + i, 0);
const values = (n: number, seed: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(seed * 7.31 + i * 1.77) * 3);

/** NumPy's rule, stated directly: align right, each pair of dims equal or one of them 1. */
function numpyBroadcast(a: readonly number[], b: readonly number[]): number[] | null {
  const out: number[] = [];
  for (let i = 1; i <= Math.max(a.length, b.length); i++) {
    const x = a[a.length - i] ?? 1;
    const y = b[b.length - i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.unshift(Math.max(x, y));
  }
  return out;
}

describe('NumPy broadcasting', () => {
  it('broadcastShapes agrees with the rule on random shape pairs (compatible or not)', () => {
    fc.assert(
      fc.property(shapeArb, shapeArb, (a, b) => {
        const expected = numpyBroadcast(a, b);
        if (expected === null) {
          expect(() => broadcastShapes('add', a, b)).toThrow(/add: shapes .* do not broadcast/);
        } else {
          expect(broadcastShapes('add', a, b)).toEqual(expected);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('binary kernels read each operand at the broadcast index', () => {
    const pair = shapeArb.chain((s) =>
      fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length }), fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length })),
    );
    fc.assert(
      fc.property(pair, fc.integer(), ([s, drop, ones], seed) => {
        const t = s.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d));
        const a = values(sizeOf(s), seed);
        const b = values(sizeOf(t), seed + 1);
        const out = cpu.binary('sub', a, s, b, t, s);
        for (const idx of multiIndices(s)) {
          const bi = idx.slice(drop).map((v, d) => (t[d] === 1 ? 0 : v));
          expect(out[flatIndex(s, idx)]).toBe(a[flatIndex(s, idx)] - b[flatIndex(t, bi)]);
        }
      }),
    );
  });
});

describe('reductions match naive loops', () => {
  it('sum, max and min over random axes', () => {
    const withAxes = shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.subarray(s.map((_, i) => i))));
    fc.assert(
      fc.property(withAxes, fc.integer(), ([s, axes], seed) => {
        const x = values(sizeOf(s), seed);
        const outShape = s.map((d, i) => (axes.includes(i) ? 1 : d));
        for (const op of ['sum', 'max', 'min'] as const) {
          const got = cpu.reduce(op, x, s, axes);
          for (const o of multiIndices(outShape)) {
            let acc = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
            for (const idx of multiIndices(s)) {
              if (idx.every((v, d) => axes.includes(d) || v === o[d])) {
                const v = x[flatIndex(s, idx)];
                acc = op === 'sum' ? acc + v : op === 'max' ? Math.max(acc, v) : Math.min(acc, v);
              }
            }
            expect(got[flatIndex(outShape, o)]).toBeCloseTo(acc, 12);
          }
        }
      }),
    );
  });
});

describe('other reference kernels', () => {
  it('matmul in every layout matches the textbook triple loop', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), fc.boolean(), (m, k, n, ta, tb) => {
        const A = values(m * k, m);
        const B = values(k * n, n);
        const a = (i: number, q: number) => A[i * k + q];
        const b = (q: number, j: number) => B[q * n + j];
        // Store transposed copies when the layout asks for them.
        const aStored = ta ? Float64Array.from({ length: m * k }, (_, p) => a(p % m, Math.floor(p / m))) : A;
        const bStored = tb ? Float64Array.from({ length: k * n }, (_, p) => b(p % k, Math.floor(p / k))) : B;
        const out = cpu.matmul(aStored, bStored, { batch: 1, m, k, n, transA: ta, transB: tb, aBatchStride: 0, bBatchStride: 0 });
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let acc = 0;
            for (let q = 0; q < k; q++) acc += a(i, q) * b(q, j);
            expect(out[i * n + j]).toBeCloseTo(acc, 12);
          }
        }
      }),
    );
  });

  it('sort is stable, orders NaN last, and returns a permutation', () => {
    const { values: v, indices } = cpu.sort(Float64Array.from([3, NaN, 1, 3, -2]), 1, 5, false);
    expect(Array.from(v).slice(0, 4)).toEqual([-2, 1, 3, 3]);
    expect(Number.isNaN(v[4])).toBe(true);
    expect(Array.from(indices)).toEqual([4, 2, 0, 3, 1]);
    expect(Array.from(cpu.sort(Float64Array.from([1, 2, 2]), 1, 3, true).indices)).toEqual([1, 2, 0]);
  });

  it('softmax rows sum to 1 and logSoftmax is stable for huge logits', () => {
    const x = Float64Array.from([1000, 0, -1000, 5, 5, 5]);
    const p = cpu.softmax(x, 2, 3);
    expect(p[0] + p[1] + p[2]).toBeCloseTo(1, 12);
    expect(Array.from(cpu.logSoftmax(x, 2, 3)).every(Number.isFinite)).toBe(true);
    expect(cpu.crossEntropy(x, 2, 3, Int32Array.from([2, -1]))[0]).toBeCloseTo(2000, 9);
  });
});

describe('crossEntropyBackward', () => {
  it('equals (softmax − onehot)·g computed from the formula, with ignored rows zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 7 }), fc.integer(), (rows, cols, seed) => {
        const x = values(rows * cols, seed);
        const g = values(rows, seed + 1);
        const t = Int32Array.from({ length: rows }, (_, r) => ((Math.abs(seed) + r) % (cols + 1)) - 1);
        const got = cpu.crossEntropyBackward(x, rows, cols, t, g);
        for (let r = 0; r < rows; r++) {
          const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
          const z = row.reduce((acc, v) => acc + Math.exp(v), 0);
          row.forEach((v, c) => {
            const expected = t[r] < 0 ? 0 : (Math.exp(v) / z - (c === t[r] ? 1 : 0)) * g[r];
            expect(got[r * cols + c]).toBeCloseTo(expected, 12);
          });
        }
      }),
    );
  });
});
