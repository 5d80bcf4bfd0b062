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
/** Per-call data (operands, packed B, results) is bump-allocated from here. */
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
 * The main thread's WebAssembly instance over one shared memory, plus a bump allocator for each call's
 * operands. Calls are synchronous and never nest, so the arena is simply reset at the start of each kernel.
 */
export class Runtime {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly exports: KernelExports;
  private top = ARENA_BASE;
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

  /** Starts a new call: everything allocated before is free again. */
  reset(): void {
    this.top = ARENA_BASE;
  }

  /**
   * Reserves `bytes` (64-byte aligned, followed by at least 16 bytes of padding: the SIMD loops may read
   * one partial vector past the end), growing the memory when needed; throws past MAX_PAGES.
   */
  alloc(bytes: number): number {
    const at = this.top;
    const end = align(at + Math.max(bytes, 0) + 16, 64);
    if (end > this.memory.buffer.byteLength) {
      const need = Math.ceil(end / PAGE);
      if (need > MAX_PAGES) throw new RangeError(`fast backend: ${end} bytes exceed the ${MAX_PAGES * PAGE}-byte WebAssembly memory`);
      const have = this.memory.buffer.byteLength / PAGE;
      // Grow geometrically so that a sequence of growing problems does not grow page by page.
      this.memory.grow(Math.min(MAX_PAGES, Math.max(need, Math.ceil(have * 1.5))) - have);
    }
    this.top = end;
    return at;
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

  /** Copies x into a fresh allocation and returns its address. */
  put(x: ArrayLike<number> & { length: number }, kind: 'f32' | 'i32' = 'f32'): number {
    const at = this.alloc(x.length * 4);
    if (kind === 'f32') this.F32.set(x, at >>> 2);
    else this.I32.set(x, at >>> 2);
    return at;
  }

  /**
   * A fresh (non-shared) Float32Array holding `length` floats at address `at`, by the copy constructor:
   * measured ~6× faster for MB-sized results than `new Float32Array(n)` + `.set()` or `.slice()`,
   * presumably because their zero-filled allocation gets fresh pages that fault in on first write (costly
   * on this VM) while the copy constructor's allocation is not zero-filled and reuses freed memory.
   */
  take(at: number, length: number): Float32Array {
    return new Float32Array(this.F32.subarray(at >>> 2, (at >>> 2) + length));
  }

  private refreshViews(): void {
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }
}

let runtime: Runtime | null = null;
let unavailable: string | null = null;

/** The process-wide runtime, instantiated on first use (importing the package costs nothing). */
export function getRuntime(): Runtime {
  if (!runtime) runtime = new Runtime();
  return runtime;
}

/**
 * Whether the WebAssembly runtime can run here (SIMD128 and shared memory); when it cannot (an engine
 * without them), every kernel of the fast backend runs the reference one. The reason is kept for describe().
 */
export function runtimeAvailable(): boolean {
  if (runtime) return true;
  if (unavailable !== null) return false;
  try {
    getRuntime();
    return true;
  } catch (e) {
    unavailable = e instanceof Error ? e.message : String(e);
    return false;
  }
}

export const runtimeUnavailableReason = (): string | null => unavailable;
