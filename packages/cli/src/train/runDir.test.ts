import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromSystemError, UsageError } from '../errors.js';
import { evalCommand } from '../commands/evalSample.js';
import { reportCommand } from '../commands/report.js';
import { exportCommand } from '../commands/export.js';
import { train } from '../index.js';
import { renderError } from '../util/io.js';
import { RUN_LOCK, RUN_MARKER, isRunDir, lockRunDir } from './runDir.js';

/** The run directory is never lost, shared or mistaken: validation first, a marker, a lock, clear file-system errors. */

const temp = (name: string) => mkdtempSync(join(tmpdir(), `ganpo-rundir-${name}-`));
/** A very small SFT-only run (seconds). */
const tinyRun = (out: string, extra: Record<string, unknown> = {}) => ({
  out,
  stage: 'sft' as const,
  model: { init: 'tiny', dropout: null },
  sft: { steps: 2, batchSize: 4 },
  log: { evalInterval: 0, saveInterval: 0 },
  eval: { atEnd: false },
  ...extra,
});

describe('--overwrite', () => {
  it('validates everything before touching the old run: a missing data file leaves it intact', async () => {
    const out = join(temp('ow'), 'run');
    await train(tinyRun(out));
    const before = readdirSync(out).sort();
    await expect(train(tinyRun(out, { data: { path: join(out, 'missing.jsonl') } }), { overwrite: true })).rejects.toThrow(/does not exist/);
    expect(readdirSync(out).sort()).toEqual(before);
    expect(existsSync(join(out, 'policy', 'model.safetensors'))).toBe(true);
  }, 60_000);

  it('never treats a folder with a `checkpoints` entry as a run, and never deletes what ganpo did not write', async () => {
    const src = temp('src');
    mkdirSync(join(src, 'checkpoints'));
    mkdirSync(join(src, 'src'));
    writeFileSync(join(src, 'README.md'), '# mine\n');
    expect(isRunDir(src)).toBe(false);
    await expect(train(tinyRun(src), { overwrite: true })).rejects.toThrow(/not empty and does not hold a ganpo run/);
    expect(readdirSync(src).sort()).toEqual(['README.md', 'checkpoints', 'src']);
  });

  it('replaces a run, keeping files of the user that sit beside it', async () => {
    const out = join(temp('ow2'), 'run');
    await train(tinyRun(out));
    writeFileSync(join(out, 'notes.txt'), 'keep me\n');
    const result = await train(tinyRun(out, { seed: 5 }), { overwrite: true });
    expect(result.status).toBe('completed');
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('keep me\n');
    expect(readdirSync(out).filter((e) => e.startsWith('.ganpo-replaced-'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).seed).toBe(5);
  }, 60_000);
});

describe('one process per run directory', () => {
  it('a second run into the same --out while the first runs gets a clear error; the first is unharmed', async () => {
    const out = join(temp('lock'), 'run');
    const first = train(tinyRun(out, { sft: { steps: 6, batchSize: 4 } }));
    // The first run takes the lock once its data and model are ready; wait for it.
    while (!existsSync(join(out, RUN_LOCK))) await new Promise((r) => setTimeout(r, 5));
    await expect(train(tinyRun(out), { overwrite: true })).rejects.toThrow(/in use by another run/);
    expect((await first).status).toBe('completed');
    expect(existsSync(join(out, RUN_LOCK))).toBe(false);
  }, 60_000);

  it('`ganpo eval`, `report` and `export` take the lock too: they refuse a run that is being written', async () => {
    const out = join(temp('evlock'), 'run');
    await train(tinyRun(out));
    const lock = lockRunDir(out, out, 'ganpo train');
    const io = { stdout: process.stdout, stderr: process.stderr, env: {} } as never;
    await expect(evalCommand({ run: out, quiet: true }, io)).rejects.toThrow(/in use by another run/);
    expect(() => reportCommand({ run: out }, io)).toThrow(/in use by another run/);
    expect(() => exportCommand({ run: out, out: join(out, '..', 'hf') }, io)).toThrow(/in use by another run/);
    lock.release();
  }, 60_000);

  it('a lock held by a live process is refused with its PID; a stale one (its process gone) is taken over', () => {
    const dir = temp('stale');
    const live = process.ppid;
    writeFileSync(join(dir, RUN_LOCK), JSON.stringify({ pid: live, host: hostname(), command: 'ganpo train', started: 'then' }));
    expect(() => lockRunDir(dir, 'RUN', 'ganpo train')).toThrow(new RegExp(`in use by another ganpo process \\(pid ${live}`));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, RUN_LOCK), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), command: 'ganpo train', started: 'then' }));
    const lock = lockRunDir(dir, 'RUN', 'ganpo train');
    expect(JSON.parse(readFileSync(join(dir, RUN_LOCK), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(join(dir, RUN_LOCK))).toBe(false);
  });
});

describe('file-system mistakes are usage errors naming the path', () => {
  it('an --out that is a file: a clear message, exit 2, nothing created', async () => {
    const dir = temp('file');
    const file = join(dir, 'taken');
    writeFileSync(file, 'x');
    await expect(train(tinyRun(file))).rejects.toThrow(/taken is a file, not a directory/);
    const nested = join(file, 'run');
    const e = await train(tinyRun(nested)).catch((x: unknown) => x);
    expect(renderError(e)).toMatch(/^ganpo: error: cannot create directory .*taken\/run: a part of the path is a file, not a directory \(ENOTDIR\)/);
    expect(renderError(e)).not.toMatch(/internal error|probably a bug/);
    expect(readdirSync(dir)).toEqual(['taken']);
  }, 60_000);

  it('maps EACCES, EROFS and ENOSPC to messages with the path (permission problems exit 2, a full disk 1)', () => {
    const err = (code: string, syscall: string) => Object.assign(new Error(`${code}: raw`), { code, syscall, path: '/runs/x/metrics.jsonl' });
    const acc = fromSystemError(err('EACCES', 'open'))!;
    expect(acc).toBeInstanceOf(UsageError);
    expect(acc.message).toBe('cannot open /runs/x/metrics.jsonl: permission denied (EACCES)');
    expect(acc.exitCode).toBe(2);
    expect(fromSystemError(err('ENOSPC', 'write'))!.exitCode).toBe(1);
    expect(fromSystemError(new Error('plain'))).toBeNull();
  });

  it('a failed run leaves no empty --out behind', async () => {
    const parent = temp('empty');
    const out = join(parent, 'run');
    await expect(train(tinyRun(out), { injectNanAt: { stage: 'sft', step: 1 } })).rejects.toThrow(/NaN/);
    // The run had started (its record says why it failed), so it stays; a run that fails before writing is gone.
    expect(readFileSync(join(out, 'run.json'), 'utf8')).toMatch(/failed/);
    const never = join(parent, 'never');
    await expect(train(tinyRun(never, { data: { path: join(parent, 'nope.jsonl') } }))).rejects.toThrow(/does not exist/);
    expect(existsSync(never)).toBe(false);
    expect(existsSync(join(out, RUN_MARKER))).toBe(true);
  }, 60_000);
});
