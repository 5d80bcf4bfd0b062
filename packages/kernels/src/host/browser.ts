import type { WorkerHost } from './workerHost.js';

/*
 * The browser's worker host: Web Workers started from a Blob URL holding the pool's worker source, each
 * sent its start-up data (the compiled WebAssembly.Module and the shared WebAssembly.Memory) in its first
 * message. Sharing the memory needs a cross-origin isolated page (COOP: same-origin and COEP:
 * require-corp headers): elsewhere SharedArrayBuffer cannot be posted, so the pool stays at one thread and
 * `singleThreadReason()` says why. The pool's threads block in Atomics.wait, which a browser allows in
 * workers only: run the engine in a Web Worker (the page's main thread may not block).
 */

interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  Worker?: new (url: string, options?: { name?: string }) => {
    postMessage(data: unknown): void;
    terminate(): void;
    addEventListener(type: string, fn: () => void): void;
  };
  Blob: new (parts: string[], options: { type: string }) => object;
  URL: { createObjectURL(blob: object): string };
  document?: unknown;
}

const g = globalThis as unknown as BrowserGlobals;

function singleThreadReason(): string | null {
  if (g.crossOriginIsolated !== true) return 'the page is not cross-origin isolated (serve it with COOP/COEP headers), so memory cannot be shared with workers';
  if (typeof g.Worker !== 'function') return 'Web Workers are not available here';
  if (g.document !== undefined) return 'the engine runs on the page\'s main thread, which may not block in Atomics.wait: run it in a Web Worker';
  return null;
}

export const browserWorkerHost: WorkerHost = {
  name: 'browser Web Workers',
  defaultThreads: () => (singleThreadReason() === null ? Math.max(1, g.navigator?.hardwareConcurrency ?? 1) : 1),
  singleThreadReason,
  spawn(body, workerData, onExit) {
    const reason = singleThreadReason();
    if (reason) throw new Error(`fast backend: cannot start a worker: ${reason}`);
    const source = `'use strict';\nself.onmessage = (event) => {\nself.onmessage = null;\nconst workerData = event.data;\n${body}\n};`;
    const url = g.URL.createObjectURL(new g.Blob([source], { type: 'text/javascript' }));
    const worker = new g.Worker!(url, { name: `ganpo fast ${String(workerData.slot)}` });
    worker.addEventListener('error', onExit);
    worker.postMessage(workerData);
    return {
      terminate: async () => {
        worker.terminate();
        onExit();
      },
    };
  },
};
