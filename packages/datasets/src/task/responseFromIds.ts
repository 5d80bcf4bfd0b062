import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { TaskResponse } from './reward.js';

/**
 * Turns the ids a model generated after the prompt into the response the reward scores: the text
 * before the first EOS, and whether an EOS came at all (a generation cut by the length limit did not).
 */
export function responseFromIds(tokenizer: Tokenizer, generated: ReadonlyArray<number>): Exclude<TaskResponse, string> {
  const end = generated.indexOf(tokenizer.eos);
  return end < 0
    ? { text: tokenizer.decode(generated), endedWithEos: false }
    : { text: tokenizer.decode(generated.slice(0, end)), endedWithEos: true };
}
