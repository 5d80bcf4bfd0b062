import { test as fcTest } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MASK_BIAS, MultiHeadAttention, Rng, Tensor, TransformerBlock, concat, gradcheck, scaledDotProductAttention, slice, sum, tensor,
} from '../index.js';
import { asFunctionOfParams, bitEqual, maxAbsDiff, randomTensor, seedArb } from './test-helpers.js';

/** Attention written as plain loops over float64 values: the reference the op is compared with. */
function referenceAttention(q: Tensor, k: Tensor, v: Tensor, causal: boolean, keyMask: number[] | null): Float64Array {
  const [b, h, tq, dh] = q.shape;
  const tk = k.shape[2];
  const out = new Float64Array(b * h * tq * dh);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const base = (bi * h + hi);
      for (let i = 0; i < tq; i++) {
        const scores: number[] = [];
        for (let j = 0; j < tk; j++) {
          let s = 0;
          for (let c = 0; c < dh; c++) s += q.data[(base * tq + i) * dh + c] * k.data[(base * tk + j) * dh + c];
          s /= Math.sqrt(dh);
          const hidden = (causal && j > tk - tq + i) || (keyMask !== null && keyMask[bi * tk + j] === 0);
          scores.push(hidden ? s + MASK_BIAS : s);
        }
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((x, y) => x + y, 0);
        for (let c = 0; c < dh; c++) {
          let acc = 0;
          for (let j = 0; j < tk; j++) acc += (e[j] / z) * v.data[(base * tk + j) * dh + c];
          out[(base * tq + i) * dh + c] = acc;
        }
      }
    }
  }
  return out;
}

const shapeArb = fc.record({
  b: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 2 }),
  tk: fc.integer({ min: 1, max: 5 }),
  dh: fc.integer({ min: 1, max: 3 }),
  qFrac: fc.double({ min: 0, max: 1, noNaN: true }),
});

/** A key mask with at least one real token per row (left padding, like a batch of prompts). */
function leftPadMask(b: number, tk: number, seed: number): number[] {
  const rng = Rng.seeded(seed);
  return Array.from({ length: b }, () => {
    const pad = rng.int(0, tk - 1);
    return Array.from({ length: tk }, (_, j) => (j < pad ? 0 : 1));
  }).flat();
}

/**
 * Right padding (real tokens first): every query row, causal or not, sees at least key 0. Gradient checks use it,
 * because a row whose keys are ALL masked holds scores s − 1e9, where float64 keeps s only to ~1e−7: finite
 * differences with step 1e−6 then measure rounding noise (such rows are meaningless and should be loss-masked).
 */
function rightPadMask(b: number, tk: number, seed: number): number[] {
  const rng = Rng.seeded(seed);
  return Array.from({ length: b }, () => {
    const real = rng.int(1, tk);
    return Array.from({ length: tk }, (_, j) => (j < real ? 1 : 0));
  }).flat();
}

describe('scaledDotProductAttention', () => {
  fcTest.prop([seedArb, shapeArb, fc.boolean(), fc.boolean()], { numRuns: 40 })(
    'matches plain loops, with causal (Tq ≤ Tk, queries aligned to the end) and key masks',
    (seed, { b, h, tk, dh, qFrac }, causal, masked) => {
      const tq = Math.max(1, Math.ceil(qFrac * tk));
      const q = randomTensor([b, h, tq, dh], seed);
      const k = randomTensor([b, h, tk, dh], seed + 1);
      const v = randomTensor([b, h, tk, dh], seed + 2);
      const mask = masked ? leftPadMask(b, tk, seed + 3) : null;
      const keyMask = mask ? tensor(mask, { shape: [b, tk], dtype: 'float64' }) : undefined;
      const y = scaledDotProductAttention(q, k, v, { causal, keyMask });
      expect(y.shape).toEqual([b, h, tq, dh]);
      expect(maxAbsDiff(y.data, referenceAttention(q, k, v, causal, mask))).toBeLessThan(1e-12);
    },
  );

  fcTest.prop([seedArb, shapeArb], { numRuns: 25 })(
    'causal with Tq < Tk equals the last Tq rows of full causal attention (KV-cache alignment)',
    (seed, { b, h, tk, dh, qFrac }) => {
      const tq = Math.max(1, Math.ceil(qFrac * tk));
      const qAll = randomTensor([b, h, tk, dh], seed);
      const k = randomTensor([b, h, tk, dh], seed + 1);
      const v = randomTensor([b, h, tk, dh], seed + 2);
      const full = scaledDotProductAttention(qAll, k, v, { causal: true });
      const last = scaledDotProductAttention(slice(qAll, [0, 0, tk - tq]), k, v, { causal: true });
      expect(maxAbsDiff(last.data, slice(full, [0, 0, tk - tq]).data)).toBeLessThan(1e-12);
    },
  );

  fcTest.prop([seedArb, shapeArb, fc.boolean()], { numRuns: 20 })('gradcheck wrt q, k, v with masks (float64)', (seed, { b, h, tk, dh, qFrac }, causal) => {
    const tq = Math.max(1, Math.ceil(qFrac * tk));
    const keyMask = tensor(rightPadMask(b, tk, seed + 3), { shape: [b, tk], dtype: 'float64' });
    const f = (q: Tensor, k: Tensor, v: Tensor) => scaledDotProductAttention(q, k, v, { causal, keyMask });
    const inputs = [randomTensor([b, h, tq, dh], seed), randomTensor([b, h, tk, dh], seed + 1), randomTensor([b, h, tk, dh], seed + 2)];
    expect(gradcheck(f, inputs, { fastMode: tk > 3 })).toBe(true);
  });

  it('masked keys get exactly zero weight, in float32 and float64', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const q = randomTensor([1, 1, 3, 2], 1, { dtype });
      const k = randomTensor([1, 1, 3, 2], 2, { dtype });
      const v1 = randomTensor([1, 1, 3, 2], 3, { dtype });
      const v2 = tensor([...Array.from(v1.data.slice(0, 2)), 1e6, -1e6, 5, 5], { shape: [1, 1, 3, 2], dtype });
      const keyMask = tensor([[1, 0, 1]], { dtype });
      // Changing the values of key 1 (masked) and, causally, of key 2 for query 0, changes nothing there.
      const a = scaledDotProductAttention(q, k, v1, { keyMask, causal: true });
      const c = scaledDotProductAttention(q, k, v2, { keyMask, causal: true });
      expect(Array.from(a.data.slice(0, 2))).toEqual(Array.from(c.data.slice(0, 2)));
    }
  });

  it('a fully padded row stays finite (uniform attention), forward and backward, in float32', () => {
    const q = randomTensor([2, 1, 3, 2], 1, { dtype: 'float32' }).requireGrad();
    const k = randomTensor([2, 1, 3, 2], 2, { dtype: 'float32' }).requireGrad();
    const v = randomTensor([2, 1, 3, 2], 3, { dtype: 'float32' }).requireGrad();
    const keyMask = tensor([[0, 0, 0], [1, 1, 0]]);
    const y = scaledDotProductAttention(q, k, v, { keyMask, causal: true });
    sum(y.square()).backward();
    for (const t of [y, q.grad!, k.grad!, v.grad!]) expect(t.toFlat().every(Number.isFinite)).toBe(true);
  });

  it('rejects mismatched shapes and a causal query longer than the keys', () => {
    const x = randomTensor([1, 1, 3, 2], 1);
    expect(() => scaledDotProductAttention(x, randomTensor([1, 1, 2, 2], 2), randomTensor([1, 1, 2, 2], 3), { causal: true })).toThrow(/more queries/);
    expect(() => scaledDotProductAttention(x, randomTensor([1, 1, 3, 3], 2), x)).toThrow(/do not match/);
    expect(() => scaledDotProductAttention(x, x, x, { keyMask: tensor([[1, 1]]) })).toThrow(/keyMask/);
  });
});

describe('MultiHeadAttention', () => {
  fcTest.prop([seedArb, fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(1, 2), fc.boolean()], { numRuns: 10 })(
    'gradcheck wrt the input and all 8 parameters (fast mode)',
    (seed, b, t, nHeads, causal) => {
      const mha = new MultiHeadAttention(4, nHeads, { rng: Rng.seeded(seed), dtype: 'float64' });
      for (const p of mha.parameters()) if (p.rank === 1) p.assign(randomTensor(p.shape, seed + 11, { std: 0.3 }));
      expect(mha.namedParameters().map(([n]) => n)).toEqual(['q.weight', 'q.bias', 'k.weight', 'k.bias', 'v.weight', 'v.bias', 'out.weight', 'out.bias']);
      const keyMask = tensor(rightPadMask(b, t, seed + 3), { shape: [b, t], dtype: 'float64' });
      const { f, params } = asFunctionOfParams(mha, (x: Tensor) => mha.forward(x, { causal, keyMask }));
      expect(gradcheck(f, [randomTensor([b, t, 4], seed + 1), ...params], { fastMode: true })).toBe(true);
    },
  );

  fcTest.prop([seedArb, fc.integer({ min: 2, max: 5 })], { numRuns: 10 })('forwardWithCache one position at a time equals the full causal forward', (seed, t) => {
    const mha = new MultiHeadAttention(4, 2, { rng: Rng.seeded(seed), dtype: 'float64' });
    const x = randomTensor([2, t, 4], seed + 1);
    const full = mha.forward(x, { causal: true });
    let past: { k: Tensor; v: Tensor } | undefined;
    const steps: Tensor[] = [];
    for (let i = 0; i < t; i++) {
      const r = mha.forwardWithCache(slice(x, [0, i], [2, i + 1]), { causal: true, past });
      past = r.present;
      steps.push(r.out);
    }
    expect(past!.k.shape).toEqual([2, 2, t, 2]);
    expect(maxAbsDiff(concat(steps, 1).data, full.data)).toBeLessThan(1e-12);
  });
});

describe('TransformerBlock', () => {
  fcTest.prop([seedArb, fc.integer({ min: 1, max: 3 }), fc.constantFrom<'gelu' | 'relu' | 'tanh'>('gelu', 'tanh')], { numRuns: 6 })(
    'gradcheck wrt the input and all parameters (fast mode)',
    (seed, t, activation) => {
      const block = new TransformerBlock(4, 2, 6, { rng: Rng.seeded(seed), activation, causal: true, dtype: 'float64' });
      for (const p of block.parameters()) if (p.rank === 1) p.assign(randomTensor(p.shape, seed + p.size, { std: 0.3 }).data.map((v) => v + (p.shape[0] === 4 ? 1 : 0)));
      expect(block.namedParameters().length).toBe(2 + 8 + 2 + 4);
      const { f, params } = asFunctionOfParams(block, (x: Tensor) => block.forward(x));
      expect(gradcheck(f, [randomTensor([2, t, 4], seed + 1), ...params], { fastMode: true })).toBe(true);
    },
  );

  fcTest.prop([seedArb, fc.integer({ min: 2, max: 5 })], { numRuns: 10 })('causal: position i of the output does not depend on inputs after i', (seed, t) => {
    const block = new TransformerBlock(4, 2, 8, { rng: Rng.seeded(seed), causal: true, dtype: 'float64' });
    const x = randomTensor([1, t, 4], seed + 1);
    const cut = (seed % (t - 1)) + 1;
    const changed = concat([slice(x, [0, 0], [1, cut]), randomTensor([1, t - cut, 4], seed + 2)], 1);
    const a = block.forward(x);
    const b = block.forward(changed);
    expect(bitEqual(slice(a, [0, 0], [1, cut]).data, slice(b, [0, 0], [1, cut]).data)).toBe(true);
    expect(bitEqual(a.data, b.data)).toBe(false);
  });

  it('padding a sequence on the left with masked keys leaves the real positions unchanged', () => {
    const block = new TransformerBlock(4, 2, 8, { rng: Rng.seeded(4), causal: true, dtype: 'float64' });
    const x = randomTensor([1, 3, 4], 5);
    const padded = concat([randomTensor([1, 2, 4], 6), x], 1);
    const a = block.forward(x);
    const b = block.forward(padded, { keyMask: tensor([[0, 0, 1, 1, 1]], { dtype: 'float64' }) });
    expect(maxAbsDiff(a.data, slice(b, [0, 2]).data)).toBeLessThan(1e-12);
  });

  it('dropout is active only while training, and draws from the seeded stream', () => {
    const make = () => new TransformerBlock(8, 2, 16, { rng: Rng.seeded(7), dropout: 0.3, causal: true });
    const x = randomTensor([2, 4, 8], 1, { dtype: 'float32' });
    const [m1, m2] = [make(), make()];
    expect(bitEqual(m1.forward(x).data, m2.forward(x).data)).toBe(true);
    expect(bitEqual(m1.forward(x).data, m1.forward(x).data)).toBe(false);
    m1.eval();
    expect(bitEqual(m1.forward(x).data, m1.forward(x).data)).toBe(true);
  });
});
