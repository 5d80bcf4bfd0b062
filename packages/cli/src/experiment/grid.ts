import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { resolveEmbeddedTaskOptions } from '@ganpo/datasets';
import * as E from 'fp-ts/lib/Either.js';
import { resolveRun, runConfigFrom } from '../config/resolve.js';
import { deepMerge, type RunConfig } from '../config/runConfig.js';
import { ConfigError } from '../errors.js';
import { EMBEDDED_TASK_SEED, EMBEDDED_TASK_SIZES } from '../train/data.js';
import { type Axis, axisLabels, type Evaluation, type ExperimentSpec } from './spec.js';

/**
 * The grid of an experiment: the cartesian product of its axes × seeds, each cell a full run configuration
 * checked by the training config's own codec (and the objective and GANPO codecs) before anything runs.
 */

export interface Cell {
  /** File-system-safe, unique: the axis labels and the seed (`DPO+GANPO_s3`). */
  readonly id: string;
  /** Axis name → the label of this cell's value. */
  readonly labels: Readonly<Record<string, string>>;
  readonly seed: number;
  /** The run directory (absolute). */
  readonly dir: string;
  /** The preference run's configuration (stage `preference` from the shared SFT model, or `all`). */
  readonly config: RunConfig;
  /** The shared SFT run this cell starts from, or null when the cell runs its own SFT stage. */
  readonly sft: { readonly key: string; readonly dir: string; readonly config: RunConfig } | null;
}

export interface Grid {
  readonly spec: ExperimentSpec;
  readonly quick: boolean;
  /** The experiment directory (absolute). */
  readonly dir: string;
  readonly seeds: readonly number[];
  readonly evaluation: Evaluation;
  readonly cells: readonly Cell[];
}

/** `{ "a.b": 1 }` → `{ a: { b: 1 } }`. */
export function nestKeys(set: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(set)) {
    const keys = path.split('.');
    let node = out;
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    node[keys[keys.length - 1]] = value;
  }
  return out;
}

const axisSets = (axis: Axis): Record<string, unknown>[] => ('key' in axis ? axis.values.map((v) => ({ [axis.key]: v })) : axis.variants.map((v) => v.set));

/** Every combination of axis values, in order (the first axis varies slowest). */
export function combinations(axes: readonly Axis[]): { labels: Record<string, string>; override: Record<string, unknown> }[] {
  let out: { labels: Record<string, string>; override: Record<string, unknown> }[] = [{ labels: {}, override: {} }];
  for (const axis of axes) {
    const labels = axisLabels(axis);
    const sets = axisSets(axis);
    out = out.flatMap((c) => labels.map((label, i) => ({ labels: { ...c.labels, [axis.name]: label }, override: deepMerge(c.override, nestKeys(sets[i])) })));
  }
  return out;
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.+=-]+/g, '-');

/** JSON with object keys sorted, so that equal configurations hash equally. */
export function stableJson(u: unknown): string {
  if (Array.isArray(u)) return `[${u.map(stableJson).join(',')}]`;
  if (u && typeof u === 'object') return `{${Object.keys(u).sort().map((k) => `${JSON.stringify(k)}:${stableJson((u as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(u);
}

/** Task options that only change the preference pairs and held-out sets, not the SFT demonstrations. */
const PAIR_ONLY_TASK_KEYS = ['labelNoise', 'nTrain', 'pairAccuracy', 'nEval', 'nHeldOut'];

/** What determines the SFT model: seed, backend, model, SFT loop, logging and the SFT-relevant data options. */
export function sftKey(config: RunConfig): string {
  const task = Object.fromEntries(Object.entries(config.data.task).filter(([k]) => !PAIR_ONLY_TASK_KEYS.includes(k)));
  const what = { seed: config.seed, backend: config.backend, data: { ...config.data, task }, model: config.model, sft: config.sft, log: config.log };
  return `s${config.seed}-${createHash('sha256').update(stableJson(what)).digest('hex').slice(0, 12)}`;
}

/** The embedded task options a run uses (the trainer's defaults filled in). */
export const taskOptionsOf = (config: RunConfig) => ({ seed: EMBEDDED_TASK_SEED, ...EMBEDDED_TASK_SIZES, ...config.data.task }) as { seed: number } & Record<string, unknown>;

/** The grid of a spec; throws a ConfigError naming the cell and the problem when a configuration is bad. */
export function expandGrid(spec: ExperimentSpec, options: { quick?: boolean; out?: string } = {}): Grid {
  const quick = options.quick === true;
  const seeds = quick ? (spec.quick?.seeds ?? spec.seeds) : spec.seeds;
  const base = quick && spec.quick?.base ? deepMerge(spec.base, spec.quick.base) : spec.base;
  const evaluation = quick ? { ...spec.evaluation, ...spec.quick?.evaluation } : spec.evaluation;
  const dir = resolve(options.out ?? spec.out ?? join('runs', 'experiments', quick ? `${spec.name}-quick` : spec.name));
  const sftRoot = resolve(spec.sftDir ?? join(dir, 'sft'));
  const shareSft = spec.shareSft ?? true;
  const cells: Cell[] = [];
  const problems: string[] = [];
  for (const combo of combinations(spec.axes)) {
    for (const seed of seeds) {
      const id = safe([...Object.values(combo.labels), `s${seed}`].join('_'));
      const runDir = join(dir, 'runs', id);
      try {
        const full = runConfigFrom(deepMerge(deepMerge(base, combo.override), { seed, out: runDir, eval: { atEnd: false } }));
        if (full.data.path === null) {
          const task = resolveEmbeddedTaskOptions(taskOptionsOf(full));
          if (E.isLeft(task)) throw new ConfigError(`data.task: ${task.left.replace(/^embedded task: /, '')}`);
        } else if (evaluation.prompts > 0) {
          throw new ConfigError('the experiment evaluation needs the embedded task (data.path must be null): only it has a ground-truth reward');
        }
        let sft: Cell['sft'] = null;
        let config = full;
        if (shareSft && full.stage === 'all') {
          const key = sftKey(full);
          const sftDir = join(sftRoot, key);
          sft = { key, dir: sftDir, config: { ...full, stage: 'sft', out: sftDir } };
          config = { ...full, stage: 'preference', model: { ...full.model, init: join(sftDir, 'policy') } };
        }
        resolveRun(config, config.preference.steps);
        cells.push({ id, labels: combo.labels, seed, dir: runDir, config, sft });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        problems.push(`run ${id} (${Object.entries(combo.labels).map(([k, v]) => `${k}=${v}`).join(', ') || 'base'}): ${e.message}${e.details.length ? `: ${e.details.join('; ')}` : ''}`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid run configuration in the grid (${problems.length} run${problems.length === 1 ? '' : 's'})`, problems.slice(0, 20));
  const ids = new Set(cells.map((c) => c.id));
  if (ids.size !== cells.length) throw new ConfigError('two runs of the grid have the same id: make the axis labels distinct');
  return { spec, quick, dir, seeds, evaluation, cells };
}
