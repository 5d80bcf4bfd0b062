import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ganpo } from '@ganpo/adversarial';
import type { Tokenizer } from '@ganpo/datasets';
import { type CausalLM, freezeReference, saveCheckpoint } from '@ganpo/models';
import { preferenceObjective } from '@ganpo/objectives';
import { type ResolvedRun, resolveRun } from '../config/resolve.js';
import type { RunConfig, Sources } from '../config/runConfig.js';
import { Interrupted, NonFiniteError, RunFailure } from '../errors.js';
import { evaluateAsync } from '../evaluate/evaluate.js';
import type { EvalResult } from '../evaluate/types.js';
import type { StageSummary } from '../report/report.js';
import { RUN_FILES, type RunRecord, readRunRecord, writeJson, writeReport } from '../report/write.js';
import { MetricsWriter, truncateMetricsAfter } from '../util/metrics.js';
import type { Progress } from '../util/progress.js';
import { VERSION } from '../version.js';
import { selectBackend } from './backend.js';
import { type LatestPointer, loadTrainingCheckpoint, readLatest, type TrainStage } from './checkpoints.js';
import { isKtoObjective, loadRunData, type RunData } from './data.js';
import { evalSetsOf, preferenceEvalHook, sftEvalHook } from './evalHooks.js';
import { type LoopEnv, openStage, runStage, type StageDescription, type StageOutcome } from './loop.js';
import { initialPolicy, loadModelDir } from './model.js';
import { checkNewRunDir, checkResumeDir, createRunDir, lockRunDir, moveOldRunAside, type OldRun, removeFailedRunDir } from './runDir.js';
import { stageSteps } from './schedule.js';
import { fitRunData, type LengthLimit, lengthLimitOf } from './truncation.js';
import { ktoOnPairs, ktoStage, unpairedItems } from './stages/kto.js';
import { preferenceStage } from './stages/preference.js';
import { sftStage } from './stages/sft.js';

export { BatchOrder, lrSchedule, stageSteps } from './schedule.js';
export { sftEval } from './evalHooks.js';

/**
 * The training pipeline behind `ganpo train` and `train()`: SFT, then preference optimisation (with the GANPO
 * term, docs/method.md §5), evaluation and the report. This file only orchestrates: the loop, resume, checkpoints and
 * interruption are `loop.ts`'s, each stage is a description in `stages/`, the run directory (lock, marker,
 * `--overwrite`) is `runDir.ts`'s. Nothing is written or deleted before the configuration, the data and the model
 * are validated. One process-wide side effect: the engine's backend is set.
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
  /** Replace an existing run in `config.out` (moved aside, deleted once the new run has taken its first step). */
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

function saveModelDir(dir: string, model: CausalLM, tokenizer: Tokenizer): void {
  saveCheckpoint(dir, { model, tokenizer });
}

function describeGanpo(run: ResolvedRun): string {
  const g = run.ganpo;
  if (!g) return run.kto ? 'off (KTO trains on unpaired examples; GANPO needs chosen and rejected of one prompt)' : 'off';
  return `on: λ=${g.lambda}, ${g.variant}, ${g.twoDiscriminators ? 'two' : 'one'} ${g.architecture} discriminator${g.twoDiscriminators ? 's' : ''} (width ${g.width}, ${g.discLayers} layer${g.discLayers === 1 ? '' : 's'}), ${g.pooling} pooling, ${g.means} means, disc lr ${g.discLr ?? `${g.policyLr}/2`}`;
}

interface Phase {
  stage: TrainStage;
  steps: number;
  seconds: number;
  tokens: number;
}

const reportPaths = (runDir: string) => ({ html: join(runDir, RUN_FILES.html), md: join(runDir, RUN_FILES.md) });

/** Everything about a run that is checked before its directory is touched. */
interface Prepared {
  readonly backend: { name: string; detail: string };
  readonly data: RunData;
  readonly init: ReturnType<typeof initialPolicy>;
  readonly maxLength: LengthLimit;
  readonly stages: readonly TrainStage[];
  readonly sftSteps: number;
  readonly prefSteps: number;
  readonly run: ResolvedRun;
}

async function prepare(config: RunConfig, options: TrainOptions, log: (line: string) => void): Promise<Prepared> {
  const backend = selectBackend(config.backend);
  log(`backend: ${backend.name} (${backend.detail})`);
  const loaded = await loadRunData(config);
  for (const w of loaded.warnings) log(`warning: ${w}`);
  log(`data: ${loaded.description}`);
  const init = initialPolicy(config);
  const maxLength = lengthLimitOf(config, init.model.config.contextLength);
  log(`model: ${init.description}, ${init.model.parameterCount().toLocaleString('en-US')} parameters`);
  const stages: TrainStage[] = config.stage === 'all' ? ['sft', 'preference'] : [config.stage];
  const kto = isKtoObjective(config);
  const { data, report } = fitRunData(loaded, init.tokenizer, maxLength, stages, kto);
  for (const line of report) log(line);
  const sftSteps = stageSteps(config.sft, data.sft.length);
  const prefSteps = stageSteps(config.preference, kto ? unpairedItems(data).length : data.trainPairs.length);
  const run = resolveRun(config, prefSteps, options.sources);
  if (stages.includes('preference')) log(`objective: ${run.objectiveText}; GANPO ${describeGanpo(run)}`);
  return { backend, data, init, maxLength, stages, sftSteps, prefSteps, run };
}

export async function runTraining(config: RunConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const runDir = resolve(config.out);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();

  // Checks that write nothing: the objective and GANPO options, the run directory, the data, the model.
  resolveRun(config, config.preference.steps, options.sources);
  if (options.resume) checkResumeDir(runDir, config.out);
  else checkNewRunDir(runDir, config.out, options.overwrite === true);
  const prepared = await prepare(config, options, log);

  // Only now is the directory taken: created, locked, and (with --overwrite) the old run set aside.
  const created = !existsSync(runDir);
  createRunDir(runDir);
  const lock = lockRunDir(runDir, config.out, options.resume ? `ganpo train --resume ${config.out}` : 'ganpo train');
  let oldRun: OldRun | null = null;
  let started = false;
  try {
    if (!options.resume) {
      // Checked again under the lock: another process may have written a run here meanwhile.
      checkNewRunDir(runDir, config.out, options.overwrite === true);
      if (options.overwrite) oldRun = moveOldRunAside(runDir);
    }
    const result = await trainIn(runDir, config, options, prepared, { startedAt, t0 }, () => {
      started = true;
      oldRun?.discard();
    });
    oldRun?.discard();
    return result;
  } catch (e) {
    if (!started) {
      oldRun?.restore();
      if (created) removeFailedRunDir(runDir);
    }
    throw e;
  } finally {
    lock.release();
  }
}

async function trainIn(runDir: string, config: RunConfig, options: TrainOptions, prepared: Prepared, clock: { startedAt: string; t0: number }, onFirstStep: () => void): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const { backend, data, init, maxLength, stages, sftSteps, prefSteps, run } = prepared;
  const tokenizer = init.tokenizer;
  const prefObjective = run.kto ? ktoOnPairs(run.kto) : preferenceObjective(run.specs, { available: { reference: true, tokens: true, tokenReference: true, logSumSquaredProbs: true } });

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
  const evalSets = evalSetsOf(data, config);
  const { curve } = evalSets;
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
      totalSeconds: (previous?.totalSeconds ?? 0) + (performance.now() - clock.t0) / 1000,
      policyDir: existsSync(policyDir) ? 'policy' : null,
      referenceDir: existsSync(referenceDir) ? (config.stage === 'all' ? 'sft' : 'reference') : null,
      startedAt: previous?.startedAt ?? clock.startedAt,
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
  const env: LoopEnv = {
    runDir,
    log: config.log,
    tokenizer,
    metrics,
    progress: options.progress,
    say: log,
    interrupt: options.interrupt,
    stopAt: options.stopAt,
    injectNanAt: options.injectNanAt,
    onFirstStep,
  };
  const stopped = (outcome: StageOutcome, stage: TrainStage, reference: string | null): TrainResult => {
    const rec = finishEarly(`stopped after ${stage} step ${options.stopAt!.step}`);
    return { runDir, status: 'stopped', policyDir: outcome.lastCheckpoint!, referenceDir: reference, evaluation: null, summary: rec, report: reportPaths(runDir) };
  };
  const run1 = async <Item>(stage: StageDescription<Item>, start: Parameters<typeof runStage>[1]) => {
    const outcome = await runStage(stage, start, env);
    phases.push({ stage: stage.name, steps: stage.totalSteps, seconds: outcome.seconds, tokens: outcome.tokens });
    return outcome;
  };

  let policy: CausalLM = init.model;
  try {
    // ---- SFT ----
    if (stages.includes('sft')) {
      const sftFinished = pointer !== null && (pointer.stage === 'preference' || pointer.stageDone);
      if (!sftFinished) {
        const start = openStage(runDir, pointer, 'sft', policy, config.sft, sftSteps);
        policy = start.model;
        if (!start.checkpoint && config.stage === 'sft') saveModelDir(refDir, policy, tokenizer);
        log(`SFT: ${sftSteps} steps of ${config.sft.batchSize} examples${config.sft.gradAccum > 1 ? ` × ${config.sft.gradAccum}` : ''}, lr ${config.sft.lr} (${config.sft.schedule}, warmup ${config.sft.warmup})`);
        const stage = sftStage({ model: policy, tokenizer, loop: config.sft, totalSteps: sftSteps, demos: data.sft, seed: config.seed, maxLength, evaluate: sftEvalHook(policy, tokenizer, evalSets.sftDemos, maxLength, curve) });
        const outcome = await run1(stage, start);
        if (outcome.status === 'stopped') return stopped(outcome, 'sft', null);
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

    // ---- preference optimisation (+ GANPO), or KTO on unpaired examples ----
    let reference: CausalLM | null = null;
    if (stages.includes('preference')) {
      if (config.stage === 'preference' && !existsSync(join(refDir, 'model.safetensors'))) saveModelDir(refDir, policy, tokenizer);
      // The reference is the model the stage starts from, frozen (read back from disk on resume: bit-identical).
      reference = pointer?.stage === 'preference' ? freezeReference(loadModelDir(referenceDir, 'reference model').model) : freezeReference(policy);
      const start = openStage(runDir, pointer, 'preference', policy, config.preference, prefSteps);
      policy = start.model;
      const ganpo = !run.ganpo ? null : start.checkpoint ? start.checkpoint.ganpo() : Ganpo.create(run.ganpo, { latentDim: policy.config.dModel });
      if (run.ganpo && !ganpo) throw new RunFailure(`${start.checkpoint!.dir} was saved without GANPO; resume with --no-ganpo, or start a new run`);
      const stageDone = start.checkpoint !== null && pointer!.stageDone && start.step >= prefSteps;
      const p = config.preference;
      const what = run.kto ? 'examples' : 'pairs';
      log(`preference: ${prefSteps} steps of ${p.batchSize} ${what}${p.gradAccum > 1 ? ` × ${p.gradAccum}` : ''}, lr ${p.lr} (${p.schedule}, warmup ${p.warmup})`);
      if (!stageDone) {
        const evaluate = preferenceEvalHook({ model: policy, reference, tokenizer, pairs: evalSets.pairs, objective: prefObjective, beta: run.beta, maxLength, curve });
        const common = { model: policy, reference, tokenizer, loop: p, totalSteps: prefSteps, seed: config.seed, maxLength, label: 'preference', evaluate };
        const outcome = run.kto
          ? await run1(ktoStage({ ...common, examples: unpairedItems(data), kto: run.kto }), start)
          : await run1(preferenceStage({ ...common, pairs: data.trainPairs, run, objective: prefObjective, ganpo }), start);
        if (outcome.status === 'stopped') return stopped(outcome, 'preference', referenceDir);
      } else {
        phases.push({ stage: 'preference', steps: prefSteps, seconds: start.seconds, tokens: start.tokens });
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
      evaluation = await evaluateAsync(
        {
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
        },
        () => options.interrupt?.requested === true,
      );
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
