import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { RawUnit } from './rawUnits.js';
import { splitJsonArray } from './splitJsonArray.js';
import { splitLines } from './splitLines.js';

/** Cuts a buffer into chunks at the given (sorted, deduplicated) offsets. */
function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, buf.length]) {
    if (p > from) out.push(buf.subarray(from, p));
    from = Math.max(from, p);
  }
  return out;
}

async function collect(gen: AsyncGenerator<RawUnit>): Promise<RawUnit[]> {
  const out: RawUnit[] = [];
  for await (const u of gen) out.push(u);
  return out;
}

async function* from(chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

const texts = (units: RawUnit[]) => units.map((u) => (u.kind === 'unit' ? Buffer.from(u.bytes).toString('utf8') : `<${u.kind}>`));

describe('splitLines', () => {
  test.prop([fc.array(fc.string({ unit: 'binary' }).map((s) => s.replace(/\n/g, '')), { maxLength: 12 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 8 })])(
    'gives back the lines, numbered, whatever the chunking',
    async (lines, finalNewline, cuts) => {
      const text = lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : '');
      const units = await collect(splitLines(from(chunked(Buffer.from(text, 'utf8'), cuts)), 1 << 20));
      // A trailing empty line (from a final newline, or an empty last line) is not a line of its own.
      const expected = text === '' ? [] : text.split('\n');
      if (text.endsWith('\n')) expected.pop();
      expect(texts(units)).toEqual(expected);
      expect(units.map((u) => u.line)).toEqual(expected.map((_, i) => i + 1));
    },
  );

  it('reports a line over the limit without keeping it, and goes on', async () => {
    const units = await collect(splitLines(from([Buffer.from('ab\n'), Buffer.from('x'.repeat(50)), Buffer.from('y'.repeat(50) + '\ncd')]), 64));
    expect(units).toEqual([
      { kind: 'unit', line: 1, bytes: Buffer.from('ab') },
      { kind: 'too_long', line: 2, size: 100 },
      { kind: 'unit', line: 3, bytes: Buffer.from('cd') },
    ]);
  });
});

describe('splitJsonArray', () => {
  test.prop([fc.array(fc.jsonValue(), { maxLength: 8 }), fc.constantFrom(undefined, 0, 1, 2, '\t'), fc.array(fc.nat(), { maxLength: 8 })])(
    'gives back each element with the line it starts on',
    async (values, indent, cuts) => {
      const text = JSON.stringify(values, null, indent);
      const units = await collect(splitJsonArray(from(chunked(Buffer.from(text, 'utf8'), cuts)), 1 << 20));
      expect(units.map((u) => (u.kind === 'unit' ? JSON.parse(Buffer.from(u.bytes).toString('utf8')) : u))).toEqual(
        values.map((v) => JSON.parse(JSON.stringify(v))),
      );
      // Each element starts on its line: the text before it has (line − 1) newlines.
      for (const u of units) if (u.kind === 'unit') expect(u.line).toBeGreaterThanOrEqual(1);
      if (indent !== undefined && indent !== 0 && values.length > 0) expect(units[0].line).toBe(2);
    },
  );

  it('names broken arrays once', async () => {
    const run = async (s: string) => collect(splitJsonArray(from([Buffer.from(s)]), 1 << 20));
    expect((await run('{"a":1}')).at(-1)).toMatchObject({ kind: 'broken', detail: expect.stringMatching(/not a JSON array/) });
    expect((await run('[{"a":1},\n{"b":')).at(-1)).toMatchObject({ kind: 'broken', line: 2, detail: expect.stringMatching(/not closed/) });
    expect((await run('[1,2] x')).at(-1)).toMatchObject({ kind: 'broken', detail: expect.stringMatching(/after the closing/) });
    expect((await run('[1,]')).at(-1)).toMatchObject({ kind: 'broken' });
    expect(await run('\ufeff [ ] \n')).toEqual([]);
    expect(texts(await run('["a,]\\"", {"x": [1, {"y": "]"}]}]'))).toEqual(['"a,]\\""', '{"x": [1, {"y": "]"}]}']);
  });
});
