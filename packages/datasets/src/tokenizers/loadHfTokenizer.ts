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

interface DirectoryOptions extends HfTokenizerOptions {
  /** tokenizer_config.json's `added_tokens_decoder` (how directories without a tokenizer.json declare added tokens). */
  readonly addedTokens?: ReadonlyArray<Record<string, unknown> & { id: number; content: string }>;
}

/** `added_tokens_decoder`: {"id": {"content": …, "special": …, …}}. */
function addedTokensOf(value: unknown, source: string): DirectoryOptions['addedTokens'] {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${source}: added_tokens_decoder: expected an object of id → token`);
  return Object.entries(value as Record<string, unknown>).map(([id, token]) => {
    const t = token as { content?: unknown };
    if (!/^\d+$/.test(id) || typeof t?.content !== 'string') throw new Error(`${source}: added_tokens_decoder.${id}: expected a numeric id and {"content": string}`);
    return { ...(token as Record<string, unknown>), id: Number(id), content: t.content };
  });
}

/** Added tokens the directory declares that the tokenizer.json content lacks, appended to it. */
function withAddedTokens(json: unknown, declared: DirectoryOptions['addedTokens']): unknown {
  if (!declared || typeof json !== 'object' || json === null) return json;
  const present = ((json as { added_tokens?: { id: number }[] }).added_tokens ?? []) as { id: number }[];
  const ids = new Set(present.map((a) => a.id));
  const extra = declared.filter((a) => !ids.has(a.id)).map((a) => ({ single_word: false, lstrip: false, rstrip: false, normalized: false, special: false, ...a }));
  return extra.length === 0 ? json : { ...json, added_tokens: [...present, ...extra] };
}

/** BOS/EOS/PAD names, added tokens and the chat template of a model directory (tokenizer_config.json, else special_tokens_map.json). */
function directoryOptions(dir: string): DirectoryOptions {
  const configPath = join(dir, 'tokenizer_config.json');
  const mapPath = join(dir, 'special_tokens_map.json');
  const source = existsSync(configPath) ? configPath : existsSync(mapPath) ? mapPath : null;
  if (source === null) return {};
  const o = readJson(source) as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error(`${source}: expected a JSON object`);
  const options: { -readonly [K in keyof DirectoryOptions]: DirectoryOptions[K] } = {};
  const addedTokens = addedTokensOf(o.added_tokens_decoder, source);
  if (addedTokens !== undefined) options.addedTokens = addedTokens;
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
 * `tokenizer.json` (else `vocab.json` + `merges.txt`), BOS/EOS/PAD, `chat_template` and the added tokens of
 * `added_tokens_decoder` (those the tokenizer.json lacks) from `tokenizer_config.json`. `overrides` win over the files. Left: a message naming the file at fault.
 */
export function loadHfTokenizer(source: HfTokenizerSource, overrides: HfTokenizerOptions = {}): E.Either<string, Tokenizer> {
  try {
    let json: unknown;
    let options: DirectoryOptions = {};
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
    const { addedTokens, ...names } = options;
    return E.mapLeft((m: string) => `${where}: ${m}`)(hfTokenizerFromJson(withAddedTokens(json, addedTokens), { ...names, ...overrides }));
  } catch (e) {
    return E.left(e instanceof Error ? e.message : String(e));
  }
}
