import { readFileSync } from 'node:fs';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { issuesFromValidationErrors, renderIssue } from '../formats/decodeIssues.js';
import type { Tokenizer } from './tokenizer.js';

/** Which tokens to use as BOS, EOS and PAD; each must be in the vocabulary when given. */
export interface SpecialTokenChoice {
  readonly bos?: string;
  readonly eos?: string;
  readonly pad?: string;
}

// Tried in order when not given. GPT-2 has only <|endoftext|>, which then serves as all three
// (PAD = EOS is harmless here: masks come from lengths, never from comparing ids with PAD).
const DEFAULT_BOS = ['<|endoftext|>', '<s>', '<|begin_of_text|>', '<bos>'];
const DEFAULT_EOS = ['<|endoftext|>', '</s>', '<|end_of_text|>', '<eos>'];
const DEFAULT_PAD = ['<pad>', '<|pad|>', '[PAD]'];
/** Appended after the vocabulary when no default candidate exists. */
const APPENDED = { bos: '<|bos|>', eos: '<|eos|>', pad: null } as const;

const AddedTokenCodec = t.type({ id: t.number, content: t.string });
const TokenizerJsonCodec = t.type({
  model: t.type({
    type: t.literal('BPE'),
    vocab: t.record(t.string, t.number),
    merges: t.array(t.union([t.string, t.tuple([t.string, t.string])])),
  }),
  added_tokens: t.union([t.array(AddedTokenCodec), t.undefined, t.null]),
});

/**
 * A byte-level BPE tokenizer (GPT-2 style) from the content of a Hugging Face `tokenizer.json`,
 * run by @huggingface/tokenizers. Left: why the content is not usable.
 *
 * The `added_tokens` of the file are taken out of the text path, so that special-token strings in a
 * text are encoded as plain text and BOS/EOS come only from collation; they keep their ids.
 */
export function bpeTokenizerFromJson(json: unknown, special: SpecialTokenChoice = {}): E.Either<string, Tokenizer> {
  const checked = TokenizerJsonCodec.decode(json);
  if (E.isLeft(checked))
    return E.left(`not a BPE tokenizer.json: ${issuesFromValidationErrors(checked.left).slice(0, 3).map(renderIssue).join('; ')}`);
  const { model, added_tokens } = checked.right;
  const table = new Map<string, number>(Object.entries(model.vocab));
  for (const token of added_tokens ?? []) table.set(token.content, token.id);
  let next = Math.max(-1, ...table.values()) + 1;

  const resolve = (role: 'bos' | 'eos' | 'pad', given: string | undefined, candidates: string[], fallback: string | null): E.Either<string, string> => {
    if (given !== undefined && given !== fallback)
      return table.has(given) ? E.right(given) : E.left(`${role} token ${JSON.stringify(given)} is not in the vocabulary`);
    const found = given === undefined ? candidates.find((c) => table.has(c)) : undefined;
    if (found !== undefined) return E.right(found);
    if (fallback === null) return E.left(`no ${role} token`);
    if (!table.has(fallback)) table.set(fallback, next++);
    return E.right(fallback);
  };
  const bos = resolve('bos', special.bos, DEFAULT_BOS, APPENDED.bos);
  if (E.isLeft(bos)) return bos;
  const eos = resolve('eos', special.eos, DEFAULT_EOS, APPENDED.eos);
  if (E.isLeft(eos)) return eos;
  const pad = special.pad !== undefined || DEFAULT_PAD.some((c) => table.has(c)) ? resolve('pad', special.pad, DEFAULT_PAD, null) : eos;
  if (E.isLeft(pad)) return pad;

  let hf: HfTokenizer;
  try {
    // No added tokens and no post-processor: the library then only ever maps text to ordinary tokens.
    hf = new HfTokenizer({ ...(json as object), added_tokens: [], post_processor: null }, { clean_up_tokenization_spaces: false });
  } catch (e) {
    return E.left(`cannot build the tokenizer: ${e instanceof Error ? e.message : String(e)}`);
  }
  const ids = { bos: table.get(bos.right)!, eos: table.get(eos.right)!, pad: table.get(pad.right)! };
  const specialIds = new Set([ids.bos, ids.eos, ids.pad, ...(added_tokens ?? []).map((a) => a.id)]);
  const vocabSize = next;
  const savedJson = json;
  const names = { bos: bos.right, eos: eos.right, pad: pad.right };

  return E.right({
    kind: 'bpe',
    vocabSize,
    ...ids,
    encode(text: string): number[] {
      if (text === '') return [];
      const out = hf.encode(text, { add_special_tokens: false }).ids;
      for (const id of out)
        if (id === ids.bos || id === ids.eos || id === ids.pad)
          throw new Error(`bpe tokenizer: text produced special token id ${id}; the vocabulary's merges reach a special token`);
      return out;
    },
    decode(tokenIds: ReadonlyArray<number>): string {
      const kept: number[] = [];
      for (const id of tokenIds) {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
          throw new RangeError(`bpe tokenizer decode: id ${id} is outside 0..${vocabSize - 1}`);
        if (!specialIds.has(id)) kept.push(id);
      }
      return kept.length === 0 ? '' : hf.decode(kept, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    },
    toJSON: () => ({ kind: 'bpe', version: 1, tokenizer: savedJson, special: names }),
  });
}

/**
 * The `tokenizer.json` content equivalent to GPT-2's `vocab.json` + `merges.txt`: byte-level
 * pre-tokenization (GPT-2's split regex, no prefix space), BPE, byte-level decoding.
 */
export function tokenizerJsonFromVocabAndMerges(vocab: unknown, mergesText: string): E.Either<string, unknown> {
  const checked = t.record(t.string, t.number).decode(vocab);
  if (E.isLeft(checked)) return E.left('vocab.json: expected an object mapping token strings to ids');
  const merges: string[] = [];
  const lines = mergesText.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '' || (i === 0 && line.startsWith('#version'))) continue;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '')
      return E.left(`merges.txt:${i + 1}: expected two tokens separated by one space, got ${JSON.stringify(line.slice(0, 80))}`);
    merges.push(line);
  }
  return E.right({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: checked.right,
      merges,
    },
  });
}

export type BpeFiles = { readonly tokenizerJson: string } | { readonly vocab: string; readonly merges: string };

/** Loads a BPE tokenizer from local files: a `tokenizer.json`, or GPT-2's `vocab.json` + `merges.txt`. */
export function loadBpeTokenizer(files: BpeFiles, special: SpecialTokenChoice = {}): E.Either<string, Tokenizer> {
  try {
    if ('tokenizerJson' in files) {
      const json: unknown = JSON.parse(readFileSync(files.tokenizerJson, 'utf8'));
      return E.mapLeft((m: string) => `${files.tokenizerJson}: ${m}`)(bpeTokenizerFromJson(json, special));
    }
    const vocab: unknown = JSON.parse(readFileSync(files.vocab, 'utf8'));
    const built = tokenizerJsonFromVocabAndMerges(vocab, readFileSync(files.merges, 'utf8'));
    if (E.isLeft(built)) return built;
    return bpeTokenizerFromJson(built.right, special);
  } catch (e) {
    return E.left(e instanceof Error ? e.message : String(e));
  }
}
