import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck, gradgradcheck } from '../gradcheck.js';
import { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { broadcastPairArb, type Domain, randomTensor, seedArb, shapeArb } from '../testing/arbitraries.js';
import * as E from './elementwise.js';
import * as L from './linalg.js';
import * as M from './movement.js';
import * as N from './nn.js';
import * as R from './reduce.js';

// Property: for every differentiable op, on random shapes (size-1 axes and rank-broadcasting included)
// and random float64 values in the op's domain, the analytical gradient matches central finite differences.

const RUNS = { numRuns: 25 };

const unaryOps: [string, (x: Tensor) => Tensor, Domain][] = [
  ['neg', E.neg, 'any'], ['exp', E.exp, 'unit'], ['log', E.log, 'positive'], ['log1p', E.log1p, 'positive'],
  ['sqrt', E.sqrt, 'positive'], ['rsqrt', E.rsqrt, 'positive'], ['abs', E.abs, 'awayFromZero'],
  ['square', E.square, 'any'], ['reciprocal', E.reciprocal, 'awayFromZero'], ['sin', E.sin, 'any'], ['cos', E.cos, 'any'],
  ['tanh', E.tanh, 'any'], ['sigmoid', E.sigmoid, 'any'], ['relu', E.relu, 'awayFromZero'],
  ['gelu(tanh)', (x) => E.gelu(x, 'tanh'), 'any'], ['gelu(erf)', (x) => E.gelu(x, 'none'), 'any'],
  ['softplus', E.softplus, 'any'], ['logSigmoid', E.logSigmoid, 'any'], ['erf', E.erf, 'any'],
  ['clamp', (x) => E.clamp(x, -0.1, 0.1), 'awayFromZero'],
];

const binaryOps: [string, (a: Tensor, b: Tensor) => Tensor, Domain, Domain][] = [
  ['add', E.add, 'any', 'any'], ['sub', E.sub, 'any', 'any'], ['mul', E.mul, 'any', 'any'],
  ['div', E.div, 'any', 'awayFromZero'], ['pow', E.pow, 'positive', 'any'],
  ['maximum', E.maximum, 'any', 'any'], ['minimum', E.minimum, 'any', 'any'],
];

describe('gradcheck: element-wise ops', () => {
  for (const [name, op, domain] of unaryOps) {
    it(name, () => {
      fc.assert(fc.property(shapeArb(), seedArb, (shape, seed) => gradcheck(op, [randomTensor(shape, seed, domain)])), RUNS);
    });
  }
  for (const [name, op, da, db] of binaryOps) {
    it(`${name} with broadcasting`, () => {
      fc.assert(
        fc.property(broadcastPairArb(), seedArb, ([sa, sb], seed) =>
          gradcheck(op, [randomTensor(sa, seed, da), randomTensor(sb, seed + 1, db)]),
        ),
        RUNS,
      );
    });
  }
  it('where(mask, a, b) with broadcasting', () => {
    fc.assert(
      fc.property(broadcastPairArb(), seedArb, ([sa, sb], seed) => {
        const mask = E.gt(randomTensor(sa, seed + 7), 0);
        return gradcheck((a, b) => E.where(mask, a, b), [randomTensor(sa, seed), randomTensor(sb, seed + 1)]);
      }),
      RUNS,
    );
  });
  it('scalar operands', () => {
    fc.assert(fc.property(shapeArb(), seedArb, (shape, seed) => gradcheck((x) => E.div(E.sub(2, x), 3), [randomTensor(shape, seed)])), RUNS);
  });
});

/** A random subset of the axes of `shape`, or undefined (all axes). */
const axesArb = (rank: number) =>
  fc.option(fc.subarray(Array.from({ length: rank }, (_, i) => i), { minLength: 1 }), { nil: undefined });

const withAxes = (f: (shape: number[], axes: number[] | undefined, keep: boolean, seed: number) => boolean) =>
  fc.property(
    shapeArb().filter((s) => s.length > 0).chain((s) => fc.tuple(fc.constant(s), axesArb(s.length), fc.boolean(), seedArb)),
    ([s, axes, keep, seed]) => f(s, axes, keep, seed),
  );

describe('gradcheck: reductions over any axes, with and without keepDims', () => {
  const reductions: [string, (x: Tensor, axes: number[] | undefined, keep: boolean) => Tensor][] = [
    ['sum', R.sum], ['mean', R.mean], ['max', R.max], ['min', R.min], ['logSumExp', R.logSumExp],
    ['variance', (x, a, k) => R.variance(x, a, k)], ['variance (Bessel)', (x, a, k) => R.variance(x, a, k, 1)],
  ];
  for (const [name, op] of reductions) {
    it(name, () => {
      fc.assert(
        withAxes((s, axes, keep, seed) => {
          // Bessel's correction over a single element divides by zero: not a differentiable case.
          if (name.includes('Bessel') && (axes ?? s.map((_, i) => i)).reduce((n, a) => n * s[a], 1) < 2) return true;
          return gradcheck((x) => op(x, axes, keep), [randomTensor(s, seed)]);
        }),
        RUNS,
      );
    });
  }
});

const permArb = (rank: number) => fc.shuffledSubarray(Array.from({ length: rank }, (_, i) => i), { minLength: rank, maxLength: rank });

describe('gradcheck: movement', () => {
  it('reshape', () => {
    fc.assert(fc.property(shapeArb(), seedArb, (s, seed) => gradcheck((x) => M.reshape(x, [-1]), [randomTensor(s, seed)])), RUNS);
  });
  it('permute', () => {
    fc.assert(
      fc.property(shapeArb().chain((s) => fc.tuple(fc.constant(s), permArb(s.length))), seedArb, ([s, perm], seed) =>
        gradcheck((x) => M.permute(x, perm), [randomTensor(s, seed)]),
      ),
      RUNS,
    );
  });
  it('broadcastTo', () => {
    fc.assert(
      fc.property(broadcastPairArb(), seedArb, ([sa, sb], seed) => {
        const [small, big] = sa.length <= sb.length && sa.every((d, i) => d <= sb[sb.length - sa.length + i]) ? [sa, sb] : [sb, sa];
        return gradcheck((x) => M.broadcastTo(x, big), [randomTensor(small, seed)]);
      }),
      RUNS,
    );
  });
  it('slice and pad', () => {
    fc.assert(
      fc.property(
        shapeArb().filter((s) => s.length > 0).chain((s) =>
          fc.tuple(fc.constant(s), fc.tuple(...s.map((d) => fc.integer({ min: 0, max: d - 1 }))), fc.tuple(...s.map(() => fc.integer({ min: 0, max: 2 })))),
        ),
        seedArb,
        ([s, begin, padding], seed) => {
          const end = s.map((d, i) => Math.max(begin[i] + 1, d - padding[i]));
          gradcheck((x) => M.slice(x, begin, end), [randomTensor(s, seed)]);
          return gradcheck((x) => M.pad(x, padding, [...padding].reverse(), 0.5), [randomTensor(s, seed)]);
        },
      ),
      RUNS,
    );
  });
  it('concat, stack and split', () => {
    fc.assert(
      fc.property(shapeArb().filter((s) => s.length > 0), fc.integer({ min: 1, max: 3 }), seedArb, (s, extra, seed) => {
        const axis = seed % s.length;
        const other = s.map((d, i) => (i === axis ? extra : d));
        gradcheck((a, b) => M.concat([a, b, a], axis), [randomTensor(s, seed), randomTensor(other, seed + 1)]);
        gradcheck((a, b) => M.stack([a, b], axis), [randomTensor(s, seed), randomTensor(s, seed + 2)]);
        return gradcheck((x) => E.mul(M.split(x, [s[axis], extra], axis)[1], 2), [randomTensor(other.map((d, i) => (i === axis ? s[axis] + extra : d)), seed)]);
      }),
      RUNS,
    );
  });
  it('gather and scatterAdd (adjoint pair)', () => {
    fc.assert(
      fc.property(shapeArb().filter((s) => s.length > 0), fc.integer({ min: 1, max: 4 }), seedArb, (s, picks, seed) => {
        const axis = seed % s.length;
        const rng = Rng.seeded(seed);
        const idxShape = s.map((d, i) => (i === axis ? picks : d));
        const idx = M.indices(Array.from({ length: idxShape.reduce((a, b) => a * b, 1) }, () => rng.int(0, s[axis] - 1)), idxShape);
        gradcheck((x) => M.gather(x, axis, idx), [randomTensor(s, seed)]);
        return gradcheck((src) => M.scatterAdd(src, s, axis, idx), [randomTensor(idxShape, seed + 1)]);
      }),
      RUNS,
    );
  });
  it('embedding (indexSelect, with repeated ids) and indexAdd', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), seedArb, (v, d, raw, seed) => {
        const ids = M.indices(raw.map((r) => r % v), [raw.length]);
        gradcheck((t) => M.embedding(t, ids), [randomTensor([v, d], seed)]);
        return gradcheck((src) => M.indexAdd(src, [v, d], 0, ids), [randomTensor([raw.length, d], seed)]);
      }),
      RUNS,
    );
  });
  it('sort values along any axis, both directions', () => {
    fc.assert(
      fc.property(shapeArb().filter((s) => s.length > 0), fc.boolean(), seedArb, (s, desc, seed) =>
        gradcheck((x) => M.sort(x, seed % s.length, desc).values, [randomTensor(s, seed)]),
      ),
      RUNS,
    );
  });
});

describe('gradcheck: linear algebra', () => {
  const matmulShapes = fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), broadcastPairArb(2))
    .map(([m, k, n, [ba, bb]]) => [[...ba, m, k], [...bb, k, n]] as const);
  it('matmul with broadcast batch dimensions', () => {
    fc.assert(fc.property(matmulShapes, seedArb, ([sa, sb], seed) => gradcheck(L.matmul, [randomTensor(sa, seed), randomTensor(sb, seed + 1)])), RUNS);
  });
  it('matmul with 1-D operands', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), seedArb, (k, n, seed) => {
        gradcheck(L.matmul, [randomTensor([k], seed), randomTensor([k, n], seed + 1)]);
        gradcheck(L.matmul, [randomTensor([n, k], seed), randomTensor([k], seed + 1)]);
        return gradcheck(L.matmul, [randomTensor([k], seed), randomTensor([k], seed + 1)]);
      }),
      RUNS,
    );
  });
  it('bmm in every transpose layout, with a batch-broadcast operand', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 3 }), seedArb, (ta, tb, shareA, batch, seed) => {
        const [m, k, n] = [2, 3, 2];
        const sa = [shareA ? 1 : batch, ...(ta ? [k, m] : [m, k])];
        const sb = [batch, ...(tb ? [n, k] : [k, n])];
        return gradcheck((a, b) => L.bmm(a, b, ta, tb), [randomTensor(sa, seed), randomTensor(sb, seed + 1)]);
      }),
      RUNS,
    );
  });
});

describe('gradcheck: nn ops', () => {
  const rowsArb = shapeArb(3).filter((s) => s.length > 0);
  it('softmax and logSoftmax along any axis', () => {
    fc.assert(
      fc.property(rowsArb, seedArb, (s, seed) => {
        gradcheck((x) => N.softmax(x, seed % s.length), [randomTensor(s, seed)]);
        return gradcheck((x) => N.logSoftmax(x, seed % s.length), [randomTensor(s, seed)]);
      }),
      RUNS,
    );
  });
  it('layerNorm with and without affine parameters', () => {
    fc.assert(
      fc.property(rowsArb.filter((s) => s[s.length - 1] > 1), fc.boolean(), seedArb, (s, affine, seed) => {
        const d = s[s.length - 1];
        if (!affine) return gradcheck((x) => N.layerNorm(x), [randomTensor(s, seed)]);
        return gradcheck((x, g, b) => N.layerNorm(x, g, b), [randomTensor(s, seed), randomTensor([d], seed + 1), randomTensor([d], seed + 2)]);
      }),
      RUNS,
    );
  });
  it('crossEntropy with ignored targets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), seedArb, (rows, v, seed) => {
        const rng = Rng.seeded(seed);
        const targets = M.indices(Array.from({ length: rows }, () => rng.int(-1, v - 1)), [rows]);
        return gradcheck((x) => N.crossEntropy(x, targets), [randomTensor([rows, v], seed)]);
      }),
      RUNS,
    );
  });
  it('dropout (fixed generator) and maskedFill', () => {
    fc.assert(
      fc.property(rowsArb, seedArb, (s, seed) => {
        gradcheck((x) => N.dropout(x, 0.3, Rng.seeded(seed)), [randomTensor(s, seed)]);
        const mask = E.gt(randomTensor(s, seed + 3), 0);
        return gradcheck((x) => N.maskedFill(x, mask, -5), [randomTensor(s, seed)]);
      }),
      RUNS,
    );
  });
});

describe('gradgradcheck: second derivatives', () => {
  const cases: [string, (...xs: Tensor[]) => Tensor, number[][], Domain][] = [
    ['add', E.add, [[2, 3], [3]], 'any'],
    ['mul', E.mul, [[2, 3], [2, 1]], 'any'],
    ['div', E.div, [[2, 3], [3]], 'awayFromZero'],
    ['matmul', L.matmul, [[2, 3], [3, 2]], 'any'],
    ['batched matmul', L.matmul, [[2, 2, 3], [3, 2]], 'any'],
    ['tanh', E.tanh, [[2, 3]], 'any'],
    ['sigmoid', E.sigmoid, [[2, 3]], 'any'],
    ['softplus', E.softplus, [[2, 3]], 'any'],
    ['logSigmoid', E.logSigmoid, [[2, 3]], 'any'],
    ['gelu', (x) => E.gelu(x), [[2, 3]], 'any'],
    ['gelu(erf)', (x) => E.gelu(x, 'none'), [[2, 3]], 'any'],
    ['exp', E.exp, [[2, 3]], 'unit'],
    ['log', E.log, [[2, 3]], 'positive'],
    ['sqrt', E.sqrt, [[2, 3]], 'positive'],
    ['pow', E.pow, [[2, 3], [3]], 'positive'],
    ['sum', (x) => R.sum(E.square(x), 1), [[2, 3]], 'any'],
    ['mean', (x) => R.mean(E.square(x), 0), [[2, 3]], 'any'],
    ['logSumExp', (x) => R.logSumExp(x, 1), [[2, 3]], 'any'],
    ['variance', (x) => R.variance(x, 1), [[2, 3]], 'any'],
    ['layerNorm', (x, g, b) => N.layerNorm(x, g, b), [[2, 4], [4], [4]], 'any'],
    ['softmax', (x) => N.softmax(x), [[2, 3]], 'any'],
    ['logSoftmax', (x) => N.logSoftmax(x), [[2, 3]], 'any'],
    ['crossEntropy', (x) => N.crossEntropy(x, M.indices([2, 0], [2])), [[2, 3]], 'any'],
    ['sort', (x) => E.square(M.sort(x, 1).values), [[2, 3]], 'any'],
  ];
  for (const [name, f, shapes, domain] of cases) {
    it(name, () => {
      fc.assert(fc.property(seedArb, (seed) => gradgradcheck(f, shapes.map((s, i) => randomTensor(s, seed + i, domain)))), { numRuns: 5 });
    });
  }
});

describe('gradcheck itself', () => {
  it('is exercised by the suites above and returns true on correct rules', () => {
    expect(gradcheck(E.tanh, [randomTensor([3], 1)])).toBe(true);
  });
});
