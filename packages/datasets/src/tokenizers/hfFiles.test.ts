import { fc, test } from '@fast-check/vitest';
import * as E from 'fp-ts/lib/Either.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, removeTempDirs, tempDir } from '../testFixtures.js';
import { BYTE_BOS, BYTE_EOS, BYTE_PAD, byteTokenizer } from './byteTokenizer.js';
import { saveByteTokenizerFiles } from './byteTokenizerFiles.js';
import { setTokenizerFileWriters } from './fileWriters.js';
import { hfTokenizerFromJson } from './hfTokenizer.js';
import { loadHfTokenizer } from './loadHfTokenizer.js';
import type { Tokenizer } from './tokenizer.js';
import { tokenizerFromJSON } from './tokenizerFromJson.js';

afterAll(removeTempDirs);
// What the Node entry point (index.ts) installs: this file imports the modules directly.
setTokenizerFileWriters({ saveByteTokenizerFiles });
const right = <A>(e: E.Either<string, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left);
  return e.right;
};
const bpeDir = join(FIXTURES, 'bpe');
const fixtureJson = () => JSON.parse(readFileSync(join(bpeDir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
const anyText = fc.string({ unit: 'binary', maxLength: 64 });
const CHATML = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}";
const ids = (t: Tokenizer) => [t.bos, t.eos, t.pad, t.vocabSize];

const saved = (tok: Tokenizer) => {
  const dir = tempDir();
  tok.saveHfFiles(dir);
  return dir;
};

describe('saveHfFiles', () => {

  test.prop([anyText], { numRuns: 30 })('the byte tokenizer saved as a byte-level tokenizer.json encodes and decodes exactly as it does', (s) => {
    const bytes = byteTokenizer();
    const again = right(loadHfTokenizer(byteDir));
    expect(again.encode(s)).toEqual(bytes.encode(s));
    expect(again.decode(bytes.encode(s))).toBe(bytes.decode(bytes.encode(s)));
  });
  const byteDir = saved(byteTokenizer());

  it('writes the byte tokenizer with its specials as added tokens 256–258, named in tokenizer_config.json', () => {
    const again = right(loadHfTokenizer(byteDir));
    expect(ids(again)).toEqual([BYTE_BOS, BYTE_EOS, BYTE_PAD, 259]);
    expect(again.encodeMarkup('<s>hi</s>')).toEqual([BYTE_BOS, 104, 105, BYTE_EOS]);
    const config = JSON.parse(readFileSync(join(byteDir, 'tokenizer_config.json'), 'utf8'));
    expect(config).toMatchObject({ tokenizer_class: 'PreTrainedTokenizerFast', bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>' });
    expect(config.added_tokens_decoder['257']).toMatchObject({ content: '<s>', special: true });
    expect(JSON.parse(readFileSync(join(byteDir, 'special_tokens_map.json'), 'utf8'))).toEqual({ bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>' });
  });

  it('round-trips a GPT-2-style BPE with its chat template, also through the vocab.json + merges.txt it writes', () => {
    const tok = right(hfTokenizerFromJson(fixtureJson(), { chatTemplate: CHATML }));
    const dir = saved(tok);
    const fromDir = right(loadHfTokenizer(dir));
    const fromGpt2Files = right(loadHfTokenizer({ vocab: join(dir, 'vocab.json'), merges: join(dir, 'merges.txt') }));
    expect(fromDir.chatTemplate).toBe(CHATML);
    expect(ids(fromDir)).toEqual(ids(tok));
    expect(ids(fromGpt2Files)).toEqual(ids(tok));
    fc.assert(
      fc.property(anyText, (s) => {
        expect(fromDir.encode(s)).toEqual(tok.encode(s));
        expect(fromGpt2Files.encode(s)).toEqual(tok.encode(s));
      }),
      { numRuns: 50 },
    );
  });

  it('keeps appended BOS/EOS tokens in the saved files', () => {
    const json = fixtureJson();
    delete (json.model as { vocab: Record<string, number> }).vocab['<|endoftext|>'];
    json.added_tokens = [];
    const bare = right(hfTokenizerFromJson(json));
    expect(ids(bare)).toEqual([285, 286, 286, 287]);
    const again = right(loadHfTokenizer(saved(bare)));
    expect(ids(again)).toEqual([285, 286, 286, 287]);
    expect(again.specialTokens).toEqual({ bos: '<|bos|>', eos: '<|eos|>', pad: '<|eos|>' });
  });

  it('refuses a directory that does not exist', () => {
    expect(() => byteTokenizer().saveHfFiles(join(tempDir(), 'missing'))).toThrow(/is not a directory/);
  });
});

describe('loading a Hugging Face model directory', () => {
  const modelDir = (config: Record<string, unknown> | string | null) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(fixtureJson()));
    if (config !== null) writeFileSync(join(dir, 'tokenizer_config.json'), typeof config === 'string' ? config : JSON.stringify(config));
    return dir;
  };

  it('takes BOS/EOS/PAD (strings or AddedToken objects) and the chat template from tokenizer_config.json', () => {
    const tok = right(
      loadHfTokenizer(modelDir({ bos_token: { content: '<|endoftext|>', special: true }, eos_token: '<|endoftext|>', pad_token: null, chat_template: [{ name: 'default', template: CHATML }, { name: 'tool_use', template: 'x' }] })),
    );
    expect(ids(tok)).toEqual([285, 285, 285, 286]);
    expect(tok.chatTemplate).toBe(CHATML);
  });

  it("declares a GPT-2-style directory's added tokens from added_tokens_decoder (vocab.json + merges.txt have none)", () => {
    const dir = tempDir();
    for (const f of ['vocab.json', 'merges.txt']) writeFileSync(join(dir, f), readFileSync(join(bpeDir, f)));
    const decoder = { '286': { content: '<|im_start|>', special: true }, '287': { content: '<|im_end|>', special: true } };
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|im_end|>', added_tokens_decoder: decoder, chat_template: CHATML }));
    const tok = right(loadHfTokenizer(dir));
    expect(ids(tok)).toEqual([285, 287, 287, 288]);
    expect(tok.encodeMarkup('<|im_start|>user\n')).toEqual([286, ...tok.encode('user\n')]);
    expect(tok.encode('<|im_start|>')).not.toContain(286);
    const again = right(loadHfTokenizer(saved(tok)));
    expect(again.encodeMarkup('<|im_start|>x<|im_end|>')).toEqual(tok.encodeMarkup('<|im_start|>x<|im_end|>'));
    expect(loadHfTokenizer(modelDir({ added_tokens_decoder: { x: { content: 'a' } } }))).toEqual(
      E.left(expect.stringMatching(/added_tokens_decoder\.x: expected a numeric id and \{"content": string\}/)),
    );
  });

  it('reads chat_template.jinja when tokenizer_config.json has no template', () => {
    const dir = modelDir({ eos_token: '<|endoftext|>' });
    writeFileSync(join(dir, 'chat_template.jinja'), CHATML);
    expect(right(loadHfTokenizer(dir)).chatTemplate).toBe(CHATML);
  });

  it('explains broken files, naming them', () => {
    const bad = modelDir('{"bos_token": ');
    expect(loadHfTokenizer(bad)).toEqual(E.left(expect.stringMatching(/tokenizer_config\.json: invalid JSON/)));
    expect(loadHfTokenizer(modelDir({ eos_token: 7 }))).toEqual(E.left(expect.stringMatching(/tokenizer_config\.json: eos_token: expected a string or \{"content": string\}/)));
    expect(loadHfTokenizer(modelDir({ eos_token: '<|nope|>' }))).toEqual(E.left(expect.stringMatching(/tokenizer\.json: eos token "<\|nope\|>" is not in the vocabulary/)));
    expect(loadHfTokenizer(tempDir())).toEqual(E.left(expect.stringMatching(/no tokenizer files \(tokenizer\.json, or vocab\.json and merges\.txt\)/)));
    expect(loadHfTokenizer(join(tempDir(), 'nothing'))).toEqual(E.left(expect.stringMatching(/no such file or directory/)));
    const merges = join(tempDir(), 'merges.txt');
    writeFileSync(merges, '#version: 0.2\nĠ t\nbroken\n');
    expect(loadHfTokenizer({ vocab: join(bpeDir, 'vocab.json'), merges })).toEqual(E.left(`${merges}:3: expected two tokens separated by one space, got "broken"`));
  });
});

describe('checkpoint JSON written by earlier versions', () => {
  const fromFiles = right(loadHfTokenizer({ vocab: join(bpeDir, 'vocab.json'), merges: join(bpeDir, 'merges.txt') }));

  it("reads the models package's former gpt2-bpe JSON (ids for the specials); special-token text is now text", () => {
    const vocab = JSON.parse(readFileSync(join(bpeDir, 'vocab.json'), 'utf8'));
    const merges = readFileSync(join(bpeDir, 'merges.txt'), 'utf8').split('\n').filter((l, i) => l !== '' && !(i === 0 && l.startsWith('#version')));
    const legacy = { type: 'gpt2-bpe', vocab, merges, addedTokens: { '<|endoftext|>': 285 }, bos: 285, eos: 285, pad: 285 };
    const tok = right(tokenizerFromJSON(legacy));
    expect(ids(tok)).toEqual([285, 285, 285, 286]);
    fc.assert(
      fc.property(anyText, (s) => {
        expect(tok.encode(s)).toEqual(fromFiles.encode(s));
      }),
      { numRuns: 30 },
    );
    expect(tok.encode('<|endoftext|>')).not.toContain(285);
    expect(tokenizerFromJSON({ ...legacy, bos: 9999 })).toEqual(E.left('tokenizer: gpt2-bpe bos id 9999 is not in the vocabulary'));
  });

  it('reads the former {"kind": "bpe"} JSON, and writes {"kind": "hf"} that reads back equal', () => {
    const legacy = { kind: 'bpe', version: 1, tokenizer: fixtureJson(), special: { bos: '<|endoftext|>', eos: '<|endoftext|>', pad: '<|endoftext|>' } };
    const tok = right(tokenizerFromJSON(legacy));
    const again = right(tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON()))));
    expect(tok.toJSON().kind).toBe('hf');
    fc.assert(
      fc.property(anyText, (s) => {
        expect(again.encode(s)).toEqual(tok.encode(s));
        expect(tok.encode(s)).toEqual(fromFiles.encode(s));
      }),
      { numRuns: 30 },
    );
  });
});
