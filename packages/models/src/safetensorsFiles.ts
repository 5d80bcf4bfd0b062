import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type SafetensorsFile } from './safetensors.js';

// Reading and writing safetensors files (Node only); the format itself is in safetensors.ts.

/** Writes a safetensors file atomically (temporary file, fsync, rename). */
export function saveSafetensors(
  path: string,
  tensors: Parameters<typeof encodeSafetensors>[0],
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads and validates a safetensors file; errors name the file. */
export function loadSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}

