/**
 * The seam between the fast backend's worker pool and the platform: how many threads there may be, and how
 * to start one worker running a source string with its start-up data (the compiled WebAssembly.Module and
 * the shared memory). Node uses worker_threads (`host/node.ts`), a browser Web Workers (`host/browser.ts`);
 * the package's entry point for each platform installs its host, so no module here imports a Node built-in.
 */
export interface HostedWorker {
  /** Ends the worker; resolves when it is gone. */
  terminate(): Promise<unknown>;
}

export interface WorkerHost {
  /** Platform name for describe(): 'node worker_threads', 'browser Web Workers'. */
  readonly name: string;
  /** Threads (main included) the pool may use by default. */
  defaultThreads(): number;
  /** Why the pool must stay at one thread here, or null (e.g. a page that is not cross-origin isolated). */
  singleThreadReason(): string | null;
  /**
   * Starts a worker that runs `body` with `workerData` in scope (a `const` the host defines before the body),
   * calling `onExit` when it fails or exits.
   */
  spawn(body: string, workerData: Record<string, unknown>, onExit: () => void): HostedWorker;
}

/** Until an entry point installs a host, the pool runs on the calling thread only. */
const noHost: WorkerHost = {
  name: 'no worker host',
  defaultThreads: () => 1,
  singleThreadReason: () => 'no worker host installed',
  spawn: () => {
    throw new Error('fast backend: no worker host installed');
  },
};

let host: WorkerHost = noHost;

export function setWorkerHost(next: WorkerHost): void {
  host = next;
}

export function workerHost(): WorkerHost {
  return host;
}
