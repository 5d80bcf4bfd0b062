import { describe, expect, it } from 'vitest';
import { cpuBackend } from './cpu.js';
import { getBackend, kernelSources, registerKernel, resolveBackend, setBackend, withBackend } from './registry.js';
import { KERNEL_NAMES } from './types.js';

// Kernels per (kernel, backend), TF.js-style: a backend implements only what it speeds up; lookup takes its
// own kernel, then one registered for it, then the reference cpu kernel.

describe('kernel lookup', () => {
  it('a backend with one kernel gets every other kernel from the reference backend', () => {
    const calls: string[] = [];
    const partial = { name: 'test-partial', describe: () => 'test', unary: (op: 'neg', x: Float32Array) => (calls.push(op), cpuBackend.unary(op, x)) };
    const b = resolveBackend(partial);
    for (const k of KERNEL_NAMES) expect(typeof b[k], k).toBe('function');
    expect(Array.from(b.unary('neg', Float32Array.of(1, 2)))).toEqual([-1, -2]);
    expect(calls).toEqual(['neg']);
    expect(b.matmul).toBe(cpuBackend.matmul);
    expect(kernelSources(partial).unary).toBe('own');
    expect(kernelSources(partial).sort).toBe('cpu');
  });

  it('a kernel registered for a backend is used in place of the reference one, and applies from the next setBackend', () => {
    const impl = { name: 'test-registered', describe: () => 'test' };
    let called = 0;
    registerKernel('softmaxBackward', 'test-registered', (y, g, rows, cols) => (called++, cpuBackend.softmaxBackward(y, g, rows, cols)));
    expect(kernelSources(impl).softmaxBackward).toBe('registered');
    withBackend(impl, () => {
      getBackend().softmaxBackward(Float32Array.of(0.5, 0.5), Float32Array.of(1, 0), 1, 2);
    });
    expect(called).toBe(1);
  });

  it('setBackend with an object resolves it', () => {
    const previous = getBackend();
    try {
      const b = setBackend({ name: 'test-empty', describe: () => 'nothing' });
      expect(b.layerNormBackward).toBe(cpuBackend.layerNormBackward);
    } finally {
      setBackend(previous);
    }
  });
});
