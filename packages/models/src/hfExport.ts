import { existsSync, readdirSync, statSync } from 'node:fs';
import { writeDirAtomic, writeDirFile } from './atomic.js';
import { CheckpointError } from './checkpoint.js';
import type { ResolvedModelConfig } from './config.js';
import { mergeLora } from './lora.js';
import type { CausalLM } from './model.js';
import { type SafeTensor, encodeSafetensors } from './safetensors.js';

/**
 * Export to a directory that Hugging Face transformers loads with `from_pretrained`: config.json with HF's
 * field names (model_type, architectures, torch_dtype), model.safetensors with `{"format": "pt"}` metadata under
 * HF's names (LoRA adapters merged into the weights), generation_config.json, and the tokenizer's files.
 */

export type ExportDType = 'f32' | 'bf16' | 'f16';
const TORCH_DTYPE: Record<ExportDType, string> = { f32: 'float32', bf16: 'bfloat16', f16: 'float16' };
const SAFE_DTYPE = { f32: 'F32', bf16: 'BF16', f16: 'F16' } as const;
const ARCHITECTURE = { gpt2: 'GPT2LMHeadModel', llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', mistral: 'MistralForCausalLM' } as const;

/** What export needs of a tokenizer: its special ids and the tokenizer contract's `saveHfFiles(dir)`. */
export interface HfTokenizerSource {
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  /** Writes tokenizer.json, tokenizer_config.json, special_tokens_map.json (+ vocab.json/merges.txt for GPT-2 BPE). */
  saveHfFiles(dir: string): void;
}

export interface ExportOptions {
  /** Stored precision of the weights (default f32). */
  dtype?: ExportDType;
  /** The run's tokenizer: its files are written beside the weights and its special ids go into the configs. */
  tokenizer?: HfTokenizerSource;
  /** Replace an existing non-empty `outDir` (default false: refuse). */
  overwrite?: boolean;
}

export interface ExportResult {
  /** The files written (the tokenizer's included). */
  files: string[];
  /** Why no tokenizer files were written, when none were. */
  tokenizerNote?: string;
}

/** Hugging Face's config.json for our configuration. */
export function hfConfig(c: ResolvedModelConfig, dtype: ExportDType, ids: { bos?: number; eos?: number; pad?: number } = {}): Record<string, unknown> {
  const common = { torch_dtype: TORCH_DTYPE[dtype], bos_token_id: ids.bos ?? null, eos_token_id: ids.eos ?? null, ...(ids.pad === undefined ? {} : { pad_token_id: ids.pad }) };
  if (c.architecture === 'gpt2') {
    return {
      model_type: 'gpt2', architectures: [ARCHITECTURE.gpt2], vocab_size: c.vocabSize, n_positions: c.contextLength, n_ctx: c.contextLength,
      n_embd: c.dModel, n_layer: c.nLayers, n_head: c.nHeads, n_inner: c.dMlp === 4 * c.dModel ? null : c.dMlp,
      activation_function: c.activation === 'gelu' ? 'gelu' : 'gelu_new', resid_pdrop: c.dropout, embd_pdrop: c.dropout, attn_pdrop: c.dropout,
      layer_norm_epsilon: c.layerNormEps, initializer_range: 0.02, scale_attn_weights: true, tie_word_embeddings: true, use_cache: true, ...common,
    };
  }
  const type = c.hfModelType === 'gpt2' ? 'llama' : c.hfModelType;
  return {
    model_type: type, architectures: [ARCHITECTURE[type]], vocab_size: c.vocabSize, hidden_size: c.dModel, intermediate_size: c.dMlp,
    num_hidden_layers: c.nLayers, num_attention_heads: c.nHeads, num_key_value_heads: c.nKvHeads, head_dim: c.dModel / c.nHeads,
    max_position_embeddings: c.contextLength, rms_norm_eps: c.layerNormEps, rope_theta: c.ropeTheta, rope_scaling: null, hidden_act: 'silu',
    attention_dropout: c.dropout, tie_word_embeddings: c.tiedHead, initializer_range: 0.02, use_cache: true,
    ...(type === 'llama' ? { attention_bias: false, mlp_bias: false, pretraining_tp: 1 } : {}),
    ...(type === 'qwen2' ? { use_sliding_window: false, sliding_window: null, max_window_layers: c.nLayers } : {}),
    ...(type === 'mistral' ? { sliding_window: null } : {}),
    ...common,
  };
}

/** The model's weights under HF's names in the stored dtype (LoRA merged; GPT-2 keeps its Conv1D [in, out] layout, as HF's gpt2 does). */
export function hfTensors(model: CausalLM, dtype: ExportDType = 'f32'): Record<string, SafeTensor> {
  const merged = model.config.lora ? mergeLora(model) : model;
  const out: Record<string, SafeTensor> = {};
  for (const [name, t] of Object.entries(merged.stateDict())) {
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    out[name] = { dtype: SAFE_DTYPE[dtype], shape: [...t.shape], data };
  }
  return out;
}

/** Writes the export directory atomically; refuses a non-empty existing `outDir` unless `overwrite`. */
export function exportHuggingFace(model: CausalLM, outDir: string, options: ExportOptions = {}): ExportResult {
  const dtype = options.dtype ?? 'f32';
  if (!(dtype in TORCH_DTYPE)) throw new CheckpointError(`export: dtype '${dtype}' is not one of f32, bf16, f16`);
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw new CheckpointError(`${outDir}: exists and is not a directory`);
    if (readdirSync(outDir).length > 0 && !options.overwrite) throw new CheckpointError(`${outDir}: exists and is not empty (choose another --out, or pass --overwrite to replace it)`);
  }
  const tok = options.tokenizer;
  const ids = tok ? { bos: tok.bos, eos: tok.eos, pad: tok.pad } : {};
  const config = hfConfig(model.config, dtype, ids);
  const tensors = hfTensors(model, dtype);
  let files: string[] = [];
  let tokenizerNote: string | undefined;
  writeDirAtomic(outDir, (tmp) => {
    writeDirFile(tmp, 'config.json', `${JSON.stringify(config, null, 2)}\n`);
    const generation = { _from_model_config: true, bos_token_id: ids.bos ?? null, eos_token_id: ids.eos ?? null, ...(ids.pad === undefined ? {} : { pad_token_id: ids.pad }) };
    writeDirFile(tmp, 'generation_config.json', `${JSON.stringify(generation, null, 2)}\n`);
    writeDirFile(tmp, 'model.safetensors', encodeSafetensors(tensors, { format: 'pt' }));
    if (tok) tok.saveHfFiles(tmp);
    else tokenizerNote = 'no tokenizer was given: no tokenizer files were written';
    files = readdirSync(tmp).sort();
  });
  return { files, ...(tokenizerNote ? { tokenizerNote } : {}) };
}
