import { byteTokenizer, embeddedTask } from '@ganpo/datasets';
import { CausalLM, presetConfig } from '@ganpo/models';
import { preferenceObjective } from '@ganpo/objectives';
import { describe, expect, it } from 'vitest';
import { evaluateSet, flatMetrics, type SetEval, temperatureCurve } from './robustness.js';

const tokenizer = byteTokenizer();
const model = (seed: number) => new CausalLM(presetConfig('tiny', { vocabSize: tokenizer.vocabSize, contextLength: 64 }), { seed });
const task = embeddedTask({ seed: 0, nSft: 0, nTrain: 0, nEval: 6, nHeldOut: 6 });
const set = { name: 'held-out', instances: task.heldOut, pairs: task.evalPairs };
const options = {
  temperatures: [0, 1.5],
  maxNewTokens: 6,
  seed: 3,
  objective: preferenceObjective([{ loss: 'sigmoid', beta: 0.1 }], { available: { reference: true, tokens: true, tokenReference: true, logSumSquaredProbs: true } }),
  beta: 0.1,
  maxLength: 64,
};

describe('robustness evaluation', () => {
  it('a policy evaluated against itself has no drift, no KL and no preference margin', () => {
    const m = model(1);
    const e = evaluateSet(m, m, set, tokenizer, options);
    expect(e.drift!.tokenKl).toBeCloseTo(0, 6);
    expect(e.drift!.latentDrift).toBe(0);
    // Δc = Δr = 0 for every pair: never strictly more, so accuracy 0 and margin 0.
    expect(e.preference!.accuracy).toBe(0);
    expect(e.preference!.margin).toBe(0);
    expect(e.sampling.map((p) => p.temperature)).toEqual([0, 1.5]);
  });

  it('another model drifts; the temperature curve is seeded (same seed, same samples) and bounded', () => {
    const e = evaluateSet(model(1), model(2), set, tokenizer, options);
    expect(e.drift!.tokenKl).toBeGreaterThan(0);
    expect(e.drift!.latentDrift).toBeGreaterThan(0);
    const a = temperatureCurve(model(1), task.heldOut, tokenizer, options);
    expect(temperatureCurve(model(1), task.heldOut, tokenizer, options)).toEqual(a);
    for (const p of a) {
      expect(p.reward).toBeGreaterThanOrEqual(0);
      expect(p.reward).toBeLessThanOrEqual(1);
      expect(p.formatCompliance).toBeGreaterThanOrEqual(0);
      expect(p.formatCompliance).toBeLessThanOrEqual(1);
    }
  });

  it('flat metric names, with a prefix for the shifted split', () => {
    const e: SetEval = {
      name: 'shifted',
      prompts: 3,
      sampling: [{ temperature: 0.7, reward: 0.25, formatCompliance: 1 / 3, meanLength: 12 }],
      preference: { pairs: 4, accuracy: 0.75, margin: 0.1, chosenReward: 0, rejectedReward: -0.1, loss: 0.6, policyLogpAccuracy: 0.5, referenceLogpAccuracy: 0.5 },
      drift: { tokenKl: 0.02, latentDrift: 0.3, relativeLatentDrift: 0.01 },
    };
    expect(flatMetrics(e, 'shifted/')).toEqual({
      'shifted/reward@0.7': 0.25,
      'shifted/compliance@0.7': 1 / 3,
      'shifted/length@0.7': 12,
      'shifted/accuracy': 0.75,
      'shifted/tokenKl': 0.02,
      'shifted/latentDrift': 0.3,
    });
  });
});
