import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from './config.js';
import { countParameters, estimateTrainingMemory } from './memory.js';
import { CausalLM } from './model.js';

// Property: the parameter count computed from a configuration equals the built model's, for both
// architectures, with and without LoRA; the memory estimate adds up and drops the reference copy with LoRA.

describe('parameter counts and the training-memory estimate', () => {
  it('count = the built model’s parameterCount (GPT-2 and Llama family, with and without LoRA)', () => {
    fc.assert(
      fc.property(
        fc.record({
          llama: fc.boolean(), heads: fc.integer({ min: 1, max: 3 }), groups: fc.integer({ min: 1, max: 2 }), layers: fc.integer({ min: 0, max: 2 }),
          vocab: fc.integer({ min: 2, max: 9 }), mlp: fc.integer({ min: 1, max: 9 }), tied: fc.boolean(), bias: fc.boolean(), lora: fc.integer({ min: 0, max: 3 }),
        }),
        (o) => {
          const dh = 2;
          const heads = o.heads * o.groups;
          const base = { vocabSize: o.vocab, contextLength: 5, dModel: heads * dh, nLayers: o.layers, nHeads: heads, dropout: 0, dMlp: o.mlp };
          const lora = o.lora > 0 ? { r: o.lora, alpha: 2, dropout: 0, targets: o.llama ? ['q_proj', 'v_proj', 'down_proj'] : ['c_attn', 'c_proj'] } : null;
          const config = parseModelConfig(
            o.llama ? { ...base, architecture: 'llama', nKvHeads: o.heads, tiedHead: o.tied, qkvBias: o.bias, lora } : { ...base, lora },
          );
          if (lora && o.layers === 0) return; // no layer to adapt
          const built = new CausalLM(config);
          const counted = countParameters(config);
          expect(counted.total).toBe(built.parameterCount());
          expect(counted.adapters).toBe(built.namedParameters().filter(([n]) => n.includes('lora_')).reduce((n, [, p]) => n + p.size, 0));
        },
      ),
      { numRuns: 60 },
    );
  });
  it('SmolLM2-135M’s shape has its published 134,515,008 parameters', () => {
    const smol = parseModelConfig({ architecture: 'llama', vocabSize: 49152, contextLength: 8192, dModel: 576, nLayers: 30, nHeads: 9, nKvHeads: 3, dMlp: 1536, dropout: 0, tiedHead: true });
    expect(countParameters(smol).total).toBe(134515008);
  });
  it('the estimate adds up; LoRA keeps no reference copy and trains only adapters', () => {
    const full = parseModelConfig({ architecture: 'llama', vocabSize: 100, contextLength: 64, dModel: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 32, dropout: 0 });
    const withLora = parseModelConfig({ ...full, lora: { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj'] } });
    const a = estimateTrainingMemory(full, { pairs: 2, seqLen: 8 });
    const b = estimateTrainingMemory(withLora, { pairs: 2, seqLen: 8 });
    expect(a.total).toBe(a.policy + a.reference + a.gradients + a.optimizer + a.activations);
    expect(a.reference).toBe(a.policy);
    expect(b.reference).toBe(0);
    expect(b.trainable).toBe(2 * (4 * (16 + 16) + 4 * (16 + 8)));
    expect(b.optimizer).toBe(2 * 4 * b.trainable);
  });
});
