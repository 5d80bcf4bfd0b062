// Side-by-side kernel benchmark: the reference `cpu` backend, the `fast` WebAssembly backend, gpu.js
// (`gpujs` in webasm and cpu modes, when registered) and TensorFlow.js's WASM backend.
//
//   npm run bench                       (from the repo root: builds, then runs this)
//   npm run -w bench bench -- --quick   (fewer shapes, shorter timing budgets)
//   npm run -w bench bench -- --json out.json
//   npm run -w bench bench -- --threads 1   (the fast backend on the main thread alone)
//   npm run -w bench bench -- --only matmul (the cases whose label contains the text)
//   npm run -w bench bench -- --runs 3      (repeat the fast and tfjs cells 3 times, keep each one's best:
//                                            on shared cores this finds the quiet moments; the slow
//                                            backends are timed once)
//
// It imports the built @ganpo/kernels (packages/kernels/dist). Every cell is the best (minimum) time over
// a time budget after warm-up calls; slow backends (the reference, gpu.js) get a smaller budget and fewer
// calls. Matmul cells are GFLOP/s (2·m·k·n per product), other cells are ms per call. The last column is
// tfjs time / fast time: above 1 the fast backend is ahead.
//
// What is timed, per backend:
// - ganpo backends: the Backend call, Float32Array in, fresh Float32Array out (including the copies into
//   and out of WebAssembly memory, and the page faults of the fresh output).
// - tfjs: the op on input tensors already resident in the WASM heap, plus dataSync() of the result (the
//   copy out) and dispose. The copy in is not charged to tfjs, so the ratio is conservative for `fast`.
//   Kernels tfjs has no fused op for (layerNorm, GELU) are composed from tfjs ops inside tf.tidy.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import * as K from '@ganpo/kernels';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const jsonAt = argv.indexOf('--json');
const JSON_OUT = jsonAt >= 0 ? argv[jsonAt + 1] : null;
const runsAt = argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Math.max(1, Number(argv[runsAt + 1]) || 1) : 1;
const threadsAt = argv.indexOf('--threads');
const THREADS = threadsAt >= 0 ? Number(argv[threadsAt + 1]) : null;
const onlyAt = argv.indexOf('--only');
const ONLY = onlyAt >= 0 ? argv[onlyAt + 1] : null;

// ---------------------------------------------------------------------------------------------- setup
const cpuModel = (() => {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? os.cpus()[0]?.model ?? '?';
  } catch {
    return os.cpus()[0]?.model ?? '?';
  }
})();

// tfjs-wasm: ask for 2 threads. Under Node the multi-threaded WASM binary is not used (it needs a
// cross-origin-isolated browser page), so tfjs runs single-threaded whatever is asked: getThreadsCount() says so.
tfwasm.setThreadsCount(2);
await tf.setBackend('wasm');
await tf.ready();
const tfThreads = tfwasm.getThreadsCount();

if (THREADS !== null) K.setFastThreads(THREADS);
const fastThreads = await K.startFastPool();

/** The backends to compare: cpu, fast, and gpu.js modes when `gpujs` is registered. */
const backends = [
  { id: 'cpu', label: 'cpu (ref)', slow: true, backend: K.cpuBackend },
  { id: 'fast', label: 'fast', slow: false, backend: K.fastBackend },
];
const registered = K.registeredBackends();
if (registered.includes('gpujs')) {
  for (const mode of ['webasm', 'cpu']) {
    try {
      const b = K.setBackend('gpujs', { mode });
      backends.push({ id: `gpujs-${mode}`, label: `gpujs-${mode}`, slow: true, backend: b });
    } catch (e) {
      console.log(`(gpujs mode ${mode} unavailable: ${e instanceof Error ? e.message : e})`);
    }
  }
}
// Any other backend another package registers shows up too.
for (const name of registered) {
  if (['cpu', 'fast', 'gpujs'].includes(name)) continue;
  try {
    backends.push({ id: name, label: name, slow: true, backend: K.setBackend(name) });
  } catch {}
}
K.setBackend('fast');

// ------------------------------------------------------------------------------------------- helpers
function data(n, seed, scale = 1) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

/** Best time in ms of fn over a budget (after warm-up); at least minCalls measured calls. */
function bestMs(fn, { warmup, budgetMs, minCalls, maxCalls }) {
  for (let i = 0; i < warmup; i++) fn();
  let best = Infinity;
  let calls = 0;
  const end = performance.now() + budgetMs;
  while (calls < minCalls || (performance.now() < end && calls < maxCalls)) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
    calls++;
  }
  return { ms: best, calls };
}

const FAST_BUDGET = { warmup: 3, budgetMs: QUICK ? 150 : 400, minCalls: 5, maxCalls: 400 };
const SLOW_BUDGET = { warmup: 1, budgetMs: QUICK ? 300 : 1200, minCalls: 1, maxCalls: 20 };

// --------------------------------------------------------------------------------------------- cases
/** A benchmark case: how to run it on a ganpo backend and on tfjs, and how to report it. */
const cases = [];

function matmulCase(label, { batch = 1, m, k, n, transA = false, transB = false }) {
  const spec = { batch, m, k, n, transA, transB, aBatchStride: m * k, bBatchStride: k * n };
  const a = data(batch * m * k, m * 7 + k);
  const b = data(batch * k * n, n * 13 + k);
  const flops = 2 * batch * m * k * n;
  let ta, tb;
  cases.push({
    group: 'matmul',
    label,
    unit: 'GFLOP/s',
    flops,
    run: (be) => be.matmul(a, b, spec),
    tfSetup: () => {
      const aShape = transA ? [k, m] : [m, k];
      const bShape = transB ? [n, k] : [k, n];
      ta = batch === 1 ? tf.tensor(a, aShape) : tf.tensor(a, [batch, ...aShape]);
      tb = batch === 1 ? tf.tensor(b, bShape) : tf.tensor(b, [batch, ...bShape]);
    },
    tfRun: () => {
      const c = tf.matMul(ta, tb, transA, transB);
      c.dataSync();
      c.dispose();
    },
    tfTeardown: () => {
      ta.dispose();
      tb.dispose();
    },
  });
}

const LAYOUTS = [
  ['NN', false, false],
  ['NT', false, true],
  ['TN', true, false],
];
for (const [name, transA, transB] of LAYOUTS) matmulCase(`matmul 512×512×512 ${name}`, { m: 512, k: 512, n: 512, transA, transB });
const MODEL_SHAPES = QUICK ? [[2048, 128, 512]] : [[2048, 128, 512], [2048, 512, 128], [2048, 128, 260]];
for (const [m, k, n] of MODEL_SHAPES) {
  for (const [name, transA, transB] of LAYOUTS) matmulCase(`matmul ${m}×${k}×${n} ${name}`, { m, k, n, transA, transB });
}
// attention-shaped batched products: scores Q·Kᵀ and weighted values P·V
matmulCase('bmm 16×(128×32×128) NT', { batch: 16, m: 128, k: 32, n: 128, transB: true });
matmulCase('bmm 16×(128×128×32) NN', { batch: 16, m: 128, k: 128, n: 32 });

function rowsCase(label, rows, cols, ganpo, tfOp) {
  const x = data(rows * cols, rows + cols, 4);
  let tx;
  cases.push({
    group: 'rows',
    label: `${label} [${rows}, ${cols}]`,
    unit: 'ms',
    run: (be) => ganpo(be, x, rows, cols),
    tfSetup: () => {
      tx = tf.tensor2d(x, [rows, cols]);
    },
    tfRun: () => {
      const y = tf.tidy(() => tfOp(tx, rows, cols));
      for (const t of Array.isArray(y) ? y : [y]) {
        t.dataSync();
        t.dispose();
      }
    },
    tfTeardown: () => tx.dispose(),
  });
}

rowsCase('softmax', 2048, 260, (be, x, r, c) => be.softmax(x, r, c), (x) => tf.softmax(x));
rowsCase('logSoftmax', 2048, 260, (be, x, r, c) => be.logSoftmax(x, r, c), (x) => tf.logSoftmax(x));
{
  const targets = Int32Array.from({ length: 2048 }, (_, i) => (i * 37) % 260);
  const oneHot = tf.oneHot(tf.tensor1d(targets, 'int32'), 260);
  rowsCase(
    'crossEntropy',
    2048,
    260,
    (be, x, r, c) => be.crossEntropy(x, r, c, targets),
    (x) => tf.losses.softmaxCrossEntropy(oneHot, x, undefined, 0, tf.Reduction.NONE),
  );
}
{
  const gamma = data(512, 5);
  const beta = data(512, 6);
  const tg = tf.tensor1d(gamma);
  const tb = tf.tensor1d(beta);
  rowsCase(
    'layerNorm (composed in tfjs)',
    2048,
    512,
    (be, x, r, c) => be.layerNorm(x, r, c, gamma, beta, 1e-5),
    (x) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), tg), tb);
    },
  );
}
rowsCase('geluTanh (composed in tfjs)', 2048, 512, (be, x) => be.unary('geluTanh', x), (x) => {
  const u = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(u)));
});
rowsCase('exp', 2048, 512, (be, x) => be.unary('exp', x), (x) => tf.exp(x));
{
  const bias = data(512, 9);
  const tbias = tf.tensor1d(bias);
  rowsCase('add [r,c] + [c] (row broadcast)', 2048, 512, (be, x, r, c) => be.binary('add', x, [r, c], bias, [c], [r, c]), (x) => tf.add(x, tbias));
  const y = data(2048 * 512, 10);
  const ty = tf.tensor2d(y, [2048, 512]);
  rowsCase('add [r,c] + [r,c] (same shape)', 2048, 512, (be, x, r, c) => be.binary('add', x, [r, c], y, [r, c], [r, c]), (x) => tf.add(x, ty));
}

if (ONLY) cases.splice(0, cases.length, ...cases.filter((c) => c.label.includes(ONLY)));

// ------------------------------------------------------------------------------------------------ run
const results = cases.map((c) => ({ label: c.label, unit: c.unit, cells: {} }));
const started = performance.now();
/** Keeps the faster of two measurements of a cell (an error only if there is nothing else). */
const keepBest = (row, id, cell) => {
  const old = row.cells[id];
  if (!old || old.error || (!cell.error && cell.ms < old.ms)) row.cells[id] = cell;
};
for (let run = 0; run < RUNS; run++) {
  cases.forEach((c, i) => {
    const row = results[i];
    for (const { id, slow, backend } of backends) {
      if (slow && run > 0) continue;
      try {
        keepBest(row, id, bestMs(() => c.run(backend), slow ? SLOW_BUDGET : FAST_BUDGET));
      } catch (e) {
        keepBest(row, id, { error: e instanceof Error ? e.message : String(e) });
      }
    }
    c.tfSetup();
    keepBest(row, 'tfjs', bestMs(c.tfRun, FAST_BUDGET));
    c.tfTeardown();
    process.stderr.write('.');
  });
}
process.stderr.write('\n');

// ----------------------------------------------------------------------------------------------- report
const columns = [...backends.map((b) => ({ id: b.id, label: b.label })), { id: 'tfjs', label: 'tfjs-wasm' }];
const cellText = (row, id) => {
  const cell = row.cells[id];
  if (!cell) return '-';
  if (cell.error) return 'error';
  const c = cases.find((x) => x.label === row.label);
  return row.unit === 'GFLOP/s' ? (c.flops / cell.ms / 1e6).toFixed(2) : cell.ms.toFixed(3);
};
const header = ['kernel', 'unit', ...columns.map((c) => c.label), 'fast/tfjs'];
const lines = results.map((row) => {
  const f = row.cells.fast;
  const t = row.cells.tfjs;
  const ratio = f && t && !f.error && !t.error ? (t.ms / f.ms).toFixed(2) + '×' : '-';
  return [row.label, row.unit, ...columns.map((c) => cellText(row, c.id)), ratio];
});
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const fmt = (cells) => '| ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';

console.log(`machine: ${cpuModel}, ${os.availableParallelism()} cores (os.availableParallelism), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`);
console.log(`fast: ${K.fastBackend.describe()} (pool ready: ${fastThreads} thread(s))`);
console.log(`tfjs: @tensorflow/tfjs-core ${tf.version_core} + tfjs-backend-wasm, setThreadsCount(2) -> getThreadsCount() = ${tfThreads} (no multi-threaded WASM under Node)`);
console.log(`gpujs: ${registered.includes('gpujs') ? 'registered (columns gpujs-webasm, gpujs-cpu)' : 'not registered'}`);
console.log(`cells: matmul in GFLOP/s (higher is better), others in ms per call (lower is better); best of the timed calls${RUNS > 1 ? ` over ${RUNS} runs (fast, tfjs)` : ''}`);
console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other jobs on these cores slow every column)`);
console.log('');
console.log(fmt(header));
console.log('|' + widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
for (const l of lines) console.log(fmt(l));
console.log('');
const ps = K.fastPoolStats();
console.log(
  `fast pool: ${ps.parallel} calls shared (chunks: main ${ps.mainChunks}, workers ${ps.workerChunks}), ${ps.single} on the main thread alone, ${ps.backoffs} back-offs (a worker descheduled mid-call)`,
);
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
for (const row of results) {
  for (const [id, cell] of Object.entries(row.cells)) if (cell.error) console.log(`error: ${row.label} on ${id}: ${cell.error}`);
}

if (JSON_OUT) {
  writeFileSync(
    JSON_OUT,
    JSON.stringify({ machine: { cpuModel, cores: os.availableParallelism(), node: process.version }, runs: RUNS, tfThreads, fastThreads, results }, null, 2),
  );
}
await K.shutdownFastBackend();
