import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, EXIT_INTERRUPTED, EXIT_RUNTIME, EXIT_USAGE, Interrupted, NonFiniteError, exitCodeOf } from '../errors.js';
import { readJsonFile, renderError } from './io.js';
import { MetricsWriter, metricsLine, readMetrics, truncateMetricsAfter } from './metrics.js';
import { formatDuration, formatField, Progress, progressModeFor } from './progress.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ganpo-cli-'));

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += String(d)));
  return { stream, text: () => text };
}

describe('progress', () => {
  it('chooses bars on a terminal, lines otherwise, nothing when quiet', () => {
    expect(progressModeFor({ isTTY: true }, false, {})).toBe('bar');
    expect(progressModeFor({ isTTY: false }, false, {})).toBe('lines');
    expect(progressModeFor({ isTTY: true }, false, { CI: 'true' })).toBe('lines');
    expect(progressModeFor({ isTTY: true }, true, {})).toBe('quiet');
  });

  it('prints a plain line every tenth of the total (or every few seconds) and one at the end', () => {
    const out = capture();
    let clock = 0;
    const p = new Progress({ mode: 'lines', stream: out.stream, now: () => clock, lineSeconds: 1000 });
    const task = p.start('SFT', 20);
    for (let i = 1; i <= 20; i++) {
      clock += 0.5;
      task.update(i, { loss: 1 / i, 'tok/s': 100 });
    }
    task.done({ loss: 0.05 });
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('SFT 2/20 steps (10%) | loss 0.5000 | tok/s 100 | ETA 0:09');
    expect(lines[10]).toBe('SFT 20/20 steps (100%) | loss 0.0500 | took 0:10');
  });

  it('a task stopped early (Ctrl-C at step 26 of 50) ends at its own count, not at 100%', () => {
    const out = capture();
    const p = new Progress({ mode: 'lines', stream: out.stream, now: () => 1, lineSeconds: 1000 });
    const task = p.start('preference', 50);
    for (let i = 1; i <= 26; i++) task.update(i);
    task.done({ loss: 0.5 });
    const last = out.text().trim().split('\n').at(-1);
    expect(last).toBe('preference 26/50 steps (52%) | loss 0.5000 | took 0:00');
  });

  it('prints on time too, so slow loops still show life in CI logs', () => {
    const out = capture();
    let clock = 0;
    const p = new Progress({ mode: 'lines', stream: out.stream, now: () => clock, lineSeconds: 5 });
    const task = p.start('x', 1000);
    for (let i = 1; i <= 30; i++) {
      clock += 1;
      task.update(i);
    }
    expect(out.text().trim().split('\n')).toHaveLength(6);
  });

  it('quiet prints nothing, but forced messages still show', () => {
    const out = capture();
    const p = new Progress({ mode: 'quiet', stream: out.stream });
    p.start('x', 3).update(3);
    p.log('hidden');
    p.log('shown', true);
    expect(out.text()).toBe('shown\n');
  });

  it('formats numbers and durations compactly', () => {
    expect(formatField(0.693147)).toBe('0.6931');
    expect(formatField(1234.5)).toBe('1234.5');
    expect(formatField(3e-7)).toBe('3.00e-7');
    expect(formatField(Number.NaN)).toBe('NaN');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(65)).toBe('1:05');
  });
});

describe('metrics.jsonl', () => {
  it('appends one line per record, readable while the run goes on', () => {
    const dir = tmp();
    const path = join(dir, 'metrics.jsonl');
    const w = new MetricsWriter(path);
    w.write({ stage: 'sft', step: 1, loss: 2.5 });
    // Written through: visible before close.
    expect(readFileSync(path, 'utf8')).toBe('{"stage":"sft","step":1,"loss":2.5}\n');
    w.write({ stage: 'sft', step: 2, loss: Number.NaN });
    w.close();
    expect(readMetrics(path)).toEqual([
      { stage: 'sft', step: 1, loss: 2.5 },
      { stage: 'sft', step: 2, loss: Number.NaN },
    ]);
  });

  it('keeps non-finite values readable', () => {
    expect(metricsLine({ stage: 'p', step: 1, a: Infinity, b: -Infinity })).toBe('{"stage":"p","step":1,"a":"Infinity","b":"-Infinity"}');
  });

  it('ignores a torn last line', () => {
    const dir = tmp();
    const path = join(dir, 'metrics.jsonl');
    writeFileSync(path, '{"stage":"sft","step":1,"loss":1}\n{"stage":"sft","st');
    expect(readMetrics(path)).toHaveLength(1);
  });

  it('on resume drops what was logged after the checkpoint, across stages', () => {
    const dir = tmp();
    const path = join(dir, 'metrics.jsonl');
    const w = new MetricsWriter(path);
    for (let s = 1; s <= 3; s++) w.write({ stage: 'sft', step: s });
    for (let s = 1; s <= 5; s++) w.write({ stage: 'preference', step: s });
    w.close();
    expect(truncateMetricsAfter(path, 'preference', 2)).toBe(3);
    expect(readMetrics(path).map((r) => `${r.stage}:${r.step}`)).toEqual(['sft:1', 'sft:2', 'sft:3', 'preference:1', 'preference:2']);
    expect(truncateMetricsAfter(path, 'sft', 1)).toBe(4);
    expect(truncateMetricsAfter(path, 'sft', 0)).toBe(1);
    expect(readMetrics(path)).toEqual([]);
  });
});

describe('errors', () => {
  it('maps error kinds to exit codes', () => {
    expect(exitCodeOf(new ConfigError('x'))).toBe(EXIT_USAGE);
    expect(exitCodeOf(new DataError('x'))).toBe(EXIT_USAGE);
    expect(exitCodeOf(new NonFiniteError('preference', 3, 'loss', Number.NaN, null))).toBe(EXIT_RUNTIME);
    expect(exitCodeOf(new Interrupted('sft', 2, '/r/checkpoints/sft-step-000002'))).toBe(EXIT_INTERRUPTED);
    expect(exitCodeOf(new Error('bug'))).toBe(EXIT_RUNTIME);
  });

  it('renders one message with details and a hint, and no stack trace', () => {
    const text = renderError(new ConfigError('invalid run configuration', ['seed: expected an integer'], 'see --help'), {});
    expect(text).toBe('ganpo: error: invalid run configuration\n  seed: expected an integer\nhint: see --help\n');
    const bug = renderError(new TypeError('x is undefined'), {});
    expect(bug).toContain('ganpo: internal error: x is undefined');
    expect(bug).not.toMatch(/\n\s+at /);
    expect(renderError(new TypeError('x'), { GANPO_DEBUG: '1' })).toMatch(/\n\s+at /);
  });

  it('names the step, the metric and the kept checkpoint on a NaN', () => {
    const text = renderError(new NonFiniteError('preference', 17, 'loss', Number.NaN, 'runs/x/checkpoints/preference-step-000010'), {});
    expect(text).toContain('loss is NaN at preference step 17');
    expect(text).toContain('last good checkpoint (kept): runs/x/checkpoints/preference-step-000010');
  });

  it('tells how to resume after Ctrl-C', () => {
    expect(renderError(new Interrupted('preference', 5, 'runs/x/checkpoints/preference-step-000005'), {})).toContain('ganpo train --resume runs/x');
  });

  it('reads JSON files with the line and column of a syntax error', () => {
    const dir = tmp();
    const path = join(dir, 'run.json');
    writeFileSync(path, '{\n  "seed": 1,\n  "out": oops\n}');
    expect(() => readJsonFile(path, 'config file')).toThrow(/run\.json:3:\d+ is not valid JSON/);
    expect(() => readJsonFile(join(dir, 'missing.json'), 'config file')).toThrow(/config file .*missing\.json does not exist/);
  });
});
