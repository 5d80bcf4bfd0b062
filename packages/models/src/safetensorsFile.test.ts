import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsError, decodeSafetensors, encodeSafetensors, floatToBfloat16, floatToHalf, halfToFloat } from './safetensors.js';
import { loadSafetensors, openSafetensors } from './safetensorsFiles.js';

// Properties of the by-offset file reader: it agrees with the in-memory decoder on every file (valid or
// corrupted: truncated, bit-flipped, with huge header lengths), erroring with a SafetensorsError naming the file
// exactly when the decoder errors; and F16/BF16 written from floats read back as the nearest representable values.

const dir = mkdtempSync(join(tmpdir(), 'ganpo-stf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const valid = encodeSafetensors(
  {
    'model.embed_tokens.weight': { shape: [3, 2], data: Float32Array.from([1, -2, 3.5, Math.PI, -0, 1e-30]) },
    'model.norm.weight': { shape: [4], dtype: 'BF16', data: Float32Array.from([1, 0.5, -3.25, 1e-3]) },
    half: { shape: [2], dtype: 'F16', data: Float32Array.from([0.1, -65504]) },
  },
  { format: 'pt' },
);

function outcome(load: () => unknown, source: string): string {
  try {
    return JSON.stringify(load(), (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array, String) : v));
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw new Error(`not a clear loader error: ${String(e)}`);
    expect(e.message.startsWith(`${source}: `)).toBe(true);
    return 'error';
  }
}

function sameAsDecoder(bytes: Uint8Array): string {
  const path = join(dir, 'fuzz.safetensors');
  writeFileSync(path, bytes);
  const fromFile = outcome(() => loadSafetensors(path), path);
  const inMemory = outcome(() => decodeSafetensors(bytes, path), path);
  expect(fromFile).toBe(inMemory);
  return fromFile;
}

describe('safetensors read by offset from a file handle', () => {
  it('reads a valid file exactly as the decoder does, and tensor by tensor', () => {
    expect(sameAsDecoder(valid)).not.toBe('error');
    const path = join(dir, 'one.safetensors');
    writeFileSync(path, valid);
    const f = openSafetensors(path);
    try {
      expect(f.metadata).toEqual({ format: 'pt' });
      const spec = f.specs.find((s) => s.name === 'model.norm.weight')!;
      expect(Array.from(f.read(spec).data as Float32Array)).toEqual([1, 0.5, -3.25, 0.00099945068359375]);
    } finally {
      f.close();
    }
  });
  it('truncations: always a clear error', () => {
    fc.assert(fc.property(fc.nat(valid.length - 1), (n) => {
      expect(sameAsDecoder(valid.subarray(0, n))).toBe('error');
    }), { numRuns: 60 });
  });
  it('bit flips anywhere: the same outcome as the decoder, never a crash', () => {
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.nat(7), (i, bit) => {
        const b = valid.slice();
        b[i] ^= 1 << bit;
        sameAsDecoder(b);
      }),
      { numRuns: 120 },
    );
  });
  it('huge header lengths are refused before anything is allocated', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: BigInt(valid.length), max: 2n ** 64n - 1n }), (n) => {
        const b = valid.slice();
        new DataView(b.buffer).setBigUint64(0, n, true);
        expect(sameAsDecoder(b)).toBe('error');
      }),
      { numRuns: 60 },
    );
  });
  it('a missing file or a directory is a clear error', () => {
    expect(() => loadSafetensors(join(dir, 'nope.safetensors'))).toThrow(/nope\.safetensors: cannot read \(ENOENT\)/);
    expect(() => loadSafetensors(dir)).toThrow(SafetensorsError);
  });
});

describe('F16 and BF16 written from floats', () => {
  it('round to the nearest representable value (ties to even)', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, min: -60000, max: 60000 }), (v) => {
        const f = decodeSafetensors(encodeSafetensors({ h: { shape: [1], dtype: 'F16', data: Float32Array.of(v) }, b: { shape: [1], dtype: 'BF16', data: Float32Array.of(v) } }));
        expect(f.tensors.h.data[0]).toBe(halfToFloat(floatToHalf(v)));
        const bf = f.tensors.b.data[0] as number;
        // bfloat16 keeps 8 significant bits: the error is at most half a unit in the last place (2^-134 below its normals).
        expect(Math.abs(bf - Math.fround(v))).toBeLessThanOrEqual(Math.abs(Math.fround(v)) * 2 ** -8 + 2 ** -134);
      }),
      { numRuns: 300 },
    );
    // Hand-computed: 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even mantissa wins (1); 1 + 3·2^-8 rounds up to 1 + 2^-6.
    expect(floatToBfloat16(1 + 2 ** -8)).toBe(0x3f80);
    expect(floatToBfloat16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(floatToBfloat16(NaN) & 0x7fc0).toBe(0x7fc0);
  });
});
