import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { train } from '../index.js';
import { defaultRunConfig } from '../config/runConfig.js';
import { BatchOrder, lrSchedule, stageSteps } from './trainer.js';
import { buildTrainConfig } from '../commands/train.js';

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

describe('gradient accumulation', () => {
  const metricLines = (out: string) =>
    readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
  const run = (batchSize: number, gradAccum: number) => {
    const out = join(mkdtempSync(join(tmpdir(), 'ganpo-accum-')), 'run');
    return train({
      out,
      stage: 'preference',
      model: { init: 'tiny', dropout: null },
      preference: { steps: 6, batchSize, gradAccum, warmup: 2, schedule: 'cosine' },
      ganpo: { enabled: true, instanceNoise: { sigma0: 0.5, annealSteps: 6 } },
      log: { interval: 1, evalInterval: 0, saveInterval: 0 },
      eval: { atEnd: false },
    }).then(() => metricLines(out));
  };

  it('takes one discriminator update per policy step: the same disc lr and noise schedule with and without it', async () => {
    const plain = await run(4, 1);
    const accumulated = await run(2, 2);
    const schedule = (lines: Record<string, number>[]) => lines.map((l) => [l.step, l['ganpo/disc_lr'], l['ganpo/noise_sigma']]);
    expect(plain).toHaveLength(6);
    expect(schedule(accumulated)).toEqual(schedule(plain));
    // The schedule is not trivially constant: warmup from 0, then cosine decay, every step of the run; noise anneals.
    expect(plain.map((l) => l['ganpo/disc_lr'] > 0)).toEqual([false, true, true, true, true, true]);
    expect(plain[1]['ganpo/disc_lr']).toBeGreaterThan(plain[0]['ganpo/disc_lr']);
    expect(plain[5]['ganpo/noise_sigma']).toBeLessThan(plain[0]['ganpo/noise_sigma']);
  }, 120_000);
});

describe('KTO: a stage description over unpaired data', () => {
  it('trains on prompt/completion/label rows with --objective kto (GANPO off: no pairs)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ganpo-kto-'));
    const words = ['ab', 'cab', 'bad', 'dab', 'cad', 'bead', 'deb', 'abc'];
    const rows = words.flatMap((w) => [
      { prompt: `reverse: ${w}\n`, completion: [...w].reverse().join(''), label: true },
      { prompt: `reverse: ${w}\n`, completion: w, label: false },
    ]);
    writeFileSync(join(dir, 'kto.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    const lines: string[] = [];
    const result = await train(
      {
        out: join(dir, 'run'),
        data: { path: join(dir, 'kto.jsonl') },
        model: { init: 'tiny', dropout: null },
        sft: { steps: 2, batchSize: 4 },
        preference: { steps: 3, batchSize: 4, warmup: 0, objective: { loss: 'kto', beta: 0.2 } },
        log: { interval: 1, evalInterval: 0, saveInterval: 0 },
        eval: { atEnd: false },
      },
      { log: (l) => lines.push(l) },
    );
    expect(result.status).toBe('completed');
    expect(lines.find((l) => l.startsWith('objective:'))).toMatch(/^objective: kto\(beta=0.2\); GANPO off \(KTO trains on unpaired examples/);
    const pref = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.stage === 'preference');
    expect(pref).toHaveLength(3);
    for (const m of pref) {
      expect(m['count/desirable'] + m['count/undesirable']).toBe(4);
      expect(Number.isFinite(m.loss) && Number.isFinite(m.kl)).toBe(true);
    }
  }, 60_000);
});

describe('truncation (TRL: --max-length, --max-prompt-length, --truncation-mode)', () => {
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ganpo-trunc-'));
    // 12 pairs: 8 with a 40-character prompt, 4 short ones.
    const pairs = Array.from({ length: 12 }, (_, i) => ({
      prompt: i < 8 ? `please reverse the following word: ${'abcdefgh'[i]}bcde\n` : `rev: x${i}\n`,
      chosen: 'edcb',
      rejected: 'bcde',
    }));
    writeFileSync(join(dir, 'prefs.jsonl'), pairs.map((p) => JSON.stringify(p)).join('\n'));
    return dir;
  };
  const config = (dir: string, data: Record<string, unknown>) => ({
    out: join(dir, 'run'),
    stage: 'preference' as const,
    data: { path: join(dir, 'prefs.jsonl'), evalFraction: 0, ...data },
    model: { init: 'tiny', dropout: null },
    preference: { steps: 1, batchSize: 2, warmup: 0 },
    ganpo: { enabled: false },
    log: { evalInterval: 0, saveInterval: 0 },
    eval: { atEnd: false },
  });

  it('counts and reports rows cut and rows left out at the start, and trains on the rest', async () => {
    const dir = setup();
    const lines: string[] = [];
    await train(config(dir, { maxLength: 24 }), { log: (l) => lines.push(l) });
    expect(lines).toContain('truncation (--max-length 24, keep_start): 0 of 12 training pairs truncated, 8 left out (no completion token left)');
  }, 60_000);

  it('keep_end and --max-prompt-length cut the prompt instead, so those rows are kept', async () => {
    const dir = setup();
    const lines: string[] = [];
    await train(config(dir, { maxLength: 24, truncationMode: 'keep_end' }), { log: (l) => lines.push(l) });
    expect(lines).toContain('truncation (--max-length 24, keep_end): 8 of 12 training pairs truncated');
    const lines2: string[] = [];
    await train({ ...config(dir, { maxLength: 24, maxPromptLength: 12 }), out: join(dir, 'run2') }, { log: (l) => lines2.push(l) });
    expect(lines2).toContain('truncation (--max-length 24, --max-prompt-length 12, keep_start): 8 of 12 training pairs truncated');
  }, 60_000);

  it('no usable row is an error before training starts (never a run with loss 0), and nothing is written', async () => {
    const dir = setup();
    await expect(train(config(dir, { maxLength: 8 }))).rejects.toThrow(/none of the 12 training pairs fits --max-length 8, keep_start/);
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });
});

describe('resume of a run saved before an option existed', () => {
  it('takes the new option’s default (here the truncation settings)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ganpo-old-config-')), 'run');
    await train({ out, stage: 'sft', model: { init: 'tiny', dropout: null }, sft: { steps: 1, batchSize: 2 }, log: { evalInterval: 0, saveInterval: 0 }, eval: { atEnd: false } });
    const saved = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    delete saved.data.maxPromptLength;
    delete saved.data.truncationMode;
    writeFileSync(join(out, 'config.json'), JSON.stringify(saved));
    const { config, changed } = buildTrainConfig({ resume: out });
    expect(config.data.truncationMode).toBe('keep_start');
    expect(config.data.maxPromptLength).toBeNull();
    expect(changed).toEqual([]);
  }, 60_000);
});

