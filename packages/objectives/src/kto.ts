import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { div, maximum, mean, mul, noGrad, sigmoid, sub, sum, zeros } from '@ganpo/autograd';
import type { Tensor } from '@ganpo/autograd';
import { strictPartial } from './config.js';
import { ObjectiveConfigError } from './errors.js';
import { checkUnpairedLogps } from './inputs.js';
import type { Objective, UnpairedLogps } from './types.js';

export interface KtoConfig {
  /** β (0.1). */
  beta?: number;
  /** λ_D, the weight of desirable examples (1). */
  desirableWeight?: number;
  /** λ_U, the weight of undesirable examples (1). */
  undesirableWeight?: number;
  /** 'batch' (default): z0 from the mismatched pairs of the input; 'none': z0 = 0 (no KL inputs needed). */
  klEstimate?: 'batch' | 'none';
}

export interface ResolvedKtoConfig {
  beta: number;
  desirableWeight: number;
  undesirableWeight: number;
  klEstimate: 'batch' | 'none';
}

export const KtoConfigCodec = strictPartial(
  { beta: t.number, desirableWeight: t.number, undesirableWeight: t.number, klEstimate: t.keyof({ batch: null, none: null }) },
  'KtoConfig',
);

export function resolveKtoConfig(config: KtoConfig = {}): E.Either<string[], ResolvedKtoConfig> {
  const errors: string[] = [];
  const known = new Set(['beta', 'desirableWeight', 'undesirableWeight', 'klEstimate']);
  for (const key of Object.keys(config)) if (!known.has(key)) errors.push(`kto: unknown option '${key}'`);
  const check = (key: keyof KtoConfig, ok: (x: number) => boolean, range: string) => {
    const v = config[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))) {
      errors.push(`kto: ${key} must be a finite number ${range} (got ${JSON.stringify(v)})`);
    }
  };
  check('beta', (x) => x > 0, '> 0');
  check('desirableWeight', (x) => x >= 0, '≥ 0');
  check('undesirableWeight', (x) => x >= 0, '≥ 0');
  if (config.klEstimate !== undefined && config.klEstimate !== 'batch' && config.klEstimate !== 'none') {
    errors.push(`kto: klEstimate must be 'batch' or 'none' (got ${JSON.stringify(config.klEstimate)})`);
  }
  if (errors.length > 0) return E.left(errors);
  return E.right({
    beta: config.beta ?? 0.1,
    desirableWeight: config.desirableWeight ?? 1,
    undesirableWeight: config.undesirableWeight ?? 1,
    klEstimate: config.klEstimate ?? 'batch',
  });
}

/**
 * z0 = max(0, mean(klPolicy − klRef)), the batch estimate of KL(π‖π_ref) from mismatched pairs; a constant (no gradient).
 */
export const ktoReferencePoint = (input: UnpairedLogps): Tensor =>
  noGrad(() => maximum(mean(sub(input.klPolicy!.detach(), input.klRef!.detach())), 0));

/**
 * KTO (Ethayarajh et al. 2024) for unpaired data: with Δ = π − π_ref,
 * desirable examples lose λ_D(1 − σ(β(Δ − z0))), undesirable ones λ_U(1 − σ(β(z0 − Δ))); the loss is their mean over
 * the batch (TRL's). Metrics: `rewards/chosen` and `rewards/rejected` (mean βΔ over desirable / undesirable examples,
 * omitted when the batch has none), `rewards/margins` (their difference, when both exist), `logps/chosen`,
 * `logps/rejected`, `kl` (z0), `count/desirable`, `count/undesirable`.
 */
export function kto(config: KtoConfig = {}): Objective<UnpairedLogps> {
  const resolved = resolveKtoConfig(config);
  if (E.isLeft(resolved)) throw new ObjectiveConfigError(resolved.left);
  const c = resolved.right;
  return (input) => {
    checkUnpairedLogps('kto', input, c.klEstimate === 'batch');
    const delta = sub(input.policy, input.ref);
    const z0 = c.klEstimate === 'batch' ? ktoReferencePoint(input) : zeros([], { dtype: input.policy.dtype });
    const d = input.desirable.detach();
    const desirable = mul(sigmoid(mul(sub(z0, delta), c.beta)), c.desirableWeight);
    const undesirable = mul(sigmoid(mul(sub(delta, z0), c.beta)), c.undesirableWeight);
    const losses = mul(desirable, d).add(mul(undesirable, sub(1, d)));
    return { loss: mean(losses), metrics: ktoMetrics(c.beta, delta, input.policy, d, z0) };
  };
}

function ktoMetrics(beta: number, delta: Tensor, policy: Tensor, d: Tensor, z0: Tensor): Record<string, Tensor | number> {
  return noGrad(() => {
    const nDesirable = d.toFlat().filter((v) => v === 1).length;
    const nUndesirable = d.size - nDesirable;
    const u = sub(1, d);
    const rewards = mul(delta.detach(), beta);
    const p = policy.detach();
    const metrics: Record<string, Tensor | number> = { kl: z0.detach(), 'count/desirable': nDesirable, 'count/undesirable': nUndesirable };
    if (nDesirable > 0) {
      metrics['rewards/chosen'] = div(sum(mul(rewards, d)), nDesirable);
      metrics['logps/chosen'] = div(sum(mul(p, d)), nDesirable);
    }
    if (nUndesirable > 0) {
      metrics['rewards/rejected'] = div(sum(mul(rewards, u)), nUndesirable);
      metrics['logps/rejected'] = div(sum(mul(p, u)), nUndesirable);
    }
    if (nDesirable > 0 && nUndesirable > 0) {
      metrics['rewards/margins'] = sub(metrics['rewards/chosen'] as Tensor, metrics['rewards/rejected'] as Tensor);
    }
    return metrics;
  });
}
