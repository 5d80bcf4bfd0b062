import type { PairMessages, SequenceMessages } from '../formats/examples.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { chatTemplateOf, conversationCompletion, conversationPrompt, orThrow } from './chatTokenize.js';
import type { Batch, SequenceBatch, UnpairedBatch } from './batch.js';
import { checkTruncationOptions, truncateRow, type TokenizedRow, type TruncationOptions } from './truncate.js';

export interface CollateOptions extends TruncationOptions {
  /** `longest` (default): seqLen is the longest row. `max_length`: seqLen is `maxLength`. */
  readonly padding?: 'longest' | 'max_length';
}

/** An input example left out of the batch, and why (its completion would be truncated away). */
export interface DroppedExample {
  readonly index: number;
  readonly reason: string;
}

export interface Collated<B> {
  readonly batch: B;
  /** Indices into the input of the examples in the batch, in batch order. */
  readonly kept: number[];
  readonly dropped: DroppedExample[];
}

/** `[BOS, …prompt]` and `[…completion, EOS]`: the only place BOS and EOS are added, once each. */
export function tokenizeRow(tokenizer: Tokenizer, prompt: string, completion: string): TokenizedRow {
  return { prompt: [tokenizer.bos, ...tokenizer.encode(prompt)], completion: [...tokenizer.encode(completion), tokenizer.eos] };
}

/**
 * A prompt and its completions as ids. Conversational examples use the tokenizer's own chat template when
 * it has one (a template that cannot be used throws a ChatTemplateError); otherwise the texts, rendered by
 * the fixed template, are encoded.
 */
function tokenizeCompletions(
  tokenizer: Tokenizer,
  prompt: string,
  completions: ReadonlyArray<string>,
  messages: { readonly prompt: SequenceMessages['prompt']; readonly completions: ReadonlyArray<SequenceMessages['completion']> } | undefined,
): TokenizedRow[] {
  const template = messages ? chatTemplateOf(tokenizer) : null;
  if (template === null || messages === undefined) return completions.map((c) => tokenizeRow(tokenizer, prompt, c));
  const t = orThrow(template);
  const p = orThrow(conversationPrompt(tokenizer, t, messages.prompt));
  return messages.completions.map((c) => ({ prompt: p.ids, completion: orThrow(conversationCompletion(tokenizer, t, p, c)) }));
}

const pairMessages = (m: PairMessages | undefined) => m && { prompt: m.prompt, completions: [m.chosen, m.rejected] };
const sequenceMessages = (m: SequenceMessages | undefined) => m && { prompt: m.prompt, completions: [m.completion] };

/** The chosen and rejected rows of a pair exactly as collation tokenizes them, before truncation. */
export function pairRows(
  ex: { readonly prompt: string; readonly chosen: string; readonly rejected: string; readonly messages?: PairMessages },
  tokenizer: Tokenizer,
): [TokenizedRow, TokenizedRow] {
  const [chosen, rejected] = tokenizeCompletions(tokenizer, ex.prompt, [ex.chosen, ex.rejected], pairMessages(ex.messages));
  return [chosen, rejected];
}

/** The row of a prompt–completion example exactly as collation tokenizes it, before truncation. */
export function sequenceRow(ex: { readonly prompt: string; readonly completion: string; readonly messages?: SequenceMessages }, tokenizer: Tokenizer): TokenizedRow {
  return tokenizeCompletions(tokenizer, ex.prompt, [ex.completion], sequenceMessages(ex.messages))[0];
}

/**
 * Collates preference pairs into one batch of 2B rows: the B chosen rows, then the B rejected rows.
 * A pair whose chosen or rejected completion would be truncated away entirely is dropped and reported.
 */
export function collatePairs(
  examples: ReadonlyArray<{ readonly prompt: string; readonly chosen: string; readonly rejected: string; readonly messages?: PairMessages }>,
  tokenizer: Tokenizer,
  options: CollateOptions = {},
): Collated<Batch> {
  checkTruncationOptions(options);
  const chosenRows: TokenizedRow[] = [];
  const rejectedRows: TokenizedRow[] = [];
  const kept: number[] = [];
  const dropped: DroppedExample[] = [];
  examples.forEach((ex, index) => {
    const [chosenRow, rejectedRow] = pairRows(ex, tokenizer);
    const prompt = chosenRow.prompt;
    const chosen = truncateRow(chosenRow, options);
    const rejected = truncateRow(rejectedRow, options);
    if (chosen && rejected) {
      chosenRows.push(chosen);
      rejectedRows.push(rejected);
      kept.push(index);
    } else {
      const side = !chosen && !rejected ? 'chosen and rejected completions' : !chosen ? 'chosen completion' : 'rejected completion';
      dropped.push({ index, reason: truncatedAway(side, prompt.length, options) });
    }
  });
  const batch = packRows([...chosenRows, ...rejectedRows], tokenizer.pad, options);
  return { batch: { ...batch, pairs: kept.length }, kept, dropped };
}

/** Collates single prompt–completion sequences (SFT demonstrations). */
export function collateSequences(
  examples: ReadonlyArray<{ readonly prompt: string; readonly completion: string; readonly messages?: SequenceMessages }>,
  tokenizer: Tokenizer,
  options: CollateOptions = {},
): Collated<SequenceBatch> {
  checkTruncationOptions(options);
  const rows: TokenizedRow[] = [];
  const kept: number[] = [];
  const dropped: DroppedExample[] = [];
  examples.forEach((ex, index) => {
    const full = sequenceRow(ex, tokenizer);
    const row = truncateRow(full, options);
    if (row) {
      rows.push(row);
      kept.push(index);
    } else dropped.push({ index, reason: truncatedAway('completion', full.prompt.length, options) });
  });
  return { batch: packRows(rows, tokenizer.pad, options), kept, dropped };
}

/** Collates unpaired (KTO) rows; `labels` follows the rows. */
export function collateUnpaired(
  examples: ReadonlyArray<{ readonly prompt: string; readonly completion: string; readonly label: boolean; readonly messages?: SequenceMessages }>,
  tokenizer: Tokenizer,
  options: CollateOptions = {},
): Collated<UnpairedBatch> {
  const { batch, kept, dropped } = collateSequences(examples, tokenizer, options);
  const labels = Uint8Array.from(kept, (i) => (examples[i].label ? 1 : 0));
  return { batch: { ...batch, labels }, kept, dropped };
}

function truncatedAway(what: string, promptTokens: number, options: TruncationOptions): string {
  const prompt = options.maxPromptLength !== undefined ? Math.min(promptTokens, options.maxPromptLength) : promptTokens;
  return `${what} truncated away: the prompt takes ${prompt} tokens (BOS included) of maxLength ${options.maxLength} with truncationMode keep_start`;
}

/** Lays rows out right-padded with PAD, and fills the masks and lengths. */
export function packRows(rows: ReadonlyArray<TokenizedRow>, pad: number, options: CollateOptions = {}): SequenceBatch {
  const longest = rows.reduce((m, r) => Math.max(m, r.prompt.length + r.completion.length), 0);
  let seqLen = longest;
  if (options.padding === 'max_length') {
    if (options.maxLength === undefined) throw new RangeError('padding "max_length" needs maxLength');
    seqLen = options.maxLength;
  }
  const n = rows.length;
  const ids = new Int32Array(n * seqLen).fill(pad);
  const attentionMask = new Float32Array(n * seqLen);
  const lossMask = new Float32Array(n * seqLen);
  const promptLengths = new Int32Array(n);
  const completionLengths = new Int32Array(n);
  rows.forEach((row, r) => {
    const base = r * seqLen;
    const p = row.prompt.length;
    const c = row.completion.length;
    for (let t = 0; t < p; t++) ids[base + t] = row.prompt[t];
    for (let t = 0; t < c; t++) {
      ids[base + p + t] = row.completion[t];
      lossMask[base + p + t] = 1;
    }
    attentionMask.fill(1, base, base + p + c);
    promptLengths[r] = p;
    completionLengths[r] = c;
  });
  return { ids, attentionMask, lossMask, rows: n, seqLen, promptLengths, completionLengths };
}
