import { concatAll } from 'fp-ts/lib/Monoid.js';
import type { Monoid } from 'fp-ts/lib/Monoid.js';
import type { Semigroup } from 'fp-ts/lib/Semigroup.js';
import { Tensor, add, mul, noGrad, scalar } from '@ganpo/autograd';
import type { LossTerm, Objective } from './types.js';

/**
 * The loss of the zero objective: a marked constant that `concat` and `scale` recognize, so that the identity
 * laws hold exactly for losses of any dtype (float32 training, float64 checks).
 */
const ZERO_LOSS: Tensor = scalar(0);

/** The identity of the monoid: loss 0, no metrics. */
export const zero = <A = unknown>(): Objective<A> => () => ({ loss: ZERO_LOSS, metrics: {} });

export const isZeroLoss = (loss: Tensor): boolean => loss === ZERO_LOSS;

/** Adds two losses; the zero objective's loss is the identity. */
function addLosses(a: Tensor, b: Tensor): Tensor {
  if (a === ZERO_LOSS) return b;
  if (b === ZERO_LOSS) return a;
  return add(a, b);
}

/**
 * Merges two metric records. A name in both is an error: two terms' metrics never silently overwrite each other.
 * Give each term its own prefix with `namespaced`.
 */
function mergeMetrics(a: LossTerm['metrics'], b: LossTerm['metrics']): LossTerm['metrics'] {
  for (const key of Object.keys(b)) {
    if (Object.prototype.hasOwnProperty.call(a, key)) {
      throw new Error(
        `objective sum: both terms report the metric '${key}'; wrap one (or both) in namespaced(prefix, objective) so their metrics stay apart`,
      );
    }
  }
  return { ...a, ...b };
}

/** The sum of two terms: losses add, metrics merge (names must be distinct). */
export const concatTerms = (a: LossTerm, b: LossTerm): LossTerm => ({
  loss: addLosses(a.loss, b.loss),
  metrics: mergeMetrics(a.metrics, b.metrics),
});

/** The sum of two objectives over the same input (the monoid's concat, `⊕` in docs/architecture.md). */
export const plus = <A>(x: Objective<A>, y: Objective<A>): Objective<A> => (input) => concatTerms(x(input), y(input));

export const getObjectiveSemigroup = <A>(): Semigroup<Objective<A>> => ({ concat: plus });

/** Objectives over one input type form a monoid under addition (fp-ts): `concat` is `plus`, `empty` is `zero()`. */
export const getObjectiveMonoid = <A>(): Monoid<Objective<A>> => ({ concat: plus, empty: zero<A>() });

/** The sum of any number of objectives (the zero objective for none). */
export const sumObjectives = <A>(objectives: readonly Objective<A>[]): Objective<A> =>
  concatAll(getObjectiveMonoid<A>())(objectives);

/** Multiplies an objective's loss by w; metrics are unchanged (they describe the term, not its weight). */
export function scale(w: number): <A>(objective: Objective<A>) => Objective<A>;
export function scale<A>(w: number, objective: Objective<A>): Objective<A>;
export function scale<A>(w: number, objective?: Objective<A>): Objective<A> | (<B>(o: Objective<B>) => Objective<B>) {
  if (!Number.isFinite(w)) throw new Error(`scale: weight must be a finite number (got ${w})`);
  const apply = <B>(o: Objective<B>): Objective<B> => (input) => {
    const term = o(input);
    if (term.loss === ZERO_LOSS || w === 1) return term;
    return { loss: mul(term.loss, w), metrics: term.metrics };
  };
  return objective === undefined ? apply : apply(objective);
}

/** TRL's `loss_weights`: Σ_i w_i · objective_i. */
export function weighted<A>(terms: readonly (readonly [number, Objective<A>])[]): Objective<A> {
  return sumObjectives(terms.map(([w, o]) => scale(w, o)));
}

/** Adapts an objective to a larger input: `contramap(f)(o)(b) = o(f(b))` (pipeable), or `contramap(f, o)`. */
export function contramap<A, B>(f: (b: B) => A): (objective: Objective<A>) => Objective<B>;
export function contramap<A, B>(f: (b: B) => A, objective: Objective<A>): Objective<B>;
export function contramap<A, B>(f: (b: B) => A, objective?: Objective<A>): Objective<B> | ((o: Objective<A>) => Objective<B>) {
  const apply = (o: Objective<A>): Objective<B> => (input) => o(f(input));
  return objective === undefined ? apply : apply(objective);
}

/** Prefixes every metric name with `prefix/` (e.g. `bco_pair/rewards/margins`), so that two terms' metrics never collide. */
export function namespaced(prefix: string): <A>(objective: Objective<A>) => Objective<A>;
export function namespaced<A>(prefix: string, objective: Objective<A>): Objective<A>;
export function namespaced<A>(prefix: string, objective?: Objective<A>): Objective<A> | (<B>(o: Objective<B>) => Objective<B>) {
  if (prefix === '') throw new Error('namespaced: the prefix must not be empty');
  const apply = <B>(o: Objective<B>): Objective<B> => (input) => {
    const term = o(input);
    return { loss: term.loss, metrics: Object.fromEntries(Object.entries(term.metrics).map(([k, v]) => [`${prefix}/${k}`, v])) };
  };
  return objective === undefined ? apply : apply(objective);
}

/** Metrics as plain numbers (for logging): tensors are read as scalars. */
export function metricValues(metrics: LossTerm['metrics']): Record<string, number> {
  return noGrad(() =>
    Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, v instanceof Tensor ? v.item() : v])),
  );
}
