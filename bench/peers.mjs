// npm run bench:peers — the reference GANPO step in ganpo, TF.js-WASM and (where /usr/bin/python3 has torch)
// PyTorch, run back to back in one process tree, with the ratios.
//
// The peers are the fixed anchor scripts (`--anchors DIR`, default ../shared/anchors/step beside the repository):
// they are used as they are. The folder may be read-only, so it is copied to a temporary folder (kept between
// runs, keyed by the lock file, so that the TF.js install happens once) and `npm ci` installs the TF.js anchor's
// own pinned dependencies there. Each round runs every implementation in DPO and GANPO mode; with several
// rounds the implementations alternate, so that the machine's drift falls on all of them alike.
//
//   node bench/peers.mjs [--rounds N] [--steps N] [--warmup N] [--anchors DIR] [--no-torch] [--no-tfjs] [--json FILE]

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const rounds = Number(flag('--rounds', '1'));
const steps = flag('--steps', '5');
const warmup = flag('--warmup', '2');
const anchors = resolve(flag('--anchors', process.env.GANPO_ANCHORS ?? join(root, '..', 'shared', 'anchors', 'step')));
const jsonOut = flag('--json', null);

function fail(msg) {
  console.error(`bench:peers: ${msg}`);
  process.exit(1);
}

if (!existsSync(join(anchors, 'tfjs', 'bench.mjs'))) fail(`no anchor scripts at ${anchors} (pass --anchors DIR, the folder holding tfjs/ and torch/)`);
const cli = join(root, 'packages', 'cli', 'bin', 'ganpo.js');
if (!existsSync(join(root, 'packages', 'cli', 'dist'))) fail('the CLI is not built: run `npx turbo run build` first (npm run bench:peers does)');

/** A writable copy of the anchors, reused while their TF.js lock file is unchanged. */
function writableAnchors() {
  const lock = readFileSync(join(anchors, 'tfjs', 'package-lock.json'));
  const key = createHash('sha256').update(lock).update(readFileSync(join(anchors, 'tfjs', 'bench.mjs'))).update(readFileSync(join(anchors, 'torch', 'bench.py'))).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `ganpo-anchors-${key}`);
  if (!existsSync(join(dir, 'tfjs', 'node_modules', '@tensorflow', 'tfjs-backend-wasm'))) {
    mkdirSync(dir, { recursive: true });
    for (const sub of ['tfjs', 'torch']) {
      cpSync(join(anchors, sub), join(dir, sub), { recursive: true, filter: (src) => !src.includes('node_modules') });
    }
    console.error(`bench:peers: installing the TF.js anchor's dependencies in ${dir}/tfjs (npm ci)`);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: join(dir, 'tfjs'), stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return dir;
}

const hasTorch = () => !args.includes('--no-torch') && spawnSync('/usr/bin/python3', ['-c', 'import torch'], { cwd: tmpdir(), stdio: 'ignore' }).status === 0;

function run(cmd, argv, cwd) {
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) fail(`${cmd} ${argv.join(' ')} failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
  return r.stdout;
}

/** median_ms of the anchors' `RESULT … median_ms=…` line. */
function anchorMedian(out, what) {
  const m = /RESULT .*median_ms=([\d.]+)/.exec(out);
  if (!m) fail(`${what}: no RESULT line in its output:\n${out}`);
  return Number(m[1]);
}

const peers = [
  {
    name: 'ganpo (fast)',
    run: () => {
      const r = JSON.parse(run(process.execPath, [cli, 'bench', '--preset', 'reference', '--modes', 'dpo,dpo+ganpo', '--steps', steps, '--warmup', warmup, '--json'], root));
      const of = (n) => r.rows.find((row) => row.name === n).msPerStep;
      return { dpo: of('dpo'), ganpo: of('dpo+ganpo'), phases: r.rows.find((row) => row.name === 'dpo+ganpo').phases };
    },
  },
];
const copy = args.includes('--no-tfjs') && !hasTorch() ? null : writableAnchors();
if (!args.includes('--no-tfjs')) {
  const cwd = join(copy, 'tfjs');
  const one = (mode) => anchorMedian(run(process.execPath, ['bench.mjs', 'wasm', mode, '--steps', steps, '--warmup', warmup], cwd), `tfjs ${mode}`);
  peers.push({ name: 'TF.js-WASM 4.22', run: () => ({ dpo: one('dpo'), ganpo: one('ganpo') }) });
}
if (hasTorch()) {
  const cwd = join(copy, 'torch');
  const one = (mode) => anchorMedian(run('/usr/bin/python3', ['bench.py', mode, '--steps', steps, '--warmup', warmup], cwd), `torch ${mode}`);
  peers.push({ name: 'PyTorch + OpenBLAS', run: () => ({ dpo: one('dpo'), ganpo: one('ganpo') }) });
} else {
  console.error('bench:peers: /usr/bin/python3 has no torch (apt-get install python3-torch libopenblas0-pthread): PyTorch skipped');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const results = Object.fromEntries(peers.map((p) => [p.name, { dpo: [], ganpo: [] }]));
for (let k = 0; k < rounds; k++) {
  for (const p of k % 2 ? [...peers].reverse() : peers) {
    const r = p.run();
    results[p.name].dpo.push(r.dpo);
    results[p.name].ganpo.push(r.ganpo);
    if (r.phases) results[p.name].phases = r.phases;
    console.error(`round ${k + 1}/${rounds}: ${p.name}: DPO ${r.dpo.toFixed(0)} ms, GANPO ${r.ganpo.toFixed(0)} ms (load ${loadavg()[0].toFixed(2)})`);
  }
}

const ours = peers[0].name;
const rows = peers.map((p) => {
  const dpo = median(results[p.name].dpo);
  const ganpo = median(results[p.name].ganpo);
  return { name: p.name, dpo, ganpo, ganpoOverDpo: ganpo / dpo, ganpoVsOurs: ganpo / median(results[ours].ganpo), dpoVsOurs: dpo / median(results[ours].dpo) };
});
const pad = (s, n) => String(s).padStart(n);
console.log(`reference GANPO step, ${cpus().length} × ${cpus()[0]?.model}; median over ${rounds} round(s) of each implementation's median of ${steps} steps after ${warmup} warm-up`);
console.log('');
console.log(`${'implementation'.padEnd(22)}${pad('DPO ms', 10)}${pad('GANPO ms', 10)}${pad('GANPO/DPO', 11)}${pad('its GANPO / ours', 18)}`);
for (const r of rows) {
  console.log(`${r.name.padEnd(22)}${pad(r.dpo.toFixed(0), 10)}${pad(r.ganpo.toFixed(0), 10)}${pad(r.ganpoOverDpo.toFixed(2), 11)}${pad(`${r.ganpoVsOurs.toFixed(2)}×`, 18)}`);
}
const phases = results[ours].phases;
if (phases) console.log(`\nganpo's GANPO step by phase (ms, last round): ${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ rounds, steps: Number(steps), warmup: Number(warmup), results, rows }, null, 2)}\n`);
