/**
 * Where the engine reads its environment (`GANPO_BACKEND`, `GANPO_GPUJS_MODE`): an injectable source, so
 * that the same code runs in Node (process.env, the default there) and in a browser (no process at all:
 * the default is an empty environment, and a page can pass its own settings with `setEnvSource`).
 */
export type EnvSource = (name: string) => string | undefined;

const processEnv: EnvSource = (name) => {
  // Read through globalThis so that bundlers see no `process` reference to polyfill.
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.[name];
};

let source: EnvSource = processEnv;

/** Replaces the environment the engine reads (a Map, an object, URL parameters...); returns the previous source. */
export function setEnvSource(next: EnvSource | Record<string, string | undefined>): EnvSource {
  const previous = source;
  source = typeof next === 'function' ? next : (name) => next[name];
  return previous;
}

/** One variable of the engine's environment (undefined when unset). */
export function readEnv(name: string): string | undefined {
  return source(name);
}
