import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { cpuBackend as cpu } from '../cpu.js';
import { fastBackend as fast, fastResidentBytes, setFastResidentBudget } from './index.js';
import { getRuntime } from './runtime.js';

// Kernel outputs live in the runtime's WebAssembly memory, and their blocks return to the allocator when
// the views are garbage collected. Invariants: an output the program still holds is never overwritten by a
// later kernel (even after collections and block reuse); a resident input is read in place; with a zero
// budget every output is a fresh copy.

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const settle = async () => {
  gc();
  await new Promise((r) => setTimeout(r, 10)); // finalizers run on a later task
};
const ramp = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + k));

describe('resident outputs', () => {
  it('are views of the WebAssembly memory, read in place by the next kernel', () => {
    const a = fast.unary('exp', ramp(5000, 1)) as Float32Array;
    expect(getRuntime().holds(a)).toBe(true);
    const rt = getRuntime();
    rt.reset();
    expect(rt.put(a)).toBe(a.byteOffset); // no copy
    const b = fast.unary('neg', a);
    expect(Array.from(b.subarray(0, 50))).toEqual(Array.from(a.subarray(0, 50), (v) => -v));
  });

  it('held outputs keep their values while thousands of others are collected and their blocks reused', async () => {
    const kept: { out: Float32Array; want: Float32Array }[] = [];
    const before = fastResidentBytes();
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 200; i++) {
        const x = ramp(1000 + (i % 7) * 100, round * 1000 + i);
        const out = fast.binary('mul', x, [x.length], x, [x.length], [x.length]) as Float32Array;
        if (i % 50 === 0) kept.push({ out, want: cpu.binary('mul', x, [x.length], x, [x.length], [x.length]) as Float32Array });
      }
      await settle();
    }
    for (const { out, want } of kept) expect(Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(Buffer.from(want.buffer))).toBe(true);
    // what was not kept was returned: the resident bytes are the kept outputs' (plus blocks of this test's neighbours)
    expect(fastResidentBytes() - before).toBeLessThan(kept.length * 8192 + (1 << 20));
  });

  it('with a zero budget are fresh copies, equal to the resident results', () => {
    const x = ramp(3000, 7);
    const resident = fast.unary('tanh', x);
    const old = setFastResidentBudget(0);
    try {
      const copied = fast.unary('tanh', x);
      expect(getRuntime().holds(copied)).toBe(false);
      expect(Array.from(copied)).toEqual(Array.from(resident));
    } finally {
      setFastResidentBudget(old);
    }
  });
});
