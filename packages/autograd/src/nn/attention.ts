import { allocLike, formatShape } from '@ganpo/kernels';
import type { DType } from '@ganpo/kernels';
import { add, mul } from '../ops/elementwise.js';
import { bmm } from '../ops/linalg.js';
import { type Indices, concat, permute, reshape } from '../ops/movement.js';
import { dropout as dropoutOp, softmax } from '../ops/nn.js';
import type { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';
import { type Activation, Dropout, LayerNorm, Linear, MLP } from './layers.js';
import { Module } from './module.js';

/**
 * The additive bias that masks a score: large and negative but finite, so that a row whose keys are all masked
 * (a fully padded sequence) still has a finite softmax (uniform over its keys) and finite gradients, where −∞
 * would give NaN. After the max-shift in softmax, exp(−1e9) is exactly 0 in float32 and float64, so a masked key
 * gets weight exactly 0 whenever its row has at least one visible key. Fully masked rows carry no information:
 * exclude them with the loss mask (in float64 their scores s − 1e9 keep s only to ~1e−7, so finite-difference
 * checks through them measure rounding noise).
 */
export const MASK_BIAS = -1e9;

export interface AttentionOptions {
  /**
   * Causal masking. Queries are the LAST Tq positions of the key sequence: query i sits at absolute position
   * Tk − Tq + i and sees keys 0 … Tk − Tq + i. With Tq = Tk this is the usual lower-triangular mask; with Tq < Tk
   * (KV-cached generation) the new queries see every cached key and the new keys up to themselves.
   */
  causal?: boolean;
  /** [B, Tk]: nonzero for a real token, 0 for padding; padded keys get the bias MASK_BIAS. */
  keyMask?: Tensor | Indices;
  /** Dropout on the attention probabilities (only when training is true and p > 0). */
  dropout?: { p: number; rng: Rng; training: boolean };
  /** Multiplies q·kᵀ; default 1/√dh. */
  scale?: number;
}

/**
 * softmax(q·kᵀ·scale + bias)·v for q [B, H, Tq, dh] and k, v [B, H, Tk, dh], giving [B, H, Tq, dh].
 * The bias is 0 where a key is visible and MASK_BIAS where it is masked (causal and/or keyMask); it is a constant,
 * one tensor [B or 1, 1, Tq, Tk] broadcast over the heads.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new Error(`scaledDotProductAttention: q, k, v must be [B, H, T, dh], got ${formatShape(q.shape)}, ${formatShape(k.shape)}, ${formatShape(v.shape)}`);
  }
  const [b, h, tq, dh] = q.shape;
  const tk = k.shape[2];
  const sameBatch = k.shape[0] === b && k.shape[1] === h && v.shape[0] === b && v.shape[1] === h;
  if (!sameBatch || k.shape[3] !== dh || v.shape[2] !== tk || v.shape[3] !== dh) {
    throw new Error(`scaledDotProductAttention: shapes q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)} do not match`);
  }
  const { causal = false, keyMask, scale = 1 / Math.sqrt(dh) } = options;
  const q3 = reshape(q, [b * h, tq, dh]);
  const k3 = reshape(k, [b * h, tk, dh]);
  const v3 = reshape(v, [b * h, tk, dh]);
  // The scale multiplies q [.., Tq, dh] rather than the scores [.., Tq, Tk]: the same product, on Tk/dh× fewer elements.
  let scores = reshape(bmm(mul(q3, scale), k3, false, true), [b, h, tq, tk]);
  const bias = attentionBias(b, tq, tk, causal, keyMask, q.dtype);
  if (bias) scores = add(scores, bias);
  let probs = softmax(scores, -1);
  const drop = options.dropout;
  if (drop && drop.training && drop.p > 0) probs = dropoutOp(probs, drop.p, drop.rng, true);
  return reshape(bmm(reshape(probs, [b * h, tq, tk]), v3), [b, h, tq, dh]);
}

/** The additive mask [B or 1, 1, Tq, Tk] (null when nothing is masked). */
export function attentionBias(
  b: number,
  tq: number,
  tk: number,
  causal: boolean,
  keyMask: Tensor | Indices | undefined,
  dtype: DType,
): Tensor | null {
  if (!causal && !keyMask) return null;
  const offset = tk - tq;
  if (causal && offset < 0) throw new Error(`scaledDotProductAttention: causal attention with more queries (${tq}) than keys (${tk})`);
  if (keyMask && (keyMask.shape.length !== 2 || keyMask.shape[0] !== b || keyMask.shape[1] !== tk)) {
    throw new Error(`scaledDotProductAttention: keyMask ${formatShape(keyMask.shape)} must be [${b}, ${tk}]`);
  }
  const rows = keyMask ? b : 1;
  const data = allocLike(dtype, rows * tq * tk);
  const km = keyMask?.data;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < tq; i++) {
      const o = (r * tq + i) * tk;
      for (let j = 0; j < tk; j++) {
        const hidden = (causal && j > offset + i) || (km !== undefined && km[r * tk + j] === 0);
        if (hidden) data[o + j] = MASK_BIAS;
      }
    }
  }
  return new Tensor(data, [rows, 1, tq, tk], null);
}

/** Cached keys and values of one attention layer, each [B, H, Tpast, dh]. */
export interface KVCache {
  k: Tensor;
  v: Tensor;
}

export interface MultiHeadAttentionOptions {
  rng: Rng;
  /** Dropout on the attention probabilities while training (default 0). */
  dropout?: number;
  /** Biases on the four projections (default true). */
  bias?: boolean;
  init?: 'xavier' | 'normal';
  dtype?: DType;
}

export interface AttentionCallOptions {
  causal?: boolean;
  /** [B, Tk] with 1 for real tokens, 0 for padding (Tk includes cached positions in forwardWithCache). */
  keyMask?: Tensor | Indices;
}

/**
 * Multi-head self-attention with separate q, k, v and out projections (parameters q.weight, q.bias, k.*, v.*,
 * out.*), each a Linear(dModel, dModel). x [B, T, dModel] → [B, T, dModel].
 */
export class MultiHeadAttention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;
  readonly dModel: number;
  readonly nHeads: number;
  readonly headDim: number;
  readonly dropoutP: number;
  private readonly rng: Rng;

  constructor(dModel: number, nHeads: number, options: MultiHeadAttentionOptions) {
    super();
    if (dModel % nHeads !== 0) throw new Error(`MultiHeadAttention: dModel ${dModel} is not divisible by nHeads ${nHeads}`);
    const { rng, dropout = 0, bias = true, init, dtype } = options;
    this.dModel = dModel;
    this.nHeads = nHeads;
    this.headDim = dModel / nHeads;
    this.dropoutP = dropout;
    const lin = () => new Linear(dModel, dModel, { rng, bias, init, dtype });
    this.q = this.registerModule('q', lin());
    this.k = this.registerModule('k', lin());
    this.v = this.registerModule('v', lin());
    this.out = this.registerModule('out', lin());
    this.rng = this.registerRng('rng', rng.split());
  }

  forward(x: Tensor, options: AttentionCallOptions = {}): Tensor {
    return this.forwardWithCache(x, options).out;
  }

  /**
   * Attention over the cached keys/values followed by this call's: x [B, T, dModel] holds the new positions,
   * `past` the previous ones. Returns the output for the new positions and the cache extended by them.
   */
  forwardWithCache(x: Tensor, options: AttentionCallOptions & { past?: KVCache } = {}): { out: Tensor; present: KVCache } {
    if (x.rank !== 3 || x.shape[2] !== this.dModel) {
      throw new Error(`MultiHeadAttention: input ${formatShape(x.shape)} must be [B, T, ${this.dModel}]`);
    }
    const [b, t] = x.shape;
    const heads = (y: Tensor) => permute(reshape(y, [b, t, this.nHeads, this.headDim]), [0, 2, 1, 3]);
    const q = heads(this.q.forward(x));
    let k = heads(this.k.forward(x));
    let v = heads(this.v.forward(x));
    if (options.past) {
      k = concat([options.past.k, k], 2);
      v = concat([options.past.v, v], 2);
    }
    const attended = scaledDotProductAttention(q, k, v, {
      causal: options.causal,
      keyMask: options.keyMask,
      dropout: this.dropoutP > 0 ? { p: this.dropoutP, rng: this.rng, training: this.training } : undefined,
    });
    const merged = reshape(permute(attended, [0, 2, 1, 3]), [b, t, this.dModel]);
    return { out: this.out.forward(merged), present: { k, v } };
  }
}

export interface TransformerBlockOptions {
  rng: Rng;
  /** Dropout on attention probabilities and on both residual branches while training (default 0). */
  dropout?: number;
  activation?: Activation;
  /** Causal self-attention by default for this block (a call may override it). */
  causal?: boolean;
  init?: 'xavier' | 'normal';
  dtype?: DType;
}

/**
 * A pre-norm transformer block (GPT-2): x + attn(ln1(x)), then x + mlp(ln2(x)), with mlp = Linear(d, dFF),
 * activation, Linear(dFF, d). Parameters: ln1.*, attn.{q,k,v,out}.*, ln2.*, mlp.layers.{0,1}.*.
 */
export class TransformerBlock extends Module {
  readonly ln1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln2: LayerNorm;
  readonly mlp: MLP;
  readonly causal: boolean;
  private readonly drop: Dropout | null;

  constructor(dModel: number, nHeads: number, dFF: number, options: TransformerBlockOptions) {
    super();
    const { rng, dropout = 0, activation = 'gelu', causal = false, init, dtype } = options;
    this.causal = causal;
    this.ln1 = this.registerModule('ln1', new LayerNorm(dModel, { dtype }));
    this.attn = this.registerModule('attn', new MultiHeadAttention(dModel, nHeads, { rng, dropout, init, dtype }));
    this.ln2 = this.registerModule('ln2', new LayerNorm(dModel, { dtype }));
    this.mlp = this.registerModule('mlp', new MLP([dModel, dFF, dModel], { rng, activation, init, dtype }));
    this.drop = dropout > 0 ? this.registerModule('dropout', new Dropout(dropout, rng.split())) : null;
  }

  forward(x: Tensor, options: AttentionCallOptions = {}): Tensor {
    return this.forwardWithCache(x, options).out;
  }

  /** The block over new positions x given the attention cache of the previous ones (see MultiHeadAttention). */
  forwardWithCache(x: Tensor, options: AttentionCallOptions & { past?: KVCache } = {}): { out: Tensor; present: KVCache } {
    const residual = (y: Tensor) => (this.drop ? this.drop.forward(y) : y);
    const { out: a, present } = this.attn.forwardWithCache(this.ln1.forward(x), {
      causal: options.causal ?? this.causal,
      keyMask: options.keyMask,
      past: options.past,
    });
    const h = add(x, residual(a));
    return { out: add(h, residual(this.mlp.forward(this.ln2.forward(h)))), present };
  }
}
