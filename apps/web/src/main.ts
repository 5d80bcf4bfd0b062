import { defaultWebRunConfig, type WebRunConfig } from './trainer/config.js';
import type { BackendChoice } from './trainer/backend.js';
import type { FromWorker, ToWorker } from './trainer/protocol.js';
import type { MetricsLine } from './trainer/session.js';
import { CHARTS, chartSvg } from './ui/charts.js';

/*
 * The page: settings, a training worker, live charts, sampling and download. Everything heavy runs in
 * the worker (trainer/worker.ts); the page only draws what it reports. `window.ganpo` exposes the state
 * for the end-to-end test (tests/web.e2e.test.ts).
 */

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $('settings') as HTMLFormElement;
const state = {
  lines: [] as MetricsLine[],
  backend: null as null | { name: string; detail: string; threads: number; note: string | null },
  samples: [] as { prompt: string; text: string }[],
  done: false,
  error: null as string | null,
  zipBytes: 0,
  device: null as Record<string, unknown> | null,
};
(window as unknown as { ganpo: unknown }).ganpo = { state, start, crossOriginIsolated: window.crossOriginIsolated };

let dropped: { name: string; bytes: Uint8Array } | null = null;
let worker: Worker | null = null;
let sftSteps = 0;

function settings(): { config: WebRunConfig; backend: BackendChoice } {
  const f = new FormData(form);
  const d = defaultWebRunConfig();
  const num = (k: string, fallback: number) => (f.get(k) === null || f.get(k) === '' ? fallback : Number(f.get(k)));
  const useFile = f.get('data') === 'file';
  if (useFile && !dropped) throw new Error('choose or drop a preference JSONL file first');
  const config: WebRunConfig = {
    ...d,
    data: useFile && dropped ? { kind: 'file', name: dropped.name, bytes: dropped.bytes } : { kind: 'embedded' },
    model: f.get('model') === 'tiny' ? 'tiny' : 'small',
    sft: { ...d.sft, steps: num('sftSteps', d.sft.steps) },
    preference: { ...d.preference, steps: num('prefSteps', d.preference.steps), loss: String(f.get('loss') ?? 'sigmoid'), beta: num('beta', 0.1) },
    ganpo: { enabled: f.get('ganpo') === 'on', lambda: num('lambda', 1), twoDiscriminators: f.get('discs') !== '1', pooling: (f.get('pooling') ?? 'masked') as WebRunConfig['ganpo']['pooling'] },
  };
  return { config, backend: f.get('backend') === 'gpujs' ? 'gpujs' : 'wasm' };
}

function render(): void {
  const last = state.lines[state.lines.length - 1];
  if (last) {
    const done = (last.stage === 'sft' ? 0 : sftSteps) + last.step;
    const all = sftSteps + (last.stage === 'preference' ? last.total : Number((form.elements.namedItem('prefSteps') as HTMLInputElement).value));
    ($('progress') as HTMLProgressElement).value = done / Math.max(all, 1);
    $('progress-text').textContent = `${last.stage} step ${last.step}/${last.total}, loss ${(last.loss as number).toFixed(4)}`;
    const recent = state.lines.slice(-10).filter((l) => l.stage === last.stage);
    const median = recent.map((l) => l.step_ms).sort((a, b) => a - b)[Math.floor(recent.length / 2)];
    $('steptime').textContent = `step time: ${median.toFixed(0)} ms (${last.stage}, median of the last ${recent.length} steps)`;
  }
  $('charts').innerHTML = CHARTS.map((c) => chartSvg(c.title, c.series, state.lines, sftSteps)).join('');
}

function onMessage(m: FromWorker): void {
  if (m.type === 'backend') {
    state.backend = m.report;
    $('backend').textContent = `backend: ${m.report.name}: ${m.report.detail}${m.report.note ? ` (${m.report.note})` : ''}; data: ${m.data}; ${m.parameters.toLocaleString('en-US')} parameters`;
  } else if (m.type === 'line') {
    state.lines.push(m.line);
    render();
  } else if (m.type === 'done') {
    state.done = true;
    state.device = m.device;
    if (m.device) $('backend').textContent += `; gpu.js: ${m.device.compiles} kernels compiled, ${m.device.runs} kernel runs, ${m.device.readbacks} read-backs, ${m.device.uploadsAvoided} uploads avoided`;
    $('progress-text').textContent += m.stopped ? ' (stopped)' : ' (done)';
    ($('stop') as HTMLButtonElement).disabled = true;
    ($('train') as HTMLButtonElement).disabled = false;
    ($('sample') as HTMLButtonElement).disabled = false;
    ($('download') as HTMLButtonElement).disabled = false;
  } else if (m.type === 'sample') {
    state.samples.push({ prompt: m.prompt, text: m.text });
    $('samples').textContent = state.samples.map((s) => `${JSON.stringify(s.prompt)} → ${JSON.stringify(s.text)}`).join('\n');
  } else if (m.type === 'zip') {
    state.zipBytes = m.bytes.length;
    const url = URL.createObjectURL(new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: 'ganpo-web-run.zip' });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } else if (m.type === 'error') {
    state.error = m.message;
    $('error').hidden = false;
    $('error').textContent = m.message;
    ($('train') as HTMLButtonElement).disabled = false;
  }
}

/** Starts a run (the form's settings, overridden by `overrides` from the test hook). */
function start(overrides: Partial<WebRunConfig> = {}, backendOverride?: BackendChoice): void {
  $('error').hidden = true;
  let s: ReturnType<typeof settings>;
  try {
    s = settings();
  } catch (e) {
    onMessage({ type: 'error', message: (e as Error).message });
    return;
  }
  const config = { ...s.config, ...overrides };
  sftSteps = config.sft.steps;
  Object.assign(state, { lines: [], samples: [], done: false, error: null, backend: null });
  worker?.terminate();
  worker = new Worker(new URL('./trainer/worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
  worker.onerror = (e) => onMessage({ type: 'error', message: `worker failed: ${e.message}` });
  ($('train') as HTMLButtonElement).disabled = true;
  ($('stop') as HTMLButtonElement).disabled = false;
  post({ type: 'start', config, backend: backendOverride ?? s.backend });
}

const post = (m: ToWorker) => worker?.postMessage(m);

form.addEventListener('submit', (e) => {
  e.preventDefault();
  start();
});
$('stop').addEventListener('click', () => post({ type: 'stop' }));
$('sample').addEventListener('click', () => {
  const prompt = ($('prompt') as HTMLInputElement).value;
  post({ type: 'sample', prompt: prompt.endsWith('\n') ? prompt : `${prompt}\n`, temperature: Number(($('temperature') as HTMLInputElement).value), seed: state.samples.length });
});
$('download').addEventListener('click', () => post({ type: 'download' }));

async function takeFile(file: File): Promise<void> {
  dropped = { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
  (form.querySelector('input[name=data][value=file]') as HTMLInputElement).checked = true;
  $('drop').firstChild!.textContent = `${file.name} (${file.size.toLocaleString('en-US')} bytes) `;
}
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f) void takeFile(f);
});
$('file').addEventListener('change', (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) void takeFile(f);
});
render();
