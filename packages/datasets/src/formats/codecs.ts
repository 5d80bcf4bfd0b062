import * as t from 'io-ts';
import { nonEmptyString } from '@ganpo/codecs';

/**
 * io-ts codecs for every row shape we read. They check types only; the rules that need several
 * fields (prompt extraction, identical completions) live in the row decoders. Extra fields are
 * allowed and ignored, as TRL ignores extra dataset columns.
 */

/**
 * A string with at least one character: completions must not be empty. Its type is checked first, so a value of
 * another kind reads `expected string, got number` and an empty one `expected a non-empty string, got empty string`.
 */
export const NonEmptyString = t.intersection([t.string, nonEmptyString], 'non-empty string');

export const MessageCodec = t.type({ role: NonEmptyString, content: t.string }, 'message');
export const MessagesCodec = t.array(MessageCodec, 'message list');

interface NonEmptyListBrand {
  readonly NonEmptyList: unique symbol;
}

/** A list with at least one item (its items are checked by the list's own codec). */
const nonEmptyList = Object.assign(
  t.brand(t.UnknownArray, (a): a is t.Branded<unknown[], NonEmptyListBrand> => a.length > 0, 'NonEmptyList'),
  { name: 'a non-empty message list' },
);

/** A message list with at least one message: `expected message list, got string`, else `expected a non-empty message list, got array`. */
const NonEmptyMessages = t.intersection([MessagesCodec, nonEmptyList], 'non-empty message list');

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
