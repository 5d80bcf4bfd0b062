/**
 * The errors the CLI turns into exit codes. A user mistake (a bad flag, config value or data file) is a
 * {@link UsageError}: one clear message, exit code 2. A failure during a run that the user could not have
 * checked beforehand (a NaN in the loss, a disk that fills up) is a {@link RunFailure}: exit code 1.
 * Anything else is a bug; the CLI prints its message (never a stack trace unless GANPO_DEBUG=1) and exits 1.
 */

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
/** Conventional exit code after SIGINT (128 + 2): the run stopped because it was asked to. */
export const EXIT_INTERRUPTED = 130;

/** A mistake in what the user asked for: flags, config files, data files. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = EXIT_USAGE;
  constructor(
    message: string,
    /** Extra lines shown under the message (e.g. one per config problem). */
    readonly details: readonly string[] = [],
    /** A one-line suggestion ("run `ganpo train --help` for the flags"). */
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A bad configuration value or file. */
export class ConfigError extends UsageError {
  override name = 'ConfigError';
}

/** A data file that cannot be used. */
export class DataError extends UsageError {
  override name = 'DataError';
}

/** A failure during a run (exit code 1). */
export class RunFailure extends Error {
  override name = 'RunFailure';
  readonly exitCode: number = EXIT_RUNTIME;
  constructor(
    message: string,
    readonly details: readonly string[] = [],
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A NaN or infinity in the loss (or another watched metric): the run stops without applying that step. */
export class NonFiniteError extends RunFailure {
  override name = 'NonFiniteError';
  constructor(
    readonly stage: string,
    readonly step: number,
    readonly metric: string,
    readonly value: number,
    readonly lastGoodCheckpoint: string | null,
  ) {
    super(
      `${metric} is ${Number.isNaN(value) ? 'NaN' : value > 0 ? '+Infinity' : '-Infinity'} at ${stage} step ${step}; the run stopped before applying that update`,
      [
        lastGoodCheckpoint
          ? `last good checkpoint (kept): ${lastGoodCheckpoint}`
          : 'no checkpoint had been saved yet in this run',
      ],
      'lower the learning rate or raise --clip; `--resume` continues from the last good checkpoint',
    );
  }
}

/** Thrown out of a training loop when SIGINT arrived and the final checkpoint is saved. */
export class Interrupted extends Error {
  override name = 'Interrupted';
  readonly exitCode = EXIT_INTERRUPTED;
  constructor(
    readonly stage: string,
    readonly step: number,
    readonly checkpoint: string | null,
    message?: string,
  ) {
    super(message ?? `interrupted at ${stage} step ${step}`);
  }
}

export function exitCodeOf(e: unknown): number {
  const system = fromSystemError(e);
  if (system) return system.exitCode;
  if (e instanceof UsageError || e instanceof RunFailure || e instanceof Interrupted) return e.exitCode;
  return EXIT_RUNTIME;
}

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** What a file-system error code means, in words; user-side problems (exit 2) unless listed in RUNTIME_CODES. */
const FS_PROBLEMS: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'it already exists',
  ENOENT: 'it does not exist',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENAMETOOLONG: 'the name is too long',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
};
/** Failures of the machine rather than of what the user asked for. */
const RUNTIME_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO']);

const ACTIONS: Record<string, string> = { mkdir: 'create directory', open: 'open', write: 'write', rename: 'rename', rmdir: 'remove', unlink: 'remove', scandir: 'read directory', stat: 'read', lstat: 'read', copyfile: 'copy', read: 'read' };

/**
 * A Node file-system error (ENOTDIR, EACCES, ENOSPC, ...) as the CLI's own error naming the path and the problem,
 * or null for anything else. User-side problems (a path that is a file, no permission) exit 2, a full disk exits 1.
 */
export function fromSystemError(e: unknown): UsageError | RunFailure | null {
  const err = e as NodeJS.ErrnoException | null;
  if (!(err instanceof Error) || typeof err.code !== 'string' || !(err.code in FS_PROBLEMS)) return null;
  const action = ACTIONS[err.syscall ?? ''] ?? 'use';
  const message = `cannot ${action} ${err.path ?? 'a file'}: ${FS_PROBLEMS[err.code]} (${err.code})`;
  return RUNTIME_CODES.has(err.code) ? new RunFailure(message) : new UsageError(message);
}
