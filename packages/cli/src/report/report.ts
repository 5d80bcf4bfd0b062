import type { EvalResult, SampleStats } from '../evaluate/types.js';
import type { MetricRecord } from '../util/metrics.js';
import { escapeXml, linePlot, type PlotOptions, type Series } from './svg.js';

/**
 * The run report: `report.html` (one self-contained file: inline CSS and SVG, no scripts, no network) with
 * plots of the training curves and the evaluation, and `report.md` with the final tables. Both are built
 * from `metrics.jsonl`, the run summary and `eval.json`, so `ganpo report --run DIR` can rebuild them.
 */

export interface StageSummary {
  readonly stage: string;
  readonly steps: number;
  readonly seconds: number;
  readonly tokensPerSecond: number;
}

export interface RunSummary {
  readonly runDir: string;
  /** completed, interrupted at ..., failed: ... */
  readonly status: string;
  readonly version: string;
  readonly backend: string;
  readonly model: string;
  readonly parameters: number;
  readonly objective: string;
  readonly ganpo: string;
  readonly data: string;
  readonly stages: readonly StageSummary[];
  readonly totalSeconds: number;
  /** The final policy checkpoint and the reference it was trained against. */
  readonly policyDir: string | null;
  readonly referenceDir: string | null;
  readonly startedAt: string;
}

export interface ReportInput {
  readonly summary: RunSummary;
  readonly metrics: readonly MetricRecord[];
  /** Evaluation of the final policy against its reference (null if not run). */
  readonly evaluation: EvalResult | null;
  /** The resolved run configuration, shown folded. */
  readonly config: unknown;
}

const numberOf = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

/** One series per metric key, from the records of one stage that have that key. */
export function seriesOf(records: readonly MetricRecord[], stage: string, key: string, name = key, dashed = false): Series {
  const points = records
    .filter((r) => r.stage === stage && key in r)
    .map((r): [number, number] => [r.step, numberOf(r[key])]);
  return { name, points, dashed };
}

const keysOf = (records: readonly MetricRecord[], stage: string): string[] => {
  const keys = new Set<string>();
  for (const r of records) if (r.stage === stage) for (const k of Object.keys(r)) keys.add(k);
  return [...keys];
};

const nonEmpty = (s: Series) => s.points.length > 0;

/**
 * An evaluation metric logged in both stages, on one axis: SFT steps, then preference steps shifted by the
 * last SFT step (so the curve shows the whole run).
 */
function acrossStages(records: readonly MetricRecord[], key: string): Series[] {
  const sft = seriesOf(records, 'sft', key, 'during SFT');
  const offset = sft.points.length > 0 ? Math.max(...records.filter((r) => r.stage === 'sft').map((r) => r.step)) : 0;
  const pref = seriesOf(records, 'preference', key, 'during preference optimisation');
  return [sft, { ...pref, points: pref.points.map(([x, y]): [number, number] => [x + offset, y]) }];
}

/** The plots of a run, in report order (only those with data). */
export function reportPlots(metrics: readonly MetricRecord[]): PlotOptions[] {
  const plots: PlotOptions[] = [];
  const pref = 'preference';
  const prefKeys = keysOf(metrics, pref);
  const add = (p: PlotOptions) => {
    const series = p.series.filter(nonEmpty);
    if (series.length > 0) plots.push({ ...p, series });
  };
  const ganpo = (re: RegExp) => prefKeys.filter((k) => k.startsWith('ganpo/') && re.test(k)).sort();
  const short = (k: string) => k.replace(/^ganpo\//, '');
  add({
    title: 'SFT loss',
    series: [seriesOf(metrics, 'sft', 'loss', 'train loss'), seriesOf(metrics, 'sft', 'eval/loss', 'held-out loss', true)],
    xLabel: 'SFT step',
    yLabel: 'token NLL',
    smoothing: 0.6,
  });
  add({
    title: 'Preference loss',
    series: [
      seriesOf(metrics, pref, 'loss', 'total'),
      seriesOf(metrics, pref, 'loss/preference', 'preference term'),
      seriesOf(metrics, pref, 'loss/ganpo', 'λ·GANPO term'),
      seriesOf(metrics, pref, 'eval/loss', 'held-out preference loss', true),
    ],
    xLabel: 'preference step',
    yLabel: 'loss',
    smoothing: 0.6,
    hline: { y: Math.LN2, label: 'ln 2 (untrained DPO)' },
  });
  add({
    title: 'Reward margins',
    series: [
      seriesOf(metrics, pref, 'rewards/margins', 'margin'),
      seriesOf(metrics, pref, 'rewards/chosen', 'chosen'),
      seriesOf(metrics, pref, 'rewards/rejected', 'rejected'),
      seriesOf(metrics, pref, 'eval/rewards/margins', 'held-out margin', true),
      seriesOf(metrics, pref, 'eval/rewards/chosen', 'held-out chosen', true),
      seriesOf(metrics, pref, 'eval/rewards/rejected', 'held-out rejected', true),
    ],
    xLabel: 'preference step',
    yLabel: 'implicit reward β·Δ',
    smoothing: 0.6,
  });
  add({
    title: 'Preference accuracy',
    series: [seriesOf(metrics, pref, 'rewards/accuracies', 'train'), seriesOf(metrics, pref, 'eval/rewards/accuracies', 'held-out', true)],
    xLabel: 'preference step',
    yLabel: 'accuracy',
    yDomain: [0, 1],
    smoothing: 0.6,
  });
  add({
    title: 'Ground-truth reward of greedy samples (held-out prompts)',
    series: acrossStages(metrics, 'eval/greedy_reward'),
    xLabel: 'step (SFT, then preference)',
    yLabel: 'reward',
  });
  add({
    title: 'Discriminator losses (GANPO)',
    series: ganpo(/d_loss|\/r1_|\/r2_|\/gp_/).map((k) => seriesOf(metrics, pref, k, short(k))),
    xLabel: 'preference step',
    yLabel: 'discriminator loss',
    smoothing: 0.6,
  });
  add({
    title: 'Generator term (GANPO)',
    series: ganpo(/g_loss/).map((k) => seriesOf(metrics, pref, k, short(k))),
    xLabel: 'preference step',
    yLabel: 'L_adv',
    smoothing: 0.6,
  });
  add({
    title: 'Discriminator accuracies (GANPO)',
    series: ganpo(/d_acc_(chosen|rejected)$|d_order/).map((k) => seriesOf(metrics, pref, k, short(k))),
    xLabel: 'preference step',
    yDomain: [0, 1],
    smoothing: 0.6,
  });
  add({
    title: 'Critic scores and running means (GANPO)',
    series: ganpo(/means\/|score\//).map((k) => seriesOf(metrics, pref, k, short(k))),
    xLabel: 'preference step',
    yLabel: 'critic logit',
  });
  add({
    title: 'Sequence log-probs',
    series: [seriesOf(metrics, pref, 'logps/chosen', 'chosen'), seriesOf(metrics, pref, 'logps/rejected', 'rejected')],
    xLabel: 'preference step',
    yLabel: 'Σ log π(y|x)',
    smoothing: 0.6,
  });
  // Any other evaluation metric, one plot each.
  const shown = new Set(['eval/loss', 'eval/rewards/margins', 'eval/rewards/accuracies', 'eval/rewards/chosen', 'eval/rewards/rejected', 'eval/greedy_reward']);
  for (const k of prefKeys.filter((k) => k.startsWith('eval/') && !shown.has(k)).sort()) {
    add({ title: `Evaluation: ${k.slice(5)}`, series: acrossStages(metrics, k), xLabel: 'step (SFT, then preference)' });
  }
  return plots;
}

// ---------------------------------------------------------------------------------------------------------
// Tables.

export const fmtNum = (v: unknown, digits = 4): string => {
  if (typeof v !== 'number') return v === undefined || v === null ? '–' : String(v);
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return v.toFixed(digits);
};

export const fmtSeconds = (s: number): string => (s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

/** The last value of every numeric metric of a stage. */
export function finalMetrics(metrics: readonly MetricRecord[], stage: string): [string, number, number][] {
  const last = new Map<string, [number, number]>();
  for (const r of metrics) {
    if (r.stage !== stage) continue;
    for (const [k, v] of Object.entries(r)) {
      if (k === 'stage' || k === 'step' || typeof v !== 'number') continue;
      last.set(k, [v, r.step]);
    }
  }
  return [...last].map(([k, [v, step]]) => [k, v, step]);
}

export type Table = { head: string[]; rows: string[][] };

export function summaryTable(s: RunSummary): Table {
  const rows: string[][] = [
    ['status', s.status],
    ['model', `${s.model} (${s.parameters.toLocaleString('en-US')} parameters)`],
    ['data', s.data],
    ['objective', s.objective],
    ['GANPO', s.ganpo],
    ['backend', s.backend],
    ...s.stages.map((st) => [`${st.stage} stage`, `${st.steps} steps in ${fmtSeconds(st.seconds)} (${Math.round(st.tokensPerSecond).toLocaleString('en-US')} tokens/s)`]),
    ['total time', fmtSeconds(s.totalSeconds)],
    ['policy checkpoint', s.policyDir ?? '–'],
    ['reference', s.referenceDir ?? '–'],
  ];
  return { head: ['', ''], rows };
}

const stats = (x: SampleStats) => [fmtNum(x.reward, 3), `${(100 * x.formatCompliance).toFixed(0)}%`, fmtNum(x.meanLength, 1)];

/** Rows: reference and policy at each temperature, with the ground-truth reward, format, length, win rate. */
export function samplingTable(e: EvalResult): Table | null {
  if (e.sampling.length === 0) return null;
  const rows: string[][] = [];
  for (const s of e.sampling) {
    const t = s.temperature === 0 ? '0 (greedy)' : String(s.temperature);
    rows.push([t, 'reference (SFT)', ...stats(s.reference), '–']);
    rows.push([t, 'policy', ...stats(s.policy), `${(100 * s.winRate).toFixed(0)}%`]);
  }
  return { head: ['temperature', 'model', 'ground-truth reward', 'format compliance', 'mean length (chars)', 'win rate vs reference'], rows };
}

/** One sentence: the greedy ground-truth reward of the reference and of the policy (the learning evidence). */
export function headline(e: EvalResult | null): string | null {
  const g = e?.sampling.find((s) => s.temperature === 0);
  if (!g) return null;
  const delta = g.policy.reward - g.reference.reward;
  return `Greedy responses to ${g.prompts} held-out prompts score ${g.policy.reward.toFixed(3)} (trained policy) vs ${g.reference.reward.toFixed(3)} (reference) in ground-truth reward: ${delta >= 0 ? '+' : ''}${delta.toFixed(3)}, win rate ${(100 * g.winRate).toFixed(0)}%.`;
}

export function preferenceTable(e: EvalResult): Table | null {
  const p = e.preference;
  if (!p) return null;
  const rows: string[][] = [
    ['held-out pairs', String(p.pairs)],
    ['preference accuracy (implicit reward)', fmtNum(p.accuracy, 3)],
    ['reward margin', fmtNum(p.margin)],
    ['chosen / rejected reward', `${fmtNum(p.chosenReward)} / ${fmtNum(p.rejectedReward)}`],
    ['held-out loss', fmtNum(p.loss)],
    ['log-prob ranking accuracy: policy / reference', `${fmtNum(p.policyLogpAccuracy, 3)} / ${fmtNum(p.referenceLogpAccuracy, 3)}`],
  ];
  if (e.drift) {
    rows.push(['token KL(policy ‖ reference), per response token', fmtNum(e.drift.tokenKl)]);
    rows.push(['latent drift (pooled-latent distance / √d; relative)', `${fmtNum(e.drift.latentDrift)} (${fmtNum(e.drift.relativeLatentDrift, 3)})`]);
  }
  return { head: ['held-out measure', 'value'], rows };
}

export function finalTable(metrics: readonly MetricRecord[]): Table | null {
  const rows: string[][] = [];
  for (const stage of ['sft', 'preference']) {
    for (const [k, v, step] of finalMetrics(metrics, stage)) {
      if (k === 'elapsed_s') continue;
      rows.push([stage, k, fmtNum(v), String(step)]);
    }
  }
  return rows.length > 0 ? { head: ['stage', 'metric', 'last value', 'at step'], rows } : null;
}

// ---------------------------------------------------------------------------------------------------------
// Markdown.

export function mdTable(t: Table, headless = false): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const head = headless ? ['', ''] : t.head;
  return [`| ${head.map(esc).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export function renderMarkdown(input: ReportInput): string {
  const { summary, evaluation, metrics } = input;
  const out: string[] = [`# ganpo run: ${summary.runDir}`, '', `Started ${summary.startedAt}; ganpo ${summary.version}.`, '', mdTable(summaryTable(summary), true), ''];
  if (evaluation) {
    const h = headline(evaluation);
    if (h) out.push(`**${h}**`, '');
    const st = samplingTable(evaluation);
    if (st) {
      out.push('## Sampled responses, scored by the task’s ground-truth reward', '', `${evaluation.sampling[0]?.prompts ?? 0} held-out prompts per temperature; the reference is the model the preference stage started from.`, '', mdTable(st), '');
    }
    const pt = preferenceTable(evaluation);
    if (pt) out.push('## Held-out preferences and drift', '', mdTable(pt), '');
  } else {
    out.push('_No evaluation was run (see `ganpo eval --run DIR`)._', '');
  }
  const ft = finalTable(metrics);
  if (ft) out.push('## Final training metrics', '', mdTable(ft), '');
  out.push('Plots: `report.html`. Every logged step: `metrics.jsonl`. Configuration: `config.json`.', '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// HTML.

export function htmlTable(t: Table, headless = false): string {
  const head = headless ? '' : `<thead><tr>${t.head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead>`;
  const body = t.rows.map((r) => `<tr>${r.map((c, i) => (headless && i === 0 ? `<th>${escapeXml(c)}</th>` : `<td>${escapeXml(c)}</td>`)).join('')}</tr>`).join('');
  return `<table>${head}<tbody>${body}</tbody></table>`;
}

export const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1340px;color:#222;background:#f6f7f9;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.sub{color:#666;margin:0 0 16px}
.status{display:inline-block;padding:2px 8px;border-radius:10px;font-size:13px;background:#e3f1e3;color:#245c24}
.status.bad{background:#fbe3e3;color:#8a1f1f}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:0 0 8px}
th,td{border:1px solid #dde;padding:4px 10px;text-align:left;vertical-align:top}
thead th{background:#eef0f4}
tbody th{background:#f4f5f8;font-weight:600;white-space:nowrap}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(640px,1fr));gap:14px}
.plot{background:#fff;border:1px solid #dde;border-radius:6px;padding:6px}
.plot svg{width:100%;height:auto;display:block}
details{margin:16px 0}pre{background:#fff;border:1px solid #dde;padding:10px;overflow:auto;font-size:12px}
.note{color:#555;font-size:13px;max-width:900px}
`;

export function renderHtml(input: ReportInput): string {
  const { summary, evaluation, metrics } = input;
  const ok = summary.status === 'completed';
  const plots = reportPlots(metrics);
  const parts: string[] = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>ganpo report: ${escapeXml(summary.runDir)}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<h1>ganpo run report <span class="status${ok ? '' : ' bad'}" id="status">${escapeXml(summary.status)}</span></h1>`,
    `<p class="sub">${escapeXml(summary.runDir)} · started ${escapeXml(summary.startedAt)} · ganpo ${escapeXml(summary.version)}</p>`,
    htmlTable(summaryTable(summary), true),
  ];
  if (evaluation) {
    const h = headline(evaluation);
    if (h) parts.push(`<p id="headline"><strong>${escapeXml(h)}</strong></p>`);
    const st = samplingTable(evaluation);
    if (st) {
      parts.push(
        '<h2>Sampled responses, scored by the task’s ground-truth reward</h2>',
        `<p class="note">${evaluation.sampling[0]?.prompts ?? 0} held-out prompts per temperature. The reference is the model the preference stage started from (the SFT model); the win rate compares the two models’ responses prompt by prompt (ties count ½).</p>`,
        htmlTable(st),
      );
    }
    const pt = preferenceTable(evaluation);
    if (pt) parts.push('<h2>Held-out preferences and drift</h2>', htmlTable(pt));
  } else {
    parts.push('<p class="note">No evaluation was run; <code>ganpo eval --run DIR</code> adds one.</p>');
  }
  parts.push('<h2>Training curves</h2>');
  if (plots.length === 0) parts.push('<p class="note">No metrics were logged.</p>');
  parts.push('<div class="grid">', ...plots.map((p) => `<div class="plot">${linePlot(p)}</div>`), '</div>');
  const ft = finalTable(metrics);
  if (ft) parts.push('<h2>Final training metrics</h2>', htmlTable(ft));
  parts.push(
    '<details><summary>Run configuration</summary>',
    `<pre>${escapeXml(JSON.stringify(input.config, null, 2))}</pre></details>`,
    '</body></html>',
    '',
  );
  return parts.join('\n');
}
