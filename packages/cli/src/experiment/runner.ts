import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { writeJson } from '../report/write.js';
import { formatDuration } from '../util/progress.js';
import { VERSION } from '../version.js';
import type { Cell, Grid } from './grid.js';
import { type CellResult, isComplete, readCellResult, readSftCurves, RESULT_FILE } from './runCell.js';

/**
 * `ganpo experiment run`: the grid's missing cells, each in a child process running the same command with
 * `--only ID` (so a cell is exactly what `ganpo experiment plan` prints), at most `jobs` at a time, each
 * child with floor(cores / jobs) kernel threads. Shared SFT models are trained first (one child per model),
 * so that no two cells race for one and every cell's timing and peak memory cover its own run only.
 */

export const EXPERIMENT_FILE = 'experiment.json';

/** What the experiment directory records about its grid (the report reads it; a rerun must match it). */
export interface ExperimentRecord {
  readonly format: 'ganpo-experiment/1';
  readonly name: string;
  readonly question: string;
  readonly spec: string;
  readonly quick: boolean;
  readonly version: string;
  readonly seeds: readonly number[];
  readonly axes: readonly { readonly name: string; readonly key: string | null; readonly labels: readonly string[]; readonly values: readonly unknown[] | null }[];
  readonly metrics: readonly string[];
  readonly comparisons: NonNullable<Grid['spec']['comparisons']>;
  readonly evaluation: Grid['evaluation'];
  /** Each cell's run directory and shared SFT directory, relative to the experiment directory. */
  readonly cells: readonly { readonly id: string; readonly labels: Readonly<Record<string, string>>; readonly seed: number; readonly dir: string; readonly sft: string | null }[];
}

export function experimentRecord(grid: Grid, specPath: string): ExperimentRecord {
  const { spec } = grid;
  return {
    format: 'ganpo-experiment/1',
    name: spec.name,
    question: spec.question,
    spec: specPath,
    quick: grid.quick,
    version: VERSION,
    seeds: grid.seeds,
    axes: spec.axes.map((a) => ('key' in a ? { name: a.name, key: a.key, labels: a.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))), values: a.values } : { name: a.name, key: null, labels: a.variants.map((v) => v.label), values: null })),
    metrics: spec.metrics,
    comparisons: spec.comparisons ?? [],
    evaluation: grid.evaluation,
    cells: grid.cells.map((c) => ({ id: c.id, labels: c.labels, seed: c.seed, dir: relative(grid.dir, c.dir), sft: c.sft ? relative(grid.dir, c.sft.dir) : null })),
  };
}

export const readExperimentRecord = (dir: string): ExperimentRecord | null =>
  existsSync(join(dir, EXPERIMENT_FILE)) ? (JSON.parse(readFileSync(join(dir, EXPERIMENT_FILE), 'utf8')) as ExperimentRecord) : null;

/**
 * Writes OUT/experiment.json, or checks that the one there describes the same grid: results of two
 * different grids are never mixed in one directory.
 */
export function recordGrid(grid: Grid, specPath: string): void {
  mkdirSync(grid.dir, { recursive: true });
  const record = experimentRecord(grid, specPath);
  const existing = readExperimentRecord(grid.dir);
  if (existing) {
    const same = (r: ExperimentRecord) => JSON.stringify({ cells: r.cells, metrics: r.metrics, evaluation: r.evaluation, axes: r.axes });
    if (same(existing) !== same(record)) {
      throw new ConfigError(`${grid.dir} holds the results of a different grid (its ${EXPERIMENT_FILE} differs from this spec)`, [], 'a grid is fixed before it runs: choose another "out" (or --out), or delete that directory to start over');
    }
  }
  writeJson(join(grid.dir, EXPERIMENT_FILE), record);
}

export interface RunGridOptions {
  readonly specPath: string;
  readonly jobs: number;
  readonly log: (line: string) => void;
  /** The `ganpo` executable the children run (default: this process's script). */
  readonly bin?: string;
  /** Extra arguments every child gets (`--quick`, `--out DIR`). */
  readonly childArgs?: readonly string[];
}

export interface GridOutcome {
  readonly total: number;
  readonly skipped: number;
  readonly completed: number;
  readonly failed: readonly CellResult[];
  readonly seconds: number;
}

interface Job {
  readonly id: string;
  readonly args: readonly string[];
  readonly resultOf: () => CellResult | null;
  readonly describe: (r: CellResult | null) => string;
}

/** Runs `jobs` with at most `parallel` children at a time; `onDone` after each. */
async function pool(jobs: readonly Job[], parallel: number, spawnJob: (job: Job) => Promise<number>, onDone: (job: Job, code: number) => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      onDone(job, await spawnJob(job));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, jobs.length)) }, worker));
}

const headline = (r: CellResult | null, metric: string | undefined): string => {
  if (!r) return 'no result';
  if (r.status === 'failed') return `FAILED: ${r.error}`;
  const v = metric ? r.metrics[metric] : undefined;
  return `completed in ${formatDuration(r.seconds)}${v !== undefined ? ` · ${metric} ${v.toFixed(3)}` : ''}`;
};

/** Runs the missing cells of the grid; returns what happened (failed cells included, never dropped). */
export async function runGrid(grid: Grid, options: RunGridOptions): Promise<GridOutcome> {
  const t0 = performance.now();
  const bin = options.bin ?? process.argv[1];
  const jobs = Math.max(1, options.jobs);
  const threads = Math.max(1, Math.floor(availableParallelism() / jobs));
  const logDir = join(grid.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  // Seed-major order: every cell's seed 0, then every cell's seed 1, ... so that a grid stopped part-way
  // has the same seeds in every cell, and the paired comparisons have pairs.
  const seedRank = new Map(grid.seeds.map((s, i) => [s, i]));
  const todo = grid.cells.filter((c) => !isComplete(c)).sort((a, b) => seedRank.get(a.seed)! - seedRank.get(b.seed)!);
  const skipped = grid.cells.length - todo.length;
  options.log(`experiment ${grid.spec.name}${grid.quick ? ' (quick)' : ''}: ${grid.cells.length} runs (${grid.spec.axes.map((a) => a.name).join(' × ') || 'one cell'} × ${grid.seeds.length} seeds) in ${grid.dir}`);
  options.log(`${skipped} complete (skipped), ${todo.length} to run; ${jobs} job${jobs === 1 ? '' : 's'} × ${threads} kernel thread${threads === 1 ? '' : 's'}`);

  const baseArgs = (id: string) => [bin, 'experiment', 'run', resolve(options.specPath), '--only', id, '--threads', String(threads), ...(options.childArgs ?? [])];
  const spawnJob = (job: Job): Promise<number> =>
    new Promise((done) => {
      const out = createWriteStream(join(logDir, `${job.id}.log`));
      const child = spawn(process.execPath, [...job.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GANPO_PROGRESS: 'lines' } });
      child.stdout.pipe(out, { end: false });
      child.stderr.pipe(out, { end: false });
      child.on('error', (e) => {
        out.end(`\nganpo experiment: could not start the run: ${e.message}\n`);
        done(1);
      });
      child.on('close', (code, signal) => {
        out.end(code === 0 ? '' : `\nexited with code ${code}${signal ? ` (signal ${signal})` : ''}\n`);
        done(code ?? 1);
      });
    });

  // 1. Shared SFT models (one per distinct SFT configuration), before any cell needs them.
  const sftJobs = new Map<string, Job>();
  // Every cell, complete or not: a finished grid still needs the SFT model's curves for its own evaluation.
  for (const c of grid.cells) {
    if (c.sft && !readSftCurves(c.sft.dir, grid.evaluation) && !sftJobs.has(c.sft.key)) {
      const sftDir = c.sft.dir;
      sftJobs.set(c.sft.key, { id: `sft-${c.sft.key}`, args: [...baseArgs(c.id), '--sft-only'], resultOf: () => null, describe: () => (readSftCurves(sftDir, grid.evaluation) ? 'ready' : 'FAILED') });
    }
  }
  if (sftJobs.size > 0) {
    options.log(`training ${sftJobs.size} shared SFT model${sftJobs.size === 1 ? '' : 's'} first`);
    let done = 0;
    await pool([...sftJobs.values()], jobs, spawnJob, (job) => options.log(`[sft ${++done}/${sftJobs.size}] ${job.id}: ${job.describe(null)}`));
  }

  // 2. The cells.
  const failed: CellResult[] = [];
  let completed = 0;
  const cellJob = (c: Cell): Job => ({ id: c.id, args: baseArgs(c.id), resultOf: () => readCellResult(c.dir), describe: (r) => headline(r, grid.spec.metrics[0]) });
  const started = performance.now();
  await pool(todo.map(cellJob), jobs, spawnJob, (job, code) => {
    let r = job.resultOf();
    if (!r || (code !== 0 && r.status === 'completed')) {
      // The child died without writing its result (killed, out of memory): record that, not nothing.
      const cell = todo.find((c) => c.id === job.id)!;
      r = { format: 'ganpo-experiment-run/1', id: cell.id, labels: cell.labels, seed: cell.seed, status: 'failed', error: `the run's process exited with code ${code} without a result; see ${join('logs', `${job.id}.log`)}`, metrics: {}, seconds: 0, finishedAt: new Date().toISOString() };
      mkdirSync(cell.dir, { recursive: true });
      writeJson(join(cell.dir, RESULT_FILE), r);
    }
    if (r.status === 'completed') completed++;
    else failed.push(r);
    const finished = completed + failed.length;
    // Wall time per finished run so far (parallel jobs included), times the runs left.
    const eta = ((performance.now() - started) / 1000 / finished) * (todo.length - finished);
    options.log(`[run ${finished}/${todo.length}] ${job.id}: ${job.describe(r)} · grid ${skipped + finished}/${grid.cells.length} done${failed.length ? `, ${failed.length} failed` : ''} · ETA ${formatDuration(eta)}`);
  });
  return { total: grid.cells.length, skipped, completed, failed, seconds: (performance.now() - t0) / 1000 };
}
