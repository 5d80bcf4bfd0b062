import * as E from 'fp-ts/lib/Either.js';
import { bpeTokenizerFromJson } from './bpeTokenizer.js';
import { byteTokenizer } from './byteTokenizer.js';
import type { Tokenizer } from './tokenizer.js';

/** Rebuilds a tokenizer from what its `toJSON()` returned (e.g. read back from a checkpoint). */
export function tokenizerFromJSON(json: unknown): E.Either<string, Tokenizer> {
  if (typeof json !== 'object' || json === null) return E.left('tokenizer: expected an object');
  const o = json as { kind?: unknown; version?: unknown; tokenizer?: unknown; special?: unknown };
  if (o.version !== 1) return E.left(`tokenizer: unsupported version ${JSON.stringify(o.version)}`);
  if (o.kind === 'byte') return E.right(byteTokenizer());
  if (o.kind === 'bpe') {
    const s = o.special as { bos?: unknown; eos?: unknown; pad?: unknown } | undefined;
    if (!s || typeof s.bos !== 'string' || typeof s.eos !== 'string' || typeof s.pad !== 'string')
      return E.left('tokenizer: bpe needs special.bos, special.eos and special.pad strings');
    return bpeTokenizerFromJson(o.tokenizer, { bos: s.bos, eos: s.eos, pad: s.pad });
  }
  return E.left(`tokenizer: unknown kind ${JSON.stringify(o.kind)}`);
}
