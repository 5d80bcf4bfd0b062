import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { train } from '../index.js';
import { defaultRunConfig } from '../config/runConfig.js';
import { BatchOrder, lrSchedule, stageSteps } from './trainer.js';

describe('data order', () => {
  it('is a pure function of the micro-batch index: every item once per epoch, reshuffled each epoch', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const order = new BatchOrder(items, 3, 42);
    expect(order.perEpoch).toBe(3);
    const epoch0 = [0, 1, 2].flatMap((i) => order.at(i).items);
    const epoch1 = [3, 4, 5].flatMap((i) => order.at(i).items);
    expect(new Set(epoch0).size).toBe(9);
    expect(epoch1).not.toEqual(epoch0);
    expect(order.at(4).epoch).toBe(1);
    // A fresh order (a resumed run) sees the same batches, in any access order.
    const again = new BatchOrder(items, 3, 42);
    expect(again.at(5).items).toEqual(order.at(5).items);
    expect(again.at(1).items).toEqual(new BatchOrder(items, 3, 42).at(1).items);
  });

  it('handles data smaller than a batch', () => {
    const order = new BatchOrder([1, 2], 8, 0);
    expect(order.perEpoch).toBe(1);
    expect(order.at(3).items.sort()).toEqual([1, 2]);
  });

  it('derives steps from epochs', () => {
    const loop = { ...defaultRunConfig().preference, batchSize: 8, gradAccum: 2, epochs: 1.5 };
    expect(stageSteps(loop, 100)).toBe(Math.ceil((1.5 * 12) / 2));
    expect(stageSteps({ ...loop, epochs: null, steps: 7 }, 100)).toBe(7);
  });

  it('schedules warm up linearly then decay', () => {
    const loop = { ...defaultRunConfig().preference, lr: 1, warmup: 4, schedule: 'cosine' as const };
    const s = lrSchedule(loop, 20);
    expect([0, 1, 2, 3, 4].map(s)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(s(20)).toBe(0);
    expect(lrSchedule({ ...loop, schedule: 'constant', warmup: 0 }, 20)(13)).toBe(1);
    expect(lrSchedule({ ...loop, schedule: 'linear' }, 20)(12)).toBeCloseTo(0.5);
  });
});

describe('train() from code', () => {
  it('runs the same pipeline as the command with a typed, partial config', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ganpo-train-api-'));
    const lines: string[] = [];
    const result = await train(
      {
        out,
        model: { init: 'tiny', dropout: null },
        sft: { steps: 2, batchSize: 4 },
        preference: { steps: 2, batchSize: 2, warmup: 0 },
        log: { evalInterval: 2, evalPairs: 4, saveInterval: 0 },
        eval: { prompts: 2, temperatures: [0], maxNewTokens: 8, atEnd: true },
      },
      { log: (l) => lines.push(l) },
    );
    expect(result.status).toBe('completed');
    expect(result.summary.stages.map((s) => [s.stage, s.steps])).toEqual([
      ['sft', 2],
      ['preference', 2],
    ]);
    expect(result.evaluation?.sampling[0].prompts).toBe(2);
    expect(existsSync(join(out, 'policy', 'model.safetensors'))).toBe(true);
    expect(readFileSync(result.report.html, 'utf8')).toContain('<svg');
    expect(lines.some((l) => l.startsWith('objective: sigmoid'))).toBe(true);
  }, 120_000);

  it('builds a model from a model config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ganpo-model-config-'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ dModel: 8, nLayers: 1, nHeads: 2, dropout: 0 }));
    const result = await train({
      out: join(dir, 'run'),
      stage: 'sft',
      model: { init: join(dir, 'model.json'), dropout: null },
      sft: { steps: 1, batchSize: 2 },
      log: { evalInterval: 0, saveInterval: 0 },
      eval: { prompts: 1, temperatures: [0], maxNewTokens: 4, atEnd: true },
    });
    expect(result.summary.parameters).toBeGreaterThan(0);
    expect(result.summary.model).toContain('d=8, 1 layers');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ dModel: 9, nLayers: 1, nHeads: 2, dropout: 0 }));
    await expect(train({ out: join(dir, 'run2'), model: { init: join(dir, 'bad.json'), dropout: null } })).rejects.toThrow(/invalid model config/);
  }, 60_000);

  it('rejects unknown keys and bad values with their path', async () => {
    await expect(train({ preference: { stepz: 3 } } as never)).rejects.toThrow(ConfigError);
    await expect(train({ seed: -1 })).rejects.toMatchObject({ details: ['seed: expected an integer ≥ 0 and ≤ 2147483647, got -1'] });
  });
});
