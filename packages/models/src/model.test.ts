import { Rng, type Tensor, concat, functionalCall, gradcheck, indices, noGrad, reshape, sum } from '@ganpo/autograd';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { presetConfig } from './config.js';
import { CausalLM, cloneModel, freezeReference, positionsFromMask } from './model.js';

const tinyConfig = { vocabSize: 11, contextLength: 12, dModel: 8, nLayers: 2, nHeads: 2, dropout: 0 };

function randomIds(rng: Rng, n: number, vocab: number): number[] {
  return Array.from({ length: n }, () => rng.int(0, vocab - 1));
}

/** |a − b| ≤ tol·(1 + |b|) elementwise. */
function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe('CausalLM', () => {
  it('names its parameters like GPT-2 and ties the LM head to the token embedding', () => {
    const m = new CausalLM(tinyConfig, { seed: 1 });
    const names = m.namedParameters().map(([n]) => n);
    expect(names).toEqual([
      'wte.weight', 'wpe.weight',
      ...[0, 1].flatMap((i) => [
        `h.${i}.ln_1.weight`, `h.${i}.ln_1.bias`, `h.${i}.attn.c_attn.weight`, `h.${i}.attn.c_attn.bias`,
        `h.${i}.attn.c_proj.weight`, `h.${i}.attn.c_proj.bias`, `h.${i}.ln_2.weight`, `h.${i}.ln_2.bias`,
        `h.${i}.mlp.c_fc.weight`, `h.${i}.mlp.c_fc.bias`, `h.${i}.mlp.c_proj.weight`, `h.${i}.mlp.c_proj.bias`,
      ]),
      'ln_f.weight', 'ln_f.bias',
    ]);
    expect(m.h!.at(0).attn.c_attn.weight.shape).toEqual([8, 24]);
    expect(m.h!.at(0).mlp.c_fc.weight.shape).toEqual([8, 32]);
    // Tied head: the gradient of a logit reaches wte through the head too.
    const { logits } = m.forward(indices([1, 2, 3], [1, 3]));
    expect(logits.shape).toEqual([1, 3, 11]);
    m.zeroGrad();
    sum(logits).backward();
    expect(m.wte!.weight.grad).not.toBeNull();
    expect(m.wte!.weight.grad!.toFlat().filter((v) => v !== 0).length).toBeGreaterThan(3 * 8);
  });

  it('returns latents (after ln_f) from the same pass as the logits, and every hidden state on request', () => {
    const m = new CausalLM(tinyConfig, { seed: 2 });
    const out = m.forward(indices([1, 2, 3, 4, 5, 6], [2, 3]), null, { outputHiddenStates: true });
    expect(out.latents.shape).toEqual([2, 3, 8]);
    expect(out.hiddenStates!.length).toBe(3);
    const last = out.hiddenStates![2];
    expectClose(m.ln_f!.forward(last).data, out.latents.data, 0);
    // logits = latents · wteᵀ
    const w = m.wte!.weight.data;
    const z = out.latents.data;
    const expected = new Float64Array(2 * 3 * 11);
    for (let p = 0; p < 6; p++) for (let v = 0; v < 11; v++) for (let k = 0; k < 8; k++) expected[p * 11 + v] += z[p * 8 + k] * w[v * 8 + k];
    expectClose(out.logits.data, expected, 1e-6);
    // Latents carry gradient to the parameters.
    expect(out.latents.requiresGrad).toBe(true);
  });

  it('the same seed gives the same weights; presets are valid configs', () => {
    const a = new CausalLM(tinyConfig, { seed: 5 });
    const b = new CausalLM(tinyConfig, { rng: Rng.seeded(5) });
    expect(a.h!.at(1).mlp.c_proj.weight.toFlat()).toEqual(b.h!.at(1).mlp.c_proj.weight.toFlat());
    expect(new CausalLM(presetConfig('tiny')).config.dMlp).toBe(64);
    expect(presetConfig('small', { vocabSize: 300 }).vocabSize).toBe(300);
  });

  it('gradients of the whole model pass gradcheck (fast mode, float64), padding and all', () => {
    const m = new CausalLM({ vocabSize: 7, contextLength: 6, dModel: 4, nLayers: 2, nHeads: 2, dropout: 0 }, { seed: 3, dtype: 'float64' });
    const named = m.namedParameters();
    const ids = indices([1, 2, 3, 4, 5, 6, 0, 3, 2, 1, 4, 5], [2, 6]);
    const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
    const f = (...params: Tensor[]) =>
      functionalCall(m, Object.fromEntries(named.map(([n], i) => [n, params[i]])), () => {
        const { logits, latents } = m.forward(ids, mask);
        return concat([reshape(logits, [-1]), reshape(latents, [-1])], 0);
      });
    expect(gradcheck(f, named.map(([, p]) => p), { fastMode: true })).toBe(true);
  });

  it('causality: changing token t never changes the logits or latents before t', () => {
    const m = new CausalLM(tinyConfig, { seed: 4 });
    m.eval();
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.nat(), fc.integer({ min: 1, max: 10 }), fc.nat(1000), (T, tRaw, delta, seed) => {
        const rng = Rng.seeded(seed);
        const ids = randomIds(rng, T, 11);
        const t = tRaw % T;
        const changed = ids.slice();
        changed[t] = (changed[t] + delta) % 11;
        const a = noGrad(() => m.forward(indices(ids, [1, T])));
        const b = noGrad(() => m.forward(indices(changed, [1, T])));
        expect(Array.from(b.logits.data.subarray(0, t * 11))).toEqual(Array.from(a.logits.data.subarray(0, t * 11)));
        expect(Array.from(b.latents.data.subarray(0, t * 8))).toEqual(Array.from(a.latents.data.subarray(0, t * 8)));
        if (delta % 11 !== 0) expect(Array.from(b.logits.data.subarray(t * 11))).not.toEqual(Array.from(a.logits.data.subarray(t * 11)));
      }),
      { numRuns: 40 },
    );
  });

  it('masking: right padding never changes the logits or latents of real tokens', () => {
    const m = new CausalLM(tinyConfig, { seed: 6 });
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.nat(1000),
        (lengths, extra, seed) => {
          const rng = Rng.seeded(seed);
          const T = Math.min(Math.max(...lengths) + extra, 12);
          const rows = lengths.map((L) => randomIds(rng, L, 11));
          // Padding ids are arbitrary (even out of vocabulary): they must not matter.
          const ids = rows.flatMap((r) => [...r, ...Array.from({ length: T - r.length }, () => rng.int(-1, 10))]);
          const mask = rows.flatMap((r) => [...r.map(() => 1), ...Array.from({ length: T - r.length }, () => 0)]);
          const batched = noGrad(() => m.forward(indices(ids, [rows.length, T]), mask));
          rows.forEach((r, i) => {
            const alone = noGrad(() => m.forward(indices(r, [1, r.length])));
            expectClose(batched.logits.data.subarray(i * T * 11, (i * T + r.length) * 11), alone.logits.data);
            expectClose(batched.latents.data.subarray(i * T * 8, (i * T + r.length) * 8), alone.latents.data);
          });
        },
      ),
      { numRuns: 30 },
    );
  });

  it('left padding with positions from the mask gives the same outputs as no padding', () => {
    const m = new CausalLM(tinyConfig, { seed: 7 });
    const a = noGrad(() => m.forward(indices([3, 4, 5], [1, 3])));
    const b = noGrad(() => m.forward(indices([0, 0, 3, 4, 5], [1, 5]), [0, 0, 1, 1, 1]));
    expectClose(b.logits.data.subarray(2 * 11), a.logits.data);
    expect(Array.from(positionsFromMask([0, 0, 1, 1, 1, 1, 1, 0], 2, 4))).toEqual([0, 0, 0, 1, 0, 1, 2, 2]);
  });

  it('rejects token ids outside the vocabulary and sequences beyond the context length', () => {
    const m = new CausalLM(tinyConfig, { seed: 8 });
    expect(() => m.forward(indices([1, 11], [1, 2]))).toThrow(/token id 11 .* outside the vocabulary \[0, 11\)/);
    expect(() => m.forward(indices(new Array(13).fill(1), [1, 13]))).toThrow(/position 12 .* outside the context length 12/);
    expect(() => m.forward({ ids: Int32Array.from([1, 2]), rows: 1, seqLen: 3 })).toThrow(/ids has 2 entries, expected rows·seqLen = 1·3 = 3/);
    expect(() => new CausalLM({ ...tinyConfig, nHeads: 3 })).toThrow(/dModel 8 is not divisible by nHeads 3/);
  });

  it('dropout draws from the model generator in training mode only', () => {
    const m = new CausalLM({ ...tinyConfig, dropout: 0.3 }, { seed: 9 });
    const ids = indices([1, 2, 3, 4], [1, 4]);
    const state = m.dropoutRng.state();
    const a = m.forward(ids).logits.toFlat();
    const b = m.forward(ids).logits.toFlat();
    expect(a).not.toEqual(b);
    m.dropoutRng = Rng.fromState(state);
    expect(m.forward(ids).logits.toFlat()).toEqual(a);
    m.eval();
    expect(m.forward(ids).logits.toFlat()).toEqual(m.forward(ids).logits.toFlat());
  });
});

describe('reference model', () => {
  it('freezeReference gives an independent copy with no parameter gradients, in eval mode', () => {
    const policy = new CausalLM({ ...tinyConfig, dropout: 0.1 }, { seed: 10 });
    const ref = freezeReference(policy);
    expect(ref.training).toBe(false);
    expect(ref.parameters().every((p) => !p.requiresGrad)).toBe(true);
    expect(policy.parameters().every((p) => p.requiresGrad)).toBe(true);
    const ids = indices([1, 2, 3], [1, 3]);
    policy.eval();
    const before = policy.forward(ids).logits.toFlat();
    const out = ref.forward(ids);
    expect(out.logits.requiresGrad).toBe(false);
    expect(out.logits.toFlat()).toEqual(before);
    // Changing the policy leaves the reference as it was.
    policy.wte!.weight.assign(policy.wte!.weight.data.map((v) => v + 1));
    expect(ref.forward(ids).logits.toFlat()).toEqual(before);
    const copy = cloneModel(policy);
    expect(copy.wte!.weight.toFlat()).toEqual(policy.wte!.weight.toFlat());
    expect(copy.wte!.weight.data).not.toBe(policy.wte!.weight.data);
  });
});
