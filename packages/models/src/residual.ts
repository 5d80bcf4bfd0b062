import { type Tensor, add } from '@ganpo/autograd';

/**
 * The pre-norm residual block GPT-2 and the Llama family share: h = x + attn(norm₁(x)), then h + mlp(norm₂(h)).
 * Each architecture keeps its own module names (Hugging Face's, so checkpoints load by name) and hands its parts
 * here; the ops and their order are the block's, once.
 */

/** What a block's attention returns: its output and this step's keys and values (for the cache). */
export interface AttentionOutput {
  readonly out: Tensor;
  readonly k: Tensor;
  readonly v: Tensor;
}

interface Layer {
  forward(x: Tensor): Tensor;
}

export interface PreNormParts {
  readonly attentionNorm: Layer;
  /** The attention on the normed input (masks and cache bound by the caller). */
  readonly attend: (normed: Tensor) => AttentionOutput;
  readonly mlpNorm: Layer;
  readonly mlp: Layer;
}

export function preNormResidualBlock(x: Tensor, parts: PreNormParts): { out: Tensor; k: Tensor; v: Tensor } {
  const a = parts.attend(parts.attentionNorm.forward(x));
  const h = add(x, a.out);
  return { out: add(h, parts.mlp.forward(parts.mlpNorm.forward(h))), k: a.k, v: a.v };
}
