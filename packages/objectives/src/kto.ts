import { decodeWith, num, oneOf, renderProblem, strict } from '@ganpo/codecs';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { div, maximum, mean, mul, noGrad, sigmoid, sub, sum, zeros } from '@ganpo/autograd';
import type { Tensor } from '@ganpo/autograd';
import { ObjectiveConfigError } from './errors.js';
import { checkUnpairedLogps } from './inputs.js';
import type { Objective, UnpairedLogps } from './types.js';

export const KtoConfigCodec = strict(
  t.partial({
    /** β (0.1). */
    beta: num({ gt: 0 }),
    /** λ_D, the weight of desirable examples (1). */
    desirableWeight: num({ ge: 0 }),
    /** λ_U, the weight of undesirable examples (1). */
    undesirableWeight: num({ ge: 0 }),
    /** 'batch' (default): z0 from the mismatched pairs of the input; 'none': z0 = 0 (no KL inputs needed). */
    klEstimate: oneOf(['batch', 'none']),
  }),
  'KtoConfig',
);
/** Options of `kto`, as written (every field optional). */
export type KtoConfig = t.OutputOf<typeof KtoConfigCodec>;
export type ResolvedKtoConfig = Required<KtoConfig>;

const KTO_DEFAULTS: ResolvedKtoConfig = { beta: 0.1, desirableWeight: 1, undesirableWeight: 1, klEstimate: 'batch' };

/** Decodes and checks a KTO configuration (types, ranges, unknown keys) and fills in the defaults. */
export function resolveKtoConfig(config: unknown = {}): E.Either<string[], ResolvedKtoConfig> {
  return pipe(
    decodeWith(KtoConfigCodec)(config),
    E.bimap((problems) => problems.map((p) => `kto: ${renderProblem(p)}`), (c) => ({ ...KTO_DEFAULTS, ...c })),
  );
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
