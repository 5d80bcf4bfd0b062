import type { FormatName } from '../formats/rowFormats.js';
import { FileDecoder, type ReadRecord } from './fileDecoder.js';
import { splitLines } from './splitLines.js';

/** Defaults shared with readPreferenceFile (kept here, a module without Node built-ins). */
export const DEFAULT_MAX_LINE_BYTES = 128 * 1024 * 1024;
export const DEFAULT_PROBE_LINES = 10;

export interface DecodeBytesOptions {
  /** Row format, or 'auto' to detect it from the first rows (default). */
  readonly format?: FormatName | 'auto';
  readonly maxLineBytes?: number;
  readonly probeLines?: number;
}

/**
 * The records of a JSON Lines file already in memory (a file dropped on a web page, say), exactly as
 * readPreferenceFile gives them for a file on disk in `skip` mode: every example, and every error naming
 * `name` and the line (a caller that wants `strict` stops at the first error).
 */
export async function decodePreferenceBytes(name: string, bytes: Uint8Array, options: DecodeBytesOptions = {}): Promise<ReadRecord[]> {
  const maxBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const decoder = new FileDecoder(name, options.format ?? 'auto', options.probeLines ?? DEFAULT_PROBE_LINES, maxBytes);
  const out: ReadRecord[] = [];
  async function* one(): AsyncGenerator<Uint8Array> {
    yield bytes;
  }
  for await (const unit of splitLines(one(), maxBytes)) {
    out.push(...decoder.push(unit));
    if (decoder.finished) return out;
  }
  out.push(...decoder.end());
  return out;
}
