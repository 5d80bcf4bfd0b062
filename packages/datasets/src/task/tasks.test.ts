import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { createRng } from '../random/rng.js';
import { byteTokenizer } from '../tokenizers/byteTokenizer.js';
import { editDistance, normalizedEditDistance } from './editDistance.js';
import { responseFromIds } from './responseFromIds.js';
import { isCorrect, isFormatCompliant, reward, rewardBreakdown } from './reward.js';
import { corruptAnswer, CORRUPTIONS, teacherSample } from './teacher.js';
import { parseTaskPrompt, sampleTaskInstance, TASK_NAMES, type TaskInstance } from './tasks.js';

const instanceArb: fc.Arbitrary<TaskInstance> = fc
  .tuple(fc.integer(), fc.constantFrom(...TASK_NAMES), fc.integer({ min: 1, max: 12 }))
  .map(([seed, task, length]) => sampleTaskInstance(createRng(seed), task, length));

describe('task prompts and answers', () => {
  it.each([
    ['sort: d b a c', 'a b c d'],
    ['reverse: hello', 'olleh'],
    ['count a: banana', '3'],
    ['upper: abc', 'ABC'],
    ['list: x,y,z', '- x\n- y\n- z'],
  ])('%s → %j', (prompt, answer) => {
    expect(parseTaskPrompt(prompt)?.answer).toBe(answer);
    expect(parseTaskPrompt(`${prompt}\n`)?.answer).toBe(answer);
    expect(reward(prompt, answer)).toBe(1);
  });

  it('rejects what is not a task prompt', () => {
    expect(parseTaskPrompt('sort: D B')).toBeNull();
    expect(parseTaskPrompt('hello')).toBeNull();
    expect(() => reward('hello', 'x')).toThrow(/not an embedded-task prompt/);
  });

  test.prop([instanceArb])('sampled instances parse back to themselves', (instance) => {
    expect(parseTaskPrompt(instance.prompt)).toEqual(instance);
    expect(instance.prompt.endsWith('\n')).toBe(true);
  });
});

describe('reward', () => {
  test.prop([instanceArb, fc.string({ maxLength: 30 }), fc.boolean()])('is in [0, 1]', (instance, text, endedWithEos) => {
    const r = reward(instance.prompt, { text, endedWithEos });
    expect(r).toBeGreaterThanOrEqual(0);
    expect(r).toBeLessThanOrEqual(1);
  });

  test.prop([instanceArb])('is 1 on the exact answer with EOS, and below 1 without EOS', (instance) => {
    expect(reward(instance.prompt, instance.answer)).toBe(1);
    expect(isCorrect(instance.prompt, instance.answer)).toBe(true);
    expect(isFormatCompliant(instance.prompt, instance.answer)).toBe(true);
    expect(reward(instance.prompt, { text: instance.answer, endedWithEos: false })).toBe(0.875);
    expect(isFormatCompliant(instance.prompt, { text: instance.answer, endedWithEos: false })).toBe(false);
  });

  test.prop([instanceArb, fc.constantFrom(...CORRUPTIONS), fc.integer()])('is below 1 on every corruption the teacher makes', (instance, kind, seed) => {
    const sample = corruptAnswer(createRng(seed), instance, kind);
    expect(sample.text).not.toBe(instance.answer);
    expect(reward(instance.prompt, sample.text)).toBeLessThan(1);
  });

  it('gives partial credit and documents its parts', () => {
    // Two substitutions in seven characters.
    expect(rewardBreakdown('sort: d b a c', 'a b d c')).toEqual({ reward: 0.75 * (5 / 7) + 0.25, correctness: 5 / 7, format: 1, answerShape: true, endedWithEos: true });
    expect(rewardBreakdown('upper: abc', 'answer: ABC')).toMatchObject({ answerShape: false, format: 0.5 });
    expect(reward('count a: banana', '3\ncount b: x')).toBeLessThan(reward('count a: banana', '4'));
  });
});

describe('noisy teacher', () => {
  test.prop([instanceArb, fc.integer(), fc.double({ min: 0, max: 1, noNaN: true })])('is deterministic for a seed and labels its corruptions', (instance, seed, p) => {
    const a = teacherSample(createRng(seed), instance, p);
    expect(teacherSample(createRng(seed), instance, p)).toEqual(a);
    expect(a.corruption === null).toBe(a.text === instance.answer);
  });

  it('makes each kind of corruption in a realistic way', () => {
    const rng = createRng(5);
    const sort = parseTaskPrompt('sort: d b a c')!;
    const count = parseTaskPrompt('count a: banana')!;
    expect(['4', '2']).toContain(corruptAnswer(rng, count, 'off_by_one').text);
    expect(corruptAnswer(rng, count, 'wrong_order').corruption).toBe('off_by_one'); // nothing to reorder in a number
    const eos = corruptAnswer(rng, sort, 'missing_eos').text;
    expect(eos.startsWith('a b c d\n')).toBe(true);
    const extra = corruptAnswer(rng, sort, 'extra_text').text;
    expect(extra.includes('a b c d') && extra !== 'a b c d').toBe(true);
    expect(corruptAnswer(createRng(1), parseTaskPrompt('reverse: aaa')!, 'wrong_order').corruption).toBe('off_by_one');
  });
});

describe('edit distance', () => {
  const s = fc.string({ maxLength: 12 });
  test.prop([s, s, s])('is a metric, normalized into [0, 1]', (a, b, c) => {
    expect(editDistance(a, a)).toBe(0);
    expect(editDistance(a, b)).toBe(editDistance(b, a));
    expect(editDistance(a, c)).toBeLessThanOrEqual(editDistance(a, b) + editDistance(b, c));
    const n = normalizedEditDistance(a, b);
    expect(n >= 0 && n <= 1).toBe(true);
    expect(n === 0).toBe(a === b);
  });

  it('counts edits', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('responseFromIds', () => {
  it('cuts at the first EOS and says whether there was one', () => {
    const tok = byteTokenizer();
    expect(responseFromIds(tok, [...tok.encode('a b c'), tok.eos, ...tok.encode('zz')])).toEqual({ text: 'a b c', endedWithEos: true });
    expect(responseFromIds(tok, tok.encode('a b'))).toEqual({ text: 'a b', endedWithEos: false });
    expect(reward('sort: c b a', responseFromIds(tok, [...tok.encode('a b c'), tok.eos]))).toBe(1);
  });
});
