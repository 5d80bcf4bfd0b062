import { AdamW, backward, clipGradNorm, mul, type Optimizer, type Tensor } from '@ganpo/autograd';
import type { Ganpo } from '@ganpo/adversarial';
import type { CausalLM } from '@ganpo/models';
import type { LoopConfig } from '../config/runConfig.js';
import { NonFiniteError } from '../errors.js';
import type { LoadedTraining, TrainStage } from './checkpoints.js';
import { type BatchOrder, lrSchedule } from './schedule.js';

/**
 * One optimizer step of a stage, and what a stage is ({@link StageDescription}): the part of the training loop
 * with no file system in it, so the web page (apps/web) trains with this very code. loop.ts adds resume,
 * metrics, checkpoints and interruption around it.
 */

/** What one micro-batch contributes to an optimizer step. */
export interface MicroBatchResult {
  /** The micro-batch's loss; its gradient is accumulated (scaled by 1/gradAccum). */
  readonly loss: Tensor;
  /** Metrics as plain numbers (the loss is added first), averaged over the step's micro-batches. */
  readonly values: Record<string, number>;
  /** Real tokens in the micro-batch (for tokens/s). */
  readonly tokens: number;
}

export interface StageDescription<Item> {
  readonly name: TrainStage;
  /** Progress-bar label. */
  readonly label: string;
  readonly loop: LoopConfig;
  readonly totalSteps: number;
  /** Micro-batch i of the stage (a pure function of i, so a resumed run sees the same batches). */
  readonly order: BatchOrder<Item>;
  /** Called once per optimizer step with its micro-batches, before their losses (GANPO's discriminator update). */
  beforeStep?(step: number, batches: readonly (readonly Item[])[]): void;
  /** The loss of one micro-batch (`micro` of the step's gradAccum), or null for an empty one. */
  microBatch(items: readonly Item[], step: number, micro: number): MicroBatchResult | null;
  /** Evaluation metrics (by name) of the model as it is now. */
  evaluate(): Record<string, number>;
  /** The fields the progress bar shows, from a step's values. */
  progress(values: Record<string, number>): Record<string, number | string>;
  /** GANPO state saved with each checkpoint (null: the stage has none). */
  adversary(): Ganpo | null;
}

/** Where a stage starts: its model and optimizer, fresh or restored from the stage's checkpoint. */
export interface StageStart {
  readonly model: CausalLM;
  readonly optimizer: Optimizer;
  /** Optimizer steps already done. */
  readonly step: number;
  readonly seconds: number;
  readonly tokens: number;
  /** The checkpoint resumed from (its extra state is the stage's to restore), or null. */
  readonly checkpoint: LoadedTraining | null;
}

export function newOptimizer(model: CausalLM, loop: LoopConfig, totalSteps: number): Optimizer {
  // Only trainable parameters (with LoRA, the adapters): frozen weights get no optimizer state.
  return new AdamW(model.namedParameters().filter(([, p]) => p.requiresGrad), { lr: loop.lr, weightDecay: loop.weightDecay, schedule: lrSchedule(loop, totalSteps) });
}

function firstNonFinite(values: Record<string, number>): [string, number] | null {
  if ('loss' in values && !Number.isFinite(values.loss)) return ['loss', values.loss];
  for (const [k, v] of Object.entries(values)) if (typeof v === 'number' && !Number.isFinite(v)) return [k, v];
  return null;
}

const gradNorm = (params: readonly Tensor[]): number => {
  let acc = 0;
  for (const p of new Set(params)) {
    const g = p.grad;
    if (!g) continue;
    for (let i = 0; i < g.data.length; i++) acc += g.data[i] * g.data[i];
  }
  return Math.sqrt(acc);
};

function addInto(acc: Record<string, number>, values: Record<string, number>, weight: number): void {
  for (const [k, v] of Object.entries(values)) acc[k] = (acc[k] ?? 0) + v * weight;
}

/** One optimizer step: the micro-batches' losses accumulated, the NaN guard, clipping, the update. */
export function optimizerStep<Item>(stage: StageDescription<Item>, start: StageStart, k: number, nanAt: number | null, lastCheckpoint: string | null) {
  const { loop, order } = stage;
  const { model, optimizer } = start;
  model.train();
  const batches = Array.from({ length: loop.gradAccum }, (_, a) => order.at(k * loop.gradAccum + a).items);
  stage.beforeStep?.(k, batches);
  let tokens = 0;
  const acc: Record<string, number> = {};
  for (let a = 0; a < loop.gradAccum; a++) {
    const out = stage.microBatch(batches[a], k, a);
    if (!out) continue;
    const loss = nanAt === k + 1 ? mul(out.loss, Number.NaN) : out.loss;
    const values = { loss: loss.item(), ...out.values };
    const bad = firstNonFinite(values);
    if (bad) throw new NonFiniteError(stage.name, k + 1, bad[0], bad[1], lastCheckpoint);
    backward(loop.gradAccum === 1 ? loss : mul(loss, 1 / loop.gradAccum));
    addInto(acc, values, 1 / loop.gradAccum);
    tokens += out.tokens;
  }
  const params = model.parameters();
  const norm = loop.clip > 0 ? clipGradNorm(params, loop.clip) : gradNorm(params);
  if (!Number.isFinite(norm)) {
    optimizer.zeroGrad();
    throw new NonFiniteError(stage.name, k + 1, 'grad_norm', norm, lastCheckpoint);
  }
  optimizer.step();
  optimizer.zeroGrad();
  return { values: { ...acc, learning_rate: optimizer.lr, grad_norm: norm }, tokens, epoch: ((k + 1) * loop.gradAccum) / order.perEpoch };
}
