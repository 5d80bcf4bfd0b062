import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { tokenizerJsonFromVocabAndMerges } from './gpt2VocabMerges.js';
import { hfTokenizerFromJson, type HfTokenizerOptions } from './hfTokenizer.js';
import type { Tokenizer } from './tokenizer.js';

/**
 * Where a tokenizer's files are: a Hugging Face model directory (`tokenizer.json`, or GPT-2's `vocab.json` +
 * `merges.txt`; with `tokenizer_config.json` / `special_tokens_map.json` when present), a `tokenizer.json`
 * file, or explicit GPT-2 files.
 */
export type HfTokenizerSource = string | { readonly tokenizerJson: string } | { readonly vocab: string; readonly merges: string };

const readJson = (path: string): unknown => {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
};

/** A token field of tokenizer_config.json: a string, `{"content": …}` (AddedToken), or null/absent. */
function tokenName(value: unknown, field: string, source: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  throw new Error(`${source}: ${field}: expected a string or {"content": string}, got ${JSON.stringify(value).slice(0, 60)}`);
}

/** `chat_template`: a string, or a list of `{name, template}` of which `default` is the chat template. */
function chatTemplateOf(value: unknown, source: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.find((v) => (v as { name?: unknown })?.name === 'default') as { template?: unknown } | undefined;
    if (named && typeof named.template === 'string') return named.template;
    throw new Error(`${source}: chat_template: a list of templates without a "default" one`);
  }
  throw new Error(`${source}: chat_template: expected a string or a list of {name, template}`);
}

/** BOS/EOS/PAD names and the chat template of a model directory (tokenizer_config.json, else special_tokens_map.json). */
function directoryOptions(dir: string): HfTokenizerOptions {
  const configPath = join(dir, 'tokenizer_config.json');
  const mapPath = join(dir, 'special_tokens_map.json');
  const source = existsSync(configPath) ? configPath : existsSync(mapPath) ? mapPath : null;
  if (source === null) return {};
  const o = readJson(source) as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error(`${source}: expected a JSON object`);
  const options: { -readonly [K in keyof HfTokenizerOptions]: HfTokenizerOptions[K] } = {};
  for (const role of ['bos', 'eos', 'pad'] as const) {
    const name = tokenName(o[`${role}_token`], `${role}_token`, source);
    if (name !== undefined) options[role] = name;
  }
  const template = chatTemplateOf(o.chat_template, source);
  if (template !== undefined) options.chatTemplate = template;
  // Newer transformers keep the template in its own file.
  const jinja = join(dir, 'chat_template.jinja');
  if (options.chatTemplate === undefined && existsSync(jinja)) options.chatTemplate = readFileSync(jinja, 'utf8');
  return options;
}

/**
 * Loads a tokenizer from local files (no network). A directory is read as a Hugging Face model directory:
 * `tokenizer.json` (else `vocab.json` + `merges.txt`), BOS/EOS/PAD and `chat_template` from
 * `tokenizer_config.json`. `overrides` win over the files. Left: a message naming the file at fault.
 */
export function loadHfTokenizer(source: HfTokenizerSource, overrides: HfTokenizerOptions = {}): E.Either<string, Tokenizer> {
  try {
    let json: unknown;
    let options: HfTokenizerOptions = {};
    let where: string;
    let files: { readonly tokenizerJson: string } | { readonly vocab: string; readonly merges: string };
    if (typeof source === 'string') {
      if (!existsSync(source)) return E.left(`${source}: no such file or directory`);
      if (statSync(source).isDirectory()) {
        if (existsSync(join(source, 'tokenizer.json'))) files = { tokenizerJson: join(source, 'tokenizer.json') };
        else if (existsSync(join(source, 'vocab.json')) && existsSync(join(source, 'merges.txt'))) files = { vocab: join(source, 'vocab.json'), merges: join(source, 'merges.txt') };
        else return E.left(`${source}: no tokenizer files (tokenizer.json, or vocab.json and merges.txt)`);
        options = directoryOptions(source);
      } else files = { tokenizerJson: source };
    } else files = source;
    if ('tokenizerJson' in files) {
      where = files.tokenizerJson;
      json = readJson(files.tokenizerJson);
    } else {
      where = `${files.vocab} + ${files.merges}`;
      const built = tokenizerJsonFromVocabAndMerges(readJson(files.vocab), readFileSync(files.merges, 'utf8'));
      if (E.isLeft(built)) return E.left(built.left.replace(/^vocab\.json/, files.vocab).replace(/^merges\.txt/, files.merges));
      json = built.right;
    }
    return E.mapLeft((m: string) => `${where}: ${m}`)(hfTokenizerFromJson(json, { ...options, ...overrides }));
  } catch (e) {
    return E.left(e instanceof Error ? e.message : String(e));
  }
}
