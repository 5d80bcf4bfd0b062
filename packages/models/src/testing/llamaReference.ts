/**
 * An independent float64 transcription of the Llama-family forward pass with plain loops over named HF tensors
 * (for the tests: it shares no code with the implementation), and a writer of tiny random HF checkpoints.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSafetensors, type SafetensorsDType } from '../safetensors.js';

export interface TinyLlamaSpec {
  modelType: 'llama' | 'qwen2' | 'mistral';
  vocab: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  maxPositions: number;
  ropeTheta: number;
  eps: number;
  tied: boolean;
  bias: boolean;
}

export type Weights = Map<string, { shape: number[]; data: Float64Array }>;

/** Deterministic pseudo-random values k/64, k ∈ [−40, 40]: exactly representable in F16, BF16 and F32. */
function values(n: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s % 81) - 40) / 64;
  }
  return out;
}

/** Random HF-named weights for a spec (norm weights in [0.6, 0.9]; every value has at most 8 significant bits, so F16 and BF16 store it exactly). */
export function tinyLlamaWeights(spec: TinyLlamaSpec, seed = 1): Weights {
  const w: Weights = new Map();
  const dh = spec.hidden / spec.heads;
  let k = seed;
  const add = (name: string, shape: number[], around = 0, scale = 1) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = values(n, (k += 7919));
    w.set(name, { shape, data: v.map((x) => around + x * scale) });
  };
  add('model.embed_tokens.weight', [spec.vocab, spec.hidden]);
  for (let l = 0; l < spec.layers; l++) {
    const p = `model.layers.${l}`;
    add(`${p}.input_layernorm.weight`, [spec.hidden], 0.75, 0.25);
    add(`${p}.self_attn.q_proj.weight`, [spec.heads * dh, spec.hidden]);
    add(`${p}.self_attn.k_proj.weight`, [spec.kvHeads * dh, spec.hidden]);
    add(`${p}.self_attn.v_proj.weight`, [spec.kvHeads * dh, spec.hidden]);
    if (spec.bias) {
      add(`${p}.self_attn.q_proj.bias`, [spec.heads * dh]);
      add(`${p}.self_attn.k_proj.bias`, [spec.kvHeads * dh]);
      add(`${p}.self_attn.v_proj.bias`, [spec.kvHeads * dh]);
    }
    add(`${p}.self_attn.o_proj.weight`, [spec.hidden, spec.heads * dh]);
    add(`${p}.post_attention_layernorm.weight`, [spec.hidden], 0.75, 0.25);
    add(`${p}.mlp.gate_proj.weight`, [spec.intermediate, spec.hidden]);
    add(`${p}.mlp.up_proj.weight`, [spec.intermediate, spec.hidden]);
    add(`${p}.mlp.down_proj.weight`, [spec.hidden, spec.intermediate]);
  }
  add('model.norm.weight', [spec.hidden], 0.75, 0.25);
  if (!spec.tied) add('lm_head.weight', [spec.vocab, spec.hidden]);
  return w;
}

/** Writes config.json and the weights (one file, or `shards` files with model.safetensors.index.json). */
export function writeTinyLlama(dir: string, spec: TinyLlamaSpec, weights: Weights, options: { dtype?: SafetensorsDType; shards?: number } = {}): void {
  mkdirSync(dir, { recursive: true });
  const arch = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', mistral: 'MistralForCausalLM' }[spec.modelType];
  const config = {
    architectures: [arch],
    model_type: spec.modelType,
    vocab_size: spec.vocab,
    hidden_size: spec.hidden,
    intermediate_size: spec.intermediate,
    num_hidden_layers: spec.layers,
    num_attention_heads: spec.heads,
    num_key_value_heads: spec.kvHeads,
    max_position_embeddings: spec.maxPositions,
    rope_theta: spec.ropeTheta,
    rms_norm_eps: spec.eps,
    tie_word_embeddings: spec.tied,
    hidden_act: 'silu',
    rope_scaling: null,
    attention_dropout: 0,
    torch_dtype: 'float32',
    bos_token_id: 1,
    eos_token_id: 2,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const dtype = options.dtype ?? 'F32';
  const entries = [...weights].map(([name, t]) => [name, { shape: t.shape, dtype, data: dtype === 'F64' ? t.data : Float32Array.from(t.data) }] as const);
  const shards = options.shards ?? 1;
  if (shards === 1) {
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(Object.fromEntries(entries), { format: 'pt' }));
    return;
  }
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = entries.filter((_, i) => i % shards === s);
    for (const [name] of part) weightMap[name] = file;
    writeFileSync(join(dir, file), encodeSafetensors(Object.fromEntries(part), { format: 'pt' }));
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
}

/** y = W·x (+ b) for W [out, in] stored row-major. */
function linear(w: Float64Array, out: number, inp: number, x: Float64Array, b?: Float64Array): Float64Array {
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < inp; i++) s += w[o * inp + i] * x[i];
    y[o] = s;
  }
  return y;
}

function rms(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * r * w[i]);
}

/** Rotates q or k of one head at position pos (HF rotate-half: pairs (i, i + dh/2)). */
function rope(x: Float64Array, pos: number, theta: number): Float64Array {
  const dh = x.length;
  const half = dh / 2;
  const y = new Float64Array(dh);
  for (let i = 0; i < half; i++) {
    const a = pos * theta ** ((-2 * i) / dh);
    y[i] = x[i] * Math.cos(a) - x[i + half] * Math.sin(a);
    y[i + half] = x[i + half] * Math.cos(a) + x[i] * Math.sin(a);
  }
  return y;
}

/** The float64 forward of one unpadded sequence: per position, the final-norm hidden state and the logits. */
export function referenceForward(spec: TinyLlamaSpec, w: Weights, ids: readonly number[]): { latents: Float64Array[]; logits: Float64Array[] } {
  const g = (n: string) => w.get(n)!.data;
  const { hidden: d, heads: H, kvHeads: Hkv, intermediate: F } = spec;
  const dh = d / H;
  const T = ids.length;
  let x = ids.map((id) => g('model.embed_tokens.weight').slice(id * d, (id + 1) * d));
  for (let l = 0; l < spec.layers; l++) {
    const p = `model.layers.${l}`;
    const h = x.map((v) => rms(v, g(`${p}.input_layernorm.weight`), spec.eps));
    const bias = (n: string) => (spec.bias ? g(`${p}.self_attn.${n}.bias`) : undefined);
    const q = h.map((v) => linear(g(`${p}.self_attn.q_proj.weight`), H * dh, d, v, bias('q_proj')));
    const k = h.map((v) => linear(g(`${p}.self_attn.k_proj.weight`), Hkv * dh, d, v, bias('k_proj')));
    const val = h.map((v) => linear(g(`${p}.self_attn.v_proj.weight`), Hkv * dh, d, v, bias('v_proj')));
    const attnOut = Array.from({ length: T }, () => new Float64Array(H * dh));
    for (let head = 0; head < H; head++) {
      const kvHead = Math.floor(head / (H / Hkv));
      const qs = q.map((v, t) => rope(v.slice(head * dh, (head + 1) * dh), t, spec.ropeTheta));
      const ks = k.map((v, t) => rope(v.slice(kvHead * dh, (kvHead + 1) * dh), t, spec.ropeTheta));
      for (let t = 0; t < T; t++) {
        const scores = Array.from({ length: t + 1 }, (_, j) => {
          let s = 0;
          for (let i = 0; i < dh; i++) s += qs[t][i] * ks[j][i];
          return s / Math.sqrt(dh);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= t; j++) for (let i = 0; i < dh; i++) attnOut[t][head * dh + i] += (e[j] / z) * val[j][kvHead * dh + i];
      }
    }
    x = x.map((v, t) => {
      const o = linear(g(`${p}.self_attn.o_proj.weight`), d, H * dh, attnOut[t]);
      return v.map((a, i) => a + o[i]);
    });
    x = x.map((v) => {
      const h2 = rms(v, g(`${p}.post_attention_layernorm.weight`), spec.eps);
      const gate = linear(g(`${p}.mlp.gate_proj.weight`), F, d, h2);
      const up = linear(g(`${p}.mlp.up_proj.weight`), F, d, h2);
      const act = gate.map((a, i) => (a / (1 + Math.exp(-a))) * up[i]);
      const down = linear(g(`${p}.mlp.down_proj.weight`), d, F, act);
      return v.map((a, i) => a + down[i]);
    });
  }
  const latents = x.map((v) => rms(v, g('model.norm.weight'), spec.eps));
  const head = spec.tied ? g('model.embed_tokens.weight') : g('lm_head.weight');
  return { latents, logits: latents.map((v) => linear(head, spec.vocab, d, v)) };
}
