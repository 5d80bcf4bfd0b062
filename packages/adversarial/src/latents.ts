import { type Tensor, cast } from '@ganpo/autograd';

/**
 * The four latent sets of one batch of preference pairs (docs/method.md §2), with their masks.
 *
 * - `policyChosen` P_w, `policyRejected` P_l: last-layer hidden states of the policy on (x, y_w) and (x, y_l),
 *   [B, T, d], WITH gradient to the policy parameters (`Ganpo.term` backpropagates through them).
 * - `refChosen` R_w, `refRejected` R_l: the same under the frozen reference model, without gradient.
 * - `maskChosen`, `maskRejected`: [B, T], 1 for a real token (prompt or completion), 0 for padding. The chosen
 *   sets share `maskChosen` (same token sequences), the rejected ones `maskRejected`. T may differ between the
 *   chosen and the rejected side.
 * - `completionMaskChosen`, `completionMaskRejected`: [B, T], 1 on completion tokens only; needed by the
 *   `completion` pooling mode.
 *
 * The latents are the final-layer states that feed the LM head, from the forward passes that already produce
 * the log-probabilities: GANPO adds no language-model forward pass.
 */
export interface PairLatents {
  readonly policyChosen: Tensor;
  readonly policyRejected: Tensor;
  readonly refChosen: Tensor;
  readonly refRejected: Tensor;
  readonly maskChosen: Tensor;
  readonly maskRejected: Tensor;
  readonly completionMaskChosen?: Tensor;
  readonly completionMaskRejected?: Tensor;
}

/** One latent set as a discriminator sees it: states [B, T, d] and their masks [B, T]. */
export interface LatentBatch {
  readonly latents: Tensor;
  readonly mask?: Tensor;
  readonly completionMask?: Tensor;
}

const shapeOf = (t: Tensor) => `[${t.shape.join(', ')}]`;

/** Throws (naming the field and shapes) unless the four sets and their masks have consistent shapes. */
export function checkPairLatents(x: PairLatents, where = 'PairLatents'): void {
  const fail = (msg: string) => {
    throw new Error(`${where}: ${msg}`);
  };
  const sides: [string, Tensor, Tensor, Tensor, Tensor | undefined][] = [
    ['chosen', x.policyChosen, x.refChosen, x.maskChosen, x.completionMaskChosen],
    ['rejected', x.policyRejected, x.refRejected, x.maskRejected, x.completionMaskRejected],
  ];
  let d: number | undefined;
  let b: number | undefined;
  for (const [side, p, r, m, cm] of sides) {
    if (p.rank !== 3) fail(`policy ${side} latents must be [B, T, d], got ${shapeOf(p)}`);
    if (r.rank !== 3 || r.shape.some((n, i) => n !== p.shape[i])) fail(`ref ${side} latents ${shapeOf(r)} differ from policy ${side} latents ${shapeOf(p)}`);
    if (m.rank !== 2 || m.shape[0] !== p.shape[0] || m.shape[1] !== p.shape[1]) fail(`mask ${side} ${shapeOf(m)} must be [${p.shape[0]}, ${p.shape[1]}]`);
    if (cm && (cm.rank !== 2 || cm.shape[0] !== p.shape[0] || cm.shape[1] !== p.shape[1])) {
      fail(`completion mask ${side} ${shapeOf(cm)} must be [${p.shape[0]}, ${p.shape[1]}]`);
    }
    if (d !== undefined && p.shape[2] !== d) fail(`latent width differs between chosen (${d}) and rejected (${p.shape[2]})`);
    if (b !== undefined && p.shape[0] !== b) fail(`batch size differs between chosen (${b}) and rejected (${p.shape[0]})`);
    d = p.shape[2];
    b = p.shape[0];
  }
}

/** The latents cut from the tape (what the discriminator step trains on). */
export function detachLatents(x: PairLatents): PairLatents {
  return {
    ...x,
    policyChosen: x.policyChosen.detach(),
    policyRejected: x.policyRejected.detach(),
    refChosen: x.refChosen.detach(),
    refRejected: x.refRejected.detach(),
  };
}

/** A mask in the latents' dtype (masks may arrive as float32 next to float64 latents). */
export function maskAs(mask: Tensor, like: Tensor): Tensor {
  return mask.dtype === like.dtype ? mask : cast(mask.detach(), like.dtype).detach();
}
