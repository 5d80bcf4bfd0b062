import { arange } from '../creation.js';
import { type Indices, add, indices } from '../ops/index.js';
import { ModuleList } from '../nn/containers.js';
import { Embedding, LayerNorm, Linear } from '../nn/layers.js';
import { TransformerBlock } from '../nn/attention.js';
import { Module } from '../nn/module.js';
import type { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';

/**
 * A 2-block causal transformer language model (token + position embeddings, blocks, final norm, output head),
 * shared by the training tests and the heap bench. Not exported from the package.
 */
export class TinyLM extends Module {
  readonly tok: Embedding;
  readonly pos: Embedding;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly lnf: LayerNorm;
  readonly head: Linear;

  constructor(vocab: number, maxLen: number, d: number, rng: Rng, options: { std?: number; ffMult?: number; dropout?: number } = {}) {
    super();
    const { std, ffMult = 4, dropout = 0 } = options;
    this.tok = this.registerModule('tok', new Embedding(vocab, d, { rng, std }));
    this.pos = this.registerModule('pos', new Embedding(maxLen, d, { rng, std }));
    this.blocks = this.registerModule(
      'blocks',
      new ModuleList([0, 1].map(() => new TransformerBlock(d, 2, ffMult * d, { rng, causal: true, dropout }))),
    );
    this.lnf = this.registerModule('lnf', new LayerNorm(d));
    this.head = this.registerModule('head', new Linear(d, vocab, { rng }));
  }

  forward(ids: Indices): Tensor {
    let h = add(this.tok.forward(ids), this.pos.forward(indices(arange(ids.shape[1]).toFlat())));
    for (const block of this.blocks) h = block.forward(h);
    return this.head.forward(this.lnf.forward(h));
  }
}
