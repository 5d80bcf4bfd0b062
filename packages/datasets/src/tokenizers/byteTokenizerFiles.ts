import { byteLevelTokenizerJson } from './byteLevelJson.js';
import { BYTE_SPECIAL_TOKENS, byteSpecialTokenIds } from './byteTokenizer.js';
import { saveHfTokenizerFiles } from './hfFiles.js';

/** The byte tokenizer's Hugging Face form: a byte-level BPE without merges whose ids are the same (Node only). */
export function saveByteTokenizerFiles(dir: string): void {
  saveHfTokenizerFiles(dir, { tokenizerJson: byteLevelTokenizerJson(byteSpecialTokenIds()), special: BYTE_SPECIAL_TOKENS });
}
