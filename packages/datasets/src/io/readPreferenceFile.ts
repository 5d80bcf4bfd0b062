import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { FormatName } from '../formats/rowFormats.js';
import { DEFAULT_MAX_LINE_BYTES, DEFAULT_PROBE_LINES } from './decodeBytes.js';
import { FileDecoder, type ReadRecord } from './fileDecoder.js';

export { DEFAULT_MAX_LINE_BYTES, DEFAULT_PROBE_LINES };
import { fileError } from './lineErrors.js';
import type { RawUnit } from './rawUnits.js';
import { splitJsonArray } from './splitJsonArray.js';
import { splitLines } from './splitLines.js';

export type { ReadRecord } from './fileDecoder.js';

/** `strict`: stop at the first error. `skip`: report each bad line and go on. */
export type ReadMode = 'strict' | 'skip';

/** How a file holds its rows: one JSON value per line, or one JSON array. `auto` looks at the first byte. */
export type Container = 'auto' | 'jsonl' | 'json_array';

export interface ReadOptions {
  /** The row format; `auto` (default) detects it per file from its first rows. */
  readonly format?: FormatName | 'auto';
  readonly mode?: ReadMode;
  readonly container?: Container;
  /** Lines (or array elements) longer than this are reported, not held in memory. Default 128 MiB. */
  readonly maxLineBytes?: number;
  /**
   * If none of a file's first `probeLines` non-blank lines is a valid row, the file is rejected with one
   * message (not JSON Lines, unknown format, or wrong format) instead of one error per line. Default 10.
   */
  readonly probeLines?: number;
}

/** File extensions read from a directory of shards. */
export const SHARD_EXTENSIONS: ReadonlyArray<string> = ['.jsonl', '.ndjson', '.json'];

/**
 * Streams the examples of a JSONL file, a JSON array file, or a directory of such shards (read in name
 * order), decoding row by row with constant memory in the file size. Yields examples and errors in
 * file order; never loses or repeats a valid row. In `strict` mode it stops after the first error; a
 * fatal error (see `LineError.fatal`) stops it in either mode.
 */
export async function* readPreferenceFile(path: string, options: ReadOptions = {}): AsyncGenerator<ReadRecord> {
  const mode = options.mode ?? 'strict';
  const files = await dataFiles(path);
  if ('error' in files) {
    yield { kind: 'error', error: fileError(path, files.reason, files.error) };
    return;
  }
  for (const file of files.files) {
    for await (const record of readOneFile(file, options)) {
      yield record;
      if (record.kind === 'error' && (mode === 'strict' || record.error.fatal)) return;
    }
  }
}

type FileList = { readonly files: string[] } | { readonly error: string; readonly reason: string };

async function dataFiles(path: string): Promise<FileList> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) return { files: [path] };
    const names = (await readdir(path, { withFileTypes: true }))
      .filter((d) => d.isFile() && !d.name.startsWith('.') && SHARD_EXTENSIONS.includes(extname(d.name).toLowerCase()))
      .map((d) => d.name)
      // Code-unit order, not locale order: the same on every machine.
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (names.length === 0) return { error: `no ${SHARD_EXTENSIONS.join(', ')} files in this directory`, reason: 'empty directory' };
    return { files: names.map((n) => join(path, n)) };
  } catch (e) {
    return { error: `cannot read: ${errorText(e)}`, reason: 'unreadable' };
  }
}

async function* readOneFile(file: string, options: ReadOptions): AsyncGenerator<ReadRecord> {
  const maxBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const decoder = new FileDecoder(file, options.format ?? 'auto', options.probeLines ?? DEFAULT_PROBE_LINES, maxBytes);
  let container: Exclude<Container, 'auto'>;
  try {
    container = !options.container || options.container === 'auto' ? await sniffContainer(file) : options.container;
  } catch (e) {
    yield { kind: 'error', error: fileError(file, 'unreadable', `cannot read: ${errorText(e)}`) };
    return;
  }
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  const chunks = stream as AsyncIterable<Buffer>;
  const units: AsyncGenerator<RawUnit> = container === 'jsonl' ? splitLines(chunks, maxBytes) : splitJsonArray(chunks, maxBytes);
  try {
    for await (const unit of units) {
      yield* decoder.push(unit);
      if (decoder.finished) return;
    }
    yield* decoder.end();
  } catch (e) {
    yield { kind: 'error', error: fileError(file, 'unreadable', `cannot read: ${errorText(e)}`) };
  } finally {
    stream.destroy();
  }
}

/** `json_array` when the first character (after a BOM and whitespace) is `[`, else `jsonl`. */
async function sniffContainer(file: string): Promise<'jsonl' | 'json_array'> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    let i = bytesRead >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    while (i < bytesRead && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
    return i < bytesRead && buf[i] === 0x5b ? 'json_array' : 'jsonl';
  } finally {
    await handle.close();
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
