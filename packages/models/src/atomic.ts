import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Crash-safe writes. A file is written to a temporary sibling, flushed to disk (fsync), then renamed over
 * the target; a checkpoint directory is written whole into a temporary sibling directory and renamed into
 * place. rename(2) within one filesystem is atomic, so a reader sees the old content or the new, never a mix
 * and never a half-written file.
 */

const tempSuffix = () => `${process.pid}-${randomBytes(4).toString('hex')}`;

/** Writes `bytes` to an open path and fsyncs it. */
function writeAndSync(path: string, bytes: Uint8Array | string): void {
  const fd = openSync(path, 'w');
  try {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of a directory makes renames in it durable; some platforms refuse it, which is harmless here. */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not supported (e.g. Windows): rename is still atomic */
  }
}

/** Writes a file atomically: temporary sibling, fsync, rename. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${tempSuffix()}`);
  try {
    writeAndSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  syncDir(dir);
}

/**
 * Builds a directory atomically: `fill` writes files into a fresh temporary directory next to `target`
 * (each file fsynced by {@link writeDirFile}); then the old `target`, if any, is renamed aside, the new one
 * renamed in, and the old one deleted. If `fill` throws, the temporary directory is removed and `target`
 * is untouched. The only window without `target` is between two renames; the previous content then
 * survives as `<target>.old-*`.
 */
export function writeDirAtomic(target: string, fill: (tmpDir: string) => void): void {
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const suffix = tempSuffix();
  const tmp = join(parent, `.${basename(target)}.tmp-${suffix}`);
  mkdirSync(tmp);
  try {
    fill(tmp);
    syncDir(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = join(parent, `.${basename(target)}.old-${suffix}`);
  const hadOld = existsSync(target);
  try {
    if (hadOld) renameSync(target, old);
    renameSync(tmp, target);
  } catch (e) {
    // Put things back as they were.
    if (hadOld && !existsSync(target) && existsSync(old)) renameSync(old, target);
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  syncDir(parent);
  if (hadOld) rmSync(old, { recursive: true, force: true });
}

/** Writes one file inside a directory being built by {@link writeDirAtomic} (fsynced, not renamed). */
export function writeDirFile(dir: string, name: string, bytes: Uint8Array | string): void {
  writeAndSync(join(dir, name), bytes);
}
