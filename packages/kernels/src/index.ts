export * from './types.js';
export * from './shape.js';
export { cpuBackend, compareForSort } from './cpu.js';
export { UNARY, BINARY, erf, sigmoid, softplus } from './scalar.js';
export { registerBackend, registeredBackends, setBackend, getBackend, withBackend } from './registry.js';
