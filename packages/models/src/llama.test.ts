import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, Tensor, functionalCall, gradcheck, indices, mul } from '@ganpo/autograd';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, loadPretrained } from './checkpoint.js';
import { generate } from './generate.js';
import { CausalLM } from './model.js';
import { type TinyLlamaSpec, referenceForward, tinyLlamaWeights, writeTinyLlama } from './testing/llamaReference.js';

// Tiny random checkpoints in Hugging Face's layouts, checked against an independent float64 transcription of
// the forward pass (plain loops over the named tensors): latents and logits to 1e-4 in float32 (1e-10 in
// float64), for Llama with grouped-query attention (tied and untied, single file and sharded) and Qwen2 (q/k/v
// biases, BF16 weights). Then the model's own properties: whole-model gradcheck, cached = uncached generation.

const root = mkdtempSync(join(tmpdir(), 'ganpo-llama-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const llama: TinyLlamaSpec = {
  modelType: 'llama', vocab: 13, hidden: 8, intermediate: 12, layers: 2, heads: 4, kvHeads: 2,
  maxPositions: 32, ropeTheta: 500, eps: 1e-6, tied: false, bias: false,
};
const qwen2: TinyLlamaSpec = { ...llama, modelType: 'qwen2', tied: true, bias: true, kvHeads: 1, ropeTheta: 10000 };

const sequences = [[1, 5, 7, 3, 12, 0, 4], [2, 2, 9], [11]];

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function checkAgainstReference(spec: TinyLlamaSpec, dir: string, dtype: 'float32' | 'float64', tol: number) {
  const weights = tinyLlamaWeights(spec, 3);
  const loaded = loadPretrained(dir, { dtype });
  expect(loaded.format).toBe('hf');
  expect(loaded.model.training).toBe(false);
  expect(loaded.model.config.hfModelType).toBe(spec.modelType);
  // A right-padded batch of all sequences at once: each row matches its own unpadded reference.
  const T = Math.max(...sequences.map((s) => s.length));
  const ids = sequences.flatMap((s) => [...s, ...Array(T - s.length).fill(0)]);
  const mask = sequences.flatMap((s) => [...Array(s.length).fill(1), ...Array(T - s.length).fill(0)]);
  const out = loaded.model.forward(indices(ids, [sequences.length, T]), mask);
  const logits = out.logits.toFlat();
  const latents = out.latents.toFlat();
  sequences.forEach((s, r) => {
    const ref = referenceForward(spec, weights, s);
    for (let t = 0; t < s.length; t++) {
      const off = (r * T + t);
      expect(maxDiff(logits.slice(off * spec.vocab, (off + 1) * spec.vocab), ref.logits[t])).toBeLessThan(tol);
      expect(maxDiff(latents.slice(off * spec.hidden, (off + 1) * spec.hidden), ref.latents[t])).toBeLessThan(tol);
    }
  });
}

describe('Llama family from Hugging Face directories, against a float64 transcription', () => {
  it('Llama with GQA and a separate head, one file: 1e-4 in float32, 1e-10 in float64', () => {
    const dir = join(root, 'llama');
    writeTinyLlama(dir, llama, tinyLlamaWeights(llama, 3));
    checkAgainstReference(llama, dir, 'float32', 1e-4);
    checkAgainstReference(llama, dir, 'float64', 1e-10);
  });
  it('Llama with a tied head, sharded over three files (model.safetensors.index.json), F16', () => {
    const spec = { ...llama, tied: true };
    const dir = join(root, 'llama-sharded');
    writeTinyLlama(dir, spec, tinyLlamaWeights(spec, 3), { shards: 3, dtype: 'F16' });
    checkAgainstReference(spec, dir, 'float32', 1e-4);
  });
  it('Qwen2 with q/k/v biases, one kv head, a tied head and BF16 weights', () => {
    const dir = join(root, 'qwen2');
    writeTinyLlama(dir, qwen2, tinyLlamaWeights(qwen2, 3), { dtype: 'BF16' });
    checkAgainstReference(qwen2, dir, 'float32', 1e-4);
  });
  it('Mistral (same math within its sliding window)', () => {
    const spec = { ...llama, modelType: 'mistral' as const };
    const dir = join(root, 'mistral');
    writeTinyLlama(dir, spec, tinyLlamaWeights(spec, 3));
    checkAgainstReference(spec, dir, 'float32', 1e-4);
  });
  it('refuses what it does not compute, naming the field; and missing or misnamed weights', () => {
    const dir = join(root, 'bad');
    writeTinyLlama(dir, llama, tinyLlamaWeights(llama, 3));
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, rope_scaling: { rope_type: 'llama3', factor: 8 }, hidden_act: 'gelu' }));
    expect(() => loadPretrained(dir)).toThrow(/config\.json: hidden_act "gelu" is not supported \(silu\); rope_scaling .* is not supported/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, num_key_value_heads: 3 }));
    expect(() => loadPretrained(dir)).toThrow(/nHeads 4 is not a multiple of nKvHeads 3/);
    const w = tinyLlamaWeights(llama, 3);
    w.delete('model.layers.1.mlp.up_proj.weight');
    writeTinyLlama(dir, llama, w);
    expect(() => loadPretrained(dir)).toThrow(CheckpointError);
    expect(() => loadPretrained(dir)).toThrow(/missing parameters for this config: model\.layers\.1\.mlp\.up_proj\.weight/);
  });
});

describe('Llama-family model properties', () => {
  const config = {
    architecture: 'llama' as const, vocabSize: 9, contextLength: 16, dModel: 8, nLayers: 2, nHeads: 4, nKvHeads: 2,
    dropout: 0, dMlp: 12, qkvBias: true, tiedHead: false,
  };
  it('whole-model gradcheck in float64 (every parameter, with padding)', () => {
    const m = new CausalLM(config, { seed: 2, dtype: 'float64' });
    for (const [, p] of m.namedParameters()) p.assign(p.data.map((_, i) => Math.sin(i * 1.7 + p.size) * 0.5));
    const names = m.namedParameters().map(([n]) => n);
    const ids = indices([1, 2, 3, 4, 5, 6], [2, 3]);
    const mask = [1, 1, 1, 1, 1, 0];
    // A fixed irregular projection of the logits (a plain sum would hide errors that cancel across the vocabulary).
    const weights = new Tensor(Float64Array.from({ length: 2 * 3 * 9 }, (_, i) => Math.cos(i * 0.91)), [2, 3, 9], null);
    const f = (...ps: Tensor[]) =>
      functionalCall(m, Object.fromEntries(names.map((n, i) => [n, ps[i]])), () => mul(m.forward(ids, mask).logits, weights).sum());
    expect(gradcheck(f, m.namedParameters().map(([, p]) => p.detach()), { fastMode: true })).toBe(true);
  });
  it('cached and uncached generation agree (property over prompts, temperatures, top-k)', () => {
    const m = new CausalLM(config, { seed: 4 });
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(0, 0.7, 1.3),
        fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        fc.integer({ min: 0, max: 1000 }),
        (prompts, temperature, topK, seed) => {
          const opts = { maxNewTokens: 6, eos: 3, temperature, topK };
          const a = generate(m, prompts, { ...opts, rng: Rng.seeded(seed), useCache: true });
          const b = generate(m, prompts, { ...opts, rng: Rng.seeded(seed), useCache: false });
          expect(a).toEqual(b);
        },
      ),
      { numRuns: 25 },
    );
  });
});
