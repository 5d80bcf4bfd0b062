// gpu.js keeps kernel results on the device (pending placeholders, see @ganpo/kernels pending.ts) until the CPU
// reads them through Tensor.data. Properties: a random chain of ops, forward and backward, gives the cpu
// backend's values on gpujs (cpu mode: no device; headlessgl: textures, under xvfb-run), whether or not values
// are read mid-chain; a read mid-chain gives the values of that point; and on a device the chain reads back
// far fewer results than it runs kernels.
import { createGpujsBackend, gpujsAvailability, isPending, withBackend, type GpujsBackend } from '@ganpo/kernels';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { randn } from './creation.js';
import { add, gelu, layerNorm, matmul, mul, permute, softmax, sub, sum, tanh } from './ops/index.js';
import { Rng } from './rng.js';
import type { Tensor } from './tensor.js';
import { grad } from './engine.js';

const N = 6;
type Step = (t: Tensor, w: Tensor) => Tensor;
/** Shape-preserving [N, N] steps, so any sequence of them is a valid chain; tanh keeps values bounded. */
const STEPS: [string, Step][] = [
  ['tanh', (t) => tanh(t)],
  ['matmul', (t, w) => tanh(matmul(t, w))],
  ['add broadcast', (t, w) => add(t, sum(w, 0, true))],
  ['mul', (t, w) => mul(t, w)],
  ['softmax', (t) => softmax(t, 1)],
  ['layerNorm', (t) => tanh(layerNorm(t))],
  ['gelu', (t) => gelu(t)],
  ['transpose', (t) => permute(t, [1, 0])],
  ['centre', (t) => sub(t, sum(t, 1, true).mul(1 / N))],
];

interface Chain {
  seed: number;
  steps: number[];
  /** Positions after which the chain reads its current values on the CPU. */
  reads: boolean[];
}
const chainArb: fc.Arbitrary<Chain> = fc.record({
  seed: fc.integer({ min: 1, max: 1e6 }),
  steps: fc.array(fc.integer({ min: 0, max: STEPS.length - 1 }), { minLength: 1, maxLength: 10 }),
  reads: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
});

/** Runs the chain on the current backend: output values, values read mid-chain, and the gradient wrt x. */
function runChain(c: Chain): { out: number[]; mid: number[][]; dx: number[] } {
  const rng = Rng.seeded(c.seed);
  const x = randn([N, N], rng);
  const w = randn([N, N], rng, { std: 0.5 });
  const mid: number[][] = [];
  const f = (xi: Tensor): Tensor => {
    let t = xi;
    c.steps.forEach((s, i) => {
      t = STEPS[s][1](t, w);
      if (c.reads[i]) mid.push(t.toFlat());
    });
    return t;
  };
  const out = f(x).toFlat();
  mid.length = 0;
  const [dx] = grad((xi: Tensor) => sum(mul(f(xi), w)))(x);
  return { out, mid, dx: dx.toFlat() };
}

const close = (got: number[], want: number[], what: string): void => {
  expect(got.length, what).toBe(want.length);
  got.forEach((g, i) => {
    if (Math.abs(g - want[i]) > 1e-4 + 1e-3 * Math.abs(want[i])) throw new Error(`${what}[${i}]: got ${g}, want ${want[i]}`);
  });
};

const headlessgl = gpujsAvailability().modes.headlessgl.ok || process.env.GANPO_REQUIRE_HEADLESSGL === '1';
const modes: ('cpu' | 'headlessgl')[] = ['cpu', ...(headlessgl ? (['headlessgl'] as const) : [])];

describe.each(modes)('pending results on gpujs (%s mode)', (mode) => {
  const backend: GpujsBackend = createGpujsBackend({ mode });
  afterAll(() => backend.dispose());

  it('a random chain of ops, forward and backward, gives the cpu backend values, read mid-chain or not', () => {
    fc.assert(
      fc.property(chainArb, (c) => {
        const want = withBackend('cpu', () => runChain(c));
        const got = withBackend(backend, () => runChain(c));
        close(got.out, want.out, 'output');
        close(got.dx, want.dx, 'gradient');
        expect(got.mid.length).toBe(want.mid.length);
        got.mid.forEach((m, k) => close(m, want.mid[k], `read ${k}`));
      }),
      { numRuns: 15 },
    );
  });

  it('item() and .data in the middle of a chain read the values of that point, and the chain goes on correctly', () => {
    const rng = Rng.seeded(5);
    const x = randn([N, N], rng);
    const want = withBackend('cpu', () => {
      const a = tanh(matmul(x, x));
      return { s: sum(a).item(), a: a.toFlat(), b: softmax(a, 1).toFlat() };
    });
    withBackend(backend, () => {
      const a = tanh(matmul(x, x));
      if (mode === 'headlessgl') expect(isPending(a.raw)).toBe(true);
      const s = sum(a);
      expect(Math.abs(s.item() - want.s)).toBeLessThan(1e-4 * (1 + Math.abs(want.s)));
      close(Array.from(a.data), want.a, 'a.data');
      expect(isPending(a.raw)).toBe(false);
      close(softmax(a, 1).toFlat(), want.b, 'softmax after the read');
    });
  });

  if (mode === 'headlessgl') {
    it('a forward and backward pass reads back far fewer results than it runs kernels', () => {
      // Counted inside withBackend: leaving it reads back every placeholder still alive (another backend may use them).
      const [before, after] = withBackend(backend, () => {
        const start = backend.stats();
        runChain({ seed: 3, steps: [1, 5, 2, 4, 6, 1, 8], reads: Array(10).fill(false) });
        return [start, backend.stats()];
      });
      const runs = after.runs - before.runs;
      const readbacks = after.readbacks - before.readbacks;
      expect(runs).toBeGreaterThan(20);
      expect(readbacks).toBeLessThan(runs / 2);
    });
  }
});
