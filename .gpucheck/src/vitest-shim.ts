// A minimal stand-in for the parts of vitest that packages/kernels/src/gpujs/parity-suite.ts uses
// (describe, test, test.skip, afterAll, expect with toBe/toContain/toBeInstanceOf/toEqual/toBeGreaterThan),
// so the suite's own code runs unchanged in a standalone bundle. Tests are collected, then run by runTests().

type Fn = () => unknown;
interface Registered {
  name: string;
  fn: Fn;
  skip: boolean;
}

const tests: Registered[] = [];
const afterAllHooks: Fn[] = [];
const prefix: string[] = [];

export function describe(name: string, fn: Fn): void {
  prefix.push(name);
  try {
    fn();
  } finally {
    prefix.pop();
  }
}

function register(name: string, fn: Fn, skip: boolean): void {
  tests.push({ name: [...prefix, name].join(' > '), fn, skip });
}

export const test = Object.assign((name: string, fn: Fn) => register(name, fn, false), {
  skip: (name: string, fn: Fn) => register(name, fn, true),
});
export const it = test;

export function afterAll(fn: Fn): void {
  afterAllHooks.push(fn);
}

function show(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
    return s === undefined ? String(v) : s.length > 200 ? s.slice(0, 200) + '…' : s;
  } catch {
    return String(v);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const aa = a as Record<string, unknown>;
  const bb = b as Record<string, unknown>;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(aa);
  const kb = Object.keys(bb);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual(aa[k], bb[k]));
}

export function expect(actual: unknown, message?: string) {
  const fail = (what: string): never => {
    throw new Error(`${message ? message + ': ' : ''}expected ${show(actual)} ${what}`);
  };
  return {
    toBe(expected: unknown) {
      if (!Object.is(actual, expected)) fail(`to be ${show(expected)}`);
    },
    toEqual(expected: unknown) {
      if (!deepEqual(actual, expected)) fail(`to equal ${show(expected)}`);
    },
    toContain(item: unknown) {
      const ok = typeof actual === 'string' ? actual.includes(String(item)) : Array.isArray(actual) && actual.includes(item);
      if (!ok) fail(`to contain ${show(item)}`);
    },
    toBeInstanceOf(cls: new (...args: never[]) => unknown) {
      if (!(actual instanceof cls)) fail(`to be an instance of ${cls.name}`);
    },
    toBeGreaterThan(n: number) {
      if (!((actual as number) > n)) fail(`to be greater than ${n}`);
    },
  };
}

export interface TestResult {
  name: string;
  status: 'pass' | 'fail' | 'skip';
  ms: number;
  error?: string;
}

/** Runs every collected test in order, then the afterAll hooks; `onResult` sees each result as it comes. */
export function runTests(onResult: (r: TestResult) => void = () => {}): TestResult[] {
  const results: TestResult[] = [];
  for (const t of tests) {
    if (t.skip) {
      const r: TestResult = { name: t.name, status: 'skip', ms: 0 };
      results.push(r);
      onResult(r);
      continue;
    }
    const t0 = performance.now();
    let r: TestResult;
    try {
      const v = t.fn();
      if (v && typeof (v as Promise<unknown>).then === 'function') throw new Error('async tests are not supported by the shim');
      r = { name: t.name, status: 'pass', ms: performance.now() - t0 };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      r = { name: t.name, status: 'fail', ms: performance.now() - t0, error: msg.length > 1500 ? msg.slice(0, 1500) + '…' : msg };
    }
    results.push(r);
    onResult(r);
  }
  for (const h of afterAllHooks) {
    try {
      h();
    } catch (e) {
      const r: TestResult = { name: 'afterAll', status: 'fail', ms: 0, error: e instanceof Error ? e.message : String(e) };
      results.push(r);
      onResult(r);
    }
  }
  return results;
}
