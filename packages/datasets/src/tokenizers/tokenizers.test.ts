import { fc, test } from '@fast-check/vitest';
import * as E from 'fp-ts/lib/Either.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../testFixtures.js';
import { hfTokenizerFromJson } from './hfTokenizer.js';
import { loadHfTokenizer } from './loadHfTokenizer.js';
import { BYTE_BOS, BYTE_EOS, BYTE_PAD, byteTokenizer } from './byteTokenizer.js';
import type { Tokenizer } from './tokenizer.js';
import { tokenizerFromJSON } from './tokenizerFromJson.js';

const right = <A>(e: E.Either<string, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left);
  return e.right;
};
const bpeDir = join(FIXTURES, 'bpe');
const fromVocabMerges = right(loadHfTokenizer({ vocab: join(bpeDir, 'vocab.json'), merges: join(bpeDir, 'merges.txt') }));
const fromTokenizerJson = right(loadHfTokenizer({ tokenizerJson: join(bpeDir, 'tokenizer.json') }));
const anyText = fc.string({ unit: 'binary', maxLength: 64 });
const specials = (t: Tokenizer) => new Set([t.bos, t.eos, t.pad]);

describe('byte tokenizer', () => {
  const tok = byteTokenizer();

  test.prop([anyText])('round-trips any Unicode string, one id per UTF-8 byte, never a special id', (s) => {
    const ids = tok.encode(s);
    expect(tok.decode(ids)).toBe(s);
    expect(ids).toHaveLength(Buffer.byteLength(s, 'utf8'));
    expect(ids.every((id) => id >= 0 && id < 256)).toBe(true);
  });

  it('has PAD, BOS and EOS after the bytes; decode leaves them out, or shows them when asked', () => {
    expect([tok.pad, tok.bos, tok.eos, tok.vocabSize]).toEqual([BYTE_PAD, BYTE_BOS, BYTE_EOS, 259]);
    expect(tok.decode([tok.bos, 104, 105, tok.eos, tok.pad])).toBe('hi');
    expect(tok.decode([tok.bos, 104, 105, tok.eos, tok.pad], { specialTokens: 'show' })).toBe('<s>hi</s><pad>');
    expect(tok.encode('<s>')).toEqual([60, 115, 62]);
    expect(tok.encodeMarkup('<s>hi</s>')).toEqual([BYTE_BOS, 104, 105, BYTE_EOS]);
    expect(() => tok.decode([259])).toThrow(/outside/);
  });

  it('round-trips through toJSON', () => {
    expect(right(tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())))).encode('é')).toEqual([0xc3, 0xa9]);
  });
});

describe('GPT-2 byte-level BPE (@huggingface/tokenizers) on the fixture vocabulary', () => {
  it.each([
    ['vocab.json + merges.txt', fromVocabMerges],
    ['tokenizer.json', fromTokenizerJson],
  ])('%s: <|endoftext|> serves as BOS, EOS and PAD', (_, tok) => {
    expect([tok.bos, tok.eos, tok.pad, tok.vocabSize]).toEqual([285, 285, 285, 286]);
  });

  test.prop([anyText])('round-trips any Unicode string, and both loaders agree', (s) => {
    const ids = fromVocabMerges.encode(s);
    expect(fromVocabMerges.decode(ids)).toBe(s);
    expect(fromTokenizerJson.encode(s)).toEqual(ids);
    expect(ids.some((id) => specials(fromVocabMerges).has(id))).toBe(false);
  });

  test.prop([fc.array(fc.constantFrom(' the', 'sort', 'reverse', 'upper', 'count', 'list', '\n-', ' a', 'banana', 'x', ' '), { maxLength: 12 })])(
    'round-trips texts made of merged tokens',
    (parts) => {
      const s = parts.join('');
      expect(fromTokenizerJson.decode(fromTokenizerJson.encode(s))).toBe(s);
    },
  );

  it('applies the merges', () => {
    const vocab = JSON.parse(readFileSync(join(bpeDir, 'vocab.json'), 'utf8')) as Record<string, number>;
    expect(fromVocabMerges.encode(' the')).toEqual([vocab['Ġthe']]);
    expect(fromVocabMerges.encode('sort')).toEqual([vocab['sort']]);
    // GPT-2's pre-tokenizer regex splits before merging: "\n" and "-" never merge, " -" does.
    expect(fromVocabMerges.encode('list - a\n-')).toEqual([vocab['list'], vocab['Ġ-'], vocab['Ġa'], vocab['Ċ'], vocab['-']]);
  });

  it('never turns special-token text into a special id (no doubled EOS)', () => {
    const ids = fromTokenizerJson.encode('<|endoftext|>');
    expect(ids.length).toBeGreaterThan(1);
    expect(ids).not.toContain(285);
    expect(fromTokenizerJson.decode(ids)).toBe('<|endoftext|>');
    expect(fromTokenizerJson.decode([285, ...ids, 285])).toBe('<|endoftext|>');
  });

  it('round-trips through toJSON, and appends BOS/EOS when the vocabulary has none', () => {
    const again = right(tokenizerFromJSON(JSON.parse(JSON.stringify(fromTokenizerJson.toJSON()))));
    expect(again.encode('sort: the list')).toEqual(fromTokenizerJson.encode('sort: the list'));
    const json = JSON.parse(readFileSync(join(bpeDir, 'tokenizer.json'), 'utf8'));
    delete json.model.vocab['<|endoftext|>'];
    json.added_tokens = [];
    const bare = right(hfTokenizerFromJson(json));
    expect([bare.bos, bare.eos, bare.pad, bare.vocabSize]).toEqual([285, 286, 286, 287]);
    const bareAgain = right(tokenizerFromJSON(bare.toJSON()));
    expect([bareAgain.bos, bareAgain.eos, bareAgain.pad, bareAgain.vocabSize]).toEqual([285, 286, 286, 287]);
  });

  it('explains unusable files', () => {
    expect(hfTokenizerFromJson({ model: {} })).toEqual(E.left(expect.stringMatching(/^not a tokenizer\.json: model\.type/)));
    expect(hfTokenizerFromJson({ model: { type: 'WordPiece' } })).toEqual(E.left(expect.stringMatching(/^cannot build the tokenizer: /)));
    expect(hfTokenizerFromJson(JSON.parse(readFileSync(join(bpeDir, 'tokenizer.json'), 'utf8')), { bos: '<nope>' })).toEqual(
      E.left('bos token "<nope>" is not in the vocabulary'),
    );
    expect(E.isLeft(loadHfTokenizer({ tokenizerJson: join(bpeDir, 'missing.json') }))).toBe(true);
  });
});

describe('other tokenizer.json models (normalizer, pre-tokenizer, unk)', () => {
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const wordPiece = {
    version: '1.0',
    added_tokens: [special(0, '[PAD]'), special(1, '[UNK]'), special(2, '[CLS]'), special(3, '[SEP]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, hello: 4, world: 5, '##s': 6, '[': 7, ']': 8, sep: 9 } },
  };
  const bert = right(hfTokenizerFromJson(wordPiece, { bos: '[CLS]', eos: '[SEP]', pad: '[PAD]' }));

  it('lowercases, splits on punctuation, maps unknown words to [UNK], and keeps [SEP] in text as text', () => {
    expect([bert.bos, bert.eos, bert.pad, bert.vocabSize]).toEqual([2, 3, 0, 10]);
    expect(bert.encode('Hello Worlds zzz')).toEqual([4, 5, 6, 1]);
    expect(bert.encode('[SEP]')).toEqual([7, 9, 8]);
    expect(bert.encodeMarkup('[SEP]')).toEqual([3]);
    expect(bert.decode([2, 4, 5, 6, 3])).toBe('hello worlds');
  });
});
