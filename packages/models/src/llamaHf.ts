import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, type LoadOptions, type LoadedPretrained, checkDir, loadModelWeights, readHfWeights, readJSON } from './checkpoint.js';
import { type HfModelType, type ResolvedModelConfig, parseModelConfig } from './config.js';
import { CausalLM } from './model.js';
import { type SafeTensor, floatData } from './safetensors.js';

/**
 * Hugging Face Llama-family directories: `config.json` with model_type llama, qwen2 or mistral (or their
 * *ForCausalLM architectures), `model.safetensors` or a sharded `model.safetensors.index.json`, weights in F32,
 * F16 or BF16 (computed in float32), under HF's names.
 */

const ARCHITECTURES: Record<string, HfModelType> = { LlamaForCausalLM: 'llama', Qwen2ForCausalLM: 'qwen2', MistralForCausalLM: 'mistral' };
const MODEL_TYPES = new Set<string>(['llama', 'qwen2', 'mistral']);

/** The Llama-family model_type of a config.json, or null when it is not one. */
export function llamaModelType(c: unknown): HfModelType | null {
  if (typeof c !== 'object' || c === null) return null;
  const o = c as Record<string, unknown>;
  if (typeof o.model_type === 'string' && MODEL_TYPES.has(o.model_type)) return o.model_type as HfModelType;
  const arch = Array.isArray(o.architectures) ? o.architectures.find((a) => typeof a === 'string' && a in ARCHITECTURES) : undefined;
  return arch ? ARCHITECTURES[arch as string] : null;
}

/** Maps a Llama / Qwen2 / Mistral config.json to ours, refusing (with every reason) what the architecture does not compute. */
export function llamaConfig(hf: Record<string, unknown>, source = 'config.json'): ResolvedModelConfig {
  const type = llamaModelType(hf);
  if (!type) throw new CheckpointError(`${source}: not a Llama-family config (model_type llama, qwen2 or mistral)`);
  const problems: string[] = [];
  const act = hf.hidden_act ?? 'silu';
  if (act !== 'silu') problems.push(`hidden_act ${JSON.stringify(act)} is not supported (silu)`);
  if (hf.rope_scaling !== undefined && hf.rope_scaling !== null) problems.push(`rope_scaling ${JSON.stringify(hf.rope_scaling)} is not supported (plain RoPE only)`);
  if (hf.mlp_bias === true) problems.push('mlp_bias = true is not supported');
  if (type === 'qwen2' && hf.use_sliding_window === true) problems.push('use_sliding_window = true is not supported');
  const heads = hf.num_attention_heads;
  const hidden = hf.hidden_size;
  if (hf.head_dim !== undefined && hf.head_dim !== null && typeof heads === 'number' && typeof hidden === 'number' && hf.head_dim !== hidden / heads) {
    problems.push(`head_dim ${String(hf.head_dim)} ≠ hidden_size / num_attention_heads is not supported`);
  }
  if (type === 'llama' && hf.attention_bias === true && hf.attention_bias !== undefined) {
    // Llama's attention_bias puts a bias on o_proj too, which this architecture does not have.
    problems.push('attention_bias = true (Llama: biases on q, k, v and o) is not supported');
  }
  if (problems.length > 0) throw new CheckpointError(`${source}: ${problems.join('; ')}`);
  let contextLength = hf.max_position_embeddings;
  // Mistral's sliding window only changes attention beyond its width: within it the math is Llama's.
  const window = hf.sliding_window;
  if (type === 'mistral' && typeof window === 'number' && typeof contextLength === 'number') contextLength = Math.min(contextLength, window);
  const fields: Record<string, unknown> = {
    architecture: 'llama',
    hfModelType: type,
    vocabSize: hf.vocab_size,
    contextLength,
    dModel: hidden,
    dMlp: hf.intermediate_size,
    nLayers: hf.num_hidden_layers,
    nHeads: heads,
    nKvHeads: hf.num_key_value_heads ?? heads,
    dropout: hf.attention_dropout ?? 0,
    layerNormEps: hf.rms_norm_eps ?? 1e-6,
    ropeTheta: hf.rope_theta ?? 10000,
    activation: 'silu',
    qkvBias: type === 'qwen2',
    tiedHead: hf.tie_word_embeddings === true,
  };
  try {
    return parseModelConfig(fields, source);
  } catch (e) {
    throw new CheckpointError(
      `${(e as Error).message} (read from vocab_size, max_position_embeddings, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads, attention_dropout, rms_norm_eps, rope_theta)`,
    );
  }
}

/**
 * HF tensors to our parameters: the names are the same; rotary `inv_freq` buffers of old checkpoints are skipped;
 * with a tied head, a stored `lm_head.weight` must equal `model.embed_tokens.weight` and is dropped.
 */
export function mapLlamaWeights(tensors: Record<string, SafeTensor>, config: ResolvedModelConfig, source: string): Record<string, SafeTensor> {
  const out: Record<string, SafeTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (/\.rotary_emb\.inv_freq$/.test(name)) continue;
    out[name] = t;
  }
  const head = out['lm_head.weight'];
  if (config.tiedHead && head) {
    const embed = out['model.embed_tokens.weight'];
    const a = floatData('lm_head.weight', head);
    const b = embed ? floatData('model.embed_tokens.weight', embed) : null;
    if (!b || a.length !== b.length || a.some((v, i) => !Object.is(v, b[i]))) {
      throw new CheckpointError(`${source}: tie_word_embeddings is true but lm_head.weight differs from model.embed_tokens.weight`);
    }
    delete out['lm_head.weight'];
  }
  return out;
}

/** Loads a Llama-family directory (in evaluation mode). `dropout` overrides attention_dropout. */
export function loadLlama(dir: string, options: LoadOptions & { dropout?: number } = {}): LoadedPretrained {
  checkDir(dir);
  const configPath = join(dir, 'config.json');
  const hf = readJSON(configPath) as Record<string, unknown>;
  let config = llamaConfig(hf, configPath);
  if (options.dropout !== undefined) config = parseModelConfig({ ...config, dropout: options.dropout }, 'dropout override');
  const weights = mapLlamaWeights(readHfWeights(dir), config, dir);
  const model = new CausalLM(config, { dtype: options.dtype ?? 'float32' });
  loadModelWeights(model, weights, dir);
  model.eval();
  const result: LoadedPretrained = { format: 'hf', model, config };
  const hasTokenizer = ['tokenizer.json', 'vocab.json'].some((f) => existsSync(join(dir, f)));
  if (hasTokenizer && options.tokenizerFromDirectory) {
    let tokenizer;
    try {
      tokenizer = options.tokenizerFromDirectory(dir);
    } catch (e) {
      throw new CheckpointError(`${dir}: cannot load the tokenizer (${(e as Error).message})`);
    }
    if (tokenizer.vocabSize > config.vocabSize) throw new CheckpointError(`${dir}: the tokenizer has ${tokenizer.vocabSize} ids but the model only ${config.vocabSize}`);
    result.tokenizer = tokenizer;
    result.tokenizerJSON = tokenizer.toJSON();
  }
  return result;
}
