// Browser entry point: no Node built-ins; the fast backend's worker pool runs on Web Workers when the page
// is cross-origin isolated (one thread otherwise), and the environment is empty unless setEnvSource fills it.
import { browserWorkerHost } from './host/browser.js';
import { setWorkerHost } from './host/workerHost.js';

setWorkerHost(browserWorkerHost);

export * from './core.js';
export { browserWorkerHost } from './host/browser.js';
