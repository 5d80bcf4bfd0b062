import { CPUKernel, GPU, HeadlessGLKernel, WebAssemblyKernel, WebGL2Kernel } from 'gpu.js';
import { markPending, materialize, pendingCollected, registerPendingFlusher } from '../pending.js';
import type { KernelFunction } from './scalar-sources.js';
import { createWebgl2Context, webgl2PrecisionProblem } from './webgl2.js';

/** The gpu.js modes this backend can run: gpu.js's automatic choice, or one backend by name. */
export type GpujsMode = 'gpu' | 'headlessgl' | 'webgl2' | 'webasm' | 'cpu';
/** The concrete gpu.js backend a runtime ended up on. */
export type GpujsActualMode = 'headlessgl' | 'webgl2' | 'webasm' | 'cpu';

/** `webgl2` is the browser's WebGL2 (see webgl2.ts); the others are what Node offers. */
export const GPUJS_MODES: readonly GpujsMode[] = ['gpu', 'headlessgl', 'webgl2', 'webasm', 'cpu'];

/** One kernel, fully specialised: gpu.js compiles it once and the runtime caches it by key. */
export interface KernelSpec {
  /** `function(p0, p1, ...) { ... }`, one output cell per thread (this.thread.x). */
  source: string;
  /** Parameter names (in order) with their gpu.js argument types. */
  params: readonly (readonly [string, 'Array' | 'Float'])[];
  /** Flat output length, >= 1. */
  output: number;
  /** Helper functions the source calls. */
  functions?: readonly KernelFunction[];
  /** Bound on loops whose trip count is read from data (gpu.js's loopMaxIterations). */
  loopMax?: number;
}

/** A texture handle as gpu.js returns it from a pipeline kernel. */
export interface GpuTexture {
  size: ArrayLike<number>;
  toArray(): unknown;
  delete(): void;
  kernel?: unknown;
}

/** A kernel result: on GL modes a device texture (until read back or freed), else a host array. */
export interface DeviceOut {
  readonly n: number;
  tex: GpuTexture | null;
  arr: Float32Array | null;
  readonly producer: CachedKernel | null;
}

/** What a kernel argument may be: a host buffer, an earlier result of this op, or a number uniform. */
export type KernelArg = Float32Array | DeviceOut | number;

interface GpuKernelLike {
  constructor: { name: string };
  destroy(removeCanvasReferences?: boolean): void;
  fallbackReason?: string;
}

interface KernelShortcut {
  (...args: unknown[]): unknown;
  kernel: GpuKernelLike;
}

export interface CachedKernel {
  readonly key: string;
  readonly shortcut: KernelShortcut;
  /** Every kernel object gpu.js used for this entry (it switches kernels when argument types change). */
  readonly variants: Set<GpuKernelLike>;
  /** Flat output length. */
  readonly output: number;
  /** Estimated device bytes of one kernel variant (output texture + uploaded argument textures). */
  readonly variantBytes: number;
  /** Estimated device bytes held: variantBytes per variant gpu.js compiled. */
  bytes: number;
  /** Resident textures this kernel produced; they die with it (gpu.js deletes a kernel's textures on destroy). */
  readonly resident: Set<ResidentEntry>;
}

interface ResidentEntry {
  tex: GpuTexture | null;
  bytes: number;
  /** Of the host array's contents once read back (0 while pending). */
  fingerprint: number;
  producer: CachedKernel;
  /** True while the host array is a placeholder: the texture holds the only copy of the values. */
  pending: boolean;
  /** The host array (weakly: the texture must not keep it alive), to read a pending one back before eviction. */
  array: WeakRef<Float32Array>;
}

export interface GpujsRuntimeOptions {
  mode: GpujsMode;
  /** Most compiled kernels kept (LRU); older ones are destroyed. Default 256. */
  maxKernels?: number;
  /** GL modes: device bytes the kernel cache may hold (output and argument textures), LRU. Default 512 MiB. */
  maxKernelBytes?: number;
  /**
   * GL modes: device bytes of output textures kept on the device, as pending results (see `read`) and, once read
   * back, for reuse as inputs. 0 turns both off (every result is read back at once). Default 256 MiB.
   */
  residentBytes?: number;
  /**
   * GL modes: check a resident buffer's contents (a 53-bit fingerprint) before reusing its texture, so a caller
   * that mutates a returned Float32Array in place never computes on stale device data. Default true.
   */
  verifyResident?: boolean;
}

export interface GpujsStats {
  compiles: number;
  cacheHits: number;
  evictions: number;
  runs: number;
  readbacks: number;
  uploadsAvoided: number;
  residentRejected: number;
  residentTextures: number;
  /** Of those, results not read back yet (their host arrays are pending placeholders). */
  pendingTextures: number;
  residentBytes: number;
  kernelBytes: number;
  cachedKernels: number;
  /** Kernels gpu.js silently moved to its cpu backend (should stay 0). */
  degraded: string[];
}

const EMPTY_PLACEHOLDER = new Float32Array(1);

/** A 53-bit content fingerprint of a float32 buffer (two 32-bit hash lanes over the raw bits). */
export function fingerprint(a: Float32Array): number {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  let h1 = 0x811c9dc5 ^ a.length;
  let h2 = 0x9e3779b9;
  for (let i = 0; i < u.length; i++) {
    const v = u[i];
    h1 = Math.imul(h1 ^ v, 0x01000193);
    h2 = Math.imul(h2 ^ v, 0x85ebca6b) ^ (h2 >>> 15);
  }
  return (h1 >>> 0) * 2 ** 21 + ((h2 >>> 0) >>> 11);
}

/** Creates a headless-gl context the way gpu.js does, or returns null (no `gl` build, no display). */
export function createHeadlessContext(): { gl: unknown; error: string | null } {
  try {
    const initContext = (HeadlessGLKernel.prototype as unknown as { initContext(this: object): unknown }).initContext;
    const gl = initContext.call({});
    if (!gl) return { gl: null, error: 'the gl package loaded but could not create a context (no X display? run under xvfb-run -a)' };
    return { gl, error: null };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/getContext is not a function|not a function/.test(msg)) {
      return { gl: null, error: 'the optional `gl` package is not installed or failed to build' };
    }
    return { gl: null, error: msg };
  }
}

/**
 * The renderer string of a headless-gl context. gpu.js's `gl` wrapper answers 'ANGLE' for RENDERER;
 * the native context underneath knows the real one (e.g. "ANGLE (Mesa/X.org llvmpipe ...)").
 */
export function glRendererString(gl: unknown): string | null {
  try {
    const ctx = gl as { RENDERER: number; getParameter(p: number): unknown };
    let proto = Object.getPrototypeOf(ctx) as object | null;
    let best: string | null = null;
    // Walk up to the native class: its getParameter is the one that calls glGetString.
    while (proto && proto !== Object.prototype) {
      const desc = Object.getOwnPropertyDescriptor(proto, 'getParameter');
      if (desc && typeof desc.value === 'function') {
        const v = (desc.value as (p: number) => unknown).call(ctx, ctx.RENDERER);
        if (typeof v === 'string' && v.length > 0) best = v;
      }
      proto = Object.getPrototypeOf(proto) as object | null;
    }
    return best;
  } catch {
    return null;
  }
}

/** Software rasterisers: a GL context on one of these computes on the CPU. */
export const SOFTWARE_RENDERER = /llvmpipe|softpipe|swiftshader|swrast|lavapipe|software|basic render/i;

/** Resolves 'gpu' the way gpu.js does: headless-gl (Node) or WebGL2 (browser) when it works, then WebAssembly, then cpu. */
export function resolveMode(mode: GpujsMode): GpujsActualMode {
  if (mode !== 'gpu') return mode;
  if ((HeadlessGLKernel as unknown as { isSupported: boolean }).isSupported) return 'headlessgl';
  if ((WebGL2Kernel as unknown as { isSupported: boolean }).isSupported) return 'webgl2';
  if ((WebAssemblyKernel as unknown as { isSupported: boolean }).isSupported) return 'webasm';
  return 'cpu';
}

/**
 * One gpu.js instance with a bounded kernel cache and (on GL modes) a bounded cache of output textures
 * kept resident on the device, keyed by the Float32Array each was read back into.
 */
export class GpujsRuntime {
  readonly requested: GpujsMode;
  readonly mode: GpujsActualMode;
  readonly renderer: string | null;
  readonly isGL: boolean;
  private gpu: GPU;
  private gl: unknown = null;
  private readonly kernels = new Map<string, CachedKernel>();
  private readonly maxKernels: number;
  private readonly maxKernelBytes: number;
  private kernelBytes = 0;
  private depth = 0;

  // Residency: Float32Array → the texture holding its values (pending: not read back yet) or the texture it was
  // read from. Bounded by bytes (LRU in `live` order; a pending one is read back before its texture goes) and
  // released when the array is garbage collected.
  private readonly residentBudget: number;
  private readonly verify: boolean;
  private residentBytes = 0;
  private readonly byArray = new WeakMap<Float32Array, ResidentEntry>();
  private readonly live = new Set<ResidentEntry>();
  private readonly finalizer = new FinalizationRegistry<ResidentEntry>((e) => this.collected(e));
  private readonly unregisterFlusher = registerPendingFlusher(() => this.readAllPending());

  private readonly counters = {
    compiles: 0, cacheHits: 0, evictions: 0, runs: 0, readbacks: 0, uploadsAvoided: 0, residentRejected: 0,
  };
  private readonly degraded = new Set<string>();
  private destroyed = false;

  constructor(options: GpujsRuntimeOptions) {
    this.requested = options.mode;
    this.mode = resolveMode(options.mode);
    this.isGL = this.mode === 'headlessgl' || this.mode === 'webgl2';
    this.maxKernels = options.maxKernels ?? 256;
    this.maxKernelBytes = options.maxKernelBytes ?? 512 * 2 ** 20;
    this.residentBudget = this.isGL ? options.residentBytes ?? 256 * 2 ** 20 : 0;
    this.verify = options.verifyResident ?? true;
    if (this.mode === 'webgl2') {
      // One context for every kernel (textures only pass between kernels of one context), checked for
      // float32 precision first: a GPU that fails it is refused here, and the caller falls back.
      const { context, error } = createWebgl2Context();
      if (!context) throw new Error(`gpujs: webgl2 mode unavailable: ${error}`);
      const problem = webgl2PrecisionProblem();
      if (problem) throw new Error(`gpujs: webgl2 mode refused: ${problem}`);
      this.gl = context.gl;
      this.gpu = new GPU({ mode: 'webgl2', canvas: context.canvas, context: context.gl } as never);
      this.renderer = context.renderer;
      return;
    }
    this.gpu = new GPU({ mode: this.mode });
    if (this.isGL) {
      // gpu.js gives every kernel its own GL context unless the GPU instance holds one; textures only
      // pass between kernels of one context, so all kernels share this one.
      const { gl, error } = createHeadlessContext();
      if (!gl) throw new Error(`gpujs: headlessgl mode unavailable: ${error}`);
      this.gl = gl;
      (this.gpu as unknown as { context: unknown }).context = gl;
      this.renderer = glRendererString(gl);
    } else {
      this.renderer = null;
    }
  }

  /**
   * Runs `fn` as one backend op. Eviction only happens between ops, so kernels (and the textures they own)
   * stay alive while an op chains them on the device.
   */
  withOp<T>(fn: () => T): T {
    if (this.destroyed) throw new Error('gpujs: backend was disposed');
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0) this.trim();
    }
  }

  /** Runs the kernel `key` (compiling it from `spec()` on first use) on `args`. */
  run(key: string, spec: () => KernelSpec, args: readonly KernelArg[]): DeviceOut {
    // gpu.js specialises a compiled kernel to its argument sizes, so they are part of the signature too.
    const sizes = args.map((a) => (typeof a === 'number' ? 'u' : a instanceof Float32Array ? a.length : a.n)).join(',');
    const entry = this.kernel(`${key}#${sizes}`, spec, args);
    const callArgs = args.map((a) => this.toKernelArg(a));
    const result = entry.shortcut(...callArgs);
    this.counters.runs++;
    const used = entry.shortcut.kernel;
    if (!entry.variants.has(used)) {
      if (entry.variants.size > 0) {
        entry.bytes += entry.variantBytes;
        this.kernelBytes += entry.variantBytes;
      }
      entry.variants.add(used);
      if (used instanceof CPUKernel && this.mode !== 'cpu') {
        this.degraded.add(`${key}: ${used.fallbackReason ?? 'fell back to cpu'}`);
      }
    }
    if (result instanceof Float32Array) return { n: result.length, arr: result, tex: null, producer: entry };
    if (result && typeof (result as GpuTexture).toArray === 'function') {
      return { n: entry.output, tex: result as GpuTexture, arr: null, producer: entry };
    }
    if (ArrayBuffer.isView(result)) {
      return { n: entry.output, arr: Float32Array.from(result as Float32Array), tex: null, producer: entry };
    }
    throw new Error(`gpujs: kernel ${key} returned an unexpected value`);
  }

  /**
   * The host array of a result returned to the caller. On GL modes it is a *pending* placeholder (pending.ts):
   * the values stay in the texture, later kernels take the texture as input, and the first CPU read
   * (`materialize`) reads them back, after which the texture stays resident for reuse as an input.
   */
  read(out: DeviceOut): Float32Array {
    if (out.arr) return out.arr;
    const tex = out.tex;
    if (!tex) throw new Error('gpujs: result already freed');
    out.tex = null;
    const producer = out.producer;
    const bytes = texelBytes(out.n);
    if (this.residentBudget <= 0 || !producer || !this.kernels.has(producer.key) || bytes > this.residentBudget) {
      const arr = tex.toArray() as Float32Array;
      this.counters.readbacks++;
      tex.delete();
      out.arr = arr;
      return arr;
    }
    const placeholder = new Float32Array(out.n);
    out.arr = placeholder;
    const entry: ResidentEntry = { tex, bytes, fingerprint: 0, producer, pending: true, array: new WeakRef(placeholder) };
    this.byArray.set(placeholder, entry);
    this.live.add(entry);
    producer.resident.add(entry);
    this.residentBytes += bytes;
    this.finalizer.register(placeholder, entry, entry);
    markPending(placeholder, () => this.readPending(entry, placeholder));
    while (this.residentBytes > this.residentBudget) this.evict(this.live.values().next().value as ResidentEntry);
    return placeholder;
  }

  /** Reads a result back for the host's own use (not returned to the caller): its texture is freed. */
  readTemp(out: DeviceOut): Float32Array {
    if (out.arr) return out.arr;
    const tex = out.tex;
    if (!tex) throw new Error('gpujs: result already freed');
    const arr = tex.toArray() as Float32Array;
    this.counters.readbacks++;
    tex.delete();
    out.tex = null;
    out.arr = arr;
    return arr;
  }

  /** Frees an intermediate result that is not returned (its texture goes back to gpu.js). */
  free(out: DeviceOut): void {
    if (out.tex) {
      out.tex.delete();
      out.tex = null;
    }
  }

  stats(): GpujsStats {
    return {
      ...this.counters,
      residentTextures: this.live.size,
      pendingTextures: [...this.live].filter((e) => e.pending).length,
      residentBytes: this.residentBytes,
      kernelBytes: this.kernelBytes,
      cachedKernels: this.kernels.size,
      degraded: [...this.degraded],
    };
  }

  /** Destroys every kernel and texture, and the GL context. */
  dispose(): void {
    if (this.destroyed) return;
    // Placeholders handed out must still get their values: read them back before the textures go.
    this.readAllPending();
    this.unregisterFlusher();
    for (const e of [...this.live]) this.releaseResident(e);
    for (const entry of [...this.kernels.values()]) this.destroyKernel(entry);
    this.kernels.clear();
    if (this.gl) {
      const ext = (this.gl as { getExtension(n: string): { destroy?: () => void; loseContext?: () => void } | null }).getExtension(this.mode === 'webgl2' ? 'WEBGL_lose_context' : 'STACKGL_destroy_context');
      ext?.destroy?.();
      ext?.loseContext?.();
      this.gl = null;
    }
    this.destroyed = true;
  }

  private kernel(key: string, spec: () => KernelSpec, args: readonly KernelArg[]): CachedKernel {
    const hit = this.kernels.get(key);
    if (hit) {
      this.counters.cacheHits++;
      // LRU: move to the back of the Map's insertion order.
      this.kernels.delete(key);
      this.kernels.set(key, hit);
      return hit;
    }
    const s = spec();
    const argumentTypes: Record<string, string> = {};
    for (const [name, type] of s.params) argumentTypes[name] = type;
    const shortcut = this.gpu.createKernel(s.source, {
      output: [s.output],
      precision: 'single',
      tactic: 'precision',
      pipeline: this.isGL,
      immutable: this.isGL,
      // Pack 4 floats per RGBA texel: a quarter of the texture memory, and readback ~3x faster than one per texel.
      optimizeFloatMemory: this.isGL,
      argumentTypes,
      functions: s.functions ? [...s.functions] : [],
      loopMaxIterations: Math.max(1000, s.loopMax ?? 0),
    } as never) as unknown as KernelShortcut;
    this.counters.compiles++;
    // Device footprint on GL: the output texture plus the kernel's own uploaded argument textures (both
    // packed 4 floats per texel). Estimated from the sizes the kernel is specialised to.
    let bytes = 0;
    if (this.isGL) {
      bytes = texelBytes(s.output);
      for (const a of args) if (typeof a !== 'number') bytes += texelBytes(a instanceof Float32Array ? a.length : a.n);
    }
    const entry: CachedKernel = {
      key, shortcut, variants: new Set(), output: s.output, variantBytes: bytes, bytes, resident: new Set(),
    };
    this.kernels.set(key, entry);
    this.kernelBytes += bytes;
    return entry;
  }

  private toKernelArg(a: KernelArg): unknown {
    if (typeof a === 'number') return a;
    if (a instanceof Float32Array) {
      if (a.length === 0) return EMPTY_PLACEHOLDER;
      if (this.residentBudget > 0) {
        const e = this.byArray.get(a);
        if (e && e.tex) {
          if (e.pending) {
            // The placeholder holds nothing yet: the texture is the value.
            this.counters.uploadsAvoided++;
            this.touch(e);
            return e.tex;
          }
          if (!this.verify || fingerprint(a) === e.fingerprint) {
            this.counters.uploadsAvoided++;
            this.touch(e);
            return e.tex;
          }
          // The caller wrote into the buffer: the texture is stale, drop it and upload the new contents.
          this.counters.residentRejected++;
          this.releaseResident(e);
        }
      }
      return a;
    }
    if (a.tex) return a.tex;
    if (a.arr) return this.toKernelArg(a.arr);
    throw new Error('gpujs: kernel argument was already freed');
  }

  /** Fills a pending placeholder from its texture (called once, through pending.ts's `materialize`). */
  private readPending(e: ResidentEntry, arr: Float32Array): void {
    if (!e.pending || !e.tex) throw new Error('gpujs: a pending result lost its texture before it was read');
    const values = e.tex.toArray() as Float32Array;
    this.counters.readbacks++;
    arr.set(values.length === arr.length ? values : values.subarray(0, arr.length));
    e.pending = false;
    e.fingerprint = this.verify ? fingerprint(arr) : 0;
  }

  /** Reads every pending placeholder back (another backend is about to run, or this one is disposed). */
  private readAllPending(): void {
    for (const e of [...this.live]) {
      const arr = e.pending ? e.array.deref() : undefined;
      if (arr) materialize(arr);
    }
  }

  /** Drops a texture to make room: a pending one is read back first, so its placeholder gets its values. */
  private evict(e: ResidentEntry): void {
    const arr = e.pending ? e.array.deref() : undefined;
    if (arr) materialize(arr);
    this.releaseResident(e);
  }

  /** The host array was garbage collected: nothing can read it any more, so its texture goes. */
  private collected(e: ResidentEntry): void {
    if (e.pending) {
      e.pending = false;
      pendingCollected();
    }
    this.releaseResident(e);
  }

  private touch(e: ResidentEntry): void {
    this.live.delete(e);
    this.live.add(e);
  }

  private releaseResident(e: ResidentEntry): void {
    if (!e.tex) return;
    if (e.pending) {
      // Only reached once the placeholder is gone (evict reads a live one back first).
      e.pending = false;
      pendingCollected();
    }
    e.tex.delete();
    e.tex = null;
    this.live.delete(e);
    e.producer.resident.delete(e);
    this.residentBytes -= e.bytes;
    this.finalizer.unregister(e);
  }

  private destroyKernel(entry: CachedKernel): void {
    // gpu.js deletes every texture a kernel created when the kernel is destroyed: resident outputs first.
    for (const e of [...entry.resident]) this.evict(e);
    const variants = new Set(entry.variants);
    variants.add(entry.shortcut.kernel);
    for (const k of variants) {
      try {
        k.destroy(false);
      } catch {
        // a kernel that never built has nothing to release
      }
    }
    this.kernelBytes -= entry.bytes;
  }

  /** Evicts least recently used kernels beyond the count/byte bounds, never one used by the current op. */
  private trim(): void {
    for (const [key, entry] of this.kernels) {
      if (this.kernels.size <= this.maxKernels && this.kernelBytes <= this.maxKernelBytes) break;
      this.kernels.delete(key);
      this.destroyKernel(entry);
      this.counters.evictions++;
    }
  }
}

/** Bytes of an RGBA float32 texture holding n values packed 4 per texel (optimizeFloatMemory). */
export function texelBytes(n: number): number {
  return Math.ceil(Math.max(1, n) / 4) * 16;
}
