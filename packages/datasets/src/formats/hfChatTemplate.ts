import { Template } from '@huggingface/jinja';
import * as E from 'fp-ts/lib/Either.js';
import type { SpecialTokenNames } from '../tokenizers/tokenizer.js';
import type { Message } from './chatTemplate.js';

/**
 * A model's own chat template (the Jinja `chat_template` of its `tokenizer_config.json`), rendered by
 * @huggingface/jinja, the engine transformers.js uses.
 *
 * Rendering yields **segments**: the template's markup (`<|im_start|>user\n`, `<|eot_id|>`, …), whose
 * special-token strings are control tokens, and the messages' content, which is user text and is encoded
 * as text (a user typing "<|im_end|>" cannot close a turn). To tell the two apart, the template is also
 * rendered with each content replaced by a private-use sentinel; the real rendering must then be that
 * markup with the contents in place (verbatim, or trimmed, as templates such as Llama 3's `| trim` do).
 * A template that otherwise inspects or rewrites the content is refused with a clear error.
 */
export interface ChatSegment {
  readonly kind: 'markup' | 'content';
  readonly text: string;
}

export interface HfChatTemplate {
  readonly source: string;
  /** The rendering as one string (what transformers' `apply_chat_template(..., tokenize=False)` gives). */
  renderText(messages: ReadonlyArray<Message>, addGenerationPrompt: boolean): E.Either<string, string>;
  /** The rendering cut into markup and content segments (joined, they are `renderText`'s string). */
  renderSegments(messages: ReadonlyArray<Message>, addGenerationPrompt: boolean): E.Either<string, ChatSegment[]>;
}

const SENTINEL = /\uE000(\d+)\uE001/;
const sentinel = (k: number) => `\uE000${k}\uE001`;
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Compiles a chat template; `specials` are what it sees as `bos_token`, `eos_token`, `pad_token`. */
export function compileChatTemplate(source: string, specials: SpecialTokenNames): E.Either<string, HfChatTemplate> {
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    return E.left(`chat template: cannot parse it: ${errorText(e)}`);
  }
  const render = (messages: ReadonlyArray<Message>, addGenerationPrompt: boolean): E.Either<string, string> => {
    try {
      return E.right(
        template.render({
          messages: messages.map((m) => ({ role: m.role, content: m.content })),
          add_generation_prompt: addGenerationPrompt,
          bos_token: specials.bos,
          eos_token: specials.eos,
          pad_token: specials.pad,
        }),
      );
    } catch (e) {
      return E.left(`chat template: rendering failed: ${errorText(e)}`);
    }
  };

  const renderSegments = (messages: ReadonlyArray<Message>, addGenerationPrompt: boolean): E.Either<string, ChatSegment[]> => {
    const real = render(messages, addGenerationPrompt);
    if (E.isLeft(real)) return real;
    const marked = render(messages.map((m, k) => ({ role: m.role, content: sentinel(k) })), addGenerationPrompt);
    if (E.isLeft(marked)) return E.left(`${marked.left} (with placeholder contents: the template inspects the content)`);
    // split with one capture group alternates markup, content index, markup, ...
    const pieces = marked.right.split(SENTINEL);
    return matchPieces(real.right, pieces, messages);
  };

  return E.right({ source, renderText: render, renderSegments });
}

/** Places the contents between the markup pieces so that they join into `real` exactly. */
function matchPieces(real: string, pieces: string[], messages: ReadonlyArray<Message>): E.Either<string, ChatSegment[]> {
  const segments: ChatSegment[] = [];
  let pos = 0;
  const refused = (why: string) =>
    E.left(`chat template: cannot tell its markup from the message contents (${why}); only templates that insert each content verbatim or trimmed are supported`);
  for (let i = 0; i < pieces.length; i++) {
    if (i % 2 === 0) {
      if (!real.startsWith(pieces[i], pos)) return refused(`the rendering differs from the markup at character ${pos}`);
      if (pieces[i] !== '') segments.push({ kind: 'markup', text: pieces[i] });
      pos += pieces[i].length;
      continue;
    }
    const content = messages[Number(pieces[i])]?.content;
    if (content === undefined) return refused('a placeholder the template did not get');
    const next = pieces[i + 1];
    const isLast = i + 2 >= pieces.length;
    const fits = (c: string) => real.startsWith(c, pos) && (isLast && next === '' ? pos + c.length === real.length : real.startsWith(next, pos + c.length));
    const found = [content, content.trim(), content.trimStart(), content.trimEnd()].find(fits);
    if (found === undefined) return refused(`message ${pieces[i]}'s content is rewritten`);
    if (found !== '') segments.push({ kind: 'content', text: found });
    pos += found.length;
  }
  if (pos !== real.length) return refused('the rendering is longer than the markup');
  return E.right(segments);
}
