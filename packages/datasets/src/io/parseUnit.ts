import * as E from 'fp-ts/lib/Either.js';
import { findDuplicateKey } from './duplicateKeys.js';
import { decodeUtf8 } from './utf8.js';

/** Why a line (or JSON array element) could not be turned into a JSON value. */
export interface ParseFailure {
  /** Short, for counting: `invalid UTF-8`, `invalid JSON`, `duplicate key "chosen"`, `line too long`. */
  readonly reason: string;
  readonly detail: string;
}

export type ParsedUnit = { readonly blank: true } | { readonly blank: false; readonly value: unknown };

const MAX_DETAIL = 160;

/**
 * Bytes of one line (already split on \n) to a JSON value: strips a UTF-8 BOM when asked (first line of
 * a file only) and one trailing \r (CRLF files), decodes UTF-8 strictly, parses, and rejects duplicate keys.
 * A line of only whitespace is blank.
 */
export function parseUnit(bytes: Uint8Array, stripBom: boolean): E.Either<ParseFailure, ParsedUnit> {
  let start = 0;
  let end = bytes.length;
  if (stripBom && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  if (end > start && bytes[end - 1] === 0x0d) end--;
  if (isAllWhitespace(bytes, start, end)) return E.right({ blank: true });
  const text = decodeUtf8(bytes.subarray(start, end));
  if (E.isLeft(text)) return E.left({ reason: 'invalid UTF-8', detail: text.left });
  let value: unknown;
  try {
    value = JSON.parse(text.right);
  } catch (e) {
    return E.left({ reason: 'invalid JSON', detail: `invalid JSON: ${shorten(describeJsonError(e, text.right))}` });
  }
  const duplicate = findDuplicateKey(text.right);
  if (duplicate !== null)
    return E.left({ reason: `duplicate key "${duplicate}"`, detail: `duplicate key "${duplicate}" (JSON.parse would silently keep the last one)` });
  return E.right({ blank: false, value });
}

function isAllWhitespace(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false;
  }
  return true;
}

function describeJsonError(e: unknown, text: string): string {
  if (text.charCodeAt(0) === 0xfeff) return 'starts with a byte order mark (U+FEFF), allowed only at the start of a file';
  return e instanceof Error ? e.message : String(e);
}

const shorten = (s: string): string => (s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}…` : s);
