import { type Tensor, div, isTensor, exp, minimum, mul, noGrad, sub, sum, tensor } from '@ganpo/autograd';
import type { InputRequirements } from './config.js';
import { ObjectiveInputError } from './errors.js';
import type { PairLogps, TokenLogps, UnpairedLogps } from './types.js';

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function need(where: string, value: unknown, field: string, why: string): asserts value is Tensor {
  if (value === undefined || value === null) throw new ObjectiveInputError(`${where}: input has no ${field}; ${why}`);
  if (!isTensor(value)) throw new ObjectiveInputError(`${where}: ${field} must be a Tensor`);
}

function sameShape(where: string, field: string, t: Tensor, shape: readonly number[], dtype: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ObjectiveInputError(`${where}: ${field} has shape ${fmt(t.shape)}, expected ${fmt(shape)}`);
  }
  if (t.dtype !== dtype) throw new ObjectiveInputError(`${where}: ${field} is ${t.dtype}, the other inputs ${dtype}`);
}

/** Log-probs must be finite: a NaN here usually means NaN logits upstream (run the model under anomaly mode). */
function finite(where: string, field: string, t: Tensor): void {
  for (let i = 0; i < t.size; i++) {
    if (!Number.isFinite(t.data[i])) {
      throw new ObjectiveInputError(`${where}: ${field}[${i}] is ${t.data[i]}; log-probs must be finite (NaN usually comes from NaN logits: run the model under withAnomalyMode to find the op)`);
    }
  }
}

function positive(where: string, field: string, t: Tensor): void {
  for (let i = 0; i < t.size; i++) {
    if (!(t.data[i] > 0) || !Number.isFinite(t.data[i])) {
      throw new ObjectiveInputError(`${where}: ${field}[${i}] is ${t.data[i]}; completion lengths are token counts ≥ 1`);
    }
  }
}

const REF_WHY = 'pass reference log-probs, or build the loss with referenceFree: true (a uniform reference)';
const TOKENS_WHY = 'ldAlpha and useWeighting work on per-token log-probs: pass input.tokens';

/**
 * Checks a PairLogps against what an objective reads, with one clear message per problem; returns the batch size.
 * Sequence tensors must be [B] of one dtype, per-token tensors [B, T] per side, log-probs finite, lengths positive.
 */
export function checkPairLogps(where: string, req: InputRequirements, input: PairLogps): number {
  if (typeof input !== 'object' || input === null) throw new ObjectiveInputError(`${where}: input must be a PairLogps object`);
  need(where, input.policyChosen, 'policyChosen', 'it is the [B] summed log-probs of the chosen completions');
  need(where, input.policyRejected, 'policyRejected', 'it is the [B] summed log-probs of the rejected completions');
  need(where, input.chosenLengths, 'chosenLengths', 'it is the [B] completion token counts');
  need(where, input.rejectedLengths, 'rejectedLengths', 'it is the [B] completion token counts');
  const { policyChosen } = input;
  if (policyChosen.rank !== 1 || policyChosen.size === 0) {
    throw new ObjectiveInputError(`${where}: policyChosen has shape ${fmt(policyChosen.shape)}, expected [B] with B ≥ 1`);
  }
  const shape = policyChosen.shape;
  const dtype = policyChosen.dtype;
  const seq: [string, Tensor][] = [
    ['policyChosen', policyChosen],
    ['policyRejected', input.policyRejected],
    ['chosenLengths', input.chosenLengths],
    ['rejectedLengths', input.rejectedLengths],
  ];
  if (req.reference) {
    need(where, input.refChosen, 'refChosen', REF_WHY);
    need(where, input.refRejected, 'refRejected', REF_WHY);
    seq.push(['refChosen', input.refChosen], ['refRejected', input.refRejected]);
  }
  for (const [field, t] of seq) sameShape(where, field, t, shape, dtype);
  for (const [field, t] of seq) {
    if (field.endsWith('Lengths')) positive(where, field, t);
    else finite(where, field, t);
  }
  if (req.tokens || req.tokenReference || req.logSumSquaredProbs) checkTokens(where, req, input.tokens, shape[0], dtype);
  return shape[0];
}

function checkTokens(where: string, req: InputRequirements, tokens: TokenLogps | undefined, batch: number, dtype: string): void {
  if (tokens === undefined || tokens === null) throw new ObjectiveInputError(`${where}: input has no tokens; ${TOKENS_WHY}`);
  for (const side of ['Chosen', 'Rejected'] as const) {
    const policy = tokens[`policy${side}`];
    need(where, policy, `tokens.policy${side}`, TOKENS_WHY);
    if (policy.rank !== 2 || policy.shape[0] !== batch) {
      throw new ObjectiveInputError(`${where}: tokens.policy${side} has shape ${fmt(policy.shape)}, expected [${batch}, T]`);
    }
    const fields: [string, Tensor | undefined, string][] = [[`mask${side}`, tokens[`mask${side}`], TOKENS_WHY]];
    if (req.tokenReference) fields.push([`ref${side}`, tokens[`ref${side}`], `LD-DPO weights the reference log-probs too; ${REF_WHY}`]);
    if (req.logSumSquaredProbs) {
      fields.push([`logSumSquaredProbs${side}`, tokens[`logSumSquaredProbs${side}`], 'WPO weights need log Σ_v p(v)² of the policy at each position']);
    }
    finite(where, `tokens.policy${side}`, policy);
    for (const [field, t, why] of fields) {
      need(where, t, `tokens.${field}`, why);
      sameShape(where, `tokens.${field}`, t, policy.shape, dtype);
      if (!field.startsWith('mask')) finite(where, `tokens.${field}`, t);
    }
    const counts = completionCounts(tokens[`mask${side}`]);
    const empty = counts.findIndex((n) => n === 0);
    if (empty >= 0) throw new ObjectiveInputError(`${where}: tokens.mask${side} row ${empty} marks no completion token (every completion has ≥ 1 token)`);
  }
}

/** Checks an UnpairedLogps (KTO); returns the batch size. */
export function checkUnpairedLogps(where: string, input: UnpairedLogps, needsKl: boolean): number {
  if (typeof input !== 'object' || input === null) throw new ObjectiveInputError(`${where}: input must be an UnpairedLogps object`);
  need(where, input.policy, 'policy', 'it is the [N] summed log-probs of the completions');
  need(where, input.ref, 'ref', 'KTO compares the policy with a reference: pass its [N] log-probs');
  need(where, input.desirable, 'desirable', 'it marks each example desirable (1) or undesirable (0)');
  const { policy } = input;
  if (policy.rank !== 1 || policy.size === 0) throw new ObjectiveInputError(`${where}: policy has shape ${fmt(policy.shape)}, expected [N] with N ≥ 1`);
  sameShape(where, 'ref', input.ref, policy.shape, policy.dtype);
  sameShape(where, 'desirable', input.desirable, policy.shape, policy.dtype);
  finite(where, 'policy', policy);
  finite(where, 'ref', input.ref);
  for (let i = 0; i < input.desirable.size; i++) {
    const v = input.desirable.data[i];
    if (v !== 0 && v !== 1) throw new ObjectiveInputError(`${where}: desirable[${i}] is ${v}; it must be 1 (desirable) or 0 (undesirable)`);
  }
  if (needsKl) {
    const why = "the KL estimate z0 needs log-probs of mismatched (prompt, completion) pairs; or build kto with klEstimate: 'none'";
    need(where, input.klPolicy, 'klPolicy', why);
    need(where, input.klRef, 'klRef', why);
    if (input.klPolicy.rank !== 1 || input.klPolicy.size === 0) {
      throw new ObjectiveInputError(`${where}: klPolicy has shape ${fmt(input.klPolicy.shape)}, expected [M] with M ≥ 1`);
    }
    sameShape(where, 'klRef', input.klRef, input.klPolicy.shape, policy.dtype);
    finite(where, 'klPolicy', input.klPolicy);
    finite(where, 'klRef', input.klRef);
  }
  return policy.size;
}

/**
 * LD-DPO's per-position coefficients for one side: 1 up to the first m = min(|yc|, |yr|) completion tokens of the pair,
 * `alpha` after. A position is a completion token when its mask is > 0.5. A constant (no gradient).
 */
function ldCoefficients(mask: Tensor, cutoff: Int32Array, alpha: number): Tensor {
  const [batch, len] = mask.shape;
  const out = new (mask.dtype === 'float64' ? Float64Array : Float32Array)(batch * len);
  for (let b = 0; b < batch; b++) {
    let seen = 0;
    for (let t = 0; t < len; t++) {
      out[b * len + t] = seen < cutoff[b] ? 1 : alpha;
      if (mask.data[b * len + t] > 0.5) seen++;
    }
  }
  return tensor(out, { shape: mask.shape, dtype: mask.dtype });
}

const completionCounts = (mask: Tensor): Int32Array => {
  const [batch, len] = mask.shape;
  const n = new Int32Array(batch);
  for (let b = 0; b < batch; b++) for (let t = 0; t < len; t++) if (mask.data[b * len + t] > 0.5) n[b]++;
  return n;
};

/** LD-DPO weights [B, T] for the chosen and rejected sides: mask × (1 before the shared length, α after). */
export function ldWeights(tokens: TokenLogps, alpha: number): { chosen: Tensor; rejected: Tensor } {
  const nc = completionCounts(tokens.maskChosen);
  const nr = completionCounts(tokens.maskRejected);
  const cutoff = nc.map((c, b) => Math.min(c, nr[b]));
  return {
    chosen: mul(tokens.maskChosen, ldCoefficients(tokens.maskChosen, cutoff, alpha)),
    rejected: mul(tokens.maskRejected, ldCoefficients(tokens.maskRejected, cutoff, alpha)),
  };
}

/** Σ_t weight_t · logp_t over the positions of each row: [B, T] → [B]. */
export const weightedSequenceLogps = (tokenLogps: Tensor, weights: Tensor): Tensor => sum(mul(tokenLogps, weights), 1);

/**
 * WPO pair weights (Zhou et al. 2024, as TRL computes them): per sequence the mean over completion tokens of
 * log p(y_t) − log Σ_v p(v)², then w = exp(mean_c + mean_r) clamped to at most 1. Computed without gradient.
 */
export function wpoWeights(tokens: TokenLogps): Tensor {
  return noGrad(() => {
    const side = (logps: Tensor, lsp: Tensor, mask: Tensor) => {
      const m = mask.detach();
      return div(sum(mul(sub(logps.detach(), lsp.detach()), m), 1), sum(m, 1));
    };
    const c = side(tokens.policyChosen, tokens.logSumSquaredProbsChosen!, tokens.maskChosen);
    const r = side(tokens.policyRejected, tokens.logSumSquaredProbsRejected!, tokens.maskRejected);
    return exp(minimum(c.add(r), 0));
  });
}
