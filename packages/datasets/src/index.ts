// Node entry point: the browser-safe modules, plus files on disk and Hugging Face tokenizers.
import { saveByteTokenizerFiles } from './tokenizers/byteTokenizerFiles.js';
import { setTokenizerFileWriters } from './tokenizers/fileWriters.js';

setTokenizerFileWriters({ saveByteTokenizerFiles });

export * from './browser.js';
export { readPreferenceFile, SHARD_EXTENSIONS } from './io/readPreferenceFile.js';
export type { ReadOptions, ReadMode, Container } from './io/readPreferenceFile.js';
export { loadPreferenceDataset, summarizeSkipped } from './io/loadPreferenceDataset.js';
export type { LoadedDataset, LoadOptions, DatasetCounts } from './io/loadPreferenceDataset.js';
export { writeJsonl } from './io/writeJsonl.js';
export { hfTokenizerFromJson, type HfTokenizerOptions } from './tokenizers/hfTokenizer.js';
export { loadHfTokenizer, type HfTokenizerSource } from './tokenizers/loadHfTokenizer.js';
export { byteLevelTokenizerJson, bytesToUnicode } from './tokenizers/byteLevelJson.js';
export { tokenizerFromJSON } from './tokenizers/tokenizerFromJson.js';
export { toTrlRows, toTrlPromptCompletionRows, writeEmbeddedTask } from './task/trlRows.js';
export type { EmbeddedTaskFiles } from './task/trlRows.js';
