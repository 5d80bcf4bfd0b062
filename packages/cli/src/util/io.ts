import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { jsonErrorOffset, lineColumn } from './jsonError.js';
import { ConfigError, EXIT_RUNTIME, errorMessage, exitCodeOf, fromSystemError, Interrupted, RunFailure, UsageError } from '../errors.js';

/** Where a command writes: results to `stdout` (JSON with --json), messages and progress to `stderr`. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

export const processIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/** Control bytes (NUL, escape sequences of a binary file quoted in a message) as visible escapes, never raw. */
export const printable = (line: string): string =>
  line.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** `ganpo: error: message` plus detail lines and a hint: what a user sees for any failure. */
export function renderError(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const lines: string[] = [];
  const e = fromSystemError(error) ?? error;
  if (e instanceof UsageError || e instanceof RunFailure) {
    lines.push(`ganpo: error: ${e.message}`);
    for (const d of e.details) lines.push(`  ${d}`);
    if (e.hint) lines.push(`hint: ${e.hint}`);
  } else if (e instanceof Interrupted) {
    lines.push(`ganpo: ${e.message}${e.checkpoint ? `; checkpoint saved to ${e.checkpoint}` : ''}`);
    if (e.checkpoint) lines.push(`resume with: ganpo train --resume ${dirname(dirname(e.checkpoint))}`);
  } else {
    // A bug, or an error from a package the CLI did not classify: the message, no stack (unless asked).
    lines.push(`ganpo: internal error: ${errorMessage(e)}`);
    lines.push('hint: this is probably a bug in ganpo; rerun with GANPO_DEBUG=1 for the stack trace and report it');
  }
  if (env.GANPO_DEBUG && error instanceof Error && error.stack) lines.push(error.stack);
  return `${lines.map(printable).join('\n')}\n`;
}

export function reportError(e: unknown, io: CliIo): number {
  io.stderr.write(renderError(e, io.env));
  return exitCodeOf(e);
}

/** Reads and parses a JSON file; a missing file or bad JSON is a ConfigError naming the file and position. */
export function readJsonFile(path: string, what: string): unknown {
  if (!existsSync(path)) throw new ConfigError(`${what} ${path} does not exist`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${what} ${path}: ${errorMessage(e)}`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    const msg = errorMessage(e).replace(/\s+/g, ' ');
    const offset = jsonErrorOffset(text);
    let where = '';
    if (offset >= 0) {
      const { line, column } = lineColumn(text, offset);
      where = `:${line}:${column}`;
    }
    throw new ConfigError(`${what} ${path}${where} is not valid JSON: ${msg.replace(/^JSON\.parse: /, '')}`);
  }
}

export { EXIT_RUNTIME };
