import { fc, test } from '@fast-check/vitest';
import * as E from 'fp-ts/lib/Either.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderIssue } from './decodeIssues.js';
import type { DatasetExample } from './examples.js';
import { decodeRow, detectFormat, ROW_FORMATS, type FormatName } from './rowFormats.js';

const ok = (row: unknown, format: FormatName): DatasetExample => {
  const r = decodeRow(row, format);
  if (E.isLeft(r)) throw new Error(r.left.map(renderIssue).join('; '));
  return r.right;
};
const problems = (row: unknown, format: FormatName): string[] => {
  const r = decodeRow(row, format);
  return E.isLeft(r) ? r.left.map(renderIssue) : [];
};
const m = (role: string, content: string) => ({ role, content });

describe('row formats', () => {
  it.each(ROW_FORMATS.map((f) => [f.name, f.example] as const))('the documented example of %s is detected and decodes', (name, example) => {
    const row: unknown = JSON.parse(example);
    expect(detectFormat(row)).toBe(name);
    expect(E.isRight(decodeRow(row, name))).toBe(true);
  });

  it('TRL explicit keeps the texts as they are', () => {
    expect(ok({ prompt: 'The sky is', chosen: ' blue.', rejected: ' green.', extra: 1 }, 'trl_explicit')).toEqual({
      kind: 'pair',
      prompt: 'The sky is',
      chosen: ' blue.',
      rejected: ' green.',
    });
  });

  it('TRL implicit splits at the common prefix, completions keeping their leading space', () => {
    expect(ok({ chosen: 'The sky is blue.', rejected: 'The sky is green.' }, 'trl_implicit')).toMatchObject({
      prompt: 'The sky is',
      chosen: ' blue.',
      rejected: ' green.',
    });
  });

  test.prop([fc.string(), fc.string({ minLength: 1 }), fc.string({ minLength: 1 })])(
    'TRL implicit: prompt + completion gives back each full text',
    (shared, a, b) => {
      fc.pre(a !== b && !a.startsWith(b) && !b.startsWith(a));
      const chosen = shared + a;
      const rejected = shared + b;
      const r = decodeRow({ chosen, rejected }, 'trl_implicit');
      if (E.isRight(r) && r.right.kind === 'pair') {
        expect(r.right.prompt + r.right.chosen).toBe(chosen);
        expect(r.right.prompt + r.right.rejected).toBe(rejected);
        expect(r.right.prompt.length).toBeGreaterThanOrEqual(0);
      } else throw new Error('expected a pair');
    },
  );

  it('conversational rows go through the chat template', () => {
    const explicit = ok({ prompt: [m('user', 'Hi?')], chosen: [m('assistant', 'Hello.')], rejected: [m('assistant', 'Go.')] }, 'trl_conversational_explicit');
    expect(explicit).toEqual({
      kind: 'pair',
      prompt: '<|user|>\nHi?\n<|assistant|>\n',
      chosen: 'Hello.',
      rejected: 'Go.',
      // Kept for a model's own chat template (collation uses it when the tokenizer has one).
      messages: { prompt: [m('user', 'Hi?')], chosen: [m('assistant', 'Hello.')], rejected: [m('assistant', 'Go.')] },
    });
    const implicit = ok({ chosen: [m('user', 'Hi?'), m('assistant', 'Hello.')], rejected: [m('user', 'Hi?'), m('assistant', 'Go.')] }, 'trl_conversational_implicit');
    expect(implicit).toEqual(explicit);
  });

  it('HH-RLHF transcripts split before the last assistant turn', () => {
    const row = {
      chosen: '\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: 2+2?\n\nAssistant: 4',
      rejected: '\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: 2+2?\n\nAssistant: 5',
    };
    expect(detectFormat(row)).toBe('hh_rlhf');
    expect(ok(row, 'hh_rlhf')).toEqual({
      kind: 'pair',
      prompt: '\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: 2+2?\n\nAssistant:',
      chosen: ' 4',
      rejected: ' 5',
    });
    expect(problems({ chosen: '\n\nHuman: a\n\nAssistant: x', rejected: '\n\nHuman: b\n\nAssistant: y' }, 'hh_rlhf')).toEqual([
      'rejected: differs from chosen before the last "\\n\\nAssistant:" turn',
    ]);
    expect(problems({ chosen: '\n\nHuman: a', rejected: '\n\nHuman: a\n\nAssistant: y' }, 'hh_rlhf')).toEqual(['chosen: no "\\n\\nAssistant:" turn']);
  });

  it('UltraFeedback rows keep id and scores', () => {
    const row = {
      prompt: 'Hi?',
      prompt_id: 'x1',
      chosen: [m('user', 'Hi?'), m('assistant', 'Hello.')],
      rejected: [m('user', 'Hi?'), m('assistant', 'Go.')],
      score_chosen: 9,
      score_rejected: 2,
    };
    expect(ok(row, 'ultrafeedback_binarized')).toEqual({
      kind: 'pair',
      prompt: '<|user|>\nHi?\n<|assistant|>\n',
      chosen: 'Hello.',
      rejected: 'Go.',
      meta: { promptId: 'x1', scoreChosen: 9, scoreRejected: 2 },
      messages: { prompt: [m('user', 'Hi?')], chosen: [m('assistant', 'Hello.')], rejected: [m('assistant', 'Go.')] },
    });
    expect(problems({ ...row, score_chosen: 1 }, 'ultrafeedback_binarized')).toEqual(['score_chosen: lower than score_rejected (1 < 2)']);
    expect(problems({ ...row, messages: [m('user', 7 as unknown as string)] }, 'ultrafeedback_binarized')).toEqual([
      'messages[0].content: expected string, got number',
    ]);
  });

  it('unpaired and prompt-completion rows', () => {
    expect(ok({ prompt: 'p', completion: ' c', label: false }, 'unpaired')).toEqual({ kind: 'unpaired', prompt: 'p', completion: ' c', label: false });
    expect(ok({ prompt: 'p', completion: ' c' }, 'prompt_completion')).toEqual({ kind: 'sft', prompt: 'p', completion: ' c' });
    expect(problems({ prompt: 'p', completion: ' c', label: 1 }, 'unpaired')).toEqual(['label: expected boolean, got number']);
  });

  it('errors name the field path, what was expected and what came', () => {
    expect(problems({ prompt: 'p', chosen: 5, rejected: 'r' }, 'trl_explicit')).toEqual(['chosen: expected string, got number']);
    expect(problems({ prompt: 'p', chosen: 'c' }, 'trl_explicit')).toEqual(['rejected: missing (expected string)']);
    expect(problems({ prompt: null, chosen: 'c', rejected: 'r' }, 'trl_explicit')).toEqual(['prompt: expected string, got null']);
    expect(problems({ prompt: 'p', chosen: '', rejected: 'r' }, 'trl_explicit')).toEqual(['chosen: expected a non-empty string, got empty string']);
    expect(problems({ prompt: 'p', chosen: 'same', rejected: 'same' }, 'trl_explicit')).toEqual(['rejected: identical to chosen']);
    expect(problems([1, 2], 'trl_explicit')).toEqual(['row: expected object, got array']);
    expect(problems({ prompt: [m('user', 'q')], chosen: [{ role: 'assistant', content: 3 }], rejected: [m('assistant', 'r')] }, 'trl_conversational_explicit')).toEqual([
      'chosen[0].content: expected string, got number',
    ]);
    expect(problems({ prompt: [], chosen: [m('user', 'a')], rejected: [m('assistant', 'r')] }, 'trl_conversational_explicit')).toEqual([
      'chosen: first completion message has role "user", expected "assistant"',
    ]);
    expect(problems({ prompt: [], chosen: [], rejected: [m('assistant', 'r')] }, 'trl_conversational_explicit')).toEqual(['chosen: expected a non-empty message list, got array']);
    expect(problems({ chosen: 'abc', rejected: 'abcdef' }, 'trl_implicit')).toEqual(['chosen: empty completion once the shared prompt is removed']);
  });

  it('detection by keys, in a fixed order', () => {
    expect(detectFormat({ prompt: 'p', chosen: 'c', rejected: 'r' })).toBe('trl_explicit');
    expect(detectFormat({ chosen: 'c', rejected: 'r' })).toBe('trl_implicit');
    expect(detectFormat({ prompt: 'p', completion: 'c' })).toBe('prompt_completion');
    expect(detectFormat({ prompt: 'p', completion: 'c', label: true })).toBe('unpaired');
    expect(detectFormat({ question: 'q' })).toBeUndefined();
    expect(detectFormat('text')).toBeUndefined();
  });
});

describe('the README', () => {
  it('shows every format with its one-line example', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const f of ROW_FORMATS) expect(readme).toContain(`| \`${f.name}\` | \`${f.example}\` |`);
  });
});
