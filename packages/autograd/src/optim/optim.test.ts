import { test as fcTest } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Adam, AdamW, Linear, Optimizer, Rng, SGD, Tensor, adam, adamw, clipGradNorm, matmul, sgd, sum, tensor,
  type OptimizerStateDict,
} from '../index.js';
import { bitEqual, randomTensor, seedArb } from '../nn/test-helpers.js';

// Hand-written references: PyTorch's update rules as scalar loops over plain number arrays, one step at a time.
// They share nothing with the implementation under test.

function refSgd(p: number[], grads: number[][], o: { lr: number; momentum: number; dampening: number; nesterov: boolean; wd: number }): number[][] {
  const history: number[][] = [];
  let x = p.slice();
  let buf: number[] | null = null;
  for (const g0 of grads) {
    const d = x.map((xi, i) => g0[i] + o.wd * xi);
    let dir = d;
    if (o.momentum !== 0) {
      buf = buf === null ? d.slice() : buf.map((b, i) => o.momentum * b + (1 - o.dampening) * d[i]);
      dir = o.nesterov ? d.map((di, i) => di + o.momentum * buf![i]) : buf.slice();
    }
    x = x.map((xi, i) => xi - o.lr * dir[i]);
    history.push(x);
  }
  return history;
}

function refAdam(p: number[], grads: number[][], o: { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean }): number[][] {
  const history: number[][] = [];
  let x = p.slice();
  let m = p.map(() => 0);
  let v = p.map(() => 0);
  grads.forEach((g0, k) => {
    const t = k + 1;
    if (o.decoupled) x = x.map((xi) => xi - o.lr * o.wd * xi);
    const g = o.decoupled ? g0 : g0.map((gi, i) => gi + o.wd * x[i]);
    m = m.map((mi, i) => o.b1 * mi + (1 - o.b1) * g[i]);
    v = v.map((vi, i) => o.b2 * vi + (1 - o.b2) * g[i] * g[i]);
    const mHat = m.map((mi) => mi / (1 - o.b1 ** t));
    const vHat = v.map((vi) => vi / (1 - o.b2 ** t));
    x = x.map((xi, i) => xi - (o.lr * mHat[i]) / (Math.sqrt(vHat[i]) + o.eps));
    history.push(x);
  });
  return history;
}

const vec = (n: number) => fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n });
const problem = fc.integer({ min: 1, max: 5 }).chain((n) =>
  fc.record({ p: vec(n), grads: fc.array(vec(n), { minLength: 1, maxLength: 8 }) }),
);

/** Runs a transformation's pure update over a gradient sequence (float64), collecting the parameters after each step. */
function runTransform(t: ReturnType<typeof sgd> | ReturnType<typeof adam>, p: number[], grads: number[][]): number[][] {
  let params = [Float64Array.from(p)] as (Float32Array | Float64Array)[];
  let state = t.init(params);
  return grads.map((g) => {
    const r = t.update(params, [Float64Array.from(g)], state);
    params = r.params;
    state = r.state;
    return Array.from(params[0]);
  });
}

function expectClose(actual: number[][], expected: number[][], tol: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, k) => row.forEach((a, i) => expect(Math.abs(a - expected[k][i])).toBeLessThanOrEqual(tol * (1 + Math.abs(expected[k][i])))));
}

describe('functional optimizers match hand-computed PyTorch updates (float64)', () => {
  fcTest.prop([problem, fc.double({ min: 0.001, max: 0.5, noNaN: true }), fc.constantFrom(0, 0.9), fc.boolean(), fc.constantFrom(0, 0.01), fc.constantFrom(0, 0.3)])(
    'sgd (momentum, Nesterov, dampening, weight decay)',
    ({ p, grads }, lr, momentum, nesterov0, wd, dampening0) => {
      const nesterov = nesterov0 && momentum > 0;
      const dampening = nesterov ? 0 : dampening0;
      const actual = runTransform(sgd({ lr, momentum, nesterov, weightDecay: wd, dampening }), p, grads);
      expectClose(actual, refSgd(p, grads, { lr, momentum, dampening, nesterov, wd }), 1e-12);
    },
  );

  fcTest.prop([problem, fc.double({ min: 1e-4, max: 0.1, noNaN: true }), fc.constantFrom(0.9, 0.5), fc.constantFrom(0.999, 0.9), fc.constantFrom(0, 0.1)])(
    'adam (L2 weight decay coupled into the gradient)',
    ({ p, grads }, lr, b1, b2, wd) => {
      const actual = runTransform(adam({ lr, betas: [b1, b2], weightDecay: wd }), p, grads);
      expectClose(actual, refAdam(p, grads, { lr, b1, b2, eps: 1e-8, wd, decoupled: false }), 1e-10);
    },
  );

  fcTest.prop([problem, fc.double({ min: 1e-4, max: 0.1, noNaN: true }), fc.constantFrom(0.9, 0.5), fc.constantFrom(0.999, 0.9), fc.constantFrom(0, 0.01, 0.5)])(
    'adamw (decoupled decay p ← p − lr·wd·p, then the Adam step)',
    ({ p, grads }, lr, b1, b2, wd) => {
      const actual = runTransform(adamw({ lr, betas: [b1, b2], weightDecay: wd }), p, grads);
      expectClose(actual, refAdam(p, grads, { lr, b1, b2, eps: 1e-8, wd, decoupled: true }), 1e-10);
    },
  );

  it('a worked AdamW example, digits written out', () => {
    // p = 1, g = 0.5, lr = 0.1, wd = 0.01, betas (0.9, 0.999), eps 1e-8:
    // decay: 1 − 0.1·0.01·1 = 0.999; m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25; step = 0.1·0.5/(0.5 + 1e-8).
    const t = adamw({ lr: 0.1 });
    const r = t.update([Float64Array.of(1)], [Float64Array.of(0.5)], t.init([Float64Array.of(1)]));
    expect(r.params[0][0]).toBeCloseTo(0.999 - 0.1 * (0.5 / (0.5 + 1e-8)), 14);
    expect(t.config).toEqual({ lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
    expect(adam({ lr: 0.1 }).config.weightDecay).toBe(0);
  });

  it('float32 parameters stay float32 and track the float64 reference closely', () => {
    const p = [0.3, -1.2, 2];
    const grads = [[0.1, -0.2, 0.3], [0.5, 0.1, -1], [-0.3, 0.2, 0.05]];
    const t = adamw({ lr: 0.01 });
    let params: (Float32Array | Float64Array)[] = [Float32Array.from(p)];
    let state = t.init(params);
    for (const g of grads) ({ params, state } = t.update(params, [Float32Array.from(g)], state));
    expect(params[0]).toBeInstanceOf(Float32Array);
    expect(state.params[0].slots.m).toBeInstanceOf(Float32Array);
    expectClose([Array.from(params[0])], [refAdam(p, grads, { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, decoupled: true })[2]], 1e-6);
  });

  it('update is pure: inputs untouched; a null gradient leaves its parameter, slots and count alone', () => {
    const t = adam({ lr: 0.1 });
    const a = Float64Array.of(1, 2);
    const b = Float64Array.of(3);
    const s0 = t.init([a, b]);
    const r1 = t.update([a, b], [Float64Array.of(1, 1), Float64Array.of(1)], s0);
    expect(Array.from(a)).toEqual([1, 2]);
    expect(Array.from(s0.params[0].slots.m)).toEqual([0, 0]);
    const r2 = t.update(r1.params, [Float64Array.of(1, 1), null], r1.state);
    expect(r2.params[1]).toBe(r1.params[1]);
    expect(r2.state.params[1]).toBe(r1.state.params[1]);
    expect(r2.state.step).toBe(2);
    expect(r2.state.params.map((s) => s.step)).toEqual([2, 1]);
  });

  it('validates hyperparameters', () => {
    expect(() => sgd({ lr: -1 })).toThrow(/lr/);
    expect(() => sgd({ lr: 0.1, nesterov: true })).toThrow(/nesterov/);
    expect(() => adam({ lr: 0.1, betas: [1, 0.9] })).toThrow(/betas/);
  });
});

/** A small least-squares problem on a Linear layer, for the stateful optimizer tests. */
function lossOf(lin: Linear, x: Tensor, y: Tensor): Tensor {
  return sum(lin.forward(x).sub(y).square());
}

describe('Optimizer', () => {
  const makers = [
    (ps: [string, Tensor][]) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1 }),
    (ps: [string, Tensor][]) => new Adam(ps, { lr: 0.01, weightDecay: 0.01 }),
    (ps: [string, Tensor][]) => new SGD(ps, { lr: 0.01, momentum: 0.9, nesterov: true }),
  ];

  fcTest.prop([seedArb, fc.constantFrom(0, 1, 2), fc.constantFrom('float32' as const, 'float64' as const)], { numRuns: 12 })(
    'step() equals the pure update, bit for bit',
    (seed, which, dtype) => {
      const lin = new Linear(3, 2, { rng: Rng.seeded(seed), dtype });
      const x = randomTensor([4, 3], seed + 1, { dtype });
      const y = randomTensor([4, 2], seed + 2, { dtype });
      const opt = makers[which](lin.namedParameters());
      const t = opt.transform;
      let params = lin.parameters().map((p) => p.data);
      let state = t.init(params);
      for (let k = 0; k < 4; k++) {
        opt.zeroGrad();
        lossOf(lin, x, y).backward();
        const grads = lin.parameters().map((p) => p.grad);
        ({ params, state } = t.update(params, grads, state));
        opt.step();
        lin.parameters().forEach((p, i) => expect(bitEqual(p.data, params[i])).toBe(true));
      }
      expect(opt.stepCount).toBe(4);
    },
  );

  it('skips parameters whose grad is null and replaces (not mutates) parameter buffers', () => {
    const lin = new Linear(2, 2, { rng: Rng.seeded(1) });
    const opt = new AdamW(lin.namedParameters(), { lr: 0.1 });
    const w0 = lin.weight.data;
    const snapshot = w0.slice();
    lin.bias!.grad = tensor([1, -1]);
    opt.step();
    expect(lin.weight.data).toBe(w0);
    expect(bitEqual(lin.bias!.data, [-0.1, 0.1].map(Math.fround))).toBe(true);
    lin.weight.grad = Tensor.ones([2, 2]);
    opt.step();
    expect(lin.weight.data).not.toBe(w0);
    expect(bitEqual(w0, snapshot)).toBe(true);
    expect(opt.state().params.map((s) => s.step)).toEqual([1, 2]);
    opt.zeroGrad();
    expect(lin.weight.grad).toBeNull();
  });

  it('lr setter, schedule option, tied weights counted once, duplicate names rejected', () => {
    const w = tensor([1, 2]).requireGrad();
    const opt = new SGD([w, w], { lr: 0.5, schedule: (k) => 0.1 * (k + 1) });
    expect(opt.params.length).toBe(1);
    w.grad = tensor([1, 1]);
    opt.step();
    expect(opt.lr).toBeCloseTo(0.1, 12);
    opt.step();
    expect(opt.lr).toBeCloseTo(0.2, 12);
    expect(w.toFlat().map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0.7, 1.7]);
    opt.schedule = undefined;
    opt.lr = 1;
    opt.step();
    expect(w.toFlat().map((v) => Math.round(v * 1e6) / 1e6)).toEqual([-0.3, 0.7]);
    expect(() => new SGD([['a', w], ['a', tensor([1]).requireGrad()]], { lr: 1 })).toThrow(/named a/);
    const plain = new Optimizer(sgd({ lr: 0.25 }), [w]);
    expect(plain.lr).toBe(0.25);
    expect(plain.names).toEqual(['0']);
  });

  fcTest.prop([seedArb, fc.constantFrom(0, 1, 2), fc.integer({ min: 1, max: 5 })], { numRuns: 10 })(
    'stateDict → JSON (plain part) → loadStateDict into a fresh optimizer resumes bit-exactly',
    (seed, which, before) => {
      const x = randomTensor([4, 3], seed + 1, { dtype: 'float32' });
      const y = randomTensor([4, 2], seed + 2, { dtype: 'float32' });
      const train = (lin: Linear, opt: Optimizer, n: number) => {
        for (let k = 0; k < n; k++) {
          opt.zeroGrad();
          lossOf(lin, x, y).backward();
          opt.step();
        }
      };
      const a = new Linear(3, 2, { rng: Rng.seeded(seed) });
      const optA = makers[which](a.namedParameters());
      optA.lr = 0.02;
      train(a, optA, before);
      const sd = optA.stateDict();
      // The plain part survives JSON; typed arrays are carried beside it.
      const { params: slotData, ...plain } = sd;
      const restored: OptimizerStateDict = { ...(JSON.parse(JSON.stringify(plain)) as Omit<OptimizerStateDict, 'params'>), params: slotData };
      const b = new Linear(3, 2, { rng: Rng.seeded(seed + 99) });
      b.loadStateDict(a.stateDict());
      const optB = makers[which](b.namedParameters());
      optB.loadStateDict(restored);
      expect(optB.lr).toBe(0.02);
      expect(optB.stepCount).toBe(before);
      train(a, optA, 3);
      train(b, optB, 3);
      a.parameters().forEach((p, i) => expect(bitEqual(p.data, b.parameters()[i].data)).toBe(true));
      // The saved dict is a copy: training on did not change it.
      expect(bitEqual(sd.params.weight.slots[optA.transform.slotNames[0]], optA.stateDict().params.weight.slots[optA.transform.slotNames[0]])).toBe(false);
    },
  );

  it('loadStateDict lists every mismatch', () => {
    const lin = new Linear(3, 2, { rng: Rng.seeded(0) });
    const sd = new AdamW(lin.namedParameters(), { lr: 0.1 }).stateDict();
    const other = new Linear(3, 3, { rng: Rng.seeded(0) });
    expect(() => new Adam(other.namedParameters(), { lr: 0.1, betas: [0.8, 0.99] }).loadStateDict(sd)).toThrow(
      /optimizer 'adamw'.*config betas.*weight\.m: 6 values for 9/,
    );
    expect(() => new AdamW([['w', lin.weight]], { lr: 0.1 }).loadStateDict(sd)).toThrow(/missing w.*unexpected weight/);
  });
});

describe('clipGradNorm', () => {
  fcTest.prop([seedArb, fc.double({ min: 0.01, max: 10, noNaN: true })], { numRuns: 30 })(
    'returns the global norm and scales all grads to at most maxNorm, keeping directions',
    (seed, maxNorm) => {
      const ps = [[3], [2, 2], [4]].map((s, i) => Tensor.zeros(s, 'float64').requireGrad(true));
      ps.forEach((p, i) => (p.grad = randomTensor(p.shape, seed + i)));
      ps[2].grad = null;
      const before = ps.map((p) => p.grad?.toFlat() ?? []);
      const norm = Math.sqrt(before.flat().reduce((a, b) => a + b * b, 0));
      expect(clipGradNorm(ps, maxNorm)).toBeCloseTo(norm, 10);
      const after = ps.map((p) => p.grad?.toFlat() ?? []);
      const newNorm = Math.sqrt(after.flat().reduce((a, b) => a + b * b, 0));
      if (norm > maxNorm) {
        expect(newNorm).toBeLessThanOrEqual(maxNorm);
        expect(newNorm).toBeGreaterThan(maxNorm * (1 - 1e-5));
        const scale = after[0][0] / before[0][0];
        before.flat().forEach((v, i) => expect(after.flat()[i]).toBeCloseTo(v * scale, 10));
      } else {
        expect(after).toEqual(before);
      }
      expect(ps[2].grad).toBeNull();
    },
  );

  it('a non-finite norm is returned and the grads are left alone', () => {
    const p = Tensor.zeros([2]).requireGrad();
    p.grad = tensor([Infinity, 1]);
    expect(clipGradNorm([p], 1)).toBe(Infinity);
    expect(p.grad.toFlat()).toEqual([Infinity, 1]);
  });

  it('works on gradients produced by backward through matmul', () => {
    const w = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    sum(matmul(w, w)).backward();
    const n = clipGradNorm([w], 1);
    expect(n).toBeGreaterThan(1);
    expect(Math.hypot(...w.grad!.toFlat())).toBeCloseTo(1, 5);
  });
});
