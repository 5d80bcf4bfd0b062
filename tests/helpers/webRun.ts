import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { defaultWebRunConfig, type WebRunConfig } from '../../apps/web/src/trainer/config.js';
import { runConfigOf } from '../../apps/web/src/trainer/runConfig.js';
import { ganpo, missingBuild, readMetricLines, tempDir } from './cli.js';

/**
 * The same run by `ganpo train` itself (the built binary, fast backend: the WebAssembly kernels the page runs):
 * the page's settings as a run config file (`runConfigOf`), its per-step losses from metrics.jsonl.
 */
export async function cliLosses(overrides: Partial<WebRunConfig>): Promise<number[]> {
  const missing = missingBuild();
  if (missing) throw new Error(missing);
  const dir = tempDir('web-vs-cli');
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({ ...runConfigOf({ ...defaultWebRunConfig(), ...overrides }), out: join(dir, 'run'), backend: 'fast' }));
  const r = await ganpo(['train', '--config', configPath]);
  expect(r.code, r.stderr).toBe(0); // stderr carries the progress lines
  return readMetricLines(join(dir, 'run')).map((l) => l.loss as number);
}

/** A tiny, short run (tiny preset, 3 SFT and 2 DPO+GANPO steps): what the gpu.js page run and the Node checks train. */
export const TINY_RUN: Partial<WebRunConfig> = {
  model: 'tiny',
  maxLength: 24,
  sft: { steps: 3, batchSize: 4, lr: 1e-2, warmup: 0 },
  preference: { steps: 2, batchSize: 2, lr: 1e-4, warmup: 0, loss: 'sigmoid', beta: 0.1 },
  evalInterval: 0,
  rewardPrompts: 0,
};
