import { formatShape } from '@ganpo/kernels';
import type { DType } from '@ganpo/kernels';
import { add, gelu, relu, tanh } from '../ops/elementwise.js';
import { bmm, matmul } from '../ops/linalg.js';
import { type Indices, embedding, reshape } from '../ops/movement.js';
import { dropout, layerNorm } from '../ops/nn.js';
import type { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { ModuleList } from './containers.js';
import { normalInit, onesInit, xavierUniform, zerosInit } from './init.js';
import { Module } from './module.js';

export interface LinearOptions {
  rng: Rng;
  /** Add a bias (initialized to zeros). Default true. */
  bias?: boolean;
  /** 'xavier' (uniform Glorot, the default) or 'normal' (N(0, std²)). */
  init?: 'xavier' | 'normal';
  /** Standard deviation for init 'normal' (default 0.02). */
  std?: number;
  dtype?: DType;
  /**
   * How the weight is stored: 'in_out' = [in, out] (GPT-2's Conv1D, the default) or 'out_in' = [out, in]
   * (PyTorch's nn.Linear, the layout of Llama-family checkpoints). Either way no transposed copy is made.
   */
  layout?: LinearLayout;
}

export type LinearLayout = 'in_out' | 'out_in';

/**
 * y = x·W + b with W stored [in, out] (GPT-2's Conv1D layout, the default: one matmul of x [..., in] with W) or
 * [out, in] (nn.Linear's layout: the matmul reads W transposed). The bias [out] starts at zeros.
 * An attached delta (LoRA) adds its term to the output; its modules are children of this layer, so their
 * parameters are named under it (`q_proj.lora_A.weight`).
 */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly layout: LinearLayout;
  private delta: ((x: Tensor) => Tensor | null) | null = null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions) {
    super();
    const { rng, bias = true, init = 'xavier', std = 0.02, dtype = 'float32', layout = 'in_out' } = options;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.layout = layout;
    const shape = layout === 'in_out' ? [inFeatures, outFeatures] : [outFeatures, inFeatures];
    const w = init === 'normal' ? normalInit(shape, rng, { std, dtype }) : xavierUniform(shape, rng, { dtype });
    this.weight = this.registerParameter('weight', w);
    this.bias = bias ? this.registerParameter('bias', zerosInit([outFeatures], { dtype })) : null;
  }

  forward(x: Tensor): Tensor {
    if (x.rank === 0 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`Linear(${this.inFeatures}, ${this.outFeatures}): input ${formatShape(x.shape)} does not end in ${this.inFeatures}`);
    }
    let y: Tensor;
    if (this.layout === 'in_out') y = matmul(x, this.weight);
    else {
      const lead = x.shape.slice(0, -1);
      y = reshape(bmm(reshape(x, [x.size / this.inFeatures, this.inFeatures]), this.weight, false, true), [...lead, this.outFeatures]);
    }
    if (this.bias) y = add(y, this.bias);
    const extra = this.delta?.(x) ?? null;
    return extra ? add(y, extra) : y;
  }

  /**
   * Adds `delta(x)` to every output from now on (null from delta: nothing added, e.g. adapters switched off).
   * `children` are registered under this layer (their parameters are saved and trained with the model).
   */
  attachDelta(children: Readonly<Record<string, Module>>, delta: (x: Tensor) => Tensor | null): void {
    if (this.delta) throw new Error('Linear: a delta (adapter) is already attached');
    for (const [name, m] of Object.entries(children)) this.registerModule(name, m);
    this.delta = delta;
  }
}

export interface EmbeddingOptions {
  rng: Rng;
  /** Standard deviation of the normal initializer (default 0.02). */
  std?: number;
  dtype?: DType;
}

/** A lookup table [num, dim]: ids of any shape give [...ids.shape, dim]; the backward scatter-adds rows. */
export class Embedding extends Module {
  weight: Tensor;
  readonly numEmbeddings: number;
  readonly embeddingDim: number;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions) {
    super();
    const { rng, std = 0.02, dtype = 'float32' } = options;
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.weight = this.registerParameter('weight', normalInit([numEmbeddings, embeddingDim], rng, { std, dtype }));
  }

  forward(ids: Indices): Tensor {
    return embedding(this.weight, ids);
  }
}

export interface LayerNormOptions {
  eps?: number;
  dtype?: DType;
}

/** Layer normalization over the last axis with a learned scale (`weight`, ones) and shift (`bias`, zeros). */
export class LayerNorm extends Module {
  weight: Tensor;
  bias: Tensor;
  readonly dim: number;
  readonly eps: number;

  constructor(dim: number, options: LayerNormOptions = {}) {
    super();
    const { eps = 1e-5, dtype = 'float32' } = options;
    this.dim = dim;
    this.eps = eps;
    this.weight = this.registerParameter('weight', onesInit([dim], { dtype }));
    this.bias = this.registerParameter('bias', zerosInit([dim], { dtype }));
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** Inverted dropout with probability p while training (`train()`), the identity in eval mode. */
export class Dropout extends Module {
  readonly p: number;
  private readonly rng: Rng;

  constructor(p: number, rng: Rng) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p = ${p} must be in [0, 1)`);
    this.p = p;
    this.rng = this.registerRng('rng', rng);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.rng, this.training);
  }
}

export type Activation = 'gelu' | 'relu' | 'tanh';

/** The activation by name; 'gelu' is GPT-2's tanh approximation. */
export function activate(x: Tensor, activation: Activation): Tensor {
  switch (activation) {
    case 'gelu':
      return gelu(x, 'tanh');
    case 'relu':
      return relu(x);
    case 'tanh':
      return tanh(x);
    default:
      throw new Error(`unknown activation '${activation as string}'`);
  }
}

export interface MLPOptions {
  rng: Rng;
  activation?: Activation;
  /** Dropout probability applied after each hidden activation (default 0: none). */
  dropout?: number;
  /** Passed to every Linear layer (default 'xavier'). */
  init?: 'xavier' | 'normal';
  dtype?: DType;
}

/**
 * Linear layers dims[0]→dims[1]→…→dims[n−1] with the activation (then dropout, when p > 0) between them,
 * not after the last. Parameters: layers.0.weight, layers.0.bias, layers.1.weight, …
 */
export class MLP extends Module {
  readonly layers: ModuleList<Linear>;
  readonly activation: Activation;
  private readonly drop: Dropout | null;

  constructor(dims: readonly number[], options: MLPOptions) {
    super();
    if (dims.length < 2) throw new Error(`MLP: needs at least an input and an output size, got [${dims.join(', ')}]`);
    const { rng, activation = 'gelu', dropout: p = 0, init, dtype } = options;
    this.activation = activation;
    this.layers = this.registerModule(
      'layers',
      new ModuleList(dims.slice(1).map((out, i) => new Linear(dims[i], out, { rng, init, dtype }))),
    );
    // Dropout draws from its own stream, split off after the weights were drawn.
    this.drop = p > 0 ? this.registerModule('dropout', new Dropout(p, rng.split())) : null;
  }

  forward(x: Tensor): Tensor {
    let h = x;
    const n = this.layers.length;
    for (let i = 0; i < n; i++) {
      h = this.layers.at(i).forward(h);
      if (i < n - 1) {
        h = activate(h, this.activation);
        if (this.drop) h = this.drop.forward(h);
      }
    }
    return h;
  }
}
