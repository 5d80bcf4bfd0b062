/// <reference lib="webworker" />
import { getBackend, type GpujsBackend } from '@ganpo/kernels';
import { selectBackend, type BackendReport } from './backend.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { runZip } from './runFiles.js';
import { sample, trainWebRun, type WebRun } from './session.js';

/*
 * The training worker: the engine is synchronous, so it runs here and not on the page's thread; the fast
 * backend's own worker pool may block this thread in Atomics.wait, which browsers allow in workers only.
 */

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m, transfer);
let run: WebRun | null = null;
let report: BackendReport | null = null;
let stopRequested = false;

async function start(m: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  stopRequested = false;
  run = null;
  report = await selectBackend(m.backend);
  const backend = report;
  run = await trainWebRun(
    m.config,
    (line, r) => {
      if (run !== r) {
        run = r; // the first step: say what runs where
        post({ type: 'backend', report: backend, data: r.data.description, parameters: r.policy.parameterCount() });
      }
      post({ type: 'line', line });
    },
    () => stopRequested,
  );
  const b = getBackend();
  const device = b.name === 'gpujs' ? { ...(b as GpujsBackend).stats() } : null;
  post({ type: 'done', stopped: stopRequested, device });
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  try {
    if (m.type === 'start') {
      await start(m);
    } else if (m.type === 'stop') {
      stopRequested = true;
    } else if (m.type === 'sample') {
      if (!run) throw new Error('train a model first');
      const [s] = sample(run.policy, run.tokenizer, [m.prompt], { temperature: m.temperature, maxNewTokens: 32, seed: m.seed });
      post({ type: 'sample', prompt: m.prompt, text: s.text, endedWithEos: s.endedWithEos });
    } else if (m.type === 'download') {
      if (!run || !report) throw new Error('train a model first');
      const bytes = runZip(run, `${report.name} (${report.detail})`);
      post({ type: 'zip', bytes }, [bytes.buffer]);
    }
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
};
