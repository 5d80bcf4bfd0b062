import { cpuBackend } from './cpu.js';
import { readEnv } from './env.js';
import type { Backend } from './types.js';

/** Options a backend factory understands (e.g. `{ mode: 'webasm' }` for gpujs); others ignore them. */
export type BackendOptions = Record<string, unknown>;
type Factory = (options?: BackendOptions) => Backend;

/**
 * The engine's current backend: the one piece of global state besides the gradient tape.
 * Backends register a factory by name; `setBackend` switches; `getBackend` is what every op calls.
 * Until a backend is chosen, the first `getBackend()` picks one automatically (see `autoBackendName`).
 */
interface RegistryState {
  readonly registered: Map<string, Factory>;
  /** Probes registered by accelerated backends: true when they would run on real hardware here. */
  readonly hardwareProbes: Map<string, () => boolean>;
  current: Backend | null;
}
// One registry per process, kept on globalThis under a registered symbol: the ESM and CJS builds of this package
// (loaded side by side when one package is imported and another required) then share the backends and the choice.
const REGISTRY_KEY = Symbol.for('@ganpo/kernels/registry');
const state: RegistryState = ((globalThis as Record<symbol, RegistryState | undefined>)[REGISTRY_KEY] ??= {
  registered: new Map<string, Factory>([['cpu', () => cpuBackend]]),
  hardwareProbes: new Map(),
  current: null,
});
const { registered, hardwareProbes } = state;

export function registerBackend(name: string, factory: Factory, options: { realHardware?: () => boolean } = {}): void {
  registered.set(name, factory);
  if (options.realHardware) hardwareProbes.set(name, options.realHardware);
}

export function registeredBackends(): string[] {
  return [...registered.keys()];
}

/**
 * The automatic choice: `GANPO_BACKEND` when set (in `env`, else the engine's environment: see env.ts); otherwise an accelerated backend only when its probe
 * finds real hardware (gpujs with a hardware GL renderer), else the fast CPU path, else the reference.
 */
export function autoBackendName(env?: Record<string, string | undefined>): string {
  const requested = env ? env.GANPO_BACKEND : readEnv('GANPO_BACKEND');
  if (requested) return requested;
  for (const [name, probe] of hardwareProbes) {
    try {
      if (probe()) return name;
    } catch {
      // A probe that fails means no hardware; fall through to the CPU paths.
    }
  }
  return registered.has('fast') ? 'fast' : 'cpu';
}

export function setBackend(nameOrBackend: string | Backend, options?: BackendOptions): Backend {
  if (typeof nameOrBackend !== 'string') {
    state.current = nameOrBackend;
    return state.current;
  }
  const factory = registered.get(nameOrBackend);
  if (!factory) {
    throw new Error(`setBackend: unknown backend '${nameOrBackend}' (known: ${registeredBackends().join(', ')})`);
  }
  state.current = factory(options);
  return state.current;
}

export function getBackend(): Backend {
  return state.current ?? setBackend(autoBackendName());
}

/** Which backend is in use and how it runs (e.g. the gpu.js mode), for `ganpo info` and logs. */
export function backendInfo(): { name: string; detail: string } {
  const b = getBackend();
  return { name: b.name, detail: b.describe() };
}

/** Runs `fn` with `backend` current, restoring the previous one afterwards. */
export function withBackend<T>(backend: Backend | string, fn: () => T, options?: BackendOptions): T {
  const previous = state.current;
  setBackend(backend, options);
  try {
    return fn();
  } finally {
    state.current = previous;
  }
}
