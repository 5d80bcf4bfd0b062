import { existsSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { Tokenizer } from '@ganpo/datasets';
import { isLeft } from 'fp-ts/lib/Either.js';
import {
  addLora, CausalLM, CheckpointError, decodeModelConfig, defaultLoraTargets, estimateTrainingMemory, loadCheckpoint, loadPretrained,
  MODEL_PRESETS, readModelDirConfig, type Architecture, type LoraConfig,
} from '@ganpo/models';
import { readJsonFile } from '../util/io.js';
import { ConfigError } from '../errors.js';
import type { RunConfig } from '../config/runConfig.js';
import { asDatasetsTokenizer, resolveTokenizer, reviveTokenizer, tokenizerFromDirectory } from './data.js';
import { isPreset, presetPolicy } from './preset.js';

/**
 * The policy's starting point, from `--model`: a size preset (fresh weights from the run seed, vocabulary
 * and context sized to the tokenizer and --max-length), one of our checkpoint directories, or a
 * Hugging Face directory (GPT-2, or the Llama family: llama, qwen2, mistral). With `--lora-r` > 0 the policy
 * gets LoRA adapters and only they train (its reference is then the same model with adapters off).
 */

export interface InitialModel {
  readonly model: CausalLM;
  /** What `--model` named, for logs and the report. */
  readonly description: string;
  /** The directory it came from (null for a preset). */
  readonly dir: string | null;
  /** The checkpoint's tokenizer, if it has one. */
  readonly tokenizer?: Tokenizer;
}

export { isPreset } from './preset.js';

/** Loads a model directory (ours or GPT-2), turning loader errors into user-facing ones. */
export function loadModelDir(dir: string, what: string, dropout?: number): { model: CausalLM; tokenizer?: Tokenizer; format: string } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`${what} ${dir}: no such directory`);
  if (!existsSync(join(dir, 'config.json'))) throw new ConfigError(`${what} ${dir}: not a model directory (no config.json)`);
  try {
    const loaded = loadPretrained(dir, { tokenizerFromJSON: reviveTokenizer, tokenizerFromDirectory: tokenizerFromDirectory, ...(dropout === undefined ? {} : { dropout }) });
    const tokenizer = loaded.tokenizer ? asDatasetsTokenizer(loaded.tokenizer) : undefined;
    const format = loaded.format === 'hf' ? `Hugging Face ${loaded.config.hfModelType}` : loaded.format === 'gpt2' ? 'GPT-2 layout' : 'ganpo checkpoint';
    return { model: loaded.model, tokenizer, format };
  } catch (e) {
    if (e instanceof CheckpointError || (e as Error).name === 'ConfigError' || (e as Error).name === 'SafetensorsError') {
      throw new ConfigError(`${what} ${dir}: ${(e as Error).message}`);
    }
    throw e;
  }
}

/** The run's LoRA settings for a model of this architecture (targets `auto` resolved), or null for full fine-tuning. */
function runLora(config: RunConfig, architecture: Architecture): LoraConfig | null {
  const lora = config.model.lora;
  if (!lora || lora.r === 0) return null;
  const targets = lora.targets === 'auto' ? defaultLoraTargets(architecture) : lora.targets.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return { r: lora.r, alpha: lora.alpha, dropout: lora.dropout, targets };
}

/** The policy with LoRA adapters when --lora-r > 0 (a model that already has them, e.g. a LoRA run's checkpoint, is kept). */
export function withLoraIfAsked(model: CausalLM, config: RunConfig): CausalLM {
  const lora = runLora(config, model.config.architecture);
  if (!lora || model.config.lora) return model;
  try {
    return addLora(model, lora);
  } catch (e) {
    throw new ConfigError(`--lora-targets ${config.model.lora!.targets}: ${(e as Error).message}`);
  }
}

/**
 * Refuses, before anything is loaded, a model directory whose preference step (its batch size × --max-length)
 * is estimated to need more than this machine's memory (`ganpo info --model` shows the breakdown).
 */
function refuseIfTooBig(dir: string, config: RunConfig): void {
  let modelConfig;
  try {
    modelConfig = readModelDirConfig(dir);
  } catch {
    return; // loadModelDir reports what is wrong with the directory
  }
  const lora = runLora(config, modelConfig.architecture);
  if (lora && !modelConfig.lora) modelConfig = { ...modelConfig, lora };
  const seqLen = Math.min(config.data.maxLength, modelConfig.contextLength);
  const need = estimateTrainingMemory(modelConfig, { pairs: config.preference.batchSize, seqLen }).total;
  if (need > totalmem()) {
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
    throw new ConfigError(
      `--model ${dir}: a training step of ${config.preference.batchSize} pairs × ${seqLen} tokens needs about ${gib(need)}, more than this machine's ${gib(totalmem())}`,
      [],
      `see \`ganpo info --model ${dir}\`; lower --batch-size or --max-length, or train LoRA adapters (--lora-r 16)`,
    );
  }
}

/** A checkpoint written by a ganpo run (config.json with "format": "ganpo"), with its trainer state. */
export function loadRunCheckpoint(dir: string) {
  try {
    return loadCheckpoint(dir, { tokenizerFromJSON: reviveTokenizer });
  } catch (e) {
    throw new ConfigError(`checkpoint ${dir}: ${(e as Error).message}`);
  }
}

/**
 * The starting policy and the tokenizer together: a preset is sized to the tokenizer (which --tokenizer
 * names, bytes by default); a checkpoint brings its own tokenizer unless --tokenizer names another.
 */
export function initialPolicy(config: RunConfig): InitialModel & { tokenizer: Tokenizer } {
  const spec = config.model.init;
  const dropout = config.model.dropout;
  if (isPreset(spec)) {
    const tokenizer = resolveTokenizer(config.data.tokenizer, undefined, null);
    const fresh = presetPolicy(spec, config, tokenizer);
    return { ...fresh, model: withLoraIfAsked(fresh.model, config), tokenizer, dir: null };
  }
  if (!existsSync(spec)) {
    throw new ConfigError(`--model '${spec}': not a preset (${Object.keys(MODEL_PRESETS).join(', ')}), a model config file or a directory`);
  }
  if (statSync(spec).isFile()) {
    // A model configuration (JSON, the models package's ModelConfig): fresh weights of that size.
    const tokenizer = resolveTokenizer(config.data.tokenizer, undefined, null);
    const raw = readJsonFile(spec, '--model config') as Record<string, unknown>;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`--model ${spec}: a model config must be a JSON object`);
    const r = decodeModelConfig({ vocabSize: tokenizer.vocabSize, contextLength: config.data.maxLength, ...raw, ...(dropout === null ? {} : { dropout }) });
    if (isLeft(r)) throw new ConfigError(`--model ${spec}: invalid model config`, r.left, 'fields: vocabSize, contextLength, dModel, nLayers, nHeads, dropout, dMlp, layerNormEps, activation');
    if (r.right.vocabSize < tokenizer.vocabSize) throw new ConfigError(`--model ${spec}: vocabSize ${r.right.vocabSize} is smaller than the tokenizer's ${tokenizer.vocabSize}`);
    const model = withLoraIfAsked(new CausalLM(r.right, { seed: config.seed }), config);
    return { model, tokenizer, description: `${spec} (d=${r.right.dModel}, ${r.right.nLayers} layers, ${r.right.nHeads} heads)`, dir: null };
  }
  refuseIfTooBig(spec, config);
  const loaded = loadModelDir(spec, '--model', dropout ?? undefined);
  const tokenizer = resolveTokenizer(config.data.tokenizer, loaded.tokenizer, spec);
  const c = loaded.model.config;
  if (tokenizer.vocabSize > c.vocabSize) {
    throw new ConfigError(`--model ${spec} has ${c.vocabSize} token ids but the tokenizer has ${tokenizer.vocabSize}`, [], 'pass the tokenizer the model was trained with (--tokenizer)');
  }
  const model = withLoraIfAsked(loaded.model, config);
  const lora = model.config.lora ? `; LoRA r=${model.config.lora.r} on ${model.config.lora.targets.join(',')}` : '';
  return {
    model,
    tokenizer,
    description: `${spec} (${loaded.format}; d=${c.dModel}, ${c.nLayers} layers${lora})`,
    dir: spec,
  };
}
