import { test as fcTest } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Dropout, Embedding, LayerNorm, Linear, MLP, ModuleList, Rng, Tensor, functionalCall, gradcheck, gradgradcheck, indices,
  normalInit, sum, tensor, xavierUniform, zerosInit, mul,
} from '../index.js';
import { asFunctionOfParams, bitEqual, maxAbsDiff, randomTensor, seedArb } from './test-helpers.js';

const dim = fc.integer({ min: 1, max: 4 });
const lead = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 });

describe('initializers', () => {
  fcTest.prop([seedArb, dim, dim], { numRuns: 20 })('xavierUniform stays within ±gain·√(6/(fanIn+fanOut)) and is seed-determined', (seed, a, b) => {
    const gain = 1 + (seed % 3);
    const w = xavierUniform([a, b], Rng.seeded(seed), { gain, dtype: 'float64' });
    const bound = gain * Math.sqrt(6 / (a + b));
    expect(w.shape).toEqual([a, b]);
    expect(w.dtype).toBe('float64');
    expect(w.toFlat().every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(bitEqual(w.data, xavierUniform([a, b], Rng.seeded(seed), { gain, dtype: 'float64' }).data)).toBe(true);
  });

  it('xavierUniform fills the range; normalInit has the asked std; zerosInit is zeros', () => {
    const w = xavierUniform([40, 60], Rng.seeded(1));
    const bound = Math.sqrt(6 / 100);
    const maxAbs = Math.max(...w.toFlat().map(Math.abs));
    expect(maxAbs).toBeGreaterThan(0.95 * bound);
    const n = normalInit([100, 100], Rng.seeded(2), { std: 0.5 });
    const vals = n.toFlat();
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const std = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 0.5)).toBeLessThan(0.02);
    expect(zerosInit([2, 3], { dtype: 'float64' }).toFlat()).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => xavierUniform([3], Rng.seeded(0))).toThrow(/rank < 2/);
  });
});

describe('Linear', () => {
  fcTest.prop([seedArb, lead, dim, dim, fc.boolean()], { numRuns: 20 })('forward is x·W + b with W stored [in, out]', (seed, ld, nIn, nOut, bias) => {
    const lin = new Linear(nIn, nOut, { rng: Rng.seeded(seed), bias, dtype: 'float64' });
    if (bias) lin.bias!.assign(randomTensor([nOut], seed + 7));
    expect(lin.weight.shape).toEqual([nIn, nOut]);
    const x = randomTensor([...ld, nIn], seed + 1);
    const y = lin.forward(x);
    expect(y.shape).toEqual([...ld, nOut]);
    const rows = x.size / nIn;
    const expected = new Float64Array(rows * nOut);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < nOut; j++) {
        let acc = bias ? lin.bias!.data[j] : 0;
        for (let i = 0; i < nIn; i++) acc += x.data[r * nIn + i] * lin.weight.data[i * nOut + j];
        expected[r * nOut + j] = acc;
      }
    }
    expect(maxAbsDiff(y.data, expected)).toBeLessThan(1e-12);
  });

  fcTest.prop([seedArb, lead, dim, dim, fc.constantFrom<'xavier' | 'normal'>('xavier', 'normal')], { numRuns: 15 })(
    'gradcheck with respect to the input, weight and bias (float64)',
    (seed, ld, nIn, nOut, init) => {
      const lin = new Linear(nIn, nOut, { rng: Rng.seeded(seed), init, std: 0.5, dtype: 'float64' });
      const { f, params } = asFunctionOfParams(lin, (x: Tensor) => lin.forward(x));
      expect(gradcheck(f, [randomTensor([...ld, nIn], seed + 1), ...params])).toBe(true);
    },
  );

  fcTest.prop([seedArb, dim, dim], { numRuns: 8 })('gradgradcheck (second derivatives through a nonlinearity)', (seed, nIn, nOut) => {
    const lin = new Linear(nIn, nOut, { rng: Rng.seeded(seed), dtype: 'float64' });
    const { f, params } = asFunctionOfParams(lin, (x: Tensor) => lin.forward(x).tanh());
    expect(gradgradcheck(f, [randomTensor([2, nIn], seed + 1), ...params])).toBe(true);
  });

  it('rejects an input of the wrong width, naming the layer and shape', () => {
    const lin = new Linear(3, 2, { rng: Rng.seeded(0) });
    expect(() => lin.forward(tensor([[1, 2]]))).toThrow(/Linear\(3, 2\).*\[1, 2\]/);
    expect(new Linear(3, 2, { rng: Rng.seeded(0), bias: false }).namedParameters().map(([n]) => n)).toEqual(['weight']);
  });
});

describe('Embedding', () => {
  fcTest.prop([seedArb, fc.integer({ min: 1, max: 6 }), dim, fc.array(fc.nat(20), { minLength: 1, maxLength: 6 })], { numRuns: 20 })(
    'forward gathers rows into [...ids.shape, dim]; gradcheck wrt the table (repeated ids accumulate)',
    (seed, num, d, raw) => {
      const emb = new Embedding(num, d, { rng: Rng.seeded(seed), std: 1, dtype: 'float64' });
      const ids = indices(raw.map((v) => v % num), [1, raw.length]);
      const y = emb.forward(ids);
      expect(y.shape).toEqual([1, raw.length, d]);
      ids.data.forEach((id, t) => {
        expect(Array.from(y.data.slice(t * d, (t + 1) * d))).toEqual(Array.from(emb.weight.data.slice(id * d, (id + 1) * d)));
      });
      const { f, params } = asFunctionOfParams(emb, (i: typeof ids) => emb.forward(i));
      expect(gradcheck((w) => f(ids, w).square(), params)).toBe(true);
    },
  );
});

describe('LayerNorm', () => {
  fcTest.prop([seedArb, lead, fc.integer({ min: 2, max: 5 })], { numRuns: 15 })('gradcheck wrt input, weight and bias', (seed, ld, d) => {
    const ln = new LayerNorm(d, { dtype: 'float64' });
    ln.weight.assign(randomTensor([d], seed + 2));
    ln.bias.assign(randomTensor([d], seed + 3));
    const { f, params } = asFunctionOfParams(ln, (x: Tensor) => ln.forward(x));
    expect(gradcheck(f, [randomTensor([...ld, d], seed + 1), ...params])).toBe(true);
  });

  fcTest.prop([seedArb, fc.integer({ min: 2, max: 4 })], { numRuns: 8 })('gradgradcheck through the module', (seed, d) => {
    const ln = new LayerNorm(d, { dtype: 'float64' });
    ln.weight.assign(randomTensor([d], seed + 2));
    const { f, params } = asFunctionOfParams(ln, (x: Tensor) => ln.forward(x));
    expect(gradgradcheck(f, [randomTensor([2, d], seed + 1), ...params])).toBe(true);
  });

  it('normalizes each row to mean 0 and variance 1 at initialization', () => {
    const ln = new LayerNorm(4, { eps: 0, dtype: 'float64' });
    const y = ln.forward(tensor([[1, 2, 3, 4], [10, 0, -10, 5]], { dtype: 'float64' }));
    for (let r = 0; r < 2; r++) {
      const row = y.toFlat().slice(r * 4, r * 4 + 4);
      const mean = row.reduce((a, b) => a + b) / 4;
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      expect(Math.abs(row.reduce((a, b) => a + b * b, 0) / 4 - 1)).toBeLessThan(1e-12);
    }
  });
});

describe('Dropout', () => {
  it('is the identity in eval mode and inverted dropout in training mode', () => {
    const drop = new Dropout(0.25, Rng.seeded(3));
    const x = Tensor.ones([4000]);
    const y = drop.forward(x);
    const kept = y.toFlat().filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    expect(Math.abs(kept.length / 4000 - 0.75)).toBeLessThan(0.03);
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    // With the generator re-seeded per call the mask is fixed, so the gradient (mask/(1−p)) can be checked.
    expect(gradcheck((t) => new Dropout(0.4, Rng.seeded(5)).forward(t), [randomTensor([3, 4], 1)])).toBe(true);
    expect(() => new Dropout(1, Rng.seeded(0))).toThrow(/\[0, 1\)/);
  });
});

describe('MLP', () => {
  fcTest.prop(
    [seedArb, fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 4 }), fc.constantFrom<'gelu' | 'relu' | 'tanh'>('gelu', 'relu', 'tanh')],
    { numRuns: 15 },
  )('gradcheck wrt input and every parameter, for each activation', (seed, dims, activation) => {
    const mlp = new MLP(dims, { rng: Rng.seeded(seed), activation, dtype: 'float64' });
    expect(mlp.namedParameters().map(([n]) => n)).toEqual(
      dims.slice(1).flatMap((_, i) => [`layers.${i}.weight`, `layers.${i}.bias`]),
    );
    for (const p of mlp.parameters()) if (p.rank === 1) p.assign(randomTensor(p.shape, seed + p.size));
    const { f, params } = asFunctionOfParams(mlp, (x: Tensor) => mlp.forward(x));
    // relu has a kink at 0: keep inputs generic (random normals never hit it exactly).
    expect(gradcheck(f, [randomTensor([2, dims[0]], seed + 1), ...params], { fastMode: dims.length > 3 })).toBe(true);
  });

  it('has no activation after the last layer (relu MLP can output negatives), and dropout only while training', () => {
    const mlp = new MLP([3, 8, 2], { rng: Rng.seeded(5), activation: 'relu', dropout: 0.5 });
    mlp.eval();
    const x = randomTensor([64, 3], 9, { dtype: 'float32' });
    const y = mlp.forward(x);
    expect(y.toFlat().some((v) => v < 0)).toBe(true);
    expect(bitEqual(mlp.forward(x).data, y.data)).toBe(true);
    mlp.train();
    expect(bitEqual(mlp.forward(x).data, y.data)).toBe(false);
  });
});

describe('containers and functionalCall', () => {
  it('ModuleList names children by index', () => {
    const list = new ModuleList([new Linear(2, 2, { rng: Rng.seeded(0) }), new Linear(2, 1, { rng: Rng.seeded(1) })]);
    expect(list.length).toBe(2);
    expect(list.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect([...list].length).toBe(2);
    expect(() => list.at(5)).toThrow(/out of range/);
  });

  it('functionalCall substitutes parameters for the call only, and rejects unknown names and shapes', () => {
    const lin = new Linear(2, 1, { rng: Rng.seeded(0), dtype: 'float64' });
    const original = lin.weight;
    const w = tensor([[1], [2]], { dtype: 'float64' });
    const y = functionalCall(lin, { weight: w, bias: tensor([0.5], { dtype: 'float64' }) }, () => lin.forward(tensor([[3, 4]], { dtype: 'float64' })));
    expect(y.toFlat()).toEqual([11.5]);
    expect(lin.weight).toBe(original);
    expect(() => functionalCall(lin, { nope: w }, () => 0)).toThrow(/no parameter or buffer named nope/);
    expect(() => functionalCall(lin, { weight: tensor([1, 2]) }, () => 0)).toThrow(/shape/);
    expect(lin.weight).toBe(original);
  });

  it('gradients flow to substituted tensors', () => {
    const lin = new Linear(2, 1, { rng: Rng.seeded(0), dtype: 'float64' });
    const w = tensor([[1], [2]], { dtype: 'float64', requiresGrad: true });
    sum(mul(functionalCall(lin, { weight: w }, () => lin.forward(tensor([[3, 4]], { dtype: 'float64' }))), 1)).backward();
    expect(w.grad!.toFlat()).toEqual([3, 4]);
    expect(lin.weight.grad).toBeNull();
  });
});
