/**
 * A small SVG line-plot module for the run report: self-contained markup (no scripts, no external
 * resources), readable axes with 1-2-5 ticks, a legend, gaps where values are missing or not finite,
 * point markers for sparse series, and optional exponential smoothing drawn over the faint raw line.
 */

export interface Series {
  readonly name: string;
  /** [x, y] pairs; need not be sorted; non-finite y values leave a gap. */
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** CSS colour; defaults to the palette. */
  readonly color?: string;
  /** Draw dashed (e.g. evaluation curves next to training curves). */
  readonly dashed?: boolean;
  /** A shaded band around the line: [x, low, high] (e.g. mean ± sd over seeds). */
  readonly band?: ReadonlyArray<readonly [number, number, number]>;
  /** Points only, no line (a scatter plot). */
  readonly markersOnly?: boolean;
}

export interface PlotOptions {
  readonly title: string;
  readonly series: ReadonlyArray<Series>;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly width?: number;
  readonly height?: number;
  /** EMA smoothing weight in [0, 1) for series with many points (0: none; TensorBoard's default is 0.6). */
  readonly smoothing?: number;
  /** Fixed y range (e.g. [0, 1] for accuracies); default: fitted to the data. */
  readonly yDomain?: readonly [number, number];
  /** Horizontal reference line (e.g. ln 2 for an untrained DPO loss). */
  readonly hline?: { readonly y: number; readonly label: string };
}

/** Tableau 10: distinguishable, colour-blind-aware. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** About `count` round tick values (1, 2, 5 × 10^k steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (lo === hi) return [lo];
  if (lo > hi) [lo, hi] = [hi, lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  // Heckbert's nice numbers: the step rounded to 1, 2, 5 or 10 times a power of ten.
  const step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  const decimals = Math.min(20, Math.max(0, -Math.floor(Math.log10(step)) + 1));
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toFixed(decimals)) + 0);
  return ticks;
}

/** Tick label: short, no float noise (0.30000000000000004 → 0.3). */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return String(+v.toPrecision(4));
}

/** A domain padded by `pad` of its span (a flat series gets ±1 or ±10% of its value). */
export function paddedDomain(values: readonly number[], pad = 0.05): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return [lo - d, hi + d];
  }
  const span = hi - lo;
  lo -= span * pad;
  hi += span * pad;
  return [lo, hi];
}

/** Exponential moving average with bias correction (TensorBoard's smoothing), skipping non-finite values. */
export function smooth(ys: readonly number[], weight: number): number[] {
  let last = 0;
  let n = 0;
  return ys.map((y) => {
    if (!Number.isFinite(y)) return y;
    last = last * weight + (1 - weight) * y;
    n++;
    return last / (1 - weight ** n);
  });
}

const fmt = (v: number) => (Math.round(v * 100) / 100).toString();

/** Path data for a polyline with gaps at non-finite points. */
function pathData(points: ReadonlyArray<readonly [number, number]>, sx: (x: number) => number, sy: (y: number) => number): string {
  let d = '';
  let pen = false;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${fmt(sx(x))} ${fmt(sy(y))}`;
    pen = true;
  }
  return d;
}

/** An SVG line plot, as a string. */
export function linePlot(options: PlotOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 300;
  const series = options.series.map((s, i) => ({
    ...s,
    color: s.color ?? PALETTE[i % PALETTE.length],
    points: [...s.points].sort((a, b) => a[0] - b[0]),
  }));
  const allPoints = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const legendRows = Math.ceil(series.length / 3);
  const m = { top: 34 + legendRows * 16, right: 18, bottom: 42, left: 62 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const title = escapeXml(options.title);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${title}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="11">`,
    `<title>${title}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${m.left}" y="18" font-size="14" font-weight="600" fill="#222">${title}</text>`,
  );

  if (allPoints.length === 0) {
    parts.push(
      `<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ddd"/>`,
      `<text x="${m.left + plotW / 2}" y="${m.top + plotH / 2}" text-anchor="middle" fill="#888">no data</text>`,
      '</svg>',
    );
    return parts.join('');
  }

  const [x0, x1] = (() => {
    const xs = allPoints.map((p) => p[0]);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
  })();
  const ys = allPoints.map((p) => p[1]);
  for (const s of series) for (const [, lo, hi] of s.band ?? []) ys.push(lo, hi);
  if (options.hline) ys.push(options.hline.y);
  const [y0, y1] = options.yDomain ? [options.yDomain[0], options.yDomain[1]] : paddedDomain(ys);
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y: number) => m.top + plotH - ((Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * plotH;

  parts.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="#fcfcfc" stroke="#ccc"/>`);
  for (const v of niceTicks(y0, y1, 5)) {
    if (v < y0 || v > y1) continue;
    const y = fmt(sy(v));
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${y}" y2="${y}" stroke="#e6e6e6"/>`,
      `<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#555">${escapeXml(tickLabel(v))}</text>`,
    );
  }
  for (const v of niceTicks(x0, x1, 6)) {
    if (v < x0 || v > x1) continue;
    const x = fmt(sx(v));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${x}" y="${m.top + plotH + 15}" text-anchor="middle" fill="#555">${escapeXml(tickLabel(v))}</text>`,
    );
  }
  if (options.xLabel) {
    parts.push(`<text x="${m.left + plotW / 2}" y="${height - 8}" text-anchor="middle" fill="#333">${escapeXml(options.xLabel)}</text>`);
  }
  if (options.yLabel) {
    parts.push(
      `<text transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(options.yLabel)}</text>`,
    );
  }
  if (options.hline && options.hline.y >= y0 && options.hline.y <= y1) {
    const y = fmt(sy(options.hline.y));
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${y}" y2="${y}" stroke="#999" stroke-dasharray="2 3"/>`,
      `<text x="${m.left + plotW - 4}" y="${fmt(sy(options.hline.y) - 4)}" text-anchor="end" fill="#777">${escapeXml(options.hline.label)}</text>`,
    );
  }

  parts.push(`<g>`);
  for (const s of series) {
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    const band = [...(s.band ?? [])].filter((b) => b.every(Number.isFinite)).sort((a, b) => a[0] - b[0]);
    if (band.length > 1) {
      const edge = [...band.map((b) => `${fmt(sx(b[0]))} ${fmt(sy(b[2]))}`), ...band.reverse().map((b) => `${fmt(sx(b[0]))} ${fmt(sy(b[1]))}`)];
      parts.push(`<path d="M${edge.join('L')}Z" fill="${s.color}" fill-opacity="0.15" stroke="none"/>`);
    }
    const weight = options.smoothing ?? 0;
    const smoothIt = weight > 0 && s.points.length > 20;
    if (smoothIt) {
      parts.push(`<path d="${pathData(s.points, sx, sy)}" fill="none" stroke="${s.color}" stroke-opacity="0.25" stroke-width="1"${dash}/>`);
      const sm = smooth(s.points.map((p) => p[1]), weight);
      const spts = s.points.map((p, i): [number, number] => [p[0], sm[i]]);
      parts.push(`<path d="${pathData(spts, sx, sy)}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    } else if (!s.markersOnly) {
      parts.push(`<path d="${pathData(s.points, sx, sy)}" fill="none" stroke="${s.color}" stroke-width="1.8"${dash}/>`);
    }
    const finite = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (finite.length <= 30 || s.markersOnly) {
      for (const [x, y] of finite) parts.push(`<circle cx="${fmt(sx(x))}" cy="${fmt(sy(y))}" r="2.6" fill="${s.color}"/>`);
    }
  }
  parts.push('</g>');

  // Legend: up to three entries per row above the plot.
  const colW = Math.floor(plotW / 3);
  series.forEach((s, i) => {
    const x = m.left + (i % 3) * colW;
    const y = 30 + Math.floor(i / 3) * 16;
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    parts.push(
      `<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2.5"${dash}/>`,
      `<text x="${x + 23}" y="${y}" dominant-baseline="middle" fill="#333">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
