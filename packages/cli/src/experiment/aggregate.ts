import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { type CellResult, readCellResult, readSftCurves, type SftCurves } from './runCell.js';
import { EXPERIMENT_FILE, type ExperimentRecord, readExperimentRecord } from './runner.js';
import { type PairedDifference, pairedDifference, type Summary, summarize } from './stats.js';

/**
 * An experiment directory read back: its grid, each cell's result (completed, failed, or missing), grouped
 * by axis labels over seeds. `ganpo experiment report` works on whatever runs exist, so results gathered
 * from a scheduler's array job are aggregated the same way as those of `ganpo experiment run`.
 */

export interface Group {
  /** The axis labels shared by the group's runs, e.g. `{ method: 'DPO', noise: '0.1' }`. */
  readonly labels: Readonly<Record<string, string>>;
  readonly name: string;
  readonly completed: readonly CellResult[];
  readonly failed: readonly CellResult[];
  /** Run ids of the group without any result yet. */
  readonly missing: readonly string[];
  /** Temperature curves of the SFT models these runs started from (one per seed). */
  readonly sft: readonly SftCurves[];
}

export interface Experiment {
  readonly dir: string;
  readonly record: ExperimentRecord;
  readonly groups: readonly Group[];
  /** Temperature curves of every distinct SFT model of the experiment (the references). */
  readonly sft: readonly SftCurves[];
}

export const groupName = (labels: Readonly<Record<string, string>>): string => Object.values(labels).join(' · ') || 'base';

export function loadExperiment(dirArg: string): Experiment {
  const dir = resolve(dirArg);
  const record = readExperimentRecord(dir);
  if (!record) throw new ConfigError(`${dirArg}: not an experiment directory (no ${EXPERIMENT_FILE})`, [], 'run `ganpo experiment run SPEC.json` first');
  const allSft = new Map<string, SftCurves>();
  const byName = new Map<string, { labels: Record<string, string>; completed: CellResult[]; failed: CellResult[]; missing: string[]; sft: Map<string, SftCurves> }>();
  for (const cell of record.cells) {
    const name = groupName(cell.labels);
    if (!byName.has(name)) byName.set(name, { labels: cell.labels, completed: [], failed: [], missing: [], sft: new Map() });
    const g = byName.get(name)!;
    const result = readCellResult(join(dir, cell.dir));
    if (!result) g.missing.push(cell.id);
    else if (result.status === 'completed') g.completed.push(result);
    else g.failed.push(result);
    if (cell.sft) {
      const curves = readSftCurves(join(dir, cell.sft), record.evaluation);
      if (curves) {
        g.sft.set(cell.sft, curves);
        allSft.set(cell.sft, curves);
      }
    }
  }
  const groups = [...byName.entries()].map(([name, g]) => ({ ...g, name, sft: [...g.sft.values()] }));
  return { dir, record, groups, sft: [...allSft.values()] };
}

/** seed → value of a metric over a group's completed runs. */
export const bySeed = (g: Group, metric: string): Map<number, number> =>
  new Map(g.completed.filter((r) => r.metrics[metric] !== undefined).map((r) => [r.seed, r.metrics[metric]]));

export const metricSummary = (g: Group, metric: string): Summary => summarize([...bySeed(g, metric).values()]);

export interface ComparisonRow {
  /** `DPO+GANPO − DPO`. */
  readonly label: string;
  readonly treatment: Group;
  readonly baseline: Group;
  /** The labels of the other axes the two groups share. */
  readonly context: string;
  readonly differences: Readonly<Record<string, PairedDifference>>;
}

/**
 * For each comparison of the spec and each combination of the other axes' labels: treatment − baseline per
 * metric, paired by seed.
 */
export function comparisons(e: Experiment): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  for (const c of e.record.comparisons) {
    for (const t of e.groups.filter((g) => g.labels[c.axis] === c.treatment)) {
      const others = Object.entries(t.labels).filter(([k]) => k !== c.axis);
      const b = e.groups.find((g) => g.labels[c.axis] === c.baseline && others.every(([k, v]) => g.labels[k] === v));
      if (!b) continue;
      const differences = Object.fromEntries(e.record.metrics.map((m) => [m, pairedDifference(bySeed(t, m), bySeed(b, m))]));
      rows.push({ label: `${c.treatment} − ${c.baseline}`, treatment: t, baseline: b, context: others.map(([k, v]) => `${k}=${v}`).join(', '), differences });
    }
  }
  return rows;
}
