import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../cpu.js';
import { broadcastStrides, contiguousStrides, sizeOf } from '../shape.js';
import { outputF32 } from './runtime.js';
import { concatFast, copyStridedFast, indexAddFast, indexSelectFast, padFast, reduceFast } from './strided.js';

// Property: the fast movement and reduction loops give bit-identical results to the reference backend
// (float32 and float64), on random shapes with size-1 and zero-size axes, permutations, slices, broadcasts.

const shapeArb = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 4 });
const data = (n: number, seed: number, f64: boolean) => {
  const out = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(seed + i * 12.9898) * 43758.5453 % 7;
  return out;
};
/**
 * The same values, in WebAssembly memory when asked (float32 only) as a previous kernel's output would be: the
 * copies then take their in-memory path (copyWithin on the memory), which a fresh array never reaches.
 */
const place = (x: Float32Array | Float64Array, resident: boolean) => {
  if (!resident || x instanceof Float64Array) return x;
  const out = outputF32(x.length);
  out.set(x);
  return out;
};

describe('fast strided copies equal the reference', () => {
  it('permutations, slices (offset + strides) and broadcasts', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer(), fc.boolean(), fc.nat(), fc.boolean(), (shape, seed, f64, pick, resident) => {
        const x = place(data(sizeOf(shape), seed, f64), resident);
        const own = contiguousStrides(shape);
        const perm = shape.map((_, i) => i).sort((a, b) => ((a * 7 + pick) % 5) - ((b * 7 + pick) % 5));
        const cases: [number[], number[], number][] = [
          [perm.map((p) => shape[p]), perm.map((p) => own[p]), 0],
          [shape.map((d) => Math.max(d - 1, 0)), own, shape.length && shape.every((d) => d > 1) ? own.reduce((a, b) => a + b, 0) : 0],
          [[3, ...shape], broadcastStrides(shape, [3, ...shape]), 0],
        ];
        for (const [outShape, strides, offset] of cases) {
          expect(copyStridedFast(x, outShape, strides, offset)).toEqual(cpuBackend.copyStrided(x, outShape, strides, offset));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('fast reductions equal the reference bit for bit', () => {
  it('sum, max and min over random axes', () => {
    fc.assert(
      fc.property(shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.subarray(s.map((_, i) => i)))), fc.integer(), fc.boolean(), ([shape, axes], seed, f64) => {
        const x = data(sizeOf(shape), seed, f64);
        for (const op of ['sum', 'max', 'min'] as const) {
          expect(reduceFast(op, x, shape, axes)).toEqual(cpuBackend.reduce(op, x, shape, axes));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('NaN propagates as in the reference', () => {
    const x = Float32Array.from([1, NaN, 3, 4]);
    for (const op of ['sum', 'max', 'min'] as const) {
      expect(reduceFast(op, x, [2, 2], [1])).toEqual(cpuBackend.reduce(op, x, [2, 2], [1]));
      expect(reduceFast(op, x, [2, 2], [0])).toEqual(cpuBackend.reduce(op, x, [2, 2], [0]));
    }
  });
});

describe('fast index, concat and pad kernels equal the reference', () => {
  const withAxis = shapeArb.filter((s) => s.length > 0).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 })));
  it('indexSelect and indexAdd (repeated indices)', () => {
    fc.assert(
      fc.property(withAxis, fc.array(fc.nat(), { maxLength: 6 }), fc.integer(), fc.boolean(), fc.boolean(), ([shape, axis], raw, seed, f64, resident) => {
        if (shape[axis] === 0) return;
        const idx = Int32Array.from(raw.map((r) => r % shape[axis]));
        const x = place(data(sizeOf(shape), seed, f64), resident);
        expect(indexSelectFast(x, shape, axis, idx)).toEqual(cpuBackend.indexSelect(x, shape, axis, idx));
        const src = data(sizeOf(shape.map((d, i) => (i === axis ? idx.length : d))), seed + 1, f64);
        expect(indexAddFast(shape, axis, idx, src)).toEqual(cpuBackend.indexAdd(shape, axis, idx, src));
      }),
      { numRuns: 300 },
    );
  });
  it('concat and pad', () => {
    fc.assert(
      fc.property(withAxis, fc.integer({ min: 0, max: 3 }), fc.integer(), fc.boolean(), fc.boolean(), ([shape, axis], extra, seed, f64, resident) => {
        const other = shape.map((d, i) => (i === axis ? extra : d));
        const xs = [place(data(sizeOf(shape), seed, f64), resident), data(sizeOf(other), seed + 1, f64)];
        expect(concatFast(xs, [shape, other], axis)).toEqual(cpuBackend.concat(xs, [shape, other], axis));
        const before = shape.map((_, i) => Math.abs(i + seed) % 3);
        const after = shape.map((_, i) => Math.abs(i * 2 + seed) % 2);
        expect(padFast(xs[0], shape, before, after, 0.5)).toEqual(cpuBackend.pad(xs[0], shape, before, after, 0.5));
      }),
      { numRuns: 300 },
    );
  });
});
