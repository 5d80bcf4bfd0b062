import type * as t from 'io-ts';

/** One thing wrong with a row: where (a field path such as `chosen[0].content`) and what. */
export interface Issue {
  readonly path: string;
  readonly problem: string;
}

export const ROOT_PATH = 'row';

export const renderIssue = (issue: Issue): string => `${issue.path}: ${issue.problem}`;

/**
 * Turns io-ts validation errors into issues such as `chosen: expected string, got number`.
 * Keys that io-ts adds for the branches of intersections and unions are not part of the user's field
 * path, so they are left out.
 */
export function issuesFromValidationErrors(errors: t.Errors): Issue[] {
  const seen = new Set<string>();
  const out: Issue[] = [];
  for (const error of errors) {
    const issue: Issue = { path: pathOf(error.context), problem: error.message ?? describeMismatch(error) };
    const key = renderIssue(issue);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(issue);
    }
  }
  return out;
}

const OBJECT_TAGS = new Set(['InterfaceType', 'PartialType', 'ExactType', 'StrictType', 'DictionaryType']);

function pathOf(context: t.Context): string {
  let path = '';
  for (let i = 1; i < context.length; i++) {
    const parentTag = tagOf(context[i - 1].type);
    if (parentTag === 'IntersectionType' || parentTag === 'UnionType') continue;
    const key = context[i].key;
    // Numeric keys under anything but an object are array indices (also under wrappers of array codecs).
    if (/^\d+$/.test(key) && !OBJECT_TAGS.has(parentTag ?? '')) path += `[${key}]`;
    else path += path === '' ? key : `.${key}`;
  }
  return path === '' ? ROOT_PATH : path;
}

function describeMismatch(error: t.ValidationError): string {
  const leaf = error.context[error.context.length - 1];
  const expected = leaf ? expectedName(leaf.type) : 'a valid value';
  if (error.value === undefined) return `missing (expected ${expected})`;
  return `expected ${expected}, got ${describeValue(error.value)}`;
}

const tagOf = (type: t.Decoder<unknown, unknown>): string | undefined => (type as { _tag?: string })._tag;

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

/** A short, user-facing description of a JSON value's type. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return value === '' ? 'empty string' : 'string';
  return typeof value;
}
