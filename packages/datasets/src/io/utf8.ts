import * as E from 'fp-ts/lib/Either.js';

// Fatal: invalid bytes are an error, not U+FFFD. ignoreBOM: a BOM is only legal at the very start of a
// file, which the reader strips itself; anywhere else it must show up rather than vanish.
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 bytes; Left names the byte offset of the first invalid sequence. */
export function decodeUtf8(bytes: Uint8Array): E.Either<string, string> {
  try {
    return E.right(strictDecoder.decode(bytes));
  } catch {
    const at = firstInvalidUtf8Offset(bytes);
    return E.left(`invalid UTF-8 at byte ${at + 1} of the line (0x${bytes[at]?.toString(16).padStart(2, '0') ?? '??'})`);
  }
}

/** Offset of the first byte that does not begin a well-formed UTF-8 sequence (bytes.length if none). */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (need === 0) return i;
    const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}
