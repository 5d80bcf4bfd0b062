import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { type ConfigProblem, formatProblem, int, nonEmptyString, num, problemsFromErrors, unknownKeys } from '../config/codecs.js';
import { ConfigError } from '../errors.js';

/**
 * The experiment spec (`ganpo experiment run SPEC.json`), as an io-ts codec: a base training configuration,
 * axes of a grid (any config key, or named variants that set several keys), seeds, the metrics to report and
 * the GANPO-vs-baseline comparisons. Everything is fixed in the file before anything runs; a spec is decoded
 * whole, and every problem is reported with its path. Run configurations are checked by the training
 * config's own codec in `grid.ts`.
 */

/** One value of an axis: a label and the config keys it sets (dotted paths → values). */
export const AxisValueCodec = t.type({ label: nonEmptyString, set: t.UnknownRecord }, 'an axis value { label, set }');

export const AxisCodec = t.union(
  [
    // A sweep over one config key: `{ "name": "noise", "key": "data.task.labelNoise", "values": [0, 0.1] }`.
    t.type({ name: nonEmptyString, key: nonEmptyString, values: t.array(t.unknown) }),
    // Named variants: `{ "name": "method", "variants": [{ "label": "DPO", "set": { "ganpo.enabled": false } }] }`.
    t.type({ name: nonEmptyString, variants: t.array(AxisValueCodec) }),
  ],
  'an axis { name, key, values } or { name, variants }',
);
export type Axis = t.OutputOf<typeof AxisCodec>;

/** Evaluation of every run (held-out and shifted sets, sampled at each temperature). */
export const EvaluationCodec = t.type({
  temperatures: t.array(num({ ge: 0 }), 'a list of numbers ≥ 0'),
  /** Held-out prompts sampled per temperature (and shifted prompts, when the shifted set is on). */
  prompts: int({ ge: 1 }),
  /** Held-out (and shifted) preference pairs for accuracy, token KL and latent drift. */
  pairs: int({ ge: 1 }),
  maxNewTokens: int({ ge: 1 }),
  /** Also evaluate on the embedded task's shifted split (longer inputs, another task mixture). */
  shifted: t.boolean,
});
export type Evaluation = t.OutputOf<typeof EvaluationCodec>;

export const ComparisonCodec = t.type({ axis: nonEmptyString, treatment: nonEmptyString, baseline: nonEmptyString });
export type Comparison = t.OutputOf<typeof ComparisonCodec>;

const seedList = t.array(int({ ge: 0, le: 2 ** 31 - 1 }), 'a list of integer seeds');

/** What `--quick` changes: fewer seeds, a smaller base configuration, a cheaper evaluation. */
export const QuickCodec = t.partial({ seeds: seedList, base: t.UnknownRecord, evaluation: t.partial(EvaluationCodec.props) });

export const ExperimentSpecCodec = t.intersection(
  [
    t.type({
      name: nonEmptyString,
      /** The claim or question the grid probes (shown in the report). */
      question: nonEmptyString,
      /** Partial run configuration shared by every run (the training config's keys). */
      base: t.UnknownRecord,
      axes: t.array(AxisCodec),
      seeds: seedList,
      /** Metrics tabulated in the report, in order (see METRIC_HELP); the first is the primary one. */
      metrics: t.array(nonEmptyString, 'a list of metric names'),
      evaluation: EvaluationCodec,
    }),
    t.partial({
      comparisons: t.array(ComparisonCodec),
      quick: QuickCodec,
      /** Train one SFT model per seed and start every preference run from it (default true). */
      shareSft: t.boolean,
      /** Where the shared SFT models live (default: OUT/sft); several specs may share one. */
      sftDir: nonEmptyString,
      /** The experiment directory (default runs/experiments/NAME, or NAME-quick with --quick). */
      out: nonEmptyString,
    }),
  ],
  'ExperimentSpec',
);
export type ExperimentSpec = t.OutputOf<typeof ExperimentSpecCodec>;

/** The metrics every run records. `@T` metrics exist for each evaluation temperature T. */
export const METRIC_HELP: Readonly<Record<string, string>> = {
  'reward@T': 'mean ground-truth reward of sampled responses to held-out prompts at temperature T',
  'compliance@T': 'fraction of those responses in the exact answer format, ended with EOS',
  'length@T': 'mean response length in characters',
  'shifted/reward@T': 'the same on the shifted split (longer inputs, another task mixture)',
  'shifted/compliance@T': 'format compliance on the shifted split',
  'shifted/length@T': 'response length on the shifted split',
  accuracy: 'held-out preference accuracy (implicit reward of chosen > rejected)',
  tokenKl: 'token KL(π ‖ π_ref) on held-out chosen responses',
  latentDrift: 'distance between mean-pooled policy and reference latents',
  'shifted/accuracy': 'preference accuracy on the shifted split',
  'shifted/tokenKl': 'token KL on the shifted split',
  'shifted/latentDrift': 'latent drift on the shifted split',
  stepSeconds: 'mean wall time of one preference step (s)',
  peakMemoryMB: 'peak resident memory of the run process (MB)',
};

/** Whether `name` is a metric the runs record under this evaluation. */
export function isKnownMetric(name: string, evaluation: Pick<Evaluation, 'temperatures' | 'shifted'>): boolean {
  const m = /^(.*)@([0-9.]+)$/.exec(name);
  const base = m ? `${m[1]}@T` : name;
  if (!(base in METRIC_HELP)) return false;
  if (name.startsWith('shifted/') && !evaluation.shifted) return false;
  return !m || evaluation.temperatures.includes(Number(m[2]));
}

export const axisLabels = (axis: Axis): string[] => ('key' in axis ? axis.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) : axis.variants.map((v) => v.label));

/** Checks the grid's shape: non-empty axes and seeds, unique names and labels, known metrics, valid comparisons. */
function gridProblems(spec: ExperimentSpec): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: string, reason: string) => problems.push({ path, reason });
  if (spec.seeds.length === 0) add('seeds', 'is empty: at least one seed is needed');
  if (new Set(spec.seeds).size !== spec.seeds.length) add('seeds', 'has repeated seeds');
  const names = new Set<string>();
  spec.axes.forEach((axis, i) => {
    if (names.has(axis.name)) add(`axes.${i}.name`, `repeats the axis name '${axis.name}'`);
    names.add(axis.name);
    const labels = axisLabels(axis);
    if (labels.length === 0) add(`axes.${i}.${'key' in axis ? 'values' : 'variants'}`, 'is empty: the grid would have no runs');
    if (new Set(labels).size !== labels.length) add(`axes.${i}`, 'has repeated values or labels');
  });
  if (spec.metrics.length === 0) add('metrics', 'is empty: name at least one metric to report');
  spec.metrics.forEach((m, i) => {
    if (!isKnownMetric(m, spec.evaluation)) add(`metrics.${i}`, `unknown metric '${m}' (known: ${Object.keys(METRIC_HELP).join(', ')}; T one of the evaluation temperatures${spec.evaluation.shifted ? '' : '; shifted/* needs evaluation.shifted'})`);
  });
  (spec.comparisons ?? []).forEach((c, i) => {
    const axis = spec.axes.find((a) => a.name === c.axis);
    if (!axis) return add(`comparisons.${i}.axis`, `no axis named '${c.axis}' (axes: ${spec.axes.map((a) => a.name).join(', ')})`);
    const labels = axisLabels(axis);
    for (const side of ['treatment', 'baseline'] as const) if (!labels.includes(c[side])) add(`comparisons.${i}.${side}`, `'${c[side]}' is not a value of axis '${c.axis}' (${labels.join(', ') || 'it has none'})`);
  });
  return problems;
}

/** Unknown keys at any depth of the spec, array elements of `axes` and `comparisons` included. */
function specUnknownKeys(u: unknown): ConfigProblem[] {
  const problems = unknownKeys(ExperimentSpecCodec, u);
  if (typeof u !== 'object' || u === null) return problems;
  const o = u as Record<string, unknown>;
  if (Array.isArray(o.axes)) {
    o.axes.forEach((a, i) => {
      const member = typeof a === 'object' && a !== null && 'variants' in a ? AxisCodec.types[1] : AxisCodec.types[0];
      problems.push(...unknownKeys(member, a, ['axes', String(i)]));
      const variants = (a as { variants?: unknown }).variants;
      if (Array.isArray(variants)) variants.forEach((v, j) => problems.push(...unknownKeys(AxisValueCodec, v, ['axes', String(i), 'variants', String(j)])));
    });
  }
  if (Array.isArray(o.comparisons)) o.comparisons.forEach((c, i) => problems.push(...unknownKeys(ComparisonCodec, c, ['comparisons', String(i)])));
  return problems;
}

/** Decodes a spec, throwing one ConfigError that lists every problem with its path (prefixed by `source`). */
export function decodeSpec(u: unknown, source: string): ExperimentSpec {
  const decoded = ExperimentSpecCodec.decode(u);
  const problems = [...specUnknownKeys(u), ...(E.isLeft(decoded) ? problemsFromErrors(decoded.left) : gridProblems(decoded.right))];
  if (problems.length > 0 || E.isLeft(decoded)) {
    throw new ConfigError(`${source}: invalid experiment spec (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems.map((p) => formatProblem(p)), 'see experiments/README.md for the spec format');
  }
  return decoded.right;
}
