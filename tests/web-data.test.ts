import { describe, expect, it } from 'vitest';
import { defaultWebRunConfig } from '../apps/web/src/trainer/config.js';
import { loadWebRunData, WebDataError } from '../apps/web/src/trainer/data.js';

/* The web page's data: a dropped preference file is decoded in memory, with errors naming file and line. */

const bytes = (rows: unknown[]) => new TextEncoder().encode(rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n'));
const file = (name: string, b: Uint8Array) => ({ ...defaultWebRunConfig(), data: { kind: 'file' as const, name, bytes: b } });

describe('the web page data', () => {
  it('a dropped TRL file: 10% of the pairs held out, SFT on the chosen responses of the rest', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => ({ prompt: `p${i}`, chosen: `good ${i}`, rejected: `bad ${i}` }));
    const data = await loadWebRunData(file('prefs.jsonl', bytes(rows)));
    expect(data.trainPairs.length).toBe(18);
    expect(data.evalPairs.length).toBe(2);
    expect(data.sft.map((d) => d.completion).sort()).toEqual(data.trainPairs.map((p) => p.chosen).sort());
    expect(data.heldOut).toBeNull();
  });

  it('a bad row is reported with the file name, line and field', async () => {
    const b = bytes([{ prompt: 'p', chosen: 'a', rejected: 'b' }, { prompt: 'p', chosen: 7, rejected: 'b' }, { prompt: 'p', chosen: 'a', rejected: 'b' }]);
    const err = await loadWebRunData(file('mine.jsonl', b)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebDataError);
    expect((err as Error).message).toMatch(/^mine\.jsonl:2: .*chosen/);
  });

  it('a file that is not JSON Lines says so, once', async () => {
    const err = await loadWebRunData(file('table.csv', bytes(['a,b,c', '1,2,3']))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebDataError);
    expect((err as Error).message).toMatch(/^table\.csv/);
  });

  it('the embedded task: held-out prompts with a ground-truth reward', async () => {
    const data = await loadWebRunData(defaultWebRunConfig());
    expect(data.heldOut?.length).toBe(32);
    expect(data.trainPairs.length).toBeGreaterThan(100);
  });
});
