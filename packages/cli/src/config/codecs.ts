import * as t from 'io-ts';

/**
 * Small io-ts building blocks for configuration: numbers with ranges, enums from string lists, and the
 * two checks io-ts does not do for us: unknown keys (with a "did you mean" hint) and readable error lines
 * ("path: reason, got value").
 */

type Bounds = { gt?: number; ge?: number; lt?: number; le?: number };

function boundsText(b: Bounds): string {
  const parts: string[] = [];
  if (b.gt !== undefined) parts.push(`> ${b.gt}`);
  if (b.ge !== undefined) parts.push(`≥ ${b.ge}`);
  if (b.lt !== undefined) parts.push(`< ${b.lt}`);
  if (b.le !== undefined) parts.push(`≤ ${b.le}`);
  return parts.join(' and ');
}

const inBounds = (x: number, b: Bounds) =>
  (b.gt === undefined || x > b.gt) && (b.ge === undefined || x >= b.ge) && (b.lt === undefined || x < b.lt) && (b.le === undefined || x <= b.le);

/** A finite number within bounds; its name is the reason shown to users ("a number > 0"). */
export function num(bounds: Bounds = {}, name?: string): t.Type<number, number, unknown> {
  const text = boundsText(bounds);
  const label = name ?? (text ? `a number ${text}` : 'a finite number');
  const ok = (u: unknown): u is number => typeof u === 'number' && Number.isFinite(u) && inBounds(u, bounds);
  return new t.Type<number, number, unknown>(label, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), t.identity);
}

/** An integer within bounds. */
export function int(bounds: Bounds = {}, name?: string): t.Type<number, number, unknown> {
  const text = boundsText(bounds);
  const label = name ?? (text ? `an integer ${text}` : 'an integer');
  const ok = (u: unknown): u is number => typeof u === 'number' && Number.isSafeInteger(u) && inBounds(u, bounds);
  return new t.Type<number, number, unknown>(label, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), t.identity);
}

/** One of a list of strings; the name lists them. */
export function oneOf<K extends string>(values: readonly K[], name?: string): t.Type<K, K, unknown> {
  const set = new Set<string>(values);
  const label = name ?? `one of ${values.map((v) => `'${v}'`).join(', ')}`;
  const ok = (u: unknown): u is K => typeof u === 'string' && set.has(u);
  return new t.Type<K, K, unknown>(label, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), t.identity);
}

/** A non-empty string. */
export const nonEmptyString = new t.Type<string, string, unknown>(
  'a non-empty string',
  (u): u is string => typeof u === 'string' && u.length > 0,
  (u, c) => (typeof u === 'string' && u.length > 0 ? t.success(u) : t.failure(u, c)),
  t.identity,
);

export const nullable = <C extends t.Mixed>(c: C, name = `${c.name} or null`) => t.union([c, t.null], name);

// ---------------------------------------------------------------------------------------------------------
// Error formatting.

export interface ConfigProblem {
  /** Dotted path into the config ("preference.lr"); '' for the root. */
  readonly path: string;
  readonly reason: string;
}

const isComposite = (type: t.Decoder<unknown, unknown> | undefined): boolean => {
  const tag = (type as { _tag?: string } | undefined)?._tag;
  return tag === 'UnionType' || tag === 'IntersectionType' || tag === 'ExactType' || tag === 'RefinementType' || tag === 'ReadonlyType';
};

export function show(value: unknown): string {
  if (value === undefined) return 'nothing (the key is missing)';
  const s = JSON.stringify(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * io-ts errors as problems with a dotted path and a reason. For a value inside a union (e.g. `number or
 * null`) io-ts reports one error per member; those collapse into one problem naming the union.
 */
export function problemsFromErrors(errors: t.Errors): ConfigProblem[] {
  const byPath = new Map<string, ConfigProblem>();
  for (const e of errors) {
    const keys: string[] = [];
    let reasonType: t.Decoder<unknown, unknown> | undefined;
    for (let i = 0; i < e.context.length; i++) {
      const c = e.context[i];
      const parent = i > 0 ? e.context[i - 1].type : undefined;
      if (c.key === '' || isComposite(parent)) {
        // A member of a union (or the inner type of exact/refinement): not part of the user's path.
        if (isComposite(parent) && (parent as { _tag?: string })._tag === 'UnionType' && reasonType === undefined) reasonType = parent;
        continue;
      }
      keys.push(c.key);
      reasonType = undefined;
    }
    const path = keys.join('.');
    const last = e.context[e.context.length - 1];
    const expected = (reasonType ?? last?.type)?.name ?? 'a valid value';
    const reason = e.message ?? `expected ${expected}, got ${show(e.value)}`;
    if (!byPath.has(path)) byPath.set(path, { path, reason });
  }
  return [...byPath.values()];
}

// ---------------------------------------------------------------------------------------------------------
// Unknown keys.

type AnyCodec = t.Decoder<unknown, unknown> & { _tag?: string; props?: t.Props; type?: unknown; types?: unknown[] };

/** The property codecs of an object codec (type, partial, exact, intersection of those), or null. */
export function propsOf(codec: AnyCodec): t.Props | null {
  switch (codec._tag) {
    case 'InterfaceType':
    case 'PartialType':
    case 'StrictType':
      return codec.props ?? null;
    case 'ExactType':
    case 'RefinementType':
    case 'ReadonlyType':
      return propsOf(codec.type as AnyCodec);
    case 'IntersectionType': {
      // An intersection with an open record (checked elsewhere, e.g. by another package's codec): no key check.
      if ((codec.types as AnyCodec[]).some((m) => m._tag === 'AnyDictionaryType' || m._tag === 'UnknownRecordType' || m._tag === 'DictionaryType')) return null;
      const all = (codec.types as AnyCodec[]).map(propsOf);
      if (all.every((p) => p === null)) return null;
      return Object.assign({}, ...all.filter((p) => p !== null));
    }
    case 'UnionType': {
      // e.g. `object or null`: the object members' props.
      const all = (codec.types as AnyCodec[]).map(propsOf).filter((p): p is t.Props => p !== null);
      return all.length > 0 ? Object.assign({}, ...all) : null;
    }
    default:
      return null;
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

/** The closest candidate to `word`, if close enough to be a likely typo. */
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

/**
 * Every key of `value` that the object codec does not declare, recursively, as problems with the path and
 * a suggestion. io-ts's `exact` strips unknown keys silently; a config file typo must be an error instead.
 */
export function unknownKeys(codec: AnyCodec, value: unknown, path: string[] = []): ConfigProblem[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const props = propsOf(codec);
  if (props === null) return [];
  const problems: ConfigProblem[] = [];
  const known = Object.keys(props);
  for (const [key, v] of Object.entries(value)) {
    if (!(key in props)) {
      const hint = suggest(key, known);
      problems.push({
        path: [...path, key].join('.'),
        reason: `unknown key${hint ? ` (did you mean '${hint}'?)` : ''}; known keys here: ${known.join(', ')}`,
      });
      continue;
    }
    problems.push(...unknownKeys(props[key] as AnyCodec, v, [...path, key]));
  }
  return problems;
}

export const formatProblem = (p: ConfigProblem): string => `${p.path || '(root)'}: ${p.reason}`;
