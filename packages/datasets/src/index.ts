// Node entry point: the browser-safe modules, plus files on disk and Hugging Face BPE tokenizers.
export * from './browser.js';
export { readPreferenceFile, SHARD_EXTENSIONS } from './io/readPreferenceFile.js';
export type { ReadOptions, ReadMode, Container } from './io/readPreferenceFile.js';
export { loadPreferenceDataset, summarizeSkipped } from './io/loadPreferenceDataset.js';
export type { LoadedDataset, LoadOptions, DatasetCounts } from './io/loadPreferenceDataset.js';
export { writeJsonl } from './io/writeJsonl.js';
export { bpeTokenizerFromJson, tokenizerJsonFromVocabAndMerges, loadBpeTokenizer } from './tokenizers/bpeTokenizer.js';
export type { SpecialTokenChoice, BpeFiles } from './tokenizers/bpeTokenizer.js';
export { tokenizerFromJSON } from './tokenizers/tokenizerFromJson.js';
export { toTrlRows, toTrlPromptCompletionRows, writeEmbeddedTask } from './task/trlRows.js';
export type { EmbeddedTaskFiles } from './task/trlRows.js';
