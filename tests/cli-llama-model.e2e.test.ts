import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToUnicode, tokenizerJsonFromVocabAndMerges } from '@ganpo/datasets';
import { CausalLM, countParameters, exportHuggingFace, loadPretrained } from '@ganpo/models';
import { describe, expect, it } from 'vitest';
import { ganpo, missingBuild, tempDir } from './helpers/cli.js';

/**
 * A Hugging Face Llama-family directory (config.json with model_type llama, model.safetensors, tokenizer.json):
 * `ganpo info --model` reports it without loading it (and refuses a step that will not fit), `ganpo train
 * --model DIR --lora-r` trains LoRA adapters on it with its own tokenizer, and `ganpo export` writes the result
 * back as a Hugging Face directory (adapters merged) plus the adapters in PEFT's layout.
 */

const missing = missingBuild();

function writeLlamaDir(dir: string): CausalLM {
  const vocab: Record<string, number> = Object.fromEntries(bytesToUnicode().map((c, i) => [c, i]));
  vocab['<|endoftext|>'] = 256;
  const json = tokenizerJsonFromVocabAndMerges(vocab, '#version: 0.2\n');
  if (json._tag === 'Left') throw new Error(json.left);
  const model = new CausalLM({ architecture: 'llama', vocabSize: 257, contextLength: 64, dModel: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 32, dropout: 0 }, { seed: 3 });
  exportHuggingFace(model, dir);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json.right));
  return model;
}

describe('ganpo with a Hugging Face Llama directory (end to end)', () => {
  if (missing) {
    it('needs the built CLI', () => {
      throw new Error(missing);
    });
    return;
  }

  it('info --model, train --lora-r, export', async () => {
    const root = tempDir('llama');
    const llama = join(root, 'llama');
    const model = writeLlamaDir(llama);

    const info = await ganpo(['info', '--model', llama, '--batch-size', '2', '--max-length', '32', '--json']);
    expect(info.code).toBe(0);
    const report = JSON.parse(info.stdout);
    expect(report.architecture).toBe('llama');
    expect(report.parameters).toBe(model.parameterCount());
    expect(report.parameters).toBe(countParameters(model.config).total);
    expect(report.memoryBytes.reference).toBe(report.memoryBytes.policy);
    const tooBig = await ganpo(['info', '--model', llama, '--batch-size', '1000000', '--max-length', '64']);
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toMatch(/a training step needs about [\d.]+ GiB, more than this machine's/);

    const rows = ['reverse: ab\n|ba|ab', 'upper: ab\n|AB|ab', 'sort: b a\n|a b|b a', 'count a: aa\n|2|1'].map((r) => {
      const [prompt, chosen, rejected] = r.split('|');
      return JSON.stringify({ prompt, chosen, rejected });
    });
    writeFileSync(join(root, 'pairs.jsonl'), `${rows.join('\n')}\n`);
    const out = join(root, 'run');
    const r = await ganpo(['train', '--stage', 'preference', '--model', llama, '--lora-r', '4', '--lora-alpha', '8', '--data', join(root, 'pairs.jsonl'), '--eval-fraction', '0', '--steps', '2', '--batch-size', '2', '--warmup', '0', '--max-length', '48', '--eval-interval', '0', '--out', out]);
    expect(r.stderr).toContain('Hugging Face llama');
    expect(r.stderr).toContain('LoRA r=4 on q_proj,v_proj');
    expect(r.code).toBe(0);

    const hf = join(root, 'hf');
    const e = await ganpo(['export', '--run', out, '--out', hf, '--adapter-out', join(root, 'adapter'), '--json']);
    expect(e.code).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ modelType: 'llama', loraMerged: true });
    expect(readdirSync(hf)).toEqual(expect.arrayContaining(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json']));
    expect(JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'llama', architectures: ['LlamaForCausalLM'], num_key_value_heads: 2 });
    expect(readdirSync(join(root, 'adapter')).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(loadPretrained(hf).model.config.lora).toBeNull();
    const again = await ganpo(['export', '--run', out, '--out', hf]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists and is not empty/);
  }, 180_000);
});
