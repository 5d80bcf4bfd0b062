// Everything both platforms share; index.ts (Node) and browser.ts install the platform's worker host.
export * from './types.js';
export * from './shape.js';
export { cpuBackend, compareForSort } from './cpu.js';
export { UNARY, BINARY, erf, sigmoid, softplus } from './scalar.js';
export {
  registerBackend, registeredBackends, setBackend, getBackend, withBackend, autoBackendName, backendInfo, registerKernel, resolveBackend, kernelSources,
  type BackendOptions,
} from './registry.js';
export { markPending, isPending, materialize, materializeArgs, materializeAll, pendingCollected, registerPendingFlusher } from './pending.js';
export { softmaxBackwardWith, layerNormBackwardWith, unaryBackwardWith, freshAlloc, type Alloc } from './fused.js';
export * from './fast/index.js';
export * from './gpujs/index.js';
export { readEnv, setEnvSource, type EnvSource } from './env.js';
export { setWorkerHost, workerHost, type WorkerHost, type HostedWorker } from './host/workerHost.js';
