import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  AdamW,
  backward,
  clipGradNorm,
  constantSchedule,
  cosineWithWarmup,
  linearWarmup,
  linearWithWarmup,
  mul,
  noGrad,
  type Optimizer,
  type Schedule,
  type Tensor,
} from '@ganpo/autograd';
import { createGanpoState, discriminatorStep, type GanpoState, ganpoTerm, type PairLatents } from '@ganpo/adversarial';
import { deriveSeed, epochBatches, type Tokenizer } from '@ganpo/datasets';
import { type CausalLM, freezeReference, saveCheckpoint, sequenceLogps, sftLoss } from '@ganpo/models';
import {
  contramap,
  getObjectiveMonoid,
  metricValues,
  type Objective,
  type PairLogps,
  preferenceObjective,
} from '@ganpo/objectives';
import { type ResolvedRun, resolveRun } from '../config/resolve.js';
import type { LoopConfig, RunConfig, Sources } from '../config/runConfig.js';
import { ConfigError, Interrupted, NonFiniteError, RunFailure } from '../errors.js';
import { evaluateAsync, greedyReward, preferenceEval } from '../evaluate/evaluate.js';
import type { EvalResult } from '../evaluate/types.js';
import type { StageSummary } from '../report/report.js';
import { RUN_FILES, type RunRecord, readRunRecord, writeJson, writeReport } from '../report/write.js';
import { MetricsWriter, truncateMetricsAfter } from '../util/metrics.js';
import type { Progress } from '../util/progress.js';
import { VERSION } from '../version.js';
import { selectBackend } from './backend.js';
import {
  type LatestPointer,
  loadTrainingCheckpoint,
  readLatest,
  restoreOptimizer,
  saveTrainingCheckpoint,
  type TrainStage,
} from './checkpoints.js';
import { type Demo, loadRunData, type Pair, type RunData } from './data.js';
import { initialPolicy, loadModelDir } from './model.js';
import { realTokens, referenceForward, sequenceBatch, pairBatch, type StepInput, stepInput } from './pairs.js';

/**
 * The training pipeline behind `ganpo train` and `train()`: SFT, then preference optimisation with the
 * GANPO term (GANPO.md §5), metrics, checkpoints, resume, evaluation and the report. One process-wide
 * side effect: the engine's backend is set.
 */

export interface StagePosition {
  readonly stage: TrainStage;
  readonly step: number;
}

export interface TrainOptions {
  /** Progress display; default: none (library use). */
  readonly progress?: Progress;
  /** Message lines (default: none). */
  readonly log?: (line: string) => void;
  /** Set `requested` (e.g. from a SIGINT handler) to stop after the current step with a checkpoint. */
  readonly interrupt?: { requested: boolean };
  /** Continue the run in `config.out` from its latest checkpoint. */
  readonly resume?: boolean;
  /** Delete an existing run in `config.out` first. */
  readonly overwrite?: boolean;
  /** Stop (with a checkpoint, as Ctrl-C would) after this step. */
  readonly stopAt?: StagePosition;
  /** Testing hook: make the loss NaN at this step. */
  readonly injectNanAt?: StagePosition;
  /** Config sources for error messages. */
  readonly sources?: Sources;
}

export interface TrainResult {
  readonly runDir: string;
  readonly status: 'completed' | 'stopped';
  readonly policyDir: string;
  readonly referenceDir: string | null;
  readonly evaluation: EvalResult | null;
  readonly summary: RunRecord;
  readonly report: { html: string; md: string };
}

// ---------------------------------------------------------------------------------------------------------
// Schedules and data order.

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

// ---------------------------------------------------------------------------------------------------------
// Helpers.

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

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** Loss term plus a metric holding its own value (so the parts of a sum are logged). */
const withLossMetric =
  <A>(name: string, o: Objective<A>): Objective<A> =>
  (input) => {
    const t = o(input);
    return { loss: t.loss, metrics: { ...t.metrics, [name]: noGrad(() => t.loss.detach()) } };
  };

function addInto(acc: Record<string, number>, values: Record<string, number>, weight: number): void {
  for (const [k, v] of Object.entries(values)) acc[k] = (acc[k] ?? 0) + v * weight;
}

// ---------------------------------------------------------------------------------------------------------
// The loop driver shared by both stages.

interface StageContext {
  readonly stage: TrainStage;
  readonly runDir: string;
  readonly config: RunConfig;
  readonly loop: LoopConfig;
  readonly totalSteps: number;
  readonly model: CausalLM;
  readonly tokenizer: Tokenizer;
  readonly optimizer: Optimizer;
  readonly metrics: MetricsWriter;
  readonly options: TrainOptions;
  /** Seconds and tokens already spent in this stage (from a checkpoint). */
  seconds: number;
  tokens: number;
  ganpo: GanpoState | null;
  lastCheckpoint: string | null;
}

interface StepOutcome {
  readonly values: Record<string, number>;
  readonly tokens: number;
  /** Fractional epoch reached (micro-batches done / batches per epoch), TRL's `epoch`. */
  readonly epoch: number;
}

async function runStage(
  ctx: StageContext,
  startStep: number,
  step: (k: number) => StepOutcome,
  evaluateAt: (k: number) => Record<string, number>,
  progressFields: (v: Record<string, number>) => Record<string, number | string>,
): Promise<'done' | 'stopped'> {
  const { stage, config, totalSteps, options } = ctx;
  const label = stage === 'sft' ? 'SFT       ' : config.stage === 'all' || config.stage === 'preference' ? 'preference' : stage;
  const task = options.progress?.start(label, totalSteps, 'steps');
  task?.update(startStep);
  const save = (k: number, done: boolean) => {
    ctx.lastCheckpoint = saveTrainingCheckpoint({
      runDir: ctx.runDir,
      stage,
      step: k,
      totalSteps,
      stageDone: done,
      model: ctx.model,
      tokenizer: ctx.tokenizer,
      optimizer: ctx.optimizer,
      ganpo: ctx.ganpo,
      seconds: ctx.seconds,
      tokens: ctx.tokens,
      keep: config.log.keepCheckpoints,
    });
    ctx.metrics.sync();
  };
  let last: Record<string, number> = {};
  if (options.interrupt?.requested === true && startStep < totalSteps) {
    // Interrupted at the very end of the previous stage: stop before this one starts (its checkpoint is saved).
    task?.done();
    const latest = readLatest(ctx.runDir);
    throw new Interrupted(stage, startStep, ctx.lastCheckpoint ?? (latest ? join(ctx.runDir, latest.dir) : null));
  }
  for (let k = startStep; k < totalSteps; k++) {
    const started = performance.now();
    const out = step(k);
    const seconds = (performance.now() - started) / 1000;
    ctx.seconds += seconds;
    ctx.tokens += out.tokens;
    const done = k + 1;
    const values: Record<string, number> = { ...out.values, tokens_per_s: out.tokens / Math.max(seconds, 1e-9), epoch: out.epoch };
    const evalNow = config.log.evalInterval > 0 && (done % config.log.evalInterval === 0 || done === totalSteps);
    if (evalNow) Object.assign(values, evaluateAt(done));
    if (done % config.log.interval === 0 || done === totalSteps || evalNow) {
      ctx.metrics.write({ stage, step: done, ...values, elapsed_s: Math.round(ctx.seconds * 1000) / 1000 });
    }
    last = values;
    task?.update(done, progressFields(values));
    const isLast = done === totalSteps;
    const periodic = config.log.saveInterval > 0 && done % config.log.saveInterval === 0;
    const stopHere = options.stopAt && options.stopAt.stage === stage && options.stopAt.step === done && !isLast;
    const interrupted = options.interrupt?.requested === true && !isLast;
    if (isLast || periodic || stopHere || interrupted) save(done, isLast);
    if (stopHere || interrupted) {
      task?.done(progressFields(last));
      if (interrupted) throw new Interrupted(stage, done, ctx.lastCheckpoint);
      options.log?.(`stopped after ${stage} step ${done} as asked; checkpoint ${ctx.lastCheckpoint}`);
      return 'stopped';
    }
    await yieldToEventLoop();
    if (options.interrupt?.requested === true && !isLast) {
      // The signal arrived during the step: the state after it is saved (if not already), then we stop.
      if (!(periodic || stopHere)) save(done, false);
      task?.done(progressFields(last));
      throw new Interrupted(stage, done, ctx.lastCheckpoint);
    }
  }
  task?.done(progressFields(last));
  return 'done';
}

// ---------------------------------------------------------------------------------------------------------
// SFT.

export function sftStep(ctx: StageContext, order: BatchOrder<Demo>, maxLength: number, nanAt: number | null) {
  const { model, optimizer, loop } = ctx;
  return (k: number): StepOutcome => {
    model.train();
    let tokens = 0;
    let loss = 0;
    for (let a = 0; a < loop.gradAccum; a++) {
      const { items } = order.at(k * loop.gradAccum + a);
      const { batch } = sequenceBatch(items, ctx.tokenizer, maxLength);
      if (batch.rows === 0) continue;
      const { logits } = model.forward(batch);
      let l = sftLoss(logits, batch);
      if (nanAt === k + 1) l = mul(l, Number.NaN);
      const value = l.item();
      if (!Number.isFinite(value)) throw new NonFiniteError('sft', k + 1, 'loss', value, ctx.lastCheckpoint);
      backward(loop.gradAccum === 1 ? l : mul(l, 1 / loop.gradAccum));
      loss += value / loop.gradAccum;
      tokens += realTokens(batch);
    }
    const params = model.parameters();
    const norm = loop.clip > 0 ? clipGradNorm(params, loop.clip) : gradNorm(params);
    if (!Number.isFinite(norm)) {
      optimizer.zeroGrad();
      throw new NonFiniteError('sft', k + 1, 'grad_norm', norm, ctx.lastCheckpoint);
    }
    optimizer.step();
    optimizer.zeroGrad();
    return { values: { loss, learning_rate: optimizer.lr, grad_norm: norm }, tokens, epoch: ((k + 1) * loop.gradAccum) / order.perEpoch };
  };
}

export function sftEval(model: CausalLM, demos: readonly Demo[], tokenizer: Tokenizer, maxLength: number): number {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      let total = 0;
      let n = 0;
      for (let i = 0; i < demos.length; i += 32) {
        const { batch } = sequenceBatch(demos.slice(i, i + 32), tokenizer, maxLength);
        if (batch.rows === 0) continue;
        const rows = batch.rows;
        total += sftLoss(model.forward(batch).logits, batch).item() * rows;
        n += rows;
      }
      return n > 0 ? total / n : Number.NaN;
    });
  } finally {
    model.train(wasTraining);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Preference optimisation with GANPO.

export function preferenceStep(ctx: StageContext, run: ResolvedRun, reference: CausalLM | null, prefObjective: Objective<PairLogps>, order: BatchOrder<Pair>, maxLength: number, nanAt: number | null) {
  const { model, optimizer, loop } = ctx;
  const monoid = getObjectiveMonoid<StepInput>();
  const pref = contramap((s: StepInput) => s.logps, withLossMetric('loss/preference', prefObjective));
  return (k: number): StepOutcome => {
    model.train();
    let tokens = 0;
    const acc: Record<string, number> = {};
    for (let a = 0; a < loop.gradAccum; a++) {
      const { items } = order.at(k * loop.gradAccum + a);
      const { batch } = pairBatch(items, ctx.tokenizer, maxLength);
      if (batch.rows === 0) continue;
      // 1–2: policy forward on chosen and rejected rows in one [2B, T] pass; reference forward without gradient.
      const ref = reference ? referenceForward(reference, batch, run.ganpo !== null) : null;
      const out = model.forward(batch);
      const input = stepInput(batch, { ...out, logps: sequenceLogps(out.logits, batch) }, ref, run.requirements);
      // 3: discriminator step on detached latents (means updated, one AdamW step per discriminator).
      let discMetrics: Record<string, number> = {};
      let objective: Objective<StepInput> = pref;
      if (ctx.ganpo) {
        const d = discriminatorStep(ctx.ganpo, input.latents);
        ctx.ganpo = d.state;
        discMetrics = d.metrics;
        // 4: L_OPO ⊕ λ·L_adv with the just-updated discriminators frozen.
        const adv = contramap((s: StepInput) => s.latents, withLossMetric('loss/ganpo', ganpoTerm(ctx.ganpo) as Objective<PairLatents>));
        objective = monoid.concat(pref, adv);
      }
      const term = objective(input);
      let loss = term.loss;
      if (nanAt === k + 1) loss = mul(loss, Number.NaN);
      const values = { loss: loss.item(), ...metricValues(term.metrics), ...discMetrics };
      const bad = firstNonFinite(values);
      if (bad) throw new NonFiniteError('preference', k + 1, bad[0], bad[1], ctx.lastCheckpoint);
      backward(loop.gradAccum === 1 ? loss : mul(loss, 1 / loop.gradAccum));
      addInto(acc, values, 1 / loop.gradAccum);
      tokens += realTokens(batch);
    }
    const params = model.parameters();
    const norm = loop.clip > 0 ? clipGradNorm(params, loop.clip) : gradNorm(params);
    if (!Number.isFinite(norm)) {
      optimizer.zeroGrad();
      throw new NonFiniteError('preference', k + 1, 'grad_norm', norm, ctx.lastCheckpoint);
    }
    optimizer.step();
    optimizer.zeroGrad();
    return { values: { ...acc, learning_rate: optimizer.lr, grad_norm: norm }, tokens, epoch: ((k + 1) * loop.gradAccum) / order.perEpoch };
  };
}

// ---------------------------------------------------------------------------------------------------------
// The pipeline.

function newOptimizer(model: CausalLM, loop: LoopConfig, totalSteps: number): Optimizer {
  // Only trainable parameters (with LoRA, the adapters): frozen weights get no optimizer state.
  return new AdamW(model.namedParameters().filter(([, p]) => p.requiresGrad), { lr: loop.lr, weightDecay: loop.weightDecay, schedule: lrSchedule(loop, totalSteps) } as never);
}

function holdsRun(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => [RUN_FILES.metrics, RUN_FILES.run, 'checkpoints'].includes(f as never));
}

function saveModelDir(dir: string, model: CausalLM, tokenizer: Tokenizer): void {
  saveCheckpoint(dir, { model, tokenizer });
}

function describeGanpo(run: ResolvedRun): string {
  const g = run.ganpo;
  if (!g) return 'off';
  return `on: λ=${g.lambda}, ${g.variant}, ${g.twoDiscriminators ? 'two' : 'one'} ${g.architecture} discriminator${g.twoDiscriminators ? 's' : ''} (width ${g.width}, ${g.discLayers} layer${g.discLayers === 1 ? '' : 's'}), ${g.pooling} pooling, ${g.means} means, disc lr ${g.discLr ?? `${g.policyLr}/2`}`;
}

interface Phase {
  stage: TrainStage;
  steps: number;
  seconds: number;
  tokens: number;
}

export async function runTraining(config: RunConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const runDir = resolve(config.out);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();

  // Early checks: objective and GANPO options, before any data is read.
  resolveRun(config, config.preference.steps, options.sources);

  if (options.resume) {
    if (!existsSync(join(runDir, RUN_FILES.config))) throw new ConfigError(`--resume ${config.out}: not a ganpo run directory (no ${RUN_FILES.config})`);
  } else if (holdsRun(runDir)) {
    if (!options.overwrite) {
      throw new ConfigError(`${config.out} already holds a run`, [], `continue it with \`ganpo train --resume ${config.out}\`, pass --overwrite to replace it, or choose another --out`);
    }
    for (const f of readdirSync(runDir)) rmSync(join(runDir, f), { recursive: true, force: true });
  }
  mkdirSync(runDir, { recursive: true });

  const backend = selectBackend(config.backend);
  log(`backend: ${backend.name} (${backend.detail})`);

  const data: RunData = await loadRunData(config);
  for (const w of data.warnings) log(`warning: ${w}`);
  log(`data: ${data.description}`);

  const init = initialPolicy(config);
  const tokenizer = init.tokenizer;
  const maxLength = Math.min(config.data.maxLength, init.model.config.contextLength);
  log(`model: ${init.description}, ${init.model.parameterCount().toLocaleString('en-US')} parameters`);

  const stages: TrainStage[] = config.stage === 'all' ? ['sft', 'preference'] : [config.stage];
  const sftSteps = stageSteps(config.sft, data.sft.length);
  const prefSteps = stageSteps(config.preference, data.trainPairs.length);
  const run = resolveRun(config, prefSteps, options.sources);
  const prefObjective = preferenceObjective(run.specs as never, { available: { reference: true, tokens: true, tokenReference: true, logSumSquaredProbs: true } });
  if (stages.includes('preference')) log(`objective: ${run.objectiveText}; GANPO ${describeGanpo(run)}`);

  const pointer: LatestPointer | null = options.resume ? readLatest(runDir) : null;
  const metricsPath = join(runDir, RUN_FILES.metrics);
  if (options.resume) {
    const dropped = truncateMetricsAfter(metricsPath, pointer?.stage ?? 'sft', pointer?.step ?? 0);
    log(pointer ? `resuming from ${pointer.stage} step ${pointer.step} (${pointer.dir})${dropped > 0 ? `; ${dropped} metrics lines after it dropped` : ''}` : 'no checkpoint yet: restarting the run from the beginning');
  }
  writeJson(join(runDir, RUN_FILES.config), config);
  const metrics = new MetricsWriter(metricsPath);

  const sftDir = join(runDir, 'sft');
  const refDir = join(runDir, 'reference');
  const policyDir = join(runDir, 'policy');
  const referenceDir = config.stage === 'all' ? sftDir : refDir;
  const referenceLabel = config.stage === 'all' ? 'SFT model' : 'initial model';
  const heldOutSft: Demo[] = data.heldOut ? data.heldOut.map((h) => ({ prompt: h.prompt, completion: h.answer })) : data.evalPairs.map((p) => ({ prompt: p.prompt, completion: p.chosen }));
  const curvePrompts = data.heldOut ? Math.min(16, config.eval.prompts || 16, data.heldOut.length) : 0;
  const phases: Phase[] = [];
  const previous = options.resume ? readRunRecord(runDir) : null;

  const record = (status: string, extra: Partial<RunRecord> = {}): RunRecord => {
    const rec: RunRecord = {
      format: 'ganpo-run/1',
      runDir: config.out,
      status,
      version: VERSION,
      backend: `${backend.name} (${backend.detail})`,
      model: init.description,
      parameters: init.model.parameterCount(),
      objective: stages.includes('preference') ? run.objectiveText : '– (SFT only)',
      ganpo: stages.includes('preference') ? describeGanpo(run) : '–',
      data: data.description,
      stages: phases.map((p): StageSummary => ({ stage: p.stage, steps: p.steps, seconds: p.seconds, tokensPerSecond: p.tokens / Math.max(p.seconds, 1e-9) })),
      totalSeconds: (previous?.totalSeconds ?? 0) + (performance.now() - t0) / 1000,
      policyDir: existsSync(policyDir) ? 'policy' : null,
      referenceDir: existsSync(referenceDir) ? (config.stage === 'all' ? 'sft' : 'reference') : null,
      startedAt: previous?.startedAt ?? startedAt,
      referenceLabel,
      dataKind: data.kind,
      learning: null,
      ...extra,
    };
    writeJson(join(runDir, RUN_FILES.run), rec);
    return rec;
  };
  record('running');

  const finishEarly = (status: string) => {
    metrics.close();
    const rec = record(status);
    try {
      writeReport(runDir);
    } catch {
      // The report is a convenience here; the error being reported matters more.
    }
    return rec;
  };

  let policy: CausalLM = init.model;
  try {
    // ---- SFT ----
    if (stages.includes('sft')) {
      const sftFinished = pointer !== null && (pointer.stage === 'preference' || pointer.stageDone);
      if (!sftFinished) {
        let start = 0;
        let optimizer = newOptimizer(policy, config.sft, sftSteps);
        let seconds = 0;
        let tokens = 0;
        if (pointer?.stage === 'sft') {
          const ck = loadTrainingCheckpoint(runDir, pointer);
          policy = ck.model;
          optimizer = newOptimizer(policy, config.sft, sftSteps);
          restoreOptimizer(optimizer, ck.state.optimizer, ck.optimizerTensors, ck.dir);
          start = ck.state.step;
          seconds = ck.state.seconds;
          tokens = ck.state.tokens;
        } else if (config.stage === 'sft') {
          saveModelDir(refDir, policy, tokenizer);
        }
        const ctx: StageContext = { stage: 'sft', runDir, config, loop: config.sft, totalSteps: sftSteps, model: policy, tokenizer, optimizer, metrics, options, seconds, tokens, ganpo: null, lastCheckpoint: null };
        log(`SFT: ${sftSteps} steps of ${config.sft.batchSize} examples${config.sft.gradAccum > 1 ? ` × ${config.sft.gradAccum}` : ''}, lr ${config.sft.lr} (${config.sft.schedule}, warmup ${config.sft.warmup})`);
        const order = new BatchOrder(data.sft, config.sft.batchSize, deriveSeed(config.seed, 'sft'));
        const evalAt = () => {
          const v: Record<string, number> = {};
          if (heldOutSft.length > 0) v['eval/loss'] = sftEval(policy, heldOutSft.slice(0, Math.max(config.log.evalPairs, 1) * 2), tokenizer, maxLength);
          if (data.heldOut && curvePrompts > 0) v['eval/greedy_reward'] = greedyReward(policy, data.heldOut, tokenizer, curvePrompts, config.eval.maxNewTokens);
          return v;
        };
        const outcome = await runStage(ctx, start, sftStep(ctx, order, maxLength, options.injectNanAt?.stage === 'sft' ? options.injectNanAt.step : null), evalAt, (v) => ({
          loss: v.loss,
          'tok/s': Math.round(v.tokens_per_s),
        }));
        phases.push({ stage: 'sft', steps: sftSteps, seconds: ctx.seconds, tokens: ctx.tokens });
        if (outcome === 'stopped') {
          const rec = finishEarly(`stopped after sft step ${options.stopAt!.step}`);
          return { runDir, status: 'stopped', policyDir: ctx.lastCheckpoint!, referenceDir: null, evaluation: null, summary: rec, report: reportPaths(runDir) };
        }
        if (config.stage === 'all') saveModelDir(sftDir, policy, tokenizer);
      } else if (config.stage === 'all') {
        // SFT finished in an earlier process: its model is in OUT/sft (or, after a crash, in its final checkpoint).
        if (existsSync(join(sftDir, 'model.safetensors'))) policy = loadModelDir(sftDir, 'SFT model').model;
        else if (pointer?.stage === 'sft') {
          policy = loadTrainingCheckpoint(runDir, pointer).model;
          saveModelDir(sftDir, policy, tokenizer);
        } else throw new RunFailure(`${sftDir} is missing; the run cannot continue the preference stage without its reference`);
        if (previous) phases.push(...previous.stages.filter((s) => s.stage === 'sft').map((s) => ({ stage: 'sft' as const, steps: s.steps, seconds: s.seconds, tokens: s.tokensPerSecond * s.seconds })));
      }
    }

    // ---- preference optimisation (+ GANPO) ----
    let reference: CausalLM | null = null;
    if (stages.includes('preference')) {
      if (config.stage === 'preference' && !existsSync(join(refDir, 'model.safetensors'))) saveModelDir(refDir, policy, tokenizer);
      // The reference is the model the stage starts from, frozen (read back from disk on resume: bit-identical).
      reference = pointer?.stage === 'preference' ? freezeReference(loadModelDir(referenceDir, 'reference model').model) : freezeReference(policy);
      let start = 0;
      let seconds = 0;
      let tokens = 0;
      let ganpo: GanpoState | null = run.ganpo ? createGanpoState(run.ganpo, { latentDim: policy.config.dModel }) : null;
      let optimizer = newOptimizer(policy, config.preference, prefSteps);
      let stageDone = false;
      if (pointer?.stage === 'preference') {
        const ck = loadTrainingCheckpoint(runDir, pointer);
        policy = ck.model;
        optimizer = newOptimizer(policy, config.preference, prefSteps);
        restoreOptimizer(optimizer, ck.state.optimizer, ck.optimizerTensors, ck.dir);
        ganpo = run.ganpo ? ck.ganpo() : null;
        if (run.ganpo && !ganpo) throw new RunFailure(`${ck.dir} was saved without GANPO; resume with --no-ganpo, or start a new run`);
        start = ck.state.step;
        seconds = ck.state.seconds;
        tokens = ck.state.tokens;
        stageDone = pointer.stageDone && start >= prefSteps;
      }
      const ctx: StageContext = { stage: 'preference', runDir, config, loop: config.preference, totalSteps: prefSteps, model: policy, tokenizer, optimizer, metrics, options, seconds, tokens, ganpo, lastCheckpoint: pointer?.stage === 'preference' ? join(runDir, pointer.dir) : null };
      const p = config.preference;
      log(`preference: ${prefSteps} steps of ${p.batchSize} pairs${p.gradAccum > 1 ? ` × ${p.gradAccum}` : ''}, lr ${p.lr} (${p.schedule}, warmup ${p.warmup})`);
      if (!stageDone) {
        const order = new BatchOrder(data.trainPairs, p.batchSize, deriveSeed(config.seed, 'preference'));
        const evalPairs = config.log.evalPairs > 0 ? data.evalPairs.slice(0, config.log.evalPairs) : data.evalPairs;
        const ref = reference;
        const evalAt = () => {
          const v: Record<string, number> = {};
          const e = preferenceEval(policy, ref, evalPairs, tokenizer, { objective: prefObjective, beta: run.beta, maxLength });
          if (e) {
            v['eval/loss'] = e.loss;
            v['eval/rewards/accuracies'] = e.accuracy;
            v['eval/rewards/margins'] = e.margin;
            v['eval/rewards/chosen'] = e.chosenReward;
            v['eval/rewards/rejected'] = e.rejectedReward;
          }
          if (data.heldOut && curvePrompts > 0) v['eval/greedy_reward'] = greedyReward(policy, data.heldOut, tokenizer, curvePrompts, config.eval.maxNewTokens);
          return v;
        };
        const outcome = await runStage(
          ctx,
          start,
          preferenceStep(ctx, run, run.needsReference ? reference : null, prefObjective, order, maxLength, options.injectNanAt?.stage === 'preference' ? options.injectNanAt.step : null),
          evalAt,
          (v) => ({ loss: v.loss, acc: v['rewards/accuracies'], margin: v['rewards/margins'], 'tok/s': Math.round(v.tokens_per_s) }),
        );
        phases.push({ stage: 'preference', steps: prefSteps, seconds: ctx.seconds, tokens: ctx.tokens });
        if (outcome === 'stopped') {
          const rec = finishEarly(`stopped after preference step ${options.stopAt!.step}`);
          return { runDir, status: 'stopped', policyDir: ctx.lastCheckpoint!, referenceDir, evaluation: null, summary: rec, report: reportPaths(runDir) };
        }
      } else {
        phases.push({ stage: 'preference', steps: prefSteps, seconds, tokens });
      }
    }
    metrics.close();

    // ---- final model, evaluation, report ----
    saveModelDir(policyDir, policy, tokenizer);
    if (!reference) reference = freezeReference(loadModelDir(refDir, 'reference model').model);
    let evaluation: EvalResult | null = null;
    let learning: RunRecord['learning'] = null;
    if (config.eval.atEnd) {
      log('evaluating the final policy against its reference ...');
      const started = evaluateAsync({
        policy,
        reference,
        policyDir: 'policy',
        referenceDir: config.stage === 'all' ? 'sft' : 'reference',
        tokenizer,
        evalPairs: data.evalPairs,
        heldOut: data.heldOut,
        objective: prefObjective,
        beta: run.beta,
        maxLength,
        pairs: config.log.evalPairs > 0 ? Math.max(config.log.evalPairs, 64) : 0,
        sampling: { temperatures: config.eval.temperatures, prompts: config.eval.prompts, maxNewTokens: config.eval.maxNewTokens, seed: config.seed },
      }, () => options.interrupt?.requested === true);
      evaluation = await started;
      if (!evaluation) {
        throw new Interrupted('evaluation', 0, null, `interrupted during the final evaluation; the trained policy is saved in ${join(config.out, 'policy')} (\`ganpo eval --run ${config.out}\` evaluates it)`);
      }
      writeJson(join(runDir, RUN_FILES.eval), evaluation);
      const greedy = evaluation.sampling.find((s) => s.temperature === 0);
      if (greedy) learning = { sftGreedyReward: greedy.reference.reward, policyGreedyReward: greedy.policy.reward };
    }
    const summary = record('completed', { learning });
    const report = writeReport(runDir);
    return { runDir, status: 'completed', policyDir, referenceDir, evaluation, summary, report };
  } catch (e) {
    if (e instanceof NonFiniteError) finishEarly(`failed: ${e.message}`);
    else if (e instanceof Interrupted) finishEarly(e.stage === 'evaluation' ? 'interrupted during the final evaluation' : `interrupted after ${e.stage} step ${e.step}`);
    else {
      try {
        metrics.close();
        record(`failed: ${(e as Error).message}`);
      } catch {
        // Keep the original error.
      }
    }
    throw e;
  }
}

const reportPaths = (runDir: string) => ({ html: join(runDir, RUN_FILES.html), md: join(runDir, RUN_FILES.md) });


