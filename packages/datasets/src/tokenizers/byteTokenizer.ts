import { tokenizerFileWriters } from './fileWriters.js';
import type { DecodeOptions, SpecialTokenNames, Tokenizer } from './tokenizer.js';

/** Ids 0..255 are the bytes of the UTF-8 encoding; then the special tokens. */
export const BYTE_PAD = 256;
export const BYTE_BOS = 257;
export const BYTE_EOS = 258;
export const BYTE_VOCAB_SIZE = 259;
/** The strings of PAD, BOS and EOS (their names in the saved Hugging Face files and in chat templates). */
export const BYTE_SPECIAL_TOKENS: SpecialTokenNames = { pad: '<pad>', bos: '<s>', eos: '</s>' };

const SPECIAL_BY_NAME = new Map([
  [BYTE_SPECIAL_TOKENS.pad, BYTE_PAD],
  [BYTE_SPECIAL_TOKENS.bos, BYTE_BOS],
  [BYTE_SPECIAL_TOKENS.eos, BYTE_EOS],
]);
const SPECIAL_PATTERN = /(<pad>|<s>|<\/s>)/;

/** The special tokens with their ids, by id (what the saved Hugging Face files declare). */
export const byteSpecialTokenIds = (): { id: number; content: string }[] =>
  [...SPECIAL_BY_NAME].map(([content, id]) => ({ id, content })).sort((a, b) => a.id - b.id);

const encoder = new TextEncoder();
// Not fatal: decoding what a model generated must not throw on a broken byte sequence.
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const encode = (text: string): number[] => Array.from(encoder.encode(text));

/**
 * The default tokenizer: one token per UTF-8 byte. Lossless for every well-formed Unicode string
 * (a lone UTF-16 surrogate, which is not Unicode text, becomes U+FFFD as in every UTF-8 encoder).
 * Its Hugging Face form (`saveHfFiles`) is a byte-level BPE without merges whose ids are the same.
 */
export function byteTokenizer(): Tokenizer {
  return {
    kind: 'byte',
    vocabSize: BYTE_VOCAB_SIZE,
    bos: BYTE_BOS,
    eos: BYTE_EOS,
    pad: BYTE_PAD,
    specialTokens: BYTE_SPECIAL_TOKENS,
    encode,
    encodeMarkup: (markup) => markup.split(SPECIAL_PATTERN).flatMap((part, i) => (i % 2 === 1 ? [SPECIAL_BY_NAME.get(part)!] : encode(part))),
    decode: (ids, options: DecodeOptions = {}) => {
      let text = '';
      const bytes = new Uint8Array(ids.length);
      let n = 0;
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= BYTE_VOCAB_SIZE)
          throw new RangeError(`byteTokenizer.decode: id ${id} is outside 0..${BYTE_VOCAB_SIZE - 1}`);
        if (id < 256) bytes[n++] = id;
        else if (options.specialTokens === 'show') {
          text += decoder.decode(bytes.subarray(0, n)) + [...SPECIAL_BY_NAME].find(([, v]) => v === id)![0];
          n = 0;
        }
      }
      return text + decoder.decode(bytes.subarray(0, n));
    },
    toJSON: () => ({ kind: 'byte', version: 1 }),
    // Writing files is the Node entry's part (byteTokenizerFiles.ts): this module stays browser-safe.
    saveHfFiles: (dir) => tokenizerFileWriters('byteTokenizer().saveHfFiles').saveByteTokenizerFiles(dir),
  };
}
