import * as E from 'fp-ts/lib/Either.js';
import { sequenceT } from 'fp-ts/lib/Apply.js';
import { pipe } from 'fp-ts/lib/function.js';
import fc from 'fast-check';
import * as t from 'io-ts';
import { describe, expect, it } from 'vitest';
import {
  completed, decodeWith, describeValue, formatErrors, int, nonEmptyString, nullable, num, oneOf, orString, problem, problemsFromErrors, refineWith,
  strict, suggest, unknownKeys, validation,
} from './index.js';

const problemsOf = (codec: t.Decoder<unknown, unknown>, u: unknown) => {
  const r = codec.decode(u);
  return E.isLeft(r) ? problemsFromErrors(r.left) : [];
};

describe('ranged numbers', () => {
  it('accept exactly the finite numbers within their bounds (property)', () => {
    const codec = num({ gt: 0, le: 1 });
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer()), (x) => {
        expect(codec.is(x)).toBe(Number.isFinite(x) && x > 0 && x <= 1);
        expect(E.isRight(codec.decode(x))).toBe(codec.is(x));
      }),
    );
  });

  it('integers are safe integers within bounds, and name their range', () => {
    expect(int({ ge: 1 }).is(3)).toBe(true);
    expect(int({ ge: 1 }).is(1.5)).toBe(false);
    expect(int({ ge: 1 }).is(2 ** 60)).toBe(false);
    expect(int({ ge: 1 }).name).toBe('an integer ≥ 1');
    expect(num({ gt: 0 }).name).toBe('a number > 0');
    expect(num().is(Number.NaN)).toBe(false);
  });

  it('orString accepts a number or boolean written as text, and nothing else', () => {
    const n = orString(num({ ge: 0 }));
    expect(n.decode('0.5')).toEqual(E.right(0.5));
    expect(n.decode('.5')).toEqual(E.right(0.5));
    expect(n.decode(2)).toEqual(E.right(2));
    expect(E.isLeft(n.decode('-1'))).toBe(true);
    expect(E.isLeft(n.decode('abc'))).toBe(true);
    expect(orString(t.boolean).decode('false')).toEqual(E.right(false));
  });
});

describe('the error formatter', () => {
  it('gives path, expected and got for every field, once per path', () => {
    const codec = t.type({ lr: num({ gt: 0 }), steps: int({ ge: 1 }), mode: oneOf(['a', 'b']), name: nonEmptyString });
    expect(problemsOf(codec, { lr: -1, steps: 1.5, mode: 'c', name: '' })).toEqual([
      { path: 'lr', reason: 'expected a number > 0, got -1' },
      { path: 'steps', reason: 'expected an integer ≥ 1, got 1.5' },
      { path: 'mode', reason: "expected one of 'a', 'b', got \"c\"" },
      { path: 'name', reason: 'expected a non-empty string, got ""' },
    ]);
  });

  it('names a union once, brackets array indices, says missing for an absent key', () => {
    const codec = t.type({ epochs: nullable(num({ gt: 0 })), list: t.array(t.type({ x: t.number })), need: t.string });
    expect(problemsOf(codec, { epochs: 'x', list: [{ x: 1 }, { x: 'y' }] })).toEqual([
      { path: 'epochs', reason: 'expected a number > 0 or null, got "x"' },
      { path: 'list[1].x', reason: 'expected number, got "y"' },
      { path: 'need', reason: 'missing (expected string)' },
    ]);
  });

  it('leaves intersection parts out of the path and can show kinds instead of values', () => {
    const codec = t.intersection([t.type({ a: t.string }), t.partial({ b: t.array(t.string) })]);
    const r = codec.decode({ a: 3, b: ['ok', 4] });
    expect(E.isLeft(r) && formatErrors(r.left, { show: describeValue })).toEqual(['a: expected string, got number', 'b[1]: expected string, got number']);
    const root = t.number.decode('x');
    expect(E.isLeft(root) && formatErrors(root.left, { root: 'row' })).toEqual(['row: expected number, got "x"']);
  });
});

describe('unknown keys', () => {
  const Codec = strict(t.partial({ batchSize: t.number, nested: strict(t.partial({ interval: t.number })) }), 'Options');

  it('strict objects reject unknown keys at any depth, with a suggestion, together with bad values', () => {
    expect(problemsOf(Codec, { batch_size: 1, nested: { intervall: 2, interval: 'x' } })).toEqual([
      { path: 'batch_size', reason: "unknown key (did you mean 'batchSize'?); known keys here: batchSize, nested" },
      { path: 'nested.intervall', reason: "unknown key (did you mean 'interval'?); known keys here: interval" },
      { path: 'nested.interval', reason: 'expected number, got "x"' },
    ]);
    expect(Codec.is({ batchSize: 1 })).toBe(true);
    expect(Codec.is({ batchSize: 1, other: 2 })).toBe(false);
  });

  it('unknownKeys walks a codec without decoding values', () => {
    expect(unknownKeys(Codec, { batchSize: 'not checked here', nested: { intervall: 1 } }).map((p) => p.path)).toEqual(['nested.intervall']);
    expect(suggest('zzz', ['batchSize', 'lr'])).toBeUndefined();
  });
});

describe('applicative validation', () => {
  it('collects the problems of every failed step, and passes the values of successful ones', () => {
    const decodeA = decodeWith(t.type({ a: num({ gt: 0 }) }));
    const positiveSum = refineWith<{ a: number }>((x) => (x.a > 10 ? [problem('a', 'too large')] : []));
    const bad = sequenceT(validation)(decodeA({ a: -1 }), decodeWith(t.string)(3));
    expect(E.isLeft(bad) && bad.left.map((p) => p.path)).toEqual(['a', '']);
    expect(sequenceT(validation)(decodeA({ a: 1 }), decodeWith(t.string)('s'))).toEqual(E.right([{ a: 1 }, 's']));
    expect(pipe(decodeA({ a: 11 }), E.chain(positiveSum))).toEqual(E.left([{ path: 'a', reason: 'too large' }]));
  });
});

describe('completed codecs', () => {
  // Options { lo, hi } with defaults 0 and 10, completed into a range that must not be empty.
  const Options = strict(t.partial({ lo: int(), hi: int() }));
  type Range = { lo: number; hi: number };
  const isRange = (u: unknown): u is Range => t.type({ lo: t.number, hi: t.number }).is(u);
  const RangeCodec = completed(
    Options,
    (o): E.Either<ReturnType<typeof problem>[], Range> => {
      const r = { lo: o.lo ?? 0, hi: o.hi ?? 10 };
      return r.lo < r.hi ? E.right(r) : E.left([problem('hi', `${r.hi} is not above lo ${r.lo}`)]);
    },
    { name: 'Range', is: isRange, encode: (r) => r, absent: {} },
  );

  it('decodes the options, then completes them (defaults), for any options it accepts (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100, max: 100 }), fc.integer({ min: 1, max: 100 }), (lo, width) => {
        expect(RangeCodec.decode({ lo, hi: lo + width })).toEqual(E.right({ lo, hi: lo + width }));
        expect(problemsOf(RangeCodec, { lo: lo + width, hi: lo })).toEqual([{ path: 'hi', reason: `${lo} is not above lo ${lo + width}` }]);
      }),
    );
  });

  it('stands the absent value in for undefined and null, and reports the codec\'s own errors as they are', () => {
    expect(RangeCodec.decode(undefined)).toEqual(E.right({ lo: 0, hi: 10 }));
    expect(RangeCodec.decode(null)).toEqual(E.right({ lo: 0, hi: 10 }));
    expect(problemsOf(RangeCodec, { lo: 'x' })).toEqual([{ path: 'lo', reason: 'expected an integer, got "x"' }]);
    expect(problemsOf(RangeCodec, { hi: 1, lw: 0 })[0].path).toBe('lw');
  });
});
