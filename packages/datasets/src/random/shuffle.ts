import { createRng, randomInt, type Rng } from './rng.js';

/** A new array with the items in a uniformly random order (Fisher–Yates); the input is not changed. */
export function shuffleWith<T>(rng: Rng, items: ReadonlyArray<T>): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(rng, 0, i);
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}

/** `shuffleWith` on a fresh generator for `seed`: the same seed always gives the same order. */
export function shuffled<T>(items: ReadonlyArray<T>, seed: number): T[] {
  return shuffleWith(createRng(seed), items);
}

/** k distinct indices of [0, n), in random order (a partial Fisher–Yates). */
export function sampleIndices(rng: Rng, n: number, k: number): number[] {
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`sampleIndices: cannot draw ${k} of ${n}`);
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = randomInt(rng, i, n - 1);
    const tmp = pool[i];
    pool[i] = pool[j];
    pool[j] = tmp;
  }
  return pool.slice(0, k);
}
