import { cpuBackend } from './cpu.js';
import { readEnv } from './env.js';
import { materializeAll, materializeArgs } from './pending.js';
import { type Backend, type BackendImpl, KERNEL_NAMES, type KernelName, type Kernels } from './types.js';

/** Options a backend factory understands (e.g. `{ mode: 'webasm' }` for gpujs); others ignore them. */
export type BackendOptions = Record<string, unknown>;
type Factory = (options?: BackendOptions) => BackendImpl;

// One registry per process, kept on globalThis under a registered symbol: the ESM and CJS builds of this package
// (loaded side by side when one package is imported and another required) then share the backends, the kernel
// table and the choice.
const REGISTRY_KEY = Symbol.for('@ganpo/kernels/registry');
function registryState(): RegistryState {
  return ((globalThis as Record<symbol, RegistryState | undefined>)[REGISTRY_KEY] ??= {
    registered: new Map<string, Factory>([['cpu', () => cpuBackend]]),
    kernels: new Map(),
    hardwareProbes: new Map(),
    current: null,
  });
}

/**
 * Kernels registered per (kernel, backend) outside a backend's own object, TF.js-style: a package can add
 * a kernel to a backend without touching it. Lookup order for backend B and kernel k: B's own member k,
 * then the kernel registered for (k, B), then the reference `cpu` kernel.
 */
const kernelTable: Map<string, Map<KernelName, Kernels[KernelName]>> = registryState().kernels;

/** Registers `impl` as kernel `kernel` of the backend named `backend`; applies from the next `setBackend` / `resolveBackend`. */
export function registerKernel<K extends KernelName>(kernel: K, backend: string, impl: Kernels[K]): void {
  let table = kernelTable.get(backend);
  if (!table) kernelTable.set(backend, (table = new Map()));
  table.set(kernel, impl);
}

/** Which implementation backend `name` uses for each kernel: its own, registered, or the reference `cpu`. */
export function kernelSources(impl: BackendImpl): Record<KernelName, 'own' | 'registered' | 'cpu'> {
  const table = kernelTable.get(impl.name);
  return Object.fromEntries(
    KERNEL_NAMES.map((k) => [k, typeof impl[k] === 'function' ? 'own' : table?.has(k) ? 'registered' : 'cpu']),
  ) as Record<KernelName, 'own' | 'registered' | 'cpu'>;
}

/**
 * A complete backend from what `impl` implements: every kernel it leaves out comes from the kernel table or
 * the reference `cpu` backend, so a backend implements only the kernels it speeds up. Other members of
 * `impl` (a gpu.js backend's `stats()`, ...) are kept.
 */
export function resolveBackend<T extends BackendImpl>(impl: T): T & Backend {
  const table = kernelTable.get(impl.name);
  const out: Record<string, unknown> = { ...impl };
  for (const k of KERNEL_NAMES) {
    if (typeof out[k] === 'function') continue;
    const fallback = table?.get(k) ?? cpuBackend[k];
    out[k] = impl.pendingResults ? readsOnHost(fallback as (...args: unknown[]) => unknown) : fallback;
  }
  return out as unknown as T & Backend;
}

/**
 * A kernel that reads its inputs on the CPU, given to a backend that may hand it pending buffers (results still
 * on its device, see pending.ts; `pendingResults` says so): the inputs are read back first.
 */
function readsOnHost(kernel: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return (...args) => {
    materializeArgs(args);
    return kernel(...args);
  };
}

/** Makes `next` current; buffers another backend still holds on its device are read back first. */
function makeCurrent<B extends Backend | null>(next: B): B {
  if (state.current !== next) materializeAll();
  state.current = next;
  return next;
}

/**
 * The engine's current backend: the one piece of global state besides the gradient tape.
 * Backends register a factory by name; `setBackend` switches; `getBackend` is what every op calls.
 * Until a backend is chosen, the first `getBackend()` picks one automatically (see `autoBackendName`).
 */
interface RegistryState {
  readonly registered: Map<string, Factory>;
  /** Kernels registered per (backend, kernel), see `registerKernel`. */
  readonly kernels: Map<string, Map<KernelName, Kernels[KernelName]>>;
  /** Probes registered by accelerated backends: true when they would run on real hardware here. */
  readonly hardwareProbes: Map<string, () => boolean>;
  current: Backend | null;
}
const state: RegistryState = registryState();
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

export function setBackend(nameOrBackend: string | BackendImpl, options?: BackendOptions): Backend {
  if (typeof nameOrBackend !== 'string') {
    return makeCurrent(resolveBackend(nameOrBackend));
  }
  const factory = registered.get(nameOrBackend);
  if (!factory) {
    throw new Error(`setBackend: unknown backend '${nameOrBackend}' (known: ${registeredBackends().join(', ')})`);
  }
  return makeCurrent(resolveBackend(factory(options)));
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
export function withBackend<T>(backend: BackendImpl | string, fn: () => T, options?: BackendOptions): T {
  const previous = state.current;
  setBackend(backend, options);
  try {
    return fn();
  } finally {
    makeCurrent(previous);
  }
}
