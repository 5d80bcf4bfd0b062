import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { byteTokenizer } from '../tokenizers/byteTokenizer.js';
import type { SequenceBatch } from './batch.js';
import { collatePairs, collateSequences, collateUnpaired, tokenizeRow } from './collate.js';
import { truncateRow, type TruncationOptions } from './truncate.js';

const tok = byteTokenizer();
const text = fc.string({ maxLength: 24 });
const pair = fc.record({ prompt: text, chosen: text, rejected: text });
const truncation: fc.Arbitrary<TruncationOptions> = fc.record(
  {
    maxLength: fc.integer({ min: 2, max: 40 }),
    maxPromptLength: fc.integer({ min: 1, max: 30 }),
    truncationMode: fc.constantFrom('keep_start' as const, 'keep_end' as const),
  },
  { requiredKeys: [] },
);

const row = (b: SequenceBatch, r: number) => Array.from(b.ids.subarray(r * b.seqLen, (r + 1) * b.seqLen));
const mask = (m: Float32Array, b: SequenceBatch, r: number) => Array.from(m.subarray(r * b.seqLen, (r + 1) * b.seqLen));

/** The invariants every collated batch keeps, whatever the truncation. */
function checkInvariants(b: SequenceBatch, options: TruncationOptions) {
  expect(b.ids).toHaveLength(b.rows * b.seqLen);
  for (let r = 0; r < b.rows; r++) {
    const ids = row(b, r);
    const attention = mask(b.attentionMask, b, r);
    const loss = mask(b.lossMask, b, r);
    const p = b.promptLengths[r];
    const c = b.completionLengths[r];
    expect(c).toBeGreaterThan(0);
    // Masks: attention on the first p + c positions, loss on the completion ones; padding in neither.
    expect(attention).toEqual(ids.map((_, t) => (t < p + c ? 1 : 0)));
    expect(loss).toEqual(ids.map((_, t) => (t >= p && t < p + c ? 1 : 0)));
    expect(loss.reduce((a, x) => a + x, 0)).toBe(c);
    expect(ids.slice(p + c).every((id) => id === tok.pad)).toBe(true);
    // BOS once, at position 0; EOS at most once, and only as the last real token.
    expect(ids[0]).toBe(tok.bos);
    expect(ids.slice(1, p + c).includes(tok.bos)).toBe(false);
    const eosAt = ids.slice(0, p + c).indexOf(tok.eos);
    expect(eosAt === -1 || eosAt === p + c - 1).toBe(true);
    if (options.maxLength !== undefined) expect(p + c).toBeLessThanOrEqual(options.maxLength);
    if (options.maxPromptLength !== undefined) expect(p).toBeLessThanOrEqual(options.maxPromptLength);
  }
}

describe('collatePairs', () => {
  test.prop([fc.array(pair, { maxLength: 6 }), truncation])('keeps the batch invariants; chosen rows first, then rejected', (pairs, options) => {
    const { batch, kept, dropped } = collatePairs(pairs, tok, options);
    checkInvariants(batch, options);
    expect(batch.rows).toBe(2 * batch.pairs);
    expect(kept.length + dropped.length).toBe(pairs.length);
    kept.forEach((i, k) => {
      const chosen = truncateRow(tokenizeRow(tok, pairs[i].prompt, pairs[i].chosen), options)!;
      const rejected = truncateRow(tokenizeRow(tok, pairs[i].prompt, pairs[i].rejected), options)!;
      expect(row(batch, k).slice(0, batch.promptLengths[k] + batch.completionLengths[k])).toEqual([...chosen.prompt, ...chosen.completion]);
      const r = batch.pairs + k;
      expect(row(batch, r).slice(0, batch.promptLengths[r] + batch.completionLengths[r])).toEqual([...rejected.prompt, ...rejected.completion]);
    });
  });

  test.prop([fc.array(pair, { minLength: 1, maxLength: 4 })])('without truncation: completion lengths are the completion tokens plus EOS', (pairs) => {
    const { batch, dropped } = collatePairs(pairs, tok);
    expect(dropped).toEqual([]);
    pairs.forEach((p, i) => {
      expect(batch.promptLengths[i]).toBe(1 + tok.encode(p.prompt).length);
      expect(batch.completionLengths[i]).toBe(tok.encode(p.chosen).length + 1);
      expect(batch.completionLengths[batch.pairs + i]).toBe(tok.encode(p.rejected).length + 1);
    });
    expect(batch.seqLen).toBe(Math.max(...Array.from(batch.promptLengths, (p, r) => p + batch.completionLengths[r])));
  });

  it('reports pairs whose completion would be truncated away, never keeps them empty', () => {
    const { batch, kept, dropped } = collatePairs(
      [
        { prompt: 'a long prompt', chosen: 'x', rejected: 'y' },
        { prompt: 'ok', chosen: 'x', rejected: 'y' },
      ],
      tok,
      { maxLength: 8 },
    );
    expect(kept).toEqual([1]);
    expect(dropped).toEqual([
      { index: 0, reason: 'chosen and rejected completions truncated away: the prompt takes 14 tokens (BOS included) of maxLength 8 with truncationMode keep_start' },
    ]);
    expect(batch.pairs).toBe(1);
  });

  it('pads to maxLength on request', () => {
    const { batch } = collatePairs([{ prompt: 'p', chosen: 'a', rejected: 'bb' }], tok, { maxLength: 10, padding: 'max_length' });
    expect(batch.seqLen).toBe(10);
    expect(Array.from(batch.ids.subarray(10, 20))).toEqual([tok.bos, 112, 98, 98, tok.eos, tok.pad, tok.pad, tok.pad, tok.pad, tok.pad]);
  });
});

describe('truncation modes keep the documented end', () => {
  const full = (prompt: string, completion: string) => {
    const r = tokenizeRow(tok, prompt, completion);
    return [...r.prompt, ...r.completion];
  };

  test.prop([text, text, fc.integer({ min: 2, max: 30 })])('keep_start keeps a prefix of the row', (prompt, completion, maxLength) => {
    const cut = truncateRow(tokenizeRow(tok, prompt, completion), { maxLength, truncationMode: 'keep_start' });
    const whole = full(prompt, completion);
    if (cut === null) expect(1 + tok.encode(prompt).length).toBeGreaterThanOrEqual(maxLength);
    else expect([...cut.prompt, ...cut.completion]).toEqual(whole.slice(0, Math.min(whole.length, maxLength)));
  });

  test.prop([text, text, fc.integer({ min: 2, max: 30 })])('keep_end keeps BOS and a suffix of the row', (prompt, completion, maxLength) => {
    const cut = truncateRow(tokenizeRow(tok, prompt, completion), { maxLength, truncationMode: 'keep_end' })!;
    const whole = full(prompt, completion);
    const kept = [...cut.prompt, ...cut.completion];
    if (whole.length <= maxLength) expect(kept).toEqual(whole);
    else expect(kept).toEqual([tok.bos, ...whole.slice(whole.length - (maxLength - 1))]);
    expect(cut.completion.at(-1)).toBe(tok.eos);
  });

  test.prop([text, text, fc.integer({ min: 1, max: 10 })])('maxPromptLength keeps BOS and the end of the prompt', (prompt, completion, maxPromptLength) => {
    const cut = truncateRow(tokenizeRow(tok, prompt, completion), { maxPromptLength })!;
    const p = [tok.bos, ...tok.encode(prompt)];
    expect(cut.prompt).toEqual(p.length <= maxPromptLength ? p : [tok.bos, ...p.slice(p.length - (maxPromptLength - 1))]);
  });
});

describe('collateSequences and collateUnpaired', () => {
  test.prop([fc.array(fc.record({ prompt: text, completion: text, label: fc.boolean() }), { maxLength: 6 }), truncation])(
    'keep the invariants; labels follow the kept rows',
    (rows, options) => {
      const sft = collateSequences(rows, tok, options);
      checkInvariants(sft.batch, options);
      const kto = collateUnpaired(rows, tok, options);
      checkInvariants(kto.batch, options);
      expect(Array.from(kto.batch.labels)).toEqual(kto.kept.map((i) => (rows[i].label ? 1 : 0)));
    },
  );

  it('an empty list gives an empty batch', () => {
    expect(collateSequences([], tok).batch).toMatchObject({ rows: 0, seqLen: 0 });
  });

  it('rejects impossible options', () => {
    expect(() => collatePairs([], tok, { maxLength: 1 })).toThrow(/maxLength must be an integer ≥ 2/);
    expect(() => collatePairs([], tok, { padding: 'max_length' })).toThrow(/needs maxLength/);
  });
});
