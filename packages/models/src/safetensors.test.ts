import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MAX_HEADER_BYTES,
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  floatToHalf,
  halfToFloat,
} from './safetensors.js';
import { loadSafetensors, saveSafetensors } from './safetensorsFiles.js';

const dir = mkdtempSync(join(tmpdir(), 'ganpo-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file built by hand (header JSON + bytes), independent of the encoder. */
function handMade(header: Record<string, unknown>, data: Uint8Array, headerText?: string): Uint8Array {
  const text = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

const f32Bytes = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

function sample(): Uint8Array {
  return encodeSafetensors(
    {
      'a.weight': { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, Math.PI, -0, 1e-30]) },
      'b.bias': { shape: [3], data: Float64Array.from([1 / 3, -1e300, 7]) },
      steps: { shape: [2], data: Int32Array.from([5, -9]) },
    },
    { note: 'hello' },
  );
}

describe('safetensors encode/decode', () => {
  it('round-trips F32, F64 and I32 bit-exactly, with metadata and 8-byte-aligned data', () => {
    const weird = new Float32Array([NaN, -0, Infinity, -Infinity, 1.401298464324817e-45, 3.4028234663852886e38]);
    // A NaN with a payload must survive too.
    new Uint32Array(weird.buffer)[0] = 0x7fc01234;
    const bytes = encodeSafetensors({ w: { shape: [6], data: weird }, x: { shape: [1, 1], data: Float64Array.from([-0]) } }, { k: 'v' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ k: 'v' });
    expect(new Uint32Array((back.tensors.w.data as Float32Array).buffer)).toEqual(new Uint32Array(weird.buffer));
    expect(Object.is((back.tensors.x.data as Float64Array)[0], -0)).toBe(true);
    expect(back.tensors.x.shape).toEqual([1, 1]);
    const s = decodeSafetensors(sample());
    expect(Array.from(s.tensors.steps.data as Int32Array)).toEqual([5, -9]);
    expect(s.tensors['b.bias'].dtype).toBe('F64');
  });

  it('reads files written by hand in the reference layout, including empty tensors and scalars', () => {
    const bytes = handMade(
      {
        __metadata__: { format: 'pt' },
        s: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
        e: { dtype: 'F32', shape: [0, 3], data_offsets: [4, 4] },
        v: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      f32Bytes([42, 1, 2]),
    );
    const f = decodeSafetensors(bytes);
    expect(Array.from(f.tensors.s.data as Float32Array)).toEqual([42]);
    expect(f.tensors.e.data.length).toBe(0);
    expect(Array.from(f.tensors.v.data as Float32Array)).toEqual([1, 2]);
  });

  it('decodes F16 and BF16 to float32', () => {
    const halves = [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, Infinity];
    const f16 = new Uint16Array(halves.map(floatToHalf));
    const bf = new Uint16Array([0x3f80, 0xc000, 0x3e80, 0x7f80]); // 1, -2, 0.25, Infinity
    const bytes = handMade(
      {
        h: { dtype: 'F16', shape: [halves.length], data_offsets: [0, 2 * halves.length] },
        b: { dtype: 'BF16', shape: [4], data_offsets: [2 * halves.length, 2 * halves.length + 8] },
      },
      new Uint8Array([...new Uint8Array(f16.buffer), ...new Uint8Array(bf.buffer)]),
    );
    const f = decodeSafetensors(bytes);
    expect(Array.from(f.tensors.h.data as Float32Array)).toEqual(halves);
    expect(Array.from(f.tensors.b.data as Float32Array)).toEqual([1, -2, 0.25, Infinity]);
    expect(f.tensors.h.data).toBeInstanceOf(Float32Array);
    expect(f.tensors.h.dtype).toBe('F16');
  });

  it('converts half precision both ways exactly on every finite half', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const v = halfToFloat(h);
      if (!Number.isNaN(v) && floatToHalf(v) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to even
    expect(floatToHalf(1e6)).toBe(0x7c00); // overflow to infinity
  });

  it('saves atomically (no temporary file left behind) and loads from disk', () => {
    const path = join(dir, 'x.safetensors');
    saveSafetensors(path, { w: { shape: [2], data: Float32Array.from([1, 2]) } });
    saveSafetensors(path, { w: { shape: [3], data: Float32Array.from([1, 2, 3]) } });
    expect(readdirSync(dir).filter((f) => f.includes('tmp'))).toEqual([]);
    expect(Array.from(loadSafetensors(path).tensors.w.data as Float32Array)).toEqual([1, 2, 3]);
    expect(() => loadSafetensors(join(dir, 'missing.safetensors'))).toThrow(/cannot read \(ENOENT\)/);
  });
});

describe('safetensors loader rejects malformed files with a clear message', () => {
  const data = f32Bytes([1, 2, 3, 4]);
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } };
  const cases: [string, Uint8Array, RegExp][] = [
    ['a file shorter than 8 bytes', new Uint8Array([1, 2, 3]), /too short for the 8-byte header length/],
    ['a header length beyond the file', (() => {
      const b = handMade(ok, data);
      new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true);
      return b;
    })(), /goes beyond the end of the file/],
    ['a header over 100 MB', (() => {
      const b = handMade(ok, data);
      new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
      return b;
    })(), /over the 100000000-byte limit/],
    ['a header length of 2^64 − 1', (() => {
      const b = handMade(ok, data);
      new DataView(b.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
      return b;
    })(), /over the 100000000-byte limit/],
    ['invalid JSON', handMade({}, data, '{"a": {"dtype": "F32",'), /header is not valid JSON/],
    ['a JSON array header', handMade({}, new Uint8Array(0), '[1, 2]'), /does not start with '\{'/],
    ['offsets outside the data', handMade({ a: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, data), /lie outside the 16 bytes of data/],
    ['overlapping offsets', handMade({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data), /overlap tensor 'a'/],
    ['a hole in the data', handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data), /data bytes \[4, 8\) belong to no tensor/],
    ['trailing bytes', handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data), /\[8, 16\) at the end of the file belong to no tensor/],
    ['a shape that disagrees with its byte size', handMade({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data), /shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] hold 8/],
    ['an unknown dtype', handMade({ a: { dtype: 'F8_E4M3', shape: [16], data_offsets: [0, 16] } }, data), /unknown dtype "F8_E4M3"/],
    ['a negative dimension', handMade({ a: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, data), /shape \[-4\] is not a list of non-negative integers/],
    ['a huge shape', handMade({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 16] } }, data), /is too large/],
    ['reversed offsets', handMade({ a: { dtype: 'F32', shape: [0], data_offsets: [16, 0] } }, data), /end before they begin/],
    ['non-integer offsets', handMade({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16.5] } }, data), /must be two non-negative integers/],
    ['a non-string metadata value', handMade({ __metadata__: { step: 3 }, a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data), /__metadata__.step must be a string/],
    ['a tensor named __proto__', handMade({}, data, '{"__proto__": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}'), /'__proto__' cannot name a tensor/],
    ['an entry that is not an object', handMade({ a: 'F32' }, data), /tensor 'a': entry is not an object/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, () => {
      let error: unknown;
      try {
        decodeSafetensors(bytes, 'bad.safetensors');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SafetensorsError);
      expect((error as Error).message).toMatch(/^bad\.safetensors: /);
      expect((error as Error).message).toMatch(message);
    });
  }
});

describe('safetensors loader fuzzing', () => {
  const valid = sample();
  const headerEnd = 8 + Number(new DataView(valid.buffer).getBigUint64(0, true));

  /** Decoding either succeeds with a self-consistent result or throws a SafetensorsError; nothing else. */
  function decodeOrClearError(bytes: Uint8Array): 'ok' | 'error' {
    try {
      const f = decodeSafetensors(bytes, 'fuzz.safetensors');
      for (const t of Object.values(f.tensors)) {
        const size = t.shape.reduce((a, b) => a * b, 1);
        if (t.data.length !== size) throw new Error(`inconsistent tensor: ${t.data.length} values for [${t.shape}]`);
      }
      return 'ok';
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw new Error(`not a clear loader error: ${String(e)}`);
      if (!e.message.startsWith('fuzz.safetensors: ') || e.message.length < 30) throw new Error(`unclear message: ${e.message}`);
      return 'error';
    }
  }

  it('random byte changes anywhere never crash the loader', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
        const b = valid.slice();
        for (const [i, v] of edits) b[i] = v;
        decodeOrClearError(b);
      }),
      { numRuns: 400 },
    );
  });

  it('byte changes inside the header length or the JSON structure are rejected', () => {
    // Flipping a bit of the length prefix always breaks the file.
    fc.assert(
      fc.property(fc.nat(7), fc.nat(7), (byte, bit) => {
        const b = valid.slice();
        b[byte] ^= 1 << bit;
        expect(decodeOrClearError(b)).toBe('error');
      }),
      { numRuns: 64 },
    );
    // Replacing a structural character of the JSON ({ } [ ] : , ") by a letter makes it invalid JSON or a wrong entry.
    const structural = [...valid.subarray(8, headerEnd)].flatMap((c, i) => ('{}[]:,"'.includes(String.fromCharCode(c)) ? [8 + i] : []));
    fc.assert(
      fc.property(fc.constantFrom(...structural), (i) => {
        const b = valid.slice();
        b[i] = 'x'.charCodeAt(0);
        expect(decodeOrClearError(b)).toBe('error');
      }),
      { numRuns: 100 },
    );
  });

  it('truncations are always rejected; appended bytes too', () => {
    fc.assert(
      fc.property(fc.nat(valid.length - 1), (n) => {
        expect(decodeOrClearError(valid.subarray(0, n))).toBe('error');
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), (extra) => {
        const b = new Uint8Array(valid.length + extra.length);
        b.set(valid);
        b.set(extra, valid.length);
        expect(decodeOrClearError(b)).toBe('error');
      }),
      { numRuns: 50 },
    );
  });

  it('header edits (dtype, shape, offsets, extra fields) give an error or a consistent file', () => {
    const header = JSON.parse(new TextDecoder().decode(valid.subarray(8, headerEnd))) as Record<string, Record<string, unknown>>;
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const value = fc.oneof(
      fc.integer({ min: -5, max: 100 }),
      fc.constantFrom(2 ** 53, 1e300, -0.5, 1.5, null, 'F32', 'F16', 'I8', 'XX', true),
      fc.array(fc.oneof(fc.integer({ min: -3, max: 40 }), fc.constant(1e20)), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 3 }), fc.integer()),
    );
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra'), value, (name, field, v) => {
        const h = structuredClone(header);
        h[name][field] = v;
        const data = valid.subarray(headerEnd);
        decodeOrClearError(handMade(h, data));
      }),
      { numRuns: 400 },
    );
  });

  it('a real file on disk with random corruption loads or fails cleanly', () => {
    const path = join(dir, 'fuzz.safetensors');
    writeFileSync(path, valid);
    const original = readFileSync(path);
    fc.assert(
      fc.property(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const b = Uint8Array.from(original);
        b[i] ^= x;
        writeFileSync(path, b);
        try {
          loadSafetensors(path);
        } catch (e) {
          expect(e).toBeInstanceOf(SafetensorsError);
          expect((e as Error).message).toContain(path);
        }
      }),
      { numRuns: 50 },
    );
  });
});
