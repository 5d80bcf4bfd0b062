/**
 * @ganpo/cli: the `ganpo` command and the same pipeline as a library.
 *
 *   import { train } from '@ganpo/cli';
 *   const result = await train({ out: 'runs/mine', preference: { steps: 40 }, ganpo: { enabled: true, lambda: 0.5 } });
 *   console.log(result.evaluation?.sampling[0]);
 */
import { runConfigFrom } from './config/resolve.js';
import type { PartialRunConfig, RunConfig } from './config/runConfig.js';
import { runTraining, type TrainOptions, type TrainResult } from './train/trainer.js';

/**
 * Runs `ganpo train` from code: defaults, overridden by `config` (any subset of the keys, checked with the
 * same codec as config files: unknown keys and bad values throw a ConfigError naming the path). Resolves
 * when the run has finished (trained, evaluated, report written).
 */
export async function train(config: PartialRunConfig | RunConfig = {}, options: TrainOptions = {}): Promise<TrainResult> {
  return runTraining(runConfigFrom(config), options);
}

/** The trainer under its other name, for `import { trainer } from '@ganpo/cli'`. */
export const trainer = { train, defaults: () => runConfigFrom({}) };

export { main, buildProgram } from './program.js';
export {
  RunConfigCodec,
  LoopCodec,
  defaultRunConfig,
  decodeRunConfig,
  checkConfigKeys,
  deepMerge,
  type RunConfig,
  type PartialRunConfig,
  type LoopConfig,
  type Stage,
  type Sources,
} from './config/runConfig.js';
export { runConfigFrom, resolveRun, resolveObjective, resolveGanpo, type ResolvedRun } from './config/resolve.js';
export { CONFIG_FLAGS, type ConfigFlag } from './config/flags.js';
export { unknownKeys, problemsFromErrors, type ConfigProblem } from './config/codecs.js';
export { runTraining, lrSchedule, BatchOrder, stageSteps, type TrainOptions, type TrainResult, type StagePosition } from './train/trainer.js';
export { evaluate, preferenceEval, driftEval, samplingEval, sampleResponses, greedyReward, type EvaluateInput, type Sample } from './evaluate/evaluate.js';
export type { EvalResult, PreferenceEval, SamplingEval, SampleStats, DriftEval } from './evaluate/types.js';
export { linePlot, niceTicks, type PlotOptions, type Series } from './report/svg.js';
export { renderHtml, renderMarkdown, reportPlots, type ReportInput, type RunSummary } from './report/report.js';
export { writeReport, readRunRecord, type RunRecord } from './report/write.js';
export { MetricsWriter, readMetrics, truncateMetricsAfter, type MetricRecord } from './util/metrics.js';
export { Progress, progressModeFor, type ProgressMode } from './util/progress.js';
export { UsageError, ConfigError, DataError, RunFailure, NonFiniteError, Interrupted, EXIT_USAGE, EXIT_RUNTIME, EXIT_INTERRUPTED } from './errors.js';
export { VERSION } from './version.js';
