import * as E from 'fp-ts/lib/Either.js';
import type { Message } from '../formats/chatTemplate.js';
import { compileChatTemplate, type ChatSegment, type HfChatTemplate } from '../formats/hfChatTemplate.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';

/**
 * Tokenizing conversations with the model's own chat template. The prompt is the rendering of the prompt
 * messages with `add_generation_prompt=True`; the full conversation (prompt + completion messages) must
 * start with exactly that text, and the completion is the rest, so the loss mask starts right after the
 * generation prompt (`<|im_start|>assistant\n`, `<|start_header_id|>assistant<|end_header_id|>\n\n`, …).
 * A template without that property is refused (its completion could not be masked exactly).
 *
 * Markup segments go through `encodeMarkup` (special tokens are control tokens), content segments through
 * `encode` (special-token strings are text). BOS is put first unless the template already starts with it;
 * EOS is appended unless the completion already ends with it (as TRL does).
 */

export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}

const compiled = new WeakMap<Tokenizer, E.Either<string, HfChatTemplate>>();

/** The tokenizer's chat template, compiled once per tokenizer; null when it has none (the fixed template applies). */
export function chatTemplateOf(tokenizer: Tokenizer): E.Either<string, HfChatTemplate> | null {
  if (tokenizer.chatTemplate === undefined) return null;
  let t = compiled.get(tokenizer);
  if (t === undefined) {
    t = compileChatTemplate(tokenizer.chatTemplate, tokenizer.specialTokens);
    compiled.set(tokenizer, t);
  }
  return t;
}

const encodeSegments = (tokenizer: Tokenizer, segments: ReadonlyArray<ChatSegment>): number[] =>
  segments.flatMap((s) => (s.kind === 'markup' ? tokenizer.encodeMarkup(s.text) : tokenizer.encode(s.text)));

/** The segments after the first `length` characters (a segment straddling the cut is split). */
function segmentsAfter(segments: ReadonlyArray<ChatSegment>, length: number): ChatSegment[] {
  const out: ChatSegment[] = [];
  let pos = 0;
  for (const s of segments) {
    const end = pos + s.text.length;
    if (end > length) out.push(pos >= length ? s : { kind: s.kind, text: s.text.slice(length - pos) });
    pos = end;
  }
  return out;
}

export interface ConversationPrompt {
  /** `[BOS?, …prompt]` ids. */
  readonly ids: number[];
  /** The prompt's rendered text (the prefix every completion's rendering must start with). */
  readonly text: string;
  readonly messages: ReadonlyArray<Message>;
}

/** The prompt messages rendered with the generation prompt, as ids (BOS first). */
export function conversationPrompt(tokenizer: Tokenizer, template: HfChatTemplate, messages: ReadonlyArray<Message>): E.Either<string, ConversationPrompt> {
  const segments = template.renderSegments(messages, true);
  if (E.isLeft(segments)) return segments;
  const ids = encodeSegments(tokenizer, segments.right);
  return E.right({ ids: ids[0] === tokenizer.bos ? ids : [tokenizer.bos, ...ids], text: segments.right.map((s) => s.text).join(''), messages });
}

/** The completion messages' ids after the prompt (EOS last), checking that the prompt is a prefix of the whole. */
export function conversationCompletion(tokenizer: Tokenizer, template: HfChatTemplate, prompt: ConversationPrompt, completion: ReadonlyArray<Message>): E.Either<string, number[]> {
  const segments = template.renderSegments([...prompt.messages, ...completion], false);
  if (E.isLeft(segments)) return segments;
  const full = segments.right.map((s) => s.text).join('');
  if (!full.startsWith(prompt.text)) {
    let at = 0;
    while (at < prompt.text.length && full[at] === prompt.text[at]) at++;
    return E.left(
      `chat template: the conversation's rendering does not start with the prompt's add_generation_prompt=True rendering ` +
        `(they differ at character ${at}: ${JSON.stringify(prompt.text.slice(at, at + 30))} vs ${JSON.stringify(full.slice(at, at + 30))}), so the completion cannot be masked exactly`,
    );
  }
  const ids = encodeSegments(tokenizer, segmentsAfter(segments.right, prompt.text.length));
  return E.right(ids[ids.length - 1] === tokenizer.eos ? ids : [...ids, tokenizer.eos]);
}

/** `orThrow` for the collation paths: a template problem is the model's files', reported as a ChatTemplateError. */
export function orThrow<A>(e: E.Either<string, A>): A {
  if (E.isLeft(e)) throw new ChatTemplateError(e.left);
  return e.right;
}
