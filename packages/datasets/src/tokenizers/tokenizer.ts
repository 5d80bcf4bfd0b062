/**
 * The one tokenizer contract of the project.
 *
 * **Special tokens in text are text.** `encode` never returns a special (or other added) token's id for
 * anything a text contains: a user's "<|endoftext|>" or "<|im_start|>" is encoded as ordinary characters,
 * as TRL does for dataset text, so data can never inject a control token (no second EOS, no fake turn).
 * BOS and EOS are placed by collation only. The markup a chat template writes is the one exception, and it
 * goes through `encodeMarkup`, never through `encode`.
 *
 * **Decode never drops an id silently.** An id outside the vocabulary is an error (RangeError naming it);
 * special ids are left out by default (`specialTokens: 'skip'`, like Hugging Face's `skip_special_tokens`)
 * or written as their strings (`'show'`).
 */
export interface Tokenizer {
  /** `byte`: the byte tokenizer; `hf`: a Hugging Face `tokenizer.json` run by @huggingface/tokenizers. */
  readonly kind: 'byte' | 'hf';
  /** Ids are 0..vocabSize-1. */
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  /** The strings of BOS, EOS and PAD (what a chat template calls `bos_token`, `eos_token`, `pad_token`). */
  readonly specialTokens: SpecialTokenNames;
  /** The model's own chat template (Jinja source from `tokenizer_config.json`), if it has one. */
  readonly chatTemplate?: string;
  /** Text to ids; special-token strings in the text are encoded as plain text. */
  encode(text: string): number[];
  /**
   * Chat-template markup to ids: here the tokenizer's added tokens (`<|im_start|>`, `<|eot_id|>`, …) ARE
   * recognized. Only for text the program wrote; user content always goes through `encode`.
   */
  encodeMarkup(markup: string): number[];
  decode(ids: ReadonlyArray<number>, options?: DecodeOptions): string;
  /** A plain JSON value that `tokenizerFromJSON` turns back into an equal tokenizer (for checkpoints). */
  toJSON(): TokenizerJson;
  /**
   * Writes the Hugging Face tokenizer files into an existing directory: `tokenizer.json`,
   * `tokenizer_config.json`, `special_tokens_map.json`, and `vocab.json` + `merges.txt` for GPT-2-style
   * byte-level BPE. Each file is written atomically.
   */
  saveHfFiles(dir: string): void;
}

export interface DecodeOptions {
  /** `skip` (default): special ids are left out. `show`: they are written as their strings. */
  readonly specialTokens?: 'skip' | 'show';
}

export interface SpecialTokenNames {
  readonly bos: string;
  readonly eos: string;
  readonly pad: string;
}

export type TokenizerJson = ByteTokenizerJson | HfTokenizerJson | LegacyBpeTokenizerJson;

export interface ByteTokenizerJson {
  readonly kind: 'byte';
  readonly version: 1;
}

export interface HfTokenizerJson {
  readonly kind: 'hf';
  readonly version: 1;
  /** The Hugging Face `tokenizer.json` content, as loaded. */
  readonly tokenizer: unknown;
  /** Token strings used as BOS, EOS and PAD (tokens appended after the vocabulary are in `tokenizer.added_tokens`). */
  readonly special: SpecialTokenNames;
  readonly chatTemplate?: string;
}

/** What checkpoints written before the `hf` kind hold (still read). */
export interface LegacyBpeTokenizerJson {
  readonly kind: 'bpe';
  readonly version: 1;
  readonly tokenizer: unknown;
  readonly special: SpecialTokenNames;
}
