// The gpujs backend's machinery: kernel cache and its bounds, device residency (headlessgl), mode reporting,
// availability probing and registration. Parity of the kernels themselves is in parity.<mode>.test.ts.
import { describe, expect, test } from 'vitest';
import { cpuBackend } from '../cpu.js';
import { isPending, materialize } from '../pending.js';
import { registeredBackends, withBackend, getBackend } from '../registry.js';
import { gpujsAvailability } from './availability.js';
import { createGpujsBackend } from './backend.js';
import { gpujsModeFromEnv } from './index.js';
import { SOFTWARE_RENDERER, fingerprint } from './runtime.js';

const ramp = (n: number, scale = 0.01): Float32Array => Float32Array.from({ length: n }, (_, i) => 0.5 + scale * i);
/** GLSL's exp may differ from Math.exp in the last float32 bit; a placeholder read too early is off by 100%. */
const expectNear = (got: ArrayLike<number>, want: ArrayLike<number>): void => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-6 * Math.abs(want[i]));
};

describe('gpujs kernel cache (cpu and webasm modes)', () => {
  for (const mode of ['cpu', 'webasm'] as const) {
    test(`${mode}: one compile per shape signature, then cache hits`, () => {
      const b = createGpujsBackend({ mode });
      try {
        b.unary('exp', ramp(33));
        const first = b.stats();
        b.unary('exp', ramp(33, 0.02));
        const second = b.stats();
        expect(second.compiles).toBe(first.compiles);
        expect(second.cacheHits).toBe(first.cacheHits + 1);
        b.unary('exp', ramp(34));
        expect(b.stats().compiles).toBe(first.compiles + 1);
        // Same kernel kind, shapes that merge to the same flat axes: shared.
        b.binary('add', ramp(12), [3, 4], ramp(12), [3, 4], [3, 4]);
        const c = b.stats().compiles;
        b.binary('add', ramp(12), [12], ramp(12), [12], [12]);
        expect(b.stats().compiles).toBe(c);
      } finally {
        b.dispose();
      }
    });

    test(`${mode}: the cache is bounded (LRU) and evicted kernels recompile correctly`, () => {
      const b = createGpujsBackend({ mode, maxKernels: 3 });
      try {
        for (let n = 1; n <= 10; n++) b.unary('sqrt', ramp(n));
        const s = b.stats();
        expect(s.cachedKernels).toBeLessThanOrEqual(3);
        expect(s.evictions).toBeGreaterThanOrEqual(7);
        const x = ramp(1);
        expect(Array.from(b.unary('sqrt', x))).toEqual(Array.from(cpuBackend.unary('sqrt', x)).map(Math.fround));
      } finally {
        b.dispose();
      }
    });
  }

  test('a disposed backend refuses work', () => {
    const b = createGpujsBackend({ mode: 'cpu' });
    b.dispose();
    expect(() => b.unary('exp', ramp(3))).toThrow(/disposed/);
  });

  test('buffers past 2^24 elements are not sent to gpu.js (float32 index math); size-0 and float64 work', () => {
    const b = createGpujsBackend({ mode: 'cpu' });
    try {
      expect(b.unary('exp', new Float32Array(0))).toEqual(new Float32Array(0));
      expect(b.reduce('sum', new Float32Array(0), [0, 3], [0])).toEqual(new Float32Array(3));
      expect(b.matmul(new Float32Array(0), new Float32Array(0), { batch: 1, m: 2, k: 0, n: 2, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 })).toEqual(new Float32Array(4));
      b.unary('exp', Float64Array.of(1));
      expect(b.stats().float64Calls).toBe(1);
    } finally {
      b.dispose();
    }
  });
});

describe('gpujs modes and availability', () => {
  const avail = gpujsAvailability();

  test('cpu and webasm always work; webgpu is reported as unsupported with a reason', () => {
    expect(avail.modes.cpu).toEqual({ ok: true, reason: null });
    expect(avail.modes.webasm).toEqual({ ok: true, reason: null });
    expect(avail.modes.webgpu.ok).toBe(false);
    expect(avail.modes.webgpu.reason).toMatch(/async/);
    if (!avail.modes.headlessgl.ok) expect(avail.modes.headlessgl.reason).toBeTruthy();
  });

  test('realGpu means headless-gl on a hardware renderer', () => {
    const software = avail.renderer !== null && SOFTWARE_RENDERER.test(avail.renderer);
    expect(avail.realGpu).toBe(avail.modes.headlessgl.ok && avail.renderer !== null && !software);
  });

  test("mode 'gpu' resolves to gpu.js's automatic choice and describe() says which", () => {
    const b = createGpujsBackend({ mode: 'gpu' });
    try {
      expect(b.mode.actual).toBe(avail.auto);
      expect(b.describe()).toContain(`gpu → ${avail.auto}`);
    } finally {
      b.dispose();
    }
  });

  test("registered as 'gpujs'; setBackend options and GANPO_GPUJS_MODE choose the mode", () => {
    expect(registeredBackends()).toContain('gpujs');
    withBackend('gpujs', () => {
      expect(getBackend().name).toBe('gpujs');
      expect(getBackend().describe()).toMatch(/^gpu\.js webasm/);
    }, { mode: 'webasm' });
    const saved = process.env.GANPO_GPUJS_MODE;
    try {
      process.env.GANPO_GPUJS_MODE = 'cpu';
      expect(gpujsModeFromEnv()).toBe('cpu');
      delete process.env.GANPO_GPUJS_MODE;
      expect(gpujsModeFromEnv()).toBe('gpu');
      process.env.GANPO_GPUJS_MODE = 'webgpu';
      expect(() => gpujsModeFromEnv()).toThrow(/not a gpu.js mode/);
    } finally {
      if (saved === undefined) delete process.env.GANPO_GPUJS_MODE;
      else process.env.GANPO_GPUJS_MODE = saved;
    }
  });

  test('fingerprint changes with any element', () => {
    const a = ramp(100);
    const f = fingerprint(a);
    a[57] = Math.fround(a[57] + 1e-6);
    expect(fingerprint(a)).not.toBe(f);
  });
});

// Device residency exists only where there is a device: headlessgl.
const glReason = gpujsAvailability().modes.headlessgl.ok ? null : gpujsAvailability().modes.headlessgl.reason;
const requireGl = process.env.GANPO_REQUIRE_HEADLESSGL === '1';
const listed = (process.env.GANPO_GPUJS_MODES ?? 'cpu,webasm,headlessgl').split(',').map((s) => s.trim());

if (glReason !== null || !listed.includes('headlessgl')) {
  const why = glReason ?? `not in GANPO_GPUJS_MODES=${process.env.GANPO_GPUJS_MODES}`;
  if (requireGl) {
    test('gpujs headlessgl residency: required by GANPO_REQUIRE_HEADLESSGL=1 but unavailable', () => {
      throw new Error(`headlessgl is required but unavailable: ${why}`);
    });
  } else {
    console.warn(`[gpujs] headlessgl residency tests SKIPPED: ${why}`);
    test.skip(`gpujs headlessgl residency tests SKIPPED: ${why}`, () => {});
  }
} else {
  describe('gpujs headlessgl device residency', () => {
    test('describe() names the GL renderer', () => {
      const b = createGpujsBackend({ mode: 'headlessgl' });
      try {
        expect(b.describe()).toContain(`renderer: ${gpujsAvailability().renderer}`);
        expect(b.mode.renderer).toBe(gpujsAvailability().renderer);
      } finally {
        b.dispose();
      }
    });

    test('an output passed back as an input is not uploaded again', () => {
      const b = createGpujsBackend({ mode: 'headlessgl' });
      try {
        const x = ramp(129);
        const y = b.unary('exp', x);
        const before = b.stats().uploadsAvoided;
        const z = b.unary('log', y);
        expect(b.stats().uploadsAvoided).toBe(before + 1);
        materialize(z).forEach((v, i) => expect(Math.abs(v - x[i])).toBeLessThan(1e-5));
        // Chained through a multi-kernel op too.
        const w = b.matmul(y, y, { batch: 1, m: 1, k: 129, n: 1, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 });
        expect(b.stats().uploadsAvoided).toBe(before + 3); // y as both operands
        let dot = 0;
        for (const v of materialize(y)) dot += v * v;
        expect(Math.abs(materialize(w)[0] - dot) / dot).toBeLessThan(1e-5);
      } finally {
        b.dispose();
      }
    });

    test('a caller writing into a returned buffer never computes on the stale texture', () => {
      const b = createGpujsBackend({ mode: 'headlessgl' });
      try {
        const y = b.unary('exp', ramp(7));
        // Writing on the CPU goes through materialize, like any CPU access (autograd's Tensor.data does it).
        materialize(y)[3] = 5;
        const z = b.unary('log', y);
        expect(b.stats().residentRejected).toBe(1);
        expect(materialize(z)[3]).toBeCloseTo(Math.log(5), 6);
        // trusted mode skips the check (documented: only for callers that never mutate outputs)
        const t = createGpujsBackend({ mode: 'headlessgl', verifyResident: false });
        try {
          const y2 = t.unary('exp', ramp(7));
          t.unary('log', y2);
          expect(t.stats().uploadsAvoided).toBe(1);
        } finally {
          t.dispose();
        }
      } finally {
        b.dispose();
      }
    });

    test('resident bytes stay under the budget over a long loop, and evicted kernels take their textures along', () => {
      const budget = 64 * 1024;
      const b = createGpujsBackend({ mode: 'headlessgl', residentBytes: budget, maxKernels: 4 });
      try {
        let y = ramp(257);
        let expected = ramp(257);
        const keep: Float32Array[] = [];
        for (let step = 0; step < 60; step++) {
          // The same kernel gets its own previous output (resident) back as input.
          y = b.binary('mul', y, [257], ramp(257, 0), [257], [257]) as Float32Array;
          expected = expected.map((v) => v * 0.5);
          expect(Array.from(materialize(y))).toEqual(Array.from(expected));
          keep.push(y);
          if (step % 7 === 0) b.unary('abs', ramp(step + 1));
          expect(b.stats().residentBytes).toBeLessThanOrEqual(budget);
          expect(b.stats().cachedKernels).toBeLessThanOrEqual(4);
        }
        // Every kept buffer is still correct as an input, resident or not.
        for (const k of keep.slice(-5)) {
          const back = b.unary('neg', k);
          materialize(back).forEach((v, i) => expect(v).toBe(-materialize(k)[i]));
        }
      } finally {
        b.dispose();
      }
    });

    test('results stay on the device until read: a chain of kernels reads back only what the CPU reads', () => {
      const b = createGpujsBackend({ mode: 'headlessgl' });
      try {
        const x = ramp(129);
        const before = b.stats();
        let y = b.unary('exp', x);
        for (let i = 0; i < 5; i++) y = b.binary('mul', y, [129], ramp(129, 0), [129], [129]);
        expect(isPending(y)).toBe(true);
        expect(Array.from(y).every((v) => v === 0)).toBe(true); // the placeholder: nothing read yet
        const mid = b.stats();
        expect(mid.runs - before.runs).toBe(6);
        expect(mid.readbacks - before.readbacks).toBe(0);
        expect(mid.pendingTextures).toBeGreaterThanOrEqual(1);
        const want = cpuBackend.binary('mul', cpuBackend.unary('exp', x), [129], new Float32Array(129).fill(0.5 ** 5), [129], [129]);
        materialize(y).forEach((v, i) => expect(Math.abs(v - want[i]) / want[i]).toBeLessThan(1e-6));
        expect(b.stats().readbacks - before.readbacks).toBe(1);
        expect(isPending(y)).toBe(false);
        // Read once: a second read costs nothing, and the texture is still used as an input.
        materialize(y);
        expect(b.stats().readbacks - before.readbacks).toBe(1);
        const avoided = b.stats().uploadsAvoided;
        b.unary('neg', y);
        expect(b.stats().uploadsAvoided).toBe(avoided + 1);
      } finally {
        b.dispose();
      }
    });

    test('the reference fallbacks (float64, missing kernels) and dispose read pending inputs back first', () => {
      const b = createGpujsBackend({ mode: 'headlessgl' });
      const y = b.unary('exp', ramp(33));
      const g = b.unary('neg', ramp(33));
      try {
        // softmaxBackward is a reference kernel on gpujs (resolveBackend fills it in): it must see the values.
        const got = b.softmaxBackward(y, g, 3, 11);
        const want = cpuBackend.softmaxBackward(cpuBackend.unary('exp', ramp(33)), cpuBackend.unary('neg', ramp(33)), 3, 11);
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i])));
        const z = b.unary('exp', ramp(7));
        expectNear(b.cast(z, 'float64'), cpuBackend.unary('exp', ramp(7)));
      } finally {
        const left = b.unary('exp', ramp(5));
        b.dispose();
        // A placeholder handed out before dispose still gets its values.
        expect(isPending(left)).toBe(false);
        expectNear(left, cpuBackend.unary('exp', ramp(5)));
      }
    });

    test('switching the current backend reads the old backend\'s pending results back', () => {
      const b = createGpujsBackend({ mode: 'headlessgl' });
      try {
        const y = withBackend(b, () => getBackend().unary('exp', ramp(9)));
        expect(isPending(y)).toBe(false); // withBackend restored the previous backend: y was read back
        expectNear(y, cpuBackend.unary('exp', ramp(9)));
      } finally {
        b.dispose();
      }
    });

    test('a pending result evicted for the byte budget is read back before its texture goes', () => {
      const b = createGpujsBackend({ mode: 'headlessgl', residentBytes: 4 * 1024 });
      try {
        const outs = Array.from({ length: 12 }, (_, k) => b.unary('exp', ramp(129, 0.001 * (k + 1))));
        expect(b.stats().residentBytes).toBeLessThanOrEqual(4 * 1024);
        outs.forEach((o, k) => {
          const want = cpuBackend.unary('exp', ramp(129, 0.001 * (k + 1)));
          materialize(o).forEach((v, i) => expect(Math.abs(v - want[i]) / want[i]).toBeLessThan(1e-6));
        });
      } finally {
        b.dispose();
      }
    });

    test('the kernel cache holds its device bytes under maxKernelBytes', () => {
      const b = createGpujsBackend({ mode: 'headlessgl', maxKernelBytes: 40_000 });
      try {
        for (let n = 100; n < 1100; n += 100) b.unary('exp', ramp(n));
        expect(b.stats().kernelBytes).toBeLessThanOrEqual(40_000);
        expect(b.stats().evictions).toBeGreaterThan(0);
      } finally {
        b.dispose();
      }
    });
  });
}
