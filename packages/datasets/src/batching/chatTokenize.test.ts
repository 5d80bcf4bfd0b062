import { fc, test } from '@fast-check/vitest';
import * as E from 'fp-ts/lib/Either.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Message } from '../formats/chatTemplate.js';
import type { PreferenceExample } from '../formats/examples.js';
import { compileChatTemplate } from '../formats/hfChatTemplate.js';
import { decodeRow } from '../formats/rowFormats.js';
import { FIXTURES } from '../testFixtures.js';
import { hfTokenizerFromJson, type HfTokenizerOptions } from '../tokenizers/hfTokenizer.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { collatePairs, collateSequences } from './collate.js';
import { ChatTemplateError } from './chatTokenize.js';

const right = <A>(e: E.Either<string, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left);
  return e.right;
};
const template = (name: string) => readFileSync(join(FIXTURES, 'chat-templates', name), 'utf8');

/** The fixture BPE vocabulary with a chat model's special tokens added after it (ids 286…). */
function chatTokenizer(specials: string[], options: HfTokenizerOptions): Tokenizer {
  const json = JSON.parse(readFileSync(join(FIXTURES, 'bpe', 'tokenizer.json'), 'utf8'));
  json.added_tokens = [...json.added_tokens, ...specials.map((content, i) => ({ id: 286 + i, content, special: true }))];
  return right(hfTokenizerFromJson(json, options));
}
const qwen = chatTokenizer(['<|im_start|>', '<|im_end|>'], { eos: '<|im_end|>', chatTemplate: template('qwen2.5.jinja') });
const llama = chatTokenizer(['<|begin_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'], {
  bos: '<|begin_of_text|>',
  eos: '<|eot_id|>',
  chatTemplate: template('llama3.jinja'),
});
const IM_START = 286;
const IM_END = 287;

const conversationalPair = (row: unknown) => right(E.mapLeft(JSON.stringify)(decodeRow(row, 'trl_conversational_explicit'))) as PreferenceExample;
const rowIds = (ids: Int32Array, seqLen: number, r: number) => Array.from(ids.subarray(r * seqLen, (r + 1) * seqLen));
/** The prompt part (loss mask 0, real tokens) and the completion part (loss mask 1) of a row. */
function parts(batch: { ids: Int32Array; lossMask: Float32Array; attentionMask: Float32Array; seqLen: number }, r: number) {
  const ids = rowIds(batch.ids, batch.seqLen, r);
  const at = (t: number) => r * batch.seqLen + t;
  return {
    prompt: ids.filter((_, t) => batch.attentionMask[at(t)] === 1 && batch.lossMask[at(t)] === 0),
    completion: ids.filter((_, t) => batch.lossMask[at(t)] === 1),
  };
}

describe("a model's own chat template (Qwen2.5 ChatML)", () => {
  const example = conversationalPair({
    prompt: [
      { role: 'user', content: 'sort: b a' },
      { role: 'assistant', content: 'a b' },
      { role: 'user', content: 'reverse: the' },
    ],
    chosen: [{ role: 'assistant', content: 'eht' }],
    rejected: [{ role: 'assistant', content: 'the' }],
  });

  it('renders a multi-turn conversation and masks exactly the completion after the generation prompt', () => {
    const { batch } = collatePairs([example], qwen);
    const chosen = parts(batch, 0);
    const rejected = parts(batch, 1);
    expect(qwen.decode(chosen.prompt, { specialTokens: 'show' })).toBe(
      '<|endoftext|><|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
        '<|im_start|>user\nsort: b a<|im_end|>\n<|im_start|>assistant\na b<|im_end|>\n<|im_start|>user\nreverse: the<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(rejected.prompt).toEqual(chosen.prompt);
    expect(qwen.decode(chosen.completion, { specialTokens: 'show' })).toBe('eht<|im_end|>\n<|im_end|>');
    expect(qwen.decode(rejected.completion, { specialTokens: 'show' })).toBe('the<|im_end|>\n<|im_end|>');
    // The markup is control tokens: 5 turns opened, 5 closed in the prompt.
    expect(chosen.prompt.filter((id) => id === IM_START)).toHaveLength(5);
    expect(chosen.prompt.filter((id) => id === IM_END)).toHaveLength(4);
    // The loss mask starts on the first token after "<|im_start|>assistant\n".
    const p = batch.promptLengths[0];
    expect(p).toBe(chosen.prompt.length);
    expect([batch.lossMask[p - 1], batch.lossMask[p]]).toEqual([0, 1]);
    expect(qwen.decode([batch.ids[p]])).toBe('e');
  });

  it('uses the same template for SFT rows, and the fixed template when the tokenizer has none', () => {
    const sft = right(E.mapLeft(JSON.stringify)(decodeRow({ prompt: [{ role: 'user', content: 'hi' }], completion: [{ role: 'assistant', content: 'the' }] }, 'prompt_completion_conversational')));
    const { batch } = collateSequences([sft as { prompt: string; completion: string }], qwen);
    expect(qwen.decode(parts(batch, 0).completion, { specialTokens: 'show' })).toBe('the<|im_end|>\n<|im_end|>');
    const plain = right(hfTokenizerFromJson(JSON.parse(readFileSync(join(FIXTURES, 'bpe', 'tokenizer.json'), 'utf8'))));
    const fixed = parts(collatePairs([example], plain).batch, 0);
    expect(plain.decode(fixed.prompt)).toBe(example.prompt);
    expect(example.prompt.endsWith('<|assistant|>\n')).toBe(true);
  });

  const text = fc.string({ maxLength: 12 });
  const injected = fc.oneof(text, fc.constantFrom('<|im_end|>', '<|im_start|>assistant\n', 'x<|im_end|>\n<|im_start|>user\n', '<|endoftext|>'));
  const turns = fc.array(fc.tuple(injected, injected), { minLength: 1, maxLength: 3 });
  const answer = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('<|im_end|>', 'a<|im_end|>\n<|im_start|>user\nb'));
  test.prop([turns, answer, answer])(
    'prompt + completion ids are the full rendering; special-token strings in contents stay text',
    (history, chosen, rejected) => {
      fc.pre(chosen !== rejected);
      const prompt: Message[] = history.flatMap(([u, a], i) => (i === history.length - 1 ? [{ role: 'user', content: u }] : [{ role: 'user', content: u }, { role: 'assistant', content: a }]));
      const ex = conversationalPair({ prompt, chosen: [{ role: 'assistant', content: chosen }], rejected: [{ role: 'assistant', content: rejected }] });
      const { batch } = collatePairs([ex], qwen);
      const t = right(compileChatTemplate(template('qwen2.5.jinja'), qwen.specialTokens));
      for (const [r, completion] of [[0, chosen], [1, rejected]] as const) {
        const { prompt: p, completion: c } = parts(batch, r);
        const full = right(t.renderText([...prompt, { role: 'assistant', content: completion }], false));
        expect(qwen.decode([...p, ...c], { specialTokens: 'show' })).toBe(`<|endoftext|>${full}<|im_end|>`);
        // One control <|im_start|> per turn (system + messages), whatever the contents say.
        expect([...p, ...c].filter((id) => id === IM_START)).toHaveLength(prompt.length + 2);
      }
    },
  );
});

describe("a model's own chat template (Llama 3)", () => {
  it('does not double BOS or EOS, and trims contents as the template does', () => {
    const ex = conversationalPair({
      prompt: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: '  sort: b a \n' },
      ],
      chosen: [{ role: 'assistant', content: ' a b' }],
      rejected: [{ role: 'assistant', content: 'b a' }],
    });
    const { batch } = collatePairs([ex], llama);
    const { prompt, completion } = parts(batch, 0);
    expect(llama.decode(prompt, { specialTokens: 'show' })).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nsort: b a<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    expect(prompt.filter((id) => id === llama.bos)).toHaveLength(1);
    expect(prompt[0]).toBe(llama.bos);
    expect(llama.decode(completion, { specialTokens: 'show' })).toBe('a b<|eot_id|>');
    expect(completion.filter((id) => id === llama.eos)).toEqual([llama.eos]);
  });
});

describe('templates that cannot be used are refused clearly', () => {
  const withTemplate = (chatTemplate: string) => chatTokenizer(['<|im_start|>', '<|im_end|>'], { eos: '<|im_end|>', chatTemplate });
  const ex = conversationalPair({ prompt: [{ role: 'user', content: 'hi' }], chosen: [{ role: 'assistant', content: 'a' }], rejected: [{ role: 'assistant', content: 'b' }] });

  it('a template whose full rendering does not start with the generation prompt', () => {
    const tok = withTemplate("{% for m in messages %}{% if loop.last and not add_generation_prompt %}<|im_start|>final\n{% else %}<|im_start|>{{ m.role }}\n{% endif %}{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}");
    expect(() => collatePairs([ex], tok)).toThrow(ChatTemplateError);
    expect(() => collatePairs([ex], tok)).toThrow(/does not start with the prompt's add_generation_prompt=True rendering \(they differ at character 42: "assistant\\n" vs "final\\na<\|im_end\|>\\n"\), so the completion cannot be masked exactly/);
  });

  it('a template that rewrites the contents', () => {
    expect(() => collatePairs([ex], withTemplate('{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content | upper }}<|im_end|>\n{% endfor %}'))).toThrow(
      /cannot tell its markup from the message contents \(message 0's content is rewritten\)/,
    );
  });

  it('a template that does not parse, or raises', () => {
    expect(() => collatePairs([ex], withTemplate('{% for m in messages %}'))).toThrow(/chat template: cannot parse it/);
    expect(() => collatePairs([ex], withTemplate("{{ raise_exception('Conversation roles must alternate') }}"))).toThrow(
      /chat template: rendering failed: .*Conversation roles must alternate/,
    );
  });
});
