import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, Rng, indices } from '@ganpo/autograd';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPretrained } from './checkpoint.js';
import { exportHuggingFace } from './hfExport.js';
import { loraLayers } from './lora.js';
import { CausalLM, freezeReference } from './model.js';
import { loadPeftAdapter, savePeftAdapter } from './peft.js';
import { decodeSafetensors, floatToBfloat16 } from './safetensors.js';

// Properties: export → reload gives back every parameter bit for bit (F32), or each value rounded to the
// stored precision (BF16/F16), with HF's config fields and {"format": "pt"}; LoRA trains only its adapters, its
// reference is the base function, merging on export keeps the adapted function; PEFT adapters round-trip.

const root = mkdtempSync(join(tmpdir(), 'ganpo-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const llamaConfig = { architecture: 'llama' as const, vocabSize: 11, contextLength: 16, dModel: 8, nLayers: 2, nHeads: 4, nKvHeads: 2, dropout: 0, dMlp: 12, ropeTheta: 1000 };
const gpt2Config = { vocabSize: 11, contextLength: 16, dModel: 8, nLayers: 2, nHeads: 2, dropout: 0 };
/** A tokenizer as the contract states it: special ids and saveHfFiles (the datasets package tests the real files). */
const fakeTok = { bos: 1, eos: 2, pad: 0, saveHfFiles: (dir: string) => writeFileSync(join(dir, 'tokenizer.json'), '{"marker": true}') };

function params(m: CausalLM): Record<string, number[]> {
  return Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.data)]));
}

describe('export to Hugging Face and back', () => {
  const cases: [string, object][] = [
    ['Llama, untied head', { ...llamaConfig, tiedHead: false }],
    ['Llama, tied head', llamaConfig],
    ['Qwen2 (q/k/v biases)', { ...llamaConfig, hfModelType: 'qwen2', qkvBias: true }],
    ['GPT-2', gpt2Config],
  ];
  for (const [name, config] of cases) {
    it(`${name}: F32 round trip is bit-exact, config and metadata are HF's`, () => {
      const model = new CausalLM(config as never, { seed: 5 });
      const out = join(root, name.replace(/\W+/g, '-'));
      const r = exportHuggingFace(model, out, { tokenizer: fakeTok });
      expect(r.tokenizerNote).toBeUndefined();
      expect(r.files).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json']);
      expect(readdirSync(out).sort()).toEqual(r.files);
      expect(JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8'))).toEqual({ marker: true });
      const hf = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(hf.torch_dtype).toBe('float32');
      expect(hf.eos_token_id).toBe(2);
      expect(typeof hf.model_type).toBe('string');
      expect(hf.architectures).toHaveLength(1);
      expect(JSON.stringify(hf)).not.toMatch(/"dModel"|"vocabSize"|"format"/);
      const st = decodeSafetensors(readFileSync(join(out, 'model.safetensors')));
      expect(st.metadata).toEqual({ format: 'pt' });
      const back = loadPretrained(out);
      expect(back.model.config.architecture).toBe(model.config.architecture);
      expect(params(back.model)).toEqual(params(model));
    });
  }
  it('BF16 and F16: each value is the nearest representable one; the config says so', () => {
    const model = new CausalLM({ ...llamaConfig, tiedHead: false }, { seed: 6 });
    const out = join(root, 'bf16');
    exportHuggingFace(model, out, { dtype: 'bf16' });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    const back = loadPretrained(out).model.stateDict();
    for (const [k, t] of Object.entries(model.stateDict())) {
      const expected = Array.from(t.data, (v) => new Float32Array(new Uint32Array([floatToBfloat16(v) << 16]).buffer)[0]);
      expect(Array.from(back[k].data)).toEqual(expected);
    }
    exportHuggingFace(model, join(root, 'f16'), { dtype: 'f16' });
    const st = decodeSafetensors(readFileSync(join(root, 'f16', 'model.safetensors')));
    expect(Object.values(st.tensors).every((t) => t.dtype === 'F16')).toBe(true);
  });
  it('refuses to write into a non-empty directory unless asked to replace it', () => {
    const model = new CausalLM(gpt2Config, { seed: 1 });
    const out = join(root, 'twice');
    expect(exportHuggingFace(model, out).tokenizerNote).toMatch(/no tokenizer was given/);
    expect(() => exportHuggingFace(model, out)).toThrow(/exists and is not empty/);
    exportHuggingFace(model, out, { overwrite: true });
  });
});

describe('LoRA', () => {
  const lora = { r: 2, alpha: 4, dropout: 0, targets: ['q_proj', 'v_proj'] };
  const batch = { ids: Int32Array.from([1, 4, 5, 6, 2, 3, 7, 8]), attentionMask: new Float32Array(8).fill(1), lossMask: Float32Array.from([0, 1, 1, 1, 0, 1, 1, 1]), rows: 2, seqLen: 4 };

  function trained(): CausalLM {
    const model = new CausalLM({ ...llamaConfig, lora }, { seed: 3 });
    const opt = new AdamW(model.namedParameters().filter(([, p]) => p.requiresGrad), { lr: 0.05 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      model.forward(batch).logits.square().mean().backward();
      opt.step();
    }
    return model;
  }

  it('starts equal to the base, trains only the adapters, and the reference view is the base function', () => {
    const base = new CausalLM(llamaConfig, { seed: 3 });
    const model = new CausalLM({ ...llamaConfig, lora }, { seed: 3 });
    model.loadStateDict({ ...model.stateDict(), ...base.stateDict() });
    const trainable = model.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
    expect(trainable).toEqual(['model.layers.0.self_attn.q_proj.lora_A.weight', 'model.layers.0.self_attn.q_proj.lora_B.weight', 'model.layers.0.self_attn.v_proj.lora_A.weight', 'model.layers.0.self_attn.v_proj.lora_B.weight', 'model.layers.1.self_attn.q_proj.lora_A.weight', 'model.layers.1.self_attn.q_proj.lora_B.weight', 'model.layers.1.self_attn.v_proj.lora_A.weight', 'model.layers.1.self_attn.v_proj.lora_B.weight']);
    expect(model.forward(batch).logits.toFlat()).toEqual(base.forward(batch).logits.toFlat());
    // The reference, taken before training: no copy of the weights (a view of the same model).
    const ref = freezeReference(model);
    expect(Object.getPrototypeOf(ref)).toBe(model);
    const before = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, Array.from(t.data)]));
    const opt = new AdamW(model.namedParameters().filter(([, p]) => p.requiresGrad), { lr: 0.05 });
    opt.zeroGrad();
    model.forward(batch).logits.square().mean().backward();
    opt.step();
    for (const [k, t] of Object.entries(model.stateDict())) {
      if (!k.includes('lora_')) expect(Array.from(t.data)).toEqual(before[k]);
    }
    expect(model.forward(batch).logits.toFlat()).not.toEqual(base.forward(batch).logits.toFlat());
    // After training the adapters, the reference still computes the base function.
    const refLogits = ref.forward(batch).logits.toFlat();
    const baseLogits = base.forward(batch).logits.toFlat();
    expect(refLogits).toEqual(baseLogits);
    expect(model.training).toBe(true);
  });
  it('after training: freezeReference folds the update in (policy function unchanged) and restarts lora_B at 0', () => {
    const model = trained();
    const policyBefore = model.forward(batch).logits.toFlat();
    const ref = freezeReference(model);
    const policyAfter = model.forward(batch).logits.toFlat();
    expect(Math.max(...policyAfter.map((v, i) => Math.abs(v - policyBefore[i])))).toBeLessThan(1e-5);
    expect(Math.max(...ref.forward(batch).logits.toFlat().map((v, i) => Math.abs(v - policyBefore[i])))).toBeLessThan(1e-5);
    expect(loraLayers(model).every(({ b }) => b.weight.data.every((v) => v === 0))).toBe(true);
    expect(model.adapters.enabled).toBe(true);
  });
  it('export merges the adapters: the exported model computes the adapted function', () => {
    const model = trained();
    model.eval();
    const out = join(root, 'lora-merged');
    exportHuggingFace(model, out);
    const back = loadPretrained(out).model;
    expect(back.config.lora).toBeNull();
    const a = model.forward(batch).logits.toFlat();
    const b = back.forward(batch).logits.toFlat();
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-5);
  });
  it('PEFT layout round trip: adapter_config.json and adapter_model.safetensors with PEFT keys', () => {
    const model = trained();
    const dir = join(root, 'peft');
    savePeftAdapter(model, dir, { baseModel: 'tiny-llama' });
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'] });
    const st = decodeSafetensors(readFileSync(join(dir, 'adapter_model.safetensors')));
    expect(Object.keys(st.tensors)).toContain('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight');
    expect(st.tensors['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'].shape).toEqual([2, 8]);
    const base = new CausalLM({ ...llamaConfig }, { seed: 9 });
    base.loadStateDict(Object.fromEntries(Object.entries(model.stateDict()).filter(([k]) => !k.includes('lora_'))));
    const back = loadPeftAdapter(base, dir);
    expect(params(back)).toEqual(params(model));
    void Rng;
    void indices;
  });
});
