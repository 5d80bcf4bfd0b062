import * as A from 'fp-ts/lib/Array.js';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type * as t from 'io-ts';
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
