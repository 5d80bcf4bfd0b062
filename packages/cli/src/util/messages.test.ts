import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { validateCommand } from '../commands/data.js';
import { sampleCommand } from '../commands/evalSample.js';
import { train } from '../index.js';
import { addConfigFlags } from '../config/flags.js';
import { decodeFlags, SampleFlagsCodec } from '../config/commandFlags.js';
import { resolveObjective, resolveRun } from '../config/resolve.js';
import { defaultRunConfig } from '../config/runConfig.js';
import { ConfigError, DataError } from '../errors.js';
import { type CliIo, renderError } from './io.js';

/** What users read: one line per problem, hints that fit the problem, no raw control bytes, the defaults stated once. */

const withObjective = (objective: Record<string, unknown>) => ({ ...defaultRunConfig(), preference: { ...defaultRunConfig().preference, objective } });
const thrown = (f: () => unknown): ConfigError => {
  try {
    f();
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error('expected an error');
};
const capture = (): CliIo & { out: () => string } => {
  let text = '';
  const stream = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { stdout: stream, stderr: stream, env: {}, out: () => text };
};

describe('objective errors', () => {
  it('an unknown loss name: its detail once, and the hint about loss names', () => {
    const e = thrown(() => resolveObjective(withObjective({ loss: 'foo' }), { flags: new Map([['preference.objective.loss', '--objective']]) }));
    expect(e.details).toHaveLength(1);
    expect(e.details[0]).toMatch(/got "foo" \(set by --objective\)$/);
    expect(e.hint).toMatch(/TRL loss_type/);
  });

  it('a bad --beta: no hint about loss names', () => {
    const e = thrown(() => resolveObjective(withObjective({ loss: 'sigmoid', beta: -1 })));
    expect(e.details.join('\n')).toMatch(/beta: expected a number > 0, got -1/);
    expect(e.hint).toBeUndefined();
  });

  it('kto is an objective of the CLI (unpaired data), with GANPO off', () => {
    const r = resolveRun(withObjective({ loss: 'kto', beta: 0.2 }), 50);
    expect(r.kto).toEqual({ beta: 0.2 });
    expect(r.objectiveText).toBe('kto(beta=0.2)');
    expect(r.ganpo).toBeNull();
    expect(thrown(() => resolveRun(withObjective({ loss: 'kto', beta: -1 }), 50)).details[0]).toMatch(/kto: beta: expected a number > 0, got -1/);
  });
});

describe('messages never carry raw control bytes', () => {
  it('renderError escapes NUL, escape sequences and other control bytes of quoted file content', () => {
    const text = renderError(new DataError('data.jsonl:1: invalid JSON: "ab\u0000\u0001cd\u001b[31m"'));
    expect(text).toBe('ganpo: error: data.jsonl:1: invalid JSON: "ab\\x00\\x01cd\\x1b[31m"\n');
  });

  it('`data validate` on a binary file escapes them, and on an empty file says "empty"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ganpo-msg-'));
    writeFileSync(join(dir, 'bin.jsonl'), 'ab\u0000\u0001cd\u001b[31m\n');
    writeFileSync(join(dir, 'empty.jsonl'), '');
    const bin = capture();
    expect(await validateCommand(join(dir, 'bin.jsonl'), {}, bin)).toBe(2);
    expect(bin.out()).toContain('ab\\x00\\x01cd\\x1b[31m');
    expect(/[\u0000-\u0008\u000b-\u001f]/.test(bin.out())).toBe(false);
    const empty = capture();
    expect(await validateCommand(join(dir, 'empty.jsonl'), {}, empty)).toBe(2);
    expect(empty.out().split('\n')[0]).toBe(`${join(dir, 'empty.jsonl')}: empty (no rows)`);
  });
});

describe('flag help', () => {
  it('states each default once; --disc-lr says its real default and why it differs from lr/2', () => {
    const help = addConfigFlags(new Command('train')).helpInformation().replace(/\s+/g, ' ');
    for (const chunk of help.split(/ (?=--[a-z-]+ <|--[a-z-]+ [a-z])/)) expect(chunk.match(/default:/g)?.length ?? 0, chunk).toBeLessThanOrEqual(1);
    expect(help).toMatch(/--disc-lr <rate> discriminator learning rate; ten times the policy lr by default, not the method's lr\/2, .* \(default: 0\.001\)/);
    expect(help).toMatch(/--max-prompt-length <n> .* \(default: no limit of its own\)/);
  });
});

describe('ganpo sample', () => {
  it('warns when the prompt is cut to fit the model context, and only then', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ganpo-sample-')), 'run');
    await train({ out, stage: 'sft', model: { init: 'tiny', dropout: null }, sft: { steps: 1, batchSize: 2 }, log: { evalInterval: 0, saveInterval: 0 }, eval: { atEnd: false } });
    const long = capture();
    // BOS + 200 bytes = 201 tokens; a context of 96 keeps BOS and the last 94 (room for one new token): 106 cut.
    await sampleCommand(decodeFlags('sample', SampleFlagsCodec, { run: out, prompt: 'x'.repeat(200), maxNewTokens: '2' }), long);
    expect(long.out()).toMatch(/warning: the prompt is longer than the model's context of 96 tokens: its first 106 tokens are cut/);
    const short = capture();
    await sampleCommand(decodeFlags('sample', SampleFlagsCodec, { run: out, prompt: 'sort: b a', maxNewTokens: '2' }), short);
    expect(short.out()).not.toMatch(/warning/);
  }, 60_000);
});

