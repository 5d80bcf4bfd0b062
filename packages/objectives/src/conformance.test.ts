import { describe, expect, test } from 'vitest';
import { type Tensor, gradients } from '@ganpo/autograd';
import type { PreferenceConfig, PreferenceLossName } from './config.js';
import { kto } from './kto.js';
import { preferenceLoss } from './preference.js';
import {
  SEQUENCE_PAIRS, TOKEN_PAIRS, UNPAIRED, fieldTensors, pairFields, pairLogpsFrom, scalarPairFrom, toUnpairedLogps,
} from './testing/fixtures.js';
import {
  type ScalarConfig, ktoZ0Ref, richardsonGradient, scalarKto, scalarLoss, wpoWeightsRef,
} from './testing/scalar-reference.js';

/**
 * Conformance: on the committed inputs, every loss's value and gradient (with respect to every input tensor) match the
 * scalar float64 transcription of docs/objectives.md (testing/scalar-reference.ts), whose gradient is taken by Richardson
 * finite differences. The expected values are also committed below, so that a change to either side shows.
 */

/** docs/objectives.md's defaults, written out for the reference (not read from the implementation). */
const DEFAULTS: ScalarConfig = {
  beta: 0.1, eps: 0, gamma: 0.025, simpoHinge: false, alpha: 1, tau: 0.05, referenceFree: false,
  f: { type: 'reverse_kl', alpha: 0.5 }, ldAlpha: null, lengthPenalty: 0, wpo: null,
};

interface Case {
  label: string;
  name: PreferenceLossName;
  config: PreferenceConfig;
  ref: Partial<ScalarConfig>;
  data: 'sequence' | 'tokens';
  /** The committed expected loss (from the scalar reference). */
  expected: number;
}

const c = (
  label: string, name: PreferenceLossName, config: PreferenceConfig, ref: Partial<ScalarConfig>, expected: number,
  data: Case['data'] = 'sequence',
): Case => ({ label, name, config, ref, data, expected });

const CASES: Case[] = [
  c('sigmoid', 'sigmoid', {}, {}, 0.6471924305815),
  c('sigmoid, cDPO ε = 0.1', 'sigmoid', { labelSmoothing: 0.1 }, { eps: 0.1 }, 0.6590674305815),
  c('sigmoid, R-DPO', 'sigmoid', { lengthPenalty: 0.05 }, { lengthPenalty: 0.05 }, 0.6352622108681),
  c('sigmoid, forward KL', 'sigmoid', { fDivergence: 'forward_kl' }, { f: { type: 'forward_kl', alpha: 0 } }, 0.5349387938862),
  c('sigmoid, JS', 'sigmoid', { fDivergence: 'js_divergence' }, { f: { type: 'js_divergence', alpha: 0 } }, 0.6570974095440),
  c('sigmoid, α-divergence 0.3', 'sigmoid', { fDivergence: { type: 'alpha_divergence', alpha: 0.3 } }, { f: { type: 'alpha_divergence', alpha: 0.3 } }, 0.5671747318161),
  c('sigmoid, α-divergence default', 'sigmoid', { fDivergence: 'alpha_divergence' }, { f: { type: 'alpha_divergence', alpha: 0.5 } }, 0.5980334768558),
  c('sigmoid, reference-free', 'sigmoid', { referenceFree: true }, { referenceFree: true }, 0.5865500254860),
  c('hinge', 'hinge', {}, {}, 0.8812500000000),
  c('hinge, β = 0.5', 'hinge', { beta: 0.5 }, { beta: 0.5 }, 0.8937500000000),
  c('ipo', 'ipo', {}, {}, 23.86761113517),
  c('ipo, β = 0.5, JS', 'ipo', { beta: 0.5, fDivergence: 'js_divergence' }, { beta: 0.5, f: { type: 'js_divergence', alpha: 0 } }, 0.8938762926911),
  c('exo_pair', 'exo_pair', {}, { eps: 1e-3 }, 2.576248703126),
  c('exo_pair, ε = 0.01', 'exo_pair', { labelSmoothing: 0.01 }, { eps: 0.01 }, 1.495780837145),
  c('nca_pair', 'nca_pair', {}, {}, 1.362454020431),
  c('robust, ε = 0.2', 'robust', { labelSmoothing: 0.2 }, { eps: 0.2 }, 0.6076090972482),
  c('bco_pair', 'bco_pair', {}, {}, 1.334432710687),
  c('sppo_hard', 'sppo_hard', {}, {}, 44.15812500000),
  c('aot', 'aot', {}, {}, 0.6411356169445),
  c('aot, ε = 0.1', 'aot', { labelSmoothing: 0.1 }, { eps: 0.1 }, 0.6530106169445),
  c('aot_unpaired', 'aot_unpaired', {}, {}, 0.6369755936020),
  c('apo_zero', 'apo_zero', {}, {}, 0.9706152308024),
  c('apo_down', 'apo_down', {}, {}, 0.9850187170567),
  c('discopop', 'discopop', {}, {}, 0.7481452661897),
  c('discopop, τ = 0.5', 'discopop', { tau: 0.5 }, { tau: 0.5 }, 0.7853046338025),
  c('sigmoid_norm', 'sigmoid_norm', {}, {}, 0.6871421327931),
  c('sft', 'sft', {}, {}, 2.363888888889),
  c('simpo (β = 2, γ = 0.5)', 'simpo', {}, { beta: 2, gamma: 0.5 }, 0.9987014035841),
  c('simpo, γ = 0.3, ε = 0.1', 'simpo', { gamma: 0.3, labelSmoothing: 0.1 }, { beta: 2, gamma: 0.3, eps: 0.1 }, 0.8482265198320),
  c('simpo, hinge', 'simpo', { simpoHinge: true }, { beta: 2, gamma: 0.5, simpoHinge: true }, 1.510509833304),
  c('cpo', 'cpo', {}, {}, 2.950438914375),
  c('cpo, α = 0.5, ε = 0.05', 'cpo', { alpha: 0.5, labelSmoothing: 0.05 }, { alpha: 0.5, eps: 0.05 }, 1.780994469930),
  c('orpo', 'orpo', {}, {}, 2.434116228249),
  c('orpo, β = 0.2', 'orpo', { beta: 0.2 }, { beta: 0.2 }, 2.504343567610),
  c('sigmoid, LD-DPO α = 0.5', 'sigmoid', { ldAlpha: 0.5 }, { ldAlpha: 0.5 }, 0.6475697007372, 'tokens'),
  c('ipo, LD-DPO α = 0.3', 'ipo', { ldAlpha: 0.3 }, { ldAlpha: 0.3 }, 22.26965737037, 'tokens'),
  c('sigmoid, LD-DPO reference-free', 'sigmoid', { ldAlpha: 0.5, referenceFree: true }, { ldAlpha: 0.5, referenceFree: true }, 0.5936254779217, 'tokens'),
  c('sigmoid, WPO', 'sigmoid', { useWeighting: true }, { wpo: [] }, 0.3652692863153, 'tokens'),
  c('bco_pair, WPO + LD-DPO', 'bco_pair', { useWeighting: true, ldAlpha: 0.7 }, { wpo: [], ldAlpha: 0.7 }, 0.7604908086161, 'tokens'),
  c('sigmoid on the token fixture', 'sigmoid', {}, {}, 0.6428340335649, 'tokens'),
];

/** The reference configuration of a case: its WPO weights, if any, frozen at the committed inputs. */
function refConfig(k: Case): ScalarConfig {
  const base = { ...DEFAULTS, ...k.ref };
  if (k.ref.wpo) base.wpo = wpoWeightsRef(TOKEN_PAIRS.tokens!);
  return base;
}

describe('conformance with the scalar float64 reference', () => {
  test.each(CASES)('$label', (k) => {
    const data = k.data === 'sequence' ? SEQUENCE_PAIRS : TOKEN_PAIRS;
    const fields = pairFields(data);
    const cfg = refConfig(k);
    const reference = (flat: number[]) => {
      let offset = 0;
      const perturbed = fields.map((f) => {
        const values = flat.slice(offset, offset + f.values.length);
        offset += f.values.length;
        return { ...f, values };
      });
      return scalarLoss(k.name, scalarPairFrom(perturbed), cfg);
    };
    const flat = fields.flatMap((f) => f.values);
    const expectedValue = reference(flat);
    // The committed table agrees with the reference...
    expect(expectedValue).toBeCloseTo(k.expected, 9);

    const inputs = fieldTensors(fields).map((t) => t.requireGrad());
    const term = preferenceLoss(k.name, k.config)(pairLogpsFrom(fields, inputs));
    // ...and the implementation agrees with both.
    expect(term.loss.shape).toEqual([]);
    expect(Math.abs(term.loss.item() - expectedValue)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expectedValue)));

    const grads = gradients(term.loss, inputs, undefined, { allowUnused: true }).flatMap((g) => g.toFlat());
    const expectedGrads = richardsonGradient(reference, flat);
    let offset = 0;
    for (const f of fields) {
      for (let i = 0; i < f.values.length; i++, offset++) {
        const [got, want] = [grads[offset], expectedGrads[offset]];
        if (!(Math.abs(got - want) <= 1e-8 + 1e-6 * Math.abs(want))) {
          throw new Error(`${k.label}: ∂loss/∂${f.path}[${i}] = ${got}, reference ${want}`);
        }
      }
    }
  });

  test('kto', () => {
    const x = UNPAIRED;
    const z0 = ktoZ0Ref(x);
    const expected = scalarKto(x, 0.1, 1, 1, z0);
    expect(expected).toBeCloseTo(0.4812678818328, 9);
    const weightedExpected = scalarKto(x, 0.3, 1.5, 0.7, z0);
    expect(weightedExpected).toBeCloseTo(0.4684016591102, 9);

    for (const [config, want, beta, lD, lU] of [
      [{}, expected, 0.1, 1, 1],
      [{ beta: 0.3, desirableWeight: 1.5, undesirableWeight: 0.7 }, weightedExpected, 0.3, 1.5, 0.7],
    ] as const) {
      const input = toUnpairedLogps(x);
      const policy = input.policy.requireGrad();
      const ref = input.ref.requireGrad();
      const term = kto(config)({ ...input, policy, ref });
      expect(Math.abs(term.loss.item() - want)).toBeLessThanOrEqual(1e-12);
      expect((term.metrics.kl as Tensor).item()).toBeCloseTo(z0, 12);
      const [gp, gr] = gradients(term.loss, [policy, ref]);
      const refGrad = (which: 'policy' | 'ref') =>
        richardsonGradient((v) => scalarKto({ ...x, [which]: v }, beta, lD, lU, z0), x[which]);
      const check = (got: number[], want: number[]) =>
        got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThanOrEqual(1e-8 + 1e-6 * Math.abs(want[i])));
      check(gp.toFlat(), refGrad('policy'));
      check(gr.toFlat(), refGrad('ref'));
    }
  });
});
