import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { GanpoConfig, decodeGanpoConfig, defaultGanpoConfig, ganpoConfig, instanceNoiseSigma, resolveDiscLr } from './config.js';

describe('GanpoConfig (io-ts)', () => {
  it('decodes nothing into the defaults', () => {
    const r = GanpoConfig.decode({});
    expect(isRight(r) && r.right).toEqual(defaultGanpoConfig);
    expect(defaultGanpoConfig).toMatchObject({ lambda: 1, momentum: 0.9, means: 'ema', variant: 'quad', pooling: 'masked', discSteps: 1, twoDiscriminators: true });
  });

  it('accepts flags as strings (numbers, booleans) and fills nested defaults', () => {
    const cfg = ganpoConfig({ lambda: '0.5', twoDiscriminators: 'false', instanceNoise: { sigma0: '0.1' } } as never);
    expect(cfg.lambda).toBe(0.5);
    expect(cfg.twoDiscriminators).toBe(false);
    expect(cfg.instanceNoise).toEqual({ sigma0: 0.1, annealSteps: 0, generator: true });
  });

  it('rejects unknown keys, bad enums, ranges and inconsistent combinations with readable messages', () => {
    const bad = (input: unknown, pattern: RegExp) => {
      const r = decodeGanpoConfig(input);
      expect(isLeft(r)).toBe(true);
      if (isLeft(r)) expect(r.left.join('\n')).toMatch(pattern);
    };
    bad({ lamda: 1 }, /GANPO config: lamda: unknown key \(did you mean 'lambda'\?\)/);
    bad({ pooling: 'max' }, /pooling: expected one of 'masked', 'completion', 'all', got "max"/);
    bad({ momentum: 1 }, /momentum: expected a number ≥ 0 and < 1, got 1/);
    bad({ discSteps: 0 }, /discSteps: expected an integer ≥ 1, got 0/);
    bad({ width: 30, heads: 4 }, /divisible/);
    bad({ schedule: 'cosine' }, /totalSteps/);
    bad({ meanGradient: true }, /meanGradient needs means 'batch'/);
    bad({ instanceNoise: { sigma: 1 } }, /instanceNoise\.sigma: unknown key \(did you mean 'sigma0'\?\)/);
    bad(42, /GANPO config: \(root\): expected object, got 42/);
    bad({ lambda: -1, momentum: 2, lamda: 0 }, /lamda: unknown key[\s\S]*lambda: expected a number ≥ 0, got -1[\s\S]*momentum: /);
  });

  it('round-trips through encode/decode', () => {
    const cfg = ganpoConfig({ policyLr: 1e-3, variant: 'hinge', r1: 10 });
    const again = GanpoConfig.decode(JSON.parse(JSON.stringify(GanpoConfig.encode(cfg))));
    expect(isRight(again) && again.right).toEqual(cfg);
    expect(GanpoConfig.is(cfg)).toBe(true);
  });

  it('the discriminator learning rate defaults to half the policy learning rate', () => {
    expect(resolveDiscLr(ganpoConfig({ policyLr: 1e-6 }))).toBe(5e-7);
    expect(resolveDiscLr(ganpoConfig({ policyLr: 1e-6, discLr: 1e-4 }))).toBe(1e-4);
    expect(() => resolveDiscLr(ganpoConfig({}))).toThrow(/policyLr/);
  });

  it('instance noise anneals linearly to 0', () => {
    const cfg = ganpoConfig({ instanceNoise: { sigma0: 0.4, annealSteps: 4 } });
    expect([0, 1, 2, 4, 9].map((t) => instanceNoiseSigma(cfg, t))).toEqual([0.4, 0.30000000000000004, 0.2, 0, 0]);
    expect(instanceNoiseSigma(ganpoConfig({ instanceNoise: { sigma0: 0.4 } }), 100)).toBe(0.4);
  });
});
