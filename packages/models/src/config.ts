import { formatErrors, int, num, strict } from '@ganpo/codecs';
import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

/**
 * The model configuration, as an io-ts codec, its single source: configuration files (config.json, CLI flags) cross
 * into the program through it, the type is derived from it, and unknown keys are errors. `decodeModelConfig` returns an
 * Either with messages from the shared formatter of @ganpo/codecs (`dModel: expected an integer ≥ 1, got -3`);
 * `parseModelConfig` throws one clear error. Optional fields are filled by `resolveModelConfig`.
 */

const positiveInt = int({ ge: 1 });
export const Activation = t.keyof({ gelu_tanh: null, gelu: null });
export type Activation = t.TypeOf<typeof Activation>;

export const ModelConfigCodec = strict(t.intersection([
  t.type({
    /** Number of token ids (embedding rows, logits width). */
    vocabSize: positiveInt,
    /** Longest sequence (learned position embeddings). */
    contextLength: positiveInt,
    /** Width of the residual stream and of the latents. */
    dModel: positiveInt,
    nLayers: int({ ge: 0 }),
    nHeads: positiveInt,
    /** Dropout on embeddings, attention probabilities and residual branches (GPT-2's three pdrops, one value). */
    dropout: num({ ge: 0, lt: 1 }),
  }),
  t.partial({
    /** MLP hidden width; default 4·dModel. */
    dMlp: positiveInt,
    /** LayerNorm epsilon; default 1e-5 (GPT-2). */
    layerNormEps: num({ gt: 0 }),
    /** GELU flavour; default 'gelu_tanh' (GPT-2's gelu_new). */
    activation: Activation,
  }),
]), 'ModelConfig');
/** A model configuration as written (plain numbers); a decoded one also carries the range brands of the codec. */
export type ModelConfig = t.OutputOf<typeof ModelConfigCodec>;
/** A configuration with every optional field filled in. */
export type ResolvedModelConfig = Required<ModelConfig>;

export function resolveModelConfig(c: ModelConfig): ResolvedModelConfig {
  return {
    vocabSize: c.vocabSize,
    contextLength: c.contextLength,
    dModel: c.dModel,
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    dropout: c.dropout,
    dMlp: c.dMlp ?? 4 * c.dModel,
    layerNormEps: c.layerNormEps ?? 1e-5,
    activation: c.activation ?? 'gelu_tanh',
  };
}

/** Decodes and checks a configuration (including the constraints between fields). */
export function decodeModelConfig(u: unknown): Either<string[], ResolvedModelConfig> {
  const r = ModelConfigCodec.decode(u);
  if (isLeft(r)) return left(formatErrors(r.left));
  const c = resolveModelConfig(r.right);
  const problems: string[] = [];
  if (c.dModel % c.nHeads !== 0) problems.push(`dModel ${c.dModel} is not divisible by nHeads ${c.nHeads}`);
  return problems.length > 0 ? left(problems) : right(c);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Like {@link decodeModelConfig} but throws a {@link ConfigError} naming `source` and every problem. */
export function parseModelConfig(u: unknown, source = 'model config'): ResolvedModelConfig {
  const r = decodeModelConfig(u);
  if (isLeft(r)) throw new ConfigError(`${source}: invalid model config: ${r.left.join('; ')}`);
  return r.right;
}

/**
 * Named configurations, as data. `tiny` is for unit tests; `small` is sized for the CLI's one-minute default
 * run on two CPU cores with a byte-level tokenizer (256 bytes + BOS/EOS/PAD = 259 ids).
 */
export const MODEL_PRESETS = {
  tiny: { vocabSize: 16, contextLength: 16, dModel: 16, nLayers: 2, nHeads: 2, dropout: 0 },
  small: { vocabSize: 259, contextLength: 96, dModel: 96, nLayers: 2, nHeads: 4, dropout: 0 },
} as const satisfies Record<string, ModelConfig>;
export type PresetName = keyof typeof MODEL_PRESETS;

/** A preset with some fields replaced (e.g. the tokenizer's vocabulary size), validated. */
export function presetConfig(name: PresetName, overrides: Partial<ModelConfig> = {}): ResolvedModelConfig {
  const base = MODEL_PRESETS[name];
  if (!base) throw new ConfigError(`unknown model preset '${String(name)}' (known: ${Object.keys(MODEL_PRESETS).join(', ')})`);
  return parseModelConfig({ ...base, ...overrides }, `preset '${name}'`);
}
