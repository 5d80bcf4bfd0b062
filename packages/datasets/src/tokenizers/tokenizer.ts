/**
 * Turns text into token ids and back. Special tokens (BOS, EOS, PAD) never come out of `encode`,
 * whatever the text says: they are placed by collation only, so a text that happens to contain
 * "<|endoftext|>" cannot add a second EOS. `decode` leaves special ids out.
 */
export interface Tokenizer {
  readonly kind: 'byte' | 'bpe';
  /** Ids are 0..vocabSize-1. */
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  encode(text: string): number[];
  decode(ids: ReadonlyArray<number>): string;
  /** A plain JSON value that `tokenizerFromJSON` turns back into an equal tokenizer (for checkpoints). */
  toJSON(): TokenizerJson;
}

export type TokenizerJson = ByteTokenizerJson | BpeTokenizerJson;

export interface ByteTokenizerJson {
  readonly kind: 'byte';
  readonly version: 1;
}

export interface BpeTokenizerJson {
  readonly kind: 'bpe';
  readonly version: 1;
  /** The Hugging Face `tokenizer.json` content. */
  readonly tokenizer: unknown;
  /** Token strings used as BOS, EOS and PAD. */
  readonly special: { readonly bos: string; readonly eos: string; readonly pad: string };
}
