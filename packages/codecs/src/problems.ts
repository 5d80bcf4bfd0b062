import type * as t from 'io-ts';

/**
 * The one formatter of io-ts errors, used by every package and the CLI: each problem is a path into the value
 * (`preference.lr`, `chosen[0].content`), what was expected and what was found, one line each.
 */

export interface Problem {
  /** Dotted path, array indices in brackets (`eval.temperatures[1]`); '' for the value itself. */
  readonly path: string;
  /** `expected a number > 0, got -1`, `missing (expected string)`, or a codec's own message. */
  readonly reason: string;
}

export interface FormatOptions {
  /**
   * How a found value is shown. Configuration shows the value itself ({@link showValue}); data rows show only its
   * kind ({@link describeValue}), so that a long or private text is never echoed.
   */
  readonly show?: (value: unknown) => string;
}

type Tagged = t.Decoder<unknown, unknown> & { _tag?: string };
const tagOf = (type: t.Decoder<unknown, unknown> | undefined): string | undefined => (type as Tagged | undefined)?._tag;

/** Codecs whose members (or inner codec) appear in the context under an index that is not part of the user's path. */
const WRAPPERS = new Set(['UnionType', 'IntersectionType', 'ExactType', 'RefinementType', 'ReadonlyType']);
const OBJECTS = new Set(['InterfaceType', 'PartialType', 'ExactType', 'StrictType', 'DictionaryType']);

/** A JSON value, cut to 60 characters; `undefined` never reaches it (a missing key is reported as missing). */
export function showValue(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** A short description of a JSON value's kind: `string`, `empty string`, `number`, `array`, `null`, `object`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return value === '' ? 'empty string' : 'string';
  return typeof value;
}

/** What a codec accepts, in words: object and array codecs by kind, others by name. */
function expectedName(type: t.Decoder<unknown, unknown>): string {
  switch (tagOf(type)) {
    case 'InterfaceType':
    case 'PartialType':
    case 'IntersectionType':
    case 'ExactType':
    case 'StrictType':
    case 'UnknownRecordType':
      return 'object';
    case 'ArrayType':
    case 'ReadonlyArrayType':
    case 'UnknownArrayType':
      return 'array';
    default:
      return type.name;
  }
}

/**
 * io-ts errors as problems, one per path. The keys io-ts adds for union members and intersection parts are left out
 * of the path; a value that fails every member of a union (`number or null`) is one problem naming the union.
 */
export function problemsFromErrors(errors: t.Errors, options: FormatOptions = {}): Problem[] {
  const show = options.show ?? showValue;
  const byPath = new Map<string, Problem>();
  for (const error of errors) {
    let path = '';
    let union: t.Decoder<unknown, unknown> | undefined;
    for (let i = 1; i < error.context.length; i++) {
      const parent = error.context[i - 1].type;
      if (WRAPPERS.has(tagOf(parent) ?? '')) {
        if (tagOf(parent) === 'UnionType') union ??= parent;
        continue;
      }
      const key = error.context[i].key;
      union = undefined;
      // Numeric keys under anything but an object codec are array indices.
      if (/^\d+$/.test(key) && !OBJECTS.has(tagOf(parent) ?? '')) path += `[${key}]`;
      else path += path === '' ? key : `.${key}`;
    }
    if (byPath.has(path)) continue;
    const leaf = union ?? error.context[error.context.length - 1]?.type;
    const expected = leaf ? expectedName(leaf) : 'a valid value';
    const reason = error.message ?? (error.value === undefined ? `missing (expected ${expected})` : `expected ${expected}, got ${show(error.value)}`);
    byPath.set(path, { path, reason });
  }
  return [...byPath.values()];
}

/** One problem as a line: `path: reason`, with `root` standing for the value itself. */
export const renderProblem = (p: Problem, root = '(root)'): string => `${p.path || root}: ${p.reason}`;

/** io-ts errors as lines (see {@link problemsFromErrors}). */
export const formatErrors = (errors: t.Errors, options: FormatOptions & { root?: string } = {}): string[] =>
  problemsFromErrors(errors, options).map((p) => renderProblem(p, options.root));
