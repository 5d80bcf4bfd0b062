import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { RUN_FILES, writeReport } from '../report/write.js';
import { lockRunDir } from '../train/runDir.js';
import type { CliIo } from '../util/io.js';

/** `ganpo report --run DIR`: rebuilds report.html and report.md from metrics.jsonl, run.json and eval.json. */
export function reportCommand(flags: { run: string }, io: CliIo): number {
  if (!existsSync(join(flags.run, RUN_FILES.run))) throw new ConfigError(`--run ${flags.run}: not a ganpo run directory (no ${RUN_FILES.run})`);
  const lock = lockRunDir(flags.run, flags.run, 'ganpo report');
  let paths: { html: string; md: string };
  try {
    paths = writeReport(flags.run);
  } finally {
    lock.release();
  }
  const { html, md } = paths;
  io.stdout.write(`wrote ${html}\nwrote ${md}\n`);
  return 0;
}
