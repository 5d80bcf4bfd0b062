import type { Tokenizer } from './tokenizer.js';

/** Ids 0..255 are the bytes of the UTF-8 encoding; then the special tokens. */
export const BYTE_PAD = 256;
export const BYTE_BOS = 257;
export const BYTE_EOS = 258;
export const BYTE_VOCAB_SIZE = 259;

const encoder = new TextEncoder();
// Not fatal: decoding what a model generated must not throw on a broken byte sequence.
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * The default tokenizer: one token per UTF-8 byte. Lossless for every well-formed Unicode string
 * (a lone UTF-16 surrogate, which is not Unicode text, becomes U+FFFD as in every UTF-8 encoder).
 */
export function byteTokenizer(): Tokenizer {
  return {
    kind: 'byte',
    vocabSize: BYTE_VOCAB_SIZE,
    bos: BYTE_BOS,
    eos: BYTE_EOS,
    pad: BYTE_PAD,
    encode: (text) => Array.from(encoder.encode(text)),
    decode: (ids) => {
      const bytes = new Uint8Array(ids.length);
      let n = 0;
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= BYTE_VOCAB_SIZE)
          throw new RangeError(`byteTokenizer.decode: id ${id} is outside 0..${BYTE_VOCAB_SIZE - 1}`);
        if (id < 256) bytes[n++] = id;
      }
      return decoder.decode(bytes.subarray(0, n));
    },
    toJSON: () => ({ kind: 'byte', version: 1 }),
  };
}
