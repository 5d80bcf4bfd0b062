// npm run -w bench scaling -- [--cells w:l:s:p,...] [--steps N] [--warmup N] [--timeout SECONDS]
// The scaling table of bench/README.md: `ganpo bench` (DPO and DPO+GANPO modes) over width × layers ×
// sequence × pairs, one process per cell (so each cell's peak RSS is its own), printed as a markdown table.
// Heads: width/32, at most 8 (4 at width 128, 8 at 256 and 512: the width-512 policy has 8). Without --cells every cell of {128,256,512} × {2,6} × {128,512} × {8,32} runs (hours on
// two cores); pass the cells you have time for. Each mode runs in its own process; with --timeout a mode that
// has not finished in that many seconds is stopped and its cells print "> N s" (what did not fit is shown, not dropped).

import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const steps = flag('--steps', '3');
const warmup = flag('--warmup', '1');
const timeoutS = Number(flag('--timeout', '0'));
const all = [];
for (const w of [128, 256, 512]) for (const l of [2, 6]) for (const s of [128, 512]) for (const p of [8, 32]) all.push([w, l, s, p]);
const cells = flag('--cells', null)?.split(',').map((c) => c.split(':').map(Number)) ?? all;

console.log(`| width | layers | heads | seq | pairs | DPO ms | GANPO ms | GANPO tokens/s | GANPO/DPO | DPO GFLOP/s | GANPO GFLOP/s | peak RSS MiB (DPO / GANPO) |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|`);
/** One mode of one cell in its own process: its row of `ganpo bench --json`, 'timeout', or the first line of its error. */
function runMode(cell, heads, mode) {
  const [w, l, s, p] = cell;
  const argv = ['bench', '--width', w, '--layers', l, '--heads', heads, '--seq', s, '--pairs', p, '--modes', mode, '--steps', steps, '--warmup', warmup, '--json'].map(String);
  const r = spawnSync(process.execPath, [join(root, 'packages', 'cli', 'bin', 'ganpo.js'), ...argv], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    ...(timeoutS > 0 ? { timeout: timeoutS * 1000, killSignal: 'SIGKILL' } : {}),
  });
  if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL') return 'timeout';
  if (r.status !== 0) return `failed: ${(r.stderr || r.stdout).split('\n')[0]}`;
  return JSON.parse(r.stdout).rows.find((row) => row.name === mode);
}

const f = (x, d = 0) => x.toFixed(d);
for (const cell of cells) {
  const [w, l, s, p] = cell;
  const heads = Math.min(8, Math.max(1, w / 32));
  const dpo = runMode(cell, heads, 'dpo');
  // A GANPO step does all a DPO step does and more: when DPO did not fit in the time, neither would it.
  const ganpo = dpo === 'timeout' ? 'timeout' : runMode(cell, heads, 'dpo+ganpo');
  const cellOf = (row, pick) => (row === 'timeout' ? `> ${timeoutS} s` : typeof row === 'string' ? row : pick(row));
  const both = typeof dpo === 'object' && typeof ganpo === 'object';
  console.log(
    `| ${w} | ${l} | ${heads} | ${s} | ${p} | ${cellOf(dpo, (r) => f(r.msPerStep))} | ${cellOf(ganpo, (r) => f(r.msPerStep))} | ` +
      `${cellOf(ganpo, (r) => f(r.tokensPerSecond))} | ${both ? f(ganpo.msPerStep / dpo.msPerStep, 2) : '–'} | ` +
      `${cellOf(dpo, (r) => f(r.gflopPerSecond, 1))} | ${cellOf(ganpo, (r) => f(r.gflopPerSecond, 1))} | ` +
      `${[dpo, ganpo].filter((r) => typeof r === 'object').map((r) => f(r.peakRssMiB)).join(' / ') || '–'} |`,
  );
}
console.log(`\n${cpus().length} × ${cpus()[0]?.model}, ${new Date().toISOString().slice(0, 10)}; medians of ${steps} steps after ${warmup} warm-up`);
