import { tensor } from '@ganpo/autograd';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pairHalf, pairMaskHalf } from './logps.js';

// Collation puts every chosen row before every rejected one: the halves must be exactly those row ranges.
describe('pairHalf and pairMaskHalf', () => {
  it('the chosen half is rows [0, n) and the rejected half rows [n, 2n), for any trailing shape', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), (n, rest) => {
        const rowSize = rest.reduce((a, d) => a * d, 1);
        const data = Float64Array.from({ length: 2 * n * rowSize }, (_, i) => i);
        const t = tensor(data, { shape: [2 * n, ...rest], dtype: 'float64' });
        const chosen = pairHalf(t, 0);
        const rejected = pairHalf(t, 1);
        expect(chosen.shape).toEqual([n, ...rest]);
        expect(chosen.toFlat()).toEqual(Array.from(data.subarray(0, n * rowSize)));
        expect(rejected.toFlat()).toEqual(Array.from(data.subarray(n * rowSize)));
      }),
    );
  });

  it('splits a [rows, seqLen] mask the same way', () => {
    // 4 rows × 3 positions: rows 0-1 chosen, rows 2-3 rejected.
    const mask = Float32Array.from([1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1]);
    expect(pairMaskHalf(mask, 4, 3, 0).shape).toEqual([2, 3]);
    expect(pairMaskHalf(mask, 4, 3, 0).toFlat()).toEqual([1, 1, 0, 1, 0, 0]);
    expect(pairMaskHalf(mask, 4, 3, 1).toFlat()).toEqual([1, 1, 1, 0, 1, 1]);
  });
});
