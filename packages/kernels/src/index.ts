// Node entry point: the fast backend's worker pool runs on worker_threads.
import { nodeWorkerHost } from './host/node.js';
import { setWorkerHost } from './host/workerHost.js';

setWorkerHost(nodeWorkerHost);

export * from './core.js';
export { nodeWorkerHost } from './host/node.js';
