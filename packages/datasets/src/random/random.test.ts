import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, pickWeighted, randomInt } from './rng.js';
import { sampleIndices, shuffled } from './shuffle.js';

describe('seeded randomness', () => {
  test.prop([fc.integer(), fc.array(fc.integer(), { maxLength: 40 })])('shuffled is a permutation, the same for the same seed', (seed, items) => {
    const a = shuffled(items, seed);
    expect(a).toEqual(shuffled(items, seed));
    expect([...a].sort((x, y) => x - y)).toEqual([...items].sort((x, y) => x - y));
  });

  test.prop([fc.integer(), fc.nat(50).chain((n) => fc.tuple(fc.constant(n), fc.nat(n)))])(
    'sampleIndices draws k distinct indices below n',
    (seed, [n, k]) => {
      const idx = sampleIndices(createRng(seed), n, k);
      expect(idx).toHaveLength(k);
      expect(new Set(idx).size).toBe(k);
      expect(idx.every((i) => i >= 0 && i < n)).toBe(true);
    },
  );

  it('derived seeds differ by salt and by seed, and are stable', () => {
    expect(deriveSeed(1, 'sft')).toBe(deriveSeed(1, 'sft'));
    expect(deriveSeed(1, 'sft')).not.toBe(deriveSeed(1, 'train'));
    expect(deriveSeed(1, 'sft')).not.toBe(deriveSeed(2, 'sft'));
  });

  it('the same seed replays the same draws', () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 20 }, () => randomInt(rng, 0, 1000));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('pickWeighted never picks a zero weight', () => {
    const rng = createRng(3);
    for (let i = 0; i < 500; i++) expect(pickWeighted(rng, [0, 2, 0, 1, 0])).toSatisfy((k: number) => k === 1 || k === 3);
  });
});
