import { test as fcTest } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Linear, Rng, SpectralNormLinear, Tensor, gradcheck, noGrad, spectralNorm, sum } from '../index.js';
import { asFunctionOfParams, bitEqual, randomTensor, seedArb } from './test-helpers.js';

/** Largest singular value of an [n, m] row-major matrix: √ of the top eigenvalue of AᵀA by cyclic Jacobi (float64). */
function topSingularValue(a: ArrayLike<number>, n: number, m: number): number {
  const s = Array.from({ length: m }, (_, i) =>
    Array.from({ length: m }, (_, j) => {
      let acc = 0;
      for (let r = 0; r < n; r++) acc += a[r * m + i] * a[r * m + j];
      return acc;
    }),
  );
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += s[p][q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        if (Math.abs(s[p][q]) < 1e-300) continue;
        const theta = (s[q][q] - s[p][p]) / (2 * s[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < m; k++) {
          const skp = s[k][p];
          const skq = s[k][q];
          s[k][p] = c * skp - sn * skq;
          s[k][q] = sn * skp + c * skq;
        }
        for (let k = 0; k < m; k++) {
          const spk = s[p][k];
          const sqk = s[q][k];
          s[p][k] = c * spk - sn * sqk;
          s[q][k] = sn * spk + c * sqk;
        }
      }
    }
  }
  return Math.sqrt(Math.max(...s.map((row, i) => row[i])));
}

const dims = fc.integer({ min: 1, max: 6 });

describe('spectral norm', () => {
  it('the Jacobi reference finds known singular values', () => {
    // diag(3, 1) rotated: singular values 3 and 1.
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    expect(topSingularValue([3 * c, -3 * s, s, c], 2, 2)).toBeCloseTo(3, 12);
    expect(topSingularValue([1, 2, 3], 1, 3)).toBeCloseTo(Math.sqrt(14), 12);
  });

  fcTest.prop([seedArb, dims, dims, fc.constantFrom('float32', 'float64' as const)], { numRuns: 30 })(
    'training-mode forwards (one power step each) drive σ_max(W/σ̂) to 1',
    (seed, nIn, nOut, dtype) => {
      const lin = new Linear(nIn, nOut, { rng: Rng.seeded(seed), init: 'normal', std: 1 + (seed % 5), dtype });
      const sn = spectralNorm(lin, { rng: Rng.seeded(seed + 1), initIterations: 0 });
      const x = randomTensor([1, nIn], seed + 2, { dtype });
      for (let i = 0; i < 200; i++) sn.forward(x);
      const wsn = noGrad(() => sn.normalizedWeight());
      const top = topSingularValue(wsn.data, nIn, nOut);
      expect(Math.abs(top - 1)).toBeLessThan(dtype === 'float64' ? 1e-3 : 2e-3);
      // The estimate is a Rayleigh quotient, never above the true σ (up to rounding).
      expect(sn.sigma().item()).toBeLessThanOrEqual(topSingularValue(lin.weight.data, nIn, nOut) * (1 + 1e-5));
    },
  );

  fcTest.prop([seedArb, dims, dims, fc.boolean()], { numRuns: 15 })(
    'gradcheck in eval mode wrt input, weight (through σ(W)) and bias',
    (seed, nIn, nOut, bias) => {
      const lin = new Linear(nIn, nOut, { rng: Rng.seeded(seed), bias, dtype: 'float64' });
      const sn = spectralNorm(lin, { rng: Rng.seeded(seed + 1) }).eval();
      const { f, params } = asFunctionOfParams(sn, (x: Tensor) => sn.forward(x));
      expect(gradcheck(f, [randomTensor([2, nIn], seed + 2), ...params])).toBe(true);
    },
  );

  it('the weight gradient includes σ’s dependence on W: d/dW Σ(W/σ) differs from 1/σ', () => {
    const lin = new Linear(3, 2, { rng: Rng.seeded(1), dtype: 'float64' });
    const sn = spectralNorm(lin, { rng: Rng.seeded(2) }).eval();
    sum(sn.normalizedWeight()).backward();
    const sigma = sn.sigma().item();
    const plain = 1 / sigma;
    expect(lin.weight.grad!.toFlat().some((g) => Math.abs(g - plain) > 1e-3)).toBe(true);
    // Analytic: d/dW Σ W/σ = 1/σ − (ΣW/σ²)·v uᵀ.
    const total = lin.weight.toFlat().reduce((a, b) => a + b, 0);
    const expected = lin.weight.toFlat().map((_, k) => plain - (total / sigma ** 2) * sn.v.data[Math.floor(k / 2)] * sn.u.data[k % 2]);
    lin.weight.grad!.toFlat().forEach((g, k) => expect(g).toBeCloseTo(expected[k], 12));
  });

  it('updates the buffers u, v only in training mode, outside the tape', () => {
    const lin = new Linear(4, 3, { rng: Rng.seeded(3) });
    const sn = new SpectralNormLinear(lin, { rng: Rng.seeded(4), initIterations: 0 });
    expect(sn.namedBuffers().map(([n]) => n)).toEqual(['u', 'v']);
    expect(sn.namedParameters().map(([n, t]) => [n, t])).toEqual([['weight', lin.weight], ['bias', lin.bias]]);
    const x = randomTensor([2, 4], 5, { dtype: 'float32' });
    const u0 = sn.u.data;
    sn.forward(x);
    const u1 = sn.u.data;
    expect(bitEqual(u0, u1)).toBe(false);
    expect(sn.u.requiresGrad).toBe(false);
    sn.eval();
    sn.forward(x);
    expect(sn.u.data).toBe(u1);
    sum(sn.forward(x)).backward();
    expect(lin.weight.grad).not.toBeNull();
    expect(sn.u.grad).toBeNull();
  });

  it('state dict round trip reproduces outputs bit for bit (train and eval)', () => {
    const make = (seed: number) => spectralNorm(new Linear(5, 4, { rng: Rng.seeded(seed) }), { rng: Rng.seeded(seed + 1) });
    const a = make(1);
    const x = randomTensor([3, 5], 9, { dtype: 'float32' });
    for (let i = 0; i < 3; i++) a.forward(x);
    const b = make(100);
    b.loadStateDict(a.stateDict());
    expect(bitEqual(a.forward(x).data, b.forward(x).data)).toBe(true);
    a.eval();
    b.eval();
    expect(bitEqual(a.forward(x).data, b.forward(x).data)).toBe(true);
  });
});
