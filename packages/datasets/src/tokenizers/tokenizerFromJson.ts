import * as E from 'fp-ts/lib/Either.js';
import { byteTokenizer } from './byteTokenizer.js';
import { tokenizerJsonFromVocabAndMerges } from './gpt2VocabMerges.js';
import { hfTokenizerFromJson, specialAddedToken } from './hfTokenizer.js';
import type { Tokenizer } from './tokenizer.js';

const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * The models package's former GPT-2 tokenizer JSON (`{"type": "gpt2-bpe", vocab, merges, addedTokens,
 * bos, eos, pad}`, ids), which runs saved before the single tokenizer contract hold, as a tokenizer.json.
 */
function fromLegacyGpt2Json(o: Record<string, unknown>): E.Either<string, Tokenizer> {
  if (!Array.isArray(o.merges) || !o.merges.every(isString)) return E.left('tokenizer: gpt2-bpe needs merges as a list of strings');
  const built = tokenizerJsonFromVocabAndMerges(o.vocab, o.merges.join('\n'));
  if (E.isLeft(built)) return built;
  const vocab = o.vocab as Record<string, number>;
  const added = Object.entries((o.addedTokens ?? {}) as Record<string, unknown>);
  if (!added.every(([, id]) => Number.isInteger(id))) return E.left('tokenizer: gpt2-bpe addedTokens must map strings to ids');
  const names = new Map<number, string>([...Object.entries(vocab), ...(added as [string, number][])].map(([s, id]) => [id, s]));
  const name = (role: string): E.Either<string, string> => {
    const s = names.get(o[role] as number);
    return s === undefined ? E.left(`tokenizer: gpt2-bpe ${role} id ${JSON.stringify(o[role])} is not in the vocabulary`) : E.right(s);
  };
  const [bos, eos, pad] = [name('bos'), name('eos'), name('pad')];
  if (E.isLeft(bos)) return bos;
  if (E.isLeft(eos)) return eos;
  if (E.isLeft(pad)) return pad;
  const json = { ...(built.right as object), added_tokens: added.map(([content, id]) => specialAddedToken(id as number, content)) };
  return hfTokenizerFromJson(json, { bos: bos.right, eos: eos.right, pad: pad.right });
}

/**
 * Rebuilds a tokenizer from what its `toJSON()` returned (e.g. read back from a checkpoint). Also reads
 * what earlier versions saved: `{"kind": "bpe"}` (same content as `hf`) and the models package's
 * `{"type": "gpt2-bpe"}`.
 */
export function tokenizerFromJSON(json: unknown): E.Either<string, Tokenizer> {
  if (typeof json !== 'object' || json === null) return E.left('tokenizer: expected an object');
  const o = json as Record<string, unknown>;
  if (o.type === 'gpt2-bpe') return fromLegacyGpt2Json(o);
  if (o.version !== 1) return E.left(`tokenizer: unsupported version ${JSON.stringify(o.version)}`);
  if (o.kind === 'byte') return E.right(byteTokenizer());
  if (o.kind === 'hf' || o.kind === 'bpe') {
    const s = o.special as { bos?: unknown; eos?: unknown; pad?: unknown } | undefined;
    if (!s || !isString(s.bos) || !isString(s.eos) || !isString(s.pad)) return E.left(`tokenizer: ${o.kind} needs special.bos, special.eos and special.pad strings`);
    if (o.chatTemplate !== undefined && !isString(o.chatTemplate)) return E.left('tokenizer: chatTemplate must be a string');
    return hfTokenizerFromJson(o.tokenizer, { bos: s.bos, eos: s.eos, pad: s.pad, ...(isString(o.chatTemplate) ? { chatTemplate: o.chatTemplate } : {}) });
  }
  return E.left(`tokenizer: unknown kind ${JSON.stringify(o.kind)}`);
}
