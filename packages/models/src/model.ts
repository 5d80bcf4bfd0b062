import {
  type DType,
  Embedding,
  type Indices,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  Rng,
  Tensor,
  add,
  bmm,
  concat,
  copyState,
  dropout,
  gelu,
  indices,
  permute,
  reshape,
  scaledDotProductAttention,
  split,
} from '@ganpo/autograd';
import { type ModelConfig, type ResolvedModelConfig, parseModelConfig } from './config.js';
import { LlamaModel } from './llama.js';
import { attachLora, loraReference } from './lora.js';
import { preNormResidualBlock } from './residual.js';
import { type TokenBatch, checkBatch } from './types.js';

/**
 * A GPT-2 causal language model whose parameter names mirror Hugging Face's GPT-2 (`wte`, `wpe`,
 * `h.N.ln_1`, `h.N.attn.c_attn`, `h.N.attn.c_proj`, `h.N.ln_2`, `h.N.mlp.c_fc`, `h.N.mlp.c_proj`, `ln_f`),
 * with Linear weights stored [in, out] like GPT-2's Conv1D, so a GPT-2 checkpoint loads by name alone.
 */

/** Keys and values of every layer for the positions seen so far, and their attention mask. */
export interface LMCache {
  /** Per layer: k and v, each [B, H, Tpast, dh] (H = nKvHeads for the Llama family, after the rotary embedding). */
  readonly layers: readonly { readonly k: Tensor; readonly v: Tensor }[];
  /** [B, Tpast]: 1 for real tokens, 0 for padding. */
  readonly mask: Float32Array;
  readonly rows: number;
  readonly length: number;
}

export interface ForwardOptions {
  /** Also return every layer's hidden states. */
  outputHiddenStates?: boolean;
  /** Return a cache extending `past` by this call's positions (for incremental decoding). */
  useCache?: boolean;
  /** Keys and values of earlier positions: this call's ids are the positions that follow them. */
  past?: LMCache;
  /** Logits only for the last position of each row ([B, 1, V]); latents stay [B, T, d]. */
  lastPositionOnly?: boolean;
  /**
   * Position ids [B, T] (row-major). Default: the number of real tokens before each token (across `past`
   * too), i.e. 0, 1, 2, ... over the real tokens of a row whichever side it is padded on; pads get the
   * position of the closest real token before them (0 for left padding). For right-padded batches this
   * equals 0..T−1 on every real token.
   */
  positions?: Int32Array;
}

export interface ForwardOutput {
  /** [B, T, V] (or [B, 1, V] with lastPositionOnly). */
  logits: Tensor;
  /** Hidden states after the final LayerNorm, [B, T, d]: GANPO's latents, from the same pass as the logits. */
  latents: Tensor;
  /**
   * With outputHiddenStates: nLayers + 1 tensors [B, T, d]: the embeddings (token + position, after dropout),
   * then the output of each block (before the final LayerNorm; the latents are ln_f of the last one).
   */
  hiddenStates?: Tensor[];
  /** With useCache: the cache extended by this call's positions. */
  cache?: LMCache;
}

export interface CausalLMOptions {
  /** Generator for the initial weights and the dropout streams (default: Rng.seeded(seed ?? 0)). */
  rng?: Rng;
  seed?: number;
  /** float32 for training, float64 for gradient checks. */
  dtype?: DType;
}

/** The one generator all of a model's dropout sites draw from, in a fixed order (its state is saved in checkpoints). */
export interface DropoutSource {
  rng: Rng;
}

/** Causal self-attention with GPT-2's fused q/k/v projection `c_attn` (d → 3d) and output projection `c_proj`. */
export class CausalSelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;

  constructor(private readonly config: ResolvedModelConfig, rng: Rng, dtype: DType, private readonly drops: DropoutSource) {
    super();
    const d = config.dModel;
    const projStd = 0.02 / Math.sqrt(2 * Math.max(config.nLayers, 1));
    this.c_attn = this.registerModule('c_attn', new Linear(d, 3 * d, { rng, init: 'normal', std: 0.02, dtype }));
    this.c_proj = this.registerModule('c_proj', new Linear(d, d, { rng, init: 'normal', std: projStd, dtype }));
  }

  /** x [B, T, d] are new positions following `past` (if any); keyMask [B, Tpast + T]. */
  forward(x: Tensor, keyMask: Indices, past?: { k: Tensor; v: Tensor }): { out: Tensor; k: Tensor; v: Tensor } {
    const [b, t, d] = x.shape;
    const h = this.config.nHeads;
    const dh = d / h;
    const [q0, k0, v0] = split(this.c_attn.forward(x), 3, -1);
    const heads = (y: Tensor) => permute(reshape(y, [b, t, h, dh]), [0, 2, 1, 3]);
    const q = heads(q0);
    let k = heads(k0);
    let v = heads(v0);
    if (past) {
      k = concat([past.k, k], 2);
      v = concat([past.v, v], 2);
    }
    const p = this.config.dropout;
    const attended = scaledDotProductAttention(q, k, v, {
      causal: true,
      keyMask,
      dropout: p > 0 ? { p, rng: this.drops.rng, training: this.training } : undefined,
    });
    const merged = reshape(permute(attended, [0, 2, 1, 3]), [b, t, d]);
    return { out: dropout(this.c_proj.forward(merged), p, this.drops.rng, this.training), k, v };
  }
}

/** GPT-2's MLP: c_fc (d → dMlp), GELU, c_proj (dMlp → d), dropout. */
export class GPT2MLP extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;

  constructor(private readonly config: ResolvedModelConfig, rng: Rng, dtype: DType, private readonly drops: DropoutSource) {
    super();
    const projStd = 0.02 / Math.sqrt(2 * Math.max(config.nLayers, 1));
    this.c_fc = this.registerModule('c_fc', new Linear(config.dModel, config.dMlp, { rng, init: 'normal', std: 0.02, dtype }));
    this.c_proj = this.registerModule('c_proj', new Linear(config.dMlp, config.dModel, { rng, init: 'normal', std: projStd, dtype }));
  }

  forward(x: Tensor): Tensor {
    const h = gelu(this.c_fc.forward(x), this.config.activation === 'gelu' ? 'none' : 'tanh');
    return dropout(this.c_proj.forward(h), this.config.dropout, this.drops.rng, this.training);
  }
}

/** A pre-LayerNorm block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
export class GPT2Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: GPT2MLP;

  constructor(config: ResolvedModelConfig, rng: Rng, dtype: DType, drops: DropoutSource) {
    super();
    const eps = config.layerNormEps;
    this.ln_1 = this.registerModule('ln_1', new LayerNorm(config.dModel, { eps, dtype }));
    this.attn = this.registerModule('attn', new CausalSelfAttention(config, rng, dtype, drops));
    this.ln_2 = this.registerModule('ln_2', new LayerNorm(config.dModel, { eps, dtype }));
    this.mlp = this.registerModule('mlp', new GPT2MLP(config, rng, dtype, drops));
  }

  forward(x: Tensor, keyMask: Indices, past?: { k: Tensor; v: Tensor }): { out: Tensor; k: Tensor; v: Tensor } {
    return preNormResidualBlock(x, { attentionNorm: this.ln_1, attend: (normed) => this.attn.forward(normed, keyMask, past), mlpNorm: this.ln_2, mlp: this.mlp });
  }
}

/**
 * The policy / reference language model, one class for both architectures (the config's `architecture`):
 *  - 'gpt2': token and learned position embeddings (`wte`, `wpe`), nLayers pre-LayerNorm blocks (`h`), a final
 *    LayerNorm (`ln_f`), an LM head tied to `wte`;
 *  - 'llama': the Llama-family trunk under `model.` (see llama.ts: RMSNorm, rotary positions, grouped-query
 *    attention, SwiGLU) and the LM head tied to `model.embed_tokens` or a separate `lm_head` ([vocab, d]).
 * Parameter names are Hugging Face's for each, so checkpoints load by name. With `config.lora`, the target
 * Linear layers carry LoRA adapters (see lora.ts).
 */
export class CausalLM extends Module {
  readonly config: ResolvedModelConfig;
  readonly dtype: DType;
  /** GPT-2 only. */
  readonly wte?: Embedding;
  readonly wpe?: Embedding;
  readonly h?: ModuleList<GPT2Block>;
  readonly ln_f?: LayerNorm;
  /** Llama family only: the trunk, and the head when it is not tied. */
  readonly model?: LlamaModel;
  readonly lm_head?: Linear;
  /** Dropout draws, shared by every site; `dropoutRng` gets and sets it (checkpoints save it for exact resume). */
  private readonly drops: DropoutSource;
  /** Whether LoRA adapters contribute (the reference view switches them off). */
  readonly adapters = { enabled: true };

  constructor(config: ModelConfig, options: CausalLMOptions = {}) {
    super();
    this.config = parseModelConfig(config);
    this.dtype = options.dtype ?? 'float32';
    const rng = options.rng ?? Rng.seeded(options.seed ?? 0);
    const c = this.config;
    const dtype = this.dtype;
    const drops: DropoutSource = { rng: Rng.seeded(0) };
    this.drops = drops;
    if (c.architecture === 'llama') {
      this.model = this.registerModule('model', new LlamaModel(c, rng, dtype, drops));
      if (!c.tiedHead) {
        this.lm_head = this.registerModule('lm_head', new Linear(c.dModel, c.vocabSize, { rng, bias: false, init: 'normal', std: 0.02, dtype, layout: 'out_in' }));
      }
    } else {
      this.wte = this.registerModule('wte', new Embedding(c.vocabSize, c.dModel, { rng, std: 0.02, dtype }));
      this.wpe = this.registerModule('wpe', new Embedding(c.contextLength, c.dModel, { rng, std: 0.02, dtype }));
      this.h = this.registerModule('h', new ModuleList(Array.from({ length: c.nLayers }, () => new GPT2Block(c, rng, dtype, drops))));
      this.ln_f = this.registerModule('ln_f', new LayerNorm(c.dModel, { eps: c.layerNormEps, dtype }));
    }
    drops.rng = rng.split();
    if (c.lora) attachLora(this, c.lora, rng.split());
  }

  /** The LM head's weight [vocab, d]: the token embedding when tied, else `lm_head.weight`. */
  get headWeight(): Tensor {
    if (this.lm_head) return this.lm_head.weight;
    return (this.model ? this.model.embed_tokens : this.wte!).weight;
  }

  /** The generator behind every dropout site of this model (used only in training mode with dropout > 0). */
  get dropoutRng(): Rng {
    return this.drops.rng;
  }

  set dropoutRng(rng: Rng) {
    this.drops.rng = rng;
  }

  /**
   * Runs the model on token ids [B, T] (an {@link Indices}, or a batch with ids, rows, seqLen and an optional
   * attention mask). Padded positions (mask 0) are never attended to; their own outputs are meaningless.
   */
  forward(input: TokenBatch | Indices, attentionMask?: ArrayLike<number> | null, options: ForwardOptions = {}): ForwardOutput {
    const { ids, rows, seqLen, mask } = this.readInput(input, attentionMask);
    const c = this.config;
    const past = options.past;
    if (past) {
      if (past.rows !== rows) throw new Error(`CausalLM.forward: cache has ${past.rows} rows, input ${rows}`);
      if (past.layers.length !== c.nLayers) throw new Error(`CausalLM.forward: cache has ${past.layers.length} layers, model ${c.nLayers}`);
    }
    const pastLen = past?.length ?? 0;
    const totalLen = pastLen + seqLen;
    // The key mask over past and new positions.
    const fullMask = new Float32Array(rows * totalLen);
    for (let r = 0; r < rows; r++) {
      if (past) fullMask.set(past.mask.subarray(r * pastLen, (r + 1) * pastLen), r * totalLen);
      fullMask.set(mask.subarray(r * seqLen, (r + 1) * seqLen), r * totalLen + pastLen);
    }
    const positions = options.positions ?? positionsFromMask(fullMask, rows, totalLen, pastLen);
    if (positions.length !== rows * seqLen) {
      throw new Error(`CausalLM.forward: ${positions.length} positions for ${rows}·${seqLen} tokens`);
    }
    // Ids of padding are never looked at; out-of-range pad ids (e.g. −1) are read as 0.
    const safeIds = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const real = mask[i] !== 0;
      if (id >= 0 && id < c.vocabSize) safeIds[i] = id;
      else if (real) throw new Error(`CausalLM.forward: token id ${id} at row ${Math.floor(i / seqLen)}, position ${i % seqLen} is outside the vocabulary [0, ${c.vocabSize})`);
      const pos = positions[i];
      if (real && (pos < 0 || pos >= c.contextLength)) {
        throw new Error(`CausalLM.forward: position ${pos} at row ${Math.floor(i / seqLen)} is outside the context length ${c.contextLength}`);
      }
    }
    const clampedPositions = positions.map((p) => Math.min(Math.max(p, 0), c.contextLength - 1));
    const keyMask = indices(fullMask, [rows, totalLen]);
    const hidden: Tensor[] | undefined = options.outputHiddenStates ? [] : undefined;
    const ids2 = indices(safeIds, [rows, seqLen]);
    const { x, layers } = this.model
      ? this.llamaTrunk(this.model, ids2, clampedPositions, keyMask, past, hidden)
      : this.gpt2Trunk(ids2, clampedPositions, keyMask, past, hidden);
    const latents = this.model ? this.model.norm.forward(x) : this.ln_f!.forward(x);
    const d = c.dModel;
    const headInput = options.lastPositionOnly ? lastPositions(latents) : latents;
    const t = headInput.shape[1];
    // logits = latents · Wᵀ with W [vocab, d] (the tied embedding or lm_head), read transposed: no copy.
    const logits = reshape(bmm(reshape(headInput, [rows * t, d]), this.headWeight, false, true), [rows, t, c.vocabSize]);
    const result: ForwardOutput = { logits, latents };
    if (hidden) result.hiddenStates = hidden;
    if (options.useCache) result.cache = { layers, mask: fullMask, rows, length: totalLen };
    return result;
  }

  private gpt2Trunk(ids: Indices, positions: Int32Array, keyMask: Indices, past: LMCache | undefined, hidden: Tensor[] | undefined) {
    const tokens = this.wte!.forward(ids);
    const pos = this.wpe!.forward(indices(positions, ids.shape));
    const x = dropout(add(tokens, pos), this.config.dropout, this.drops.rng, this.training);
    const blocks = this.h!;
    return runLayers(x, blocks.length, (h, i) => blocks.at(i).forward(h, keyMask, past?.layers[i]), hidden);
  }

  private llamaTrunk(trunk: LlamaModel, ids: Indices, positions: Int32Array, keyMask: Indices, past: LMCache | undefined, hidden: Tensor[] | undefined) {
    const [rows, t] = ids.shape;
    const { cos, sin } = trunk.rotary(positions, rows, t, this.dtype);
    const layers = trunk.layers;
    return runLayers(trunk.embed_tokens.forward(ids), layers.length, (h, i) => layers.at(i).forward(h, { keyMask, cos, sin }, past?.layers[i]), hidden);
  }

  private readInput(input: TokenBatch | Indices, attentionMask?: ArrayLike<number> | null) {
    let ids: Int32Array;
    let rows: number;
    let seqLen: number;
    let mask: ArrayLike<number> | null | undefined = attentionMask;
    if ('rows' in input) {
      checkBatch('CausalLM.forward', input);
      ({ ids, rows, seqLen } = input);
      mask = mask ?? input.attentionMask;
    } else {
      if (input.shape.length !== 2) throw new Error(`CausalLM.forward: ids must be [B, T], got [${input.shape.join(', ')}]`);
      ids = input.data;
      [rows, seqLen] = input.shape;
    }
    if (mask && mask.length !== rows * seqLen) {
      throw new Error(`CausalLM.forward: attention mask has ${mask.length} entries for ids [${rows}, ${seqLen}]`);
    }
    const m = mask ? Float32Array.from(mask, (v) => (v !== 0 ? 1 : 0)) : new Float32Array(rows * seqLen).fill(1);
    return { ids, rows, seqLen, mask: m };
  }
}

type LayerStep = (x: Tensor, i: number) => { out: Tensor; k: Tensor; v: Tensor };

/** Runs `count` layers from the embeddings x, collecting each layer's keys and values and (optionally) hidden states. */
function runLayers(x: Tensor, count: number, step: LayerStep, hidden: Tensor[] | undefined) {
  hidden?.push(x);
  const layers: { k: Tensor; v: Tensor }[] = [];
  for (let i = 0; i < count; i++) {
    const out = step(x, i);
    x = out.out;
    layers.push({ k: out.k, v: out.v });
    hidden?.push(x);
  }
  return { x, layers };
}

/** The last position of each row: [B, T, d] → [B, 1, d]. */
function lastPositions(x: Tensor): Tensor {
  const [b, t, d] = x.shape;
  return split(x, [t - 1, 1], 1)[1].reshape([b, 1, d]);
}

/**
 * Position ids of the last `total − pastLen` columns of a [rows, total] mask: the number of real tokens
 * strictly before each position (so 0, 1, 2, ... over a row's real tokens), 0 for leading padding.
 */
export function positionsFromMask(mask: ArrayLike<number>, rows: number, total: number, pastLen = 0): Int32Array {
  const t = total - pastLen;
  const out = new Int32Array(rows * t);
  for (let r = 0; r < rows; r++) {
    let seen = 0;
    for (let j = 0; j < total; j++) {
      const real = mask[r * total + j] !== 0;
      if (j >= pastLen) out[r * t + j - pastLen] = real ? seen : Math.max(seen - 1, 0);
      if (real) seen++;
    }
  }
  return out;
}

/** A new model with the same configuration, dtype and values (gradients as the source's; training mode as the source). */
export function cloneModel(model: CausalLM): CausalLM {
  const copy = new CausalLM(model.config, { dtype: model.dtype });
  copyState(copy, model);
  const frozen = new Set(model.namedParameters().filter(([, p]) => !p.requiresGrad).map(([n]) => n));
  for (const [n, p] of copy.namedParameters()) if (frozen.has(n)) p.requireGrad(false);
  return copy.train(model.training);
}

/**
 * The reference policy: a frozen copy (no parameter gradients, evaluation mode, no dropout). For a model with LoRA
 * adapters it is instead the same model with its adapters off (no second copy of the weights, as TRL does with
 * PEFT), after the adapters' current update has been folded into the base weights (see {@link loraReference}).
 */
export function freezeReference(model: CausalLM): CausalLM {
  if (model.config.lora) return loraReference(model);
  return cloneModel(model).freeze();
}
