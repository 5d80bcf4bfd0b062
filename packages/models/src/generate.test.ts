import { Rng, indices, noGrad } from '@ganpo/autograd';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argmax, generate, generateWithDetails, sampleToken, samplingDistribution } from './generate.js';
import { CausalLM } from './model.js';

const config = { vocabSize: 13, contextLength: 24, dModel: 16, nLayers: 2, nHeads: 4, dropout: 0.1 };

describe('sampling', () => {
  const logits = [1, 3, 2, 3, -1];

  it('greedy is the arg-max (lowest id on ties) and needs no generator', () => {
    expect(argmax(logits)).toBe(1);
    expect(sampleToken(logits)).toBe(1);
    expect(sampleToken(logits, { temperature: 0, topK: 2 })).toBe(1);
  });

  it('top-k keeps the k most likely, top-p the smallest nucleus reaching p', () => {
    expect(samplingDistribution(logits, { temperature: 1, topK: 2 }).ids).toEqual([1, 3]);
    const full = samplingDistribution(logits, { temperature: 1 });
    expect(full.ids).toEqual([1, 3, 2, 0, 4]);
    expect(full.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // p(1) = p(3) ≈ 0.42 each: the nucleus for 0.5 is {1, 3}; for 0.3 just {1}.
    expect(samplingDistribution(logits, { temperature: 1, topP: 0.5 }).ids).toEqual([1, 3]);
    expect(samplingDistribution(logits, { temperature: 1, topP: 0.3 }).ids).toEqual([1]);
    const both = samplingDistribution(logits, { temperature: 1, topK: 3, topP: 0.99 });
    expect(both.ids).toEqual([1, 3, 2]);
    expect(both.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // Low temperature sharpens.
    expect(samplingDistribution([0, 1], { temperature: 0.1 }).probs[0]).toBeGreaterThan(0.9999);
  });

  it('samples from the filtered distribution with the seeded generator (frequencies match)', () => {
    const rng = Rng.seeded(7);
    const counts = [0, 0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature: 1, topK: 3 }, rng)]++;
    const { ids, probs } = samplingDistribution(logits, { temperature: 1, topK: 3 });
    ids.forEach((id, i) => expect(Math.abs(counts[id] / n - probs[i])).toBeLessThan(0.015));
    expect(counts[0] + counts[4]).toBe(0);
    // Same seed, same draws.
    const draw = (seed: number) => {
      const r = Rng.seeded(seed);
      return Array.from({ length: 20 }, () => sampleToken(logits, { temperature: 1.5, topP: 0.9 }, r));
    };
    expect(draw(3)).toEqual(draw(3));
  });

  it('rejects bad options', () => {
    expect(() => sampleToken(logits, { temperature: 1 })).toThrow(/needs a seeded generator/);
    expect(() => sampleToken(logits, { temperature: -1 })).toThrow(/temperature -1/);
    expect(() => sampleToken(logits, { topP: 0 })).toThrow(/topP 0 must be in \(0, 1\]/);
    expect(() => sampleToken(logits, { topK: 1.5 })).toThrow(/topK 1.5/);
  });
});

describe('generate', () => {
  const model = new CausalLM(config, { seed: 11 });

  it('cached and uncached generation give the same tokens (greedy and sampled, prompts of different lengths)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(0, 0.7, 1.3),
        fc.nat(1000),
        (prompts, temperature, seed) => {
          const opts = { maxNewTokens: 6, temperature, topK: temperature > 1 ? 6 : undefined, topP: temperature > 1 ? 0.9 : undefined, eos: 12 };
          const cached = generateWithDetails(model, prompts, { ...opts, rng: Rng.seeded(seed), useCache: true });
          const uncached = generateWithDetails(model, prompts, { ...opts, rng: Rng.seeded(seed), useCache: false });
          expect(cached).toEqual(uncached);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('a batched row generates what it generates alone (left padding is invisible)', () => {
    const prompts = [[1, 2, 3, 4, 5], [6], [7, 8]];
    const batched = generate(model, prompts, { maxNewTokens: 8 });
    prompts.forEach((p, i) => expect(generate(model, [p], { maxNewTokens: 8 })[0]).toEqual(batched[i]));
  });

  it('greedy generation continues with the arg-max of the full forward pass', () => {
    const prompt = [3, 1, 4, 1, 5];
    const [tokens] = generate(model, [prompt], { maxNewTokens: 4 });
    const seq = [...prompt];
    model.eval();
    for (let i = 0; i < 4; i++) {
      const { logits } = noGrad(() => model.forward(indices(seq, [1, seq.length])));
      seq.push(argmax(logits.data.subarray((seq.length - 1) * 13)));
    }
    model.train();
    expect(tokens).toEqual(seq.slice(prompt.length));
  });

  it('stops each row at EOS (not included) or maxNewTokens, and at the context length', () => {
    // Find what greedy produces, then declare its second token the EOS.
    const [free] = generate(model, [[2, 3]], { maxNewTokens: 5 });
    const eos = free[1];
    const stopAt = free.indexOf(eos);
    const g = generateWithDetails(model, [[2, 3], [2, 3]], { maxNewTokens: 5, eos });
    expect(g.tokens[0]).toEqual(free.slice(0, stopAt));
    expect(g.stopReasons).toEqual(['eos', 'eos']);
    const long = generateWithDetails(model, [new Array(22).fill(1)], { maxNewTokens: 10 });
    expect(long.tokens[0].length).toBe(2);
    expect(long.stopReasons[0]).toBe('context');
    expect(generateWithDetails(model, [[1]], { maxNewTokens: 3 }).stopReasons[0]).toBe('length');
    expect(generate(model, [[1]], { maxNewTokens: 0 })).toEqual([[]]);
  });

  it('leaves the model in training mode, with dropout off while generating', () => {
    expect(model.training).toBe(true);
    const a = generate(model, [[1, 2]], { maxNewTokens: 5 });
    expect(generate(model, [[1, 2]], { maxNewTokens: 5 })).toEqual(a);
    expect(model.training).toBe(true);
  });

  it('rejects empty prompts, out-of-vocabulary tokens and sampling without a generator', () => {
    expect(() => generate(model, [[]], { maxNewTokens: 2 })).toThrow(/prompt 0 is empty/);
    expect(() => generate(model, [[1, 13]], { maxNewTokens: 2 })).toThrow(/token 13 outside \[0, 13\)/);
    expect(() => generate(model, [[1]], { maxNewTokens: 2, temperature: 1 })).toThrow(/needs a seeded generator/);
    expect(() => generate(model, [new Array(25).fill(1)], { maxNewTokens: 2 })).toThrow(/over the context length 24/);
  });

  it('a cached step costs one position per row: the cache grows by one per token', () => {
    model.eval();
    const first = noGrad(() => model.forward(indices([1, 2, 3], [1, 3]), null, { useCache: true }));
    expect(first.cache!.length).toBe(3);
    const next = noGrad(() => model.forward(indices([4], [1, 1]), null, { useCache: true, past: first.cache }));
    expect(next.logits.shape).toEqual([1, 1, 13]);
    expect(next.cache!.length).toBe(4);
    expect(next.cache!.layers[0].k.shape).toEqual([1, 4, 4, 4]);
    const full = noGrad(() => model.forward(indices([1, 2, 3, 4], [1, 4])));
    expect(Array.from(next.logits.data)).toEqual(Array.from(full.logits.data.subarray(3 * 13)));
    model.train();
  });
});
