import { fc, test } from '@fast-check/vitest';
import * as E from 'fp-ts/lib/Either.js';
import { expect } from 'vitest';
import { implicitPromptLength } from './commonPrefix.js';
import { renderCompletion, renderPrompt, renderTurn, type Message } from './chatTemplate.js';

const message = fc.record({ role: fc.constantFrom('system', 'user', 'assistant'), content: fc.string() });

test.prop([fc.array(message, { maxLength: 4 }), fc.string(), fc.array(message, { maxLength: 3 })])(
  'prompt + completion is the whole transcript without its final newline',
  (prompt, first, rest) => {
    const completion: Message[] = [{ role: 'assistant', content: first }, ...rest];
    const text = E.getOrElse(() => '<error>')(renderCompletion(completion));
    expect(renderPrompt(prompt) + text).toBe([...prompt, ...completion].map(renderTurn).join('').slice(0, -1));
    expect(renderPrompt(prompt).endsWith('<|assistant|>\n')).toBe(true);
  },
);

test.prop([fc.string(), fc.string(), fc.string()])('the implicit prompt never splits a surrogate pair', (shared, a, b) => {
  const cut = implicitPromptLength(shared + a, shared + b);
  const code = (shared + a).charCodeAt(cut - 1);
  expect(cut === 0 || !(code >= 0xd800 && code <= 0xdbff)).toBe(true);
  expect((shared + a).slice(0, cut)).toBe((shared + b).slice(0, cut));
});
