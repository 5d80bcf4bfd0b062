import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { deterministicPart, ganpo, missingBuild, readMetricLines, tempDir, TINY, type CliResult } from './helpers/cli.js';

/**
 * End to end through the built binary: a reduced default run (SFT then DPO+GANPO on the embedded task)
 * leaves checkpoints, metrics and a report; an interrupted run resumes to exactly the same losses and weights; Ctrl-C
 * saves a checkpoint; a NaN stops the run naming the step and keeping the last good checkpoint.
 */

const missing = missingBuild();
/**
 * The weights a run ends with, by file: the SFT model, the policy, and the last checkpoint's discriminators and
 * optimizer state, each as a SHA-256 of its bytes (a resumed run must write the very same files).
 */
function finalWeights(dir: string): Record<string, string> {
  const latest = JSON.parse(readFileSync(join(dir, 'checkpoints/latest.json'), 'utf8')) as { dir: string };
  const files = ['sft/model.safetensors', 'policy/model.safetensors', join(latest.dir, 'discriminators.safetensors'), join(latest.dir, 'optimizer.safetensors')];
  return Object.fromEntries(files.map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
}

const noStack = (r: CliResult) => expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);

if (missing) {
  describe('ganpo train (end to end)', () => {
    it('needs the built CLI', () => {
      throw new Error(missing);
    });
  });
} else {
  describe('ganpo train (end to end)', () => {
    const full = tempDir('full');
    let fullRun: CliResult;

    beforeAll(async () => {
      fullRun = await ganpo(['train', ...TINY, '--out', full]);
    }, 180_000);

    it('a reduced default run exits 0 and leaves checkpoints, metrics and a report', () => {
      expect(fullRun.stderr).toContain('done in');
      expect(fullRun.code).toBe(0);
      for (const f of ['config.json', 'run.json', 'metrics.jsonl', 'eval.json', 'report.html', 'report.md', 'policy/model.safetensors', 'policy/tokenizer.json', 'sft/model.safetensors', 'checkpoints/latest.json']) {
        expect(existsSync(join(full, f)), f).toBe(true);
      }
      const latest = JSON.parse(readFileSync(join(full, 'checkpoints/latest.json'), 'utf8'));
      expect(latest).toMatchObject({ stage: 'preference', step: 6, stageDone: true });
      const ckpt = join(full, latest.dir);
      for (const f of ['model.safetensors', 'optimizer.safetensors', 'discriminators.safetensors', 'trainer_state.json']) expect(existsSync(join(ckpt, f)), f).toBe(true);
      // keep-checkpoints 2: older periodic checkpoints are pruned.
      expect(readdirSync(join(full, 'checkpoints')).filter((d) => d.includes('-step-')).length).toBeLessThanOrEqual(2);
    });

    it('logs one metrics line per step with TRL names and ganpo/* metrics', () => {
      const lines = readMetricLines(full);
      expect(lines.filter((l) => l.stage === 'sft').map((l) => l.step)).toEqual([1, 2, 3, 4]);
      const pref = lines.filter((l) => l.stage === 'preference');
      expect(pref.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
      for (const key of ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'rewards/accuracies', 'logps/chosen', 'logps/rejected', 'learning_rate', 'grad_norm', 'ganpo/d_loss_chosen', 'ganpo/d_loss_rejected', 'ganpo/g_loss', 'loss/preference', 'loss/ganpo']) {
        expect(pref[5], key).toHaveProperty([key]);
      }
      expect(pref[2]).toHaveProperty(['eval/rewards/accuracies']);
      expect(pref[2]).toHaveProperty(['eval/greedy_reward']);
      expect(Number.isFinite(pref[5].loss as number)).toBe(true);
    });

    it('writes a self-contained HTML report with plots and a Markdown table', () => {
      const html = readFileSync(join(full, 'report.html'), 'utf8');
      expect(html).toContain('<svg');
      for (const title of ['SFT loss', 'Preference loss', 'Reward margins', 'Preference accuracy', 'Discriminator losses (GANPO)', 'Ground-truth reward of greedy samples (held-out prompts)']) expect(html).toContain(title);
      expect(html).not.toMatch(/<script|<link /);
      const md = readFileSync(join(full, 'report.md'), 'utf8');
      expect(md).toMatch(/\| 0 \(greedy\) \| policy \| [0-9.]+ \|/);
      expect(md).toContain('## Final training metrics');
    });

    it('resumes bit-exactly after a stop in the preference stage', async () => {
      const dir = tempDir('resume-pref');
      const first = await ganpo(['train', ...TINY, '--out', dir, '--stop-at', 'preference:3']);
      expect(first.code).toBe(0);
      expect(first.stderr).toContain('stopped after preference step 3');
      expect(readMetricLines(dir).filter((l) => l.stage === 'preference')).toHaveLength(3);
      const second = await ganpo(['train', '--resume', dir]);
      expect(second.code).toBe(0);
      expect(second.stderr).toContain('resuming from preference step 3');
      expect(readMetricLines(dir).map(deterministicPart)).toEqual(readMetricLines(full).map(deterministicPart));
      expect(finalWeights(dir)).toEqual(finalWeights(full));
    }, 180_000);

    it('resumes bit-exactly after a stop in the SFT stage', async () => {
      const dir = tempDir('resume-sft');
      expect((await ganpo(['train', ...TINY, '--out', dir, '--stop-at', 'sft:2'])).code).toBe(0);
      const second = await ganpo(['train', '--resume', dir, '--quiet']);
      expect(second.code).toBe(0);
      expect(readMetricLines(dir).map(deterministicPart)).toEqual(readMetricLines(full).map(deterministicPart));
      expect(finalWeights(dir)).toEqual(finalWeights(full));
    }, 180_000);

    it('Ctrl-C saves a checkpoint and exits cleanly; --resume reproduces the uninterrupted run exactly', async () => {
      const dir = tempDir('sigint');
      const reference = tempDir('sigint-ref');
      const args = [...TINY, '--steps', '20', '--save-interval', '0'];
      let sent = false;
      const [interrupted, uninterrupted] = await Promise.all([
        ganpo(['train', ...args, '--out', dir], {
          onSpawn: (child) => {
            // Interrupt once the preference stage is under way.
            child.stderr?.on('data', (d: Buffer) => {
              if (!sent && /preference \d+\/20/.test(String(d))) {
                sent = true;
                child.kill('SIGINT');
              }
            });
          },
        }),
        ganpo(['train', ...args, '--out', reference, '--quiet']),
      ]);
      expect(sent).toBe(true);
      expect(uninterrupted.code).toBe(0);
      expect(interrupted.code).toBe(130);
      expect(interrupted.stderr).toContain('SIGINT: finishing the current step, then saving a checkpoint');
      expect(interrupted.stderr).toMatch(/interrupted at preference step \d+; checkpoint saved to .*preference-step-\d+/);
      expect(interrupted.stderr).toContain(`resume with: ganpo train --resume ${dir}`);
      noStack(interrupted);
      const latest = JSON.parse(readFileSync(join(dir, 'checkpoints/latest.json'), 'utf8'));
      expect(latest.stage).toBe('preference');
      expect(latest.step).toBeLessThan(20);
      expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status).toMatch(/^interrupted after preference step/);
      const resumed = await ganpo(['train', '--resume', dir, '--quiet']);
      expect(resumed.code).toBe(0);
      expect(readMetricLines(dir).map(deterministicPart)).toEqual(readMetricLines(reference).map(deterministicPart));
      expect(finalWeights(dir)).toEqual(finalWeights(reference));
    }, 240_000);

    it('a NaN in the loss stops the run with the step, the metric and the last good checkpoint', async () => {
      const dir = tempDir('nan');
      const r = await ganpo(['train', ...TINY, '--out', dir, '--inject-nan', 'preference:3']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ganpo: error: loss is NaN at preference step 3; the run stopped before applying that update');
      expect(r.stderr).toMatch(/last good checkpoint \(kept\): .*preference-step-000002/);
      noStack(r);
      const latest = JSON.parse(readFileSync(join(dir, 'checkpoints/latest.json'), 'utf8'));
      expect(latest).toMatchObject({ stage: 'preference', step: 2 });
      expect(existsSync(join(dir, latest.dir, 'model.safetensors'))).toBe(true);
      expect(readMetricLines(dir).filter((l) => l.stage === 'preference').map((l) => l.step)).toEqual([1, 2]);
      expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status).toMatch(/^failed: loss is NaN/);
      expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('failed: loss is NaN');
    }, 180_000);

    it('evaluates and samples a finished run', async () => {
      const e = await ganpo(['eval', '--run', full, '--prompts', '4', '--temperatures', '0,1', '--pairs', '16', '--json', '--no-write']);
      expect(e.code).toBe(0);
      const result = JSON.parse(e.stdout);
      expect(result.sampling.map((s: { temperature: number }) => s.temperature)).toEqual([0, 1]);
      expect(result.preference.pairs).toBe(16);
      expect(result.drift.tokenKl).toBeGreaterThanOrEqual(0);
      const s = await ganpo(['sample', '--run', full, '--prompt', 'reverse: abc', '--n', '2', '--temperature', '1', '--max-new-tokens', '8', '--json']);
      expect(s.code).toBe(0);
      const samples = JSON.parse(s.stdout);
      expect(samples.prompt).toBe('reverse: abc\n');
      expect(samples.samples).toHaveLength(2);
      expect(samples.samples[0]).toHaveProperty('reward');
    }, 120_000);

    it('runs one stage alone: SFT only, and preference from an SFT checkpoint without GANPO', async () => {
      const sft = tempDir('sft-only');
      const a = await ganpo(['train', '--stage', 'sft', '--model', 'tiny', '--steps', '3', '--batch-size', '4', '--eval-prompts', '2', '--temperatures', '0', '--out', sft, '--quiet']);
      expect(a.code).toBe(0);
      expect(readMetricLines(sft).every((l) => l.stage === 'sft')).toBe(true);
      const pref = tempDir('pref-only');
      const b = await ganpo(['train', '--stage', 'preference', '--model', join(full, 'sft'), '--no-ganpo', '--objective', 'ipo', '--beta', '0.5', '--steps', '3', '--batch-size', '4', '--eval-prompts', '2', '--temperatures', '0', '--out', pref, '--quiet']);
      expect(b.code).toBe(0);
      const lines = readMetricLines(pref);
      expect(lines.every((l) => l.stage === 'preference')).toBe(true);
      expect(Object.keys(lines[0]).some((k) => k.startsWith('ganpo/'))).toBe(false);
      expect(JSON.parse(readFileSync(join(pref, 'config.json'), 'utf8')).preference.objective).toEqual({ loss: 'ipo', beta: 0.5 });
    }, 180_000);

    it('refuses to overwrite a run without --overwrite or --resume', async () => {
      const r = await ganpo(['train', ...TINY, '--out', full]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`ganpo: error: ${full} already holds a run`);
      expect(r.stderr).toContain('--resume');
    });
  });
}
