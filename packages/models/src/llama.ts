import {
  type DType,
  Embedding,
  type Indices,
  Linear,
  Module,
  ModuleList,
  type Rng,
  type Tensor,
  applyRotary,
  concat,
  mul,
  onesInit,
  permute,
  repeatKv,
  reshape,
  rmsNorm,
  rotaryTables,
  scaledDotProductAttention,
  silu,
} from '@ganpo/autograd';
import type { ResolvedModelConfig } from './config.js';
import type { DropoutSource } from './model.js';
import { preNormResidualBlock } from './residual.js';

/**
 * The Llama-family decoder (Llama, Qwen2, Mistral without a sliding window) under Hugging Face's parameter names:
 * `model.embed_tokens`, `model.layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm,
 * mlp.{gate,up,down}_proj}`, `model.norm`; Linear weights in nn.Linear's [out, in] layout. RMSNorm, rotary position
 * embeddings (rotate-half, θ = ropeTheta), grouped-query attention (nKvHeads), a SwiGLU MLP, optional q/k/v biases.
 * CausalLM owns the embedding lookup's inputs, the masks, the positions and the LM head.
 */

/** RMSNorm with a learned scale `weight` (ones). */
export class RMSNorm extends Module {
  weight: Tensor;
  constructor(dim: number, readonly eps: number, dtype: DType) {
    super();
    this.weight = this.registerParameter('weight', onesInit([dim], { dtype }));
  }
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

const linear = (nIn: number, nOut: number, bias: boolean, rng: Rng, dtype: DType) =>
  new Linear(nIn, nOut, { rng, bias, init: 'normal', std: 0.02, dtype, layout: 'out_in' });

/** Keys and values of one layer after the rotary embedding, [B, nKvHeads, T, dh] (not repeated for the groups). */
export interface LayerCache {
  readonly k: Tensor;
  readonly v: Tensor;
}

/** Per-call inputs shared by every layer. */
export interface LayerInputs {
  readonly keyMask: Indices;
  readonly cos: Tensor;
  readonly sin: Tensor;
}

export class LlamaAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  private readonly headDim: number;

  constructor(private readonly config: ResolvedModelConfig, rng: Rng, dtype: DType, private readonly drops: DropoutSource) {
    super();
    const { dModel: d, nHeads, nKvHeads, qkvBias } = config;
    this.headDim = d / nHeads;
    this.q_proj = this.registerModule('q_proj', linear(d, nHeads * this.headDim, qkvBias, rng, dtype));
    this.k_proj = this.registerModule('k_proj', linear(d, nKvHeads * this.headDim, qkvBias, rng, dtype));
    this.v_proj = this.registerModule('v_proj', linear(d, nKvHeads * this.headDim, qkvBias, rng, dtype));
    this.o_proj = this.registerModule('o_proj', linear(nHeads * this.headDim, d, false, rng, dtype));
  }

  forward(x: Tensor, inputs: LayerInputs, past?: LayerCache): { out: Tensor; k: Tensor; v: Tensor } {
    const [b, t, d] = x.shape;
    const { nHeads, nKvHeads } = this.config;
    const dh = this.headDim;
    const heads = (y: Tensor, h: number) => permute(reshape(y, [b, t, h, dh]), [0, 2, 1, 3]);
    const q = applyRotary(heads(this.q_proj.forward(x), nHeads), inputs.cos, inputs.sin);
    let k = applyRotary(heads(this.k_proj.forward(x), nKvHeads), inputs.cos, inputs.sin);
    let v = heads(this.v_proj.forward(x), nKvHeads);
    if (past) {
      k = concat([past.k, k], 2);
      v = concat([past.v, v], 2);
    }
    const groups = nHeads / nKvHeads;
    const p = this.config.dropout;
    const attended = scaledDotProductAttention(q, repeatKv(k, groups), repeatKv(v, groups), {
      causal: true,
      keyMask: inputs.keyMask,
      dropout: p > 0 ? { p, rng: this.drops.rng, training: this.training } : undefined,
    });
    const merged = reshape(permute(attended, [0, 2, 1, 3]), [b, t, d]);
    return { out: this.o_proj.forward(merged), k, v };
  }
}

/** SwiGLU: down_proj(silu(gate_proj(x)) · up_proj(x)). */
export class LlamaMLP extends Module {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;

  constructor(config: ResolvedModelConfig, rng: Rng, dtype: DType) {
    super();
    this.gate_proj = this.registerModule('gate_proj', linear(config.dModel, config.dMlp, false, rng, dtype));
    this.up_proj = this.registerModule('up_proj', linear(config.dModel, config.dMlp, false, rng, dtype));
    this.down_proj = this.registerModule('down_proj', linear(config.dMlp, config.dModel, false, rng, dtype));
  }

  forward(x: Tensor): Tensor {
    return this.down_proj.forward(mul(silu(this.gate_proj.forward(x)), this.up_proj.forward(x)));
  }
}

/** x + attn(input_layernorm(x)), then x + mlp(post_attention_layernorm(x)). */
export class LlamaDecoderLayer extends Module {
  readonly input_layernorm: RMSNorm;
  readonly self_attn: LlamaAttention;
  readonly post_attention_layernorm: RMSNorm;
  readonly mlp: LlamaMLP;

  constructor(config: ResolvedModelConfig, rng: Rng, dtype: DType, drops: DropoutSource) {
    super();
    const eps = config.layerNormEps;
    this.input_layernorm = this.registerModule('input_layernorm', new RMSNorm(config.dModel, eps, dtype));
    this.self_attn = this.registerModule('self_attn', new LlamaAttention(config, rng, dtype, drops));
    this.post_attention_layernorm = this.registerModule('post_attention_layernorm', new RMSNorm(config.dModel, eps, dtype));
    this.mlp = this.registerModule('mlp', new LlamaMLP(config, rng, dtype));
  }

  forward(x: Tensor, inputs: LayerInputs, past?: LayerCache): { out: Tensor; k: Tensor; v: Tensor } {
    return preNormResidualBlock(x, {
      attentionNorm: this.input_layernorm,
      attend: (normed) => this.self_attn.forward(normed, inputs, past),
      mlpNorm: this.post_attention_layernorm,
      mlp: this.mlp,
    });
  }
}

/** The trunk under `model.`: token embedding, decoder layers, final norm. */
export class LlamaModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<LlamaDecoderLayer>;
  readonly norm: RMSNorm;

  constructor(private readonly config: ResolvedModelConfig, rng: Rng, dtype: DType, drops: DropoutSource) {
    super();
    const c = config;
    this.embed_tokens = this.registerModule('embed_tokens', new Embedding(c.vocabSize, c.dModel, { rng, std: 0.02, dtype }));
    this.layers = this.registerModule('layers', new ModuleList(Array.from({ length: c.nLayers }, () => new LlamaDecoderLayer(c, rng, dtype, drops))));
    this.norm = this.registerModule('norm', new RMSNorm(c.dModel, c.layerNormEps, dtype));
  }

  /** The rotary tables for position ids [rows, T]. */
  rotary(positions: ArrayLike<number>, rows: number, t: number, dtype: DType): { cos: Tensor; sin: Tensor } {
    const c = this.config;
    return rotaryTables(positions, rows, t, c.dModel / c.nHeads, c.ropeTheta, dtype);
  }
}
