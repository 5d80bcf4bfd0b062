import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tokenizer } from './types.js';

/**
 * GPT-2's byte-level BPE tokenizer, read from a Hugging Face checkpoint directory (`tokenizer.json`, or
 * `vocab.json` + `merges.txt`). Text is split by GPT-2's pre-tokenization pattern, each piece's UTF-8 bytes are
 * mapped to printable characters (bytes_to_unicode), merged by rank, and looked up in the vocabulary.
 * Added (special) tokens such as `<|endoftext|>` are matched literally before that.
 */

const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's reversible map from bytes to printable unicode characters. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + extra++);
  }
  return table;
}

export interface Gpt2TokenizerJSON {
  type: 'gpt2-bpe';
  vocab: Record<string, number>;
  merges: string[];
  addedTokens: Record<string, number>;
  bos: number;
  eos: number;
  pad: number;
}

export class TokenizerFileError extends Error {
  override name = 'TokenizerFileError';
}

export class Gpt2Tokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  private readonly vocab: Map<string, number>;
  private readonly inverse: Map<number, string>;
  private readonly ranks: Map<string, number>;
  private readonly added: Map<string, number>;
  private readonly addedPattern: RegExp | null;
  private readonly byteChars = bytesToUnicode();
  private readonly charBytes: Map<string, number>;
  private readonly cache = new Map<string, number[]>();

  constructor(
    vocab: Record<string, number>,
    merges: readonly string[],
    specials: { bos: number; eos: number; pad?: number },
    addedTokens: Record<string, number> = {},
  ) {
    this.vocab = new Map(Object.entries(vocab));
    this.added = new Map(Object.entries(addedTokens));
    this.inverse = new Map();
    for (const [s, id] of this.vocab) this.inverse.set(id, s);
    for (const [s, id] of this.added) this.inverse.set(id, s);
    this.ranks = new Map(merges.map((m, i) => [m, i]));
    this.charBytes = new Map(this.byteChars.map((c, b) => [c, b]));
    const ids = [...this.inverse.keys()];
    this.vocabSize = ids.length === 0 ? 0 : Math.max(...ids) + 1;
    this.bos = specials.bos;
    this.eos = specials.eos;
    this.pad = specials.pad ?? specials.eos;
    const escaped = [...this.added.keys()].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.addedPattern = escaped.length > 0 ? new RegExp(`(${escaped.join('|')})`) : null;
  }

  /** Reads `tokenizer.json` (preferred) or `vocab.json` + `merges.txt` from a directory. */
  static fromDirectory(dir: string, specials: { bos?: number; eos?: number; pad?: number } = {}): Gpt2Tokenizer {
    const readJson = (name: string): unknown => {
      try {
        return JSON.parse(readFileSync(join(dir, name), 'utf8'));
      } catch (e) {
        throw new TokenizerFileError(`${join(dir, name)}: cannot read as JSON (${(e as Error).message})`);
      }
    };
    let vocab: Record<string, number>;
    let merges: string[];
    const added: Record<string, number> = {};
    if (existsSync(join(dir, 'tokenizer.json'))) {
      const j = readJson('tokenizer.json') as { model?: { type?: string; vocab?: unknown; merges?: unknown }; added_tokens?: unknown };
      const model = j?.model;
      if (!model || (model.type !== undefined && model.type !== 'BPE')) {
        throw new TokenizerFileError(`${join(dir, 'tokenizer.json')}: expected a BPE model (model.type "BPE"), got ${JSON.stringify(model?.type)}`);
      }
      vocab = checkVocab(model.vocab, join(dir, 'tokenizer.json'));
      if (!Array.isArray(model.merges)) throw new TokenizerFileError(`${join(dir, 'tokenizer.json')}: model.merges is not a list`);
      merges = model.merges.map((m: unknown) => (Array.isArray(m) ? m.join(' ') : String(m)));
      if (Array.isArray(j.added_tokens)) {
        for (const t of j.added_tokens as { content?: unknown; id?: unknown }[]) {
          if (typeof t?.content === 'string' && typeof t.id === 'number') added[t.content] = t.id;
        }
      }
    } else if (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'))) {
      vocab = checkVocab(readJson('vocab.json'), join(dir, 'vocab.json'));
      merges = readFileSync(join(dir, 'merges.txt'), 'utf8')
        .split('\n')
        .filter((line, i) => line.trim() !== '' && !(i === 0 && line.startsWith('#version')));
    } else {
      throw new TokenizerFileError(`${dir}: no tokenizer files (tokenizer.json, or vocab.json and merges.txt)`);
    }
    // GPT-2's <|endoftext|> is in the vocabulary itself; treat it as a special token too.
    if ('<|endoftext|>' in vocab && !('<|endoftext|>' in added)) added['<|endoftext|>'] = vocab['<|endoftext|>'];
    const eot = added['<|endoftext|>'];
    const eos = specials.eos ?? eot;
    const bos = specials.bos ?? eot ?? eos;
    if (eos === undefined || bos === undefined) {
      throw new TokenizerFileError(`${dir}: no EOS token: the vocabulary has no <|endoftext|> and config.json no eos_token_id`);
    }
    return new Gpt2Tokenizer(vocab, merges, { bos, eos, pad: specials.pad ?? eos }, added);
  }

  static fromJSON(json: unknown): Gpt2Tokenizer {
    const j = json as Partial<Gpt2TokenizerJSON>;
    if (!j || j.type !== 'gpt2-bpe' || typeof j.vocab !== 'object' || !Array.isArray(j.merges)) {
      throw new TokenizerFileError('not a gpt2-bpe tokenizer JSON');
    }
    return new Gpt2Tokenizer(j.vocab, j.merges, { bos: j.bos!, eos: j.eos!, pad: j.pad }, j.addedTokens ?? {});
  }

  toJSON(): Gpt2TokenizerJSON {
    return {
      type: 'gpt2-bpe',
      vocab: Object.fromEntries(this.vocab),
      merges: [...this.ranks.keys()],
      addedTokens: Object.fromEntries(this.added),
      bos: this.bos,
      eos: this.eos,
      pad: this.pad,
    };
  }

  encode(text: string): number[] {
    const out: number[] = [];
    const parts = this.addedPattern ? text.split(this.addedPattern) : [text];
    parts.forEach((part, i) => {
      // split with one capture group alternates text, special, text, ...
      if (this.addedPattern && i % 2 === 1) {
        out.push(this.added.get(part)!);
        return;
      }
      for (const piece of part.match(GPT2_PATTERN) ?? []) out.push(...this.encodePiece(piece));
    });
    return out;
  }

  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    let text = '';
    const flush = () => {
      text += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    };
    for (const id of ids) {
      const s = this.inverse.get(id);
      if (s === undefined) continue;
      if (this.added.has(s)) {
        flush();
        text += s;
        continue;
      }
      for (const ch of s) {
        const b = this.charBytes.get(ch);
        if (b !== undefined) bytes.push(b);
      }
    }
    flush();
    return text;
  }

  private encodePiece(piece: string): number[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    const symbols = [...Buffer.from(piece, 'utf8')].map((b) => this.byteChars[b]);
    // Merge the lowest-ranked adjacent pair until none is in the merge table.
    while (symbols.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const merged = symbols[best] + symbols[best + 1];
      // Merge every occurrence of this pair, left to right.
      const first = symbols[best];
      const second = symbols[best + 1];
      const next: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === first && symbols[i + 1] === second) {
          next.push(merged);
          i++;
        } else next.push(symbols[i]);
      }
      symbols.splice(0, symbols.length, ...next);
    }
    const ids = symbols.map((s) => {
      const id = this.vocab.get(s);
      if (id === undefined) throw new Error(`Gpt2Tokenizer: symbol ${JSON.stringify(s)} is not in the vocabulary`);
      return id;
    });
    if (this.cache.size < 100_000) this.cache.set(piece, ids);
    return ids;
  }
}

function checkVocab(v: unknown, source: string): Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TokenizerFileError(`${source}: the vocabulary is not an object of token → id`);
  for (const [k, id] of Object.entries(v)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new TokenizerFileError(`${source}: token ${JSON.stringify(k)} has id ${JSON.stringify(id)}`);
  }
  return v as Record<string, number>;
}
