// Benchmark (not a test): generates a large JSONL preference file in /tmp, streams it through
// readPreferenceFile, and prints lines/s, MB/s and peak RSS. Memory must stay flat in the file size.
//
//   npx tsx bench/stream-jsonl.ts [--lines 1100000] [--keep]
//
// Also prints the load average, since the figures depend on what else the machine runs.
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import { readPreferenceFile } from '../src/index.js';

const args = process.argv.slice(2);
const lines = Number(args[args.indexOf('--lines') + 1]) || 1_100_000;
const keep = args.includes('--keep');
const path = '/tmp/ganpo-bench-stream.jsonl';

const words = ['alpha', 'beta', 'gamma', 'delta', 'sky', 'blue', 'green', 'the', 'answer', 'is', 'maybe', 'über', '猫', 'ok'];
function row(i: number): string {
  const w = (k: number) => words[(i * 7 + k * 13) % words.length];
  const sentence = (k: number, n: number) => Array.from({ length: n }, (_, j) => w(k + j)).join(' ');
  return JSON.stringify({ prompt: `Q${i}: ${sentence(1, 12)}?`, chosen: ` ${sentence(2, 10)}.`, rejected: ` ${sentence(3, 9)}!` });
}

async function generate(): Promise<number> {
  const out = createWriteStream(path);
  const batch: string[] = [];
  for (let i = 0; i < lines; i++) {
    batch.push(row(i));
    if (batch.length === 10_000 || i === lines - 1) {
      if (!out.write(batch.join('\n') + '\n')) await once(out, 'drain');
      batch.length = 0;
    }
  }
  out.end();
  await once(out, 'finish');
  return (await stat(path)).size;
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const t0 = performance.now();
const size = await generate();
console.log(`generated ${lines} lines, ${mb(size)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${path}`);
global.gc?.();
const rssBefore = process.memoryUsage().rss;
let peakRss = rssBefore;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

const t1 = performance.now();
const cpu0 = process.cpuUsage();
let examples = 0;
let errors = 0;
for await (const record of readPreferenceFile(path, { mode: 'skip' })) {
  if (record.kind === 'example') examples++;
  else errors++;
}
const seconds = (performance.now() - t1) / 1000;
const cpu = process.cpuUsage(cpu0);
// CPU time of this process: on a shared machine, lines per CPU-second is steadier than lines per wall second.
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

console.log(
  JSON.stringify({
    lines,
    fileMiB: Number(mb(size)),
    examples,
    errors,
    seconds: Number(seconds.toFixed(2)),
    linesPerSecond: Math.round(lines / seconds),
    cpuSeconds: Number(cpuSeconds.toFixed(2)),
    linesPerCpuSecond: Math.round(lines / cpuSeconds),
    MiBPerSecond: Number((size / 1024 / 1024 / seconds).toFixed(1)),
    rssBeforeReadMiB: Number(mb(rssBefore)),
    peakRssWhileReadingMiB: Number(mb(peakRss)),
    node: process.version,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(1))),
  }),
);
if (!keep) await rm(path);
