import * as t from 'io-ts';

/**
 * Numbers with a range, as branded io-ts codecs: `positive` decodes to `number & Brand<...>`, so a value that
 * passed the check is told apart, by type, from one that did not. Each codec's name is the range in words
 * ("a number > 0"), which the error formatter shows as what was expected.
 */

export interface Bounds {
  readonly gt?: number;
  readonly ge?: number;
  readonly lt?: number;
  readonly le?: number;
}

export function boundsText(b: Bounds): string {
  const parts: string[] = [];
  if (b.gt !== undefined) parts.push(`> ${b.gt}`);
  if (b.ge !== undefined) parts.push(`≥ ${b.ge}`);
  if (b.lt !== undefined) parts.push(`< ${b.lt}`);
  if (b.le !== undefined) parts.push(`≤ ${b.le}`);
  return parts.join(' and ');
}

export const inBounds = (x: number, b: Bounds): boolean =>
  (b.gt === undefined || x > b.gt) && (b.ge === undefined || x >= b.ge) && (b.lt === undefined || x < b.lt) && (b.le === undefined || x <= b.le);

/** The brand of a ranged number: the range's name. */
export type RangeBrand<N extends string> = { readonly [K in N]: symbol };
export type RangedNumber<N extends string = string> = t.BrandC<t.NumberC, RangeBrand<N>>;

/**
 * A finite number within `bounds` (`number` for any finite number). The name defaults to the range in words;
 * `integer: true` also requires a safe integer.
 */
export function num<N extends string = string>(bounds: Bounds = {}, options: { integer?: boolean; name?: N } = {}): RangedNumber<N> {
  const text = boundsText(bounds);
  const kind = options.integer ? 'an integer' : 'a number';
  const name = (options.name ?? (text ? `${kind} ${text}` : options.integer ? 'an integer' : 'a finite number')) as N;
  const ok = (n: number) => (options.integer ? Number.isSafeInteger(n) : Number.isFinite(n)) && inBounds(n, bounds);
  return t.brand(t.number, (n): n is t.Branded<number, RangeBrand<N>> => ok(n), name);
}

/** An integer within `bounds`. */
export const int = <N extends string = string>(bounds: Bounds = {}, name?: N): RangedNumber<N> => num(bounds, { integer: true, name });

/**
 * `codec`, also accepting its value written as a string (`"0.5"`, `".5"`, `"true"`): command-line flags arrive as
 * text. A numeric string (as `Number` reads it) becomes a number and `"true"`/`"false"` a boolean, then `codec`
 * decodes the result; anything else fails as `codec` would.
 */
export function orString<C extends t.Mixed>(codec: C): t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> {
  const fromText = (u: string): unknown => {
    if (u === 'true' || u === 'false') return u === 'true';
    return u.trim() !== '' && !Number.isNaN(Number(u)) ? Number(u) : u;
  };
  // A custom type: io-ts has no combinator that converts the input before another codec decodes it.
  return new t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown>(
    codec.name,
    codec.is,
    (u, c) => codec.validate(typeof u === 'string' ? fromText(u) : u, c),
    codec.encode,
  );
}
