// Where splitting work over the fast backend's worker pool starts to pay: main-thread-only vs pool time
// for matmuls and for the row / element-wise kernels at growing sizes. It sets the defaults of
// setFastMatmulParallelThreshold (multiply-adds) and setFastElementwiseParallelThreshold (elements).
//
//   node bench/threshold.mjs          (after building @ganpo/kernels)
import {
  fastBackend as fast,
  fastPoolStats,
  setFastElementwiseParallelThreshold,
  setFastMatmulParallelThreshold,
  shutdownFastBackend,
  startFastPool,
} from '@ganpo/kernels';

const threads = await startFastPool();
const rnd = (n) => Float32Array.from({ length: n }, () => Math.random() - 0.5);

/** Best time (ms) over ~budget ms, after warm-up. */
function best(fn, budgetMs = 120) {
  for (let i = 0; i < 3; i++) fn();
  let b = Infinity;
  const end = performance.now() + budgetMs;
  for (let n = 0; performance.now() < end || n < 5; n++) {
    const t0 = performance.now();
    fn();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

function compare(label, size, fn, setThreshold) {
  setThreshold(Number.MAX_SAFE_INTEGER);
  const t1 = best(fn);
  setThreshold(0);
  const t2 = best(fn);
  console.log(`${label.padEnd(26)} ${String(size).padStart(10)} ${(t1 * 1000).toFixed(1).padStart(10)} ${(t2 * 1000).toFixed(1).padStart(10)} ${(t1 / t2).toFixed(2).padStart(8)}`);
}

console.log(`threads: ${threads} (main + workers)`);
console.log(`${'kernel'.padEnd(26)} ${'size'.padStart(10)} ${'1 thr µs'.padStart(10)} ${'pool µs'.padStart(10)} ${'speedup'.padStart(8)}`);
for (const [m, k, n] of [[16, 16, 16], [32, 32, 32], [32, 64, 64], [64, 64, 64], [64, 64, 128], [64, 128, 128], [128, 128, 128], [128, 128, 256], [256, 256, 256], [512, 512, 8]]) {
  const a = rnd(m * k);
  const b = rnd(k * n);
  const spec = { batch: 1, m, k, n, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 };
  compare(`matmul ${m}×${k}×${n}`, m * k * n, () => fast.matmul(a, b, spec), setFastMatmulParallelThreshold);
}
for (const rows of [16, 64, 128, 256, 1024]) {
  const x = rnd(rows * 256);
  compare(`softmax [${rows}, 256]`, rows * 256, () => fast.softmax(x, rows, 256), setFastElementwiseParallelThreshold);
}
for (const n of [4096, 16384, 65536, 262144]) {
  const x = rnd(n);
  compare(`exp [${n}]`, n, () => fast.unary('exp', x), setFastElementwiseParallelThreshold);
  compare(`add [${n}] + [${n}]`, n, () => fast.binary('add', x, [n], x, [n], [n]), setFastElementwiseParallelThreshold);
}
const s = fastPoolStats();
console.log(`pool: ${s.parallel} calls offered, chunks main ${s.mainChunks} / workers ${s.workerChunks}, back-offs ${s.backoffs}`);
await shutdownFastBackend();
