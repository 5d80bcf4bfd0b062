import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError, fromSystemError, UsageError } from '../errors.js';
import { RUN_FILES } from '../report/write.js';

/**
 * The run directory as a resource: recognised by its own marker file, used by one process at a time (a lock file),
 * and replaced (`--overwrite`) only by moving what ganpo wrote aside and deleting it once the new run has started.
 * Nothing here ever deletes a file ganpo did not write.
 */

/** Written first into every run directory; what makes a folder a run (not merely a `checkpoints` entry). */
export const RUN_MARKER = '.ganpo-run';
export const RUN_LOCK = '.ganpo-lock';
/** Every entry a run writes at its top level: the only ones `--overwrite` moves away. */
export const RUN_ENTRIES: readonly string[] = [RUN_MARKER, ...Object.values(RUN_FILES), 'checkpoints', 'sft', 'reference', 'policy'];
const ASIDE_PREFIX = '.ganpo-replaced-';

/** Whether `dir` holds a ganpo run: its marker, or (runs written before the marker) a run.json of ours. */
export function isRunDir(dir: string): boolean {
  if (existsSync(join(dir, RUN_MARKER))) return true;
  const record = join(dir, RUN_FILES.run);
  if (!existsSync(record)) return false;
  try {
    return (JSON.parse(readFileSync(record, 'utf8')) as { format?: unknown }).format === 'ganpo-run/1';
  } catch {
    return false;
  }
}

/** Entries of an existing directory (empty for a missing one); a path that is a file is a usage error. */
function entriesOf(dir: string, flag: string): string[] {
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) throw new UsageError(`${flag} ${dir} is a file, not a directory`, [], 'choose a directory for the run');
  return readdirSync(dir);
}

/**
 * Checks, before anything is written or deleted, that a new run may go into `dir`: missing, empty, or a run
 * (with `overwrite`). A folder with other content is never used, with or without `--overwrite`.
 */
export function checkNewRunDir(dir: string, shown: string, overwrite: boolean): void {
  const entries = entriesOf(dir, '--out').filter((e) => e !== RUN_LOCK && e !== RUN_MARKER);
  if (entries.length === 0) return;
  if (!isRunDir(dir)) {
    throw new ConfigError(`--out ${shown} is not empty and does not hold a ganpo run`, [`it contains ${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', ...' : ''}`], 'choose a new or empty directory for the run');
  }
  if (!overwrite) {
    throw new ConfigError(`${shown} already holds a run`, [], `continue it with \`ganpo train --resume ${shown}\`, pass --overwrite to replace it, or choose another --out`);
  }
}

export function checkResumeDir(dir: string, shown: string): void {
  entriesOf(dir, '--resume');
  if (!existsSync(join(dir, RUN_FILES.config))) throw new ConfigError(`--resume ${shown}: not a ganpo run directory (no ${RUN_FILES.config})`);
}

/** Creates the run directory (if needed) and its marker; file-system failures become clear errors. */
export function createRunDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(dir, RUN_MARKER))) writeFileSync(join(dir, RUN_MARKER), `${JSON.stringify({ format: 'ganpo-run-marker/1' })}\n`);
  } catch (e) {
    throw fromSystemError(e) ?? e;
  }
}

/** The old run of an `--overwrite`, set aside until the new one has started. */
export interface OldRun {
  /** Deletes the old run (once the new one has taken its first step). */
  discard(): void;
  /** Puts the old run back, removing what the new one wrote (when the new one failed before its first step). */
  restore(): void;
}

/** Moves the entries an earlier run wrote into a hidden folder inside `dir` (other files stay where they are). */
export function moveOldRunAside(dir: string): OldRun {
  const aside = join(dir, `${ASIDE_PREFIX}${Date.now()}-${process.pid}`);
  const owned = readdirSync(dir).filter((e) => RUN_ENTRIES.includes(e) && e !== RUN_MARKER);
  try {
    mkdirSync(aside);
    for (const e of owned) renameSync(join(dir, e), join(aside, e));
  } catch (e) {
    throw fromSystemError(e) ?? e;
  }
  let settled = false;
  return {
    discard: () => {
      if (settled) return;
      settled = true;
      rmSync(aside, { recursive: true, force: true });
    },
    restore: () => {
      if (settled) return;
      settled = true;
      for (const e of owned) {
        rmSync(join(dir, e), { recursive: true, force: true });
        renameSync(join(aside, e), join(dir, e));
      }
      rmSync(aside, { recursive: true, force: true });
    },
  };
}

/** Removes a run directory this process created when the run failed before writing anything but its marker. */
export function removeFailedRunDir(dir: string): void {
  try {
    const left = readdirSync(dir).filter((e) => e !== RUN_LOCK);
    if (left.every((e) => e === RUN_MARKER)) rmSync(dir, { recursive: true, force: true });
  } catch {
    // Best effort: the error that made the run fail matters more.
  }
}

// ---- the lock ---------------------------------------------------------------------------------------------

interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly started: string;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function readLock(path: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

/** Run directories this process holds (a second `train()` in the same process is refused like another process). */
const heldHere = new Set<string>();

export interface RunLock {
  release(): void;
}

/**
 * Takes the run directory's lock: a file created exclusively (`wx`) holding this process's PID. A lock left by a
 * process that no longer runs on this host is stale and taken over; a live one is a clear error. Released by
 * `release()`, and on process exit in any case.
 */
export function lockRunDir(dir: string, shown: string, command: string): RunLock {
  const path = join(dir, RUN_LOCK);
  if (heldHere.has(path)) throw new UsageError(`${shown} is in use by another run in this process`, [], 'wait for it to finish, or choose another directory');
  const info: LockInfo = { pid: process.pid, host: hostname(), command, started: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(info)}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw fromSystemError(e) ?? e;
      const holder = readLock(path);
      if (holder && holder.pid !== process.pid && (holder.host !== info.host || alive(holder.pid))) {
        throw new UsageError(
          `${shown} is in use by another ganpo process (pid ${holder.pid} on ${holder.host}, \`${holder.command}\`, since ${holder.started})`,
          [],
          `wait for it to finish, or choose another directory; if that process is gone, delete ${path}`,
        );
      }
      // Stale (its process is gone) or unreadable: take it over.
      rmSync(path, { force: true });
    }
  }
  let held = true;
  heldHere.add(path);
  const release = () => {
    if (!held) return;
    held = false;
    heldHere.delete(path);
    process.off('exit', release);
    try {
      if (readLock(path)?.pid === process.pid) unlinkSync(path);
    } catch {
      // The directory may be gone (a failed run removed it); nothing is left to release.
    }
  };
  process.on('exit', release);
  return { release };
}
