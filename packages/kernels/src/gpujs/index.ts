import { readEnv } from '../env.js';
import { registerBackend } from '../registry.js';
import { gpujsHasRealGpu } from './availability.js';
import { createGpujsBackend, type GpujsBackend } from './backend.js';
import { GPUJS_MODES, type GpujsMode } from './runtime.js';

export { createGpujsBackend, GPUJS_MAX_ELEMENTS } from './backend.js';
export type { GpujsBackend, GpujsBackendOptions } from './backend.js';
export { gpujsAvailability, gpujsHasRealGpu } from './availability.js';
export type { GpujsAvailability, GpujsModeProbe } from './availability.js';
export { GPUJS_MODES } from './runtime.js';
export { createWebgl2Context, webgl2PrecisionProblem, type Webgl2Context } from './webgl2.js';
export type { GpujsMode, GpujsActualMode, GpujsStats } from './runtime.js';

/** The mode `setBackend('gpujs')` uses: $GANPO_GPUJS_MODE if set (gpu, headlessgl, webasm, cpu), else 'gpu'. */
export function gpujsModeFromEnv(): GpujsMode {
  const raw = readEnv('GANPO_GPUJS_MODE');
  if (raw === undefined || raw === '') return 'gpu';
  if (!(GPUJS_MODES as readonly string[]).includes(raw)) {
    throw new Error(`GANPO_GPUJS_MODE='${raw}' is not a gpu.js mode (expected one of: ${GPUJS_MODES.join(', ')})`);
  }
  return raw as GpujsMode;
}

// One backend per mode for the process: each holds compiled kernels and, on headlessgl, a GL context.
const shared = new Map<GpujsMode, GpujsBackend>();

/**
 * The backend `setBackend('gpujs', { mode })` returns: one per mode, shared by the process. Without a mode
 * option, $GANPO_GPUJS_MODE decides, else 'gpu' (gpu.js's automatic choice).
 */
export function sharedGpujsBackend(mode: GpujsMode = gpujsModeFromEnv()): GpujsBackend {
  if (!(GPUJS_MODES as readonly string[]).includes(mode)) {
    throw new Error(`setBackend('gpujs'): unknown mode '${String(mode)}' (expected one of: ${GPUJS_MODES.join(', ')})`);
  }
  let backend = shared.get(mode);
  if (!backend) {
    backend = createGpujsBackend({ mode });
    shared.set(mode, backend);
  }
  return backend;
}

registerBackend('gpujs', (options) => sharedGpujsBackend(options?.mode as GpujsMode | undefined), {
  // The automatic default picks gpujs only on a real GPU: headless-gl with a hardware renderer.
  realHardware: () => gpujsHasRealGpu(),
});
