import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomic, writeDirFile } from './atomic.js';
import { CheckpointError, loadModelWeights } from './checkpoint.js';
import { parseModelConfig } from './config.js';
import { loraLayers } from './lora.js';
import { CausalLM } from './model.js';
import { type SafeTensor, encodeSafetensors } from './safetensors.js';
import { loadSafetensors } from './safetensorsFiles.js';

/**
 * LoRA adapters in PEFT's layout: `adapter_config.json` (peft_type LORA, r, lora_alpha, lora_dropout,
 * target_modules, ...) and `adapter_model.safetensors` with PEFT's keys,
 * `base_model.model.<HF module path>.lora_A.weight` / `.lora_B.weight` (GPT-2's module path starts with
 * `transformer.`). lora_A is [r, in], lora_B [out, r], as PEFT stores them.
 */

const hfPrefix = (model: CausalLM) => (model.config.architecture === 'gpt2' ? 'base_model.model.transformer.' : 'base_model.model.');

/** The adapter tensors under PEFT's names. */
export function peftAdapterTensors(model: CausalLM): Record<string, SafeTensor> {
  const prefix = hfPrefix(model);
  const out: Record<string, SafeTensor> = {};
  for (const { path, a, b } of loraLayers(model)) {
    for (const [which, lin] of [['lora_A', a], ['lora_B', b]] as const) {
      const data = lin.weight.data instanceof Float32Array ? lin.weight.data : Float32Array.from(lin.weight.data);
      out[`${prefix}${path}.${which}.weight`] = { dtype: 'F32', shape: [...lin.weight.shape], data };
    }
  }
  return out;
}

/** Writes `dir` (atomically) with adapter_config.json and adapter_model.safetensors. */
export function savePeftAdapter(model: CausalLM, dir: string, options: { baseModel?: string } = {}): void {
  const lora = model.config.lora;
  if (!lora) throw new CheckpointError('savePeftAdapter: the model has no LoRA adapters');
  const config = {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', base_model_name_or_path: options.baseModel ?? null, inference_mode: true,
    r: lora.r, lora_alpha: lora.alpha, lora_dropout: lora.dropout, target_modules: lora.targets, bias: 'none',
    fan_in_fan_out: model.config.architecture === 'gpt2', modules_to_save: null, init_lora_weights: true,
    use_rslora: false, use_dora: false, layers_to_transform: null, revision: null,
  };
  const tensors = peftAdapterTensors(model);
  writeDirAtomic(dir, (tmp) => {
    writeDirFile(tmp, 'adapter_config.json', `${JSON.stringify(config, null, 2)}\n`);
    writeDirFile(tmp, 'adapter_model.safetensors', encodeSafetensors(tensors, { format: 'pt' }));
  });
}

/**
 * The base model with the adapters of a PEFT directory attached (a new model: the base's weights are copied).
 * Refuses what PEFT would compute differently (bias training, rsLoRA, DoRA, layer subsets) and lists missing,
 * unexpected and misshapen adapter tensors.
 */
export function loadPeftAdapter(base: CausalLM, dir: string): CausalLM {
  if (base.config.lora) throw new CheckpointError('loadPeftAdapter: the base model already has adapters (pass the model without them)');
  const configPath = join(dir, 'adapter_config.json');
  if (!existsSync(configPath)) throw new CheckpointError(`${dir}: no adapter_config.json (not a PEFT adapter directory)`);
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${configPath}: invalid JSON (${(e as Error).message})`);
  }
  const problems: string[] = [];
  if (c.peft_type !== 'LORA') problems.push(`peft_type ${JSON.stringify(c.peft_type)} is not LORA`);
  if (c.bias !== undefined && c.bias !== 'none') problems.push(`bias ${JSON.stringify(c.bias)} is not supported (none)`);
  for (const flag of ['use_rslora', 'use_dora']) if (c[flag] === true) problems.push(`${flag} = true is not supported`);
  if (c.layers_to_transform !== undefined && c.layers_to_transform !== null) problems.push('layers_to_transform is not supported');
  const targets = typeof c.target_modules === 'string' ? [c.target_modules] : c.target_modules;
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string')) problems.push('target_modules must be a list of module names');
  if (problems.length > 0) throw new CheckpointError(`${configPath}: ${problems.join('; ')}`);
  let config;
  try {
    config = parseModelConfig({ ...base.config, lora: { r: c.r, alpha: c.lora_alpha ?? 8, dropout: c.lora_dropout ?? 0, targets } }, configPath);
  } catch (e) {
    throw new CheckpointError((e as Error).message);
  }
  const model = new CausalLM(config, { dtype: base.dtype });
  const prefix = hfPrefix(model);
  const file = join(dir, 'adapter_model.safetensors');
  if (!existsSync(file)) throw new CheckpointError(`${dir}: no adapter_model.safetensors`);
  const stored = loadSafetensors(file).tensors;
  const tensors: Record<string, SafeTensor> = {};
  for (const [name, t] of Object.entries(stored)) {
    // PEFT sometimes keeps the adapter name (".default") in saved keys; it is not part of the module path.
    const key = name.replace(/\.(lora_[AB])\.default\.weight$/, '.$1.weight');
    tensors[key.startsWith(prefix) ? key.slice(prefix.length) : key] = t;
  }
  for (const [name, t] of Object.entries(base.stateDict())) tensors[name] = { dtype: 'F32', shape: [...t.shape], data: t.data };
  loadModelWeights(model, tensors, file);
  return model.eval();
}
