import type { DatasetExample } from '../formats/examples.js';
import type { FormatName } from '../formats/rowFormats.js';
import type { LineError } from './lineErrors.js';
import { readPreferenceFile, type ReadOptions } from './readPreferenceFile.js';

export interface DatasetCounts {
  /** Rows turned into examples. */
  readonly valid: number;
  /** Lines (or array elements) rejected, all of them, even beyond `maxErrors`. */
  readonly invalid: number;
  /** Rejected lines by reason, e.g. `{"chosen: expected string, got number": 3, "invalid JSON": 1}`. */
  readonly byReason: Readonly<Record<string, number>>;
  /** Whether reading stopped early (strict mode after an error, or a fatal error). */
  readonly stopped: boolean;
}

export interface LoadedDataset {
  readonly examples: DatasetExample[];
  /** The first `maxErrors` errors, in file order. */
  readonly errors: LineError[];
  readonly counts: DatasetCounts;
  /** The format of each file that produced at least one example. */
  readonly formats: Readonly<Record<string, FormatName>>;
}

export interface LoadOptions extends ReadOptions {
  /** How many error records to keep (all are counted). Default 100. */
  readonly maxErrors?: number;
}

/** Reads a whole file or directory into memory: examples, errors, and counts by reason. */
export async function loadPreferenceDataset(path: string, options: LoadOptions = {}): Promise<LoadedDataset> {
  const maxErrors = options.maxErrors ?? 100;
  const mode = options.mode ?? 'strict';
  const examples: DatasetExample[] = [];
  const errors: LineError[] = [];
  const byReason: Record<string, number> = {};
  const formats: Record<string, FormatName> = {};
  let invalid = 0;
  let stopped = false;
  for await (const record of readPreferenceFile(path, options)) {
    if (record.kind === 'example') {
      examples.push(record.example);
      formats[record.file] = record.format;
      continue;
    }
    const error = record.error;
    if (!error.fatal) invalid++;
    byReason[error.reason] = (byReason[error.reason] ?? 0) + 1;
    if (errors.length < maxErrors) errors.push(error);
    if (error.fatal || mode === 'strict') stopped = true;
  }
  return { examples, errors, counts: { valid: examples.length, invalid, byReason, stopped }, formats };
}

/** A short report for skip mode: `3 lines skipped: 2 × chosen: expected string, got number; 1 × invalid JSON`. */
export function summarizeSkipped(counts: DatasetCounts): string {
  if (counts.invalid === 0) return 'no lines skipped';
  const parts = Object.entries(counts.byReason)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([reason, n]) => `${n} × ${reason}`);
  return `${counts.invalid} line${counts.invalid === 1 ? '' : 's'} skipped: ${parts.join('; ')}`;
}
