import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, indices, noGrad } from '@ganpo/autograd';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, loadGpt2, loadPretrained } from './checkpoint.js';
import { generate } from './generate.js';
import type { Tokenizer } from './types.js';

/**
 * A small GPT-2-shaped checkpoint in Hugging Face's layout and naming, written by hand (own safetensors writer,
 * own float16 conversion), and an independent float64 GPT-2 forward pass written with plain loops.
 */

const root = mkdtempSync(join(tmpdir(), 'ganpo-gpt2-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const hf = {
  model_type: 'gpt2',
  architectures: ['GPT2LMHeadModel'],
  vocab_size: 262,
  n_positions: 16,
  n_ctx: 16,
  n_embd: 12,
  n_layer: 2,
  n_head: 3,
  n_inner: null,
  activation_function: 'gelu_new',
  resid_pdrop: 0.1,
  embd_pdrop: 0.1,
  attn_pdrop: 0.1,
  layer_norm_epsilon: 1e-5,
  bos_token_id: 261,
  eos_token_id: 261,
  scale_attn_weights: true,
};
const d = hf.n_embd;
const V = hf.vocab_size;
const L = hf.n_layer;

type Weights = Record<string, { shape: number[]; data: Float64Array }>;

/** HF GPT-2 parameters (Conv1D weights [in, out]) with random values. */
function randomGpt2(seed: number): Weights {
  const rng = Rng.seeded(seed);
  const w: Weights = {};
  const add = (name: string, shape: number[], std: number, mean = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    w[name] = { shape, data: Float64Array.from({ length: n }, () => mean + std * rng.normal()) };
  };
  add('wte.weight', [V, d], 0.3);
  add('wpe.weight', [hf.n_positions, d], 0.3);
  for (let l = 0; l < L; l++) {
    add(`h.${l}.ln_1.weight`, [d], 0.2, 1);
    add(`h.${l}.ln_1.bias`, [d], 0.2);
    add(`h.${l}.attn.c_attn.weight`, [d, 3 * d], 0.4);
    add(`h.${l}.attn.c_attn.bias`, [3 * d], 0.2);
    add(`h.${l}.attn.c_proj.weight`, [d, d], 0.3);
    add(`h.${l}.attn.c_proj.bias`, [d], 0.2);
    add(`h.${l}.ln_2.weight`, [d], 0.2, 1);
    add(`h.${l}.ln_2.bias`, [d], 0.2);
    add(`h.${l}.mlp.c_fc.weight`, [d, 4 * d], 0.3);
    add(`h.${l}.mlp.c_fc.bias`, [4 * d], 0.2);
    add(`h.${l}.mlp.c_proj.weight`, [4 * d, d], 0.2);
    add(`h.${l}.mlp.c_proj.bias`, [d], 0.2);
  }
  add('ln_f.weight', [d], 0.2, 1);
  add('ln_f.bias', [d], 0.2);
  return w;
}

/** Rounds every value to what the stored dtype keeps, so the reference sees exactly the stored weights. */
function roundTo(w: Weights, dtype: 'F32' | 'F16'): Weights {
  return Object.fromEntries(
    Object.entries(w).map(([k, t]) => [k, { shape: t.shape, data: Float64Array.from(t.data, (v) => (dtype === 'F32' ? Math.fround(v) : halfRound(v))) }]),
  );
}

/** float → nearest float16 value, via the bits (an implementation separate from the library's). */
function halfBits(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 31) << 15;
  const e = ((x >>> 23) & 0xff) - 127;
  const m = x & 0x7fffff;
  if (e < -14) {
    // subnormal half: round |v| / 2^-24 to an integer (ties to even)
    const q = Math.abs(v) / 2 ** -24;
    let r = Math.round(q);
    if (Math.abs(q - Math.trunc(q) - 0.5) < 1e-12 && Math.trunc(q) % 2 === 0) r = Math.trunc(q);
    return sign | r;
  }
  let mant = m >>> 13;
  const rest = m & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (mant & 1) === 1)) mant++;
  return sign | (((e + 15) << 10) + mant);
}
function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}
const halfRound = (v: number) => halfValue(halfBits(v));

/** A safetensors file written plainly: header JSON with data_offsets, then little-endian data. */
function writeSafetensors(path: string, tensors: Record<string, { shape: number[]; data: Float64Array }>, dtype: 'F32' | 'F16'): void {
  const width = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const n = tensors[name].data.length;
    header[name] = { dtype, shape: tensors[name].shape, data_offsets: [offset, offset + n * width] };
    offset += n * width;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let at = 8 + json.length;
  for (const name of names) {
    for (const v of tensors[name].data) {
      if (dtype === 'F32') out.writeFloatLE(v, at);
      else out.writeUInt16LE(halfBits(v), at);
      at += width;
    }
  }
  writeFileSync(path, out);
}

// ------------------------------------------------------------------------------------------------
// The independent float64 forward pass of GPT-2.

function layerNorm(x: number[], g: Float64Array, b: Float64Array, eps: number): number[] {
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * g[i] + b[i]);
}

/** x [in] · W [in, out] + b */
function conv1d(x: number[], w: { shape: number[]; data: Float64Array }, b: Float64Array): number[] {
  const [nIn, nOut] = w.shape;
  const y = Array.from(b);
  for (let i = 0; i < nIn; i++) for (let j = 0; j < nOut; j++) y[j] += x[i] * w.data[i * nOut + j];
  return y;
}

const geluNew = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

function referenceForward(w: Weights, ids: number[]): number[][] {
  const T = ids.length;
  const H = hf.n_head;
  const dh = d / H;
  const eps = hf.layer_norm_epsilon;
  const P = (name: string) => w[name];
  let x = ids.map((id, t) => Array.from({ length: d }, (_, k) => P('wte.weight').data[id * d + k] + P('wpe.weight').data[t * d + k]));
  for (let l = 0; l < L; l++) {
    const p = (s: string) => P(`h.${l}.${s}`);
    const a = x.map((row) => layerNorm(row, p('ln_1.weight').data, p('ln_1.bias').data, eps));
    const qkv = a.map((row) => conv1d(row, p('attn.c_attn.weight'), p('attn.c_attn.bias').data));
    const merged = Array.from({ length: T }, () => new Array<number>(d).fill(0));
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        const scores: number[] = [];
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let k = 0; k < dh; k++) s += qkv[i][h * dh + k] * qkv[j][d + h * dh + k];
          scores.push(s / Math.sqrt(dh));
        }
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((u, v) => u + v, 0);
        for (let j = 0; j <= i; j++) for (let k = 0; k < dh; k++) merged[i][h * dh + k] += (e[j] / z) * qkv[j][2 * d + h * dh + k];
      }
    }
    x = x.map((row, t) => {
      const attn = conv1d(merged[t], p('attn.c_proj.weight'), p('attn.c_proj.bias').data);
      return row.map((v, k) => v + attn[k]);
    });
    x = x.map((row) => {
      const hdn = conv1d(layerNorm(row, p('ln_2.weight').data, p('ln_2.bias').data, eps), p('mlp.c_fc.weight'), p('mlp.c_fc.bias').data).map(geluNew);
      const out = conv1d(hdn, p('mlp.c_proj.weight'), p('mlp.c_proj.bias').data);
      return row.map((v, k) => v + out[k]);
    });
  }
  const z = x.map((row) => layerNorm(row, P('ln_f.weight').data, P('ln_f.bias').data, eps));
  return z.map((row) => Array.from({ length: V }, (_, v) => row.reduce((acc, zk, k) => acc + zk * P('wte.weight').data[v * d + k], 0)));
}

function writeGpt2Dir(name: string, options: { dtype: 'F32' | 'F16'; prefix: boolean; tokenizerJson: boolean; seed: number }): { dir: string; weights: Weights } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const weights = roundTo(randomGpt2(options.seed), options.dtype);
  const stored: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const [k, t] of Object.entries(weights)) stored[options.prefix ? `transformer.${k}` : k] = t;
  // The causal-mask buffers old checkpoints carry, and a tied lm_head.
  for (let l = 0; l < L; l++) {
    const mask = Float64Array.from({ length: 16 * 16 }, (_, i) => (i % 16 <= Math.floor(i / 16) ? 1 : 0));
    stored[`${options.prefix ? 'transformer.' : ''}h.${l}.attn.bias`] = { shape: [1, 1, 16, 16], data: mask };
  }
  if (options.prefix) stored['lm_head.weight'] = weights['wte.weight'];
  writeSafetensors(join(dir, 'model.safetensors'), stored, options.dtype);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hf));
  // Tokenizer files are read by the loader the caller passes (the datasets package's); these tests only need them present.
  writeFileSync(join(dir, options.tokenizerJson ? 'tokenizer.json' : 'vocab.json'), '{}');
  return { dir, weights };
}

function maxRelError(a: ArrayLike<number>, b: number[][]): number {
  const flat = b.flat();
  let worst = 0;
  for (let i = 0; i < flat.length; i++) worst = Math.max(worst, Math.abs(a[i] - flat[i]) / (1 + Math.abs(flat[i])));
  return worst;
}

describe('GPT-2 checkpoints (Hugging Face layout)', () => {
  const ids = [3, 72, 101, 256, 258, 32, 261, 100, 15, 200];

  it('loads a GPT-2 directory without prefix and reproduces an independent float64 forward pass', () => {
    const { dir, weights } = writeGpt2Dir('plain', { dtype: 'F32', prefix: false, tokenizerJson: false, seed: 1 });
    const want = referenceForward(weights, ids);
    const f64 = loadGpt2(dir, { dtype: 'float64' });
    expect(f64.config).toMatchObject({ vocabSize: 262, contextLength: 16, dModel: 12, nLayers: 2, nHeads: 3, dMlp: 48, dropout: 0.1 });
    f64.model.eval();
    const out64 = noGrad(() => f64.model.forward(indices(ids, [1, ids.length])));
    expect(maxRelError(out64.logits.data, want)).toBeLessThan(1e-10);
    const f32 = loadGpt2(dir);
    f32.model.eval();
    const out32 = noGrad(() => f32.model.forward(indices(ids, [1, ids.length])));
    expect(maxRelError(out32.logits.data, want)).toBeLessThan(1e-4);
  });

  it('loads the transformer.-prefixed layout stored in float16, with mask buffers and a tied lm_head', () => {
    const { dir, weights } = writeGpt2Dir('prefixed', { dtype: 'F16', prefix: true, tokenizerJson: true, seed: 2 });
    const want = referenceForward(weights, ids);
    const p = loadPretrained(dir, { dtype: 'float64', dropout: 0 });
    expect(p.format).toBe('gpt2');
    expect(p.model.config.dropout).toBe(0);
    const out = noGrad(() => p.model.forward(indices(ids, [1, ids.length])));
    expect(maxRelError(out.logits.data, want)).toBeLessThan(1e-10);
  });

  it("loads the directory's tokenizer through the loader it is given, and checks its size against the model's", () => {
    const fakeTokenizer = (vocabSize: number): Tokenizer => ({ vocabSize, bos: 0, eos: 0, pad: 0, encode: () => [], decode: () => '', toJSON: () => ({ kind: 'fake', vocabSize }) });
    for (const tokenizerJson of [false, true]) {
      const { dir } = writeGpt2Dir(`tok-${tokenizerJson}`, { dtype: 'F32', prefix: false, tokenizerJson, seed: 3 });
      const asked: string[] = [];
      const loaded = loadPretrained(dir, { tokenizerFromDirectory: (d) => (asked.push(d), fakeTokenizer(V)) });
      expect(asked).toEqual([dir]);
      expect(loaded.tokenizerJSON).toEqual({ kind: 'fake', vocabSize: V });
      expect(loadPretrained(dir).tokenizer).toBeUndefined();
      expect(() => loadPretrained(dir, { tokenizerFromDirectory: () => fakeTokenizer(V + 1) })).toThrow(`${dir}: the tokenizer has ${V + 1} ids but the model only ${V}`);
      expect(() =>
        loadPretrained(dir, {
          tokenizerFromDirectory: () => {
            throw new Error('tokenizer.json: invalid JSON');
          },
        }),
      ).toThrow(`${dir}: cannot load the tokenizer (tokenizer.json: invalid JSON)`);
    }
  });

  it('generates from a loaded GPT-2 model', () => {
    const { dir } = writeGpt2Dir('gen', { dtype: 'F32', prefix: false, tokenizerJson: false, seed: 4 });
    const { model } = loadPretrained(dir);
    const prompt = [5, 9, 2];
    const [cached] = generate(model, [prompt], { maxNewTokens: 5, eos: V - 1 });
    const [uncached] = generate(model, [prompt], { maxNewTokens: 5, eos: V - 1, useCache: false });
    expect(cached).toEqual(uncached);
  });

  it('rejects GPT-2 variants and weights it cannot represent, with clear messages', () => {
    const { dir } = writeGpt2Dir('bad', { dtype: 'F32', prefix: false, tokenizerJson: false, seed: 5 });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...hf, scale_attn_by_inverse_layer_idx: true, activation_function: 'relu' }));
    expect(() => loadGpt2(dir)).toThrow(/scale_attn_by_inverse_layer_idx is not supported; activation_function "relu" is not supported/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...hf, n_layer: 3 }));
    expect(() => loadGpt2(dir)).toThrow(/missing parameters for this config: h\.2\.ln_1\.weight/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...hf, n_embd: 13 }));
    expect(() => loadGpt2(dir)).toThrow(/dModel 13 is not divisible by nHeads 3/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(hf));
    const w = roundTo(randomGpt2(5), 'F32');
    writeSafetensors(join(dir, 'model.safetensors'), { ...w, 'lm_head.weight': w['wpe.weight'] }, 'F32');
    expect(() => loadGpt2(dir)).toThrow(/lm_head\.weight differs from wte\.weight; only a tied LM head is supported/);
    rmSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'pytorch_model.bin'), 'pickle');
    expect(() => loadGpt2(dir)).toThrow(CheckpointError);
    expect(() => loadGpt2(dir)).toThrow(/only pytorch_model\.bin, a pickle, which is not read/);
  });
});
