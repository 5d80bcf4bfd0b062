// Helpers for the tests (not exported from the package).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's fixture folder. */
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

const created: string[] = [];

/** A fresh temporary directory, removed by `removeTempDirs`. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ganpo-datasets-'));
  created.push(dir);
  return dir;
}

/** Removes every directory `tempDir` made (call it from `afterAll`). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes bytes or text to a new file in `dir` and returns its path. */
export function writeTemp(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
