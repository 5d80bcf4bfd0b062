import { fc, test } from '@fast-check/vitest';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { findDuplicateKey } from './duplicateKeys.js';
import { parseUnit } from './parseUnit.js';
import { firstInvalidUtf8Offset } from './utf8.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('duplicate keys', () => {
  test.prop([fc.jsonValue()])('JSON.stringify output never has a duplicate key', (value) => {
    expect(findDuplicateKey(JSON.stringify(value))).toBeNull();
  });

  it('finds duplicates with their path, also when spelled with escapes', () => {
    expect(findDuplicateKey('{"a":1,"a":2}')).toBe('a');
    expect(findDuplicateKey('{"a":1,"\\u0061":2}')).toBe('a');
    expect(findDuplicateKey('{"x":[{"r":1},{"r":1,"r":2}]}')).toBe('x[1].r');
    expect(findDuplicateKey('{"a":{"b":1},"c":{"b":2}}')).toBeNull();
    expect(findDuplicateKey('{"s":"a\\"b\\\\","t":"\\\\","s":1}')).toBe('s');
  });
});

describe('UTF-8 validation', () => {
  test.prop([fc.uint8Array({ maxLength: 24 })])('the first invalid offset agrees with a fatal TextDecoder', (b) => {
    const at = firstInvalidUtf8Offset(b);
    let valid = true;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      valid = false;
    }
    expect(at === b.length).toBe(valid);
    if (!valid) new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, at)); // the prefix is valid
  });

  test.prop([fc.string({ unit: 'binary' })])('valid text has no invalid offset', (s) => {
    expect(firstInvalidUtf8Offset(bytes(s))).toBe(bytes(s).length);
  });
});

describe('parseUnit', () => {
  it('strips a BOM only when asked, and one trailing CR', () => {
    const withBom = Uint8Array.from([0xef, 0xbb, 0xbf, ...bytes('{"a":1}\r')]);
    expect(parseUnit(withBom, true)).toEqual(E.right({ blank: false, value: { a: 1 } }));
    const later = parseUnit(withBom, false);
    expect(E.isLeft(later) && later.left.detail).toMatch(/byte order mark/);
  });

  it('blank lines, invalid UTF-8, invalid JSON, duplicate keys', () => {
    expect(parseUnit(bytes(' \t\r'), false)).toEqual(E.right({ blank: true }));
    const bad = parseUnit(Uint8Array.from([0x7b, 0x22, 0xff, 0x22]), false);
    expect(E.isLeft(bad) && bad.left).toEqual({ reason: 'invalid UTF-8', detail: 'invalid UTF-8 at byte 3 of the line (0xff)' });
    const notJson = parseUnit(bytes('{"a":'), false);
    expect(E.isLeft(notJson) && notJson.left.reason).toBe('invalid JSON');
    const dup = parseUnit(bytes('{"chosen":"a","chosen":"b"}'), false);
    expect(E.isLeft(dup) && dup.left.reason).toBe('duplicate key "chosen"');
  });
});
