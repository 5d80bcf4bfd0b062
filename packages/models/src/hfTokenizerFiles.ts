import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writing a tokenizer's Hugging Face files on export.
 *
 * The tokenizer contract's own method is `saveHfFiles(dir)` (tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json, and vocab.json + merges.txt for GPT-2): when the tokenizer has it, it is used.
 * ADAPTER (until every tokenizer implements saveHfFiles): otherwise the files are written here from the
 * tokenizer's toJSON() for the two JSON shapes we know — a Hugging Face `tokenizer.json` wrapped as
 * `{kind: 'bpe', tokenizer, special}`, and the GPT-2 BPE `{type: 'gpt2-bpe', vocab, merges, addedTokens}`.
 * A byte tokenizer has no Hugging Face equivalent: nothing is written and the caller is told.
 */

export interface HfTokenizerSource {
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  toJSON(): unknown;
  saveHfFiles?(dir: string): void;
}

/** Writes the files into `dir`; returns their names, or null when this tokenizer cannot be exported. */
export function writeHfTokenizerFiles(tokenizer: HfTokenizerSource, dir: string, contextLength: number): string[] | null {
  if (typeof tokenizer.saveHfFiles === 'function') {
    tokenizer.saveHfFiles(dir);
    return ['(the tokenizer\'s saveHfFiles)'];
  }
  const json = tokenizer.toJSON() as Record<string, unknown>;
  const write = (name: string, value: unknown) => writeFileSync(join(dir, name), typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
  if (json?.kind === 'bpe' && typeof json.tokenizer === 'object' && json.tokenizer !== null) {
    const special = json.special as { bos: string; eos: string; pad: string };
    write('tokenizer.json', json.tokenizer);
    const map = { bos_token: special.bos, eos_token: special.eos, pad_token: special.pad };
    write('special_tokens_map.json', map);
    write('tokenizer_config.json', { ...map, tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: contextLength, clean_up_tokenization_spaces: false });
    return ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
  }
  if (json?.type === 'gpt2-bpe') {
    const vocab = { ...(json.vocab as Record<string, number>), ...(json.addedTokens as Record<string, number>) };
    const byId = new Map(Object.entries(vocab).map(([s, id]) => [id, s]));
    write('vocab.json', vocab);
    write('merges.txt', `#version: 0.2\n${(json.merges as string[]).join('\n')}\n`);
    const token = (id: number) => byId.get(id) ?? '<|endoftext|>';
    const map = { bos_token: token(tokenizer.bos), eos_token: token(tokenizer.eos), unk_token: token(tokenizer.eos), pad_token: token(tokenizer.pad) };
    write('special_tokens_map.json', map);
    write('tokenizer_config.json', { ...map, tokenizer_class: 'GPT2Tokenizer', model_max_length: contextLength, add_prefix_space: false });
    return ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];
  }
  return null;
}
