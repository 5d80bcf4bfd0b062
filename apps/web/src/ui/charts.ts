import type { MetricsLine } from '../trainer/session.js';

/** The live charts: which metrics each one plots (a series per metric, per stage where it applies). */
export const CHARTS: readonly { readonly title: string; readonly series: readonly string[] }[] = [
  { title: 'loss', series: ['loss', 'eval/loss'] },
  { title: 'reward margins', series: ['rewards/margins', 'eval/rewards/margins'] },
  { title: 'accuracies', series: ['rewards/accuracies', 'eval/rewards/accuracies'] },
  { title: 'discriminator losses', series: ['ganpo/d_loss_chosen', 'ganpo/d_loss_rejected', 'ganpo/d_loss'] },
  { title: 'ground-truth reward (greedy, held out)', series: ['eval/greedy_reward'] },
];

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];

/**
 * Draws one chart as SVG: x is the step over both stages (SFT, then preference), a dashed line marks
 * the stage boundary. Plain SVG (no chart library): five small line plots do not need one, and the page
 * stays one small bundle.
 */
export function chartSvg(title: string, series: readonly string[], lines: readonly MetricsLine[], sftSteps: number): string {
  const W = 360;
  const H = 200;
  const pad = { l: 48, r: 10, t: 22, b: 26 };
  const pts = series.map((name) =>
    lines.flatMap((l) => (typeof l[name] === 'number' && Number.isFinite(l[name]) ? [[(l.stage === 'sft' ? 0 : sftSteps) + l.step, l[name] as number] as const] : [])),
  );
  const all = pts.flat();
  const xMax = Math.max(1, ...lines.map((l) => (l.stage === 'sft' ? 0 : sftSteps) + l.step));
  let yMin = Math.min(...all.map((p) => p[1]));
  let yMax = Math.max(...all.map((p) => p[1]));
  if (!Number.isFinite(yMin)) [yMin, yMax] = [0, 1];
  if (yMax - yMin < 1e-9) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];
  const x = (v: number) => pad.l + ((W - pad.l - pad.r) * v) / xMax;
  const y = (v: number) => H - pad.b - ((H - pad.t - pad.b) * (v - yMin)) / (yMax - yMin);
  const paths = pts
    .map((p, i) => (p.length === 0 ? '' : `<polyline fill="none" stroke="${COLORS[i]}" stroke-width="1.5" points="${p.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"/>`))
    .join('');
  const legend = series
    .map((name, i) => (pts[i].length === 0 ? '' : `<tspan fill="${COLORS[i]}" dx="8">■ ${name}</tspan>`))
    .join('');
  const boundary = sftSteps > 0 && sftSteps < xMax ? `<line x1="${x(sftSteps)}" x2="${x(sftSteps)}" y1="${pad.t}" y2="${H - pad.b}" stroke="#999" stroke-dasharray="4 3"/>` : '';
  return `<svg class="chart" data-title="${title}" data-points="${all.length}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">
<rect x="${pad.l}" y="${pad.t}" width="${W - pad.l - pad.r}" height="${H - pad.t - pad.b}" fill="#fafafa" stroke="#ccc"/>
<text x="${pad.l}" y="14" font-size="12" font-weight="bold">${title}</text>
<text x="${W - pad.r}" y="14" font-size="9" text-anchor="end">${legend}</text>
<text x="${pad.l - 4}" y="${pad.t + 8}" font-size="9" text-anchor="end">${yMax.toPrecision(3)}</text>
<text x="${pad.l - 4}" y="${H - pad.b}" font-size="9" text-anchor="end">${yMin.toPrecision(3)}</text>
<text x="${W - pad.r}" y="${H - 8}" font-size="9" text-anchor="end">step ${xMax}</text>
${boundary}${paths}</svg>`;
}
