import { readEnv } from '../env.js';
import type { Buf } from '../types.js';
import { KERNELS_WASM_BASE64 } from './kernels.wasm.generated.js';

// The few WebAssembly JS-API types used here, declared locally: the repo compiles with lib ES2022 only
// (no DOM lib), whose typings have no WebAssembly namespace.
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(deltaPages: number): number;
}
/** A compiled module (opaque; structured-clonable to workers). */
export type WasmModule = object;
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The exports of wasm/kernels.wat. Addresses and strides are bytes into the shared memory. */
export interface KernelExports {
  init(): void;
  pack_b(src: number, k: number, n: number, trans: number, dst: number): void;
  // The pool's exports: arguments, then (scratch, lo, hi) — see pool.ts.
  gemm_rows(
    a: number, aBatchBytes: number, rowBytes: number, colBytes: number, bPacked: number, bPackedBatchBytes: number,
    c: number, m: number, n: number, k: number, kcBlock: number, mcBlock: number, scratch: number, g0: number, g1: number,
  ): void;
  unary(op: number, src: number, dst: number, scratch: number, lo: number, hi: number): void;
  binary(
    op: number, a: number, aRowBytes: number, aScalar: number, b: number, bRowBytes: number, bScalar: number,
    out: number, cols: number, scratch: number, lo: number, hi: number,
  ): void;
  binary_flat(op: number, a: number, aScalar: number, b: number, bScalar: number, out: number, scratch: number, lo: number, hi: number): void;
  softmax(x: number, out: number, cols: number, scratch: number, lo: number, hi: number): void;
  log_softmax(x: number, out: number, cols: number, scratch: number, lo: number, hi: number): void;
  cross_entropy(x: number, targets: number, out: number, cols: number, scratch: number, lo: number, hi: number): void;
  layer_norm(
    x: number, y: number, mean: number, rstd: number, cols: number, gamma: number, beta: number, epsAt: number,
    scratch: number, lo: number, hi: number,
  ): void;
}

/** Matmul cache blocking: KC columns of A / rows of B per pass, MC rows of A per packed block. */
export const KC_BLOCK = 256;
export const MC_BLOCK = 128;
/** Threads the control block has room for (the main thread is slot 0). */
export const MAX_THREADS = 16;

const PAGE = 65536;
/** 2 GiB: the most the shared memory may grow to (also the limit of i32 byte addresses we treat as unsigned). */
export const MAX_PAGES = 32768;
/** [0, CTRL_BYTES): the thread pool's control block (Int32 slots, [0, 2048)) and, at 3072, the constant
 *  table of the element-wise kernels (written by the `init` export). */
export const CTRL_BYTES = 4096;
/** Per-thread scratch: the packed A block, then the 128-byte edge tile, rounded up. */
export const SCRATCH_BYTES = align(KC_BLOCK * MC_BLOCK * 4 + 256, 4096);
/** Blocks (per-call temporaries and resident outputs) are allocated from here up. */
export const ARENA_BASE = CTRL_BYTES + MAX_THREADS * SCRATCH_BYTES;

export function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

export const scratchOf = (thread: number): number => CTRL_BYTES + thread * SCRATCH_BYTES;

function decodeBase64(s: string): Uint8Array {
  if (typeof Buffer !== 'undefined') return new Uint8Array(Buffer.from(s, 'base64'));
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Imports every instance (main thread or worker) gets besides the memory. */
export const wasmImports = (memory: WasmMemory): object => ({ env: { memory, log: Math.log } });

/**
 * Bytes of kernel outputs that may stay resident in WebAssembly memory at once (see {@link Runtime.output});
 * beyond it outputs are copied out as before. Resident buffers are freed only when the garbage collector
 * has reclaimed their views (FinalizationRegistry), which happens between synchronous steps, so this bounds
 * the extra memory one training step can hold.
 */
let residentBudget = 1 << 30;
/** Whether the budget was set by setResidentBudget (then the environment is not read). */
let budgetSet = false;

/** Sets the resident-output budget in bytes (0: every output is copied out); returns the old one. */
export function setResidentBudget(bytes: number): number {
  const old = residentBudget;
  residentBudget = Math.max(0, bytes);
  budgetSet = true;
  return old;
}

/**
 * The budget from `GANPO_FAST_RESIDENT_MB` (MiB; 0 copies every output out, the lowest peak memory), read when
 * the runtime starts: how a CLI user trades step time for peak memory (see the kernels README for measurements).
 */
function budgetFromEnv(): void {
  const raw = readEnv('GANPO_FAST_RESIDENT_MB');
  if (budgetSet || raw === undefined || raw.trim() === '') return;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) {
    throw new Error(`GANPO_FAST_RESIDENT_MB: expected a number of MiB >= 0, got ${JSON.stringify(raw)}`);
  }
  residentBudget = Math.floor(mb * 1024 * 1024);
}

/**
 * Block size for a request: 64-byte aligned with at least 16 bytes of padding (the SIMD loops may read one
 * partial vector past the end), and above 4 KiB rounded up to a quarter of its power of two (at most 25 %
 * more), so that freed blocks are reused by later requests of about the same size without a general-purpose
 * allocator (a training run's shapes vary: evaluation, generation).
 */
export function blockSize(bytes: number): number {
  const b = align(Math.max(bytes, 0) + 16, 64);
  if (b <= 4096) return b;
  const quarter = 2 ** Math.floor(Math.log2(b)) / 4;
  return Math.ceil(b / quarter) * quarter;
}

/** A free block of up to this many size classes above the request is taken rather than growing the memory. */
const LARGER_CLASSES = 4;
/** Memory beyond the resident budget that new resident blocks may still grow it by; past it outputs are copies. */
const RESIDENT_HEADROOM = 256 << 20;

/**
 * The main thread's WebAssembly instance over one shared memory, and the allocator of that memory.
 *
 * Two kinds of blocks. Temporaries (operands copied in, packed panels, scratch) live for one kernel call:
 * `reset()` at the start of each call frees them (calls are synchronous and never nest). Outputs
 * (`output()` then `take()`) are resident: `take` returns a Float32Array *view* of the block, whose memory
 * is returned to the allocator when the garbage collector reclaims that view. A later kernel given such a
 * view reads it where it is (`put` copies nothing), so a chain of kernels moves no data between JavaScript
 * and WebAssembly memory. Free blocks are kept in exact-size lists (see {@link blockSize}); a training
 * step repeats the same sizes, so they are reused step after step. Shared memory never detaches on growth,
 * so views made before a `grow` stay valid.
 */
export class Runtime {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly exports: KernelExports;
  private top = ARENA_BASE;
  private readonly freeBlocks = new Map<number, number[]>();
  private temps: number[] = [];
  /** The size of every block handed out, by address (a reused block may be larger than its request). */
  private readonly sizes = new Map<number, number>();
  /** Output blocks allocated but not yet handed out by `take`. */
  private readonly pending = new Set<number>();
  /** Every buffer this memory has had (it changes on growth): what tells a resident view from a JS array. */
  private readonly buffers = new WeakSet<object>();
  private readonly registry = new FinalizationRegistry<number>((at) => this.releaseResident(at));
  /** Bytes held by resident outputs that have not been reclaimed yet. */
  residentBytes = 0;
  private f32: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private i32: Int32Array<ArrayBufferLike> = new Int32Array(0);

  constructor() {
    this.module = new WA.Module(decodeBase64(KERNELS_WASM_BASE64));
    const initial = Math.ceil((ARENA_BASE + (4 << 20)) / PAGE);
    this.memory = new WA.Memory({ initial, maximum: MAX_PAGES, shared: true });
    const instance = new WA.Instance(this.module, wasmImports(this.memory));
    this.exports = instance.exports as unknown as KernelExports;
    this.exports.init(); // the constant table the element-wise kernels read (shared with the workers)
    this.refreshViews();
  }

  /** Starts a new call: the temporaries of the previous one are free again. */
  reset(): void {
    for (const at of this.temps) this.freeBlock(at);
    this.temps.length = 0;
    // an output allocated but never taken (a kernel that threw) is a temporary too
    for (const at of this.pending) this.freeBlock(at);
    this.pending.clear();
  }

  /** Reserves a temporary block of `bytes` for this call; throws past MAX_PAGES. */
  alloc(bytes: number): number {
    const at = this.reuse(blockSize(bytes)) ?? this.grow(blockSize(bytes));
    this.temps.push(at);
    return at;
  }

  /**
   * Reserves the block of a kernel's output (`take` it when the kernel is done): resident while the
   * resident bytes stay within the budget, else a temporary that `take` copies out.
   */
  output(bytes: number): number {
    const size = blockSize(bytes);
    if (this.residentBytes + size > residentBudget) return this.alloc(bytes);
    const at = this.reuse(size) ?? (this.top + size <= ARENA_BASE + residentBudget + RESIDENT_HEADROOM ? this.grow(size) : undefined);
    if (at === undefined) return this.alloc(bytes);
    this.pending.add(at);
    return at;
  }

  /**
   * A resident Float32Array of `length` elements for a kernel computed in JavaScript (its contents are
   * whatever the block held: the kernel writes every element), or null beyond the budget or the memory.
   */
  residentArray(length: number): Float32Array | null {
    const bytes = length * 4;
    if (length === 0 || this.residentBytes + blockSize(bytes) > residentBudget || !this.fits(bytes)) return null;
    return this.take(this.output(bytes), length);
  }

  /** Whether `bytes` more could still be allocated. */
  fits(bytes: number): boolean {
    return align(this.top + bytes + 16, 64) <= MAX_PAGES * PAGE;
  }

  /** Float32 view of the whole memory (re-created after growth). */
  get F32(): Float32Array<ArrayBufferLike> {
    if (this.f32.buffer !== this.memory.buffer) this.refreshViews();
    return this.f32;
  }

  get I32(): Int32Array<ArrayBufferLike> {
    if (this.i32.buffer !== this.memory.buffer) this.refreshViews();
    return this.i32;
  }

  /** Whether `x` lies in this memory (a resident output or a view of one): its address is its byteOffset. */
  holds(x: { buffer: ArrayBufferLike }): boolean {
    return this.buffers.has(x.buffer);
  }

  /** The address of x's data in memory: where it is when resident, else a temporary copy. */
  put(x: ArrayLike<number> & { length: number; buffer?: ArrayBufferLike; byteOffset?: number }, kind: 'f32' | 'i32' = 'f32'): number {
    if (kind === 'f32' && x instanceof Float32Array && this.holds(x)) return x.byteOffset;
    const at = this.alloc(x.length * 4);
    if (kind === 'f32') this.F32.set(x, at >>> 2);
    else this.I32.set(x, at >>> 2);
    return at;
  }

  /**
   * The `length` floats at `at` as a Float32Array: a resident view when `at` came from `output()` within
   * budget, else a fresh copy (by the copy constructor: measured ~6× faster for MB-sized results than
   * `new Float32Array(n)` + `.set()`, whose zero-filled allocation faults in fresh pages on this VM).
   */
  take(at: number, length: number): Float32Array {
    if (this.pending.delete(at)) {
      const size = this.sizes.get(at)!;
      const buffer = this.memory.buffer;
      this.buffers.add(buffer);
      const view = new Float32Array(buffer, at, length);
      this.residentBytes += size;
      this.registry.register(view, at);
      return view;
    }
    return new Float32Array(this.F32.subarray(at >>> 2, (at >>> 2) + length));
  }

  private releaseResident(at: number): void {
    this.residentBytes -= this.sizes.get(at)!;
    this.freeBlock(at);
  }

  private freeBlock(at: number): void {
    const size = this.sizes.get(at)!;
    const list = this.freeBlocks.get(size);
    if (list) list.push(at);
    else this.freeBlocks.set(size, [at]);
  }

  /** A freed block of class `size` or one of the next LARGER_CLASSES classes, or undefined. */
  private reuse(size: number): number | undefined {
    for (let k = 0, c = size; k <= LARGER_CLASSES; k++, c = blockSize(c + 1 - 16)) {
      const at = this.freeBlocks.get(c)?.pop();
      if (at !== undefined) return at;
    }
    return undefined;
  }

  /** A new block of `size` bytes at the top, growing the memory; throws past MAX_PAGES. */
  private grow(size: number): number {
    const at = this.top;
    const end = at + size;
    if (end > this.memory.buffer.byteLength) {
      const need = Math.ceil(end / PAGE);
      if (need > MAX_PAGES) throw new RangeError(`fast backend: ${end} bytes exceed the ${MAX_PAGES * PAGE}-byte WebAssembly memory`);
      const have = this.memory.buffer.byteLength / PAGE;
      // Grow geometrically so that a sequence of growing problems does not grow page by page.
      this.memory.grow(Math.min(MAX_PAGES, Math.max(need, Math.ceil(have * 1.5))) - have);
    }
    this.top = end;
    this.sizes.set(at, size);
    return at;
  }

  private refreshViews(): void {
    this.buffers.add(this.memory.buffer);
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }
}

/** What is wrong with the fast backend's environment variables (null: nothing), for a CLI to report before it starts work. */
export function fastEnvironmentProblem(): string | null {
  try {
    budgetFromEnv();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

let runtime: Runtime | null = null;
let unavailable: string | null = null;

/** The process-wide runtime, instantiated on first use (importing the package costs nothing). */
export function getRuntime(): Runtime {
  if (!runtime) {
    budgetFromEnv(); // outside runtimeAvailable's catch: a bad value is the user's error, not a missing WebAssembly
    runtime = new Runtime();
  }
  return runtime;
}

/**
 * Whether the WebAssembly runtime can run here (SIMD128 and shared memory); when it cannot (an engine
 * without them), every kernel of the fast backend runs the reference one. The reason is kept for describe().
 */
export function runtimeAvailable(): boolean {
  if (runtime) return true;
  if (unavailable !== null) return false;
  budgetFromEnv();
  try {
    getRuntime();
    return true;
  } catch (e) {
    unavailable = e instanceof Error ? e.message : String(e);
    return false;
  }
}

/** A float32 output of `length` elements: resident in WebAssembly memory when it can be, else a fresh zeroed array; contents unspecified. */
export function outputF32(length: number): Float32Array {
  return (runtimeAvailable() && getRuntime().residentArray(length)) || new Float32Array(length);
}

/** Bytes of WebAssembly memory held by resident outputs not yet reclaimed (0 before the runtime starts): memory a leak check must count. */
export const residentBytes = (): number => runtime?.residentBytes ?? 0;

/**
 * An output like `like` (the fused kernels' allocator, see fused.ts): float32 ones resident in WebAssembly
 * memory (the next wasm kernel reads them in place), float64 ones fresh. Contents unspecified.
 */
export const outputLike = (like: Buf, length: number): Buf => (like instanceof Float32Array ? outputF32(length) : new Float64Array(length));

export const runtimeUnavailableReason = (): string | null => unavailable;
