import * as A from 'fp-ts/lib/Array.js';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { type FormatOptions, type Problem, problemsFromErrors } from './problems.js';

/**
 * Validation that collects every problem: fp-ts's applicative validation over arrays of problems. A configuration
 * is decoded by its codec and then checked across fields; both report all they find, and the results combine.
 */

export type Validation<A> = E.Either<Problem[], A>;

/** The applicative that concatenates the problems of failed steps. */
export const validation = E.getApplicativeValidation(A.getSemigroup<Problem>());

/** Decodes `u` with `codec`, its errors formatted as problems. */
export const decodeWith =
  <A>(codec: t.Decoder<unknown, A>, options?: FormatOptions) =>
  (u: unknown): Validation<A> =>
    pipe(codec.decode(u), E.mapLeft((errors) => problemsFromErrors(errors, options)));

/** Checks across fields of a decoded value: each check returns the problems it finds (none: valid). */
export const refineWith =
  <A>(...checks: readonly ((a: A) => readonly Problem[])[]) =>
  (a: A): Validation<A> => {
    const problems = checks.flatMap((check) => check(a));
    return problems.length > 0 ? E.left(problems) : E.right(a);
  };

/** A problem at `path` (`''`: the whole value). */
export const problem = (path: string, reason: string): Problem => ({ path, reason });

/**
 * `codec`, then `complete` on what it decoded (fill defaults, check across fields): a codec whose output is the
 * completed value. A custom type, because io-ts has no combinator that maps a decoded value into another one; each
 * problem `complete` reports becomes an io-ts error at its path, so the shared formatter shows it like any other.
 */
export function completed<C extends t.Mixed, B, O = B>(
  codec: C,
  complete: (decoded: t.TypeOf<C>) => Validation<B>,
  options: {
    name?: string;
    is: (u: unknown) => u is B;
    encode: (b: B) => O;
    /** What `codec` decodes in place of undefined or null (nothing given: all defaults), if anything. */
    absent?: unknown;
  },
): t.Type<B, O, unknown> {
  return new t.Type<B, O, unknown>(
    options.name ?? codec.name,
    options.is,
    (u, c) => {
      const decoded = codec.validate((u === undefined || u === null) && 'absent' in options ? options.absent : u, c);
      if (E.isLeft(decoded)) return decoded;
      const done = complete(decoded.right);
      if (E.isRight(done)) return t.success(done.right);
      return t.failures(done.left.map((p): t.ValidationError => ({ value: u, context: [...c, { key: p.path, type: t.never, actual: u }], message: p.reason })));
    },
    options.encode,
  );
}
