/**
 * The shapes the models consume, stated structurally so that `@ganpo/models` needs nothing from
 * `@ganpo/datasets` (whose collated `Batch` has exactly these fields, and more).
 */

/** Token ids with an attention mask: what `CausalLM.forward` reads. Row-major [rows, seqLen]. */
export interface TokenBatch {
  readonly ids: Int32Array;
  /** 1 for real tokens, 0 for padding; [rows, seqLen]. Omitted: every token is real. */
  readonly attentionMask?: Float32Array;
  readonly rows: number;
  readonly seqLen: number;
}

/**
 * A collated training batch. lossMask[r, t] = 1 marks token t of row r as a completion token (its
 * log-probability counts). Preference batches hold the chosen rows first, then the rejected rows,
 * pair i being rows i and i + rows/2.
 */
export interface ModelBatch extends TokenBatch {
  readonly attentionMask: Float32Array;
  readonly lossMask: Float32Array;
}

/** A tokenizer, structurally (the datasets package's tokenizers and our GPT-2 BPE tokenizer both fit). */
export interface Tokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  /** JSON-serializable description; saved as tokenizer.json in checkpoints. */
  toJSON(): unknown;
}

/** Checks that a batch's arrays have the sizes its rows and seqLen claim (a programmer mistake otherwise). */
export function checkBatch(op: string, b: TokenBatch & { lossMask?: Float32Array }): void {
  const n = b.rows * b.seqLen;
  const bad = (what: string, len: number) => {
    throw new Error(`${op}: ${what} has ${len} entries, expected rows·seqLen = ${b.rows}·${b.seqLen} = ${n}`);
  };
  if (!Number.isInteger(b.rows) || !Number.isInteger(b.seqLen) || b.rows < 1 || b.seqLen < 1) {
    throw new Error(`${op}: batch has rows ${b.rows} and seqLen ${b.seqLen}; both must be positive integers`);
  }
  if (b.ids.length !== n) bad('ids', b.ids.length);
  if (b.attentionMask && b.attentionMask.length !== n) bad('attentionMask', b.attentionMask.length);
  if (b.lossMask && b.lossMask.length !== n) bad('lossMask', b.lossMask.length);
}
