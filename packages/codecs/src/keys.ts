import * as t from 'io-ts';
import type { Problem } from './problems.js';

/**
 * Unknown keys. io-ts ignores (or, with `exact`, strips) keys a codec does not declare; in a configuration a typo
 * must be an error instead, with the path and the likely intended key.
 */

type AnyCodec = t.Decoder<unknown, unknown> & { _tag?: string; props?: t.Props; type?: unknown; types?: unknown[] };

/** The property codecs of an object codec (type, partial, exact, strict, intersections and unions of those), or null. */
export function propsOf(codec: t.Decoder<unknown, unknown>): t.Props | null {
  const c = codec as AnyCodec;
  switch (c._tag) {
    case 'InterfaceType':
    case 'PartialType':
    case 'StrictType':
      return c.props ?? null;
    case 'ExactType':
    case 'RefinementType':
    case 'ReadonlyType':
      return propsOf(c.type as AnyCodec);
    case 'IntersectionType': {
      // An intersection with an open record leaves its keys to another codec (another package's): no check here.
      const members = c.types as AnyCodec[];
      if (members.some((m) => m._tag === 'AnyDictionaryType' || m._tag === 'UnknownRecordType' || m._tag === 'DictionaryType')) return null;
      const all = members.map(propsOf);
      return all.every((p) => p === null) ? null : Object.assign({}, ...all.filter((p) => p !== null));
    }
    case 'UnionType': {
      const all = (c.types as AnyCodec[]).map(propsOf).filter((p): p is t.Props => p !== null);
      return all.length > 0 ? Object.assign({}, ...all) : null;
    }
    default:
      return (c as { [STRICT]?: t.Props })[STRICT] ?? null;
  }
}

export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate to `word` when close enough to be a likely typo (case, `-` and `_` ignored). */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = norm(c) === norm(word) ? 0 : editDistance(norm(word), norm(c));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Why `key` is not accepted among `known`. */
export function unknownKeyReason(key: string, known: readonly string[]): string {
  const hint = suggest(key, known);
  return `unknown key${hint ? ` (did you mean '${hint}'?)` : ''}; known keys here: ${known.join(', ')}`;
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/** Every key of `value` that the object codec does not declare, at any depth, with its path and a suggestion. */
export function unknownKeys(codec: t.Decoder<unknown, unknown>, value: unknown, path: readonly string[] = []): Problem[] {
  if (!isRecord(value)) return [];
  const props = propsOf(codec);
  if (props === null) return [];
  const known = Object.keys(props);
  return Object.entries(value).flatMap(([key, v]) =>
    key in props ? unknownKeys(props[key], v, [...path, key]) : [{ path: [...path, key].join('.'), reason: unknownKeyReason(key, known) }],
  );
}

const STRICT = Symbol('strict props');

/**
 * `codec` (an object codec) that also fails on keys it does not declare, one error per unknown key, together with
 * the codec's own errors (all problems at once). Nested object codecs are checked by their own `strict`; an open
 * object (an intersection with a record) is returned as it is.
 */
export function strict<C extends t.Mixed>(codec: C, name: string = codec.name): t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> {
  const declared = propsOf(codec);
  // An open object (an intersection with a record) leaves its keys to whoever reads them: nothing to check here.
  if (declared === null) return codec;
  const props = declared;
  const known = Object.keys(props);
  // A custom type: io-ts's t.exact strips unknown keys silently, and no combinator reports them beside the codec's own errors.
  const type = new t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown>(
    name,
    (u): u is t.TypeOf<C> => codec.is(u) && isRecord(u) && Object.keys(u).every((k) => k in props),
    (u, c) => {
      // The inner codec stands in this entry of the context, so that the formatter sees an intersection as one.
      const innerContext: t.Context = [...c.slice(0, -1), { ...c[c.length - 1], type: codec }];
      const inner = codec.validate(u, innerContext);
      if (!isRecord(u)) return inner;
      const extra: t.ValidationError[] = Object.keys(u)
        .filter((k) => !(k in props))
        .map((k) => ({ value: u[k], context: [...c, { key: k, type: t.never, actual: u[k] }], message: unknownKeyReason(k, known) }));
      if (extra.length === 0) return inner;
      return t.failures(inner._tag === 'Left' ? [...extra, ...inner.left] : extra);
    },
    codec.encode,
  );
  return Object.assign(type, { [STRICT]: props });
}
