import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

/**
 * The model configuration, as an io-ts codec: configuration files (config.json, CLI flags) cross into the
 * program through it. `decodeModelConfig` returns an Either with messages naming the field; `parseModelConfig`
 * throws one clear error. Optional fields are filled by `resolveModelConfig`.
 */

const integer = (min: number) =>
  new t.Type<number, number, unknown>(
    `integer ≥ ${min}`,
    (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= min,
    (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= min ? t.success(u) : t.failure(u, c)),
    t.identity,
  );

const probability = new t.Type<number, number, unknown>(
  'number in [0, 1)',
  (u): u is number => typeof u === 'number' && u >= 0 && u < 1,
  (u, c) => (typeof u === 'number' && u >= 0 && u < 1 ? t.success(u) : t.failure(u, c)),
  t.identity,
);

const positive = new t.Type<number, number, unknown>(
  'positive number',
  (u): u is number => typeof u === 'number' && u > 0 && Number.isFinite(u),
  (u, c) => (typeof u === 'number' && u > 0 && Number.isFinite(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

export const Activation = t.keyof({ gelu_tanh: null, gelu: null, silu: null });
export type Activation = t.TypeOf<typeof Activation>;

export const Architecture = t.keyof({ gpt2: null, llama: null });
export type Architecture = t.TypeOf<typeof Architecture>;
export const HfModelType = t.keyof({ gpt2: null, llama: null, qwen2: null, mistral: null });
export type HfModelType = t.TypeOf<typeof HfModelType>;

/** LoRA (PEFT's LoraConfig fields, our spelling): rank r, scale alpha/r, dropout on the adapter input, target layer names. */
export const LoraConfigCodec = t.type({
  r: integer(1),
  alpha: positive,
  dropout: probability,
  /** Names of the Linear layers that get adapters (the last part of their path, e.g. q_proj, v_proj). */
  targets: t.array(t.string),
});
export type LoraConfig = t.TypeOf<typeof LoraConfigCodec>;

export const ModelConfigCodec = t.intersection([
  t.type({
    /** Number of token ids (embedding rows, logits width). */
    vocabSize: integer(1),
    /** Longest sequence (learned position embeddings). */
    contextLength: integer(1),
    /** Width of the residual stream and of the latents. */
    dModel: integer(1),
    nLayers: integer(0),
    nHeads: integer(1),
    /** Dropout on embeddings, attention probabilities and residual branches (GPT-2's three pdrops, one value). */
    dropout: probability,
  }),
  t.partial({
    /** MLP hidden width; default 4·dModel. */
    dMlp: integer(1),
    /** LayerNorm epsilon; default 1e-5 (GPT-2). */
    layerNormEps: positive,
    /** GELU flavour for GPT-2 (default 'gelu_tanh', GPT-2's gelu_new); 'silu' for the Llama family's SwiGLU. */
    activation: Activation,
    /** 'gpt2' (the default) or 'llama' (the Llama family: Llama, Qwen2, Mistral). */
    architecture: Architecture,
    /** Llama family: key/value heads of grouped-query attention (default nHeads). */
    nKvHeads: integer(1),
    /** Llama family: the rotary embeddings' base θ (default 10000). */
    ropeTheta: positive,
    /** Llama family: biases on the q, k and v projections (Qwen2; default false). */
    qkvBias: t.boolean,
    /** Llama family: the LM head shares the token embedding (default true); false gives a separate lm_head. */
    tiedHead: t.boolean,
    /** The Hugging Face model_type written on export (default 'gpt2' or 'llama' after the architecture). */
    hfModelType: HfModelType,
    /** LoRA adapters on the named Linear layers (null: none, the default). */
    lora: t.union([LoraConfigCodec, t.null]),
  }),
]);
export type ModelConfig = t.TypeOf<typeof ModelConfigCodec>;
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
    activation: c.activation ?? (c.architecture === 'llama' ? 'silu' : 'gelu_tanh'),
    architecture: c.architecture ?? 'gpt2',
    nKvHeads: c.nKvHeads ?? c.nHeads,
    ropeTheta: c.ropeTheta ?? 10000,
    qkvBias: c.qkvBias ?? false,
    tiedHead: c.tiedHead ?? true,
    hfModelType: c.hfModelType ?? (c.architecture === 'llama' ? 'llama' : 'gpt2'),
    lora: c.lora ?? null,
  };
}

/** io-ts errors as one line per failing field: `dModel: expected integer ≥ 1, got -3`. */
export function formatErrors(errors: t.Errors): string[] {
  const lines = errors.map((e) => {
    const path = e.context
      .map((c) => c.key)
      .filter((k) => k !== '' && !/^\d+$/.test(k))
      .join('.');
    const expected = e.context[e.context.length - 1]?.type.name ?? 'a valid value';
    return `${path || '(root)'}: expected ${expected}, got ${JSON.stringify(e.value)}`;
  });
  return [...new Set(lines)];
}

/** Decodes and checks a configuration (including the constraints between fields). */
export function decodeModelConfig(u: unknown): Either<string[], ResolvedModelConfig> {
  const r = ModelConfigCodec.decode(u);
  if (isLeft(r)) return left(formatErrors(r.left));
  const c = resolveModelConfig(r.right);
  const problems: string[] = [];
  if (c.dModel % c.nHeads !== 0) problems.push(`dModel ${c.dModel} is not divisible by nHeads ${c.nHeads}`);
  if (c.architecture === 'gpt2') {
    if (c.activation === 'silu') problems.push(`activation 'silu' is for the llama architecture; GPT-2 uses gelu_tanh or gelu`);
    if (c.nKvHeads !== c.nHeads || c.qkvBias || !c.tiedHead) problems.push('nKvHeads, qkvBias and tiedHead are llama-architecture fields (GPT-2 has full attention heads, fused biased q/k/v, a tied head)');
  } else {
    if (c.activation !== 'silu') problems.push(`the llama architecture uses activation 'silu' (SwiGLU), got '${c.activation}'`);
    if (c.nHeads % c.nKvHeads !== 0) problems.push(`nHeads ${c.nHeads} is not a multiple of nKvHeads ${c.nKvHeads}`);
    if ((c.dModel / c.nHeads) % 2 !== 0) problems.push(`head dimension ${c.dModel / c.nHeads} must be even for rotary embeddings`);
  }
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
