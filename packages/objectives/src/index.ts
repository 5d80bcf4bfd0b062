export type { LossTerm, Objective, PairLogps, TokenLogps, UnpairedLogps } from './types.js';
export {
  PREFERENCE_LOSS_NAMES, REFERENCE_LOSS_NAMES, F_DIVERGENCE_NAMES,
  type PreferenceLossName, type FDivergence, type FDivergenceName, type PreferenceConfig, type ResolvedPreferenceConfig,
  type InputRequirements, type AvailableInputs, type PreferenceSpec, type PreferenceOption, type ReferenceLossName,
  type ReferenceFreeLossName, PREFERENCE_OPTIONS, isReferenceLoss, optionsOf, resolvePreferenceConfig, requirementsOf,
  PreferenceLossNameCodec, FDivergenceCodec, PreferenceConfigCodec, PreferenceSpecCodec,
  decodePreferenceConfig, decodePreferenceSpecs,
} from './config.js';
export { ObjectiveConfigError, ObjectiveInputError } from './errors.js';
export {
  preferenceLoss, preferenceObjective, type PreferenceObjective, type PreferenceLossOptions,
  dpo, hinge, ipo, exoPair, ncaPair, robust, bcoPair, sppoHard, aot, aotUnpaired, apoZero, apoDown, discopop,
  sft, sigmoidNorm, simpo, cpo, orpo,
} from './preference.js';
export { kto, ktoReferencePoint, resolveKtoConfig, KtoConfigCodec, type KtoConfig, type ResolvedKtoConfig } from './kto.js';
export {
  zero, plus, concatTerms, getObjectiveSemigroup, getObjectiveMonoid, sumObjectives, scale, weighted, contramap,
  namespaced, metricValues, isZeroLoss,
} from './combinators.js';
export { rewardMetrics } from './metrics.js';
export { checkPairLogps, checkUnpairedLogps, ldWeights, wpoWeights } from './inputs.js';
export { log1mexp, fScore, smoothedSigmoidLoss, EXP_CLAMP, LOG1MEXP_CEILING } from './numerics.js';
export { chosenNll } from './reference-free.js';
