import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, Rng, noGrad, randn } from '@ganpo/autograd';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, loadCheckpoint, loadPretrained, saveCheckpoint } from './checkpoint.js';
import { sftLoss } from './logps.js';
import { CausalLM } from './model.js';
import { SafetensorsError, decodeSafetensors, encodeSafetensors } from './safetensors.js';
import type { ModelBatch, Tokenizer } from './types.js';

const root = mkdtempSync(join(tmpdir(), 'ganpo-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = (name: string) => join(root, `${name}-${counter++}`);

const config = { vocabSize: 10, contextLength: 8, dModel: 8, nLayers: 2, nHeads: 2, dropout: 0.1 };

/** A stand-in for the datasets package's tokenizers: characters a–j. */
class CharTokenizer implements Tokenizer {
  readonly vocabSize = 10;
  readonly bos = 0;
  readonly eos = 1;
  readonly pad = 2;
  encode(text: string): number[] {
    return [...text].map((c) => c.charCodeAt(0) - 97);
  }
  decode(ids: readonly number[]): string {
    return ids.map((i) => String.fromCharCode(97 + i)).join('');
  }
  toJSON() {
    return { type: 'chars', first: 'a' };
  }
  static fromJSON(json: unknown): CharTokenizer {
    if ((json as { type?: string }).type !== 'chars') throw new Error('not a char tokenizer');
    return new CharTokenizer();
  }
}

const batch: ModelBatch = {
  ids: Int32Array.from([0, 3, 4, 5, 6, 1, 2, 2, 0, 7, 8, 9, 3, 1, 2, 2]),
  attentionMask: Float32Array.from([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0]),
  lossMask: Float32Array.from([0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0]),
  rows: 2,
  seqLen: 8,
};

function trainSteps(model: CausalLM, opt: AdamW, n: number): void {
  for (let i = 0; i < n; i++) {
    opt.zeroGrad();
    sftLoss(model.forward(batch).logits, batch).backward();
    opt.step();
  }
}

const bits = (m: CausalLM) =>
  Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))]));

describe('checkpoints', () => {
  it('save → load is bit-exact (float32 and float64) and gives identical outputs', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const model = new CausalLM(config, { seed: 1, dtype });
      const dir = fresh('exact');
      saveCheckpoint(dir, { model, tokenizer: new CharTokenizer() });
      expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
      const loaded = loadCheckpoint(dir, { tokenizerFromJSON: CharTokenizer.fromJSON });
      expect(loaded.model.dtype).toBe(dtype);
      expect(bits(loaded.model)).toEqual(bits(model));
      expect(loaded.config).toEqual(model.config);
      expect(loaded.tokenizer!.decode([3, 4])).toBe('de');
      expect(loaded.tokenizerJSON).toEqual({ type: 'chars', first: 'a' });
      model.eval();
      loaded.model.eval();
      const a = noGrad(() => model.forward(batch).logits.toFlat());
      expect(noGrad(() => loaded.model.forward(batch).logits.toFlat())).toEqual(a);
      expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).format).toBe('ganpo');
    }
  });

  it('training resumes exactly: model, optimizer state, dropout generator and trainer state', () => {
    const model = new CausalLM(config, { seed: 2 });
    const opt = new AdamW(model.namedParameters(), { lr: 1e-2, weightDecay: 0.01 });
    trainSteps(model, opt, 2);
    const dir = fresh('resume');
    const dataRng = Rng.seeded(99);
    dataRng.uniform();
    const disc = { 'head.weight': randn([3, 2], Rng.seeded(5)) };
    saveCheckpoint(dir, {
      model,
      optimizer: opt.stateDict(),
      trainerState: { step: 2, dataRng: dataRng.state() },
      extras: { discriminators: disc, discriminatorOptimizer: opt.stateDict() },
    });
    trainSteps(model, opt, 2);

    const ckpt = loadCheckpoint(dir);
    // Loaders return evaluation mode; training switches to training mode explicitly.
    expect(ckpt.model.training).toBe(false);
    ckpt.model.train();
    const opt2 = new AdamW(ckpt.model.namedParameters(), { lr: 1e-2, weightDecay: 0.01 });
    opt2.loadStateDict(ckpt.optimizerState!);
    expect(opt2.stepCount).toBe(2);
    trainSteps(ckpt.model, opt2, 2);
    expect(bits(ckpt.model)).toEqual(bits(model));
    expect(ckpt.trainerState).toEqual({ step: 2, dataRng: dataRng.state() });
    expect(Rng.fromState(ckpt.trainerState!.dataRng as number[]).uniform()).toBe(dataRng.uniform());
    expect(Array.from(ckpt.extras.discriminators["head.weight"].data as Float32Array)).toEqual(disc['head.weight'].toFlat());
    expect(ckpt.extraOptimizerStates.discriminatorOptimizer.step).toBe(2);
  });

  it('replaces an existing checkpoint; an interrupted save leaves the old one intact and no debris', () => {
    const dir = fresh('atomic');
    const a = new CausalLM(config, { seed: 3 });
    const b = new CausalLM(config, { seed: 4 });
    saveCheckpoint(dir, { model: a, trainerState: { step: 1 } });
    saveCheckpoint(dir, { model: b, trainerState: { step: 2 } });
    expect(bits(loadCheckpoint(dir).model)).toEqual(bits(b));
    // A save that fails half-way (the tokenizer throws after model.safetensors was written).
    const broken = { toJSON: () => { throw new Error('disk full'); } };
    expect(() => saveCheckpoint(dir, { model: a, tokenizer: broken, trainerState: { step: 3 } })).toThrow(/disk full/);
    const after = loadCheckpoint(dir);
    expect(bits(after.model)).toEqual(bits(b));
    expect(after.trainerState).toEqual({ step: 2 });
    expect(readdirSync(root).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
  });

  it('rejects missing or unexpected parameter names and wrong shapes for the config, naming them', () => {
    const model = new CausalLM(config, { seed: 5 });
    const dir = fresh('names');
    saveCheckpoint(dir, { model });
    const path = join(dir, 'model.safetensors');
    const file = decodeSafetensors(readFileSync(path));
    const { 'h.1.mlp.c_fc.bias': _dropped, ...rest } = file.tensors;
    writeFileSync(path, encodeSafetensors({ ...rest, 'h.2.ln_1.weight': file.tensors['ln_f.weight'] }));
    expect(() => loadCheckpoint(dir)).toThrow(
      /model\.safetensors: missing parameters for this config: h\.1\.mlp\.c_fc\.bias; unexpected parameters for this config: h\.2\.ln_1\.weight/,
    );
    writeFileSync(path, encodeSafetensors({ ...file.tensors, 'wpe.weight': { dtype: 'F32', shape: [4, 8], data: new Float32Array(32) } }));
    expect(() => loadCheckpoint(dir)).toThrow(/wpe\.weight has shape \[4, 8\], the config needs \[8, 8\]/);
    // A config that disagrees with the weights.
    writeFileSync(path, encodeSafetensors(file.tensors));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ format: 'ganpo', ...config, nLayers: 1 }));
    expect(() => loadCheckpoint(dir)).toThrow(/unexpected parameters for this config: h\.1\./);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ format: 'ganpo', ...config, dModel: -1 }));
    expect(() => loadCheckpoint(dir)).toThrow(/config\.json: invalid model config: dModel: expected integer ≥ 1, got -1/);
    writeFileSync(join(dir, 'config.json'), '{"format": "ganpo",');
    expect(() => loadCheckpoint(dir)).toThrow(/config\.json: invalid JSON/);
    expect(() => loadCheckpoint(join(root, 'nope'))).toThrow(CheckpointError);
  });

  it('fuzz: random corruption of a checkpoint gives a clear error or a model with the right shapes', () => {
    const model = new CausalLM({ ...config, nLayers: 1 }, { seed: 6 });
    const dir = fresh('fuzz');
    saveCheckpoint(dir, { model });
    const path = join(dir, 'model.safetensors');
    const original = readFileSync(path);
    const headerEnd = 8 + Number(original.readBigUInt64LE(0));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: headerEnd + 64 }), fc.integer({ min: 1, max: 255 }), fc.boolean(), (i, x, truncate) => {
        const b = Uint8Array.from(original);
        b[i] ^= x;
        writeFileSync(path, truncate ? b.subarray(0, i) : b);
        try {
          const loaded = loadCheckpoint(dir);
          expect(loaded.model.stateDict()['wte.weight'].shape).toEqual([10, 8]);
        } catch (e) {
          expect(e instanceof SafetensorsError || e instanceof CheckpointError).toBe(true);
          expect((e as Error).message).toContain('model.safetensors');
        }
      }),
      { numRuns: 150 },
    );
  });

  it('loadPretrained reads our checkpoints (and can override dropout)', () => {
    const model = new CausalLM(config, { seed: 7 });
    const dir = fresh('pre');
    saveCheckpoint(dir, { model });
    const p = loadPretrained(dir);
    expect(p.format).toBe('ganpo');
    expect(bits(p.model)).toEqual(bits(model));
    const q = loadPretrained(dir, { dropout: 0 });
    expect(q.model.config.dropout).toBe(0);
    expect(bits(q.model)).toEqual(bits(model));
    mkdirSync(join(root, 'empty'), { recursive: true });
    writeFileSync(join(root, 'empty', 'config.json'), '{"hello": 1}');
    expect(() => loadPretrained(join(root, 'empty'))).toThrow(/neither a ganpo checkpoint .* nor a GPT-2 or Llama-family/);
    expect(existsSync(join(dir, 'trainer_state.json'))).toBe(false);
  });
});
