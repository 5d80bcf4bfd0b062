import { describe, expect, it } from 'vitest';
import { BenchFlagsCodec, decodeFlags } from '../config/commandFlags.js';
import { BENCH_PRESETS, benchShape, stepFlops } from './bench.js';
import { buildStep, forwardFlops, REFERENCE_SHAPE, syntheticBatch } from './benchStep.js';

describe('ganpo bench: the step it times', () => {
  it('counts the reference step FLOPs the anchors state (2.02 forward, 8.1 DPO, 11.3 GANPO GFLOP), summed by hand', () => {
    // policy forward over 16 rows × 128: 2 layers × (2·2048·128·(4·128 + 2·512) + 4·16·128²·128) + head 2·2048·128·260
    expect(forwardFlops(REFERENCE_SHAPE, 16)).toBe(2 * (805_306_368 + 134_217_728) + 136_314_880);
    expect(stepFlops(REFERENCE_SHAPE, 'sft')).toBe(3 * 2_015_363_072);
    expect(stepFlops(REFERENCE_SHAPE, 'dpo')).toBe(4 * 2_015_363_072);
    // one discriminator forward over 8 rows: projection 2·1024·128·64, layer 2·1024·(4·64² + 2·64·256), attention 4·8·128²·64, head 2·8·(64² + 64)
    const d8 = 16_777_216 + 100_663_296 + 33_554_432 + 66_560;
    expect(stepFlops(REFERENCE_SHAPE, 'dpo+ganpo')).toBe(4 * 2_015_363_072 + 3 * 6 * d8 + 2 * 2 * d8);
    expect(stepFlops(REFERENCE_SHAPE, 'dpo+ganpo') / 1e9).toBeCloseTo(11.38, 2);
  });

  it('a lopsided shape: one layer, width 8, 2 tokens, vocab 3', () => {
    const s = { ...REFERENCE_SHAPE, vocab: 3, width: 8, layers: 1, heads: 1, mlp: 1, seq: 2, pairs: 1 };
    // 2 rows × 2 tokens = 4 tokens: 2·4·8·(32 + 2) + 4·2·2²·8 = 2176 + 256, head 2·4·8·3 = 192
    expect(forwardFlops(s, 2)).toBe(2176 + 256 + 192);
  });

  it('builds the batch the peers use: each pair shares its prompt, the second half is the completion', () => {
    const b = syntheticBatch({ ...REFERENCE_SHAPE, seq: 8, pairs: 3 });
    expect(b.rows).toBe(6);
    for (let p = 0; p < 3; p++) {
      for (let t = 0; t < 8; t++) {
        const chosen = p * 8 + t;
        const rejected = (p + 3) * 8 + t;
        if (t < 4) expect(b.ids[chosen]).toBe(b.ids[rejected]);
        expect([b.lossMask[chosen], b.lossMask[rejected]]).toEqual(t < 4 ? [0, 0] : [1, 1]);
      }
    }
    expect(Array.from(b.ids).every((id) => id >= 0 && id < 256)).toBe(true);
  });

  it('reads presets and overrides, and rejects bad flags with the flag named', () => {
    // As the command gets them: the flags' text, decoded by the command's flag codec.
    const shapeOf = (flags: Record<string, string>) => benchShape(decodeFlags('bench', BenchFlagsCodec, flags));
    expect(shapeOf({}).shape).toEqual(BENCH_PRESETS.reference);
    expect(shapeOf({ model: 'tiny', batchSize: '2' }).shape.pairs).toBe(2);
    expect(shapeOf({ width: '256', heads: '8' }).shape).toMatchObject({ width: 256, heads: 8, mlp: 1024 });
    expect(() => shapeOf({ preset: 'huge' })).toThrow(/--preset: expected one of reference, small, tiny/);
    expect(() => shapeOf({ width: '100', heads: '3' })).toThrow(/--width 100 is not divisible by --heads 3/);
    expect(() => shapeOf({ pairs: '0' })).toThrow(/invalid flag value/);
  });

  it('every mode trains: the loss on the reused batch falls over a few steps', () => {
    for (const mode of ['sft', 'dpo', 'dpo+ganpo'] as const) {
      const step = buildStep({ ...BENCH_PRESETS.tiny, pairs: 4 }, mode);
      const losses = Array.from({ length: 6 }, () => step().loss);
      expect(losses.every(Number.isFinite), mode).toBe(true);
      expect(losses[5], `${mode}: ${losses.join(', ')}`).toBeLessThan(losses[0]);
    }
  });
});
