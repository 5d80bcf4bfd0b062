import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { byteTokenizer, shiftedSplit, type Tokenizer } from '@ganpo/datasets';
import { preferenceObjective } from '@ganpo/objectives';
import { resolveRun } from '../config/resolve.js';
import type { RunConfig } from '../config/runConfig.js';
import { type EvalSet, evaluateSet, flatMetrics, type SetEval, temperatureCurve, type TemperaturePoint } from '../evaluate/robustness.js';
import { writeJson } from '../report/write.js';
import { embeddedTaskData } from '../train/data.js';
import { loadModelDir } from '../train/model.js';
import { runTraining } from '../train/trainer.js';
import type { Cell, Grid } from './grid.js';
import { taskOptionsOf } from './grid.js';

/**
 * One cell of the grid, in this process: make sure its shared SFT model exists (training it if no other
 * process has), train the cell's preference run as a normal `ganpo train` run in its own directory, evaluate
 * it on the held-out and shifted sets, and write `result.json` last, so that a directory with a completed
 * result is a finished run and anything else is redone.
 */

export const RESULT_FILE = 'result.json';
export const ROBUSTNESS_FILE = 'robustness.json';
/**
 * Temperature curves of the shared SFT model (the reference every policy of that seed starts from), one file per
 * evaluation setting: a spec's SFT row is measured with that spec's own temperatures, prompts and sampling stream,
 * so it does not depend on which spec happened to train the shared model first.
 */
export const sftCurvesFile = (evaluation: Grid['evaluation']): string =>
  `curves-${createHash('sha256').update(JSON.stringify(evaluation)).digest('hex').slice(0, 12)}.json`;

export interface CellResult {
  readonly format: 'ganpo-experiment-run/1';
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly seed: number;
  readonly status: 'completed' | 'failed';
  /** The error message of a failed run. */
  readonly error?: string;
  /** Flat metrics (see METRIC_HELP). */
  readonly metrics: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly finishedAt: string;
}

export interface SftCurves {
  readonly heldOut: readonly TemperaturePoint[];
  readonly shifted: readonly TemperaturePoint[] | null;
}

const readJson = <T>(path: string): T | null => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null);

export const readCellResult = (dir: string): CellResult | null => readJson<CellResult>(join(dir, RESULT_FILE));
export const readSftCurves = (dir: string, evaluation: Grid['evaluation']): SftCurves | null => readJson<SftCurves>(join(dir, sftCurvesFile(evaluation)));

/** The held-out and (if asked) shifted evaluation sets of a run's embedded task. */
function evalSets(config: RunConfig, grid: Grid): { heldOut: EvalSet; shifted: EvalSet | null } {
  const ev = grid.evaluation;
  const data = embeddedTaskData(config.data.task);
  const heldOut = { name: 'held-out', instances: (data.heldOut ?? []).slice(0, ev.prompts), pairs: data.evalPairs.slice(0, ev.pairs) };
  if (!ev.shifted) return { heldOut, shifted: null };
  const split = shiftedSplit(taskOptionsOf(config), { nPrompts: ev.prompts, nPairs: ev.pairs });
  return { heldOut, shifted: { name: 'shifted', instances: split.heldOut, pairs: split.pairs } };
}

const tokenizerOf = (loaded: { tokenizer?: Tokenizer }): Tokenizer => loaded.tokenizer ?? byteTokenizer();

/**
 * Trains the shared SFT model into a private temporary directory and renames it into place, so that
 * processes racing for the same SFT model (parallel jobs, a scheduler's array) never see half of one; the
 * loser of the race discards its identical copy. Then evaluates it with this grid's evaluation settings, if no
 * process has yet (written to a private file and renamed, for the same reason).
 */
export async function ensureSft(sft: NonNullable<Cell['sft']>, grid: Grid, log: (line: string) => void): Promise<void> {
  if (!existsSync(sft.dir)) {
    const tmp = `${sft.dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    log(`training the shared SFT model ${sft.key}`);
    await runTraining({ ...sft.config, out: tmp }, { overwrite: true, log });
    try {
      renameSync(tmp, sft.dir);
    } catch (e) {
      if (!existsSync(sft.dir)) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const file = join(sft.dir, sftCurvesFile(grid.evaluation));
  if (existsSync(file)) return;
  const loaded = loadModelDir(join(sft.dir, 'policy'), 'SFT model');
  const sets = evalSets(sft.config, grid);
  const curve = (set: EvalSet) => temperatureCurve(loaded.model, set.instances, tokenizerOf(loaded), { temperatures: grid.evaluation.temperatures, maxNewTokens: grid.evaluation.maxNewTokens, seed: sft.config.seed });
  const curves: SftCurves = { heldOut: curve(sets.heldOut), shifted: sets.shifted ? curve(sets.shifted) : null };
  writeJson(`${file}.tmp-${process.pid}`, curves);
  renameSync(`${file}.tmp-${process.pid}`, file);
}

/** Runs one cell; never throws for a failure of the run itself (it becomes a failed result). */
export async function runCell(grid: Grid, cell: Cell, log: (line: string) => void = () => {}): Promise<CellResult> {
  const started = performance.now();
  const base = { format: 'ganpo-experiment-run/1' as const, id: cell.id, labels: cell.labels, seed: cell.seed };
  try {
    if (cell.sft) await ensureSft(cell.sft, grid, log);
    rmSync(join(cell.dir, RESULT_FILE), { force: true });
    const trained = await runTraining(cell.config, { overwrite: true, log });
    // Peak memory of training, read before evaluation can raise it (maxRSS is in kilobytes).
    const peakMemoryMB = process.resourceUsage().maxRSS / 1024;
    const pref = trained.summary.stages.find((s) => s.stage === 'preference');
    const policy = loadModelDir(join(cell.dir, 'policy'), 'policy');
    const reference = loadModelDir(trained.referenceDir ?? join(cell.dir, 'reference'), 'reference model');
    const tokenizer = tokenizerOf(policy);
    const run = resolveRun(cell.config, cell.config.preference.steps);
    const objective = preferenceObjective(run.specs, { available: { reference: true, tokens: true, tokenReference: true, logSumSquaredProbs: true } });
    const sets = evalSets(cell.config, grid);
    const o = { temperatures: grid.evaluation.temperatures, maxNewTokens: grid.evaluation.maxNewTokens, seed: cell.seed, objective, beta: run.beta, maxLength: cell.config.data.maxLength };
    log(`evaluating ${cell.id}`);
    const heldOut: SetEval = evaluateSet(policy.model, reference.model, sets.heldOut, tokenizer, o);
    const shifted: SetEval | null = sets.shifted ? evaluateSet(policy.model, reference.model, sets.shifted, tokenizer, o) : null;
    writeJson(join(cell.dir, ROBUSTNESS_FILE), { heldOut, shifted });
    const metrics = {
      ...flatMetrics(heldOut),
      ...(shifted ? flatMetrics(shifted, 'shifted/') : {}),
      ...(pref && pref.steps > 0 ? { stepSeconds: pref.seconds / pref.steps } : {}),
      peakMemoryMB,
    };
    const result: CellResult = { ...base, status: 'completed', metrics, seconds: (performance.now() - started) / 1000, finishedAt: new Date().toISOString() };
    writeJson(join(cell.dir, RESULT_FILE), result);
    return result;
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    const details = (e as { details?: readonly string[] }).details ?? [];
    const result: CellResult = { ...base, status: 'failed', error: [message, ...details].join('; '), metrics: {}, seconds: (performance.now() - started) / 1000, finishedAt: new Date().toISOString() };
    mkdirSync(cell.dir, { recursive: true });
    writeJson(join(cell.dir, RESULT_FILE), result);
    return result;
  }
}

/** Whether a cell has a completed result (an interrupted grid skips these). */
export const isComplete = (cell: Cell): boolean => readCellResult(cell.dir)?.status === 'completed';
