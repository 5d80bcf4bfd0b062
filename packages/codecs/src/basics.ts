import * as t from 'io-ts';

/** One of a list of strings; the name lists them (`one of 'a', 'b'`), which the formatter shows as expected. */
export function oneOf<K extends string>(values: readonly K[], name = `one of ${values.map((v) => `'${v}'`).join(', ')}`): t.KeyofC<{ [P in K]: null }> {
  return t.keyof(Object.fromEntries(values.map((v) => [v, null])) as { [P in K]: null }, name);
}

export interface NonEmptyStringBrand {
  readonly NonEmptyString: unique symbol;
}

/** A string with at least one character (named in words for the formatter). */
export const nonEmptyString = Object.assign(
  t.brand(t.string, (s): s is t.Branded<string, NonEmptyStringBrand> => s.length > 0, 'NonEmptyString'),
  { name: 'a non-empty string' },
);

/** `codec` or null, named for the formatter (`a number > 0 or null`). */
export const nullable = <C extends t.Mixed>(codec: C, name = `${codec.name} or null`) => t.union([codec, t.null], name);
