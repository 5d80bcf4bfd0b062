export { type PairLatents, type LatentBatch, checkPairLatents, detachLatents } from './latents.js';
export { type Pooling, type PoolingMasks, POOLING_MODES, poolLatents, poolingWeights } from './pooling.js';
export {
  Discriminator,
  TransformerDiscriminator,
  type TransformerDiscriminatorOptions,
  MlpDiscriminator,
  type MlpDiscriminatorOptions,
  spectralLayers,
} from './discriminators.js';
export {
  bceWithLogits,
  type RealFakeMeans,
  raganDiscriminatorLoss,
  raganGeneratorLoss,
  raganGeneratorFakeLoss,
  type QuadScores,
  type QuadMeans,
  quadDiscriminatorLoss,
  type GeneratorSide,
  ganpoGeneratorLoss,
  nonSaturatingDiscriminatorLoss,
  nonSaturatingGeneratorLoss,
  hingeDiscriminatorLoss,
  hingeGeneratorLoss,
  wassersteinCriticLoss,
  wassersteinGeneratorLoss,
  pairwiseAccuracy,
  quadAccuracies,
} from './losses.js';
export { type MeanMode, type MeanOptions, updateMean, updateMeans, type ChosenMeans, type RejectedMeans, type GanpoMeans } from './means.js';
export {
  type Critic,
  inputGradientSquaredNorm,
  penaltyInput,
  zeroCenteredGradientPenalty,
  r1Penalty,
  r2Penalty,
  wassersteinGradientPenalty,
} from './penalties.js';
export {
  GanpoConfig,
  type GanpoConfigInput,
  type InstanceNoise,
  defaultGanpoConfig,
  decodeGanpoConfig,
  ganpoConfig,
  withDefaults,
  resolveDiscLr,
  instanceNoiseSigma,
  PoolingCodec,
  MeanModeCodec,
  VariantCodec,
  ArchitectureCodec,
  ScheduleCodec,
  DTypeCodec,
  GanpoOptionsCodec,
} from './config.js';
export {
  Ganpo,
  type GanpoSide,
  type CreateGanpoOptions,
  createDiscriminator,
  discLearningRate,
  discriminatorLoss,
  type GanpoTermOptions,
} from './ganpo.js';
export { type SideName, type SideSpec, type Quad, SIDES, scoreSets, scoreQuads, withFrozen } from './sides.js';
export { type GanpoStateMeta, type GanpoStateDict, ganpoStateDict, loadGanpoState } from './state.js';
