export * from './types.js';
export * from './shape.js';
export { cpuBackend, compareForSort } from './cpu.js';
export { UNARY, BINARY, erf, sigmoid, softplus } from './scalar.js';
export {
  registerBackend, registeredBackends, setBackend, getBackend, withBackend, autoBackendName, backendInfo, registerKernel, resolveBackend, kernelSources,
  type BackendOptions,
} from './registry.js';
export { softmaxBackwardWith, layerNormBackwardWith, unaryBackwardWith, freshAlloc, type Alloc } from './fused.js';
export * from './fast/index.js';
export * from './gpujs/index.js';
