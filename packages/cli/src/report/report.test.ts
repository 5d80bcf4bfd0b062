import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { EvalResult } from '../evaluate/types.js';
import type { MetricRecord } from '../util/metrics.js';
import { finalMetrics, renderHtml, renderMarkdown, reportPlots, type RunSummary } from './report.js';
import { escapeXml, linePlot, niceTicks, paddedDomain, smooth, tickLabel } from './svg.js';

describe('svg plots', () => {
  it('nice ticks are round numbers covering the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.3, 0.72, 4)).toEqual([0.3, 0.4, 0.5, 0.6, 0.7]);
    expect(niceTicks(-3, 7, 5)).toEqual([-2, 0, 2, 4, 6]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });

  it('ticks stay within the domain, increase, and are few', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (lo, span) => {
        const ticks = niceTicks(lo, lo + span, 5);
        expect(ticks.length).toBeGreaterThan(0);
        expect(ticks.length).toBeLessThanOrEqual(12);
        for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBeGreaterThan(ticks[i - 1]);
        for (const t of ticks) {
          expect(t).toBeGreaterThanOrEqual(lo - span * 1e-6);
          expect(t).toBeLessThanOrEqual(lo + span + span * 1e-6);
        }
      }),
    );
  });

  it('labels without float noise', () => {
    expect(tickLabel(0.1 + 0.2)).toBe('0.3');
    expect(tickLabel(1e-5)).toBe('1.0e-5');
    expect(tickLabel(250000)).toBe('2.5e5');
  });

  it('pads flat and empty domains', () => {
    expect(paddedDomain([])).toEqual([0, 1]);
    expect(paddedDomain([2, 2])).toEqual([1.8, 2.2]);
    expect(paddedDomain([0, 0])).toEqual([-1, 1]);
  });

  it('smooths with bias correction (the first value is kept)', () => {
    const s = smooth([1, 1, 1], 0.9);
    expect(s[0]).toBeCloseTo(1);
    expect(s[2]).toBeCloseTo(1);
    expect(smooth([1, Number.NaN, 3], 0.5)[1]).toBeNaN();
  });

  it('draws a well-formed, self-contained SVG with a legend, gaps at NaN, and escaped text', () => {
    const svg = linePlot({
      title: 'Loss <&> "quotes"',
      series: [
        { name: 'train', points: [[1, 0.7], [2, 0.6], [3, Number.NaN], [4, 0.5]] },
        { name: 'eval', points: [[2, 0.65], [4, 0.55]], dashed: true },
      ],
      xLabel: 'step',
      hline: { y: Math.LN2, label: 'ln 2' },
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Loss &lt;&amp;&gt; &quot;quotes&quot;');
    expect(svg).not.toMatch(/<script|href=/);
    // The NaN breaks the line: two "M" moves in the first path.
    const firstPath = /<path d="([^"]*)"/.exec(svg)![1];
    expect(firstPath.match(/M/g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="5 3"');
    expect(svg).toContain('>train<');
    expect(svg).toContain('>ln 2<');
    // Balanced tags.
    const opens = (svg.match(/<(svg|g|text|title)\b/g) ?? []).length;
    const closes = (svg.match(/<\/(svg|g|text|title)>/g) ?? []).length;
    expect(opens).toBe(closes);
  });

  it('says "no data" rather than drawing nothing', () => {
    expect(linePlot({ title: 'x', series: [{ name: 'a', points: [] }] })).toContain('no data');
  });

  it('escapes everything XML cares about', () => {
    expect(escapeXml(`<a b='c'>&"`)).toBe('&lt;a b=&#39;c&#39;&gt;&amp;&quot;');
  });
});

const metrics: MetricRecord[] = [
  ...Array.from({ length: 10 }, (_, i) => ({ stage: 'sft', step: i + 1, loss: 3 - i * 0.2, 'eval/loss': i % 5 === 4 ? 2.5 - i * 0.1 : undefined })).map((r) =>
    Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as MetricRecord,
  ),
  ...Array.from({ length: 8 }, (_, i) => ({
    stage: 'preference',
    step: i + 1,
    loss: 1.38 - i * 0.02,
    'loss/preference': 0.69 - i * 0.01,
    'loss/ganpo': 0.69 - i * 0.01,
    'rewards/margins': i * 0.05,
    'rewards/chosen': i * 0.01,
    'rewards/rejected': -i * 0.04,
    'rewards/accuracies': 0.5 + i * 0.05,
    'logps/chosen': -40 + i,
    'logps/rejected': -50 - i,
    'ganpo/d_loss_chosen': 0.7 - i * 0.01,
    'ganpo/d_loss_rejected': 0.7 - i * 0.02,
    'ganpo/g_loss': 0.69 + i * 0.01,
    ...(i % 4 === 3 ? { 'eval/rewards/accuracies': 0.6, 'eval/greedy_reward': 0.4 + i * 0.02 } : {}),
  })),
];

const summary: RunSummary = {
  runDir: 'runs/test',
  status: 'completed',
  version: '0.1.0',
  backend: 'cpu (reference)',
  model: 'tiny preset',
  parameters: 12345,
  objective: 'sigmoid(beta=0.1)',
  ganpo: 'on: λ=1',
  data: 'embedded task',
  stages: [
    { stage: 'sft', steps: 10, seconds: 3.2, tokensPerSecond: 1000 },
    { stage: 'preference', steps: 8, seconds: 4.5, tokensPerSecond: 800 },
  ],
  totalSeconds: 9.1,
  policyDir: 'policy',
  referenceDir: 'sft',
  startedAt: '2026-01-01T00:00:00.000Z',
};

const evaluation: EvalResult = {
  policy: 'policy',
  reference: 'sft',
  task: 'embedded',
  preference: { pairs: 64, accuracy: 0.7, margin: 0.3, chosenReward: 0.1, rejectedReward: -0.2, loss: 0.6, policyLogpAccuracy: 0.65, referenceLogpAccuracy: 0.55 },
  sampling: [
    { temperature: 0, prompts: 24, policy: { reward: 0.6, formatCompliance: 0.8, meanLength: 7 }, reference: { reward: 0.45, formatCompliance: 0.6, meanLength: 9 }, winRate: 0.7 },
    { temperature: 1, prompts: 24, policy: { reward: 0.4, formatCompliance: 0.5, meanLength: 8 }, reference: { reward: 0.3, formatCompliance: 0.4, meanLength: 10 }, winRate: 0.6 },
  ],
  drift: { tokenKl: 0.05, latentDrift: 0.1, relativeLatentDrift: 0.02 },
  seconds: 1.5,
};

describe('report', () => {
  it('plots the loss, margins, accuracies, discriminator losses and evaluation curves', () => {
    const titles = reportPlots(metrics).map((p) => p.title);
    expect(titles).toEqual([
      'SFT loss',
      'Preference loss',
      'Reward margins',
      'Preference accuracy',
      'Ground-truth reward of greedy samples (held-out prompts)',
      'Discriminator losses (GANPO)',
      'Generator term (GANPO)',
      'Sequence log-probs',
    ]);
  });

  it('takes the last value of each metric', () => {
    const last = Object.fromEntries(finalMetrics(metrics, 'sft').map(([k, v, s]) => [k, [v, s]]));
    expect(last.loss[1]).toBe(10);
    expect(last['eval/loss']).toEqual([2.5 - 9 * 0.1, 10]);
  });

  it('renders a self-contained HTML page: inline SVG and CSS, no scripts, no external resources', () => {
    const html = renderHtml({ summary, metrics, evaluation, config: { seed: 0, note: '<b>' } });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBe(8);
    expect(html).toContain('id="headline"');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain('0 (greedy)');
    expect(html).toContain('reference (SFT)');
    expect(html).toContain('&lt;b&gt;');
  });

  it('renders the final table in Markdown', () => {
    const md = renderMarkdown({ summary, metrics, evaluation, config: {} });
    expect(md).toContain('# ganpo run: runs/test');
    expect(md).toContain('| 0 (greedy) | policy | 0.600 | 80% | 7 | 70% |');
    expect(md).toContain('| 0 (greedy) | reference (SFT) | 0.450 | 60% | 9 | – |');
    expect(md).toContain('| preference | rewards/accuracies | 0.8500 | 8 |');
    expect(md).toContain('token KL');
    expect(md).toContain('score 0.600 (trained policy) vs 0.450 (reference) in ground-truth reward: +0.150, win rate 70%');
  });

  it('still renders without an evaluation or metrics', () => {
    const html = renderHtml({ summary: { ...summary, status: 'failed: loss is NaN' }, metrics: [], evaluation: null, config: {} });
    expect(html).toContain('No metrics were logged');
    expect(html).toContain('class="status bad"');
    expect(renderMarkdown({ summary, metrics: [], evaluation: null, config: {} })).toContain('No evaluation was run');
  });
});
