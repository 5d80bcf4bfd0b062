import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AnomalyError, GradcheckError, add, customOp, exp, gradcheck, gradgradcheck, grad, gradients, log, matmul, mul, noGrad,
  sqrt, sum, tanh, tensor, valueAndGrad, vjp, withAnomalyMode, zeros, arange, Rng, randn, reshape,
} from './index.js';
import { randomTensor, seedArb, shapeArb } from './testing/arbitraries.js';

describe('autodiff API', () => {
  it('backward() accumulates into .grad of leaves', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    sum(mul(x, x)).backward();
    expect(x.grad!.toFlat()).toEqual([2, 4, 6]);
    sum(x).backward();
    expect(x.grad!.toFlat()).toEqual([3, 5, 7]);
  });

  it('grad of grad: d²/dx² x³ = 6x (create-graph semantics)', () => {
    const f = (x: ReturnType<typeof tensor>) => sum(mul(mul(x, x), x));
    const second = grad((x) => sum(grad(f)(x)[0]));
    fc.assert(
      fc.property(fc.double({ min: -3, max: 3, noNaN: true }), (v) => {
        const [g2] = second(tensor([v], { dtype: 'float64' }));
        return Math.abs(g2.item() - 6 * v) < 1e-9;
      }),
    );
  });

  it('valueAndGrad returns the value and one gradient per argument; hasAux passes data through', () => {
    const { value, grads } = valueAndGrad((a, b) => sum(mul(a, b)))(tensor([1, 2]), tensor([3, 4]));
    expect(value.item()).toBe(11);
    expect(grads.map((g) => g.toFlat())).toEqual([[3, 4], [1, 2]]);
    const withAux = valueAndGrad((a) => [sum(a), 'aux'] as [ReturnType<typeof sum>, string], { hasAux: true })(tensor([1]));
    expect(withAux.aux).toBe('aux');
  });

  it('vjp pulls back an arbitrary cotangent (property: equals Jᵀu computed by hand for matmul)', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const a = randomTensor([2, 3], seed);
        const b = randomTensor([3, 2], seed + 1);
        const u = randomTensor([2, 2], seed + 2);
        const { out, pullback } = vjp(matmul, a, b);
        const [ga, gb] = pullback(u);
        const expectA = matmul(u, b.transpose());
        const expectB = matmul(a.transpose(), u);
        return out.size === 4 && close(ga.toFlat(), expectA.toFlat()) && close(gb.toFlat(), expectB.toFlat());
      }),
    );
  });

  it('noGrad and detach cut the tape', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(noGrad(() => mul(x, 2)).requiresGrad).toBe(false);
    expect(mul(x.detach(), 2).requiresGrad).toBe(false);
    expect(mul(x, 2).requiresGrad).toBe(true);
  });

  it('gradients() of an unused input is an error unless allowed', () => {
    const x = tensor([1], { requiresGrad: true });
    const y = tensor([2], { requiresGrad: true });
    expect(() => gradients(sum(x), [y])).toThrow(/not used/);
    expect(gradients(sum(x), [y], undefined, { allowUnused: true })[0].toFlat()).toEqual([0]);
  });

  it('backward needs a cotangent for non-scalar outputs', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => mul(x, 2).backward()).toThrow(/not a scalar/);
  });
});

describe('gradcheck is itself checked', () => {
  const wrongSquare = customOp('wrongSquare', (x) => mul(x, x), (g, _out, [x]) => [mul(g, x)]); // missing factor 2
  const rightSquare = customOp('square', (x) => mul(x, x), (g, _out, [x]) => [mul(mul(g, x), 2)]);

  it('fails on a deliberately wrong gradient rule, naming the worst element and the shapes', () => {
    fc.assert(
      fc.property(shapeArb().filter((s) => s.length > 0), seedArb, (s, seed) => {
        const x = randomTensor(s, seed, 'awayFromZero');
        expect(() => gradcheck(wrongSquare, [x])).toThrow(GradcheckError);
        expect(() => gradcheck(wrongSquare, [x])).toThrow(/analytical .* vs numerical .*input shapes/);
        expect(gradcheck(wrongSquare, [x], { raiseException: false })).toBe(false);
        return gradcheck(rightSquare, [x]);
      }),
      { numRuns: 20 },
    );
  });

  it('fast mode (one random projection) also catches it', () => {
    expect(() => gradcheck(wrongSquare, [randomTensor([2, 3], 3, 'awayFromZero')], { fastMode: true })).toThrow(GradcheckError);
  });

  it('gradgradcheck fails when a rule is right to first order but its vjp is not differentiable correctly', () => {
    // The vjp uses a constant copy of x, so the second derivative through the vjp is lost.
    const opaque = customOp('opaqueCube', (x) => mul(mul(x, x), x), (g, _o, [x]) => [mul(g, mul(mul(x.detach(), x.detach()), 3))]);
    const x = randomTensor([3], 5, 'awayFromZero');
    expect(gradcheck(opaque, [x])).toBe(true);
    expect(() => gradgradcheck(opaque, [x])).toThrow(GradcheckError);
  });
});

describe('errors', () => {
  it('shape mismatches name the op and both shapes', () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow('add: shapes [2, 3] and [4] do not broadcast');
    expect(() => matmul(zeros([2, 3]), zeros([4, 2]))).toThrow(/matmul: shapes \[2, 3\] and \[4, 2\]/);
    expect(() => reshape(zeros([2, 3]), [4])).toThrow('reshape: cannot reshape [2, 3] to [4]');
  });

  it('dtype mixing is an error, not a silent cast', () => {
    expect(() => add(zeros([2]), zeros([2], { dtype: 'float64' }))).toThrow(/dtype mismatch/);
  });

  it('anomaly mode names the first op that produced NaN or Inf, forward and backward', () => {
    expect(() => withAnomalyMode(() => log(tensor([-1, 1])))).toThrow(AnomalyError);
    expect(() => withAnomalyMode(() => log(tensor([-1, 1])))).toThrow(/op 'log' produced NaN in its forward/);
    const x = tensor([0, 1], { requiresGrad: true });
    expect(() => withAnomalyMode(() => sum(sqrt(x)).backward())).toThrow(/op 'sqrt' produced Infinity in its backward/);
    // Off by default: NaN flows silently, as in PyTorch.
    expect(Number.isNaN(log(tensor([-1])).item())).toBe(true);
  });
});

describe('tensors', () => {
  it('creation helpers and read-back', () => {
    expect(tensor([[1, 2], [3, 4]]).shape).toEqual([2, 2]);
    expect(tensor([[1, 2], [3, 4]]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(arange(5).toFlat()).toEqual([0, 1, 2, 3, 4]);
    expect(tensor(3).toArray()).toBe(3);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
  });

  it('randn with the same seed gives the same values, bit for bit', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const a = randn([7], Rng.seeded(seed)).toFlat();
        const b = randn([7], Rng.seeded(seed)).toFlat();
        return a.every((v, i) => Object.is(v, b[i]));
      }),
    );
  });

  it('nearby seeds give unrelated first draws (seeds are scrambled)', () => {
    const first = Array.from({ length: 64 }, (_, s) => Rng.seeded(s).uniform());
    const mean = first.reduce((a, b) => a + b, 0) / first.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.15);
    expect(new Set(first.map((v) => v.toFixed(6))).size).toBe(64);
  });

  it('exp/tanh chain keeps float32 when given float32', () => {
    expect(tanh(exp(tensor([0.5]))).dtype).toBe('float32');
  });
});

function close(a: number[], b: number[], tol = 1e-10): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= tol * (1 + Math.abs(b[i])));
}
