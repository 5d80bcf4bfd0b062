import { setBackend } from '@ganpo/kernels';
import { describe, expect, it } from 'vitest';
import { defaultWebRunConfig, type WebRunConfig } from '../apps/web/src/trainer/config.js';
import { trainWebRun } from '../apps/web/src/trainer/session.js';
import { cliLosses, TINY_RUN } from './helpers/webRun.js';

/*
 * The web page's trainer and `ganpo train` take the same steps for the same settings (the page trains with the
 * CLI's own stages through @ganpo/cli/browser). Property, checked without a browser: the page's trainer run in
 * Node on the fast backend gives the built CLI's per-step losses bit for bit (same code, same kernels, same
 * process kind), with GANPO and without, with evaluations between steps (they must not disturb training).
 * tests/web.e2e.test.ts checks the page itself in Chromium against the CLI.
 */

const TINY = TINY_RUN;

async function pageLosses(overrides: Partial<WebRunConfig>): Promise<number[]> {
  setBackend('fast');
  const run = await trainWebRun({ ...defaultWebRunConfig(), ...overrides }, () => {});
  return run.metrics.map((l) => l.loss as number);
}

describe("the page's trainer and ganpo train, same settings", () => {
  it('DPO + GANPO (two discriminators): the same losses, bit for bit', async () => {
    const page = await pageLosses(TINY);
    expect(page).toHaveLength(5);
    expect(page).toEqual(await cliLosses(TINY));
  }, 120_000);

  it('IPO without GANPO, evaluations every 2 steps: the same losses, bit for bit', async () => {
    const run: Partial<WebRunConfig> = {
      ...TINY,
      preference: { ...TINY.preference!, loss: 'ipo', beta: 0.5 },
      ganpo: { enabled: false, lambda: 1, twoDiscriminators: false, pooling: 'all' },
      evalInterval: 2,
      evalPairs: 4,
    };
    const page = await pageLosses(run);
    expect(page).toEqual(await cliLosses(run));
  }, 120_000);
});
