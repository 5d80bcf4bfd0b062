/**
 * `keep_start` keeps the first tokens (cuts the end of the completion, EOS included);
 * `keep_end` keeps BOS and then the last tokens (cuts the start of the prompt, and of the completion
 * only when the completion alone is too long). These are TRL's truncation modes, except that BOS is
 * always kept at position 0.
 */
export type TruncationMode = 'keep_start' | 'keep_end';

export interface TruncationOptions {
  /** Most tokens in a row (BOS, prompt, completion, EOS). */
  readonly maxLength?: number;
  /** Most prompt tokens (BOS included); a longer prompt keeps BOS and its last tokens. Applied first. */
  readonly maxPromptLength?: number;
  readonly truncationMode?: TruncationMode;
}

/** A tokenized row: `prompt` starts with BOS, `completion` ends with EOS (unless truncated away). */
export interface TokenizedRow {
  readonly prompt: ReadonlyArray<number>;
  readonly completion: ReadonlyArray<number>;
}

/** The row cut to fit, or null when no completion token would be left. */
export function truncateRow(row: TokenizedRow, options: TruncationOptions): TokenizedRow | null {
  let prompt = row.prompt;
  let completion = row.completion;
  const { maxPromptLength, maxLength } = options;
  if (maxPromptLength !== undefined && prompt.length > maxPromptLength) prompt = keepBosAndLast(prompt, maxPromptLength);
  if (maxLength !== undefined && prompt.length + completion.length > maxLength) {
    if ((options.truncationMode ?? 'keep_start') === 'keep_start') {
      if (prompt.length >= maxLength) return null;
      completion = completion.slice(0, maxLength - prompt.length);
    } else {
      const room = maxLength - 1; // for everything after BOS
      if (completion.length >= room) {
        prompt = prompt.slice(0, 1);
        completion = completion.slice(completion.length - room);
      } else {
        prompt = keepBosAndLast(prompt, maxLength - completion.length);
      }
    }
  }
  return completion.length === 0 ? null : { prompt, completion };
}

function keepBosAndLast(prompt: ReadonlyArray<number>, length: number): ReadonlyArray<number> {
  return length <= 1 ? prompt.slice(0, 1) : [prompt[0], ...prompt.slice(prompt.length - (length - 1))];
}

export function checkTruncationOptions(options: TruncationOptions): void {
  const { maxLength, maxPromptLength } = options;
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 2))
    throw new RangeError(`maxLength must be an integer ≥ 2 (BOS and one completion token), got ${maxLength}`);
  if (maxPromptLength !== undefined && (!Number.isInteger(maxPromptLength) || maxPromptLength < 1))
    throw new RangeError(`maxPromptLength must be an integer ≥ 1 (BOS), got ${maxPromptLength}`);
}
