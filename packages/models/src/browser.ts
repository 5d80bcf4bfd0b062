// The browser-safe part of @ganpo/models (no Node built-ins): the models (GPT-2, Llama, LoRA), log-probs,
// generation, safetensors encoding/decoding and the checkpoint layout as bytes. index.ts adds files for Node.
export {
  Activation,
  Architecture,
  ConfigError,
  HfModelType,
  LoraConfigCodec,
  type LoraConfig,
  MODEL_PRESETS,
  ModelConfigCodec,
  decodeModelConfig,
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
  pairHalf,
  pairMaskHalf,
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
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  parseSafetensorsHeader,
  type TensorSpec,
  type SafeTensor,
  type SafetensorsDType,
  type SafetensorsFile,
} from './safetensors.js';
export { LlamaAttention, LlamaDecoderLayer, LlamaMLP, LlamaModel, RMSNorm } from './llama.js';
export { LORA_DEFAULTS, defaultLoraTargets, foldLora, loraLayers, loraReference, loraTargets } from './lora.js';
export { addLora, mergeLora } from './lora.js';
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
