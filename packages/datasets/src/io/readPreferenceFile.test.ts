import { fc, test } from '@fast-check/vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FormatName } from '../formats/rowFormats.js';
import { loadPreferenceDataset, summarizeSkipped } from './loadPreferenceDataset.js';
import { readPreferenceFile, type ReadOptions, type ReadRecord } from './readPreferenceFile.js';
import { FIXTURES, removeTempDirs, tempDir, writeTemp } from '../testFixtures.js';

afterAll(removeTempDirs);

async function readAll(path: string, options: ReadOptions): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  for await (const r of readPreferenceFile(path, options)) out.push(r);
  return out;
}
const fixture = (p: string) => join(FIXTURES, p);

type Entry =
  | { kind: 'valid'; prompt: string; chosen: string; rejected: string }
  | { kind: 'invalid'; bytes: Buffer }
  | { kind: 'blank'; bytes: Buffer };

const text = fc.string({ unit: 'binary', maxLength: 12 });
const validEntry = fc
  .tuple(text, text.filter((s) => s.length > 0), text.filter((s) => s.length > 0))
  .filter(([, c, r]) => c !== r)
  .map(([prompt, chosen, rejected]): Entry => ({ kind: 'valid', prompt, chosen, rejected }));
const invalidEntry = fc
  .constantFrom(
    '{"prompt":"p","chosen":5,"rejected":"r"}',
    '{"prompt":"p","chosen":"c"}',
    '{"prompt":"p","chosen":"c","rejected":"r","chosen":"d"}',
    '{"prompt":"p","chosen":',
    'not json at all',
    '{"prompt":"p","chosen":"same","rejected":"same"}',
    '[1,2,3]',
    '{"prompt":"p","chosen":"","rejected":"r"}',
    'INVALID_UTF8',
  )
  .map((s): Entry => ({
    kind: 'invalid',
    bytes: s === 'INVALID_UTF8' ? Buffer.from([0x7b, 0x22, 0x61, 0xc3, 0x28, 0x22, 0x7d]) : Buffer.from(s),
  }));
const blankEntry = fc.constantFrom('', '  ', '\t').map((s): Entry => ({ kind: 'blank', bytes: Buffer.from(s) }));
const fileShape = fc.record({
  entries: fc.array(fc.oneof({ arbitrary: validEntry, weight: 3 }, { arbitrary: invalidEntry, weight: 2 }, { arbitrary: blankEntry, weight: 1 }), {
    maxLength: 30,
  }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  finalNewline: fc.boolean(),
});

function writeEntries(dir: string, shape: { entries: Entry[]; crlf: boolean; bom: boolean; finalNewline: boolean }): string {
  const eol = Buffer.from(shape.crlf ? '\r\n' : '\n');
  const lines = shape.entries.map((e) => (e.kind === 'valid' ? Buffer.from(JSON.stringify({ prompt: e.prompt, chosen: e.chosen, rejected: e.rejected })) : e.bytes));
  const parts: Buffer[] = shape.bom ? [Buffer.from([0xef, 0xbb, 0xbf])] : [];
  lines.forEach((l, i) => parts.push(l, ...(i < lines.length - 1 || shape.finalNewline ? [eol] : [])));
  return writeTemp(dir, 'data.jsonl', Buffer.concat(parts));
}

/** What the reader must return for a file: the valid lines in order, and every invalid line as one error. */
function expected(entries: Entry[], mode: 'strict' | 'skip', probe = 10) {
  const numbered = entries.map((e, i) => ({ e, line: i + 1 })).filter((x) => x.e.kind !== 'blank');
  const firstValid = numbered.findIndex((x) => x.e.kind === 'valid');
  const rejectedAsFile = numbered.length >= probe && (firstValid < 0 || firstValid >= probe);
  if (rejectedAsFile) return { examples: [], errorLines: [null] };
  let kept = numbered;
  if (mode === 'strict') {
    const firstBad = numbered.findIndex((x) => x.e.kind === 'invalid');
    if (firstBad >= 0) kept = numbered.slice(0, firstBad + 1);
  }
  return {
    examples: kept.flatMap((x) => (x.e.kind === 'valid' ? [{ line: x.line, prompt: x.e.prompt, chosen: x.e.chosen, rejected: x.e.rejected }] : [])),
    errorLines: kept.flatMap((x) => (x.e.kind === 'invalid' ? [x.line] : [])),
  };
}

describe('readPreferenceFile', () => {
  const dir = tempDir();

  test.prop([fileShape, fc.constantFrom<'strict' | 'skip'>('strict', 'skip')])(
    'returns exactly the valid lines, in order, among valid, invalid and blank lines',
    async (shape, mode) => {
      const path = writeEntries(dir, shape);
      const records = await readAll(path, { mode, format: 'trl_explicit' });
      const want = expected(shape.entries, mode);
      expect(
        records.flatMap((r) => (r.kind === 'example' && r.example.kind === 'pair' ? [{ line: r.line, prompt: r.example.prompt, chosen: r.example.chosen, rejected: r.example.rejected }] : [])),
      ).toEqual(want.examples);
      expect(records.flatMap((r) => (r.kind === 'error' ? [r.error.line] : []))).toEqual(want.errorLines);
      // Records come in file order.
      const lines = records.map((r) => (r.kind === 'example' ? r.line : (r.error.line ?? Infinity)));
      expect(lines).toEqual([...lines].sort((a, b) => a - b));
    },
  );

  it.each<[string, FormatName, number]>([
    ['formats/trl-explicit.jsonl', 'trl_explicit', 3],
    ['formats/trl-implicit.jsonl', 'trl_implicit', 2],
    ['formats/trl-conversational-explicit.jsonl', 'trl_conversational_explicit', 2],
    ['formats/trl-conversational-implicit.jsonl', 'trl_conversational_implicit', 1],
    ['formats/hh-rlhf.jsonl', 'hh_rlhf', 2],
    ['formats/ultrafeedback-binarized.jsonl', 'ultrafeedback_binarized', 2],
    ['formats/unpaired.jsonl', 'unpaired', 2],
    ['formats/unpaired-conversational.jsonl', 'unpaired_conversational', 1],
    ['formats/prompt-completion.jsonl', 'prompt_completion', 2],
    ['formats/trl-explicit-array.json', 'trl_explicit', 2],
  ])('fixture %s is read as %s', async (file, format, n) => {
    const data = await loadPreferenceDataset(fixture(file));
    expect(data.errors).toEqual([]);
    expect(data.examples).toHaveLength(n);
    expect(Object.values(data.formats)).toEqual([format]);
  });

  it('a file of mixed errors: every bad line named, in skip mode all valid lines kept', async () => {
    const path = fixture('malformed/mixed-errors.jsonl');
    const skip = await loadPreferenceDataset(path, { mode: 'skip' });
    expect(skip.examples.map((e) => e.prompt)).toEqual(['ok 1', 'ok 2', 'ok 3']);
    expect(skip.errors.map((e) => e.message.slice(path.length))).toEqual([
      ':2: chosen: expected string, got number',
      ':4: rejected: missing (expected string)',
      ':5: duplicate key "chosen" (JSON.parse would silently keep the last one)',
      expect.stringMatching(/^:6: invalid JSON: /),
      ':7: chosen: expected a non-empty string, got empty string',
      ':8: rejected: identical to chosen',
    ]);
    expect(skip.counts).toMatchObject({ valid: 3, invalid: 6, stopped: false });
    expect(summarizeSkipped(skip.counts)).toMatch(/^6 lines skipped: 1 × chosen: /);

    const strict = await loadPreferenceDataset(path, { mode: 'strict' });
    expect(strict.examples.map((e) => e.prompt)).toEqual(['ok 1']);
    expect(strict.errors.map((e) => e.line)).toEqual([2]);
    expect(strict.counts.stopped).toBe(true);
  });

  it('a UTF-8 BOM, CRLF line ends and blank lines', async () => {
    const data = await loadPreferenceDataset(fixture('malformed/bom-crlf.jsonl'));
    expect(data.errors).toEqual([]);
    expect(data.examples).toEqual([
      { kind: 'pair', prompt: 'p1', chosen: ' a', rejected: ' b' },
      { kind: 'pair', prompt: 'p2', chosen: ' a', rejected: ' b' },
    ]);
  });

  it('invalid UTF-8 is an error naming its line, and the other lines are kept', async () => {
    const data = await loadPreferenceDataset(fixture('malformed/invalid-utf8.jsonl'), { mode: 'skip' });
    expect(data.examples.map((e) => e.prompt)).toEqual(['p1', 'p3']);
    expect(data.errors).toHaveLength(1);
    expect(data.errors[0]).toMatchObject({ line: 2, reason: 'invalid UTF-8', detail: 'invalid UTF-8 at byte 30 of the line (0xff)' });
  });

  it('a file that is not JSON Lines gets one message, not 10,000', async () => {
    const data = await loadPreferenceDataset(fixture('malformed/not-jsonl.csv'), { mode: 'skip' });
    expect(data.examples).toEqual([]);
    expect(data.errors).toHaveLength(1);
    expect(data.errors[0]).toMatchObject({ fatal: true, line: null, reason: 'not JSON Lines' });
    expect(data.errors[0].message).toMatch(/not-jsonl\.csv: not JSON Lines: none of the first 10 non-blank lines is a JSON value \(line 1: invalid JSON/);
  });

  it('rows of an unknown shape: one message listing the keys', async () => {
    const data = await loadPreferenceDataset(fixture('malformed/wrong-shape.jsonl'), { mode: 'skip' });
    expect(data.errors.map((e) => e.detail)).toEqual([
      'cannot detect the format: line 1 has keys "question", "answer". Known formats: trl_explicit, trl_implicit, trl_conversational_explicit, trl_conversational_implicit, hh_rlhf, ultrafeedback_binarized, unpaired, unpaired_conversational, prompt_completion, prompt_completion_conversational; pass one explicitly.',
    ]);
  });

  it('a wrong explicit format: one message once the first rows all fail', async () => {
    const dir2 = tempDir();
    const rows = Array.from({ length: 30 }, (_, i) => JSON.stringify({ prompt: `p${i}`, chosen: ' a', rejected: ' b' })).join('\n');
    const data = await loadPreferenceDataset(writeTemp(dir2, 'x.jsonl', rows), { mode: 'skip', format: 'ultrafeedback_binarized' });
    expect(data.errors).toHaveLength(1);
    expect(data.errors[0].message).toMatch(/none of the first 10 non-blank lines is a valid ultrafeedback_binarized row \(line 1: prompt_id: missing/);
  });

  it('JSON arrays: elements named by the line they start on; an unclosed array is fatal', async () => {
    const records = await readAll(fixture('formats/trl-explicit-array.json'), {});
    expect(records.map((r) => r.kind === 'example' && r.line)).toEqual([2, 7]);
    const broken = await loadPreferenceDataset(fixture('malformed/unclosed-array.json'), { mode: 'skip' });
    expect(broken.examples.map((e) => e.prompt)).toEqual(['p']);
    expect(broken.errors[0]).toMatchObject({ fatal: true, detail: 'line 3: the JSON array is not closed (file ends inside this element)' });
  });

  it('a directory of shards is read in name order, other files ignored', async () => {
    const data = await loadPreferenceDataset(fixture('shards'));
    expect(data.examples.map((e) => e.prompt)).toEqual(['a', 'b', 'c', 'd']);
    expect(Object.keys(data.formats)).toHaveLength(3);
    const empty = join(tempDir(), 'empty');
    mkdirSync(empty);
    expect((await loadPreferenceDataset(empty)).errors[0].message).toMatch(/no \.jsonl, \.ndjson, \.json files in this directory/);
  });

  it('a missing file is one clear error', async () => {
    const data = await loadPreferenceDataset(join(dir, 'nope.jsonl'));
    expect(data.errors[0]).toMatchObject({ fatal: true, line: null });
    expect(data.errors[0].message).toMatch(/nope\.jsonl: cannot read: ENOENT/);
  });

  it('very long lines (10 MB) are read; over maxLineBytes they are reported and skipped', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const path = writeTemp(dir, 'long.jsonl', [JSON.stringify({ prompt: 'p', chosen: big, rejected: ' b' }), JSON.stringify({ prompt: 'q', chosen: ' a', rejected: ' b' })].join('\n'));
    const data = await loadPreferenceDataset(path);
    expect(data.examples.map((e) => (e.kind === 'pair' ? e.chosen.length : 0))).toEqual([big.length, 2]);
    const capped = await loadPreferenceDataset(path, { mode: 'skip', maxLineBytes: 1024 * 1024 });
    expect(capped.examples.map((e) => e.prompt)).toEqual(['q']);
    expect(capped.errors[0]).toMatchObject({ line: 1, reason: 'too long' });
  });

  it('format detection waits past rows it cannot place, and decodes them once it knows', async () => {
    const lines = ['{"foo": 1}', '{"prompt":"p","chosen":" a","rejected":" b"}', '{"prompt":"q","chosen":" a","rejected":" b"}'];
    const data = await loadPreferenceDataset(writeTemp(dir, 'late.jsonl', lines.join('\n')), { mode: 'skip' });
    expect(data.examples.map((e) => e.prompt)).toEqual(['p', 'q']);
    expect(data.errors.map((e) => e.message.replace(/^.*late\.jsonl/, ''))).toEqual([':1: prompt: missing (expected string); chosen: missing (expected string); rejected: missing (expected string)']);
  });

  it('an empty file has no examples and no errors', async () => {
    const data = await loadPreferenceDataset(writeTemp(dir, 'empty.jsonl', ''));
    expect(data).toMatchObject({ examples: [], errors: [] });
  });
});
