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

export const Activation = t.keyof({ gelu_tanh: null, gelu: null });
export type Activation = t.TypeOf<typeof Activation>;

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
    /** GELU flavour; default 'gelu_tanh' (GPT-2's gelu_new). */
    activation: Activation,
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
    activation: c.activation ?? 'gelu_tanh',
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
