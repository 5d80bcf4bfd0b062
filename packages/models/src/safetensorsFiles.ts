import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';
import {
  decodeData,
  encodeSafetensors,
  headerLength,
  parseSafetensorsHeader,
  type SafeTensor,
  SafetensorsError,
  type SafetensorsFile,
  type TensorSpec,
} from './safetensors.js';

// Reading and writing safetensors files (Node only); the format itself is in safetensors.ts.

/** Writes a safetensors file atomically (temporary file, fsync, rename). */
export function saveSafetensors(
  path: string,
  tensors: Parameters<typeof encodeSafetensors>[0],
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Reads and validates a safetensors file through a file handle: the header first, then each tensor from its
 * offset (no single read of the whole file, so multi-GiB files and shards load; one tensor at a time is in
 * memory besides the results). Errors name the file.
 */
export function loadSafetensors(path: string): SafetensorsFile {
  const file = openSafetensors(path);
  try {
    const tensors: Record<string, SafeTensor> = {};
    for (const spec of file.specs) tensors[spec.name] = file.read(spec);
    return { tensors, metadata: file.metadata };
  } finally {
    file.close();
  }
}

/** An open safetensors file: its validated header, and tensors read on demand by offset. Close it when done. */
export interface OpenSafetensors {
  readonly path: string;
  readonly specs: readonly TensorSpec[];
  readonly metadata: Record<string, string>;
  read(spec: TensorSpec): SafeTensor;
  close(): void;
}

export function openSafetensors(path: string): OpenSafetensors {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${path}: ${msg}`);
  };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const readAt = (position: number, length: number): Uint8Array => {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, position + got);
        if (n === 0) fail(`file ended at byte ${position + got} while reading ${length} bytes at ${position} (changed while reading?)`);
        got += n;
      }
      return buf;
    };
    const headerLen = headerLength(size >= 8 ? readAt(0, 8) : new Uint8Array(8), size, fail);
    const dataStart = 8 + headerLen;
    const { specs, metadata } = parseSafetensorsHeader(readAt(8, headerLen), size - dataStart, path);
    return {
      path,
      specs,
      metadata,
      read: (spec) => ({ dtype: spec.dtype, shape: spec.shape, data: decodeData(spec.dtype, readAt(dataStart + spec.begin, spec.end - spec.begin), spec.count) }),
      close: () => closeSync(fd),
    };
  } catch (e) {
    closeSync(fd);
    if (e instanceof SafetensorsError) throw e;
    throw new SafetensorsError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

