import * as E from 'fp-ts/lib/Either.js';

/** One chat message, as in TRL's conversational formats. */
export interface Message {
  readonly role: string;
  readonly content: string;
}

/**
 * The chat template: each message is rendered as
 *
 *     <|ROLE|>\nCONTENT\n
 *
 * and a prompt ends with the assistant header `<|assistant|>\n`, so the completion starts with the
 * assistant's words. The template writes no BOS or EOS text: tokenization adds BOS before the prompt
 * and EOS after the completion, each exactly once (the doubled-BOS/EOS bug of other tools cannot happen).
 * The final newline of the last completion message is dropped, since EOS takes its place.
 */
export const renderTurn = (m: Message): string => `<|${m.role}|>\n${m.content}\n`;

export const ASSISTANT_HEADER = '<|assistant|>\n';

/** The prompt text for a list of prompt messages (possibly empty), ending with the assistant header. */
export function renderPrompt(messages: ReadonlyArray<Message>): string {
  return messages.map(renderTurn).join('') + ASSISTANT_HEADER;
}

/**
 * The completion text for the messages that follow the prompt. The first must be the assistant's; later
 * ones (rare: multi-turn completions) are rendered with the template. Left: why it cannot be rendered.
 */
export function renderCompletion(messages: ReadonlyArray<Message>): E.Either<string, string> {
  if (messages.length === 0) return E.left('no completion message');
  const first = messages[0];
  if (first.role !== 'assistant') return E.left(`first completion message has role "${first.role}", expected "assistant"`);
  const full = messages.map(renderTurn).join('');
  return E.right(full.slice(ASSISTANT_HEADER.length, full.length - 1));
}
