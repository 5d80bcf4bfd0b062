import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import {
  BenchFlagsCodec, decodeFlags, EvalFlagsCodec, ExperimentFlagsCodec, ExportFlagsCodec, flagOfAttribute, MakeTaskFlagsCodec, ModelInfoFlagsCodec, SampleFlagsCodec,
  StatsFlagsCodec, ValidateFlagsCodec,
} from './commandFlags.js';

/** The usage error decoding `flags` throws (the test fails where it decodes). */
function rejected(command: string, codec: Parameters<typeof decodeFlags>[1], flags: Record<string, unknown>): UsageError {
  try {
    decodeFlags(command, codec, flags);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`ganpo ${command} accepted ${JSON.stringify(flags)}`);
}

describe('command flags: decoded by codecs, bad values named by flag', () => {
  it('names the flag commander reads into an attribute', () => {
    expect(flagOfAttribute('maxNewTokens')).toBe('--max-new-tokens');
    expect(flagOfAttribute('topP')).toBe('--top-p');
    expect(flagOfAttribute('seed')).toBe('--seed');
    expect(flagOfAttribute('temperatures[2]')).toBe('--temperatures');
  });

  it('round trip: an integer in range written as text decodes to itself; one below the range is refused with flag, range and value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), (n) => {
        expect(decodeFlags('bench', BenchFlagsCodec, { steps: String(n) }).steps).toBe(n);
        expect(decodeFlags('experiment run', ExperimentFlagsCodec, { jobs: String(n) }).jobs).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 0 }), (n) => {
        expect(rejected('bench', BenchFlagsCodec, { steps: String(n) }).details).toEqual([`--steps: expected an integer ≥ 1, got ${n}`]);
      }),
    );
  });

  it('decodes a comma-separated list item by item, and a fraction or a word is not an integer', () => {
    expect(decodeFlags('eval', EvalFlagsCodec, { run: 'r', temperatures: '0,0.5,1' }).temperatures).toEqual([0, 0.5, 1]);
    expect(rejected('eval', EvalFlagsCodec, { run: 'r', temperatures: '0,-1' }).details).toEqual(['--temperatures: expected a number ≥ 0, got -1']);
    expect(rejected('bench', BenchFlagsCodec, { steps: '1.5' }).details).toEqual(['--steps: expected an integer ≥ 1, got 1.5']);
    expect(rejected('bench', BenchFlagsCodec, { steps: 'five' }).details).toEqual(['--steps: expected an integer ≥ 1, got "five"']);
  });

  it('every command refuses a bad value of each numeric (or enumerated) flag with the same kind of message, all problems at once', () => {
    const cases: [string, Parameters<typeof decodeFlags>[1], Record<string, string>, string[]][] = [
      ['eval', EvalFlagsCodec, { run: 'r', prompts: '-1', pairs: 'x', maxNewTokens: '0', seed: '1.5' }, [
        '--prompts: expected an integer ≥ 0, got -1',
        '--pairs: expected an integer ≥ 0, got "x"',
        '--max-new-tokens: expected an integer ≥ 1, got 0',
        '--seed: expected an integer ≥ 0 and ≤ 2147483647, got 1.5',
      ]],
      ['sample', SampleFlagsCodec, { prompt: 'p', temperature: '-0.5', topP: '0', topK: '-2', n: '1001', seed: '-1', maxNewTokens: 'lots' }, [
        '--temperature: expected a number ≥ 0, got -0.5',
        '--top-p: expected a number > 0 and ≤ 1, got 0',
        '--top-k: expected an integer ≥ 0, got -2',
        '--n: expected an integer ≥ 1 and ≤ 1000, got 1001',
        '--seed: expected an integer ≥ 0 and ≤ 2147483647, got -1',
        '--max-new-tokens: expected an integer ≥ 1, got "lots"',
      ]],
      ['data validate', ValidateFlagsCodec, { maxErrors: '-3' }, ['--max-errors: expected an integer ≥ 0, got -3']],
      ['data stats', StatsFlagsCodec, { dataMode: 'lenient' }, ['--data-mode: expected one of \'strict\', \'skip\', got "lenient"']],
      ['data make-task', MakeTaskFlagsCodec, { seed: 'abc', split: 'test' }, [
        '--split: expected one of \'train\', \'eval\', \'sft\', \'heldout\', got "test"',
        '--seed: expected an integer ≥ 0 and ≤ 2147483647, got "abc"',
      ]],
      ['bench', BenchFlagsCodec, { width: '0', layers: '0', heads: 'two', seq: '1', pairs: '0', batchSize: '-1', steps: '0', warmup: '-1' }, [
        '--width: expected an integer ≥ 1, got 0',
        '--layers: expected an integer ≥ 1, got 0',
        '--heads: expected an integer ≥ 1, got "two"',
        '--seq: expected an integer ≥ 2, got 1',
        '--pairs: expected an integer ≥ 1, got 0',
        '--batch-size: expected an integer ≥ 1, got -1',
        '--steps: expected an integer ≥ 1, got 0',
        '--warmup: expected an integer ≥ 0, got -1',
      ]],
      ['info', ModelInfoFlagsCodec, { model: 'm', batchSize: '0', maxLength: '0.5', loraR: '-16' }, [
        '--batch-size: expected an integer ≥ 1, got 0',
        '--max-length: expected an integer ≥ 1, got 0.5',
        '--lora-r: expected an integer ≥ 0, got -16',
      ]],
      ['export', ExportFlagsCodec, { out: 'hf', dtype: 'fp8' }, ['--dtype: expected one of \'f32\', \'bf16\', \'f16\', got "fp8"']],
      ['experiment run', ExperimentFlagsCodec, { jobs: '0', threads: 'many' }, ['--jobs: expected an integer ≥ 1, got 0', '--threads: expected an integer ≥ 1, got "many"']],
    ];
    for (const [command, codec, flags, lines] of cases) {
      const e = rejected(command, codec, flags);
      expect(e.message, command).toBe(lines.length === 1 ? `ganpo ${command}: invalid flag value` : `ganpo ${command}: invalid flag values (${lines.length} problems)`);
      expect(e.details, command).toEqual(lines);
      expect(e.exitCode, command).toBe(2);
    }
  });

  it('leaves text and switches as they are, and good numbers as numbers', () => {
    const f = decodeFlags('sample', SampleFlagsCodec, { prompt: '12', run: 'runs/x', json: true, temperature: '.7', topK: '40', n: '3' });
    expect(f).toEqual({ prompt: '12', run: 'runs/x', json: true, temperature: 0.7, topK: 40, n: 3 });
  });
});
