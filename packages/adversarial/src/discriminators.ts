import {
  Dropout,
  Linear,
  Module,
  ModuleList,
  type Rng,
  SpectralNormLinear,
  type Tensor,
  TransformerBlock,
  add,
  gelu,
  normalInit,
  reshape,
  slice,
  spectralNorm,
} from '@ganpo/autograd';
import type { DType } from '@ganpo/autograd';
import { type Pooling, type PoolingMasks, poolLatents } from './pooling.js';

/**
 * A critic over latent sequences: latents [B, T, d] (with masks) → one real-valued score (a logit) per sequence [B].
 * `train()` / `eval()` switch dropout (and spectral normalisation's power iteration) on and off; `freeze()`
 * removes parameter gradients (the policy step uses frozen discriminators, see `Ganpo.term`).
 */
export abstract class Discriminator extends Module {
  abstract readonly inputDim: number;
  abstract readonly pooling: Pooling;
  abstract forward(latents: Tensor, masks?: PoolingMasks): Tensor;
}

type Projection = Linear | SpectralNormLinear;

/** A Linear layer (Xavier-uniform weight, zero bias), spectral-normalised when asked. */
function projection(inDim: number, outDim: number, rng: Rng, normalise: boolean, dtype: DType): Projection {
  const linear = new Linear(inDim, outDim, { rng, init: 'xavier', dtype });
  return normalise ? spectralNorm(linear, { rng }) : linear;
}

function checkInput(name: string, latents: Tensor, inputDim: number): void {
  if (latents.rank !== 3 || latents.shape[2] !== inputDim) {
    throw new Error(`${name}: latents [${latents.shape.join(', ')}] must be [B, T, ${inputDim}]`);
  }
}

export interface TransformerDiscriminatorOptions {
  /** Width d of the latents it scores (the language model's hidden size). */
  inputDim: number;
  /** Draws the weights (and, split off, the dropout streams). */
  rng: Rng;
  /** Model width of the discriminator (default 64; the reference uses 512 for 2B–8B models). */
  width?: number;
  /** Number of pre-norm encoder layers (default 1; reference 2). */
  layers?: number;
  /** Attention heads per layer (default 4; reference 8). */
  heads?: number;
  /** Feed-forward size (default 4·width). */
  ffDim?: number;
  /** Dropout on attention probabilities and residual branches in training mode (default 0.1). */
  dropout?: number;
  /** Positions kept; longer sequences are cut (default 512; reference 2048). */
  maxLen?: number;
  /** Pooling of the encoder outputs (default 'masked'). */
  pooling?: Pooling;
  /** Spectral normalisation of the input projection and the head layers (default true). */
  spectralNorm?: boolean;
  dtype?: DType;
}

/**
 * The reference implementation's discriminator (docs/method.md §6), sizes configurable:
 *   h [B, T, d] → SN-Linear(d → width) + learned position embedding [maxLen, width] (N(0, 0.02²))
 *   → `layers` pre-norm transformer encoder layers (bidirectional, GELU feed-forward, dropout)
 *   → pooling over positions ('masked' | 'completion' | 'all')
 *   → SN-Linear(width → width) → GELU → SN-Linear(width → 1) → scores [B].
 * Linear weights are Xavier-uniform, biases zero. In the 'masked' and 'completion' modes padding keys are masked in
 * attention too, so padding never changes a score; 'all' reproduces the reference (no mask anywhere).
 * Parameters: inputProj.*, positionEmbedding, layers.i.*, head0.*, head1.*; buffers inputProj.u/v, head*.u/v.
 */
export class TransformerDiscriminator extends Discriminator {
  readonly inputDim: number;
  readonly width: number;
  readonly maxLen: number;
  readonly pooling: Pooling;
  readonly inputProj: Projection;
  positionEmbedding: Tensor;
  readonly layers: ModuleList<TransformerBlock>;
  readonly head0: Projection;
  readonly head1: Projection;

  constructor(options: TransformerDiscriminatorOptions) {
    super();
    const {
      inputDim,
      rng,
      width = 64,
      layers = 1,
      heads = 4,
      ffDim = 4 * width,
      dropout = 0.1,
      maxLen = 512,
      pooling = 'masked',
      spectralNorm: sn = true,
      dtype = 'float32',
    } = options;
    if (width % heads !== 0) throw new Error(`TransformerDiscriminator: width ${width} is not divisible by heads ${heads}`);
    if (!(layers >= 0 && Number.isInteger(layers))) throw new Error(`TransformerDiscriminator: layers = ${layers} must be an integer ≥ 0`);
    this.inputDim = inputDim;
    this.width = width;
    this.maxLen = maxLen;
    this.pooling = pooling;
    this.inputProj = this.registerModule('inputProj', projection(inputDim, width, rng, sn, dtype));
    this.positionEmbedding = this.registerParameter('positionEmbedding', normalInit([maxLen, width], rng, { std: 0.02, dtype }));
    this.layers = this.registerModule(
      'layers',
      new ModuleList(
        Array.from({ length: layers }, () => new TransformerBlock(width, heads, ffDim, { rng, dropout, activation: 'gelu', causal: false, init: 'xavier', dtype })),
      ),
    );
    this.head0 = this.registerModule('head0', projection(width, width, rng, sn, dtype));
    this.head1 = this.registerModule('head1', projection(width, 1, rng, sn, dtype));
  }

  /** Encoder outputs pooled to [B, width] (the head's input). */
  features(latents: Tensor, masks: PoolingMasks = {}): Tensor {
    checkInput('TransformerDiscriminator', latents, this.inputDim);
    let h = latents;
    let { mask, completionMask } = masks;
    const t = latents.shape[1];
    if (t > this.maxLen) {
      h = slice(h, [0, 0, 0], [undefined, this.maxLen, undefined]);
      mask = mask && slice(mask, [0, 0], [undefined, this.maxLen]);
      completionMask = completionMask && slice(completionMask, [0, 0], [undefined, this.maxLen]);
    }
    const len = Math.min(t, this.maxLen);
    let x = add(this.inputProj.forward(h), slice(this.positionEmbedding, [0, 0], [len, undefined]));
    const keyMask = this.pooling === 'all' ? undefined : mask;
    for (const block of this.layers) x = block.forward(x, { keyMask });
    return poolLatents(x, this.pooling, { mask, completionMask });
  }

  forward(latents: Tensor, masks: PoolingMasks = {}): Tensor {
    const pooled = this.features(latents, masks);
    const out = this.head1.forward(gelu(this.head0.forward(pooled)));
    return reshape(out, [out.shape[0]]);
  }
}

export interface MlpDiscriminatorOptions {
  inputDim: number;
  rng: Rng;
  /** Hidden width (default 64). */
  width?: number;
  /** Hidden width×width layers after the input projection (default 1). */
  layers?: number;
  /** Dropout after each hidden activation in training mode (default 0). */
  dropout?: number;
  pooling?: Pooling;
  spectralNorm?: boolean;
  dtype?: DType;
}

/**
 * The cheaper variant: pool the latents first ([B, T, d] → [B, d], same pooling modes), then an MLP
 *   SN-Linear(d → width) → GELU → `layers` × [SN-Linear(width → width) → GELU] → SN-Linear(width → 1).
 * Parameters: layers.i.* (every layer spectral-normalised unless `spectralNorm: false`).
 */
export class MlpDiscriminator extends Discriminator {
  readonly inputDim: number;
  readonly pooling: Pooling;
  readonly layers: ModuleList<Projection>;
  private readonly drop: Dropout | null;

  constructor(options: MlpDiscriminatorOptions) {
    super();
    const { inputDim, rng, width = 64, layers = 1, dropout = 0, pooling = 'masked', spectralNorm: sn = true, dtype = 'float32' } = options;
    this.inputDim = inputDim;
    this.pooling = pooling;
    const dims = [inputDim, ...Array.from({ length: layers + 1 }, () => width), 1];
    this.layers = this.registerModule('layers', new ModuleList(dims.slice(1).map((out, i) => projection(dims[i], out, rng, sn, dtype))));
    this.drop = dropout > 0 ? this.registerModule('dropout', new Dropout(dropout, rng.split())) : null;
  }

  forward(latents: Tensor, masks: PoolingMasks = {}): Tensor {
    checkInput('MlpDiscriminator', latents, this.inputDim);
    let h = poolLatents(latents, this.pooling, masks);
    const n = this.layers.length;
    for (let i = 0; i < n; i++) {
      h = this.layers.at(i).forward(h);
      if (i < n - 1) {
        h = gelu(h);
        if (this.drop) h = this.drop.forward(h);
      }
    }
    return reshape(h, [h.shape[0]]);
  }
}

/** Every spectral-normalised layer of a discriminator (for checks and diagnostics). */
export function spectralLayers(module: Module): SpectralNormLinear[] {
  const found: SpectralNormLinear[] = [];
  const visit = (m: Module) => {
    if (m instanceof SpectralNormLinear) found.push(m);
    for (const [, child] of m.namedChildren()) visit(child);
  };
  visit(module);
  return found;
}
