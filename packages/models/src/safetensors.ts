
/**
 * safetensors (https://github.com/huggingface/safetensors), read and written without dependencies:
 *
 *   [8 bytes: N, u64 little-endian] [N bytes: JSON header, UTF-8, may be padded with spaces] [data]
 *
 * The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to
 * the start of the data) and may hold `__metadata__`, a string-to-string map.
 *
 * The reader is defensive: every way a file can be malformed (truncated, header length beyond the file or
 * over 100 MB, invalid JSON, offsets outside the data, overlapping or leaving holes, a shape that disagrees
 * with its byte size, an unknown dtype) is reported as a {@link SafetensorsError} naming the file and the
 * tensor, never as a crash, a hang or a huge allocation.
 */

/** dtypes the reader understands; the writer emits F32, F64 and I32. */
export const SAFETENSORS_DTYPES = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
} as const;
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

/** Loaded or to-be-written tensor. On load, F16/BF16 are decoded to float32 (`dtype` keeps the stored one). */
export interface SafeTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;
}

export interface SafetensorsFile {
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** The safetensors (and Hugging Face) limit on the header size. */
export const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPES, s);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function defaultDType(data: SafeTensor['data']): SafetensorsDType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof BigInt64Array) return 'I64';
  return 'U8';
}

/** Bytes of one tensor in little-endian order, in the stored dtype (F32/F64/I32/I64/U8/BOOL written as is). */
function tensorBytes(name: string, t: SafeTensor): Uint8Array {
  const dtype = t.dtype;
  const size = t.shape.reduce((n, d) => n * d, 1);
  if (t.data.length !== size) {
    throw new SafetensorsError(`safetensors: tensor '${name}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
  if ((dtype === 'F16' || dtype === 'BF16') && (t.data instanceof Float32Array || t.data instanceof Float64Array)) {
    const bits = Uint16Array.from(t.data, dtype === 'F16' ? floatToHalf : floatToBfloat16);
    const out = new Uint8Array(bits.length * 2);
    const view = new DataView(out.buffer);
    bits.forEach((b, i) => view.setUint16(i * 2, b, true));
    return out;
  }
  const expected: Record<string, string> = {
    F32: 'Float32Array', F64: 'Float64Array', I32: 'Int32Array', I64: 'BigInt64Array', U8: 'Uint8Array', BOOL: 'Uint8Array',
  };
  if (!(dtype in expected) || t.data.constructor.name !== expected[dtype]) {
    throw new SafetensorsError(`safetensors: cannot write tensor '${name}' as ${dtype} from a ${t.data.constructor.name} (supported: F32, F64, I32, I64, U8, BOOL, and F16/BF16 from float arrays)`);
  }
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (LITTLE_ENDIAN || SAFETENSORS_DTYPES[dtype] === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  const w = SAFETENSORS_DTYPES[dtype];
  for (let i = 0; i < bytes.length; i += w) for (let j = 0; j < w; j++) out[i + j] = bytes[i + w - 1 - j];
  return out;
}

/**
 * Serializes tensors to safetensors bytes. Tensors are laid out in name order, 8-byte aligned
 * (the header is padded with spaces so that the data starts on an 8-byte boundary).
 */
export function encodeSafetensors(
  tensors: Record<string, SafeTensor | { shape: readonly number[]; data: SafeTensor['data']; dtype?: SafetensorsDType }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`safetensors: metadata '${k}' must be a string`);
    }
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new SafetensorsError(`safetensors: '__metadata__' is reserved and cannot name a tensor`);
    const raw = tensors[name];
    const t: SafeTensor = { dtype: raw.dtype ?? defaultDType(raw.data), shape: [...raw.shape], data: raw.data };
    const bytes = tensorBytes(name, t);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad > 0) {
    json += ' '.repeat(pad);
    headerBytes = encoder.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/** IEEE half precision to a number (exact: every half is a float32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Nearest-even float → half bits (for writing test fixtures and float16 exports). */
export function floatToHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // A half subnormal: frac = 1.mant · 2^(e − 14) in units of 2^-24.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  // Round to nearest even; a carry into the exponent (up to infinity) is the right result.
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Round-to-nearest-even float → bfloat16 bits (the top half of the float32; NaN stays a quiet NaN). */
export function floatToBfloat16(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) & 0x8000) | 0x7fc0;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function decodeData(dtype: SafetensorsDType, bytes: Uint8Array, count: number): SafeTensor['data'] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
      else for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float64Array(count);
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
      else for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I64': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigInt64(i * 8, true);
      return out;
    }
    case 'I32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'I16': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      return out;
    }
    case 'U8':
    case 'BOOL':
      return Uint8Array.from(bytes);
  }
}

function describe(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

/** One tensor's entry in a validated header: where its bytes lie, relative to the start of the data. */
export interface TensorSpec {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
  count: number;
}

/** The 8-byte header length, checked against the file size and the limit. */
export function headerLength(prefix: Uint8Array, fileSize: number, fail: (msg: string) => never): number {
  if (fileSize < 8) fail(`file is ${fileSize} bytes, too short for the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit (a corrupt or non-safetensors file)`);
  const headerLen = Number(n);
  if (8 + headerLen > fileSize) fail(`header length ${headerLen} goes beyond the end of the file (${fileSize} bytes)`);
  if (headerLen < 2) fail(`header length ${headerLen} is too short for a JSON object`);
  return headerLen;
}

/**
 * Validates a header (the JSON bytes) against the size of the data that follows it: dtypes, shapes, offsets in
 * range, sizes that match, and data covered exactly (no overlap, no hole). Throws a {@link SafetensorsError}.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataLen: number, source: string): { specs: TensorSpec[]; metadata: Record<string, string> } {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header does not start with '{' (got ${describe(text.slice(0, 20))})`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const entries = header as Record<string, unknown>;

  let metadata: Record<string, string> = {};
  if ('__metadata__' in entries) {
    const m = entries.__metadata__;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) fail(`__metadata__ must be an object of strings, got ${describe(m)}`);
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`__metadata__.${k} must be a string, got ${describe(v)}`);
    }
    metadata = { ...(m as Record<string, string>) };
  }

  const specs: TensorSpec[] = [];
  for (const [name, raw] of Object.entries(entries)) {
    if (name === '__metadata__') continue;
    if (name === '__proto__') fail(`'__proto__' cannot name a tensor`);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`tensor '${name}': entry is not an object (${describe(raw)})`);
    const e = raw as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') fail(`tensor '${name}': unexpected field '${key}'`);
    }
    if (!isDType(e.dtype)) {
      fail(`tensor '${name}': unknown dtype ${describe(e.dtype)} (known: ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`);
    }
    const dtype = e.dtype as SafetensorsDType;
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) fail(`tensor '${name}': shape ${describe(e.shape)} is not a list of non-negative integers`);
    const shape = e.shape as number[];
    let count = 1;
    for (const d of shape) {
      count *= d;
      if (!Number.isSafeInteger(count)) fail(`tensor '${name}': shape [${shape.join(', ')}] is too large`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isCount)) {
      fail(`tensor '${name}': data_offsets ${describe(offs)} must be two non-negative integers`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end) fail(`tensor '${name}': data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(`tensor '${name}': data_offsets [${begin}, ${end}] lie outside the ${dataLen} bytes of data`);
    const width = SAFETENSORS_DTYPES[dtype];
    if (count * width !== end - begin) {
      fail(`tensor '${name}': shape [${shape.join(', ')}] of ${dtype} needs ${count * width} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    specs.push({ name, dtype, shape, begin, end, count });
  }
  // The data must be covered exactly: no overlaps, no holes (the safetensors rule against polyglot files).
  const order = [...specs].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let last: TensorSpec | null = null;
  for (const s of order) {
    if (s.begin < covered) {
      fail(`tensor '${s.name}': data_offsets [${s.begin}, ${s.end}] overlap tensor '${last!.name}' [${last!.begin}, ${last!.end}]`);
    }
    if (s.begin > covered) fail(`data bytes [${covered}, ${s.begin}) belong to no tensor (before '${s.name}')`);
    covered = s.end;
    last = s;
  }
  if (covered !== dataLen) fail(`data bytes [${covered}, ${dataLen}) at the end of the file belong to no tensor`);
  return { specs, metadata };
}

/**
 * Parses safetensors bytes. `source` names the file in error messages. Every problem throws a
 * {@link SafetensorsError}; nothing is allocated beyond the file's own size.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
  const headerLen = headerLength(bytes, bytes.length, fail);
  const dataStart = 8 + headerLen;
  const { specs, metadata } = parseSafetensorsHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, source);
  const tensors: Record<string, SafeTensor> = {};
  for (const s of specs) {
    const slice = bytes.subarray(dataStart + s.begin, dataStart + s.end);
    tensors[s.name] = { dtype: s.dtype, shape: s.shape, data: decodeData(s.dtype, slice, s.count) };
  }
  return { tensors, metadata };
}

/** Float32Array or Float64Array values of a loaded float tensor (F16/BF16 already decoded to float32). */
export function floatData(name: string, t: SafeTensor): Float32Array | Float64Array {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return t.data;
  throw new SafetensorsError(`tensor '${name}' has dtype ${t.dtype}; a floating-point tensor (F32, F64, F16, BF16) is required`);
}
