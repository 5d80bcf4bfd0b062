import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { embeddedTask } from './embeddedTask.js';
import { reward } from './reward.js';
import { inverseTaskMix, shiftedSplit } from './shiftedSplit.js';
import { parseTaskPrompt, TASK_NAMES } from './tasks.js';

const small = { nSft: 40, nTrain: 30, nEval: 10, nHeldOut: 10 };

const inputLength = (prompt: string): number => {
  const i = parseTaskPrompt(prompt)!;
  return i.task === 'sort' ? i.input.split(' ').length : i.task === 'list' ? i.input.split(',').length : i.input.length;
};

describe('shifted split', () => {
  test.prop([fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 6 })])('every input is longer than any training input', (seed, trainMax) => {
    const split = shiftedSplit({ seed, ...small, trainLengths: { min: 1, max: trainMax } }, { nPrompts: 30, nPairs: 10 });
    expect(split.heldOut).toHaveLength(30);
    expect(split.pairs).toHaveLength(10);
    for (const p of [...split.heldOut.map((h) => h.prompt), ...split.pairs.map((p) => p.prompt)]) {
      expect(inputLength(p)).toBeGreaterThanOrEqual(trainMax + 2);
      expect(inputLength(p)).toBeLessThanOrEqual(trainMax + 4);
    }
    // Clean labels: the chosen response always has the higher ground-truth reward.
    for (const p of split.pairs) expect(reward(p.prompt, p.chosen)).toBeGreaterThan(reward(p.prompt, p.rejected));
  });

  it('is deterministic and leaves the ordinary splits unchanged', () => {
    const options = { seed: 3, ...small };
    const before = embeddedTask(options);
    const a = shiftedSplit(options, { nPrompts: 20, nPairs: 5 });
    expect(shiftedSplit(options, { nPrompts: 20, nPairs: 5 })).toEqual(a);
    expect(embeddedTask(options)).toEqual(before);
  });

  it('defaults to the inverse of the training mixture: rare training tasks become common', () => {
    expect(inverseTaskMix({ sort: 4, reverse: 4, count: 1, upper: 1, list: 0 })).toEqual({ sort: 0.25, reverse: 0.25, count: 1, upper: 1, list: 0 });
    const split = shiftedSplit({ seed: 0, ...small, taskMix: { sort: 9, reverse: 9, count: 1 } }, { nPrompts: 400, nPairs: 0 });
    const counts = Object.fromEntries(TASK_NAMES.map((t) => [t, split.heldOut.filter((h) => h.task === t).length]));
    expect(counts.upper).toBe(0);
    expect(counts.list).toBe(0);
    // count has weight 1 against 1/9 each for sort and reverse: about 82 % of the prompts (binomial sd ≈ 2 %).
    expect(counts.count / 400).toBeGreaterThan(0.7);
    expect(counts.sort + counts.reverse).toBeGreaterThan(0);
  });

  it('rejects bad options with the name of the problem', () => {
    expect(() => shiftedSplit({ seed: 0 }, { lengths: { min: 5, max: 2 } })).toThrow(/lengths/);
    expect(() => shiftedSplit({ seed: 0 }, { taskMix: { sort: 0, reverse: 0, count: 0, upper: 0, list: 0 } })).toThrow(/taskMix/);
    expect(() => shiftedSplit({ seed: 0 }, { nPrompts: -1 })).toThrow(/nPrompts/);
  });
});
