import { registerBackend } from '../registry.js';
import { fastBackend } from './backend.js';

export { fastBackend } from './backend.js';
export {
  setElementwiseParallelThreshold as setFastElementwiseParallelThreshold,
  setBinaryInWasm as setFastBinaryInWasm,
} from './backend.js';
export { setParallelThreshold as setFastMatmulParallelThreshold } from './matmul.js';
export { setFastThreads, fastThreads, shutdownPool as shutdownFastBackend, poolStats as fastPoolStats } from './pool.js';
export { startFastPool } from './start.js';
export { fastEnvironmentProblem, setResidentBudget as setFastResidentBudget, residentBytes as fastResidentBytes } from './runtime.js';

// The factory is side-effect free: the WebAssembly instance and the worker pool start on first use.
registerBackend('fast', () => fastBackend);
