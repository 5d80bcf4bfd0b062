import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { ConfigError, MODEL_PRESETS, decodeModelConfig, parseModelConfig, presetConfig } from './config.js';

describe('model config codec', () => {
  it('fills defaults and validates every preset', () => {
    for (const name of Object.keys(MODEL_PRESETS) as (keyof typeof MODEL_PRESETS)[]) {
      const c = presetConfig(name);
      expect(c.dMlp).toBe(4 * c.dModel);
      expect(c.layerNormEps).toBe(1e-5);
      expect(c.activation).toBe('gelu_tanh');
    }
    expect(presetConfig('small').vocabSize).toBe(259);
  });

  it('reports every bad field by name, and constraints between fields', () => {
    const r = decodeModelConfig({ vocabSize: 0, contextLength: 8, dModel: 8.5, nLayers: 1, nHeads: 2, dropout: 1 });
    expect(isLeft(r) && r.left).toEqual([
      'vocabSize: expected an integer ≥ 1, got 0',
      'dModel: expected an integer ≥ 1, got 8.5',
      'dropout: expected a number ≥ 0 and < 1, got 1',
    ]);
    const missing = decodeModelConfig({ vocabSize: 3 });
    expect(isLeft(missing) && missing.left.join('\n')).toMatch(/contextLength: missing \(expected an integer ≥ 1\)/);
    expect(() => parseModelConfig({ vocabSize: 3, contextLength: 4, dModel: 6, nLayers: 1, nHeads: 4, dropout: 0 }, 'cfg.json')).toThrow(
      new ConfigError('cfg.json: invalid model config: dModel 6 is not divisible by nHeads 4'),
    );
    expect(isRight(decodeModelConfig({ ...MODEL_PRESETS.tiny, activation: 'gelu', dMlp: 7 }))).toBe(true);
    expect(isLeft(decodeModelConfig({ ...MODEL_PRESETS.tiny, activation: 'swish' }))).toBe(true);
    expect(() => presetConfig('huge' as 'tiny')).toThrow(/unknown model preset 'huge' \(known: tiny, small\)/);
  });
});
