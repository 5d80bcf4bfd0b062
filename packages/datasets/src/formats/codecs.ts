import * as t from 'io-ts';
import { describeValue } from '@ganpo/codecs';

/**
 * io-ts codecs for every row shape we read. They check types only; the rules that need several
 * fields (prompt extraction, identical completions) live in the row decoders. Extra fields are
 * allowed and ignored, as TRL ignores extra dataset columns.
 */

/** A string with at least one character: completions must not be empty. */
export const NonEmptyString = new t.Type<string, string, unknown>(
  'non-empty string',
  (u): u is string => typeof u === 'string' && u.length > 0,
  (u, c) => {
    if (typeof u === 'string') return u.length > 0 ? t.success(u) : t.failure(u, c, 'empty string (expected non-empty)');
    return t.failure(u, c, u === undefined ? 'missing (expected string)' : `expected string, got ${describeValue(u)}`);
  },
  (s) => s,
);

export const MessageCodec = t.type({ role: NonEmptyString, content: t.string }, 'message');
export const MessagesCodec = t.array(MessageCodec, 'message list');

const NonEmptyMessages = new t.Type<t.TypeOf<typeof MessagesCodec>, unknown, unknown>(
  'non-empty message list',
  (u): u is t.TypeOf<typeof MessagesCodec> => MessagesCodec.is(u) && u.length > 0,
  (u, c) => (Array.isArray(u) && u.length === 0 ? t.failure(u, c, 'empty message list') : MessagesCodec.validate(u, c)),
  (a) => a,
);

export const TrlExplicitRow = t.type({ prompt: t.string, chosen: NonEmptyString, rejected: NonEmptyString });
export const TrlImplicitRow = t.type({ chosen: NonEmptyString, rejected: NonEmptyString });
export const TrlConversationalExplicitRow = t.type({
  prompt: MessagesCodec,
  chosen: NonEmptyMessages,
  rejected: NonEmptyMessages,
});
export const TrlConversationalImplicitRow = t.type({ chosen: NonEmptyMessages, rejected: NonEmptyMessages });
export const HhRlhfRow = t.type({ chosen: NonEmptyString, rejected: NonEmptyString });
export const UltraFeedbackRow = t.intersection([
  t.type({
    prompt: t.string,
    prompt_id: t.string,
    chosen: NonEmptyMessages,
    rejected: NonEmptyMessages,
    score_chosen: t.number,
    score_rejected: t.number,
  }),
  t.partial({ messages: MessagesCodec }),
]);
export const UnpairedRow = t.type({ prompt: t.string, completion: NonEmptyString, label: t.boolean });
export const UnpairedConversationalRow = t.type({
  prompt: MessagesCodec,
  completion: NonEmptyMessages,
  label: t.boolean,
});
export const PromptCompletionRow = t.type({ prompt: t.string, completion: NonEmptyString });
export const PromptCompletionConversationalRow = t.type({ prompt: MessagesCodec, completion: NonEmptyMessages });
