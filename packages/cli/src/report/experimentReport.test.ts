import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from '../experiment/aggregate.js';
import { type CellResult, type SftCurves, sftCurvesFile } from '../experiment/runCell.js';
import type { ExperimentRecord } from '../experiment/runner.js';
import { writeJson } from './write.js';
import { comparisonTable, experimentPlots, failuresTable, meansTable, renderExperimentHtml, renderExperimentMarkdown, writeExperimentReport } from './experimentReport.js';

/**
 * The experiment report on a hand-made experiment directory with lopsided values: DPO rewards 0.4, 0.5, 0.6,
 * 0.7 (mean 0.55, sd 0.1291); DPO+GANPO 0.5, 0.5, 0.9 (mean 0.6333, sd 0.2309); seed 3 completed for DPO only
 * (GANPO crashed), so it cannot be paired; differences by seed [0.1, 0, 0.3]: mean 0.1333, sd 0.152753,
 * t(0.975, 2) · sd/√3 = 0.379460 → [−0.246, +0.513].
 */

function makeExperiment(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ganpo-exp-report-'));
  const cells: { id: string; labels: Record<string, string>; seed: number; dir: string; sft: string | null }[] = [];
  const result = (method: string, seed: number, r: Partial<CellResult>) => {
    const id = `${method}_s${seed}`;
    cells.push({ id, labels: { method }, seed, dir: `runs/${id}`, sft: `sft/s${seed}` });
    if (r.status) {
      mkdirSync(join(dir, 'runs', id), { recursive: true });
      writeJson(join(dir, 'runs', id, 'result.json'), { format: 'ganpo-experiment-run/1', id, labels: { method }, seed, metrics: {}, seconds: 1, finishedAt: 'now', ...r });
    }
  };
  const done = (reward: number, drift: number) => ({ status: 'completed' as const, metrics: { 'reward@0': reward, 'reward@1': reward / 2, 'compliance@0': 1, 'compliance@1': 0.5, latentDrift: drift, tokenKl: drift } });
  [0.4, 0.5, 0.6, 0.7].forEach((r, seed) => result('DPO', seed, done(r, 0.3)));
  [0.5, 0.5, 0.9].forEach((r, seed) => result('DPO+GANPO', seed, done(r, 0.1)));
  result('DPO+GANPO', 3, { status: 'failed', error: 'loss is NaN at preference step 17' });
  result('DPO+GANPO', 4, {});
  const evaluation = { temperatures: [0, 1], prompts: 4, pairs: 4, maxNewTokens: 8, shifted: false };
  for (let seed = 0; seed < 5; seed++) {
    mkdirSync(join(dir, 'sft', `s${seed}`), { recursive: true });
    const curves: SftCurves = { heldOut: [{ temperature: 0, reward: 0.3, formatCompliance: 0.4, meanLength: 9 }, { temperature: 1, reward: 0.2, formatCompliance: 0.1, meanLength: 12 }], shifted: null };
    writeJson(join(dir, 'sft', `s${seed}`, sftCurvesFile(evaluation)), curves);
    // The curves of another evaluation setting (another spec sharing the SFT model) must not be read.
    const other: SftCurves = { heldOut: [{ temperature: 0, reward: 0.9, formatCompliance: 0.9, meanLength: 1 }], shifted: null };
    writeJson(join(dir, 'sft', `s${seed}`, sftCurvesFile({ ...evaluation, temperatures: [0] })), other);
  }
  const record: ExperimentRecord = {
    format: 'ganpo-experiment/1',
    name: 'hand-made',
    question: 'Does GANPO help?',
    spec: 'spec.json',
    quick: false,
    version: 'test',
    seeds: [0, 1, 2, 3, 4],
    axes: [{ name: 'method', key: null, labels: ['DPO', 'DPO+GANPO'], values: null }],
    metrics: ['reward@0', 'latentDrift'],
    comparisons: [{ axis: 'method', treatment: 'DPO+GANPO', baseline: 'DPO' }],
    evaluation,
    cells,
  };
  writeJson(join(dir, 'experiment.json'), record);
  return dir;
}

describe('experiment report', () => {
  const e = loadExperiment(makeExperiment());

  it('means ± sd over the completed seeds, with the SFT reference row', () => {
    const t = meansTable(e);
    expect(t.head).toEqual(['cell', 'seeds', 'reward@0', 'latentDrift']);
    expect(t.rows[0]).toEqual(['DPO', '4/4', '0.550 ± 0.129', '0.300 ± 0.000']);
    expect(t.rows[1]).toEqual(['DPO+GANPO', '3/5', '0.633 ± 0.231', '0.100 ± 0.000']);
    expect(t.rows[2]).toEqual(['SFT model (the reference)', '5', '0.300 ± 0.000', '–']);
  });

  it('paired differences only over seeds both sides completed', () => {
    const t = comparisonTable(e)!;
    // reward: DPO seeds 0-2 are 0.4, 0.5, 0.6 (seed 3's 0.7 has no partner).
    expect(t.rows).toEqual([['DPO+GANPO − DPO', '–', '3', '+0.133 [−0.246, +0.513]', '−0.200 [−0.200, −0.200] *']]);
  });

  it('lists the failed and the missing runs', () => {
    expect(failuresTable(e)!.rows).toEqual([
      ['DPO+GANPO_s3', 'failed', 'loss is NaN at preference step 17'],
      ['DPO+GANPO_s4', 'missing', 'no result yet (not run, or still running)'],
    ]);
  });

  it('plots reward and compliance against temperature with bands, and drift against reward', () => {
    const titles = experimentPlots(e).map((p) => p.title);
    expect(titles).toEqual([
      'Reward vs temperature (held-out; band ± sd over seeds)',
      'Format compliance vs temperature (held-out)',
      'reward@0 vs latent drift (one point per run)',
      'reward@0 vs token KL (one point per run)',
    ]);
    const reward = experimentPlots(e)[0];
    const dpo = reward.series.find((s) => s.name === 'DPO')!;
    expect(dpo.points).toEqual([[0, 0.55], [1, 0.275]]);
    expect(dpo.band![0][1]).toBeCloseTo(0.55 - 0.129099, 5);
  });

  it('writes self-contained markdown and HTML (no scripts, no external resources)', () => {
    const { html, md } = writeExperimentReport(e);
    const h = readFileSync(html, 'utf8');
    expect(h).not.toMatch(/<script|src=|href=/);
    expect(h).toContain('<svg');
    expect(h).toContain('fill-opacity="0.15"'); // the sd bands
    expect(h).toContain('id="differences"');
    expect(readFileSync(md, 'utf8')).toContain('| DPO+GANPO − DPO | – | 3 | +0.133 [−0.246, +0.513] |');
    expect(renderExperimentMarkdown(e)).toContain('## Failed and missing runs');
    expect(renderExperimentHtml(e)).toContain('loss is NaN at preference step 17');
  });
});

describe('experiment report: numeric axes', () => {
  it('plots the first metric against a numeric axis, one band per other-axes combination', () => {
    const result = (method: string, noise: string, seed: number, reward: number): CellResult => ({ format: 'ganpo-experiment-run/1', id: `${method}_${noise}_s${seed}`, labels: { method, noise }, seed, status: 'completed', metrics: { 'reward@0': reward }, seconds: 1, finishedAt: 'now' });
    const group = (method: string, noise: string, rewards: number[]) => ({ labels: { method, noise }, name: `${method} · ${noise}`, completed: rewards.map((r, s) => result(method, noise, s, r)), failed: [], missing: [], sft: [] });
    const e = {
      dir: '/nowhere',
      sft: [],
      groups: [group('DPO', '0', [0.5, 0.7]), group('DPO', '0.4', [0.2, 0.2]), group('DPO+GANPO', '0', [0.6, 0.6]), group('DPO+GANPO', '0.4', [0.4, 0.6])],
      record: {
        format: 'ganpo-experiment/1' as const, name: 'noise', question: 'q', spec: 's', quick: false, version: 'v', seeds: [0, 1],
        axes: [{ name: 'method', key: null, labels: ['DPO', 'DPO+GANPO'], values: null }, { name: 'noise', key: 'data.task.labelNoise', labels: ['0', '0.4'], values: [0, 0.4] }],
        metrics: ['reward@0'], comparisons: [], evaluation: { temperatures: [0], prompts: 1, pairs: 1, maxNewTokens: 1, shifted: false }, cells: [],
      },
    };
    const [plot] = experimentPlots(e);
    expect(plot.title).toBe('reward@0 vs noise');
    expect(plot.series.map((s) => [s.name, s.points])).toEqual([['DPO', [[0, 0.6], [0.4, 0.2]]], ['DPO+GANPO', [[0, 0.6], [0.4, 0.5]]]]);
    // sd of [0.5, 0.7] is √0.02 = 0.141421; of [0.2, 0.2] is 0.
    const band = plot.series[0].band!;
    expect(band[0][1]).toBeCloseTo(0.6 - Math.SQRT2 / 10, 6);
    expect(band[1]).toEqual([0.4, 0.2, 0.2]);
  });
});
