import { fc, test } from '@fast-check/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPreferenceDataset } from '../io/loadPreferenceDataset.js';
import { removeTempDirs, tempDir } from '../testFixtures.js';
import { embeddedTask } from './embeddedTask.js';
import { flipPreferenceLabels, labelNoiseCount } from './labelNoise.js';
import { reward } from './reward.js';
import { parseTaskPrompt } from './tasks.js';
import { writeEmbeddedTask } from './trlRows.js';

afterAll(removeTempDirs);

const small = { nSft: 60, nTrain: 40, nEval: 20, nHeldOut: 20 };

const inputLength = (prompt: string): number => {
  const i = parseTaskPrompt(prompt)!;
  return i.task === 'sort' ? i.input.split(' ').length : i.task === 'list' ? i.input.split(',').length : i.input.length;
};

describe('label noise', () => {
  test.prop([fc.nat(60), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer()])('flips exactly round(rate · n) pairs', (n, rate, seed) => {
    const pairs = Array.from({ length: n }, (_, i) => ({ kind: 'pair' as const, prompt: `p${i}`, chosen: `c${i}`, rejected: `r${i}` }));
    const { pairs: out, flippedIndices } = flipPreferenceLabels(pairs, { rate, seed });
    const flipped = out.filter((p, i) => p.chosen === pairs[i].rejected && p.rejected === pairs[i].chosen);
    expect(flipped).toHaveLength(Math.round(rate * n));
    expect(flippedIndices).toHaveLength(labelNoiseCount(rate, n));
    expect(flipPreferenceLabels(pairs, { rate, seed }).flippedIndices).toEqual(flippedIndices);
  });

  test.prop([fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: -1000, max: 1000 })])(
    'in the task, exactly round(rate · nTrain) training pairs have the worse response as chosen',
    (nTrain, labelNoise, seed) => {
      const task = embeddedTask({ seed, nSft: 0, nTrain, nEval: 0, nHeldOut: 0, labelNoise });
      const inverted = task.trainPairs.filter((p) => reward(p.prompt, p.chosen) < reward(p.prompt, p.rejected));
      expect(inverted).toHaveLength(Math.round(labelNoise * nTrain));
      expect(task.trainPairs.filter((p) => p.meta.labelFlipped)).toHaveLength(Math.round(labelNoise * nTrain));
    },
  );
});

describe('embeddedTask', () => {
  it('is deterministic in its seed, and parts do not move when other counts change', () => {
    const a = embeddedTask({ seed: 42, ...small });
    expect(embeddedTask({ seed: 42, ...small })).toEqual(a);
    expect(embeddedTask({ seed: 43, ...small }).sft).not.toEqual(a.sft);
    expect(embeddedTask({ seed: 42, ...small, nTrain: 10 }).sft).toEqual(a.sft);
  });

  it('pairs are ranked by the reward, ties dropped; demonstrations follow the teacher accuracy', () => {
    const task = embeddedTask({ seed: 1, ...small, nSft: 400, sftAccuracy: 0.7 });
    for (const p of [...task.trainPairs, ...task.evalPairs]) {
      expect(reward(p.prompt, p.chosen)).toBeGreaterThan(reward(p.prompt, p.rejected));
      expect(p.meta.chosenReward).toBe(reward(p.prompt, p.chosen));
    }
    const correct = task.sft.filter((d) => d.meta.corruption === 'none').length / task.sft.length;
    expect(correct).toBeGreaterThan(0.6);
    expect(correct).toBeLessThan(0.8);
    expect(task.stats.tiesDropped).toBeGreaterThan(0);
  });

  it('train and eval lengths set the input sizes (distribution shift)', () => {
    const task = embeddedTask({ seed: 2, ...small, trainLengths: { min: 2, max: 3 }, evalLengths: { min: 6, max: 8 } });
    for (const d of [...task.sft, ...task.trainPairs]) expect(inputLength(d.prompt)).toSatisfy((n: number) => n >= 2 && n <= 3);
    for (const d of [...task.evalPairs, ...task.heldOut]) expect(inputLength(d.prompt)).toSatisfy((n: number) => n >= 6 && n <= 8);
    expect(task.stats.heldOutPromptsSeenInTraining).toBe(0);
  });

  it('the task mix decides which tasks appear', () => {
    const task = embeddedTask({ seed: 3, ...small, taskMix: { sort: 1, upper: 2 } });
    const tasks = new Set([...task.sft, ...task.trainPairs].map((d) => d.meta.task));
    expect([...tasks].sort()).toEqual(['sort', 'upper']);
  });

  it('default inputs are short, for a tiny byte-level model', () => {
    const task = embeddedTask({ seed: 4, ...small });
    const longest = Math.max(...task.sft.map((d) => Buffer.byteLength(d.prompt + d.completion)));
    expect(longest).toBeLessThanOrEqual(64);
  });

  it('rejects bad knobs with one message', () => {
    let message = '';
    try {
      embeddedTask({ seed: 1, labelNoise: 2, trainLengths: { min: 4, max: 2 }, taskMix: { bogus: 1 } as never });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^embedded task: /);
    expect(message).toContain('labelNoise: expected a number ≥ 0 and ≤ 1, got 2');
    expect(message).toContain('trainLengths: expected integers with 1 ≤ min ≤ max, got {"min":4,"max":2}');
    expect(message).toContain("taskMix.bogus: unknown key; known keys here: ");
    expect(() => embeddedTask({ seed: 1, pairAccuracy: 1 })).toThrow(/every pair would be a tie/);
  });

  it('writes TRL JSONL that reads back through the ordinary file path', async () => {
    const task = embeddedTask({ seed: 9, ...small, labelNoise: 0.25 });
    const files = await writeEmbeddedTask(tempDir(), task);
    const train = await loadPreferenceDataset(files.train);
    expect(train.formats[files.train]).toBe('trl_explicit');
    expect(train.examples).toEqual(task.trainPairs.map(({ kind, prompt, chosen, rejected }) => ({ kind, prompt, chosen, rejected })));
    const sft = await loadPreferenceDataset(files.sft);
    expect(sft.formats[files.sft]).toBe('prompt_completion');
    expect(sft.examples).toHaveLength(task.sft.length);
    const heldOut = await loadPreferenceDataset(files.heldOut);
    expect(heldOut.examples.map((e) => (e.kind === 'sft' ? reward(e.prompt, e.completion) : 0))).toEqual(task.heldOut.map(() => 1));
    expect((await loadPreferenceDataset(files.eval)).examples).toHaveLength(task.evalPairs.length);
  });
});
