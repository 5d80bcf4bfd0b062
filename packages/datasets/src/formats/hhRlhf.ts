import * as E from 'fp-ts/lib/Either.js';

/** The marker that opens each assistant turn in Anthropic HH-RLHF transcripts. */
export const HH_ASSISTANT_MARKER = '\n\nAssistant:';
export const HH_HUMAN_MARKER = '\n\nHuman:';

/**
 * Splits one HH-RLHF transcript into the prompt (everything up to and including the last
 * `\n\nAssistant:`) and the completion (the last assistant turn, with its leading space), as TRL does.
 */
export function splitHhTranscript(transcript: string): E.Either<string, { prompt: string; completion: string }> {
  const at = transcript.lastIndexOf(HH_ASSISTANT_MARKER);
  if (at < 0) return E.left('no "\\n\\nAssistant:" turn');
  const cut = at + HH_ASSISTANT_MARKER.length;
  return E.right({ prompt: transcript.slice(0, cut), completion: transcript.slice(cut) });
}

/** Whether a text looks like an HH-RLHF transcript (used by format detection). */
export const looksLikeHhTranscript = (text: string): boolean =>
  text.startsWith(HH_HUMAN_MARKER) || (text.includes(HH_HUMAN_MARKER) && text.includes(HH_ASSISTANT_MARKER));
