import { join } from 'node:path';
import type { Tokenizer } from '@ganpo/datasets';
import type { CausalLM } from '@ganpo/models';
import type { LoopConfig, RunConfig } from '../config/runConfig.js';
import { Interrupted } from '../errors.js';
import type { MetricsWriter } from '../util/metrics.js';
import type { Progress } from '../util/progress.js';
import { type LatestPointer, loadTrainingCheckpoint, readLatest, restoreOptimizer, saveTrainingCheckpoint, type TrainStage } from './checkpoints.js';
import { newOptimizer, optimizerStep, type StageDescription, type StageStart } from './step.js';

export { newOptimizer, optimizerStep, type MicroBatchResult, type StageDescription, type StageStart } from './step.js';

/**
 * The training loop, once for every stage (TRL's split: the base trainer owns the loop, a method supplies its
 * loss). A stage is data, a {@link StageDescription}: its batches, the loss of one micro-batch, its evaluation and
 * the extra state it checkpoints. {@link openStage} finds where a stage starts (fresh, or from its checkpoint on
 * resume); {@link runStage} runs it: gradient accumulation, the NaN guard, clipping, the optimizer step,
 * metrics, periodic and final checkpoints, `--stop-at` and Ctrl-C.
 */

/** The start of stage `name`: from the run's latest checkpoint when it belongs to this stage, else fresh from `model`. */
export function openStage(runDir: string, pointer: LatestPointer | null, name: TrainStage, model: CausalLM, loop: LoopConfig, totalSteps: number): StageStart {
  if (pointer?.stage !== name) return { model, optimizer: newOptimizer(model, loop, totalSteps), step: 0, seconds: 0, tokens: 0, checkpoint: null };
  const ck = loadTrainingCheckpoint(runDir, pointer);
  const optimizer = newOptimizer(ck.model, loop, totalSteps);
  restoreOptimizer(optimizer, ck.state.optimizer, ck.optimizerTensors, ck.dir);
  return { model: ck.model, optimizer, step: ck.state.step, seconds: ck.state.seconds, tokens: ck.state.tokens, checkpoint: ck };
}

/** What the loop needs from the run around it. */
export interface LoopEnv {
  readonly runDir: string;
  readonly log: RunConfig['log'];
  readonly tokenizer: Tokenizer;
  readonly metrics: MetricsWriter;
  readonly progress?: Progress;
  readonly say: (line: string) => void;
  readonly interrupt?: { requested: boolean };
  /** Stop (with a checkpoint) after this step of this stage. */
  readonly stopAt?: { stage: TrainStage; step: number };
  /** Testing hook: make the loss NaN at this step of this stage. */
  readonly injectNanAt?: { stage: TrainStage; step: number };
  /** Called once, after the first optimizer step of the run completes (the old run set aside may go then). */
  readonly onFirstStep?: () => void;
}

export interface StageOutcome {
  readonly status: 'done' | 'stopped';
  readonly seconds: number;
  readonly tokens: number;
  /** The newest checkpoint of the stage (null if none was written). */
  readonly lastCheckpoint: string | null;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Runs `stage` from `start` to its last step. Each step: micro-batches, update, metrics (every `log.interval`
 * steps, at evaluations and at the end), evaluation (every `log.evalInterval`), checkpoints (every
 * `log.saveInterval`, at the end, at `--stop-at` and on Ctrl-C). Ctrl-C stops after the current step with its
 * checkpoint saved (Interrupted); a NaN stops before the bad update (NonFiniteError).
 */
export async function runStage<Item>(stage: StageDescription<Item>, start: StageStart, env: LoopEnv): Promise<StageOutcome> {
  const { name, totalSteps } = stage;
  const { log: logConfig, interrupt } = env;
  const task = env.progress?.start(stage.label, totalSteps, 'steps');
  task?.update(start.step);
  let seconds = start.seconds;
  let tokens = start.tokens;
  let lastCheckpoint: string | null = start.checkpoint?.dir ?? null;
  const save = (k: number, done: boolean) => {
    lastCheckpoint = saveTrainingCheckpoint({
      runDir: env.runDir,
      stage: name,
      step: k,
      totalSteps,
      stageDone: done,
      model: start.model,
      tokenizer: env.tokenizer,
      optimizer: start.optimizer,
      ganpo: stage.adversary(),
      seconds,
      tokens,
      keep: logConfig.keepCheckpoints,
    });
    env.metrics.sync();
  };
  const outcome = (status: StageOutcome['status']): StageOutcome => ({ status, seconds, tokens, lastCheckpoint });
  if (interrupt?.requested === true && start.step < totalSteps) {
    // Interrupted at the very end of the previous stage: stop before this one starts (its checkpoint is saved).
    task?.done();
    const latest = readLatest(env.runDir);
    throw new Interrupted(name, start.step, lastCheckpoint ?? (latest ? join(env.runDir, latest.dir) : null));
  }
  const nanAt = env.injectNanAt?.stage === name ? env.injectNanAt.step : null;
  let last: Record<string, number> = {};
  for (let k = start.step; k < totalSteps; k++) {
    const started = performance.now();
    const out = optimizerStep(stage, start, k, nanAt, lastCheckpoint);
    const stepSeconds = (performance.now() - started) / 1000;
    seconds += stepSeconds;
    tokens += out.tokens;
    const done = k + 1;
    const values: Record<string, number> = { ...out.values, tokens_per_s: out.tokens / Math.max(stepSeconds, 1e-9), epoch: out.epoch };
    const evalNow = logConfig.evalInterval > 0 && (done % logConfig.evalInterval === 0 || done === totalSteps);
    if (evalNow) Object.assign(values, stage.evaluate());
    if (done % logConfig.interval === 0 || done === totalSteps || evalNow) {
      env.metrics.write({ stage: name, step: done, ...values, elapsed_s: Math.round(seconds * 1000) / 1000 });
    }
    last = values;
    task?.update(done, stage.progress(values));
    env.onFirstStep?.();
    const isLast = done === totalSteps;
    const periodic = logConfig.saveInterval > 0 && done % logConfig.saveInterval === 0;
    const stopHere = env.stopAt?.stage === name && env.stopAt.step === done && !isLast;
    const interrupted = interrupt?.requested === true && !isLast;
    if (isLast || periodic || stopHere || interrupted) save(done, isLast);
    if (stopHere || interrupted) {
      task?.done(stage.progress(last));
      if (interrupted) throw new Interrupted(name, done, lastCheckpoint);
      env.say(`stopped after ${name} step ${done} as asked; checkpoint ${lastCheckpoint}`);
      return outcome('stopped');
    }
    await yieldToEventLoop();
    if (interrupt?.requested === true && !isLast) {
      // The signal arrived during the step: the state after it is saved (if not already), then we stop.
      if (!(periodic || stopHere)) save(done, false);
      task?.done(stage.progress(last));
      throw new Interrupted(name, done, lastCheckpoint);
    }
  }
  task?.done(stage.progress(last));
  return outcome('done');
}
