import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ganpo, missingBuild, ROOT, tempDir, type CliResult } from './helpers/cli.js';
import { decodePng, pngColours } from './helpers/png.js';

/**
 * `ganpo experiment` end to end through the built binary, on a tiny spec (3 variants × 2 seeds, a few steps):
 * `plan` lists the runs; one run alone (`--only`) leaves a half-finished grid; `run --jobs 2` then runs only
 * the missing cells, reports the variant that crashes (a model path that does not exist) instead of
 * dropping it, exits 1, and writes a report with the expected tables, which renders in headless Chromium.
 */

const missing = missingBuild();

function tinySpec(dir: string): string {
  const spec = {
    name: 'tiny',
    question: 'Does the pipeline run end to end?',
    base: {
      model: { init: 'tiny' },
      data: { task: { nSft: 64, nTrain: 32, nEval: 16, nHeldOut: 16 } },
      sft: { steps: 3, batchSize: 4 },
      preference: { steps: 3, batchSize: 2, warmup: 0 },
      log: { interval: 1, evalInterval: 0, saveInterval: 0, keepCheckpoints: 1 },
    },
    axes: [
      {
        name: 'method',
        variants: [
          { label: 'DPO', set: { 'ganpo.enabled': false } },
          { label: 'DPO+GANPO', set: { 'ganpo.enabled': true } },
          { label: 'broken', set: { 'model.init': join(dir, 'no-such-model') } },
        ],
      },
    ],
    seeds: [0, 1],
    metrics: ['reward@0', 'compliance@1', 'accuracy', 'latentDrift', 'shifted/reward@0'],
    evaluation: { temperatures: [0, 1], prompts: 4, pairs: 4, maxNewTokens: 8, shifted: true },
    comparisons: [{ axis: 'method', treatment: 'DPO+GANPO', baseline: 'DPO' }],
    out: join(dir, 'out'),
  };
  const path = join(dir, 'tiny.json');
  writeFileSync(path, JSON.stringify(spec));
  return path;
}

describe('ganpo experiment (end to end)', () => {
  if (missing) {
    it('needs the built CLI', () => {
      throw new Error(missing);
    });
    return;
  }
  const dir = tempDir('experiment');
  const spec = tinySpec(dir);
  const out = join(dir, 'out');
  let plan: CliResult;
  let first: CliResult;
  let firstFinished = '';
  let rest: CliResult;

  beforeAll(async () => {
    plan = await ganpo(['experiment', 'plan', spec]);
    first = await ganpo(['experiment', 'run', spec, '--only', 'DPO_s0']);
    firstFinished = JSON.parse(readFileSync(join(out, 'runs/DPO_s0/result.json'), 'utf8')).finishedAt;
    rest = await ganpo(['experiment', 'run', spec, '--jobs', '2'], { timeoutMs: 240_000 });
  }, 300_000);

  it('plan prints one self-contained command per run', () => {
    expect(plan.code).toBe(0);
    const lines = plan.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; dir: string; command: string });
    expect(lines.map((l) => l.id)).toEqual(['DPO_s0', 'DPO_s1', 'DPO+GANPO_s0', 'DPO+GANPO_s1', 'broken_s0', 'broken_s1']);
    expect(lines[0]).toEqual({ id: 'DPO_s0', dir: join(out, 'runs/DPO_s0'), command: `ganpo experiment run ${spec} --only DPO_s0` });
  });

  it('one cell alone, then the grid: only the missing cells run', () => {
    expect(first.code).toBe(0);
    expect(rest.stderr).toContain('1 complete (skipped), 5 to run; 2 jobs × 1 kernel thread');
    expect(rest.stderr).not.toMatch(/\] DPO_s0:/);
    expect(JSON.parse(readFileSync(join(out, 'runs/DPO_s0/result.json'), 'utf8')).finishedAt).toBe(firstFinished);
    for (const id of ['DPO_s1', 'DPO+GANPO_s0', 'DPO+GANPO_s1']) expect(rest.stderr).toMatch(new RegExp(`\\] ${id.replace('+', '\\+')}: completed`));
    expect(rest.stderr).toMatch(/\[run 5\/5\] .* grid 6\/6 done, 2 failed · ETA 0:00/);
  });

  it('another spec sharing the SFT models measures them with its own evaluation, without training them again', async () => {
    const base = JSON.parse(readFileSync(spec, 'utf8'));
    const other = join(dir, 'other.json');
    const otherOut = join(dir, 'other-out');
    writeFileSync(
      other,
      JSON.stringify({
        ...base,
        name: 'other',
        axes: [{ name: 'method', variants: [{ label: 'DPO', set: { 'ganpo.enabled': false } }] }],
        seeds: [0],
        metrics: ['reward@0'],
        evaluation: { ...base.evaluation, temperatures: [0, 1.5] },
        comparisons: [],
        sftDir: join(out, 'sft'),
        out: otherOut,
      }),
    );
    const r = await ganpo(['experiment', 'run', other], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('training the shared SFT model');
    const seed0 = join(out, 'sft', readdirSync(join(out, 'sft')).find((d) => d.startsWith('s0-'))!);
    const curves = readdirSync(seed0).filter((f) => /^curves-[0-9a-f]{12}\.json$/.test(f));
    const temps = (f: string) => JSON.parse(readFileSync(join(seed0, f), 'utf8')).heldOut.map((p: { temperature: number }) => p.temperature);
    expect(curves.map(temps).sort()).toEqual([[0, 1], [0, 1.5]]); // the first spec's and this one's
    expect(readFileSync(join(otherOut, 'report.md'), 'utf8')).toMatch(/\| SFT model \(the reference\) \| 1 \|/);
  }, 150_000);

  it('a crashed cell is reported with its error, not dropped, and the command exits 1', () => {
    expect(rest.code).toBe(1);
    expect(rest.stderr).toMatch(/failed: broken_s0: .*no-such-model/);
    const r = JSON.parse(readFileSync(join(out, 'runs/broken_s1/result.json'), 'utf8'));
    expect(r).toMatchObject({ status: 'failed', id: 'broken_s1' });
    expect(r.error).toContain('no-such-model');
    expect(rest.stderr + rest.stdout).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
  });

  it('the report has the expected tables', () => {
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| runs | completed | failed | missing |\n|---|---|---|---|\n| 6 | 4 | 2 | 0 |');
    expect(md).toContain('| cell | seeds | reward@0 | compliance@1 | accuracy | latentDrift | shifted/reward@0 |');
    expect(md).toMatch(/\| DPO \| 2\/2 \| \d\.\d{3} ± \d\.\d{3} \|/);
    expect(md).toMatch(/\| broken \| 0\/2 \| – \|/);
    expect(md).toMatch(/\| SFT model \(the reference\) \| 2 \|/);
    expect(md).toMatch(/\| DPO\+GANPO − DPO \| – \| 2 \| [+−]\d\.\d{3} \[[+−]\d\.\d{3}, [+−]\d\.\d{3}\]/);
    expect(md).toMatch(/\| broken_s0 \| failed \| .*no-such-model/);
    expect(readdirSync(join(out, 'logs')).sort()).toEqual(expect.arrayContaining(['DPO+GANPO_s0.log', 'broken_s0.log']));
    // Each cell is a normal training run with its own files.
    for (const f of ['config.json', 'run.json', 'metrics.jsonl', 'policy/model.safetensors', 'robustness.json', 'report.html']) expect(existsSync(join(out, 'runs/DPO+GANPO_s1', f)), f).toBe(true);
  });

  it('report rebuilds the same report from the directory', async () => {
    const before = readFileSync(join(out, 'report.md'), 'utf8');
    const r = await ganpo(['experiment', 'report', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toBe(before);
  });

  it('a bad spec is rejected before anything runs, with the paths of the problems', async () => {
    const bad = join(dir, 'bad.json');
    const s = JSON.parse(readFileSync(spec, 'utf8'));
    writeFileSync(bad, JSON.stringify({ ...s, out: join(dir, 'bad-out'), seeds: [], axes: [{ name: 'method', variants: [] }], metrics: ['reward@0.5'], extra: 1 }));
    const r = await ganpo(['experiment', 'run', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`ganpo: error: ${bad}: invalid experiment spec (6 problems)`);
    for (const line of ['extra: unknown key', 'seeds: is empty', 'axes.0.variants: is empty', "metrics.0: unknown metric 'reward@0.5'", "comparisons.0.treatment: 'DPO+GANPO' is not a value of axis 'method' (it has none)"]) expect(r.stderr).toContain(line);
    expect(existsSync(join(dir, 'bad-out'))).toBe(false);
  });

  it('report.html renders in headless Chromium', () => {
    const chromium = ['chromium', 'chromium-browser', 'google-chrome'].some((c) => {
      try {
        execFileSync('sh', ['-c', `command -v ${c}`]);
        return true;
      } catch {
        return false;
      }
    });
    if (!chromium) {
      console.warn('cli-experiment: chromium is not installed; the screenshot check is skipped');
      return;
    }
    const png = join(out, 'report.png');
    execFileSync('bash', [join(ROOT, 'packages/cli/scripts/screenshot-report.sh'), out, png, '1200x1800'], { timeout: 60_000 });
    expect(statSync(png).size).toBeGreaterThan(30_000);
    const img = decodePng(readFileSync(png));
    expect([img.width, img.height]).toEqual([1200, 1800]);
    const { distinct, matching } = pngColours(img, 0x4e79a7);
    expect(distinct).toBeGreaterThan(50);
    expect(matching).toBeGreaterThan(20);
  }, 90_000);
});
