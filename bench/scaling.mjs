// npm run -w bench scaling -- [--cells w:l:s:p,...] [--steps N] [--warmup N]
// The scaling table of bench/README.md: `ganpo bench` (DPO and DPO+GANPO modes) over width × layers ×
// sequence × pairs, one process per cell (so each cell's peak RSS is its own), printed as a markdown table.
// Heads: width/32, at most 8 (4 at width 128, 8 at 256 and 512: the width-512 policy has 8). Without --cells every cell of {128,256,512} × {2,6} × {128,512} × {8,32} runs (hours on
// two cores); pass the cells you have time for.

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
const all = [];
for (const w of [128, 256, 512]) for (const l of [2, 6]) for (const s of [128, 512]) for (const p of [8, 32]) all.push([w, l, s, p]);
const cells = flag('--cells', null)?.split(',').map((c) => c.split(':').map(Number)) ?? all;

console.log(`| width | layers | heads | seq | pairs | DPO ms | GANPO ms | GANPO tokens/s | GANPO/DPO | DPO GFLOP/s | GANPO GFLOP/s | peak RSS MiB |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|`);
for (const [w, l, s, p] of cells) {
  const heads = Math.min(8, Math.max(1, w / 32));
  const argv = ['bench', '--width', w, '--layers', l, '--heads', heads, '--seq', s, '--pairs', p, '--modes', 'dpo,dpo+ganpo', '--steps', steps, '--warmup', warmup, '--json'].map(String);
  const r = spawnSync(process.execPath, [join(root, 'packages', 'cli', 'bin', 'ganpo.js'), ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    console.log(`| ${w} | ${l} | ${heads} | ${s} | ${p} | failed: ${(r.stderr || r.stdout).split('\n')[0]} |`);
    continue;
  }
  const out = JSON.parse(r.stdout);
  const [dpo, ganpo] = ['dpo', 'dpo+ganpo'].map((n) => out.rows.find((row) => row.name === n));
  const f = (x, d = 0) => x.toFixed(d);
  console.log(
    `| ${w} | ${l} | ${heads} | ${s} | ${p} | ${f(dpo.msPerStep)} | ${f(ganpo.msPerStep)} | ${f(ganpo.tokensPerSecond)} | ${f(out.ganpoOverDpo, 2)} | ` +
      `${f(dpo.gflopPerSecond, 1)} | ${f(ganpo.gflopPerSecond, 1)} | ${f(Math.max(dpo.peakRssMiB, ganpo.peakRssMiB))} |`,
  );
}
console.log(`\n${cpus().length} × ${cpus()[0]?.model}, ${new Date().toISOString().slice(0, 10)}; medians of ${steps} steps after ${warmup} warm-up`);
