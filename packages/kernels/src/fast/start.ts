import { startPool } from './pool.js';
import { getRuntime } from './runtime.js';

/**
 * Starts the fast backend's worker pool and resolves when its workers are ready, with the number of
 * threads (main included) large matmuls will use. Optional: without it the pool starts on the first large
 * matmul and the main thread works alone until the workers are up.
 */
export function startFastPool(timeoutMs?: number): Promise<number> {
  return startPool(getRuntime(), timeoutMs);
}
