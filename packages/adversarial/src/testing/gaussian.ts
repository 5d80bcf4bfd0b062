import { Optimizer, Rng, type Tensor, adam, add, noGrad, ones, randn, reshape, sgd, tensor, zeros } from '@ganpo/autograd';
import type { GanpoConfigInput } from '../config.js';
import { Ganpo } from '../ganpo.js';
import { scoreSets } from '../sides.js';
import type { PairLatents } from '../latents.js';
import { quadAccuracies } from '../losses.js';

/**
 * The small experiment of the test suite, on Gaussian "latents" (no language model): sequences of T tokens in R^d,
 * reference chosen tokens ~ N(+a·e1, I), reference rejected ~ N(−a·e1, I), policy tokens ~ N(θ, I) with θ the
 * policy's "parameters" (one offset per side). The discriminators see these exactly as they would see hidden states.
 */
export interface GaussianSetup {
  d: number;
  t: number;
  b: number;
  /** Separation a of the reference means along e1. */
  a: number;
}

export const refMean = (setup: GaussianSetup, side: 'chosen' | 'rejected'): number[] =>
  Array.from({ length: setup.d }, (_, i) => (i === 0 ? (side === 'chosen' ? setup.a : -setup.a) : 0));

/** One batch; `policyChosen`/`policyRejected` are the offsets θ (as [d] tensors, possibly with gradient). */
export function gaussianBatch(setup: GaussianSetup, rng: Rng, thetaChosen: Tensor, thetaRejected: Tensor): PairLatents {
  const { b, t, d } = setup;
  const shifted = (mu: number[]) => {
    const x = randn([b, t, d], rng);
    for (let i = 0; i < x.size; i++) x.data[i] += mu[i % d];
    return x;
  };
  const mask = ones([b, t]);
  return {
    refChosen: shifted(refMean(setup, 'chosen')),
    refRejected: shifted(refMean(setup, 'rejected')),
    policyChosen: add(randn([b, t, d], rng), reshape(thetaChosen, [1, 1, d])),
    policyRejected: add(randn([b, t, d], rng), reshape(thetaRejected, [1, 1, d])),
    maskChosen: mask,
    maskRejected: mask,
  };
}

/** Ordering accuracies of both discriminators (evaluation mode) on a fresh batch. */
export function orderingAccuracy(state: Ganpo, x: PairLatents) {
  return noGrad(() => {
    const evalSide = (side: 'chosen' | 'rejected') => {
      const disc = side === 'chosen' ? state.chosen : state.rejected!;
      const [real, policy, opposite] = scoreSets(
        disc,
        side === 'chosen'
          ? [{ latents: x.refChosen, mask: x.maskChosen }, { latents: x.policyChosen, mask: x.maskChosen }, { latents: x.refRejected, mask: x.maskRejected }]
          : [{ latents: x.refRejected, mask: x.maskRejected }, { latents: x.policyRejected, mask: x.maskRejected }, { latents: x.refChosen, mask: x.maskChosen }],
      );
      return quadAccuracies({ real, policy, opposite });
    };
    const none = { realOverPolicy: NaN, policyOverOpposite: NaN, pairwise: NaN, chain: NaN };
    return { chosen: evalSide('chosen'), rejected: state.rejected ? evalSide('rejected') : none };
  });
}

const distance = (theta: Tensor, mu: number[]) => Math.sqrt(mu.reduce((acc, m, i) => acc + (theta.data[i] - m) ** 2, 0));

export interface ExperimentResult {
  /** Held-out ordering accuracies of the freshly initialised discriminators (chance level). */
  orderingBefore: ReturnType<typeof orderingAccuracy>;
  ordering: ReturnType<typeof orderingAccuracy>;
  distanceBefore: { chosen: number; rejected: number };
  distanceAfter: { chosen: number; rejected: number };
}

/**
 * Part 1: with the policy fixed at θ = 0 (half-way between the reference means), `discSteps` discriminator steps;
 * returns the ordering accuracies on a held-out batch. Part 2: from θ = θ0 (far from the reference), alternating
 * discriminator steps and policy steps on λ·L_adv alone (Adam, `policyLr`); returns ‖θ − μ_ref‖ before and after.
 */
export function runGaussianExperiment(options: {
  setup: GaussianSetup;
  config: GanpoConfigInput;
  seed: number;
  discSteps: number;
  policySteps: number;
  policyLr: number;
  /** The policy's optimizer (default Adam). */
  policyOptimizer?: 'adam' | 'sgd';
  theta0: number[];
  /** Called after each policy step with the distances (for plots). */
  onStep?: (step: number, distance: { chosen: number; rejected: number }) => void;
}): ExperimentResult {
  const { setup, config, seed } = options;
  const rng = Rng.seeded(seed);
  // Part 1: the ordering.
  const state = Ganpo.create(config, { latentDim: setup.d });
  const zero = zeros([setup.d]);
  const heldOut = gaussianBatch({ ...setup, b: 256 }, Rng.seeded(seed + 1000), zero, zero);
  const orderingBefore = orderingAccuracy(state, heldOut);
  for (let i = 0; i < options.discSteps; i++) state.discriminatorStep(gaussianBatch(setup, rng, zero, zero));
  const ordering = orderingAccuracy(state, heldOut);

  // Part 2: the generator.
  const gan = Ganpo.create({ ...config, seed: (config.seed ?? 0) + 1 }, { latentDim: setup.d });
  const thetaC = tensor(options.theta0, { requiresGrad: true });
  const thetaR = tensor(options.theta0, { requiresGrad: true });
  const before = { chosen: distance(thetaC, refMean(setup, 'chosen')), rejected: distance(thetaR, refMean(setup, 'rejected')) };
  const transform = options.policyOptimizer === 'sgd' ? sgd({ lr: options.policyLr }) : adam({ lr: options.policyLr });
  const opt = new Optimizer(transform, [['chosen', thetaC], ['rejected', thetaR]]);
  for (let i = 0; i < options.policySteps; i++) {
    const batch = gaussianBatch(setup, rng, thetaC, thetaR);
    gan.discriminatorStep(batch);
    opt.zeroGrad();
    gan.term()(batch).loss.backward();
    opt.step();
    options.onStep?.(i + 1, { chosen: distance(thetaC, refMean(setup, 'chosen')), rejected: distance(thetaR, refMean(setup, 'rejected')) });
  }
  const after = { chosen: distance(thetaC, refMean(setup, 'chosen')), rejected: distance(thetaR, refMean(setup, 'rejected')) };
  return { orderingBefore, ordering, distanceBefore: before, distanceAfter: after };
}
