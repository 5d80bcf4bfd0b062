import { specialAddedToken } from './hfTokenizer.js';

/** GPT-2's reversible map from the 256 bytes to printable characters (the byte-level alphabet). */
export function bytesToUnicode(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable(b) ? b : 256 + extra++);
  return table;
}

/**
 * The byte tokenizer as a Hugging Face `tokenizer.json`: a byte-level BPE with no merges whose vocabulary
 * maps byte b's printable character to id b, so every byte is one token with the same id as ours, and the
 * special tokens (ids after the bytes) as added tokens. The ByteLevel pre-tokenizer runs without its split regex (no merges,
 * so splitting changes nothing) and the ByteLevel decoder turns the characters back into bytes.
 */
export function byteLevelTokenizerJson(specials: ReadonlyArray<{ readonly id: number; readonly content: string }>): Record<string, unknown> {
  const vocab = Object.fromEntries(bytesToUnicode().map((ch, b) => [ch, b]));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(({ id, content }) => specialAddedToken(id, content)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
  };
}
