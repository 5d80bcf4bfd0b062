/**
 * An error found while reading a data file. `message` is what a user sees:
 *
 *     data/train.jsonl:17: chosen: expected string, got number
 *
 * `reason` is the same without the file and line, for counting errors by kind; `fatal` errors
 * (not JSON Lines at all, unknown format, unreadable file) stop the reading in every mode.
 */
export interface LineError {
  readonly file: string;
  /** 1-based line number; for a JSON array, the line where the element starts. Null for file errors. */
  readonly line: number | null;
  readonly reason: string;
  readonly detail: string;
  readonly message: string;
  readonly fatal: boolean;
}

export function lineError(file: string, line: number, reason: string, detail: string = reason): LineError {
  return { file, line, reason, detail, message: `${file}:${line}: ${detail}`, fatal: false };
}

export function fileError(file: string, reason: string, detail: string = reason): LineError {
  return { file, line: null, reason, detail, message: `${file}: ${detail}`, fatal: true };
}
