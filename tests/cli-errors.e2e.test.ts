import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ganpo, missingBuild, tempDir, TINY, type CliResult } from './helpers/cli.js';

/**
 * The `ganpo` command's contract with users, through the built binary: --help everywhere, one clear
 * message and exit code 2 for bad flags, config and data (never a stack trace), the data commands, info
 * and bench.
 */

const missing = missingBuild();
const STACK = /\n\s+at .+:\d+:\d+\)?/;
const noStack = (r: CliResult) => expect(r.stderr + r.stdout).not.toMatch(STACK);

const GOOD_ROWS = [
  { prompt: 'reverse: abc\n', chosen: 'cba', rejected: 'abc' },
  { prompt: 'upper: ab\n', chosen: 'AB', rejected: 'ab' },
  { prompt: 'sort: b a\n', chosen: 'a b', rejected: 'b a' },
  { prompt: 'count a: aab\n', chosen: '2', rejected: '3' },
];

function writeData(dir: string, name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

if (missing) {
  describe('ganpo command line (end to end)', () => {
    it('needs the built CLI', () => {
      throw new Error(missing);
    });
  });
} else {
  describe('ganpo command line (end to end)', () => {
    it('prints help with examples for every command', async () => {
      const commands = [[], ['train'], ['eval'], ['sample'], ['data'], ['data', 'validate'], ['data', 'stats'], ['data', 'make-task'], ['bench'], ['info'], ['report']];
      const results = await Promise.all(commands.map((c) => ganpo([...c, '--help'])));
      results.forEach((r, i) => {
        expect(r.code, commands[i].join(' ')).toBe(0);
        expect(r.stdout, commands[i].join(' ')).toMatch(/^Usage: ganpo/);
      });
      for (const i of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) expect(results[i].stdout, commands[i].join(' ')).toContain('Examples:');
      expect(results[1].stdout).toContain('--no-ganpo');
      expect(results[1].stdout).toContain('GANPO options:');
      expect(results[1].stdout).not.toContain('--inject-nan');
      const version = await ganpo(['--version']);
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    });

    it('rejects an unknown command or option with exit code 2', async () => {
      const a = await ganpo(['trian']);
      expect(a.code).toBe(2);
      expect(a.stderr).toContain("ganpo: error: unknown command 'trian'");
      const b = await ganpo(['train', '--lerning-rate', '1']);
      expect(b.code).toBe(2);
      expect(b.stderr).toContain("ganpo: error: unknown option '--lerning-rate'");
      expect(b.stderr).toContain('(run with --help for usage)');
      const c = await ganpo(['eval']);
      expect(c.code).toBe(2);
      expect(c.stderr).toContain("required option '--run <dir>' not specified");
    });

    it('rejects bad flag values naming the flag, the config path and the reason', async () => {
      const r = await ganpo(['train', '--lr', 'fast', '--batch-size', '0', '--out', tempDir('badflag')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('ganpo: error: invalid run configuration (2 problems)');
      expect(r.stderr).toContain('--lr (preference.lr): expected a number ≥ 0, got "fast"');
      expect(r.stderr).toContain('--batch-size (preference.batchSize): expected an integer ≥ 1, got 0');
      noStack(r);
      const o = await ganpo(['train', '--objective', 'ipo', '--label-smoothing', '0.1', '--out', tempDir('badobj')]);
      expect(o.code).toBe(2);
      expect(o.stderr).toContain("option 'labelSmoothing' does not apply to this loss");
      expect(o.stderr).toContain('(set by --label-smoothing)');
      const g = await ganpo(['train', '--pooling', 'max', '--out', tempDir('badganpo')]);
      expect(g.code).toBe(2);
      expect(g.stderr).toContain('ganpo.pooling');
      const m = await ganpo(['train', '--model', 'no/such/dir', '--out', tempDir('badmodel')]);
      expect(m.code).toBe(2);
      expect(m.stderr).toContain("--model 'no/such/dir': not a preset");
      const bk = await ganpo(['train', '--backend', 'quantum', '--out', tempDir('badbackend'), ...TINY]);
      expect(bk.code).toBe(2);
      expect(bk.stderr).toContain('--backend quantum: unknown backend');
    });

    it('rejects bad config files: unknown keys with a suggestion, bad values with the path, broken JSON with line:column', async () => {
      const dir = tempDir('config');
      writeFileSync(join(dir, 'unknown.json'), JSON.stringify({ preference: { stepz: 3 }, ganpo: { lambda: 0.5 } }));
      const a = await ganpo(['train', '--config', join(dir, 'unknown.json')]);
      expect(a.code).toBe(2);
      expect(a.stderr).toContain(`${join(dir, 'unknown.json')}: an unknown key`);
      expect(a.stderr).toContain("preference.stepz: unknown key (did you mean 'steps'?)");
      writeFileSync(join(dir, 'values.json'), JSON.stringify({ seed: 'one', log: { interval: 0 } }));
      const b = await ganpo(['train', '--config', join(dir, 'values.json')]);
      expect(b.code).toBe(2);
      expect(b.stderr).toContain(`${join(dir, 'values.json')}: seed: expected an integer ≥ 0 and ≤ 2147483647, got "one"`);
      expect(b.stderr).toContain(`${join(dir, 'values.json')}: log.interval: expected an integer ≥ 1, got 0`);
      writeFileSync(join(dir, 'broken.json'), '{\n  "seed": 1,\n  "out": oops\n}\n');
      const c = await ganpo(['train', '--config', join(dir, 'broken.json')]);
      expect(c.code).toBe(2);
      expect(c.stderr).toContain(`${join(dir, 'broken.json')}:3:10 is not valid JSON`);
      const d = await ganpo(['train', '--config', join(dir, 'missing.json')]);
      expect(d.code).toBe(2);
      expect(d.stderr).toContain('does not exist');
      for (const r of [a, b, c, d]) noStack(r);
      // Flags override the file.
      writeFileSync(join(dir, 'ok.json'), JSON.stringify({ seed: 5, preference: { steps: 9, objective: { loss: 'simpo', gamma: 0.5 } } }));
      const p = await ganpo(['train', '--config', join(dir, 'ok.json'), '--steps', '11', '--print-config']);
      expect(p.code).toBe(0);
      const cfg = JSON.parse(p.stdout);
      expect(cfg.seed).toBe(5);
      expect(cfg.preference.steps).toBe(11);
      expect(cfg.preference.objective).toEqual({ loss: 'simpo', gamma: 0.5 });
    });

    it('malformed data: strict mode stops at the first bad line (exit 2), skip mode reports and trains', async () => {
      const dir = tempDir('data');
      const rows = [...GOOD_ROWS, ...GOOD_ROWS, ...GOOD_ROWS].map((r) => JSON.stringify(r));
      rows.splice(2, 0, '{"prompt": "x", "chosen": 3, "rejected": "y"}');
      rows.splice(5, 0, '{not json');
      const file = writeData(dir, 'pairs.jsonl', rows);
      const strict = await ganpo(['train', '--data', file, '--out', join(dir, 'strict'), ...TINY]);
      expect(strict.code).toBe(2);
      expect(strict.stderr).toMatch(new RegExp(`ganpo: error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: .*chosen`));
      expect(strict.stderr).toContain('--data-mode skip');
      noStack(strict);
      const skip = await ganpo(['train', '--data', file, '--data-mode', 'skip', '--out', join(dir, 'skip'), ...TINY, '--eval-interval', '0']);
      expect(skip.code).toBe(0);
      expect(skip.stderr).toMatch(/2 lines skipped/);
      expect(existsSync(join(dir, 'skip', 'report.html'))).toBe(true);
      const empty = writeData(dir, 'empty.jsonl', ['{"a": 1}', '{"b": 2}']);
      const none = await ganpo(['train', '--data', empty, '--out', join(dir, 'none'), ...TINY]);
      expect(none.code).toBe(2);
      noStack(none);
      const nofile = await ganpo(['train', '--data', join(dir, 'nope.jsonl'), '--out', join(dir, 'nofile')]);
      expect(nofile.code).toBe(2);
      expect(nofile.stderr).toContain('nope.jsonl does not exist');
    }, 120_000);

    it('data validate reports format, counts and errors by line, with the exit code', async () => {
      const dir = tempDir('validate');
      const good = writeData(dir, 'good.jsonl', GOOD_ROWS.map((r) => JSON.stringify(r)));
      const a = await ganpo(['data', 'validate', good]);
      expect(a.code).toBe(0);
      expect(a.stdout).toContain('format trl_explicit');
      expect(a.stdout).toContain('valid rows:   4 (4 pair)');
      expect(a.stdout.trim().endsWith('ok')).toBe(true);
      const bad = writeData(dir, 'bad.jsonl', [JSON.stringify(GOOD_ROWS[0]), '{"prompt": "x", "chosen": 3, "rejected": "y"}', JSON.stringify(GOOD_ROWS[1]), '[1, 2']);
      const b = await ganpo(['data', 'validate', bad, '--json']);
      expect(b.code).toBe(2);
      const report = JSON.parse(b.stdout);
      expect(report).toMatchObject({ ok: false, valid: 2, invalid: 2 });
      expect(report.errors.map((e: { line: number }) => e.line)).toEqual([2, 4]);
      const c = await ganpo(['data', 'validate', join(dir, 'missing.jsonl')]);
      expect(c.code).toBe(2);
      expect(c.stderr).toContain('missing.jsonl does not exist');
    });

    it('data make-task writes TRL JSONL that validates; data stats describes it', async () => {
      const dir = tempDir('task');
      const out = join(dir, 'train.jsonl');
      const m = await ganpo(['data', 'make-task', '--out', out]);
      expect(m.code).toBe(0);
      const first = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]);
      expect(first).toHaveProperty('prompt');
      expect(first).toHaveProperty('chosen');
      expect(first).toHaveProperty('rejected');
      expect((await ganpo(['data', 'validate', out])).code).toBe(0);
      const s = await ganpo(['data', 'stats', out, '--json']);
      expect(s.code).toBe(0);
      const stats = JSON.parse(s.stdout);
      expect(stats.pairs).toBe(1000);
      expect(stats.chosenLongerFraction).toBeGreaterThanOrEqual(0);
      const all = await ganpo(['data', 'make-task', '--out-dir', join(dir, 'all')]);
      expect(all.code).toBe(0);
      for (const f of ['sft.jsonl', 'train.jsonl', 'eval.jsonl', 'heldout.jsonl']) expect(existsSync(join(dir, 'all', f)), f).toBe(true);
    });

    it('info and bench report the backend and timings as JSON', async () => {
      const i = await ganpo(['info', '--json']);
      expect(i.code).toBe(0);
      const info = JSON.parse(i.stdout);
      expect(info.backends).toContain('cpu');
      expect(info.backend.name).toBeTruthy();
      const b = await ganpo(['bench', '--model', 'tiny', '--steps', '1', '--warmup', '0', '--batch-size', '2', '--json'], { timeoutMs: 120_000 });
      expect(b.code).toBe(0);
      const bench = JSON.parse(b.stdout);
      expect(bench.rows.map((r: { name: string }) => r.name)).toEqual(['sft', 'dpo', 'dpo+ganpo']);
      expect(bench.rows.every((r: { msPerStep: number }) => r.msPerStep > 0)).toBe(true);
    }, 120_000);

    it('every command names a bad numeric flag the same way: flag, expected, got (exit 2, no stack)', async () => {
      const cases: [string[], string][] = [
        [['eval', '--run', 'no/such/run', '--max-new-tokens', '0'], '--max-new-tokens: expected an integer ≥ 1, got 0'],
        [['eval', '--run', 'no/such/run', '--temperatures', '0,hot'], '--temperatures: expected a number ≥ 0, got "hot"'],
        [['sample', '--run', 'no/such/run', '--prompt', 'x', '--top-p=1.5'], '--top-p: expected a number > 0 and ≤ 1, got 1.5'],
        [['data', 'validate', 'missing.jsonl', '--max-errors=-1'], '--max-errors: expected an integer ≥ 0, got -1'],
        [['data', 'make-task', '--out', 'unused.jsonl', '--seed', 'x'], '--seed: expected an integer ≥ 0 and ≤ 2147483647, got "x"'],
        [['bench', '--steps', '0'], '--steps: expected an integer ≥ 1, got 0'],
        [['info', '--model', 'no/such/model', '--batch-size', 'eight'], '--batch-size: expected an integer ≥ 1, got "eight"'],
        [['experiment', 'run', 'no/such/spec.json', '--jobs', '0'], '--jobs: expected an integer ≥ 1, got 0'],
      ];
      const results = await Promise.all(cases.map(([args]) => ganpo(args)));
      results.forEach((r, i) => {
        const [args, line] = cases[i];
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr, args.join(' ')).toContain(`ganpo: error: ganpo ${args[0] === 'data' || args[0] === 'experiment' ? `${args[0]} ${args[1]}` : args[0]}: invalid flag value`);
        expect(r.stderr, args.join(' ')).toContain(line);
        noStack(r);
      });
    });

    it('eval, sample and report explain a missing run directory', async () => {
      for (const args of [['eval', '--run', 'no/such/run'], ['sample', '--run', 'no/such/run', '--prompt', 'x'], ['report', '--run', 'no/such/run']]) {
        const r = await ganpo(args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr, args.join(' ')).toMatch(/ganpo: error: --run no\/such\/run/);
        noStack(r);
      }
      const s = await ganpo(['sample', '--prompt', 'x']);
      expect(s.code).toBe(2);
      expect(s.stderr).toContain('needs --run DIR');
    });
  });
}
