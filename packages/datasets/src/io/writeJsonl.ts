import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/**
 * Writes rows as JSON Lines (one `JSON.stringify` per line, `\n` after each) atomically: to a temporary
 * file beside the target, flushed to disk, then renamed over it, so a reader never sees half a file.
 */
export async function writeJsonl(path: string, rows: Iterable<unknown>): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await open(temp, 'w');
  try {
    let batch: string[] = [];
    for (const row of rows) {
      batch.push(JSON.stringify(row));
      if (batch.length >= 1024) {
        await handle.write(batch.join('\n') + '\n');
        batch = [];
      }
    }
    if (batch.length > 0) await handle.write(batch.join('\n') + '\n');
    await handle.sync();
  } catch (e) {
    await handle.close();
    await rm(temp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}
