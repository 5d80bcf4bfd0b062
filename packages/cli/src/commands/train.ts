import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { int, orString } from '@ganpo/codecs';
import * as E from 'fp-ts/lib/Either.js';
import { applyOverrides, flagOverrides } from '../config/flags.js';
import { checkConfigKeys, decodeRunConfig, deepMerge, defaultRunConfig, type RunConfig, type Stage, STAGES } from '../config/runConfig.js';
import { ConfigError, UsageError } from '../errors.js';
import { fmtSeconds } from '../report/report.js';
import { RUN_FILES } from '../report/write.js';
import { type StagePosition, type TrainResult, runTraining } from '../train/trainer.js';
import { type CliIo, readJsonFile } from '../util/io.js';
import { Progress, progressModeFor } from '../util/progress.js';

/** Options commander hands to the train action (flags as given, strings unparsed). */
export type TrainFlags = Record<string, unknown> & {
  config?: string;
  resume?: string;
  overwrite?: boolean;
  quiet?: boolean;
  json?: boolean;
  stopAt?: string;
  injectNan?: string;
};

export interface BuiltConfig {
  readonly config: RunConfig;
  readonly flagOf: ReadonlyMap<string, string>;
  readonly file?: string;
  /** With --resume: the settings that differ from the saved run ("preference.steps: 50 -> 80"). */
  readonly changed: readonly string[];
}

/** Leaf paths whose values differ between two configs. */
export function configChanges(before: unknown, after: unknown, path = ''): string[] {
  const isObj = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);
  if (isObj(before) && isObj(after) && !('loss' in after && path.endsWith('objective'))) {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])].flatMap((k) => configChanges(before[k], after[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [`${path}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`];
}

/**
 * The run configuration from flags: defaults (or, with --resume, the run's saved config), then the
 * --config file, then the flags. Every problem is a ConfigError naming the flag or the file and key.
 */
export function buildTrainConfig(flags: TrainFlags): BuiltConfig {
  let base = defaultRunConfig();
  if (flags.resume) {
    const saved = readJsonFile(join(flags.resume, RUN_FILES.config), '--resume: run config');
    // Defaults under the saved config: a run saved before an option existed resumes with that option's default.
    base = decodeRunConfig(deepMerge(defaultRunConfig(), saved as Record<string, unknown>), { file: join(flags.resume, RUN_FILES.config) });
    if (flags.out !== undefined && flags.out !== flags.resume) {
      throw new ConfigError(`--out ${String(flags.out)} and --resume ${flags.resume} name different runs`, [], 'a resumed run continues in its own directory; drop --out');
    }
  }
  let file: Record<string, unknown> | null = null;
  if (flags.config) {
    const u = readJsonFile(flags.config, 'config file');
    checkConfigKeys(u, flags.config);
    file = u as Record<string, unknown>;
  }
  const stageText = (flags.stage as string | undefined) ?? (file?.stage as string | undefined) ?? base.stage;
  if (!(STAGES as readonly string[]).includes(stageText)) {
    throw new ConfigError(`${flags.stage !== undefined ? '--stage' : 'stage'}: expected one of ${STAGES.join(', ')}, got ${JSON.stringify(stageText)}`);
  }
  const overrides = flagOverrides(flags, stageText as Stage);
  const merged = applyOverrides(base, file, overrides, deepMerge) as Record<string, unknown>;
  if (flags.resume) merged.out = flags.resume;
  const config = decodeRunConfig(merged, { file: flags.config, flags: overrides.flagOf });
  return { config, flagOf: overrides.flagOf, file: flags.config, changed: flags.resume ? configChanges(base, config) : [] };
}

/** A step of a stage, counted from 1 (the STEP of --stop-at and --inject-nan). */
const StepCodec = orString(int({ ge: 1 }));

/** `preference:12`, `sft:3`, or `12` (the last stage of the run). */
export function parsePosition(text: string, flag: string, stage: Stage): StagePosition {
  const m = /^(?:(sft|preference):)?(\d+)$/.exec(text.trim());
  const step = m ? StepCodec.decode(m[2]) : null;
  if (!m || !step || E.isLeft(step)) throw new UsageError(`${flag}: expected STEP or STAGE:STEP (sft:5, preference:12), got '${text}'`);
  const s = (m[1] as 'sft' | 'preference' | undefined) ?? (stage === 'sft' ? 'sft' : 'preference');
  return { stage: s, step: step.right };
}

export async function trainCommand(flags: TrainFlags, io: CliIo): Promise<number> {
  const { config, flagOf, file, changed } = buildTrainConfig(flags);
  const progress = new Progress({ mode: progressModeFor(io.stderr, flags.quiet === true, io.env), stream: io.stderr });
  if (changed.length > 0) {
    progress.log(`warning: resuming with changed settings (${changed.join('; ')}); from here on the run differs from an uninterrupted run with the old settings`);
  }
  const interrupt = { requested: false };
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupt.requested) {
      progress.close();
      io.stderr.write(`\nganpo: ${signal} again: exiting at once (the last checkpoint is kept)\n`);
      process.exit(130);
    }
    interrupt.requested = true;
    progress.log(`${signal}: finishing the current step, then saving a checkpoint (press Ctrl-C again to quit at once)`, true);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: TrainResult;
  try {
    result = await runTraining(config, {
      progress,
      log: (line) => progress.log(line),
      interrupt,
      resume: flags.resume !== undefined,
      overwrite: flags.overwrite === true,
      stopAt: flags.stopAt ? parsePosition(flags.stopAt, '--stop-at', config.stage) : undefined,
      injectNanAt: flags.injectNan ? parsePosition(flags.injectNan, '--inject-nan', config.stage) : undefined,
      sources: { file, flags: flagOf },
    });
  } finally {
    progress.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ runDir: result.runDir, status: result.status, policyDir: result.policyDir, referenceDir: result.referenceDir, summary: result.summary, evaluation: result.evaluation, report: result.report }, null, 2)}\n`);
    return 0;
  }
  const s = result.summary;
  const lines: string[] = [];
  if (result.status === 'stopped') {
    lines.push(`${s.status}; resume with: ganpo train --resume ${config.out}`);
  } else {
    const parts = s.stages.map((st) => `${st.stage} ${st.steps} steps in ${fmtSeconds(st.seconds)}`);
    lines.push(`done in ${fmtSeconds(s.totalSeconds)} (${parts.join(', ')}${result.evaluation ? `, evaluation ${fmtSeconds(result.evaluation.seconds)}` : ''})`);
    if (s.learning) {
      const g = result.evaluation!.sampling.find((x) => x.temperature === 0)!;
      lines.push(
        `ground-truth reward of greedy responses on ${g.prompts} held-out prompts: ${s.referenceLabel} ${s.learning.sftGreedyReward.toFixed(3)} -> trained policy ${s.learning.policyGreedyReward.toFixed(3)} (win rate ${(100 * g.winRate).toFixed(0)}%)`,
      );
    }
    if (result.evaluation?.preference) {
      const p = result.evaluation.preference;
      lines.push(`held-out preference accuracy ${p.accuracy.toFixed(3)}, reward margin ${p.margin.toFixed(4)} (${p.pairs} pairs)`);
    }
  }
  lines.push(`run directory: ${config.out}`);
  lines.push(`  report:  ${join(config.out, RUN_FILES.html)} (and ${RUN_FILES.md})`);
  lines.push(`  metrics: ${join(config.out, RUN_FILES.metrics)}`);
  if (existsSync(join(result.runDir, 'policy'))) lines.push(`  policy:  ${join(config.out, 'policy')}   try: ganpo sample --run ${config.out} --prompt "reverse: hello"`);
  if (!flags.quiet) io.stderr.write(`${lines.join('\n')}\n`);
  return 0;
}
