import { backendInfo, createGpujsBackend, fastThreads, setBackend, setFastThreads, startFastPool, workerHost } from '@ganpo/kernels';

export type BackendChoice = 'wasm' | 'gpujs';

/** What the page shows: the backend that runs, how, and why it is not the one asked for (if not). */
export interface BackendReport {
  readonly name: string;
  readonly detail: string;
  readonly threads: number;
  readonly note: string | null;
}

/**
 * Selects the backend a run uses. `gpujs`: gpu.js on WebGL2 after its float32 check; where that fails
 * (no WebGL2, no float textures, low precision) the run falls back to WebAssembly and says why.
 * `wasm`: the fast backend, on Web Workers sharing its memory when the page is cross-origin isolated.
 */
export async function selectBackend(choice: BackendChoice): Promise<BackendReport> {
  let note: string | null = null;
  if (choice === 'gpujs') {
    try {
      const b = createGpujsBackend({ mode: 'webgl2' });
      setBackend(b);
      return { name: b.name, detail: b.describe(), threads: 1, note: null };
    } catch (e) {
      note = `gpu.js WebGL2 unavailable, using WebAssembly instead: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  setBackend('fast');
  const single = workerHost().singleThreadReason();
  if (single) setFastThreads(1);
  const threads = single ? 1 : await startFastPool();
  const info = backendInfo();
  const how = single ? `1 thread: ${single}` : `${threads} threads (Web Workers over one shared WebAssembly.Memory)`;
  return { name: info.name, detail: `${info.detail}; ${how}`, threads: single ? 1 : Math.min(threads, fastThreads()), note };
}
