import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WorkerHost } from './workerHost.js';

/**
 * Node's worker host: worker_threads created from a source string (`eval: true`), so no file path is
 * resolved and the same code runs from src (vitest) and from tsup's dist. Workers are unref()'d and never
 * keep the process alive.
 */
export const nodeWorkerHost: WorkerHost = {
  name: 'node worker_threads',
  defaultThreads: () => {
    try {
      return availableParallelism();
    } catch {
      return 1;
    }
  },
  singleThreadReason: () => null,
  spawn(body, workerData, onExit) {
    const source = `'use strict';\nconst { workerData } = require('node:worker_threads');\n${body}`;
    const worker = new Worker(source, { eval: true, workerData, stdout: false, stderr: false });
    worker.on('error', onExit);
    worker.on('exit', onExit);
    worker.unref();
    return { terminate: () => worker.terminate() };
  },
};
