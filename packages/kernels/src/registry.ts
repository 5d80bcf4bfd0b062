import { cpuBackend } from './cpu.js';
import type { Backend } from './types.js';

/**
 * The engine's current backend: the one piece of global state besides the gradient tape.
 * Backends register themselves by name; `setBackend` switches, `getBackend` is what every op calls.
 */
const registered = new Map<string, () => Backend>([['cpu', () => cpuBackend]]);
let current: Backend = cpuBackend;

export function registerBackend(name: string, factory: () => Backend): void {
  registered.set(name, factory);
}

export function registeredBackends(): string[] {
  return [...registered.keys()];
}

export function setBackend(nameOrBackend: string | Backend): Backend {
  if (typeof nameOrBackend !== 'string') {
    current = nameOrBackend;
    return current;
  }
  const factory = registered.get(nameOrBackend);
  if (!factory) {
    throw new Error(`setBackend: unknown backend '${nameOrBackend}' (known: ${registeredBackends().join(', ')})`);
  }
  current = factory();
  return current;
}

export const getBackend = (): Backend => current;

/** Runs `fn` with `backend` current, restoring the previous one afterwards. */
export function withBackend<T>(backend: Backend | string, fn: () => T): T {
  const previous = current;
  setBackend(backend);
  try {
    return fn();
  } finally {
    current = previous;
  }
}
