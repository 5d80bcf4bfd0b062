import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, test } from 'vitest';
import { tensor } from '@ganpo/autograd';
import {
  PREFERENCE_LOSS_NAMES, PreferenceConfigCodec, PreferenceLossNameCodec, decodePreferenceConfig, decodePreferenceSpecs,
  isReferenceLoss, resolvePreferenceConfig,
} from './config.js';
import { ObjectiveConfigError, ObjectiveInputError } from './errors.js';
import { KtoConfigCodec, kto } from './kto.js';
import * as named from './preference.js';
import { preferenceLoss, preferenceObjective } from './preference.js';
import { namespaced, weighted } from './combinators.js';
import { SEQUENCE_PAIRS, TOKEN_PAIRS, toPairLogps, toUnpairedLogps, UNPAIRED } from './testing/fixtures.js';
import type { PairLogps } from './types.js';

const resolved = (name: Parameters<typeof resolvePreferenceConfig>[0], config = {}) => {
  const r = resolvePreferenceConfig(name, config);
  if (E.isLeft(r)) throw new Error(r.left.join('; '));
  return r.right;
};
const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ObjectiveConfigError) return [...e.problems];
    throw e;
  }
  throw new Error('expected an ObjectiveConfigError');
};

describe('defaults (docs/objectives.md)', () => {
  test('β = 0.1 and ε = 0 everywhere, with the documented exceptions', () => {
    expect(resolved('sigmoid')).toMatchObject({ beta: 0.1, labelSmoothing: 0, referenceFree: false, ldAlpha: null, useWeighting: false, lengthPenalty: 0 });
    expect(resolved('sigmoid').fDivergence).toEqual({ type: 'reverse_kl', alpha: 0.5 });
    expect(resolved('simpo')).toMatchObject({ beta: 2, gamma: 0.5, referenceFree: true });
    expect(resolved('simpo', { beta: 2.5 }).gamma).toBe(0.625);
    expect(resolved('exo_pair').labelSmoothing).toBe(1e-3);
    expect(resolved('discopop').tau).toBe(0.05);
    expect(resolved('cpo').alpha).toBe(1);
    expect(resolved('orpo').beta).toBe(0.1);
    expect(resolved('sigmoid', { fDivergence: 'alpha_divergence' }).fDivergence).toEqual({ type: 'alpha_divergence', alpha: 0.5 });
  });
  test('every name builds with its defaults; reference losses are the DPO family', () => {
    expect(PREFERENCE_LOSS_NAMES).toHaveLength(18);
    for (const name of PREFERENCE_LOSS_NAMES) {
      const o = preferenceLoss(name);
      expect(o.lossName).toBe(name);
      expect(o.requirements.reference).toBe(isReferenceLoss(name));
    }
    expect(PREFERENCE_LOSS_NAMES.filter((n) => !isReferenceLoss(n))).toEqual(['sft', 'simpo', 'cpo', 'orpo']);
  });
  test('each loss has a named export: its camelCase TRL name, dpo for sigmoid', () => {
    const camel = (n: string) => (n === 'sigmoid' ? 'dpo' : n.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()));
    for (const name of PREFERENCE_LOSS_NAMES) {
      const build = (named as unknown as Record<string, (c?: object) => { lossName: string; config: object }>)[camel(name)];
      expect(build({}).lossName).toBe(name);
      expect(build({}).config).toEqual(preferenceLoss(name).config);
    }
  });
});

describe('invalid configurations are rejected when the objective is built', () => {
  test.each([
    ['sigmoid', { labelSmoothing: 0.6 }, /labelSmoothing: expected a number ≥ 0 and ≤ 0.5, got 0.6/],
    ['sigmoid', { labelSmoothing: -0.1 }, /labelSmoothing/],
    ['robust', { labelSmoothing: 0.5 }, /labelSmoothing: expected a number in \[0, 0.5\) for robust/],
    ['exo_pair', { labelSmoothing: 0 }, /EXO needs labelSmoothing ε > 0/],
    ['sigmoid', { beta: 0 }, /beta: expected a number > 0, got 0/],
    ['sigmoid', { beta: Number.NaN }, /beta/],
    ['discopop', { tau: 0 }, /tau: expected a number > 0, got 0/],
    ['sigmoid', { ldAlpha: 1.5 }, /ldAlpha: expected a number ≥ 0 and ≤ 1, got 1.5/],
    ['sigmoid', { fDivergence: { type: 'alpha_divergence', alpha: 1 } }, /fDivergence\.alpha: expected a number ≥ 0 and < 1, got 1/],
    ['sigmoid', { fDivergence: 'kl' }, /fDivergence: expected one of reverse_kl, forward_kl, js_divergence, alpha_divergence or/],
    ['sigmoid', { gamma: 0.5 }, /option 'gamma' does not apply/],
    ['hinge', { labelSmoothing: 0.1 }, /option 'labelSmoothing' does not apply/],
    ['simpo', { ldAlpha: 0.5 }, /option 'ldAlpha' does not apply/],
    ['orpo', { useWeighting: true }, /option 'useWeighting' does not apply/],
    ['nca_pair', { fDivergence: 'js_divergence' }, /option 'fDivergence' does not apply/],
    ['ipo', { lengthPenalty: 0.1 }, /option 'lengthPenalty' does not apply/],
    ['sft', { beta: 0.1 }, /option 'beta' does not apply/],
    ['simpo', { referenceFree: false }, /reference-free by definition/],
    ['sigmoid', { betta: 0.1 }, /betta: unknown key \(did you mean 'beta'\?\)/],
  ] as const)('%s %j', (name, config, message) => {
    expect(problems(() => preferenceLoss(name, config as never)).join('\n')).toMatch(message);
  });

  test('options at their neutral value are accepted by every loss', () => {
    expect(() => preferenceLoss('hinge', { labelSmoothing: 0, lengthPenalty: 0, useWeighting: false })).not.toThrow();
    expect(() => preferenceLoss('nca_pair', { fDivergence: 'reverse_kl' })).not.toThrow();
    expect(() => preferenceLoss('sft', { simpoHinge: false, useWeighting: false })).not.toThrow();
  });

  test('every problem is reported at once', () => {
    expect(problems(() => preferenceLoss('sigmoid', { beta: -1, labelSmoothing: 2, gamma: 1 }))).toHaveLength(3);
  });

  test('unknown loss names', () => {
    expect(problems(() => preferenceLoss('dpo' as never)).join()).toMatch(/unknown preference loss 'dpo'/);
  });

  test('declared inputs: a reference loss without reference log-probs, a per-token option without tokens', () => {
    expect(problems(() => preferenceLoss('sigmoid', {}, { available: { reference: false } })).join()).toMatch(/reference log-probs.*referenceFree: true/);
    expect(() => preferenceLoss('sigmoid', { referenceFree: true }, { available: { reference: false } })).not.toThrow();
    expect(() => preferenceLoss('simpo', {}, { available: { reference: false } })).not.toThrow();
    expect(problems(() => preferenceLoss('sigmoid', { ldAlpha: 0.5 }, { available: { tokens: false } })).join()).toMatch(/per-token log-probs/);
    expect(problems(() => preferenceLoss('sigmoid', { ldAlpha: 0.5 }, { available: { tokenReference: false } })).join()).toMatch(/per-token reference/);
    expect(problems(() => preferenceLoss('bco_pair', { useWeighting: true }, { available: { logSumSquaredProbs: false } })).join()).toMatch(/log Σ p²/);
  });

  test('kto', () => {
    expect(() => kto({ beta: -1 })).toThrow(ObjectiveConfigError);
    expect(() => kto({ desirableWeight: Number.POSITIVE_INFINITY })).toThrow(/desirableWeight/);
    expect(() => kto({ klEstimate: 'ema' as never })).toThrow(/klEstimate/);
  });
});

describe('inputs are checked on every call, with one clear message', () => {
  const input = (): PairLogps => toPairLogps(SEQUENCE_PAIRS);
  const callError = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ObjectiveInputError) return e.message;
      throw e;
    }
    throw new Error('expected an ObjectiveInputError');
  };

  test('a reference-based loss without reference log-probs', () => {
    const { refChosen: _c, refRejected: _r, ...noRef } = input();
    expect(callError(() => preferenceLoss('sigmoid')(noRef))).toMatch(/no refChosen; pass reference log-probs, or build the loss with referenceFree: true/);
    expect(() => preferenceLoss('sigmoid', { referenceFree: true })(noRef)).not.toThrow();
    expect(() => preferenceLoss('simpo')(noRef)).not.toThrow();
  });

  test('per-token options without per-token inputs', () => {
    expect(callError(() => preferenceLoss('sigmoid', { ldAlpha: 0.5 })(input()))).toMatch(/no tokens; ldAlpha and useWeighting/);
    const { tokens, ...seq } = toPairLogps(TOKEN_PAIRS);
    const { logSumSquaredProbsChosen: _l, ...noLsp } = tokens!;
    expect(callError(() => preferenceLoss('sigmoid', { useWeighting: true })({ ...seq, tokens: noLsp }))).toMatch(/tokens.logSumSquaredProbsChosen/);
    const { refChosen: _rc, ...noTokenRef } = tokens!;
    expect(callError(() => preferenceLoss('sigmoid', { ldAlpha: 0.5 })({ ...seq, tokens: noTokenRef }))).toMatch(/tokens.refChosen; LD-DPO/);
  });

  test('NaN log-probs, shapes, dtypes, lengths, masks', () => {
    const x = input();
    const nan = tensor([-1, Number.NaN, -2, -3], { dtype: 'float64' });
    expect(callError(() => preferenceLoss('sigmoid')({ ...x, policyRejected: nan }))).toMatch(/policyRejected\[1\] is NaN.*NaN logits/);
    expect(callError(() => preferenceLoss('sigmoid')({ ...x, refChosen: tensor([-1, -2], { dtype: 'float64' }) }))).toMatch(/refChosen has shape \[2\], expected \[4\]/);
    expect(callError(() => preferenceLoss('sigmoid')({ ...x, refChosen: tensor([-1, -2, -3, -4]) }))).toMatch(/refChosen is float32/);
    expect(callError(() => preferenceLoss('ipo')({ ...x, chosenLengths: tensor([1, 0, 2, 3], { dtype: 'float64' }) }))).toMatch(/chosenLengths\[1\] is 0/);
    expect(callError(() => preferenceLoss('sigmoid')({ ...x, policyChosen: tensor([[-1]], { dtype: 'float64' }) }))).toMatch(/expected \[B\]/);
    const t = toPairLogps(TOKEN_PAIRS);
    const emptyRow = tensor([[0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1]], { dtype: 'float64' });
    expect(callError(() => preferenceLoss('sigmoid', { ldAlpha: 0.5 })({ ...t, tokens: { ...t.tokens!, maskChosen: emptyRow } }))).toMatch(/row 0 marks no completion token/);
  });

  test('kto inputs', () => {
    const u = toUnpairedLogps(UNPAIRED);
    expect(callError(() => kto()({ ...u, desirable: tensor([1, 0.5, 1, 0, 0], { dtype: 'float64' }) }))).toMatch(/desirable\[1\] is 0.5/);
    expect(callError(() => kto()({ ...u, klPolicy: undefined }))).toMatch(/mismatched.*klEstimate: 'none'/);
  });
});

describe('io-ts codecs', () => {
  test('loss names', () => {
    for (const name of PREFERENCE_LOSS_NAMES) expect(E.isRight(PreferenceLossNameCodec.decode(name))).toBe(true);
    expect(E.isLeft(PreferenceLossNameCodec.decode('dpo'))).toBe(true);
  });

  test('PreferenceConfig: types, unknown fields', () => {
    expect(PreferenceConfigCodec.decode({ beta: 0.2, fDivergence: { type: 'alpha_divergence', alpha: 0.3 } })).toEqual(
      E.right({ beta: 0.2, fDivergence: { type: 'alpha_divergence', alpha: 0.3 } }),
    );
    const bad = decodePreferenceConfig('sigmoid', { beta: '0.1', labelSmooth: 0.1 });
    expect(E.isLeft(bad) && bad.left.join('\n')).toMatch(/labelSmooth: unknown key \(did you mean 'labelSmoothing'\?\)/);
    const wrongType = decodePreferenceConfig('sigmoid', { beta: '0.1' });
    expect(E.isLeft(wrongType) && wrongType.left.join('\n')).toMatch(/beta: expected a number > 0, got "0.1"/);
    const range = decodePreferenceConfig('robust', { labelSmoothing: 0.7 });
    expect(E.isLeft(range) && range.left.join('\n')).toMatch(/labelSmoothing/);
    expect(E.isRight(decodePreferenceConfig('simpo', { gamma: 0.3 }))).toBe(true);
    expect(E.isLeft(KtoConfigCodec.decode({ beta: 0.1, lambda: 1 }))).toBe(true);
  });

  test('specs: one term or TRL-style weighted terms, every problem reported with its term', () => {
    expect(decodePreferenceSpecs({ loss: 'sigmoid', beta: 0.1 })).toEqual(E.right([{ loss: 'sigmoid', beta: 0.1 }]));
    const mpo = [
      { loss: 'sigmoid', weight: 0.8 },
      { loss: 'bco_pair', weight: 0.2 },
      { loss: 'sft', weight: 1.0 },
    ];
    expect(E.isRight(decodePreferenceSpecs(mpo))).toBe(true);
    const bad = decodePreferenceSpecs([{ loss: 'sigmoid', beta: -1 }, { loss: 'nope' }, { loss: 'sft', gamma: 1 }]);
    expect(E.isLeft(bad)).toBe(true);
    const messages = E.isLeft(bad) ? bad.left : [];
    expect(messages.some((m) => m.startsWith('term 0: ') && /beta/.test(m))).toBe(true);
    expect(messages.some((m) => m.startsWith('term 1: ') && /loss/.test(m))).toBe(true);
    expect(messages.some((m) => m.startsWith('term 2: ') && /gamma/.test(m))).toBe(true);
    const dup = decodePreferenceSpecs([{ loss: 'sigmoid' }, { loss: 'sigmoid', beta: 0.5 }]);
    expect(E.isLeft(dup) && dup.left.join()).toMatch(/two terms are named 'sigmoid'/);
    expect(E.isLeft(decodePreferenceSpecs([]))).toBe(true);
  });

  test('preferenceObjective builds the weighted sum, namespacing each term', () => {
    const specs = decodePreferenceSpecs([
      { loss: 'sigmoid', weight: 0.8 },
      { loss: 'bco_pair', weight: 0.2 },
      { loss: 'sft' },
    ]);
    if (E.isLeft(specs)) throw new Error(specs.left.join());
    const x = toPairLogps(SEQUENCE_PAIRS);
    const term = preferenceObjective(specs.right)(x);
    const manual = weighted([
      [0.8, namespaced('sigmoid', preferenceLoss('sigmoid'))],
      [0.2, namespaced('bco_pair', preferenceLoss('bco_pair'))],
      [1, namespaced('sft', preferenceLoss('sft'))],
    ])(x);
    expect(term.loss.item()).toBe(manual.loss.item());
    expect(Object.keys(term.metrics)).toEqual(Object.keys(manual.metrics));
    expect(Object.keys(preferenceObjective([{ loss: 'ipo', beta: 0.3 }])(x).metrics)).toContain('rewards/margins');
  });
});
