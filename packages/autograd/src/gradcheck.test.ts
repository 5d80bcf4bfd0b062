import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GradcheckError, customOp, gradcheck, matmul, mul, tensor, type Tensor } from './index.js';
import { randomTensor, seedArb } from './testing/arbitraries.js';

/**
 * gradcheck checks itself: ops with two inputs and several outputs whose VJP is wrong in exactly one place
 * (one input, or one output row) must fail in full and in fast mode; the same ops with the right VJP pass.
 */

/** Elementwise a·b with a VJP that is wrong (by a factor) for input 1 only. */
const productWrongForInput1 = customOp('productWrongInput1', (a, b) => mul(a, b), (g, _o, [a, b]) => [mul(g, b), mul(mul(g, a), 1.5)]);
const product = customOp('product', (a, b) => mul(a, b), (g, _o, [a, b]) => [mul(g, b), mul(g, a)]);

/** Rows of g with row `row` doubled: a cotangent that is wrong for one output row. */
function doubleRow(g: Tensor, row: number): Tensor {
  const [rows, cols] = g.shape;
  const scale = new Float64Array(rows * cols).fill(1);
  for (let c = 0; c < cols; c++) scale[row * cols + c] = 2;
  return mul(g, tensor(scale, { shape: [rows, cols], dtype: 'float64' }));
}

/** a @ b (a [2,3], b [3,2]) whose VJP for a is wrong only through output row 1. */
const matmulWrongRow1 = customOp('matmulWrongRow1', (a, b) => matmul(a, b), (g, _o, [a, b]) => [
  matmul(doubleRow(g, 1), b.transpose()),
  matmul(a.transpose(), g),
]);
const matmulRight = customOp('matmulRight', (a, b) => matmul(a, b), (g, _o, [a, b]) => [matmul(g, b.transpose()), matmul(a.transpose(), g)]);

describe('gradcheck with several inputs and outputs', () => {
  it('passes right VJPs (control) in both modes', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const a = randomTensor([2, 3], seed);
        const b = randomTensor([2, 3], seed + 1);
        const p = randomTensor([3, 2], seed + 2);
        return (
          gradcheck(product, [a, b]) &&
          gradcheck(product, [a, b], { fastMode: true }) &&
          gradcheck(matmulRight, [a, p]) &&
          gradcheck(matmulRight, [a, p], { fastMode: true })
        );
      }),
      { numRuns: 10 },
    );
  });

  it('catches a VJP wrong only for the second input, naming it, in full and fast mode', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const a = randomTensor([2, 3], seed, 'awayFromZero');
        const b = randomTensor([2, 3], seed + 1, 'awayFromZero');
        expect(() => gradcheck(productWrongForInput1, [a, b])).toThrow(/input 1\[/);
        expect(() => gradcheck(productWrongForInput1, [a, b], { fastMode: true })).toThrow(/input 1 of/);
        return true;
      }),
      { numRuns: 10 },
    );
  });

  it('catches a VJP wrong only through one output row, in full and fast mode', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const a = randomTensor([2, 3], seed, 'awayFromZero');
        const b = randomTensor([3, 2], seed + 1, 'awayFromZero');
        // Full mode names an entry of output row 1 (flat indices 2 and 3 of the [2, 2] output) and input 0.
        expect(() => gradcheck(matmulWrongRow1, [a, b])).toThrow(/d output\[[23]\] \/ d input 0\[/);
        expect(() => gradcheck(matmulWrongRow1, [a, b], { fastMode: true })).toThrow(GradcheckError);
        return true;
      }),
      { numRuns: 10 },
    );
  });

  it("fast mode draws a new projection per call unless seeded, and names the seed to replay a failure", () => {
    const a = randomTensor([2, 3], 7, 'awayFromZero');
    const b = randomTensor([2, 3], 8, 'awayFromZero');
    const messageOf = (options: { seed?: number }) => {
      try {
        gradcheck(productWrongForInput1, [a, b], { fastMode: true, ...options });
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('gradcheck passed a wrong VJP');
    };
    const first = messageOf({});
    const second = messageOf({});
    expect(first).not.toEqual(second);
    const seed = Number(/\(seed (\d+)\)/.exec(first)![1]);
    expect(messageOf({ seed })).toEqual(first);
    expect(messageOf({ seed: 3 })).toEqual(messageOf({ seed: 3 }));
  });
});
