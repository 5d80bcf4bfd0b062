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
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  loadSafetensors,
  openSafetensors,
  parseSafetensorsHeader,
  type OpenSafetensors,
  type TensorSpec,
  saveSafetensors,
  type SafeTensor,
  type SafetensorsDType,
  type SafetensorsFile,
} from './safetensors.js';
export { writeDirAtomic, writeDirFile, writeFileAtomic } from './atomic.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  CheckpointError,
  gpt2Config,
  isGpt2Config,
  loadCheckpoint,
  loadGpt2,
  loadModelWeights,
  loadPretrained,
  mapGpt2Weights,
  modelTensors,
  readHfWeights,
  optimizerStateFromSafetensors,
  optimizerStateToSafetensors,
  saveCheckpoint,
  toTensors,
  type LoadOptions,
  type LoadedCheckpoint,
  type LoadedPretrained,
  type SaveCheckpointInput,
} from './checkpoint.js';
export { LlamaAttention, LlamaDecoderLayer, LlamaMLP, LlamaModel, RMSNorm } from './llama.js';
export { llamaConfig, llamaModelType, loadLlama, mapLlamaWeights } from './llamaHf.js';
export { LORA_DEFAULTS, defaultLoraTargets, foldLora, loraLayers, loraReference, loraTargets } from './lora.js';
export { addLora, mergeLora } from './lora.js';
export { exportHuggingFace, hfConfig, hfTensors, type ExportDType, type ExportOptions, type ExportResult, type HfTokenizerSource } from './hfExport.js';
export { loadPeftAdapter, peftAdapterTensors, savePeftAdapter } from './peft.js';
export { countParameters, estimateTrainingMemory, readModelDirConfig, type TrainingMemory } from './memory.js';
