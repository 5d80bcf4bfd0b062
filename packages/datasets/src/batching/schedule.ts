import { createRng, deriveSeed } from '../random/rng.js';
import { shuffled, shuffleWith } from '../random/shuffle.js';

export interface SplitOptions {
  readonly seed: number;
  /** Fraction of the items held out for evaluation, in [0, 1]; rounded to the nearest count. */
  readonly evalFraction?: number;
  /** Exact number of evaluation items (wins over evalFraction). */
  readonly evalSize?: number;
}

/** A seeded train/eval split: the same seed and items always give the same split. */
export function splitTrainEval<T>(items: ReadonlyArray<T>, options: SplitOptions): { train: T[]; eval: T[] } {
  const evalSize = options.evalSize ?? Math.round((options.evalFraction ?? 0) * items.length);
  if (!Number.isInteger(evalSize) || evalSize < 0 || evalSize > items.length)
    throw new RangeError(`eval size must be an integer in 0..${items.length}, got ${evalSize}`);
  const order = shuffled(items, deriveSeed(options.seed, 'split'));
  return { eval: order.slice(0, evalSize), train: order.slice(evalSize) };
}

export interface EpochOptions {
  readonly batchSize: number;
  readonly seed: number;
  /** Leave out the last, smaller batch (default false). */
  readonly dropLast?: boolean;
}

/** The batches of one epoch: the items reshuffled with a seed derived from (seed, epoch). */
export function epochBatches<T>(items: ReadonlyArray<T>, epoch: number, options: EpochOptions): T[][] {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const order = shuffleWith(createRng(deriveSeed(options.seed, `epoch:${epoch}`)), items);
  const batches: T[][] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const batch = order.slice(start, start + batchSize);
    if (batch.length < batchSize && options.dropLast) break;
    batches.push(batch);
  }
  return batches;
}

export interface TrainingBatch<T> {
  readonly epoch: number;
  /** Step number over the whole run, from 0. */
  readonly step: number;
  readonly items: T[];
}

/** All batches of `epochs` epochs in order, each epoch reshuffled deterministically. */
export function* trainingBatches<T>(items: ReadonlyArray<T>, epochs: number, options: EpochOptions): Generator<TrainingBatch<T>> {
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++)
    for (const batch of epochBatches(items, epoch, options)) yield { epoch, step: step++, items: batch };
}
