import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type DType, type OptimizerStateDict, Rng, Tensor } from '@ganpo/autograd';
import { writeDirAtomic, writeDirFile } from './atomic.js';
import { ConfigError, type ModelConfig, type ResolvedModelConfig, parseModelConfig } from './config.js';
import { llamaModelType, loadLlama } from './llamaHf.js';
import { CausalLM } from './model.js';
import { type SafeTensor, type SafetensorsFile, floatData } from './safetensors.js';
import { loadSafetensors } from './safetensorsFiles.js';
import {
  CheckpointError,
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  checkpointFiles,
  EXTRA_NAME,
  type LoadedCheckpoint,
  type LoadOptions,
  optimizerStateFromSafetensors,
  RESERVED,
  type SaveCheckpointInput,
} from './checkpointFiles.js';
import type { Tokenizer } from './types.js';

/**
 * Checkpoint directories.
 *
 * Ours (`config.json` has `"format": "ganpo"`):
 *   model.safetensors      the model's parameters by name (F32 or F64, as the model computes)
 *   config.json            {"format": "ganpo", "formatVersion": 1, ...model config}
 *   tokenizer.json         whatever the tokenizer's toJSON() gives (optional)
 *   trainer_state.json     {"step": n, ...anything the caller passes: RNG states, schedules} (optional)
 *   optimizer.safetensors  named tensors the caller passes, e.g. Adam moments (optional)
 *   <name>.safetensors     further named tensor groups, e.g. discriminators.safetensors (optional)
 * The whole directory is written into a temporary sibling and renamed into place, so an interrupted save
 * leaves the previous checkpoint intact.
 *
 * Hugging Face GPT-2 (`config.json` with GPT-2 fields, `model.safetensors` or a sharded index, tokenizer files):
 * read by {@link loadGpt2} and by {@link loadPretrained}, which tells the two apart.
 */

export {
  CheckpointError, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, checkpointFiles, modelTensors, optimizerStateFromSafetensors,
  optimizerStateToSafetensors, type CheckpointFile, type LoadedCheckpoint, type LoadOptions, type SaveCheckpointInput,
} from './checkpointFiles.js';

/** Saves a checkpoint directory atomically (see the module comment for the layout). */
export function saveCheckpoint(dir: string, input: SaveCheckpointInput): void {
  const files = checkpointFiles(input); // validates before anything is written
  writeDirAtomic(dir, (tmp) => {
    for (const f of files) writeDirFile(tmp, f.name, f.data);
  });
}

export function readJSON(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

export function checkDir(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CheckpointError(`${dir}: no such checkpoint directory`);
}

/**
 * Copies named tensors into a model, checking first that the names are exactly the model's (listing every
 * missing and unexpected name) and that every shape matches. Values convert to the model's dtype
 * (F16/BF16 were decoded to float32 on load).
 */
export function loadModelWeights(model: CausalLM, tensors: Record<string, SafeTensor>, source = 'weights'): void {
  const own = model.stateDict();
  const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  const missing = Object.keys(own).filter((k) => !has(tensors, k));
  const unexpected = Object.keys(tensors).filter((k) => !has(own, k));
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`missing parameters for this config: ${missing.join(', ')}`);
  if (unexpected.length > 0) problems.push(`unexpected parameters for this config: ${unexpected.join(', ')}`);
  for (const [name, t] of Object.entries(own)) {
    if (!has(tensors, name)) continue;
    const src = tensors[name];
    if (src.shape.length !== t.shape.length || src.shape.some((d, i) => d !== t.shape[i])) {
      problems.push(`${name} has shape [${src.shape.join(', ')}], the config needs [${t.shape.join(', ')}]`);
    } else if (!(src.data instanceof Float32Array || src.data instanceof Float64Array)) {
      problems.push(`${name} has dtype ${src.dtype}; parameters must be F32, F64, F16 or BF16`);
    }
  }
  if (problems.length > 0) throw new CheckpointError(`${source}: ${problems.join('; ')}`);
  for (const [name, t] of Object.entries(own)) {
    const data = floatData(name, tensors[name]);
    t.assign(data.constructor === t.data.constructor ? data.slice() : data);
  }
}

function readSafetensors(path: string): SafetensorsFile {
  if (!existsSync(path)) throw new CheckpointError(`${path}: missing`);
  return loadSafetensors(path);
}

/** Loads one of our checkpoint directories. Errors name the file and what is wrong with it. */
export function loadCheckpoint(dir: string, options: LoadOptions = {}): LoadedCheckpoint {
  checkDir(dir);
  const rawConfig = readJSON(join(dir, 'config.json')) as Record<string, unknown>;
  if (typeof rawConfig !== 'object' || rawConfig === null || rawConfig.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${join(dir, 'config.json')}: not a ganpo checkpoint config (no "format": "ganpo"); use loadPretrained for GPT-2 directories`);
  }
  if (typeof rawConfig.formatVersion === 'number' && rawConfig.formatVersion > CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError(`${join(dir, 'config.json')}: format version ${rawConfig.formatVersion} is newer than this reader (${CHECKPOINT_FORMAT_VERSION})`);
  }
  const { format: _f, formatVersion: _v, ...fields } = rawConfig;
  let config: ResolvedModelConfig;
  try {
    config = parseModelConfig(fields, join(dir, 'config.json'));
  } catch (e) {
    throw new CheckpointError((e as ConfigError).message);
  }
  const weights = readSafetensors(join(dir, 'model.safetensors'));
  // Default dtype: float64 when the weights were saved in F64 (a float64 model), else float32.
  const stored = Object.values(weights.tensors);
  const dtype = options.dtype ?? (stored.length > 0 && stored.every((t) => t.dtype === 'F64') ? 'float64' : 'float32');
  const model = new CausalLM(config, { dtype });
  loadModelWeights(model, weights.tensors, join(dir, 'model.safetensors'));
  model.eval();
  const rngState = weights.metadata.dropoutRng;
  if (rngState !== undefined) {
    try {
      model.dropoutRng = Rng.fromState(JSON.parse(rngState));
    } catch (e) {
      throw new CheckpointError(`${join(dir, 'model.safetensors')}: __metadata__.dropoutRng is not a generator state (${(e as Error).message})`);
    }
  }
  const result: LoadedCheckpoint = { model, config, extras: {}, extraOptimizerStates: {}, metadata: weights.metadata };
  if (existsSync(join(dir, 'tokenizer.json'))) {
    const json = readJSON(join(dir, 'tokenizer.json'));
    result.tokenizerJSON = json;
    result.tokenizer = reviveTokenizer(json, options, join(dir, 'tokenizer.json'));
  }
  if (existsSync(join(dir, 'trainer_state.json'))) {
    const s = readJSON(join(dir, 'trainer_state.json'));
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new CheckpointError(`${join(dir, 'trainer_state.json')}: not a JSON object`);
    result.trainerState = s as Record<string, unknown>;
  }
  if (existsSync(join(dir, 'optimizer.safetensors'))) {
    const f = readSafetensors(join(dir, 'optimizer.safetensors'));
    result.optimizer = f.tensors;
    const sd = optimizerStateFromSafetensors(f, join(dir, 'optimizer.safetensors'));
    if (sd) result.optimizerState = sd;
  }
  for (const file of readdirSync(dir).sort()) {
    const stem = file.replace(/\.safetensors$/, '');
    if (stem === file || RESERVED.has(stem) || !EXTRA_NAME.test(stem)) continue;
    const f = readSafetensors(join(dir, file));
    result.extras[stem] = f.tensors;
    const sd = optimizerStateFromSafetensors(f, join(dir, file));
    if (sd) result.extraOptimizerStates[stem] = sd;
  }
  return result;
}

function reviveTokenizer(json: unknown, options: LoadOptions, source: string): Tokenizer | undefined {
  try {
    return options.tokenizerFromJSON?.(json);
  } catch (e) {
    throw new CheckpointError(`${source}: cannot rebuild the tokenizer (${(e as Error).message})`);
  }
}

/** Converts a stored tensor record (e.g. the optimizer's) back to engine tensors of `dtype`. */
export function toTensors(r: Record<string, SafeTensor>, dtype: DType = 'float32'): Record<string, Tensor> {
  return Object.fromEntries(
    Object.entries(r).map(([k, t]) => {
      const src = floatData(k, t);
      const data = dtype === 'float64' ? Float64Array.from(src) : src instanceof Float32Array ? src.slice() : Float32Array.from(src);
      return [k, new Tensor(data, t.shape, null)];
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// GPT-2 (Hugging Face layout)

/** Maps a Hugging Face GPT-2 config.json to ours (rejecting variants the architecture does not cover). */
export function gpt2Config(hf: Record<string, unknown>, source = 'config.json'): ResolvedModelConfig {
  const problems: string[] = [];
  if (hf.scale_attn_by_inverse_layer_idx === true) problems.push('scale_attn_by_inverse_layer_idx is not supported');
  if (hf.scale_attn_weights === false) problems.push('scale_attn_weights = false is not supported');
  if (hf.tie_word_embeddings === false) problems.push('an untied LM head (tie_word_embeddings = false) is not supported');
  if (hf.add_cross_attention === true) problems.push('cross-attention is not supported');
  const act = hf.activation_function ?? 'gelu_new';
  let activation: 'gelu_tanh' | 'gelu';
  if (act === 'gelu_new' || act === 'gelu_pytorch_tanh' || act === 'gelu_fast') activation = 'gelu_tanh';
  else if (act === 'gelu') activation = 'gelu';
  else {
    problems.push(`activation_function ${JSON.stringify(act)} is not supported (gelu_new, gelu_pytorch_tanh, gelu)`);
    activation = 'gelu_tanh';
  }
  if (problems.length > 0) throw new CheckpointError(`${source}: ${problems.join('; ')}`);
  const dropout = hf.resid_pdrop ?? hf.embd_pdrop ?? hf.attn_pdrop ?? 0.1;
  const fields: Record<string, unknown> = {
    vocabSize: hf.vocab_size,
    contextLength: hf.n_positions ?? hf.n_ctx,
    dModel: hf.n_embd,
    nLayers: hf.n_layer,
    nHeads: hf.n_head,
    dropout,
    layerNormEps: hf.layer_norm_epsilon ?? 1e-5,
    activation,
  };
  if (hf.n_inner !== undefined && hf.n_inner !== null) fields.dMlp = hf.n_inner;
  try {
    return parseModelConfig(fields, source);
  } catch (e) {
    throw new CheckpointError(`${(e as Error).message} (read from GPT-2 fields vocab_size, n_positions, n_embd, n_layer, n_head, resid_pdrop, n_inner)`);
  }
}

/** Whether a config.json looks like GPT-2's. */
export function isGpt2Config(c: unknown): boolean {
  if (typeof c !== 'object' || c === null) return false;
  const o = c as Record<string, unknown>;
  return o.model_type === 'gpt2' || (typeof o.n_embd === 'number' && typeof o.n_layer === 'number' && typeof o.n_head === 'number');
}

/**
 * GPT-2 state-dict names to ours: the `transformer.` prefix is dropped; the attention-mask buffers
 * (`h.N.attn.bias`, `h.N.attn.masked_bias`) are skipped; `lm_head.weight` must equal `wte.weight` (tied) and is
 * skipped. Conv1D weights are [in, out], as our Linear stores them: no transposition.
 */
export function mapGpt2Weights(tensors: Record<string, SafeTensor>, source = 'model.safetensors'): Record<string, SafeTensor> {
  const out: Record<string, SafeTensor> = {};
  let lmHead: SafeTensor | undefined;
  for (const [raw, t] of Object.entries(tensors)) {
    const name = raw.startsWith('transformer.') ? raw.slice('transformer.'.length) : raw;
    if (/^h\.\d+\.attn\.(bias|masked_bias)$/.test(name)) continue;
    if (name === 'lm_head.weight') {
      lmHead = t;
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(out, name)) throw new CheckpointError(`${source}: parameter ${name} appears twice (with and without the transformer. prefix)`);
    out[name] = t;
  }
  if (lmHead && out['wte.weight']) {
    const a = floatData('lm_head.weight', lmHead);
    const b = floatData('wte.weight', out['wte.weight']);
    const same = a.length === b.length && a.every((v, i) => v === b[i]);
    if (!same) throw new CheckpointError(`${source}: lm_head.weight differs from wte.weight; only a tied LM head is supported`);
  }
  return out;
}

/** The weights of a Hugging Face directory: model.safetensors, or every shard of model.safetensors.index.json. */
export function readHfWeights(dir: string): Record<string, SafeTensor> {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return loadSafetensors(single).tensors;
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (existsSync(indexPath)) {
    const index = readJSON(indexPath) as { weight_map?: Record<string, unknown> };
    const map = index?.weight_map;
    if (typeof map !== 'object' || map === null) throw new CheckpointError(`${indexPath}: no weight_map`);
    const shards = [...new Set(Object.values(map))];
    const tensors: Record<string, SafeTensor> = {};
    for (const shard of shards) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) throw new CheckpointError(`${indexPath}: bad shard name ${JSON.stringify(shard)}`);
      Object.assign(tensors, loadSafetensors(join(dir, shard)).tensors);
    }
    return tensors;
  }
  const hasBin = existsSync(join(dir, 'pytorch_model.bin'));
  throw new CheckpointError(
    `${dir}: no model.safetensors${hasBin ? ' (only pytorch_model.bin, a pickle, which is not read: convert it to safetensors first)' : ''}`,
  );
}

export interface LoadedPretrained {
  /** Ours, Hugging Face GPT-2, or a Hugging Face Llama-family model (config.hfModelType says which). */
  format: 'ganpo' | 'gpt2' | 'hf';
  model: CausalLM;
  config: ResolvedModelConfig;
  tokenizer?: Tokenizer;
  tokenizerJSON?: unknown;
  /** Our checkpoints only: everything else loadCheckpoint returns. */
  checkpoint?: LoadedCheckpoint;
}

/**
 * Loads a Hugging Face GPT-2-family directory: config.json, model.safetensors (or a sharded index),
 * and the tokenizer files when present. `dropout` overrides the config's pdrop values.
 */
export function loadGpt2(dir: string, options: LoadOptions & { dropout?: number } = {}): LoadedPretrained {
  checkDir(dir);
  const hf = readJSON(join(dir, 'config.json')) as Record<string, unknown>;
  if (!isGpt2Config(hf)) throw new CheckpointError(`${join(dir, 'config.json')}: not a GPT-2 config (model_type "gpt2", n_embd, n_layer, n_head)`);
  let config = gpt2Config(hf, join(dir, 'config.json'));
  if (options.dropout !== undefined) config = parseModelConfig({ ...config, dropout: options.dropout }, 'dropout override');
  const weights = mapGpt2Weights(readHfWeights(dir), join(dir, 'model.safetensors'));
  const model = new CausalLM(config, { dtype: options.dtype ?? 'float32' });
  loadModelWeights(model, weights, join(dir, 'model.safetensors'));
  model.eval();
  const result: LoadedPretrained = { format: 'gpt2', model, config };
  const hasTokenizer = ['tokenizer.json', 'vocab.json'].some((f) => existsSync(join(dir, f)));
  if (hasTokenizer && options.tokenizerFromDirectory) {
    let tokenizer: Tokenizer;
    try {
      tokenizer = options.tokenizerFromDirectory(dir);
    } catch (e) {
      throw new CheckpointError(`${dir}: cannot load the tokenizer (${(e as Error).message})`);
    }
    if (tokenizer.vocabSize > config.vocabSize) {
      throw new CheckpointError(`${dir}: the tokenizer has ${tokenizer.vocabSize} ids but the model only ${config.vocabSize}`);
    }
    result.tokenizer = tokenizer;
    result.tokenizerJSON = tokenizer.toJSON();
  }
  return result;
}

/** Loads a checkpoint directory, ours or Hugging Face GPT-2 layout, telling them apart by config.json. */
export function loadPretrained(dir: string, options: LoadOptions & { dropout?: number } = {}): LoadedPretrained {
  checkDir(dir);
  const config = readJSON(join(dir, 'config.json')) as Record<string, unknown>;
  if (typeof config === 'object' && config !== null && config.format === CHECKPOINT_FORMAT) {
    const ckpt = loadCheckpoint(dir, options);
    const model = options.dropout === undefined ? ckpt.model : withDropout(ckpt.model, options.dropout);
    return { format: 'ganpo', model, config: model.config, tokenizer: ckpt.tokenizer, tokenizerJSON: ckpt.tokenizerJSON, checkpoint: ckpt };
  }
  if (isGpt2Config(config)) return loadGpt2(dir, options);
  if (llamaModelType(config)) return loadLlama(dir, options);
  throw new CheckpointError(`${join(dir, 'config.json')}: neither a ganpo checkpoint ("format": "ganpo") nor a GPT-2 or Llama-family (llama, qwen2, mistral) config`);
}

function withDropout(model: CausalLM, dropout: number): CausalLM {
  const copy = new CausalLM({ ...model.config, dropout }, { dtype: model.dtype });
  copy.loadStateDict(Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.detach()])));
  return copy.eval();
}


