import type { BackendChoice, BackendReport } from './backend.js';
import type { WebRunConfig } from './config.js';
import type { MetricsLine } from './session.js';

/** Messages from the page to the training worker. */
export type ToWorker =
  | { readonly type: 'start'; readonly config: WebRunConfig; readonly backend: BackendChoice; readonly threads?: number }
  | { readonly type: 'stop' }
  | { readonly type: 'sample'; readonly prompt: string; readonly temperature: number; readonly seed: number }
  | { readonly type: 'download' };

/** Messages from the training worker to the page. */
export type FromWorker =
  | { readonly type: 'backend'; readonly report: BackendReport; readonly data: string; readonly parameters: number }
  | { readonly type: 'line'; readonly line: MetricsLine }
  /** `device`: gpu.js's counters (kernels compiled, read-backs, uploads avoided...) when gpu.js ran the run. */
  | { readonly type: 'done'; readonly stopped: boolean; readonly device: Record<string, unknown> | null }
  | { readonly type: 'sample'; readonly prompt: string; readonly text: string; readonly endedWithEos: boolean }
  | { readonly type: 'zip'; readonly bytes: Uint8Array }
  | { readonly type: 'error'; readonly message: string };
