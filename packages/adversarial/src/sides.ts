import { type Tensor, concat, functionalCall, ones, slice } from '@ganpo/autograd';
import type { Discriminator } from './discriminators.js';
import type { LatentBatch, PairLatents } from './latents.js';
import type { QuadScores } from './losses.js';
import type { ChosenMeans, GanpoMeans, RejectedMeans } from './means.js';

/**
 * The chosen/rejected symmetry of GANPO (docs/method.md §3) written down once: C_w scores (R_w, P_w, R_l), C_l the mirror
 * (R_l, P_l, R_w). A {@link SideSpec} names, for one discriminator, which latent sets and masks are its "real",
 * "policy" and "opposite" sets and which named means they feed; everything else iterates over {@link SIDES}.
 */

export type SideName = 'chosen' | 'rejected';
type LatentKey = 'policyChosen' | 'policyRejected' | 'refChosen' | 'refRejected';
type MaskKeys = { readonly mask: 'maskChosen' | 'maskRejected'; readonly completionMask: 'completionMaskChosen' | 'completionMaskRejected' };

/** A number per role of one discriminator's three sets. */
export interface Quad<T> {
  readonly real: T;
  readonly policy: T;
  readonly opposite: T;
}

export interface SideSpec {
  readonly name: SideName;
  /** The latent set of each role. */
  readonly latents: Quad<LatentKey>;
  /** The masks of the real/policy sets (this side's sequences) and of the opposite set (the other side's). */
  readonly masks: MaskKeys;
  readonly oppositeMasks: MaskKeys;
}

const CHOSEN_MASKS: MaskKeys = { mask: 'maskChosen', completionMask: 'completionMaskChosen' };
const REJECTED_MASKS: MaskKeys = { mask: 'maskRejected', completionMask: 'completionMaskRejected' };

export const SIDES: readonly [SideSpec, SideSpec] = [
  { name: 'chosen', latents: { real: 'refChosen', policy: 'policyChosen', opposite: 'refRejected' }, masks: CHOSEN_MASKS, oppositeMasks: REJECTED_MASKS },
  { name: 'rejected', latents: { real: 'refRejected', policy: 'policyRejected', opposite: 'refChosen' }, masks: REJECTED_MASKS, oppositeMasks: CHOSEN_MASKS },
];

/** The three latent sets of one discriminator in a batch. */
export function quadSets(x: PairLatents, spec: SideSpec): Quad<LatentBatch> {
  const set = (key: LatentKey, m: MaskKeys): LatentBatch => ({ latents: x[key], mask: x[m.mask], completionMask: x[m.completionMask] });
  return { real: set(spec.latents.real, spec.masks), policy: set(spec.latents.policy, spec.masks), opposite: set(spec.latents.opposite, spec.oppositeMasks) };
}

/**
 * Means of one side as the named record kept in {@link GanpoMeans} (`refChosen`, `policyChosen`, ...): C_w's three
 * keys for the chosen spec, C_l's for the rejected one (the keys come from the spec, so TypeScript cannot tell which).
 */
export function namedMeans(spec: SideSpec, m: Quad<number>): ChosenMeans & RejectedMeans {
  return { [spec.latents.real]: m.real, [spec.latents.policy]: m.policy, [spec.latents.opposite]: m.opposite } as unknown as ChosenMeans & RejectedMeans;
}

/** The roles' means of one side from the named record. */
export function quadMeans(spec: SideSpec, named: Partial<Record<LatentKey, number>>): Quad<number> {
  return { real: named[spec.latents.real]!, policy: named[spec.latents.policy]!, opposite: named[spec.latents.opposite]! };
}

export const sideMeansOf = (means: GanpoMeans | undefined, side: SideName): Partial<Record<LatentKey, number>> | undefined =>
  side === 'chosen' ? means?.chosen : means?.rejected;

/**
 * Scores several latent sets with one discriminator, concatenating the sets that share a length T into one
 * forward pass (each forward in training mode is one power-iteration step of spectral normalisation). Sets of
 * equal T are concatenated as they are, with no padding added, so every pooling mode sees exactly its own tokens.
 */
export function scoreSets(disc: Discriminator, sets: readonly LatentBatch[]): Tensor[] {
  const groups = new Map<number, number[]>();
  sets.forEach((s, i) => {
    const t = s.latents.shape[1];
    groups.set(t, [...(groups.get(t) ?? []), i]);
  });
  const out: Tensor[] = new Array(sets.length);
  const needCompletion = disc.pooling === 'completion';
  for (const members of groups.values()) {
    const group = members.map((i) => sets[i]);
    const maskOf = (s: LatentBatch) => s.mask ?? ones([s.latents.shape[0], s.latents.shape[1]], { dtype: s.latents.dtype });
    const latents = catRows(group.map((s) => s.latents));
    const mask = group.some((s) => s.mask) ? catRows(group.map(maskOf)) : undefined;
    let completionMask: Tensor | undefined;
    if (needCompletion) {
      const missing = group.find((s) => !s.completionMask);
      if (missing) throw new Error("pooling 'completion' needs completion masks (completionMaskChosen / completionMaskRejected)");
      completionMask = catRows(group.map((s) => s.completionMask!));
    }
    const scores = disc.forward(latents, { mask, completionMask });
    let start = 0;
    for (const i of members) {
      const n = sets[i].latents.shape[0];
      out[i] = members.length === 1 ? scores : slice(scores, [start], [start + n]);
      start += n;
    }
  }
  return out;
}

/** Tensors stacked along their first axis (one tensor is returned as it is). */
export const catRows = (xs: readonly Tensor[]): Tensor => (xs.length === 1 ? xs[0] : concat([...xs], 0));

/**
 * One discriminator's scores of its three sets over several micro-batches: one forward per distinct length, and the
 * scores of each role stacked over the micro-batches (for one micro-batch: exactly its own scores).
 */
export function scoreQuads(disc: Discriminator, quads: readonly Quad<LatentBatch>[]): { scores: QuadScores; perBatch: Quad<Tensor>[] } {
  const n = quads.length;
  const flat = scoreSets(disc, [...quads.map((q) => q.real), ...quads.map((q) => q.policy), ...quads.map((q) => q.opposite)]);
  const perBatch = quads.map((_, i) => ({ real: flat[i], policy: flat[n + i], opposite: flat[2 * n + i] }));
  return {
    scores: { real: catRows(perBatch.map((q) => q.real)), policy: catRows(perBatch.map((q) => q.policy)), opposite: catRows(perBatch.map((q) => q.opposite)) },
    perBatch,
  };
}

/** Runs `fn` with the discriminator in evaluation mode and its parameters replaced by detached copies (frozen). */
export function withFrozen<T>(disc: Discriminator, fn: () => T): T {
  const wasTraining = disc.training;
  disc.eval();
  try {
    const frozen = Object.fromEntries(disc.namedParameters().map(([n, p]) => [n, p.detach()]));
    return functionalCall(disc, frozen, fn);
  } finally {
    disc.train(wasTraining);
  }
}
