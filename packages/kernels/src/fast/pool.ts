import { type HostedWorker, workerHost } from '../host/workerHost.js';
import { MAX_THREADS, type Runtime, scratchOf } from './runtime.js';

/*
 * Worker threads over the runtime's shared WebAssembly.Memory.
 *
 * The engine is synchronous, so a kernel call works like this: the main thread writes the kernel (an
 * export index), its i32 arguments and the chunking of its output range into the control block at
 * address 0, offers the call to each ready worker (CLAIM = call id, then SEQ = call id and
 * Atomics.notify), and starts computing chunks itself. Every thread takes the next chunk with
 * Atomics.add on a shared counter until none is left, so a worker that the OS schedules late (these
 * cores are shared) simply does less, and the main thread never waits for a worker that has not started:
 * when it runs out of chunks it withdraws the offer with a compare-exchange on CLAIM, and only if the
 * worker had already claimed the call does it wait (Atomics.wait) for that worker's DONE. Chunk
 * boundaries depend only on the problem, and each output element is computed the same way in any chunk,
 * so results are bit-for-bit the same whichever thread computes what.
 *
 * Workers are started by the platform's worker host (../host: worker_threads in Node, Web Workers in a
 * browser) from a source string, with the compiled WebAssembly.Module and the memory as `workerData`:
 * no file path is resolved, so the same code works from src (vitest), tsup's dist and a browser bundle.
 * shutdownPool() ends them.
 * A worker is offered work only once it has published READY, so while workers boot the main thread
 * simply works alone.
 */

/** Int32 words per slot; slot t (1..) belongs to worker thread t; slot 0 holds the current call. */
export const SLOT = 32;
// per-worker words
const SEQ = 0;
const CLAIM = 1;
const DONE = 2;
const READY = 3;
const ERR = 4;
const STOP = 5;
// the current call, in slot 0
const NEXT = 0;
const CHUNKS = 1;
const CHUNK = 2;
const TOTAL = 3;
const FN = 4;
const NARGS = 5;
const ARGS = 8;
const MAX_ARGS = 20;

/** The exports the pool runs, by index. Each takes its arguments, then (scratch, lo, hi). */
export const KERNELS = [
  'gemm_rows', 'softmax', 'log_softmax', 'cross_entropy', 'layer_norm', 'unary', 'binary', 'binary_flat',
] as const;
export type KernelName = (typeof KERNELS)[number];

const WORKER_SOURCE = `
const { memory, module, slot, scratch } = workerData;
const x = new WebAssembly.Instance(module, { env: { memory, log: Math.log } }).exports;
const fns = [${KERNELS.map((k) => `x.${k}`).join(', ')}];
const ctrl = new Int32Array(memory.buffer, 0, ${MAX_THREADS * SLOT});
const base = slot * ${SLOT};
const args = new Array(${MAX_ARGS + 3}).fill(0);
let seen = Atomics.load(ctrl, base + ${SEQ});
Atomics.store(ctrl, base + ${READY}, 1);
for (;;) {
  Atomics.wait(ctrl, base + ${SEQ}, seen);
  const id = Atomics.load(ctrl, base + ${SEQ});
  if (id === seen) continue;
  seen = id;
  if (Atomics.load(ctrl, base + ${STOP}) !== 0) break;
  // take part only if the main thread has not withdrawn the offer
  if (Atomics.compareExchange(ctrl, base + ${CLAIM}, id, -id) !== id) continue;
  let err = 0;
  try {
    const fn = fns[ctrl[${FN}]];
    const nargs = ctrl[${NARGS}];
    for (let i = 0; i < nargs; i++) args[i] = ctrl[${ARGS} + i];
    args[nargs] = scratch;
    const chunks = ctrl[${CHUNKS}], chunk = ctrl[${CHUNK}], total = ctrl[${TOTAL}];
    for (;;) {
      const c = Atomics.add(ctrl, ${NEXT}, 1);
      if (c >= chunks) break;
      args[nargs + 1] = c * chunk;
      args[nargs + 2] = Math.min(total, (c + 1) * chunk);
      fn(...args);
    }
  } catch (e) {
    err = 1;
  }
  Atomics.store(ctrl, base + ${ERR}, err);
  Atomics.store(ctrl, base + ${DONE}, id);
  Atomics.notify(ctrl, base + ${DONE});
}
`;

interface PoolWorker {
  worker: HostedWorker;
  slot: number;
  dead: boolean;
}

/** Threads (main included) the pool is sized to: the worker host's count (os.availableParallelism() in Node), capped at MAX_THREADS. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(MAX_THREADS, workerHost().defaultThreads()));
}

/** Set by setFastThreads; until then the host's default, read on first use (the entry point installs the host). */
let requestedThreads: number | null = null;
/**
 * The host's default, asked once per host: every kernel call reads the thread count, and
 * os.availableParallelism() is a system call (measured 0.4 % of the default training run).
 */
let cachedDefault: { host: object; threads: number } | null = null;
const threadCount = (): number => {
  if (requestedThreads !== null) return requestedThreads;
  const host = workerHost();
  if (cachedDefault?.host !== host) cachedDefault = { host, threads: defaultThreads() };
  return cachedDefault.threads;
};
let workers: PoolWorker[] = [];
let poolRuntime: Runtime | null = null;
let callId = 0;
const stats = { parallel: 0, single: 0, workerChunks: 0, mainChunks: 0, backoffs: 0, mainMs: 0, waitMs: 0 };
/**
 * Back-off for an oversubscribed machine: when the main thread had to wait for a worker (descheduled in
 * the middle of a chunk) longer than half its own compute time, the next `backoff` calls run on the main
 * thread alone; the window doubles while that keeps happening (up to 256 calls) and resets on a good call.
 */
let backoff = 0;
let skipUntil = 0;
let calls = 0;
/** Slots whose worker has not exited yet (a slot is reused only after its old worker is gone). */
const liveSlots = new Set<number>();

/**
 * Kernel calls that were offered to the pool and calls run on the main thread alone, and how many
 * chunks of the offered calls the workers and the main thread computed, since the process started.
 */
export const poolStats = (): {
  parallel: number;
  single: number;
  workerChunks: number;
  mainChunks: number;
  backoffs: number;
  mainMs: number;
  waitMs: number;
} => ({ ...stats });

/** Sets the thread count (main thread included) for later calls; 1 disables the pool. Ends surplus workers. */
export function setFastThreads(n: number): void {
  const want = Math.max(1, Math.min(MAX_THREADS, Math.floor(n)));
  if (want < workers.length + 1) void shutdownPool();
  requestedThreads = want;
}

export const fastThreads = (): number => threadCount();

function ensurePool(rt: Runtime): void {
  if (poolRuntime !== rt) {
    void shutdownPool();
    poolRuntime = rt;
  }
  while (workers.length + 1 < threadCount()) {
    let slot = 1;
    while (slot < MAX_THREADS && liveSlots.has(slot)) slot++;
    if (slot >= MAX_THREADS) return;
    liveSlots.add(slot);
    const ctrl = rt.I32;
    for (let i = 0; i < SLOT; i++) ctrl[slot * SLOT + i] = 0;
    const entry: PoolWorker = { worker: { terminate: async () => 0 }, slot, dead: false };
    try {
      entry.worker = workerHost().spawn(WORKER_SOURCE, { memory: rt.memory, module: rt.module, slot, scratch: scratchOf(slot) }, () => {
        entry.dead = true;
        liveSlots.delete(slot);
      });
    } catch {
      // The platform cannot start workers here (see the host's singleThreadReason): work on one thread.
      liveSlots.delete(slot);
      requestedThreads = 1;
      return;
    }
    workers.push(entry);
  }
}

/**
 * Starts the pool now (it otherwise starts on the first large call) and resolves once every worker is
 * ready, with the number of threads (main included) that will share large calls. For benchmarks and
 * tests; the engine never needs to await it.
 */
export async function startPool(rt: Runtime, timeoutMs = 10_000): Promise<number> {
  if (threadCount() > 1) ensurePool(rt);
  const start = Date.now();
  while (readyWorkers(rt) < workers.filter((w) => !w.dead).length) {
    if (Date.now() - start > timeoutMs) break;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return readyWorkers(rt) + 1;
}

/** Ends every worker; a later call starts new ones. Resolves when they have exited. */
export async function shutdownPool(): Promise<void> {
  const ending = workers;
  workers = [];
  if (!poolRuntime) return;
  const ctrl = poolRuntime.I32;
  for (const w of ending) {
    const b = w.slot * SLOT;
    Atomics.store(ctrl, b + STOP, 1);
    Atomics.store(ctrl, b + READY, 0);
    Atomics.add(ctrl, b + SEQ, 1);
    Atomics.notify(ctrl, b + SEQ);
  }
  await Promise.all(ending.map((w) => w.worker.terminate().catch(() => 0)));
}

/** Workers started and waiting for work. */
export function readyWorkers(rt: Runtime): number {
  if (poolRuntime !== rt) return 0;
  const ctrl = rt.I32;
  let n = 0;
  for (const w of workers) if (!w.dead && Atomics.load(ctrl, w.slot * SLOT + READY) === 1) n++;
  return n;
}

/**
 * Runs the export `fn` over the output range [0, total): fn(...args, scratch, lo, hi) for consecutive
 * chunks [lo, hi). With `parallel` (and a pool of more than one thread) the chunks are shared between the
 * main thread and the ready workers, `chunksPerThread` of them per thread, each a multiple of `align`
 * (except the last); otherwise one call on the main thread covers everything. Blocks until all chunks are
 * done; throws if any thread failed.
 */
export function runSplit(
  rt: Runtime,
  fn: KernelName,
  args: readonly number[],
  total: number,
  opts: { parallel: boolean; align: number; chunksPerThread?: number; minChunk?: number },
): void {
  const run = rt.exports[fn] as unknown as (...a: number[]) => void;
  const scratch = scratchOf(0);
  let ready: PoolWorker[] = [];
  calls++;
  if (opts.parallel && threadCount() > 1 && total > opts.align && calls >= skipUntil) {
    ensurePool(rt);
    const ctrl = rt.I32;
    ready = workers.filter((w) => !w.dead && Atomics.load(ctrl, w.slot * SLOT + READY) === 1);
  }
  const threads = ready.length + 1;
  const align = opts.align;
  const chunk = Math.max(opts.minChunk ?? align, Math.ceil(total / (threads * (opts.chunksPerThread ?? 4)) / align) * align);
  const chunks = Math.ceil(total / chunk);
  if (threads === 1 || chunks <= 1) {
    stats.single++;
    run(...args, scratch, 0, total);
    return;
  }
  stats.parallel++;
  if (args.length > MAX_ARGS) throw new Error(`fast backend: ${fn} has more than ${MAX_ARGS} arguments`);
  const ctrl = rt.I32;
  const id = (callId = (callId % 0x3fffffff) + 1);
  for (let i = 0; i < args.length; i++) ctrl[ARGS + i] = args[i] | 0;
  ctrl[NARGS] = args.length;
  ctrl[FN] = KERNELS.indexOf(fn);
  ctrl[CHUNKS] = chunks;
  ctrl[CHUNK] = chunk;
  ctrl[TOTAL] = total;
  Atomics.store(ctrl, NEXT, 0);
  for (const w of ready) {
    const b = w.slot * SLOT;
    Atomics.store(ctrl, b + CLAIM, id);
    Atomics.store(ctrl, b + SEQ, id);
    Atomics.notify(ctrl, b + SEQ);
  }
  let mainError: unknown = null;
  let mine = 0;
  const t0 = performance.now();
  try {
    for (;;) {
      const c = Atomics.add(ctrl, NEXT, 1);
      if (c >= chunks) break;
      mine++;
      run(...args, scratch, c * chunk, Math.min(total, (c + 1) * chunk));
    }
  } catch (e) {
    mainError = e;
    Atomics.store(ctrl, NEXT, chunks); // let the workers stop early
  }
  stats.mainChunks += mine;
  stats.workerChunks += chunks - mine;
  const t1 = performance.now();
  let failed = false;
  for (const w of ready) {
    const b = w.slot * SLOT;
    // withdraw the offer; if the worker had already claimed the call, wait for it to finish
    if (Atomics.compareExchange(ctrl, b + CLAIM, id, 0) === id) continue;
    for (;;) {
      const d = Atomics.load(ctrl, b + DONE);
      if (d === id) break;
      Atomics.wait(ctrl, b + DONE, d, 100);
    }
    if (Atomics.load(ctrl, b + ERR) !== 0) failed = true;
  }
  const waited = performance.now() - t1;
  stats.mainMs += t1 - t0;
  stats.waitMs += waited;
  if (waited > 0.05 && waited > 0.5 * (t1 - t0)) {
    backoff = Math.min(256, Math.max(4, backoff * 2));
    skipUntil = calls + backoff;
    stats.backoffs++;
  } else {
    backoff = 0;
  }
  if (mainError) throw mainError;
  if (failed) throw new Error(`fast backend: a worker failed in ${fn}`);
}
