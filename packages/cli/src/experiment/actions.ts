import { setFastThreads } from '@ganpo/kernels';
import type { ExperimentFlags } from '../config/commandFlags.js';
import { UsageError } from '../errors.js';
import { writeExperimentReport } from '../report/experimentReport.js';
import { type CliIo, readJsonFile } from '../util/io.js';
import { loadExperiment } from './aggregate.js';
import { expandGrid, type Grid } from './grid.js';
import { ensureSft, runCell } from './runCell.js';
import { recordGrid, runGrid } from './runner.js';
import { decodeSpec } from './spec.js';

/**
 * The actions of `ganpo experiment run|plan|report`. `run --only ID` is one cell in this process: the
 * command `plan` prints and the children of `run --jobs N` execute.
 */

export function loadGrid(specPath: string, flags: ExperimentFlags): Grid {
  const spec = decodeSpec(readJsonFile(specPath, 'experiment spec'), specPath);
  return expandGrid(spec, { quick: flags.quick, out: flags.out });
}

const childFlags = (flags: ExperimentFlags): string[] => [...(flags.quick ? ['--quick'] : []), ...(flags.out ? ['--out', flags.out] : [])];

export async function experimentRunCommand(specPath: string, flags: ExperimentFlags, io: CliIo): Promise<number> {
  const log = (line: string) => io.stderr.write(`${line}\n`);
  const grid = loadGrid(specPath, flags);
  if (flags.only !== undefined) {
    const cell = grid.cells.find((c) => c.id === flags.only);
    if (!cell) throw new UsageError(`--only ${flags.only}: no such run in the grid`, [`runs: ${grid.cells.slice(0, 12).map((c) => c.id).join(', ')}${grid.cells.length > 12 ? ', ...' : ''}`], '`ganpo experiment plan SPEC.json` lists them');
    setFastThreads(flags.threads ?? 1);
    recordGrid(grid, specPath);
    if (flags.sftOnly) {
      if (cell.sft) await ensureSft(cell.sft, grid, log);
      return 0;
    }
    const result = await runCell(grid, cell, log);
    log(result.status === 'completed' ? `${cell.id}: completed in ${result.seconds.toFixed(1)} s` : `${cell.id}: FAILED: ${result.error}`);
    return result.status === 'completed' ? 0 : 1;
  }
  recordGrid(grid, specPath);
  const outcome = await runGrid(grid, { specPath, jobs: flags.jobs ?? 1, log, childArgs: childFlags(flags) });
  const report = writeExperimentReport(loadExperiment(grid.dir));
  log(`done in ${outcome.seconds.toFixed(0)} s: ${outcome.completed} run, ${outcome.skipped} skipped (complete), ${outcome.failed.length} failed`);
  for (const f of outcome.failed) log(`  failed: ${f.id}: ${f.error}`);
  io.stdout.write(`wrote ${report.md}\nwrote ${report.html}\n`);
  return outcome.failed.length > 0 ? 1 : 0;
}

/** One JSON line per run: id, directory and a self-contained command (for Slurm arrays, Kubernetes Jobs, ...). */
export function experimentPlanCommand(specPath: string, flags: ExperimentFlags, io: CliIo): number {
  const grid = loadGrid(specPath, flags);
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  for (const c of grid.cells) {
    const command = ['ganpo', 'experiment', 'run', specPath, '--only', c.id, ...childFlags(flags)].map(quote).join(' ');
    io.stdout.write(`${JSON.stringify({ id: c.id, dir: c.dir, command })}\n`);
  }
  return 0;
}

export function experimentReportCommand(dir: string, io: CliIo): number {
  const report = writeExperimentReport(loadExperiment(dir));
  io.stdout.write(`wrote ${report.md}\nwrote ${report.html}\n`);
  return 0;
}
