import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * A seeded random generator. It is mutable: every draw advances it, so the same seed and the same
 * sequence of calls give the same values, bit for bit.
 */
export type Rng = RandomGenerator;

/** A generator for a 32-bit integer seed (other numbers are truncated to 32 bits). */
export function createRng(seed: number): Rng {
  return xoroshiro128plus(seed | 0);
}

/**
 * A seed for one named sub-stream of a run, so that (for example) the SFT set does not change when the
 * number of preference pairs does. FNV-1a over the salt, then mixed with the seed by murmur3's finalizer.
 */
export function deriveSeed(seed: number, salt: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < salt.length; i++) {
    h ^= salt.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= seed | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** A uniform integer in [min, max], both included. */
export function randomInt(rng: Rng, min: number, max: number): number {
  return uniformInt(rng, min, max);
}

/** A uniform float in [0, 1). */
export function randomUnit(rng: Rng): number {
  return uniformFloat64(rng);
}

/** True with probability p. */
export function bernoulli(rng: Rng, p: number): boolean {
  return uniformFloat64(rng) < p;
}

/** One element chosen uniformly; the array must not be empty. */
export function pickOne<T>(rng: Rng, items: ReadonlyArray<T>): T {
  if (items.length === 0) throw new Error('pickOne: empty array');
  return items[uniformInt(rng, 0, items.length - 1)];
}

/** An index drawn with probability proportional to its (non-negative) weight. */
export function pickWeighted(rng: Rng, weights: ReadonlyArray<number>): number {
  const total = weights.reduce((a, w) => a + w, 0);
  if (!(total > 0)) throw new Error('pickWeighted: weights must sum to a positive number');
  let u = uniformFloat64(rng) * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  // Rounding can leave u at a hair above 0: fall back to the last index with positive weight.
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return weights.length - 1;
}
