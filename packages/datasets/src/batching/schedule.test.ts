import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { epochBatches, splitTrainEval, trainingBatches } from './schedule.js';

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('splits, epochs and batches', () => {
  test.prop([fc.integer(), fc.nat(60), fc.double({ min: 0, max: 1, noNaN: true })])('a split is a seeded partition', (seed, n, fraction) => {
    const items = range(n);
    const { train, eval: held } = splitTrainEval(items, { seed, evalFraction: fraction });
    expect(held).toHaveLength(Math.round(fraction * n));
    expect(sorted([...train, ...held])).toEqual(items);
    expect(splitTrainEval(items, { seed, evalFraction: fraction })).toEqual({ train, eval: held });
  });

  test.prop([fc.integer(), fc.nat(50), fc.integer({ min: 1, max: 8 }), fc.boolean()])('each epoch covers the items once, in batches', (seed, n, batchSize, dropLast) => {
    const items = range(n);
    const batches = epochBatches(items, 0, { seed, batchSize, dropLast });
    const flat = batches.flat();
    if (dropLast) expect(flat).toHaveLength(n - (n % batchSize));
    else expect(sorted(flat)).toEqual(items);
    expect(batches.every((b) => b.length === batchSize || (!dropLast && b === batches.at(-1)))).toBe(true);
    expect(epochBatches(items, 0, { seed, batchSize, dropLast })).toEqual(batches);
  });

  it('epochs are reshuffled, deterministically', () => {
    const items = range(30);
    const e0 = epochBatches(items, 0, { seed: 1, batchSize: 30 })[0];
    const e1 = epochBatches(items, 1, { seed: 1, batchSize: 30 })[0];
    expect(e0).not.toEqual(e1);
    const run = [...trainingBatches(items, 3, { seed: 1, batchSize: 7 })];
    expect(run).toHaveLength(15);
    expect(run.map((b) => b.step)).toEqual(range(15));
    expect(run[0].items).toEqual(e0.slice(0, 7));
    expect(() => epochBatches(items, 0, { seed: 1, batchSize: 0 })).toThrow(/batchSize/);
  });
});
