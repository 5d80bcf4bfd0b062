import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CausalLM, exportHuggingFace, loadPretrained } from '@ganpo/models';
import { afterAll, describe, expect, it } from 'vitest';
import { train } from '../index.js';

// A short SFT then DPO+GANPO run with LoRA on a tiny Llama-family checkpoint in Hugging Face's layout: only the
// adapters train, the base weights stay as loaded, and the held-out preference accuracy rises well above chance.

const root = mkdtempSync(join(tmpdir(), 'ganpo-lora-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('LoRA training on a tiny Llama checkpoint', () => {
  it('learns the embedded task’s preferences with adapters only', async () => {
    const hfDir = join(root, 'tiny-llama');
    const base = new CausalLM(
      { architecture: 'llama', vocabSize: 259, contextLength: 96, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 64, dropout: 0, tiedHead: true },
      { seed: 11 },
    );
    exportHuggingFace(base, hfDir);
    const out = join(root, 'run');
    const result = await train({
      out,
      model: { init: hfDir, dropout: null, lora: { r: 8, alpha: 16, dropout: 0, targets: 'q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj' } },
      data: { tokenizer: 'byte' },
      sft: { steps: 60, batchSize: 16, lr: 1e-2, warmup: 5 },
      preference: { steps: 40, batchSize: 8, lr: 5e-3, warmup: 5 },
      log: { evalInterval: 0, saveInterval: 0, evalPairs: 64 },
      eval: { prompts: 4, temperatures: [0], maxNewTokens: 8, atEnd: true },
    });
    expect(result.status).toBe('completed');
    expect(result.summary.model).toContain('LoRA r=8');
    const pref = result.evaluation!.preference!;
    // Held-out implicit-reward accuracy against the reference (the model after SFT, adapters off). At the start of
    // the preference stage policy = reference, every margin is 0 and the accuracy 0; chance is 0.5.
    expect(pref.pairs).toBe(64);
    expect(pref.accuracy).toBeGreaterThan(0.7);
    expect(pref.margin).toBeGreaterThan(0);
    // The saved policy keeps its adapters separate (PEFT's lora_A / lora_B names) and its LoRA configuration.
    const policy = loadPretrained(join(out, 'policy')).model;
    expect(policy.config.lora?.r).toBe(8);
    expect(Object.keys(policy.stateDict()).some((k) => k.endsWith('self_attn.q_proj.lora_B.weight'))).toBe(true);
  }, 300_000);
});
