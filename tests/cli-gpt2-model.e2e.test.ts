import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesToUnicode } from '@ganpo/datasets';
import { CausalLM, encodeSafetensors } from '@ganpo/models';
import { ganpo, missingBuild, readMetricLines, tempDir } from './helpers/cli.js';

/**
 * `--model` with a Hugging Face GPT-2-layout directory (config.json with GPT-2 fields, model.safetensors with
 * `transformer.`-prefixed names and a tied `lm_head.weight`, vocab.json + merges.txt): `ganpo train` runs
 * preference optimisation on it with its own tokenizer, and `sample` reads the result back.
 */

const missing = missingBuild();

/**
 * A tiny GPT-2 checkpoint: byte-level vocabulary (no merges) plus <|endoftext|>, random weights. With a chat
 * template, tokenizer_config.json also declares ChatML's <|im_start|> and <|im_end|> (ids 257, 258).
 */
function writeGpt2Dir(dir: string, chatTemplate?: string): void {
  mkdirSync(dir, { recursive: true });
  const byteChars = bytesToUnicode();
  const vocab: Record<string, number> = Object.fromEntries(byteChars.map((c, i) => [c, i]));
  vocab['<|endoftext|>'] = 256;
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\n');
  const vocabSize = chatTemplate === undefined ? 257 : 259;
  if (chatTemplate !== undefined) {
    const added_tokens_decoder = { '257': { content: '<|im_start|>', special: true }, '258': { content: '<|im_end|>', special: true } };
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|endoftext|>', eos_token: '<|im_end|>', added_tokens_decoder, chat_template: chatTemplate }));
  }
  const hf = {
    model_type: 'gpt2',
    vocab_size: vocabSize,
    n_positions: 64,
    n_ctx: 64,
    n_embd: 16,
    n_layer: 2,
    n_head: 2,
    activation_function: 'gelu_new',
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    layer_norm_epsilon: 1e-5,
    bos_token_id: 256,
    eos_token_id: 256,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hf));
  const model = new CausalLM({ vocabSize, contextLength: 64, dModel: 16, nLayers: 2, nHeads: 2, dropout: 0 }, { seed: 7 });
  const tensors: Record<string, { shape: number[]; data: Float32Array; dtype: 'F32' }> = {};
  for (const [name, t] of Object.entries(model.stateDict())) tensors[`transformer.${name}`] = { shape: [...t.shape], data: Float32Array.from(t.data), dtype: 'F32' };
  tensors['lm_head.weight'] = tensors['transformer.wte.weight'];
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors));
}

describe('ganpo train --model GPT2_DIR (end to end)', () => {
  if (missing) {
    it('needs the built CLI', () => {
      throw new Error(missing);
    });
    return;
  }

  it('trains from a Hugging Face GPT-2-layout directory with its own tokenizer', async () => {
    const root = tempDir('gpt2');
    const gpt2 = join(root, 'gpt2');
    writeGpt2Dir(gpt2);
    const rows = ['reverse: ab\n|ba|ab', 'upper: ab\n|AB|ab', 'sort: b a\n|a b|b a', 'count a: aa\n|2|1', 'reverse: cd\n|dc|cd', 'upper: cd\n|CD|Cd'].map((r) => {
      const [prompt, chosen, rejected] = r.split('|');
      return JSON.stringify({ prompt, chosen, rejected });
    });
    writeFileSync(join(root, 'pairs.jsonl'), `${rows.join('\n')}\n`);
    const out = join(root, 'run');
    const r = await ganpo(['train', '--stage', 'preference', '--model', gpt2, '--data', join(root, 'pairs.jsonl'), '--eval-fraction', '0', '--steps', '2', '--batch-size', '2', '--warmup', '0', '--max-length', '48', '--eval-interval', '0', '--out', out]);
    expect(r.stderr).toContain('GPT-2 layout');
    expect(r.code).toBe(0);
    expect(readMetricLines(out).map((l) => l.step)).toEqual([1, 2]);
    const tokenizer = JSON.parse(readFileSync(join(out, 'policy', 'tokenizer.json'), 'utf8'));
    expect(tokenizer.kind).toBe('hf');
    const s = await ganpo(['sample', '--run', out, '--prompt', 'reverse: ab\n', '--max-new-tokens', '4', '--json']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).samples).toHaveLength(1);
  }, 120_000);

  it("renders conversational rows with the model's own chat template, and refuses one that cannot mask the completion", async () => {
    const root = tempDir('gpt2-chat');
    const chatml = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    const rows = ['reverse: ab|ba|ab', 'upper: ab|AB|ab', 'sort: b a|a b|b a', 'reverse: cd|dc|cd'].map((r) => {
      const [q, chosen, rejected] = r.split('|');
      return JSON.stringify({ prompt: [{ role: 'user', content: q }], chosen: [{ role: 'assistant', content: chosen }], rejected: [{ role: 'assistant', content: rejected }] });
    });
    writeFileSync(join(root, 'chat.jsonl'), `${rows.join('\n')}\n`);
    const train = (model: string, out: string) =>
      ganpo(['train', '--stage', 'preference', '--model', model, '--data', join(root, 'chat.jsonl'), '--eval-fraction', '0', '--steps', '1', '--batch-size', '2', '--warmup', '0', '--max-length', '64', '--eval-interval', '0', '--out', out]);

    const good = join(root, 'chatml');
    writeGpt2Dir(good, chatml);
    const r = await train(good, join(root, 'run'));
    expect(r.code).toBe(0);
    const saved = JSON.parse(readFileSync(join(root, 'run', 'policy', 'tokenizer.json'), 'utf8'));
    expect(saved.chatTemplate).toBe(chatml);

    // The full conversation renders the assistant turn under another header than the generation prompt.
    const bad = join(root, 'bad');
    writeGpt2Dir(bad, chatml.replace("'<|im_start|>' + m.role", "'<|im_start|>' + ('bot' if m.role == 'assistant' else m.role)"));
    const b = await train(bad, join(root, 'run-bad'));
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/chat template cannot be used for conversational rows: .*does not start with the prompt's add_generation_prompt=True rendering/);
    expect(b.stderr).not.toMatch(/internal error|\n\s+at /);
  }, 180_000);
});
