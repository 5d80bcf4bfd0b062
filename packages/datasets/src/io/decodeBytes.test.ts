import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../testFixtures.js';
import { decodePreferenceBytes } from './decodeBytes.js';
import { readPreferenceFile, type ReadRecord } from './readPreferenceFile.js';

/*
 * Property: a JSON Lines file decoded from memory (a file dropped on the web page) gives exactly the
 * records readPreferenceFile gives for it on disk in skip mode (every record; the caller decides whether the
 * first error stops it): examples, formats, line numbers and error messages.
 */

async function fromDisk(path: string): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  for await (const r of readPreferenceFile(path, { container: 'jsonl', mode: 'skip' })) out.push(r);
  return out;
}

const jsonlFixtures = ['formats', 'malformed'].flatMap((d) =>
  readdirSync(join(FIXTURES, d)).filter((f) => f.endsWith('.jsonl')).map((f) => join(FIXTURES, d, f)),
);

describe('decodePreferenceBytes', () => {
  it.each(jsonlFixtures)('%s: the same records as readPreferenceFile', async (path) => {
    const fromMemory = await decodePreferenceBytes(path, new Uint8Array(readFileSync(path)));
    expect(fromMemory).toEqual(await fromDisk(path));
  });

  it('names the file and line of a bad row', async () => {
    const bytes = new TextEncoder().encode('{"prompt": "p", "chosen": "a", "rejected": "b"}\n{"prompt": "p", "chosen": 3, "rejected": "b"}\n');
    const records = await decodePreferenceBytes('dropped.jsonl', bytes);
    expect(records[0].kind).toBe('example');
    expect(records[1]).toMatchObject({ kind: 'error', error: { file: 'dropped.jsonl', line: 2 } });
    expect(records[1].kind === 'error' && records[1].error.message).toMatch(/^dropped\.jsonl:2: .*chosen/);
  });
});
