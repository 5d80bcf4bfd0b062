// Node entry point: the browser-safe modules plus reading and writing files.
export * from './browser.js';
export { loadSafetensors, openSafetensors, saveSafetensors, type OpenSafetensors } from './safetensorsFiles.js';
export { writeDirAtomic, writeDirFile, writeFileAtomic } from './atomic.js';
export {
  gpt2Config,
  isGpt2Config,
  loadCheckpoint,
  loadGpt2,
  loadModelWeights,
  loadPretrained,
  mapGpt2Weights,
  readHfWeights,
  saveCheckpoint,
  toTensors,
  type LoadOptions,
  type LoadedCheckpoint,
  type LoadedPretrained,
} from './checkpoint.js';
export { llamaConfig, llamaModelType, loadLlama, mapLlamaWeights } from './llamaHf.js';
export { exportHuggingFace, hfConfig, hfTensors, type ExportDType, type ExportOptions, type ExportResult, type HfTokenizerSource } from './hfExport.js';
export { loadPeftAdapter, peftAdapterTensors, savePeftAdapter } from './peft.js';
export { countParameters, estimateTrainingMemory, readModelDirConfig, type TrainingMemory } from './memory.js';
