/**
 * JSON.parse silently keeps the last of two equal keys (`{"chosen":"a","chosen":"b"}` parses as "b").
 * For training data that hides a real mistake, so the reader looks for duplicates and reports them.
 * This is a light scanner over text that JSON.parse has already accepted: it only tracks strings,
 * brackets, commas and colons, and jumps over string bodies with indexOf.
 */

interface Frame {
  /** Keys seen so far in this object; null for an array. */
  readonly keys: Set<string> | null;
  key: string;
  index: number;
  expectKey: boolean;
}

/** The path of the first duplicated key (`chosen`, `chosen[0].role`), or null when there is none. */
export function findDuplicateKey(json: string): string | null {
  const stack: Frame[] = [];
  const n = json.length;
  for (let i = 0; i < n; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x7b /* { */) stack.push({ keys: new Set(), key: '', index: 0, expectKey: true });
    else if (c === 0x5b /* [ */) stack.push({ keys: null, key: '', index: 0, expectKey: false });
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.index++;
    } else if (c === 0x22 /* " */) {
      const end = closingQuote(json, i);
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = json.slice(i + 1, end);
        // Escapes can spell one key two ways ("a" and "\u0061"): compare decoded keys.
        const key: string = raw.includes('\\') ? JSON.parse(json.slice(i, end + 1)) : raw;
        if (top.keys.has(key)) return pathTo(stack, key);
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    }
  }
  return null;
}

function closingQuote(json: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = json.indexOf('"', from);
    if (q < 0) return json.length;
    let backslashes = 0;
    for (let k = q - 1; json.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
    from = q + 1;
  }
}

function pathTo(stack: ReadonlyArray<Frame>, key: string): string {
  let path = '';
  for (let d = 0; d < stack.length - 1; d++) {
    const f = stack[d];
    path += f.keys ? (path === '' ? f.key : `.${f.key}`) : `[${f.index}]`;
  }
  return path === '' ? key : `${path}.${key}`;
}
