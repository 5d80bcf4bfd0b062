import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

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
