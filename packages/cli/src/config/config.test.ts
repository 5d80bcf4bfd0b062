import { describe, expect, it } from 'vitest';
import * as t from 'io-ts';
import { ConfigError } from '../errors.js';
import { buildTrainConfig, configChanges, parsePosition } from '../commands/train.js';
import { int, num, oneOf, problemsFromErrors, suggest, unknownKeys } from './codecs.js';
import { codecAt } from './flagValues.js';
import { CONFIG_FLAGS, flagOverrides } from './flags.js';
import { resolveGanpo, resolveObjective } from './resolve.js';
import { checkConfigKeys, decodeRunConfig, deepMerge, defaultRunConfig, RunConfigCodec } from './runConfig.js';

const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    const err = e as ConfigError;
    return [err.message, ...(err.details ?? [])].join('\n');
  }
  throw new Error('expected a ConfigError');
};

describe('codecs', () => {
  it('number and integer codecs name their range in the reason', () => {
    const r = t.type({ lr: num({ gt: 0 }), steps: int({ ge: 1 }), mode: oneOf(['a', 'b']) }).decode({ lr: -1, steps: 1.5, mode: 'c' });
    expect(r._tag).toBe('Left');
    const problems = problemsFromErrors((r as { left: t.Errors }).left);
    expect(problems).toEqual([
      { path: 'lr', reason: 'expected a number > 0, got -1' },
      { path: 'steps', reason: 'expected an integer ≥ 1, got 1.5' },
      { path: 'mode', reason: "expected one of 'a', 'b', got \"c\"" },
    ]);
  });

  it('reports a nested path once for a union (e.g. number or null)', () => {
    const problems = problemsFromErrors((RunConfigCodec.decode({ ...defaultRunConfig(), sft: { ...defaultRunConfig().sft, epochs: 'x' } }) as { left: t.Errors }).left);
    expect(problems).toEqual([{ path: 'sft.epochs', reason: 'expected a number > 0 or null, got "x"' }]);
  });

  it('finds unknown keys at any depth, with a suggestion', () => {
    const problems = unknownKeys(RunConfigCodec, { sedd: 1, preference: { lr: 1, bta: 2 }, log: { intervall: 3 } });
    expect(problems.map((p) => p.path)).toEqual(['sedd', 'preference.bta', 'log.intervall']);
    expect(problems[0].reason).toMatch(/did you mean 'seed'/);
    expect(problems[2].reason).toMatch(/did you mean 'interval'/);
  });

  it('leaves open sections (ganpo options, the objective) to their packages', () => {
    expect(unknownKeys(RunConfigCodec, { ganpo: { lambda: 1, anything: 2 }, preference: { objective: { loss: 'ipo', x: 1 } } })).toEqual([]);
  });

  it('suggests only close names', () => {
    expect(suggest('batch_size', ['batchSize', 'lr'])).toBe('batchSize');
    expect(suggest('zzz', ['batchSize', 'lr'])).toBeUndefined();
  });
});

describe('run config', () => {
  it('the defaults decode', () => {
    expect(decodeRunConfig(defaultRunConfig())).toEqual(defaultRunConfig());
  });

  it('deepMerge replaces values and arrays, merges objects', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: undefined })).toEqual({ a: { b: 1, c: [3] }, d: 1 });
  });

  it('rejects bad values with the path and the reason, all at once', () => {
    const bad = deepMerge(defaultRunConfig(), { seed: -1, preference: { lr: 'fast', schedule: 'wavy' } });
    const msg = messageOf(() => decodeRunConfig(bad, { file: 'run.json' }));
    expect(msg).toContain('invalid run configuration (3 problems)');
    expect(msg).toContain('run.json: seed: expected an integer ≥ 0 and ≤ 2147483647, got -1');
    expect(msg).toContain('run.json: preference.lr: expected a number ≥ 0, got "fast"');
    expect(msg).toContain("run.json: preference.schedule: expected one of 'cosine', 'linear', 'constant', got \"wavy\"");
  });

  it('rejects unknown keys in a config file before anything else', () => {
    const msg = messageOf(() => checkConfigKeys({ preference: { stepz: 3 } }, 'run.json'));
    expect(msg).toContain('run.json: an unknown key');
    expect(msg).toContain("preference.stepz: unknown key (did you mean 'steps'?)");
  });

  it('rejects a config file that is not an object', () => {
    expect(messageOf(() => checkConfigKeys([1], 'run.json'))).toContain('must be a JSON object, got an array');
  });

  it('refuses a stage with nothing to do', () => {
    const msg = messageOf(() => decodeRunConfig(deepMerge(defaultRunConfig(), { sft: { steps: 0 } })));
    expect(msg).toContain('sft.steps: is 0 and no epochs are set');
  });
});

describe('flags', () => {
  it('every config flag sets a key that a codec declares (its text is read by that codec)', () => {
    for (const f of CONFIG_FLAGS) {
      for (const loop of ['preference', 'sft']) expect(codecAt(f.path.replace(/^loop\./, `${loop}.`)), f.flags).toBeDefined();
    }
    expect(codecAt('data.maxLenght')).toBeUndefined();
  });

  it("a flag's text becomes the value its key's codec takes", () => {
    expect(flagOverrides({ out: '123', model: 'true', maxLength: '64', evalFraction: '.25' }, 'all').overrides).toEqual({
      out: '123',
      model: { init: 'true' },
      data: { maxLength: 64, evalFraction: 0.25 },
    });
    expect(flagOverrides({ lambda: '0.5', discKind: 'mlp', beta: '0.3', referenceFree: true, epochs: '2' }, 'all').overrides).toEqual({
      ganpo: { lambda: 0.5, architecture: 'mlp' },
      preference: { epochs: 2, objective: { beta: 0.3, referenceFree: true } },
    });
    expect(flagOverrides({ temperatures: '0, 0.7,1' }, 'all').overrides).toEqual({ eval: { temperatures: [0, 0.7, 1] } });
    // Refused values still arrive as the number they spell, for the message.
    expect(flagOverrides({ steps: '1.5', lr: 'abc' }, 'all').overrides).toEqual({ preference: { steps: 1.5, lr: 'abc' } });
  });

  it('loop flags go to the preference stage, or to SFT under --stage sft', () => {
    expect(flagOverrides({ steps: '7', lr: '1e-4' }, 'all').overrides).toEqual({ preference: { steps: 7, lr: 1e-4 } });
    expect(flagOverrides({ steps: '7' }, 'sft').overrides).toEqual({ sft: { steps: 7 } });
    expect(flagOverrides({ sftSteps: '9', ganpo: false }, 'all').overrides).toEqual({ sft: { steps: 9 }, ganpo: { enabled: false } });
  });

  it('a bad flag value names the flag and the config path', () => {
    expect(messageOf(() => buildTrainConfig({ lr: 'abc' }))).toContain('--lr (preference.lr): expected a number ≥ 0, got "abc"');
    expect(messageOf(() => buildTrainConfig({ batchSize: '0' }))).toContain('--batch-size (preference.batchSize): expected an integer ≥ 1, got 0');
    expect(messageOf(() => buildTrainConfig({ temperatures: '0,hot' }))).toContain('--temperatures (eval.temperatures[1])');
    expect(messageOf(() => buildTrainConfig({ stage: 'dpo' }))).toContain('--stage: expected one of all, sft, preference, got "dpo"');
  });

  it('--objective replaces the loss and its options; option flags merge into it', () => {
    expect(buildTrainConfig({ objective: 'simpo' }).config.preference.objective).toEqual({ loss: 'simpo' });
    expect(buildTrainConfig({ beta: '0.3' }).config.preference.objective).toEqual({ loss: 'sigmoid', beta: 0.3 });
    expect(buildTrainConfig({ objective: 'ipo', beta: '0.5' }).config.preference.objective).toEqual({ loss: 'ipo', beta: 0.5 });
  });

  it('lists what a resume changes', () => {
    const a = defaultRunConfig();
    const b = deepMerge(a, { preference: { steps: 80 }, eval: { temperatures: [0] } });
    expect(configChanges(a, b)).toEqual(['preference.steps: 50 -> 80', 'eval.temperatures: [0,1] -> [0]']);
    expect(configChanges(a, a)).toEqual([]);
  });

  it('parses stop positions', () => {
    expect(parsePosition('5', '--stop-at', 'all')).toEqual({ stage: 'preference', step: 5 });
    expect(parsePosition('sft:3', '--stop-at', 'all')).toEqual({ stage: 'sft', step: 3 });
    expect(() => parsePosition('x:1', '--stop-at', 'all')).toThrow(/expected STEP or STAGE:STEP/);
  });
});

describe('objective and GANPO sections (checked by their packages)', () => {
  it('accepts any preference loss with its options', () => {
    const c = decodeRunConfig(deepMerge(defaultRunConfig(), { preference: { objective: { loss: 'simpo', gamma: 0.5 } } }));
    const r = resolveObjective(c);
    expect(r.beta).toBe(2);
    expect(r.requirements.reference).toBe(false);
  });

  it('rejects an unknown loss and an option that does not apply, naming the flag', () => {
    const unknownLoss = buildTrainConfig({ objective: 'dpoo' }).config;
    expect(messageOf(() => resolveObjective(unknownLoss))).toMatch(/invalid objective[\s\S]*preference\.objective/);
    const built = buildTrainConfig({ objective: 'ipo', labelSmoothing: '0.1' });
    const msg = messageOf(() => resolveObjective(built.config, { flags: built.flagOf }));
    expect(msg).toContain("option 'labelSmoothing' does not apply");
    expect(msg).toContain('(set by --label-smoothing)');
  });

  it('rejects bad GANPO options with their path', () => {
    const built = buildTrainConfig({ lambda: '-1', pooling: 'max' });
    const msg = messageOf(() => resolveGanpo(built.config, 10, { flags: built.flagOf }));
    expect(msg).toContain('ganpo.lambda');
    expect(msg).toContain('(set by --lambda)');
    expect(msg).toContain('ganpo.pooling');
  });

  it('fills the policy lr, schedule and seed into the GANPO config', () => {
    const g = resolveGanpo(decodeRunConfig(defaultRunConfig()), 60)!;
    expect(g.policyLr).toBe(defaultRunConfig().preference.lr);
    expect(g.schedule).toBe('cosine');
    expect(g.totalSteps).toBe(60);
    expect(resolveGanpo(buildTrainConfig({ ganpo: false }).config, 60)).toBeNull();
  });
});
