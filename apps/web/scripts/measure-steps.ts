// Step time of the small preset: in the page (WebAssembly on 1 thread and, cross-origin isolated, 2; gpu.js
// on WebGL2 / SwiftShader) and in Node (fast backend, 1 and 2 threads), side by side in one run.
//   npx tsx apps/web/scripts/measure-steps.ts        (after npm run demo:build)
import { fileURLToPath } from 'node:url';
import { setBackend, setFastThreads, shutdownFastBackend } from '@ganpo/kernels';
import { defaultWebRunConfig, type WebRunConfig } from '../src/trainer/config.js';
import { trainWebRun, type MetricsLine } from '../src/trainer/session.js';
import { findChromium, launchChromium, serveStatic, webDist } from '../../../tests/helpers/webPage.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const RUN: Partial<WebRunConfig> = {
  sft: { steps: 8, batchSize: 16, lr: 3e-3, warmup: 2 },
  preference: { steps: 6, batchSize: 8, lr: 1e-4, warmup: 1, loss: 'sigmoid', beta: 0.1 },
  evalInterval: 0,
  rewardPrompts: 0,
};
// gpu.js compiles a kernel per shape, and each batch's length gives new shapes: on SwiftShader (every shader
// compiled and run on the CPU) a step with new shapes takes minutes, so this run is short.
const GPU_RUN: Partial<WebRunConfig> = { ...RUN, sft: { ...RUN.sft!, steps: 3 }, preference: { ...RUN.preference!, steps: 2 } };

interface Times {
  sft: number;
  preference: number;
  /** Every step's time, in order (the first steps include compiles and the pool's start). */
  all: string;
}

/** Median step time of each stage, the first step of each (compiles, pool start) left out. */
function medians(lines: readonly MetricsLine[]): Times {
  const med = (stage: string) => {
    const t = lines.filter((l) => l.stage === stage && l.step > 1).map((l) => l.step_ms).sort((a, b) => a - b);
    return t[Math.floor(t.length / 2)];
  };
  return { sft: med('sft'), preference: med('preference'), all: lines.map((l) => l.step_ms.toFixed(0)).join(' ') };
}

async function inPage(isolated: boolean, backend: 'wasm' | 'gpujs', run: Partial<WebRunConfig>) {
  const served = await serveStatic(webDist(root), isolated);
  const browser = await launchChromium(findChromium()!);
  try {
    const page = await browser.newPage();
    await page.goto(served.url);
    await page.evaluate(([o, b]) => (window as never as { ganpo: { start(o: unknown, b: string): void } }).ganpo.start(o, b), [run, backend] as const);
    await page.waitForFunction(() => (window as never as { ganpo: { state: { done: boolean; error: string | null } } }).ganpo.state.done || (window as never as { ganpo: { state: { error: string | null } } }).ganpo.state.error !== null, null, { timeout: 600_000, polling: 500 });
    const s = await page.evaluate(() => (window as never as { ganpo: { state: { lines: MetricsLine[]; error: string | null; backend: { detail: string } } } }).ganpo.state);
    if (s.error) throw new Error(s.error);
    return { ...medians(s.lines), detail: s.backend.detail };
  } finally {
    await browser.close();
    served.server.close();
  }
}

async function inNode(threads: number) {
  setBackend('fast');
  setFastThreads(threads);
  const run = await trainWebRun({ ...defaultWebRunConfig(), ...RUN }, () => {});
  await shutdownFastBackend();
  return medians(run.metrics);
}

// `--gpu` adds the gpu.js row (minutes on SwiftShader).
const rows: [string, () => Promise<Times>][] = [
  ['Node, fast, 1 thread', () => inNode(1)],
  ['Node, fast, 2 threads', () => inNode(2)],
  ['page, WebAssembly, not isolated (1 thread)', () => inPage(false, 'wasm', RUN)],
  ['page, WebAssembly, isolated (2 threads)', () => inPage(true, 'wasm', RUN)],
];
if (process.argv.includes('--gpu')) rows.push(['page, gpu.js WebGL2 (SwiftShader: a software renderer)', () => inPage(true, 'gpujs', GPU_RUN)]);
console.log('| where | SFT step (ms) | DPO+GANPO step (ms) | every step (ms) |\n|---|---:|---:|---|');
for (const [name, measure] of rows) {
  const m = await measure();
  console.log(`| ${name} | ${m.sft.toFixed(0)} | ${m.preference.toFixed(0)} | ${m.all} |`);
}
