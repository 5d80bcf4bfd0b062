import type { MatmulSpec } from '../types.js';
import { runSplit } from './pool.js';
import { getRuntime, KC_BLOCK, MC_BLOCK } from './runtime.js';

/**
 * Multiply-adds (m·n·k summed over the batch) below which a matmul stays on the main thread: waking a
 * worker and waiting for it costs ~15–30 µs here, the work of ~0.25 M multiply-adds. Measured with
 * bench/threshold.mjs on the 2-core machine: two threads win from ~0.5 M (e.g. 64×64×128) upward.
 */
let parallelMinMacs = 1 << 18;

/** For experiments, tests and the benchmark: sets the single-thread threshold (multiply-adds); returns the old one. */
export function setParallelThreshold(macs: number): number {
  const old = parallelMinMacs;
  parallelMinMacs = Math.max(0, macs);
  return old;
}

/** Bytes of wasm memory a float32 matmul needs besides the per-thread scratch. */
export function matmulBytes(aLen: number, bLen: number, s: MatmulSpec): number {
  const panel = Math.ceil(s.n / 8) * 8 * s.k * 4;
  const packs = s.bBatchStride === 0 || s.batch === 1 ? 1 : s.batch;
  return (aLen + bLen + s.batch * s.m * s.n) * 4 + packs * panel + 4 * 64;
}

/**
 * C = op(A)·op(B) on the WebAssembly kernels: A and B are read in shared memory (copied in unless resident), each distinct B is
 * packed once into 8-column panels, and the rows of C are split over the thread pool when the product
 * is large enough.
 */
export function matmul32(a: Float32Array, b: Float32Array, s: MatmulSpec): Float32Array {
  const { batch, m, k, n } = s;
  const total = batch * m * n;
  if (total === 0) return new Float32Array(0);
  if (k === 0) return new Float32Array(total);
  const rt = getRuntime();
  rt.reset();
  const x = rt.exports;
  const A = rt.put(a);
  const B = rt.put(b);
  const panel = Math.ceil(n / 8) * 8 * k * 4;
  const shared = s.bBatchStride === 0 || batch === 1;
  const BP = rt.alloc((shared ? 1 : batch) * panel);
  const C = rt.output(total * 4);
  const tb = s.transB ? 1 : 0;
  if (shared) x.pack_b(B, k, n, tb, BP);
  else for (let p = 0; p < batch; p++) x.pack_b(B + p * s.bBatchStride * 4, k, n, tb, BP + p * panel);
  // A element (i, p) at row·rs + col·cs bytes: [m, k] row-major, or [k, m] when transposed.
  const rs = s.transA ? 4 : k * 4;
  const cs = s.transA ? m * 4 : 4;
  const args = [A, s.aBatchStride * 4, rs, cs, BP, shared ? 0 : panel, C, m, n, k, KC_BLOCK, MC_BLOCK];
  // rows of C (over the batch) in chunks of whole micro-kernel rows (4), at least 16 rows each
  runSplit(rt, 'gemm_rows', args, batch * m, { parallel: batch * m * n * k >= parallelMinMacs, align: 4, minChunk: 16 });
  return rt.take(C, total);
}
