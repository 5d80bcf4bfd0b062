import { afterEach, describe, expect, it } from 'vitest';
import { readEnv, setEnvSource } from '../env.js';
import { autoBackendName } from '../registry.js';
import { browserWorkerHost } from './browser.js';
import { nodeWorkerHost } from './node.js';
import { workerHost } from './workerHost.js';
import '../index.js';

/*
 * The platform seams of the Node/browser split: the environment source the engine reads, and the worker
 * hosts the fast backend's pool starts threads through.
 */

describe('environment source', () => {
  let restore: ReturnType<typeof setEnvSource> | null = null;
  afterEach(() => {
    if (restore) setEnvSource(restore);
    restore = null;
  });

  it('reads process.env by default in Node', () => {
    process.env.GANPO_TEST_ENV_SOURCE = 'from-process';
    expect(readEnv('GANPO_TEST_ENV_SOURCE')).toBe('from-process');
    delete process.env.GANPO_TEST_ENV_SOURCE;
  });

  it('an injected source (object or function) decides GANPO_BACKEND for the automatic choice', () => {
    restore = setEnvSource({ GANPO_BACKEND: 'cpu' });
    expect(autoBackendName()).toBe('cpu');
    setEnvSource((name) => (name === 'GANPO_BACKEND' ? 'gpujs' : undefined));
    expect(autoBackendName()).toBe('gpujs');
    setEnvSource({});
    expect(readEnv('GANPO_BACKEND')).toBeUndefined();
    expect(['fast', 'gpujs']).toContain(autoBackendName());
  });
});

describe('worker hosts', () => {
  it('the Node entry installs the worker_threads host', () => {
    expect(workerHost()).toBe(nodeWorkerHost);
    expect(nodeWorkerHost.singleThreadReason()).toBeNull();
    expect(nodeWorkerHost.defaultThreads()).toBeGreaterThanOrEqual(1);
  });

  it('the browser host stays at one thread, and says why, where the page is not cross-origin isolated', () => {
    // Node has no crossOriginIsolated: to the browser host it is a page that is not isolated.
    expect(browserWorkerHost.singleThreadReason()).toMatch(/not cross-origin isolated/);
    expect(browserWorkerHost.defaultThreads()).toBe(1);
    expect(() => browserWorkerHost.spawn('', {}, () => {})).toThrow(/cannot start a worker: the page is not cross-origin isolated/);
  });
});
