// The browser-safe part of @ganpo/models (no Node built-ins): the model, log-probs, generation, safetensors
// encoding and the checkpoint layout as bytes. `index.ts` adds the file-system parts for Node.
export {
  Activation,
  ConfigError,
  MODEL_PRESETS,
  ModelConfigCodec,
  decodeModelConfig,
  formatErrors,
  parseModelConfig,
  presetConfig,
  resolveModelConfig,
  type ModelConfig,
  type PresetName,
  type ResolvedModelConfig,
} from './config.js';
export { checkBatch, type ModelBatch, type TokenBatch, type Tokenizer } from './types.js';
export {
  CausalLM,
  CausalSelfAttention,
  GPT2Block,
  GPT2MLP,
  cloneModel,
  freezeReference,
  positionsFromMask,
  type CausalLMOptions,
  type DropoutSource,
  type ForwardOptions,
  type ForwardOutput,
  type LMCache,
} from './model.js';
export {
  logSumSquaredProbs,
  sequenceLogps,
  sftLoss,
  shiftedTargets,
  splitPairs,
  type PolicyPairLogps,
  type SequenceLogps,
} from './logps.js';
export {
  precomputeReference,
  referenceOutputs,
  referencePairs,
  referenceTensors,
  type ReferenceOutputs,
} from './reference.js';
export {
  argmax,
  generate,
  generateWithDetails,
  sampleToken,
  samplingDistribution,
  type GenerateOptions,
  type Generation,
  type SamplingOptions,
  type StopReason,
} from './generate.js';
export {
  MAX_HEADER_BYTES,
  SAFETENSORS_DTYPES,
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  floatToHalf,
  halfToFloat,
  type SafeTensor,
  type SafetensorsDType,
  type SafetensorsFile,
} from './safetensors.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  CheckpointError,
  checkpointFiles,
  modelTensors,
  optimizerStateFromSafetensors,
  optimizerStateToSafetensors,
  type CheckpointFile,
  type SaveCheckpointInput,
} from './checkpointFiles.js';
