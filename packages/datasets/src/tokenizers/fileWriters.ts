/**
 * The file-writing half of the tokenizers that are otherwise pure (the byte tokenizer's `saveHfFiles`),
 * installed by the package's Node entry point: in a browser there is no file system, and the browser entry
 * must not import one. A call without it says so instead of failing on a missing module.
 */
export interface TokenizerFileWriters {
  /** Writes the byte tokenizer's Hugging Face files (tokenizer.json, tokenizer_config.json, ...) into `dir`. */
  saveByteTokenizerFiles(dir: string): void;
}

let writers: TokenizerFileWriters | null = null;

export function setTokenizerFileWriters(next: TokenizerFileWriters): void {
  writers = next;
}

export function tokenizerFileWriters(what: string): TokenizerFileWriters {
  if (!writers) throw new Error(`${what} writes files, which needs @ganpo/datasets' Node entry point (there is no file system in a browser)`);
  return writers;
}
