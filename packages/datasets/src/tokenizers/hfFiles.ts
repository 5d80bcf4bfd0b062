import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomic } from '../io/writeTextAtomic.js';
import type { SpecialTokenNames } from './tokenizer.js';

export interface HfTokenizerFiles {
  /** The complete `tokenizer.json` content (special tokens included in `added_tokens`). */
  readonly tokenizerJson: Record<string, unknown>;
  readonly special: SpecialTokenNames;
  readonly chatTemplate?: string;
}

interface AddedTokenEntry {
  readonly id: number;
  readonly content: string;
  readonly special?: boolean;
  readonly lstrip?: boolean;
  readonly rstrip?: boolean;
  readonly normalized?: boolean;
  readonly single_word?: boolean;
}

/** GPT-2-style byte-level BPE: the only kind whose vocabulary and merges also exist as vocab.json + merges.txt. */
function gpt2Files(tokenizerJson: Record<string, unknown>): { vocab: string; merges: string } | null {
  const model = tokenizerJson.model as { type?: unknown; vocab?: unknown; merges?: unknown } | undefined;
  const pre = tokenizerJson.pre_tokenizer as { type?: unknown } | null | undefined;
  if (model?.type !== 'BPE' || pre?.type !== 'ByteLevel' || !Array.isArray(model.merges)) return null;
  const merges = model.merges.map((m: unknown) => (Array.isArray(m) ? m.join(' ') : String(m)));
  return { vocab: JSON.stringify(model.vocab), merges: ['#version: 0.2', ...merges].join('\n') + '\n' };
}

/**
 * Writes `tokenizer.json`, `tokenizer_config.json` (PreTrainedTokenizerFast, BOS/EOS/PAD, the chat
 * template, `added_tokens_decoder`) and `special_tokens_map.json`, plus `vocab.json` and `merges.txt`
 * for GPT-2-style byte-level BPE: what transformers' `AutoTokenizer.from_pretrained` reads. The directory
 * must exist; each file is written atomically.
 */
export function saveHfTokenizerFiles(dir: string, files: HfTokenizerFiles): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`saveHfFiles: ${dir} is not a directory`);
  const added = (files.tokenizerJson.added_tokens ?? []) as AddedTokenEntry[];
  const addedTokensDecoder = Object.fromEntries(
    added.map((a) => [
      String(a.id),
      { content: a.content, lstrip: a.lstrip ?? false, normalized: a.normalized ?? false, rstrip: a.rstrip ?? false, single_word: a.single_word ?? false, special: a.special ?? false },
    ]),
  );
  const specialMap = { bos_token: files.special.bos, eos_token: files.special.eos, pad_token: files.special.pad };
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    ...specialMap,
    // BOS/EOS are placed by the training code, as here; the post-processor decides for plain `tokenizer(text)`.
    clean_up_tokenization_spaces: false,
    added_tokens_decoder: addedTokensDecoder,
    ...(files.chatTemplate === undefined ? {} : { chat_template: files.chatTemplate }),
  };
  writeTextAtomic(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson, null, 2));
  writeTextAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2));
  writeTextAtomic(join(dir, 'special_tokens_map.json'), JSON.stringify(specialMap, null, 2));
  const gpt2 = gpt2Files(files.tokenizerJson);
  if (gpt2) {
    writeTextAtomic(join(dir, 'vocab.json'), gpt2.vocab);
    writeTextAtomic(join(dir, 'merges.txt'), gpt2.merges);
  }
}
