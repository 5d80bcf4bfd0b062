import type { PreferenceExample } from '../formats/examples.js';
import { createRng } from '../random/rng.js';
import { sampleIndices } from '../random/shuffle.js';

/** round(rate · n), halves rounded up: the exact number of pairs label noise flips. */
export function labelNoiseCount(rate: number, n: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`label noise rate must be in [0, 1], got ${rate}`);
  return Math.round(rate * n);
}

/**
 * Swaps chosen and rejected in exactly round(rate · n) pairs, chosen at random with the seed.
 * `swap` says how to flip one pair (default: exchange the two texts and mark `meta.labelFlipped`).
 */
export function flipPreferenceLabels<P extends PreferenceExample>(
  pairs: ReadonlyArray<P>,
  options: { readonly rate: number; readonly seed: number },
  swap: (pair: P) => P = swapTexts,
): { pairs: P[]; flippedIndices: number[] } {
  const k = labelNoiseCount(options.rate, pairs.length);
  const flippedIndices = sampleIndices(createRng(options.seed), pairs.length, k).sort((a, b) => a - b);
  const out = pairs.slice();
  for (const i of flippedIndices) out[i] = swap(out[i]);
  return { pairs: out, flippedIndices };
}

function swapTexts<P extends PreferenceExample>(pair: P): P {
  return { ...pair, chosen: pair.rejected, rejected: pair.chosen, meta: { ...pair.meta, labelFlipped: true } };
}
