import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FORMAT, CheckpointError, checkDir, gpt2Config, isGpt2Config, readJSON } from './checkpoint.js';
import { type LoraConfig, type ResolvedModelConfig, parseModelConfig } from './config.js';
import { llamaConfig, llamaModelType } from './llamaHf.js';

/**
 * What a model directory will cost before anything is allocated: its configuration from config.json alone,
 * parameter counts from the configuration, and an estimate of the memory of one training step.
 */

/** The configuration of a model directory (ours, HF GPT-2 or HF Llama family), from config.json only. */
export function readModelDirConfig(dir: string): ResolvedModelConfig {
  checkDir(dir);
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new CheckpointError(`${dir}: no config.json`);
  const raw = readJSON(path) as Record<string, unknown>;
  if (typeof raw === 'object' && raw !== null && raw.format === CHECKPOINT_FORMAT) {
    const { format: _f, formatVersion: _v, ...fields } = raw;
    try {
      return parseModelConfig(fields, path);
    } catch (e) {
      throw new CheckpointError((e as Error).message);
    }
  }
  if (isGpt2Config(raw)) return gpt2Config(raw, path);
  if (llamaModelType(raw)) return llamaConfig(raw, path);
  throw new CheckpointError(`${path}: neither a ganpo checkpoint nor a GPT-2 or Llama-family config`);
}

/** [in, out] of every Linear layer of one block, by its own name (what LoRA targets name). */
function blockLinears(c: ResolvedModelConfig): [string, number, number][] {
  const d = c.dModel;
  if (c.architecture === 'gpt2') return [['c_attn', d, 3 * d], ['c_proj', d, d], ['c_fc', d, c.dMlp], ['c_proj', c.dMlp, d]];
  const kv = (d / c.nHeads) * c.nKvHeads;
  return [['q_proj', d, d], ['k_proj', d, kv], ['v_proj', d, kv], ['o_proj', d, d], ['gate_proj', d, c.dMlp], ['up_proj', d, c.dMlp], ['down_proj', c.dMlp, d]];
}

/** Parameters of the model a configuration describes (adapters included), without building it. */
export function countParameters(c: ResolvedModelConfig): { total: number; base: number; adapters: number } {
  const d = c.dModel;
  const linears = blockLinears(c);
  const weights = linears.reduce((n, [, i, o]) => n + i * o, 0);
  let perBlock: number;
  let outside: number;
  if (c.architecture === 'gpt2') {
    const biases = 3 * d + d + c.dMlp + d;
    perBlock = weights + biases + 4 * d;
    outside = c.vocabSize * d + c.contextLength * d + 2 * d;
  } else {
    const kv = (d / c.nHeads) * c.nKvHeads;
    perBlock = weights + (c.qkvBias ? d + 2 * kv : 0) + 2 * d;
    outside = c.vocabSize * d + d + (c.tiedHead ? 0 : c.vocabSize * d);
  }
  const base = c.nLayers * perBlock + outside;
  const adapters = c.lora ? c.nLayers * loraPerBlock(linears, c.lora) : 0;
  return { total: base + adapters, base, adapters };
}

function loraPerBlock(linears: [string, number, number][], lora: LoraConfig): number {
  return linears.filter(([name]) => lora.targets.includes(name)).reduce((n, [, i, o]) => n + lora.r * (i + o), 0);
}

export interface TrainingMemory {
  /** Bytes of each part; `total` is their sum. */
  policy: number;
  reference: number;
  gradients: number;
  optimizer: number;
  activations: number;
  total: number;
  parameters: number;
  trainable: number;
}

/**
 * An estimate (float32) of the memory one preference step needs: the policy's weights; a frozen reference copy
 * (none with LoRA: the reference is the policy with adapters off); gradients and AdamW's two moments of the
 * trainable parameters; and the activations the autograd tape keeps for the backward pass over `2·pairs` rows of
 * `seqLen` tokens: per token and layer about 26·d + 6·dMlp values of projections, norms and residuals and
 * 5·heads·seqLen of attention scores, plus the [rows·seqLen, vocab] logits three times (policy, reference, the
 * cross-entropy gradient). The constants model this engine's tape and were set from the measured peak of a LoRA
 * step at SmolLM2-135M's shape (models README); the full fine-tuning peak then checks them. Treat it as ±25%:
 * garbage collection timing moves the real peak.
 */
export function estimateTrainingMemory(c: ResolvedModelConfig, options: { pairs: number; seqLen: number }): TrainingMemory {
  const bytes = 4;
  const { total, adapters } = countParameters(c);
  const trainable = c.lora ? adapters : total;
  const tokens = 2 * options.pairs * options.seqLen;
  const perTokenLayer = 26 * c.dModel + 6 * c.dMlp + 5 * c.nHeads * options.seqLen;
  const activations = bytes * (tokens * c.nLayers * perTokenLayer + 3 * tokens * c.vocabSize);
  const m = {
    policy: bytes * total,
    reference: c.lora ? 0 : bytes * total,
    gradients: bytes * trainable,
    optimizer: 2 * bytes * trainable,
    activations,
  };
  return { ...m, total: m.policy + m.reference + m.gradients + m.optimizer + m.activations, parameters: total, trainable };
}
