import * as E from 'fp-ts/lib/Either.js';
import { renderIssue } from '../formats/decodeIssues.js';
import type { DatasetExample } from '../formats/examples.js';
import { decodeRow, detectFormat, FORMAT_NAMES, type FormatName } from '../formats/rowFormats.js';
import { fileError, lineError, type LineError } from './lineErrors.js';
import { parseUnit } from './parseUnit.js';
import type { RawUnit } from './rawUnits.js';

/** What the reader yields: one normalized example, or one error. */
export type ReadRecord =
  | {
      readonly kind: 'example';
      readonly file: string;
      readonly line: number;
      readonly format: FormatName;
      readonly example: DatasetExample;
    }
  | { readonly kind: 'error'; readonly error: LineError };

/** A parsed row waiting for the file's format to be known, or a finished record. */
type ProbeEntry = { readonly line: number; readonly value: unknown } | { readonly line: number; readonly record: ReadRecord };

const MAX_ISSUES_SHOWN = 3;

/**
 * Turns the raw units of one file into records, in file order. Until the first valid row it holds
 * what it reads (at most `probeLimit` non-blank units): that is where the format is detected, and
 * where a file that is not JSON Lines at all, or not in the expected format, is recognised and
 * reported once instead of once per line.
 */
export class FileDecoder {
  private format: FormatName | null;
  private readonly detected: boolean;
  private detectedAtLine = 0;
  private confirmed = false;
  private probe: ProbeEntry[] = [];
  /** True once a fatal error was returned: nothing more will come from this file. */
  finished = false;

  constructor(
    private readonly file: string,
    format: FormatName | 'auto',
    private readonly probeLimit: number,
    private readonly maxUnitBytes: number,
  ) {
    this.format = format === 'auto' ? null : format;
    this.detected = format === 'auto';
  }

  push(unit: RawUnit): ReadRecord[] {
    if (this.finished) return [];
    if (unit.kind === 'broken') {
      this.finished = true;
      const held = this.confirmed ? [] : this.probe.flatMap((e) => ('record' in e ? [e.record] : []));
      return [...held, { kind: 'error', error: fileError(this.file, 'broken JSON array', `line ${unit.line}: ${unit.detail}`) }];
    }
    let entry: ProbeEntry;
    if (unit.kind === 'too_long') {
      entry = {
        line: unit.line,
        record: this.error(unit.line, 'too long', `too long: ${unit.size} bytes, over the limit of ${this.maxUnitBytes} (maxLineBytes)`),
      };
    } else {
      const parsed = parseUnit(unit.bytes, unit.line === 1);
      if (E.isLeft(parsed)) entry = { line: unit.line, record: this.error(unit.line, parsed.left.reason, parsed.left.detail) };
      else if (parsed.right.blank) return [];
      else entry = { line: unit.line, value: parsed.right.value };
    }
    if (this.confirmed) return [this.finish(entry)];
    return this.probeWith(entry);
  }

  /** Call at the end of the file. */
  end(): ReadRecord[] {
    if (this.finished || this.confirmed || this.probe.length === 0) return [];
    this.finished = true;
    const pending = this.probe.find((e) => 'value' in e);
    if (this.format === null && pending) return [{ kind: 'error', error: this.undetectable(pending) }];
    return this.probe.map((e) => this.finish(e));
  }

  private probeWith(entry: ProbeEntry): ReadRecord[] {
    this.probe.push(entry);
    if (this.format === null && 'value' in entry) {
      const format = detectFormat(entry.value);
      if (format) {
        this.format = format;
        this.detectedAtLine = entry.line;
      }
    }
    if (this.format !== null) {
      this.probe = this.probe.map((e) => ({ line: e.line, record: this.finish(e) }));
      if (this.probe.some((e) => 'record' in e && e.record.kind === 'example')) {
        this.confirmed = true;
        const out = this.probe.map((e) => ('record' in e ? e.record : this.finish(e)));
        this.probe = [];
        return out;
      }
    }
    if (this.probe.length >= this.probeLimit) {
      this.finished = true;
      return [{ kind: 'error', error: this.rejectFile() }];
    }
    return [];
  }

  private finish(entry: ProbeEntry): ReadRecord {
    if ('record' in entry) return entry.record;
    const format = this.format as FormatName;
    const decoded = decodeRow(entry.value, format);
    if (E.isRight(decoded)) return { kind: 'example', file: this.file, line: entry.line, format, example: decoded.right };
    const issues = decoded.left;
    const shown = issues.slice(0, MAX_ISSUES_SHOWN).map(renderIssue).join('; ');
    const more = issues.length > MAX_ISSUES_SHOWN ? ` (and ${issues.length - MAX_ISSUES_SHOWN} more)` : '';
    return this.error(entry.line, renderIssue(issues[0]), shown + more);
  }

  private error(line: number, reason: string, detail: string): ReadRecord {
    return { kind: 'error', error: lineError(this.file, line, reason, detail) };
  }

  /** The one message for a file whose first `probeLimit` non-blank units hold no valid row. */
  private rejectFile(): LineError {
    const n = this.probe.length;
    const pending = this.probe.find((e) => 'value' in e);
    if (this.format === null && pending) return this.undetectable(pending);
    const firstError = this.probe.map((e) => ('record' in e && e.record.kind === 'error' ? e.record.error : null)).find((e) => e !== null);
    const example = firstError ? ` (line ${firstError.line}: ${firstError.detail})` : '';
    const parseReasons = new Set(['invalid JSON', 'invalid UTF-8', 'too long']);
    const allUnparsable = this.probe.every((e) => 'record' in e && e.record.kind === 'error' && parseReasons.has(e.record.error.reason));
    if (allUnparsable)
      return fileError(
        this.file,
        'not JSON Lines',
        `not JSON Lines: none of the first ${n} non-blank lines is a JSON value${example}. Expected one JSON object per line, or a JSON array.`,
      );
    const how = this.detected ? `, the format detected from line ${this.detectedAtLine}; pass the format explicitly if that is wrong` : '';
    return fileError(
      this.file,
      'no valid row',
      `none of the first ${n} non-blank lines is a valid ${this.format} row${how}${example}`,
    );
  }

  private undetectable(entry: ProbeEntry): LineError {
    const value = 'value' in entry ? entry.value : undefined;
    const shape =
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? `keys ${Object.keys(value).slice(0, 8).map((k) => JSON.stringify(k)).join(', ') || '(none)'}`
        : `a JSON ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}, not an object`;
    return fileError(
      this.file,
      'unknown format',
      `cannot detect the format: line ${entry.line} has ${shape}. Known formats: ${FORMAT_NAMES.join(', ')}; pass one explicitly.`,
    );
  }
}
