import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type * as t from 'io-ts';
import { renderCompletion, renderPrompt, type Message } from './chatTemplate.js';
import * as C from './codecs.js';
import { commonMessagePrefixLength, implicitPromptLength } from './commonPrefix.js';
import { issuesFromValidationErrors, type Issue } from './decodeIssues.js';
import type { DatasetExample, ExampleMeta, PairMessages, PreferenceExample } from './examples.js';
import { looksLikeHhTranscript, splitHhTranscript } from './hhRlhf.js';

export const FORMAT_NAMES = [
  'trl_explicit',
  'trl_implicit',
  'trl_conversational_explicit',
  'trl_conversational_implicit',
  'hh_rlhf',
  'ultrafeedback_binarized',
  'unpaired',
  'unpaired_conversational',
  'prompt_completion',
  'prompt_completion_conversational',
] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

export const isFormatName = (s: string): s is FormatName => (FORMAT_NAMES as ReadonlyArray<string>).includes(s);

export type RowDecodeResult = E.Either<ReadonlyArray<Issue>, DatasetExample>;

/** One supported row shape: how to recognise it and how to turn a row into a normalized example. */
export interface RowFormat {
  readonly name: FormatName;
  /** A one-line JSONL example of the shape. */
  readonly example: string;
  /** Whether an object's keys (and the JSON types of a few fields) say it is this format. */
  readonly matches: (row: Readonly<Record<string, unknown>>) => boolean;
  readonly decode: (row: unknown) => RowDecodeResult;
}

const issue = (path: string, problem: string): ReadonlyArray<Issue> => [{ path, problem }];

/** Validates with a codec, then normalizes; io-ts errors become issues. */
const decodeWith =
  <A>(codec: t.Decoder<unknown, A>, normalize: (row: A) => RowDecodeResult) =>
  (row: unknown): RowDecodeResult =>
    pipe(
      codec.decode(row),
      E.mapLeft(issuesFromValidationErrors),
      E.chain(normalize),
    );

/** The last checks every pair passes, whatever its format. */
function pair(prompt: string, chosen: string, rejected: string, meta?: ExampleMeta, messages?: PairMessages): RowDecodeResult {
  if (chosen === '') return E.left(issue('chosen', 'empty completion once the shared prompt is removed'));
  if (rejected === '') return E.left(issue('rejected', 'empty completion once the shared prompt is removed'));
  if (chosen === rejected) return E.left(issue('rejected', 'identical to chosen'));
  const example: PreferenceExample = { kind: 'pair', prompt, chosen, rejected, ...(meta ? { meta } : {}), ...(messages ? { messages } : {}) };
  return E.right(example);
}

function completionText(messages: ReadonlyArray<Message>, path: string): E.Either<ReadonlyArray<Issue>, string> {
  return pipe(renderCompletion(messages), E.mapLeft((problem) => issue(path, problem)));
}

/** Conversational pair: shared prompt messages, and the completion messages of each side. */
function conversationalPair(
  promptMessages: ReadonlyArray<Message>,
  chosen: ReadonlyArray<Message>,
  rejected: ReadonlyArray<Message>,
  meta?: ExampleMeta,
): RowDecodeResult {
  return pipe(
    completionText(chosen, 'chosen'),
    E.chain((c) =>
      pipe(
        completionText(rejected, 'rejected'),
        E.chain((r) => pair(renderPrompt(promptMessages), c, r, meta, { prompt: promptMessages, chosen, rejected })),
      ),
    ),
  );
}

/** Implicit conversational prompt: the messages both sides share; must leave a completion on each. */
function splitConversations(
  chosen: ReadonlyArray<Message>,
  rejected: ReadonlyArray<Message>,
  meta?: ExampleMeta,
): RowDecodeResult {
  const shared = commonMessagePrefixLength(chosen, rejected);
  if (shared === chosen.length && shared === rejected.length) return E.left(issue('rejected', 'identical to chosen'));
  if (shared === chosen.length) return E.left(issue('chosen', 'no message after the shared prompt'));
  if (shared === rejected.length) return E.left(issue('rejected', 'no message after the shared prompt'));
  return conversationalPair(chosen.slice(0, shared), chosen.slice(shared), rejected.slice(shared), meta);
}

const has = (row: Readonly<Record<string, unknown>>, ...keys: string[]): boolean => keys.every((k) => k in row);
const isList = (v: unknown): boolean => Array.isArray(v);

/** In detection order: the first format whose `matches` accepts a row is the file's format. */
export const ROW_FORMATS: ReadonlyArray<RowFormat> = [
  {
    name: 'ultrafeedback_binarized',
    example:
      '{"prompt":"Hi?","prompt_id":"a1","chosen":[{"role":"user","content":"Hi?"},{"role":"assistant","content":"Hello!"}],"rejected":[{"role":"user","content":"Hi?"},{"role":"assistant","content":"Go away."}],"score_chosen":8,"score_rejected":3}',
    matches: (row) => has(row, 'prompt_id', 'chosen', 'rejected', 'score_chosen', 'score_rejected'),
    decode: decodeWith(C.UltraFeedbackRow, (row) => {
      if (row.score_chosen < row.score_rejected)
        return E.left(issue('score_chosen', `lower than score_rejected (${row.score_chosen} < ${row.score_rejected})`));
      return splitConversations(row.chosen, row.rejected, {
        promptId: row.prompt_id,
        scoreChosen: row.score_chosen,
        scoreRejected: row.score_rejected,
      });
    }),
  },
  {
    name: 'unpaired_conversational',
    example:
      '{"prompt":[{"role":"user","content":"2+2?"}],"completion":[{"role":"assistant","content":"4"}],"label":true}',
    matches: (row) => has(row, 'prompt', 'completion', 'label') && (isList(row.prompt) || isList(row.completion)),
    decode: decodeWith(C.UnpairedConversationalRow, (row) =>
      pipe(
        completionText(row.completion, 'completion'),
        E.map((completion): DatasetExample => ({ kind: 'unpaired', prompt: renderPrompt(row.prompt), completion, label: row.label, messages: { prompt: row.prompt, completion: row.completion } })),
      ),
    ),
  },
  {
    name: 'unpaired',
    example: '{"prompt":"2+2=","completion":" 4","label":true}',
    matches: (row) => has(row, 'prompt', 'completion', 'label'),
    decode: decodeWith(C.UnpairedRow, (row) =>
      E.right({ kind: 'unpaired', prompt: row.prompt, completion: row.completion, label: row.label }),
    ),
  },
  {
    name: 'prompt_completion_conversational',
    example: '{"prompt":[{"role":"user","content":"2+2?"}],"completion":[{"role":"assistant","content":"4"}]}',
    matches: (row) => has(row, 'prompt', 'completion') && (isList(row.prompt) || isList(row.completion)),
    decode: decodeWith(C.PromptCompletionConversationalRow, (row) =>
      pipe(
        completionText(row.completion, 'completion'),
        E.map((completion): DatasetExample => ({ kind: 'sft', prompt: renderPrompt(row.prompt), completion, messages: { prompt: row.prompt, completion: row.completion } })),
      ),
    ),
  },
  {
    name: 'prompt_completion',
    example: '{"prompt":"2+2=","completion":" 4"}',
    matches: (row) => has(row, 'prompt', 'completion'),
    decode: decodeWith(C.PromptCompletionRow, (row) => E.right({ kind: 'sft', prompt: row.prompt, completion: row.completion })),
  },
  {
    name: 'trl_conversational_explicit',
    example:
      '{"prompt":[{"role":"user","content":"Sky colour?"}],"chosen":[{"role":"assistant","content":"Blue."}],"rejected":[{"role":"assistant","content":"Green."}]}',
    matches: (row) => has(row, 'prompt', 'chosen', 'rejected') && (isList(row.prompt) || isList(row.chosen)),
    decode: decodeWith(C.TrlConversationalExplicitRow, (row) => conversationalPair(row.prompt, row.chosen, row.rejected)),
  },
  {
    name: 'trl_explicit',
    example: '{"prompt":"The sky is","chosen":" blue.","rejected":" green."}',
    matches: (row) => has(row, 'prompt', 'chosen', 'rejected'),
    decode: decodeWith(C.TrlExplicitRow, (row) => pair(row.prompt, row.chosen, row.rejected)),
  },
  {
    name: 'trl_conversational_implicit',
    example:
      '{"chosen":[{"role":"user","content":"Sky colour?"},{"role":"assistant","content":"Blue."}],"rejected":[{"role":"user","content":"Sky colour?"},{"role":"assistant","content":"Green."}]}',
    matches: (row) => has(row, 'chosen', 'rejected') && isList(row.chosen),
    decode: decodeWith(C.TrlConversationalImplicitRow, (row) => splitConversations(row.chosen, row.rejected)),
  },
  {
    name: 'hh_rlhf',
    example:
      '{"chosen":"\\n\\nHuman: Sky colour?\\n\\nAssistant: Blue.","rejected":"\\n\\nHuman: Sky colour?\\n\\nAssistant: Green."}',
    matches: (row) => has(row, 'chosen', 'rejected') && typeof row.chosen === 'string' && looksLikeHhTranscript(row.chosen),
    decode: decodeWith(C.HhRlhfRow, (row) => {
      const chosen = splitHhTranscript(row.chosen);
      if (E.isLeft(chosen)) return E.left(issue('chosen', chosen.left));
      const rejected = splitHhTranscript(row.rejected);
      if (E.isLeft(rejected)) return E.left(issue('rejected', rejected.left));
      if (chosen.right.prompt !== rejected.right.prompt)
        return E.left(issue('rejected', 'differs from chosen before the last "\\n\\nAssistant:" turn'));
      if (chosen.right.completion.trim() === '') return E.left(issue('chosen', 'empty last assistant turn'));
      if (rejected.right.completion.trim() === '') return E.left(issue('rejected', 'empty last assistant turn'));
      return pair(chosen.right.prompt, chosen.right.completion, rejected.right.completion);
    }),
  },
  {
    name: 'trl_implicit',
    example: '{"chosen":"The sky is blue.","rejected":"The sky is green."}',
    matches: (row) => has(row, 'chosen', 'rejected'),
    decode: decodeWith(C.TrlImplicitRow, (row) => {
      const cut = implicitPromptLength(row.chosen, row.rejected);
      return pair(row.chosen.slice(0, cut), row.chosen.slice(cut), row.rejected.slice(cut));
    }),
  },
];

const BY_NAME = new Map(ROW_FORMATS.map((f) => [f.name, f]));

export function rowFormat(name: FormatName): RowFormat {
  const format = BY_NAME.get(name);
  if (!format) throw new Error(`unknown format "${name}"`);
  return format;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The format a parsed row is in, by its keys; undefined when no format matches. */
export function detectFormat(row: unknown): FormatName | undefined {
  if (!isRecord(row)) return undefined;
  return ROW_FORMATS.find((f) => f.matches(row))?.name;
}

/** Decodes one parsed JSON row in a given format into a normalized example, or the issues found. */
export function decodeRow(row: unknown, format: FormatName): RowDecodeResult {
  return rowFormat(format).decode(row);
}
