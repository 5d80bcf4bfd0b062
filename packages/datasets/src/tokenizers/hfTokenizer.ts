import { Tokenizer as HfLibraryTokenizer } from '@huggingface/tokenizers';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { issuesFromValidationErrors, renderIssue } from '../formats/decodeIssues.js';
import { saveHfTokenizerFiles } from './hfFiles.js';
import type { DecodeOptions, SpecialTokenNames, Tokenizer } from './tokenizer.js';

/** Which tokens to use as BOS, EOS and PAD, and the chat template; each token is appended when missing. */
export interface HfTokenizerOptions {
  readonly bos?: string;
  readonly eos?: string;
  readonly pad?: string;
  readonly chatTemplate?: string;
}

// Tried in order when not given. GPT-2 has only <|endoftext|>, which then serves as all three
// (PAD = EOS is harmless here: masks come from lengths, never from comparing ids with PAD).
const DEFAULT_BOS = ['<|endoftext|>', '<s>', '<|begin_of_text|>', '<bos>'];
const DEFAULT_EOS = ['<|endoftext|>', '</s>', '<|end_of_text|>', '<eos>'];
const DEFAULT_PAD = ['<pad>', '<|pad|>', '[PAD]'];
/** Appended after the vocabulary when no default candidate exists. */
const APPENDED = { bos: '<|bos|>', eos: '<|eos|>' } as const; // may also be named explicitly (saved tokenizers)

const AddedTokenCodec = t.intersection([t.type({ id: t.number, content: t.string }), t.partial({ special: t.boolean })]);
const TokenizerJsonCodec = t.type({
  model: t.type({ type: t.string }),
  added_tokens: t.union([t.array(AddedTokenCodec), t.undefined, t.null]),
});
type AddedToken = t.TypeOf<typeof AddedTokenCodec>;

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** An added-token entry with every field the Rust library requires when it reads the saved file. */
export const specialAddedToken = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

/**
 * A tokenizer from the content of a Hugging Face `tokenizer.json` (any model, normalizer, pre-tokenizer
 * and decoder @huggingface/tokenizers implements: BPE, WordPiece, Unigram, …). Left: why it is not usable.
 *
 * Two library tokenizers are built from the one file: the text path without the special added tokens
 * (so special-token strings in text are plain text) and the markup path with all of them (chat-template
 * markup, and decoding). BOS/EOS/PAD not in the file are appended as special added tokens.
 */
export function hfTokenizerFromJson(json: unknown, options: HfTokenizerOptions = {}): E.Either<string, Tokenizer> {
  const checked = TokenizerJsonCodec.decode(json);
  if (E.isLeft(checked))
    return E.left(`not a tokenizer.json: ${issuesFromValidationErrors(checked.left).slice(0, 3).map(renderIssue).join('; ')}`);
  const added: AddedToken[] = [...(checked.right.added_tokens ?? [])];
  let markupLib: HfLibraryTokenizer;
  try {
    markupLib = new HfLibraryTokenizer({ ...(json as object), added_tokens: added, post_processor: null }, { clean_up_tokenization_spaces: false });
  } catch (e) {
    return E.left(`cannot build the tokenizer: ${errorText(e)}`);
  }
  const table = markupLib.get_vocab(true);
  let next = Math.max(-1, ...table.values()) + 1;

  const resolve = (role: 'bos' | 'eos' | 'pad', given: string | undefined, candidates: string[], fallback: string | null): E.Either<string, string> => {
    if (given !== undefined && given !== fallback && !table.has(given)) return E.left(`${role} token ${JSON.stringify(given)} is not in the vocabulary`);
    const name = given ?? candidates.find((c) => table.has(c)) ?? fallback;
    if (name === null) return E.left(`no ${role} token`);
    if (!table.has(name)) table.set(name, next++); // none of the usual names: a new id after the vocabulary
    // BOS/EOS/PAD are always special added tokens (as transformers makes them), kept in the saved file.
    const entry = added.find((a) => a.content === name);
    if (entry === undefined) added.push(specialAddedToken(table.get(name)!, name));
    else if (entry.special !== true) added[added.indexOf(entry)] = { ...entry, special: true };
    return E.right(name);
  };
  const bos = resolve('bos', options.bos, DEFAULT_BOS, APPENDED.bos);
  if (E.isLeft(bos)) return bos;
  const eos = resolve('eos', options.eos, DEFAULT_EOS, APPENDED.eos);
  if (E.isLeft(eos)) return eos;
  const pad = options.pad !== undefined || DEFAULT_PAD.some((c) => table.has(c)) ? resolve('pad', options.pad, DEFAULT_PAD, null) : eos;
  if (E.isLeft(pad)) return pad;
  const names: SpecialTokenNames = { bos: bos.right, eos: eos.right, pad: pad.right };
  const ids = { bos: table.get(names.bos)!, eos: table.get(names.eos)!, pad: table.get(names.pad)! };
  const specialIds = new Set([ids.bos, ids.eos, ids.pad, ...added.filter((a) => a.special === true).map((a) => a.id)]);
  const file = { ...(json as Record<string, unknown>), added_tokens: added };

  let textLib: HfLibraryTokenizer;
  try {
    if (added.length > (checked.right.added_tokens ?? []).length || added.some((a, i) => a !== checked.right.added_tokens?.[i])) markupLib = new HfLibraryTokenizer({ ...file, post_processor: null }, { clean_up_tokenization_spaces: false });
    // No special added tokens and no post-processor: the library then only ever maps text to ordinary tokens.
    textLib = new HfLibraryTokenizer({ ...file, added_tokens: added.filter((a) => !specialIds.has(a.id)), post_processor: null }, { clean_up_tokenization_spaces: false });
  } catch (e) {
    return E.left(`cannot build the tokenizer: ${errorText(e)}`);
  }
  const vocabSize = next;
  // WordPiece/Unigram models map unknown text to their unk token, a special token the text path may return.
  const unkName = (checked.right.model as { unk_token?: unknown }).unk_token;
  const unkId = typeof unkName === 'string' ? table.get(unkName) : undefined;
  const checkIds = (out: number[], text: string, what: string): number[] => {
    for (let i = 0; i < out.length; i++) {
      const id = out[i] as number | undefined;
      if (id === undefined || id === null)
        throw new RangeError(`${what}: the text ${JSON.stringify(text.slice(0, 40))} has a piece the vocabulary lacks and the model has no unk token`);
      if (what === 'encode' && specialIds.has(id) && id !== unkId) throw new Error(`encode: text produced special token id ${id}; the vocabulary's merges reach a special token`);
    }
    return out;
  };

  const tokenizer: Tokenizer = {
    kind: 'hf',
    vocabSize,
    ...ids,
    specialTokens: names,
    ...(options.chatTemplate === undefined ? {} : { chatTemplate: options.chatTemplate }),
    encode: (text) => (text === '' ? [] : checkIds(textLib.encode(text, { add_special_tokens: false }).ids, text, 'encode')),
    encodeMarkup: (markup) => (markup === '' ? [] : checkIds(markupLib.encode(markup, { add_special_tokens: false }).ids, markup, 'encodeMarkup')),
    decode(tokenIds: ReadonlyArray<number>, decodeOptions: DecodeOptions = {}): string {
      const kept: number[] = [];
      for (const id of tokenIds) {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize || markupLib.id_to_token(id) === undefined)
          throw new RangeError(`decode: id ${id} is not in the vocabulary (ids 0..${vocabSize - 1})`);
        if (decodeOptions.specialTokens === 'show' || !specialIds.has(id)) kept.push(id);
      }
      return kept.length === 0 ? '' : markupLib.decode(kept, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    },
    toJSON: () => ({ kind: 'hf', version: 1, tokenizer: file, special: names, ...(options.chatTemplate === undefined ? {} : { chatTemplate: options.chatTemplate }) }),
    saveHfFiles: (dir) => saveHfTokenizerFiles(dir, { tokenizerJson: file, special: names, chatTemplate: options.chatTemplate }),
  };
  return E.right(tokenizer);
}
