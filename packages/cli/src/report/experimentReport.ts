import { join } from 'node:path';
import { writeFileAtomic } from '@ganpo/models';
import { bySeed, comparisons, type Experiment, type Group, metricSummary } from '../experiment/aggregate.js';
import { METRIC_HELP } from '../experiment/spec.js';
import type { SftCurves } from '../experiment/runCell.js';
import { fmtDifference, fmtMeanSd, summarize } from '../experiment/stats.js';
import { CSS, htmlTable, mdTable, type Table } from './report.js';
import { escapeXml, linePlot, type PlotOptions, type Series } from './svg.js';

/**
 * The experiment report: `report.md` and a self-contained `report.html` (inline CSS and SVG, no scripts)
 * with mean ± sd over seeds per cell, paired GANPO-vs-baseline differences with 95 % t intervals, failed and
 * missing runs, and plots drawn with the training report's SVG module (bands are ± one sd over seeds).
 */

const DIGITS = 3;

export function statusTable(e: Experiment): Table {
  const count = (f: (g: Group) => number) => String(e.groups.reduce((a, g) => a + f(g), 0));
  return {
    head: ['runs', 'completed', 'failed', 'missing'],
    rows: [[String(e.record.cells.length), count((g) => g.completed.length), count((g) => g.failed.length), count((g) => g.missing.length)]],
  };
}

/** A metric of the SFT models (reward, compliance, length at a temperature), or null for other metrics. */
function sftValues(sft: readonly SftCurves[], metric: string): number[] | null {
  const m = /^(shifted\/)?(reward|compliance|length)@([0-9.]+)$/.exec(metric);
  if (!m) return null;
  const field = m[2] === 'reward' ? 'reward' : m[2] === 'compliance' ? 'formatCompliance' : 'meanLength';
  return sft.flatMap((c) => (m[1] ? c.shifted : c.heldOut) ?? []).filter((p) => p.temperature === Number(m[3])).map((p) => p[field]);
}

export function meansTable(e: Experiment): Table {
  const metrics = e.record.metrics;
  const rows = e.groups.map((g) => [g.name, `${g.completed.length}/${g.completed.length + g.failed.length + g.missing.length}`, ...metrics.map((m) => fmtMeanSd(metricSummary(g, m), DIGITS))]);
  if (e.sft.length > 0) rows.push(['SFT model (the reference)', String(e.sft.length), ...metrics.map((m) => {
    const v = sftValues(e.sft, m);
    return v ? fmtMeanSd(summarize(v), DIGITS) : '–';
  })]);
  return { head: ['cell', 'seeds', ...metrics], rows };
}

export function comparisonTable(e: Experiment): Table | null {
  const rows = comparisons(e);
  if (rows.length === 0) return null;
  return {
    head: ['treatment − baseline', 'where', 'seeds', ...e.record.metrics],
    rows: rows.map((r) => {
      const n = Math.max(...Object.values(r.differences).map((d) => d.n));
      return [r.label, r.context || '–', String(n), ...e.record.metrics.map((m) => `${fmtDifference(r.differences[m], DIGITS)}${r.differences[m].excludesZero ? ' *' : ''}`)];
    }),
  };
}

export function failuresTable(e: Experiment): Table | null {
  const rows = e.groups.flatMap((g) => [...g.failed.map((r) => [r.id, 'failed', r.error ?? '']), ...g.missing.map((id) => [id, 'missing', 'no result yet (not run, or still running)'])]);
  return rows.length > 0 ? { head: ['run', 'status', 'error'], rows } : null;
}

const temperatures = (e: Experiment) => e.record.evaluation.temperatures;

/** mean ± sd series of `metric(x)` over a group's seeds, for each x. */
function bandSeries(name: string, xs: readonly number[], valuesAt: (x: number) => number[], extra: Partial<Series> = {}): Series {
  const stats = xs.map((x) => [x, summarize(valuesAt(x))] as const).filter(([, s]) => s.n > 0);
  return {
    name,
    points: stats.map(([x, s]) => [x, s.mean] as const),
    band: stats.filter(([, s]) => Number.isFinite(s.sd)).map(([x, s]) => [x, s.mean - s.sd, s.mean + s.sd] as const),
    ...extra,
  };
}

function temperaturePlot(e: Experiment, prefix: string, what: 'reward' | 'compliance', title: string): PlotOptions {
  const ts = temperatures(e);
  const series = e.groups.map((g) => bandSeries(g.name, ts, (t) => [...bySeed(g, `${prefix}${what}@${t}`).values()]));
  if (e.sft.length > 0) series.push(bandSeries('SFT model (reference)', ts, (t) => sftValues(e.sft, `${prefix}${what}@${t}`) ?? [], { dashed: true, color: '#888' }));
  return { title, series, xLabel: 'sampling temperature', yLabel: what === 'reward' ? 'ground-truth reward' : 'format compliance', yDomain: [0, 1] };
}

/** Plots of a metric against each numeric key axis (label-noise curves, λ sweeps), one series per other-axes combination. */
function axisPlots(e: Experiment): PlotOptions[] {
  const metric = e.record.metrics[0];
  return e.record.axes
    .filter((a) => a.key !== null && a.values !== null && a.values.length > 1 && a.values.every((v) => typeof v === 'number'))
    .map((axis) => {
      const lines = new Map<string, Group[]>();
      for (const g of e.groups) {
        const rest = Object.entries(g.labels).filter(([k]) => k !== axis.name).map(([, v]) => v).join(' · ') || metric;
        lines.set(rest, [...(lines.get(rest) ?? []), g]);
      }
      const xOf = (g: Group) => Number(axis.values![axis.labels.indexOf(g.labels[axis.name])]);
      const series = [...lines].map(([name, gs]) => bandSeries(name, gs.map(xOf), (x) => [...bySeed(gs.find((g) => xOf(g) === x)!, metric).values()]));
      return { title: `${metric} vs ${axis.name}`, series, xLabel: `${axis.name} (${axis.key})`, yLabel: metric };
    });
}

/** Per-seed scatter of a drift measure against the reward (one colour per cell). */
function driftPlot(e: Experiment, drift: 'latentDrift' | 'tokenKl'): PlotOptions | null {
  const reward = e.record.metrics.find((m) => m.startsWith('reward@')) ?? `reward@${temperatures(e)[0]}`;
  const series = e.groups.map((g): Series => ({
    name: g.name,
    markersOnly: true,
    points: g.completed.filter((r) => r.metrics[drift] !== undefined && r.metrics[reward] !== undefined).map((r) => [r.metrics[drift], r.metrics[reward]] as const),
  }));
  if (series.every((s) => s.points.length === 0)) return null;
  return { title: `${reward} vs ${drift === 'latentDrift' ? 'latent drift' : 'token KL'} (one point per run)`, series, xLabel: drift === 'latentDrift' ? 'latent drift to the reference' : 'token KL to the reference', yLabel: reward };
}

export function experimentPlots(all: Experiment): PlotOptions[] {
  // Cells without a completed run (all failed or missing) have nothing to draw; the tables list them.
  const e = { ...all, groups: all.groups.filter((g) => g.completed.length > 0) };
  const plots: PlotOptions[] = [];
  if (temperatures(e).length > 1) {
    plots.push(temperaturePlot(e, '', 'reward', 'Reward vs temperature (held-out; band ± sd over seeds)'));
    plots.push(temperaturePlot(e, '', 'compliance', 'Format compliance vs temperature (held-out)'));
    if (e.record.evaluation.shifted) plots.push(temperaturePlot(e, 'shifted/', 'reward', 'Reward vs temperature (shifted split)'));
  }
  plots.push(...axisPlots(e));
  for (const d of ['latentDrift', 'tokenKl'] as const) {
    const p = driftPlot(e, d);
    if (p) plots.push(p);
  }
  return plots;
}

const metricNotes = (e: Experiment): string[] =>
  e.record.metrics.map((m) => {
    const base = m.replace(/@[0-9.]+$/, '@T');
    return `${m}: ${METRIC_HELP[base] ?? ''}${base !== m ? ` (T = ${m.split('@')[1]})` : ''}`;
  });

const INTERVAL_NOTE = 'Differences are paired by seed (same seed: same SFT model, data order and sampling stream); [lo, hi] is the 95 % Student-t interval of the mean difference over seeds; * marks an interval that excludes 0. Anything without * is not a difference at this scale.';

export function renderExperimentMarkdown(e: Experiment): string {
  const r = e.record;
  const out = [`# Experiment: ${r.name}${r.quick ? ' (quick size)' : ''}`, '', `**Question.** ${r.question}`, '', `Spec \`${r.spec}\`; seeds ${r.seeds.join(', ')}; ganpo ${r.version}.`, '', mdTable(statusTable(e)), '', '## Mean ± sd over seeds', '', mdTable(meansTable(e)), ''];
  const ct = comparisonTable(e);
  if (ct) out.push('## Paired differences (treatment − baseline)', '', INTERVAL_NOTE, '', mdTable(ct), '');
  const ft = failuresTable(e);
  if (ft) out.push('## Failed and missing runs', '', mdTable(ft), '');
  out.push('## Metrics', '', ...metricNotes(e).map((n) => `- ${n}`), '', 'Plots: `report.html`. Each run: `runs/ID/` (a normal training run with its own report) and `logs/ID.log`.', '');
  return out.join('\n');
}

export function renderExperimentHtml(e: Experiment): string {
  const r = e.record;
  const ct = comparisonTable(e);
  const ft = failuresTable(e);
  const parts = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>ganpo experiment: ${escapeXml(r.name)}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<h1>ganpo experiment: ${escapeXml(r.name)}${r.quick ? ' <span class="status bad">quick size</span>' : ''}</h1>`,
    `<p class="sub">${escapeXml(r.question)}</p>`,
    `<p class="note">Spec <code>${escapeXml(r.spec)}</code>; seeds ${r.seeds.join(', ')}; ganpo ${escapeXml(r.version)}.</p>`,
    htmlTable(statusTable(e)),
    '<h2>Mean ± sd over seeds</h2>',
    `<div id="means">${htmlTable(meansTable(e))}</div>`,
  ];
  if (ct) parts.push('<h2>Paired differences (treatment − baseline)</h2>', `<p class="note">${escapeXml(INTERVAL_NOTE)}</p>`, `<div id="differences">${htmlTable(ct)}</div>`);
  if (ft) parts.push('<h2>Failed and missing runs</h2>', `<div id="failures">${htmlTable(ft)}</div>`);
  parts.push('<h2>Plots</h2>', '<div class="grid">', ...experimentPlots(e).map((p) => `<div class="plot">${linePlot(p)}</div>`), '</div>');
  parts.push('<h2>Metrics</h2>', `<ul class="note">${metricNotes(e).map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul>`, '</body></html>', '');
  return parts.join('\n');
}

/** Writes DIR/report.md and DIR/report.html; returns their paths. */
export function writeExperimentReport(e: Experiment): { html: string; md: string } {
  const html = join(e.dir, 'report.html');
  const md = join(e.dir, 'report.md');
  writeFileAtomic(html, renderExperimentHtml(e));
  writeFileAtomic(md, renderExperimentMarkdown(e));
  return { html, md };
}
