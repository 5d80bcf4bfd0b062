import { constantSchedule, cosineWithWarmup, linearWarmup, linearWithWarmup, type Schedule } from '@ganpo/autograd';
import { epochBatches } from '@ganpo/datasets';
import type { LoopConfig } from '../config/runConfig.js';

/** A stage's learning-rate schedule, its length in optimizer steps, and the order of its micro-batches. */

export function lrSchedule(loop: LoopConfig, totalSteps: number): Schedule {
  const warmupSteps = Math.min(loop.warmup, totalSteps);
  switch (loop.schedule) {
    case 'cosine':
      return cosineWithWarmup({ lr: loop.lr, warmupSteps, totalSteps: Math.max(totalSteps, warmupSteps), minLr: 0 });
    case 'linear':
      return linearWithWarmup({ lr: loop.lr, warmupSteps, totalSteps: Math.max(totalSteps, warmupSteps) });
    default:
      return warmupSteps > 0 ? linearWarmup({ lr: loop.lr, warmupSteps }) : constantSchedule(loop.lr);
  }
}

/**
 * Micro-batch i of a stage: epoch e = ⌊i / batchesPerEpoch⌋, reshuffled with a seed derived from (run
 * seed, stage, e). A pure function of i, so a resumed run sees exactly the batches it would have seen.
 */
export class BatchOrder<T> {
  readonly perEpoch: number;
  private cached: { epoch: number; batches: T[][] } | null = null;
  constructor(
    private readonly items: readonly T[],
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    const full = Math.floor(items.length / batchSize);
    this.perEpoch = Math.max(1, full);
  }
  at(i: number): { items: T[]; epoch: number } {
    const epoch = Math.floor(i / this.perEpoch);
    if (!this.cached || this.cached.epoch !== epoch) {
      // Full batches only (the last, smaller one is dropped), unless the data is smaller than a batch.
      const batches = epochBatches(this.items, epoch, { batchSize: this.batchSize, seed: this.seed, dropLast: this.items.length >= this.batchSize });
      this.cached = { epoch, batches };
    }
    return { items: this.cached.batches[i % this.perEpoch], epoch };
  }
}

export function stageSteps(loop: LoopConfig, items: number): number {
  if (loop.epochs === null) return loop.steps;
  const perEpoch = Math.max(1, Math.floor(items / loop.batchSize));
  return Math.max(1, Math.ceil((loop.epochs * perEpoch) / loop.gradAccum));
}
