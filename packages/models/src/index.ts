// Node entry point: the browser-safe modules plus reading and writing files.
export * from './browser.js';
export { loadSafetensors, saveSafetensors } from './safetensorsFiles.js';
export { writeDirAtomic, writeDirFile, writeFileAtomic } from './atomic.js';
export {
  gpt2Config,
  isGpt2Config,
  loadCheckpoint,
  loadGpt2,
  loadModelWeights,
  loadPretrained,
  mapGpt2Weights,
  saveCheckpoint,
  toTensors,
  type LoadOptions,
  type LoadedCheckpoint,
  type LoadedPretrained,
} from './checkpoint.js';
